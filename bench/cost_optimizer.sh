#!/usr/bin/env bash
# Reproduces BENCHMARKS.md "cost-optimizer": every reference (vendor timing) and hindsight on FB-2009 day 0
# and Alibaba v2017 at 0.01, cost-optimizer's target sweep {0,30,60,120,300,600} s on both (all other
# options at their defaults), and the cost-vs-wait plot bench/cost_optimizer.png (with hindsight's frontier
# when bench/hindsight_frontier.sh has run). Run from the repo root;
# reports in bench/out/. About 25 minutes on the shared 2-core box.
set -euo pipefail
DATA=../shared/data
SPOT=$DATA/prices/spot/ericpauley_2022-05-31_1820-2359Z_all-regions.tsv
FB=$DATA/traces/swim/FB-2009_samples_24_times_1hr_0.tsv
ALI=$DATA/traces/alibaba_v2017/batch_task_v2017_with_header.csv
REFS=(--policy static --policy emr-rules --policy dataproc --policy managed-scaling-like --policy hindsight)
mkdir -p bench/out
.venv/bin/emr-autoscaler simulate --trace $FB "${REFS[@]}" --config bench/fb2009.yaml --spot-prices $SPOT \
  --seed 1 --report bench/out/fb2009-refs.json
.venv/bin/emr-autoscaler simulate --trace $ALI --trace-scale 0.01 "${REFS[@]}" --config bench/alibaba.yaml \
  --spot-prices $SPOT --seed 1 --report bench/out/alibaba-refs.json
.venv/bin/python bench/cost_optimizer_sweep.py --base bench/fb2009.yaml --out bench/out/co-fb2009 -- \
  --trace $FB --spot-prices $SPOT --seed 1
.venv/bin/python bench/cost_optimizer_sweep.py --base bench/alibaba.yaml --out bench/out/co-alibaba -- \
  --trace $ALI --trace-scale 0.01 --spot-prices $SPOT --seed 1
# hindsight's frontier (bench/hindsight_frontier.sh) as a dashed curve, when its reports are there
HF_FB=$([ -f bench/out/hf-fb2009-fine.json ] && echo ":bench/out/hf-fb2009.json,bench/out/hf-fb2009-fine.json" || true)
HF_ALI=$([ -f bench/out/hf-alibaba.json ] && echo ":bench/out/hf-alibaba.json" || true)
.venv/bin/python bench/cost_optimizer_plot.py -o bench/cost_optimizer.png \
  "FB-2009 day 0=bench/out/co-fb2009:bench/out/fb2009-refs.json$HF_FB" \
  "Alibaba v2017 × 0.01=bench/out/co-alibaba:bench/out/alibaba-refs.json$HF_ALI"
