#!/usr/bin/env bash
# Accuracy over generated stacks: N seeds (default 20, starting at 1000: not the seeds the tests or sample
# stacks use), default noise; optional photon count, chance that a dendrite ends inside the stack
# (make-sample-stacks --ends-inside) and the geometry: `touch` (the default: dendrites never pass through one
# another) or `interpenetrate` (they may: the generator's scenes until session 7, seed for seed).
# Prints `spinescope evaluate`'s pooled table.
# usage: bench/accuracy.sh [N] [FIRST_SEED] [PHOTONS] [ENDS_INSIDE] [touch|interpenetrate]   (empty: the default)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-20}"; first="${2:-1000}"; photons="${3:-}"; ends="${4:-}"; geometry="${5:-}"
case "$geometry" in ""|touch) geometry="" ;; interpenetrate) ;;
  *) echo "bench/accuracy.sh: the 5th argument is 'touch', 'interpenetrate' or empty, not '$geometry'" >&2; exit 64;;
esac
build="${SPINESCOPE_BUILD:-$here/build}"
bin="$build/bin"
work="${BENCH_DIR:-/tmp/spinescope-accuracy}${photons:+-p$photons}${ends:+-e$ends}-${geometry:-touch}"
mkdir -p "$work"
ninja -C "$build" spinescope_cli make-sample-stacks >/dev/null
pairs=()
for ((s = first; s < first + n; ++s)); do
  prefix="$work/acc_seed$s"
  [ -f "$prefix.tif" ] || "$bin/make-sample-stacks" --out "$work" --name acc --seed "$s" --count 1 \
    ${photons:+--photons "$photons"} ${ends:+--ends-inside "$ends"} ${geometry:+--$geometry} >/dev/null
  "$bin/spinescope" analyze "$prefix.tif" --out "$prefix.out" --quiet >/dev/null
  pairs+=("$prefix.out" "$prefix")
done
"$bin/spinescope" evaluate "${pairs[@]}" --json "$work/evaluation.json"
