// Real morphology: closed surface meshes voxelised on the fine grid (crossing parity along x) and imaged
// through the same PSF and camera as the random scenes; spine truth from the annotated spine meshes.
#include <algorithm>
#include <boost/filesystem.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <queue>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "spinescope/errors.hpp"
#include "spinescope/io.hpp"
#include "tools/make_sample_stacks/generator.hpp"
#include "tools/make_sample_stacks/render.hpp"

namespace spinescope::gen {
namespace {

namespace fs = boost::filesystem;
using detail::Box;
using detail::FineBlock;
using detail::V3;

// Rays run at (y, z) = (j·f + kJitterY, k·f + kJitterZ): off every grid a mesh's rounded coordinates lie on,
// so a ray does not hit a vertex or an edge exactly.
constexpr double kJitterY = 3.1415926e-6, kJitterZ = 7.3890561e-6;
constexpr double kMeshMarginUm = 2.0;   // between the mesh and the stack's faces
constexpr double kCapGapUm = 0.05;      // spine faces whose centroid is farther than this from the surface: the cap
constexpr double kHeadFraction = 0.15;  // the head: vertices reaching at least 85% of the way out ...
constexpr double kHeadRadiusUm = 0.6;   // ... and within 0.6 µm of the farthest vertex
constexpr double kSpineClearUm = 0.4;   // shaft_aspect_ratio: shaft vertices are this far from every spine vertex
constexpr double kSectionThickUm = 0.3, kSectionStepUm = 0.5, kSectionEndUm = 1.0;
constexpr double kMinSectionWidthUm = 0.2, kMaxSectionWidthUm = 3.0;
constexpr double kCenterlineGridUm = 0.05;    // mesh_shaft_centerline: the shaft's points on this grid
constexpr int kCenterlineSmoothPasses = 60;   // (1, 2, 1) / 4 passes over its centerline points
constexpr double kMaxSpineLengthUm = 3.0;     // a side branch is dendrite when it reaches this far (#3's rule)
constexpr double kThinFraction = 0.5;  // ... and is not thinner than this fraction of the tree's median depth
constexpr double kCoverDepths = 2.0, kCoverUm = 0.3;  // a branch covers the shaft within 2 depths + 0.3 µm

/// Sorted x crossings of every fine row (y, z) over the mesh's (y, z) bounding box.
class MeshRows {
 public:
  MeshRows(const Mesh& mesh, double f) : f_(f) {
    if (mesh.vertices.empty() || mesh.triangles.empty()) return;
    double lo[3] = {1e300, 1e300, 1e300}, hi[3] = {-1e300, -1e300, -1e300};
    for (const PointUm& p : mesh.vertices) {
      const double c[3] = {p.x_um, p.y_um, p.z_um};
      for (int a = 0; a < 3; ++a) lo[a] = std::min(lo[a], c[a]), hi[a] = std::max(hi[a], c[a]);
    }
    for (int a = 0; a < 3; ++a) box_.lo[a] = lo[a] - f, box_.hi[a] = hi[a] + f;
    my0_ = static_cast<long>(std::floor(lo[1] / f)) - 1;
    mz0_ = static_cast<long>(std::floor(lo[2] / f)) - 1;
    ny_ = static_cast<std::size_t>(static_cast<long>(std::ceil(hi[1] / f)) + 1 - my0_ + 1);
    nz_ = static_cast<std::size_t>(static_cast<long>(std::ceil(hi[2] / f)) + 1 - mz0_ + 1);
    rows_.assign(ny_ * nz_, {});
    for (const auto& t : mesh.triangles) add_triangle(mesh, t);
    for (auto& r : rows_) std::sort(r.begin(), r.end());
    // A ray that still met an edge twice or slipped through a crack has an odd count: borrow a neighbour's.
    for (std::size_t k = 0; k < nz_; ++k)
      for (std::size_t j = 0; j < ny_; ++j) {
        auto& r = rows_[k * ny_ + j];
        if (r.size() % 2 == 0) continue;
        ++odd_rows_;
        const std::vector<double>* n = nullptr;
        if (j > 0 && rows_[k * ny_ + j - 1].size() % 2 == 0)
          n = &rows_[k * ny_ + j - 1];
        else if (k > 0 && rows_[(k - 1) * ny_ + j].size() % 2 == 0)
          n = &rows_[(k - 1) * ny_ + j];
        r = n ? *n : std::vector<double>{};
      }
  }

  const Box& box() const { return box_; }
  std::size_t odd_rows() const { return odd_rows_; }

  /// Calls @p visit(m, j, k) for every grid point (m·f, j·f, k·f) inside the mesh (its row's crossing parity).
  template <class Visit>
  void for_each_inside(Visit&& visit) const {
    for (std::size_t k = 0; k < nz_; ++k)
      for (std::size_t j = 0; j < ny_; ++j) {
        const auto& r = rows_[k * ny_ + j];
        for (std::size_t q = 0; q + 1 < r.size(); q += 2)
          for (long m = static_cast<long>(std::ceil(r[q] / f_)); m * f_ <= r[q + 1]; ++m)
            visit(m, my0_ + static_cast<long>(j), mz0_ + static_cast<long>(k));
      }
  }

