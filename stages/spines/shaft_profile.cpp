#include "stages/spines/shaft_profile.hpp"

#include "spinescope/vec3.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace spinescope::stages::spines {

namespace {

constexpr double kRayStepUm = 0.04;
constexpr double kCentreWindowUm = 0.2;  // the reference brightness is the brightest sample this close to the node
constexpr double kMinReference = 0.05;   // below this (preprocessed units) the node is not on a visible shaft
constexpr double kMinRadiusUm = 0.05;
constexpr double kTrimFraction = 1.0 / 3.0;  // ray pairs dropped as spines before the final fit
constexpr double kSpineExcessUm = 0.12;  // a ray whose foreground reaches this far beyond the fit (plus a share of
constexpr double kQuantumShare = 0.6;    // the voxel's size along the ray) runs into a spine
constexpr double kNearUm = 0.6;          // given-mask voxels this far outside a tube (and inside none) are dropped
constexpr int kFlankRays = 2;            // a spine's flank: rays this close to a spine ray that reach beyond the
constexpr double kFlankShare = 0.5;      // fit by this share of the tolerance

using V3 = Vec3;

V3 v3(const DendriteNode& n) { return {n.x_um, n.y_um, n.z_um}; }

// Trilinear interpolation of @p pre at @p p (µm); 0 outside the stack.
double sample(const VolumeF& pre, const V3& p) {
  const Spacing& s = pre.spacing();
  const double fx = p.x / s.x_um, fy = p.y / s.y_um, fz = p.z / s.z_um;
  const long i = static_cast<long>(std::floor(fx)), j = static_cast<long>(std::floor(fy)),
             k = static_cast<long>(std::floor(fz));
  const long nx = static_cast<long>(pre.nx()), ny = static_cast<long>(pre.ny()), nz = static_cast<long>(pre.nz());
  const double ax = fx - i, ay = fy - j, az = fz - k;
  double sum = 0;
  for (int c = 0; c < 2; ++c)
    for (int b = 0; b < 2; ++b)
      for (int a = 0; a < 2; ++a) {
        const long x = i + a, y = j + b, z = k + c;
        if (x < 0 || y < 0 || z < 0 || x >= nx || y >= ny || z >= nz) continue;
        const double w = (a ? ax : 1 - ax) * (b ? ay : 1 - ay) * (c ? az : 1 - az);
        sum += w * pre(static_cast<std::size_t>(x), static_cast<std::size_t>(y), static_cast<std::size_t>(z));
      }
  return sum;
}

// Unit axis at node @p n of @p nodes and the in-plane basis: e_axial is the optical axis projected into the
// perpendicular plane (any perpendicular when the dendrite runs along z), e_lateral completes it.
void frame(const std::vector<DendriteNode>& nodes, std::size_t n, V3* axis, V3* e_lateral, V3* e_axial) {
  V3 t{1, 0, 0};
  if (nodes.size() > 1) {
    const V3 d = v3(nodes[std::min(n + 1, nodes.size() - 1)]) - v3(nodes[n == 0 ? 0 : n - 1]);
    if (d.norm() > 1e-9) t = d * (1.0 / d.norm());
  }
  V3 ez = V3{0, 0, 1} - t * t.z;
  if (ez.norm() < 0.3) ez = V3{1, 0, 0} - t * t.x;
  ez = ez * (1.0 / ez.norm());
  *axis = t;
  *e_axial = ez;
  *e_lateral = t.cross(ez);
}

// Robust ellipse through per-ray radii @p r (-1: the ray never left the shaft, a spine): opposite rays give a
// diameter that does not depend on where the node sits; the ellipse cos^2/l^2 + sin^2/z^2 = 1/h^2 is fitted to
// the half-diameters by least squares, the pairs farthest outside it (spines) dropped, and refitted. Also the
// least-squares offset of the centre (in the lateral/axial basis). False when too few rays are usable.
bool fit_section(const std::vector<double>& r, const std::vector<V3>& dir, const V3& el, const V3& ez,
                 double reach_um, double* lateral_um, double* axial_um, double* off_l, double* off_z) {
  const int rays = static_cast<int>(r.size());
  struct Pair {
    double c2, s2, inv_h2, shift;
    int ray;
  };
  std::vector<Pair> pairs;
  for (int q = 0; q < rays / 2; ++q) {
    const double a = r[q], b = r[q + rays / 2];
    if (a < 0 || b < 0) continue;
    const double h = std::max(kMinRadiusUm, 0.5 * (a + b));
    const double cl = dir[q].dot(el), cz = dir[q].dot(ez);
    pairs.push_back({cl * cl, cz * cz, 1.0 / (h * h), 0.5 * (a - b), q});
  }
  if (pairs.size() < 3) return false;
  const double max_inv = 1.0 / (kMinRadiusUm * kMinRadiusUm), min_inv = 1.0 / (reach_um * reach_um);
  auto fit = [&](const std::vector<Pair>& ps, double* A, double* B) {
    double s11 = 0, s12 = 0, s22 = 0, t1 = 0, t2 = 0;
    for (const Pair& q : ps) {
      s11 += q.c2 * q.c2, s12 += q.c2 * q.s2, s22 += q.s2 * q.s2;
      t1 += q.c2 * q.inv_h2, t2 += q.s2 * q.inv_h2;
    }
    const double det = s11 * s22 - s12 * s12;
    if (std::abs(det) < 1e-12 * std::max(1.0, s11 * s22)) {
      double mean = 0;
      for (const Pair& q : ps) mean += q.inv_h2;
      *A = *B = mean / static_cast<double>(ps.size());
    } else {
      *A = (t1 * s22 - t2 * s12) / det;
      *B = (s11 * t2 - s12 * t1) / det;
    }
    *A = std::clamp(*A, min_inv, max_inv), *B = std::clamp(*B, min_inv, max_inv);
  };
  double A, B;
  fit(pairs, &A, &B);
  // Smallest inv_h2 relative to the model = farthest outside = most likely a spine.
  std::stable_sort(pairs.begin(), pairs.end(), [&](const Pair& x, const Pair& y) {
    return x.inv_h2 / (x.c2 * A + x.s2 * B) > y.inv_h2 / (y.c2 * A + y.s2 * B);
  });
  const std::size_t drop = static_cast<std::size_t>(kTrimFraction * static_cast<double>(pairs.size()));
  pairs.resize(std::max<std::size_t>(3, pairs.size() - drop));
  fit(pairs, &A, &B);
  *lateral_um = 1.0 / std::sqrt(A);
  *axial_um = 1.0 / std::sqrt(B);
  double m11 = 0, m12 = 0, m22 = 0, b1 = 0, b2 = 0;
  for (const Pair& q : pairs) {
    const double cl = dir[q.ray].dot(el), cz = dir[q.ray].dot(ez);
    m11 += cl * cl, m12 += cl * cz, m22 += cz * cz, b1 += cl * q.shift, b2 += cz * q.shift;
  }
  const double det = m11 * m22 - m12 * m12;
  *off_l = *off_z = 0;
  if (det > 1e-9) {
    *off_l = (b1 * m22 - b2 * m12) / det;
    *off_z = (m11 * b2 - m12 * b1) / det;
  }
  return true;
}

// The cross-section at one node from the half-maximum crossing and the foreground boundary along each ray.
ShaftSection measure_node(const VolumeF& pre, const VolumeU8& fg, const std::vector<DendriteNode>& nodes,
                          std::size_t n, const ShaftProfileParams& p) {
  const DendriteNode& node = nodes[n];
  const int rays = std::max(8, p.rays - p.rays % 2);
  const ShaftSection fallback{{node.x_um, node.y_um, node.z_um}, node.radius_um, node.radius_um,
                              std::vector<double>(static_cast<std::size_t>(rays), node.radius_um)};
  V3 axis, el, ez;
  frame(nodes, n, &axis, &el, &ez);
  const V3 c = v3(node);
  const int steps = static_cast<int>(std::ceil(p.reach_um / kRayStepUm));
  const Spacing& sp = pre.spacing();
  const long nx = static_cast<long>(pre.nx()), ny = static_cast<long>(pre.ny()), nz = static_cast<long>(pre.nz());
  std::vector<std::vector<double>> profile(static_cast<std::size_t>(rays), std::vector<double>(steps + 1));
  std::vector<double> r_fg(static_cast<std::size_t>(rays), -1.0);
  std::vector<V3> dir(static_cast<std::size_t>(rays));
  double reference = 0;
  for (int q = 0; q < rays; ++q) {
    const double theta = 2.0 * M_PI * q / rays;
    dir[q] = el * std::cos(theta) + ez * std::sin(theta);
    // The foreground's end along the ray.
    double last_in = -1.0;
    bool ended = false;
    for (int s = 0; s <= steps; ++s) {
      const V3 at = c + dir[q] * (s * kRayStepUm);
      profile[q][s] = sample(pre, at);
      if (s * kRayStepUm <= kCentreWindowUm) reference = std::max(reference, profile[q][s]);
      if (ended) continue;
      const long i = std::lround(at.x / sp.x_um), j = std::lround(at.y / sp.y_um), k = std::lround(at.z / sp.z_um);
      const bool in = i >= 0 && j >= 0 && k >= 0 && i < nx && j < ny && k < nz &&
                      fg(static_cast<std::size_t>(i), static_cast<std::size_t>(j), static_cast<std::size_t>(k));
      if (in) last_in = s * kRayStepUm;
      else ended = true;
    }
    if (ended) r_fg[q] = std::max(0.0, last_in + 0.5 * kRayStepUm);
  }
  if (reference < kMinReference) return fallback;
  const double half = 0.5 * reference;
  std::vector<double> r(static_cast<std::size_t>(rays), -1.0);
  for (int q = 0; q < rays; ++q)
    for (int s = 1; s <= steps; ++s)
      if (profile[q][s] < half) {
        const double a = profile[q][s - 1], b = profile[q][s];
        const double f = a > b ? std::clamp((a - half) / (a - b), 0.0, 1.0) : 1.0;
        r[q] = (s - 1 + f) * kRayStepUm;
        break;
      }
  ShaftSection out;
  double ol, oz;
  if (!fit_section(r, dir, el, ez, p.reach_um, &out.lateral_um, &out.axial_um, &ol, &oz)) return fallback;
  // The mask must hold the shaft's whole foreground (else its rim becomes protrusions): each ray's own
  // foreground boundary (never inside the half-maximum), except where it runs far beyond the robust fit of all
  // rays' boundaries: a spine, which gets the fit's radius.
  for (int q = 0; q < rays; ++q)
    if (r_fg[q] >= 0 && r[q] >= 0) r_fg[q] = std::max(r_fg[q], r[q]);
  double fl, fz, unused_l, unused_z;
  if (!fit_section(r_fg, dir, el, ez, p.reach_um, &fl, &fz, &unused_l, &unused_z))
    fl = out.lateral_um, fz = out.axial_um;
  // A spine's flanks: rays next to a spine ray (hysteresis, up to kFlankRays away) that still reach a little
  // beyond the fit.
  std::vector<double> model(static_cast<std::size_t>(rays)), tolerance(static_cast<std::size_t>(rays));
  std::vector<char> spine(static_cast<std::size_t>(rays));
  for (int q = 0; q < rays; ++q) {
    const double cl = dir[q].dot(el), cz = dir[q].dot(ez);
    model[q] = 1.0 / std::sqrt(cl * cl / (fl * fl) + cz * cz / (fz * fz));
    // The foreground's edge is quantised by the voxel: along z by up to a whole (coarse) z step.
    const double quantum = std::abs(dir[q].z) * sp.z_um;
    tolerance[q] = kSpineExcessUm + kQuantumShare * quantum;
    spine[q] = r_fg[q] < 0 || r_fg[q] > model[q] + tolerance[q];
  }
  std::vector<char> flank = spine;
  for (int q = 0; q < rays; ++q) {
    if (spine[q]) continue;
    for (int d = 1; d <= kFlankRays && !flank[q]; ++d)
      if (spine[(q + d) % rays] || spine[(q + rays - d) % rays])
        flank[q] = r_fg[q] > model[q] + kFlankShare * tolerance[q];
  }
  out.mask_radius_um.resize(static_cast<std::size_t>(rays));
  for (int q = 0; q < rays; ++q) out.mask_radius_um[q] = flank[q] ? model[q] : r_fg[q];
  const double o = std::sqrt(ol * ol + oz * oz), cap = out.lateral_um;
  if (o > cap) ol *= cap / o, oz *= cap / o;
  const V3 centre = c + el * ol + ez * oz;
  out.centre = {centre.x, centre.y, centre.z};
  return out;
}

double median(std::vector<double> v) {
  const std::size_t m = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + m, v.end());
  return v[m];
}

