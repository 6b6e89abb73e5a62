// Linear mixed model y = X beta + Z_animal u + Z_neuron v + e fitted by REML.
//
// With V = sigma² H(theta), H = I + theta_a Z_a Z_a' + theta_n Z_n Z_n', the fixed effects and sigma² are
// profiled out, leaving the restricted log-likelihood in the variance ratios theta:
//   l(theta) = -1/2 log|H| - 1/2 log|X'H⁻¹X| - (n-p)/2 log(r'H⁻¹r) + const.
// H is block diagonal by animal; within a block, H⁻¹ and log|H| come from the Woodbury identity on the
// few random-effect columns of that animal, so one evaluation costs O(animals × q³).
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>

#include "spinescope/errors.hpp"
#include "spinescope/stats.hpp"

namespace spinescope::stats {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kLog10ThetaMin = -7.0, kLog10ThetaMax = 4.0, kGridStep = 0.25;

// ---- small dense linear algebra (row-major, n × n) ----
using Matrix = std::vector<double>;

bool cholesky(Matrix& a, int n) {
  for (int j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (int k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0.0)) return false;
    const double l = std::sqrt(d);
    a[j * n + j] = l;
    for (int i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (int k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / l;
    }
    for (int i = 0; i < j; ++i) a[i * n + j] = 0.0;
  }
  return true;
}

// Solves L L' x = b in place for each of the cols columns of b (n × cols, row-major).
void cholesky_solve(const Matrix& l, int n, double* b, int cols) {
  for (int c = 0; c < cols; ++c) {
    for (int i = 0; i < n; ++i) {
      double s = b[i * cols + c];
      for (int k = 0; k < i; ++k) s -= l[i * n + k] * b[k * cols + c];
      b[i * cols + c] = s / l[i * n + i];
    }
    for (int i = n - 1; i >= 0; --i) {
      double s = b[i * cols + c];
      for (int k = i + 1; k < n; ++k) s -= l[k * n + i] * b[k * cols + c];
      b[i * cols + c] = s / l[i * n + i];
    }
  }
}

double cholesky_log_det(const Matrix& l, int n) {
  double s = 0.0;
  for (int i = 0; i < n; ++i) s += 2.0 * std::log(l[i * n + i]);
  return s;
}

// Inverse of a symmetric positive definite matrix; false when it is not.
bool spd_inverse(const Matrix& a, int n, Matrix* inverse) {
  Matrix l = a;
  if (!cholesky(l, n)) return false;
  inverse->assign(static_cast<std::size_t>(n) * n, 0.0);
  for (int i = 0; i < n; ++i) (*inverse)[i * n + i] = 1.0;
  cholesky_solve(l, n, inverse->data(), n);
  return true;
}

// Inverse of a general square matrix by Gauss–Jordan with partial pivoting; false when singular.
bool general_inverse(Matrix a, int n, Matrix* inverse) {
  inverse->assign(static_cast<std::size_t>(n) * n, 0.0);
  for (int i = 0; i < n; ++i) (*inverse)[i * n + i] = 1.0;
  for (int c = 0; c < n; ++c) {
    int pivot = c;
    for (int r = c + 1; r < n; ++r)
      if (std::fabs(a[r * n + c]) > std::fabs(a[pivot * n + c])) pivot = r;
    if (std::fabs(a[pivot * n + c]) < 1e-300) return false;
    for (int k = 0; k < n; ++k) {
      std::swap(a[c * n + k], a[pivot * n + k]);
      std::swap((*inverse)[c * n + k], (*inverse)[pivot * n + k]);
    }
    const double d = a[c * n + c];
    for (int k = 0; k < n; ++k) a[c * n + k] /= d, (*inverse)[c * n + k] /= d;
    for (int r = 0; r < n; ++r) {
      if (r == c) continue;
      const double f = a[r * n + c];
      if (f == 0.0) continue;
      for (int k = 0; k < n; ++k) a[r * n + k] -= f * a[c * n + k], (*inverse)[r * n + k] -= f * (*inverse)[c * n + k];
    }
  }
  return true;
}

// One animal's observations and the cross-products the likelihood needs.
struct Block {
  std::vector<int> rows;     // observation indices
  std::vector<int> column;   // random-effect column of each observation's neuron (1 + local index), or 0
  int q = 1;                 // random-effect columns: animal intercept [+ one per neuron]
  Matrix ztz, ztx;           // q × q, q × p
  std::vector<double> zty;   // q
};

class RemlProblem {
 public:
  explicit RemlProblem(const MixedModelInput& in) : in_(in), n_(static_cast<int>(in.y.size())), p_(in.p) {
    nested_ = !in.neuron.empty();
    std::map<int, int> animal_block;
    for (int i = 0; i < n_; ++i) {
      auto it = animal_block.emplace(in.animal[i], static_cast<int>(blocks_.size())).first;
      if (it->second == static_cast<int>(blocks_.size())) blocks_.emplace_back();
      blocks_[it->second].rows.push_back(i);
    }
    for (Block& b : blocks_) {
      std::map<int, int> local;
      for (int i : b.rows) {
        int col = 0;
        if (nested_) col = 1 + local.emplace(in.neuron[i], static_cast<int>(local.size())).first->second;
        b.column.push_back(col);
      }
      b.q = 1 + static_cast<int>(local.size());
      b.ztz.assign(static_cast<std::size_t>(b.q) * b.q, 0.0);
      b.ztx.assign(static_cast<std::size_t>(b.q) * p_, 0.0);
      b.zty.assign(static_cast<std::size_t>(b.q), 0.0);
      for (std::size_t k = 0; k < b.rows.size(); ++k) {
        const int i = b.rows[k];
        const int cols[2] = {0, b.column[k]};
        const int ncols = b.column[k] > 0 ? 2 : 1;
        for (int u = 0; u < ncols; ++u) {
          for (int v = 0; v < ncols; ++v) b.ztz[cols[u] * b.q + cols[v]] += 1.0;
          for (int c = 0; c < p_; ++c) b.ztx[cols[u] * p_ + c] += x(i, c);
          b.zty[cols[u]] += in.y[i];
        }
      }
    }
    xtx_.assign(static_cast<std::size_t>(p_) * p_, 0.0);
    xty_.assign(static_cast<std::size_t>(p_), 0.0);
    for (int i = 0; i < n_; ++i) {
      for (int a = 0; a < p_; ++a) {
        for (int c = 0; c < p_; ++c) xtx_[a * p_ + c] += x(i, a) * x(i, c);
        xty_[a] += x(i, a) * in.y[i];
      }
      yty_ += in.y[i] * in.y[i];
    }
  }

