// spinescope stats (not yet written: see the open issues).
#include <cstdio>

#include "commands.hpp"
#include "spinescope/errors.hpp"

namespace spinescope::cli {
int cmd_stats(int, char**) {
  std::fprintf(stderr, "spinescope stats: not available in this build yet\n");
  return kExitSoftware;
}
}  // namespace spinescope::cli
namespace spinescope::cli {
int cmd_report(int, char**) {
  std::fprintf(stderr, "spinescope report: not available in this build yet\n");
  return kExitSoftware;
}
}  // namespace spinescope::cli
