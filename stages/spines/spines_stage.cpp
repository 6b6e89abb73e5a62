#include "stages/spines/spines_stage.hpp"

#include "spinescope/dendrite_graph.hpp"
#include "spinescope/spine.hpp"

namespace spinescope::stages::spines {

namespace {
StageSpec make_spec() {
  StageSpec s;
  s.name = "spines";
  s.summary = "dendritic spines: protrusions out of the shaft, detached heads, touching spines split";
  s.requires_artifacts = {artifacts::kPreprocessed, artifacts::kForeground, artifacts::kShaftMask,
                          artifacts::kDendriteGraph, artifacts::kSpineCandidates};
  s.provides_artifacts = {artifacts::kSpines, artifacts::kSpineLabels};
  s.params = {
      real_param("max_spine_length_um", 3.0, 0.5, 10.0, "um",
                 "farthest a spine reaches from the shaft surface; blobs farther out are puncta, not spines"),
      real_param("min_spine_length_um", 0.3, 0.0, 2.0, "um",
                 "a protrusion must reach at least this far out of the shaft surface"),
      real_param("max_footprint_ratio", 1.5, 0.5, 100.0, "",
                 "a short piece (see rim_max_reach_um) spread along the shaft more than this times its reach out of "
                 "the shaft is the shaft's rim (threshold noise, axial blur), not a spine; pieces a skeleton side "
                 "branch ends in are kept"),
      real_param("rim_max_reach_um", 0.8, 0.0, 10.0, "um",
                 "max_footprint_ratio applies to pieces reaching less than this out of the shaft surface"),
      real_param("min_spine_volume_um3", 0.01, 0.0, 10.0, "um3",
                 "smallest segmented spine volume (voxel count x voxel volume); halved where a skeleton "
                 "candidate confirms it"),
      real_param("min_contrast", 0.05, 0.0, 1.0, "",
                 "smallest peak intensity of a spine in preprocessed units (background 0, dendrite ~1)"),
      real_param("shaft_margin_um", 0.1, 0.0, 1.0, "um",
                 "foreground within this distance of the shaft mask belongs to the shaft"),
      real_param("shaft_radius_margin_um", 3.0, 0.0, 3.0, "um",
                 "the shaft mask is limited to the traced centerline's radius plus this (a stubby spine widens the "
                 "thresholded shaft); 3, the default, keeps the dendrite stage's mask as it is"),
      bool_param("robust_shaft", true,
                 "re-derive the shaft from the centerline: per node the half-maximum radius along rays across the "
                 "axis, fitted robustly (spines cover few directions) and smoothed over 1 um; the given shaft mask "
                 "is cut to it where it is wider (it swallows spine necks on thin, spiny dendrites)"),
      real_param("robust_shaft_margin_um", 0.05, 0.0, 1.0, "um",
                 "added to the re-derived shaft's half-maximum radii"),
      real_param("min_head_separation_um", 0.6, 0.1, 3.0, "um",
                 "two head maxima closer than this are one spine"),
      real_param("split_min_dip", 0.15, 0.0, 1.0, "fraction",
                 "touching spines are split only where the intensity between their heads drops by this fraction "
                 "of the dimmer head"),
      real_param("detached_min_intensity", 0.05, 0.01, 1.0, "",
                 "second, lower threshold (preprocessed units) for thin spines and dim heads outside the foreground"),
      real_param("halo_xy_um", 0.3, 0.0, 2.0, "um",
                 "laterally, voxels between the two thresholds this close to the shaft mask are the shaft's blur"),
      real_param("halo_z_um", 0.6, 0.0, 4.0, "um",
                 "axially, voxels between the two thresholds this close to the shaft mask are the shaft's blur"),
      real_param("min_neck_intensity", 0.04, 0.0, 1.0, "",
                 "a head outside the foreground counts as attached when the straight path to the shaft stays this "
                 "bright (preprocessed units, mean over 0.2 um); else it is detached"),
      real_param("min_snr", 5.0, 0.0, 50.0, "",
                 "the dim threshold and min_contrast are raised to the background's median plus this many noise "
                 "standard deviations (measured per stack, robustly) where that is higher: noise specks near a "
                 "shaft in a dim, noisy stack are not detached heads; 0 = off"),
      bool_param("exclude_edge_spines", true,
                 "pieces cut by the stack's side faces (x or y) are not counted: they cannot be measured whole, and "
                 "most are the end of a dendrite that leaves the stack there"),
      bool_param("detect_detached", true,
                 "also report heads whose neck is too dim to segment (within max_spine_length_um of the shaft)"),
  };
  s.columns = {{"spine_id", "", "0..n-1, ordered by dendrite then position"},
               {"dendrite_id", "", "dendrite the spine belongs to"},
               {"base_x_um", "um", "where the spine leaves the shaft surface"},
               {"tip_x_um", "um", "far end of the segmented spine"},
               {"detached", "", "true for a head whose neck was too dim to segment"}};
  s.reference = "doi:10.1371/journal.pone.0001997";
  return s;
}
}  // namespace

const StageSpec& SpinesStage::spec() const {
  static const StageSpec s = make_spec();
  return s;
}

void SpinesStage::on_configure(const ResolvedParams& p) {
  detect_.max_spine_length_um = p.real("max_spine_length_um");
  detect_.min_spine_length_um = p.real("min_spine_length_um");
  detect_.min_spine_volume_um3 = p.real("min_spine_volume_um3");
  detect_.max_footprint_ratio = p.real("max_footprint_ratio");
  detect_.rim_max_reach_um = p.real("rim_max_reach_um");
  detect_.min_contrast = p.real("min_contrast");
  detect_.shaft_margin_um = p.real("shaft_margin_um");
  detect_.shaft_radius_margin_um = p.real("shaft_radius_margin_um");
  detect_.min_head_separation_um = p.real("min_head_separation_um");
  detect_.robust_shaft = p.flag("robust_shaft");
  detect_.robust_shaft_margin_um = p.real("robust_shaft_margin_um");
  detect_.split_min_dip = p.real("split_min_dip");
  detect_.detached_min_intensity = p.real("detached_min_intensity");
  detect_.min_neck_intensity = p.real("min_neck_intensity");
  detect_.halo_xy_um = p.real("halo_xy_um");
  detect_.halo_z_um = p.real("halo_z_um");
  detect_.detect_detached = p.flag("detect_detached");
  detect_.exclude_edge_spines = p.flag("exclude_edge_spines");
  detect_.min_snr = p.real("min_snr");
  if (detect_.min_spine_length_um >= detect_.max_spine_length_um)
    throw ParameterError("spines", "min_spine_length_um", p.as_text().at("min_spine_length_um"),
                         "must be below max_spine_length_um (" + p.as_text().at("max_spine_length_um") + ")");
}

void SpinesStage::run(Context& ctx) const {
  const auto& pre = ctx.get<VolumeF>(artifacts::kPreprocessed);
  const auto& fg = ctx.get<VolumeU8>(artifacts::kForeground);
  const auto& shaft = ctx.get<VolumeU8>(artifacts::kShaftMask);
  const auto& graph = ctx.get<DendriteGraph>(artifacts::kDendriteGraph);
  const auto* candidates = ctx.find<SpineCandidates>(artifacts::kSpineCandidates);
  if (!pre.spacing().valid()) throw StageError("spines", "preprocessed volume has no valid voxel size");
  for (const auto* v : {static_cast<const void*>(&fg), static_cast<const void*>(&shaft)}) {
    const auto& m = *static_cast<const VolumeU8*>(v);
    if (m.nx() != pre.nx() || m.ny() != pre.ny() || m.nz() != pre.nz())
      throw StageError("spines", "foreground/shaft mask size differs from the preprocessed volume");
  }
  VolumeU32 labels(pre.nx(), pre.ny(), pre.nz(), pre.spacing(), 0u);
  ctx.report_progress(0.05);
  std::vector<DetectedSpine> found = detect_spines({&pre, &fg, &shaft, &graph, candidates}, detect_, &labels);
  std::vector<Spine> spines;
  spines.reserve(found.size());
  for (auto& d : found) spines.push_back(d.spine);
  ctx.put(artifacts::kSpines, std::move(spines));
  ctx.put(artifacts::kSpineLabels, std::move(labels));
}

}  // namespace spinescope::stages::spines
