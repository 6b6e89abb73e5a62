#pragma once
/// @file spacing.hpp
/// @brief Voxel spacing in microns and where it came from.

#include <string>

namespace spinescope {

/// Where a stack's voxel size came from. Never guessed: a stack without one is refused.
enum class SpacingSource { kUnknown, kImageJ, kOme, kResolutionTags, kCommandLine, kGenerated };

/// @brief Name used in summary.json and messages ("imagej", "ome", "resolution_tags", "command_line", "generated").
const char* to_string(SpacingSource source);

/// @brief Voxel spacing in µm along x (columns), y (rows) and z (slices). z is usually 2-4x coarser.
struct Spacing {
  double x_um = 0.0;
  double y_um = 0.0;
  double z_um = 0.0;

  /// @brief A length in µm expressed in voxels along x, y or z (kernel-local use only).
  double x_vox(double length_um) const { return length_um / x_um; }
  double y_vox(double length_um) const { return length_um / y_um; }
  double z_vox(double length_um) const { return length_um / z_um; }
  /// @brief Volume of one voxel in µm³.
  double voxel_um3() const { return x_um * y_um * z_um; }
  bool valid() const { return x_um > 0.0 && y_um > 0.0 && z_um > 0.0; }
};

}  // namespace spinescope
