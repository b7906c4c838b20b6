"""The oracle floors: what the trace's work must cost at least, under any policy.

Two parts, both over the trace span S (the last job's submit + ideal run time; no run ends earlier):

* **always-on** (`always_on_usd`): what every policy pays regardless. The master and the core nodes
  no policy may resize (core is fixed unless `guards.scale_core`), plus, in each pool the limits
  bound (`limits.min_task_units` per managed task pool, `limits.min_core_units` for a managed core),
  min(initial size, minimum) units at the pool's cheapest price per unit. These nodes hold `H` MB of
  YARN memory the whole run.
* **work above the always-on nodes**, at the cheapest USD per YARN MB-second `c` of any pool a
  policy can grow (its types and markets, Spot at its lowest replayed price, EC2 + EMR). The demand
  is the trace's ideal no-wait schedule (`autoscaler.sim.demand`): no container can run earlier.

`oracle_floor_usd` = always-on + `c'` × B(S), where B(S) is the backlog at S of a fluid queue fed by
the ideal demand and served at `H`: the MB-seconds that cannot have run on the always-on nodes by
S even if every job waited as long as needed. That work runs on bought nodes (at least `c` per
MB-second) or on the always-on nodes after S (the run is then longer: at least the always-on cost
per MB-second of H, `A/H`), so `c' = min(c, A/H)`. This holds for every policy, whatever waits it
causes, which is why it is the floor a test holds every contestant to.

`no_wait_floor_usd` = always-on + `c` × ∫ max(0, D(t) − H) dt: the demand above the always-on
nodes at each instant. It bounds every schedule that starts each container at its ideal time (no
job ever waits); a policy that makes jobs wait may cost less, by running bursts later on idle
always-on memory. On FB-2009 the first floor is nearly the always-on cost, the second adds most of
the work: together they bracket what buying capacity well is worth.

Why min(initial, minimum) and not the minimum: the engine never takes a bounded pool below its
minimum, and raises one that starts below it only `max_step_up_units` a tick, each step after the
pool's previous nodes booted; so the units a pool starts short are not held from time 0, and when
they arrive depends on the boot draws and the tick. What it starts with (up to the minimum) it does
hold throughout: a Spot reclaim is replaced at the instant of the reclaim (billing never stops, the
replacement's boot only removes capacity, which the floor's `H` still counts: a generous `H` keeps
the floor a floor).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from autoscaler.config import LimitsConfig
from autoscaler.instance_types import yarn_resources
from autoscaler.model import Market, PoolKind, PoolRole
from autoscaler.sim.billing import PriceBook
from autoscaler.sim.demand import DemandCurve, ideal_demand
from autoscaler.sim.job import Job
from autoscaler.sim.spec import ClusterSpec, PoolSpec


@dataclass(frozen=True, slots=True)
class OracleFloor:
    usd: float  # oracle_floor_usd: no policy can cost less
    demand_mb_s: float  # the ideal schedule's MB-seconds
    usd_per_mb_s: float  # c: the cheapest price per YARN MB-second of a pool a policy can grow
    minimum_usd: float  # the always-on nodes over the span (= always_on_usd)
    always_on_mb: int = 0  # H: YARN memory the always-on nodes hold
    backlog_mb_s: float = 0.0  # B(S): work the always-on nodes cannot have done by the span's end
    excess_mb_s: float = 0.0  # the ideal demand above H, summed over time
    no_wait_usd: float | None = None  # no zero-wait schedule can cost less (None: none is possible)

    @property
    def always_on_usd(self) -> float:
        return self.minimum_usd


def _markets(pool: PoolSpec) -> tuple[Market, ...]:
    return (pool.market,) if pool.kind is PoolKind.INSTANCE_GROUP else tuple(Market)


def growable(pool: PoolSpec, *, core_fixed: bool, managed: Collection[str] | None) -> bool:
    """A pool some policy can add nodes to: managed (`config.pools`, else every task pool), not fixed core."""
    if pool.role is PoolRole.MASTER or (pool.role is PoolRole.CORE and core_fixed):
        return False
    return pool.pool_id in managed if managed is not None else True


def cheapest_usd_per_mb_s(
    spec: ClusterSpec, prices: PriceBook, *, core_fixed: bool = False, managed: Collection[str] | None = None
) -> float:
    """c: the lowest price per YARN MB-second over the pools a policy can grow (inf: none)."""
    best = math.inf
    for pool in spec.pools:
        if not growable(pool, core_fixed=core_fixed, managed=managed):
            continue
        for itype in pool.instance_types:
            mem = yarn_resources(itype).memory_mb
            for market in _markets(pool):
                best = min(best, prices.min_usd_per_hour(itype, market) / 3600.0 / mem)
    return best


def _cheapest_unit_usd_per_hour(pool: PoolSpec, prices: PriceBook) -> float:
    """The lowest price one unit of `pool` can ever be billed at, over its types and markets."""
    return min(
        prices.min_usd_per_hour(t, market) / w
        for t, w in zip(pool.instance_types, pool.weights, strict=True)
        for market in _markets(pool)
    )


def largest_unit_mb(pool: PoolSpec) -> int:
    """The most YARN memory one unit of `pool` can hold (an upper bound keeps the floor a floor)."""
    if pool.role is PoolRole.MASTER:
        return 0
    return max(yarn_resources(t).memory_mb // w for t, w in zip(pool.instance_types, pool.weights, strict=True))


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


def always_on(
    spec: ClusterSpec,
    prices: PriceBook,
    span_s: float,
    *,
    core_fixed: bool = True,
    limits: LimitsConfig | None = None,
    managed: Collection[str] | None = None,
) -> tuple[float, int]:
    """(USD over `span_s`, YARN MB held) of the nodes every policy keeps: fixed pools and pool minimums."""
    usd = 0.0
    held_mb = 0
    span_h = span_s / 3600.0
    for pool in spec.pools:
        kept = 0 if limits is None else bounded_minimum_units(pool, limits, core_fixed=core_fixed, managed=managed)
        if kept:
            usd += kept * _cheapest_unit_usd_per_hour(pool, prices) * span_h
            held_mb += kept * largest_unit_mb(pool)
        fixed = pool.role is PoolRole.MASTER or (pool.role is PoolRole.CORE and core_fixed)
        if not fixed:
            continue
        held_mb += pool.initial * largest_unit_mb(pool)  # Spot units too: they run, though not priced below
        if pool.initial_on_demand:
            od = min(
                prices.min_usd_per_hour(t, Market.ON_DEMAND) / w
                for t, w in zip(pool.instance_types, pool.weights, strict=True)
            )
            usd += pool.initial_on_demand * od * span_h
    return usd, held_mb


def backlog_and_excess(curve: DemandCurve, held_mb: int) -> tuple[float, float]:
    """(B, E): the fluid backlog left at the curve's end when `held_mb` serves it, and ∫ max(0, D - H)."""
    backlog = excess = 0.0
    for t0, t1, level in zip(curve.times, curve.times[1:], curve.levels, strict=False):
        dt = t1 - t0
        backlog = max(0.0, backlog + (level - held_mb) * dt)
        excess += max(0, level - held_mb) * dt
    return backlog, excess


