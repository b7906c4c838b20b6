"""Spend rates from a snapshot: what the cluster costs now, and what other capacity would cost.

Shared by the metrics (the actual $/h), shadow policies and `simulate --replay` (the would-be $/h),
so a replayed policy is priced exactly as its shadow is live. Pure: a snapshot in, a rate out; None
when a price it needs is unknown, never zero.
"""

from __future__ import annotations

from collections.abc import Iterable

from autoscaler.model import Capacity, ClusterSnapshot, InstanceState, Market


def estimated_usd_per_hour(snapshot: ClusterSnapshot) -> float | None:
    """Price of every live instance (a node is paid from request until terminated); None without prices."""
    if not snapshot.prices:
        return None
    total = 0.0
    for inst in snapshot.instances:
        if inst.state is InstanceState.TERMINATED:
            continue
        quote = snapshot.price(inst.instance_type, inst.market)
        if quote is not None:
            total += quote.usd_per_hour
    if snapshot.instances:
        return total
    for pool in snapshot.pools:  # no instance list: price the requested units at the first option
        if pool.options:
            opt = pool.options[0]
            for market in (Market.ON_DEMAND, Market.SPOT):
                quote = snapshot.price(opt.instance_type, market)
                if quote is not None:
                    total += quote.usd_per_hour * pool.requested.get(market) / max(opt.weight, 1)
    return total


def capacity_delta_usd_per_hour(
    snapshot: ClusterSnapshot, changes: Iterable[tuple[str, Capacity, Capacity]]
) -> float | None:
    """What moving each pool from one capacity to another adds to the spend rate (negative: saves), per
    market at the pool's first instance type; `changes` are (pool id, from, to)."""
    total = 0.0
    for pool_id, current, target in changes:
        try:
            pool = snapshot.pool(pool_id)
        except KeyError:
            return None
        if not pool.options:
            return None
        option = pool.options[0]
        for market in (Market.ON_DEMAND, Market.SPOT):
            units = target.get(market) - current.get(market)
            if units == 0:
                continue
            quote = snapshot.price(option.instance_type, market)
            if quote is None:
                return None
            total += quote.usd_per_hour * units / max(option.weight, 1)
    return total
