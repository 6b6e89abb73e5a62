// spinescope evaluate (not yet written: see the open issues).
#include <cstdio>

#include "commands.hpp"
#include "spinescope/errors.hpp"

namespace spinescope::cli {
int cmd_evaluate(int, char**) {
  std::fprintf(stderr, "spinescope evaluate: not available in this build yet\n");
  return kExitSoftware;
}
}  // namespace spinescope::cli
