#!/usr/bin/env bash
# Reproduces the BENCHMARKS.md protocol tables and plots. Run from the repo root; reports go to bench/out/.
# Every contestant runs at its defaults (bench/fb2009.yaml) unless its row names another config.
set -euo pipefail
DATA=../shared/data
SPOT=$DATA/prices/spot/ericpauley_2022-05-31_1820-2359Z_all-regions.tsv
FB=$DATA/traces/swim/FB-2009_samples_24_times_1hr_0.tsv
ALIBABA=$DATA/traces/alibaba_v2017/batch_task_v2017_with_header.csv
SIM=(.venv/bin/emr-autoscaler simulate --spot-prices "$SPOT" --seed 1)
CONTESTANTS=(--policy static --policy emr-rules --policy dataproc --policy managed-scaling-like
             --policy pending-demand+idle-capacity)
if .venv/bin/python -c 'from autoscaler.policy import available_policies as a; raise SystemExit("cost-optimizer" not in a())'; then
  CONTESTANTS+=(--policy cost-optimizer)
fi
CONTESTANTS+=(--policy hindsight)
mkdir -p bench/out

# 1. the visible traces, every contestant at its defaults
"${SIM[@]}" --trace "$FB" "${CONTESTANTS[@]}" --config bench/fb2009.yaml --report bench/out/fb2009.json
"${SIM[@]}" --trace "$ALIBABA" --trace-scale 0.01 "${CONTESTANTS[@]}" --config bench/alibaba.yaml \
  --report bench/out/alibaba.json

# 2. hindsight's wait allowance (max_wait_s 0 and 300; the tables above use its default, 60)
for wait in 0 300; do
  .venv/bin/python - "$wait" <<'PY'
import sys, yaml
cfg = yaml.safe_load(open("bench/fb2009.yaml"))  # the FB-2009 config with hindsight's one option changed
cfg["clusters"][0]["policies"] = [{"type": "hindsight", "options": {"max_wait_s": float(sys.argv[1])}}]
open(f"bench/out/hindsight-wait{sys.argv[1]}.yaml", "w").write(yaml.safe_dump(cfg, sort_keys=False))
PY
  "${SIM[@]}" --trace "$FB" --policy hindsight --config "bench/out/hindsight-wait$wait.yaml" \
    --report "bench/out/fb2009-hindsight-wait$wait.json"
done

# 3. tuned options only as judged on another trace: tune the pair on FB-2009 hours 0-11, judge on hours 12-23
.venv/bin/python bench/split_swim.py "$FB" bench/out
.venv/bin/python bench/tune_pair.py --base bench/fb2009.yaml --out bench/pair-tuned-h00-11.yaml \
  -- --trace bench/out/FB-2009_samples_24_times_1hr_0_h00-11.tsv --spot-prices "$SPOT" --seed 1
"${SIM[@]}" --trace bench/out/FB-2009_samples_24_times_1hr_0_h12-23.tsv "${CONTESTANTS[@]}" \
  --config bench/fb2009.yaml --report bench/out/fb2009-h12-23.json
"${SIM[@]}" --trace bench/out/FB-2009_samples_24_times_1hr_0_h12-23.tsv --policy pending-demand+idle-capacity \
  --config bench/pair-tuned-h00-11.yaml --report bench/out/fb2009-h12-23-pair-tuned.json

# 4. cost against wait
# (cost-optimizer's own curve over its target sweep: bench/cost_optimizer.sh, BENCHMARKS.md "cost-optimizer")
CURVES=(bench/out/fb2009-hindsight-wait0.json bench/out/fb2009-hindsight-wait300.json)
.venv/bin/python bench/plot_cost_vs_wait.py --title "FB-2009 day 0 (seed 1): every contestant at its defaults; hindsight at max_wait_s 0 / 60 / 300" \
  -o docs/img/cost_vs_wait_fb2009.png bench/out/fb2009.json "${CURVES[@]}"
.venv/bin/python bench/plot_cost_vs_wait.py --title "Alibaba v2017 at 0.01 (seed 1): every contestant at its defaults" \
  -o docs/img/cost_vs_wait_alibaba.png bench/out/alibaba.json

# the tables, as BENCHMARKS.md shows them
.venv/bin/python bench/tables.py bench/out/fb2009.json
.venv/bin/python bench/tables.py bench/out/alibaba.json
.venv/bin/python bench/tables.py bench/out/fb2009-h12-23.json "bench/out/fb2009-h12-23-pair-tuned.json=tuned on hours 0–11"
.venv/bin/python bench/tables.py "bench/out/fb2009-hindsight-wait0.json=max_wait_s 0" bench/out/fb2009.json \
  "bench/out/fb2009-hindsight-wait300.json=max_wait_s 300"

# 5. the FB-2009 table again with per-instance-type interruption rates from the Spot Advisor feed
"${SIM[@]}" --trace "$FB" "${CONTESTANTS[@]}" --config bench/fb2009-advisor.yaml --report bench/out/fb2009-advisor.json
