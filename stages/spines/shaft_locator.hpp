#pragma once
/// @file shaft_locator.hpp
/// @brief Nearest dendrite-shaft surface to a point, from the traced centerline segments and their radii (µm).

#include <cstddef>
#include <unordered_map>
#include <vector>

#include "spinescope/dendrite_graph.hpp"

namespace spinescope::stages::spines {

/// @brief The nearest shaft surface point found for a query point.
struct ShaftHit {
  bool found = false;
  int dendrite_id = -1;
  int branch = -1;                 ///< index into DendriteGraph::branches
  PointUm centre;                  ///< nearest centerline point
  double axis_x = 1, axis_y = 0, axis_z = 0;  ///< unit direction of the centerline there
  double radius_um = 0.0;          ///< shaft radius there
  double surface_distance_um = 0;  ///< distance to the shaft surface (negative inside)
  /// @brief The point on the shaft surface in the direction of the query point (µm).
  PointUm surface_point(const PointUm& query) const;
};

/// @brief A uniform grid over the centerline segments (capsules with linearly interpolated radius).
/// Build once per stack; queries are const and thread-safe.
class ShaftLocator {
 public:
  /// @param cell_um grid cell edge (µm); segments are filed in every cell their capsule touches.
  explicit ShaftLocator(const DendriteGraph& graph, double cell_um = 1.5);

  /// @brief Segments whose capsule comes within @p reach_um of the box [lo, hi] (µm); sorted, unique.
  std::vector<int> segments_near(const PointUm& lo, const PointUm& hi, double reach_um) const;
  /// @brief Nearest surface among @p segments (from segments_near) to @p p.
  ShaftHit nearest(const PointUm& p, const std::vector<int>& segments) const;
  /// @brief Distance from @p p to the nearest shaft surface among @p segments (1e300 when there are none).
  double surface_distance_um(const PointUm& p, const std::vector<int>& segments) const;
  bool empty() const { return segments_.empty(); }

 private:
  struct Segment {
    PointUm a, b;
    double ra = 0, rb = 0;
    int branch = 0, dendrite_id = 0;
  };
  long key(long i, long j, long k) const { return (k * 65536L + j) * 65536L + i; }
  void project(const Segment& s, const PointUm& p, PointUm* c, double* r, double* d) const;

  double cell_um_;
  std::vector<Segment> segments_;
  std::unordered_map<long, std::vector<int>> cells_;
};

}  // namespace spinescope::stages::spines
