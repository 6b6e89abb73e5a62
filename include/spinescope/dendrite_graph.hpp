#pragma once
/// @file dendrite_graph.hpp
/// @brief Traced dendrites: centerline polylines in µm with a local radius per node.

#include <string>
#include <vector>

#include "spinescope/volume.hpp"

namespace spinescope {

/// @brief One node of a traced centerline.
struct DendriteNode {
  double x_um = 0.0, y_um = 0.0, z_um = 0.0;
  double radius_um = 0.0;
};

/// @brief An unbranched stretch of dendrite between two branch points or ends.
struct DendriteBranch {
  int id = 0;
  int dendrite_id = 0;             ///< which dendrite (connected tree) it belongs to
  std::vector<DendriteNode> nodes; ///< smoothed centerline, ordered
  int parent_branch = -1;          ///< -1 for a root branch
  double length_um() const;        ///< along the polyline
};

/// @brief The traced dendrites of one stack.
struct DendriteGraph {
  std::vector<DendriteBranch> branches;
  /// @brief Total centerline length in µm of dendrite @p dendrite_id (all when < 0).
  double total_length_um(int dendrite_id = -1) const;
  /// @brief Distinct dendrite ids, ascending.
  std::vector<int> dendrite_ids() const;
  /// @brief Where three or more branch ends of dendrite @p dendrite_id (all when < 0) meet (within 0.5 µm): its
  /// branch points, in µm.
  std::vector<PointUm> branch_points(int dendrite_id = -1) const;
};

/// @brief A short protrusion handed from the dendrite stage to the spine stage.
struct SpineCandidate {
  PointUm base;                 ///< where it leaves the shaft
  PointUm tip;                  ///< far end
  int dendrite_id = -1;
  std::vector<std::size_t> voxels;  ///< linear voxel indices (may be empty: seed only)
};

using SpineCandidates = std::vector<SpineCandidate>;

/// @brief Writes @p graph as INCF SWC (index type x y z radius parent, µm; parents before children).
/// @p header_lines go in as '# ' comments (stack, voxel size). Written atomically.
void write_swc(const std::string& path, const DendriteGraph& graph, const std::vector<std::string>& header_lines);

}  // namespace spinescope
