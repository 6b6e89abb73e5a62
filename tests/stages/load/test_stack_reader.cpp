// Every accepted form, on fixtures written by tifffile: exact spacing and voxel values.
#include "load_test_util.hpp"

namespace spinescope {
namespace {

using namespace test_load;

void expect_u16_pattern(const Volume<float>& v, int c = 0, int t = 0) {
  for (std::size_t k = 0; k < v.nz(); ++k)
    for (std::size_t j = 0; j < v.ny(); ++j)
      for (std::size_t i = 0; i < v.nx(); ++i) {
        if (i == 0 && j == 0 && k == 0 && c == 0 && t == 0) continue;  // imagej_u16 has 40000 there
        ASSERT_EQ(v(i, j, k), pattern(int(i), int(j), int(k), c, t)) << i << "," << j << "," << k;
      }
}

TEST(Load, ImageJUint16SpacingAndRawValues) {
  StackHeader h;
  const auto v = read_stack(fixture("imagej_u16.tif"), {}, &h);
  ASSERT_EQ(v.nx(), 16u);
  ASSERT_EQ(v.ny(), 12u);
  ASSERT_EQ(v.nz(), 4u);
  expect_spacing(v.spacing(), um(0.1, 0.1, 0.35));
  expect_spacing(h.spacing, um(0.1, 0.1, 0.35));
  EXPECT_EQ(h.spacing_source, SpacingSource::kImageJ);
  EXPECT_EQ(h.format, "imagej");
  EXPECT_EQ(h.bits_per_sample, 16);
  EXPECT_EQ(h.sample_format, "uint");
  EXPECT_EQ(h.metadata.at("compression"), "none");
  EXPECT_EQ(v(0, 0, 0), 40000.0f);  // raw, not rescaled, not read as signed
  EXPECT_EQ(v(5, 3, 2), 256 * 2 + 16 * 3 + 5);
  expect_u16_pattern(v);
}

TEST(Load, HeaderAgreesWithRead) {
  const StackHeader h = read_stack_header(fixture("imagej_u16.tif"));
  EXPECT_EQ(h.nx, 16u);
  EXPECT_EQ(h.ny, 12u);
  EXPECT_EQ(h.nz, 4u);
  EXPECT_EQ(h.pages, 4u);
  expect_spacing(h.spacing, um(0.1, 0.1, 0.35));
}

TEST(Load, ImageJUint8) {
  StackHeader h;
  const auto v = read_stack(fixture("imagej_u8.tif"), {}, &h);
  ASSERT_EQ(v.nz(), 3u);
  EXPECT_EQ(h.bits_per_sample, 8);
  expect_spacing(v.spacing(), um(0.1, 0.1, 0.5));
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 12; ++j)
      for (int i = 0; i < 16; ++i) ASSERT_EQ(v(i, j, k), pattern_u8(i, j, k));
}

TEST(Load, ImageJFloat32KeepsNegativeAndFractionalValues) {
  StackHeader h;
  const auto v = read_stack(fixture("imagej_f32.tif"), {}, &h);
  EXPECT_EQ(h.sample_format, "float");
  EXPECT_EQ(h.bits_per_sample, 32);
  EXPECT_FLOAT_EQ(v(0, 0, 0), -12.5f);
  EXPECT_FLOAT_EQ(v(5, 3, 2), (pattern(5, 3, 2) - 100.0f) / 8.0f);
  EXPECT_FLOAT_EQ(v(15, 11, 2), (pattern(15, 11, 2) - 100.0f) / 8.0f);
}

TEST(Load, ImageJHyperstackTwoChannels) {
  LoadOptions o;
  o.channel = 2;
  StackHeader h;
  const auto v = read_stack(fixture("imagej_two_channels.tif"), o, &h);
  EXPECT_EQ(h.channels, 2);
  ASSERT_EQ(v.nz(), 3u);
  expect_spacing(v.spacing(), um(0.08, 0.08, 0.5));
  expect_u16_pattern(v, 1);
  o.channel = 1;
  expect_u16_pattern(read_stack(fixture("imagej_two_channels.tif"), o), 0);
}

TEST(Load, ImageJTimeSeriesFrame) {
  LoadOptions o;
  o.frame = 2;
  StackHeader h;
  const auto v = read_stack(fixture("imagej_frames.tif"), o, &h);
  EXPECT_EQ(h.frames, 2);
  ASSERT_EQ(v.nz(), 3u);
  expect_u16_pattern(v, 0, 1);
}

TEST(Load, UnitSpellings) {
  // ImageJ's "\u00B5m" escape, UTF-8 µm, micron/um, nm and mm all give the same µm.
  for (const char* name : {"imagej_escaped_micro.tif", "imagej_utf8_micro.tif"}) {
    SCOPED_TRACE(name);
    StackHeader h;
    read_stack(fixture(name), {}, &h);
    expect_spacing(h.spacing, um(0.1, 0.1, 0.35));
  }
  StackHeader nm;
  read_stack(fixture("imagej_nm.tif"), {}, &nm);
  expect_spacing(nm.spacing, um(0.065, 0.065, 0.35));
  EXPECT_EQ(nm.metadata.at("unit"), "nm");
  StackHeader mm;
  read_stack(fixture("imagej_mm.tif"), {}, &mm);
  expect_spacing(mm.spacing, um(0.1, 0.1, 0.5));
}

TEST(Load, Compressions) {
  const std::pair<const char*, const char*> cases[] = {
      {"lzw.tif", "lzw"},           {"lzw_predictor.tif", "lzw"},
      {"deflate.tif", "deflate"},   {"deflate_old.tif", "deflate (old code 32946)"},
      {"packbits.tif", "packbits"}, {"strips_rows3.tif", "none"}};
  for (const auto& [name, compression] : cases) {
    SCOPED_TRACE(name);
    StackHeader h;
    const auto v = read_stack(fixture(name), {}, &h);
    EXPECT_EQ(h.metadata.at("compression"), compression);
    ASSERT_EQ(v.nz(), 3u);
    expect_spacing(v.spacing(), um(0.1, 0.1, 0.35));
    expect_u16_pattern(v);
  }
}

TEST(Load, LzwLargeStripAllCodeWidths) {
  const auto v = read_stack(fixture("lzw_large.tif"));
  ASSERT_EQ(v.nx(), 64u);
  ASSERT_EQ(v.ny(), 48u);
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 48; ++j)
      for (int i = 0; i < 64; ++i) ASSERT_EQ(v(i, j, k), float((i * 37 + j * 101 + k * 13) % 4096));
}

