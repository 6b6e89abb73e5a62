#pragma once
/// @file spines_stage.hpp
/// @brief Stage "spines": finds dendritic spines as protrusions of the foreground out of the dendrite shaft.
///
/// Input: preprocessed (float, ~0 background .. ~1 dendrite), foreground, shaft_mask, dendrite_graph,
/// spine_candidates. Output: spines (std::vector<Spine>: id, dendrite, base on the shaft surface, tip, first
/// head estimate, detached flag) and spine_labels (uint32, spine_id + 1 on the spine's voxels).
/// Anisotropic voxels: all distances use the stack's spacing; every size parameter is in µm.
///
/// Shaft: unless robust_shaft is off, the dendrite stage's shaft mask is re-derived around the centerline: per
/// node, 24 rays across the local axis give the half-maximum radius and where the foreground ends; an ellipse fitted
/// robustly to opposite-ray diameters (the third farthest out dropped: spines cover few directions) marks the rays
/// that run into a spine, which get the fit's radius, the others their own foreground boundary; radii are median-
/// smoothed over 1 µm along the branch. On thin, spiny dendrites the given mask swallows necks and whole spines, and
/// its isotropic radius leaves the shaft's axial blur outside, where it joins neighbouring spines into one object.
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
