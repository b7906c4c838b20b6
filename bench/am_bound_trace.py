"""A synthetic AM-bound workload in Alibaba v2017 `batch_task` format (development trace, issue 9).

Many small jobs at once: each holds one of EMR's 6 GiB ApplicationMasters for its whole run while
its tasks need little memory, so YARN's AM share (an AM starts only while AMs hold at most 10% of
the cluster's memory) binds long before the containers fill the cluster. It is the development
trace for `cost-optimizer`'s AM-share demand; the Alibaba v2017 trace itself stays held out.

Jobs arrive as a Poisson stream whose rate steps every hour (0.5-4 jobs/min), plus a burst of 40
jobs in the fourth hour; each has 1-3 stages of 1-8 containers of 1-4% of Alibaba's 96 GiB
machine, 2-15 minutes each. Written from a fixed seed, so the file is reproducible:

    .venv/bin/python bench/am_bound_trace.py --out bench/out/am-bound.csv --seed 7
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

HOURS = 6
RATES_PER_MIN = (1.0, 3.0, 0.5, 2.0, 4.0, 1.0)  # one per hour
BURST_AT_S, BURST_JOBS = 3.5 * 3600, 40
ORIGIN_S = 1000  # Alibaba timestamps are > 0


def _job(rng: random.Random, job_id: int, submit_s: float, rows: list[list[object]]) -> None:
    t = ORIGIN_S + int(submit_s)
    for task_id in range(1, rng.randint(1, 3) + 1):
        length = rng.randint(120, 900)
        rows.append(
            [t, t + length, job_id, task_id, rng.randint(1, 8), "Terminated", 100, f"{rng.uniform(0.01, 0.04):.6f}"]
        )
        t += length


def generate(seed: int) -> list[list[object]]:
    rng = random.Random(seed)
    rows: list[list[object]] = []
    job_id = 0
    for hour, rate in enumerate(RATES_PER_MIN[:HOURS]):
        t = hour * 3600.0
        while True:
            t += rng.expovariate(rate / 60)
            if t >= (hour + 1) * 3600:
                break
            job_id += 1
            _job(rng, job_id, t, rows)
    for _ in range(BURST_JOBS):
        job_id += 1
        _job(rng, job_id, BURST_AT_S + rng.uniform(0, 60), rows)
    return sorted(rows, key=lambda r: (r[0], r[2], r[3]))  # type: ignore[return-value]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rows = generate(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["task_create_time", "task_end_time", "job_id", "task_id", "number_of_instances", "status",
                    "cpus_per_instance", "normalized_memory_per_instance"])  # fmt: skip
        w.writerows(rows)
    print(f"{args.out}: {len({r[2] for r in rows})} jobs, {len(rows)} tasks (seed {args.seed})")


if __name__ == "__main__":
    main()
