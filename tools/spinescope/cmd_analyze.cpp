// spinescope analyze: one stack through load -> preprocess -> dendrites -> spines -> classify -> report.
#include <cstdio>
#include <map>

#include <boost/filesystem.hpp>

#include "args.hpp"
#include "commands.hpp"
#include "terminal.hpp"
#include "spinescope/dendrite_graph.hpp"
#include "spinescope/errors.hpp"
#include "spinescope/registry.hpp"
#include "spinescope/spine.hpp"
#include "spinescope/threads.hpp"

namespace spinescope::cli {

namespace {

const char* kHelp =
    "usage: spinescope analyze STACK.tif [--out DIR] [options]\n"
    "\n"
    "Finds the dendrites and dendritic spines in one confocal z-stack and measures them in micrometres:\n"
    "dendrite length, spine density per um, and per spine its head diameter, neck length, length,\n"
    "volume and type (stubby, mushroom, thin, filopodium).\n"
    "\n"
    "The voxel size is read from the file (ImageJ or OME-TIFF metadata). If the file has none, give it\n"
    "with --voxel-size; spinescope never guesses it.\n"
    "\n"
    "options:\n"
    "  --out DIR            output folder (default: STACK_spinescope beside the stack)\n"
    "  --voxel-size X,Y,Z   voxel size in um, e.g. 0.1,0.1,0.35 (overrides the file's)\n"
    "  --channel N          channel to analyse in a multi-channel stack (1 = first)\n"
    "  --frame N            time point to analyse in a time series (1 = first)\n"
    "  --set STAGE.PARAM=V  change a parameter (repeatable); 'spinescope stages' lists them all\n"
    "  --config FILE        parameters from a file of 'stage.param = value' lines\n"
    "  --threads N          use at most N threads (default: all cores)\n"
    "  --quiet              no progress display\n"
    "  --timings            print the wall time of each stage (to stderr)\n"
    "\n"
    "writes into DIR: spines.csv (one row per spine), dendrites.csv (length, density and branch points per\n"
    "dendrite), summary.json (parameters, input checksum, voxel size and its source), labels.tif (open in\n"
    "Fiji or napari: 1 = dendrite shaft, spine k = k + 2), trace.swc (the dendrite centerline) and\n"
    "overlay.png (a maximum projection with the trace, the spines coloured by type and the branch points\n"
    "ringed: check it; where the dendrites you image do not branch, a branch point is where two touched).\n"
    "\n"
    "example: spinescope analyze cell01.tif --out cell01_results --voxel-size 0.1,0.1,0.35\n";

}  // namespace

int cmd_analyze(int argc, char** argv) {
  Args args(argc, argv, {"out", "voxel-size", "channel", "frame", "set", "config", "threads"}, {"quiet", "timings"});
  if (args.has("help")) {
    std::printf("%s", kHelp);
    return 0;
  }
  if (args.positional().size() != 1)
    throw ParameterError(args.positional().empty() ? "no stack given (usage: spinescope analyze STACK.tif)"
                                                   : "expected one stack, got " +
                                                         std::to_string(args.positional().size()));
  const std::string stack = args.positional()[0];
  namespace fs = boost::filesystem;
  std::string out = args.value("out");
  if (out.empty()) {
    const fs::path p(stack);
    out = (p.parent_path() / (p.stem().string() + "_spinescope")).string();
  }

  ParamSet params;
  if (args.has("config")) params.load_file(args.value("config"));
  for (const auto& s : args.values("set")) params.set_assignment(s);
  if (args.has("voxel-size")) params.set("load.voxel_size_um", args.value("voxel-size"));
  if (args.has("channel")) params.set("load.channel", args.value("channel"));
  if (args.has("frame")) params.set("load.frame", args.value("frame"));
  const int threads = static_cast<int>(args.number("threads", 0, 0, 1024));

  ThreadLimit limit(threads);
  // Declare, then run: every parameter and the stage chain are checked before the file is opened.
  const Pipeline pipeline = Pipeline::from_names(default_chain(), params);
  pipeline.validate();

  StackInfo info;
  info.path = stack;
  info.output_dir = out;
  Context ctx(info);
  ctx.set_cancel_flag(interrupt_flag());
  ProgressBar bar(fs::path(stack).filename().string(), args.has("quiet"));
  StageTimer timer;
  ctx.set_progress_sink([&bar, &timer](const Progress& p) {
    bar.update(p.overall, p.stage);
    timer.observe(p.stage);
  });
  pipeline.run(ctx);
  timer.observe("");
  bar.finish();
  if (args.has("timings")) std::fprintf(stderr, "%s", timer.table().c_str());

  const auto& graph = ctx.get<DendriteGraph>(artifacts::kDendriteGraph);
  const auto& spines = ctx.get<std::vector<Spine>>(artifacts::kSpines);
  const double length_um = graph.total_length_um();
  std::map<SpineType, int> by_type;
  for (const auto& s : spines) ++by_type[s.type];
  const std::size_t forks = graph.branch_points().size();
  const std::string fork_text =
      forks == 0 ? "" : " (" + std::to_string(forks) + (forks == 1 ? " branch point" : " branch points") + ")";
  std::printf("%s: dendrite length %.1f um%s, %zu spines, density %.3f /um (stubby %d, mushroom %d, thin %d, "
              "filopodium %d) -> %s\n",
              stack.c_str(), length_um, fork_text.c_str(), spines.size(),
              length_um > 0 ? spines.size() / length_um : 0.0, by_type[SpineType::kStubby],
              by_type[SpineType::kMushroom], by_type[SpineType::kThin], by_type[SpineType::kFilopodium], out.c_str());
  return 0;
}

}  // namespace spinescope::cli
