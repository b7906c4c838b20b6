"""What capacity a trace's ideal no-wait schedule needs on the benchmark cluster (BENCHMARKS.md, Alibaba).

    .venv/bin/python bench/capacity_need.py --config bench/alibaba.yaml --trace TRACE [--trace-scale X]

Prints the ideal schedule's peak container memory, its ApplicationMasters' peak, and the peak of the
capacity YARN needs to run it (`effective_demand`: the containers' memory, and the AMs' memory over
the CapacityScheduler's AM share), each in task-pool units beyond what the core nodes hold. A
`max_task_units` below the last figure caps every contestant before any policy choice matters.
"""

from __future__ import annotations

import argparse
import math

from autoscaler.instance_types import yarn_resources
from autoscaler.model import PoolRole
from autoscaler.sim.command import load_sim_config
from autoscaler.sim.demand import AM_SHARE, effective_demand, ideal_demand
from autoscaler.sim.trace import load_trace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--trace", required=True)
    parser.add_argument("--trace-scale", type=float, default=1.0)
    args = parser.parse_args()
    _, spec = load_sim_config(args.config)
    jobs = load_trace(args.trace, scale=args.trace_scale, model=spec.conversion)
    core_mb = sum(
        p.initial * yarn_resources(p.instance_types[0]).memory_mb // p.weights[0]
        for p in spec.pools
        if p.role is PoolRole.CORE
    )
    task = next(p for p in spec.pools if p.role is PoolRole.TASK)
    unit_mb = yarn_resources(task.instance_types[0]).memory_mb // task.weights[0]
    am_peak = ideal_demand(jobs, am_only=True).peak_mb
    print(f"{len(jobs)} jobs; core nodes hold {core_mb} MB; a task unit ({task.instance_types[0]}) {unit_mb} MB")
    for label, mb in (
        ("containers' peak (AMs included)", ideal_demand(jobs).peak_mb),
        (f"AMs' peak over the AM share {AM_SHARE:g}", math.ceil(am_peak / AM_SHARE)),
        ("capacity the ideal schedule needs (the larger, at each instant)", effective_demand(jobs).peak_mb),
    ):
        print(f"{label}: {mb} MB = {max(0, math.ceil((mb - core_mb) / unit_mb))} task units")
    print(f"AMs at once at the peak: {am_peak // jobs[0].am.memory_mb if jobs and jobs[0].am else 0}")


if __name__ == "__main__":
    main()
