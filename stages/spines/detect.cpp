#include "stages/spines/detect.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <numeric>
#include <queue>
#include <tuple>

#include "spinescope/vec3.hpp"
#include "stages/spines/shaft_locator.hpp"
#include "stages/spines/shaft_profile.hpp"

namespace spinescope::stages::spines {

namespace {

// Scratch markers in the work volume; protrusion voxels hold kFirstIndex + their index in the voxel list.
constexpr std::uint32_t kBright = 1;  // foreground, away from the shaft
constexpr std::uint32_t kDim = 2;     // below the foreground threshold but above the dim-head threshold
constexpr std::uint32_t kNear = 3;    // foreground (or dim) within the shaft margin
constexpr std::uint32_t kShaft = 4;
constexpr std::uint32_t kFirstIndex = 5;
constexpr double kSeedMinDistanceUm = 0.25;  // a head maximum lies at least this far out of the shaft surface
constexpr double kLengthSlackUm = 0.5;       // axial blur lengthens a protrusion beyond its true end
constexpr double kPathStepUm = 0.05;         // sampling step along a putative neck
constexpr double kNeckWindowUm = 0.2;        // a neck is judged by its mean over this length (noise)
constexpr double kNeckRootMinCosine = 0.906;  // cos 25°: a piece on the shaft this well in line with a fragment
constexpr std::size_t kNoiseSamples = 200000;  // background noise is estimated from about this many voxels

struct Offset {
  int dx, dy, dz;
};

// Voxel offsets inside the ellipsoid with semi-axes @p xy_um (x and y) and @p z_um, nearest (in µm) first.
std::vector<Offset> ellipsoid_offsets(const Spacing& s, double xy_um, double z_um) {
  std::vector<std::pair<double, Offset>> found;
  const int rx = static_cast<int>(std::floor(s.x_vox(xy_um))), ry = static_cast<int>(std::floor(s.y_vox(xy_um))),
            rz = static_cast<int>(std::floor(s.z_vox(z_um)));
  for (int dz = -rz; dz <= rz; ++dz)
    for (int dy = -ry; dy <= ry; ++dy)
      for (int dx = -rx; dx <= rx; ++dx) {
        const double x = dx * s.x_um / xy_um, y = dy * s.y_um / xy_um, z = z_um > 0 ? dz * s.z_um / z_um : 0.0;
        const double d2 = std::pow(dx * s.x_um, 2) + std::pow(dy * s.y_um, 2) + std::pow(dz * s.z_um, 2);
        if (x * x + y * y + z * z <= 1.0 + 1e-9) found.push_back({d2, {dx, dy, dz}});
      }
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Offset> out;
  for (const auto& f : found) out.push_back(f.second);
  return out;
}

struct Grid {
  long nx, ny, nz;
  Spacing s;
  explicit Grid(const VolumeF& v) : Grid(v.nx(), v.ny(), v.nz(), v.spacing()) {}
  Grid(std::size_t x, std::size_t y, std::size_t z, const Spacing& sp)
      : nx(static_cast<long>(x)), ny(static_cast<long>(y)), nz(static_cast<long>(z)), s(sp) {}
  void ijk(std::size_t v, long* i, long* j, long* k) const {
    *i = static_cast<long>(v % nx);
    *j = static_cast<long>((v / nx) % ny);
    *k = static_cast<long>(v / (nx * ny));
  }
  PointUm point(std::size_t v) const {
    long i, j, k;
    ijk(v, &i, &j, &k);
    return {i * s.x_um, j * s.y_um, k * s.z_um};
  }
  bool inside(long i, long j, long k) const { return i >= 0 && j >= 0 && k >= 0 && i < nx && j < ny && k < nz; }
  std::size_t index(long i, long j, long k) const { return static_cast<std::size_t>((k * ny + j) * nx + i); }
};

double distance_um(const PointUm& a, const PointUm& b) {
  const double dx = a.x_um - b.x_um, dy = a.y_um - b.y_um, dz = a.z_um - b.z_um;
  return std::sqrt(dx * dx + dy * dy + dz * dz);
}

std::uint32_t find_root(std::vector<std::uint32_t>& parent, std::uint32_t a) {
  while (parent[a] != a) {
    parent[a] = parent[parent[a]];
    a = parent[a];
  }
  return a;
}

// A connected set of protrusion voxels (indices into the protrusion list, ascending).
struct Component {
  std::vector<std::uint32_t> members;
  bool candidate = false;  // a skeleton spine candidate ends in it
};

// The protrusion voxels of the stack, in raster order.
struct Protrusions {
  std::vector<std::size_t> voxel;
  std::vector<std::uint8_t> contact;  // touches the shaft zone (26-neighbourhood)
};

// Whether a shaft voxel lies at one of @p offsets from (i, j, k) (offsets sorted nearest first: most voxels that
// are near the shaft stop at the first few).
bool shaft_within(const VolumeU8& shaft, const Grid& g, long i, long j, long k, const std::vector<Offset>& offsets) {
  for (const Offset& o : offsets) {
    const long a = i + o.dx, b = j + o.dy, c = k + o.dz;
    if (g.inside(a, b, c) && shaft[g.index(a, b, c)]) return true;
  }
  return false;
}

// Marks shaft, near-shaft, bright and dim voxels in the work volume (serial kernel over a z-range). Bright
// (foreground) voxels belong to the shaft within the shaft margin; dim voxels within the wider halo zone, where
// the blurred shaft itself is above the dim threshold.
void mark_slab(const DetectInputs& in, const DetectParams& p, const std::vector<Offset>& margin,
               const std::vector<Offset>& halo, long k0, long k1, VolumeU32* work) {
  const Grid g(*in.preprocessed);
  const auto& pre = *in.preprocessed;
  const auto& fg = *in.foreground;
  const auto& shaft = *in.shaft;
  for (long k = k0; k < k1; ++k)
    for (long j = 0; j < g.ny; ++j)
      for (long i = 0; i < g.nx; ++i) {
        const std::size_t v = g.index(i, j, k);
        if (shaft[v]) {
          (*work)[v] = kShaft;
          continue;
        }
        if (fg[v]) {
          (*work)[v] = shaft_within(shaft, g, i, j, k, margin) ? kNear : kBright;
        } else if (p.detect_detached && pre[v] >= p.detached_min_intensity) {
          (*work)[v] = shaft_within(shaft, g, i, j, k, halo) ? kNear : kDim;
        }
      }
}

// Seeded flooding of one component from its head maxima, then merging of regions whose heads are not
// separated by a real dip or are closer than the minimum head separation. Returns the region of each member.
std::vector<int> split_component(const std::vector<std::uint32_t>& members, const Protrusions& prot,
                                 const std::vector<double>& surface_d, const Grid& g, const VolumeF& pre,
                                 const DetectParams& p, int* region_count) {
  const std::size_t n = members.size();
  long i0 = g.nx, j0 = g.ny, k0 = g.nz, i1 = -1, j1 = -1, k1 = -1;
  std::vector<std::array<long, 3>> pos(n);
  for (std::size_t m = 0; m < n; ++m) {
    long i, j, k;
    g.ijk(prot.voxel[members[m]], &i, &j, &k);
    pos[m] = {i, j, k};
    i0 = std::min(i0, i), j0 = std::min(j0, j), k0 = std::min(k0, k);
    i1 = std::max(i1, i), j1 = std::max(j1, j), k1 = std::max(k1, k);
  }
  const long bx = i1 - i0 + 1, by = j1 - j0 + 1, bz = k1 - k0 + 1;
  std::vector<int> local(static_cast<std::size_t>(bx * by * bz), -1);
  auto at = [&](long i, long j, long k) -> int {
    if (i < i0 || j < j0 || k < k0 || i > i1 || j > j1 || k > k1) return -1;
    return local[static_cast<std::size_t>(((k - k0) * by + (j - j0)) * bx + (i - i0))];
  };
  for (std::size_t m = 0; m < n; ++m) local[((pos[m][2] - k0) * by + (pos[m][1] - j0)) * bx + (pos[m][0] - i0)] = static_cast<int>(m);
  auto value = [&](std::size_t m) { return pre[prot.voxel[members[m]]]; };
  // Strict order (intensity, then lower raster index first) so plateaus give one maximum.
  auto higher = [&](std::size_t a, std::size_t b) {
    const float va = value(a), vb = value(b);
    return va > vb || (va == vb && a < b);
  };
  auto for_neighbours = [&](std::size_t m, auto&& fn) {
    for (int dz = -1; dz <= 1; ++dz)
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          if (!dx && !dy && !dz) continue;
          const int q = at(pos[m][0] + dx, pos[m][1] + dy, pos[m][2] + dz);
          if (q >= 0) fn(static_cast<std::size_t>(q));
        }
  };
  std::vector<std::size_t> seeds;
  for (std::size_t m = 0; m < n; ++m) {
    if (prot.contact[members[m]] || surface_d[m] < kSeedMinDistanceUm) continue;
    bool is_max = true;
    for_neighbours(m, [&](std::size_t q) { is_max = is_max && higher(m, q); });
    if (is_max) seeds.push_back(m);
  }
  std::vector<int> region(n, seeds.size() <= 1 ? 0 : -1);
  if (seeds.size() <= 1) {
    *region_count = 1;
    return region;
  }
  auto cmp = [&](std::size_t a, std::size_t b) { return higher(b, a); };
  std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(cmp)> queue(cmp);
  for (std::size_t s = 0; s < seeds.size(); ++s) {
    region[seeds[s]] = static_cast<int>(s);
    queue.push(seeds[s]);
  }
  std::map<std::pair<int, int>, float> saddle;
  while (!queue.empty()) {
    const std::size_t m = queue.top();
    queue.pop();
    for_neighbours(m, [&](std::size_t q) {
      if (region[q] < 0) {
        region[q] = region[m];
        queue.push(q);
      } else if (region[q] != region[m]) {
        const auto key = std::minmax(region[q], region[m]);
        const float level = std::min(value(m), value(q));
        auto it = saddle.find(key);
        if (it == saddle.end() || it->second < level) saddle[key] = level;
      }
    });
  }
  // Merge from the highest saddle down; a merged region keeps its brighter head.
  std::vector<std::tuple<float, int, int>> edges;
  for (const auto& [key, level] : saddle) edges.emplace_back(level, key.first, key.second);
  std::sort(edges.begin(), edges.end(), [](const auto& a, const auto& b) {
    return std::get<0>(a) > std::get<0>(b) || (std::get<0>(a) == std::get<0>(b) && std::make_pair(std::get<1>(a), std::get<2>(a)) < std::make_pair(std::get<1>(b), std::get<2>(b)));
  });
  std::vector<std::uint32_t> parent(seeds.size());
  std::iota(parent.begin(), parent.end(), 0u);
  auto head_point = [&](std::size_t seed) {
    return PointUm{pos[seed][0] * g.s.x_um, pos[seed][1] * g.s.y_um, pos[seed][2] * g.s.z_um};
  };
  for (const auto& [level, a, b] : edges) {
    const std::uint32_t ra = find_root(parent, static_cast<std::uint32_t>(a)), rb = find_root(parent, static_cast<std::uint32_t>(b));
    if (ra == rb) continue;
    const float peak = std::min(value(seeds[ra]), value(seeds[rb]));
    const bool shallow = level >= (1.0 - p.split_min_dip) * peak;
    const bool close = distance_um(head_point(seeds[ra]), head_point(seeds[rb])) < p.min_head_separation_um;
    if (shallow || close) {
      if (higher(seeds[ra], seeds[rb])) parent[rb] = ra;
      else parent[ra] = rb;
    }
  }
  std::vector<int> compact(seeds.size(), -1);
  int count = 0;
  for (std::size_t m = 0; m < n; ++m) {
    const std::uint32_t r = find_root(parent, static_cast<std::uint32_t>(region[m]));
    if (compact[r] < 0) compact[r] = count++;
    region[m] = compact[r];
  }
  *region_count = count;
  return region;
}

// Whether a neck too dim for the foreground still links a head to the shaft: the intensity along the straight
// path from the head centre to the shaft surface, averaged over kNeckWindowUm, never drops below @p level.
bool neck_visible(const VolumeF& pre, const Grid& g, const PointUm& head, const PointUm& surface, double level) {
  const double length = distance_um(head, surface);
  const int steps = std::max(1, static_cast<int>(std::ceil(length / kPathStepUm)));
  const int window = std::max(1, static_cast<int>(std::lround(kNeckWindowUm / kPathStepUm)));
  std::vector<double> values;
  for (int n = 0; n <= steps; ++n) {
    const double t = static_cast<double>(n) / steps;
    const long i = std::lround((head.x_um + t * (surface.x_um - head.x_um)) / g.s.x_um),
               j = std::lround((head.y_um + t * (surface.y_um - head.y_um)) / g.s.y_um),
               k = std::lround((head.z_um + t * (surface.z_um - head.z_um)) / g.s.z_um);
    values.push_back(g.inside(i, j, k) ? pre[g.index(i, j, k)] : 0.0);
  }
  if (static_cast<int>(values.size()) <= window) return *std::min_element(values.begin(), values.end()) >= level;
  double sum = std::accumulate(values.begin(), values.begin() + window, 0.0);
  double lowest = sum;
  for (std::size_t n = window; n < values.size(); ++n) {
    sum += values[n] - values[n - window];
    lowest = std::min(lowest, sum);
  }
  return lowest / window >= level;
}

// The first label other than 0 and @p own met on the straight path from @p from to @p to (0 if none).
std::uint32_t first_label_on_path(const VolumeU32& labels, const Grid& g, const PointUm& from, const PointUm& to,
                                  std::uint32_t own) {
  const int steps = std::max(1, static_cast<int>(std::ceil(distance_um(from, to) / kPathStepUm)));
  for (int n = 0; n <= steps; ++n) {
    const double t = static_cast<double>(n) / steps;
    const long i = std::lround((from.x_um + t * (to.x_um - from.x_um)) / g.s.x_um),
               j = std::lround((from.y_um + t * (to.y_um - from.y_um)) / g.s.y_um),
               k = std::lround((from.z_um + t * (to.z_um - from.z_um)) / g.s.z_um);
    if (!g.inside(i, j, k)) continue;
    const std::uint32_t w = labels[g.index(i, j, k)];
    if (w != 0 && w != own) return w;
  }
  return 0;
}

// A capsule of the traced centerline (radius interpolated linearly from node to node).
struct Capsule {
  PointUm a, b;
  double ra, rb;
};

// The shaft mask limited to the traced shaft: voxels of @p shaft within the node radius + @p margin_um of the
// centerline. The mask follows the thresholded foreground, which blur and a spine's own base widen; a stubby
// spine sitting in that widening would otherwise be swallowed. Serial kernel over a z-range.
void tighten_slab(const VolumeU8& shaft, const std::vector<Capsule>& capsules, double margin_um, long k0, long k1,
                  VolumeU8* tight) {
  const Grid g(shaft.nx(), shaft.ny(), shaft.nz(), shaft.spacing());
  for (const Capsule& c : capsules) {
    const double r = std::max(c.ra, c.rb) + margin_um;
    const long ka = std::max(k0, static_cast<long>(std::ceil((std::min(c.a.z_um, c.b.z_um) - r) / g.s.z_um))),
               kb = std::min(k1 - 1, static_cast<long>(std::floor((std::max(c.a.z_um, c.b.z_um) + r) / g.s.z_um)));
    if (ka > kb) continue;
    const long ia = std::max(0L, static_cast<long>(std::ceil((std::min(c.a.x_um, c.b.x_um) - r) / g.s.x_um))),
               ib = std::min(g.nx - 1, static_cast<long>(std::floor((std::max(c.a.x_um, c.b.x_um) + r) / g.s.x_um)));
    const long ja = std::max(0L, static_cast<long>(std::ceil((std::min(c.a.y_um, c.b.y_um) - r) / g.s.y_um))),
               jb = std::min(g.ny - 1, static_cast<long>(std::floor((std::max(c.a.y_um, c.b.y_um) + r) / g.s.y_um)));
    const double ux = c.b.x_um - c.a.x_um, uy = c.b.y_um - c.a.y_um, uz = c.b.z_um - c.a.z_um;
    const double len2 = ux * ux + uy * uy + uz * uz;
    for (long k = ka; k <= kb; ++k)
      for (long j = ja; j <= jb; ++j)
        for (long i = ia; i <= ib; ++i) {
          const std::size_t v = g.index(i, j, k);
          if (!shaft[v] || (*tight)[v]) continue;
          const double px = i * g.s.x_um - c.a.x_um, py = j * g.s.y_um - c.a.y_um, pz = k * g.s.z_um - c.a.z_um;
          const double t = len2 > 0 ? std::clamp((px * ux + py * uy + pz * uz) / len2, 0.0, 1.0) : 0.0;
          const double dx = px - t * ux, dy = py - t * uy, dz = pz - t * uz;
          const double reach = c.ra + t * (c.rb - c.ra) + margin_um;
          if (dx * dx + dy * dy + dz * dz <= reach * reach) (*tight)[v] = 1;
        }
  }
}

// A detected piece before fragments are joined.
struct Found {
  DetectedSpine spine;
  bool touches_shaft = false;
  float peak = 0;
};

struct SortKey {
  int dendrite_id;
  std::size_t peak_voxel;
  bool operator<(const SortKey& o) const {
    return dendrite_id != o.dendrite_id ? dendrite_id < o.dendrite_id : peak_voxel < o.peak_voxel;
  }
};

}  // namespace

