// Unit tests with known answers: exact distributions by enumeration, Hedges' g by hand, BH, the bootstrap.
#include <gtest/gtest.h>

#include <tbb/global_control.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "spinescope/errors.hpp"
#include "spinescope/stats.hpp"

namespace spinescope::stats {
namespace {

// Every way to place n1 labels "a" among n1 + n2 ordered positions (values 0 .. n-1, no ties).
template <class F>
void for_each_arrangement(int n1, int n2, F visit) {
  std::vector<int> pick(static_cast<std::size_t>(n1 + n2), 0);
  std::fill(pick.begin(), pick.begin() + n1, 1);
  std::sort(pick.begin(), pick.end());
  do {
    std::vector<double> a, b;
    for (int i = 0; i < n1 + n2; ++i) (pick[i] ? a : b).push_back(i);
    visit(a, b);
  } while (std::next_permutation(pick.begin(), pick.end()));
}

TEST(StatsUnits, ExactMannWhitneyMatchesEnumeration) {
  for (auto [n1, n2] : {std::pair{3, 4}, std::pair{5, 5}, std::pair{2, 7}}) {
    std::vector<double> us;
    for_each_arrangement(n1, n2, [&](const std::vector<double>& a, const std::vector<double>& b) {
      double u = 0;
      for (double x : a)
        for (double y : b) u += x > y;
      us.push_back(u);
    });
    for (double u = 0; u <= n1 * n2; u += 1) {
      const double count = static_cast<double>(std::count_if(us.begin(), us.end(), [&](double x) { return x >= u; }));
      EXPECT_NEAR(mann_whitney_exact_sf(u, n1, n2), count / us.size(), 1e-12) << n1 << "x" << n2 << " U>=" << u;
    }
  }
}

TEST(StatsUnits, ExactKolmogorovSmirnovMatchesEnumeration) {
  for (auto [n1, n2] : {std::pair{3, 4}, std::pair{4, 6}, std::pair{5, 5}}) {
    std::vector<double> ds;
    for_each_arrangement(n1, n2, [&](const std::vector<double>& a, const std::vector<double>& b) {
      ds.push_back(ks_2samp(a, b).statistic);
    });
    std::vector<double> levels(ds);
    std::sort(levels.begin(), levels.end());
    levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
    const long long lcm = static_cast<long long>(n1) * n2 / std::gcd(n1, n2);
    for (double d : levels) {
      const double count =
          static_cast<double>(std::count_if(ds.begin(), ds.end(), [&](double x) { return x >= d - 1e-12; }));
      EXPECT_NEAR(ks_2samp_exact_sf(n1, n2, std::llround(d * lcm)), count / ds.size(), 1e-12) << n1 << "x" << n2;
    }
  }
}

TEST(StatsUnits, HedgesGByHand) {
  const std::vector<double> a{1, 2, 3, 4}, b{2, 4, 6};
  // means 2.5 and 4; variances 5/3 and 4; pooled (3 * 5/3 + 2 * 4) / 5 = 2.6; J = 1 - 3 / (4 * 7 - 9).
  const double d = (2.5 - 4.0) / std::sqrt(2.6), g = (1.0 - 3.0 / 19.0) * d;
  const EffectSize e = hedges_g(a, b);
  EXPECT_NEAR(e.g, g, 1e-12);
  const double se = std::sqrt(7.0 / 12.0 + g * g / 14.0);
  EXPECT_NEAR(e.ci_low, g - 1.959963984540054 * se, 1e-12);
  EXPECT_NEAR(e.ci_high, g + 1.959963984540054 * se, 1e-12);
  EXPECT_TRUE(std::isnan(hedges_g({1.0}, b).g)) << "one value per group has no effect size";
}

TEST(StatsUnits, BenjaminiHochbergByHandAndNaN) {
  // m = 4: sorted 0.01, 0.02, 0.03, 0.5 -> 0.04, 0.04, 0.04, 0.5 (monotone step-up); NaN is not in the family.
  const std::vector<double> adj = benjamini_hochberg({0.03, kNaN, 0.01, 0.5, 0.02});
  EXPECT_NEAR(adj[0], 0.04, 1e-15);
  EXPECT_TRUE(std::isnan(adj[1]));
  EXPECT_NEAR(adj[2], 0.04, 1e-15);
  EXPECT_NEAR(adj[3], 0.5, 1e-15);
  EXPECT_NEAR(adj[4], 0.04, 1e-15);
}

TEST(StatsUnits, WelchNeedsTwoPerGroup) {
  const TestResult t = welch_t_test({1.0}, {1.0, 2.0});
  EXPECT_TRUE(std::isnan(t.p_value));
  EXPECT_FALSE(t.note.empty());
}

AnimalNeurons simulate(std::mt19937_64& rng, double mean, int animals, int neurons) {
  std::normal_distribution<double> animal_sd(0.0, 0.15), neuron_sd(0.0, 0.2);
  AnimalNeurons out;
  for (int a = 0; a < animals; ++a) {
    const double u = mean + animal_sd(rng);
    std::vector<double> v;
    for (int n = 0; n < neurons; ++n) v.push_back(u + neuron_sd(rng));
    out.push_back(v);
  }
  return out;
}

TEST(StatsUnits, BootstrapDeterministicBySeedAndThreads) {
  std::mt19937_64 rng(7);
  const AnimalNeurons g = simulate(rng, 1.4, 4, 5), c = simulate(rng, 1.0, 3, 6);
  BootstrapResult one, two;
  {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 1);
    one = hierarchical_bootstrap(g, c, 3000, 42);
  }
  {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 2);
    two = hierarchical_bootstrap(g, c, 3000, 42);
  }
  EXPECT_EQ(one.difference_low, two.difference_low);
  EXPECT_EQ(one.difference_high, two.difference_high);
  EXPECT_EQ(one.ratio_low, two.ratio_low);
  EXPECT_EQ(one.ratio_high, two.ratio_high);
  const BootstrapResult other = hierarchical_bootstrap(g, c, 3000, 43);
  EXPECT_NE(one.difference_low, other.difference_low) << "another seed, other resamples";
  EXPECT_LT(one.difference_low, one.difference);
  EXPECT_GT(one.difference_high, one.difference);
  EXPECT_NEAR(one.ratio, (mean({mean(g[0]), mean(g[1]), mean(g[2]), mean(g[3])})) /
                             mean({mean(c[0]), mean(c[1]), mean(c[2])}), 1e-12);
}