  /// Adds the row coverage (exact along x) to a block.
  void fill(FineBlock& blk) const {
    const double f = f_;
    const long mx_end = blk.m[0] + static_cast<long>(blk.n[0]);
    for (std::size_t c = 0; c < blk.n[2]; ++c) {
      const long k = blk.m[2] + static_cast<long>(c) - mz0_;
      if (k < 0 || k >= static_cast<long>(nz_)) continue;
      for (std::size_t b = 0; b < blk.n[1]; ++b) {
        const long j = blk.m[1] + static_cast<long>(b) - my0_;
        if (j < 0 || j >= static_cast<long>(ny_)) continue;
        const auto& r = rows_[static_cast<std::size_t>(k) * ny_ + static_cast<std::size_t>(j)];
        float* row = &blk.at(0, b, c);
        for (std::size_t q = 0; q + 1 < r.size(); q += 2) {
          const double x0 = r[q], x1 = r[q + 1];
          const long m_lo = std::max(blk.m[0], static_cast<long>(std::floor(x0 / f + 0.5)));
          const long m_hi = std::min(mx_end - 1, static_cast<long>(std::floor(x1 / f + 0.5)));
          for (long m = m_lo; m <= m_hi; ++m) {
            const double a = std::max(x0, (m - 0.5) * f), e = std::min(x1, (m + 0.5) * f);
            if (e > a) row[m - blk.m[0]] += static_cast<float>((e - a) / f);
          }
        }
        for (std::size_t a = 0; a < blk.n[0]; ++a) row[a] = std::min(row[a], 1.0f);
      }
    }
  }

  /// Σ coverage · f³ over all rows.
  double volume_um3() const {
    double len = 0.0;
    for (const auto& r : rows_)
      for (std::size_t q = 0; q + 1 < r.size(); q += 2) len += r[q + 1] - r[q];
    return len * f_ * f_;
  }

 private:
  void add_triangle(const Mesh& mesh, const std::array<int, 3>& t) {
    const PointUm& a = mesh.vertices[static_cast<std::size_t>(t[0])];
    const PointUm& b = mesh.vertices[static_cast<std::size_t>(t[1])];
    const PointUm& c = mesh.vertices[static_cast<std::size_t>(t[2])];
    const double area = (b.y_um - a.y_um) * (c.z_um - a.z_um) - (b.z_um - a.z_um) * (c.y_um - a.y_um);
    if (area == 0.0) return;  // edge-on to the rays: its neighbours carry the crossing
    const double ylo = std::min({a.y_um, b.y_um, c.y_um}), yhi = std::max({a.y_um, b.y_um, c.y_um});
    const double zlo = std::min({a.z_um, b.z_um, c.z_um}), zhi = std::max({a.z_um, b.z_um, c.z_um});
    const long j0 = static_cast<long>(std::ceil((ylo - kJitterY) / f_)),
               j1 = static_cast<long>(std::floor((yhi - kJitterY) / f_));
    const long k0 = static_cast<long>(std::ceil((zlo - kJitterZ) / f_)),
               k1 = static_cast<long>(std::floor((zhi - kJitterZ) / f_));
    auto edge = [](const PointUm& p, const PointUm& q, double y, double z) {
      return (q.y_um - p.y_um) * (z - p.z_um) - (q.z_um - p.z_um) * (y - p.y_um);
    };
    for (long k = k0; k <= k1; ++k) {
      const double z = k * f_ + kJitterZ;
      for (long j = j0; j <= j1; ++j) {
        const double y = j * f_ + kJitterY;
        const double wa = edge(b, c, y, z), wb = edge(c, a, y, z), wc = edge(a, b, y, z);
        const bool inside = (wa >= 0 && wb >= 0 && wc >= 0) || (wa <= 0 && wb <= 0 && wc <= 0);
        if (!inside) continue;
        const double x = (wa * a.x_um + wb * b.x_um + wc * c.x_um) / area;
        rows_[static_cast<std::size_t>(k - mz0_) * ny_ + static_cast<std::size_t>(j - my0_)].push_back(x);
      }
    }
  }

