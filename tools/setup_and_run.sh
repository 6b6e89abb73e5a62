#!/usr/bin/env bash
# The README's first command: install the Debian packages, build, and analyse the sample stacks.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/tools/deps.sh"
bash "$here/tools/build.sh" spinescope_cli make-sample-stacks
pairs=()
for stack in "$here"/sample_stacks/*.tif; do
  name="$(basename "$stack" .tif)"
  "$here/build/bin/spinescope" analyze "$stack" --out "$here/out/$name" --quiet
  pairs+=("$here/out/$name" "${stack%.tif}")
done
echo
echo "Scored against the sample stacks' ground truth (spinescope evaluate):"
"$here/build/bin/spinescope" evaluate "${pairs[@]}" --json "$here/out/evaluation.json"
echo "Results are in $here/out/<stack>/ (spines.csv, dendrites.csv, summary.json, overlay.png, labels.tif, trace.swc)."
