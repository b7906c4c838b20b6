#!/usr/bin/env bash
# Reproduces the BENCHMARKS.md policy tables (FB-2009, Alibaba, FB-2009 with Spot Advisor bands). Run from the repo root; reports go to bench/out/.
set -euo pipefail
DATA=../shared/data
SPOT=$DATA/prices/spot/ericpauley_2022-05-31_1820-2359Z_all-regions.tsv
POLICIES=(--policy static --policy emr-rules --policy dataproc --policy managed-scaling-like
          --policy pending-demand --policy pending-demand+idle-capacity)
mkdir -p bench/out
.venv/bin/emr-autoscaler simulate --trace $DATA/traces/swim/FB-2009_samples_24_times_1hr_0.tsv \
  "${POLICIES[@]}" --config bench/fb2009.yaml --spot-prices $SPOT --seed 1 --report bench/out/fb2009.json
.venv/bin/emr-autoscaler simulate --trace $DATA/traces/alibaba_v2017/batch_task_v2017_with_header.csv \
  --trace-scale 0.01 "${POLICIES[@]}" --config bench/alibaba.yaml --spot-prices $SPOT --seed 1 \
  --report bench/out/alibaba.json
# FB-2009 again with per-instance-type interruption bands from the Spot Advisor feed
.venv/bin/emr-autoscaler simulate --trace $DATA/traces/swim/FB-2009_samples_24_times_1hr_0.tsv \
  "${POLICIES[@]}" --config bench/fb2009-advisor.yaml --spot-prices $SPOT --seed 1 \
  --report bench/out/fb2009-advisor.json
