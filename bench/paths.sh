# Sourced by bench scripts: the repo root, this checkout's interpreter and the shared data files.
ROOT=$(realpath "$(dirname "${BASH_SOURCE[0]}")/..")
PY=$ROOT/.venv/bin/python
DATA=$(realpath "$ROOT/../shared/data")
SPOT=$DATA/prices/spot/ericpauley_2022-05-31_1820-2359Z_all-regions.tsv
FB=$DATA/traces/swim/FB-2009_samples_24_times_1hr_0.tsv
ALI=$DATA/traces/alibaba_v2017/batch_task_v2017_with_header.csv
