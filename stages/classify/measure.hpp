#pragma once
/// @file measure.hpp
/// @brief Per-spine geometry from the preprocessed image and the spine's voxels, and the type rules.

#include <cstddef>
#include <vector>

#include "spinescope/spine.hpp"
#include "spinescope/volume.hpp"
#include "stages/classify/psf_calibration.hpp"

namespace spinescope::stages::classify {

/// @brief Thresholds of the type rules (NeuronStudio, Rodriguez et al. 2008) plus the filopodium rule.
struct TypeRules {
  double neck_ratio = 1.1;          ///< head/neck diameter ratio above which a spine has a neck
  double thin_ratio = 2.5;          ///< length/head diameter ratio above which a neckless spine is thin
  double mushroom_head_um = 0.35;   ///< a necked spine with a head at least this wide is a mushroom
  double filopodium_min_length_um = 1.5;  ///< a neckless protrusion at least this long is a filopodium
};

/// @brief Measurement settings.
struct MeasureParams {
  double min_neck_length_um = 0.15;  ///< shorter necks are not measured (the spine has no neck)
  double headless_intensity_ratio = 1.3;  ///< head peak <= this x median neck intensity: no head (a rod)
  TypeRules rules;
};

/// @brief Trilinear sample of @p volume at a point in µm (0 outside).
float sample_um(const VolumeF& volume, double x_um, double y_um, double z_um);

/// @brief Full width at half maximum (µm) of the intensity along unit direction (@p ux, @p uy, @p uz) through
/// @p centre, after moving the centre to the brightest point within ±@p recentre_um along that line; the
/// background is 0 (preprocessed image). Where one side meets a brighter structure before falling to half, or
/// falls to half but then stays on a shoulder (above a quarter of the height over the baseline: the blur of a
/// neighbouring structure), the other side's half-width counts twice. Returns NaN when neither side falls to half
/// within @p reach_um.
/// @p peak (optional) receives the intensity at the recentred centre.
double fwhm_along_um(const VolumeF& volume, const PointUm& centre, double ux, double uy, double uz, double reach_um,
                     double recentre_um, double* peak = nullptr);

/// @brief The type by the rules (the measurement decides "headless" from intensities, see
/// MeasureParams::headless_intensity_ratio, and passes filopodium_min_length_um = inf otherwise): filopodium when neckless (head/neck <= neck_ratio) and at least
/// filopodium_min_length_um long; otherwise NeuronStudio: necked -> mushroom (head >= mushroom_head_um) or thin;
/// neckless -> thin (length/head > thin_ratio) or stubby. Also returns a 0..1 margin from the nearest threshold.
SpineType classify_type(double head_um, double neck_um, double length_um, const TypeRules& rules, double* margin);

/// @brief Measures one spine in place (head centre and diameter, neck length and width, tip, length, volume,
/// type, confidence). @p voxels: the spine's linear voxel indices. @p reference_intensity: the image value of a
/// volume completely filled with dye (local shaft core), for the intensity-weighted volume.
void measure_spine(const VolumeF& pre, const std::vector<std::size_t>& voxels, double reference_intensity,
                   const PsfCalibration& calibration, const MeasureParams& params, Spine* spine);

}  // namespace spinescope::stages::classify
