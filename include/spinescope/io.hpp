#pragma once
/// @file io.hpp
/// @brief Files: atomic writes, TIFF stacks with ImageJ spacing, small CSV/JSON helpers, SHA-256.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "spinescope/volume.hpp"

namespace spinescope {

/// @brief Writes @p content to @p path via a temporary file in the same folder and a rename:
/// a killed run leaves the old file or the new one, never half of one. Throws OutputError.
void write_file_atomic(const std::string& path, const std::string& content);

/// @brief Writes a volume as an uncompressed ImageJ hyperstack (slices=nz, spacing=z, unit=micron,
/// X/YResolution = 1/x, 1/y pixels per µm) that Fiji and tifffile read at the right voxel size.
/// Written atomically. BigTIFF is used when the data exceed 3.9 GB. PackBits suits label volumes (mostly zero:
/// a fraction of the size, fast to write, read by Fiji, napari/tifffile and libtiff).
enum class TiffCompression { kNone, kPackBits };
void write_imagej_tiff(const std::string& path, const Volume<std::uint8_t>& volume,
                       TiffCompression compression = TiffCompression::kNone);
void write_imagej_tiff(const std::string& path, const Volume<std::uint16_t>& volume,
                       TiffCompression compression = TiffCompression::kNone);
void write_imagej_tiff(const std::string& path, const Volume<float>& volume,
                       TiffCompression compression = TiffCompression::kNone);

/// @brief SHA-256 of a file's bytes, as 64 lower-case hex digits. Throws InputError.
std::string sha256_file(const std::string& path);
/// @brief SHA-256 of a string.
std::string sha256_string(const std::string& data);

/// @brief A parsed CSV table (RFC 4180 quoting). Header names map to columns.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<int> line_numbers;  ///< source line of each row (for messages)
  /// @brief Column index of @p name, or -1.
  int column(const std::string& name) const;
};
/// @brief Reads a CSV file; throws InputError naming the file and line on malformed input.
CsvTable read_csv(const std::string& path);
/// @brief Quotes a field for CSV when needed.
std::string csv_field(const std::string& field);
/// @brief Formats a number with up to @p digits significant digits (no locale, "nan" for NaN).
std::string format_number(double value, int digits = 6);

/// @brief A minimal JSON value builder for summary.json, stats.json and evaluate's output.
class Json {
 public:
  Json();                                // null
  Json(double v);                        // NOLINT (implicit on purpose)
  Json(int v);                           // NOLINT
  Json(long v);                          // NOLINT
  Json(unsigned long v);                 // NOLINT
  Json(bool v);                          // NOLINT
  Json(const char* v);                   // NOLINT
  Json(std::string v);                   // NOLINT
  static Json object();
  static Json array();
  /// @brief Sets a key of an object (keeps insertion order).
  Json& set(const std::string& key, Json value);
  /// @brief Appends to an array.
  Json& push(Json value);
  std::string dump(int indent = 2) const;

 private:
  enum class Kind { kNull, kNumber, kBool, kString, kObject, kArray } kind_ = Kind::kNull;
  double number_ = 0.0;
  bool integral_ = false;
  bool flag_ = false;
  std::string text_;
  std::vector<std::pair<std::string, Json>> members_;
  std::vector<Json> items_;
  void dump_to(std::string& out, int indent, int depth) const;
};

}  // namespace spinescope
