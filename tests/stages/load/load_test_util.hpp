#pragma once
// Shared helpers of the load tests: fixture paths, the fixtures' voxel formula, temporary folders.
#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <cmath>
#include <string>

#include "spinescope/errors.hpp"
#include "spinescope/stack_reader.hpp"

namespace spinescope::test_load {

namespace fs = boost::filesystem;

inline std::string fixture(const std::string& name) { return std::string(SPINESCOPE_TEST_DATA) + "/load/" + name; }

/// The fixtures' voxel values (make_fixtures.py): 1000·c + 5000·t + 256·z + 16·y + x, 0-based.
inline float pattern(int x, int y, int z, int c = 0, int t = 0) {
  return static_cast<float>(1000 * c + 5000 * t + 256 * z + 16 * y + x);
}
inline float pattern_u8(int x, int y, int z) { return static_cast<float>((16 * y + x + 7 * z) % 256); }

/// A fresh temporary folder, removed when the object goes.
class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / fs::unique_path("spinescope-load-%%%%%%%%")) {
    fs::create_directories(path_);
  }
  ~TempDir() {
    boost::system::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

inline Spacing um(double x, double y, double z) { return Spacing{x, y, z}; }

inline void expect_spacing(const Spacing& got, const Spacing& want, double tol_um = 1e-9) {
  EXPECT_NEAR(got.x_um, want.x_um, tol_um);
  EXPECT_NEAR(got.y_um, want.y_um, tol_um);
  EXPECT_NEAR(got.z_um, want.z_um, tol_um);
}

}  // namespace spinescope::test_load
