// Special functions and exact null distributions for the statistics library.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "spinescope/errors.hpp"
#include "spinescope/stats.hpp"

namespace spinescope::stats {

namespace {

constexpr double kPi = 3.14159265358979323846;

// Continued fraction of I_x(a, b) (modified Lentz), valid where x < (a + 1) / (a + b + 2).
double beta_continued_fraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300, kEps = 1e-16;
  double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 100000; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) < kEps) break;
  }
  return h;
}

// I_x(a, b) given x and y = 1 - x separately, so that callers with a tiny y keep its precision.
double incomplete_beta_xy(double a, double b, double x, double y) {
  if (x <= 0.0) return 0.0;
  if (y <= 0.0) return 1.0;
  const double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log(y);
  const double front = std::exp(log_front);
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_continued_fraction(a, b, x) / a;
  return 1.0 - front * beta_continued_fraction(b, a, y) / b;
}

}  // namespace

double incomplete_beta(double a, double b, double x) { return incomplete_beta_xy(a, b, x, 1.0 - x); }

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }
double normal_sf(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

double student_t_sf(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return kNaN;
  if (std::isinf(t)) return t > 0 ? 0.0 : 1.0;
  const double t2 = t * t;
  // P(|T| > |t|) = I_{df / (df + t²)}(df / 2, 1 / 2)
  const double tail = incomplete_beta_xy(0.5 * df, 0.5, df / (df + t2), t2 / (df + t2));
  return t > 0 ? 0.5 * tail : 1.0 - 0.5 * tail;
}

double student_t_cdf(double t, double df) { return student_t_sf(-t, df); }

double student_t_quantile(double p, double df) {
  if (!(p > 0.0 && p < 1.0) || !(df > 0)) return kNaN;
  if (p == 0.5) return 0.0;
  // Bracket, then bisect: monotone and robust for any df; 200 halvings reach double precision.
  double lo = -1.0, hi = 1.0;
  while (student_t_cdf(lo, df) > p) lo *= 2.0;
  while (student_t_cdf(hi, df) < p) hi *= 2.0;
  for (int i = 0; i < 200 && hi - lo > 1e-15 * std::max(1.0, std::fabs(hi)); ++i) {
    const double mid = 0.5 * (lo + hi);
    (student_t_cdf(mid, df) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

double kolmogorov_sf(double x) {
  if (std::isnan(x)) return kNaN;
  if (x <= 0.0) return 1.0;
  if (x < 1.0) {
    // cdf = sqrt(2 pi) / x * sum_k exp(-(2k - 1)² pi² / (8 x²)): converges fast for small x.
    double sum = 0.0;
    for (int k = 1; k <= 100; ++k) {
      const double term = std::exp(-(2.0 * k - 1) * (2.0 * k - 1) * kPi * kPi / (8.0 * x * x));
      sum += term;
      if (term < 1e-300 || term < 1e-17 * sum) break;
    }
    return 1.0 - std::sqrt(2.0 * kPi) / x * sum;
  }
  double sum = 0.0;
  for (int k = 1; k <= 100; ++k) {
    const double term = std::exp(-2.0 * k * k * x * x);
    sum += (k % 2 ? term : -term);
    if (term < 1e-300 || term < 1e-17 * std::fabs(sum)) break;
  }
  return std::min(1.0, std::max(0.0, 2.0 * sum));
}

double mann_whitney_exact_sf(double u, int n1, int n2) {
  if (n1 <= 0 || n2 <= 0) return kNaN;
  // U's null distribution is the same for (n1, n2) and (n2, n1); layer over the smaller size.
  const int m = std::min(n1, n2), n = std::max(n1, n2);
  // prob[j][k] = P(U = k) for sizes (i, j) in the current layer i; U of the first sample counts pairs
  // (first, second) with first > second, so P(i, j, k) = i/(i+j) P(i-1, j, k-j) + j/(i+j) P(i, j-1, k).
  std::vector<std::vector<double>> prev(n + 1), cur(n + 1);
  for (int j = 0; j <= n; ++j) prev[j] = {1.0};
  for (int i = 1; i <= m; ++i) {
    cur[0] = {1.0};
    for (int j = 1; j <= n; ++j) {
      std::vector<double>& c = cur[j];
      c.assign(static_cast<std::size_t>(i) * j + 1, 0.0);
      const double wi = static_cast<double>(i) / (i + j), wj = static_cast<double>(j) / (i + j);
      const std::vector<double>& from_i = prev[j];    // (i-1, j): values 0 .. (i-1) j, shifted by j
      const std::vector<double>& from_j = cur[j - 1];  // (i, j-1): values 0 .. i (j-1)
      for (std::size_t k = 0; k < from_i.size(); ++k) c[k + j] += wi * from_i[k];
      for (std::size_t k = 0; k < from_j.size(); ++k) c[k] += wj * from_j[k];
    }
    std::swap(prev, cur);
  }
  const std::vector<double>& dist = prev[n];
  const long long start = static_cast<long long>(std::ceil(u - 1e-9));
  if (start <= 0) return 1.0;
  double sf = 0.0;
  for (long long k = static_cast<long long>(dist.size()) - 1; k >= start; --k) sf += dist[static_cast<std::size_t>(k)];
  return std::min(1.0, sf);
}

double ks_2samp_exact_sf(int n1, int n2, long long h) {
  if (n1 <= 0 || n2 <= 0) return kNaN;
  if (h <= 0) return 1.0;
  const long long g = std::gcd(n1, n2);
  const long long step1 = n2 / g, step2 = n1 / g;  // lcm / n1 and lcm / n2
  // q[j] = probability that a uniformly random lattice path from (0, 0) to (i, j) has touched the
  // region |i/n1 - j/n2| >= d, i.e. |i step1 - j step2| >= h. Points there have q = 1; elsewhere
  // q(i, j) = (i q(i-1, j) + j q(i, j-1)) / (i + j). Only sums of probabilities: no cancellation, so
  // tiny p-values keep their relative precision.
  std::vector<double> q(static_cast<std::size_t>(n2) + 1);
  for (int i = 0; i <= n1; ++i) {
    for (int j = 0; j <= n2; ++j) {
      const long long diff = std::llabs(i * step1 - j * step2);
      double value;
      if (diff >= h) value = 1.0;
      else if (i == 0 && j == 0) value = 0.0;
      else if (i == 0) value = q[j - 1];
      else if (j == 0) value = q[0];
      else value = (i * q[j] + j * q[j - 1]) / static_cast<double>(i + j);
      q[j] = value;
    }
  }
  return std::min(1.0, q[n2]);
}

}  // namespace spinescope::stats
