#include "stages/classify/measure.hpp"

#include "spinescope/vec3.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace spinescope::stages::classify {

namespace {

constexpr double kStepUm = 0.01;        // profile sampling step
constexpr double kNeckStepUm = 0.05;    // spacing of neck cross-sections
constexpr double kHeadReachUm = 1.5;    // a head profile must fall to half within this
constexpr double kRodReachUm = 3.0;     // a filopodium's end is looked for this far beyond its brightest point
constexpr double kRecentreUm = 0.12;    // a cross-section may recentre on the object by this much
constexpr double kNeckClearanceUm = 0.1;  // neck cross-sections stay this far from base and head surface
constexpr double kAxialCosine = 0.7;     // |cos| to z above which an axis counts as along z
constexpr double kShoulderFraction = 0.25;  // a profile side that stays above this much of its height: a shoulder
constexpr double kSmallHeadUm = 0.5;    // heads narrower than this are sized by their brightness too

using V3 = Vec3;
V3 sub(const PointUm& a, const PointUm& b) { return {a.x_um - b.x_um, a.y_um - b.y_um, a.z_um - b.z_um}; }
double norm(const V3& v) { return std::sqrt(v.x * v.x + v.y * v.y + v.z * v.z); }
PointUm along(const PointUm& p, const V3& u, double t) { return {p.x_um + t * u.x, p.y_um + t * u.y, p.z_um + t * u.z}; }
double distance(const PointUm& a, const PointUm& b) { return norm(sub(a, b)); }

// Lateral cross-section directions for an object on axis @p a: the in-plane normal of a lateral axis (the
// other in-plane direction runs along the spine), or x and y for an axis along z.
std::vector<V3> cross_directions(const V3& a) {
  const double axy = std::sqrt(a.x * a.x + a.y * a.y);
  if (axy > 0.5) return {{-a.y / axy, a.x / axy, 0.0}};
  return {{1, 0, 0}, {0, 1, 0}};
}

double mean_fwhm(const VolumeF& pre, const PointUm& c, const std::vector<V3>& dirs, double reach,
                 double* peak = nullptr) {
  double sum = 0, peak_sum = 0;
  int n = 0;
  for (const V3& d : dirs) {
    double p = 0;
    const double w = fwhm_along_um(pre, c, d.x, d.y, d.z, reach, kRecentreUm, &p);
    peak_sum += p;
    if (std::isfinite(w)) sum += w, ++n;
  }
  if (peak) *peak = peak_sum / static_cast<double>(dirs.size());
  return n ? sum / n : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

float sample_um(const VolumeF& v, double x_um, double y_um, double z_um) {
  const Spacing& s = v.spacing();
  const double fx = x_um / s.x_um, fy = y_um / s.y_um, fz = z_um / s.z_um;
  const long i = static_cast<long>(std::floor(fx)), j = static_cast<long>(std::floor(fy)),
             k = static_cast<long>(std::floor(fz));
  const double tx = fx - i, ty = fy - j, tz = fz - k;
  double sum = 0;
  for (int c = 0; c <= 1; ++c)
    for (int b = 0; b <= 1; ++b)
      for (int a = 0; a <= 1; ++a) {
        if (!v.inside(i + a, j + b, k + c)) continue;
        const double w = (a ? tx : 1 - tx) * (b ? ty : 1 - ty) * (c ? tz : 1 - tz);
        sum += w * v(i + a, j + b, k + c);
      }
  return static_cast<float>(sum);
}

double fwhm_along_um(const VolumeF& v, const PointUm& centre, double ux, double uy, double uz, double reach_um,
                     double recentre_um, double* peak_out) {
  const V3 u{ux, uy, uz};
  auto at = [&](double t) {
    const PointUm p = along(centre, u, t);
    return static_cast<double>(sample_um(v, p.x_um, p.y_um, p.z_um));
  };
  double best_t = 0, peak = at(0.0);
  for (double t = -recentre_um; t <= recentre_um + 1e-9; t += kStepUm) {
    const double val = at(t);
    if (val > peak) peak = val, best_t = t;
  }
  if (peak_out) *peak_out = peak;
  if (!(peak > 0)) return std::numeric_limits<double>::quiet_NaN();
  // Samples on both sides; the baseline is the lowest value within reach (the blur of a neighbouring shaft
  // lifts it), clamped at the image background 0.
  const int n = static_cast<int>(std::ceil(reach_um / kStepUm));
  std::vector<double> side[2];
  double baseline = peak;
  for (int s = 0; s < 2; ++s)
    for (int q = 1; q <= n; ++q) {
      side[s].push_back(at(best_t + (s ? -1.0 : 1.0) * q * kStepUm));
      baseline = std::min(baseline, side[s].back());
    }
  baseline = std::max(0.0, baseline);
  const double half = baseline + 0.5 * (peak - baseline);
  double half_width[2];
  bool ok[2] = {false, false};
  for (int s = 0; s < 2; ++s) {
    double prev = peak;
    for (int q = 0; q < n; ++q) {
      const double val = side[s][q];
      if (val > peak) break;  // ran into something brighter
      if (val < half) {
        half_width[s] = (q + 1) * kStepUm - kStepUm * (half - val) / std::max(prev - val, 1e-12);
        ok[s] = true;
        break;
      }
      prev = val;
    }
  }
  // A side that crosses half but never falls back towards the baseline within reach runs onto a neighbouring
  // structure's shoulder (a stubby head on the shaft's flank): its crossing measures that structure, not this one.
  if (ok[0] && ok[1]) {
    bool shoulder[2] = {true, true};
    for (int s = 0; s < 2; ++s)
      for (double val : side[s])
        if (val < baseline + kShoulderFraction * (peak - baseline)) shoulder[s] = false;
    if (shoulder[0] != shoulder[1]) ok[shoulder[0] ? 0 : 1] = false;
  }
  if (ok[0] && ok[1]) return half_width[0] + half_width[1];
  if (ok[0] || ok[1]) return 2 * (ok[0] ? half_width[0] : half_width[1]);
  return std::numeric_limits<double>::quiet_NaN();
}

SpineType classify_type(double head_um, double neck_um, double length_um, const TypeRules& r, double* margin) {
  auto closeness = [](double value, double threshold) {
    if (!(value > 0) || !(threshold > 0)) return 1.0;
    return std::min(1.0, std::fabs(std::log(value / threshold)) / 0.3);  // 1 beyond ~35 % from the threshold
  };
  const double hnr = neck_um > 0 ? head_um / neck_um : std::numeric_limits<double>::infinity();
  const double lhr = head_um > 0 ? length_um / head_um : std::numeric_limits<double>::infinity();
  double m = closeness(hnr, r.neck_ratio);
  SpineType type;
  if (hnr > r.neck_ratio) {
    type = head_um >= r.mushroom_head_um ? SpineType::kMushroom : SpineType::kThin;
    m = std::min(m, closeness(head_um, r.mushroom_head_um));
  } else if (length_um >= r.filopodium_min_length_um) {
    type = SpineType::kFilopodium;
    m = std::min(m, closeness(length_um, r.filopodium_min_length_um));
  } else {
    type = lhr > r.thin_ratio ? SpineType::kThin : SpineType::kStubby;
    m = std::min(m, closeness(lhr, r.thin_ratio));
  }
  if (margin) *margin = m;
  return type;
}

void measure_spine(const VolumeF& pre, const std::vector<std::size_t>& voxels, double reference_intensity,
                   const PsfCalibration& cal, const MeasureParams& params, Spine* spine) {
  if (voxels.empty()) return;
  const Spacing& s = pre.spacing();
  const std::size_t nx = pre.nx(), plane = pre.plane_size();
  auto point = [&](std::size_t v) {
    return PointUm{(v % nx) * s.x_um, ((v / nx) % pre.ny()) * s.y_um, (v / plane) * s.z_um};
  };
  const PointUm base = spine->base;

  // Far end of the segmented voxels and the head: the brightest voxel of the distal half.
  double far = 0;
  PointUm mask_tip = base;
  for (std::size_t v : voxels) {
    const double d = distance(point(v), base);
    if (d > far) far = d, mask_tip = point(v);
  }
  std::size_t head_voxel = voxels.front();
  float head_value = -1;
  for (std::size_t v : voxels)
    if (distance(point(v), base) >= 0.5 * far && pre[v] > head_value) head_value = pre[v], head_voxel = v;
  // Sub-voxel head centre: a parabola through the brightest voxel and its two neighbours on each axis.
  const long hi = static_cast<long>(head_voxel % nx), hj = static_cast<long>((head_voxel / nx) % pre.ny()),
             hk = static_cast<long>(head_voxel / plane);
  auto refine = [&](long di, long dj, long dk) {
    if (!pre.inside(hi - di, hj - dj, hk - dk) || !pre.inside(hi + di, hj + dj, hk + dk)) return 0.0;
    const double a = pre(hi - di, hj - dj, hk - dk), b = pre(hi, hj, hk), c = pre(hi + di, hj + dj, hk + dk);
    const double denom = a - 2 * b + c;
    return denom < 0 ? std::clamp(0.5 * (a - c) / denom, -0.5, 0.5) : 0.0;
  };
  PointUm head{(hi + refine(1, 0, 0)) * s.x_um, (hj + refine(0, 1, 0)) * s.y_um, (hk + refine(0, 0, 1)) * s.z_um};

  V3 axis = sub(head, base);
  double head_dist = norm(axis);
  if (head_dist < 0.05) axis = sub(mask_tip, base), head_dist = norm(axis);
  if (head_dist < 1e-6) axis = {0, 0, 1}, head_dist = 1;
  const double an = norm(axis);
  axis = {axis.x / an, axis.y / an, axis.z / an};
  const std::vector<V3> dirs = cross_directions(axis);
  const CylinderAxis neck_orientation = std::fabs(axis.z) > kAxialCosine ? CylinderAxis::kAxial : CylinderAxis::kLateral;

  // Head: lateral FWHM through the centre, corrected for the PSF.
  const double head_fwhm = mean_fwhm(pre, head, dirs, kHeadReachUm);
  double head_d = std::isfinite(head_fwhm)
                      ? cal.ball_diameter_um(head_fwhm)
                      : std::cbrt(6.0 * voxels.size() * s.voxel_um3() / 3.141592653589793);
  const double base_head = distance(head, base);

  // Neck: the narrowest cross-section between the base and the head's surface.
  double neck_fwhm = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> neck_values;  // intensity on the neck's axis
  const double t0 = kNeckClearanceUm, t1 = base_head - 0.5 * head_d - kNeckClearanceUm;
  const bool has_neck = t1 - t0 >= params.min_neck_length_um;
  if (has_neck) {
    std::vector<double> widths;
    for (double t = t0; t <= t1 + 1e-9; t += kNeckStepUm) {
      double peak = 0;
      const double w = mean_fwhm(pre, along(base, axis, t), dirs, 1.0, &peak);
      neck_values.push_back(peak);
      if (std::isfinite(w)) widths.push_back(w);
    }
    for (std::size_t n = 0; n < widths.size(); ++n) {
      // Narrowest running mean of three cross-sections (one noisy profile does not make a neck).
      const std::size_t a = n == 0 ? 0 : n - 1, b = std::min(widths.size() - 1, n + 1);
      double m = 0;
      for (std::size_t q = a; q <= b; ++q) m += widths[q];
      m /= static_cast<double>(b - a + 1);
      if (!(neck_fwhm <= m)) neck_fwhm = m;
    }
  }
  double neck_d = std::isfinite(neck_fwhm) ? cal.cylinder_diameter_um(neck_fwhm, neck_orientation) : head_d;
  // A neck thinner than the PSF hardly narrows its image but dims it: its brightness relative to the local dye
  // level gives its width too. The dimmest stretch (running mean of three cross-sections) is the neck; the
  // narrower of the two estimates wins (a neighbouring structure widens a profile, it never narrows it).
  if (has_neck && !neck_values.empty()) {
    double level = std::numeric_limits<double>::infinity();
    for (std::size_t n = 0; n < neck_values.size(); ++n) {
      const std::size_t a = n == 0 ? 0 : n - 1, b = std::min(neck_values.size() - 1, n + 1);
      double m = 0;
      for (std::size_t q = a; q <= b; ++q) m += neck_values[q];
      level = std::min(level, m / static_cast<double>(b - a + 1));
    }
    const double from_intensity =
        cal.cylinder_diameter_from_peak_um(level / std::max(reference_intensity, 1e-6), neck_orientation);
    neck_d = std::min(neck_d, from_intensity);
    // Likewise a head below ~0.5 µm: its width hardly shows in its image, its brightness does.
    if (head_d < kSmallHeadUm) {
      // The neck ends at the head's surface, half a diameter from its centre: it adds there the share of its own
      // level that the PSF spreads that far along the spine's axis (about half only for a head much smaller than
      // the PSF). Solved with the head's size by a few fixed-point steps.
      const double az2 = axis.z * axis.z;
      const double sigma_um = std::sqrt(cal.sigma_xy_um() * cal.sigma_xy_um() * (1.0 - az2) +
                                        cal.sigma_z_um() * cal.sigma_z_um() * az2);
      double d = head_d;
      for (int it = 0; it < 4; ++it) {
        const double neck_share = 0.5 * std::erfc(0.5 * d / (sigma_um * std::sqrt(2.0)));
        const double ball = (head_value - neck_share * level) / std::max(reference_intensity, 1e-6);
        if (!(ball > 0)) break;
        d = std::min(head_d, cal.ball_diameter_from_peak_um(ball));
      }
      head_d = d;
    }
  }
  if (!has_neck) neck_d = head_d;

  // A filopodium has no head: its brightest distal point is hardly brighter than its neck (a head wider than the
  // neck gathers more light; widths alone do not tell a 0.3 µm head from a 0.15 µm rod through a 0.25 µm PSF).
  bool headless = false;
  if (!neck_values.empty()) {
    // The outer half of the neck: near the base the shaft's blur (3x longer along z) brightens it.
    std::vector<double> sorted(neck_values.begin() + neck_values.size() / 2, neck_values.end());
    std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
    headless = head_value <= params.headless_intensity_ratio * sorted[sorted.size() / 2];
  }
  PointUm tip = along(head, axis, 0.5 * head_d);
  double length = distance(tip, base);
  if (headless && has_neck) {
    // The end of a thin rod: half of the rod's intensity, marching outwards from the brightest distal point.
    V3 out = sub(mask_tip, base);
    const double on = norm(out);
    if (on > 1e-6) out = {out.x / on, out.y / on, out.z / on};
    const double half = 0.5 * head_value;
    PointUm end = head;
    for (double t = kStepUm; t <= kRodReachUm; t += kStepUm) {
      const PointUm p = along(head, out, t);
      if (sample_um(pre, p.x_um, p.y_um, p.z_um) < half) break;
      end = p;
    }
    if (distance(end, base) >= params.rules.filopodium_min_length_um) tip = end, length = distance(end, base);
  }
  SpineType type;
  double margin = 1.0;
  if (headless && has_neck && length >= params.rules.filopodium_min_length_um) {
    head = tip;
    type = SpineType::kFilopodium;
    margin = std::min(1.0, std::fabs(std::log(length / params.rules.filopodium_min_length_um)) / 0.3);
    spine->neck_length_um = length;
    neck_d = std::min(neck_d, head_d);
    head_d = neck_d;
  } else {
    TypeRules rules = params.rules;
    rules.filopodium_min_length_um = std::numeric_limits<double>::infinity();  // decided above
    type = classify_type(head_d, neck_d, length, rules, &margin);
    spine->neck_length_um = has_neck ? std::max(0.0, base_head - 0.5 * head_d) : 0.0;
  }
  double intensity = 0;
  for (std::size_t v : voxels) intensity += std::max(0.0f, pre[v]);
  spine->head = head;
  spine->tip = tip;
  spine->head_diameter_um = head_d;
  spine->neck_width_um = neck_d;
  spine->length_um = length;
  spine->volume_um3 = intensity * s.voxel_um3() / std::max(reference_intensity, 1e-6);
  spine->type = type;
  const double detection = spine->confidence > 0 ? spine->confidence : 0.5;
  spine->confidence = std::clamp(detection * (0.6 + 0.4 * margin), 0.0, 1.0);
}

}  // namespace spinescope::stages::classify
