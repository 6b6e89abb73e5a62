// make-sample-stacks: ground-truth confocal stacks (random scenes or real meshes) with their truth files.
#include <algorithm>
#include <boost/filesystem.hpp>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <new>
#include <string>
#include <vector>

#include "spinescope/errors.hpp"
#include "spinescope/io.hpp"
#include "tools/make_sample_stacks/generator.hpp"
#include "tools/make_sample_stacks/study.hpp"
#include "tools/spinescope/args.hpp"

namespace {

namespace fs = boost::filesystem;
using namespace spinescope;

const char kUsage[] =
    "usage: make-sample-stacks --out DIR [options]\n"
    "\n"
    "Renders confocal-like z-stacks of dendrites with spines of known shape (or real dendrite meshes) and\n"
    "writes DIR/PREFIX_seedS.tif with PREFIX_seedS.spines.csv, .dendrites.csv, .centerline.csv, .puncta.csv.\n"
    "\n"
    "options:\n"
    "  --out DIR              output folder (created)\n"
    "  --count N              stacks to make, seeds S, S+1, ... (default 1)\n"
    "  --seed S               first seed (default 1)\n"
    "  --size NX,NY,NZ        voxels (default 256,256,32)\n"
    "  --voxel-size X,Y,Z     um (default 0.1,0.1,0.35)\n"
    "  --photons P            expected photons per voxel inside a thick dendrite (default 120)\n"
    "  --density D            mean spines per um of dendrite (default 1.0)\n"
    "  --ends-inside P        chance that a dendrite ends inside the stack, at a round tip, instead of\n"
    "                         running from face to face (default 0)\n"
    "  --interpenetrate       let dendrites pass through one another, the geometry of earlier stacks (a\n"
    "                         seed then gives the stack it gave before touching became the default); by\n"
    "                         default dendrites cross and touch but never share space, as real ones\n"
    "  --touch-only           the default geometry, named (kept for older scripts)\n"
    "  --name PREFIX          file name prefix (default sample)\n"
    "  --from-mesh FOLDER     image a real dendrite (surface_mesh.off + spine_<k>.off); repeatable; the\n"
    "                         stack size follows the mesh; files are PREFIX_<folder>_seedS.*; the\n"
    "                         dendrite truth is the mesh's own skeleton (side branches of 3 um or more)\n"
    "  --mesh-z-scale S|auto  multiply the meshes' z by S first (default 1); auto divides by the shaft's\n"
    "                         height/width ratio, for meshes segmented from confocal stacks (their axial\n"
    "                         blur would otherwise be imaged twice)\n"
    "  --no-noise             write the noiseless expected image (counts = photons * gain + offset)\n"
    "  --help                 this text\n"
    "\n"
    "usage: make-sample-stacks --study DIR [--groups control,drug] [--effect 1.4] [--animals 3] [--neurons 2]\n"
    "                          [--seed S] [--size NX,NY,NZ] [--density D] [other options above]\n"
    "\n"
    "A generated treated-vs-control study: one stack per group x animal x neuron, DIR/<group>_a<k>_n<m>.tif\n"
    "with its truth files, DIR/sheet.csv (path,group,animal,neuron; the input of 'spinescope batch') and\n"
    "DIR/truth_study.csv (per stack: seed, random factors, nominal density, truth spines, truth length, truth\n"
    "density). Nominal density = D (control) x effect (every group after the first) x animal factor x neuron\n"
    "factor, the factors lognormal with median 1. The realised truth density is lower than nominal (spines that\n"
    "would touch are dropped), so the true effect is the ratio of realised group means printed at the end.\n"
    "\n"
    "study options:\n"
    "  --groups A,B,...       group names, the first is the control (default control,drug)\n"
    "  --effect E             density multiplier of the groups after the first (default 1.4)\n"
    "  --animals N            animals per group (default 3); animal ids <group>-<k>\n"
    "  --neurons N            neurons per animal, one stack each (default 2); neuron ids n<m>\n"
    "  --animal-sd S          sd of the animal factor on log scale (default 0.08)\n"
    "  --neuron-sd S          sd of the neuron factor on log scale (default 0.05)\n"
    "  --seed S               study seed (default 1); the same seed with another effect gives the same\n"
    "                         animals, neurons and dendrites\n"
    "  --size NX,NY,NZ        voxels per stack (default 192,192,24)\n"
    "  --density D            control density per um of dendrite (default 0.5; D x effect at most 1)\n";

std::vector<double> number_list(const cli::Args& args, const std::string& option, std::size_t count) {
  const std::string text = args.value(option);
  std::vector<double> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, comma - pos);
    errno = 0;
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    if (item.empty() || errno != 0 || end != item.c_str() + item.size() || !(v > 0) || !std::isfinite(v))
      throw ParameterError("option --" + option + "=" + text + ": expected " + std::to_string(count) +
                           " positive numbers separated by commas");
    out.push_back(v);
    pos = comma + 1;
  }
  if (out.size() != count)
    throw ParameterError("option --" + option + "=" + text + ": expected " + std::to_string(count) + " numbers");
  return out;
}