BackgroundNoise background_noise(const VolumeF& pre, const VolumeU8& fg) {
  // About kNoiseSamples voxels at an odd stride (odd, so it does not keep to a few columns of an even-sized row).
  const std::size_t stride = std::max<std::size_t>(7, pre.size() / kNoiseSamples) | 1u;
  std::vector<float> sample;
  sample.reserve(pre.size() / stride + 1);
  for (std::size_t v = 0; v < pre.size(); v += stride)
    if (!fg[v]) sample.push_back(pre[v]);
  BackgroundNoise out;
  if (sample.size() < 100) return out;
  auto median_of = [](std::vector<float>& x) {
    std::nth_element(x.begin(), x.begin() + x.size() / 2, x.end());
    return static_cast<double>(x[x.size() / 2]);
  };
  out.median = median_of(sample);
  for (float& x : sample) x = std::fabs(x - static_cast<float>(out.median));
  out.sigma = 1.4826 * median_of(sample);  // MAD of a normal sample -> its standard deviation
  return out;
}

std::vector<DetectedSpine> detect_spines(const DetectInputs& given, const DetectParams& params, VolumeU32* work) {
  // The dim threshold and the contrast floor stand min_snr background noise deviations above the background:
  // in a dim, noisy stack the fixed values would let noise specks near a shaft pass as detached heads.
  DetectParams p = params;
  if (p.min_snr > 0) {
    const BackgroundNoise noise = background_noise(*given.preprocessed, *given.foreground);
    const double floor = noise.median + p.min_snr * noise.sigma;
    p.detached_min_intensity = std::max(p.detached_min_intensity, floor);
    p.min_contrast = std::max(p.min_contrast, floor);
  }
  const VolumeF& pre = *given.preprocessed;
  const Grid g(pre);
  // 0. The shaft re-derived from ray profiles around the centerline, and/or tightened to the traced radii.
  DetectInputs in = given;
  VolumeU8 tight, profiled;
  if (p.robust_shaft) {
    ShaftProfileParams sp;
    sp.margin_um = p.robust_shaft_margin_um;
    const auto sections = shaft_sections(pre, *given.foreground, *given.graph, sp);
    profiled = robust_shaft_mask(*given.shaft, *given.foreground, *given.graph, sections, sp);
    in.shaft = &profiled;
  }
  if (p.shaft_radius_margin_um < kKeepShaftMarginUm) {
    tight = VolumeU8(pre.nx(), pre.ny(), pre.nz(), pre.spacing(), std::uint8_t{0});
    std::vector<Capsule> capsules;
    for (const auto& branch : in.graph->branches)
      for (std::size_t n = 0; n < branch.nodes.size(); ++n) {
        if (branch.nodes.size() > 1 && n + 1 == branch.nodes.size()) break;
        const auto& a = branch.nodes[n];
        const auto& b = branch.nodes.size() > 1 ? branch.nodes[n + 1] : a;
        capsules.push_back({{a.x_um, a.y_um, a.z_um}, {b.x_um, b.y_um, b.z_um}, std::max(0.0, a.radius_um),
                            std::max(0.0, b.radius_um)});
      }
    tbb::parallel_for(tbb::blocked_range<long>(0, g.nz, 1), [&](const tbb::blocked_range<long>& r) {
      tighten_slab(*in.shaft, capsules, p.shaft_radius_margin_um, r.begin(), r.end(), &tight);
    });
    in.shaft = &tight;
  }
  const std::vector<Offset> margin = ellipsoid_offsets(g.s, p.shaft_margin_um, p.shaft_margin_um);
  const std::vector<Offset> halo = ellipsoid_offsets(g.s, p.halo_xy_um, p.halo_z_um);

  // 1. Markers, per z-slab.
  tbb::parallel_for(tbb::blocked_range<long>(0, g.nz, 1), [&](const tbb::blocked_range<long>& r) {
    mark_slab(in, p, margin, halo, r.begin(), r.end(), work);
  });

  // 2. The protrusion voxels in raster order (slabs gathered in parallel, concatenated in z order).
  Protrusions prot;
  {
    std::vector<std::vector<std::size_t>> per_slice(static_cast<std::size_t>(g.nz));
    tbb::parallel_for(tbb::blocked_range<long>(0, g.nz, 1), [&](const tbb::blocked_range<long>& r) {
      for (long k = r.begin(); k < r.end(); ++k) {
        const std::size_t begin = static_cast<std::size_t>(k) * g.nx * g.ny, end = begin + g.nx * g.ny;
        for (std::size_t v = begin; v < end; ++v)
          if ((*work)[v] == kBright || (*work)[v] == kDim) per_slice[k].push_back(v);
      }
    });
    for (auto& s : per_slice) prot.voxel.insert(prot.voxel.end(), s.begin(), s.end());
  }
  const std::size_t np = prot.voxel.size();
  for (std::size_t q = 0; q < np; ++q) (*work)[prot.voxel[q]] = kFirstIndex + static_cast<std::uint32_t>(q);

  // 3. Contacts with the shaft zone, in parallel (reads only).
  prot.contact.assign(np, 0);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, np, 4096), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t q = r.begin(); q < r.end(); ++q) {
      long i, j, k;
      g.ijk(prot.voxel[q], &i, &j, &k);
      for (int dz = -1; dz <= 1; ++dz)
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) {
            if (!g.inside(i + dx, j + dy, k + dz)) continue;
            const std::uint32_t w = (*work)[g.index(i + dx, j + dy, k + dz)];
            if (w == kNear || w == kShaft) prot.contact[q] = 1;
          }
    }
  });

  // 4. 26-connected components of protrusion voxels, foreground and dim together: a thin spine's dim head on its
  //    brighter neck is one spine, and a bright spine's dim halo is part of it (union-find to the lowest index:
  //    deterministic).
  std::vector<std::uint32_t> parent(np);
  std::iota(parent.begin(), parent.end(), 0u);
  for (std::size_t q = 0; q < np; ++q) {
    long i, j, k;
    g.ijk(prot.voxel[q], &i, &j, &k);
    for (int dz = -1; dz <= 0; ++dz)
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          if (dz == 0 && (dy > 0 || (dy == 0 && dx >= 0))) continue;  // the 13 earlier neighbours
          if (!g.inside(i + dx, j + dy, k + dz)) continue;
          const std::uint32_t w = (*work)[g.index(i + dx, j + dy, k + dz)];
          if (w < kFirstIndex) continue;
          const std::uint32_t a = find_root(parent, static_cast<std::uint32_t>(q)), b = find_root(parent, w - kFirstIndex);
          if (a != b) parent[std::max(a, b)] = std::min(a, b);
        }
  }
  std::vector<Component> comps;
  {
    std::vector<int> comp_of_root(np, -1);
    for (std::size_t q = 0; q < np; ++q) {
      const std::uint32_t r = find_root(parent, static_cast<std::uint32_t>(q));
      if (comp_of_root[r] < 0) {
        comp_of_root[r] = static_cast<int>(comps.size());
        comps.emplace_back();
      }
      comps[comp_of_root[r]].members.push_back(static_cast<std::uint32_t>(q));
    }
    if (in.candidates) {
      for (const auto& c : *in.candidates) {
        const long ci = std::lround(c.tip.x_um / g.s.x_um), cj = std::lround(c.tip.y_um / g.s.y_um),
                   ck = std::lround(c.tip.z_um / g.s.z_um);
        for (int dz = -1; dz <= 1; ++dz)
          for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx) {
              if (!g.inside(ci + dx, cj + dy, ck + dz)) continue;
              const std::uint32_t w = (*work)[g.index(ci + dx, cj + dy, ck + dz)];
              if (w >= kFirstIndex) comps[comp_of_root[find_root(parent, w - kFirstIndex)]].candidate = true;
            }
      }
    }
  }

  // 5. Each component: reach from the shaft, size, contrast, splitting, base/head/tip (in parallel, in place).
  const ShaftLocator locator(*in.graph);
  const double voxel_um3 = g.s.voxel_um3();
  const double max_extent_um = p.max_spine_length_um + p.shaft_margin_um + kLengthSlackUm;
  std::vector<std::vector<Found>> found(comps.size());
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, comps.size(), 1), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t c = r.begin(); c < r.end(); ++c) {
      const Component& comp = comps[c];
      const std::size_t n = comp.members.size();
      const double min_volume = comp.candidate ? 0.5 * p.min_spine_volume_um3 : p.min_spine_volume_um3;
      if (n * voxel_um3 < min_volume) continue;
      PointUm lo{1e300, 1e300, 1e300}, hi{-1e300, -1e300, -1e300};
      float peak = 0.f;
      bool contact = false;
      for (std::uint32_t q : comp.members) {
        const PointUm pt = g.point(prot.voxel[q]);
        lo = {std::min(lo.x_um, pt.x_um), std::min(lo.y_um, pt.y_um), std::min(lo.z_um, pt.z_um)};
        hi = {std::max(hi.x_um, pt.x_um), std::max(hi.y_um, pt.y_um), std::max(hi.z_um, pt.z_um)};
        peak = std::max(peak, pre[prot.voxel[q]]);
        contact = contact || prot.contact[q];
      }
      if (peak < p.min_contrast) continue;
      // A spine fits in a box of twice its reach; larger objects are untraced dendrites or debris.
      if (hi.x_um - lo.x_um > 2 * max_extent_um || hi.y_um - lo.y_um > 2 * max_extent_um ||
          hi.z_um - lo.z_um > 2 * max_extent_um)
        continue;
      const std::vector<int> segs = locator.segments_near(lo, hi, p.max_spine_length_um + 1.0);
      if (segs.empty()) continue;
      std::vector<double> d(n);
      double min_d = 1e300, max_d = -1e300;
      for (std::size_t m = 0; m < n; ++m) {
        d[m] = locator.surface_distance_um(g.point(prot.voxel[comp.members[m]]), segs);
        min_d = std::min(min_d, d[m]);
        max_d = std::max(max_d, d[m]);
      }
      if (min_d > p.max_spine_length_um || max_d > max_extent_um) continue;
      int regions = 1;
      const std::vector<int> region = split_component(comp.members, prot, d, g, pre, p, &regions);
      for (int reg = 0; reg < regions; ++reg) {
        DetectedSpine out;
        std::size_t peak_voxel = 0;
        float reg_peak = -1.f;
        double reg_max_d = -1e300;
        PointUm contact_sum{0, 0, 0};
        int contacts = 0;
        for (std::size_t m = 0; m < n; ++m) {
          if (region[m] != reg) continue;
          const std::size_t v = prot.voxel[comp.members[m]];
          out.voxels.push_back(v);
          if (pre[v] > reg_peak) reg_peak = pre[v], peak_voxel = v;
          reg_max_d = std::max(reg_max_d, d[m]);
          if (prot.contact[comp.members[m]]) {
            const PointUm pt = g.point(v);
            contact_sum = {contact_sum.x_um + pt.x_um, contact_sum.y_um + pt.y_um, contact_sum.z_um + pt.z_um};
            ++contacts;
          }
        }
        if (p.exclude_edge_spines) {
          bool at_edge = false;
          for (std::size_t v : out.voxels) {
            long i, j, k;
            g.ijk(v, &i, &j, &k);
            if (i == 0 || j == 0 || i == g.nx - 1 || j == g.ny - 1) {
              at_edge = true;
              break;
            }
          }
          if (at_edge) continue;
        }
        if (out.voxels.size() * voxel_um3 < min_volume || reg_peak < p.min_contrast ||
            reg_max_d < p.min_spine_length_um)
          continue;
        // Head: intensity-weighted centre of the brightest voxel's 26-neighbourhood.
        long pi, pj, pk;
        g.ijk(peak_voxel, &pi, &pj, &pk);
        double wsum = 0, hx = 0, hy = 0, hz = 0;
        for (int dz = -1; dz <= 1; ++dz)
          for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx) {
              if (!g.inside(pi + dx, pj + dy, pk + dz)) continue;
              const double w = pre[g.index(pi + dx, pj + dy, pk + dz)];
              if (w <= 0) continue;
              wsum += w, hx += w * (pi + dx) * g.s.x_um, hy += w * (pj + dy) * g.s.y_um, hz += w * (pk + dz) * g.s.z_um;
            }
        Spine& s = out.spine;
        s.head = wsum > 0 ? PointUm{hx / wsum, hy / wsum, hz / wsum} : g.point(peak_voxel);
        const PointUm toward = contacts == 0 ? s.head
                                             : PointUm{contact_sum.x_um / contacts, contact_sum.y_um / contacts,
                                                       contact_sum.z_um / contacts};
        const ShaftHit hit = locator.nearest(toward, segs);
        if (!hit.found) continue;
        // A short piece spread along the shaft surface farther than it reaches out of it is the shaft's own rim
        // (threshold noise, the axial blur of the shaft), not a protrusion; a skeleton candidate vouches for it.
        if (!comp.candidate && reg_max_d < p.rim_max_reach_um) {
          double lo_t = 1e300, hi_t = -1e300;
          for (std::size_t v : out.voxels) {
            const PointUm pt = g.point(v);
            const double t = (pt.x_um - hit.centre.x_um) * hit.axis_x + (pt.y_um - hit.centre.y_um) * hit.axis_y +
                             (pt.z_um - hit.centre.z_um) * hit.axis_z;
            lo_t = std::min(lo_t, t), hi_t = std::max(hi_t, t);
          }
          if (hi_t - lo_t > p.max_footprint_ratio * reg_max_d) continue;
        }
        s.detached = contacts == 0 && !neck_visible(pre, g, s.head, hit.surface_point(s.head), p.min_neck_intensity);
        s.dendrite_id = hit.dendrite_id;
        s.base = hit.surface_point(toward);
        double far = -1;
        for (std::size_t v : out.voxels) {
          const PointUm pt = g.point(v);
          const double dist = distance_um(pt, s.base);
          if (dist > far) far = dist, s.tip = pt;
        }
        const double strength = std::min(1.0, (reg_peak - p.min_contrast) / std::max(p.min_contrast, 1e-6));
        s.confidence = std::min(1.0, (0.5 + 0.4 * strength) * (s.detached ? 0.8 : 1.0) + (comp.candidate ? 0.1 : 0.0));
        found[c].push_back({std::move(out), contacts > 0, reg_peak});
      }
    }
  });

  // 6. Fragments: a piece that does not touch the shaft but whose straight, visibly bright path to the shaft
  //    runs into another piece is the outer part of that spine (a dim rod broken up by the threshold).
  std::vector<Found*> all;
  for (auto& list : found)
    for (auto& f : list) all.push_back(&f);
  tbb::parallel_for(tbb::blocked_range<long>(0, g.nz, 1), [&](const tbb::blocked_range<long>& r) {
    std::fill(work->slice(r.begin()), work->slice(r.begin()) + (r.end() - r.begin()) * work->plane_size(), 0u);
  });
  for (std::size_t a = 0; a < all.size(); ++a)
    for (std::size_t v : all[a]->spine.voxels) (*work)[v] = static_cast<std::uint32_t>(a + 1);
  std::vector<std::uint32_t> owner(all.size());
  std::iota(owner.begin(), owner.end(), 0u);
  for (std::size_t a = 0; a < all.size(); ++a) {
    if (all[a]->touches_shaft) continue;
    const Spine& s = all[a]->spine.spine;
    const std::uint32_t hit = first_label_on_path(*work, g, s.head, s.base, static_cast<std::uint32_t>(a + 1));
    if (hit == 0) continue;
    // The root of a neck: a piece on the shaft pointing at this one (within 25°, kNeckRootMinCosine), brightest at
    // the shaft, whose thin middle fell below the threshold. The gap to bridge then runs from its tip, and half the
    // neck level will do: the two pieces in line are the evidence.
    const Found& o = *all[hit - 1];
    const Vec3 root_base(o.spine.spine.base);
    const double root_cos =
        (Vec3(o.spine.spine.tip) - root_base).unit().dot((Vec3(s.head) - root_base).unit());
    const bool neck_root = o.touches_shaft && root_cos >= kNeckRootMinCosine;
    if (!(neck_root ? neck_visible(pre, g, s.head, o.spine.spine.tip, 0.5 * p.min_neck_intensity)
                    : neck_visible(pre, g, s.head, o.spine.spine.head, p.min_neck_intensity)))
      continue;
    const std::uint32_t ra = find_root(owner, static_cast<std::uint32_t>(a)), rb = find_root(owner, hit - 1);
    if (ra != rb) owner[ra] = rb;
  }
  std::vector<DetectedSpine> merged;
  {
    std::vector<int> slot(all.size(), -1);
    for (std::size_t a = 0; a < all.size(); ++a) {
      const std::uint32_t r = find_root(owner, static_cast<std::uint32_t>(a));
      if (slot[r] < 0) {
        slot[r] = static_cast<int>(merged.size());
        merged.push_back(std::move(all[r]->spine));
      }
    }
    for (std::size_t a = 0; a < all.size(); ++a) {
      const std::uint32_t r = find_root(owner, static_cast<std::uint32_t>(a));
      if (r == a) continue;
      DetectedSpine& into = merged[slot[r]];
      const Spine& part = all[a]->spine.spine;
      // The outer piece carries the head estimate and the tip.
      if (distance_um(part.head, into.spine.base) > distance_um(into.spine.head, into.spine.base))
        into.spine.head = part.head;
      if (distance_um(part.tip, into.spine.base) > distance_um(into.spine.tip, into.spine.base))
        into.spine.tip = part.tip;
      into.spine.confidence = std::max(into.spine.confidence, part.confidence);
      into.voxels.insert(into.voxels.end(), all[a]->spine.voxels.begin(), all[a]->spine.voxels.end());
      std::sort(into.voxels.begin(), into.voxels.end());
    }
  }

  // 7. Stable order and labels.
  std::vector<std::pair<SortKey, DetectedSpine*>> order;
  for (auto& s : merged) {
    long i = std::lround(s.spine.head.x_um / g.s.x_um), j = std::lround(s.spine.head.y_um / g.s.y_um),
         k = std::lround(s.spine.head.z_um / g.s.z_um);
    order.push_back({SortKey{s.spine.dendrite_id, g.index(std::clamp(i, 0L, g.nx - 1), std::clamp(j, 0L, g.ny - 1),
                                                           std::clamp(k, 0L, g.nz - 1))},
                     &s});
  }
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& list : found)
    for (auto& f : list)
      for (std::size_t v : f.spine.voxels) (*work)[v] = 0;
  for (auto& s : merged)
    for (std::size_t v : s.voxels) (*work)[v] = 0;
  std::vector<DetectedSpine> result;
  result.reserve(order.size());
  for (auto& [key, s] : order) {
    s->spine.spine_id = static_cast<int>(result.size());
    for (std::size_t v : s->voxels) (*work)[v] = static_cast<std::uint32_t>(s->spine.spine_id + 1);
    result.push_back(std::move(*s));
  }
  return result;
}

}  // namespace spinescope::stages::spines
