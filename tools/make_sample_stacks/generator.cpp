// Random ground-truth scenes: curved dendrites, spines of four types, puncta; and the truth files.
#include "tools/make_sample_stacks/generator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "spinescope/errors.hpp"
#include "spinescope/io.hpp"
#include "tools/make_sample_stacks/render.hpp"

namespace spinescope::gen {
namespace {

using detail::Random;
using detail::V3;

constexpr double kPi = 3.14159265358979323846;
constexpr double kStepUm = 0.05;                    // dense centerline sampling (truth is sampled every ≤ 0.1 µm)
constexpr double kTubeNodeUm = 0.25;                // capsule-chain node spacing when rendering a dendrite
constexpr double kZMarginUm = 1.5;                  // dendrite centerline stays this far inside the z bounds
constexpr double kEdgeMarginUm = 0.3;               // a spine stays this far inside the stack
constexpr double kSpineClearanceUm = 0.5;           // spine surface to any other dendrite's surface
constexpr double kSpineGapUm = 0.4;                 // spine surface to another spine's surface
constexpr double kPunctumDendriteUm = 4.0;          // punctum surface to any dendrite surface
constexpr double kPunctumSpineUm = 2.0;             // punctum surface to any spine surface
constexpr double kMaxTiltRad = 15.0 * kPi / 180.0;  // spine axis tilt from the surface normal, along the shaft
constexpr int kSpineTries = 8;                      // directions tried at one base before giving up on it
constexpr double kTipClearUm = 1.0;                 // no spine base this close to a tip, no other dendrite either

/// A dendrite's centerline sampled every kStepUm of arclength, with its radius.
struct Dendrite {
  std::vector<V3> c;
  std::vector<double> r;
  std::size_t in_begin = 0, in_end = 0;  // [in_begin, in_end): the samples inside the stack
  double brightness = 1.0;
  bool tip_at_begin = false, tip_at_end = false;  // the dendrite ends there inside the stack (c.front(), c.back())
};

struct Bounds {
  double x = 0, y = 0, z = 0;  // extent in µm: the stack spans [0,x]×[0,y]×[0,z]
  bool inside(const V3& p) const { return p.x >= 0 && p.x <= x && p.y >= 0 && p.y <= y && p.z >= 0 && p.z <= z; }
};

/// A spine as spheres along its axis (for clearance tests) and the primitives that draw it.
struct SpineBuild {
  SpineTruth truth;
  std::vector<V3> sphere_c;
  std::vector<double> sphere_r;
  std::vector<Tube> tubes;
  std::vector<Ball> balls;
};

/// Resamples a dense polyline to equal arclength steps.
std::vector<V3> resample(const std::vector<V3>& raw, double step) {
  std::vector<V3> out{raw.front()};
  double carried = 0.0;  // arclength since the last output sample
  for (std::size_t i = 1; i < raw.size(); ++i) {
    const V3 a = raw[i - 1], d = raw[i] - raw[i - 1];
    const double len = d.norm();
    double t = step - carried;
    while (t <= len) {
      out.push_back(a + d * (t / len));
      t += step;
    }
    carried = len - (t - step);
  }
  return out;
}

/// One attempt at a dendrite; returns false when it does not cross the stack as required.
bool make_dendrite(Random& rng, const GeneratorConfig& cfg, const Bounds& b, Dendrite& d) {
  const double theta = rng.uniform(0.0, kPi);
  const V3 dir(std::cos(theta), std::sin(theta), 0.0), side(-std::sin(theta), std::cos(theta), 0.0);
  const V3 centre(rng.uniform(0.3, 0.7) * b.x, rng.uniform(0.3, 0.7) * b.y,
                  b.z / 2 + rng.uniform(-0.15, 0.15) * (b.z - 2 * kZMarginUm));
  const double half = 0.5 * std::sqrt(b.x * b.x + b.y * b.y) + 4.0;
  const double a1 = rng.uniform(0.5, 2.5), l1 = rng.uniform(12.0, 30.0), p1 = rng.uniform(0.0, 2 * kPi);
  const double a2 = rng.uniform(0.0, 1.0), l2 = rng.uniform(6.0, 12.0), p2 = rng.uniform(0.0, 2 * kPi);
  const double slope = rng.uniform(-1.0, 1.0) * std::min(0.08, (b.z / 2 - kZMarginUm) / half);
  const double az = rng.uniform(0.0, 0.6), lz = rng.uniform(10.0, 25.0), pz = rng.uniform(0.0, 2 * kPi);
  std::vector<V3> raw;
  for (double u = -half; u <= half; u += 0.01) {
    const double bend = a1 * std::sin(2 * kPi * u / l1 + p1) + a2 * std::sin(2 * kPi * u / l2 + p2);
    raw.push_back(centre + dir * u + side * bend + V3(0, 0, slope * u + az * std::sin(2 * kPi * u / lz + pz)));
  }
  d.c = resample(raw, kStepUm);

  const double span = std::min(0.15, (cfg.max_radius_um - cfg.min_radius_um) / 2);
  const double ar = rng.uniform(0.0, span), lr = rng.uniform(8.0, 20.0), pr = rng.uniform(0.0, 2 * kPi);
  const double r0 = rng.uniform(cfg.min_radius_um + ar, cfg.max_radius_um - ar);
  d.r.resize(d.c.size());
  for (std::size_t i = 0; i < d.c.size(); ++i) d.r[i] = r0 + ar * std::sin(2 * kPi * i * kStepUm / lr + pr);
  d.brightness = rng.uniform(0.85, 1.15);

  // Exactly one run inside the stack, crossing most of it, centerline ≥ kZMarginUm inside the z bounds.
  int runs = 0;
  bool was_inside = false;
  for (std::size_t i = 0; i < d.c.size(); ++i) {
    const bool in = b.inside(d.c[i]);
    if (in && !was_inside) ++runs, d.in_begin = i;
    if (!in && was_inside) d.in_end = i;
    if (in && (d.c[i].z < kZMarginUm || d.c[i].z > b.z - kZMarginUm)) return false;
    was_inside = in;
  }
  if (runs != 1 || was_inside || d.in_begin == 0) return false;  // it must enter and leave the stack
  return (d.in_end - d.in_begin) * kStepUm >= 0.6 * std::min(b.x, b.y);
}

/// Distance from @p p to the surface of dendrite @p d (negative inside), skipping samples whose arclength
/// is within @p skip_um of sample @p skip_index (for a spine's own dendrite).
double surface_distance(const Dendrite& d, const V3& p, std::size_t skip_index = 0, double skip_um = -1.0) {
  double best = std::numeric_limits<double>::max();
  const double skip = skip_um / kStepUm;
  for (std::size_t i = 0; i < d.c.size(); ++i) {
    if (skip_um >= 0 && std::abs(static_cast<double>(i) - static_cast<double>(skip_index)) <= skip) continue;
    best = std::min(best, (p - d.c[i]).norm() - d.r[i]);
  }
  return best;
}

/// The point where segment (a → b) leaves the stack bounds (a inside, b outside).
V3 clip_to_bounds(const Bounds& b, V3 a, V3 out) {
  for (int it = 0; it < 40; ++it) {
    const V3 m = (a + out) * 0.5;
    (b.inside(m) ? a : out) = m;
  }
  return a;
}

void add_axis_spheres(SpineBuild& s, const V3& from, const V3& dir, double length, double radius) {
  for (double h = 0.0; h <= length + 1e-9; h += kStepUm) {
    s.sphere_c.push_back(from + dir * h);
    s.sphere_r.push_back(radius);
  }
}

/// Draws a spine of a random type leaving dendrite @p d at sample @p i.
SpineBuild make_spine(Random& rng, const Dendrite& d, std::size_t i, const std::string& type) {
  const std::size_t ia = i > 0 ? i - 1 : i, ib = std::min(i + 1, d.c.size() - 1);
  const V3 t = (d.c[ib] - d.c[ia]).unit();
  const V3 n1 = t.cross(V3(0, 0, 1)).unit();
  const V3 n2 = t.cross(n1);
  const double phi = rng.uniform(0.0, 2 * kPi);
  const V3 u = n1 * std::cos(phi) + n2 * std::sin(phi);
  const V3 v = (u + t * std::tan(rng.uniform(-kMaxTiltRad, kMaxTiltRad))).unit();
  const V3 base = d.c[i] + u * d.r[i];
  const V3 root = base - v * std::min(0.3, 0.5 * d.r[i]);  // drawn from inside the shaft so the neck joins it

  SpineBuild s;
  SpineTruth& tr = s.truth;
  tr.type = type;
  tr.base = base.point();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const float br = static_cast<float>(d.brightness);
  if (type == "stubby") {
    const double dh = rng.uniform(0.5, 0.8), len = rng.uniform(0.4, std::min(0.8, dh));
    const V3 head = base + v * (len - dh / 2);
    tr.head = head.point(), tr.head_diameter_um = dh, tr.neck_length_um = 0.0, tr.neck_width_um = nan;
    tr.length_um = len;
    s.tubes.push_back(Tube{{root.point(), head.point()}, {dh / 2, dh / 2}, br});
    add_axis_spheres(s, base, v, std::max(0.0, len - dh / 2), dh / 2);
  } else if (type == "mushroom" || type == "thin") {
    const bool mushroom = type == "mushroom";
    const double dh = mushroom ? rng.uniform(0.6, 1.0) : rng.uniform(0.25, 0.33);
    const double wn = mushroom ? rng.uniform(0.15, 0.25) : rng.uniform(0.12, std::min(0.2, dh / 1.4));
    const double ln = mushroom ? rng.uniform(std::max(0.4, 1.0 - dh), std::min({1.0, 1.3 * dh, 2.0 - dh}))
                               : rng.uniform(std::max(0.6, 1.0 - dh), std::min(1.4, 2.0 - dh));
    const V3 head = base + v * (ln + dh / 2);
    tr.head = head.point(), tr.head_diameter_um = dh, tr.neck_length_um = ln, tr.neck_width_um = wn;
    tr.length_um = ln + dh;
    s.tubes.push_back(Tube{{root.point(), (base + v * (ln + 0.2 * dh)).point()}, {wn / 2, wn / 2}, br});
    s.balls.push_back(Ball{head.point(), dh / 2, br});
    add_axis_spheres(s, base, v, ln, wn / 2);
    s.sphere_c.push_back(head), s.sphere_r.push_back(dh / 2);
  } else {  // filopodium: a thin headless protrusion; its "head" is the tip
    const double len = rng.uniform(1.5, 3.0), w = rng.uniform(0.12, 0.2);
    const V3 tip = base + v * len;
    tr.head = tip.point(), tr.head_diameter_um = nan, tr.neck_length_um = nan, tr.neck_width_um = w;
    tr.length_um = len;
    s.tubes.push_back(Tube{{root.point(), (base + v * (len - w / 2)).point()}, {w / 2, w / 2}, br});
    add_axis_spheres(s, base, v, len - w / 2, w / 2);
  }
  return s;
}

bool spine_fits(const SpineBuild& s, const Bounds& b, const std::vector<Dendrite>& dendrites, std::size_t own,
                std::size_t base_index, const std::vector<SpineBuild>& placed) {
  for (std::size_t q = 0; q < s.sphere_c.size(); ++q) {
    const V3& p = s.sphere_c[q];
    const double m = kEdgeMarginUm + s.sphere_r[q];
    if (p.x < m || p.y < m || p.z < m || p.x > b.x - m || p.y > b.y - m || p.z > b.z - m) return false;
  }
  for (std::size_t k = 0; k < dendrites.size(); ++k) {
    for (std::size_t q = 0; q < s.sphere_c.size(); ++q) {
      const double clearance = k == own ? surface_distance(dendrites[k], s.sphere_c[q], base_index, 2.0)
                                        : surface_distance(dendrites[k], s.sphere_c[q]);
      if (clearance - s.sphere_r[q] < kSpineClearanceUm) return false;
    }
  }
  const V3 base(s.truth.base);
  for (const SpineBuild& o : placed) {
    if ((V3(o.truth.base) - base).norm() > 8.0) continue;  // both are shorter than 3.5 µm
    for (std::size_t q = 0; q < s.sphere_c.size(); ++q)
      for (std::size_t w = 0; w < o.sphere_c.size(); ++w)
        if ((s.sphere_c[q] - o.sphere_c[w]).norm() - s.sphere_r[q] - o.sphere_r[w] < kSpineGapUm) return false;
  }
  return true;
}

const char* draw_type(Random& rng) {
  const double u = rng.uniform();  // 30% thin, 30% mushroom, 25% stubby, 15% filopodium
  return u < 0.30 ? "thin" : u < 0.60 ? "mushroom" : u < 0.85 ? "stubby" : "filopodium";
}

void validate_generator(const GeneratorConfig& cfg, const Bounds& b) {
  detail::validate_imaging(cfg.imaging);
  auto bad = [](const std::string& key, double value, const std::string& why) {
    throw ParameterError("make-sample-stacks", key, format_number(value), why);
  };
  if (cfg.min_dendrites < 1 || cfg.max_dendrites < cfg.min_dendrites || cfg.max_dendrites > 10)
    bad("max_dendrites", cfg.max_dendrites, "need 1 <= min_dendrites <= max_dendrites <= 10");
  if (!(cfg.min_radius_um >= 0.1) || !(cfg.max_radius_um >= cfg.min_radius_um) || cfg.max_radius_um > 3.0)
    bad("max_radius_um", cfg.max_radius_um, "need 0.1 <= min_radius_um <= max_radius_um <= 3");
  if (!(cfg.spine_density_per_um >= 0) || cfg.spine_density_per_um > 5)
    bad("spine_density_per_um", cfg.spine_density_per_um, "must be in [0, 5]");
  if (!(cfg.min_spine_gap_um >= 0.2) || cfg.min_spine_gap_um > 10)
    bad("min_spine_gap_um", cfg.min_spine_gap_um, "must be in [0.2, 10]");
  if (cfg.puncta < 0 || cfg.puncta > 1000) bad("puncta", cfg.puncta, "must be in [0, 1000]");
  if (!(cfg.ends_inside_fraction >= 0) || cfg.ends_inside_fraction > 1)
    bad("ends_inside_fraction", cfg.ends_inside_fraction, "must be in [0, 1]");
  if (b.x < 5.0 || b.y < 5.0) bad("extent_xy_um", std::min(b.x, b.y), "the stack must span at least 5 um in x and y");
  if (b.z < 2 * kZMarginUm + 2 * cfg.max_radius_um)
    bad("extent_z_um", b.z,
        "the stack must span at least " + format_number(2 * kZMarginUm + 2 * cfg.max_radius_um) +
            " um in z (dendrites stay 1.5 um inside)");
}

}  // namespace

GeneratedStack generate_stack(const GeneratorConfig& cfg) {
  const ImagingConfig& im = cfg.imaging;
  const Bounds bounds{(im.nx - 1) * im.spacing.x_um, (im.ny - 1) * im.spacing.y_um, (im.nz - 1) * im.spacing.z_um};
  validate_generator(cfg, bounds);
  Random rng(detail::mix_seed(im.seed, 0x5ce4e));

  // Dendrites.
  std::vector<Dendrite> dendrites;
  const int count = rng.uniform_int(cfg.min_dendrites, cfg.max_dendrites);
  for (int n = 0; n < count; ++n) {
    bool ok = false;
    for (int attempt = 0; attempt < 500 && !ok; ++attempt) {
      Dendrite d;
      if (!make_dendrite(rng, cfg, bounds, d)) continue;
      ok = true;
      if (!cfg.allow_crossing || cfg.touch_only) {
        // Apart by 3 µm, or (touch_only) crossing and touching without passing through one another (every 0.1 µm).
        const double least_gap_um = cfg.allow_crossing ? 0.0 : 3.0;
        const std::size_t every = cfg.allow_crossing ? 2 : 4;
        for (const Dendrite& o : dendrites)
          for (std::size_t i = 0; i < d.c.size() && ok; i += every)
            if (surface_distance(o, d.c[i]) - d.r[i] < least_gap_um) ok = false;
      }
      if (ok) dendrites.push_back(std::move(d));
    }
    // A small or shallow stack may hold no further dendrite that touches without passing through the others: the
    // scene keeps those it has (the first always fits).
    if (!ok && cfg.allow_crossing && cfg.touch_only && n > 0) break;
    if (!ok)
      throw ParameterError("make-sample-stacks: cannot place dendrite " + std::to_string(n + 1) +
                           " in this stack (make it larger or allow crossing)");
  }

  // Dendrites that end inside the stack: cut at 30-70% of the run through it, the rest gone (the capsules end
  // round). A tip stays clear of every other dendrite (kTipClearUm between the tip's surface and theirs): real
  // dendrites do not end inside one another, and a tip that does is not in the image to be found.
  for (std::size_t k = 0; k < dendrites.size() && cfg.ends_inside_fraction > 0; ++k) {
    if (rng.uniform(0.0, 1.0) >= cfg.ends_inside_fraction) continue;
    Dendrite& d = dendrites[k];
    const bool at_end = rng.uniform(0.0, 1.0) < 0.5;
    const std::size_t run = d.in_end - d.in_begin;
    for (int attempt = 0; attempt < 20; ++attempt) {
      const std::size_t cut = d.in_begin + static_cast<std::size_t>(rng.uniform(0.3, 0.7) * static_cast<double>(run));
      bool clear = true;
      for (std::size_t o = 0; o < dendrites.size() && clear; ++o)
        if (o != k && surface_distance(dendrites[o], d.c[cut]) - d.r[cut] < kTipClearUm) clear = false;
      if (!clear) continue;
      if (at_end) {
        d.c.resize(cut + 1), d.r.resize(cut + 1);
        d.in_end = cut + 1;
        d.tip_at_end = true;
      } else {
        d.c.erase(d.c.begin(), d.c.begin() + static_cast<long>(cut));
        d.r.erase(d.r.begin(), d.r.begin() + static_cast<long>(cut));
        d.in_end -= cut, d.in_begin = 0;
        d.tip_at_begin = true;
      }
      break;
    }
  }

  // Spines: bases along each dendrite at least min_spine_gap_um apart, mean density spine_density_per_um.
  std::vector<SpineBuild> spines;
  if (cfg.spine_density_per_um > 0) {
    const double mean_gap = 1.0 / cfg.spine_density_per_um;
    const double excess = std::max(mean_gap - cfg.min_spine_gap_um, 0.25 * cfg.min_spine_gap_um);
    for (std::size_t k = 0; k < dendrites.size(); ++k) {
      const Dendrite& d = dendrites[k];
      // Not within kTipClearUm of a tip: a spine there would stand off the round end.
      double s = d.in_begin * kStepUm + (d.tip_at_begin ? kTipClearUm : 0.0) + rng.uniform(0.0, mean_gap);
      const double s_end = (d.in_end - 1) * kStepUm - (d.tip_at_end ? kTipClearUm : 0.0);
      for (; s < s_end; s += cfg.min_spine_gap_um + rng.exponential(excess)) {
        const std::size_t i = static_cast<std::size_t>(std::lround(s / kStepUm));
        const char* type = draw_type(rng);
        for (int attempt = 0; attempt < kSpineTries; ++attempt) {
          SpineBuild sb = make_spine(rng, d, i, type);
          if (!spine_fits(sb, bounds, dendrites, k, i, spines)) continue;
          sb.truth.dendrite_id = static_cast<int>(k) + 1;
          sb.truth.spine_id = static_cast<int>(spines.size()) + 1;
          spines.push_back(std::move(sb));
          break;
        }
      }
    }
  }

  // Puncta: bright balls far from every dendrite and spine.
  std::vector<PunctumTruth> puncta;
  for (int attempt = 0; attempt < 400 * cfg.puncta && static_cast<int>(puncta.size()) < cfg.puncta; ++attempt) {
    const double dia = rng.uniform(0.3, 0.6), r = dia / 2;
    const V3 c(rng.uniform(0.5, bounds.x - 0.5), rng.uniform(0.5, bounds.y - 0.5),
               rng.uniform(std::min(0.5, bounds.z / 2), std::max(bounds.z / 2, bounds.z - 0.5)));
    bool ok = true;
    for (const Dendrite& d : dendrites)
      if (surface_distance(d, c) - r < kPunctumDendriteUm) ok = false;
    for (std::size_t n = 0; n < spines.size() && ok; ++n)
      for (std::size_t q = 0; q < spines[n].sphere_c.size() && ok; ++q)
        if ((c - spines[n].sphere_c[q]).norm() - spines[n].sphere_r[q] - r < kPunctumSpineUm) ok = false;
    for (const PunctumTruth& p : puncta)
      if ((c - V3(p.centre)).norm() - r - p.diameter_um / 2 < 1.0) ok = false;
    if (ok) puncta.push_back(PunctumTruth{c.point(), dia});
  }

  // Scene and truth.
  Scene scene;
  GeneratedStack out;
  for (std::size_t k = 0; k < dendrites.size(); ++k) {
    const Dendrite& d = dendrites[k];
    Tube tube;
    tube.brightness = d.brightness;
    const std::size_t stride = static_cast<std::size_t>(std::lround(kTubeNodeUm / kStepUm));
    for (std::size_t i = 0; i < d.c.size(); i += stride) {
      tube.points.push_back(d.c[i].point());
      tube.radii_um.push_back(d.r[i]);
    }
    if (d.tip_at_end && (d.c.size() - 1) % stride != 0) {  // the tip is the last capsule's end
      tube.points.push_back(d.c.back().point());
      tube.radii_um.push_back(d.r.back());
    }
    scene.tubes.push_back(std::move(tube));

    // The truth runs from where the centerline enters the stack (or from its tip) to where it leaves (or to its
    // tip: one radius inside the round end).
    DendriteTruth t;
    t.dendrite_id = static_cast<int>(k) + 1;
    if (!d.tip_at_begin) {
      t.centerline.push_back(clip_to_bounds(bounds, d.c[d.in_begin], d.c[d.in_begin - 1]).point());
      t.radii_um.push_back(d.r[d.in_begin]);
    }
    double radius_sum = 0.0;
    for (std::size_t i = d.in_begin; i < d.in_end; ++i) {
      t.centerline.push_back(d.c[i].point());
      t.radii_um.push_back(d.r[i]);
      radius_sum += d.r[i];
    }
    if (!d.tip_at_end) {
      t.centerline.push_back(clip_to_bounds(bounds, d.c[d.in_end - 1], d.c[d.in_end]).point());
      t.radii_um.push_back(d.r[d.in_end - 1]);
    }
    for (std::size_t i = 1; i < t.centerline.size(); ++i)
      t.length_um += (V3(t.centerline[i]) - V3(t.centerline[i - 1])).norm();
    t.mean_radius_um = radius_sum / static_cast<double>(d.in_end - d.in_begin);
    out.dendrites.push_back(std::move(t));
  }
  for (SpineBuild& s : spines) {
    for (Tube& t : s.tubes) scene.tubes.push_back(std::move(t));
    for (Ball& b : s.balls) scene.balls.push_back(b);
    out.spines.push_back(std::move(s.truth));
  }
  for (const PunctumTruth& p : puncta) scene.balls.push_back(Ball{p.centre, p.diameter_um / 2, rng.uniform(2.0, 4.0)});
  out.puncta = std::move(puncta);
  out.image = render_scene(scene, im);
  return out;
}

namespace {
std::string number_or_empty(double v) { return std::isnan(v) ? std::string() : format_number(v, 7); }
}  // namespace

void write_generated(const std::string& prefix, const GeneratedStack& stack) {
  write_imagej_tiff(prefix + ".tif", stack.image);

  std::string s =
      "spine_id,dendrite_id,type,x_um,y_um,z_um,base_x_um,base_y_um,base_z_um,head_diameter_um,neck_length_um,"
      "neck_width_um,length_um\n";
  for (const SpineTruth& t : stack.spines) {
    s += std::to_string(t.spine_id) + "," + std::to_string(t.dendrite_id) + "," + csv_field(t.type);
    for (double v : {t.head.x_um, t.head.y_um, t.head.z_um, t.base.x_um, t.base.y_um, t.base.z_um, t.head_diameter_um,
                     t.neck_length_um, t.neck_width_um, t.length_um})
      s += "," + number_or_empty(v);
    s += "\n";
  }
  write_file_atomic(prefix + ".spines.csv", s);

  std::string d = "dendrite_id,length_um,mean_radius_um\n";
  std::string c = "dendrite_id,x_um,y_um,z_um\n";
  for (const DendriteTruth& t : stack.dendrites) {
    d += std::to_string(t.dendrite_id) + "," + number_or_empty(t.length_um) + "," + number_or_empty(t.mean_radius_um) +
         "\n";
    for (const PointUm& p : t.centerline)
      c += std::to_string(t.dendrite_id) + "," + format_number(p.x_um, 7) + "," + format_number(p.y_um, 7) + "," +
           format_number(p.z_um, 7) + "\n";
  }
  write_file_atomic(prefix + ".dendrites.csv", d);
  write_file_atomic(prefix + ".centerline.csv", c);

  std::string p = "x_um,y_um,z_um,diameter_um\n";
  for (const PunctumTruth& t : stack.puncta)
    p += format_number(t.centre.x_um, 7) + "," + format_number(t.centre.y_um, 7) + "," +
         format_number(t.centre.z_um, 7) + "," + format_number(t.diameter_um, 7) + "\n";
  write_file_atomic(prefix + ".puncta.csv", p);
}

}  // namespace spinescope::gen
