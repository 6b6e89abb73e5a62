#pragma once
// Loads the reference values in tests/pipeline/stats/reference/ (made by make_reference.py with SciPy and
// statsmodels): the C++ tests need no Python.
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "spinescope/io.hpp"

namespace spinescope::stats::testing {

inline std::string reference_path(const std::string& name) {
  return std::string(SPINESCOPE_SOURCE_DIR) + "/tests/pipeline/stats/reference/" + name;
}

/// dataset -> sample ("a"/"b") -> values, in file order.
inline std::map<std::string, std::map<std::string, std::vector<double>>> two_sample_data() {
  const CsvTable t = read_csv(reference_path("two_sample_data.csv"));
  std::map<std::string, std::map<std::string, std::vector<double>>> out;
  for (const auto& r : t.rows) out[r[0]][r[1]].push_back(std::stod(r[2]));
  return out;
}

/// (dataset, test, quantity) -> value.
inline std::map<std::tuple<std::string, std::string, std::string>, double> expected(const std::string& file) {
  const CsvTable t = read_csv(reference_path(file));
  std::map<std::tuple<std::string, std::string, std::string>, double> out;
  for (const auto& r : t.rows) out[{r[0], r[1], r[2]}] = std::stod(r[3]);
  return out;
}

}  // namespace spinescope::stats::testing