  bool nested() const { return nested_; }
  int animals() const { return static_cast<int>(blocks_.size()); }

  // The restricted log-likelihood at (theta_a, theta_n), as statsmodels defines it; fills beta, q = r'H⁻¹r
  // and M = X'H⁻¹X when asked. -inf when X'H⁻¹X is singular.
  double log_likelihood(double theta_a, double theta_n, std::vector<double>* beta = nullptr, double* qf = nullptr,
                        Matrix* m_out = nullptr) const {
    Matrix m = xtx_;
    std::vector<double> xvy = xty_;
    double yvy = yty_, log_det = 0.0;
    for (const Block& b : blocks_) {
      const int q = b.q;
      std::vector<double> w(static_cast<std::size_t>(q), std::sqrt(theta_n));
      w[0] = std::sqrt(theta_a);
      Matrix c(static_cast<std::size_t>(q) * q);
      for (int u = 0; u < q; ++u)
        for (int v = 0; v < q; ++v) c[u * q + v] = (u == v ? 1.0 : 0.0) + w[u] * b.ztz[u * q + v] * w[v];
      if (!cholesky(c, q)) return -HUGE_VAL;
      log_det += cholesky_log_det(c, q);
      // rhs = W [Z'X | Z'y]; then a'H⁻¹b = a'b - (W Z'a)' C⁻¹ (W Z'b).
      const int cols = p_ + 1;
      Matrix rhs(static_cast<std::size_t>(q) * cols);
      for (int u = 0; u < q; ++u) {
        for (int k = 0; k < p_; ++k) rhs[u * cols + k] = w[u] * b.ztx[u * p_ + k];
        rhs[u * cols + p_] = w[u] * b.zty[u];
      }
      Matrix solved = rhs;
      cholesky_solve(c, q, solved.data(), cols);
      for (int a = 0; a < cols; ++a)
        for (int k = a; k < cols; ++k) {
          double s = 0.0;
          for (int u = 0; u < q; ++u) s += rhs[u * cols + a] * solved[u * cols + k];
          if (a < p_ && k < p_) {
            m[a * p_ + k] -= s;
            if (k != a) m[k * p_ + a] -= s;
          } else if (a < p_) {
            xvy[a] -= s;
          } else {
            yvy -= s;
          }
        }
    }
    Matrix l = m;
    if (!cholesky(l, p_)) return -HUGE_VAL;
    std::vector<double> b = xvy;
    cholesky_solve(l, p_, b.data(), 1);
    double quad = yvy;
    for (int a = 0; a < p_; ++a) quad -= b[a] * xvy[a];
    if (!(quad > 0.0)) return -HUGE_VAL;
    if (beta) *beta = b;
    if (qf) *qf = quad;
    if (m_out) *m_out = m;
    const double dof = n_ - p_;
    return -0.5 * log_det - 0.5 * dof * std::log(quad) - 0.5 * cholesky_log_det(l, p_) -
           0.5 * dof * std::log(2.0 * kPi) + 0.5 * dof * std::log(dof) - 0.5 * dof;
  }

