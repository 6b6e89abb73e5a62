#include "stages/dendrites/trace.hpp"

#include "spinescope/vec3.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <numeric>
#include <set>
#include <unordered_map>

namespace spinescope::stages::dendrites {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kMaxBridgeUm = 12.0;  // longest merged stretch of two crossing dendrites (shallow angles)
// Longest merged stretch of two dendrites that converge and part again, along its skeleton (which zigzags where the
// two twist about each other: 16.8 µm for forks 11.2 µm apart).
constexpr double kMaxKissUm = 20.0;
constexpr double kMaxClusterEdgeUm = 4.0;  // longest edge between two junctions of one crossing (the two sides)
// A side of a loop this much thinner than the other (narrowest sections) is a spine touching the dendrite twice.
constexpr double kThinSideFraction = 0.3;
constexpr double kMaxMergedFromFaceUm = 40.0;  // longest merged stem, from a face or to two tips (µm)
// Least elongation (variance ratio of the cross-section's axes) of two dendrites merged side by side: measured
// 2.0-6.0 on touching pairs, 1.1-1.5 on single dendrites at 0.1 x 0.1 x 0.35 µm (two touching discs: 5).
constexpr double kMergedElongation = 1.8;
// A merged stem holds both arms' cross-sections: its area at least this many times the larger arm's, or, where its
// section is as flat as two discs side by side (elongation kFlatMergedElongation, beyond any single dendrite's 1.5),
// the looser figure (the mask of two touching dendrites narrows where they meet: 12026's stem, 1.47 times). Not
// looser for rounder stems: 8008 has one at 1.39 times, elongation 2.0, that is a single dendrite (split: +27%).
constexpr double kMergedAreaOverLarger = 1.5;
constexpr double kFlatMergedElongation = 3.0;
constexpr double kFlatMergedAreaOverLarger = 1.4;
// A spur that continues a dendrite's last fork straightest is its tip only when no other spur there is longer by more
// than this (µm): the skeleton of a tip ends about one radius before the cap, as that of a stubby spine does.
constexpr double kTipSlackUm = 1.0;
constexpr double kMaxSpineHeadUm = 1.0;  // the longest stretch of a skeleton ending in a spine's head, before its neck
// Two tips beyond one crossing bear each other out: each may be up to this many times its dendrite's section (a
// short tip's few sections may be cut slantwise; 15318: 1.69). One tip alone is held to 1.4: real mesh 3 as given
// has a U-turn with one spur 1.57 times the dendrite's section; kept as a tip, it cost 3 of the mesh's 9 matched
// spines and added 14 points to its length error.
constexpr double kTwinTipsThickHi = 2.0;
// Two arms left unpaired at a crossing are paired when cut where they leave its ball they turn at most this share of
// their turn cut along the skeleton (a skeleton that wandered: 0.42-0.76 at 11711, 13635, 1012, 8000 and 15217). A
// corner turns about as much either way (0.92-0.94 at 13929 and 11602, which a smooth curve between the cut points
// then rounds off: -2.3% and 0.13 µm RMS where the path through the centre is right).
constexpr double kWanderGain = 0.8;
// cos(80 degrees): a longer spur beside a tip whose end lies this far off the dendrite's way on leaves sideways.
constexpr double kSidewaysChord = 0.17;
constexpr double kLaneChangeUm = 1.0;  // half the stretch over which two merged dendrites that cross change lanes
// The two sides of a hole in a tube's mask are about equally long (11711, 11911: 1.08, 1.16 times); the two
// dendrites of a lens (crossing twice) are not (5017: 1.5 times), or are longer (5017: 6.7 µm each). Such a hole beside
// a crossing is inside it.
constexpr double kHoleSidesRatio = 1.3;
constexpr double kMaxHoleSideUm = 5.0;
// The last stretch of a free end that follows its end's centring in z on the mask (µm; 1.0 and 2.0 gave the same
// lengths within 0.3 points on all 516 generated stacks), where the mask's run along z through the end ends within
// kTipZReachUm up and down.
constexpr double kTipZStretchUm = 1.5;
constexpr double kTipZReachUm = 3.0;
// A free end whose skeleton stops more than kTipShortUm short of (the mask's edge ahead) - (the tube's radius) goes on
// to there, by up to kTipMaxReachUm, and one that runs on more than kTipShortUm past it is cut back to there: tips
// stop 0.3-1.1 µm short now and then (10101: 1.07 µm, a thick dendrite) or run 0.3-0.45 µm on into the cap (11905:
// +3.1% of an 11 µm dendrite). On the 117 tips of the touching tip sets, the along-axis error's sd went from 0.212
// to 0.190 µm (0.4 µm instead of 0.3: only 10101 and 11606 moved on the 516 stacks). A skeleton may stop 1.6 µm short
// (15915; -4.4% with 1.5 µm): of the 1392 stacks of session 16, 2.0 µm moves that one alone.
constexpr double kTipShortUm = 0.3;
constexpr double kTipMaxReachUm = 2.0;
constexpr double kTipLookUm = 3.0;  // how far the runs across, up and ahead of the tube may go
// A piece within kRetraceUm (µm) of a longer one over more than kRetraceShare of its length retraces it.
constexpr double kRetraceUm = 0.5;
constexpr double kRetraceShare = 0.5;
// How much nearer a face a short branch's end must be than its junction to count as heading for it (µm).
constexpr double kFaceApproachUm = 0.5;

Vec3 operator*(double s, const Vec3& a) { return a * s; }
double dot(const Vec3& a, const Vec3& b) { return a.dot(b); }
double norm(const Vec3& a) { return a.norm(); }
Vec3 unit(const Vec3& a) {
  const double n = norm(a);
  return n > 1e-12 ? (1.0 / n) * a : Vec3{};
}

using Polyline = std::vector<Vec3>;

double polyline_length(const Polyline& p) {
  double sum = 0.0;
  for (std::size_t n = 1; n < p.size(); ++n) sum += norm(p[n] - p[n - 1]);
  return sum;
}

// The largest distance (µm) from a point of either polyline to the nearest point of the other.
double separation(const Polyline& p, const Polyline& q) {
  auto farthest = [](const Polyline& from, const Polyline& to) {
    double worst = 0.0;
    for (const Vec3& a : from) {
      double best = 1e300;
      for (const Vec3& b : to) best = std::min(best, norm(a - b));
      worst = std::max(worst, best);
    }
    return worst;
  };
  return std::max(farthest(p, q), farthest(q, p));
}

// The point at arc length @p s from the start (clamped to the ends).
Vec3 point_at(const Polyline& p, double s) {
  if (p.empty()) return {};
  for (std::size_t n = 1; n < p.size(); ++n) {
    const double seg = norm(p[n] - p[n - 1]);
    if (s <= seg) return seg > 0 ? p[n - 1] + (s / seg) * (p[n] - p[n - 1]) : p[n];
    s -= seg;
  }
  return p.back();
}

// The median of @p v (its upper middle element for an even count; 0 when empty).
double median_of(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// Points every @p step along @p p, ends included.
Polyline resample(const Polyline& p, double step) {
  const double length = polyline_length(p);
  const int count = std::max(1, static_cast<int>(std::ceil(length / step)));
  Polyline out;
  out.reserve(count + 1);
  std::size_t seg = 1;
  double seg_start = 0.0;
  for (int n = 0; n <= count; ++n) {
    const double s = length * n / count;
    while (seg + 1 < p.size() && seg_start + norm(p[seg] - p[seg - 1]) < s) {
      seg_start += norm(p[seg] - p[seg - 1]);
      ++seg;
    }
    if (p.size() < 2) {
      out.push_back(p.front());
      continue;
    }
    const double l = norm(p[seg] - p[seg - 1]);
    const double t = l > 0 ? std::clamp((s - seg_start) / l, 0.0, 1.0) : 0.0;
    out.push_back(p[seg - 1] + t * (p[seg] - p[seg - 1]));
  }
  return out;
}

// Moving average over @p window_um of a uniformly resampled polyline; the window shrinks symmetrically near the
// ends so both ends stay where they are (branches keep meeting at their junction).
Polyline smooth(const Polyline& p, double window_um, double step) {
  const long n = static_cast<long>(p.size());
  const long half = static_cast<long>(std::lround(0.5 * window_um / step));
  if (half < 1 || n < 3) return p;
  std::vector<Vec3> prefix(n + 1);
  for (long i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + p[i];
  Polyline out(n);
  for (long i = 0; i < n; ++i) {
    const long h = std::min({half, i, n - 1 - i});
    out[i] = (1.0 / (2 * h + 1)) * (prefix[i + h + 1] - prefix[i - h]);
  }
  return out;
}

struct Vertex {
  Vec3 p;
  double r = 0.0;
  std::vector<int> edges;
  bool alive = true;
  bool lane_end = false;  ///< a face end placed on its side of a merged stem (not tracked to the face again)
};

struct Edge {
  int a = -1, b = -1;
  Polyline pts;  // from a to b, both vertex positions included
  bool alive = true;
};

struct Candidate {
  Vec3 base, tip;
};

class Graph {
 public:
  std::vector<Vertex> v;
  std::vector<Edge> e;

  int degree(int vi) const {
    int d = 0;
    for (int ei : v[vi].edges) d += (e[ei].a == vi) + (e[ei].b == vi);
    return d;
  }
  int other(int ei, int vi) const { return e[ei].a == vi ? e[ei].b : e[ei].a; }
  double length(int ei) const { return polyline_length(e[ei].pts); }
  Polyline from(int ei, int vi) const {
    Polyline p = e[ei].pts;
    if (e[ei].a != vi) std::reverse(p.begin(), p.end());
    return p;
  }
  void detach(int ei, int vi) {
    auto& list = v[vi].edges;
    list.erase(std::remove(list.begin(), list.end(), ei), list.end());
  }
  void remove_edge(int ei) {
    e[ei].alive = false;
    detach(ei, e[ei].a);
    detach(ei, e[ei].b);
  }
  int add_edge(int a, int b, Polyline pts) {
    e.push_back(Edge{a, b, std::move(pts), true});
    const int ei = static_cast<int>(e.size()) - 1;
    v[a].edges.push_back(ei);
    if (b != a) v[b].edges.push_back(ei);
    return ei;
  }
  // Joins edges e1 (ending at vi) and e2 (starting at vi) into one edge; vi keeps its other edges.
  int join(int e1, int e2, int vi) {
    Polyline p = from(e1, vi);
    std::reverse(p.begin(), p.end());
    const Polyline q = from(e2, vi);
    p.insert(p.end(), q.begin() + 1, q.end());
    const int a = other(e1, vi), b = other(e2, vi);
    remove_edge(e1);
    remove_edge(e2);
    return add_edge(a, b, std::move(p));
  }
  // Merges the two edges of a degree-2 vertex. Two edges that both lead to one other vertex run around a hole in
  // the mask: merged they would make a loop (dropped later with whatever lies beyond it), so the longer goes.
  bool dissolve(int vi) {
    if (degree(vi) != 2 || v[vi].edges.size() != 2) return false;
    const int e0 = v[vi].edges[0], e1 = v[vi].edges[1];
    if (other(e0, vi) == other(e1, vi)) {
      remove_edge(length(e0) > length(e1) ? e0 : e1);
      return false;
    }
    join(e0, e1, vi);
    v[vi].alive = false;
    return true;
  }
  // Unit direction of edge @p ei leaving vertex @p vi, measured beyond the vertex's radius.
  Vec3 direction(int ei, int vi) const {
    const Polyline p = from(ei, vi);
    const double length = polyline_length(p);
    const double s1 = std::min(v[vi].r, length / 3.0), s2 = std::min(s1 + 2.0, length);
    return unit(point_at(p, s2) - point_at(p, s1));
  }
};

// Distance (µm) from the centre of voxel (i, j, k) to the centre of the nearest zero voxel of @p object (voxels
// outside the volume ignored; 1e10 when there is none): the local radius at a skeleton voxel. A box of half-size
// h µm is searched, h doubling until the nearest zero voxel lies within h (nothing outside the box is nearer).
double radius_at(const Volume<std::uint8_t>& object, long i, long j, long k) {
  const Spacing sp = object.spacing();
  const long nx = static_cast<long>(object.nx()), ny = static_cast<long>(object.ny()), nz = static_cast<long>(object.nz());
  for (double h = 1.0;; h *= 2.0) {
    const long hx = static_cast<long>(std::ceil(h / sp.x_um)), hy = static_cast<long>(std::ceil(h / sp.y_um)),
               hz = static_cast<long>(std::ceil(h / sp.z_um));
    const long i0 = std::max(0L, i - hx), i1 = std::min(nx - 1, i + hx), j0 = std::max(0L, j - hy),
               j1 = std::min(ny - 1, j + hy), k0 = std::max(0L, k - hz), k1 = std::min(nz - 1, k + hz);
    double best2 = 1e300;
    for (long c = k0; c <= k1; ++c) {
      const double dz2 = (c - k) * sp.z_um * (c - k) * sp.z_um;
      if (dz2 >= best2) continue;
      for (long b = j0; b <= j1; ++b) {
        const double dyz2 = dz2 + (b - j) * sp.y_um * (b - j) * sp.y_um;
        if (dyz2 >= best2) continue;
        const std::uint8_t* row = object.data() + object.index(0, b, c);
        for (long a = i0; a <= i1; ++a)
          if (!row[a]) best2 = std::min(best2, dyz2 + (a - i) * sp.x_um * (a - i) * sp.x_um);
      }
    }
    if (best2 <= h * h) return std::sqrt(best2);
    if (i0 == 0 && j0 == 0 && k0 == 0 && i1 == nx - 1 && j1 == ny - 1 && k1 == nz - 1)
      return best2 < 1e300 ? std::sqrt(best2) : 1e10;
  }
}

// Skeleton voxels -> vertices (ends, junction clusters) and edges (voxel paths between them).
Graph build_graph(const Volume<std::uint8_t>& skel, const Volume<std::uint8_t>& object) {
  const Spacing sp = skel.spacing();
  std::vector<std::size_t> voxels;
  for (std::size_t n = 0; n < skel.size(); ++n)
    if (skel[n]) voxels.push_back(n);
  std::unordered_map<std::size_t, int> id;
  for (std::size_t t = 0; t < voxels.size(); ++t) id[voxels[t]] = static_cast<int>(t);
  const long nx = static_cast<long>(skel.nx()), ny = static_cast<long>(skel.ny());
  auto coords = [&](std::size_t n, long* i, long* j, long* k) {
    *i = static_cast<long>(n % nx), *j = static_cast<long>((n / nx) % ny), *k = static_cast<long>(n / (nx * ny));
  };
  auto position = [&](std::size_t n) {
    long i, j, k;
    coords(n, &i, &j, &k);
    return Vec3{i * sp.x_um, j * sp.y_um, k * sp.z_um};
  };
  std::vector<std::vector<int>> nbrs(voxels.size());
  for (std::size_t t = 0; t < voxels.size(); ++t) {
    long i, j, k;
    coords(voxels[t], &i, &j, &k);
    for (int dz = -1; dz <= 1; ++dz)
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          if (!dx && !dy && !dz) continue;
          if (!skel.inside(i + dx, j + dy, k + dz)) continue;
          auto it = id.find(skel.index(i + dx, j + dy, k + dz));
          if (it != id.end()) nbrs[t].push_back(it->second);
        }
  }
  // Vertex clusters: ends (one neighbour) and 26-connected groups of junction voxels (three or more).
  Graph g;
  std::vector<int> vertex_of(voxels.size(), -1);
  for (std::size_t t = 0; t < voxels.size(); ++t) {
    const std::size_t d = nbrs[t].size();
    if (d == 2 || vertex_of[t] >= 0) continue;
    const int vi = static_cast<int>(g.v.size());
    g.v.push_back({});
    std::vector<int> stack{static_cast<int>(t)}, members;
    vertex_of[t] = vi;
    while (!stack.empty()) {
      const int u = stack.back();
      stack.pop_back();
      members.push_back(u);
      if (nbrs[u].size() < 3) continue;
      for (int w : nbrs[u])
        if (vertex_of[w] < 0 && nbrs[w].size() >= 3) vertex_of[w] = vi, stack.push_back(w);
    }
    Vec3 sum;
    double r = 0.0;
    for (int u : members) {
      long i, j, k;
      coords(voxels[u], &i, &j, &k);
      sum = sum + position(voxels[u]);
      r = std::max(r, radius_at(object, i, j, k));
    }
    g.v[vi].p = (1.0 / members.size()) * sum;
    g.v[vi].r = r;
  }
  // Edges: walk from every vertex voxel along each neighbour that is not in the same cluster.
  std::vector<char> used(voxels.size(), 0);
  std::map<std::pair<int, int>, int> direct;  // vertex-voxel pairs joined without interior voxels
  for (std::size_t t = 0; t < voxels.size(); ++t) {
    const int va = vertex_of[t];
    if (va < 0) continue;
    for (int first : nbrs[t]) {
      if (vertex_of[first] == va) continue;
      if (vertex_of[first] >= 0) {
        const auto key = std::minmax(static_cast<int>(t), first);
        if (direct.count(key)) continue;
        direct[key] = 1;
        g.add_edge(va, vertex_of[first], {g.v[va].p, g.v[vertex_of[first]].p});
        continue;
      }
      if (used[first]) continue;
      Polyline pts{g.v[va].p};
      int prev = static_cast<int>(t), cur = first;
      while (vertex_of[cur] < 0) {
        used[cur] = 1;
        pts.push_back(position(voxels[cur]));
        int next = -1;
        for (int w : nbrs[cur])
          if (w != prev) {
            next = w;
            break;
          }
        if (next < 0 || (used[next] && vertex_of[next] < 0)) break;
        prev = cur;
        cur = next;
      }
      if (vertex_of[cur] < 0) continue;  // a path that ran into itself: a ring without ends, dropped
      pts.push_back(g.v[vertex_of[cur]].p);
      g.add_edge(va, vertex_of[cur], std::move(pts));
    }
  }
  return g;
}

// Distance (µm) from @p p to the nearest face of the stack box [0, box].
double face_gap(const Vec3& p, const PointUm& box) {
  return std::min({p.x, p.y, p.z, box.x_um - p.x, box.y_um - p.y, box.z_um - p.z});
}

bool near_face(const Vec3& p, double margin, const PointUm& box) { return face_gap(p, box) < margin; }

// Component label of every vertex (union over alive edges).
std::vector<int> components(const Graph& g) {
  std::vector<int> parent(g.v.size());
  std::iota(parent.begin(), parent.end(), 0);
  std::function<int(int)> find = [&](int x) { return parent[x] == x ? x : parent[x] = find(parent[x]); };
  for (const auto& e : g.e)
    if (e.alive) parent[find(e.a)] = find(e.b);
  std::vector<int> out(g.v.size());
  for (std::size_t i = 0; i < g.v.size(); ++i) out[i] = find(static_cast<int>(i));
  return out;
}

// Total length (µm) of the alive edges of each component (labels from components(); only those with edges).
std::map<int, double> component_lengths(const Graph& g, const std::vector<int>& comp) {
  std::map<int, double> total;
  for (std::size_t ei = 0; ei < g.e.size(); ++ei)
    if (g.e[ei].alive) total[comp[g.e[ei].a]] += g.length(static_cast<int>(ei));
  return total;
}

// Where @p q (µm) falls in @p object: 0 background, 1 object, 2 outside the volume (nearest voxel).
int mask_state(const Volume<std::uint8_t>& object, const Vec3& q) {
  const Spacing sp = object.spacing();
  const long i = std::lround(q.x / sp.x_um), j = std::lround(q.y / sp.y_um), k = std::lround(q.z / sp.z_um);
  if (!object.inside(i, j, k)) return 2;
  return object(i, j, k) ? 1 : 0;
}

struct Section {
  double area_um2 = 0.0;
  double elongation = 1.0;  ///< variance along the principal axis over the variance across it (1: round)
  Vec3 axis;                ///< principal (longest) axis, on the side of across (the in-plane part of it)
  Vec3 lobe[2];             ///< centroids (µm) of the parts on the + and - side of the centroid along axis
  bool cut = false;         ///< the part reaches the volume's edge (a face cuts the section)
  bool in_window = true;    ///< section_along: taken within the asked stretch, not halfway along a shorter edge
};
// Cross-section of the object in the plane through @p c normal to @p d: the connected part (sampled every
// 0.1 µm within @p reach_um) that holds the object point nearest @p c (an empty section when none is near).
Section cross_section(const Volume<std::uint8_t>& object, Vec3 c, Vec3 d, Vec3 across, double reach_um) {
  d = unit(d);
  Vec3 u = unit(across - dot(across, d) * d);
  if (norm(u) < 0.5) return {};
  const Vec3 w{d.y * u.z - d.z * u.y, d.z * u.x - d.x * u.z, d.x * u.y - d.y * u.x};
  constexpr double kStep = 0.1;
  const int n = static_cast<int>(std::ceil(reach_um / kStep)), side = 2 * n + 1;
  std::vector<char> in(static_cast<std::size_t>(side) * side, 0);
  for (int b = -n; b <= n; ++b)
    for (int a = -n; a <= n; ++a) {
      const int state = mask_state(object, c + (a * kStep) * u + (b * kStep) * w);
      if (state == 2)
        in[(b + n) * side + (a + n)] = 3;
      else if (state == 1)
        in[(b + n) * side + (a + n)] = 1;
    }
  int seed = -1;
  for (int r = 0; r <= n / 2 && seed < 0; ++r)
    for (int b = -r; b <= r && seed < 0; ++b)
      for (int a = -r; a <= r && seed < 0; ++a)
        if (in[(b + n) * side + (a + n)] == 1) seed = (b + n) * side + (a + n);
  if (seed < 0) return {};
  std::vector<int> stack{seed};
  in[seed] = 2;
  double count = 0, sa = 0, sb = 0;
  bool cut = false;
  while (!stack.empty()) {
    const int t = stack.back();
    stack.pop_back();
    const int a = t % side, b = t / side;
    count += 1, sa += a, sb += b;
    const int next[4][2] = {{a - 1, b}, {a + 1, b}, {a, b - 1}, {a, b + 1}};
    for (const auto& nb : next)
      if (nb[0] >= 0 && nb[0] < side && nb[1] >= 0 && nb[1] < side) {
        char& v = in[nb[1] * side + nb[0]];
        if (v == 3) cut = true;
        if (v != 1) continue;
        v = 2;
        stack.push_back(nb[1] * side + nb[0]);
      }
  }
  Section s;
  s.cut = cut;
  // Lobes: the two sides of the section's longest axis (its principal axis, oriented along @p across).
  const double mean_a = sa / count, mean_b = sb / count;
  double caa = 0, cbb = 0, cab = 0;
  for (int t = 0; t < side * side; ++t)
    if (in[t] == 2) {
      const double a = t % side - mean_a, b = t / side - mean_b;
      caa += a * a, cbb += b * b, cab += a * b;
    }
  const double half_trace = 0.5 * (caa + cbb), root = std::sqrt(0.25 * (caa - cbb) * (caa - cbb) + cab * cab);
  s.elongation = (half_trace + root) / std::max(half_trace - root, 1e-9);
  const double angle = 0.5 * std::atan2(2.0 * cab, caa - cbb);
  double ea = std::cos(angle), eb = std::sin(angle);
  if (ea < 0) ea = -ea, eb = -eb;  // u is along across
  s.axis = ea * u + eb * w;
  double lobe_n[2] = {0, 0}, lobe_a[2] = {0, 0}, lobe_b[2] = {0, 0};
  for (int t = 0; t < side * side; ++t)
    if (in[t] == 2) {
      const int a = t % side, b = t / side, h = (a - mean_a) * ea + (b - mean_b) * eb >= 0 ? 0 : 1;
      lobe_n[h] += 1, lobe_a[h] += a, lobe_b[h] += b;
    }
  for (int h = 0; h < 2; ++h)
    if (lobe_n[h] > 0)
      s.lobe[h] = c + ((lobe_a[h] / lobe_n[h] - n) * kStep) * u + ((lobe_b[h] / lobe_n[h] - n) * kStep) * w;
  s.area_um2 = count * kStep * kStep;
  return s;
}

// Sections of edge @p ei (seen from vertex @p vi) every 1 µm from @p s0 to @p s1 µm off the vertex, principal axis
// oriented along @p across: the smallest, or the median area and elongation. An edge too short for the stretch has
// one section halfway along it instead (in_window false).
Section section_along(const Graph& g, const Volume<std::uint8_t>& object, int ei, int vi, double s0, double s1,
                      Vec3 across, bool smallest) {
  const Polyline p = g.from(ei, vi);
  const double length = polyline_length(p);
  s1 = std::min(s1, length - 0.5);
  std::vector<Section> sections;
  for (double s = s0; s <= s1 + 1e-9; s += 1.0) {
    const Vec3 t = point_at(p, std::min(s + 0.5, length)) - point_at(p, std::max(s - 0.5, 0.0));
    sections.push_back(cross_section(object, point_at(p, s), t, across, 3.0));
  }
  if (sections.empty()) {
    sections.push_back(cross_section(object, point_at(p, 0.5 * length),
                                     point_at(p, 0.75 * length) - point_at(p, 0.25 * length), across, 3.0));
    sections.back().in_window = false;
  }
  if (smallest)
    return *std::min_element(sections.begin(), sections.end(),
                             [](const Section& x, const Section& y) { return x.area_um2 < y.area_um2; });
  std::vector<double> areas, elongations;
  for (const Section& x : sections) areas.push_back(x.area_um2), elongations.push_back(x.elongation);
  Section m;
  m.area_um2 = median_of(std::move(areas));
  m.elongation = median_of(std::move(elongations));
  m.in_window = sections.front().in_window;
  return m;
}

// The axes of two dendrites merged side by side along @p pts (every 0.25 µm): each is the centroid of its side of
// the merged cross-section, its offset from the merged axis averaged over ~2 µm (the lobes are noisy). Sections are
// taken from the end of @p pts where side 0 lies towards @p along (from the last point when @p from_end), each
// section's axis oriented by the previous one (a pair may twist); a section smaller than @p min_area_um2 (a gap in
// the mask) puts each axis one radius (@p radii_um) beside the merged one. @p hold_at_faces: a section that a face
// cuts has lost part of its lobes, and the offsets of the last whole section hold there.
void lobe_paths(const Volume<std::uint8_t>& object, const Polyline& pts, Vec3 along, double min_area_um2,
                const double radii_um[2], bool from_end, bool hold_at_faces, Polyline out[2]) {
  const std::size_t count = pts.size();
  std::vector<Vec3> offsets[2] = {std::vector<Vec3>(count), std::vector<Vec3>(count)};
  bool whole_seen = false;
  for (std::size_t step = 0; step < count; ++step) {
    const std::size_t n = from_end ? count - 1 - step : step;
    const Vec3 t = unit(pts[std::min(n + 4, count - 1)] - pts[n > 4 ? n - 4 : 0]);
    const Section here = cross_section(object, pts[n], t, along, 3.0);
    if (hold_at_faces && here.cut && whole_seen) {
      const std::size_t last = from_end ? n + 1 : n - 1;
      for (int k = 0; k < 2; ++k) offsets[k][n] = offsets[k][last];
      continue;
    }
    if (here.area_um2 > min_area_um2) along = here.axis, whole_seen = true;
    const Vec3 side = unit(along - dot(along, t) * t);
    for (int k = 0; k < 2; ++k)
      offsets[k][n] =
          here.area_um2 > min_area_um2 ? here.lobe[k] - pts[n] : ((k == 0 ? 1.0 : -1.0) * radii_um[k]) * side;
  }
  for (int k = 0; k < 2; ++k) {
    offsets[k] = smooth(offsets[k], 2.0, 0.25);
    out[k].resize(count);
    for (std::size_t n = 0; n < count; ++n) out[k][n] = pts[n] + offsets[k][n];
  }
}

// Arm @p ei seen from vertex @p vi: the point @p cut_um along it and its direction away from the vertex there.
struct Arm {
  Vec3 p, d;
  double length = 0.0;
  double s = 0.0;  ///< arc length of p from the vertex
};
// Arm @p p (from the vertex outwards) seen at arc length @p s: its direction over the next 3 µm.
Arm arm_at(const Polyline& p, double length, double s) {
  Arm a;
  a.length = length;
  a.s = s;
  a.p = point_at(p, s);
  a.d = unit(point_at(p, std::min(s + 3.0, length)) - a.p);
  return a;
}
Arm arm_beyond(const Graph& g, int ei, int vi, double cut_um) {
  const Polyline p = g.from(ei, vi);
  const double length = polyline_length(p);
  return arm_at(p, length, std::min(cut_um, 0.4 * length));
}

// As arm_beyond, but cut where the arm first lies @p cut_um from the vertex in a straight line, not along it: a
// skeleton that wanders inside a crossing (along z, towards the other dendrite) takes more than @p cut_um of its
// length to leave the crossing's ball.
Arm arm_leaving(const Graph& g, int ei, int vi, double cut_um) {
  const Polyline p = g.from(ei, vi);
  const double length = polyline_length(p);
  double s = 0.0;
  for (std::size_t n = 1; n < p.size(); ++n) {
    const double step = norm(p[n] - p[n - 1]);
    if (s + step > 0.4 * length) break;
    s += step;
    if (norm(p[n] - p.front()) >= cut_um) break;
  }
  return arm_at(p, length, s);
}

// Total turning (radians) of the path that comes in along arm @p a (towards the crossing), runs straight from
// a.p to b.p and leaves along arm @p b: small only when b continues a both in direction and in line (two nearly
// parallel dendrites crossing are told apart by their lateral offset, not only by their angle).
double bend(const Arm& a, const Arm& b) {
  const Vec3 chord = b.p - a.p;
  if (norm(chord) < 1e-6) return std::acos(std::clamp(-dot(a.d, b.d), -1.0, 1.0));
  const Vec3 c = unit(chord);
  return std::acos(std::clamp(-dot(a.d, c), -1.0, 1.0)) + std::acos(std::clamp(dot(c, b.d), -1.0, 1.0));
}

// Cubic Hermite curve from a.p (heading -a.d) to b.p (heading b.d), every ~0.1 µm, ends included.
Polyline hermite(const Arm& a, const Arm& b) {
  const double chord = norm(b.p - a.p);
  const Vec3 t0 = -chord * a.d, t1 = chord * b.d;
  const int count = std::max(1, static_cast<int>(std::ceil(chord / 0.1)));
  Polyline out;
  for (int n = 0; n <= count; ++n) {
    const double s = static_cast<double>(n) / count, s2 = s * s, s3 = s2 * s;
    out.push_back((2 * s3 - 3 * s2 + 1) * a.p + (s3 - 2 * s2 + s) * t0 + (-2 * s3 + 3 * s2) * b.p + (s3 - s2) * t1);
  }
  return out;
}

// The part of @p arm (from the vertex outwards) beyond arc length @p cut_um.
Polyline beyond(const Polyline& arm, double cut_um) {
  Polyline kept;
  double s_acc = 0.0;
  for (std::size_t n = 1; n < arm.size(); ++n) {
    s_acc += norm(arm[n] - arm[n - 1]);
    if (s_acc > cut_um) kept.push_back(arm[n]);
  }
  return kept;
}

// Two arms of a crossing paired as one dendrite's continuation, with the total turning between them.
struct Pair {
  double cost;
  int i, j;
};

// Every pair of @p arms with its total turning (bend).
std::vector<Pair> all_pairs(const std::vector<Arm>& arms) {
  std::vector<Pair> pairs;
  for (std::size_t i = 0; i < arms.size(); ++i)
    for (std::size_t j = i + 1; j < arms.size(); ++j)
      pairs.push_back({bend(arms[i], arms[j]), static_cast<int>(i), static_cast<int>(j)});
  return pairs;
}

// The arm pairs at a crossing of @p count arms. An even count (up to 8) is first matched as a whole, every arm
// paired, by the least total turning: dendrites go on through a crossing, and where three cross or they curve
// there the single best pair is often not part of the right pairing. That matching is kept when no pair turns more
// than twice @p max_bend; otherwise (and for odd counts) pairs are taken greedily, straightest first, up to
// @p max_bend.
std::vector<Pair> crossing_matching(std::vector<Pair> pairs, int count, double max_bend) {
  std::vector<Pair> best;
  if (count % 2 == 0 && count <= 8) {
    std::vector<std::vector<double>> cost(count, std::vector<double>(count, 0.0));
    for (const Pair& p : pairs) cost[p.i][p.j] = cost[p.j][p.i] = p.cost;
    double best_sum = 1e300;
    std::vector<Pair> current;
    std::vector<char> used(count, 0);
    std::function<void(double)> search = [&](double sum) {
      if (sum >= best_sum) return;
      int first = 0;
      while (first < count && used[first]) ++first;
      if (first == count) {
        best_sum = sum;
        best = current;
        return;
      }
      used[first] = 1;
      for (int j = first + 1; j < count; ++j) {
        if (used[j]) continue;
        used[j] = 1;
        current.push_back({cost[first][j], first, j});
        search(sum + cost[first][j]);
        current.pop_back();
        used[j] = 0;
      }
      used[first] = 0;
    };
    search(0.0);
    const bool straight_enough =
        std::none_of(best.begin(), best.end(), [&](const Pair& p) { return p.cost > 2.0 * max_bend; });
    if (!best.empty() && straight_enough) return best;
    best.clear();
  }
  std::stable_sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a.cost < b.cost; });
  std::vector<char> taken(count, 0);
  for (const Pair& p : pairs) {
    if (p.cost > max_bend || taken[p.i] || taken[p.j]) continue;
    taken[p.i] = taken[p.j] = 1;
    best.push_back(p);
  }
  return best;
}

