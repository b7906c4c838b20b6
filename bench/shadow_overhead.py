"""Tick time with and without shadow policies (issue 12 §3): the daemon's `tick_cluster` in-process.

One cluster of a core group and a task group (40 RUNNING nodes, 20 apps with pending asks), live policies
`pending-demand` + `idle-capacity`, and 0, 1 or 3 shadow policies (`pending-demand` with headroom,
`cost-optimizer`, `dataproc`). Each configuration runs N ticks on the same snapshot (dry run: nothing
changes between ticks) with real `Metrics` and a recording actuator; reports the median and p95 tick
time and the median overhead over no shadows. Collection (YARN/EMR HTTP) is not included: it is the
same with or without shadows.

    .venv/bin/python bench/shadow_overhead.py --ticks 300
"""

from __future__ import annotations

import argparse
import statistics
import time

from autoscaler.loop import ClusterDeps, Deps, tick_cluster
from autoscaler.metrics import Health, Metrics
from autoscaler.model import ClusterSnapshot, ControllerMemory, Market, PoolRole, PriceQuote
from autoscaler.policy import load_policies
from autoscaler.shadow import Shadows, shadow_names
from autoscaler.testing import (
    ListLogger,
    RecordingActuator,
    make_app,
    make_cluster_config,
    make_node,
    make_pool,
    make_snapshot,
)

SHADOWS = [
    {"type": "pending-demand", "options": {"headroom_pct": 20}},
    {"type": "cost-optimizer"},
    {"type": "dataproc"},
]


def snapshot(now: float) -> ClusterSnapshot:
    nodes = [make_node(f"h{i}", containers=2) for i in range(40)]
    apps = [make_app(f"application_1_{i:04d}", am_host="h0", pending=5, memory_mb=4096) for i in range(20)]
    pools = [
        make_pool("ig-core", role=PoolRole.CORE, market=Market.ON_DEMAND, requested=10),
        make_pool("ig-t", requested=30),
    ]
    prices = [
        PriceQuote("m5.xlarge", Market.SPOT, 0.08, 0.048),
        PriceQuote("m5.xlarge", Market.ON_DEMAND, 0.192, 0.048),
    ]
    return make_snapshot(taken_at=now, nodes=nodes, apps=apps, pools=pools, prices=prices)


def measure(n_shadows: int, ticks: int) -> list[float]:
    config = make_cluster_config(
        policies=[{"type": "pending-demand"}, {"type": "idle-capacity"}], shadow_policies=SHADOWS[:n_shadows]
    )
    names = shadow_names([s.type for s in config.shadow_policies])
    shadows = Shadows(list(zip(names, load_policies(config.shadow_policies), strict=True)))
    cluster = ClusterDeps(config, snapshot, RecordingActuator(), load_policies(config.policies), shadows=shadows)
    deps = Deps((cluster,), Metrics(), Health(30, (config.cluster_id,), started_at=0.0), ListLogger())
    memory, out = ControllerMemory(), []
    for i in range(ticks):
        started = time.perf_counter()
        memory = tick_cluster(deps, cluster, memory, 1_700_000_000.0 + 30 * i)
        out.append(time.perf_counter() - started)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticks", type=int, default=300)
    args = parser.parse_args()
    base = None
    print("| shadows | median tick ms | p95 tick ms | median overhead ms |")
    print("|---:|---:|---:|---:|")
    for n in (0, 1, 3):
        times = sorted(measure(n, args.ticks)[10:])  # first ticks warm caches
        median, p95 = statistics.median(times) * 1000, times[int(0.95 * (len(times) - 1))] * 1000
        base = median if base is None else base
        print(f"| {n} | {median:.2f} | {p95:.2f} | {median - base:+.2f} |")


if __name__ == "__main__":
    main()