  // Hessian of l(beta, theta) at beta = GLS estimate (order beta (p), theta_a, theta_n), and the gradient of
  // the profile l(theta) there (beta stationary, so only the partial derivatives in theta remain).
  Matrix derivatives(double theta_a, double theta_n, const std::vector<double>& beta, double qf, const Matrix& m,
                     std::vector<double>* gradient) const {
    const int k_theta = nested_ ? 2 : 1, dim = p_ + k_theta;
    const double dof = n_ - p_;
    Matrix t(static_cast<std::size_t>(k_theta) * k_theta, 0.0), q2(t.size(), 0.0);
    std::vector<double> q1(static_cast<std::size_t>(k_theta), 0.0);
    std::vector<Matrix> m1(static_cast<std::size_t>(k_theta), Matrix(static_cast<std::size_t>(p_) * p_, 0.0));
    std::vector<Matrix> m2(static_cast<std::size_t>(k_theta * k_theta), Matrix(static_cast<std::size_t>(p_) * p_, 0.0));
    Matrix cross(static_cast<std::size_t>(k_theta) * p_, 0.0);
    std::vector<double> trace_a(static_cast<std::size_t>(k_theta), 0.0);
    for (const Block& b : blocks_) {
      const int mb = static_cast<int>(b.rows.size());
      // Dense H, dH/dtheta_k (0/1 patterns: same animal; same neuron) and H⁻¹ for this block.
      std::vector<Matrix> dv(static_cast<std::size_t>(k_theta), Matrix(static_cast<std::size_t>(mb) * mb, 0.0));
      Matrix h(static_cast<std::size_t>(mb) * mb, 0.0);
      for (int i = 0; i < mb; ++i)
        for (int j = 0; j < mb; ++j) {
          dv[0][i * mb + j] = 1.0;
          const bool same_neuron = nested_ && b.column[i] == b.column[j];
          if (nested_ && same_neuron) dv[1][i * mb + j] = 1.0;
          h[i * mb + j] = (i == j ? 1.0 : 0.0) + theta_a + (same_neuron ? theta_n : 0.0);
        }
      Matrix hinv;
      spd_inverse(h, mb, &hinv);
      // G = H⁻¹ X (mb × p), s = H⁻¹ r.
      Matrix g(static_cast<std::size_t>(mb) * p_, 0.0);
      std::vector<double> s(static_cast<std::size_t>(mb), 0.0);
      for (int i = 0; i < mb; ++i)
        for (int j = 0; j < mb; ++j) {
          const int row = b.rows[j];
          double r = in_.y[row];
          for (int c = 0; c < p_; ++c) {
            g[i * p_ + c] += hinv[i * mb + j] * x(row, c);
            r -= x(row, c) * beta[c];
          }
          s[i] += hinv[i * mb + j] * r;
        }
      // A_k = H⁻¹ dH_k, dH_k G, dH_k s.
      std::vector<Matrix> a(static_cast<std::size_t>(k_theta)), dg(a.size());
      std::vector<std::vector<double>> ds(a.size());
      for (int k = 0; k < k_theta; ++k) {
        a[k] = multiply(hinv, dv[k], mb, mb, mb);
        dg[k] = multiply(dv[k], g, mb, mb, p_);
        ds[k] = multiply(dv[k], s, mb, mb, 1);
      }
      for (int j = 0; j < k_theta; ++j) {
        for (int i = 0; i < mb; ++i) trace_a[j] += a[j][i * mb + i];
        q1[j] -= dot(s, ds[j]);
        for (int c = 0; c < p_; ++c)
          for (int i = 0; i < mb; ++i) cross[j * p_ + c] += g[i * p_ + c] * ds[j][i];
        for (int c1 = 0; c1 < p_; ++c1)
          for (int c2 = 0; c2 < p_; ++c2) {
            double v = 0.0;
            for (int i = 0; i < mb; ++i) v += g[i * p_ + c1] * dg[j][i * p_ + c2];
            m1[j][c1 * p_ + c2] -= v;
          }
        for (int k = 0; k < k_theta; ++k) {
          double tr = 0.0;
          for (int i = 0; i < mb; ++i)
            for (int l = 0; l < mb; ++l) tr += a[j][i * mb + l] * a[k][l * mb + i];
          t[j * k_theta + k] += tr;
          // s' dH_j H⁻¹ dH_k s and G' (dH_j H⁻¹ dH_k + dH_k H⁻¹ dH_j) G.
          const std::vector<double> hk_s = multiply(hinv, ds[k], mb, mb, 1);
          q2[j * k_theta + k] += 2.0 * dot(ds[j], hk_s);
          const Matrix hk_g = multiply(hinv, dg[k], mb, mb, p_), hj_g = multiply(hinv, dg[j], mb, mb, p_);
          for (int c1 = 0; c1 < p_; ++c1)
            for (int c2 = 0; c2 < p_; ++c2) {
              double v = 0.0;
              for (int i = 0; i < mb; ++i) v += dg[j][i * p_ + c1] * hk_g[i * p_ + c2] + dg[k][i * p_ + c1] * hj_g[i * p_ + c2];
              m2[j * k_theta + k][c1 * p_ + c2] += v;
            }
        }
      }
    }
    Matrix minv;
    spd_inverse(m, p_, &minv);
    Matrix hess(static_cast<std::size_t>(dim) * dim, 0.0);
    for (int a = 0; a < p_; ++a)
      for (int c = 0; c < p_; ++c) hess[a * dim + c] = -dof * m[a * p_ + c] / qf;
    gradient->assign(static_cast<std::size_t>(k_theta), 0.0);
    for (int j = 0; j < k_theta; ++j) {
      double tr_m1 = 0.0;
      for (int a = 0; a < p_; ++a)
        for (int c = 0; c < p_; ++c) tr_m1 += minv[a * p_ + c] * m1[j][c * p_ + a];
      (*gradient)[j] = -0.5 * trace_a[j] - 0.5 * dof * q1[j] / qf - 0.5 * tr_m1;
      for (int c = 0; c < p_; ++c) {
        hess[(p_ + j) * dim + c] = -dof * cross[j * p_ + c] / qf;
        hess[c * dim + p_ + j] = hess[(p_ + j) * dim + c];
      }
      const Matrix mj = multiply(minv, m1[j], p_, p_, p_);
      for (int k = 0; k < k_theta; ++k) {
        const Matrix mk = multiply(minv, m1[k], p_, p_, p_);
        const Matrix mjk = multiply(minv, m2[j * k_theta + k], p_, p_, p_);
        double tr_mm = 0.0, tr_m2 = 0.0;
        for (int a = 0; a < p_; ++a) {
          tr_m2 += mjk[a * p_ + a];
          for (int c = 0; c < p_; ++c) tr_mm += mj[a * p_ + c] * mk[c * p_ + a];
        }
        hess[(p_ + j) * dim + p_ + k] = 0.5 * t[j * k_theta + k] -
                                        0.5 * dof * (q2[j * k_theta + k] / qf - q1[j] * q1[k] / (qf * qf)) -
                                        0.5 * (-tr_mm + tr_m2);
      }
    }
    return hess;
  }

