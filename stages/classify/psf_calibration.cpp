#include "stages/classify/psf_calibration.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace spinescope::stages::classify {

namespace {

constexpr double kStepUm = 0.01;      // diameter grid of the tables
constexpr double kMaxDiameterUm = 3.0;
constexpr double kFwhmPerSigma = 2.3548200450309493;  // 2 sqrt(2 ln 2)
constexpr int kQuadrature = 48;       // points per integral (midpoint rule on smooth integrands)

double gauss(double x, double sigma) { return std::exp(-0.5 * x * x / (sigma * sigma)) / (sigma * 2.5066282746310002); }
// Fraction of a centred 1-D Gaussian within [-h, h].
double gauss_mass(double h, double sigma) { return h <= 0 ? 0.0 : std::erf(h / (sigma * 1.4142135623730951)); }

// Mass of the centred 2-D Gaussian (sigmas @p sa, @p sb) within the disc of radius @p rho.
double disc_mass(double rho, double sa, double sb) {
  double s = 0;
  for (int n = 0; n < kQuadrature; ++n) {
    const double a = -rho + (n + 0.5) * (2 * rho / kQuadrature);
    s += gauss(a, sa) * gauss_mass(std::sqrt(std::max(0.0, rho * rho - a * a)), sb);
  }
  return s * (2 * rho / kQuadrature);
}

// FWHM of the profile I(x) = ∫ g_xy(x - p) w(p) dp for a cross-section weight w supported on [-r, r].
double fwhm_of(double r, double sigma_xy, const std::function<double(double)>& w) {
  std::vector<double> ps, ws;
  if (r > 0) {
    for (int n = 0; n < kQuadrature; ++n) {
      const double p = -r + (n + 0.5) * (2 * r / kQuadrature);
      ps.push_back(p);
      ws.push_back(w(p) * (2 * r / kQuadrature));
    }
  } else {
    ps.push_back(0.0);
    ws.push_back(1.0);
  }
  auto profile = [&](double x) {
    double s = 0;
    for (std::size_t n = 0; n < ps.size(); ++n) s += gauss(x - ps[n], sigma_xy) * ws[n];
    return s;
  };
  const double half = 0.5 * profile(0.0);
  double lo = 0.0, hi = r + 6 * sigma_xy;
  for (int it = 0; it < 40; ++it) {
    const double mid = 0.5 * (lo + hi);
    (profile(mid) > half ? lo : hi) = mid;
  }
  return lo + hi;  // 2 × the half-width
}

}  // namespace

PsfCalibration::PsfCalibration(double psf_fwhm_xy_um, double psf_fwhm_z_um)
    : sigma_xy_(psf_fwhm_xy_um / kFwhmPerSigma), sigma_z_(psf_fwhm_z_um / kFwhmPerSigma) {
  const int n = static_cast<int>(std::lround(kMaxDiameterUm / kStepUm)) + 1;
  for (int i = 0; i < n; ++i) {
    const double d = i * kStepUm;
    ball_.push_back(ball_fwhm_um(d));
    cyl_lateral_.push_back(cylinder_fwhm_um(d, CylinderAxis::kLateral));
    cyl_axial_.push_back(cylinder_fwhm_um(d, CylinderAxis::kAxial));
    peak_ball_.push_back(ball_peak_fraction(d));
    peak_lateral_.push_back(cylinder_peak_fraction(d, CylinderAxis::kLateral));
    peak_axial_.push_back(cylinder_peak_fraction(d, CylinderAxis::kAxial));
  }
}

double PsfCalibration::ball_fwhm_um(double diameter_um) const {
  const double r = 0.5 * diameter_um;
  const double sxy = sigma_xy_, sz = sigma_z_;
  // Weight of the slab at x = p: the PSF-weighted area of the disc of radius rho in the (y, z) plane.
  return fwhm_of(r, sxy, [&](double p) {
    const double rho = std::sqrt(std::max(0.0, r * r - p * p));
    double s = 0;
    for (int n = 0; n < kQuadrature; ++n) {
      const double y = -rho + (n + 0.5) * (2 * rho / kQuadrature);
      s += gauss(y, sxy) * gauss_mass(std::sqrt(std::max(0.0, rho * rho - y * y)), sz);
    }
    return s * (2 * rho / kQuadrature);
  });
}

double PsfCalibration::cylinder_fwhm_um(double diameter_um, CylinderAxis axis) const {
  const double r = 0.5 * diameter_um;
  // Across a cylinder the profile sees its cross-section chord, blurred along the other transverse axis: z for
  // a lateral cylinder, y for one along z.
  const double other = axis == CylinderAxis::kLateral ? sigma_z_ : sigma_xy_;
  return fwhm_of(r, sigma_xy_, [&](double p) { return gauss_mass(std::sqrt(std::max(0.0, r * r - p * p)), other); });
}

double PsfCalibration::ball_peak_fraction(double diameter_um) const {
  const double r = 0.5 * diameter_um;
  if (r <= 0) return 0.0;
  // Slabs across x: the PSF-weighted area of each slab's disc, weighted by the lateral PSF at the slab.
  double s = 0;
  for (int n = 0; n < kQuadrature; ++n) {
    const double p = -r + (n + 0.5) * (2 * r / kQuadrature);
    s += gauss(p, sigma_xy_) * disc_mass(std::sqrt(std::max(0.0, r * r - p * p)), sigma_xy_, sigma_z_);
  }
  return s * (2 * r / kQuadrature);
}

double PsfCalibration::cylinder_peak_fraction(double diameter_um, CylinderAxis axis) const {
  const double r = 0.5 * diameter_um;
  if (r <= 0) return 0.0;
  if (axis == CylinderAxis::kAxial) return 1.0 - std::exp(-0.5 * r * r / (sigma_xy_ * sigma_xy_));
  return disc_mass(r, sigma_xy_, sigma_z_);
}

double PsfCalibration::cylinder_diameter_from_peak_um(double fraction, CylinderAxis axis) const {
  const std::vector<double>& table = axis == CylinderAxis::kLateral ? peak_lateral_ : peak_axial_;
  if (fraction >= table.back()) return (table.size() - 1) * kStepUm;  // the curve saturates: no extrapolation
  return invert(table, fraction);
}

double PsfCalibration::ball_diameter_from_peak_um(double fraction) const {
  if (fraction >= peak_ball_.back()) return (peak_ball_.size() - 1) * kStepUm;
  return invert(peak_ball_, fraction);
}

double PsfCalibration::invert(const std::vector<double>& table, double fwhm_um) const {
  if (table.empty() || !(fwhm_um > table.front())) return 0.0;
  const auto it = std::upper_bound(table.begin(), table.end(), fwhm_um);
  std::size_t i = static_cast<std::size_t>(it - table.begin());
  if (i >= table.size()) i = table.size() - 1;  // beyond the table: extrapolate the last interval
  const double f0 = table[i - 1], f1 = table[i];
  const double t = f1 > f0 ? (fwhm_um - f0) / (f1 - f0) : 0.0;
  return ((i - 1) + t) * kStepUm;
}

}  // namespace spinescope::stages::classify