  double f_;
  Box box_;
  long my0_ = 0, mz0_ = 0;
  std::size_t ny_ = 0, nz_ = 0, odd_rows_ = 0;
  std::vector<std::vector<double>> rows_;
};

Mesh translated(Mesh mesh, const V3& shift) {
  for (PointUm& p : mesh.vertices) p = (V3(p) + shift).point();
  return mesh;
}

/// Distance from @p p to a triangle (closest point by Voronoi regions, Ericson, Real-Time Collision Detection 5.1.5).
double point_triangle_distance(const V3& p, const std::array<V3, 3>& t) {
  const V3 &a = t[0], &b = t[1], &c = t[2];
  const V3 ab = b - a, ac = c - a, ap = p - a;
  const double d1 = ab.dot(ap), d2 = ac.dot(ap);
  if (d1 <= 0 && d2 <= 0) return ap.norm();
  const V3 bp = p - b;
  const double d3 = ab.dot(bp), d4 = ac.dot(bp);
  if (d3 >= 0 && d4 <= d3) return bp.norm();
  const double vc = d1 * d4 - d3 * d2;
  if (vc <= 0 && d1 >= 0 && d3 <= 0) return (p - (a + ab * (d1 / (d1 - d3)))).norm();
  const V3 cp = p - c;
  const double d5 = ab.dot(cp), d6 = ac.dot(cp);
  if (d6 >= 0 && d5 <= d6) return cp.norm();
  const double vb = d5 * d2 - d1 * d6;
  if (vb <= 0 && d2 >= 0 && d6 <= 0) return (p - (a + ac * (d2 / (d2 - d6)))).norm();
  const double va = d3 * d6 - d5 * d4;
  if (va <= 0 && (d4 - d3) >= 0 && (d5 - d6) >= 0)
    return (p - (b + (c - b) * ((d4 - d3) / ((d4 - d3) + (d5 - d6))))).norm();
  const double denom = 1.0 / (va + vb + vc);
  return (p - (a + ab * (vb * denom) + ac * (vc * denom))).norm();
}

/// Spine truth from its mesh and the whole surface (both in the stack frame).
SpineTruth spine_truth(const Mesh& spine, const Mesh& surface) {
  // The spine mesh follows the dendrite's surface except where it is closed off across the neck: that cap,
  // inside the dendrite, is where the spine meets the shaft. Its faces lie off the surface mesh.
  double lo[3] = {1e300, 1e300, 1e300}, hi[3] = {-1e300, -1e300, -1e300};
  for (const PointUm& p : spine.vertices) {
    const double c[3] = {p.x_um, p.y_um, p.z_um};
    for (int a = 0; a < 3; ++a) lo[a] = std::min(lo[a], c[a]), hi[a] = std::max(hi[a], c[a]);
  }
  std::vector<std::array<V3, 3>> near;
  for (const auto& tri : surface.triangles) {
    std::array<V3, 3> f;
    bool close = false;
    for (int q = 0; q < 3; ++q) {
      const PointUm& p = surface.vertices[static_cast<std::size_t>(tri[q])];
      f[q] = V3(p);
      close = close || (p.x_um > lo[0] - 0.5 && p.y_um > lo[1] - 0.5 && p.z_um > lo[2] - 0.5 && p.x_um < hi[0] + 0.5 &&
                        p.y_um < hi[1] + 0.5 && p.z_um < hi[2] + 0.5);
    }
    if (close) near.push_back(f);
  }
  // Cap faces: the spine's faces off the surface mesh. Their area-weighted centroid is the centre of the opening.
  V3 base;
  double cap_area = 0.0;
  for (const auto& tri : spine.triangles) {
    const V3 a(spine.vertices[static_cast<std::size_t>(tri[0])]), b(spine.vertices[static_cast<std::size_t>(tri[1])]),
        c(spine.vertices[static_cast<std::size_t>(tri[2])]);
    const V3 centroid = (a + b + c) * (1.0 / 3.0);
    double gap = std::numeric_limits<double>::max();
    for (const auto& f : near) gap = std::min(gap, point_triangle_distance(centroid, f));
    if (gap <= kCapGapUm) continue;
    const double area = 0.5 * (b - a).cross(c - a).norm();
    base = base + centroid * area;
    cap_area += area;
  }
  if (cap_area > 0) {
    base = base * (1.0 / cap_area);
  } else {  // a spine mesh without a cap: its vertices nearest the rest of the dendrite stand in
    V3 centre;
    for (const PointUm& p : spine.vertices) centre = centre + V3(p);
    centre = centre * (1.0 / static_cast<double>(spine.vertices.size()));
    std::vector<std::pair<double, std::size_t>> depth;
    for (std::size_t v = 0; v < spine.vertices.size(); ++v) {
      double best = std::numeric_limits<double>::max();
      for (const auto& f : near)
        for (const V3& q : f)
          if ((q - centre).norm() > 1.0) best = std::min(best, (V3(spine.vertices[v]) - q).norm());
      depth.emplace_back(best, v);
    }
    std::sort(depth.begin(), depth.end());
    const std::size_t n = std::max<std::size_t>(1, depth.size() / 10);
    for (std::size_t q = 0; q < n; ++q) base = base + V3(spine.vertices[depth[q].second]);
    base = base * (1.0 / static_cast<double>(n));
  }

  std::vector<std::size_t> order(spine.vertices.size());
  for (std::size_t v = 0; v < order.size(); ++v) order[v] = v;
  std::vector<double> reach(spine.vertices.size());
  for (std::size_t v = 0; v < reach.size(); ++v) reach[v] = (V3(spine.vertices[v]) - base).norm();
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return reach[a] > reach[b]; });
  // The head is the far end: the vertices near the farthest one (within kHeadRadiusUm) that reach at least
  // (1 - kHeadFraction) of the way out. Averaging the farthest vertices of the whole mesh instead puts the "head"
  // mid-spine when a spine curves or its mesh carries a strip of shaft (two far ends).
  const V3 farthest(spine.vertices[order.front()]);
  const double max_reach = reach[order.front()];
  V3 head;
  std::size_t n_head = 0;
  for (std::size_t v : order) {
    if (reach[v] < (1.0 - kHeadFraction) * max_reach) break;
    if ((V3(spine.vertices[v]) - farthest).norm() > kHeadRadiusUm) continue;
    head = head + V3(spine.vertices[v]);
    ++n_head;
  }
  head = head * (1.0 / static_cast<double>(n_head));

  const double nan = std::numeric_limits<double>::quiet_NaN();
  SpineTruth t;
  t.dendrite_id = 1;
  t.type = "unknown";
  t.base = base.point();
  t.head = head.point();
  t.head_diameter_um = nan, t.neck_length_um = nan, t.neck_width_um = nan;
  t.length_um = reach[order.front()];
  return t;
}

