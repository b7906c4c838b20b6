"""What every built-in policy needs: strict option parsing, unit arithmetic, history windows.

Kept here so each policy module reads as its algorithm and nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from autoscaler.model import (
    CapacityPool,
    ClusterSnapshot,
    InstanceOption,
    Market,
    MetricSample,
    PoolRole,
    Resources,
    YarnMetrics,
)
from autoscaler.policy import PolicyContext
from autoscaler.settling import resize_in_flight


class PolicyOptions(BaseModel):
    """Base for each policy's options: immutable, an unknown key is an error, not ignored, and no float is
    `.inf` or `.nan` (YAML floats, never a duration, a percentage or a price)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


OptionsT = TypeVar("OptionsT", bound=PolicyOptions)


def parse_options(model: type[OptionsT], options: Mapping[str, Any]) -> OptionsT:
    """Validate options, raising one ValueError that names every bad option (`factor: must be ...`)."""
    try:
        return model.model_validate(dict(options))
    except ValidationError as err:
        problems = []
        for e in err.errors():
            loc = ".".join(str(p) for p in e["loc"]) or "options"
            if e["type"] == "extra_forbidden":
                known = ", ".join(sorted(model.model_fields))
                problems.append(f"{loc}: unknown option (known: {known})")
            else:
                problems.append(f"{loc}: {e['msg'].removeprefix('Value error, ')}")
        raise ValueError("; ".join(problems)) from None


def pool_market(pool: CapacityPool, ctx: PolicyContext) -> Market:
    """The market new units of this pool land on: the group's own, or the configured fleet preference."""
    if pool.market is not None:
        return pool.market
    return Market.SPOT if ctx.config.spot.prefer_spot else Market.ON_DEMAND


def usd_per_gb_hour(snapshot: ClusterSnapshot, option: InstanceOption, market: Market) -> float | None:
    """Price of one YARN GB of an option: comparable across pools whose units differ in size."""
    quote = snapshot.price(option.instance_type, market)
    if quote is None or option.yarn.memory_mb <= 0:
        return None
    return quote.usd_per_hour / (option.yarn.memory_mb / 1024)


def preference_key(
    snapshot: ClusterSnapshot, pool: CapacityPool, option: InstanceOption, market: Market
) -> tuple[float, int, int, str, int]:
    """Cheapest per GB first; without a price, Spot before on-demand; TASK before CORE; stable by id."""
    price = usd_per_gb_hour(snapshot, option, market)
    return (
        math.inf if price is None else price,
        0 if market is Market.SPOT else 1,
        0 if pool.role is PoolRole.TASK else 1,
        pool.pool_id,
        -option.yarn.memory_mb,
    )


def cheapest_option(snapshot: ClusterSnapshot, pool: CapacityPool, market: Market) -> InstanceOption:
    """The option new units of a pool are assumed to be (fleets choose for themselves; we estimate)."""
    if len(pool.options) == 1:  # an instance group: nothing to rank (the key is pure)
        return pool.options[0]
    return min(pool.options, key=lambda o: preference_key(snapshot, pool, o, market))


def mb_per_unit(option: InstanceOption) -> float:
    return option.yarn.memory_mb / max(option.weight, 1)


def scalable(pools: Iterable[CapacityPool]) -> tuple[CapacityPool, ...]:
    """Managed pools that have instance options (MASTER never; the engine also refuses it)."""
    return tuple(p for p in pools if p.role is not PoolRole.MASTER and p.options)


def ordered_for_scaling(snapshot: ClusterSnapshot, ctx: PolicyContext) -> tuple[CapacityPool, ...]:
    """Managed pools in the order a cluster-wide algorithm should grow them (and shrink them reversed)."""
    pools = scalable(ctx.managed_pools)
    if len(pools) <= 1:  # nothing to order (the key is pure)
        return pools
    return tuple(
        sorted(
            pools,
            key=lambda p: preference_key(
                snapshot, p, cheapest_option(snapshot, p, pool_market(p, ctx)), pool_market(p, ctx)
            ),
        )
    )


def window(history: Iterable[MetricSample], now: float, seconds: float) -> tuple[MetricSample, ...]:
    """Samples taken in [now - seconds, now]."""
    return tuple(s for s in history if now - seconds <= s.at <= now)


def observed_since(history: tuple[MetricSample, ...], start: float) -> bool:
    """True when history reaches back to `start`, i.e. a window beginning there was fully watched."""
    return bool(history) and history[0].at <= start


def has_pending(yarn: YarnMetrics | None, snapshot: ClusterSnapshot | None = None) -> bool:
    """Any sign of demand YARN could not place: asks from apps or the cluster counters."""
    if snapshot is not None and snapshot.pending_requests():
        return True
    if yarn is None:
        return False
    return bool(yarn.containers_pending) or bool(yarn.pending_mb) or bool(yarn.pending_vcores)


def describe(res: Resources) -> str:
    return f"{res.memory_mb} MB/{res.vcores} vcores"


def ordered_for_shrink(snapshot: ClusterSnapshot, ctx: PolicyContext) -> tuple[CapacityPool, ...]:
    """TASK before CORE; within a role the dearest per GB first (unpriced: on-demand before Spot)."""

    def key(p: CapacityPool) -> tuple[int, int, float, int, str]:
        market = pool_market(p, ctx)
        price = usd_per_gb_hour(snapshot, cheapest_option(snapshot, p, market), market)
        return (
            0 if p.role is PoolRole.TASK else 1,
            0 if price is not None else 1,
            -(price or 0.0),
            0 if market is Market.ON_DEMAND else 1,
            p.pool_id,
        )

    return tuple(sorted(scalable(ctx.managed_pools), key=key))


def vendor_cooldown_left(ctx: PolicyContext, pools: Iterable[CapacityPool], cooldown_s: float) -> float | None:
    """Seconds before a vendor cooldown counted from the *completion* of the pools' last resize
    ends: None when free to act, `inf` while a resize is still in flight (`autoscaler.settling`)."""
    pools = tuple(pools)
    if any(resize_in_flight(ctx.memory.pool(p.pool_id), p) for p in pools):
        return math.inf
    done = [t for p in pools if (t := ctx.memory.pool(p.pool_id).last_resize_completed_at) is not None]
    if not done:
        return None
    left = cooldown_s - (ctx.now - max(done))
    return left if left > 0 else None