std::string summary(const std::string& name, const gen::GeneratedStack& s) {
  std::map<std::string, int> by_type;
  for (const auto& t : s.spines) ++by_type[t.type];
  std::string types;
  for (const char* t : {"thin", "mushroom", "stubby", "filopodium", "unknown"})
    if (by_type.count(t)) types += (types.empty() ? "" : ", ") + std::to_string(by_type[t]) + " " + t;
  double length = 0.0;
  bool known = true;
  for (const auto& d : s.dendrites) {
    if (std::isnan(d.length_um))
      known = false;
    else
      length += d.length_um;
  }
  return name + ": " + std::to_string(s.image.nx()) + "x" + std::to_string(s.image.ny()) + "x" +
         std::to_string(s.image.nz()) + ", " + std::to_string(s.spines.size()) + " spines (" + types + "), " +
         std::to_string(s.dendrites.size()) + " dendrite(s) " +
         (known ? format_number(length, 4) + " um" : std::string("of unknown length")) + ", " +
         std::to_string(s.puncta.size()) + " puncta" +
         (s.mesh_z_scale != 1.0 ? ", mesh z scaled by " + format_number(s.mesh_z_scale, 3) : std::string());
}

/// Applies the options shared by random stacks and studies to @p cfg.
void apply_stack_options(const cli::Args& args, gen::GeneratorConfig& cfg) {
  if (args.has("size")) {
    const auto n = number_list(args, "size", 3);
    for (double v : n)
      if (v != std::floor(v) || v > 100000) throw ParameterError("option --size: whole numbers of voxels expected");
    cfg.imaging.nx = static_cast<std::size_t>(n[0]);
    cfg.imaging.ny = static_cast<std::size_t>(n[1]);
    cfg.imaging.nz = static_cast<std::size_t>(n[2]);
  }
  if (args.has("voxel-size")) {
    const auto v = number_list(args, "voxel-size", 3);
    cfg.imaging.spacing = Spacing{v[0], v[1], v[2]};
  }
  cfg.imaging.photons = args.number("photons", cfg.imaging.photons, 1, 1e5);
  cfg.spine_density_per_um = args.number("density", cfg.spine_density_per_um, 0, 5);
  cfg.ends_inside_fraction = args.number("ends-inside", cfg.ends_inside_fraction, 0, 1);
  if (args.has("touch-only") && args.has("interpenetrate"))
    throw ParameterError("options --touch-only and --interpenetrate contradict each other");
  cfg.touch_only = !args.has("interpenetrate");
  cfg.imaging.noise = !args.has("no-noise");
}

std::uint64_t seed_option(const cli::Args& args) {
  const double seed_value = args.number("seed", 1, 0, 9.0e15);
  if (seed_value != std::floor(seed_value)) throw ParameterError("option --seed: must be a whole number");
  return static_cast<std::uint64_t>(seed_value);
}

int whole_option(const cli::Args& args, const std::string& option, int fallback, int min, int max) {
  const double v = args.number(option, fallback, min, max);
  if (v != std::floor(v)) throw ParameterError("option --" + option + ": must be a whole number");
  return static_cast<int>(v);
}

