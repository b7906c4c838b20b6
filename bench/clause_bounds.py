"""Lower bounds on the controllable cost of a run as fast as a reference (BENCHMARKS.md, "Which Target
clauses are reachable"): the oracle floor, a bound from YARN's AM share at the jobs' AM starts (any
policy), and one for policies that keep the AM share satisfied at every instant.

    .venv/bin/python bench/clause_bounds.py --config bench/fb2009.yaml --refs REPORT.json \
        --trace ../shared/data/traces/swim/FB-2009_samples_24_times_1hr_0.tsv --spot-prices FILE --seed 1

**The AM-share bound.** The simulated CapacityScheduler starts an ApplicationMaster only while the AMs,
it included, hold at most `a` (0.1) of the RUNNING nodes' memory, unless no other AM runs
(`autoscaler/sim/placement.py`). Take a complete run whose p95 wait is at most W: at least
`floor((n - 1) * 0.95) + 1` of its n jobs start their AM within W of submit ("fast"; the percentile is
linear between ranks, so the value at that rank is at most W). A fast job i holds its AM at least
over [submit_i + W, submit_i + ideal_i): it started by submit_i + W and runs at least its ideal time.
So when a fast job j starts its AM (some s_j in [submit_j, submit_j + W]), every fast i with
submit_i + W < submit_j and submit_j + W < submit_i + ideal_i holds its AM, and RUNNING memory is at
least (sum of their AM memory + j's) / a, if any such i exists. Above the always-on memory H that is
at least V_j = sum_i m_i / a + min(0, m_j / a - H) MB. A node RUNNING at s_j was requested at least
`boot_min` before (billing starts at the request), so it is paid over [s_j - boot_min, s_j]; for
instants at least `boot_min` apart these intervals are disjoint, so any run pays at least
c * boot_min * sum_t V_t over a set T of fast jobs whose submits are at least boot_min + W apart,
c the cheapest price per YARN MB-second a policy can buy (the oracle floor's). T is chosen by dynamic
programming counting every job as fast; a run's at most `n - fast` slow jobs can only remove their own
instant and their AM from the counts, so the bound subtracts the largest such losses (the top
`n - fast` of each job's total contribution to the sum). Assumes no AM attempt is lost to a Spot
reclaim (a lost AM restarts later, outside its window): the benchmark runs see 0-12 reclaims.

**The continuous-share bound** holds only for a policy that keeps RUNNING memory at least the AMs'
memory / a at every instant two or more AMs run (`hindsight` plans so; a policy that does not lets
the share lapse between AM starts, which YARN allows, as it checks the share only then). Every job
holds its AM at least its ideal time, so the AMs' memory-seconds are at least A = sum m_j * ideal_j
whatever the schedule; the bought memory then pays c * (A / a - (m / a + H) * T), T the run's length
(at most the last submit + the simulator's 7-day overrun stop; m / a for the instants one AM runs
alone, H the always-on memory).
"""

from __future__ import annotations

import argparse
import bisect
import heapq
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autoscaler.sim.boot import Fixed, Uniform
from autoscaler.sim.cluster import SimCluster
from autoscaler.sim.command import cluster_config, load_sim_config
from autoscaler.sim.demand import AM_SHARE, ideal_demand
from autoscaler.sim.oracle import (
    always_on,
    cheapest_usd_per_mb_s,
    oracle_floor,
    shortest_run_s,
)
from autoscaler.sim.runner import MAX_OVERRUN_S, build_prices
from autoscaler.sim.spec import ClusterSpec
from autoscaler.sim.trace import Job, load_trace

MARGIN = 0.75


def fast_jobs(n: int) -> int:
    """Jobs a complete run with p95 wait <= W must start within W (linear interpolation between ranks)."""
    return math.floor((n - 1) * 0.95) + 1 if n else 0


def am_share_bound_mb_s(jobs: Sequence[Job], wait_s: float, slow: int, held_mb: int, boot_min_s: float) -> float:
    """The MB-seconds above `held_mb` any run with at most `slow` jobs waiting over `wait_s` must pay for."""
    ams = sorted((j.submit_s, j.submit_s + j.ideal_s, j.am.memory_mb) for j in jobs if j.am is not None)
    subs = [s for s, _, _ in ams]
    # V_j: the AM memory held (over the share) at j's start by earlier fast jobs still surely running;
    # one sweep in submit order: i joins once submit_i + W < submit_j, leaves once end_i <= submit_j + W
    values: list[float] = []
    live: list[tuple[float, int]] = []  # (end, AM MB), a min-heap
    held = joined = 0
    for submit, _, mem in ams:
        while joined < len(ams) and ams[joined][0] < submit - wait_s:
            heapq.heappush(live, (ams[joined][1], ams[joined][2]))
            held += ams[joined][2]
            joined += 1
        while live and live[0][0] <= submit + wait_s:
            held -= heapq.heappop(live)[1]
        values.append(0.0 if held == 0 else max(0.0, held / AM_SHARE + min(0.0, mem / AM_SHARE - held_mb)))
    # T: the best instants at least boot_min + W apart (weighted interval scheduling on points)
    gap = boot_min_s + wait_s
    best = [0.0] * (len(ams) + 1)
    for k in range(len(ams)):
        prev = bisect.bisect_right(subs, subs[k] - gap)
        best[k + 1] = max(best[k], values[k] + best[prev])
    chosen: list[int] = []
    k = len(ams)
    while k > 0:
        prev = bisect.bisect_right(subs, subs[k - 1] - gap)
        if best[k] != best[k - 1] and math.isclose(best[k], values[k - 1] + best[prev]):
            chosen.append(k - 1)
            k = prev
        else:
            k -= 1
    chosen.reverse()
    at = [subs[t] for t in chosen]
    total = sum(values[t] for t in chosen)
    # what each job, made slow, can take away: its own instant, and its AM from every instant it is counted at
    loss = [0.0] * len(ams)
    for t in chosen:
        loss[t] += values[t]
    for i, (submit, end, mem) in enumerate(ams):
        first = bisect.bisect_right(at, submit + wait_s)
        last = bisect.bisect_left(at, end - wait_s)
        loss[i] += max(0, last - first) * mem / AM_SHARE
    worst = sum(sorted(loss, reverse=True)[:slow])
    return max(0.0, total - worst) * boot_min_s


