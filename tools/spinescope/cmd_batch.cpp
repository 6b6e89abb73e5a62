// spinescope batch: every stack of a sample sheet, resumable, failures isolated, merged tables at the end.
#include <cstdio>
#include <string>

#include "args.hpp"
#include "commands.hpp"
#include "stats_cli.hpp"
#include "terminal.hpp"
#include "spinescope/batch.hpp"
#include "spinescope/errors.hpp"
#include "spinescope/io.hpp"
#include "spinescope/threads.hpp"

namespace spinescope::cli {

namespace {

const char* kHelp =
    "usage: spinescope batch SHEET.csv --out DIR [--jobs N] [--resume] [--dry-run] [--only ROW] [options]\n"
    "\n"
    "Analyses every stack listed in a sample sheet, several at a time, each in its own output folder, then\n"
    "merges the results into tables with the sheet's columns in front.\n"
    "\n"
    "The sample sheet is a CSV file with one row per stack and at least the columns\n"
    "  path     the stack (relative paths are relative to the sheet's folder)\n"
    "  group    experimental group, e.g. control / treated\n"
    "  animal   animal id (statistics treat neurons of one animal as related)\n"
    "  neuron   neuron id\n"
    "and optionally, per row, channel (1 = first), frame (1 = first) and voxel_size_um (\"x,y,z\" in um),\n"
    "which override --channel, --frame, --voxel-size for that stack. Any other column (e.g. sex, age,\n"
    "dendrite, condition) is kept and carried into the outputs. A column whose name equals a known one only\n"
    "after trimming spaces and lower-casing ('Group ', 'AGE'), or is within 2 letter edits of one of 5 or more\n"
    "letters ('aminal', 'groups'), or is the start of one ('chan', 'voxel_size'), is refused as a likely\n"
    "typo. Known names: path, group, animal, neuron,\n"
    "channel, frame, voxel_size_um, dendrite, condition, sex, age, genotype, treatment. Columns named like an\n"
    "output column (stack_id, status, error, ...) are refused too.\n"
    "\n"
    "Before any work the sheet is checked: missing or misspelt columns, empty path/group/animal/neuron, missing\n"
    "files, duplicate rows (same file, channel and frame), bad channel/frame/voxel size; every problem is\n"
    "printed with its sheet line and nothing runs (exit 65).\n"
    "\n"
    "options:\n"
    "  --out DIR            results folder (required)\n"
    "  --jobs N             stacks analysed at the same time (default: as many as the threads and the memory\n"
    "                       budget allow; a stack needs about 20 bytes per voxel)\n"
    "  --memory-gb G        memory budget in GB (default: 75% of the physical memory); a stack estimated\n"
    "                       above it fails with that message\n"
    "  --threads N          use at most N threads in total (default: all cores)\n"
    "  --resume             skip stacks already done with the same input file (sha256), parameters and\n"
    "                       spinescope version; redo the rest (including failed stacks and any stack a killed\n"
    "                       run left half-done), then write the merged tables\n"
    "  --dry-run            check the sheet and read the header of every stack (size, voxel size, channels),\n"
    "                       print one line per problem and stop (exit 65 if any, 0 otherwise)\n"
    "  --only ROW           analyse sheet row ROW only (1 = first stack), e.g. as a SLURM array job:\n"
    "                         spinescope batch sheet.csv --out DIR --only $SLURM_ARRAY_TASK_ID\n"
    "                       then merge with: spinescope batch sheet.csv --out DIR --resume\n"
    "  --set STAGE.PARAM=V  change a parameter for every stack (repeatable); see 'spinescope stages'\n"
    "  --config FILE        parameters from a file of 'stage.param = value' lines\n"
    "  --voxel-size X,Y,Z   voxel size in um for stacks without one (the sheet's voxel_size_um wins)\n"
    "  --channel N, --frame N  defaults for the sheet's channel and frame columns\n"
    "  --control GROUP, --seed S, --bootstrap N  passed to the statistics run at the end (see 'spinescope\n"
    "                       stats --help'); stats.csv, stats.json and report.html are written into DIR\n"
    "  --quiet              no progress display\n"
    "\n"
    "writes into DIR:\n"
    "  stacks/<row>_<name>/  each stack's results (spines.csv, dendrites.csv, summary.json, labels.tif,\n"
    "                        trace.swc, overlay.png) and done.json, its completion record\n"
    "  stacks.csv            one row per stack: sheet columns, status (ok/failed), error, dendrite_length_um,\n"
    "                        spine_count, density_per_um, output_dir, overlay\n"
    "  spines.csv, dendrites.csv  every stack's rows with stack_id and the sheet columns in front\n"
    "  batch.json            version, parameters, counts and failures\n"
    "\n"
    "A stack that fails (corrupt file, missing voxel size, ...) is recorded with its error and the batch goes\n"
    "on; the exit status is then 1 and the failures are listed. A killed batch loses only the stacks in\n"
    "flight: rerun with --resume. Ctrl-C or SIGTERM (a SLURM time limit) stops the stacks in flight, keeps\n"
    "every finished one, merges nothing and exits 130; --resume then does the rest and merges.\n"
    "\n"
    "example: spinescope batch sheet.csv --out results --jobs 2 --resume\n";

/// `spinescope stats` on the merged tables of a complete batch. A study that cannot be tested (one group, too
/// few animals, no stack done) is reported, not an error of the batch.
void run_stats_after_batch(const Args& args, const std::string& out_dir) {
  try {
    print_stats_summary(stats::run_stats(out_dir, stats_options(args, stats::StatsOptions{})), out_dir);
  } catch (const ParameterError&) {
    throw;
  } catch (const Error& e) {
    std::fprintf(stderr, "spinescope batch: statistics not computed: %s\n", e.what());
  }
}

}  // namespace

int cmd_batch(int argc, char** argv) {
  Args args(argc, argv,
            {"out", "jobs", "set", "config", "threads", "memory-gb", "only", "voxel-size", "channel", "frame", "control",
             "seed", "bootstrap"},
            {"resume", "dry-run", "quiet"});
  if (args.has("help")) {
    std::printf("%s", kHelp);
    return 0;
  }
  if (args.positional().size() != 1)
    throw ParameterError(args.positional().empty() ? "no sample sheet given (usage: spinescope batch SHEET.csv --out DIR)"
                                                   : "expected one sample sheet, got " +
                                                         std::to_string(args.positional().size()));
  BatchOptions options;
  options.sheet = args.positional()[0];
  options.out_dir = args.value("out");
  if (options.out_dir.empty() && !args.has("dry-run")) throw ParameterError("no output folder given (--out DIR)");
  if (args.has("config")) options.params.load_file(args.value("config"));
  for (const auto& s : args.values("set")) options.params.set_assignment(s);
  if (args.has("voxel-size")) options.params.set("load.voxel_size_um", args.value("voxel-size"));
  if (args.has("channel")) options.params.set("load.channel", args.value("channel"));
  if (args.has("frame")) options.params.set("load.frame", args.value("frame"));
  options.jobs = static_cast<int>(args.number("jobs", 0, 1, 1024));
  options.memory_gb = args.number("memory-gb", 0, 0.01, 1e6);
  options.only_row = static_cast<int>(args.number("only", 0, 1, 1e9));
  options.resume = args.has("resume");
  const int threads = static_cast<int>(args.number("threads", 0, 0, 1024));
  const bool quiet = args.has("quiet");

  ThreadLimit limit(threads);
  const bool dry_run = args.has("dry-run");
  const std::vector<std::string> problems = check_batch(options, dry_run);
  for (const auto& p : problems) std::fprintf(stderr, "%s\n", p.c_str());
  if (!problems.empty()) {
    std::fprintf(stderr, "spinescope batch: %zu problem(s) in %s; nothing was run\n", problems.size(),
                 options.sheet.c_str());
    return kExitDataError;
  }
  if (dry_run) {
    std::printf("%s: sheet and stack headers OK\n", options.sheet.c_str());
    return 0;
  }

  ProgressBar bar("batch", quiet);
  std::string status;  // the last finished stack's line (progress calls are serialised)
  options.on_progress = [&bar, &status, quiet](const BatchProgress& p) {
    char buf[256];
    if (p.finished) {
      const StackResult& r = *p.finished;
      if (r.status == "ok")
        std::snprintf(buf, sizeof buf, "[%d/%d] %s: %s%ld spines on %.1f um of dendrite; %ld spines in all", p.done,
                      p.total, r.stack_id.c_str(), r.reused ? "done before, " : "", r.spine_count,
                      r.dendrite_length_um, p.spines);
      else
        std::snprintf(buf, sizeof buf, "[%d/%d] %s: FAILED: %s", p.done, p.total, r.stack_id.c_str(),
                      r.error.c_str());
      status = buf;
    } else if (status.empty()) {
      std::snprintf(buf, sizeof buf, "[0/%d] running", p.total);
      status = buf;
    }
    if (!quiet) bar.update(p.fraction, status);
  };
  options.cancel = interrupt_flag();
  const BatchResult result = run_batch(options);
  bar.finish();
  if (result.interrupted > 0) {
    // Finished stacks (this run's and earlier ones) are in place; merging waits for a complete run.
    std::printf("interrupted: %d of %d stack(s) finished, %d not; continue with: spinescope batch %s --out %s "
                "--resume\n",
                result.ok, static_cast<int>(result.stacks.size()), result.interrupted, options.sheet.c_str(),
                options.out_dir.c_str());
    return kExitInterrupted;
  }

  std::printf("%d stack(s): %d ok (%d done before), %d failed; %ld spines; up to %d at a time (budget %.1f GB)\n",
              static_cast<int>(result.stacks.size()), result.ok, result.reused, result.failed, result.spines,
              result.jobs, result.memory_budget_gb);
  for (const auto& r : result.stacks)
    if (r.status == "failed") std::printf("  failed: %s (%s): %s\n", r.stack_id.c_str(), r.path.c_str(), r.error.c_str());
  if (result.merged) {
    std::printf("results: %s/stacks.csv, spines.csv, dendrites.csv, batch.json\n", options.out_dir.c_str());
    run_stats_after_batch(args, options.out_dir);
  } else {
    std::printf("row %d done; merge all rows with: spinescope batch %s --out %s --resume\n", options.only_row,
                options.sheet.c_str(), options.out_dir.c_str());
  }
  return result.failed > 0 ? kExitFailure : kExitOk;
}

}  // namespace spinescope::cli
