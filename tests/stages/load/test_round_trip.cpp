// Our writer (write_imagej_tiff) -> our reader gives the same voxels and spacing; an independent reader
// (python3 + tifffile) sees the same voxel size in what we write.
#include <cstdlib>
#include <fstream>

#include "load_test_util.hpp"
#include "spinescope/io.hpp"

namespace spinescope {
namespace {

using namespace test_load;

template <class T>
Volume<T> ramp(Spacing spacing, double scale) {
  Volume<T> v(13, 9, 5, spacing);
  for (std::size_t n = 0; n < v.size(); ++n) v[n] = static_cast<T>(std::fmod(n * scale, 250.0) + (n % 3) * 0.25);
  return v;
}

template <class T>
void expect_round_trip(const Spacing& spacing, double scale, int bits, const char* format) {
  TempDir dir;
  const Volume<T> original = ramp<T>(spacing, scale);
  const std::string path = dir.file("round_trip.tif");
  write_imagej_tiff(path, original);
  StackHeader h;
  const Volume<float> back = read_stack(path, {}, &h);
  EXPECT_EQ(h.bits_per_sample, bits);
  EXPECT_EQ(h.sample_format, format);
  EXPECT_EQ(h.spacing_source, SpacingSource::kImageJ);
  ASSERT_EQ(back.nx(), original.nx());
  ASSERT_EQ(back.ny(), original.ny());
  ASSERT_EQ(back.nz(), original.nz());
  expect_spacing(back.spacing(), spacing, 1e-7);
  for (std::size_t n = 0; n < original.size(); ++n) ASSERT_EQ(back[n], static_cast<float>(original[n])) << n;
}

TEST(Load, RoundTripUint8) { expect_round_trip<std::uint8_t>(um(0.1, 0.1, 0.35), 7.0, 8, "uint"); }
TEST(Load, RoundTripUint16) { expect_round_trip<std::uint16_t>(um(0.13, 0.13, 0.5), 1.7, 16, "uint"); }
TEST(Load, RoundTripFloat) { expect_round_trip<float>(um(0.0645, 0.0645, 0.35), 0.37, 32, "float"); }

TEST(Load, IndependentReaderSeesOurVoxelSize) {
  if (std::system("/usr/bin/python3 -c 'import tifffile' > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "/usr/bin/python3 with tifffile is not available: independent reader check skipped";
  TempDir dir;
  const Volume<std::uint16_t> v = ramp<std::uint16_t>(um(0.13, 0.13, 0.5), 3.0);
  const std::string tif = dir.file("ours.tif"), out = dir.file("seen.txt"), script = dir.file("check.py");
  write_imagej_tiff(tif, v);
  std::ofstream(script) << "import sys, tifffile\n"
                           "with tifffile.TiffFile(sys.argv[1]) as t:\n"
                           "    ij = t.imagej_metadata\n"
                           "    p = t.pages[0]\n"
                           "    xr = p.tags['XResolution'].value\n"
                           "    yr = p.tags['YResolution'].value\n"
                           "    a = t.asarray()\n"
                           "    open(sys.argv[2], 'w').write('%r %r %r %s %d %d %d %d\\n' % (\n"
                           "        xr[1] / xr[0], yr[1] / yr[0], ij['spacing'], ij.get('unit'),\n"
                           "        a.shape[0], a.shape[1], a.shape[2], int(a[2, 4, 7])))\n";
  const std::string command = "/usr/bin/python3 " + script + " " + tif + " " + out;
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream in(out);
  double x_um = 0, y_um = 0, z_um = 0;
  std::string unit;
  std::size_t nz = 0, ny = 0, nx = 0;
  int value = -1;
  ASSERT_TRUE(in >> x_um >> y_um >> z_um >> unit >> nz >> ny >> nx >> value);
  EXPECT_NEAR(x_um, 0.13, 1e-6);
  EXPECT_NEAR(y_um, 0.13, 1e-6);
  EXPECT_NEAR(z_um, 0.5, 1e-9);
  EXPECT_EQ(unit, "micron");
  EXPECT_EQ(nz, 5u);
  EXPECT_EQ(ny, 9u);
  EXPECT_EQ(nx, 13u);
  EXPECT_EQ(value, v(7, 4, 2));
}

}  // namespace
}  // namespace spinescope
