// The statistics against SciPy 1.10 / statsmodels 0.13 on fixed data sets (reference/*.csv), to 1e-6 relative.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "reference_data.hpp"
#include "spinescope/stats.hpp"

namespace spinescope::stats {
namespace {

using testing::expected;
using testing::reference_path;

constexpr double kRel = 1e-6;

void expect_rel(double actual, double want, const std::string& what, double rel = kRel) {
  EXPECT_NEAR(actual, want, rel * std::fabs(want) + 1e-300) << what;
}

TEST(StatsReference, SpecialFunctionsMatchScipy) {
  const CsvTable t = read_csv(reference_path("special_expected.csv"));
  ASSERT_GT(t.rows.size(), 20u);
  for (const auto& r : t.rows) {
    const std::string& f = r[0];
    const double x = std::stod(r[1]), y = std::stod(r[2]), want = std::stod(r[3]);
    const std::string what = f + "(" + r[1] + ", " + r[2] + ")";
    if (f == "t_sf") expect_rel(student_t_sf(x, y), want, what);
    else if (f == "t_quantile") expect_rel(student_t_quantile(x, y), want, what);
    else if (f == "normal_sf") expect_rel(normal_sf(x), want, what);
    else if (f == "kolmogorov_sf") expect_rel(kolmogorov_sf(x), want, what);
    else if (f.rfind("beta_inc_", 0) == 0) expect_rel(incomplete_beta(std::stod(f.substr(9)), x, y), want, what);
    else ADD_FAILURE() << "unknown function " << f;
  }
}

TEST(StatsReference, TwoSampleTestsMatchScipy) {
  const auto data = testing::two_sample_data();
  const auto want = expected("two_sample_expected.csv");
  std::set<std::string> seen_methods;
  int checked = 0;
  for (const auto& [name, samples] : data) {
    const auto& a = samples.at("a");
    const auto& b = samples.at("b");
    auto get = [&](const char* test, const char* q) { return want.at({name, test, q}); };
    if (want.count({name, "welch", "statistic"})) {
      const TestResult w = welch_t_test(a, b);
      expect_rel(w.statistic, get("welch", "statistic"), name + " welch t");
      expect_rel(w.df, get("welch", "df"), name + " welch df");
      expect_rel(w.p_value, get("welch", "pvalue"), name + " welch p");
      ++checked;
    }
    const TestResult u = mann_whitney_u(a, b);
    expect_rel(u.statistic, get("mwu", "statistic"), name + " U");
    expect_rel(u.p_value, get("mwu", "pvalue"), name + " MWU p");
    EXPECT_EQ(u.method, get("mwu", "exact") == 1.0 ? "exact" : "asymptotic") << name;
    seen_methods.insert(u.method);
    const TestResult k = ks_2samp(a, b);
    expect_rel(k.statistic, get("ks", "statistic"), name + " D");
    expect_rel(k.p_value, get("ks", "pvalue"), name + " KS p");
    EXPECT_EQ(k.method, "exact");
    ++checked;
  }
  EXPECT_GE(checked, 15);
  EXPECT_EQ(seen_methods.size(), 2u) << "both the exact and the asymptotic MWU are exercised";
}

TEST(StatsReference, BenjaminiHochbergMatchesStatsmodels) {
  const CsvTable t = read_csv(reference_path("bh_expected.csv"));
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> families;
  for (const auto& r : t.rows) {
    families[r[0]].first.push_back(std::stod(r[1]));
    families[r[0]].second.push_back(std::stod(r[2]));
  }
  ASSERT_EQ(families.size(), 3u);
  for (const auto& [name, f] : families) {
    const std::vector<double> adj = benjamini_hochberg(f.first);
    ASSERT_EQ(adj.size(), f.second.size());
    for (std::size_t i = 0; i < adj.size(); ++i) expect_rel(adj[i], f.second[i], name + " #" + std::to_string(i));
  }
}

// Builds the model input of one reference data set: treatment coding against its first group.
struct LmmCase {
  MixedModelInput input;
  std::vector<std::string> terms;  // "intercept", then the non-reference groups in order of appearance
};

std::map<std::string, LmmCase> lmm_cases() {
  const CsvTable t = read_csv(reference_path("lmm_data.csv"));
  std::map<std::string, std::vector<const std::vector<std::string>*>> rows;
  for (const auto& r : t.rows) rows[r[0]].push_back(&r);
  std::map<std::string, LmmCase> out;
  for (const auto& [name, rs] : rows) {
    LmmCase c;
    c.terms.push_back("intercept");
    std::vector<std::string> groups;
    for (auto* r : rs)
      if (std::find(groups.begin(), groups.end(), (*r)[1]) == groups.end()) groups.push_back((*r)[1]);
    std::vector<std::string> others(groups.begin() + 1, groups.end());
    std::sort(others.begin(), others.end());  // patsy orders levels alphabetically
    for (const auto& g : others) c.terms.push_back(g);
    c.input.p = static_cast<int>(c.terms.size());
    std::map<std::string, int> animals, neurons;
    for (auto* r : rs) {
      c.input.y.push_back(std::stod((*r)[4]));
      c.input.x.push_back(1.0);
      for (const auto& g : others) c.input.x.push_back((*r)[1] == g ? 1.0 : 0.0);
      c.input.animal.push_back(animals.emplace((*r)[2], static_cast<int>(animals.size())).first->second);
      if (name == "nested")
        c.input.neuron.push_back(
            neurons.emplace((*r)[2] + "/" + (*r)[3], static_cast<int>(neurons.size())).first->second);
    }
    out[name] = c;
  }
  return out;
}

TEST(StatsReference, MixedModelMatchesStatsmodelsReml) {
  const auto want = expected("lmm_expected.csv");
  const auto cases = lmm_cases();
  ASSERT_EQ(cases.size(), 5u);
  for (const auto& [name, c] : cases) {
    const MixedModelFit fit = fit_mixed_model(c.input);
    expect_rel(fit.reml_log_likelihood, want.at({name, "llf", "reml"}), name + " REML log-likelihood");
    expect_rel(fit.var_animal, want.at({name, "var", "animal"}), name + " animal variance");
    expect_rel(fit.var_residual, want.at({name, "var", "residual"}), name + " residual variance");
    if (name == "nested") expect_rel(fit.var_neuron, want.at({name, "var", "neuron"}), name + " neuron variance");
    for (std::size_t i = 0; i < c.terms.size(); ++i) {
      const std::string& term = c.terms[i];
      expect_rel(fit.beta[i], want.at({name, "coef", term}), name + " coef " + term);
      expect_rel(fit.se[i], want.at({name, "se", term}), name + " se " + term);
      expect_rel(fit.z[i], want.at({name, "z", term}), name + " z " + term);
      expect_rel(fit.p_normal[i], want.at({name, "p_normal", term}), name + " p " + term);
    }
  }
}

}  // namespace
}  // namespace spinescope::stats
