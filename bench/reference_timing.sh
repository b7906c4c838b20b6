#!/usr/bin/env bash
# Reproduces BENCHMARKS.md "Reference policies at their vendors' timing": the three references at their
# defaults (guard profile vendor) and under `guards: ours`, and managed-scaling-like's scale-in wait
# sweep (60/120/300/600 s, seeds 1-3), all on FB-2009 day 0. Run from the repo root; output in bench/out/.
set -euo pipefail
DATA=../shared/data
SPOT=$DATA/prices/spot/ericpauley_2022-05-31_1820-2359Z_all-regions.tsv
TRACE=$DATA/traces/swim/FB-2009_samples_24_times_1hr_0.tsv
REFS=(--policy dataproc --policy emr-rules --policy managed-scaling-like)
mkdir -p bench/out
variant() {  # variant NAME ENTRY...: bench/fb2009.yaml plus the given policies[] entries (JSON)
  .venv/bin/python - "$@" <<'PY'
import json, sys, yaml
name, entries = sys.argv[1], [json.loads(e) for e in sys.argv[2:]]
doc = yaml.safe_load(open("bench/fb2009.yaml"))
doc["clusters"][0]["policies"] += entries
with open(f"bench/out/{name}.yaml", "w") as out:
    yaml.safe_dump(doc, out)
PY
}
run() {  # run CONFIG SEED REPORT POLICY-ARGS...
  local config=$1 seed=$2 report=$3
  shift 3
  .venv/bin/emr-autoscaler simulate --trace "$TRACE" "$@" --config "$config" --spot-prices "$SPOT" \
    --seed "$seed" --report "bench/out/$report.json"
}
run bench/fb2009.yaml 1 refs-vendor "${REFS[@]}"
variant refs-ours '{"type": "dataproc", "guards": "ours"}' '{"type": "emr-rules", "guards": "ours"}' \
  '{"type": "managed-scaling-like", "guards": "ours"}'
run bench/out/refs-ours.yaml 1 refs-ours "${REFS[@]}"
for wait in 60 120 300 600; do
  variant "msl-wait-$wait" "{\"type\": \"managed-scaling-like\", \"options\": {\"scale_down_after_s\": $wait}}"
  for seed in 1 2 3; do
    run "bench/out/msl-wait-$wait.yaml" "$seed" "msl-wait-$wait-seed$seed" --policy managed-scaling-like
  done
done
