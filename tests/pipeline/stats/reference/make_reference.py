#!/usr/bin/python3
"""Reference values for spinescope's statistics tests, from independent implementations.

SciPy (ttest_ind equal_var=False, mannwhitneyu method='auto', ks_2samp, t/norm/kstwobign, betainc) and
statsmodels (MixedLM REML, multipletests fdr_bh). Run with /usr/bin/python3 (Debian python3-scipy,
python3-statsmodels) from this folder; it rewrites the *.csv files here. The C++ tests read only the CSVs.

Fixed data sets: balanced, unbalanced, ties, small exact MWU, n = 2 per group, larger samples (asymptotic
MWU, exact KS with unequal and equal sizes, KS with ties), and mixed-model sets (balanced, unbalanced,
three groups, n = 2 animals per group, neurons nested in animals with dendrite-level observations).
"""
import csv
import os
import warnings

import numpy as np
import pandas as pd
import scipy
import statsmodels
import statsmodels.formula.api as smf
from scipy import optimize, special, stats
from statsmodels.regression.mixed_linear_model import MixedLMParams
from statsmodels.stats.multitest import multipletests

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20240605)


def r(x):
    return repr(float(x))


def two_sample_sets():
    sets = {}
    sets["balanced"] = (np.round(rng.normal(1.4, 0.2, 6), 4), np.round(rng.normal(1.0, 0.2, 6), 4))
    sets["unbalanced"] = (np.round(rng.normal(1.2, 0.3, 5), 4), np.round(rng.normal(1.0, 0.15, 9), 4))
    sets["ties"] = (np.array([1.1, 1.3, 1.3, 1.5, 0.9, 1.2, 1.3]), np.array([1.0, 1.1, 0.9, 0.9, 1.2, 0.8]))
    sets["small_exact"] = (np.array([2.31, 1.87, 2.05]), np.array([1.52, 1.66, 1.95, 1.40]))
    sets["n2"] = (np.array([1.62, 1.48]), np.array([1.11, 1.25]))
    sets["overlap_exact"] = (np.round(rng.normal(1.0, 0.3, 8), 4), np.round(rng.normal(1.05, 0.3, 7), 4))
    sets["large_asymptotic"] = (np.round(rng.normal(1.1, 0.25, 12), 4), np.round(rng.normal(1.0, 0.25, 15), 4))
    return sets


def ks_sets():
    sets = {}
    sets["ks_unequal"] = (rng.lognormal(-0.4, 0.3, 150), rng.lognormal(-0.3, 0.3, 230))
    sets["ks_equal"] = (rng.lognormal(-0.4, 0.3, 200), rng.lognormal(-0.35, 0.3, 200))
    sets["ks_ties"] = (np.round(rng.lognormal(-0.4, 0.3, 300) / 0.05) * 0.05,
                       np.round(rng.lognormal(-0.3, 0.3, 260) / 0.05) * 0.05)
    sets["ks_far"] = (rng.normal(0.5, 0.1, 120), rng.normal(0.7, 0.1, 90))
    return sets


def write_two_sample():
    data_rows, expected = [], []
    sets = two_sample_sets()
    for name, (a, b) in sets.items():
        for s, v in (("a", a), ("b", b)):
            data_rows += [(name, s, r(x)) for x in v]
        t = stats.ttest_ind(a, b, equal_var=False)
        va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
        df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
        expected += [(name, "welch", "statistic", r(t.statistic)), (name, "welch", "df", r(df)),
                     (name, "welch", "pvalue", r(t.pvalue))]
        u = stats.mannwhitneyu(a, b, alternative="two-sided", method="auto")
        exact = not (len(a) > 8 and len(b) > 8) and len(np.unique(np.concatenate([a, b]))) == len(a) + len(b)
        expected += [(name, "mwu", "statistic", r(u.statistic)), (name, "mwu", "pvalue", r(u.pvalue)),
                     (name, "mwu", "exact", "1" if exact else "0")]
        k = stats.ks_2samp(a, b, method="exact")
        expected += [(name, "ks", "statistic", r(k.statistic)), (name, "ks", "pvalue", r(k.pvalue))]
    for name, (a, b) in ks_sets().items():
        for s, v in (("a", a), ("b", b)):
            data_rows += [(name, s, r(x)) for x in v]
        k = stats.ks_2samp(a, b, method="exact")
        expected += [(name, "ks", "statistic", r(k.statistic)), (name, "ks", "pvalue", r(k.pvalue))]
        u = stats.mannwhitneyu(a, b, alternative="two-sided", method="auto")
        expected += [(name, "mwu", "statistic", r(u.statistic)), (name, "mwu", "pvalue", r(u.pvalue)),
                     (name, "mwu", "exact", "0")]
    write_csv("two_sample_data.csv", ["dataset", "sample", "value"], data_rows)
    write_csv("two_sample_expected.csv", ["dataset", "test", "quantity", "value"], expected)