def oracle_floor(
    jobs: Sequence[Job],
    spec: ClusterSpec,
    prices: PriceBook,
    *,
    core_fixed: bool = True,
    limits: LimitsConfig | None = None,
    managed: Collection[str] | None = None,
) -> OracleFloor:
    """`core_fixed`: the core pools cannot be resized (guards.scale_core false), so they are always on.

    `limits` and `managed` (`config.limits`, `config.pools`): the pool minimums every policy keeps
    are always on too (`bounded_minimum_units`); without `limits`, only the fixed pools are.
    """
    curve = ideal_demand(jobs)
    span_s = max(shortest_run_s(jobs), 60.0)
    fixed_usd, held_mb = always_on(spec, prices, span_s, core_fixed=core_fixed, limits=limits, managed=managed)
    rate = cheapest_usd_per_mb_s(spec, prices, core_fixed=core_fixed, managed=managed)
    # work left for after the span can run on the always-on nodes instead, at their price per MB-second
    late_rate = fixed_usd / span_s / held_mb if held_mb else math.inf
    backlog, excess = backlog_and_excess(curve, held_mb)
    any_wait_rate = min(rate, late_rate)
    work = backlog * any_wait_rate if backlog and math.isfinite(any_wait_rate) else 0.0
    if not excess:
        no_wait: float | None = fixed_usd
    else:
        no_wait = fixed_usd + excess * rate if math.isfinite(rate) else None
    # in field order: usd, demand_mb_s, usd_per_mb_s, minimum_usd, always_on_mb, backlog, excess, no_wait
    return OracleFloor(fixed_usd + work, curve.mb_seconds(), rate, fixed_usd, held_mb, backlog, excess, no_wait)
