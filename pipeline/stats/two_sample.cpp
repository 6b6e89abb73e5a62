// Two-sample tests, effect size and multiple-comparison adjustment.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "spinescope/stats.hpp"

namespace spinescope::stats {

double mean(const std::vector<double>& v) {
  if (v.empty()) return kNaN;
  double s = 0.0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double sample_variance(const std::vector<double>& v) {
  if (v.size() < 2) return kNaN;
  const double m = mean(v);
  double s = 0.0;
  for (double x : v) s += (x - m) * (x - m);
  return s / static_cast<double>(v.size() - 1);
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

TestResult welch_t_test(const std::vector<double>& a, const std::vector<double>& b) {
  TestResult r;
  r.method = "welch";
  if (a.size() < 2 || b.size() < 2) {
    r.note = "not enough values (needs 2 per group)";
    return r;
  }
  const double va = sample_variance(a) / static_cast<double>(a.size());
  const double vb = sample_variance(b) / static_cast<double>(b.size());
  if (!(va + vb > 0.0)) {
    r.note = "no variance in either group";
    return r;
  }
  r.statistic = (mean(a) - mean(b)) / std::sqrt(va + vb);
  r.df = (va + vb) * (va + vb) /
         (va * va / static_cast<double>(a.size() - 1) + vb * vb / static_cast<double>(b.size() - 1));
  r.p_value = std::min(1.0, 2.0 * student_t_sf(std::fabs(r.statistic), r.df));
  return r;
}

namespace {
// Average ranks (1-based) of the pooled sample, and the tie term sum(t³ - t).
std::vector<double> average_ranks(const std::vector<double>& values, double* tie_term) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return values[i] < values[j]; });
  std::vector<double> ranks(values.size());
  *tie_term = 0.0;
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]]) ++j;
    const double rank = 0.5 * static_cast<double>(i + j) + 1.0;
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    const double t = static_cast<double>(j - i + 1);
    *tie_term += t * t * t - t;
    i = j + 1;
  }
  return ranks;
}
}  // namespace

TestResult mann_whitney_u(const std::vector<double>& a, const std::vector<double>& b) {
  TestResult r;
  if (a.empty() || b.empty()) {
    r.note = "empty sample";
    return r;
  }
  std::vector<double> pooled(a);
  pooled.insert(pooled.end(), b.begin(), b.end());
  double tie_term = 0.0;
  const std::vector<double> ranks = average_ranks(pooled, &tie_term);
  const double n1 = static_cast<double>(a.size()), n2 = static_cast<double>(b.size());
  double rank_sum = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) rank_sum += ranks[i];
  const double u1 = rank_sum - n1 * (n1 + 1.0) / 2.0;
  const double u = std::max(u1, n1 * n2 - u1);
  r.statistic = u1;
  const bool exact = !(a.size() > 8 && b.size() > 8) && tie_term == 0.0;
  if (exact) {
    r.method = "exact";
    r.p_value = 2.0 * mann_whitney_exact_sf(u, static_cast<int>(a.size()), static_cast<int>(b.size()));
  } else {
    r.method = "asymptotic";
    const double n = n1 + n2;
    const double sd = std::sqrt(n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0))));
    const double z = (u - n1 * n2 / 2.0 - 0.5) / sd;
    r.p_value = sd > 0 ? 2.0 * normal_sf(z) : 1.0;
  }
  r.p_value = std::min(1.0, std::max(0.0, r.p_value));
  return r;
}

TestResult ks_2samp(const std::vector<double>& a, const std::vector<double>& b) {
  TestResult r;
  if (a.empty() || b.empty()) {
    r.note = "empty sample";
    return r;
  }
  std::vector<double> sa(a), sb(b);
  std::sort(sa.begin(), sa.end());
  std::sort(sb.begin(), sb.end());
  const long long n1 = static_cast<long long>(sa.size()), n2 = static_cast<long long>(sb.size());
  // Largest |F_a - F_b| over the pooled values, both ECDFs right-continuous; counts kept as integers so
  // that D = h / lcm exactly.
  const long long g = std::gcd(n1, n2), lcm = n1 / g * n2;
  long long best = 0;
  std::size_t i = 0, j = 0;
  while (i < sa.size() || j < sb.size()) {
    const double v = (j >= sb.size() || (i < sa.size() && sa[i] <= sb[j])) ? sa[i] : sb[j];
    while (i < sa.size() && sa[i] == v) ++i;
    while (j < sb.size() && sb[j] == v) ++j;
    const long long diff = std::llabs(static_cast<long long>(i) * (lcm / n1) - static_cast<long long>(j) * (lcm / n2));
    best = std::max(best, diff);
  }
  r.statistic = static_cast<double>(best) / static_cast<double>(lcm);
  if (static_cast<double>(n1) * static_cast<double>(n2) <= 2e8) {
    r.method = "exact";
    r.p_value = ks_2samp_exact_sf(static_cast<int>(n1), static_cast<int>(n2), best);
  } else {
    r.method = "asymptotic";
    const double en = static_cast<double>(n1) * static_cast<double>(n2) / static_cast<double>(n1 + n2);
    r.p_value = kolmogorov_sf(std::sqrt(en) * r.statistic);
  }
  return r;
}

EffectSize hedges_g(const std::vector<double>& a, const std::vector<double>& b) {
  EffectSize e;
  if (a.size() < 2 || b.size() < 2) return e;
  const double n1 = static_cast<double>(a.size()), n2 = static_cast<double>(b.size());
  const double pooled = ((n1 - 1.0) * sample_variance(a) + (n2 - 1.0) * sample_variance(b)) / (n1 + n2 - 2.0);
  if (!(pooled > 0.0)) return e;
  const double correction = 1.0 - 3.0 / (4.0 * (n1 + n2) - 9.0);
  e.g = correction * (mean(a) - mean(b)) / std::sqrt(pooled);
  const double se = std::sqrt((n1 + n2) / (n1 * n2) + e.g * e.g / (2.0 * (n1 + n2)));
  e.ci_low = e.g - 1.959963984540054 * se;
  e.ci_high = e.g + 1.959963984540054 * se;
  return e;
}

std::vector<double> benjamini_hochberg(const std::vector<double>& p) {
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < p.size(); ++i)
    if (!std::isnan(p[i])) idx.push_back(i);
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t i, std::size_t j) { return p[i] < p[j]; });
  std::vector<double> out(p.size(), kNaN);
  const double m = static_cast<double>(idx.size());
  double running = 1.0;
  for (std::size_t r = idx.size(); r-- > 0;) {
    running = std::min(running, p[idx[r]] * m / static_cast<double>(r + 1));
    out[idx[r]] = std::min(1.0, running);
  }
  return out;
}

}  // namespace spinescope::stats