TEST(StatsUnits, BootstrapCiCoversTrueDifference) {
  // 8 animals x 6 neurons per group, true difference 0.3 spines/µm: the 95 % CI should cover it in
  // roughly 90–95 % of experiments (percentile intervals are a little narrow with 8 animals).
  std::mt19937_64 rng(2024);
  int covered = 0;
  const int experiments = 120;
  for (int e = 0; e < experiments; ++e) {
    const AnimalNeurons g = simulate(rng, 1.3, 8, 6), c = simulate(rng, 1.0, 8, 6);
    const BootstrapResult b = hierarchical_bootstrap(g, c, 1000, static_cast<std::uint64_t>(e));
    covered += b.difference_low <= 0.3 && 0.3 <= b.difference_high;
  }
  EXPECT_GE(covered, static_cast<int>(0.84 * experiments));
  EXPECT_LE(covered, experiments - 1) << "an interval that always covers is too wide";
}

TEST(StatsUnits, MixedModelRejectsInconsistentInput) {
  MixedModelInput in;
  in.y = {1, 2, 3};
  in.p = 1;
  in.x = {1, 1};
  in.animal = {0, 0, 1};
  EXPECT_THROW(fit_mixed_model(in), ParameterError);
}

}  // namespace
}  // namespace spinescope::stats
