#pragma once
/// @file dendrites_stage.hpp
/// @brief dendrites: foreground, multi-scale tubularity, curve skeleton, branch graph with radii, shaft mask.
///
/// Input: artifacts::kPreprocessed (Volume<float>, ~0 background, ~1 dendrite).
/// Output: artifacts::kForeground (Volume<uint8_t> neuron mask), kShaftMask (Volume<uint8_t>, the dendrite
/// without its spines), kDendriteGraph (smoothed centerlines in µm, half-maximum radius per node, dendrite_id per
/// connected dendrite, parent_branch), kSpineCandidates (short terminal side branches: base, tip, dendrite_id).
/// Anisotropy: filters take sigma in µm per axis; tracing runs on a grid of about trace_spacing_um laterally with
/// the stack's z spacing; all geometry leaves in µm. Dendrite length is measured along the smoothed centerline.
/// References: Sato et al., Med. Image Anal. 2:143 (1998), doi:10.1016/S1361-8415(98)80009-1 (tubularity);
/// Bertrand & Malandain, Pattern Recognit. Lett. 15:169 (1994), doi:10.1016/0167-8655(94)90046-9 (simple points).

#include "stages/dendrites/trace.hpp"
#include "spinescope/stage.hpp"

namespace spinescope::stages::dendrites {

/// @brief Settings of the dendrites stage (its parameters), in µm.
struct DendritesOptions {
  double min_radius_um = 0.3;
  double max_radius_um = 2.0;
  int scales = 3;
  double foreground_threshold = 0.2;   ///< normalised intensity
  double noise_factor = 5.0;           ///< threshold at least this many background noise SDs
  double tubularity_threshold = 0.05;  ///< scale-normalised tube response that joins dim voxels to the foreground
  double trace_spacing_um = 0.2;       ///< lateral grid of the tubularity and skeleton
  double shaft_margin_um = 0.1;
  TraceOptions trace;
};

class DendritesStage : public Stage {
 public:
  const StageSpec& spec() const override;
  void run(Context& ctx) const override;
  const DendritesOptions& options() const { return options_; }

 protected:
  void on_configure(const ResolvedParams& params) override;

 private:
  DendritesOptions options_;
};

}  // namespace spinescope::stages::dendrites
