#!/usr/bin/env bash
# Reproduces BENCHMARKS.md "Which Target clauses are reachable": hindsight's option sweep against the four
# references on FB-2009 day 0 and Alibaba v2017 at 0.01 (seed 1), the lower bounds, and the per-clause tables.
# Run from the repo root; reports in bench/out/. About 40 minutes of wall time on the shared 2-core box under load.
set -euo pipefail
DATA=../shared/data
SPOT=$DATA/prices/spot/ericpauley_2022-05-31_1820-2359Z_all-regions.tsv
FB=(--trace $DATA/traces/swim/FB-2009_samples_24_times_1hr_0.tsv --spot-prices $SPOT --seed 1)
ALI=(--trace $DATA/traces/alibaba_v2017/batch_task_v2017_with_header.csv --trace-scale 0.01 --spot-prices $SPOT --seed 1)
HF=(.venv/bin/python bench/hindsight_frontier.py)
mkdir -p bench/out
# the references and the coarse grid, then (FB-2009) a finer one around static's p95 wait of 5 s
"${HF[@]}" --config bench/fb2009.yaml --report bench/out/hf-fb2009.json \
  --lookaheads d,60,900,1800,3600,7200,14400 --horizons 600,1800,7200 -- "${FB[@]}"
"${HF[@]}" --config bench/fb2009.yaml --report bench/out/hf-fb2009-fine.json --refs bench/out/hf-fb2009.json \
  --waits 0,5,10,15 --lookaheads 1000,1100,1200,1300,1400,1500,1600,1700 --horizons 1800,7200 -- "${FB[@]}"
"${HF[@]}" --config bench/alibaba.yaml --report bench/out/hf-alibaba.json \
  --lookaheads d,60,3600 --horizons 600,1800,7200 -- "${ALI[@]}"
"${HF[@]}" --table bench/out/hf-fb2009.json bench/out/hf-fb2009-fine.json
"${HF[@]}" --table bench/out/hf-alibaba.json
.venv/bin/python bench/clause_bounds.py --config bench/fb2009.yaml --refs bench/out/hf-fb2009.json "${FB[@]}"
.venv/bin/python bench/clause_bounds.py --config bench/alibaba.yaml --refs bench/out/hf-alibaba.json "${ALI[@]}"