std::vector<std::string> name_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    out.push_back(text.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

int run_study(const cli::Args& args) {
  for (const char* option : {"out", "count", "name", "from-mesh"})
    if (args.has(option)) throw ParameterError(std::string("option --") + option + " does not go with --study");
  const std::string dir = args.value("study");
  if (dir.empty()) throw ParameterError("option --study: a folder is required");
  gen::StudyConfig study;
  apply_stack_options(args, study.base);
  if (args.has("groups")) study.groups = name_list(args.value("groups"));
  study.effect = args.number("effect", study.effect, 0.1, 3.0);
  study.animals = whole_option(args, "animals", study.animals, 1, 100);
  study.neurons = whole_option(args, "neurons", study.neurons, 1, 100);
  study.animal_sd = args.number("animal-sd", study.animal_sd, 0, 1);
  study.neuron_sd = args.number("neuron-sd", study.neuron_sd, 0, 1);
  study.seed = seed_option(args);

  const auto stacks = gen::write_study(dir, study, [](const gen::StudyStackTruth& t, const gen::GeneratedStack& s) {
    std::printf("%s (%s %s %s): nominal %s/um, truth %s/um\n", summary(t.file, s).c_str(), t.group.c_str(),
                t.animal.c_str(), t.neuron.c_str(), format_number(t.nominal_density_per_um, 3).c_str(),
                format_number(t.density_per_um(), 3).c_str());
    std::fflush(stdout);
  });
  for (const gen::StudyGroupTruth& g : gen::study_group_truth(stacks, study.groups))
    std::printf("group %s: truth density %s/um (mean of animal means), ratio to %s %s\n", g.group.c_str(),
                format_number(g.mean_density_per_um, 4).c_str(), study.groups.front().c_str(),
                format_number(g.ratio_to_control, 4).c_str());
  std::printf("wrote %s and %s\n", (fs::path(dir) / "sheet.csv").string().c_str(),
              (fs::path(dir) / "truth_study.csv").string().c_str());
  return 0;
}

int run(int argc, char** argv) {
  const cli::Args args(argc, argv,
                       {"out", "count", "seed", "size", "voxel-size", "photons", "density", "ends-inside", "name", "from-mesh",
                        "mesh-z-scale", "study", "groups", "effect", "animals", "neurons", "animal-sd", "neuron-sd"},
                       {"no-noise", "touch-only", "interpenetrate"});
  if (args.has("help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!args.positional().empty())
    throw ParameterError("unexpected argument '" + args.positional().front() + "' (see --help)");
  if (args.has("study")) return run_study(args);
  for (const char* option : {"groups", "effect", "animals", "neurons", "animal-sd", "neuron-sd"})
    if (args.has(option)) throw ParameterError(std::string("option --") + option + " needs --study DIR");
  if (!args.has("out")) throw ParameterError("--out DIR is required (see --help)");
  const std::string out_dir = args.value("out");
  const int count = static_cast<int>(args.number("count", 1, 1, 10000));
  const std::uint64_t first_seed = seed_option(args);
  const std::string prefix = args.value("name", "sample");
  if (prefix.empty() || prefix.find('/') != std::string::npos)
    throw ParameterError("option --name=" + prefix + ": must be a non-empty file name without '/'");

  gen::GeneratorConfig cfg;
  apply_stack_options(args, cfg);

  const auto meshes = args.values("from-mesh");
  double mesh_z_scale = 1.0;
  if (args.has("mesh-z-scale")) {
    if (meshes.empty()) throw ParameterError("option --mesh-z-scale needs --from-mesh");
    mesh_z_scale = args.value("mesh-z-scale") == "auto" ? gen::kAutoMeshZScale
                                                        : args.number("mesh-z-scale", 1.0, 1e-3, 100.0);
  }
  for (int n = 0; n < count; ++n) {
    const std::uint64_t seed = first_seed + static_cast<std::uint64_t>(n);
    cfg.imaging.seed = seed;
    if (meshes.empty()) {
      const std::string name = prefix + "_seed" + std::to_string(seed);
      const gen::GeneratedStack s = gen::generate_stack(cfg);
      gen::write_generated((fs::path(out_dir) / name).string(), s);
      std::printf("%s\n", summary(name, s).c_str());
    }
    for (const std::string& folder : meshes) {
      fs::path p(folder);
      if (p.filename() == "." || p.filename().empty()) p = p.parent_path();
      const std::string name = prefix + "_" + p.filename().string() + "_seed" + std::to_string(seed);
      const gen::GeneratedStack s = gen::render_mesh_folder(folder, cfg.imaging, mesh_z_scale);
      gen::write_generated((fs::path(out_dir) / name).string(), s);
      std::printf("%s\n", summary(name, s).c_str());
    }
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const spinescope::Error& e) {
    std::fprintf(stderr, "make-sample-stacks: %s\n", e.what());
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "make-sample-stacks: out of memory\n");
    return spinescope::kExitSoftware;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make-sample-stacks: internal error: %s\n", e.what());
    return spinescope::kExitSoftware;
  }
}
