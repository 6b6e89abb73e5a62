#include "stages/dendrites/shaft.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace spinescope::stages::dendrites {
namespace {

struct P3 {
  double x, y, z;
};
P3 sub(P3 a, P3 b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
double dot3(P3 a, P3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
P3 cross3(P3 a, P3 b) { return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x}; }
P3 unit3(P3 a) {
  const double n = std::sqrt(dot3(a, a));
  return n > 1e-12 ? P3{a.x / n, a.y / n, a.z / n} : P3{1, 0, 0};
}

// Whether the point lies within the stack (voxel centres 0 .. n - 1).
bool inside(const Volume<float>& v, double x_um, double y_um, double z_um) {
  const Spacing& s = v.spacing();
  return x_um >= 0.0 && y_um >= 0.0 && z_um >= 0.0 && x_um <= (v.nx() - 1) * s.x_um &&
         y_um <= (v.ny() - 1) * s.y_um && z_um <= (v.nz() - 1) * s.z_um;
}

// Trilinear sample at a point in µm (clamped to the volume).
float sample(const Volume<float>& v, double x_um, double y_um, double z_um) {
  const Spacing& s = v.spacing();
  auto split = [](double u, std::size_t n, long* i0, double* f) {
    u = std::clamp(u, 0.0, static_cast<double>(n - 1));
    *i0 = std::min(static_cast<long>(u), static_cast<long>(n) - 2 < 0 ? 0L : static_cast<long>(n) - 2);
    *f = u - *i0;
  };
  long i, j, k;
  double fx, fy, fz;
  split(x_um / s.x_um, v.nx(), &i, &fx);
  split(y_um / s.y_um, v.ny(), &j, &fy);
  split(z_um / s.z_um, v.nz(), &k, &fz);
  const long i1 = std::min<long>(i + 1, v.nx() - 1), j1 = std::min<long>(j + 1, v.ny() - 1),
             k1 = std::min<long>(k + 1, v.nz() - 1);
  auto lerp = [](double a, double b, double t) { return a + t * (b - a); };
  const double c00 = lerp(v(i, j, k), v(i1, j, k), fx), c10 = lerp(v(i, j1, k), v(i1, j1, k), fx);
  const double c01 = lerp(v(i, j, k1), v(i1, j, k1), fx), c11 = lerp(v(i, j1, k1), v(i1, j1, k1), fx);
  return static_cast<float>(lerp(lerp(c00, c10, fy), lerp(c01, c11, fy), fz));
}

// Distance along @p dir from @p p where the intensity first drops below @p level (linear between samples).
double crossing(const Volume<float>& v, P3 p, P3 dir, double level, double max_um, double step) {
  double prev = sample(v, p.x, p.y, p.z);
  for (double s = step; s <= max_um; s += step) {
    const double cur = sample(v, p.x + s * dir.x, p.y + s * dir.y, p.z + s * dir.z);
    if (cur < level) return prev > cur ? s - step + step * (prev - level) / (prev - cur) : s;
    prev = cur;
  }
  return max_um;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<double> smooth_along(const std::vector<double>& r, int half) {
  std::vector<double> out(r.size());
  for (long n = 0; n < static_cast<long>(r.size()); ++n) {
    double sum = 0.0;
    int count = 0;
    for (long m = std::max(0L, n - half); m <= std::min<long>(r.size() - 1, n + half); ++m, ++count) sum += r[m];
    out[n] = sum / count;
  }
  return out;
}

}  // namespace

std::vector<std::vector<double>> measure_radii(DendriteGraph& graph, const Volume<float>& intensity,
                                               double foreground_threshold, double max_radius_um) {
  std::vector<std::vector<double>> fg_radii(graph.branches.size());
  const double step = 0.25 * std::min({intensity.spacing().x_um, intensity.spacing().y_um, intensity.spacing().z_um});
  constexpr int kDirections = 12;
  tbb::parallel_for(std::size_t{0}, graph.branches.size(), [&](std::size_t b) {
    auto& nodes = graph.branches[b].nodes;
    const long n_nodes = static_cast<long>(nodes.size());
    std::vector<double> half_max(n_nodes), fg(n_nodes);
    for (long n = 0; n < n_nodes; ++n) {
      const auto& a = nodes[std::max(0L, n - 1)];
      const auto& c = nodes[std::min(n_nodes - 1, n + 1)];
      const P3 t = unit3({c.x_um - a.x_um, c.y_um - a.y_um, c.z_um - a.z_um});
      const P3 helper = std::abs(t.z) < 0.9 ? P3{0, 0, 1} : P3{1, 0, 0};
      const P3 n1 = unit3(cross3(t, helper)), n2 = cross3(t, n1);
      const P3 p{nodes[n].x_um, nodes[n].y_um, nodes[n].z_um};
      // The peak near the node: the centerline may sit a little off the brightest line.
      double peak = sample(intensity, p.x, p.y, p.z);
      for (int d = 0; d < kDirections; ++d) {
        const double th = 2.0 * 3.14159265358979 * d / kDirections;
        const P3 u{std::cos(th) * n1.x + std::sin(th) * n2.x, std::cos(th) * n1.y + std::sin(th) * n2.y,
                   std::cos(th) * n1.z + std::sin(th) * n2.z};
        peak = std::max<double>(peak, sample(intensity, p.x + 0.1 * u.x, p.y + 0.1 * u.y, p.z + 0.1 * u.z));
      }
      std::vector<double> rh, rf;
      for (int d = 0; d < kDirections; ++d) {
        const double th = 2.0 * 3.14159265358979 * d / kDirections;
        const P3 u{std::cos(th) * n1.x + std::sin(th) * n2.x, std::cos(th) * n1.y + std::sin(th) * n2.y,
                   std::cos(th) * n1.z + std::sin(th) * n2.z};
        rh.push_back(crossing(intensity, p, u, 0.5 * peak, max_radius_um, step));
        rf.push_back(crossing(intensity, p, u, foreground_threshold, max_radius_um + 1.0, step));
      }
      half_max[n] = median(rh);
      fg[n] = median(rf);
    }
    const double node_step = n_nodes > 1 ? graph.branches[b].length_um() / (n_nodes - 1) : 1.0;
    const int half = std::max(1, static_cast<int>(std::lround(0.5 / std::max(node_step, 1e-3))));
    half_max = smooth_along(half_max, half);
    for (long n = 0; n < n_nodes; ++n) nodes[n].radius_um = half_max[n];
    fg_radii[b] = smooth_along(fg, half);
  });
  return fg_radii;
}

std::vector<std::vector<char>> nodes_near(const DendriteGraph& graph, const std::vector<PointUm>& points,
                                          double distance_um) {
  std::vector<std::vector<char>> out(graph.branches.size());
  const double d2 = distance_um * distance_um;
  for (std::size_t b = 0; b < graph.branches.size(); ++b) {
    const auto& nodes = graph.branches[b].nodes;
    out[b].assign(nodes.size(), 0);
    for (std::size_t n = 0; n < nodes.size() && !points.empty(); ++n)
      for (const PointUm& p : points) {
        const double dx = nodes[n].x_um - p.x_um, dy = nodes[n].y_um - p.y_um, dz = nodes[n].z_um - p.z_um;
        if (dx * dx + dy * dy + dz * dz <= d2) {
          out[b][n] = 1;
          break;
        }
      }
  }
  return out;
}

void refine_centerline(DendriteGraph& graph, const Volume<float>& intensity, double smoothing_um, int iterations,
                       const std::vector<std::vector<char>>& keep) {
  constexpr int kAngles = 16;
  constexpr double kRingUm = 0.05;
  std::array<double, kAngles> cos_k{}, sin_k{};  // the rays' directions in the section plane
  for (int k = 0; k < kAngles; ++k) {
    const double th = 2.0 * 3.14159265358979 * k / kAngles;
    cos_k[k] = std::cos(th), sin_k[k] = std::sin(th);
  }
  tbb::parallel_for(std::size_t{0}, graph.branches.size(), [&](std::size_t b) {
    auto& nodes = graph.branches[b].nodes;
    const long n_nodes = static_cast<long>(nodes.size());
    if (n_nodes < 3) return;
    const std::vector<char>* kept = b < keep.size() && keep[b].size() == nodes.size() ? &keep[b] : nullptr;
    std::vector<double> ray;
    for (int it = 0; it < iterations; ++it) {
      std::vector<P3> moved(n_nodes);
      for (long n = 0; n < n_nodes; ++n) {
        moved[n] = {nodes[n].x_um, nodes[n].y_um, nodes[n].z_um};
        if (n == 0 || n == n_nodes - 1 || (kept && (*kept)[n])) continue;
        const auto& a = nodes[n - 1];
        const auto& c = nodes[n + 1];
        const P3 t = unit3({c.x_um - a.x_um, c.y_um - a.y_um, c.z_um - a.z_um});
        const P3 helper = std::abs(t.z) < 0.9 ? P3{0, 0, 1} : P3{1, 0, 0};
        const P3 n1 = unit3(cross3(t, helper)), n2 = cross3(t, n1);
        const P3 p = moved[n];
        const double reach = std::max(1.3 * nodes[n].radius_um, 0.5);
        const int rings = static_cast<int>(std::floor(reach / kRingUm + 1e-9));
        // Samples per ray (angle-major); each ray counts only up to where it first falls below half the peak,
        // so the intensity of another dendrite beyond a dim gap does not pull the centroid.
        ray.assign(static_cast<std::size_t>(kAngles) * (rings + 1), 0.0);
        const double centre = sample(intensity, p.x, p.y, p.z);
        double peak = centre;
        std::array<int, kAngles> leaves_at{};  // each ray's first sample outside the stack (rings + 1: none)
        for (int k = 0; k < kAngles; ++k) {
          leaves_at[k] = rings + 1;
          for (int q = 1; q <= rings; ++q) {
            const double r = q * kRingUm, u = r * cos_k[k], v = r * sin_k[k];
            const double x = p.x + u * n1.x + v * n2.x, y = p.y + u * n1.y + v * n2.y, z = p.z + u * n1.z + v * n2.z;
            if (leaves_at[k] > rings && !inside(intensity, x, y, z)) leaves_at[k] = q;
            const double value = sample(intensity, x, y, z);
            ray[k * (rings + 1) + q] = value;
            peak = std::max(peak, value);
          }
        }
        const double half = 0.5 * peak;
        // A ray that leaves the stack while still above half the peak measures the image's border (sampling
        // repeats the last voxel), not the tube: it is left out, and so is its opposite, so that the rays kept come in
        // opposite pairs and a tube running along a face does not pull its centre out of the stack.
        std::array<char, kAngles> cut{};
        for (int k = 0; k < kAngles; ++k)
          for (int q = 1; q <= rings && ray[k * (rings + 1) + q] >= half; ++q)
            if (q >= leaves_at[k]) {
              cut[k] = cut[(k + kAngles / 2) % kAngles] = 1;
              break;
            }
        double su = 0.0, sv = 0.0, sw = std::max(0.0, centre - half) * 0.5 * kRingUm;
        for (int k = 0; k < kAngles; ++k) {
          if (cut[k]) continue;
          for (int q = 1; q <= rings; ++q) {
            const double value = ray[k * (rings + 1) + q];
            if (value < half) break;
            const double r = q * kRingUm, w = (value - half) * r;
            su += w * r * cos_k[k], sv += w * r * sin_k[k], sw += w;
          }
        }
        if (sw <= 0.0) continue;
        const double du = su / sw, dv = sv / sw;
        moved[n] = {p.x + du * n1.x + dv * n2.x, p.y + du * n1.y + dv * n2.y, p.z + du * n1.z + dv * n2.z};
      }
      // Kept runs follow a cubic between the refined nodes on either side (tangents from their neighbours).
      if (kept)
        for (long s0 = 1; s0 + 1 < n_nodes; ++s0) {
          if ((*kept)[s0] != 1) continue;
          long s1 = s0;
          while (s1 + 1 < n_nodes - 1 && (*kept)[s1 + 1] == 1) ++s1;
          const long a = s0 - 1, c = s1 + 1;
          const P3 pa = moved[a], pc = moved[c];
          const P3 ta = sub(pa, moved[std::max(0L, a - 1)]), tc = sub(moved[std::min(n_nodes - 1, c + 1)], pc);
          const double chord = std::sqrt(dot3(sub(pc, pa), sub(pc, pa)));
          const double la = std::sqrt(dot3(ta, ta)), lc = std::sqrt(dot3(tc, tc));
          const P3 m0 = la > 1e-9 ? P3{ta.x * chord / la, ta.y * chord / la, ta.z * chord / la} : sub(pc, pa);
          const P3 m1 = lc > 1e-9 ? P3{tc.x * chord / lc, tc.y * chord / lc, tc.z * chord / lc} : sub(pc, pa);
          for (long n = s0; n <= s1; ++n) {
            const double f = static_cast<double>(n - a) / (c - a), f2 = f * f, f3 = f2 * f;
            const double h00 = 2 * f3 - 3 * f2 + 1, h10 = f3 - 2 * f2 + f, h01 = -2 * f3 + 3 * f2, h11 = f3 - f2;
            moved[n] = {h00 * pa.x + h10 * m0.x + h01 * pc.x + h11 * m1.x, h00 * pa.y + h10 * m0.y + h01 * pc.y + h11 * m1.y,
                        h00 * pa.z + h10 * m0.z + h01 * pc.z + h11 * m1.z};
          }
          s0 = s1;
        }
      const double step = graph.branches[b].length_um() / (n_nodes - 1);
      const long half = std::lround(0.5 * smoothing_um / std::max(step, 1e-3));
      for (long n = 1; n + 1 < n_nodes; ++n) {
        const long h = std::min({half, n, n_nodes - 1 - n});
        P3 sum{0, 0, 0};
        for (long m = n - h; m <= n + h; ++m) sum = {sum.x + moved[m].x, sum.y + moved[m].y, sum.z + moved[m].z};
        const double f = 1.0 / (2 * h + 1);
        nodes[n].x_um = sum.x * f, nodes[n].y_um = sum.y * f, nodes[n].z_um = sum.z * f;
      }
    }
  });
}

Volume<std::uint8_t> rasterize_shaft(const DendriteGraph& graph, const std::vector<std::vector<double>>& radii_um,
                                     const Volume<std::uint8_t>& foreground, double margin_um) {
  struct Segment {
    P3 a, b;
    double ra, rb, z_lo, z_hi;
  };
  std::vector<Segment> segments;
  for (std::size_t b = 0; b < graph.branches.size(); ++b) {
    const auto& nodes = graph.branches[b].nodes;
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      const std::size_t m = std::min(n + 1, nodes.size() - 1);
      if (m == n && nodes.size() > 1) break;
      Segment s{{nodes[n].x_um, nodes[n].y_um, nodes[n].z_um},
                {nodes[m].x_um, nodes[m].y_um, nodes[m].z_um},
                radii_um[b][n] + margin_um,
                radii_um[b][m] + margin_um,
                0,
                0};
      const double r = std::max(s.ra, s.rb);
      s.z_lo = std::min(s.a.z, s.b.z) - r;
      s.z_hi = std::max(s.a.z, s.b.z) + r;
      segments.push_back(s);
    }
  }
  const Spacing sp = foreground.spacing();
  Volume<std::uint8_t> shaft(foreground.nx(), foreground.ny(), foreground.nz(), sp, 0);
  const long nx = static_cast<long>(foreground.nx()), ny = static_cast<long>(foreground.ny());
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, foreground.nz()), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t k = r.begin(); k != r.end(); ++k) {
      const double z = k * sp.z_um;
      for (const Segment& s : segments) {
        if (z < s.z_lo || z > s.z_hi) continue;
        const double rmax = std::max(s.ra, s.rb);
        const long i0 = std::max(0L, static_cast<long>(std::floor((std::min(s.a.x, s.b.x) - rmax) / sp.x_um)));
        const long i1 = std::min(nx - 1, static_cast<long>(std::ceil((std::max(s.a.x, s.b.x) + rmax) / sp.x_um)));
        const long j0 = std::max(0L, static_cast<long>(std::floor((std::min(s.a.y, s.b.y) - rmax) / sp.y_um)));
        const long j1 = std::min(ny - 1, static_cast<long>(std::ceil((std::max(s.a.y, s.b.y) + rmax) / sp.y_um)));
        const P3 ab = sub(s.b, s.a);
        const double len2 = dot3(ab, ab);
        for (long j = j0; j <= j1; ++j)
          for (long i = i0; i <= i1; ++i) {
            const std::size_t idx = foreground.index(i, j, k);
            if (!foreground[idx] || shaft[idx]) continue;
            const P3 ap = sub(P3{i * sp.x_um, j * sp.y_um, z}, s.a);
            const double t = len2 > 0 ? std::clamp(dot3(ap, ab) / len2, 0.0, 1.0) : 0.0;
            const P3 d{ap.x - t * ab.x, ap.y - t * ab.y, ap.z - t * ab.z};
            const double rad = s.ra + t * (s.rb - s.ra);
            if (dot3(d, d) <= rad * rad) shaft[idx] = 1;
          }
      }
    }
  });
  return shaft;
}

}  // namespace spinescope::stages::dendrites
