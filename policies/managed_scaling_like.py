"""`managed-scaling-like`: an imitation of Amazon EMR Managed Scaling built from its public documentation.

This is NOT AWS's algorithm, which is not published. It reproduces the documented behaviour:
- Limits (`ComputeLimits`, https://docs.aws.amazon.com/emr/latest/APIReference/API_ComputeLimits.html):
  MinimumCapacityUnits / MaximumCapacityUnits bound all core and task units together;
  MaximumOnDemandCapacityUnits caps on-demand units; MaximumCoreCapacityUnits caps core units.
- Allocation ("Understanding Amazon EMR node allocation strategy and scenarios",
  https://docs.aws.amazon.com/emr/latest/ManagementGuide/managed-scaling-allocation-strategy.html):
  with a core cap set, core grows first up to it and the rest goes to task; with an on-demand cap set,
  on-demand grows first up to it and the rest goes to Spot; scale-down removes task before core and
  never goes below the minimum. Without those caps the docs state no order; here task pools then grow
  cheapest per GB first (Spot before on-demand without prices), and core last.
- Speed (https://docs.aws.amazon.com/emr/latest/ManagementGuide/emr-scale-on-demand.html): metrics are
  evaluated every 5 to 10 seconds, i.e. it reacts to pending demand on the next look, where custom
  rules need five-minute periods. Here: every tick, from the current snapshot, no averaging.

How it decides (our reading, stated so it can be argued with):
- Up: the shortfall is YARN's pending memory and vcores (the counters, or the apps' asks when those
  add up to more) minus what is available now and what is
  already requested but not running; it is covered in whole units of the pools in allocation order,
  within the caps. Below the minimum, it grows to the minimum.
- Down, cautiously: only after `scale_down_after_s` of history with nothing pending in any sample;
  then it releases the memory (and vcores) that stayed free the whole time (the window's minimum of
  availableMB), in whole units, TASK pools before CORE, dearest per GB first, never below the minimum.

Timing: the one published rule is the speed, "Metrics evaluation frequency: Every 5 to 10 seconds"
(EMR Management Guide, "Scaling cluster resources"): it decides on every tick. AWS publishes no
scale-in wait and no step size, so this imitation has neither cooldowns nor step limits; it runs
under the "vendor" guard profile (designs/0004), without our confirmations, cooldowns or
`limits.max_step_*_units` unless its `guards: ours` asks for them. `scale_down_after_s` is an
unpublished constant of ours: its default, 60 s, is the value of 60/120/300/600 s that makes this
imitation cheapest on FB-2009 day 0 (the sensitivity table in BENCHMARKS.md: on the benchmark seed
and on the mean of three seeds), the least flattering choice for the policies compared with it.

Units are EMR's (instances for groups, weighted units for fleets); the limits count every non-master
pool of the snapshot, while only managed pools are resized (as EMR counts core even if it is full).

Options: `minimum_units` (default 0), `maximum_units` (default: the cluster's `limits.max_task_units +
limits.max_core_units`), `maximum_on_demand_units` (default: no cap), `maximum_core_units` (default: no
separate cap), `scale_down_after_s` (default 60).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Self

from pydantic import Field, model_validator

from autoscaler.model import CapacityPool, ClusterSnapshot, Market, PoolRole, Recommendation, Rejection
from autoscaler.policy import PolicyContext
from policies._common import (
    PolicyOptions,
    cheapest_option,
    has_pending,
    observed_since,
    ordered_for_shrink,
    parse_options,
    pool_market,
    preference_key,
    scalable,
    window,
)


class ManagedScalingLikeOptions(PolicyOptions):
    minimum_units: int = Field(0, ge=0, description="MinimumCapacityUnits: core + task units never below.")
    maximum_units: int | None = Field(None, ge=0, description="MaximumCapacityUnits; default from cluster limits.")
    maximum_on_demand_units: int | None = Field(None, ge=0, description="MaximumOnDemandCapacityUnits.")
    maximum_core_units: int | None = Field(None, ge=0, description="MaximumCoreCapacityUnits.")
    scale_down_after_s: float = Field(
        60.0,
        ge=0,
        le=3600,
        description="Seconds of no pending demand before scaling in (unpublished by AWS; see BENCHMARKS).",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.maximum_units is not None and self.maximum_units < self.minimum_units:
            raise ValueError("maximum_units: must be >= minimum_units")
        return self


class _Caps:
    """Running totals against the limits while units are handed out pool by pool."""

    def __init__(self, pools: Iterable[CapacityPool], ctx: PolicyContext, opts: ManagedScalingLikeOptions) -> None:
        pools = tuple(pools)
        limits = ctx.config.limits
        self.ctx = ctx
        self.maximum = (
            opts.maximum_units if opts.maximum_units is not None else limits.max_task_units + limits.max_core_units
        )
        self.minimum = opts.minimum_units
        self.max_od = opts.maximum_on_demand_units
        self.max_core = opts.maximum_core_units
        self.total = sum(p.requested.total for p in pools)
        self.on_demand = sum(p.requested.on_demand for p in pools)
        self.core = sum(p.requested.total for p in pools if p.role is PoolRole.CORE)

    def room_up(self, pool: CapacityPool) -> int:
        room = self.maximum - self.total
        if self.max_core is not None and pool.role is PoolRole.CORE:
            room = min(room, self.max_core - self.core)
        if self.max_od is not None and pool_market(pool, self.ctx) is Market.ON_DEMAND:
            room = min(room, self.max_od - self.on_demand)
        return max(room, 0)

    def add(self, pool: CapacityPool, units: int) -> None:
        self.total += units
        if pool.role is PoolRole.CORE:
            self.core += units
        if pool_market(pool, self.ctx) is Market.ON_DEMAND:
            self.on_demand += units


class ManagedScalingLikePolicy:
    """Fast up to cover pending demand within EMR-style caps; slow, sure scale-in. An imitation."""

    name = "managed-scaling-like"
    guard_profile = "vendor"

    def __init__(self, options: ManagedScalingLikeOptions) -> None:
        self.options = options

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Self:
        return cls(parse_options(ManagedScalingLikeOptions, options))

    def evaluate(self, snapshot: ClusterSnapshot, ctx: PolicyContext) -> Iterable[Recommendation | Rejection]:
        managed = scalable(ctx.managed_pools)
        yarn = snapshot.yarn
        if not managed or yarn is None:
            return []
        caps = _Caps(scalable(snapshot.pools), ctx, self.options)
        if has_pending(yarn, snapshot) or caps.total < caps.minimum:
            return self._up(snapshot, ctx, managed, caps)
        return self._down(snapshot, ctx, caps)

    def _grow_order(
        self, snapshot: ClusterSnapshot, ctx: PolicyContext, pools: tuple[CapacityPool, ...]
    ) -> list[CapacityPool]:
        def rank(p: CapacityPool) -> tuple[int, tuple[float, int, int, str, int]]:
            market = pool_market(p, ctx)
            core = p.role is PoolRole.CORE
            if core:
                step = 0 if self.options.maximum_core_units is not None else 3
            else:
                on_demand_first = self.options.maximum_on_demand_units is not None and market is Market.ON_DEMAND
                step = 1 if on_demand_first else 2
            return step, preference_key(snapshot, p, cheapest_option(snapshot, p, market), market)

        return sorted(pools, key=rank)

    def _up(
        self, snapshot: ClusterSnapshot, ctx: PolicyContext, managed: tuple[CapacityPool, ...], caps: _Caps
    ) -> list[Recommendation | Rejection]:
        yarn = snapshot.yarn
        assert yarn is not None  # checked by evaluate
        arriving = [(p, cheapest_option(snapshot, p, pool_market(p, ctx))) for p in scalable(snapshot.pools)]
        asks = snapshot.pending_requests()
        pending_mb = max(yarn.pending_mb or 0, sum(r.shape.memory_mb * r.count for r in asks))
        pending_vc = max(yarn.pending_vcores or 0, sum(r.shape.vcores * r.count for r in asks))
        mb = float(pending_mb - (yarn.available_mb or 0))
        vc = float(pending_vc - (yarn.available_vcores or 0))
        for pool, o in arriving:
            nodes = pool.provisioning.total / max(o.weight, 1)
            mb -= nodes * o.yarn.memory_mb
            vc -= nodes * o.yarn.vcores
        below_min = max(caps.minimum - caps.total, 0)
        out: list[Recommendation | Rejection] = []
        for pool in self._grow_order(snapshot, ctx, managed):
            o = cheapest_option(snapshot, pool, pool_market(pool, ctx))
            per_mb, per_vc = o.yarn.memory_mb / max(o.weight, 1), o.yarn.vcores / max(o.weight, 1)
            need = max(
                math.ceil(mb / per_mb) if mb > 0 and per_mb > 0 else 0,
                math.ceil(vc / per_vc) if vc > 0 and per_vc > 0 else 0,
                below_min,
            )
            take = min(need, caps.room_up(pool))
            if take <= 0:
                continue
            caps.add(pool, take)
            mb -= take * per_mb
            vc -= take * per_vc
            below_min = max(below_min - take, 0)
            out.append(
                Recommendation(
                    self.name,
                    pool.pool_id,
                    pool.requested.total + take,
                    f"cover pending demand / minimum {caps.minimum}: +{take} units "
                    f"(cluster {caps.total}/{caps.maximum})",
                )
            )
        return out

    def _down(self, snapshot: ClusterSnapshot, ctx: PolicyContext, caps: _Caps) -> list[Recommendation | Rejection]:
        span = self.options.scale_down_after_s
        now = snapshot.taken_at
        if not observed_since(ctx.history, now - span):
            return []
        samples = window(ctx.history, now, span)
        if any(has_pending(s.yarn) or s.yarn.available_mb is None for s in samples):
            return []
        spare_mb = float(min(s.yarn.available_mb or 0 for s in samples))
        spare_vc = min((s.yarn.available_vcores for s in samples if s.yarn.available_vcores is not None), default=None)
        out: list[Recommendation | Rejection] = []
        for pool in ordered_for_shrink(snapshot, ctx):
            o = cheapest_option(snapshot, pool, pool_market(pool, ctx))
            per_mb, per_vc = o.yarn.memory_mb / max(o.weight, 1), o.yarn.vcores / max(o.weight, 1)
            units = math.floor(spare_mb / per_mb) if per_mb > 0 else 0
            if spare_vc is not None and per_vc > 0:
                units = min(units, math.floor(spare_vc / per_vc))
            take = min(units, pool.requested.total, caps.total - caps.minimum)
            if take <= 0:
                continue
            caps.total -= take
            spare_mb -= take * per_mb
            if spare_vc is not None:
                spare_vc -= math.ceil(take * per_vc)
            out.append(
                Recommendation(
                    self.name,
                    pool.pool_id,
                    pool.requested.total - take,
                    f"nothing pending for {span:g} s and >= {take} units free throughout: -{take} units",
                )
            )
        return out