// The object along the line c + a·u, |a| <= reach_um, every 0.1 µm: the run of object samples through the one
// nearest c (within 0.5 µm). lo/hi are its ends (µm along u); *_at_edge: it runs into the volume's edge there.
struct Run {
  double lo = 0.0, hi = 0.0;
  bool lo_at_edge = false, hi_at_edge = false;
  double half_width() const { return 0.5 * (hi - lo); }
};
bool object_run(const Volume<std::uint8_t>& object, Vec3 c, Vec3 u, double reach_um, Run* run) {
  constexpr double kStep = 0.1;
  const int n = static_cast<int>(std::ceil(reach_um / kStep));
  auto state = [&](int a) { return mask_state(object, c + (a * kStep) * u); };
  int seed = 0;
  bool found = false;
  for (int r = 0; r <= 5 && !found; ++r)
    for (int a : {r, -r})
      if (!found && state(a) == 1) seed = a, found = true;
  if (!found) return false;
  int lo = seed, hi = seed;
  while (lo > -n && state(lo - 1) == 1) --lo;
  while (hi < n && state(hi + 1) == 1) ++hi;
  run->lo = lo * kStep, run->hi = hi * kStep;
  run->lo_at_edge = lo > -n && state(lo - 1) == 2;
  run->hi_at_edge = hi < n && state(hi + 1) == 2;
  return true;
}

