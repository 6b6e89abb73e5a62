#pragma once
/// @file shaft.hpp
/// @brief Per-node radii from the intensity profile across the dendrite, and the shaft mask (the dendrite
/// without its spines) around the traced centerline.

#include <cstdint>
#include <vector>

#include "spinescope/dendrite_graph.hpp"
#include "spinescope/volume.hpp"

namespace spinescope::stages::dendrites {

/// @brief Sets each node's radius_um to the half-maximum radius of @p intensity across the branch (median over
/// 12 directions normal to the centerline, smoothed over ±0.5 µm along it; µm, trilinear sampling with spacing),
/// and returns per branch and node the radius (µm) at which the intensity falls below @p foreground_threshold.
/// Radii are capped at @p max_radius_um. Branch-parallel; deterministic.
std::vector<std::vector<double>> measure_radii(DendriteGraph& graph, const Volume<float>& intensity,
                                               double foreground_threshold, double max_radius_um);

/// @brief Per branch and node: 1 where the node is within @p distance_um of one of @p points.
std::vector<std::vector<char>> nodes_near(const DendriteGraph& graph, const std::vector<PointUm>& points,
                                          double distance_um);

/// @brief Moves each interior node towards the intensity centroid of the dendrite's cross-section (a disc normal
/// to the centerline of radius max(1.3 · radius, 0.5 µm), weights = intensity above half the local peak, each
/// ray only up to where it first falls below that; a ray that leaves the stack above that level is left out with
/// its opposite), then smooths positions over @p smoothing_um. Branch ends stay
/// (they join other branches or lie on a stack face). Nodes flagged in @p keep (per branch and node, e.g. through
/// a crossing) are not pulled by the intensity: they follow a cubic between the refined nodes around them; nodes
/// flagged 2 (a measured axis within merged dendrites) stay where they are.
/// Repeated @p iterations times. Branch-parallel; deterministic.
void refine_centerline(DendriteGraph& graph, const Volume<float>& intensity, double smoothing_um, int iterations,
                       const std::vector<std::vector<char>>& keep = {});

/// @brief The voxels of @p foreground within (@p radii_um + @p margin_um) of the centerline of @p graph (radii
/// per branch and node, linear between nodes). Slice-parallel.
Volume<std::uint8_t> rasterize_shaft(const DendriteGraph& graph, const std::vector<std::vector<double>>& radii_um,
                                     const Volume<std::uint8_t>& foreground, double margin_um);

}  // namespace spinescope::stages::dendrites
