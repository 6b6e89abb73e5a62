#!/usr/bin/env bash
# Recall on the real dendrite meshes of ../shared/data/spinetool-meshes rendered through the generator's PSF and
# noise path (make-sample-stacks --from-mesh), and the dendrite-length error against each mesh's own skeleton
# (its truth; the density error is not a measure here, as not every protrusion was annotated). The data stay
# outside the repository.
# The meshes were segmented from confocal stacks and carry its axial blur (shafts 3-6x taller than wide), so each
# is rendered twice: with --mesh-z-scale auto (shaft made round first; the fair test) and as given (z blurred twice).
# usage: bench/meshes.sh [SEED]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
seed="${1:-1}"
data="$here/../shared/data/spinetool-meshes"
[ -d "$data" ] || { echo "no $data: skipped"; exit 0; }
build="${SPINESCOPE_BUILD:-$here/build}"
bin="$build/bin"
ninja -C "$build" spinescope_cli make-sample-stacks >/dev/null
for zscale in auto 1; do
  work="${BENCH_DIR:-/tmp/spinescope-meshes}/z$zscale"
  mkdir -p "$work"
  pairs=()
  for d in "$data"/*/; do
    name="mesh_$(basename "$d")"
    "$bin/make-sample-stacks" --out "$work" --name "$name" --seed "$seed" --from-mesh "$d" \
      --mesh-z-scale "$zscale" >/dev/null
    prefix="$(ls "$work/${name}_"*.tif | head -1)"; prefix="${prefix%.tif}"
    "$bin/spinescope" analyze "$prefix.tif" --out "$prefix.out" --quiet >/dev/null
    pairs+=("$prefix.out" "$prefix")
  done
  echo "== mesh z scale: $zscale"
  "$bin/spinescope" evaluate "${pairs[@]}" --json "$work/evaluation.json"
done
