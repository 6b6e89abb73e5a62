#pragma once
/// @file report_stage.hpp
/// @brief report: writes one stack's results (the output contract) into StackInfo::output_dir.
///
/// Input: kDendriteGraph, kSpines, kRawMip, kShaftMask, kSpineLabels. Output files (each written atomically):
/// spines.csv (one row per spine, µm), dendrites.csv (one row per dendrite), summary.json (provenance: version,
/// input SHA-256, voxel size and its source, resolved parameters, counts), labels.tif (uint16 ImageJ hyperstack with
/// spacing: 1 = dendrite shaft, spine k = k + 2), trace.swc (INCF SWC in µm), overlay.png (maximum projection with
/// the trace, spines coloured by type, legend and scale bar). Works at any anisotropy (positions are µm).

#include "spinescope/dendrite_graph.hpp"
#include "spinescope/spine.hpp"
#include "spinescope/stage.hpp"

namespace spinescope::stages::report {

class ReportStage : public Stage {
 public:
  const StageSpec& spec() const override;
  void run(Context& ctx) const override;
};

/// @brief Draws the overlay picture (BGR, 8-bit) and writes it as PNG at @p path, atomically.
/// @p mip is the raw maximum projection (nz = 1) with the stack's spacing.
void write_overlay_png(const std::string& path, const Volume<float>& mip, const DendriteGraph& graph,
                       const std::vector<Spine>& spines);

}  // namespace spinescope::stages::report
