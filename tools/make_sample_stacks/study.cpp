// A generated study: seeded biological variation over groups × animals × neurons, its stacks, sheet and truth.
#include "tools/make_sample_stacks/study.hpp"

#include <algorithm>
#include <boost/filesystem.hpp>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include "spinescope/errors.hpp"
#include "spinescope/io.hpp"
#include "tools/make_sample_stacks/render.hpp"

namespace spinescope::gen {
namespace {

constexpr std::uint64_t kFactorStream = 0x57d7;  // random stream of the animal and neuron factors
constexpr std::uint64_t kStackStream = 0x57ac;   // stack seeds: mix_seed(mix_seed(seed, kStackStream), index)

void bad(const std::string& key, const std::string& value, const std::string& why) {
  throw ParameterError("option --" + key + "=" + value + ": " + why);
}

bool usable_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  return true;
}

}  // namespace

GeneratorConfig default_study_generator() {
  GeneratorConfig cfg;
  cfg.imaging.nx = 192;
  cfg.imaging.ny = 192;
  cfg.imaging.nz = 24;
  cfg.spine_density_per_um = 0.5;
  cfg.min_spine_gap_um = 0.8;
  cfg.min_dendrites = 2;
  cfg.max_dendrites = 2;
  return cfg;
}

double saturation_density_per_um(const GeneratorConfig& config) { return 1.0 / (1.25 * config.min_spine_gap_um); }

std::vector<StudyStackTruth> plan_study(const StudyConfig& config) {
  if (config.groups.size() < 1 || config.groups.size() > 20) bad("groups", std::to_string(config.groups.size()), "need 1 to 20 groups");
  std::set<std::string> seen;
  for (const std::string& g : config.groups) {
    if (!usable_name(g)) bad("groups", g, "a group name is 1-64 letters, digits, '-' or '_'");
    if (!seen.insert(g).second) bad("groups", g, "the group is listed twice");
  }
  if (!(config.effect >= 0.1 && config.effect <= 3.0)) bad("effect", format_number(config.effect), "must be in [0.1, 3]");
  if (config.animals < 1 || config.animals > 100) bad("animals", std::to_string(config.animals), "must be in [1, 100]");
  if (config.neurons < 1 || config.neurons > 100) bad("neurons", std::to_string(config.neurons), "must be in [1, 100]");
  if (!(config.animal_sd >= 0 && config.animal_sd <= 1)) bad("animal-sd", format_number(config.animal_sd), "must be in [0, 1]");
  if (!(config.neuron_sd >= 0 && config.neuron_sd <= 1)) bad("neuron-sd", format_number(config.neuron_sd), "must be in [0, 1]");
  const double control = config.base.spine_density_per_um;
  const double top = control * (config.groups.size() > 1 ? std::max(1.0, config.effect) : 1.0);
  if (!(control > 0) || top > saturation_density_per_um(config.base))
    bad("density", format_number(control),
        "the control density (x effect " + format_number(config.effect) + ") must be in (0, " +
            format_number(saturation_density_per_um(config.base), 4) +
            "] per um: denser spine bases cannot be placed min_spine_gap_um = " +
            format_number(config.base.min_spine_gap_um) + " um apart, so the effect would not be realised");

  detail::Random rng(detail::mix_seed(config.seed, kFactorStream));
  const std::uint64_t stack_seeds = detail::mix_seed(config.seed, kStackStream);
  std::vector<StudyStackTruth> plan;
  for (std::size_t g = 0; g < config.groups.size(); ++g) {
    for (int a = 1; a <= config.animals; ++a) {
      const double animal_factor = std::exp(config.animal_sd * rng.normal());
      for (int n = 1; n <= config.neurons; ++n) {
        StudyStackTruth t;
        t.group = config.groups[g];
        t.animal = t.group + "-" + std::to_string(a);
        t.neuron = "n" + std::to_string(n);
        t.file = t.group + "_a" + std::to_string(a) + "_n" + std::to_string(n) + ".tif";
        t.seed = detail::mix_seed(stack_seeds, plan.size()) >> 12;  // < 2^52: exact in JSON, CSV and doubles
        t.animal_factor = animal_factor;
        t.neuron_factor = std::exp(config.neuron_sd * rng.normal());
        t.nominal_density_per_um = control * (g == 0 ? 1.0 : config.effect) * animal_factor * t.neuron_factor;
        plan.push_back(t);
      }
    }
  }
  return plan;
}

