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
    "  --name PREFIX          file name prefix (default sample)\n"
    "  --from-mesh FOLDER     image a real dendrite (surface_mesh.off + spine_<k>.off); repeatable; the\n"
    "                         stack size follows the mesh; files are PREFIX_<folder>_seedS.*\n"
    "  --no-noise             write the noiseless expected image (counts = photons * gain + offset)\n"
    "  --help                 this text\n";

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
         std::to_string(s.puncta.size()) + " puncta";
}

int run(int argc, char** argv) {
  const cli::Args args(argc, argv,
                       {"out", "count", "seed", "size", "voxel-size", "photons", "density", "name", "from-mesh"},
                       {"no-noise"});
  if (args.has("help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!args.positional().empty())
    throw ParameterError("unexpected argument '" + args.positional().front() + "' (see --help)");
  if (!args.has("out")) throw ParameterError("--out DIR is required (see --help)");
  const std::string out_dir = args.value("out");
  const int count = static_cast<int>(args.number("count", 1, 1, 10000));
  const double seed_value = args.number("seed", 1, 0, 9.0e15);
  if (seed_value != std::floor(seed_value)) throw ParameterError("option --seed: must be a whole number");
  const std::uint64_t first_seed = static_cast<std::uint64_t>(seed_value);
  const std::string prefix = args.value("name", "sample");
  if (prefix.empty() || prefix.find('/') != std::string::npos)
    throw ParameterError("option --name=" + prefix + ": must be a non-empty file name without '/'");

  gen::GeneratorConfig cfg;
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
  cfg.imaging.noise = !args.has("no-noise");

  const auto meshes = args.values("from-mesh");
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
      const gen::GeneratedStack s = gen::render_mesh_folder(folder, cfg.imaging);
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
