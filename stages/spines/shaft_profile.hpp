#pragma once
/// @file shaft_profile.hpp
/// @brief A spine-free shaft re-derived from the traced centerline: per node, the half-maximum radius of the
/// preprocessed image along rays perpendicular to the local axis, fitted robustly (spines occupy few directions)
/// and smoothed along the branch. All lengths in µm; voxels are anisotropic.

#include <vector>

#include "spinescope/dendrite_graph.hpp"
#include "spinescope/volume.hpp"

namespace spinescope::stages::spines {

/// @brief The shaft cross-section at one node: an ellipse in the plane perpendicular to the axis whose
/// "axial" semi-axis lies along the optical axis's projection into that plane (blur stretches it).
struct ShaftSection {
  PointUm centre;          ///< recentred node (µm)
  double lateral_um = 0;   ///< half-maximum semi-axis across the optical axis (µm)
  double axial_um = 0;     ///< half-maximum semi-axis along the optical axis's projection (µm)
  /// @brief Per ray (angle 2 pi q / rays from the lateral towards the axial direction, from the graph's node):
  /// where the shaft's foreground ends; rays into a spine take the robust fit's value instead (µm).
  std::vector<double> mask_radius_um;
};

/// @brief Profile settings.
struct ShaftProfileParams {
  int rays = 24;             ///< rays per node, evenly spread over the perpendicular plane
  double reach_um = 2.5;     ///< longest ray (µm); a ray that stays bright this far lies in a spine
  double smooth_um = 1.0;    ///< median window along the branch (µm, full width)
  double margin_um = 0.1;    ///< added to both semi-axes when masking (µm)
};

/// @brief One section per node of every branch (same nesting as graph.branches[b].nodes), from the
/// preprocessed image @p pre and its foreground @p fg. Parallel over branches; deterministic.
std::vector<std::vector<ShaftSection>> shaft_sections(const VolumeF& pre, const VolumeU8& fg,
                                                      const DendriteGraph& graph, const ShaftProfileParams& params);

/// @brief The shaft: voxels of the given @p shaft mask or foreground @p fg inside the tube of @p sections (mask
/// radii + margin); voxels of @p shaft farther than reach_um from every section are kept unchanged (parts of
/// the mask the graph does not trace). Parallel over z; deterministic.
VolumeU8 robust_shaft_mask(const VolumeU8& shaft, const VolumeU8& fg, const DendriteGraph& graph,
                           const std::vector<std::vector<ShaftSection>>& sections, const ShaftProfileParams& params);

}  // namespace spinescope::stages::spines
