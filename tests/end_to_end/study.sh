#!/usr/bin/env bash
# A generated treated-vs-control study through `spinescope batch` (and its statistics run), end to end:
#   1. effect 1.4, 2 groups x 3 animals x 2 neurons: Welch on animals finds the density difference (p < 0.05) and
#      the estimated ratio of group densities is within 10 % of the truth ratio (truth_study.csv);
#   2. effect 1.0: no difference (p > 0.05);
#   3. resume: a batch killed with SIGKILL after its first stacks, rerun with --resume, gives merged spines.csv,
#      dendrites.csv and stacks.csv identical to the uninterrupted run's, reusing the finished stacks.
# usage: study.sh MAKE_SAMPLE_STACKS SPINESCOPE WORK_DIR
# Exit 0 pass, 1 fail, 77 skip (a tool is missing). WORK_DIR is emptied first and kept afterwards (its
# effect_1.4/out/report.html is the input of report_chromium.sh).
set -uo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 MAKE_SAMPLE_STACKS SPINESCOPE WORK_DIR" >&2
  exit 2
fi
gen=$1
cli=$2
work=$3
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3 || true)
for tool in "$gen" "$cli" "$python"; do
  if [ -z "$tool" ] || [ ! -x "$tool" ]; then
    echo "SKIP: ${tool:-python3} is missing" >&2
    exit 77
  fi
done

# Study seeds, each fixed from the truth files alone before any pipeline run. With effect 1.4: the first seed whose
# realised truth ratio is within 5 % of the nominal 1.4 and clearly significant on the truth itself (Welch on
# animals, p < 0.01): seed 11, ratio 1.462, p = 0.0089. 3 animals per group with an animal sd of 0.08 and 20-30
# spines per stack give this design only about 60-70 % power on the truth, so an arbitrary seed may hold no
# detectable effect (seed 2, the choice until dendrites stopped passing through one another, realises 1.556 with
# p = 0.064 on the truth), and a seed barely significant on the truth tests the coin, not the pipeline: seed 4 (ratio
# 1.349, p = 0.034 on the truth, the choice until session 10) gave p = 0.036 from the pipeline, and 0.055 after the
# face-tracking change of session 10, which moved one stack's length by 0.9 µm and four spine counts by one.
# The neuron-level mixed model is printed, not asserted: it can sit at the boundary (animal variance 0).
# With effect 1.0: the first seed whose realised truth ratio is within 3 % of 1 (seed 4: 0.981, p = 0.86; seed 2's
# null study realises 1.116 by chance, a real 12 % difference that a good pipeline may rightly find).
seed_effect=11
seed_null=4
fail=0
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
die() {
  echo "FAIL: $*" >&2
  exit 1
}

rm -rf "$work"
mkdir -p "$work" || die "cannot create $work"

# Generates a study with effect $1 and seed $2 into $work/effect_$1 and analyses it into $work/effect_$1/out.
run_study() {
  local effect=$1 seed=$2 dir="$work/effect_$1" t
  t=$(now)
  "$gen" --study "$dir/stacks" --groups control,drug --animals 3 --neurons 2 --effect "$effect" --seed "$seed" \
    >"$dir.generate.log" 2>&1 || { cat "$dir.generate.log" >&2; die "make-sample-stacks --study (effect $effect)"; }
  echo "effect $effect: generated 12 stacks in $(elapsed "$t") s"
  t=$(now)
  "$cli" batch "$dir/stacks/sheet.csv" --out "$dir/out" --quiet >"$dir.batch.log" 2>&1 ||
    { cat "$dir.batch.log" >&2; die "spinescope batch (effect $effect)"; }
  echo "effect $effect: batch + stats in $(elapsed "$t") s"
  sed 's/^/  /' "$dir.batch.log"
}

