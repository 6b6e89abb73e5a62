// Sample sheets: reading and checking them before any work starts.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

#include <boost/filesystem.hpp>

#include "spinescope/batch.hpp"
#include "spinescope/errors.hpp"
#include "spinescope/io.hpp"

namespace spinescope {

namespace fs = boost::filesystem;

namespace {

const char* const kRequired[] = {"path", "group", "animal", "neuron"};
// Names of stacks.csv's own columns: a sheet column of that name would be ambiguous in the outputs.
const char* const kReserved[] = {"stack_id", "status", "error", "dendrite_length_um", "spine_count",
                                 "density_per_um", "branch_points", "output_dir", "overlay"};

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string normalised(const std::string& s) {
  std::string out;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// The known name @p column is a likely misspelling of, or "" when it is fine as it is.
std::string near_miss(const std::string& column) {
  const auto& names = sample_sheet_known_columns();
  if (std::find(names.begin(), names.end(), column) != names.end()) return "";
  const std::string n = normalised(column);
  for (const auto& known : names) {
    const std::size_t allowed = known.size() <= 4 ? 0 : 2;  // 'cage' is not a typo of 'age'
    if (n == known || edit_distance(n, known) <= allowed) return known;
    if (n.size() >= 4 && n.size() < known.size() && known.compare(0, n.size(), n) == 0) return known;  // 'chan'
  }
  return "";
}

bool positive_integer(const std::string& s) {
  if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  return std::atol(s.c_str()) >= 1;
}

std::string sanitised_stem(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  for (const char* suffix : {".ome.tiff", ".ome.tif", ".tiff", ".tif", ".TIFF", ".TIF"}) {
    const std::string s(suffix);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      name.erase(name.size() - s.size());
      break;
    }
  }
  std::string out;
  for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  if (out.size() > 48) out.resize(48);
  while (!out.empty() && out[0] == '.') out.erase(0, 1);  // never a hidden (".tmp"-like) folder
  return out.empty() ? "stack" : out;
}

}  // namespace

const std::vector<std::string>& sample_sheet_known_columns() {
  static const std::vector<std::string> names = {"path", "group",     "animal",    "neuron",   "channel",
                                                 "frame", "voxel_size_um", "dendrite", "condition", "sex",
                                                 "age",  "genotype",  "treatment"};
  return names;
}

SampleSheet read_sample_sheet(const std::string& path, std::vector<std::string>* problems) {
  const CsvTable table = read_csv(path);
  SampleSheet sheet;
  sheet.path = path;
  auto problem = [&](int line, const std::string& what) {
    problems->push_back(path + (line > 0 ? ":" + std::to_string(line) : std::string(":header")) + ": " + what);
  };

  // Columns.
  std::map<std::string, int> index;
  for (std::size_t c = 0; c < table.header.size(); ++c) {
    const std::string& name = table.header[c];
    if (name.empty()) {
      problem(0, "column " + std::to_string(c + 1) + " has no name");
      continue;
    }
    if (!index.emplace(name, static_cast<int>(c)).second) {
      problem(0, "column '" + name + "' appears twice");
      continue;
    }
    if (std::find(std::begin(kReserved), std::end(kReserved), name) != std::end(kReserved)) {
      problem(0, "column '" + name + "' is reserved for the batch outputs; rename it");
      continue;
    }
    const std::string miss = near_miss(name);
    if (!miss.empty())
      problem(0, "column '" + name + "' looks like a misspelling of '" + miss +
                     "': spell it exactly, or give the column a clearly different name");
  }
  bool columns_ok = true;
  for (const char* r : kRequired)
    if (!index.count(r)) {
      problem(0, std::string("missing required column '") + r + "' (need path,group,animal,neuron)");
      columns_ok = false;
    }
  for (std::size_t c = 0; c < table.header.size(); ++c) {
    const std::string& name = table.header[c];
    if (std::find(std::begin(kRequired), std::end(kRequired), name) == std::end(kRequired))
      sheet.extra_columns.push_back(name);
  }
  if (!columns_ok) return sheet;
  if (table.rows.empty()) problem(0, "no stacks: the sheet has a header only");

  auto cell = [&](std::size_t r, const std::string& name) -> std::string {
    auto it = index.find(name);
    return it == index.end() ? std::string() : table.rows[r][static_cast<std::size_t>(it->second)];
  };
  const fs::path base = fs::path(path).parent_path();
  std::map<std::string, int> seen;  // canonical path|channel|frame -> line
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    SheetRow row;
    row.row = static_cast<int>(r) + 1;
    row.line = table.line_numbers[r];
    row.path = cell(r, "path");
    row.group = cell(r, "group");
    row.animal = cell(r, "animal");
    row.neuron = cell(r, "neuron");
    row.channel = cell(r, "channel");
    row.frame = cell(r, "frame");
    row.voxel_size_um = cell(r, "voxel_size_um");
    for (const auto& name : sheet.extra_columns) row.extras.push_back(cell(r, name));
    for (const char* req : kRequired)
      if (cell(r, req).find_first_not_of(" \t") == std::string::npos) problem(row.line, std::string("empty '") + req + "'");
    if (!row.path.empty()) {
      const fs::path p(row.path);
      row.resolved_path = (p.is_absolute() ? p : base / p).lexically_normal().string();
      boost::system::error_code ec;
      if (!fs::exists(row.resolved_path, ec))
        problem(row.line, row.resolved_path + ": no such file");
      else if (!fs::is_regular_file(row.resolved_path, ec))
        problem(row.line, row.resolved_path + ": not a file");
    }
    if (!row.channel.empty() && !positive_integer(row.channel))
      problem(row.line, "channel '" + row.channel + "' is not a channel number (1 = first)");
    if (!row.frame.empty() && !positive_integer(row.frame))
      problem(row.line, "frame '" + row.frame + "' is not a time point number (1 = first)");
    if (!row.voxel_size_um.empty()) {
      try {
        parse_voxel_size(row.voxel_size_um, "voxel_size_um");
      } catch (const Error& e) {
        problem(row.line, e.what());
      }
    }
    if (!row.resolved_path.empty()) {
      boost::system::error_code ec;
      fs::path canonical = fs::weakly_canonical(row.resolved_path, ec);
      const std::string key = (ec ? row.resolved_path : canonical.string()) + "|" +
                              (row.channel.empty() ? "1" : row.channel) + "|" + (row.frame.empty() ? "1" : row.frame);
      auto [it, inserted] = seen.emplace(key, row.line);
      if (!inserted)
        problem(row.line, "duplicate of line " + std::to_string(it->second) + " (same file, channel and frame)");
    }
    char id[16];
    std::snprintf(id, sizeof id, "%04d_", row.row);
    row.stack_id = id + sanitised_stem(row.path);
    sheet.rows.push_back(std::move(row));
  }
  return sheet;
}

}  // namespace spinescope