 private:
  double x(int i, int c) const { return in_.x[static_cast<std::size_t>(i) * p_ + c]; }
  static Matrix multiply(const Matrix& a, const Matrix& b, int rows, int inner, int cols) {
    Matrix out(static_cast<std::size_t>(rows) * cols, 0.0);
    for (int i = 0; i < rows; ++i)
      for (int k = 0; k < inner; ++k) {
        const double v = a[i * inner + k];
        if (v == 0.0) continue;
        for (int j = 0; j < cols; ++j) out[i * cols + j] += v * b[k * cols + j];
      }
    return out;
  }
  static double dot(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
  }

  const MixedModelInput& in_;
  int n_, p_;
  bool nested_ = false;
  std::vector<Block> blocks_;
  Matrix xtx_;
  std::vector<double> xty_;
  double yty_ = 0.0;
};

// Brent's method maximising f on [lo, hi] (golden section with parabolic steps).
double brent_maximize(const std::function<double(double)>& f, double lo, double hi, double* best) {
  constexpr double kGolden = 0.3819660112501051, kTol = 1e-11;
  double a = lo, b = hi, x = a + kGolden * (b - a), w = x, v = x;
  double fx = -f(x), fw = fx, fv = fx, d = 0.0, e = 0.0;
  for (int iter = 0; iter < 200; ++iter) {
    const double mid = 0.5 * (a + b), tol1 = kTol * std::fabs(x) + 1e-12, tol2 = 2.0 * tol1;
    if (std::fabs(x - mid) <= tol2 - 0.5 * (b - a)) break;
    bool golden = true;
    if (std::fabs(e) > tol1) {
      double r = (x - w) * (fx - fv), q = (x - v) * (fx - fw), p = (x - v) * q - (x - w) * r;
      q = 2.0 * (q - r);
      if (q > 0.0) p = -p;
      q = std::fabs(q);
      const double e_prev = e;
      e = d;
      if (std::fabs(p) < std::fabs(0.5 * q * e_prev) && p > q * (a - x) && p < q * (b - x)) {
        d = p / q;
        const double u = x + d;
        if (u - a < tol2 || b - u < tol2) d = mid > x ? tol1 : -tol1;
        golden = false;
      }
    }
    if (golden) {
      e = (x >= mid ? a : b) - x;
      d = kGolden * e;
    }
    const double u = std::fabs(d) >= tol1 ? x + d : x + (d > 0 ? tol1 : -tol1);
    const double fu = -f(u);
    if (fu <= fx) {
      (u >= x ? a : b) = x;
      v = w, fv = fw, w = x, fw = fx, x = u, fx = fu;
    } else {
      (u < x ? a : b) = u;
      if (fu <= fw || w == x) {
        v = w, fv = fw, w = u, fw = fu;
      } else if (fu <= fv || v == x || v == w) {
        v = u, fv = fu;
      }
    }
  }
  *best = -fx;
  return x;
}

// Maximises f(theta) over theta in {0} ∪ [1e-7, 1e4]: a grid in log10 theta, then Brent around the best
// grid point. Returns theta (0 on the boundary) and the maximum in *best.
double maximize_ratio(const std::function<double(double)>& f, double* best) {
  double best_value = f(0.0), best_theta = 0.0;
  int best_index = -1;
  const int points = static_cast<int>(std::lround((kLog10ThetaMax - kLog10ThetaMin) / kGridStep)) + 1;
  for (int i = 0; i < points; ++i) {
    const double value = f(std::pow(10.0, kLog10ThetaMin + i * kGridStep));
    if (value > best_value) best_value = value, best_index = i;
  }
  if (best_index >= 0) {
    const double lo = kLog10ThetaMin + std::max(0, best_index - 1) * kGridStep;
    const double hi = kLog10ThetaMin + std::min(points - 1, best_index + 1) * kGridStep;
    double refined;
    const double u = brent_maximize([&](double t) { return f(std::pow(10.0, t)); }, lo, hi, &refined);
    best_theta = std::pow(10.0, kLog10ThetaMin + best_index * kGridStep);
    if (refined >= best_value) best_value = refined, best_theta = std::pow(10.0, u);
  }
  *best = best_value;
  return best_theta;
}

}  // namespace

