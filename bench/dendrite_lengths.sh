#!/usr/bin/env bash
# Dendrite length and centerline accuracy (preprocess + dendrites, default noise) over sets of generated stacks:
# per set the mean, worst and total length error and the centerline RMS, then every stack over 3% in length or
# 0.25 µm RMS, and the counts; and where the traced ends lie against the true ones, along the true path: at faces
# (steep and shallow exits apart) and at tips inside the stack.
# usage: bench/dendrite_lengths.sh [FIRST:N:NXY:NZ[:ENDS_INSIDE[:touch|:interpenetrate]] ...]
#   ENDS_INSIDE: the generator's chance that a dendrite ends inside the stack (default 0: face to face).
#   touch (the default): dendrites cross and touch but never pass through one another; interpenetrate: they may
#   (make-sample-stacks --interpenetrate, the generator's geometry until session 7).
#   default: the 516 stacks of the issue notes. Interpenetrating (208): 124 used while developing (1000-1019,
#   3200-3219, 5000-5019, 5100-5111, 200-211, 300-311, 100-111, 400-411, 11-14), 52 first measured in session 4
#   (8000-8019, 8100-8111, 9000-9019) and 32 whose dendrites each end inside the stack at one end (10000-10019,
#   10100-10111, ENDS_INSIDE 1; session 5). Touching, the generator's default (308): 92 from session 6
#   (11000-11019, 11100-11111, 11300-11339, and 11200-11219 with ENDS_INSIDE 1), 124 first measured at the end of
#   session 6 (11400-11439, 11500-11511, 11600-11619 with tips, 11700-11739, 11800-11811), then 92 in session 7
#   (11900-11919 with tips, 12000-12039, 12100-12111, and 1000-1019 again with touching dendrites).
#   Each geometry is summed up on its own, then every stack over 3% or 0.25 um RMS is listed.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${SPINESCOPE_BUILD:-$here/build}"
ninja -C "$build" dendrite_accuracy >/dev/null
tool="$build/tests/stages/dendrites/dendrite_accuracy"
sets=("$@")
for s in "${sets[@]}"; do
  [[ "$s" =~ ^[0-9]+:[1-9][0-9]*:[1-9][0-9]*:[1-9][0-9]*(:(0|1|0?\.[0-9]+)(:touch|:interpenetrate)?)?$ ]] ||
    { echo "bench/dendrite_lengths.sh: '$s' is not FIRST:N:NXY:NZ[:ENDS_INSIDE[:touch|:interpenetrate]]" \
        "(e.g. 8000:20:256:32)" >&2
      exit 64; }
done
if [ ${#sets[@]} -eq 0 ]; then
  old=interpenetrate
  sets=(1000:20:256:32:0:$old 3200:20:256:32:0:$old 5000:20:256:32:0:$old 5100:12:512:48:0:$old
        200:12:256:32:0:$old 300:12:256:32:0:$old 100:12:512:48:0:$old 400:12:512:48:0:$old 11:4:512:48:0:$old
        8000:20:256:32:0:$old 8100:12:512:48:0:$old 9000:20:256:32:0:$old 10000:20:256:32:1:$old
        10100:12:512:48:1:$old 11000:20:256:32 11100:12:512:48 11200:20:256:32:1 11300:40:256:32
        11400:40:256:32 11500:12:512:48 11600:20:256:32:1 11700:40:256:32 11800:12:512:48 11900:20:256:32:1
        12000:40:256:32 12100:12:512:48 1000:20:256:32)
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
# Two sets at a time: generation and tracing are largely serial, so this keeps both cores busy. Results are kept
# per set (the same seeds may come in both geometries).
for ((i = 0; i < ${#sets[@]}; i += 2)); do
  pids=()
  for ((k = i; k < i + 2 && k < ${#sets[@]}; ++k)); do
    IFS=: read -r first n nxy nz ends geometry <<<"${sets[k]}"
    [ "${geometry:-}" = interpenetrate ] && touch_only=0 || touch_only=1
    "$tool" "$n" "$first" "$nxy" "$nz" "${ends:-0}" "$touch_only" >"$out/$k.$touch_only.txt" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do
    wait "$pid" ||
      { echo "bench/dendrite_lengths.sh: dendrite_accuracy failed (set ${sets[i]} or the next)" >&2; exit 1; }
  done
done
for ((k = 0; k < ${#sets[@]}; ++k)); do
  echo "seeds from ${sets[k]%%:*} (${sets[k]}): $(grep '^stacks' "$out/$k".*.txt)"
done
summary() {  # $1: a label, then the per-set result files
  local label=$1
  shift
  cat "$@" | awk -v label="$label" '$1 ~ /^[0-9]+$/ {
      n++; e = $4 < 0 ? -$4 : $4; sum += e; if ($5 > 0.25) rms_over++
      if (e > 3 || $5 > 0.25)
        list = list sprintf("  seed %s: %s%% (truth %s um, traced %s um), RMS %s um, %d branch points; ends at " \
                            "faces %s um, tips %s um\n", $1, $4, $2, $3, $5, $10, $11, $12)
      if (e > 3) over++
      if ($10 > 0) { forked++; if (e > 3) forked_over++ }
    }
    $1 == "ends_tally" {  # kind, matched, unmatched, short and long by over 0.3 um, sum and sum of |error| (um)
      en[$2] += $3; eun[$2] += $4; eshort[$2] += $5; elong[$2] += $6; esum[$2] += $7; eabs[$2] += $8
    } END {
      if (n == 0) exit
      printf "%s: %d stacks, %d over 3%% in length, %d over 0.25 um RMS; mean |length error| %.2f%%\n", label, n,
             over, rms_over, sum / n
      printf "  traces with a branch point (the generated dendrites never branch): %d, %d of them over 3%%; " \
             "without: %d, %d over 3%%\n", forked, forked_over, n - forked, over - forked_over
      split("steep shallow tips", kinds, " ")
      kind_name["steep"] = "ends at a face, steep (|cos| to its normal >= 0.5)"
      kind_name["shallow"] = "ends at a face, shallow (|cos| < 0.5)"
      kind_name["tips"] = "tips inside the stack"
      for (k = 1; k <= 3; ++k) {  # where the traced ends lie against the true ones, along the true path
        w = kinds[k]
        if (!(w in en)) continue
        m = en[w] > 0 ? en[w] : 1
        printf "  %s: %d, signed mean %+.3f um, mean |error| %.3f um, %d short and %d long by over 0.3 um, %d not " \
               "matched\n", kind_name[w], en[w], esum[w] / m, eabs[w] / m, eshort[w], elong[w], eun[w]
      }
      printf "%s", list
    }'
}
shopt -s nullglob
touching=("$out"/*.1.txt)
interpenetrating=("$out"/*.0.txt)
[ ${#touching[@]} -gt 0 ] && summary "touching (the default)" "${touching[@]}"
[ ${#interpenetrating[@]} -gt 0 ] && summary "interpenetrating" "${interpenetrating[@]}"
summary "all" "$out"/*.txt | head -n 2