def write_special():
    rows = []
    for t, df in [(0.5, 3.0), (2.1, 3.8), (4.1, 3.8), (-1.3, 7.25), (10.0, 2.0), (25.0, 30.0), (1.96, 1e4),
                  (0.01, 1.0), (3.0, 1.5)]:
        rows.append(("t_sf", r(t), r(df), r(stats.t.sf(t, df))))
    for p, df in [(0.975, 2.0), (0.975, 3.8), (0.975, 10.0), (0.995, 4.5), (0.9, 1.0)]:
        rows.append(("t_quantile", r(p), r(df), r(stats.t.ppf(p, df))))
    for z in [0.0, 0.5, 1.96, -2.3, 5.0, 8.5]:
        rows.append(("normal_sf", r(z), "0", r(stats.norm.sf(z))))
    for x in [0.2, 0.5, 0.83, 1.0, 1.36, 2.0, 3.0]:
        rows.append(("kolmogorov_sf", r(x), "0", r(stats.kstwobign.sf(x))))
    for a, b, x in [(1.9, 0.5, 0.3), (0.5, 0.5, 0.99), (15.0, 0.5, 0.7), (2.0, 3.0, 0.4), (200.0, 0.5, 0.995)]:
        rows.append(("beta_inc_" + r(a), r(b), r(x), r(special.betainc(a, b, x))))
    write_csv("special_expected.csv", ["function", "x", "y", "value"], rows)


def write_bh():
    rows = []
    families = {"mixed": [0.01, 0.04, 0.03, 0.005, 0.2, 0.9, 0.04],
                "single": [0.03],
                "ties_and_ones": [0.5, 1.0, 0.001, 0.5, 0.02]}
    for name, ps in families.items():
        adj = multipletests(ps, method="fdr_bh")[1]
        rows += [(name, r(p), r(q)) for p, q in zip(ps, adj)]
    write_csv("bh_expected.csv", ["family", "p", "p_adjusted"], rows)


def lmm_sets():
    sets = {}

    def neuron_level(groups, animals_per_group, neurons_per_animal, effect, sd_animal, sd_neuron):
        rows = []
        for gi, g in enumerate(groups):
            for a in range(animals_per_group[gi]):
                u = rng.normal(0, sd_animal)
                for n in range(neurons_per_animal[gi][a]):
                    y = 1.0 + effect[gi] + u + rng.normal(0, sd_neuron)
                    rows.append((g, f"{g}_m{a + 1}", f"n{n + 1}", round(float(y), 5)))
        return rows

    sets["balanced"] = neuron_level(["vehicle", "drug"], [4, 4], [[5] * 4, [5] * 4], [0.0, 0.35], 0.15, 0.2)
    sets["unbalanced"] = neuron_level(["control", "ko"], [3, 5], [[2, 6, 4], [3, 7, 2, 5, 4]], [0.0, -0.25], 0.2,
                                      0.15)
    sets["three_groups"] = neuron_level(["ctrl", "low", "high"], [3, 4, 3], [[4, 3, 5], [2, 4, 3, 5], [6, 3, 4]],
                                        [0.0, 0.1, 0.4], 0.3, 0.2)
    sets["n2_animals"] = neuron_level(["vehicle", "drug"], [2, 2], [[3, 4], [4, 3]], [0.0, 0.3], 0.2, 0.1)
    rows = []
    for gi, g in enumerate(["vehicle", "drug"]):
        for a in range(3 + gi):
            u = rng.normal(0, 0.15)
            for n in range(3 + (a % 2)):
                v = rng.normal(0, 0.12)
                for d in range(2 + (n + a) % 3):
                    y = 1.0 + 0.3 * gi + u + v + rng.normal(0, 0.1)
                    rows.append((g, f"{g}_m{a + 1}", f"n{n + 1}", round(float(y), 5)))
    sets["nested"] = rows
    return sets


