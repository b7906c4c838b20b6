#!/usr/bin/env bash
# Simulator speed, two source trees side by side (BENCHMARKS.md "Simulator speed", third pass).
#   bash bench/speed_compare.sh BEFORE_TREE AFTER_TREE [ROUNDS]
# Each tree is a checkout (e.g. `git archive REV | tar -x -C DIR`); this venv's interpreter runs it via
# PYTHONPATH, from /tmp so the working tree is not on the path. Runs alternate before/after, ROUNDS
# times (default 3); the table is the least CPU seconds (user + sys) of each, which a shared machine's
# load inflates least, with the load average range seen. Bytecode is compiled first in both trees.
set -euo pipefail
BEFORE=$(realpath "$1"); AFTER=$(realpath "$2"); ROUNDS=${3:-3}
# shellcheck source=bench/paths.sh
source "$(dirname "$0")/paths.sh"
OUT=${OUT:-$ROOT/bench/out/speed_compare}
mkdir -p "$OUT"; : > "$OUT/raw.txt"; : > "$OUT/load.txt"
"$PY" -m compileall -q "$BEFORE/autoscaler" "$BEFORE/policies" "$AFTER/autoscaler" "$AFTER/policies"
one() {  # label, tree, simulate arguments
  local label=$1 tree=$2; shift 2
  (cd /tmp && PYTHONPATH=$tree /usr/bin/time -f "$label|$tree|%U|%S|%e" -a -o "$OUT/raw.txt" \
    "$PY" -m autoscaler.cli simulate "$@" --spot-prices "$SPOT" --seed 1 --report "$OUT/report.json" >/dev/null 2>&1)
  cut -d' ' -f1 /proc/loadavg >> "$OUT/load.txt"
}
for _ in $(seq "$ROUNDS"); do
  for tree in "$BEFORE" "$AFTER"; do
    for p in static emr-rules dataproc managed-scaling-like pending-demand pending-demand+idle-capacity \
      cost-optimizer hindsight; do
      one "FB-2009 day, $p" "$tree" --trace "$FB" --policy "$p" --config "$ROOT/bench/fb2009.yaml"
    done
    one "FB-2009 x16, pending-demand+idle-capacity" "$tree" --trace "$FB" --trace-scale 16 \
      --policy pending-demand+idle-capacity --config "$ROOT/bench/fb2009.yaml"
    one "Alibaba x0.01, emr-rules" "$tree" --trace "$ALI" --trace-scale 0.01 --policy emr-rules \
      --config "$ROOT/bench/alibaba.yaml"
    one "capacity-bound FB-2009 (fb2009-backlog.yaml, static)" "$tree" --trace "$FB" --policy static \
      --config "$ROOT/bench/fb2009-backlog.yaml"
    one "six-contestant FB-2009 table (2 workers)" "$tree" --trace "$FB" --policy static --policy emr-rules \
      --policy dataproc --policy managed-scaling-like --policy pending-demand --policy pending-demand+idle-capacity \
      --config "$ROOT/bench/fb2009.yaml"
  done
done
"$PY" - "$OUT/raw.txt" "$OUT/load.txt" "$BEFORE" "$AFTER" <<'PY'
import sys
raw, load, before, after = sys.argv[1:5]
runs: dict[str, dict[str, list[tuple[float, float]]]] = {}
for line in open(raw):
    label, tree, user, system, wall = line.strip().split("|")
    runs.setdefault(label, {}).setdefault(tree, []).append((float(user) + float(system), float(wall)))
print("| run | before CPU s | after CPU s | before wall s | after wall s |\n|---|---:|---:|---:|---:|")
for label, by in runs.items():
    b, a = by.get(before, []), by.get(after, [])
    print(f"| {label} | {min(b)[0]:.2f} | {min(a)[0]:.2f} | {min(w for _, w in b):.1f} | {min(w for _, w in a):.1f} |")
loads = [float(x) for x in open(load)]
print(f"\nload average (1 min) during the runs: {min(loads):.1f}-{max(loads):.1f}")
PY
