// ImageJ hyperstack writer (libtiff): one uncompressed page per slice, spacing in the description and
// X/YResolution, so Fiji and tifffile open it at the right voxel size.
#include <tiffio.h>

#include <boost/filesystem.hpp>
#include <cstdio>
#include <sstream>

#include "spinescope/errors.hpp"
#include "spinescope/io.hpp"

namespace spinescope {
namespace {

namespace fs = boost::filesystem;

template <class T>
struct SampleTraits;
template <>
struct SampleTraits<std::uint8_t> {
  static constexpr int kBits = 8, kFormat = SAMPLEFORMAT_UINT;
};
template <>
struct SampleTraits<std::uint16_t> {
  static constexpr int kBits = 16, kFormat = SAMPLEFORMAT_UINT;
};
template <>
struct SampleTraits<float> {
  static constexpr int kBits = 32, kFormat = SAMPLEFORMAT_IEEEFP;
};

template <class T>
void write_stack(const std::string& path, const Volume<T>& v, TiffCompression compression) {
  if (v.empty()) throw OutputError(path, "refusing to write an empty volume");
  if (!v.spacing().valid()) throw OutputError(path, "volume has no valid voxel size");
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  boost::system::error_code ec;
  fs::create_directories(dir, ec);
  const fs::path temp = dir / fs::unique_path("." + target.filename().string() + ".tmp-%%%%%%%%");
  const double bytes = static_cast<double>(v.size()) * sizeof(T);
  const bool big = bytes > 3.9e9;
  TIFFSetErrorHandler(nullptr);
  TIFFSetWarningHandler(nullptr);
  TIFF* tif = TIFFOpen(temp.string().c_str(), big ? "w8" : "w");
  if (!tif) throw OutputError(path, "cannot create temporary TIFF in " + dir.string());

  std::ostringstream desc;
  desc.imbue(std::locale::classic());
  desc.precision(10);
  desc << "ImageJ=1.11a\nimages=" << v.nz() << "\nslices=" << v.nz() << "\nunit=micron\nspacing="
       << v.spacing().z_um << "\nloop=false\n";
  if (SampleTraits<T>::kFormat == SAMPLEFORMAT_IEEEFP) desc << "min=0.0\nmax=1.0\n";
  const std::string description = desc.str();

  bool ok = true;
  for (std::size_t k = 0; k < v.nz() && ok; ++k) {
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, static_cast<std::uint32_t>(v.nx()));
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, static_cast<std::uint32_t>(v.ny()));
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, SampleTraits<T>::kBits);
    TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, SampleTraits<T>::kFormat);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_COMPRESSION,
                 compression == TiffCompression::kPackBits ? COMPRESSION_PACKBITS : COMPRESSION_NONE);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, static_cast<std::uint32_t>(v.ny()));
    TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_NONE);
    TIFFSetField(tif, TIFFTAG_XRESOLUTION, static_cast<float>(1.0 / v.spacing().x_um));
    TIFFSetField(tif, TIFFTAG_YRESOLUTION, static_cast<float>(1.0 / v.spacing().y_um));
    if (k == 0) TIFFSetField(tif, TIFFTAG_IMAGEDESCRIPTION, description.c_str());
    if (v.nz() > 1) {
      TIFFSetField(tif, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
      TIFFSetField(tif, TIFFTAG_PAGENUMBER, static_cast<std::uint16_t>(k), static_cast<std::uint16_t>(v.nz()));
    }
    const tmsize_t n = static_cast<tmsize_t>(v.plane_size() * sizeof(T));
    ok = TIFFWriteEncodedStrip(tif, 0, const_cast<T*>(v.slice(k)), n) >= 0 && TIFFWriteDirectory(tif);
  }
  TIFFClose(tif);
  if (!ok) {
    fs::remove(temp, ec);
    throw OutputError(path, "TIFF write failed (disk full?)");
  }
  fs::rename(temp, target, ec);
  if (ec) {
    fs::remove(temp, ec);
    throw OutputError(path, "cannot rename temporary TIFF into place: " + ec.message());
  }
}

}  // namespace

void write_imagej_tiff(const std::string& path, const Volume<std::uint8_t>& volume, TiffCompression compression) {
  write_stack(path, volume, compression);
}
void write_imagej_tiff(const std::string& path, const Volume<std::uint16_t>& volume, TiffCompression compression) {
  write_stack(path, volume, compression);
}
void write_imagej_tiff(const std::string& path, const Volume<float>& volume, TiffCompression compression) {
  write_stack(path, volume, compression);
}

}  // namespace spinescope