/// The points of a mesh's shaft on a grid of g µm (inside the surface, outside every spine mesh), their
/// 26-neighbours and their depth (distance to the shaft's surface): the ground for its reference centerline.
class ShaftGrid {
 public:
  ShaftGrid(const Mesh& surface, const std::vector<Mesh>& spines, double g) : g_(g) {
    std::unordered_set<std::int64_t> in_spine;
    for (const Mesh& sp : spines)
      MeshRows(sp, g).for_each_inside([&](long m, long j, long k) { in_spine.insert(key(m, j, k)); });
    std::unordered_map<std::int64_t, int> index;
    MeshRows(surface, g).for_each_inside([&](long m, long j, long k) {
      if (in_spine.count(key(m, j, k))) return;
      index.emplace(key(m, j, k), static_cast<int>(at_.size()));
      at_.push_back({m, j, k});
    });
    // 26-neighbours, the six face neighbours first (a point missing one of those lies on the surface).
    std::vector<std::array<int, 3>> offsets;
    for (int a = 0; a < 3; ++a)
      for (int s : {-1, 1}) offsets.push_back({a == 0 ? s : 0, a == 1 ? s : 0, a == 2 ? s : 0});
    for (int dk = -1; dk <= 1; ++dk)
      for (int dj = -1; dj <= 1; ++dj)
        for (int di = -1; di <= 1; ++di)
          if (std::abs(di) + std::abs(dj) + std::abs(dk) > 1) offsets.push_back({di, dj, dk});
    nbr_.assign(at_.size() * kNeighbours, -1);
    for (std::size_t v = 0; v < at_.size(); ++v)
      for (std::size_t o = 0; o < kNeighbours; ++o) {
        const auto it = index.find(key(at_[v][0] + offsets[o][0], at_[v][1] + offsets[o][1], at_[v][2] + offsets[o][2]));
        if (it != index.end()) nbr_[v * kNeighbours + o] = it->second;
      }
    for (std::size_t o = 0; o < kNeighbours; ++o)
      step_[o] = g * std::sqrt(offsets[o][0] * offsets[o][0] + offsets[o][1] * offsets[o][1] +
                               offsets[o][2] * offsets[o][2]);
    // Depth: shortest paths from the surface points, which lie half a grid step inside the surface.
    std::vector<double> depth(at_.size(), std::numeric_limits<double>::infinity());
    for (std::size_t v = 0; v < at_.size(); ++v)
      for (std::size_t o = 0; o < 6; ++o)
        if (nbr_[v * kNeighbours + o] < 0) depth[v] = 0.5 * g;
    depth_ = paths(depth, {}, nullptr);
    // The largest connected piece holds the dendrite (stray specks of the mesh are left out).
    std::vector<int> piece(at_.size(), -1);
    std::vector<std::size_t> sizes;
    for (std::size_t v0 = 0; v0 < at_.size(); ++v0) {
      if (piece[v0] >= 0) continue;
      const int label = static_cast<int>(sizes.size());
      sizes.push_back(0);
      std::vector<int> stack{static_cast<int>(v0)};
      piece[v0] = label;
      while (!stack.empty()) {
        const int v = stack.back();
        stack.pop_back();
        ++sizes[label];
        for (std::size_t o = 0; o < kNeighbours; ++o) {
          const int w = nbr_[v * kNeighbours + o];
          if (w >= 0 && piece[w] < 0) piece[w] = label, stack.push_back(w);
        }
      }
    }
    const int largest = static_cast<int>(std::max_element(sizes.begin(), sizes.end()) - sizes.begin());
    largest_.resize(at_.size());
    for (std::size_t v = 0; v < at_.size(); ++v) largest_[v] = piece[v] == largest;
    seen_.assign(at_.size(), -1);
  }

  std::size_t size() const { return at_.size(); }
  Vec3 centre(std::size_t v) const { return Vec3(at_[v][0] * g_, at_[v][1] * g_, at_[v][2] * g_); }
  double depth(std::size_t v) const { return depth_[v]; }
  bool in_largest_piece(std::size_t v) const { return largest_[v]; }

  /// Shortest paths from the points with a finite @p dist, a step costing its length times cost[to] (1 when
  /// @p cost is empty); @p prev (when given) receives each point's predecessor (-1 for the sources).
  std::vector<double> paths(std::vector<double> dist, const std::vector<double>& cost, std::vector<int>* prev) const {
    using Item = std::pair<double, int>;
    std::priority_queue<Item, std::vector<Item>, std::greater<Item>> queue;
    for (std::size_t v = 0; v < dist.size(); ++v)
      if (std::isfinite(dist[v])) queue.push({dist[v], static_cast<int>(v)});
    if (prev) prev->assign(dist.size(), -1);
    while (!queue.empty()) {
      const auto [dv, v] = queue.top();
      queue.pop();
      if (dv > dist[v]) continue;
      for (std::size_t o = 0; o < kNeighbours; ++o) {
        const int w = nbr_[v * kNeighbours + o];
        if (w < 0) continue;
        const double dw = dv + step_[o] * (cost.empty() ? 1.0 : cost[w]);
        if (dw < dist[w]) {
          dist[w] = dw;
          if (prev) (*prev)[w] = v;
          queue.push({dw, w});
        }
      }
    }
    return dist;
  }

  /// Marks in @p covered the points within @p reach_um of point @p v, reached through the shaft.
  void cover(int v, double reach_um, std::vector<char>& covered) const {
    visit_near(v, reach_um, [&](int w) { covered[w] = 1; });
  }

  /// Centroid of the shaft's cross-section through point @p v normal to @p t: the points within one grid step
  /// of that plane and 1.5 depths + 0.2 µm of the point, reached through the shaft.
  Vec3 section_centroid(int v, const Vec3& t) const {
    const Vec3 c = centre(v);
    Vec3 sum;
    int count = 0;
    visit_near(v, 1.5 * depth_[v] + 0.2, [&](int w) {
      if (std::abs((centre(w) - c).dot(t)) <= g_) sum = sum + centre(w), ++count;
    });
    return count > 0 ? sum * (1.0 / count) : c;
  }

 private:
  static constexpr std::size_t kNeighbours = 26;
  static std::int64_t key(long m, long j, long k) {
    const std::int64_t o = 1 << 20;  // indices may be negative; a mesh spans far fewer than 2^20 points
    return ((static_cast<std::int64_t>(k) + o) << 42) | ((static_cast<std::int64_t>(j) + o) << 21) |
           (static_cast<std::int64_t>(m) + o);
  }
  template <class Visit>
  void visit_near(int v0, double reach_um, Visit&& visit) const {
    const Vec3 c = centre(v0);
    ++stamp_;
    std::vector<int> stack{v0};
    seen_[v0] = stamp_;
    while (!stack.empty()) {
      const int v = stack.back();
      stack.pop_back();
      visit(v);
      for (std::size_t o = 0; o < kNeighbours; ++o) {
        const int w = nbr_[v * kNeighbours + o];
        if (w < 0 || seen_[w] == stamp_ || (centre(w) - c).norm() > reach_um) continue;
        seen_[w] = stamp_;
        stack.push_back(w);
      }
    }
  }

  double g_;
  std::vector<std::array<long, 3>> at_;
  std::vector<int> nbr_;
  std::array<double, kNeighbours> step_{};
  std::vector<double> depth_;
  std::vector<char> largest_;
  mutable std::vector<int> seen_;
  mutable int stamp_ = 0;
};

