#pragma once
/// @file trace.hpp
/// @brief From a curve skeleton to dendrite branches in µm: spine spurs pruned (handed on as spine candidates),
/// crossings paired by straightest continuation, gaps bridged, centerlines smoothed before measuring.

#include "spinescope/dendrite_graph.hpp"
#include "spinescope/volume.hpp"

namespace spinescope::stages::dendrites {

/// @brief Settings of trace_skeleton() (the stage's parameters).
struct TraceOptions {
  double max_spine_length_um = 3.0;     ///< a terminal side branch protruding less than this is a spine
  double gap_um = 1.0;                  ///< largest gap bridged between two aligned dendrite ends
  double smoothing_um = 1.0;            ///< moving-average window along the centerline
  double min_dendrite_length_um = 5.0;  ///< shorter connected pieces are dropped (puncta, debris)
  double node_step_um = 0.25;           ///< spacing of output nodes
  double crossing_angle_deg = 50.0;     ///< largest bend still paired as a straight continuation at a crossing
};

/// @brief Branches and spine candidates of one stack.
struct TraceResult {
  DendriteGraph graph;
  SpineCandidates candidates;
  /// Points (µm, every ~0.1 µm) of the interpolated stretches through crossings: the intensity there belongs to
  /// two dendrites, so refine_centerline() leaves nodes near them on the interpolated path.
  std::vector<PointUm> crossing_points;
  /// Points (µm, every ~0.25 µm) of the two axes split from a stem where two dendrites run merged: measured (the
  /// two lobes of its cross-section), so refine_centerline() leaves nodes near them where they are.
  std::vector<PointUm> merged_points;
};

/// @brief Turns @p skeleton (nonzero = curve skeleton voxel) into smoothed branches in µm. @p object is the mask
/// the skeleton was thinned from (same grid): the distance from a skeleton voxel to its background is the local
/// radius, measured only where needed. @p stack_box_um is the stack's far
/// corner (the near one is the origin): ends within a radius of a face are extended to it and are never spines.
/// Node radii are the distance-map radii (refine them afterwards). Serial; deterministic.
TraceResult trace_skeleton(const Volume<std::uint8_t>& skeleton, const Volume<std::uint8_t>& object,
                           const PointUm& stack_box_um, const TraceOptions& options);

}  // namespace spinescope::stages::dendrites
