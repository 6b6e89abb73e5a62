// spinescope: dendritic spines from confocal z-stacks. A thin CLI over the library (see include/spinescope/).
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "commands.hpp"
#include "spinescope/errors.hpp"

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* summary;
};

const Command kCommands[] = {
    {"analyze", spinescope::cli::cmd_analyze, "analyse one z-stack: dendrites, spines, types, density"},
    {"batch", spinescope::cli::cmd_batch, "analyse every stack of a sample sheet (resumable), then stats"},
    {"stats", spinescope::cli::cmd_stats, "group statistics and report.html from a batch output folder"},
    {"report", spinescope::cli::cmd_report, "rewrite report.html from a batch output folder"},
    {"stages", spinescope::cli::cmd_stages, "list the pipeline stages and every parameter (unit, default, range)"},
    {"evaluate", spinescope::cli::cmd_evaluate, "score results against ground truth (precision, recall, F1, errors)"},
};

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "spinescope %s: dendritic spine density, size and type from confocal z-stacks.\n\n"
               "usage: spinescope COMMAND [options]   (spinescope COMMAND --help for details)\n\ncommands:\n",
               SPINESCOPE_VERSION);
  for (const auto& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
  std::fprintf(out,
               "\nAll lengths are in micrometres (um). Exit status: 0 ok, 1 batch with failures, 64 usage,\n"
               "65 bad input data, 66 missing input, 70 internal error, 73 cannot write output,\n"
               "130 interrupted (Ctrl-C or SIGTERM; files already written are whole).\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    print_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? spinescope::kExitUsage : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("spinescope %s\n", SPINESCOPE_VERSION);
    return 0;
  }
  for (const auto& c : kCommands) {
    if (std::strcmp(argv[1], c.name) != 0) continue;
    try {
      return c.run(argc - 1, argv + 1);
    } catch (const spinescope::Error& e) {
      std::fprintf(stderr, "\nspinescope %s: %s\n", c.name, e.what());
      return e.exit_code();
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "\nspinescope %s: out of memory\n", c.name);
      return spinescope::kExitSoftware;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "\nspinescope %s: internal error: %s\n", c.name, e.what());
      return spinescope::kExitSoftware;
    }
  }
  std::fprintf(stderr, "spinescope: unknown command '%s'\n\n", argv[1]);
  print_usage(stderr);
  return spinescope::kExitUsage;
}
