#include "stages/spines/shaft_locator.hpp"

#include <algorithm>
#include <cmath>

namespace spinescope::stages::spines {

namespace {
constexpr long kCellOffset = 32768;  // keeps cell indices of slightly negative coordinates positive

double dist(const PointUm& a, const PointUm& b) {
  const double dx = a.x_um - b.x_um, dy = a.y_um - b.y_um, dz = a.z_um - b.z_um;
  return std::sqrt(dx * dx + dy * dy + dz * dz);
}
}  // namespace

PointUm ShaftHit::surface_point(const PointUm& query) const {
  const double d = dist(query, centre);
  if (d < 1e-9) return centre;
  const double s = radius_um / d;
  return {centre.x_um + (query.x_um - centre.x_um) * s, centre.y_um + (query.y_um - centre.y_um) * s,
          centre.z_um + (query.z_um - centre.z_um) * s};
}

ShaftLocator::ShaftLocator(const DendriteGraph& graph, double cell_um) : cell_um_(cell_um) {
  for (std::size_t b = 0; b < graph.branches.size(); ++b) {
    const auto& nodes = graph.branches[b].nodes;
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      // A one-node branch is a ball; otherwise one capsule per consecutive pair.
      if (nodes.size() > 1 && n + 1 == nodes.size()) break;
      const auto& p = nodes[n];
      const auto& q = nodes.size() > 1 ? nodes[n + 1] : nodes[n];
      segments_.push_back({{p.x_um, p.y_um, p.z_um}, {q.x_um, q.y_um, q.z_um}, std::max(0.0, p.radius_um),
                           std::max(0.0, q.radius_um), static_cast<int>(b), graph.branches[b].dendrite_id});
    }
  }
  for (std::size_t s = 0; s < segments_.size(); ++s) {
    const Segment& g = segments_[s];
    const double r = std::max(g.ra, g.rb);
    const auto lo = [&](double a, double b) { return static_cast<long>(std::floor((std::min(a, b) - r) / cell_um_)); };
    const auto hi = [&](double a, double b) { return static_cast<long>(std::floor((std::max(a, b) + r) / cell_um_)); };
    for (long k = lo(g.a.z_um, g.b.z_um); k <= hi(g.a.z_um, g.b.z_um); ++k)
      for (long j = lo(g.a.y_um, g.b.y_um); j <= hi(g.a.y_um, g.b.y_um); ++j)
        for (long i = lo(g.a.x_um, g.b.x_um); i <= hi(g.a.x_um, g.b.x_um); ++i)
          cells_[key(i + kCellOffset, j + kCellOffset, k + kCellOffset)].push_back(static_cast<int>(s));
  }
}

std::vector<int> ShaftLocator::segments_near(const PointUm& lo, const PointUm& hi, double reach_um) const {
  std::vector<int> out;
  const auto cell = [&](double v) { return static_cast<long>(std::floor(v / cell_um_)) + kCellOffset; };
  for (long k = cell(lo.z_um - reach_um); k <= cell(hi.z_um + reach_um); ++k)
    for (long j = cell(lo.y_um - reach_um); j <= cell(hi.y_um + reach_um); ++j)
      for (long i = cell(lo.x_um - reach_um); i <= cell(hi.x_um + reach_um); ++i) {
        auto it = cells_.find(key(i, j, k));
        if (it != cells_.end()) out.insert(out.end(), it->second.begin(), it->second.end());
      }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void ShaftLocator::project(const Segment& s, const PointUm& p, PointUm* c, double* r, double* d) const {
  const double ux = s.b.x_um - s.a.x_um, uy = s.b.y_um - s.a.y_um, uz = s.b.z_um - s.a.z_um;
  const double len2 = ux * ux + uy * uy + uz * uz;
  double t = 0.0;
  if (len2 > 0.0)
    t = std::clamp(((p.x_um - s.a.x_um) * ux + (p.y_um - s.a.y_um) * uy + (p.z_um - s.a.z_um) * uz) / len2, 0.0, 1.0);
  *c = {s.a.x_um + t * ux, s.a.y_um + t * uy, s.a.z_um + t * uz};
  *r = s.ra + t * (s.rb - s.ra);
  *d = dist(p, *c) - *r;
}

ShaftHit ShaftLocator::nearest(const PointUm& p, const std::vector<int>& segments) const {
  ShaftHit hit;
  hit.surface_distance_um = 1e300;
  for (int s : segments) {
    PointUm c;
    double r, d;
    project(segments_[s], p, &c, &r, &d);
    if (d < hit.surface_distance_um) {
      hit.found = true;
      hit.surface_distance_um = d;
      hit.centre = c;
      hit.radius_um = r;
      const Segment& g = segments_[s];
      const double ux = g.b.x_um - g.a.x_um, uy = g.b.y_um - g.a.y_um, uz = g.b.z_um - g.a.z_um;
      const double un = std::sqrt(ux * ux + uy * uy + uz * uz);
      if (un > 1e-12) hit.axis_x = ux / un, hit.axis_y = uy / un, hit.axis_z = uz / un;
      hit.branch = segments_[s].branch;
      hit.dendrite_id = segments_[s].dendrite_id;
    }
  }
  return hit;
}

double ShaftLocator::surface_distance_um(const PointUm& p, const std::vector<int>& segments) const {
  double best = 1e300;
  for (int s : segments) {
    PointUm c;
    double r, d;
    project(segments_[s], p, &c, &r, &d);
    best = std::min(best, d);
  }
  return best;
}

}  // namespace spinescope::stages::spines
