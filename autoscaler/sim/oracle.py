"""The oracle floor: what the trace's work would cost with perfect, instant, free-to-start capacity.

Demand is every container's MB-seconds (AMs included, each AM held for its job's ideal run time),
paid at the cheapest USD per MB-second any configured pool ever offers (on-demand or Spot at its
lowest replayed price, EC2 + EMR), with no wait, no boot and no idle memory. Where the always-on minimum
costs more, that is the floor instead: the master and the initial core nodes (no policy may remove
them), plus, in each pool the limits bound (`limits.min_task_units` per task pool,
`limits.min_core_units` for core with `guards.scale_core`), min(initial size, minimum) units at the
pool's cheapest price per unit, all for the trace span. No policy can beat it: every real node pays
for idle memory, boots and drains, and the minimum nodes run the whole time.

Why min(initial, minimum) and not the minimum: the engine never takes a bounded pool below its
minimum, and raises one that starts below it only `max_step_up_units` a tick, each step after the
pool's previous nodes booted; so the units a pool starts short are not held from time 0, and when
they arrive depends on the boot draws and the tick. What it starts with (up to the minimum) it does
hold throughout: a Spot reclaim is replaced at the instant of the reclaim.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from autoscaler.config import LimitsConfig
from autoscaler.instance_types import yarn_resources
from autoscaler.model import Market, PoolKind, PoolRole
from autoscaler.sim.billing import PriceBook
from autoscaler.sim.spec import ClusterSpec, PoolSpec
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
        for itype in pool.instance_types:
            mem = yarn_resources(itype).memory_mb
            for market in _markets(pool):
                best = min(best, prices.min_usd_per_hour(itype, market) / 3600.0 / mem)
    return best


def _markets(pool: PoolSpec) -> tuple[Market, ...]:
    return (pool.market,) if pool.kind is PoolKind.INSTANCE_GROUP else tuple(Market)


def _cheapest_unit_usd_per_hour(pool: PoolSpec, prices: PriceBook) -> float:
    """The lowest price one unit of `pool` can ever be billed at, over its types and markets."""
    return min(
        prices.min_usd_per_hour(t, market) / w
        for t, w in zip(pool.instance_types, pool.weights, strict=True)
        for market in _markets(pool)
    )


def bounded_minimum_units(
    pool: PoolSpec, limits: LimitsConfig, *, core_fixed: bool, managed: Collection[str] | None = None
) -> int:
    """Units the limits make `pool` hold from start to end under every policy: min(initial, minimum).

    Only pools the engine manages are bounded (`managed`: `config.pools`, None for every task
    pool, and core with `guards.scale_core`); a fixed core pool is counted in full elsewhere.
    """
    if pool.role is PoolRole.MASTER or (pool.role is PoolRole.CORE and core_fixed):
        return 0
    if managed is not None and pool.pool_id not in managed:
        return 0
    minimum = limits.min_core_units if pool.role is PoolRole.CORE else limits.min_task_units
    return min(pool.initial, minimum)


def shortest_run_s(jobs: Sequence[Job]) -> float:
    """No run can end before every job has been submitted and run at its ideal speed."""
    return max((j.submit_s + j.ideal_s for j in jobs), default=0.0)


def oracle_floor(
    jobs: Sequence[Job],
    spec: ClusterSpec,
    prices: PriceBook,
    *,
    core_fixed: bool = True,
    limits: LimitsConfig | None = None,
    managed: Collection[str] | None = None,
) -> OracleFloor:
    """`core_fixed`: the core pools cannot be resized (guards.scale_core false), so they count in the minimum.

    `limits` and `managed` (`config.limits`, `config.pools`): the pool minimums every policy keeps
    count too (`bounded_minimum_units`); without `limits`, only the fixed pools do.
    """
    demand = demand_mb_seconds(jobs)
    rate = cheapest_usd_per_mb_s(spec, prices)
    span_h = max(shortest_run_s(jobs), 60.0) / 3600.0
    minimum = 0.0
    for pool in spec.pools:
        kept = 0 if limits is None else bounded_minimum_units(pool, limits, core_fixed=core_fixed, managed=managed)
        if kept:
            minimum += kept * _cheapest_unit_usd_per_hour(pool, prices) * span_h
        fixed = pool.role is PoolRole.MASTER or (pool.role is PoolRole.CORE and core_fixed)
        if not fixed or pool.initial_on_demand == 0:
            continue
        # the first instance type's price: groups have exactly one; fleets' on-demand side launches the cheapest
        od = min(
            prices.min_usd_per_hour(t, Market.ON_DEMAND) / w
            for t, w in zip(pool.instance_types, pool.weights, strict=True)
        )
        minimum += pool.initial_on_demand * od * span_h
    work = demand * rate if rate != float("inf") else 0.0
    return OracleFloor(max(work, minimum), demand, rate, minimum)
