// spinescope batch (not yet written: see the open issues).
#include <cstdio>

#include "commands.hpp"
#include "spinescope/errors.hpp"

namespace spinescope::cli {
int cmd_batch(int, char**) {
  std::fprintf(stderr, "spinescope batch: not available in this build yet\n");
  return kExitSoftware;
}
}  // namespace spinescope::cli
