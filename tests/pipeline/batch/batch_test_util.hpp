#pragma once
// Shared helpers of the batch tests: a temporary folder, file writing and reading.
#include <boost/filesystem.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "spinescope/io.hpp"

namespace spinescope::testing_batch {

namespace fs = boost::filesystem;

inline fs::path make_temp_dir() {
  fs::path d = fs::temp_directory_path() / fs::unique_path("spinescope-batch-%%%%%%");
  fs::create_directories(d);
  return d;
}

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p.string(), std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void put(const fs::path& p, const std::string& text) { write_file_atomic(p.string(), text); }

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace spinescope::testing_batch