std::vector<StudyStackTruth> write_study(
    const std::string& dir, const StudyConfig& config,
    const std::function<void(const StudyStackTruth&, const GeneratedStack&)>& on_stack) {
  std::vector<StudyStackTruth> plan = plan_study(config);
  detail::validate_imaging(config.base.imaging);
  boost::system::error_code ec;
  boost::filesystem::create_directories(dir, ec);
  if (ec) throw OutputError(dir, "cannot create the study folder: " + ec.message());

  std::string sheet = "path,group,animal,neuron\n";
  std::string truth =
      "path,group,animal,neuron,seed,animal_factor,neuron_factor,nominal_density_per_um,truth_spines,"
      "truth_length_um,truth_density_per_um\n";
  for (StudyStackTruth& t : plan) {
    GeneratorConfig cfg = config.base;
    cfg.imaging.seed = t.seed;
    // Above saturation (a random factor can push a treated neuron there) the gap process realises less; the
    // truth below records what was rendered, so the nominal value need not be exact.
    cfg.spine_density_per_um = std::min(t.nominal_density_per_um, 5.0);
    const GeneratedStack s = generate_stack(cfg);
    const std::string stem = t.file.substr(0, t.file.size() - 4);
    write_generated((boost::filesystem::path(dir) / stem).string(), s);
    t.spines = static_cast<int>(s.spines.size());
    t.length_um = 0.0;
    for (const DendriteTruth& d : s.dendrites) t.length_um += d.length_um;
    sheet += csv_field(t.file) + "," + csv_field(t.group) + "," + csv_field(t.animal) + "," + csv_field(t.neuron) + "\n";
    truth += csv_field(t.file) + "," + csv_field(t.group) + "," + csv_field(t.animal) + "," + csv_field(t.neuron) +
             "," + std::to_string(t.seed) + "," + format_number(t.animal_factor, 7) + "," +
             format_number(t.neuron_factor, 7) + "," + format_number(t.nominal_density_per_um, 7) + "," +
             std::to_string(t.spines) + "," + format_number(t.length_um, 7) + "," +
             format_number(t.density_per_um(), 7) + "\n";
    if (on_stack) on_stack(t, s);
  }
  write_file_atomic((boost::filesystem::path(dir) / "truth_study.csv").string(), truth);
  write_file_atomic((boost::filesystem::path(dir) / "sheet.csv").string(), sheet);
  return plan;
}

std::vector<StudyGroupTruth> study_group_truth(const std::vector<StudyStackTruth>& stacks,
                                               const std::vector<std::string>& groups) {
  std::vector<StudyGroupTruth> out;
  for (const std::string& g : groups) {
    // animal -> (sum of neuron densities, neurons); std::map keeps the sum order fixed.
    std::map<std::string, std::pair<double, int>> animals;
    for (const StudyStackTruth& t : stacks) {
      if (t.group != g || !(t.length_um > 0)) continue;
      auto& a = animals[t.animal];
      a.first += t.density_per_um();
      a.second += 1;
    }
    StudyGroupTruth r;
    r.group = g;
    for (const auto& a : animals) r.mean_density_per_um += a.second.first / a.second.second;
    if (!animals.empty()) r.mean_density_per_um /= static_cast<double>(animals.size());
    out.push_back(r);
  }
  for (StudyGroupTruth& r : out)
    r.ratio_to_control = out.front().mean_density_per_um > 0 ? r.mean_density_per_um / out.front().mean_density_per_um
                                                             : 0.0;
  return out;
}

}  // namespace spinescope::gen