TEST(Load, OmeTiff) {
  StackHeader h;
  const auto v = read_stack(fixture("ome_u16.tif"), {}, &h);
  EXPECT_EQ(h.format, "ome");
  EXPECT_EQ(h.spacing_source, SpacingSource::kOme);
  ASSERT_EQ(v.nz(), 4u);
  expect_spacing(v.spacing(), um(0.1, 0.1, 0.35));
  expect_u16_pattern(v);
}

TEST(Load, OmeTwoChannelsDimensionOrder) {
  LoadOptions o;
  o.channel = 2;
  StackHeader h;
  const auto v = read_stack(fixture("ome_two_channels.tif"), o, &h);
  EXPECT_EQ(h.channels, 2);
  EXPECT_EQ(h.metadata.at("layout"), "XYZCT");
  ASSERT_EQ(v.nz(), 3u);
  expect_spacing(v.spacing(), um(0.08, 0.08, 0.5));
  expect_u16_pattern(v, 1);
}

TEST(Load, OmeChannelFastestDimensionOrder) {
  LoadOptions o;
  o.channel = 2;
  StackHeader h;
  const auto v = read_stack(fixture("ome_xyczt.tif"), o, &h);
  EXPECT_EQ(h.metadata.at("layout"), "XYCZT");
  ASSERT_EQ(v.nz(), 3u);
  expect_spacing(v.spacing(), um(0.08, 0.08, 0.5));
  expect_u16_pattern(v, 1);
}

TEST(Load, OmeNanometreUnits) {
  StackHeader h;
  read_stack(fixture("ome_nm.tif"), {}, &h);
  expect_spacing(h.spacing, um(0.1, 0.1, 0.5));
}

