#pragma once
// Each subcommand of the spinescope CLI: argv[0] is the subcommand name. Returns the exit status;
// spinescope::Error escapes to main(), which prints one line and maps it to its exit status.
namespace spinescope::cli {
int cmd_analyze(int argc, char** argv);
int cmd_batch(int argc, char** argv);
int cmd_stats(int argc, char** argv);
int cmd_report(int argc, char** argv);
int cmd_stages(int argc, char** argv);
int cmd_evaluate(int argc, char** argv);
}  // namespace spinescope::cli
