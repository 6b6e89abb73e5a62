#!/usr/bin/env bash
# Recall on the real dendrite meshes of ../shared/data/spinetool-meshes rendered through the generator's PSF and
# noise path (make-sample-stacks --from-mesh). The data stay outside the repository.
# usage: bench/meshes.sh [SEED]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
seed="${1:-1}"
data="$here/../shared/data/spinetool-meshes"
[ -d "$data" ] || { echo "no $data: skipped"; exit 0; }
build="${SPINESCOPE_BUILD:-$here/build}"
bin="$build/bin"
work="${BENCH_DIR:-/tmp/spinescope-meshes}"
mkdir -p "$work"
ninja -C "$build" spinescope_cli make-sample-stacks >/dev/null
pairs=()
for d in "$data"/*/; do
  name="mesh_$(basename "$d")"
  "$bin/make-sample-stacks" --out "$work" --name "$name" --seed "$seed" --from-mesh "$d" >/dev/null
  prefix="$(ls "$work/${name}_"*.tif | head -1)"; prefix="${prefix%.tif}"
  "$bin/spinescope" analyze "$prefix.tif" --out "$prefix.out" --quiet >/dev/null
  pairs+=("$prefix.out" "$prefix")
done
"$bin/spinescope" evaluate "${pairs[@]}" --json "$work/evaluation.json"
