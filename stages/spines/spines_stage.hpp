#pragma once
/// @file spines_stage.hpp
/// @brief Stage "spines": finds dendritic spines as protrusions of the foreground out of the dendrite shaft.
///
/// Input: preprocessed (float, ~0 background .. ~1 dendrite), foreground, shaft_mask, dendrite_graph,
/// spine_candidates. Output: spines (std::vector<Spine>: id, dendrite, base on the shaft surface, tip, first
/// head estimate, detached flag) and spine_labels (uint32, spine_id + 1 on the spine's voxels).
/// Anisotropic voxels: all distances use the stack's spacing; every size parameter is in µm.
///
/// Method: voxels of the foreground farther than shaft_margin_um from the shaft mask form 26-connected
/// protrusions; each is measured against the traced centerline (distance from the shaft surface, nearest
/// dendrite). A protrusion with several head maxima separated by a real intensity dip and by at least
/// min_head_separation_um is split by seeded flooding (a watershed on intensity). Bright blobs that do not touch
/// the shaft (their neck too dim to segment) are detached heads when they lie within max_spine_length_um of the
/// shaft surface; farther ones are puncta, not spines. Dim or tiny candidates are dropped by contrast, volume and
/// protrusion length. Reference: Rodriguez et al. 2008, doi:10.1371/journal.pone.0001997 (detached heads,
/// protrusion detection in 3-D).

#include "spinescope/stage.hpp"
#include "stages/spines/detect.hpp"

namespace spinescope::stages::spines {

class SpinesStage : public Stage {
 public:
  const StageSpec& spec() const override;
  void run(Context& ctx) const override;
  /// @brief The validated detection settings (after configure()).
  const DetectParams& detect_params() const { return detect_; }

 protected:
  void on_configure(const ResolvedParams& params) override;

 private:
  DetectParams detect_;
};

}  // namespace spinescope::stages::spines
