#!/usr/bin/env bash
# Whole-run benchmark: `spinescope analyze` on a generated 1024x1024x60 16-bit stack with 1 and 2 threads
# (wall time, voxels/s, peak memory), and the scikit-image peer script on the same stack in the same run.
# usage: bench/whole_run.sh [SEED] [NX,NY,NZ]      (needs /usr/bin/time; the peer needs python3-skimage)
# The build folder is $SPINESCOPE_BUILD (default: build/).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
seed="${1:-7}"
size="${2:-1024,1024,60}"
build="${SPINESCOPE_BUILD:-$here/build}"
bin="$build/bin"
work="${BENCH_DIR:-/tmp/spinescope-bench}"
mkdir -p "$work"
ninja -C "$build" spinescope_cli make-sample-stacks >/dev/null
IFS=, read -r nx ny nz <<<"$size"
# The cached stack is named by everything that makes it: size, seed and the generator's geometry (touching).
name="bench_${nx}x${ny}x${nz}_touching"
stack="$work/${name}_seed${seed}.tif"
if [ ! -f "$stack" ]; then
  "$bin/make-sample-stacks" --out "$work" --name "$name" --seed "$seed" --count 1 --size "$size" >/dev/null
fi
voxels=$((nx * ny * nz))
echo "stack: $stack (${nx}x${ny}x${nz} = $voxels voxels), seed $seed, $(nproc) cores"
run() {  # label, command...
  local label="$1"; shift
  local t="$work/time.txt"
  /usr/bin/time -f "%e %M" -o "$t" "$@" >/dev/null 2>"$work/stderr.txt" || { echo "$label: FAILED"; cat "$work/stderr.txt"; return 1; }
  read -r wall kb <"$t"
  awk -v l="$label" -v w="$wall" -v kb="$kb" -v n="$voxels" \
    'BEGIN { printf "%-28s wall %6.2f s  %7.1f Mvoxel/s  peak %6.0f MB\n", l, w, n / w / 1e6, kb / 1024 }'
}
run "spinescope, 1 thread" "$bin/spinescope" analyze "$stack" --out "$work/out1" --threads 1 --quiet
run "spinescope, 2 threads" "$bin/spinescope" analyze "$stack" --out "$work/out2" --threads 2 --quiet
if /usr/bin/python3 -c "import skimage, scipy, tifffile" 2>/dev/null && [ -f "$here/../shared/peers/skimage_pipeline.py" ]; then
  run "scikit-image peer" /usr/bin/python3 "$here/../shared/peers/skimage_pipeline.py" "$stack" "$work/peer"
else
  echo "scikit-image peer: skipped (apt-get install python3-skimage python3-scipy, and ../shared/peers)"
fi
