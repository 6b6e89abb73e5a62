// Reading a batch output folder (stacks.csv, dendrites.csv, spines.csv) into neurons and groups.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <tuple>

#include <boost/filesystem.hpp>

#include "spinescope/errors.hpp"
#include "spinescope/io.hpp"
#include "spinescope/stats.hpp"

namespace spinescope::stats {

const std::array<const char*, kSpineTypes> kSpineTypeNames = {"stubby", "mushroom", "thin", "filopodium"};

namespace {

namespace fs = boost::filesystem;

double parse_number(const std::string& text) {
  if (text.empty()) return kNaN;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (errno != 0 || end != text.c_str() + text.size()) return kNaN;
  return v;
}

// Column index of @p name, or an InputError naming the file and the column.
int require_column(const CsvTable& t, const std::string& file, const std::string& name) {
  const int c = t.column(name);
  if (c < 0) throw InputError(file, "missing column '" + name + "'");
  return c;
}

std::string field(const std::vector<std::string>& row, int column) { return column >= 0 ? row[column] : ""; }

int type_index(const std::string& name) {
  for (int t = 0; t < kSpineTypes; ++t)
    if (name == kSpineTypeNames[t]) return t;
  return -1;
}

}  // namespace

BatchData read_batch_folder(const std::string& dir) {
  BatchData data;
  data.dir = dir;
  const std::string stacks_csv = (fs::path(dir) / "stacks.csv").string();
  if (!fs::exists(stacks_csv))
    throw InputError(stacks_csv, "not found: is " + dir + " a `spinescope batch` output folder?", kExitNoInput);
  const CsvTable stacks = read_csv(stacks_csv);
  const int c_group = require_column(stacks, stacks_csv, "group");
  const int c_animal = require_column(stacks, stacks_csv, "animal");
  const int c_neuron = require_column(stacks, stacks_csv, "neuron");
  const int c_status = require_column(stacks, stacks_csv, "status");
  const int c_length = require_column(stacks, stacks_csv, "dendrite_length_um");
  const int c_spines = require_column(stacks, stacks_csv, "spine_count");
  const int c_id = stacks.column("stack_id"), c_path = stacks.column("path"), c_error = stacks.column("error");
  const int c_overlay = stacks.column("overlay"), c_forks = stacks.column("branch_points");

  using NeuronKey = std::tuple<std::string, std::string, std::string>;
  std::map<NeuronKey, int> neuron_index;
  std::map<std::string, int> ok_stack_neuron;  // stack_id -> neuron index, ok stacks only
  for (std::size_t r = 0; r < stacks.rows.size(); ++r) {
    const auto& row = stacks.rows[r];
    StackRecord s;
    s.stack_id = field(row, c_id);
    s.path = field(row, c_path);
    s.group = row[c_group];
    s.animal = row[c_animal];
    s.neuron = row[c_neuron];
    s.status = row[c_status];
    s.error = field(row, c_error);
    s.overlay = field(row, c_overlay);
    s.dendrite_length_um = parse_number(row[c_length]);
    s.spine_count = parse_number(row[c_spines]);
    s.branch_points = c_forks >= 0 ? parse_number(field(row, c_forks)) : kNaN;
    if (std::find(data.groups.begin(), data.groups.end(), s.group) == data.groups.end()) data.groups.push_back(s.group);
    if (s.ok()) {
      if (!(s.dendrite_length_um >= 0.0) || !(s.spine_count >= 0.0))
        throw InputError(stacks_csv, "line " + std::to_string(stacks.line_numbers[r]) +
                                         ": status ok but dendrite_length_um or spine_count is not a number");
      const NeuronKey key{s.group, s.animal, s.neuron};
      auto it = neuron_index.find(key);
      if (it == neuron_index.end()) {
        it = neuron_index.emplace(key, static_cast<int>(data.neurons.size())).first;
        NeuronRecord n;
        n.group = s.group, n.animal = s.animal, n.neuron = s.neuron;
        data.neurons.push_back(n);
      }
      NeuronRecord& n = data.neurons[it->second];
      n.length_um += s.dendrite_length_um;
      n.spines += s.spine_count;
      ++n.stacks;
      if (!s.stack_id.empty()) ok_stack_neuron[s.stack_id] = it->second;
    }
    data.stacks.push_back(s);
  }

  // Neuron of a dendrites.csv / spines.csv row: by stack_id when both files have it, else by the sheet columns.
  auto neuron_of = [&](const CsvTable& t, const std::vector<std::string>& row) -> int {
    const int c_sid = t.column("stack_id");
    if (c_sid >= 0 && c_id >= 0) {
      const auto it = ok_stack_neuron.find(row[c_sid]);
      return it == ok_stack_neuron.end() ? -1 : it->second;
    }
    const int g = t.column("group"), a = t.column("animal"), n = t.column("neuron");
    if (g < 0 || a < 0 || n < 0) return -1;
    const auto it = neuron_index.find({row[g], row[a], row[n]});
    return it == neuron_index.end() ? -1 : it->second;
  };

  const std::string dendrites_csv = (fs::path(dir) / "dendrites.csv").string();
  bool types_from_dendrites = false;
  if (fs::exists(dendrites_csv)) {
    const CsvTable t = read_csv(dendrites_csv);
    data.has_dendrites_csv = true;
    const int c_len = require_column(t, dendrites_csv, "length_um");
    const int c_cnt = require_column(t, dendrites_csv, "spine_count");
    std::array<int, kSpineTypes> c_type{};
    types_from_dendrites = true;
    for (int k = 0; k < kSpineTypes; ++k) {
      c_type[k] = t.column(std::string(kSpineTypeNames[k]) + "_count");
      types_from_dendrites = types_from_dendrites && c_type[k] >= 0;
    }
    for (const auto& row : t.rows) {
      const int n = neuron_of(t, row);
      if (n < 0) continue;
      const double len = parse_number(row[c_len]), cnt = parse_number(row[c_cnt]);
      if (len > 0.0 && cnt >= 0.0) data.dendrite_densities.emplace_back(n, cnt / len);
      if (types_from_dendrites)
        for (int k = 0; k < kSpineTypes; ++k) {
          const double v = parse_number(row[c_type[k]]);
          if (v >= 0.0) data.neurons[n].type_counts[k] += v;
        }
    }
  } else {
    data.notes.push_back("no dendrites.csv: dendrite-level mixed model not fitted");
  }

  const std::string spines_csv = (fs::path(dir) / "spines.csv").string();
  if (fs::exists(spines_csv)) {
    const CsvTable t = read_csv(spines_csv);
    data.has_spines_csv = true;
    const int c_head = require_column(t, spines_csv, "head_diameter_um");
    const int c_type = t.column("type");
    for (const auto& row : t.rows) {
      const int n = neuron_of(t, row);
      if (n < 0) continue;
      const double d = parse_number(row[c_head]);
      if (std::isfinite(d)) data.head_diameters_um[data.neurons[n].group].push_back(d);
      if (!types_from_dendrites && c_type >= 0) {
        const int k = type_index(row[c_type]);
        if (k >= 0) data.neurons[n].type_counts[k] += 1.0;
      }
    }
  } else {
    data.notes.push_back("no spines.csv: head-diameter distributions not compared");
  }

  // Neurons without any measured dendrite have no density: dropped, and said so.
  std::vector<NeuronRecord> kept;
  std::map<int, int> remap;
  for (std::size_t i = 0; i < data.neurons.size(); ++i) {
    if (data.neurons[i].length_um > 0.0) {
      remap[static_cast<int>(i)] = static_cast<int>(kept.size());
      kept.push_back(data.neurons[i]);
    } else {
      const auto& n = data.neurons[i];
      data.notes.push_back("neuron " + n.group + "/" + n.animal + "/" + n.neuron +
                           " has no dendrite length in its ok stacks: left out");
    }
  }
  std::vector<std::pair<int, double>> dendrites;
  for (const auto& [n, d] : data.dendrite_densities)
    if (remap.count(n)) dendrites.emplace_back(remap[n], d);
  data.neurons = std::move(kept);
  data.dendrite_densities = std::move(dendrites);
  return data;
}

}  // namespace spinescope::stats