struct Tube {
  V3 a, b;
  const std::vector<double>* ra;  // per-ray radii at a and b (same ray count)
  const std::vector<double>* rb;
  double margin_um;
};

// Marks the voxels of @p shaft or @p fg inside a tube (1) or near one but inside none so far (2). A voxel's
// radius limit is interpolated between the two neighbouring rays and between the tube's ends. Serial over
// [k0, k1).
void tube_slab(const VolumeU8& shaft, const VolumeU8& fg, const std::vector<Tube>& tubes, double reach_um, long k0,
               long k1, VolumeU8* state) {
  const Spacing& s = shaft.spacing();
  const long nx = static_cast<long>(shaft.nx()), ny = static_cast<long>(shaft.ny());
  for (const Tube& t : tubes) {
    const int rays = static_cast<int>(t.ra->size());
    const double widest = std::max(*std::max_element(t.ra->begin(), t.ra->end()),
                                   *std::max_element(t.rb->begin(), t.rb->end())) + t.margin_um;
    const double narrowest = std::min(*std::min_element(t.ra->begin(), t.ra->end()),
                                      *std::min_element(t.rb->begin(), t.rb->end())) + t.margin_um;
    const double outer = std::min(reach_um, widest + kNearUm);
    const long ka = std::max(k0, static_cast<long>(std::ceil((std::min(t.a.z, t.b.z) - outer) / s.z_um))),
               kb = std::min(k1 - 1, static_cast<long>(std::floor((std::max(t.a.z, t.b.z) + outer) / s.z_um)));
    if (ka > kb) continue;
    const long ia = std::max(0L, static_cast<long>(std::ceil((std::min(t.a.x, t.b.x) - outer) / s.x_um))),
               ib = std::min(nx - 1, static_cast<long>(std::floor((std::max(t.a.x, t.b.x) + outer) / s.x_um)));
    const long ja = std::max(0L, static_cast<long>(std::ceil((std::min(t.a.y, t.b.y) - outer) / s.y_um))),
               jb = std::min(ny - 1, static_cast<long>(std::floor((std::max(t.a.y, t.b.y) + outer) / s.y_um)));
    const V3 u = t.b - t.a;
    const double len2 = u.dot(u);
    const V3 axis = len2 > 1e-18 ? u * (1.0 / std::sqrt(len2)) : V3{1, 0, 0};
    V3 ez = V3{0, 0, 1} - axis * axis.z;
    if (ez.norm() < 0.3) ez = V3{1, 0, 0} - axis * axis.x;
    ez = ez * (1.0 / ez.norm());
    const V3 el = axis.cross(ez);
    for (long k = ka; k <= kb; ++k)
      for (long j = ja; j <= jb; ++j) {
        const std::size_t row = (static_cast<std::size_t>(k) * ny + j) * nx;
        for (long i = ia; i <= ib; ++i) {
          const std::size_t v = row + i;
          if ((!shaft[v] && !fg[v]) || (*state)[v] == 1) continue;
          const V3 p = V3{i * s.x_um, j * s.y_um, k * s.z_um} - t.a;
          const double f = len2 > 1e-18 ? std::clamp(p.dot(u) / len2, 0.0, 1.0) : 0.0;
          const V3 w = p - u * f;
          const double w2 = w.dot(w);
          if (w2 > outer * outer) continue;
          // Most voxels are clearly inside or outside: the angle is needed only in between.
          if (w2 <= narrowest * narrowest) {
            (*state)[v] = 1;
            continue;
          }
          if (w2 > widest * widest) {
            (*state)[v] = 2;
            continue;
          }
          double angle = std::atan2(w.dot(ez), w.dot(el));
          if (angle < 0) angle += 2.0 * M_PI;
          const double pos = angle / (2.0 * M_PI) * rays;
          const int q0 = static_cast<int>(pos) % rays, q1 = (q0 + 1) % rays;
          const double g = pos - std::floor(pos);
          const double at_a = (*t.ra)[q0] + g * ((*t.ra)[q1] - (*t.ra)[q0]);
          const double at_b = (*t.rb)[q0] + g * ((*t.rb)[q1] - (*t.rb)[q0]);
          const double limit = at_a + f * (at_b - at_a) + t.margin_um;
          (*state)[v] = w2 <= limit * limit ? 1 : 2;
        }
      }
  }
}

}  // namespace