// object_run's run when it is whole: it ends in background on both sides, not at the volume's edge (a section of a
// tube, not of a tube cut by a face).
bool whole_run(const Volume<std::uint8_t>& object, Vec3 c, Vec3 u, double reach_um, Run* run) {
  return object_run(object, c, u, reach_um, run) && !run->lo_at_edge && !run->hi_at_edge;
}

// Signed distance (µm) of @p p inside the face of the box [0, box] with inward normal @p n_in (an axis).
double face_distance(const Vec3& p, const Vec3& n_in, const PointUm& box) {
  if (n_in.x > 0.5) return p.x;
  if (n_in.x < -0.5) return box.x_um - p.x;
  if (n_in.y > 0.5) return p.y;
  if (n_in.y < -0.5) return box.y_um - p.y;
  if (n_in.z > 0.5) return p.z;
  return box.z_um - p.z;
}

// Inward normals of the box's faces: x = 0, x = max, y = 0, ...
const Vec3 kFaceNormals[6] = {{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1}};

// Inward normal of the face of the box nearest to @p p.
Vec3 nearest_face_normal(const Vec3& p, const PointUm& box) {
  const double d[6] = {p.x, box.x_um - p.x, p.y, box.y_um - p.y, p.z, box.z_um - p.z};
  return kFaceNormals[std::min_element(d, d + 6) - d];
}

// Whether the mask runs unbroken from @p p straight out to the nearest face of the stack (a tube cut by the face
// does; a spine head beside the face does not).
bool mask_reaches_face(const Volume<std::uint8_t>& object, const Vec3& p, const PointUm& box) {
  Run run;
  return object_run(object, p, -1.0 * nearest_face_normal(p, box), face_gap(p, box) + 1.0, &run) && run.hi_at_edge;
}

// The path of a dendrite from its end @p from_end (points from the end inwards) out to the stack face it leaves
// by. The skeleton of a tube cut by the face is not its centerline within a radius of the face (a shallow exit
// runs several µm along the face): the tube is followed from where it is whole, its centre being the middle of
// its section, or one radius in from the section's far edge where the face cuts it. Returns the new path from
// the face inwards, joined to the trusted part of @p from_end, or an empty polyline when that is not possible.
// @p grazing: the path may head straight at the face (sections are then taken across it any way round), and run
// along it to leave by another face; it must stay within a radius and 1 µm of some face. @p tracked_all: set to
// whether the sections followed the tube all the way to a face (not: the last stretch is a straight continuation).
Polyline track_to_face(const Volume<std::uint8_t>& object, const Polyline& from_end, const PointUm& box,
                       bool grazing, bool* tracked_all = nullptr) {
  const double length = polyline_length(from_end);
  if (from_end.size() < 2 || length < 3.0) return {};
  const Vec3 n_in = nearest_face_normal(from_end.front(), box);
  // Section axes across @p d: u towards the inside of the face, the part of its normal across the path; where the
  // path heads straight at the face, any (grazing: the path goes on along the face), else that part however small
  // (making u zero there, the path going on straight, took 306 and 1006 over 3%: the mask is whole up to the face
  // and its sections follow it better).
  auto section_dirs = [&](const Vec3& d, Vec3* u, Vec3* w) {
    Vec3 towards = n_in - dot(n_in, d) * d;
    if (grazing && norm(towards) < 0.5) {
      const Vec3 axis = std::abs(d.z) < 0.7 ? Vec3{0, 0, 1} : Vec3{1, 0, 0};
      towards = axis - dot(axis, d) * d;
    }
    *u = norm(towards) > 1e-9 ? unit(towards) : Vec3{0, 0, 0};
    *w = d.cross(*u);
  };
  // The section across @p d has two axes: the level one (h) and the one that climbs (v), along which the axial
  // blur makes the mask wider (12009: 0.80 against 0.60 µm).
  auto level_dirs = [](const Vec3& d, Vec3* h, Vec3* v) {
    const Vec3 level = d.cross(Vec3{0, 0, 1});
    *h = norm(level) > 0.3 ? unit(level) : unit(Vec3{1, 0, 0} - d.x * d);
    *v = d.cross(*h);
  };
  // Tube half-widths along h and v: medians over whole sections along 2 µm from where the path is 3 µm off the
  // face; across @p d along @p u (an ellipse's): radius_along.
  std::vector<double> half_h, half_v;
  double s_far = -1.0;
  for (double s = 0.0; s < length - 2.0; s += 0.1)
    if (face_distance(point_at(from_end, s), n_in, box) >= 3.0) {
      s_far = s;
      break;
    }
  if (s_far < 0) return {};
  for (double s = s_far; s <= std::min(s_far + 2.0, length - 0.5) + 1e-9; s += 0.5) {
    const Vec3 d = unit(point_at(from_end, std::max(s - 0.5, 0.0)) - point_at(from_end, std::min(s + 0.5, length)));
    Vec3 h, v;
    level_dirs(d, &h, &v);
    Run r;
    if (whole_run(object, point_at(from_end, s), h, 3.0, &r)) half_h.push_back(r.half_width());
    if (whole_run(object, point_at(from_end, s), v, 3.0, &r)) half_v.push_back(r.half_width());
  }
  if (half_h.empty() || half_v.empty()) return {};
  const double radius_h = median_of(std::move(half_h)), radius_v = median_of(std::move(half_v));
  const double radius = std::max(radius_h, radius_v);
  auto radius_along = [&](const Vec3& d, const Vec3& u) {
    Vec3 h, v;
    level_dirs(d, &h, &v);
    const double a = dot(u, h) / radius_h, b = dot(u, v) / radius_v;
    return 1.0 / std::sqrt(a * a + b * b);
  };
  double s0 = -1.0;
  for (double s = 0.0; s < length - 2.0; s += 0.1)
    if (face_distance(point_at(from_end, s), n_in, box) >= radius + 0.4) {
      s0 = s;
      break;
    }
  if (s0 < 0) return {};
  Vec3 p = point_at(from_end, s0);
  Vec3 d = unit(p - point_at(from_end, std::min(s0 + 2.0, length)));
  Polyline track{p};
  constexpr double kStep = 0.2;
  bool reached = false;
  for (int step = 0; step < 200 && !reached; ++step) {
    const Vec3 next = p + kStep * d;
    // The face it leaves by, or (grazing) another one: a tube grazing a face runs along it, up to a corner.
    double exit_at = 2.0;
    for (const Vec3& n : kFaceNormals) {
      if (!grazing && norm(n - n_in) > 1e-9) continue;
      const double f0 = face_distance(p, n, box), f1 = face_distance(next, n, box);
      if (f1 <= 0.0) exit_at = std::min(exit_at, std::max(f0, 0.0) / std::max(f0 - f1, 1e-9));
    }
    if (exit_at <= 1.0) {
      track.push_back(p + exit_at * (next - p));
      reached = true;
      break;
    }
    Vec3 u, w;
    section_dirs(d, &u, &w);
    if (norm(u) < 0.5) break;
    Run ru, rw;
    if (!object_run(object, next, u, radius + 1.5, &ru)) break;
    const double r_u = radius_along(d, u), r_w = radius_along(d, w);
    double cu = 0.0, cw = 0.0;
    if (ru.lo_at_edge && !ru.hi_at_edge)
      cu = ru.hi - r_u;
    else if (!ru.lo_at_edge && !ru.hi_at_edge && ru.hi - ru.lo < 2.0 * r_u + 1.0)
      cu = 0.5 * (ru.lo + ru.hi);
    if (whole_run(object, next, w, radius + 1.5, &rw) && rw.hi - rw.lo < 4.0 * r_w + 2.0)
      cw = 0.5 * (rw.lo + rw.hi);
    if (std::abs(cu) > r_u || std::abs(cw) > 2.0 * r_w) break;  // another structure, not this tube
    // Half the measured offset per step: the sections are a coarse grid; the path follows without jitter.
    const Vec3 q = next + (0.5 * cu) * u + (0.5 * cw) * w;
    d = unit(0.7 * d + 0.3 * unit(q - p));
    p = q;
    if (grazing && face_gap(p, box) > radius + 1.0) break;  // back into the stack: another structure's path
    track.push_back(p);
  }
  if (tracked_all) *tracked_all = reached;
  if (!reached) {
    // The object faded before the face: a short straight continuation when the face is within reach.
    const double f = face_distance(p, n_in, box), along = dot(d, -1.0 * n_in);
    if (along < 0.2 || f / along > radius + 1.0) return {};
    track.push_back(p + (f / along) * d);
  }
  Polyline out(track.rbegin(), track.rend());
  double s_acc = 0.0;
  for (std::size_t n = 1; n < from_end.size(); ++n) {
    s_acc += norm(from_end[n] - from_end[n - 1]);
    if (s_acc > s0) out.push_back(from_end[n]);
  }
  return out;
}

