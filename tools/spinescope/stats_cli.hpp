#pragma once
// Shared by `spinescope stats`, `report` and the end of `batch`.
#include <string>

#include "args.hpp"
#include "spinescope/stats.hpp"

namespace spinescope::cli {
/// The --control, --seed and --bootstrap options over @p defaults.
stats::StatsOptions stats_options(const Args& args, stats::StatsOptions defaults);
/// One line per group and per comparison, for the terminal.
void print_stats_summary(const stats::StatsResult& result, const std::string& dir);
}  // namespace spinescope::cli
