#!/usr/bin/env bash
# Configures and builds spinescope (Release, Ninja) into ./build. Extra arguments go to ninja (targets).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cmake -S "$here" -B "$here/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$here/build" "$@"