/// The median of @p v (its upper middle element for an even count; 0 when empty).
double median_of(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

/// A skeleton tree over a ShaftGrid: each point's neighbours on the tree (none: off the tree).
using Tree = std::vector<std::vector<int>>;

/// The points from @p from through @p next and on through points with two tree neighbours, to the next node (an
/// end or a junction).
std::vector<int> walk(const Tree& tree, int from, int next) {
  std::vector<int> stretch{from, next};
  while (tree[stretch.back()].size() == 2) {
    const auto& a = tree[stretch.back()];
    stretch.push_back(a[0] == stretch[stretch.size() - 2] ? a[1] : a[0]);
  }
  return stretch;
}

double stretch_length(const ShaftGrid& grid, const std::vector<int>& stretch) {
  double length = 0.0;
  for (std::size_t i = 1; i < stretch.size(); ++i) length += (grid.centre(stretch[i]) - grid.centre(stretch[i - 1])).norm();
  return length;
}

/// The shaft's skeleton tree (TEASAR), grown from one end of the largest piece (its point farthest along it from
/// any of its points): the path to the point farthest along the shaft not yet covered, back to where it enters
/// the tube the tree covers so far (two paths to one end can run side by side for micrometres before they merge),
/// joined there to the nearest point of the tree; the tube around the new path is then covered. Paths keep
/// inside: a step through a point costs 1 / depth (1 / depth² would send a path around an end through the deep
/// middle rather than across the end).
Tree skeleton_tree(const ShaftGrid& grid) {
  const std::size_t n = grid.size();
  const double inf = std::numeric_limits<double>::infinity();
  auto from = [&](int source) {
    std::vector<double> dist(n, inf);
    dist[source] = 0.0;
    return dist;
  };
  auto farthest = [](const std::vector<double>& dist, const std::vector<char>& skip) {
    int best = -1;
    for (std::size_t v = 0; v < dist.size(); ++v)
      if (std::isfinite(dist[v]) && !skip[v] && (best < 0 || dist[v] > dist[best])) best = static_cast<int>(v);
    return best;
  };
  int start = 0;
  while (!grid.in_largest_piece(start)) ++start;
  const int root = farthest(grid.paths(from(start), {}, nullptr), std::vector<char>(n, 0));
  const std::vector<double> along = grid.paths(from(root), {}, nullptr);
  std::vector<double> cost(n);
  for (std::size_t v = 0; v < n; ++v) cost[v] = 1.0 / grid.depth(v);
  std::vector<int> prev;
  grid.paths(from(root), cost, &prev);

  Tree tree(n);
  std::vector<int> on_tree{root};
  std::vector<char> covered(n, 0);
  for (std::size_t v = 0; v < n; ++v) covered[v] = !std::isfinite(along[v]);
  for (int tip; (tip = farthest(along, covered)) >= 0;) {
    std::vector<int> path{tip};
    while (prev[path.back()] >= 0 && !covered[prev[path.back()]]) path.push_back(prev[path.back()]);
    int join = on_tree.front();
    for (int t : on_tree)
      if ((grid.centre(t) - grid.centre(path.back())).norm() < (grid.centre(join) - grid.centre(path.back())).norm())
        join = t;
    if (on_tree.size() == 1 && path.back() == root) join = -1;  // the first path runs to the root itself
    if (join >= 0) path.push_back(join);
    for (std::size_t i = 0; i + 1 < path.size(); ++i) {
      tree[path[i]].push_back(path[i + 1]);
      tree[path[i + 1]].push_back(path[i]);
    }
    on_tree.insert(on_tree.end(), path.begin(), path.end() - 1);
    for (int v : path) grid.cover(v, kCoverDepths * grid.depth(v) + kCoverUm, covered);
  }
  return tree;
}

/// Prunes terminal stretches that are not dendrite (#3's rule), shortest first, until every end is a
/// dendrite's: a stretch shorter than kMaxSpineLengthUm beyond the surface of the branch it leaves is a spine
/// (or a bump); one whose median depth is under kThinFraction of the tree's is thinner than the dendrite (a thin
/// process or filopodium touching it). Where a dendrite ends beside a protrusion its end forks into two such
/// stretches: the one that continues the dendrite straightest is its end and stays (as in the tracer), whichever
/// is shorter.
void prune_to_dendrite(const ShaftGrid& grid, Tree& tree) {
  auto heading = [&](const std::vector<int>& towards_node) {  // from the node out along a stretch, over 1.5 µm
    const Vec3 node = grid.centre(towards_node.back());
    for (std::size_t i = towards_node.size() - 1; i-- > 0;)
      if ((grid.centre(towards_node[i]) - node).norm() >= 1.5 || i == 0)
        return (grid.centre(towards_node[i]) - node).unit();
    return Vec3();
  };
  std::vector<double> tree_depths;
  for (std::size_t v = 0; v < tree.size(); ++v)
    if (!tree[v].empty()) tree_depths.push_back(grid.depth(v));
  const double thin_depth = kThinFraction * median_of(tree_depths);
  for (;;) {
    std::vector<std::vector<int>> failing;
    for (std::size_t v = 0; v < tree.size(); ++v) {
      if (tree[v].size() != 1) continue;
      const std::vector<int> stretch = walk(tree, static_cast<int>(v), tree[v][0]);
      if (tree[stretch.back()].size() == 1) break;  // the tree is one path: nothing left to prune
      std::vector<double> depths;
      for (std::size_t i = 0; i + 1 < stretch.size(); ++i) depths.push_back(grid.depth(stretch[i]));
      const bool dendrite = stretch_length(grid, stretch) >= kMaxSpineLengthUm + grid.depth(stretch.back()) &&
                            median_of(depths) >= thin_depth;
      if (!dendrite) failing.push_back(stretch);
    }
    if (failing.empty()) return;
    std::size_t w = 0;
    for (std::size_t i = 1; i < failing.size(); ++i)
      if (stretch_length(grid, failing[i]) < stretch_length(grid, failing[w])) w = i;
    const int junction = failing[w].back();
    for (std::size_t i = 0; i < failing.size(); ++i) {
      if (i == w || failing[i].back() != junction || tree[junction].size() != 3) continue;
      int parent = -1;
      for (int a : tree[junction])
        if (a != failing[w][failing[w].size() - 2] && a != failing[i][failing[i].size() - 2]) parent = a;
      std::vector<int> back = walk(tree, junction, parent);
      std::reverse(back.begin(), back.end());
      const Vec3 in = heading(back) * -1.0;  // the dendrite's heading arriving at the junction
      if (heading(failing[w]).dot(in) > heading(failing[i]).dot(in)) w = i;
      break;
    }
    const std::vector<int>& prune = failing[w];
    for (std::size_t i = 0; i + 1 < prune.size(); ++i) tree[prune[i]].clear();
    auto& j = tree[prune.back()];
    j.erase(std::find(j.begin(), j.end(), prune[prune.size() - 2]));
  }
}

/// The tree's stretches between nodes (ends and junctions), each once.
std::vector<std::vector<int>> tree_stretches(const Tree& tree) {
  std::vector<std::vector<int>> stretches;
  std::set<std::pair<int, int>> walked;  // (node, first step) of each stretch, from both of its ends
  for (std::size_t v = 0; v < tree.size(); ++v) {
    if (tree[v].empty() || tree[v].size() == 2) continue;
    for (int next : tree[v]) {
      if (walked.count({static_cast<int>(v), next})) continue;
      std::vector<int> stretch = walk(tree, static_cast<int>(v), next);
      walked.insert({static_cast<int>(v), next});
      walked.insert({stretch.back(), stretch[stretch.size() - 2]});
      stretches.push_back(std::move(stretch));
    }
  }
  return stretches;
}

/// One branch's truth from its stretch of the tree; false when nothing is left of it after its ends.
bool branch_truth(const ShaftGrid& grid, const Tree& tree, const std::vector<int>& whole, DendriteTruth* d) {
  // An end of the tree lies in the cap of its branch (often in a corner of it); the centerline ends where the path
  // is one radius deep (the axis of a round-capped tube ends one radius inside its cap, and the generator's
  // dendrites and the tracer's skeleton end there too). The radius at an end is the median depth 1-3 µm along the
  // path from it; 0.9 of it allows for the depth's grid steps. A branch keeps its junctions.
  auto end_radius = [&](bool from_back) {
    if (tree[from_back ? whole.back() : whole.front()].size() != 1) return 0.0;
    std::vector<double> r;
    double s = 0.0;
    for (std::size_t k = 1; k < whole.size(); ++k) {
      const std::size_t i = from_back ? whole.size() - 1 - k : k, j = from_back ? i + 1 : i - 1;
      s += (grid.centre(whole[i]) - grid.centre(whole[j])).norm();
      if (s > 3.0) break;
      if (s >= 1.0) r.push_back(grid.depth(whole[i]));
    }
    return median_of(r);
  };
  std::size_t first = 0, last = whole.size();
  const double r_front = end_radius(false), r_back = end_radius(true);
  while (first < last && grid.depth(whole[first]) < 0.9 * r_front) ++first;
  while (last > first && grid.depth(whole[last - 1]) < 0.9 * r_back) --last;
  if (last < first + 2) return false;
  const std::vector<int> path(whole.begin() + static_cast<long>(first), whole.begin() + static_cast<long>(last));
  // Each point moved to the centroid of the shaft's cross-section there, then smoothed by repeated (1, 2, 1) / 4
  // averaging with the ends fixed: about a Gaussian of 0.35 µm over points 0.05-0.09 µm apart (the grid's steps
  // and the sections' noise, not the dendrite's bends).
  std::vector<Vec3> line(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    const std::size_t lo = i >= 5 ? i - 5 : 0, hi = std::min(path.size() - 1, i + 5);
    line[i] = grid.section_centroid(path[i], (grid.centre(path[hi]) - grid.centre(path[lo])).unit());
  }
  for (int pass = 0; pass < kCenterlineSmoothPasses && line.size() > 2; ++pass) {
    std::vector<Vec3> next = line;
    for (std::size_t i = 1; i + 1 < line.size(); ++i) next[i] = (line[i - 1] + line[i] * 2.0 + line[i + 1]) * 0.25;
    line.swap(next);
  }
  double radius_sum = 0.0;
  for (std::size_t i = 0; i < path.size(); ++i) {
    d->centerline.push_back(line[i].point());
    d->radii_um.push_back(grid.depth(path[i]));
    radius_sum += grid.depth(path[i]);
    if (i > 0) d->length_um += (line[i] - line[i - 1]).norm();
  }
  d->mean_radius_um = radius_sum / static_cast<double>(path.size());
  return true;
}

/// mesh_shaft_centerlines of a shaft that is round in cross-section.
std::vector<DendriteTruth> mesh_round_shaft_centerlines(const Mesh& surface, const std::vector<Mesh>& spines) {
  const ShaftGrid grid(surface, spines, kCenterlineGridUm);
  std::vector<DendriteTruth> out;
  if (grid.size() == 0) return out;
  Tree tree = skeleton_tree(grid);
  prune_to_dendrite(grid, tree);
  for (const std::vector<int>& stretch : tree_stretches(tree)) {
    DendriteTruth d;
    d.dendrite_id = static_cast<int>(out.size()) + 1;
    if (branch_truth(grid, tree, stretch, &d)) out.push_back(std::move(d));
  }
  return out;
}

}  // namespace