# Compares the stats of study $1 with its truth; $2 = "effect" (p < 0.05 and ratio within 10 %) or "null" (p > 0.05).
check_study() {
  "$python" - "$work/effect_$1" "$2" <<'EOF'
import csv, json, sys

folder, expect = sys.argv[1], sys.argv[2]
stats = json.load(open(folder + "/out/stats.json"))
rows = {(r["measure"], r["test"]): r for r in stats["results"]
        if r["group"] == "drug" and r["control"] == "control"}

def row(measure, test):
    if (measure, test) not in rows:
        sys.exit("FAIL: stats.json has no %s/%s row for drug vs control" % (measure, test))
    return rows[(measure, test)]

# Truth: the same hierarchy as the statistics (neuron density -> animal mean -> group mean of animals).
animals = {}
for r in csv.DictReader(open(folder + "/stacks/truth_study.csv")):
    animals.setdefault((r["group"], r["animal"]), []).append(float(r["truth_density_per_um"]))
groups = {}
for (group, _), densities in sorted(animals.items()):
    groups.setdefault(group, []).append(sum(densities) / len(densities))
truth = {g: sum(v) / len(v) for g, v in groups.items()}
truth_ratio = truth["drug"] / truth["control"]

lmm = row("density_per_um", "lmm_reml")
welch = row("density_per_um", "welch_t")
ratio = row("density_per_um", "hierarchical_bootstrap_ratio")
estimated = {g["group"]: g["mean_density_per_um"] for g in stats["groups"]}
print("  truth density control %.4f, drug %.4f /um, truth ratio %.4f" % (truth["control"], truth["drug"], truth_ratio))
print("  estimated density control %.4f, drug %.4f /um, ratio %.4f (95%% CI %.3f-%.3f), %+.1f %% of the truth ratio"
      % (estimated["control"], estimated["drug"], ratio["estimate"], ratio["ci_low"], ratio["ci_high"],
         100 * (ratio["estimate"] / truth_ratio - 1)))
print("  Welch on animals p = %.4g (t = %.3f, df %.2f); mixed model p = %.4g (t = %.3f, df %g); Mann-Whitney p = %.4g"
      % (welch["p_value"], welch["statistic"], welch["df"], lmm["p_value"], lmm["statistic"], lmm["df"],
         row("density_per_um", "mann_whitney_u")["p_value"]))

# The test is the one `spinescope stats` leads with: Welch on animal densities (the animal is the unit of
# replication). The mixed model is printed; see the note at `seed_effect=` for why it is not asserted.
problems = []
if expect == "effect":
    if not welch["p_value"] < 0.05:
        problems.append("Welch p = %.4g, expected < 0.05 for a true ratio of %.3f" % (welch["p_value"], truth_ratio))
    if abs(ratio["estimate"] / truth_ratio - 1) > 0.10:
        problems.append("estimated ratio %.4f is not within 10 %% of the truth ratio %.4f" % (ratio["estimate"], truth_ratio))
else:
    if not welch["p_value"] > 0.05:
        problems.append("Welch p = %.4g, expected > 0.05 without an effect (truth ratio %.3f)"
                        % (welch["p_value"], truth_ratio))
for p in problems:
    print("FAIL: " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
}

run_study 1.4 "$seed_effect"
check_study 1.4 effect || fail=1
run_study 1.0 "$seed_null"
check_study 1.0 null || fail=1

# Resume: kill -9 a one-at-a-time batch of the 1.4 study once a stack is complete, then --resume.
dir="$work/effect_1.4"
out="$work/resumed"
t=$(now)
"$cli" batch "$dir/stacks/sheet.csv" --out "$out" --jobs 1 --quiet >"$work/killed.log" 2>&1 &
pid=$!
completed() { find "$out/stacks" -mindepth 2 -maxdepth 2 -name done.json -path "$out/stacks/0*" 2>/dev/null | wc -l; }
for _ in $(seq 1 1200); do  # up to 120 s
  [ "$(completed)" -ge 2 ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if ! kill -9 "$pid" 2>/dev/null; then
  wait "$pid"
  die "the batch finished before it could be killed (resume not tested); see $work/killed.log"
fi
wait "$pid" 2>/dev/null
done_before=$(completed)
echo "resume: killed the batch after $(elapsed "$t") s with $done_before of 12 stacks complete"
[ "$done_before" -ge 1 ] && [ "$done_before" -lt 12 ] || die "expected 1-11 completed stacks at the kill, found $done_before"
[ ! -e "$out/spines.csv" ] || die "a killed batch left merged tables behind"
t=$(now)
"$cli" batch "$dir/stacks/sheet.csv" --out "$out" --resume --quiet >"$work/resumed.log" 2>&1 ||
  { cat "$work/resumed.log" >&2; die "spinescope batch --resume"; }
echo "resume: --resume run in $(elapsed "$t") s: $(head -n 1 "$work/resumed.log")"
grep -q "($done_before done before)" "$work/resumed.log" ||
  { echo "FAIL: --resume did not reuse the $done_before completed stacks" >&2; fail=1; }
for f in spines.csv dendrites.csv stacks.csv; do
  if cmp -s "$dir/out/$f" "$out/$f"; then
    echo "resume: $f identical to the uninterrupted run ($(wc -l <"$out/$f") lines)"
  else
    echo "FAIL: $f after kill + --resume differs from the uninterrupted run:" >&2
    diff "$dir/out/$f" "$out/$f" | head -n 10 >&2
    fail=1
  fi
done
ls -d "$out"/stacks/.tmp-* >/dev/null 2>&1 && echo "note: temporary folders of the killed stack remain in $out/stacks"

[ $fail -eq 0 ] && echo "PASS" || echo "FAIL"
exit $fail
