"""Where one contestant's controllable dollars go, tick by tick (BENCHMARKS.md "cost-optimizer").

Replays a trace as `simulate` does (the same snapshot → `run_tick` loop) and, every tick, charges each
task node's price for that tick to one bucket: booting (requested, not yet a NodeManager), draining,
the used share of a running node's YARN memory ("busy"), or its free share, split by whether anything
was pending cluster-wide then ("idle, nothing pending" is capacity no job wanted; "idle while pending"
is memory the pending shapes could not use). Each bucket is split by market. The buckets sum to the
controllable cost up to the last tick's rounding. Usage, from the repo root:

    .venv/bin/python bench/cost_breakdown.py --config bench/fb2009.yaml --policy cost-optimizer \
        --trace bench/out/FB-2009_samples_24_times_1hr_0_h00-11.tsv \
        --spot-prices ../shared/data/prices/spot/ericpauley_2022-05-31_1820-2359Z_all-regions.tsv --seed 1
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from dataclasses import replace

from autoscaler.model import ControllerMemory, Market, PoolRole
from autoscaler.sim.actuator import SimActuator
from autoscaler.sim.cluster import SimCluster
from autoscaler.sim.command import cluster_config, load_sim_config, policy_runs, spot_history
from autoscaler.sim.node import Lifecycle
from autoscaler.sim.runner import build_prices, contestant_policies
from autoscaler.sim.trace import load_trace
from autoscaler.tick import run_tick

BUCKETS = ("booting", "draining", "busy", "idle, nothing pending", "idle while pending")


def breakdown(args: argparse.Namespace) -> dict[tuple[str, str], float]:
    """$ per (market, bucket) over one replay of the trace under `args.policy`."""
    app, spec = load_sim_config(args.config)
    config, poll = cluster_config(app, spec)
    spec = replace(spec, cluster_id=config.cluster_id)
    specs = policy_runs([args.policy], config)[0]
    jobs = load_trace(args.trace, model=spec.conversion)
    history, _ = spot_history(args.spot_prices, config.region, spec)
    prices = build_prices(config, spec, history)
    cluster = SimCluster(spec, prices, seed=args.seed)
    for job in jobs:
        cluster.submit(job)
    refused = {id(j) for j in cluster.rejected}
    runnable = [j for j in jobs if id(j) not in refused]
    policies = contestant_policies(specs, runnable, spec=spec, config=config, prices=prices, poll_interval_s=poll)
    task_pools = {p.pool_id for p in spec.pools if p.role is PoolRole.TASK}
    actuator, memory = SimActuator(cluster), ControllerMemory()
    usd: dict[tuple[str, str], float] = defaultdict(float)
    last_submit = spec.start_at + max(j.submit_s for j in jobs)
    t = spec.start_at
    while True:
        cluster.advance_to(t)
        snapshot = cluster.snapshot()
        memory = run_tick(snapshot, memory, policies, config, actuator, now=t).memory
        pending = bool(snapshot.yarn and snapshot.yarn.pending_mb)
        for node in cluster.live_nodes():
            if node.pool_id not in task_pools or node.state is Lifecycle.TERMINATED:
                continue
            tick_usd = prices.usd_per_hour(node.instance_type, node.market, t) * poll / 3600
            market = "Spot" if node.market is Market.SPOT else "On-Demand"
            if node.state is Lifecycle.BOOTING:
                usd[market, "booting"] += tick_usd
            elif node.state is Lifecycle.DECOMMISSIONING:
                usd[market, "draining"] += tick_usd
            else:
                used = 1 - node.free_mem / node.cap_mem if node.cap_mem else 0.0
                usd[market, "busy"] += tick_usd * used
                usd[market, "idle while pending" if pending else "idle, nothing pending"] += tick_usd * (1 - used)
        arrived = len(cluster.workload.jobs) + len(cluster.rejected) == len(jobs)
        if t >= last_submit and arrived and not cluster.workload.active:
            break
        t += poll
    return usd


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--policy", required=True)
    parser.add_argument("--trace", required=True)
    parser.add_argument("--spot-prices")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    usd = breakdown(args)
    print(f"{args.policy}: task nodes' cost by bucket, $ (seed {args.seed})")
    print("| bucket | Spot | On-Demand | total |")
    print("|---|---:|---:|---:|")
    for bucket in BUCKETS:
        spot, od = usd["Spot", bucket], usd["On-Demand", bucket]
        print(f"| {bucket} | {spot:.2f} | {od:.2f} | {spot + od:.2f} |")
    spot, od = sum(v for (m, _), v in usd.items() if m == "Spot"), sum(v for (m, _), v in usd.items() if m != "Spot")
    print(f"| **total** | {spot:.2f} | {od:.2f} | {spot + od:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