Mesh read_off(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path, "cannot open mesh", kExitNoInput);
  in.imbue(std::locale::classic());
  std::string tok;
  auto next_token = [&]() {  // the next whitespace-separated token, skipping '#' comments
    while (in >> tok) {
      if (tok[0] != '#') return true;
      std::string comment;
      std::getline(in, comment);
    }
    return false;
  };
  auto next_number = [&](const char* what) {
    if (!next_token()) throw InputError(path, std::string("truncated: expected ") + what);
    char* end = nullptr;
    const double v = std::strtod(tok.c_str(), &end);
    if (end != tok.c_str() + tok.size() || !std::isfinite(v))
      throw InputError(path, std::string("expected ") + what + ", found '" + tok + "'");
    return v;
  };
  auto next_count = [&](const char* what, double max) {
    const double v = next_number(what);
    if (v != std::floor(v) || v < 0 || v > max) throw InputError(path, std::string("bad ") + what + " '" + tok + "'");
    return static_cast<long>(v);
  };
  if (!next_token() || tok != "OFF") throw InputError(path, "not an OFF file (no 'OFF' header)");
  const long nv = next_count("vertex count", 5e7), nf = next_count("face count", 1e8);
  next_count("edge count", 1e9);
  Mesh mesh;
  mesh.vertices.resize(static_cast<std::size_t>(nv));
  for (auto& p : mesh.vertices) {
    p.x_um = next_number("vertex x");
    p.y_um = next_number("vertex y");
    p.z_um = next_number("vertex z");
  }
  for (long f = 0; f < nf; ++f) {
    const long n = next_count("face size", 1000);
    if (n < 3) throw InputError(path, "face " + std::to_string(f) + " has fewer than 3 vertices");
    std::vector<int> idx(static_cast<std::size_t>(n));
    for (int& i : idx) {
      i = static_cast<int>(next_count("vertex index", 5e7));
      if (i >= nv) throw InputError(path, "face " + std::to_string(f) + " has a bad vertex index " + tok);
    }
    for (long q = 1; q + 1 < n; ++q)
      mesh.triangles.push_back({idx[0], idx[static_cast<std::size_t>(q)], idx[static_cast<std::size_t>(q) + 1]});
  }
  if (mesh.triangles.empty()) throw InputError(path, "mesh has no faces");
  return mesh;
}

