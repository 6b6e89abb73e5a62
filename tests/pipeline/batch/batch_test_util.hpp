#pragma once
// Shared helpers of the batch tests: a temporary folder, file writing and reading.
#include <boost/filesystem.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "spinescope/io.hpp"
#include "test_support.hpp"

namespace spinescope::testing_batch {

namespace fs = boost::filesystem;

inline fs::path make_temp_dir() { return test::make_temp_dir("batch"); }
using test::read_file;

inline void put(const fs::path& p, const std::string& text) { write_file_atomic(p.string(), text); }

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace spinescope::testing_batch
