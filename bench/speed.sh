#!/usr/bin/env bash
# Simulator speed (BENCHMARKS.md "Simulator speed"): CPU seconds (user+sys) and wall per run, from the
# repo root. CPU time is the figure to compare on a shared machine: wall time grows with the load.
set -euo pipefail
DATA=../shared/data
SPOT=$DATA/prices/spot/ericpauley_2022-05-31_1820-2359Z_all-regions.tsv
FB=$DATA/traces/swim/FB-2009_samples_24_times_1hr_0.tsv
ALI=$DATA/traces/alibaba_v2017/batch_task_v2017_with_header.csv
OUT=${OUT:-bench/out/speed}
mkdir -p "$OUT"
run() {  # label, then simulate arguments
  local label=$1; shift
  /usr/bin/time -f "$label cpu_s=%U+%S wall_s=%e" -a -o "$OUT/times.txt" \
    .venv/bin/emr-autoscaler simulate "$@" --spot-prices "$SPOT" --seed 1 >/dev/null 2>&1
}
: > "$OUT/times.txt"
for p in static emr-rules dataproc managed-scaling-like pending-demand pending-demand+idle-capacity; do
  run "fb2009 $p" --trace "$FB" --policy "$p" --config bench/fb2009.yaml --report "$OUT/fb2009-$p.json"
done
run "fb2009 x16 pending-demand+idle-capacity" --trace "$FB" --trace-scale 16 \
  --policy pending-demand+idle-capacity --config bench/fb2009.yaml --report "$OUT/fb2009-x16.json"
run "alibaba x0.01 emr-rules" --trace "$ALI" --trace-scale 0.01 --policy emr-rules \
  --config bench/alibaba.yaml --report "$OUT/alibaba-emr-rules.json"
run "fb2009 six contestants (2 workers)" --trace "$FB" --policy static --policy emr-rules --policy dataproc \
  --policy managed-scaling-like --policy pending-demand --policy pending-demand+idle-capacity \
  --config bench/fb2009.yaml --report "$OUT/fb2009-six.json"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/times.txt"
cat "$OUT/times.txt"
# in-simulator seconds per policy (no imports, trace or price loading): the reports' sim_wall_s
grep -ho '"policy": "[^"]*"\|"sim_wall_s": [0-9.]*' "$OUT"/*.json | paste - - || true