std::vector<std::vector<ShaftSection>> shaft_sections(const VolumeF& pre, const VolumeU8& fg,
                                                      const DendriteGraph& graph, const ShaftProfileParams& p) {
  std::vector<std::vector<ShaftSection>> out(graph.branches.size());
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, graph.branches.size(), 1),
                    [&](const tbb::blocked_range<std::size_t>& range) {
    for (std::size_t b = range.begin(); b < range.end(); ++b) {
      const auto& nodes = graph.branches[b].nodes;
      std::vector<ShaftSection> raw(nodes.size());
      for (std::size_t n = 0; n < nodes.size(); ++n) raw[n] = measure_node(pre, fg, nodes, n, p);
      // Median along the branch over smooth_um of arc length (radii and the recentring offsets).
      std::vector<double> arc(nodes.size(), 0.0);
      for (std::size_t n = 1; n < nodes.size(); ++n) arc[n] = arc[n - 1] + (v3(nodes[n]) - v3(nodes[n - 1])).norm();
      auto& sm = out[b];
      sm.resize(nodes.size());
      std::size_t lo = 0, hi = 0;
      for (std::size_t n = 0; n < nodes.size(); ++n) {
        while (arc[n] - arc[lo] > 0.5 * p.smooth_um) ++lo;
        while (hi + 1 < nodes.size() && arc[hi + 1] - arc[n] <= 0.5 * p.smooth_um) ++hi;
        std::vector<double> l, z, ox, oy, oz;
        for (std::size_t m = lo; m <= hi; ++m) {
          l.push_back(raw[m].lateral_um), z.push_back(raw[m].axial_um);
          ox.push_back(raw[m].centre.x_um - nodes[m].x_um), oy.push_back(raw[m].centre.y_um - nodes[m].y_um);
          oz.push_back(raw[m].centre.z_um - nodes[m].z_um);
        }
        sm[n].lateral_um = median(l), sm[n].axial_um = median(z);
        sm[n].mask_radius_um.resize(raw[n].mask_radius_um.size());
        std::vector<double> ray;
        for (std::size_t q = 0; q < raw[n].mask_radius_um.size(); ++q) {
          ray.clear();
          for (std::size_t m = lo; m <= hi; ++m) ray.push_back(raw[m].mask_radius_um[q]);
          sm[n].mask_radius_um[q] = median(ray);
        }
        sm[n].centre = {nodes[n].x_um + median(ox), nodes[n].y_um + median(oy), nodes[n].z_um + median(oz)};
      }
    }
  });
  return out;
}

