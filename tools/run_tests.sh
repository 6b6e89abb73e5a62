#!/usr/bin/env bash
# The README's second command (and what .ci/run calls): install the packages, build everything, run every test.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/tools/deps.sh" --test
bash "$here/tools/build.sh"
cd "$here/build"
ctest --output-on-failure --timeout 1800 -j2
