// spinescope stats / spinescope report: group statistics and report.html from a batch output folder.
#include <cmath>
#include <cstdio>

#include "args.hpp"
#include "commands.hpp"
#include "stats_cli.hpp"
#include "spinescope/errors.hpp"
#include "spinescope/io.hpp"
#include "spinescope/report_html.hpp"
#include "spinescope/stats.hpp"

namespace spinescope::cli {

namespace {

const char* kStatsHelp =
    "usage: spinescope stats DIR [--control GROUP] [--seed S] [--bootstrap N]\n"
    "\n"
    "Group statistics of a `spinescope batch` output folder DIR (reads DIR/stacks.csv, and dendrites.csv and\n"
    "spines.csv when present). The animal is the unit of replication: a neuron's spine density is its spines\n"
    "divided by its dendrite length (summed over its stacks), an animal's density the mean of its neurons'.\n"
    "\n"
    "Each group is compared with the control group: animal-level Welch t-test and Mann-Whitney U, Hedges' g,\n"
    "a hierarchical bootstrap CI of the difference and ratio (animals, then neurons within animal), a linear\n"
    "mixed model density ~ group + (1 | animal) fitted by REML on neurons (and on dendrites with neuron nested),\n"
    "the same animal-level tests for the density of each spine type, and a DESCRIPTIVE Kolmogorov-Smirnov\n"
    "comparison of head diameters (spines are not independent). p-values are Benjamini-Hochberg adjusted\n"
    "within each family. A group with fewer than 2 animals is reported as 'not enough animals'.\n"
    "\n"
    "options:\n"
    "  --control GROUP   the control group (default: a group called control, ctrl or vehicle, in any\n"
    "                    letter case; otherwise the first group in the sample sheet)\n"
    "  --seed S          bootstrap seed (default 1; the same seed gives the same CIs)\n"
    "  --bootstrap N     bootstrap resamples, 100 to 1000000 (default 10000)\n"
    "\n"
    "writes DIR/stats.csv (one row per comparison x measure x test), DIR/stats.json (the same plus n at every\n"
    "level, the mixed-model fit and the rules used) and DIR/report.html (one self-contained page: open it in\n"
    "any browser).\n"
    "\n"
    "example: spinescope stats results --control vehicle\n";

const char* kReportHelp =
    "usage: spinescope report DIR [--control GROUP] [--seed S] [--bootstrap N]\n"
    "\n"
    "Rewrites DIR/report.html from a batch output folder (plots, statistics in words, overlay thumbnails and\n"
    "failed stacks). Without options it uses those recorded in DIR/stats.json by the last `spinescope stats`.\n";

std::string folder(const Args& args, const char* command) {
  if (args.positional().size() != 1)
    throw ParameterError(args.positional().empty()
                             ? std::string("no folder given (usage: spinescope ") + command + " DIR)"
                             : "expected one folder, got " + std::to_string(args.positional().size()));
  return args.positional()[0];
}

}  // namespace

stats::StatsOptions stats_options(const Args& args, stats::StatsOptions o) {
  if (args.has("control")) o.control = args.value("control");
  if (args.has("seed")) {
    const double seed = args.number("seed", 1, 0, 9007199254740992.0);  // 2^53: exact in a double
    if (std::floor(seed) != seed) throw ParameterError("option --seed=" + args.value("seed") + ": not a whole number");
    o.seed = static_cast<std::uint64_t>(seed);
  }
  if (args.has("bootstrap")) {
    const double n = args.number("bootstrap", 10000, 100, 1000000);
    if (std::floor(n) != n) throw ParameterError("option --bootstrap=" + args.value("bootstrap") + ": not a whole number");
    o.bootstrap = static_cast<int>(n);
  }
  return o;
}

void print_stats_summary(const stats::StatsResult& r, const std::string& dir) {
  for (const auto& s : r.summaries)
    std::printf("%s%s: %d animals, %d neurons, density %s /um (mean of animals)\n", s.group.c_str(),
                s.group == r.control ? " (control)" : "", s.animals, s.neurons,
                format_number(s.mean_density_per_um, 4).c_str());
  for (const auto& row : r.rows)
    if (row.measure == "density_per_um" && row.test == "welch_t") {
      if (std::isnan(row.p_value))
        std::printf("%s: %s\n", row.comparison().c_str(), row.note.c_str());
      else
        std::printf("%s: Welch t(%s) = %s, p = %s (animal level)\n", row.comparison().c_str(),
                    format_number(row.df, 3).c_str(), format_number(row.statistic, 3).c_str(),
                    format_number(row.p_value, 2).c_str());
    }
  std::printf("wrote %s/stats.csv, stats.json, report.html\n", dir.c_str());
}

int cmd_stats(int argc, char** argv) {
  Args args(argc, argv, {"control", "seed", "bootstrap"}, {});
  if (args.has("help")) {
    std::printf("%s", kStatsHelp);
    return 0;
  }
  const std::string dir = folder(args, "stats");
  const stats::StatsResult r = stats::run_stats(dir, stats_options(args, stats::StatsOptions{}));
  print_stats_summary(r, dir);
  return 0;
}

int cmd_report(int argc, char** argv) {
  Args args(argc, argv, {"control", "seed", "bootstrap"}, {});
  if (args.has("help")) {
    std::printf("%s", kReportHelp);
    return 0;
  }
  const std::string dir = folder(args, "report");
  const stats::StatsResult r =
      stats::compute_stats(stats::read_batch_folder(dir), stats_options(args, stats::read_recorded_options(dir)));
  write_report_html(dir, r);
  std::printf("wrote %s/report.html\n", dir.c_str());
  return 0;
}

}  // namespace spinescope::cli
