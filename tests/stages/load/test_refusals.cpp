// Every refusal: InputError naming the file and the problem, exit 65 (66 for a missing/unreadable file),
// from the header pass where the pixels are not needed.
#include <fstream>
#include <iterator>

#include "load_test_util.hpp"

namespace spinescope {
namespace {

using namespace test_load;

/// Expects read_stack (and read_stack_header unless @p pixels_only) to refuse @p path with @p exit_code
/// and a message naming the file and containing @p reason.
void expect_refused(const std::string& path, const LoadOptions& options, const std::string& reason,
                    int exit_code = kExitDataError, bool pixels_only = false) {
  for (int pass = pixels_only ? 1 : 0; pass < 2; ++pass) {
    SCOPED_TRACE(pass == 0 ? "read_stack_header" : "read_stack");
    try {
      if (pass == 0)
        read_stack_header(path, options);
      else
        read_stack(path, options);
      ADD_FAILURE() << path << " was accepted";
    } catch (const InputError& e) {
      EXPECT_EQ(e.file(), path);
      EXPECT_EQ(std::string(e.what()).rfind(path + ": ", 0), 0u) << e.what();
      EXPECT_NE(e.reason().find(reason), std::string::npos) << "reason: " << e.reason();
      EXPECT_EQ(e.exit_code(), exit_code) << e.what();
    }
  }
}

void copy_truncated(const std::string& from, const std::string& to, double keep_fraction) {
  std::ifstream in(from, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(to, std::ios::binary) << bytes.substr(0, static_cast<std::size_t>(bytes.size() * keep_fraction));
}

TEST(Load, RefusesTruncatedFile) {
  TempDir dir;
  for (const char* name : {"imagej_u16.tif", "deflate.tif", "ome_tiled.tif", "ome_bigtiff.tif"}) {
    SCOPED_TRACE(name);
    for (double keep : {0.9, 0.6}) {
      const std::string cut = dir.file(std::string("cut_") + std::to_string(int(keep * 100)) + "_" + name);
      copy_truncated(fixture(name), cut, keep);
      expect_refused(cut, {}, "truncated");
    }
  }
}

TEST(Load, RefusesCorruptCompressedDataWhenReadingPixels) {
  // The header is intact, so only the pixel pass can tell: the deflate streams are overwritten.
  TempDir dir;
  const std::string bad = dir.file("corrupt_deflate.tif");
  {
    std::ifstream in(fixture("deflate.tif"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const StackHeader h = read_stack_header(fixture("deflate.tif"));
    ASSERT_EQ(h.nz, 3u);
    // tifffile writes each page's data after its IFD; zlib streams start with 0x78: scramble every one.
    int scrambled = 0;
    for (std::size_t i = 0; i + 1 < bytes.size(); ++i)
      if (bytes[i] == '\x78' && (bytes[i + 1] == '\x9c' || bytes[i + 1] == '\xda' || bytes[i + 1] == '\x01')) {
        for (std::size_t k = i; k < std::min(bytes.size(), i + 40); ++k) bytes[k] = '\xff';
        ++scrambled;
      }
    ASSERT_GE(scrambled, 3);
    std::ofstream(bad, std::ios::binary) << bytes;
  }
  EXPECT_NO_THROW(read_stack_header(bad));
  expect_refused(bad, {}, "page 1", kExitDataError, /*pixels_only=*/true);
}

TEST(Load, RefusesImagesMismatch) {
  expect_refused(fixture("imagej_images_mismatch.tif"), {}, "images=5 but the file has 3 pages");
}

TEST(Load, RefusesMixedPageSizes) { expect_refused(fixture("mixed_sizes.tif"), {}, "pages of mixed size or type"); }

TEST(Load, RefusesBilevel) { expect_refused(fixture("bilevel.tif"), {}, "1-bit"); }

TEST(Load, RefusesPalette) { expect_refused(fixture("palette.tif"), {}, "palette"); }

TEST(Load, RefusesSinglePlaneUnlessAllowed) { expect_refused(fixture("imagej_single_plane.tif"), {}, "single plane"); }

TEST(Load, RefusesTimeSeriesWithoutFrame) {
  expect_refused(fixture("imagej_frames.tif"), {}, "time series of 2 frames");
  LoadOptions o;
  o.frame = 3;
  expect_refused(fixture("imagej_frames.tif"), o, "frame 3 out of range");
}

TEST(Load, RefusesSeveralChannelsWithoutChannel) {
  expect_refused(fixture("imagej_two_channels.tif"), {}, "has 2 channels");
  expect_refused(fixture("ome_two_channels.tif"), {}, "has 2 channels");
  LoadOptions o;
  o.channel = 3;
  expect_refused(fixture("imagej_two_channels.tif"), o, "channel 3 out of range");
  LoadOptions rgb;
  rgb.voxel_size = um(0.1, 0.1, 0.5);
  expect_refused(fixture("rgb_samples.tif"), rgb, "has 3 channels");
}

TEST(Load, RefusesMissingVoxelSize) {
  expect_refused(fixture("plain_no_spacing.tif"), {}, "no usable voxel size");
  // x/y from resolution tags in cm, but nothing says the z step
  expect_refused(fixture("plain_resolution_cm.tif"), {}, "no z step");
  LoadOptions o;
  o.voxel_size = um(0.1, 0.1, 0.35);
  const StackHeader h = read_stack_header(fixture("plain_resolution_cm.tif"), o);
  EXPECT_EQ(h.spacing_source, SpacingSource::kCommandLine);
  EXPECT_EQ(h.nz, 3u);
}

TEST(Load, RefusesMissingFile) {
  expect_refused(fixture("does_not_exist.tif"), {}, "cannot open", kExitNoInput);
  TempDir dir;
  expect_refused(dir.file(""), {}, "directory", kExitNoInput);
}

TEST(Load, RefusesEmptyFile) {
  TempDir dir;
  std::ofstream(dir.file("empty.tif")).close();
  expect_refused(dir.file("empty.tif"), {}, "empty file");
}

TEST(Load, RefusesTextFile) {
  TempDir dir;
  std::ofstream(dir.file("notes.tif")) << "path,group\nstack.tif,control\n";
  expect_refused(dir.file("notes.tif"), {}, "not a TIFF");
  std::ofstream(dir.file("tiny.tif")) << "II";
  expect_refused(dir.file("tiny.tif"), {}, "not a TIFF");
}

TEST(Load, RefusesAbsurdDimensionsBeforeAllocating) {
  LoadOptions o;
  o.allow_single_plane = true;
  o.voxel_size = um(0.1, 0.1, 0.35);
  expect_refused(fixture("absurd_uncompressed.tif"), o, "declares 100000x100000 uncompressed pixels");
  expect_refused(fixture("absurd_deflate.tif"), o, "beyond what the codec can compress");
  expect_refused(fixture("absurd_zstd.tif"), o, "absurd dimensions");
}

}  // namespace
}  // namespace spinescope

namespace spinescope {
namespace {

using namespace test_load;

// Cut and corrupted fixtures either load or are refused with InputError: never another exception, a crash
// or a hang (run under ASan/UBSan too).
TEST(Load, DamagedFilesNeverCrash) {
  TempDir dir;
  const std::string damaged = dir.file("damaged.tif");
  std::uint32_t lcg = 12345;
  auto next = [&lcg] { return lcg = lcg * 1664525u + 1013904223u; };
  int refused = 0, loaded = 0;
  for (const char* name : {"imagej_u16.tif", "lzw.tif", "ome_tiled.tif", "ome_bigtiff.tif", "packbits.tif"}) {
    std::ifstream in(fixture(name), std::ios::binary);
    const std::string original((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (int trial = 0; trial < 120; ++trial) {
      std::string bytes = original;
      if (trial < 40) {
        bytes.resize(next() % bytes.size());
      } else {
        for (int flips = 1 + trial % 4; flips > 0; --flips)
          bytes[next() % bytes.size()] = static_cast<char>(next() >> 24);
      }
      std::ofstream(damaged, std::ios::binary | std::ios::trunc) << bytes;
      try {
        LoadOptions o;
        o.allow_single_plane = true;
        read_stack(damaged, o);
        ++loaded;
      } catch (const InputError& e) {
        EXPECT_EQ(e.file(), damaged);
        ++refused;
      } catch (const std::exception& e) {
        ADD_FAILURE() << name << " trial " << trial << ": " << e.what();
      }
    }
  }
  EXPECT_GT(refused, 200);  // every cut file among them
  EXPECT_GT(loaded, 0);     // flips inside pixel data go unnoticed, as they must
}

}  // namespace
}  // namespace spinescope
