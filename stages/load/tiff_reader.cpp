// Our libtiff stack reader. A header pass walks every IFD (no pixels) and validates pages, metadata and
// layout; the pixel pass jumps to the selected pages and converts each sample once into the float volume.
#include <sys/stat.h>
#include <tiffio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <new>
#include <stdexcept>
#include <vector>

#include "spinescope/errors.hpp"
#include "spinescope/stack_reader.hpp"
#include "stages/load/stack_metadata.hpp"

namespace spinescope {
namespace {

using stages::load::ImageJDescription;
using stages::load::OmeDescription;

constexpr std::size_t kMaxPages = 1000000;
/// Largest single allocation libtiff may make for one strip or tile (a corrupt header cannot ask for more).
constexpr tmsize_t kMaxLibtiffAlloc = static_cast<tmsize_t>(2) << 30;
/// LZW, Deflate and PackBits cannot shrink data more than about 1000:1 (PackBits 64:1); a header claiming
/// more describes pixels that are not in the file.
constexpr double kMaxCompressionRatio = 4096.0;
/// Upper bound on the float volume, whatever the machine: 256 GiB.
constexpr double kMaxVolumeBytes = 256.0 * (1ull << 30);

std::string describe_count(std::size_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

std::string gigabytes(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GB", bytes / 1e9);
  return buf;
}

// ---------------------------------------------------------------------------------------------------------
// libtiff handle with its messages captured (never printed to stderr).

int collect_error(TIFF*, void* user, const char* module, const char* fmt, va_list ap) {
  char buf[512];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  auto* errors = static_cast<std::string*>(user);
  if (errors->size() < 1000) {
    if (!errors->empty()) *errors += "; ";
    if (module && *module) *errors += std::string(module) + ": ";
    *errors += buf;
  }
  return 1;  // handled: do not call the global handler
}

// Warnings are kept apart: most are harmless (ImageJ's private tags), but an I/O error while reading a
// tag's data means the file is cut short.
int collect_warning(TIFF* tif, void* user, const char* module, const char* fmt, va_list ap) {
  return collect_error(tif, user, module, fmt, ap);
}

class TiffHandle {
 public:
  explicit TiffHandle(const std::string& path) {
    static std::once_flag once;  // libtiff's process-wide handlers would print to stderr
    std::call_once(once, [] {
      TIFFSetErrorHandler(nullptr);
      TIFFSetWarningHandler(nullptr);
    });
    TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
    TIFFOpenOptionsSetErrorHandlerExtR(opts, collect_error, &errors_);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, collect_warning, &warnings_);
    TIFFOpenOptionsSetMaxSingleMemAlloc(opts, kMaxLibtiffAlloc);
    tif_ = TIFFOpenExt(path.c_str(), "r", opts);
    TIFFOpenOptionsFree(opts);
    if (!tif_) throw InputError(path, "not a readable TIFF (" + take_errors() + ")");
  }
  ~TiffHandle() {
    if (tif_) TIFFClose(tif_);
  }
  TiffHandle(const TiffHandle&) = delete;
  TiffHandle& operator=(const TiffHandle&) = delete;

  TIFF* get() const { return tif_; }
  /// @brief The libtiff messages since the last call ("no detail" when libtiff said nothing).
  std::string take_errors() {
    std::string e = errors_.empty() ? "no detail from libtiff" : errors_;
    errors_.clear();
    return e;
  }
  bool has_errors() const { return !errors_.empty(); }
  const std::string& warnings() const { return warnings_; }

 private:
  std::string errors_, warnings_;
  TIFF* tif_ = nullptr;
};

/// @brief Refuses missing, unreadable, empty and non-TIFF files before libtiff sees them. Returns the size.
std::uint64_t check_file(const std::string& path) {
  if (path.empty()) throw InputError("(no file)", "no input file given", kExitNoInput);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw InputError(path, std::string("cannot open: ") + std::strerror(errno), kExitNoInput);
  if (S_ISDIR(st.st_mode)) throw InputError(path, "is a directory, not a TIFF file", kExitNoInput);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open for reading (permissions?)", kExitNoInput);
  if (st.st_size == 0) throw InputError(path, "empty file (0 bytes), not a TIFF");
  unsigned char magic[4] = {0, 0, 0, 0};
  in.read(reinterpret_cast<char*>(magic), 4);
  const bool le = magic[0] == 'I' && magic[1] == 'I' && (magic[2] == 42 || magic[2] == 43) && magic[3] == 0;
  const bool be = magic[0] == 'M' && magic[1] == 'M' && magic[2] == 0 && (magic[3] == 42 || magic[3] == 43);
  if (in.gcount() < 4 || !(le || be))
    throw InputError(path, "not a TIFF file (it does not start with the TIFF signature II*/MM*)");
  return static_cast<std::uint64_t>(st.st_size);
}

// ---------------------------------------------------------------------------------------------------------
// Header pass.

struct Page {
  std::uint64_t offset = 0;  ///< IFD offset, for TIFFSetSubDirectory
  std::uint32_t width = 0, height = 0;
  std::uint16_t bits = 0, format = SAMPLEFORMAT_UINT, spp = 1, planar = PLANARCONFIG_CONTIG;
  std::uint16_t photometric = PHOTOMETRIC_MINISBLACK, compression = COMPRESSION_NONE;
  bool tiled = false;
};

struct Scan {
  std::vector<Page> pages;
  std::string description;                         ///< first page's ImageDescription
  float x_resolution = 0.0f, y_resolution = 0.0f;  ///< pixels per resolution unit (0 = absent)
  std::uint16_t resolution_unit = 0;               ///< 0 = absent
  bool bigtiff = false;
  std::size_t reduced_pages = 0;  ///< thumbnails / pyramid levels skipped
};

const char* format_name(std::uint16_t format) {
  switch (format) {
    case SAMPLEFORMAT_INT:
      return "int";
    case SAMPLEFORMAT_IEEEFP:
      return "float";
    default:
      return "uint";
  }
}

std::string compression_name(std::uint16_t c) {
  switch (c) {
    case COMPRESSION_NONE:
      return "none";
    case COMPRESSION_LZW:
      return "lzw";
    case COMPRESSION_ADOBE_DEFLATE:
      return "deflate";
    case COMPRESSION_DEFLATE:
      return "deflate (old code 32946)";
    case COMPRESSION_PACKBITS:
      return "packbits";
    case COMPRESSION_JPEG:
      return "jpeg";
    case COMPRESSION_ZSTD:
      return "zstd";
    case COMPRESSION_LZMA:
      return "lzma";
    default:
      return "code " + std::to_string(c);
  }
}

/// @brief Why a page cannot be read ("" when it can).
std::string page_problem(const Page& p) {
  if (p.width == 0 || p.height == 0) return "has no pixels (width or height 0)";
  if (p.photometric == PHOTOMETRIC_PALETTE) return "is a palette (indexed colour) image, not intensities";
  if (p.bits == 1) return "is a 1-bit (bilevel) image, not intensities";
  if (p.format == SAMPLEFORMAT_COMPLEXINT || p.format == SAMPLEFORMAT_COMPLEXIEEEFP)
    return "has complex-valued samples";
  if (p.photometric == PHOTOMETRIC_MINISWHITE) return "stores inverted grey (MinIsWhite), which is not supported";
  if (p.photometric != PHOTOMETRIC_MINISBLACK && p.photometric != PHOTOMETRIC_RGB)
    return "has PhotometricInterpretation " + std::to_string(p.photometric) + " (only grey or RGB as channels)";
  if (p.format == SAMPLEFORMAT_VOID) return "has samples of undefined format";
  const bool ok = ((p.format == SAMPLEFORMAT_UINT || p.format == SAMPLEFORMAT_INT) && (p.bits == 8 || p.bits == 16)) ||
                  (p.format == SAMPLEFORMAT_IEEEFP && (p.bits == 32 || p.bits == 64));
  if (!ok)
    return "has " + std::to_string(p.bits) + "-bit " + format_name(p.format) +
           " samples (supported: 8/16-bit unsigned or signed integers, 32/64-bit float)";
  if (!TIFFIsCODECConfigured(p.compression))
    return "uses compression " + compression_name(p.compression) + ", which this libtiff cannot decode";
  return "";
}

std::string page_type(const Page& p) {
  return std::to_string(p.width) + "x" + std::to_string(p.height) + " " + std::to_string(p.bits) + "-bit " +
         format_name(p.format) + (p.spp > 1 ? " x" + std::to_string(p.spp) + " samples" : "");
}

Scan scan_pages(const std::string& path, TiffHandle& handle, std::uint64_t file_size) {
  TIFF* tif = handle.get();
  Scan s;
  s.bigtiff = TIFFIsBigTIFF(tif) != 0;
  std::size_t index = 0;  // 1-based page number for messages, counting every IFD
  do {
    ++index;
    if (index > kMaxPages) throw InputError(path, "more than " + std::to_string(kMaxPages) + " pages");
    std::uint32_t subfile = 0;
    if (TIFFGetField(tif, TIFFTAG_SUBFILETYPE, &subfile) && (subfile & FILETYPE_REDUCEDIMAGE)) {
      ++s.reduced_pages;
      continue;
    }
    Page p;
    p.offset = TIFFCurrentDirOffset(tif);
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &p.width);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &p.height);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &p.bits);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &p.format);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &p.spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &p.planar);
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &p.compression);
    if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &p.photometric))
      p.photometric = p.spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
    p.tiled = TIFFIsTiled(tif) != 0;
    const std::string page_name = "page " + std::to_string(index);

    const std::string problem = page_problem(p);
    if (!problem.empty()) throw InputError(path, page_name + " " + problem);
    if (s.pages.empty()) {
      char* description = nullptr;
      if (TIFFGetField(tif, TIFFTAG_IMAGEDESCRIPTION, &description) && description) s.description = description;
      TIFFGetField(tif, TIFFTAG_XRESOLUTION, &s.x_resolution);
      TIFFGetField(tif, TIFFTAG_YRESOLUTION, &s.y_resolution);
      TIFFGetField(tif, TIFFTAG_RESOLUTIONUNIT, &s.resolution_unit);
    } else {
      const Page& first = s.pages.front();
      if (p.width != first.width || p.height != first.height || p.bits != first.bits || p.format != first.format ||
          p.spp != first.spp || p.planar != first.planar || p.photometric != first.photometric)
        throw InputError(path, "pages of mixed size or type: page 1 is " + page_type(first) + ", " + page_name +
                                   " is " + page_type(p));
    }

    // Pixel data must lie inside the file; uncompressed data must be complete. Decided here, before any
    // allocation, so a forged 100000 x 100000 header is refused cheaply.
    const double declared = static_cast<double>(p.width) * p.height * p.spp * (p.bits / 8);
    if (p.compression == COMPRESSION_NONE && declared > static_cast<double>(file_size))
      throw InputError(path, page_name + ": the header declares " + std::to_string(p.width) + "x" +
                                 std::to_string(p.height) + " uncompressed pixels (" + gigabytes(declared) +
                                 ") but the file has " + std::to_string(file_size) + " bytes: truncated or corrupt");
    const std::uint32_t striles = p.tiled ? TIFFNumberOfTiles(tif) : TIFFNumberOfStrips(tif);
    std::uint64_t stored = 0;
    for (std::uint32_t k = 0; k < striles; ++k) {
      int err = 0;
      const std::uint64_t offset = TIFFGetStrileOffsetWithErr(tif, k, &err);
      const std::uint64_t count = err ? 0 : TIFFGetStrileByteCountWithErr(tif, k, &err);
      if (err) throw InputError(path, page_name + ": cannot read its strip/tile table (" + handle.take_errors() + ")");
      if (offset > file_size || count > file_size - offset)
        throw InputError(path, page_name + ": pixel data lie beyond the end of the file (" + std::to_string(file_size) +
                                   " bytes): truncated file");
      stored += count;
    }
    const bool bounded_codec = p.compression == COMPRESSION_LZW || p.compression == COMPRESSION_ADOBE_DEFLATE ||
                               p.compression == COMPRESSION_DEFLATE || p.compression == COMPRESSION_PACKBITS;
    if (bounded_codec && declared > kMaxCompressionRatio * static_cast<double>(stored))
      throw InputError(path, page_name + ": the header declares " + std::to_string(p.width) + "x" +
                                 std::to_string(p.height) + " pixels (" + gigabytes(declared) + ") in only " +
                                 std::to_string(stored) + " bytes of " + compression_name(p.compression) +
                                 " data, beyond what the codec can compress: corrupt header");
    if (p.compression == COMPRESSION_NONE && static_cast<double>(stored) < declared)
      throw InputError(path, page_name + ": the header declares " + std::to_string(p.width) + "x" +
                                 std::to_string(p.height) + " pixels but only " + std::to_string(stored) +
                                 " bytes of pixel data are stored: truncated or corrupt");
    s.pages.push_back(p);
  } while (TIFFReadDirectory(tif));
  if (handle.warnings().find("IO error") != std::string::npos)
    throw InputError(path, "cannot read the metadata of a page (" + handle.warnings() + "): truncated or corrupt file");
  if (handle.has_errors())
    throw InputError(path, "corrupt or truncated page directory after page " + std::to_string(index) + " (" +
                               handle.take_errors() + ")");
  if (s.pages.empty()) throw InputError(path, "has no full-resolution image pages");
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// Layout and spacing.