double mesh_volume_um3(const Mesh& mesh) {
  double six_v = 0.0;
  for (const auto& t : mesh.triangles) {
    const V3 a(mesh.vertices[static_cast<std::size_t>(t[0])]), b(mesh.vertices[static_cast<std::size_t>(t[1])]),
        c(mesh.vertices[static_cast<std::size_t>(t[2])]);
    six_v += a.dot(b.cross(c));
  }
  return std::abs(six_v) / 6.0;
}

double voxelised_volume_um3(const Mesh& mesh, double fine_voxel_um) {
  if (!(fine_voxel_um > 0)) throw ParameterError("voxelised_volume_um3: fine_voxel_um must be > 0");
  return MeshRows(mesh, fine_voxel_um).volume_um3();
}

Volume<float> render_mesh_expected(const Mesh& mesh, const ImagingConfig& imaging) {
  detail::validate_imaging(imaging);
  const MeshRows rows(mesh, imaging.fine_voxel_um);
  return detail::render_expected(
      {rows.box()}, [&](std::size_t, FineBlock& blk) { rows.fill(blk); }, imaging);
}

double shaft_aspect_ratio(const Mesh& surface, const std::vector<Mesh>& spines) {
  // Spine vertices hashed on a grid of kSpineClearUm cells: a shaft vertex has none within kSpineClearUm.
  auto cell = [](double v) { return static_cast<long>(std::floor(v / kSpineClearUm)); };
  auto key = [](long i, long j, long k) { return (k * 1048576L + j) * 1048576L + i; };
  std::map<long, std::vector<PointUm>> grid;
  for (const Mesh& m : spines)
    for (const PointUm& p : m.vertices) grid[key(cell(p.x_um), cell(p.y_um), cell(p.z_um))].push_back(p);
  std::vector<PointUm> shaft;
  for (const PointUm& p : surface.vertices) {
    bool near = false;
    for (long dk = -1; dk <= 1 && !near; ++dk)
      for (long dj = -1; dj <= 1 && !near; ++dj)
        for (long di = -1; di <= 1 && !near; ++di) {
          auto it = grid.find(key(cell(p.x_um) + di, cell(p.y_um) + dj, cell(p.z_um) + dk));
          if (it == grid.end()) continue;
          for (const PointUm& q : it->second)
            if ((V3(p) - V3(q)).norm() < kSpineClearUm) {
              near = true;
              break;
            }
        }
    if (!near) shaft.push_back(p);
  }
  if (shaft.size() < 20) return 1.0;
  // Main horizontal axis: the leading eigenvector of the xy covariance.
  double mx = 0, my = 0;
  for (const PointUm& p : shaft) mx += p.x_um, my += p.y_um;
  mx /= static_cast<double>(shaft.size()), my /= static_cast<double>(shaft.size());
  double cxx = 0, cxy = 0, cyy = 0;
  for (const PointUm& p : shaft) {
    const double dx = p.x_um - mx, dy = p.y_um - my;
    cxx += dx * dx, cxy += dx * dy, cyy += dy * dy;
  }
  const double angle = 0.5 * std::atan2(2 * cxy, cxx - cyy);
  const double ax = std::cos(angle), ay = std::sin(angle);
  std::vector<double> t(shaft.size());
  double t_lo = 1e300, t_hi = -1e300;
  for (std::size_t n = 0; n < shaft.size(); ++n) {
    t[n] = (shaft[n].x_um - mx) * ax + (shaft[n].y_um - my) * ay;
    t_lo = std::min(t_lo, t[n]), t_hi = std::max(t_hi, t[n]);
  }
  std::vector<double> ratios;
  for (double c = t_lo + kSectionEndUm; c <= t_hi - kSectionEndUm; c += kSectionStepUm) {
    double q_lo = 1e300, q_hi = -1e300, z_lo = 1e300, z_hi = -1e300;
    int count = 0;
    for (std::size_t n = 0; n < shaft.size(); ++n) {
      if (std::abs(t[n] - c) > 0.5 * kSectionThickUm) continue;
      const double q = -(shaft[n].x_um - mx) * ay + (shaft[n].y_um - my) * ax;
      q_lo = std::min(q_lo, q), q_hi = std::max(q_hi, q);
      z_lo = std::min(z_lo, shaft[n].z_um), z_hi = std::max(z_hi, shaft[n].z_um);
      ++count;
    }
    const double width = q_hi - q_lo;
    // Too few vertices, or a section across a fork or a bend (too wide to be one shaft).
    if (count < 20 || width < kMinSectionWidthUm || width > kMaxSectionWidthUm) continue;
    ratios.push_back((z_hi - z_lo) / width);
  }
  return ratios.empty() ? 1.0 : median_of(ratios);
}