// Pieces (connected components of @p g, lengths @p total) that run along a longer piece over most of their length:
// within kRetraceUm of it over more than kRetraceShare of their own length. Two dendrites side by side, or the lanes
// of a merged stem, lie about their two radii apart; a piece this close retraces the other, and its length would
// count twice. (16422: a dendrite grazing a face split its skeleton in two there; the face tracker took the first
// piece on along the face over the second, which was traced again, with a spine that reaches the next face, as a
// dendrite of its own: 10.7 µm, +14.9%.)
std::set<int> retracing_pieces(const Graph& g, const std::vector<int>& comp, const std::map<int, double>& total) {
  constexpr double kStep = 0.1;
  // Every piece's path every kStep, binned in cubes of kRetraceUm.
  struct Sample {
    Vec3 p;
    int piece;
  };
  std::vector<Sample> samples;
  for (const Edge& e : g.e)
    if (e.alive && e.pts.size() >= 2)
      for (const Vec3& p : resample(e.pts, kStep)) samples.push_back({p, comp[e.a]});
  auto cell = [](const Vec3& p, int dx, int dy, int dz) {
    const auto c = [](double v, int d) { return static_cast<std::uint64_t>(std::floor(v / kRetraceUm) + 4096 + d); };
    return (c(p.x, dx) << 42) | (c(p.y, dy) << 21) | c(p.z, dz);
  };
  std::unordered_map<std::uint64_t, std::vector<std::size_t>> grid;
  for (std::size_t n = 0; n < samples.size(); ++n) grid[cell(samples[n].p, 0, 0, 0)].push_back(n);
  // Length of each piece within kRetraceUm of each other piece.
  std::map<std::pair<int, int>, double> near;
  for (const Sample& s : samples) {
    std::set<int> others;
    for (int dx = -1; dx <= 1; ++dx)
      for (int dy = -1; dy <= 1; ++dy)
        for (int dz = -1; dz <= 1; ++dz) {
          const auto it = grid.find(cell(s.p, dx, dy, dz));
          if (it == grid.end()) continue;
          for (std::size_t m : it->second)
            if (samples[m].piece != s.piece && norm(samples[m].p - s.p) <= kRetraceUm) others.insert(samples[m].piece);
        }
    for (int other : others) near[{s.piece, other}] += kStep;
  }
  std::set<int> out;
  for (const auto& [pair, length] : near)
    if (length > kRetraceShare * total.at(pair.first) && total.at(pair.second) > total.at(pair.first))
      out.insert(pair.first);
  return out;
}

}  // namespace

