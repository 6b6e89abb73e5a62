#pragma once
/// @file detect.hpp
/// @brief Spine detection: protrusions of the foreground out of the shaft, detached heads, splitting of
/// touching spines. All sizes in µm; voxels are anisotropic.

#include <cstddef>
#include <vector>

#include "spinescope/dendrite_graph.hpp"
#include "spinescope/spine.hpp"
#include "spinescope/volume.hpp"

namespace spinescope::stages::spines {

/// @brief A shaft_radius_margin_um at least this large keeps the dendrite stage's shaft mask (µm).
inline constexpr double kKeepShaftMarginUm = 3.0;

/// @brief Detection settings (the stage's parameters; see SpinesStage::spec for docs and ranges).
struct DetectParams {
  double max_spine_length_um = 3.0;
  double min_spine_length_um = 0.3;
  double max_footprint_ratio = 1.5;  ///< extent along the shaft / reach out of it above which a piece is rim ...
  double rim_max_reach_um = 0.8;     ///< ... when it reaches less than this out of the shaft (µm)
  double min_spine_volume_um3 = 0.01;
  double min_contrast = 0.05;
  double shaft_margin_um = 0.1;
  double shaft_radius_margin_um = 3.0;  ///< >= kKeepShaftMarginUm: the given shaft mask unchanged
  bool robust_shaft = true;             ///< shaft mask and radii re-derived from half-maximum ray profiles
  double robust_shaft_margin_um = 0.05;  ///< added to the profiled shaft's semi-axes (µm)
  double min_head_separation_um = 0.6;
  double split_min_dip = 0.15;
  double detached_min_intensity = 0.05;
  double halo_xy_um = 0.3;
  double halo_z_um = 0.6;
  double min_neck_intensity = 0.04;
  bool detect_detached = true;
  bool exclude_edge_spines = true;  ///< pieces cut by the stack's side faces are not counted
  double min_snr = 5.0;  ///< dim threshold and contrast floor: at least median + min_snr x noise deviation
};

/// @brief One detected spine with its voxels (linear indices into the stack, ascending).
struct DetectedSpine {
  Spine spine;
  std::vector<std::size_t> voxels;
};

/// @brief Inputs of the detector (all the same size and spacing).
struct DetectInputs {
  const VolumeF* preprocessed = nullptr;
  const VolumeU8* foreground = nullptr;
  const VolumeU8* shaft = nullptr;
  const DendriteGraph* graph = nullptr;
  const SpineCandidates* candidates = nullptr;  ///< may be null
};

/// @brief Robust level and spread of the preprocessed background (about 200 000 voxels outside the foreground).
struct BackgroundNoise {
  double median = 0;  ///< preprocessed units
  double sigma = 0;   ///< 1.4826 x median absolute deviation
};
BackgroundNoise background_noise(const VolumeF& pre, const VolumeU8& fg);

/// @brief Finds the spines. @p work must be a zeroed volume of the stack's size: it is used as scratch and
/// holds the spine labels (spine_id + 1) on return. Spines are ordered by dendrite, then by the raster index of
/// their brightest voxel, and numbered 0..n-1; results do not depend on the number of threads.
std::vector<DetectedSpine> detect_spines(const DetectInputs& in, const DetectParams& params, VolumeU32* work);

}  // namespace spinescope::stages::spines
