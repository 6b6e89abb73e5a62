#pragma once
/// @file stack_metadata.hpp
/// @brief Parsing of the metadata a confocal TIFF carries in its first ImageDescription: ImageJ's
/// "ImageJ=" key=value lines and OME-XML. Internal to the load stage; parse failures throw
/// std::invalid_argument with the reason (the reader adds the file name).

#include <optional>
#include <set>
#include <string>

namespace spinescope::stages::load {

/// @brief Length of one @p unit in µm: micron/um/µm (UTF-8, Latin-1, Greek mu, ImageJ's "\u00B5m"
/// escape), nm, mm, cm, m, inch, Å. nullopt for "pixel", "" or anything unknown.
std::optional<double> unit_length_um(const std::string& unit);

/// @brief The ImageJ hyperstack description ("ImageJ=1.53t\nimages=10\nchannels=2\n...").
struct ImageJDescription {
  int images = 0, channels = 0, slices = 0, frames = 0;  ///< 0 = key absent
  std::optional<double> spacing;                         ///< z step in zunit (or unit)
  std::string unit, yunit, zunit;                        ///< as written, escapes decoded ("" = absent)
};

/// @brief nullopt when @p text is not an ImageJ description; throws std::invalid_argument on a malformed one.
std::optional<ImageJDescription> parse_imagej_description(const std::string& text);

/// @brief The first Image's Pixels element of an OME-XML document, physical sizes converted to µm.
struct OmeDescription {
  long size_x = 0, size_y = 0, size_z = 1, size_c = 1, size_t = 1;
  std::string dimension_order;  ///< e.g. "XYZCT": the first letter after XY varies fastest
  std::optional<double> x_um, y_um, z_um;
  int image_count = 0;               ///< Image elements (series) in the document
  std::set<std::string> file_names;  ///< TiffData UUID FileName attributes (other files: multi-file OME)
};

/// @brief nullopt when @p text is not OME-XML; throws std::invalid_argument on unusable OME-XML.
std::optional<OmeDescription> parse_ome_xml(const std::string& text);

/// Appends the UTF-8 encoding of a code point below U+10000 (ImageJ \uXXXX escapes, XML character references).
void append_utf8(std::string& out, unsigned long code);

}  // namespace spinescope::stages::load