def polish(model, fit, nested):
    """statsmodels' optimisers stop at ~1e-7 relative in the variance ratios (they disagree with each other
    by that much); polish the optimum of statsmodels' own REML log-likelihood with a tight Nelder-Mead in
    log ratios and a root of statsmodels' own score, then take fixed effects (GLS), scale and the Hessian-based standard errors from statsmodels
    exactly as MixedLM.fit does."""
    theta0 = [fit.cov_re.iloc[0, 0] / fit.scale] + ([fit.vcomp[0] / fit.scale] if nested else [])

    def params_at(theta):
        cov_re = np.array([[theta[0]]])
        vcomp = np.array(theta[1:])
        fe, _ = model.get_fe_params(cov_re, vcomp)
        return MixedLMParams.from_components(fe_params=fe, cov_re=cov_re, vcomp=vcomp)

    def negative(u):
        return -model.loglike(params_at(np.exp(u)), profile_fe=False)

    u = np.log(theta0)
    for _ in range(3):
        u = optimize.minimize(negative, u, method="Nelder-Mead",
                              options=dict(xatol=1e-13, fatol=1e-16, maxiter=40000)).x
    # Function values are flat at the optimum; finish on statsmodels' analytic score (square-root scale).
    sol = optimize.root(lambda v: model.score(v.copy(), profile_fe=True), np.sqrt(np.exp(u)), method="hybr",
                        tol=1e-15)
    if sol.success and np.all(sol.x != 0):
        u = np.log(sol.x ** 2)
    params = params_at(np.exp(u))
    scale = model.get_scale(params.fe_params, params.cov_re, params.vcomp)
    hess, _ = model.hessian(params)
    bse = np.sqrt(np.diag(np.linalg.inv(-hess))[:model.k_fe])
    z = params.fe_params / bse
    pvals = 2 * stats.norm.sf(np.abs(z))
    var_neuron = scale * params.vcomp[0] if nested else float("nan")
    llf = model.loglike(params, profile_fe=False)
    return params.fe_params, bse, z, pvals, scale * params.cov_re[0, 0], var_neuron, scale, llf


def write_lmm():
    data_rows, expected = [], []
    for name, rows in lmm_sets().items():
        data_rows += [(name, g, a, n, r(y)) for g, a, n, y in rows]
        df = pd.DataFrame(rows, columns=["group", "animal", "neuron", "y"])
        ref = rows[0][0]
        nested = name == "nested"
        kw = dict(groups="animal", re_formula="1")
        if nested:
            kw["vc_formula"] = {"neuron": "0 + C(neuron)"}
        model = smf.mixedlm(f"y ~ C(group, Treatment(reference='{ref}'))", df, **kw)
        best = None
        for method in ("lbfgs", "bfgs", "cg", "nm"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    fit = model.fit(reml=True, method=[method], gtol=1e-12, maxiter=20000)
                except Exception:
                    continue
            if best is None or fit.llf > best.llf + 1e-12:
                best = fit
        fit = best
        names = list(fit.fe_params.index)
        fe, bse, z, pvals, var_animal, var_neuron, scale, llf = polish(model, fit, nested)
        assert llf >= fit.llf - 1e-9, (name, llf, fit.llf)
        for i, term in enumerate(names):
            label = "intercept" if i == 0 else term.split("[T.")[1].rstrip("]")
            expected += [(name, "coef", label, r(fe[i])), (name, "se", label, r(bse[i])),
                         (name, "z", label, r(z[i])), (name, "p_normal", label, r(pvals[i]))]
        expected += [(name, "var", "animal", r(var_animal)), (name, "var", "residual", r(scale)),
                     (name, "llf", "reml", r(llf))]
        if nested:
            expected.append((name, "var", "neuron", r(var_neuron)))
    write_csv("lmm_data.csv", ["dataset", "group", "animal", "neuron", "y"], data_rows)
    write_csv("lmm_expected.csv", ["dataset", "quantity", "term", "value"], expected)


def write_csv(name, header, rows):
    with open(os.path.join(HERE, name), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


if __name__ == "__main__":
    print(f"scipy {scipy.__version__}, statsmodels {statsmodels.__version__}, numpy {np.__version__}")
    write_two_sample()
    write_special()
    write_bh()
    write_lmm()