/// Where plane (channel c, slice z, frame t), 0-based, lives: page c·stride_c + z·stride_z + t·stride_t,
/// or sample c of page z·stride_z + t·stride_t when the channels are samples of one pixel (RGB).
struct Layout {
  int channels = 1, slices = 1, frames = 1;
  std::size_t stride_c = 0, stride_z = 1, stride_t = 0;
  bool sample_channels = false;
  std::string order = "XYZ";
};

struct Plan {
  Scan scan;
  Layout layout;
  StackHeader header;
  int channel_index = 0, frame_index = 0;  ///< 0-based
};

double round_significant(double v, int digits) {
  if (v <= 0.0 || !std::isfinite(v)) return v;
  const double scale = std::pow(10.0, digits - 1 - static_cast<int>(std::floor(std::log10(v))));
  return std::round(v * scale) / scale;
}

std::string file_name_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// Pixel size from X/YResolution (pixels per unit) given the unit's length in µm. Rounded to 7 significant
/// digits: libtiff hands the rational over as a float, whose last digit is noise.
std::optional<double> pixel_size_um(float resolution, std::optional<double> unit_um) {
  if (!(resolution > 0.0f) || !std::isfinite(resolution) || !unit_um) return std::nullopt;
  return round_significant(*unit_um / static_cast<double>(resolution), 7);
}

