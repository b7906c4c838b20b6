"""`hindsight`: a simulator-only contestant that knows the trace's future demand.

It answers "how close to the possible is a policy?" with a plan that is achievable, unlike the oracle
floors: it buys real nodes that boot, bill per second and drain, through the same engine, guards
and simulated cluster as every other contestant. What it knows that no real policy can is the
trace's ideal demand curve (`autoscaler.sim.demand`).

The plan (`capacity_plan`, computed once per run): on a grid of one tick, the least YARN capacity
that lets a fluid queue of the ideal demand finish every MB-second within `max_wait_s` of its ideal
time, counting the backlog the plan itself leaves (so a pool at its `max_*_units` is planned
as the cap it is): C(τ) = max over b in (τ, τ + horizon] of (backlog(τ) + work(τ, b)) / (b − τ +
max_wait_s), at least the always-on memory, at most what the managed pools can hold. A short burst
is spread over its wait allowance instead of buying nodes that would idle through their boot and
EMR's ten minutes; a sustained load gets its level.

Each tick it asks for the highest planned capacity of the next `lookahead_s` (default: the boot
delay's 95th percentile plus one tick): a node requested now is up when the plan needs it, and a
node is given back only when no part of the next boot delay needs it (kept is then cheaper than
re-bought). It never asks for less than YARN has allocated now. It fills the cheapest pools first
(price per YARN MB from the snapshot's prices), each up to its `max_*_units`.

How the simulator makes it available: `--policy hindsight` (alone or in an `A+B` contestant) is
built by `autoscaler.sim.runner` with the run's demand curve injected (`hindsight_policy`). It is not
in the `emr_autoscaler.policies` entry-point group, so the daemon can never load it (`run`,
`validate` and `explain` report it as unknown). Options come, as for any policy, from a `hindsight`
entry in the `--config` file's policies: `max_wait_s` (default 60), `lookahead_s`, `horizon_s`.

Like every policy it is pure: the snapshot and the injected plan in, recommendations out.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from autoscaler.config import ClusterConfig
from autoscaler.model import (
    CapacityPool,
    ClusterSnapshot,
    InstanceOption,
    Market,
    NodeState,
    PoolRole,
    Recommendation,
    Rejection,
)
from autoscaler.policy import PolicyContext
from autoscaler.sim.demand import DemandCurve
from autoscaler.sim.oracle import growable, largest_unit_mb
from autoscaler.sim.spec import ClusterSpec

NAME: Final = "hindsight"
SIM_ONLY_POLICIES: Final = frozenset({NAME})


class HindsightOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_wait_s: float = Field(60.0, ge=0, description="The wait the plan allows work before it must run.")
    lookahead_s: float | None = Field(
        None, gt=0, description="How far ahead it buys for; default: the boot delay's 95th percentile + one tick."
    )
    horizon_s: float = Field(1800.0, gt=0, description="The longest interval of future work one plan step weighs.")


def boot_p95_s(spec: ClusterSpec, draws: int = 1000) -> float:
    """The 95th percentile of the cluster's boot delay, from its own distribution (a fixed seed)."""
    rng = random.Random("hindsight-boot")
    samples = sorted(spec.boot_s.sample(rng) for _ in range(draws))
    return samples[min(draws - 1, math.ceil(0.95 * draws) - 1)]


def capacity_plan(
    demand: DemandCurve, *, held_mb: int, max_mb: int, step_s: float, horizon_s: float, max_wait_s: float
) -> DemandCurve:
    """C(τ) on a grid of `step_s`: the least capacity that runs every MB-second within `max_wait_s`.

    Work arriving in step j is due by the step's end + `max_wait_s`. At each step the plan takes the
    lowest rate that, held from now on, meets every deadline of the work waiting and of the work
    arriving over the next `horizon_s` (max over deadlines d of work due by d / time left to d),
    but never more than the waiting work itself (capacity before work arrives serves nothing).
    `held_mb` is the always-on memory (the floor of the plan), `max_mb` the most the pools hold:
    work the cap leaves undone waits, and the plan carries it (overdue work is due at once).
    """
    end = demand.times[-1] if demand.times else 0.0
    reach = max(1, math.ceil(horizon_s / step_s))
    count = math.ceil(end / step_s) + 1
    area = demand.areas_every(step_s, count + reach + 1)
    arrivals = [b - a for a, b in itertools.pairwise(area)]
    waiting: deque[list[float]] = deque()  # [deadline s, MB-s], oldest first
    times: list[float] = []
    levels: list[int] = []
    j = 0
    while j < count or waiting:
        now = j * step_s
        if j < len(arrivals) and arrivals[j] > 0:
            waiting.append([(j + 1) * step_s + max_wait_s, arrivals[j]])
        while len(waiting) > 1 and waiting[1][0] <= now + step_s:  # overdue together: one item
            first = waiting.popleft()
            waiting[0][1] += first[1]
        due = rate = 0.0
        for deadline, amount in waiting:
            due += amount
            rate = max(rate, due / max(deadline - now, step_s))
        for i in range(j + 1, min(j + reach, len(arrivals) - 1) + 1):
            due += arrivals[i]
            rate = max(rate, due / ((i + 1) * step_s + max_wait_s - now))
        level = min(max_mb, max(held_mb, math.ceil(min(rate, sum(w[1] for w in waiting) / step_s))))
        served = level * step_s
        while waiting and served > 0:
            take = min(served, waiting[0][1])
            served -= take
            waiting[0][1] -= take
            if waiting[0][1] <= 1e-6:
                waiting.popleft()
        if not levels or levels[-1] != level:
            times.append(now)
            levels.append(level)
        j += 1
    if not levels or levels[-1] != held_mb:
        times.append(j * step_s)
        levels.append(held_mb)
    return DemandCurve(tuple(times), tuple(levels))


