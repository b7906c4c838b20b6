"""Component 6, the budget: scale-up never pushes the estimated spend rate over
`budget_usd_per_hour`.

The spend rate is what the cluster pays per hour now: every instance EMR lists and has not
terminated, at its type's quote on its market (EC2 + EMR), plus units a pool has requested but EMR
does not list yet at that pool's offer price. A listed instance with no quote makes the rate
unknown, and an unknown rate never counts as room: scale-up is refused with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from autoscaler.model import ClusterSnapshot, InstanceState

from .pricing import Offer, OfferKey


@dataclass(frozen=True, slots=True)
class BudgetCut:
    allowed: dict[OfferKey, int]  # offer key -> nodes allowed
    bound: bool
    why: str


def spend_rate(snapshot: ClusterSnapshot, unit_price: Mapping[str, float]) -> float | None:
    """USD/h now; None when a listed instance's price is unknown."""
    total = 0.0
    listed: dict[str, int] = {}
    for inst in snapshot.instances:
        if inst.state is InstanceState.TERMINATED:
            continue
        quote = snapshot.price(inst.instance_type, inst.market)
        if quote is None:
            return None
        total += quote.usd_per_hour
        listed[inst.pool_id] = listed.get(inst.pool_id, 0) + inst.weight
    for pool in snapshot.pools:
        missing = pool.requested.total - listed.get(pool.pool_id, 0)
        if missing > 0 and pool.pool_id in unit_price:
            total += missing * unit_price[pool.pool_id]
    return total


def cap(wanted: Sequence[tuple[Offer, int]], rate: float | None, budget: float | None) -> BudgetCut:
    """Nodes per offer, cheapest first as given, that keep `rate` + additions within `budget`."""
    full = {o.key: n for o, n in wanted}
    if budget is None or not wanted:
        return BudgetCut(full, False, "")
    adding = sum(o.usd_per_hour * n for o, n in wanted)
    if rate is None:
        return BudgetCut(
            {}, True, f"spend rate unknown (an instance has no price): no scale-up under budget ${budget:g}/h"
        )
    allowed: dict[OfferKey, int] = {}
    room = budget - rate
    for offer, n in wanted:
        k = max(min(n, int(room // offer.usd_per_hour)), 0) if offer.usd_per_hour > 0 else n
        allowed[offer.key] = k
        room -= k * offer.usd_per_hour
    if allowed == full:
        return BudgetCut(full, False, f"spend ${rate + adding:.2f}/h within budget ${budget:g}/h")
    kept = sum(allowed.values())
    return BudgetCut(
        allowed,
        True,
        f"spend ${rate:.2f}/h + ${adding:.2f}/h for {sum(full.values())} node(s) would pass budget_usd_per_hour "
        f"${budget:g}; buying {kept}",
    )