std::optional<double> resolution_unit_um(std::uint16_t unit) {
  if (unit == RESUNIT_INCH) return 25400.0;
  if (unit == RESUNIT_CENTIMETER) return 10000.0;
  return std::nullopt;
}

void strides_from_order(const std::string& order, long sz, long sc, long st, Layout& l) {
  std::size_t stride = 1;
  for (std::size_t i = 2; i < order.size(); ++i) {
    const char a = order[i];
    if (a == 'Z') l.stride_z = stride, stride *= sz;
    if (a == 'C') l.stride_c = stride, stride *= sc;
    if (a == 'T') l.stride_t = stride, stride *= st;
  }
}

Plan make_plan(const std::string& path, std::uint64_t file_size, TiffHandle& handle, const LoadOptions& options) {
  Plan plan;
  plan.scan = scan_pages(path, handle, file_size);
  const Scan& s = plan.scan;
  const Page& p0 = s.pages.front();
  const std::size_t n_pages = s.pages.size();
  StackHeader& h = plan.header;
  Layout& l = plan.layout;
  h.pages = n_pages;
  h.bits_per_sample = p0.bits;
  h.sample_format = format_name(p0.format);
  h.metadata["container"] = s.bigtiff ? "bigtiff" : "tiff";
  h.metadata["compression"] = compression_name(p0.compression);
  h.metadata["storage"] = p0.tiled ? "tiles" : "strips";
  if (s.reduced_pages) h.metadata["skipped_reduced_pages"] = std::to_string(s.reduced_pages);

  std::optional<ImageJDescription> ij;
  std::optional<OmeDescription> ome;
  try {
    ij = stages::load::parse_imagej_description(s.description);
    if (!ij) ome = stages::load::parse_ome_xml(s.description);
  } catch (const std::invalid_argument& e) {
    throw InputError(path, e.what());
  }

  std::optional<double> x_um, y_um, z_um;
  SpacingSource source = SpacingSource::kUnknown;
  std::string no_spacing_why;
  long page_channels = 1;
  if (ome) {
    h.format = "ome";
    source = SpacingSource::kOme;
    if (ome->image_count > 1)
      throw InputError(
          path, "OME-TIFF holds " + std::to_string(ome->image_count) + " images (series); export one series per file");
    for (const auto& name : ome->file_names)
      if (name != file_name_of(path))
        throw InputError(path, "multi-file OME-TIFF (planes in '" + name + "') is not supported");
    if (ome->size_x != static_cast<long>(p0.width) || ome->size_y != static_cast<long>(p0.height))
      throw InputError(path, "OME-XML SizeX x SizeY = " + std::to_string(ome->size_x) + "x" +
                                 std::to_string(ome->size_y) + " but the pages are " + std::to_string(p0.width) + "x" +
                                 std::to_string(p0.height));
    page_channels = ome->size_c;
    if (p0.spp > 1) {
      if (ome->size_c % p0.spp != 0)
        throw InputError(path, "OME-XML SizeC=" + std::to_string(ome->size_c) + " is not a multiple of the " +
                                   std::to_string(p0.spp) + " samples per pixel");
      page_channels = ome->size_c / p0.spp;
    }
    const long planes = ome->size_z * page_channels * ome->size_t;
    if (planes != static_cast<long>(n_pages))
      throw InputError(path, "OME-XML declares " + std::to_string(planes) +
                                 " planes (SizeZ x SizeC x SizeT) but the file has " + describe_count(n_pages, "page") +
                                 " (truncated, or a multi-file OME-TIFF?)");
    l.channels = static_cast<int>(page_channels);
    l.slices = static_cast<int>(ome->size_z);
    l.frames = static_cast<int>(ome->size_t);
    l.order = ome->dimension_order;
    strides_from_order(ome->dimension_order, ome->size_z, page_channels, ome->size_t, l);
    x_um = ome->x_um, y_um = ome->y_um, z_um = ome->z_um;
    if (!x_um || !y_um)
      no_spacing_why = "OME-XML has no PhysicalSizeX/PhysicalSizeY";
    else if (!z_um)
      no_spacing_why = "OME-XML has no PhysicalSizeZ (z step)";
  } else if (ij) {
    h.format = "imagej";
    source = SpacingSource::kImageJ;
    int c = ij->channels ? ij->channels : 1, z = ij->slices ? ij->slices : 1, t = ij->frames ? ij->frames : 1;
    const long images = ij->images ? ij->images : static_cast<long>(n_pages);
    if (c == 1 && z == 1 && t == 1 && images > 1) z = static_cast<int>(images);  // a plain ImageJ stack
    if (static_cast<long>(c) * z * t != images)
      throw InputError(path, "ImageJ description is inconsistent: channels x slices x frames = " +
                                 std::to_string(static_cast<long>(c) * z * t) +
                                 " but images=" + std::to_string(images));
    if (images != static_cast<long>(n_pages))
      throw InputError(path, "ImageJ description declares images=" + std::to_string(images) + " but the file has " +
                                 describe_count(n_pages, "page") +
                                 " (truncated, or an ImageJ 'virtual' file larger than 4 GB: re-save as BigTIFF)");
    page_channels = c;
    l.channels = c, l.slices = z, l.frames = t;
    l.order = "XYCZT";
    l.stride_c = 1, l.stride_z = static_cast<std::size_t>(c), l.stride_t = static_cast<std::size_t>(c) * z;
    std::optional<double> unit_um =
        ij->unit.empty() ? resolution_unit_um(s.resolution_unit) : stages::load::unit_length_um(ij->unit);
    const std::optional<double> yunit_um = ij->yunit.empty() ? unit_um : stages::load::unit_length_um(ij->yunit);
    const std::optional<double> zunit_um = ij->zunit.empty() ? unit_um : stages::load::unit_length_um(ij->zunit);
    h.metadata["unit"] = ij->unit;
    x_um = pixel_size_um(s.x_resolution, unit_um);
    y_um = pixel_size_um(s.y_resolution, yunit_um);
    if (ij->spacing && zunit_um) z_um = *ij->spacing * *zunit_um;
    if (!unit_um)
      no_spacing_why = ij->unit.empty() ? "ImageJ stack is uncalibrated (no unit=)"
                                        : "ImageJ unit '" + ij->unit + "' is not a length unit";
    else if (!x_um || !y_um)
      no_spacing_why = "ImageJ stack has no XResolution/YResolution (pixel size)";
    else if (!z_um)
      no_spacing_why = "ImageJ description has no spacing= (z step)";
  } else {
    h.format = s.bigtiff ? "bigtiff" : "tiff";
    source = SpacingSource::kResolutionTags;
    l.slices = static_cast<int>(n_pages);
    const auto unit_um = resolution_unit_um(s.resolution_unit);
    x_um = pixel_size_um(s.x_resolution, unit_um);
    y_um = pixel_size_um(s.y_resolution, unit_um);
    no_spacing_why = x_um && y_um ? "plain TIFF: its resolution tags give the pixel size but no z step"
                                  : "plain TIFF without calibration (no ImageJ or OME metadata, no resolution unit)";
  }
  if (p0.spp > 1) {
    if (page_channels > 1)
      throw InputError(path,
                       "has both channel pages and " + std::to_string(p0.spp) + " samples per pixel; not supported");
    l.channels = p0.spp;
    l.sample_channels = true;
    l.order += " (channels as samples)";
  }
  h.metadata["layout"] = l.order;

  const double volume_bytes = static_cast<double>(p0.width) * p0.height * l.slices * sizeof(float);
  const long pages_of_memory = ::sysconf(_SC_PHYS_PAGES), page_bytes = ::sysconf(_SC_PAGESIZE);
  const double memory =
      pages_of_memory > 0 && page_bytes > 0 ? static_cast<double>(pages_of_memory) * page_bytes : kMaxVolumeBytes;
  const double limit = std::min(memory, kMaxVolumeBytes);
  if (volume_bytes > limit)
    throw InputError(path, "absurd dimensions: " + std::to_string(p0.width) + "x" + std::to_string(p0.height) + "x" +
                               std::to_string(l.slices) + " voxels need " + gigabytes(volume_bytes) +
                               " as float, more than the limit of " + gigabytes(limit) +
                               " (this machine's memory, at most 256 GiB)");

  // Selection.
  h.channels = l.channels;
  h.frames = l.frames;
  if (options.channel < 0 || options.frame < 0) throw InputError(path, "channel and frame are 1-based");
  if (l.channels > 1 && options.channel == 0)
    throw InputError(path, "has " + std::to_string(l.channels) + " channels: choose one with channel (1.." +
                               std::to_string(l.channels) + ")");
  if (options.channel > l.channels)
    throw InputError(path, "channel " + std::to_string(options.channel) + " out of range: the stack has " +
                               describe_count(l.channels, "channel"));
  if (l.frames > 1 && options.frame == 0)
    throw InputError(path, "is a time series of " + std::to_string(l.frames) + " frames: choose one with frame (1.." +
                               std::to_string(l.frames) + ")");
  if (options.frame > l.frames)
    throw InputError(path, "frame " + std::to_string(options.frame) + " out of range: the stack has " +
                               describe_count(l.frames, "frame"));
  plan.channel_index = options.channel > 0 ? options.channel - 1 : 0;
  plan.frame_index = options.frame > 0 ? options.frame - 1 : 0;
  h.nx = p0.width;
  h.ny = p0.height;
  h.nz = static_cast<std::size_t>(l.slices);
  if (h.nz == 1 && !options.allow_single_plane)
    throw InputError(path, "is a single plane (2-D image), not a z-stack; set allow_single_plane to analyse it");

  // Spacing: the override wins; otherwise the file's, never a guess.
  if (options.voxel_size) {
    if (!options.voxel_size->valid()) throw InputError(path, "the voxel size override is not positive");
    h.spacing = *options.voxel_size;
    h.spacing_source = SpacingSource::kCommandLine;
  } else {
    if (!x_um || !y_um || (!z_um && h.nz > 1))
      throw InputError(path, "no usable voxel size: " + no_spacing_why +
                                 "; give one with voxel_size (x,y,z in µm, e.g. --voxel-size 0.1,0.1,0.35)");
    if (!z_um) {
      z_um = std::max(*x_um, *y_um);
      h.metadata["z_spacing"] = "single plane: z step unknown, set to the pixel size";
    }
    h.spacing = Spacing{*x_um, *y_um, *z_um};
    h.spacing_source = source;
  }
  return plan;
}

