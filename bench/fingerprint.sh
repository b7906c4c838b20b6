#!/usr/bin/env bash
# Reports and exact fingerprints (bench/fingerprint.py) of the runs a simulator speed change must leave
# identical, for one source tree: bash bench/fingerprint.sh TREE OUT_DIR. Compare two OUT_DIRs with
# `diff -r` (the reports' `sim_wall_s` lines are dropped, being the only field that may differ).
set -euo pipefail
TREE=$(realpath "$1"); OUT=$(realpath -m "$2")
ROOT=$(realpath "$(dirname "$0")/..")
PY=$ROOT/.venv/bin/python
DATA=$(realpath "$ROOT/../shared/data")
SPOT=$DATA/prices/spot/ericpauley_2022-05-31_1820-2359Z_all-regions.tsv
FB=$DATA/traces/swim/FB-2009_samples_24_times_1hr_0.tsv
ALI=$DATA/traces/alibaba_v2017/batch_task_v2017_with_header.csv
mkdir -p "$OUT"
one() {  # name, simulate arguments
  local name=$1; shift
  (cd /tmp && PYTHONPATH=$TREE "$PY" "$ROOT/bench/fingerprint.py" "$OUT/$name.fp" "$@" --spot-prices "$SPOT" \
    --seed 1 --report "$OUT/$name.json" >/dev/null 2>&1)
  grep -v '"sim_wall_s"' "$OUT/$name.json" > "$OUT/$name.report" && rm "$OUT/$name.json"
}
for p in static emr-rules dataproc managed-scaling-like pending-demand pending-demand+idle-capacity \
  cost-optimizer hindsight; do
  one "fb-$p" --trace "$FB" --policy "$p" --config "$ROOT/bench/fb2009.yaml"
done
one fb-x16 --trace "$FB" --trace-scale 16 --policy pending-demand+idle-capacity --config "$ROOT/bench/fb2009.yaml"
one ali-emr-rules --trace "$ALI" --trace-scale 0.01 --policy emr-rules --config "$ROOT/bench/alibaba.yaml"
