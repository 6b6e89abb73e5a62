#pragma once
/// @file load_stage.hpp
/// @brief The "load" stage: reads ctx.info().path (TIFF/BigTIFF, ImageJ hyperstack, OME-TIFF) with its voxel
/// size in µm and provides the raw float volume and its maximum projection.
///
/// Input: the file named by StackInfo::path (nothing from the context). Output: artifacts::kImage
/// (Volume<float>, raw sample values, never rescaled) and artifacts::kRawMip (Volume<float>, nz = 1, maximum
/// along z). Fills StackInfo: sha256, spacing and its source, dimensions, sample type, channel/frame, metadata.
/// Anisotropy: the spacing is read per axis (ImageJ spacing=/unit=, X/YResolution, OME PhysicalSize*), never
/// guessed; a file without one is refused unless voxel_size_um is given.

#include <optional>

#include "spinescope/stack_reader.hpp"
#include "spinescope/stage.hpp"

namespace spinescope::stages::load {

class LoadStage : public Stage {
 public:
  const StageSpec& spec() const override;
  void run(Context& ctx) const override;

  /// @brief The reader options as configured (voxel_size_um, channel, frame, allow_single_plane).
  const LoadOptions& options() const { return options_; }

 protected:
  void on_configure(const ResolvedParams& params) override;

 private:
  LoadOptions options_;
};

/// @brief Maximum intensity projection along z of @p volume (nz = 1, same spacing).
Volume<float> max_projection_z(const Volume<float>& volume);

}  // namespace spinescope::stages::load