// ---------------------------------------------------------------------------------------------------------
// Pixel pass.

using ConvertFn = void (*)(const unsigned char* src, std::size_t count, std::size_t stride, float* dst);

template <class T>
void convert_samples(const unsigned char* src, std::size_t count, std::size_t stride, float* dst) {
  for (std::size_t i = 0; i < count; ++i) {
    T v;
    std::memcpy(&v, src + i * stride * sizeof(T), sizeof(T));  // strips need not be aligned
    dst[i] = static_cast<float>(v);
  }
}

ConvertFn converter_for(const Page& p) {
  if (p.format == SAMPLEFORMAT_IEEEFP) return p.bits == 32 ? convert_samples<float> : convert_samples<double>;
  if (p.format == SAMPLEFORMAT_INT) return p.bits == 8 ? convert_samples<std::int8_t> : convert_samples<std::int16_t>;
  return p.bits == 8 ? convert_samples<std::uint8_t> : convert_samples<std::uint16_t>;
}

/// Decodes one page's sample @p sample into @p out (width × height floats). Returns "" or the problem.
std::string read_page(TIFF* tif, const Page& p, int sample, float* out, std::vector<unsigned char>& buffer) {
  const ConvertFn convert = converter_for(p);
  const std::size_t bytes = p.bits / 8;
  const bool contig = p.planar == PLANARCONFIG_CONTIG;
  const std::size_t stride = contig ? p.spp : 1;
  const std::size_t first = contig ? static_cast<std::size_t>(sample) : 0;
  const std::size_t w = p.width, h = p.height;
  if (p.tiled) {
    std::uint32_t tw = 0, th = 0;
    TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
    const tmsize_t tile_size = TIFFTileSize(tif);
    if (tw == 0 || th == 0 || tile_size <= 0) return "invalid tile size";
    buffer.resize(static_cast<std::size_t>(tile_size));
    for (std::uint32_t y = 0; y < h; y += th) {
      for (std::uint32_t x = 0; x < w; x += tw) {
        const ttile_t tile = TIFFComputeTile(tif, x, y, 0, contig ? 0 : static_cast<std::uint16_t>(sample));
        if (TIFFReadEncodedTile(tif, tile, buffer.data(), tile_size) != tile_size)
          return "cannot decode tile " + std::to_string(tile);
        const std::size_t rows = std::min<std::size_t>(th, h - y), cols = std::min<std::size_t>(tw, w - x);
        for (std::size_t r = 0; r < rows; ++r)
          convert(buffer.data() + (r * tw * stride + first) * bytes, cols, stride, out + (y + r) * w + x);
      }
    }
    return "";
  }
  std::uint32_t rows_per_strip = 0;
  TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
  const std::size_t rps = std::max<std::size_t>(1, std::min<std::size_t>(rows_per_strip, h));
  const tmsize_t scanline = TIFFScanlineSize(tif);
  const tmsize_t strip_size = TIFFStripSize(tif);
  if (scanline <= 0 || strip_size <= 0) return "invalid strip size";
  buffer.resize(static_cast<std::size_t>(strip_size));
  const std::size_t strips_per_plane = (h + rps - 1) / rps;
  for (std::size_t s = 0; s < strips_per_plane; ++s) {
    const std::size_t rows = std::min(rps, h - s * rps);
    const tstrip_t strip = static_cast<tstrip_t>(contig ? s : sample * strips_per_plane + s);
    const tmsize_t want = static_cast<tmsize_t>(rows) * scanline;
    if (TIFFReadEncodedStrip(tif, strip, buffer.data(), want) < want)
      return "cannot decode strip " + std::to_string(strip);
    for (std::size_t r = 0; r < rows; ++r)
      convert(buffer.data() + r * scanline + first * bytes, w, stride, out + (s * rps + r) * w);
  }
  return "";
}

