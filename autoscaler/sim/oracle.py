"""The oracle floor: what the trace's work would cost with perfect, instant, free-to-start capacity.

Demand is every container's MB-seconds (AMs included, each AM held for its job's ideal run time),
paid at the cheapest USD per MB-second any configured pool ever offers (on-demand or Spot at its
lowest replayed price, EC2 + EMR), with no wait, no boot and no idle memory. Where the always-on minimum (the
master and the initial core nodes, which no policy may remove, times the trace span) costs more,
that is the floor instead. No policy can beat it: every real node pays for idle memory, boots and
drains, and the minimum nodes run the whole time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from autoscaler.instance_types import yarn_resources
from autoscaler.model import Market, PoolRole
from autoscaler.sim.billing import PriceBook
from autoscaler.sim.spec import ClusterSpec
from autoscaler.sim.trace import Job


@dataclass(frozen=True, slots=True)
class OracleFloor:
    usd: float
    demand_mb_s: float
    usd_per_mb_s: float
    minimum_usd: float


def demand_mb_seconds(jobs: Sequence[Job]) -> float:
    total = 0.0
    for job in jobs:
        total += sum(s.mb_seconds for s in job.stages)
        if job.am is not None:
            total += job.am.memory_mb * job.ideal_s
    return total


def cheapest_usd_per_mb_s(spec: ClusterSpec, prices: PriceBook) -> float:
    best = float("inf")
    for pool in spec.pools:
        if pool.role is PoolRole.MASTER:
            continue
        markets = [pool.market] if pool.kind.value == "INSTANCE_GROUP" else list(Market)
        for itype in pool.instance_types:
            mem = yarn_resources(itype).memory_mb
            for market in markets:
                best = min(best, prices.min_usd_per_hour(itype, market) / 3600.0 / mem)
    return best


def shortest_run_s(jobs: Sequence[Job]) -> float:
    """No run can end before every job has been submitted and run at its ideal speed."""
    return max((j.submit_s + j.ideal_s for j in jobs), default=0.0)


def oracle_floor(jobs: Sequence[Job], spec: ClusterSpec, prices: PriceBook, *, core_fixed: bool = True) -> OracleFloor:
    """`core_fixed`: the core pools cannot be resized (guards.scale_core false), so they count in the minimum."""
    demand = demand_mb_seconds(jobs)
    rate = cheapest_usd_per_mb_s(spec, prices)
    span_s = shortest_run_s(jobs)
    minimum = 0.0
    for pool in spec.pools:
        fixed = pool.role is PoolRole.MASTER or (pool.role is PoolRole.CORE and core_fixed)
        if not fixed or pool.initial_on_demand == 0:
            continue
        # the first instance type's price: groups have exactly one; fleets' on-demand side launches the cheapest
        od = min(
            prices.min_usd_per_hour(t, Market.ON_DEMAND) / w
            for t, w in zip(pool.instance_types, pool.weights, strict=True)
        )
        minimum += pool.initial_on_demand * od * max(span_s, 60.0) / 3600.0
    work = demand * rate if rate != float("inf") else 0.0
    return OracleFloor(max(work, minimum), demand, rate, minimum)