MixedModelFit fit_mixed_model(const MixedModelInput& in) {
  const std::size_t n = in.y.size();
  if (in.p < 1 || in.x.size() != n * static_cast<std::size_t>(in.p) || in.animal.size() != n ||
      (!in.neuron.empty() && in.neuron.size() != n))
    throw ParameterError("mixed model: inconsistent sizes of y, X, animal and neuron");
  if (n <= static_cast<std::size_t>(in.p)) throw ParameterError("mixed model: fewer observations than fixed effects");
  const RemlProblem problem(in);
  MixedModelFit fit;
  fit.n_obs = static_cast<int>(n);
  fit.n_animals = problem.animals();
  if (problem.nested()) {
    std::vector<int> ids(in.neuron);
    std::sort(ids.begin(), ids.end());
    fit.n_neurons = static_cast<int>(std::unique(ids.begin(), ids.end()) - ids.begin());
  }

  double theta_a = 0.0, theta_n = 0.0, llf = 0.0;
  if (!problem.nested()) {
    theta_a = maximize_ratio([&](double t) { return problem.log_likelihood(t, 0.0); }, &llf);
  } else {
    // Profile: for each theta_a, the best theta_n; then the best theta_a.
    auto profile = [&](double ta) {
      double value;
      maximize_ratio([&](double tn) { return problem.log_likelihood(ta, tn); }, &value);
      return value;
    };
    theta_a = maximize_ratio(profile, &llf);
    theta_n = maximize_ratio([&](double tn) { return problem.log_likelihood(theta_a, tn); }, &llf);
  }
  std::vector<double> beta, gradient;
  double qf = 0.0;
  Matrix m, hess;
  fit.reml_log_likelihood = problem.log_likelihood(theta_a, theta_n, &beta, &qf, &m);
  if (!std::isfinite(fit.reml_log_likelihood))
    throw ParameterError("mixed model: singular design (a fixed effect has no observations?)");
  hess = problem.derivatives(theta_a, theta_n, beta, qf, m, &gradient);
  // The search above locates the optimum from function values, good to ~1e-7 relative (the likelihood is
  // flat there); Newton steps on the analytic score of the profile likelihood make it exact to rounding.
  const int p = in.p, k_theta = problem.nested() ? 2 : 1;
  for (int iter = 0; iter < 8 && theta_a > 0.0 && (!problem.nested() || theta_n > 0.0); ++iter) {
    const int dim = p + k_theta;
    // Profile Hessian in theta: the Schur complement H_tt - H_tb H_bb⁻¹ H_bt.
    Matrix hbb(static_cast<std::size_t>(p) * p), hbb_inv;
    for (int a = 0; a < p; ++a)
      for (int c = 0; c < p; ++c) hbb[a * p + c] = -hess[a * dim + c];
    if (!spd_inverse(hbb, p, &hbb_inv)) break;
    Matrix profile(static_cast<std::size_t>(k_theta) * k_theta), profile_inv;
    for (int j = 0; j < k_theta; ++j)
      for (int k = 0; k < k_theta; ++k) {
        double v = -hess[(p + j) * dim + p + k];
        for (int a = 0; a < p; ++a)
          for (int c = 0; c < p; ++c) v -= hess[(p + j) * dim + a] * hbb_inv[a * p + c] * hess[c * dim + p + k];
        profile[j * k_theta + k] = v;
      }
    if (!spd_inverse(profile, k_theta, &profile_inv)) break;
    double step[2] = {0.0, 0.0};
    for (int j = 0; j < k_theta; ++j)
      for (int k = 0; k < k_theta; ++k) step[j] += profile_inv[j * k_theta + k] * gradient[k];
    const double next_a = theta_a + step[0], next_n = theta_n + step[1];
    if (!(next_a > 0.0) || (problem.nested() && !(next_n > 0.0))) break;
    std::vector<double> next_beta, next_gradient;
    double next_qf = 0.0;
    Matrix next_m;
    const double next_llf = problem.log_likelihood(next_a, next_n, &next_beta, &next_qf, &next_m);
    if (!(next_llf >= fit.reml_log_likelihood - 1e-12 * std::fabs(fit.reml_log_likelihood))) break;
    theta_a = next_a, theta_n = next_n, beta = next_beta, qf = next_qf, m = next_m;
    fit.reml_log_likelihood = next_llf;
    hess = problem.derivatives(theta_a, theta_n, beta, qf, m, &gradient);
    if (std::fabs(step[0]) <= 1e-14 * theta_a && std::fabs(step[1]) <= 1e-14 * std::max(theta_n, 1e-300)) break;
  }
  const double scale = qf / static_cast<double>(static_cast<int>(n) - p);
  fit.var_residual = scale;
  fit.var_animal = theta_a * scale;
  fit.var_neuron = problem.nested() ? theta_n * scale : kNaN;
  fit.boundary = theta_a == 0.0 || (problem.nested() && theta_n == 0.0);
  fit.beta = beta;

  // Standard errors from the observed information of l(beta, theta) (statsmodels' choice); the expected
  // information sigma² (X'H⁻¹X)⁻¹ when that matrix is not invertible (a variance ratio on its boundary).
  const int dim = static_cast<int>(std::lround(std::sqrt(static_cast<double>(hess.size()))));
  Matrix neg(hess.size()), cov;
  for (std::size_t i = 0; i < hess.size(); ++i) neg[i] = -hess[i];
  bool ok = !fit.boundary && general_inverse(neg, dim, &cov);
  for (int a = 0; ok && a < dim; ++a) ok = cov[a * dim + a] > 0.0;
  Matrix minv;
  if (!ok) spd_inverse(m, p, &minv);
  for (int a = 0; a < p; ++a) {
    const double var = ok ? cov[a * dim + a] : scale * minv[a * p + a];
    fit.se.push_back(std::sqrt(var));
    fit.z.push_back(beta[a] / fit.se.back());
    fit.p_normal.push_back(std::min(1.0, 2.0 * normal_sf(std::fabs(fit.z.back()))));
  }
  return fit;
}

}  // namespace spinescope::stats