Volume<float> read_pixels(const std::string& path, TiffHandle& handle, const Plan& plan, const LoadOptions& options) {
  const StackHeader& h = plan.header;
  const Layout& l = plan.layout;
  Volume<float> volume;
  try {
    volume = Volume<float>(h.nx, h.ny, h.nz, h.spacing);
  } catch (const std::bad_alloc&) {
    throw InputError(path, "not enough memory for " + std::to_string(h.nx) + "x" + std::to_string(h.ny) + "x" +
                               std::to_string(h.nz) + " float voxels");
  }
  const int sample = l.sample_channels ? plan.channel_index : 0;
  const std::size_t channel_offset = l.sample_channels ? 0 : plan.channel_index * l.stride_c;
  std::vector<unsigned char> buffer;
  for (std::size_t z = 0; z < h.nz; ++z) {
    const std::size_t page = channel_offset + z * l.stride_z + plan.frame_index * l.stride_t;
    const std::string page_name = "page " + std::to_string(page + 1);
    if (!TIFFSetSubDirectory(handle.get(), plan.scan.pages[page].offset))
      throw InputError(path, page_name + ": cannot re-read its directory (" + handle.take_errors() + ")");
    const std::string problem = read_page(handle.get(), plan.scan.pages[page], sample, volume.slice(z), buffer);
    if (!problem.empty() || handle.has_errors())
      throw InputError(path, page_name + ": " + (problem.empty() ? "read error" : problem) + " (" +
                                 handle.take_errors() + "): truncated or corrupt file");
    if (options.progress) options.progress(static_cast<double>(z + 1) / static_cast<double>(h.nz));
  }
  return volume;
}

}  // namespace

