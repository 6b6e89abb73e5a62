#pragma once
/// @file stack_reader.hpp
/// @brief Reading confocal z-stacks (TIFF, BigTIFF, ImageJ hyperstacks, OME-TIFF) with their voxel size in µm.
///
/// Our own libtiff reader: ITK's TIFF reader drops the z spacing and ignores ImageJ metadata; OpenCV returns
/// no calibration. Refusals are InputError "FILE: reason" (exit 65; 66 for a missing file).

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "spinescope/context.hpp"
#include "spinescope/volume.hpp"

namespace spinescope {

/// @brief What to read from a stack.
struct LoadOptions {
  std::optional<Spacing> voxel_size;  ///< overrides the file's spacing (µm); required when the file has none
  int channel = 0;                    ///< 1-based; 0 = the file must have exactly one channel
  int frame = 0;                      ///< 1-based; 0 = the file must have exactly one time point
  bool allow_single_plane = false;    ///< a 2-D image is refused unless this is set
  std::function<void(double)> progress;  ///< called with the fraction (0..1) of pages read; may throw to cancel
};

/// @brief Everything known about a stack without reading its pixels.
struct StackHeader {
  std::size_t nx = 0, ny = 0, nz = 0;  ///< of the selected channel/frame
  int channels = 1, frames = 1;
  int bits_per_sample = 0;
  std::string sample_format;  ///< "uint", "int", "float"
  std::string format;         ///< "tiff", "bigtiff", "imagej", "ome"
  Spacing spacing;            ///< µm (after the override, if any)
  SpacingSource spacing_source = SpacingSource::kUnknown;
  std::size_t pages = 0;      ///< image pages in the file (all channels and frames)
  std::map<std::string, std::string> metadata;  ///< notes: "container", "compression", "layout", "unit", ...
};

/// @brief Reads and validates the header only (for --dry-run): throws InputError on every refusal that
/// can be decided without the pixels.
StackHeader read_stack_header(const std::string& path, const LoadOptions& options = {});

/// @brief Reads the selected channel/frame as float voxels (raw values, not rescaled), spacing set.
Volume<float> read_stack(const std::string& path, const LoadOptions& options = {}, StackHeader* header = nullptr);

/// @brief Parses "x,y,z" in µm (each > 0 and finite); throws ParameterError naming @p what.
Spacing parse_voxel_size(const std::string& text, const std::string& what = "voxel size");

}  // namespace spinescope