TraceResult trace_skeleton(const Volume<std::uint8_t>& skeleton, const Volume<std::uint8_t>& object,
                           const PointUm& box, const TraceOptions& o) {
  Graph g = build_graph(skeleton, object);
  const double voxel_um = std::max({skeleton.spacing().x_um, skeleton.spacing().y_um, skeleton.spacing().z_um});
  auto is_boundary_end = [&](int vi) { return near_face(g.v[vi].p, g.v[vi].r + voxel_um + 0.3, box); };
  const double max_bend = o.crossing_angle_deg * kPi / 180.0;
  // A short edge between two junctions: two sides of one crossing (dendrites crossing at an angle theta leave
  // junctions about (r_a + r_b) / sin(theta) apart); such edges are contracted into one crossing.
  auto is_cluster_edge = [&](int ei) {
    const Edge& e = g.e[ei];
    if (!e.alive || e.a == e.b || g.degree(e.a) < 3 || g.degree(e.b) < 3) return false;
    return g.length(ei) < std::clamp(2.0 * (g.v[e.a].r + g.v[e.b].r), 1.0, kMaxClusterEdgeUm);
  };
  // Two edges between the same two junctions with at least four other branches there: a hole in the mask beside a
  // crossing (11711, 11911: sides 3.8-4.5 µm), part of the crossing. Returns the other side of @p ei's hole, or -1.
  auto loop_partner = [&](int ei) {
    const Edge& e = g.e[ei];
    if (!e.alive || e.a == e.b || g.length(ei) >= kMaxHoleSideUm || g.degree(e.a) + g.degree(e.b) < 8) return -1;
    for (int ej : g.v[e.a].edges)
      if (ej != ei && g.other(ej, e.a) == e.b && g.length(ej) < kMaxHoleSideUm &&
          std::max(g.length(ej), g.length(ei)) < kHoleSidesRatio * std::min(g.length(ej), g.length(ei)))
        return ej;
    return -1;
  };
  // One branch through a crossing: arm @p ea (seen from vertex @p va) cut back to arm.p, a smooth curve to
  // arm eb's cut point, arm eb; the curve's points are remembered (no intensity refinement there).
  std::vector<Vec3> crossing_pts, merged_pts;
  auto add_through = [&](int ea, int va, const Arm& arm_a, int eb, int vb, const Arm& arm_b) {
    Polyline path = beyond(g.from(ea, va), arm_a.s);
    std::reverse(path.begin(), path.end());
    const Polyline mid = hermite(arm_a, arm_b);
    crossing_pts.insert(crossing_pts.end(), mid.begin(), mid.end());
    path.insert(path.end(), mid.begin(), mid.end());
    const Polyline tail = beyond(g.from(eb, vb), arm_b.s);
    path.insert(path.end(), tail.begin(), tail.end());
    g.add_edge(g.other(ea, va), g.other(eb, vb), std::move(path));
  };

  // Two dendrites that converge, run merged side by side and part again ("kiss") look like two forks joined by a
  // bridge whose arms pair straight neither way. The bridge's cross-section is about two arms' and flattened (as a
  // stem merged from a face): each dendrite then follows its own side of the merged stretch, and each arm on one
  // fork goes on with the arm on the other fork that leaves from the same side. @p pairing: 0 or 1 when the arms'
  // directions already pair them (arm i of j1 with arm i, or with arm 1 - i, of j2); the sides must agree.
  auto split_kiss = [&](int bi, int j1, int j2, const std::vector<int>& arms1, const std::vector<int>& arms2,
                        const Arm a1[2], const Arm a2[2], double cut, int pairing) {
    const double length = g.length(bi);
    const Vec3 across = a1[0].p - a1[1].p;
    // Within ~1 µm of the forks the lobes are not yet apart: a merged stretch less than 0.5 µm long beyond the cuts
    // is left to a smooth curve (2 µm kept 11317's 5.7 µm bridge, 1.7 µm beyond its cuts, a curve 1.4 µm off; 1 µm
    // kept 11216's and 304's, 0.8-0.9 µm beyond, 0.03 µm RMS worse). The lanes run between the skeleton points
    // beyond the cuts, which may be less than that (11606: 0.4 of 0.81 µm); they are used all the same.
    if (length < 2.0 * cut + 0.5 || norm(across) < 1e-6) return false;
    const Section merged = section_along(g, object, bi, j1, cut, length - cut, across, false);
    if (merged.elongation < kMergedElongation) return false;
    double radii[2] = {0, 0};
    for (int side = 0; side < 2; ++side) {
      const int j = side == 0 ? j1 : j2;
      const std::vector<int>& arms = side == 0 ? arms1 : arms2;
      double area[2];
      bool own[2];  // the arm reaches beyond the fork's ball far enough for a section of its own
      for (int k = 0; k < 2; ++k) {
        const Section sk = section_along(g, object, arms[k], j, g.v[j].r + 2.0, g.v[j].r + 6.0, across, true);
        area[k] = sk.area_um2, own[k] = sk.in_window;
      }
      // An arm too short for a section of its own (a face or the next fork cuts it: 14336's face arm, 2.2 µm) has
      // the merged stretch's section there; the other arm's stands for it (the two dendrites alike).
      if (own[0] != own[1]) area[own[0] ? 1 : 0] = area[own[0] ? 0 : 1];
      const double larger = std::max(area[0], area[1]);
      // An arm may still hold part of the merged stretch (the fork lies before the parting): the thinner arm is then
      // the one dendrite's section.
      const double smaller = std::min(area[0], area[1]);
      if (smaller <= 0.0 || (merged.area_um2 < 1.5 * larger && merged.area_um2 < 1.8 * smaller) ||
          merged.area_um2 < 0.7 * (area[0] + area[1]))
        return false;
      if (side == 0) radii[0] = std::sqrt(area[0] / kPi), radii[1] = std::sqrt(area[1] / kPi);
    }
    // The merged stretch between the cuts, every 0.25 µm from fork j1; side 0 lies towards arm 0 of j1.
    Polyline mid;
    {
      const Polyline p = g.from(bi, j1);
      double s_acc = 0.0;
      for (std::size_t n = 0; n < p.size(); ++n) {
        if (n > 0) s_acc += norm(p[n] - p[n - 1]);
        if (s_acc >= cut && s_acc <= length - cut) mid.push_back(p[n]);
      }
      if (mid.size() < 2) return false;
      mid = resample(mid, 0.25);
    }
    Polyline lanes[2];
    lobe_paths(object, mid, across, 0.5 * merged.area_um2, radii, false, true, lanes);
    const Vec3 side_out = lanes[0].back() - lanes[1].back();
    const bool side_swap = dot(a2[1].p - mid.back(), side_out) > dot(a2[0].p - mid.back(), side_out);
    const bool swap = pairing >= 0 ? pairing == 1 : side_swap;
    // Paired against their sides, the two cross within the merged stretch (1018, 11907: at a shallow angle, one
    // above the other): each changes lanes where the lanes come nearest, blended over kLaneChangeUm either side.
    if (swap != side_swap) {
      std::size_t at = 0;
      for (std::size_t n = 1; n < lanes[0].size(); ++n)
        if (norm(lanes[0][n] - lanes[1][n]) < norm(lanes[0][at] - lanes[1][at])) at = n;
      Polyline changed[2] = {lanes[0], lanes[1]};
      for (std::size_t n = 0; n < lanes[0].size(); ++n) {
        const double from_at_um = 0.25 * (static_cast<double>(n) - static_cast<double>(at));  // lanes: every 0.25 µm
        const double f = std::clamp(from_at_um / (2.0 * kLaneChangeUm) + 0.5, 0.0, 1.0);
        const double w = f * f * (3.0 - 2.0 * f);
        for (int i = 0; i < 2; ++i) changed[i][n] = (1.0 - w) * lanes[i][n] + w * lanes[1 - i][n];
      }
      lanes[0] = std::move(changed[0]), lanes[1] = std::move(changed[1]);
    }
    for (int i = 0; i < 2; ++i) {
      const int k = swap ? 1 - i : i;
      const Polyline& lane = lanes[i];
      Polyline path = beyond(g.from(arms1[i], j1), std::min(cut, 0.4 * a1[i].length));
      std::reverse(path.begin(), path.end());
      const Arm in{lane.front(), unit(lane[1] - lane.front()), 0.0};
      const Arm out{lane.back(), unit(lane[lane.size() - 2] - lane.back()), 0.0};
      const Polyline h1 = hermite(a1[i], in), h2 = hermite(out, a2[k]);
      crossing_pts.insert(crossing_pts.end(), h1.begin(), h1.end());
      crossing_pts.insert(crossing_pts.end(), h2.begin(), h2.end());
      merged_pts.insert(merged_pts.end(), lane.begin(), lane.end());
      path.insert(path.end(), h1.begin(), h1.end());
      path.insert(path.end(), lane.begin() + 1, lane.end());
      path.insert(path.end(), h2.begin() + 1, h2.end());
      const Polyline tail = beyond(g.from(arms2[k], j2), std::min(cut, 0.4 * a2[k].length));
      path.insert(path.end(), tail.begin(), tail.end());
      g.add_edge(g.other(arms1[i], j1), g.other(arms2[k], j2), std::move(path));
    }
    for (int ei : {arms1[0], arms1[1], arms2[0], arms2[1], bi}) g.remove_edge(ei);
    g.v[j1].alive = g.v[j2].alive = false;
    return true;
  };

  // Cross-section areas (µm²) of edge @p ei seen from its vertex @p vi: the smallest beyond the vertex's ball (a
  // spine's neck; half a dendrite's section or more for a dendrite's own tip or exit), and the median 1-4 µm beyond
  // it (a dendrite's section). An edge too short to reach 1 µm beyond the ball has no section there; the neck is
  // then taken halfway along it, or, @p to_end, over its last 0.5 µm (is_terminal_tip, below).
  auto across_edge = [&](int ei, int vi) {
    const Vec3 d = g.direction(ei, vi);
    return unit(d.cross(std::abs(d.z) > 0.7 ? Vec3{1, 0, 0} : Vec3{0, 0, 1}));
  };
  auto neck_area = [&](int ei, int vi, bool to_end = false) {
    const double r = g.v[vi].r, length = g.length(ei);
    const double s0 = to_end ? std::min(r + 0.5, length - 0.5) : r + 0.5;
    return section_along(g, object, ei, vi, s0, length - 0.5, across_edge(ei, vi), true).area_um2;
  };
  auto shaft_area = [&](int ei, int vi) {
    const double r = g.v[vi].r;
    return section_along(g, object, ei, vi, r + 1.0, r + 4.0, across_edge(ei, vi), false).area_um2;
  };
  // Short self-loops and short parallel edges come from small holes in the mask; so do two parallel edges of any
  // length that never part by more than the wider junction's radius: both run inside one tube around a hole (two
  // dendrites that part and meet again lie about a diameter apart between). Such a loop left in place where two
  // dendrites merge makes a four-arm junction whose arms pair wrongly. (Run again at the end: resolving crossings
  // can leave such a loop, and small rings around a spine head touching the shaft are no dendrite length.)
  auto remove_hole_loops = [&](bool after_crossings) {
    for (std::size_t ei = 0; ei < g.e.size(); ++ei)
      if (g.e[ei].alive && g.e[ei].a == g.e[ei].b && g.length(static_cast<int>(ei)) < 4.0 * o.max_spine_length_um)
        g.remove_edge(static_cast<int>(ei));
    for (std::size_t ei = 0; ei < g.e.size(); ++ei) {
      if (!g.e[ei].alive) continue;
      for (std::size_t ej = ei + 1; ej < g.e.size(); ++ej) {
        if (!g.e[ej].alive || !g.e[ei].alive) continue;
        const bool same = (g.e[ei].a == g.e[ej].a && g.e[ei].b == g.e[ej].b) ||
                          (g.e[ei].a == g.e[ej].b && g.e[ei].b == g.e[ej].a);
        if (!same) continue;
        const double li = g.length(static_cast<int>(ei)), lj = g.length(static_cast<int>(ej));
        const bool one_tube =
            separation(g.e[ei].pts, g.e[ej].pts) <= std::max(g.v[g.e[ei].a].r, g.v[g.e[ei].b].r);
        // After crossings are resolved a short loop may be a bridge's stretch beside the curve drawn across it.
        const bool short_loop = after_crossings && std::min(li, lj) < o.max_spine_length_um &&
                                std::max(li, lj) < 2.0 * o.max_spine_length_um;
        if (one_tube || short_loop || std::max(li, lj) < o.max_spine_length_um)
          g.remove_edge(static_cast<int>(li > lj ? ei : ej));
      }
    }
    for (std::size_t vi = 0; vi < g.v.size(); ++vi)
      if (g.v[vi].alive) g.dissolve(static_cast<int>(vi));
  };
  remove_hole_loops(false);
  // A loop left whose one side is far thinner than the other (its narrowest section under kThinSideFraction of the
  // other's) is a spine whose head touches the dendrite again, not a second dendrite: inside a sharp bend (14000: a
  // spine between the arms of a V, 0.35 µm² against 4.8; the loop took the tip arm's junction, and the tip, 3.3 µm
  // past it, went as a spine, -10.9%). Both sides must reach beyond both junctions' balls to have a section.
  for (std::size_t ei = 0; ei < g.e.size(); ++ei) {
    const int ek = static_cast<int>(ei), va = g.e[ei].a, vb = g.e[ei].b;
    if (!g.e[ei].alive || va == vb) continue;
    int thin = -1;
    for (int ej : g.v[va].edges) {
      if (ej <= ek || g.other(ej, va) != vb) continue;
      if (std::min(g.length(ek), g.length(ej)) < g.v[va].r + g.v[vb].r + 1.0) continue;
      const double nk = neck_area(ek, va), nj = neck_area(ej, va);
      if (std::min(nk, nj) < kThinSideFraction * std::max(nk, nj)) thin = nk < nj ? ek : ej;
    }
    if (thin < 0) continue;
    g.remove_edge(thin);
    g.dissolve(va);
    g.dissolve(vb);
  }

  // Spines: prune the shortest terminal side branch first, then re-join what it split.
  std::vector<Candidate> candidates;
  // An end inside the stack whose path, within the last max_spine_length_um, reached into a tube cut by a face (to
  // within half the tube's radius of the face: a skeleton stays a radius inside a whole tube) and turned away again:
  // the dendrite left the stack there, and its skeleton (which ends about one radius inside a cut face) ran on into
  // a spine beside the exit. The edge is cut where it came nearest the face; the rest is a spine candidate. So is
  // an end whose last stretch is a spine beside the dendrite's own tip (below).
  {
    const Spacing sp = object.spacing();
    auto radius_of = [&](const Vec3& q) {
      return radius_at(object, std::lround(q.x / sp.x_um), std::lround(q.y / sp.y_um), std::lround(q.z / sp.z_um));
    };
    for (std::size_t vi = 0; vi < g.v.size(); ++vi) {
      const int end = static_cast<int>(vi);
      if (!g.v[end].alive || g.degree(end) != 1 || is_boundary_end(end)) continue;
      const int ei = g.v[end].edges[0];
      if (g.e[ei].a == g.e[ei].b) continue;
      const Polyline p = g.from(ei, end);
      std::vector<double> s_at(p.size(), 0.0);  // arc length from the end
      for (std::size_t n = 1; n < p.size(); ++n) s_at[n] = s_at[n - 1] + norm(p[n] - p[n - 1]);
      std::size_t best = 0;
      for (std::size_t n = 1; n + 1 < p.size() && s_at[n] <= o.max_spine_length_um; ++n)
        if (best == 0 || face_gap(p[n], box) < face_gap(p[best], box)) best = n;
      bool cut_here = best > 0 && face_gap(p.front(), box) - face_gap(p[best], box) >= 0.3 &&
                      face_gap(p[best], box) <= 0.5 * radius_of(p[best]);
      if (!cut_here) {
        // A dendrite's tip with a spine beside it: the skeleton may end in the spine instead of a spur of its own.
        // The last stretch is then thinner than half the dendrite from the spine's base on: cut there. Where the
        // skeleton ends in the spine's head, the thin stretch (the neck) begins past the head, within
        // kMaxSpineHeadUm of the end (15307: a head 0.53 µm in radius against the dendrite's 1.0, then a neck of
        // 0.28-0.40 µm, the trace ending in the head 1.8 µm off the tip: +2.9%, 0.27 µm RMS).
        std::vector<double> wide;
        for (std::size_t n = 0; n < p.size(); ++n)
          if (s_at[n] >= o.max_spine_length_um + 1.0 && s_at[n] <= o.max_spine_length_um + 4.0)
            wide.push_back(radius_of(p[n]));
        if (wide.size() >= 3) {
          const double dendrite_r = median_of(std::move(wide));
          std::size_t n = 0;
          while (n + 1 < p.size() && s_at[n] <= kMaxSpineHeadUm && radius_of(p[n]) >= 0.5 * dendrite_r) ++n;
          if (s_at[n] > kMaxSpineHeadUm || radius_of(p[n]) >= 0.5 * dendrite_r) n = 0;  // no neck past a head
          while (n + 1 < p.size() && s_at[n] <= o.max_spine_length_um && radius_of(p[n]) < 0.5 * dendrite_r) ++n;
          if (s_at[n] >= 0.5 && s_at[n] <= o.max_spine_length_um) best = n, cut_here = true;
        }
      }
      if (!cut_here) continue;
      const double r = radius_of(p[best]);
      Polyline keep(p.begin() + static_cast<long>(best), p.end());
      std::reverse(keep.begin(), keep.end());
      const int junction = g.other(ei, end);
      g.v.push_back(Vertex{p[best], r, {}, true});
      const int cut = static_cast<int>(g.v.size()) - 1;
      candidates.push_back({p[best], p.front()});
      g.remove_edge(ei);
      g.v[end].alive = false;
      g.add_edge(junction, cut, std::move(keep));
    }
  }
  // Where a dendrite leaves the stack its skeleton may fork into several ends on the face: the one that
  // continues the dendrite straightest stays, the others are twigs. A short branch that ends at a face beside a
  // dendrite running straight through the junction (two long branches that continue each other better than
  // either continues it) is a spine reaching the face, not an exit. Only short branches are twigs: a long one
  // is a dendrite leaving the stack.
  auto is_twig_end = [&](int ej, int junction) {
    const int end = g.other(ej, junction);
    return g.e[ej].a != g.e[ej].b && g.degree(end) == 1 && is_boundary_end(end) &&
           g.length(ej) - g.v[junction].r < o.max_spine_length_um;
  };
  auto better_boundary_twig = [&](int ei, int junction) {
    int main = -1;
    for (int ej : g.v[junction].edges)
      if (g.e[ej].a != g.e[ej].b && !is_twig_end(ej, junction) && (main < 0 || g.length(ej) > g.length(main)))
        main = ej;
    auto score = [&](int ej) {
      return main < 0 ? g.length(ej) : -dot(g.direction(ej, junction), g.direction(main, junction));
    };
    for (int ej : g.v[junction].edges)
      if (ej != ei && is_twig_end(ej, junction) && score(ej) >= score(ei)) return true;
    std::vector<int> through;
    for (int ej : g.v[junction].edges)
      if (g.e[ej].a != g.e[ej].b && !is_twig_end(ej, junction)) through.push_back(ej);
    double straight_through = -1.0, straight_twig = -1.0;
    for (std::size_t a = 0; a < through.size(); ++a) {
      const Vec3 da = g.direction(through[a], junction);
      straight_twig = std::max(straight_twig, -dot(da, g.direction(ei, junction)));
      for (std::size_t b = a + 1; b < through.size(); ++b)
        straight_through = std::max(straight_through, -dot(da, g.direction(through[b], junction)));
    }
    if (!(straight_through > std::cos(max_bend) && straight_through > straight_twig)) return false;
    // ... and thinner than the dendrite (two dendrites that part near a face are alike).
    double shaft = 0.0;
    for (int ej : through) shaft = std::max(shaft, shaft_area(ej, junction));
    return neck_area(ei, junction) < 0.5 * shaft;
  };
  // A short branch that ends inside the stack and may be pruned (a spine candidate).
  auto is_inner_spur = [&](int ej, int junction) {
    const int end = g.other(ej, junction);
    return g.e[ej].a != g.e[ej].b && g.degree(end) == 1 && !is_boundary_end(end) &&
           g.length(ej) - g.v[junction].r < o.max_spine_length_um;
  };
  // Where a dendrite ends inside the stack its last fork may be the tip and a spine, both short: the spur that
  // continues the one remaining branch (the parent) straightest is the dendrite's tip and stays; the others go
  // first, whichever is shorter. Not when another spur is clearly longer: a bump on the end of a longer spur
  // (axial blur) is no tip; shortest-first then keeps the longer one. Unless that longer spur leaves sideways or turns
  // back (its end 80 degrees or more off the parent's way on, seen from the junction; 14719's spine rose straight
  // up in z from beside the tip, at 90 degrees, and the trace ended in it: 0.51 µm RMS) and has a neck (thinner than
  // half the parent's section): a spine beside a tip whose own spur hardly leaves the junction's ball (11904: 0.8 µm,
  // the trace ended in the spine; 0.41 µm RMS). The neck is sought from the junction's ball on, or over the spur's last
  // 0.5 µm where the spur is shorter than the ball's radius and 1 µm (neck_area's to_end): 11904's spine (2.1 µm)
  // leaves along the dendrite's side, at 89 degrees, and the section halfway along it lay in the dendrite (0.28 µm
  // RMS). Only here: for an exit at a face (better_boundary_twig) that last stretch is cut by the face (1019 went
  // +4.4%). Sideways spurs at the real meshes' ends turn back by less than that, or are thick (at 50 degrees and
  // without the neck test, three of them went as spines and took the dendrite's end with them: mesh recall 0.735 ->
  // 0.684).
  auto is_terminal_tip = [&](int ei, int junction) {
    int parent = -1, spurs = 0;
    for (int ej : g.v[junction].edges) {
      if (g.e[ej].a == g.e[ej].b) continue;
      if (is_inner_spur(ej, junction)) {
        ++spurs;
      } else {
        if (parent >= 0) return false;
        parent = ej;
      }
    }
    if (parent < 0 || spurs < 2) return false;
    const Vec3 dp = g.direction(parent, junction);
    const double own = -dot(dp, g.direction(ei, junction)), own_length = g.length(ei);
    for (int ej : g.v[junction].edges) {
      if (ej == ei || g.e[ej].a == g.e[ej].b || !is_inner_spur(ej, junction)) continue;
      const double straight = -dot(dp, g.direction(ej, junction));
      if (straight >= own) return false;
      const double chord = -dot(dp, unit(g.v[g.other(ej, junction)].p - g.v[junction].p));
      if (g.length(ej) > own_length + kTipSlackUm &&
          (chord >= kSidewaysChord || neck_area(ej, junction, true) >= 0.5 * shaft_area(parent, junction)))
        return false;
    }
    return true;
  };
  // Two dendrites that cross and each end just beyond the other (11205: 1.5-2 µm) leave a crossing with two long
  // branches and two short spurs, each spur the straightest continuation of one long branch and that branch's own
  // straightest: the two tips, not spines. No thickness test here, unlike the same scene spread over a cluster of
  // junctions (is_tip_through_crossing's corner case, below): the mutual straightest continuation is the stronger
  // evidence, and the thinner dendrite's tip may lie inside the thicker one's mask (11205: its narrowest section 4.9
  // times the thin dendrite's; with the corner case's band instead of this rule it traced two dendrites of three).
  auto is_tip_beyond_crossing = [&](int ei, int junction) {
    std::vector<int> arms;
    for (int ej : g.v[junction].edges)
      if (g.e[ej].a != g.e[ej].b) arms.push_back(ej);
    if (arms.size() != 4) return false;
    auto straightest = [&](int e) {
      int best = -1;
      double best_c = -2.0;
      for (int ej : arms) {
        const double c = -dot(g.direction(ej, junction), g.direction(e, junction));
        if (ej != e && c > best_c) best = ej, best_c = c;
      }
      return std::make_pair(best, best_c);
    };
    auto tip_of = [&](int spur) {  // the long branch @p spur continues, or -1
      if (!is_inner_spur(spur, junction) || g.length(spur) < g.v[junction].r + 1.0) return -1;
      const auto [parent, straight] = straightest(spur);
      if (parent < 0 || straight < std::cos(max_bend) || is_inner_spur(parent, junction) ||
          straightest(parent).first != spur)
        return -1;
      return parent;
    };
    const int parent = tip_of(ei);
    if (parent < 0) return false;
    for (int ej : arms)
      if (ej != ei && ej != parent) {
        const int other = tip_of(ej);
        if (other >= 0 && other != parent) return true;
      }
    return false;
  };
  // A dendrite that ends just beyond a crossing (11911: 2.3 µm) leaves the crossing (junctions linked by short edges
  // or by the two sides of a hole) an odd number of long branches: those of the dendrites going through pair up (as
  // at the crossings below, within twice the crossing angle) and one is left over. The spur that continues that one
  // straightest, within the crossing angle, is its tip, not a spine. Not when another spur there is longer by more
  // than kTipSlackUm (a bump on the tip's end, as at a last fork). Up to twice the angle only when the spur is as
  // thick as the dendrite, its narrowest section 0.7-1.4 times the dendrite's: 11608's curling tip (1.4 rad) is 0.88;
  // spines kept at twice the angle with the looser band below were 0.53-0.57 (a mushroom spine beside a crossing,
  // 11337) and 1.48-1.58 (thicker than the dendrite, 11106 and 5002); each then joined the wrong arms.
  // Two dendrites that cross and both end beyond the crossing leave it two long branches that pair only as a corner
  // (they turn by more than the crossing angle; 13107: 1.6-2.1 rad), or as a U-turn where both come from one side
  // (13708). The spur that continues one of them straightest, within twice the crossing angle, as thick as the
  // dendrite (the narrower band), is that one's tip. A second spur there must be the other's tip by the same test
  // (both then up to kTwinTipsThickHi: 15318's thicker tip, 3.3 µm from a junction of radius 1.2 µm, had two sections,
  // both 4 times longer than wide and 1.69 times its dendrite's, and both tips were pruned as spines, -20.2%);
  // where there is none, the other's tip may have been lost in a hole's loop (13107: the tip was pruned and the trace
  // turned the corner, -13.8%; 13708: tips 3.0 and 3.5 µm beyond, turning 0.84 and 1.17 rad, were pruned and the
  // two dendrites traced as one U-turn, -11.1%). Not with four long branches: a spur continuing one of them
  // would leave another ending at the crossing (12015: a stubby spine, 1.3 times the dendrite's section, straight on
  // where the dendrite turns 64 degrees at a crossing). Real mesh 1 as given (z blurred twice) has such a corner at a
  // fork whose second spur is a blob (13 µm² against the dendrite's 2.1): kept as tips, they added 7 points to the
  // mesh's length.
  auto is_tip_through_crossing = [&](int ei, int junction) {
    std::vector<int> cluster{junction};
    auto in_cluster = [&](int w) { return std::find(cluster.begin(), cluster.end(), w) != cluster.end(); };
    for (std::size_t q = 0; q < cluster.size(); ++q)
      for (int ej : g.v[cluster[q]].edges)
        if ((is_cluster_edge(ej) || loop_partner(ej) >= 0) && !in_cluster(g.other(ej, cluster[q])))
          cluster.push_back(g.other(ej, cluster[q]));
    if (cluster.size() < 2) return false;
    std::vector<int> arm_edges, arm_vertices;
    std::vector<Arm> arms;
    std::vector<char> spur;
    std::vector<std::size_t> longs;  // indices of the arms that are not spurs
    auto arm_reaches = [&](int w) {  // an arm already goes to @p w (the other side of a loop is the same arm)
      for (std::size_t k = 0; k < arm_edges.size(); ++k)
        if (g.other(arm_edges[k], arm_vertices[k]) == w) return true;
      return false;
    };
    for (int v : cluster)
      for (int ej : g.v[v].edges) {
        const int w = g.other(ej, v);
        if (g.e[ej].a == g.e[ej].b || in_cluster(w) || arm_reaches(w)) continue;
        const bool is_spur = is_inner_spur(ej, v);
        if (is_spur && ej != ei && g.length(ej) > g.length(ei) + kTipSlackUm) return false;
        if (!is_spur) longs.push_back(arms.size());
        arm_edges.push_back(ej);
        arm_vertices.push_back(v);
        arms.push_back(arm_beyond(g, ej, v, g.v[v].r + 1.0));
        spur.push_back(is_spur ? 1 : 0);
      }
    if (g.length(ei) < g.v[junction].r + 1.0) return false;
    const std::size_t self = std::find(arm_edges.begin(), arm_edges.end(), ei) - arm_edges.begin();
    if (self == arm_edges.size()) return false;
    // The long arms paired as dendrites going through (as at the crossing below); the one left over ends here.
    std::vector<Arm> long_arms;
    for (std::size_t l : longs) long_arms.push_back(arms[l]);
    const std::vector<Pair> pairs = all_pairs(long_arms);
    // Spur @p s's narrowest section between @p lo and @p hi times the section of long arm @p l's dendrite.
    auto thick_as = [&](std::size_t s, std::size_t l, double lo, double hi) {
      const double neck = neck_area(arm_edges[s], arm_vertices[s]), shaft = shaft_area(arm_edges[l], arm_vertices[l]);
      return neck >= lo * shaft && neck <= hi * shaft;
    };
    const bool corner = longs.size() % 2 == 0;  // two long arms that pair only as a corner (above)
    std::size_t ending = arms.size();           // the long arm that ends here
    double thick_hi = 1.4;                      // a tip is about as thick as its dendrite (below)
    if (!corner) {
      std::vector<char> paired(longs.size(), 0);
      for (const Pair& p : crossing_matching(pairs, static_cast<int>(longs.size()), 2.0 * max_bend))
        paired[p.i] = paired[p.j] = 1;
      if (std::count(paired.begin(), paired.end(), 0) != 1) return false;
      ending = longs[std::find(paired.begin(), paired.end(), 0) - paired.begin()];
    } else {
      if (longs.size() != 2 || arms.size() > 4 || pairs[0].cost <= max_bend) return false;
      ending = bend(arms[longs[0]], arms[self]) <= bend(arms[longs[1]], arms[self]) ? longs[0] : longs[1];
      if (bend(arms[ending], arms[self]) > 2.0 * max_bend) return false;
      if (arms.size() == 4) {  // the other spur: the other dendrite's tip
        const std::size_t other = longs[0] == ending ? longs[1] : longs[0];
        std::size_t twin = 0;
        while (twin == self || !spur[twin]) ++twin;
        if (bend(arms[other], arms[twin]) > 2.0 * max_bend || !thick_as(twin, other, 0.7, kTwinTipsThickHi))
          return false;
        thick_hi = kTwinTipsThickHi;
      }
    }
    // ... and its tip is the spur that continues it straightest.
    std::size_t tip = self;
    double tip_bend = 1e300;
    for (std::size_t i = 0; i < arms.size(); ++i)
      if (spur[i] && bend(arms[ending], arms[i]) < tip_bend) tip = i, tip_bend = bend(arms[ending], arms[i]);
    // A tip is about as thick as its dendrite (11911: its narrowest section 0.58 times the dendrite's). A spine's
    // neck is thinner; a stubby spine opposite a thin side branch of a real dendrite's fork (mesh 1: 9 times) is
    // thicker, and as straight a continuation of it as a tip would be.
    if (tip != self || tip_bend > 2.0 * max_bend) return false;
    if (tip_bend > max_bend || corner) return thick_as(self, ending, 0.7, thick_hi);
    return thick_as(self, ending, 0.5, 2.0);
  };
  // A short branch from a junction inside towards a face, ending near it but not reaching it (the mask is broken
  // between its end and the face): a spine beside the face, not the dendrite leaving the stack (11209). Where the
  // junction is itself at the face, its short branches are the skeleton of the cut tube, whose mask is the face's.
  auto spine_beside_face = [&](int ei, int end, int junction) {
    return face_gap(g.v[junction].p, box) > face_gap(g.v[end].p, box) + kFaceApproachUm &&
           !mask_reaches_face(object, g.v[end].p, box) && g.length(ei) - g.v[junction].r < o.max_spine_length_um;
  };
  for (;;) {
    int best = -1, best_end = -1, best_junction = -1;
    double best_length = 1e300;
    for (std::size_t ei = 0; ei < g.e.size(); ++ei) {
      const Edge& e = g.e[ei];
      if (!e.alive || e.a == e.b) continue;
      for (int end : {e.a, e.b}) {
        const int junction = end == e.a ? e.b : e.a;
        if (g.degree(end) != 1 || g.degree(junction) < 3) continue;
        const double length = g.length(static_cast<int>(ei));
        const bool at_face = is_boundary_end(end) && !spine_beside_face(static_cast<int>(ei), end, junction);
        if (at_face && !better_boundary_twig(static_cast<int>(ei), junction)) continue;
        if (!at_face && (is_terminal_tip(static_cast<int>(ei), junction) ||
                         is_tip_beyond_crossing(static_cast<int>(ei), junction) ||
                         is_tip_through_crossing(static_cast<int>(ei), junction)))
          continue;
        if (length - g.v[junction].r < o.max_spine_length_um && length < best_length)
          best = static_cast<int>(ei), best_end = end, best_junction = junction, best_length = length;
      }
    }
    if (best < 0) break;
    const Polyline p = g.from(best, best_junction);
    if (best_length - g.v[best_junction].r > 0.2)
      candidates.push_back({point_at(p, std::min(g.v[best_junction].r, best_length)), p.back()});
    g.remove_edge(best);
    g.v[best_end].alive = false;
    g.dissolve(best_junction);
  }

  // A short edge between two junctions where a dendrite runs through each (the other two branches continue each
  // other better than either continues the edge): two dendrites passing one above the other, joined by the axial
  // blur (the edge mostly along z; the dendrites may turn by up to twice the crossing angle there, as one may bend
  // where it passes and the blur bends its arms), or touching side by side (their axes at least the two radii apart,
  // each dendrite straight through). It is neither dendrite's length. Not where the edge goes on in line beyond a
  // junction within a crossing's reach of either end: that is a dendrite crossing two others in quick succession.
  {
    auto straight_through = [&](int vi, int bridge, double max_turn) {
      std::vector<int> others;
      for (int ej : g.v[vi].edges)
        if (ej != bridge && g.e[ej].a != g.e[ej].b) others.push_back(ej);
      if (others.size() != 2 || g.degree(vi) != 3) return false;
      const Vec3 d0 = g.direction(others[0], vi), d1 = g.direction(others[1], vi), db = g.direction(bridge, vi);
      const double through = -dot(d0, d1);
      return through > std::cos(max_turn) && through > -dot(d0, db) && through > -dot(d1, db);
    };
    auto crosses_on = [&](int bridge, int vi) {
      const Vec3 on = g.direction(bridge, vi) * -1.0;
      for (int ej : g.v[vi].edges) {
        const int w = g.other(ej, vi);
        if (ej == bridge || w == vi || g.degree(w) < 3 || g.length(ej) > kMaxClusterEdgeUm) continue;
        for (int ek : g.v[w].edges)
          if (ek != ej && dot(g.direction(ek, w), on) > std::cos(max_bend)) return true;
      }
      return false;
    };
    for (std::size_t ei = 0; ei < g.e.size(); ++ei) {
      const Edge& e = g.e[ei];
      if (!e.alive || e.a == e.b) continue;
      const int b = static_cast<int>(ei);
      const Vec3 chord = g.v[e.b].p - g.v[e.a].p;
      const bool along_z = std::abs(chord.z) >= 0.7 * norm(chord);
      const double radii = g.v[e.a].r + g.v[e.b].r;
      if (g.length(b) - radii >= o.max_spine_length_um || (!along_z && g.length(b) < radii)) continue;
      const double max_turn = along_z ? 2.0 * max_bend : max_bend;
      if (!straight_through(e.a, b, max_turn) || !straight_through(e.b, b, max_turn)) continue;
      if (!along_z && (crosses_on(b, e.a) || crosses_on(b, e.b))) continue;
      const int va = e.a, vb = e.b;
      g.remove_edge(b);
      g.dissolve(va);
      g.dissolve(vb);
    }
  }

  // Crossings seen as two forks joined by a bridge (the masks of two dendrites merge over a stretch: different
  // depths, a shallow angle): when the four outer arms pair up as two straight continuations across the bridge,
  // each pair becomes one branch and the bridge goes (its stretch is in both branches, as both dendrites are).
  for (bool again = true; again;) {
    again = false;
    for (std::size_t bi = 0; bi < g.e.size() && !again; ++bi) {
      const Edge& br = g.e[bi];
      if (!br.alive || br.a == br.b || g.degree(br.a) != 3 || g.degree(br.b) != 3) continue;
      if (g.length(static_cast<int>(bi)) > kMaxKissUm) continue;
      const int j1 = br.a, j2 = br.b;
      std::vector<int> arms1, arms2;
      for (int ei : g.v[j1].edges)
        if (ei != static_cast<int>(bi)) arms1.push_back(ei);
      for (int ei : g.v[j2].edges)
        if (ei != static_cast<int>(bi)) arms2.push_back(ei);
      auto plain = [&](int ei) {
        const Edge& e = g.e[ei];
        return e.a != e.b && !((e.a == j1 && e.b == j2) || (e.a == j2 && e.b == j1));
      };
      if (arms1.size() != 2 || arms2.size() != 2 || !plain(arms1[0]) || !plain(arms1[1]) || !plain(arms2[0]) ||
          !plain(arms2[1]))
        continue;
      // A fork whose two arms end at one junction, one of them short enough to be two sides of one crossing: a
      // loop around a hole in the mask, not two dendrites (two dendrites crossing twice part by more between).
      auto hole = [&](const std::vector<int>& arms, int j) {
        return g.other(arms[0], j) == g.other(arms[1], j) && (is_cluster_edge(arms[0]) || is_cluster_edge(arms[1]));
      };
      if (hole(arms1, j1) || hole(arms2, j2)) continue;
      const double cut = std::max(g.v[j1].r, g.v[j2].r) + 1.0;
      const Arm a1[2] = {arm_beyond(g, arms1[0], j1, cut), arm_beyond(g, arms1[1], j1, cut)};
      const Arm a2[2] = {arm_beyond(g, arms2[0], j2, cut), arm_beyond(g, arms2[1], j2, cut)};
      const double same = std::max(bend(a1[0], a2[0]), bend(a1[1], a2[1]));
      const double swapped = std::max(bend(a1[0], a2[1]), bend(a1[1], a2[0]));
      // Two dendrites that only touch (or a spine reaching the neighbour): a bridge about as long as the two radii,
      // and each fork's own two arms continue each other clearly straighter than any pairing across; the bridge is
      // no dendrite.
      if (g.length(static_cast<int>(bi)) > kMaxBridgeUm) {
        if (split_kiss(static_cast<int>(bi), j1, j2, arms1, arms2, a1, a2, cut, -1)) again = true;
        continue;
      }
      const double within = std::max(bend(a1[0], a1[1]), bend(a2[0], a2[1]));
      const bool touching = g.length(static_cast<int>(bi)) <= g.v[j1].r + g.v[j2].r + 1.0;  // axis to axis
      if (touching && within < 0.8 * std::min(same, swapped) && within <= 2.0 * max_bend) {
        g.remove_edge(static_cast<int>(bi));
        g.dissolve(j1);
        g.dissolve(j2);
        again = true;
        continue;
      }
      // Clearly one pairing (the other turns much more): up to twice the bend still pairs, as the merged stretch
      // blurs the arm directions near it (a side branch of a side branch would have to turn back on itself).
      const double limit = std::min(same, swapped) < 0.8 * std::max(same, swapped) ? 2.0 * max_bend : max_bend;
      if (std::min(same, swapped) > limit) {
        if (split_kiss(static_cast<int>(bi), j1, j2, arms1, arms2, a1, a2, cut, -1)) again = true;
        continue;
      }
      // Paired so, each dendrite follows its own side of a merged stretch where the sides agree with the pairing
      // (11006, 11317: two dendrites run merged side by side for 5-6 µm); otherwise (they cross within it) a smooth
      // curve across.
      const bool swap = swapped < same;
      if (split_kiss(static_cast<int>(bi), j1, j2, arms1, arms2, a1, a2, cut, swap ? 1 : 0)) {
        again = true;
        continue;
      }
      for (int i = 0; i < 2; ++i) {
        const int k = swap ? 1 - i : i;
        add_through(arms1[i], j1, a1[i], arms2[k], j2, a2[k]);
      }
      for (int ei : {arms1[0], arms1[1], arms2[0], arms2[1], static_cast<int>(bi)}) g.remove_edge(ei);
      g.v[j1].alive = g.v[j2].alive = false;
      again = true;
    }
  }


  // Two dendrites that run merged from a face of the stack and part inside it look like one dendrite forking
  // (a Y with its stem on the face); so do two that meet inside and run merged to their tips (the stem ends inside,
  // 11603). A merged stem is about two dendrites wide across the direction in which its arms part (its
  // cross-section is flattened) and holds about both arms' cross-sections; a real parent dendrite, or a real
  // terminal branch, is round. Such a stem is counted for both: each arm goes on to the stem's end (the face or
  // the tips) beside the stem's axis.
  for (std::size_t vi = 0; vi < g.v.size(); ++vi) {
    const int j = static_cast<int>(vi);
    if (!g.v[j].alive || g.degree(j) != 3 || g.v[j].edges.size() != 3) continue;
    // Candidate stems, shortest first: where every end of the Y lies on a face (two dendrites merged over most of
    // the stack), the merged one is told by its cross-section.
    std::vector<int> stems;
    for (int ei : g.v[j].edges) {
      const int f = g.other(ei, j);
      if (f != j && g.degree(f) == 1 && g.length(ei) <= kMaxMergedFromFaceUm) stems.push_back(ei);
    }
    std::sort(stems.begin(), stems.end(), [&](int x, int y) { return g.length(x) < g.length(y); });
    for (const int stem : stems) {
      std::vector<int> arms;
      for (int ei : g.v[j].edges)
        if (ei != stem && g.e[ei].a != g.e[ei].b) arms.push_back(ei);
      if (arms.size() != 2 || g.other(arms[0], j) == g.other(arms[1], j)) continue;
      const int f = g.other(stem, j);
      const double cut = g.v[j].r + 1.0;
      const Arm in = arm_beyond(g, stem, j, cut);
      const Arm a[2] = {arm_beyond(g, arms[0], j, cut), arm_beyond(g, arms[1], j, cut)};
      if (std::max(bend(in, a[0]), bend(in, a[1])) > 2.0 * max_bend) continue;
      const Vec3 across = a[0].p - a[1].p;
      if (norm(across) < 1e-6) continue;
      const Section ss = section_along(g, object, stem, j, cut, g.length(stem) - g.v[f].r - 0.5, across, false);
      const Section s0 = section_along(g, object, arms[0], j, g.v[j].r + 2.0, g.v[j].r + 6.0, across, true);
      const Section s1 = section_along(g, object, arms[1], j, g.v[j].r + 2.0, g.v[j].r + 6.0, across, true);
      const double larger = std::max(s0.area_um2, s1.area_um2);
      const double over_larger =
          ss.elongation >= kFlatMergedElongation ? kFlatMergedAreaOverLarger : kMergedAreaOverLarger;
      if (larger <= 0.0 || ss.area_um2 < over_larger * larger || ss.area_um2 < 0.7 * (s0.area_um2 + s1.area_um2) ||
          ss.elongation < kMergedElongation)
        continue;
      // Where a section is lost (a gap in the mask) an arm's axis lies one radius (sqrt(area / pi)) beside the stem's.
      const Polyline from_face = g.from(stem, f);
      const double stem_length = polyline_length(from_face);
      const double keep = std::max(0.0, stem_length - cut);
      const double radii[2] = {std::sqrt(s0.area_um2 / kPi), std::sqrt(s1.area_um2 / kPi)};
      // Along the stem (every 0.25 µm up to the cut before the fork), traced from the fork: each arm's own side.
      Polyline stem_pts;
      {
        double s_acc = 0.0;
        for (std::size_t n = 0; n < from_face.size(); ++n) {
          if (n > 0) s_acc += norm(from_face[n] - from_face[n - 1]);
          if (s_acc > keep && !stem_pts.empty()) break;
          stem_pts.push_back(from_face[n]);
        }
        if (stem_pts.size() >= 2) stem_pts = resample(stem_pts, 0.25);
      }
      Polyline paths[2];
      lobe_paths(object, stem_pts, across, 0.5 * ss.area_um2, radii, true, true, paths);
      // A lobe that another branch of the skeleton already runs along (within its radius, over most of it) is that
      // branch's dendrite touching this one from the face: the stem is one dendrite, not two merged. Not a piece too
      // short to be a dendrite (11910: a 2.1 µm skeleton fragment of the stem's own cut end, alone at the face).
      const std::vector<int> comp = components(g);
      std::map<int, double> piece_length = component_lengths(g, comp);
      auto lobe_taken = [&](int k) {
        std::size_t near = 0;
        for (const Vec3& q : paths[k]) {
          bool hit = false;
          for (std::size_t ei = 0; ei < g.e.size() && !hit; ++ei) {
            const int e = static_cast<int>(ei);
            if (!g.e[ei].alive || e == stem || e == arms[0] || e == arms[1] ||
                piece_length[comp[g.e[ei].a]] < o.min_dendrite_length_um)
              continue;
            for (const Vec3& b : g.e[ei].pts)
              if (norm(q - b) < radii[k]) { hit = true; break; }
          }
          near += hit ? 1 : 0;
        }
        return 2 * near > paths[k].size();
      };
      if (lobe_taken(0) || lobe_taken(1)) continue;
      // Lanes that go on into their arms (each turning at most twice the crossing angle there, and less than into
      // the other arm) are the two dendrites up to the face; otherwise the stem is not two dendrites side by side all
      // along (two crossing inside it, near the face: 306, 8014): the lanes are taken again without holding their
      // offsets near the face, and the face tracker places those ends.
      auto lane_arm = [&](int k) {
        const Polyline& q = paths[k];
        return Arm{q.back(), unit(q[q.size() >= 5 ? q.size() - 5 : 0] - q.back()), keep};
      };
      const Arm e0 = lane_arm(0), e1 = lane_arm(1);
      const double same = std::max(bend(e0, a[0]), bend(e1, a[1]));
      const bool lanes_apart = same <= 2.0 * max_bend && same <= std::max(bend(e0, a[1]), bend(e1, a[0]));
      if (!lanes_apart) lobe_paths(object, stem_pts, across, 0.5 * ss.area_um2, radii, true, false, paths);
      for (int k = 0; k < 2; ++k) {
        Polyline path = std::move(paths[k]);
        Arm end{path.back(), unit(path.front() - path.back()), keep};
        if (path.size() >= 2) end.d = unit(path[path.size() - 2] - path.back());
        const Polyline mid = hermite(end, a[k]);
        merged_pts.insert(merged_pts.end(), path.begin(), path.end());
        crossing_pts.insert(crossing_pts.end(), mid.begin(), mid.end());
        path.insert(path.end(), mid.begin() + 1, mid.end());
        const Polyline tail = beyond(g.from(arms[k], j), std::min(cut, 0.4 * a[k].length));
        path.insert(path.end(), tail.begin(), tail.end());
        g.v.push_back(g.v[f]);
        const int face_end = static_cast<int>(g.v.size()) - 1;
        g.v[face_end].edges.clear();
        g.v[face_end].p = path.front();
        g.v[face_end].lane_end = lanes_apart;
        g.add_edge(face_end, g.other(arms[k], j), std::move(path));
      }
      for (int ei : {stem, arms[0], arms[1]}) g.remove_edge(ei);
      g.v[j].alive = g.v[f].alive = false;
      break;
    }
  }

  // Junction clusters: contract short edges between junctions (the two sides of a crossing), and the two sides of a
  // hole beside a crossing.
  for (;;) {
    int best = -1;
    double best_length = 1e300;
    for (std::size_t ei = 0; ei < g.e.size(); ++ei) {
      if (!is_cluster_edge(static_cast<int>(ei)) && loop_partner(static_cast<int>(ei)) < 0) continue;
      const double length = g.length(static_cast<int>(ei));
      if (length < best_length) best = static_cast<int>(ei), best_length = length;
    }
    if (best < 0) break;
    const int a = g.e[best].a, b = g.e[best].b;
    const Vec3 centre = point_at(g.e[best].pts, 0.5 * best_length);
    g.remove_edge(best);
    for (int ei : std::vector<int>(g.v[b].edges)) {
      Edge& e = g.e[ei];
      if (e.a == b) e.a = a;
      if (e.b == b) e.b = a;
      g.v[a].edges.push_back(ei);
    }
    for (int ei : g.v[a].edges) {
      if (g.e[ei].a == a) g.e[ei].pts.front() = centre;
      if (g.e[ei].b == a) g.e[ei].pts.back() = centre;
    }
    std::sort(g.v[a].edges.begin(), g.v[a].edges.end());
    g.v[a].edges.erase(std::unique(g.v[a].edges.begin(), g.v[a].edges.end()), g.v[a].edges.end());
    g.v[b].edges.clear();
    g.v[b].alive = false;
    g.v[a].p = centre;
    g.v[a].r = std::max(g.v[a].r, g.v[b].r);
  }

  for (std::size_t ei = 0; ei < g.e.size(); ++ei)
    if (g.e[ei].alive && g.e[ei].a == g.e[ei].b && g.length(static_cast<int>(ei)) < 4.0 * o.max_spine_length_um)
      g.remove_edge(static_cast<int>(ei));

  // Crossings (four or more branches): pair the branches by straightest continuation; each pair becomes one
  // branch through the crossing, so no length is counted twice and each dendrite stays one chain. Through the
  // crossing the branch follows a smooth curve between the arms cut back beyond the disturbed zone (two
  // dendrites crossing at different depths must not both detour through one centre point).
  for (std::size_t vi = 0; vi < g.v.size(); ++vi) {
    const int v = static_cast<int>(vi);
    if (!g.v[v].alive || g.degree(v) < 4) continue;
    std::vector<int> edges;
    for (int ei : g.v[v].edges)
      if (g.e[ei].a != g.e[ei].b) edges.push_back(ei);
    const double cut = g.v[v].r + 1.0;
    std::vector<Arm> arms;
    for (int ei : edges) arms.push_back(arm_beyond(g, ei, v, cut));
    std::vector<Pair> chosen = crossing_matching(all_pairs(arms), static_cast<int>(edges.size()), max_bend);
    std::vector<char> paired(edges.size(), 0);
    for (const Pair& p : chosen) {
      add_through(edges[p.i], v, arms[p.i], edges[p.j], v, arms[p.j]);
      paired[p.i] = paired[p.j] = 1;
    }
    // Arms left unpaired would run on through the crossing's centre, where the skeleton's junction lies between the
    // dendrites. Cut where they leave the crossing's ball instead, a pair that continues each other clearly better
    // so (kWanderGain) is a dendrite whose skeleton wandered into the crossing: 15217's passes 1.2 µm above the other
    // (2.09 rad along the skeleton, 0.88 so; through the centre it dipped to the other's depth and back: +3.2%).
    std::vector<std::size_t> rest;
    for (std::size_t k = 0; k < edges.size(); ++k)
      if (!paired[k]) rest.push_back(k);
    if (rest.size() >= 2) {
      std::vector<Arm> leaving;
      for (std::size_t k : rest) leaving.push_back(arm_leaving(g, edges[k], v, cut));
      for (const Pair& p : crossing_matching(all_pairs(leaving), static_cast<int>(rest.size()), max_bend)) {
        if (p.cost > kWanderGain * bend(arms[rest[p.i]], arms[rest[p.j]])) continue;
        add_through(edges[rest[p.i]], v, leaving[p.i], edges[rest[p.j]], v, leaving[p.j]);
        paired[rest[p.i]] = paired[rest[p.j]] = 1;
      }
    }
    for (std::size_t k = 0; k < edges.size(); ++k)
      if (paired[k]) g.remove_edge(edges[k]);
  }
  for (std::size_t vi = 0; vi < g.v.size(); ++vi)
    if (g.v[vi].alive) g.dissolve(static_cast<int>(vi));

  // Branch points: the skeleton's junction sits where the largest ball fits, off the true branch point; move it
  // to the least-squares meeting point of the straight continuations of its branches.
  for (std::size_t vi = 0; vi < g.v.size(); ++vi) {
    const int v = static_cast<int>(vi);
    if (!g.v[v].alive || g.degree(v) < 3) continue;
    const double near = g.v[v].r + 0.5;
    double m[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}}, rhs[3] = {0, 0, 0};
    bool usable = true;
    for (int ei : g.v[v].edges) {
      const Polyline p = g.from(ei, v);
      const double length = polyline_length(p);
      if (g.e[ei].a == g.e[ei].b || length < near + 1.0) {
        usable = false;
        break;
      }
      const Vec3 q0 = point_at(p, near), q1 = point_at(p, std::min(near + 3.0, length));
      const Vec3 d = unit(q1 - q0);
      const double dd[3] = {d.x, d.y, d.z}, qq[3] = {q0.x, q0.y, q0.z};
      for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 3; ++c) {
          const double a = (r == c ? 1.0 : 0.0) - dd[r] * dd[c];
          m[r][c] += a;
          rhs[r] += a * qq[c];
        }
    }
    if (!usable) continue;
    const double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                       m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                       m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    if (std::abs(det) < 1e-3) continue;
    auto solve = [&](int col) {
      double t[3][3];
      for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 3; ++c) t[r][c] = c == col ? rhs[r] : m[r][c];
      return (t[0][0] * (t[1][1] * t[2][2] - t[1][2] * t[2][1]) - t[0][1] * (t[1][0] * t[2][2] - t[1][2] * t[2][0]) +
              t[0][2] * (t[1][0] * t[2][1] - t[1][1] * t[2][0])) /
             det;
    };
    const Vec3 x{solve(0), solve(1), solve(2)};
    if (norm(x - g.v[v].p) > 2.0 * g.v[v].r + 1.0) continue;
    for (int ei : g.v[v].edges) {
      const Polyline p = g.from(ei, v);
      Polyline kept{x};
      double s_acc = 0.0;
      for (std::size_t n = 1; n < p.size(); ++n) {
        s_acc += norm(p[n] - p[n - 1]);
        if (s_acc > near) kept.push_back(p[n]);
      }
      if (g.e[ei].a != v) std::reverse(kept.begin(), kept.end());
      g.e[ei].pts = std::move(kept);
    }
    g.v[v].p = x;
  }

  // Gaps: join two aligned ends of different pieces, each facing the other and the two continuing each other within
  // the crossing angle (a dim stretch of one dendrite). Two tips that face each other across a gap at an angle are two
  // dendrites (14706: 2.5 µm apart, turning 83 degrees across the gap, joined: +6.2%).
  {
    const std::vector<int> comp = components(g);
    struct Gap {
      double d;
      int u, w;
    };
    std::vector<Gap> gaps;
    std::vector<int> ends;
    for (std::size_t vi = 0; vi < g.v.size(); ++vi)
      if (g.v[vi].alive && g.degree(static_cast<int>(vi)) == 1 && !is_boundary_end(static_cast<int>(vi)))
        ends.push_back(static_cast<int>(vi));
    for (std::size_t a = 0; a < ends.size(); ++a)
      for (std::size_t b = a + 1; b < ends.size(); ++b) {
        const int u = ends[a], w = ends[b];
        if (comp[u] == comp[w]) continue;
        const Vec3 uw = g.v[w].p - g.v[u].p;
        const double d = norm(uw);
        if (d > o.gap_um + g.v[u].r + g.v[w].r) continue;
        const Vec3 out_u = -1.0 * g.direction(g.v[u].edges[0], u), out_w = -1.0 * g.direction(g.v[w].edges[0], w);
        if (d > 1e-9 && (dot(out_u, unit(uw)) < 0.5 || dot(out_w, -1.0 * unit(uw)) < 0.5)) continue;
        if (-dot(out_u, out_w) < std::cos(max_bend)) continue;
        gaps.push_back({d, u, w});
      }
    std::stable_sort(gaps.begin(), gaps.end(), [](const Gap& a, const Gap& b) { return a.d < b.d; });
    for (const Gap& gap : gaps) {
      if (!g.v[gap.u].alive || !g.v[gap.w].alive || g.degree(gap.u) != 1 || g.degree(gap.w) != 1) continue;
      const int eu = g.v[gap.u].edges[0], ew = g.v[gap.w].edges[0];
      if (eu == ew) continue;
      Polyline p = g.from(eu, gap.u);
      std::reverse(p.begin(), p.end());
      const Polyline q = g.from(ew, gap.w);
      p.insert(p.end(), q.begin(), q.end());
      const int a = g.other(eu, gap.u), b = g.other(ew, gap.w);
      g.remove_edge(eu);
      g.remove_edge(ew);
      g.v[gap.u].alive = g.v[gap.w].alive = false;
      g.add_edge(a, b, std::move(p));
    }
  }

  // Ends near a face of the stack reach it: thinning stops about one radius short and bends along the cut
  // face: the tube is followed to the face (track_to_face), or, where it cannot be, the last stretch is replaced by
  // the straight continuation of the dendrite to the face.
  for (std::size_t vi = 0; vi < g.v.size(); ++vi) {
    const int v = static_cast<int>(vi);
    // (Not the end of a merged stem's lane: the tracker would follow the merged tube's middle.)
    if (!g.v[v].alive || g.degree(v) != 1 || !is_boundary_end(v) || g.v[v].lane_end) continue;
    const int ei = g.v[v].edges[0];
    const Polyline from_end = g.from(ei, v);
    // A path that heads straight at the face cannot be tracked there; it may be a tube that turns to graze the face
    // and leaves by another: tracked again as such, also where the sections lost it before the face and the path
    // went on straight (11108: a tube comes down at the face and turns to run 4 µm along it), when the tube can be
    // followed all the way so.
    bool tracked_all = false;
    Polyline tracked = track_to_face(object, from_end, box, false, &tracked_all);
    if (tracked.empty()) {
      tracked = track_to_face(object, from_end, box, true);
    } else if (!tracked_all) {
      bool grazed_all = false;
      Polyline grazed = track_to_face(object, from_end, box, true, &grazed_all);
      if (grazed_all) tracked = std::move(grazed);
    }
    if (!tracked.empty()) {
      if (g.e[ei].a != v) std::reverse(tracked.begin(), tracked.end());
      g.v[v].p = g.e[ei].a == v ? tracked.front() : tracked.back();
      g.e[ei].pts = std::move(tracked);
      continue;
    }
    const double length = polyline_length(from_end);
    const double cut = std::min(std::max(2.0 * g.v[v].r, 1.5) + 0.5, length / 3.0);
    const Vec3 start = point_at(from_end, cut);
    // The straight continuation along the dendrite's direction over the @p lookback_um before @p start, to the face
    // (false when the face is out of reach).
    auto continue_to_face = [&](double lookback_um, Vec3* q) {
      const Vec3 out = unit(start - point_at(from_end, std::min(cut + lookback_um, length)));
      double t = 1e300;
      const double pc[3] = {start.x, start.y, start.z}, dc[3] = {out.x, out.y, out.z},
                   hi[3] = {box.x_um, box.y_um, box.z_um};
      for (int axis = 0; axis < 3; ++axis) {
        if (dc[axis] > 1e-6) t = std::min(t, (hi[axis] - pc[axis]) / dc[axis]);
        if (dc[axis] < -1e-6) t = std::min(t, -pc[axis] / dc[axis]);
      }
      *q = start + t * out;
      return t >= 0.0 && t <= cut + g.v[v].r + 2.0 * voxel_um;
    };
    // The share of the straight line from start to @p q (every 0.05 µm) that lies in the tube's mask.
    auto in_mask = [&](const Vec3& to) {
      const int steps = std::max(1, static_cast<int>(std::ceil(norm(to - start) / 0.05)));
      int in = 0;
      for (int n = 0; n <= steps; ++n)
        in += mask_state(object, start + (static_cast<double>(n) / steps) * (to - start)) == 1;
      return static_cast<double>(in) / (steps + 1);
    };
    // The direction over 4 µm; over 2 µm where that one runs clearly more inside the tube's mask (a dendrite that
    // curves as it leaves: 13103 met the face 1.0 µm off; 2 µm everywhere took others' ends 2.5 µm off where the
    // skeleton's last stretch bends along the face).
    Vec3 q;
    if (!continue_to_face(4.0, &q)) continue;
    Vec3 q_near;
    if (continue_to_face(2.0, &q_near) && in_mask(q_near) > in_mask(q) + 0.1) q = q_near;
    Polyline kept{q, start};
    double s_acc = 0.0;
    for (std::size_t n = 1; n < from_end.size(); ++n) {
      s_acc += norm(from_end[n] - from_end[n - 1]);
      if (s_acc > cut) kept.push_back(from_end[n]);
    }
    Edge& e = g.e[ei];
    if (e.a != v) std::reverse(kept.begin(), kept.end());
    e.pts = std::move(kept);
    g.v[v].p = q;
  }

  // Free ends (a dendrite's tip inside the stack): the skeleton of the cap, stretched along z by the axial blur,
  // climbs towards its upper pole (0.8-0.9 µm at 8 of the 117 tips of the touching tip sets, upwards each time: likely
  // the thinning's order). The end goes to the middle of the mask's run along z through it, and the last
  // kTipZStretchUm follows by a shift that fades to nothing (measured at the end only: further in, the run along z
  // may take in a dendrite crossing above or below, as at 11205). Then an end more than kTipShortUm short of (the
  // mask's edge ahead) - (the radius across the tube) goes on straight to there, and one as far past it is cut back.
  for (std::size_t vi = 0; vi < g.v.size(); ++vi) {
    const int v = static_cast<int>(vi);
    if (!g.v[v].alive || g.degree(v) != 1 || is_boundary_end(v)) continue;
    const int ei = g.v[v].edges[0];
    Polyline p = g.from(ei, v);  // from the end inwards
    if (polyline_length(p) < kTipZStretchUm + 1.0) continue;
    bool moved = false;
    Run run;
    if (whole_run(object, p.front(), Vec3{0, 0, 1}, kTipZReachUm, &run) && run.lo > 0.2 - kTipZReachUm &&
        run.hi < kTipZReachUm - 0.2) {
      const double shift = 0.5 * (run.lo + run.hi);
      double s_acc = 0.0;
      Vec3 previous = p.front();  // unshifted
      for (std::size_t n = 0; n < p.size(); ++n) {
        s_acc += norm(p[n] - previous);
        if (s_acc >= kTipZStretchUm) break;
        previous = p[n];
        p[n].z += shift * (1.0 - s_acc / kTipZStretchUm);
      }
      moved = true;
    }
    // The tube's radius across: the narrowest of its level sections 1-2 µm back (a spine beside one of them widens
    // it); ahead: along the end's last 1 µm.
    const Vec3 back = point_at(p, 1.0), ahead = unit(p.front() - back), level = ahead.cross(Vec3{0, 0, 1});
    double half = 1e300;  // none measured
    Run across, on;
    if (norm(level) > 0.5)
      for (double s_back : {1.0, 1.5, 2.0})
        if (whole_run(object, point_at(p, s_back), unit(level), kTipLookUm, &across))
          half = std::min(half, across.half_width());
    // Cut back only where the tube 1 µm back is no wider than it is tall (the axial blur makes one tube taller; two
    // touching side by side are wider, and their width taken for a radius would cut a tip that is right: 11917,
    // 11606).
    auto one_tube = [&] {
      Run up;
      return whole_run(object, back, unit(level).cross(ahead), kTipLookUm, &up) && half <= up.half_width();
    };
    if (half < 1e300 && object_run(object, p.front(), ahead, kTipLookUm, &on) && !on.hi_at_edge &&
        on.hi < kTipLookUm - 0.1) {
      const double reach = on.hi - half;
      if (reach > kTipShortUm && reach <= kTipMaxReachUm) {
        p.insert(p.begin(), p.front() + reach * ahead);
        moved = true;
      } else if (reach < -kTipShortUm && reach >= -kTipMaxReachUm && one_tube()) {
        Polyline kept = beyond(p, -reach);
        kept.insert(kept.begin(), point_at(p, -reach));
        p = std::move(kept);
        moved = true;
      }
    }
    if (!moved) continue;
    if (g.e[ei].a != v) std::reverse(p.begin(), p.end());
    g.e[ei].pts = std::move(p);
    g.v[v].p = g.e[ei].a == v ? g.e[ei].pts.front() : g.e[ei].pts.back();
  }

  // Small rings (a spine head touching the shaft, a hole in the mask) and loops left by crossings are no length.
  remove_hole_loops(true);

  // Pieces too short to be dendrite (puncta, debris, spine heads whose neck is too dim) go; their points are
  // kept to offer the ones near a dendrite as detached spine candidates. So do pieces that retrace a longer one
  // (retracing_pieces).
  std::map<int, Polyline> detached;
  {
    const std::vector<int> comp = components(g);
    std::map<int, double> total = component_lengths(g, comp);
    const std::set<int> retracing = retracing_pieces(g, comp, total);
    for (std::size_t ei = 0; ei < g.e.size(); ++ei)
      if (g.e[ei].alive && (total[comp[g.e[ei].a]] < o.min_dendrite_length_um || retracing.count(comp[g.e[ei].a]))) {
        auto& pts = detached[comp[g.e[ei].a]];
        pts.insert(pts.end(), g.e[ei].pts.begin(), g.e[ei].pts.end());
        g.remove_edge(static_cast<int>(ei));
      }
    for (std::size_t vi = 0; vi < g.v.size(); ++vi)
      if (g.v[vi].alive && g.v[vi].edges.empty() && !total.count(comp[vi])) detached[comp[vi]].push_back(g.v[vi].p);
  }

  // Output: smoothed, resampled branches; dendrite = connected component; parents by breadth-first search from
  // the longest branch of each dendrite.
  TraceResult result;
  const std::vector<int> comp = components(g);
  std::vector<int> alive_edges;
  for (std::size_t ei = 0; ei < g.e.size(); ++ei)
    if (g.e[ei].alive) alive_edges.push_back(static_cast<int>(ei));
  std::map<int, int> dendrite_of_comp;
  for (int ei : alive_edges)
    if (!dendrite_of_comp.count(comp[g.e[ei].a]))
      dendrite_of_comp[comp[g.e[ei].a]] = static_cast<int>(dendrite_of_comp.size());
  constexpr double kFineStep = 0.05;
  std::vector<int> branch_of_edge(g.e.size(), -1);
  for (int ei : alive_edges) {
    DendriteBranch b;
    b.id = static_cast<int>(result.graph.branches.size());
    b.dendrite_id = dendrite_of_comp[comp[g.e[ei].a]];
    const Polyline fine = smooth(resample(g.e[ei].pts, kFineStep), o.smoothing_um, kFineStep);
    const Polyline nodes = resample(fine, o.node_step_um);
    const double ra = g.v[g.e[ei].a].r, rb = g.v[g.e[ei].b].r;
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      const double f = nodes.size() > 1 ? static_cast<double>(n) / (nodes.size() - 1) : 0.0;
      // Inside the stack: an end continued straight to one face may lie beyond another near a corner, and a merged
      // stem's lane beyond the face it runs to (by up to 0.15 µm on the generated stacks).
      b.nodes.push_back({std::clamp(nodes[n].x, 0.0, box.x_um), std::clamp(nodes[n].y, 0.0, box.y_um),
                         std::clamp(nodes[n].z, 0.0, box.z_um), ra + f * (rb - ra)});
    }
    branch_of_edge[ei] = b.id;
    result.graph.branches.push_back(std::move(b));
  }
  {
    std::map<int, std::vector<int>> by_dendrite;
    for (int ei : alive_edges) by_dendrite[dendrite_of_comp[comp[g.e[ei].a]]].push_back(ei);
    for (auto& [d, edges] : by_dendrite) {
      int root = edges.front();
      for (int ei : edges)
        if (g.length(ei) > g.length(root)) root = ei;
      std::vector<char> seen(g.e.size(), 0);
      std::vector<int> queue{root};
      seen[root] = 1;
      for (std::size_t q = 0; q < queue.size(); ++q) {
        const int ei = queue[q];
        for (int vi : {g.e[ei].a, g.e[ei].b})
          for (int ej : g.v[vi].edges)
            if (g.e[ej].alive && !seen[ej]) {
              seen[ej] = 1;
              result.graph.branches[branch_of_edge[ej]].parent_branch = branch_of_edge[ei];
              queue.push_back(ej);
            }
      }
    }
  }
  // A detached piece within spine reach of a dendrite: base on the shaft surface towards its farthest point.
  auto nearest_node = [&](const Vec3& p, double* d, const DendriteNode** node, int* dendrite) {
    *d = 1e300;
    for (const auto& b : result.graph.branches)
      for (const auto& n : b.nodes) {
        const double dn = norm(Vec3{n.x_um, n.y_um, n.z_um} - p);
        if (dn < *d) *d = dn, *node = &n, *dendrite = b.dendrite_id;
      }
  };
  for (const auto& [c, pts] : detached) {
    double best = -1.0, d = 0.0;
    Vec3 tip;
    const DendriteNode* node = nullptr;
    int dendrite = -1;
    for (const Vec3& p : pts) {
      nearest_node(p, &d, &node, &dendrite);
      if (node && d > best) best = d, tip = p;
    }
    if (!node) continue;
    nearest_node(tip, &d, &node, &dendrite);
    if (d - node->radius_um > o.max_spine_length_um || d < node->radius_um) continue;
    const Vec3 axis{node->x_um, node->y_um, node->z_um};
    candidates.push_back({axis + node->radius_um * unit(tip - axis), tip});
  }

  for (const Vec3& p : crossing_pts) result.crossing_points.push_back({p.x, p.y, p.z});
  for (const Vec3& p : merged_pts) result.merged_points.push_back({p.x, p.y, p.z});

  // Spine candidates belong to the dendrite whose centerline is nearest to their base.
  for (const Candidate& c : candidates) {
    double best = 1e300;
    int dendrite = -1;
    for (const auto& b : result.graph.branches)
      for (const auto& n : b.nodes) {
        const double d = norm(Vec3{n.x_um, n.y_um, n.z_um} - c.base);
        if (d < best) best = d, dendrite = b.dendrite_id;
      }
    if (dendrite < 0 || best > o.max_spine_length_um) continue;
    SpineCandidate s;
    s.base = {c.base.x, c.base.y, c.base.z};
    s.tip = {c.tip.x, c.tip.y, c.tip.z};
    s.dendrite_id = dendrite;
    result.candidates.push_back(std::move(s));
  }
  return result;
}

}  // namespace spinescope::stages::dendrites