StackHeader read_stack_header(const std::string& path, const LoadOptions& options) {
  const std::uint64_t file_size = check_file(path);
  TiffHandle handle(path);
  return make_plan(path, file_size, handle, options).header;
}

Volume<float> read_stack(const std::string& path, const LoadOptions& options, StackHeader* header) {
  const std::uint64_t file_size = check_file(path);
  TiffHandle handle(path);
  const Plan plan = make_plan(path, file_size, handle, options);
  Volume<float> volume = read_pixels(path, handle, plan, options);
  if (header) *header = plan.header;
  return volume;
}

Spacing parse_voxel_size(const std::string& text, const std::string& what) {
  std::vector<double> values;
  std::size_t begin = 0;
  while (true) {
    const std::size_t comma = text.find(',', begin);
    std::string part = text.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
    const auto b = part.find_first_not_of(" \t"), e = part.find_last_not_of(" \t");
    part = b == std::string::npos ? "" : part.substr(b, e - b + 1);
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(part.c_str(), &end);
    if (part.empty() || errno != 0 || *end != '\0')
      throw ParameterError("", what, text, "'" + part + "' is not a number; expected x,y,z in µm, e.g. 0.1,0.1,0.35");
    if (!std::isfinite(v) || v <= 0.0)
      throw ParameterError("", what, text, "each voxel size must be a positive finite number of µm");
    values.push_back(v);
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  if (values.size() != 3)
    throw ParameterError("", what, text, "expected three numbers x,y,z in µm, got " + std::to_string(values.size()));
  return Spacing{values[0], values[1], values[2]};
}

}  // namespace spinescope