std::vector<DendriteTruth> mesh_shaft_centerlines(const Mesh& surface, const std::vector<Mesh>& spines) {
  // The skeleton of a shaft taller than wide (a mesh segmented with a confocal's axial blur) is a sheet, not a
  // line: the centerline is found where the shaft is round (z divided by its aspect ratio) and stretched back.
  const double aspect = std::max(1.0, shaft_aspect_ratio(surface, spines));
  if (aspect > 1.0) {
    auto squash = [&](Mesh m) {
      for (PointUm& p : m.vertices) p.z_um /= aspect;
      return m;
    };
    std::vector<Mesh> round_spines;
    for (const Mesh& m : spines) round_spines.push_back(squash(m));
    std::vector<DendriteTruth> out = mesh_round_shaft_centerlines(squash(surface), round_spines);
    for (DendriteTruth& d : out) {
      d.length_um = 0.0;
      for (std::size_t i = 0; i < d.centerline.size(); ++i) {
        d.centerline[i].z_um *= aspect;
        if (i > 0) d.length_um += (Vec3(d.centerline[i]) - Vec3(d.centerline[i - 1])).norm();
      }
    }
    return out;
  }
  return mesh_round_shaft_centerlines(surface, spines);
}

GeneratedStack render_mesh_folder(const std::string& folder, const ImagingConfig& imaging, double z_scale) {
  if (!(z_scale >= 0) || z_scale > 100) throw ParameterError("option --mesh-z-scale: must be in (0, 100] or auto");
  detail::validate_imaging(imaging, false);
  const fs::path dir(folder);
  const fs::path surface_path = dir / "surface_mesh.off";
  if (!fs::is_regular_file(surface_path)) throw InputError(folder, "no surface_mesh.off in this folder", kExitNoInput);
  Mesh raw_surface = read_off(surface_path.string());
  std::map<int, fs::path> spine_paths;  // by k, so spine_10 follows spine_9
  for (auto it = fs::directory_iterator(dir); it != fs::directory_iterator(); ++it) {
    const std::string name = it->path().filename().string();
    if (name.size() > 10 && name.compare(0, 6, "spine_") == 0 && it->path().extension() == ".off") {
      const std::string digits = name.substr(6, name.size() - 10);
      if (!digits.empty() && std::all_of(digits.begin(), digits.end(), ::isdigit))
        spine_paths[std::stoi(digits)] = it->path();
    }
  }

  std::map<int, Mesh> raw_spines;
  for (const auto& [k, path] : spine_paths) raw_spines[k] = read_off(path.string());
  if (z_scale == kAutoMeshZScale) {
    std::vector<Mesh> all;
    for (const auto& [k, m] : raw_spines) all.push_back(m);
    z_scale = 1.0 / std::max(1.0, shaft_aspect_ratio(raw_surface, all));
  }
  if (z_scale != 1.0) {
    for (PointUm& p : raw_surface.vertices) p.z_um *= z_scale;
    for (auto& [k, m] : raw_spines)
      for (PointUm& p : m.vertices) p.z_um *= z_scale;
  }

  double lo[3] = {1e300, 1e300, 1e300}, hi[3] = {-1e300, -1e300, -1e300};
  for (const PointUm& p : raw_surface.vertices) {
    const double c[3] = {p.x_um, p.y_um, p.z_um};
    for (int a = 0; a < 3; ++a) lo[a] = std::min(lo[a], c[a]), hi[a] = std::max(hi[a], c[a]);
  }
  const V3 shift(kMeshMarginUm - lo[0], kMeshMarginUm - lo[1], kMeshMarginUm - lo[2]);
  ImagingConfig im = imaging;
  const double sp[3] = {im.spacing.x_um, im.spacing.y_um, im.spacing.z_um};
  std::size_t n[3];
  for (int a = 0; a < 3; ++a)
    n[a] = static_cast<std::size_t>(std::ceil((hi[a] - lo[a] + 2 * kMeshMarginUm) / sp[a])) + 1;
  im.nx = n[0], im.ny = n[1], im.nz = n[2];
  const Mesh surface = translated(raw_surface, shift);

  GeneratedStack out;
  out.mesh_z_scale = z_scale;
  const Volume<float> expected = render_mesh_expected(surface, im);
  out.image = im.noise ? detail::apply_camera(expected, im) : detail::apply_camera_noiseless(expected, im);
  std::vector<Mesh> spines;
  for (const auto& [k, mesh] : raw_spines) {
    spines.push_back(translated(mesh, shift));
    SpineTruth t = spine_truth(spines.back(), surface);
    t.spine_id = k + 1;  // spine_<k>.off, counted from 1 as everywhere else
    out.spines.push_back(t);
  }
  out.dendrites = mesh_shaft_centerlines(surface, spines);
  if (out.dendrites.empty()) {  // nothing left of the shaft: its length is unknown
    DendriteTruth d;
    d.dendrite_id = 1;
    d.length_um = d.mean_radius_um = std::numeric_limits<double>::quiet_NaN();
    out.dendrites.push_back(d);
  }
  return out;
}

}  // namespace spinescope::gen
