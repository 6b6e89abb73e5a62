#!/usr/bin/env bash
# The README's first command: install the Debian packages, build, and analyse the sample stacks.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/tools/deps.sh"
bash "$here/tools/build.sh" spinescope_cli make-sample-stacks
for stack in "$here"/sample_stacks/*.tif; do
  name="$(basename "$stack" .tif)"
  "$here/build/bin/spinescope" analyze "$stack" --out "$here/out/$name"
done
echo "Results are in $here/out/<stack>/ (spines.csv, dendrites.csv, summary.json, overlay.png, labels.tif, trace.swc)."