VolumeU8 robust_shaft_mask(const VolumeU8& shaft, const VolumeU8& fg, const DendriteGraph& graph,
                           const std::vector<std::vector<ShaftSection>>& sections, const ShaftProfileParams& p) {
  std::vector<Tube> tubes;
  for (std::size_t b = 0; b < graph.branches.size() && b < sections.size(); ++b) {
    const auto& sec = sections[b];
    for (std::size_t n = 0; n < sec.size(); ++n) {
      if (sec.size() > 1 && n + 1 == sec.size()) break;
      const ShaftSection& x = sec[n];
      const ShaftSection& y = sec.size() > 1 ? sec[n + 1] : sec[n];
      const auto& nodes = graph.branches[b].nodes;
      const DendriteNode& na = nodes[n];
      const DendriteNode& nb = sec.size() > 1 ? nodes[n + 1] : nodes[n];
      if (x.mask_radius_um.empty() || x.mask_radius_um.size() != y.mask_radius_um.size()) continue;
      tubes.push_back({v3(na), v3(nb), &x.mask_radius_um, &y.mask_radius_um, p.margin_um});
    }
  }
  VolumeU8 state(shaft.nx(), shaft.ny(), shaft.nz(), shaft.spacing(), std::uint8_t{0});
  const long nz = static_cast<long>(shaft.nz());
  tbb::parallel_for(tbb::blocked_range<long>(0, nz, 1), [&](const tbb::blocked_range<long>& r) {
    tube_slab(shaft, fg, tubes, p.reach_um, r.begin(), r.end(), &state);
    // Inside a tube: shaft. Near a tube but inside none: a spine's part of the given mask, dropped. Far from
    // every tube: the given mask as it is (what the graph does not trace).
    for (long k = r.begin(); k < r.end(); ++k) {
      std::uint8_t* s = state.slice(static_cast<std::size_t>(k));
      const std::uint8_t* m = shaft.slice(static_cast<std::size_t>(k));
      for (std::size_t v = 0; v < shaft.plane_size(); ++v) s[v] = s[v] == 1 || (m[v] && s[v] == 0);
    }
  });
  return state;
}

}  // namespace spinescope::stages::spines