def hindsight_policy(
    options: Mapping[str, Any],
    demand: DemandCurve,
    *,
    spec: ClusterSpec,
    config: ClusterConfig,
    poll_interval_s: float,
    held_mb: int,
) -> HindsightPolicy:
    """The contestant for one run: `demand` is its ideal demand curve (refused jobs left out), `held_mb` H."""
    try:
        parsed = HindsightOptions.model_validate(dict(options))
    except ValidationError as err:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}" for e in err.errors()]
        raise ValueError("; ".join(problems)) from None
    lookahead = parsed.lookahead_s or boot_p95_s(spec) + poll_interval_s
    plan = capacity_plan(
        demand,
        held_mb=held_mb,
        max_mb=held_mb + max_growth_mb(spec, config),
        step_s=poll_interval_s,
        horizon_s=parsed.horizon_s,
        max_wait_s=parsed.max_wait_s,
    )
    return HindsightPolicy(plan.window_max(lookahead), spec.start_at, lookahead, parsed.max_wait_s)


def max_growth_mb(spec: ClusterSpec, config: ClusterConfig) -> int:
    """YARN memory the pools a policy can grow hold at their `max_*_units`."""
    core_fixed = not config.guards.scale_core
    total = 0
    for pool in spec.pools:
        if not growable(pool, core_fixed=core_fixed, managed=config.pools):
            continue
        units = config.limits.max_core_units if pool.role is PoolRole.CORE else config.limits.max_task_units
        total += units * largest_unit_mb(pool)
    return total


def _price_per_mb(snapshot: ClusterSnapshot, option: InstanceOption, market: Market) -> float:
    quote = snapshot.price(option.instance_type, market)
    return math.inf if quote is None else quote.usd_per_hour / max(option.yarn.memory_mb, 1)


def _cheapest(snapshot: ClusterSnapshot, pool: CapacityPool, market: Market) -> InstanceOption:
    return min(pool.options, key=lambda o: (_price_per_mb(snapshot, o, market), -o.yarn.memory_mb))


def _max_units(pool: CapacityPool, config: ClusterConfig) -> int:
    return config.limits.max_core_units if pool.role is PoolRole.CORE else config.limits.max_task_units


class HindsightPolicy:
    """Buys, one lookahead ahead, what the future demand needs; sim-only (see the module docstring)."""

    name = NAME
    # the plan already times every purchase and release from the future it knows; our cooldowns and
    # scale-in confirmations damp noisy signals it does not have (EMR's own rules still apply)
    guard_profile = "vendor"

    def __init__(self, soon: DemandCurve, start_at: float, lookahead_s: float, max_wait_s: float) -> None:
        self.soon = soon  # highest planned capacity over [t, t + lookahead_s], t from the trace's start
        self.start_at = start_at
        self.lookahead_s = lookahead_s
        self.max_wait_s = max_wait_s

    def evaluate(self, snapshot: ClusterSnapshot, ctx: PolicyContext) -> Iterable[Recommendation | Rejection]:
        ahead_mb = self.soon.at(snapshot.taken_at - self.start_at)
        yarn = snapshot.yarn
        now_mb = 0 if yarn is None else yarn.allocated_mb or 0
        need_mb = max(ahead_mb, now_mb)
        pools = [p for p in ctx.managed_pools if p.role is not PoolRole.MASTER and p.options]
        managed = {p.pool_id for p in pools}
        # a node whose usage YARN did not report holds no known capacity: counted as none, so more is bought
        fixed_mb = sum(
            cap.memory_mb
            for n in snapshot.nodes
            if n.state is NodeState.RUNNING and n.pool_id not in managed and (cap := n.capacity) is not None
        )
        spot = ctx.config.spot.prefer_spot
        choices = []
        for pool in pools:
            market = pool.market or (Market.SPOT if spot else Market.ON_DEMAND)
            option = _cheapest(snapshot, pool, market)
            choices.append((_price_per_mb(snapshot, option, market), pool.pool_id, pool, option, market))
        choices.sort(key=lambda c: (c[0], c[1]))
        left = max(0, need_mb - fixed_mb)
        why = (
            f"{need_mb} MB needed (planned for waits <= {self.max_wait_s:.0f} s over the next"
            f" {self.lookahead_s:.0f} s: {ahead_mb} MB; allocated now: {now_mb} MB), {fixed_mb} MB on unmanaged nodes"
        )
        out: list[Recommendation | Rejection] = []
        for per_mb, _, pool, option, market in choices:
            per_unit = option.yarn.memory_mb / max(option.weight, 1)
            units = min(_max_units(pool, ctx.config), math.ceil(left / per_unit)) if left > 0 else 0
            left = max(0, left - math.floor(units * per_unit))
            quote = snapshot.price(option.instance_type, market)
            cost = "" if quote is None else f" at ${quote.usd_per_hour / max(option.weight, 1) * units:.3f}/h"
            detail = f"{why}: {units} units of {option.instance_type} {market.value}{cost}"
            if not math.isfinite(per_mb):
                detail += " (unpriced)"
            out.append(Recommendation(self.name, pool.pool_id, units, detail, market=None if pool.market else market))
        return out
