#!/usr/bin/env bash
# The runs whose results a simulator speed-up must leave identical (BENCHMARKS.md "Simulator speed"):
# each run's JSON report and exact fingerprint (bench/fingerprint.py: every tick's decision, outcomes and
# memory, every job, resize and dollar) from one source tree.
#   bash bench/sim_identity.sh TREE OUT_DIR        # e.g. TREE=$(mktemp -d); git archive main | tar -x -C $TREE
#   bash bench/sim_identity.sh --diff BEFORE_DIR AFTER_DIR
# The reports are compared without `sim_wall_s` (wall time), the fingerprints byte for byte. The last two
# runs are a stress case, not benchmark rows (bench/fb2009-reclaims.yaml: nodes lost with containers).
# ONLY=REGEX runs only the runs whose name matches.
set -uo pipefail
if [ "${1:-}" = "--diff" ]; then
  B=$2; A=$3; rc=0
  for f in "$B"/*.fp; do n=$(basename "$f" .fp)
    cmp -s "$f" "$A/$n.fp" || { echo "fingerprint differs: $n"; rc=1; }
    diff -q <(grep -v sim_wall_s "$B/$n.json") <(grep -v sim_wall_s "$A/$n.json") >/dev/null \
      || { echo "report differs: $n"; rc=1; }
  done
  [ $rc = 0 ] && echo "identical: $(ls "$B"/*.fp | wc -l) runs (reports without sim_wall_s, fingerprints)"
  exit $rc
fi
TREE=$(realpath "$1"); OUT=$(realpath -m "$2"); mkdir -p "$OUT"
# shellcheck source=bench/paths.sh
source "$(dirname "$0")/paths.sh"
: > "$OUT/times.txt"
run() {  # name, simulate arguments
  local name=$1; shift
  [[ $name =~ ${ONLY:-.} ]] || return 0
  (cd /tmp && PYTHONPATH=$TREE /usr/bin/time -f "$name cpu_s=%U+%S" -a -o "$OUT/times.txt" \
    "$PY" "$ROOT/bench/fingerprint.py" "$OUT/$name.fp" "$@" --spot-prices "$SPOT" --seed 1 \
    --report "$OUT/$name.json" >/dev/null 2>"$OUT/$name.err") || echo "FAILED: $name (see $OUT/$name.err)"
}
for p in static emr-rules dataproc managed-scaling-like pending-demand pending-demand+idle-capacity \
  cost-optimizer hindsight; do
  run "fb-$p" --trace "$FB" --policy "$p" --config "$ROOT/bench/fb2009.yaml"
done
run fb-x16 --trace "$FB" --trace-scale 16 --policy pending-demand+idle-capacity --config "$ROOT/bench/fb2009.yaml"
for p in emr-rules hindsight; do
  run "ali-$p" --trace "$ALI" --trace-scale 0.01 --policy "$p" --config "$ROOT/bench/alibaba.yaml"
done
run fb-backlog --trace "$FB" --policy static --config "$ROOT/bench/fb2009-backlog.yaml"
for p in static pending-demand+idle-capacity; do
  run "fb-x16-reclaims-$p" --trace "$FB" --trace-scale 16 --policy "$p" --config "$ROOT/bench/fb2009-reclaims.yaml"
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/times.txt"
cat "$OUT/times.txt"