TEST(Load, OmeSignedInt16) {
  StackHeader h;
  const auto v = read_stack(fixture("ome_int16.tif"), {}, &h);
  EXPECT_EQ(h.sample_format, "int");
  EXPECT_EQ(v(0, 0, 0), -300.0f);
  EXPECT_EQ(v(15, 11, 2), pattern(15, 11, 2) - 300.0f);
}

TEST(Load, BigTiff) {
  StackHeader h;
  const auto v = read_stack(fixture("ome_bigtiff.tif"), {}, &h);
  EXPECT_EQ(h.metadata.at("container"), "bigtiff");
  expect_spacing(v.spacing(), um(0.1, 0.1, 0.35));
  expect_u16_pattern(v);
}

TEST(Load, TiledWithPartialTiles) {
  StackHeader h;
  const auto v = read_stack(fixture("ome_tiled.tif"), {}, &h);
  EXPECT_EQ(h.metadata.at("storage"), "tiles");
  ASSERT_EQ(v.nx(), 40u);
  ASSERT_EQ(v.ny(), 24u);
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 24; ++j)
      for (int i = 0; i < 40; ++i) ASSERT_EQ(v(i, j, k), pattern(i, j, k)) << i << "," << j << "," << k;
}

TEST(Load, RgbSamplesAreChannels) {
  LoadOptions o;
  o.voxel_size = um(0.1, 0.1, 0.5);
  o.channel = 3;
  StackHeader h;
  const auto v = read_stack(fixture("rgb_samples.tif"), o, &h);
  EXPECT_EQ(h.channels, 3);
  EXPECT_EQ(h.spacing_source, SpacingSource::kCommandLine);
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 12; ++j)
      for (int i = 0; i < 16; ++i) ASSERT_EQ(v(i, j, k), 255.0f - pattern_u8(i, j, k));
  o.channel = 2;
  EXPECT_EQ(read_stack(fixture("rgb_samples.tif"), o)(7, 5, 1), std::floor(pattern_u8(7, 5, 1) / 2));
}

TEST(Load, VoxelSizeOverrideWins) {
  LoadOptions o;
  o.voxel_size = um(0.2, 0.2, 0.5);
  StackHeader h;
  read_stack(fixture("imagej_u16.tif"), o, &h);
  expect_spacing(h.spacing, um(0.2, 0.2, 0.5));
  EXPECT_EQ(h.spacing_source, SpacingSource::kCommandLine);
  const auto v = read_stack(fixture("plain_no_spacing.tif"), o);
  expect_spacing(v.spacing(), um(0.2, 0.2, 0.5));
  expect_u16_pattern(v);
}

TEST(Load, SinglePlaneWhenAllowed) {
  LoadOptions o;
  o.allow_single_plane = true;
  StackHeader h;
  const auto v = read_stack(fixture("imagej_single_plane.tif"), o, &h);
  ASSERT_EQ(v.nz(), 1u);
  EXPECT_NEAR(h.spacing.x_um, 0.1, 1e-9);
  EXPECT_EQ(v(4, 2, 0), pattern(4, 2, 0));
}

TEST(Load, ParseVoxelSize) {
  const Spacing s = parse_voxel_size("0.1,0.1,0.35");
  expect_spacing(s, um(0.1, 0.1, 0.35), 0.0);
  expect_spacing(parse_voxel_size(" 0.065 , 0.065,0.2 "), um(0.065, 0.065, 0.2), 0.0);
  for (const char* bad : {"", "0.1,0.1", "0.1,0.1,0.35,1", "0.1,x,0.35", "0.1,0,0.35", "0.1,-0.1,0.35", "nan,0.1,0.35",
                          "0.1,inf,0.35", "0.1,,0.35", "0.1;0.1;0.35"}) {
    SCOPED_TRACE(bad);
    try {
      parse_voxel_size(bad, "load.voxel_size_um");
      ADD_FAILURE() << "accepted";
    } catch (const ParameterError& e) {
      EXPECT_NE(std::string(e.what()).find("load.voxel_size_um"), std::string::npos) << e.what();
      EXPECT_EQ(e.exit_code(), kExitUsage);
    }
  }
}

}  // namespace
}  // namespace spinescope