def continuous_share_mb_s(jobs: Sequence[Job], held_mb: int, run_s: float) -> float:
    """Bought MB-seconds any run of length <= `run_s` needs if the AM share holds at every instant."""
    ams = [j for j in jobs if j.am is not None]
    if not ams:
        return 0.0
    area = sum(j.am.memory_mb * j.ideal_s for j in ams if j.am is not None)
    lone = max(j.am.memory_mb for j in ams if j.am is not None) / AM_SHARE
    return max(0.0, area / AM_SHARE - (lone + held_mb) * run_s)


def boot_min(spec: ClusterSpec) -> float:
    boot = spec.boot_s
    if isinstance(boot, Uniform):
        return boot.low
    if isinstance(boot, Fixed):
        return boot.value
    raise SystemExit(f"boot_s {boot!r}: this bound needs a uniform or fixed boot delay with a known minimum")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument(
        "--refs", required=True, help="a report with the reference rows (simulate's, or hindsight_frontier.py's)"
    )
    parser.add_argument("--trace", required=True)
    parser.add_argument("--trace-scale", type=float, default=1.0)
    parser.add_argument("--spot-prices")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    app, spec = load_sim_config(args.config)
    config, _ = cluster_config(app, spec)
    jobs = load_trace(args.trace, scale=args.trace_scale, model=spec.conversion)
    from autoscaler.sim.command import spot_history  # noqa: PLC0415 - only for the prices

    history, _ = spot_history(args.spot_prices, config.region, spec)
    prices = build_prices(config, spec, history)
    cluster = SimCluster(spec, prices, seed=args.seed)  # the jobs it refuses (no node holds them) never start
    for job in jobs:
        cluster.submit(job)
    refused = {id(j) for j in cluster.rejected}
    runnable = [j for j in jobs if id(j) not in refused]
    core_fixed = not config.guards.scale_core
    _, held_mb = always_on(spec, prices, 0.0, core_fixed=core_fixed, limits=config.limits, managed=config.pools)
    c = cheapest_usd_per_mb_s(spec, prices, core_fixed=core_fixed, managed=config.pools)
    floor = oracle_floor(runnable, spec, prices, core_fixed=core_fixed, limits=config.limits, managed=config.pools)
    given = json.loads(Path(args.refs).read_text())
    refs: list[dict[str, Any]] = given.get("references", given.get("results", []))
    b = boot_min(spec)
    print(
        f"{len(runnable)} of {len(jobs)} jobs runnable; always-on memory {held_mb} MB; c = ${c * 3600 * 1024:.5f}"
        f" per GB-hour of YARN memory; boot >= {b:g} s; oracle floor controllable ${floor.usd - floor.minimum_usd:.2f}"
    )
    span = shortest_run_s(runnable)
    longest = max(j.submit_s for j in runnable) + MAX_OVERRUN_S
    share_span = c * continuous_share_mb_s(runnable, held_mb, span)
    share_any = c * continuous_share_mb_s(runnable, held_mb, longest)
    am_s = sum(j.ideal_s for j in runnable if j.am is not None)
    peak = ideal_demand(runnable, am_only=True).peak_mb
    am_mb = max((j.am.memory_mb for j in runnable if j.am is not None), default=1)
    print(f"ideal schedule: {am_s / span:.1f} AMs at once on average, {peak // am_mb} at most")
    print(
        f"continuous-share bound: ${share_span:.2f} for a run ending at the span ({span / 3600:.1f} h),"
        f" ${share_any:.2f} for one ending at the overrun stop ({longest / 3600:.1f} h)"
    )
    print(
        "| reference | p95 wait s | 0.75 × its controllable $ | fast jobs needed | AM-share bound $ (any policy) |"
        " oracle floor ctrl $ | out of reach (any policy) | out of reach (continuous share) |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for ref in refs:
        if ref["policy"] == "hindsight":
            continue
        w = ref["wait_s"]["p95"]
        need = fast_jobs(len(runnable))
        bound = c * am_share_bound_mb_s(runnable, w, len(runnable) - need, held_mb, b)
        limit = MARGIN * ref["controllable_cost_usd"]
        ctrl_floor = floor.usd - floor.minimum_usd
        proven = "yes" if max(bound, ctrl_floor) > limit else "no"
        done = ref["jobs_completed"]
        partial = "" if done >= len(runnable) else f" (stopped, {done} done: bounds are for complete runs)"
        share = "yes" if max(bound, ctrl_floor, share_any) > limit else "no"
        print(
            f"| {ref['policy']}{partial} | {w:.0f} | {limit:.2f} | {need} of {len(runnable)} | {bound:.2f} |"
            f" {ctrl_floor:.2f} | {proven} | {share} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
