#include "stages/dendrites/skeleton.hpp"

#include <algorithm>
#include <array>
#include <vector>

namespace spinescope::stages::dendrites {
namespace {

constexpr int kCentre = 13;

struct Adjacency {
  std::array<std::uint32_t, 27> n26{};  // 26-neighbours within the 3x3x3 block (centre excluded)
  std::array<std::uint32_t, 27> n6{};   // 6-neighbours within the block
  std::uint32_t n18 = 0;                // the 18-neighbourhood of the centre
  std::uint32_t six = 0;                // the 6-neighbours of the centre
  Adjacency() {
    for (int p = 0; p < 27; ++p) {
      const int px = p % 3, py = (p / 3) % 3, pz = p / 9;
      const int d = std::abs(px - 1) + std::abs(py - 1) + std::abs(pz - 1);
      if (d >= 1 && d <= 2) n18 |= 1u << p;
      if (d == 1) six |= 1u << p;
      for (int q = 0; q < 27; ++q) {
        if (q == p || q == kCentre || p == kCentre) continue;
        const int qx = q % 3, qy = (q / 3) % 3, qz = q / 9;
        const int ax = std::abs(px - qx), ay = std::abs(py - qy), az = std::abs(pz - qz);
        if (ax <= 1 && ay <= 1 && az <= 1) n26[p] |= 1u << q;
        if (ax + ay + az == 1) n6[p] |= 1u << q;
      }
    }
  }
};

const Adjacency& adjacency() {
  static const Adjacency a;
  return a;
}

// Number of connected components of @p set under @p adj; when @p touching is nonzero only components that
// contain a member of @p touching count.
int count_components(std::uint32_t set, const std::array<std::uint32_t, 27>& adj, std::uint32_t touching) {
  int count = 0;
  while (set) {
    std::uint32_t seed = set & (~set + 1u);
    std::uint32_t comp = seed, frontier = seed;
    while (frontier) {
      const int p = __builtin_ctz(frontier);
      frontier &= frontier - 1;
      const std::uint32_t grow = adj[p] & set & ~comp;
      comp |= grow;
      frontier |= grow;
    }
    set &= ~comp;
    if (!touching || (comp & touching)) ++count;
  }
  return count;
}

}  // namespace

bool is_simple_point(std::uint32_t nb) {
  const Adjacency& a = adjacency();
  const std::uint32_t all = (1u << 27) - 1u;
  const std::uint32_t object = nb & all & ~(1u << kCentre);
  if (count_components(object, a.n26, 0) != 1) return false;
  const std::uint32_t background = ~nb & a.n18;
  return count_components(background, a.n6, a.six) == 1;
}

void thin_to_skeleton(Volume<std::uint8_t>& mask, bool anchor_xy_faces) {
  const long nx = static_cast<long>(mask.nx()), ny = static_cast<long>(mask.ny()), nz = static_cast<long>(mask.nz());
  // Work on a copy cropped to the object's bounding box with a one-voxel background border: no bounds checks.
  long x0 = nx, y0 = ny, z0 = nz, x1 = -1, y1 = -1, z1 = -1;
  for (long k = 0; k < nz; ++k)
    for (long j = 0; j < ny; ++j) {
      const std::uint8_t* row = mask.data() + mask.index(0, j, k);
      for (long i = 0; i < nx; ++i)
        if (row[i]) {
          x0 = std::min(x0, i), x1 = std::max(x1, i), y0 = std::min(y0, j), y1 = std::max(y1, j);
          z0 = std::min(z0, k), z1 = std::max(z1, k);
        }
    }
  if (x1 < 0) return;
  const long px = x1 - x0 + 3, py = y1 - y0 + 3, pz = z1 - z0 + 3;
  std::vector<std::uint8_t> grid(static_cast<std::size_t>(px * py * pz), 0);
  std::vector<long> alive;
  for (long k = z0; k <= z1; ++k)
    for (long j = y0; j <= y1; ++j)
      for (long i = x0; i <= x1; ++i)
        if (mask(i, j, k)) {
          const long n = ((k - z0 + 1) * py + (j - y0 + 1)) * px + (i - x0 + 1);
          grid[n] = 1;
          alive.push_back(n);
        }
  // Anchored faces: a fixed object layer just outside the x and y faces the object touches, so a dendrite cut by
  // a face keeps its skeleton running straight into the face instead of bending along the cut.
  if (anchor_xy_faces) {
    for (long k = 1; k + 1 < pz; ++k)
      for (long j = 1; j + 1 < py; ++j) {
        if (x0 == 0) grid[(k * py + j) * px] = 1;
        if (x1 == nx - 1) grid[(k * py + j) * px + px - 1] = 1;
      }
    for (long k = 1; k + 1 < pz; ++k)
      for (long i = 1; i + 1 < px; ++i) {
        if (y0 == 0) grid[(k * py) * px + i] = 1;
        if (y1 == ny - 1) grid[(k * py + py - 1) * px + i] = 1;
      }
  }
  std::array<long, 27> offset{};
  for (int p = 0; p < 27; ++p) offset[p] = ((p / 9 - 1) * py + ((p / 3) % 3 - 1)) * px + (p % 3 - 1);
  auto neighbourhood = [&](long n) {
    std::uint32_t nb = 0;
    for (int p = 0; p < 27; ++p)
      if (grid[n + offset[p]]) nb |= 1u << p;
    return nb;
  };
  auto removable = [&](long n) {
    const std::uint32_t nb = neighbourhood(n);
    if (__builtin_popcount(nb) <= 2) return false;  // a curve end (or an isolated voxel) stays
    return is_simple_point(nb);
  };
  // Directions -x, +x, -y, +y, -z, +z as neighbourhood positions.
  const int directions[6] = {12, 14, 10, 16, 4, 22};
  std::vector<long> candidates;
  bool changed = true;
  while (changed) {
    changed = false;
    for (int d : directions) {
      candidates.clear();
      for (long n : alive)
        if (!grid[n + offset[d]] && removable(n)) candidates.push_back(n);
      for (long n : candidates)
        if (removable(n)) {
          grid[n] = 0;
          changed = true;
        }
      alive.erase(std::remove_if(alive.begin(), alive.end(), [&](long n) { return !grid[n]; }), alive.end());
    }
  }
  std::fill(mask.storage().begin(), mask.storage().end(), 0);
  for (long n : alive) {
    const long i = n % px, j = (n / px) % py, k = n / (px * py);
    mask(i - 1 + x0, j - 1 + y0, k - 1 + z0) = 1;
  }
}

}  // namespace spinescope::stages::dendrites
