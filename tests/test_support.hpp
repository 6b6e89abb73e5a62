#pragma once
// Helpers shared by every test suite: a fresh temporary folder and reading a file back whole.
#include <boost/filesystem.hpp>
#include <fstream>
#include <sstream>
#include <string>

namespace spinescope::test {

/// A new, empty folder under the system temp folder, named spinescope-<tag>-XXXXXX.
inline boost::filesystem::path make_temp_dir(const std::string& tag) {
  namespace fs = boost::filesystem;
  fs::path d = fs::temp_directory_path() / fs::unique_path("spinescope-" + tag + "-%%%%%%%%");
  fs::create_directories(d);
  return d;
}

/// The bytes of a file ("" when it cannot be read).
inline std::string read_file(const boost::filesystem::path& p) {
  std::ifstream in(p.string(), std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace spinescope::test
