#pragma once
/// @file stats.hpp
/// @brief Group statistics of a batch: spine density per neuron and per animal, animal-level tests
/// (Welch t, Mann–Whitney U, Hedges' g, hierarchical bootstrap), a REML linear mixed model with animal
/// (and neuron) random intercepts, descriptive Kolmogorov–Smirnov comparisons of head diameters,
/// Benjamini–Hochberg adjustment; written as DIR/stats.csv and DIR/stats.json.
///
/// The animal is the unit of replication: spines are nested in neurons, neurons in animals. Every
/// inferential test works on one value per animal (or, for the mixed model, on neuron-level values with
/// the animal as random effect); tests on spines are labelled descriptive.
///
/// The special functions and tests reproduce SciPy 1.10 / statsmodels 0.13 to 1e-6 relative; the
/// reference values and the script that made them are in tests/pipeline/stats/reference/.

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace spinescope::stats {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---------------------------------------------------------------------------------------------
// Special functions and distributions
// ---------------------------------------------------------------------------------------------

/// @brief Regularised incomplete beta I_x(a, b) for a, b > 0 and x in [0, 1] (continued fraction).
double incomplete_beta(double a, double b, double x);
/// @brief Standard normal cumulative distribution and survival function.
double normal_cdf(double z);
double normal_sf(double z);
/// @brief Student t survival function P(T > t) with @p df > 0 degrees of freedom (df need not be integral).
double student_t_sf(double t, double df);
/// @brief Student t cumulative distribution P(T <= t).
double student_t_cdf(double t, double df);
/// @brief Quantile of Student's t: the t with P(T <= t) = @p p, for p in (0, 1).
double student_t_quantile(double p, double df);
/// @brief Survival function of the limiting Kolmogorov distribution, P(K > x) (SciPy's kstwobign.sf).
double kolmogorov_sf(double x);
/// @brief Exact null P(U >= @p u) of the Mann–Whitney U statistic for sample sizes @p n1, @p n2
/// without ties (recursion over arrangements, in probabilities).
double mann_whitney_exact_sf(double u, int n1, int n2);
/// @brief Exact two-sided null P(D >= d) of the two-sample Kolmogorov–Smirnov statistic for sizes @p n1,
/// @p n2, with d = @p h / lcm(n1, n2): the fraction of lattice paths that touch |i/n1 - j/n2| >= d.
double ks_2samp_exact_sf(int n1, int n2, long long h);

// ---------------------------------------------------------------------------------------------
// Descriptive helpers and two-sample tests
// ---------------------------------------------------------------------------------------------

double mean(const std::vector<double>& v);
/// @brief Sample variance (n - 1 denominator); NaN for fewer than 2 values.
double sample_variance(const std::vector<double>& v);
/// @brief Quantile @p q in [0, 1] of @p v with linear interpolation (NumPy's default); NaN when empty.
double quantile(std::vector<double> v, double q);

/// @brief Result of a two-sample test. statistic, df and p_value are NaN when not defined; method names
/// the variant used ("exact", "asymptotic", "welch") and note says why a value is missing.
struct TestResult {
  double statistic = kNaN;
  double df = kNaN;
  double p_value = kNaN;
  std::string method;
  std::string note;
};

/// @brief Welch's unequal-variance t-test, two-sided: t = (mean a - mean b) / SE with Satterthwaite df
/// (as scipy.stats.ttest_ind(a, b, equal_var=False)). Needs 2 values per sample.
TestResult welch_t_test(const std::vector<double>& a, const std::vector<double>& b);
/// @brief Two-sided Mann–Whitney U test; statistic is U of @p a. Exact null distribution when the data
/// have no ties and not both samples exceed 8; otherwise the normal approximation with tie correction and
/// continuity correction (as scipy.stats.mannwhitneyu(method="auto")).
TestResult mann_whitney_u(const std::vector<double>& a, const std::vector<double>& b);
/// @brief Two-sided two-sample Kolmogorov–Smirnov test; statistic is D = max |F_a - F_b|. Exact p-value
/// (as scipy.stats.ks_2samp(method="exact")) while n_a * n_b <= 2e8, else the limiting Kolmogorov
/// distribution of sqrt(n_a n_b / (n_a + n_b)) D.
TestResult ks_2samp(const std::vector<double>& a, const std::vector<double>& b);

/// @brief Hedges' g of a - b: g = J (mean a - mean b) / s_pooled with J = 1 - 3 / (4 (n_a + n_b) - 9),
/// and an approximate 95 % CI g ± 1.96 sqrt((n_a + n_b) / (n_a n_b) + g² / (2 (n_a + n_b))).
struct EffectSize {
  double g = kNaN;
  double ci_low = kNaN;
  double ci_high = kNaN;
};
EffectSize hedges_g(const std::vector<double>& a, const std::vector<double>& b);

/// @brief Benjamini–Hochberg adjusted p-values (step-up, monotone, capped at 1), in the input order.
/// NaN entries are left out of the family and stay NaN.
std::vector<double> benjamini_hochberg(const std::vector<double>& p);

// ---------------------------------------------------------------------------------------------
// Hierarchical bootstrap
// ---------------------------------------------------------------------------------------------

/// @brief Neuron densities (spines per µm) of each animal of one group.
using AnimalNeurons = std::vector<std::vector<double>>;

/// @brief Percentile confidence intervals of mean(group) - mean(control) and mean(group) / mean(control),
/// where a group's mean is the mean over animals of each animal's mean neuron density.
struct BootstrapResult {
  double difference = kNaN, difference_low = kNaN, difference_high = kNaN;
  double ratio = kNaN, ratio_low = kNaN, ratio_high = kNaN;
  int replicates = 0;
};

/// @brief Hierarchical bootstrap: per replicate, resample animals with replacement within each group, then
/// neurons with replacement within each drawn animal. Deterministic for a @p seed whatever the thread
/// count (replicates are drawn in fixed blocks, each from its own seeded generator).
/// @param replicates number of resamples (default 10000); @param level CI level (default 0.95).
BootstrapResult hierarchical_bootstrap(const AnimalNeurons& group, const AnimalNeurons& control, int replicates,
                                       std::uint64_t seed, double level = 0.95);

// ---------------------------------------------------------------------------------------------
// Linear mixed model (REML)
// ---------------------------------------------------------------------------------------------

/// @brief Observations of y = X beta + animal intercept [+ neuron-in-animal intercept] + error.
struct MixedModelInput {
  std::vector<double> y;
  std::vector<double> x;            ///< n × p design, row-major (first column the intercept)
  int p = 0;                        ///< number of fixed effects
  std::vector<int> animal;          ///< animal index of each observation (0-based)
  std::vector<int> neuron;          ///< neuron index of each observation (0-based, unique across animals), or empty
};

/// @brief A REML fit. se are Wald standard errors from the observed information of the REML log-likelihood
/// with the residual variance profiled out (as statsmodels MixedLM); p_normal from z = beta / se.
struct MixedModelFit {
  std::vector<double> beta, se, z, p_normal;
  double var_animal = kNaN;    ///< animal random-intercept variance
  double var_neuron = kNaN;    ///< neuron-in-animal variance (NaN when not nested)
  double var_residual = kNaN;  ///< residual variance
  double reml_log_likelihood = kNaN;
  bool boundary = false;       ///< a variance component is at 0
  int n_obs = 0, n_animals = 0, n_neurons = 0;
};

/// @brief Fits by REML: fixed effects and residual variance profiled out, variance ratios optimised by a
/// bounded grid + Brent search on log scale (nested: Brent within Brent), with 0 as boundary candidate.
/// Throws ParameterError on inconsistent sizes or a singular design.
MixedModelFit fit_mixed_model(const MixedModelInput& input);

// ---------------------------------------------------------------------------------------------
// A batch output folder and its statistics
// ---------------------------------------------------------------------------------------------

constexpr int kSpineTypes = 4;
/// @brief "stubby", "mushroom", "thin", "filopodium" (index order of the type arrays below).
extern const std::array<const char*, kSpineTypes> kSpineTypeNames;

/// @brief One row of DIR/stacks.csv.
struct StackRecord {
  std::string stack_id, path, group, animal, neuron, status, error, overlay;
  double dendrite_length_um = kNaN;
  double spine_count = kNaN;
  double branch_points = kNaN;  ///< where its trace branches (NaN: not recorded)
  bool ok() const { return status == "ok"; }
};

/// @brief A neuron (group, animal, neuron): its density = its spines / its dendrite length (summed over its
/// stacks). type_counts from dendrites.csv or spines.csv (zero when neither has them).
struct NeuronRecord {
  std::string group, animal, neuron;
  double length_um = 0.0;
  double spines = 0.0;
  std::array<double, kSpineTypes> type_counts{};
  int stacks = 0;
  double density_per_um() const { return length_um > 0 ? spines / length_um : kNaN; }
};

/// @brief Everything stats needs from a batch folder.
struct BatchData {
  std::string dir;
  std::vector<std::string> groups;        ///< in sheet order (first appearance in stacks.csv)
  std::vector<StackRecord> stacks;
  std::vector<NeuronRecord> neurons;      ///< neurons with dendrite length > 0 in ok stacks
  /// Dendrite-level observations (from dendrites.csv): neuron index into neurons, density per µm.
  std::vector<std::pair<int, double>> dendrite_densities;
  std::map<std::string, std::vector<double>> head_diameters_um;  ///< per group, every spine
  bool has_dendrites_csv = false, has_spines_csv = false;
  std::vector<std::string> notes;         ///< what was missing or skipped, for the report
};

/// @brief Reads DIR/stacks.csv (required: InputError naming it when absent or lacking a column),
/// DIR/dendrites.csv and DIR/spines.csv (optional).
BatchData read_batch_folder(const std::string& dir);

/// @brief Options of `spinescope stats`.
struct StatsOptions {
  std::string control;          ///< control group; empty: a group named control/ctrl/vehicle, else the first
  std::uint64_t seed = 1;       ///< bootstrap seed
  int bootstrap = 10000;        ///< bootstrap replicates
};

/// @brief One tidy result row: one comparison × measure × test.
struct StatsRow {
  std::string group, control, measure, test;
  std::string family;           ///< "inferential" (BH-adjusted together) or "descriptive" (adjusted apart)
  std::string unit;             ///< unit of observation: animals, neurons, spines
  int n_group = 0, n_control = 0;
  double estimate = kNaN, ci_low = kNaN, ci_high = kNaN;
  double statistic = kNaN, df = kNaN, p_value = kNaN, p_adjusted = kNaN;
  std::string method, note;
  std::string comparison() const { return group + " vs " + control; }
};

/// @brief Per-group summary: n at every level and the animal-level mean density with a t-based 95 % CI.
struct GroupSummary {
  std::string group;
  int stacks = 0, failed_stacks = 0, animals = 0, neurons = 0, dendrites = 0;
  double spines = 0.0, length_um = 0.0;
  double mean_density_per_um = kNaN, ci_low = kNaN, ci_high = kNaN, sd_animals = kNaN;
  std::array<double, kSpineTypes> type_counts{};
  std::vector<std::pair<std::string, double>> animal_density;   ///< (animal, mean neuron density)
  std::vector<std::pair<std::string, double>> neuron_density;   ///< (animal, neuron density)
};

struct StatsResult {
  StatsOptions options;
  BatchData data;
  std::string control;
  std::string control_rule;     ///< how the control was chosen, in words
  std::vector<GroupSummary> summaries;  ///< in group order
  std::vector<StatsRow> rows;
  MixedModelFit lmm;            ///< neuron-level model density ~ group + (1 | animal)
  MixedModelFit lmm_nested;     ///< dendrite-level model with neuron nested (n_obs 0 when not fitted)
  std::vector<std::string> notes;
};

/// @brief Computes every statistic of a batch. Never throws for too few animals: such rows say
/// "not enough animals". Throws ParameterError when --control names a group that does not exist.
StatsResult compute_stats(const BatchData& data, const StatsOptions& options);
/// @brief DIR/stats.csv (one row per comparison × measure × test) and DIR/stats.json, written atomically.
void write_stats(const std::string& dir, const StatsResult& result);
/// @brief read_batch_folder + compute_stats + write_stats + report.html: what `spinescope stats` and the end
/// of `spinescope batch` run.
StatsResult run_stats(const std::string& dir, const StatsOptions& options);
/// @brief The options recorded in DIR/stats.json by an earlier run (defaults when absent), so that
/// `spinescope report` re-renders with the same control, seed and replicates.
StatsOptions read_recorded_options(const std::string& dir);

}  // namespace spinescope::stats
