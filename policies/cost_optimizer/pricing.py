"""Component 1, price- and risk-aware capacity: every option a pool offers, scored by its expected
dollars per usable YARN GB-hour for the shapes pending now.

An offer is (pool, instance type, market): an instance group offers its type on its market, a fleet
each type on both markets. Its hourly cost is the snapshot's quote (EC2, the live Spot price for
Spot, plus the EMR charge) plus an interruption penalty: the expected cost of the work a reclaim
throws away and of the replacement's boot, `hazard/h × (rerun_s + boot_s) × price`. The hazard is
the middle of the type's Spot Advisor band; a type with a live interruption notice in this cluster
is scored at the worst band (what this cluster sees beats the regional average); an unknown band
is the middle band, never zero risk. "Usable" counts only the memory the pending shapes can fill:
a node that holds one 10 GB container in 12 GB wastes 2 GB (component 2, shape fit).

A Spot pool backing off after a capacity error offers nothing until its back-off ends, so demand
falls back to On-Demand. While the cheapest pool cannot grow now (resizing: not RUNNING, so EMR
would refuse the write; or at its maximum, `limits.max_task_units`) the next one is used only if it
is within `price_improvement_factor` of it; otherwise the purchase waits for the cheapest pool (an
operator who would pay On-Demand for the wait raises the factor past the On-Demand/Spot ratio).
Paying twice as much for On-Demand nodes to save part of a boot's wait is the operator's call, not a
default: on FB-2009's first 12 hours (seeds 1–3, before the lock cover) buying On-Demand beside a
resizing Spot group once the backlog was past the target and a boot cost $24–30 more for a p95 wait
5–692 s shorter (targets 0–600 s), and letting On-Demand take over from a Spot group at its maximum
$32 more for 105 s (target 60 s: $47.77 / 683 s → $80.02 / 578 s).
Capacity keeps being bought where it already is unless another offer is cheaper by
`price_improvement_factor`, so a few cents never move it back and forth.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from autoscaler.model import (
    CapacityPool,
    ClusterSnapshot,
    ControllerMemory,
    InstanceOption,
    Market,
    PoolState,
    Resources,
)
from policies._packing import per_node

#: Spot Advisor bands "<5%", "5-10%", "10-15%", "15-20%", ">20%" interrupted a month, at their middle.
BAND_MONTHLY_RATE: tuple[float, ...] = (0.025, 0.075, 0.125, 0.175, 0.25)
UNKNOWN_BAND = 2
WORST_BAND = len(BAND_MONTHLY_RATE) - 1
_HOURS_PER_MONTH = 730.0


OfferKey = tuple[str, str, Market]  # pool id, instance type, market


@dataclass(frozen=True, slots=True)
class Offer:
    pool: CapacityPool
    option: InstanceOption
    market: Market
    usd_per_hour: float  # EC2 + EMR, one node
    risk_usd_per_hour: float  # expected interruption cost per node-hour
    band: int | None  # Spot Advisor band used (None for On-Demand)
    full: bool = False  # the pool is at its configured maximum

    @property
    def busy(self) -> bool:
        """EMR resizes a pool only when RUNNING, and a pool at its maximum cannot grow: not buyable now."""
        return self.full or self.pool.state is not PoolState.RUNNING

    @property
    def state(self) -> str:
        return "at its maximum" if self.full else self.pool.state.value

    @property
    def label(self) -> str:
        return (
            f"{self.option.instance_type} {'Spot' if self.market is Market.SPOT else 'On-Demand'} ({self.pool.pool_id})"
        )

    @property
    def key(self) -> OfferKey:
        return self.pool.pool_id, self.option.instance_type, self.market

    @property
    def expected_usd_per_hour(self) -> float:
        return self.usd_per_hour + self.risk_usd_per_hour

    def usable_mb(self, shapes: Mapping[Resources, int]) -> float:
        """YARN MB of one node the pending shapes can fill, weighted by each shape's share of pending MB
        (shapes carry 0 vcores when YARN places by memory only)."""
        node = self.option.yarn
        total = sum(s.memory_mb * n for s, n in shapes.items())
        if total <= 0:
            return float(node.memory_mb)
        usable = 0.0
        for shape, n in shapes.items():
            fits = per_node(shape, node.memory_mb, node.vcores)
            usable += (shape.memory_mb * n / total) * fits * shape.memory_mb
        return usable

    def usd_per_gb_hour(self, shapes: Mapping[Resources, int]) -> float:
        usable = self.usable_mb(shapes)
        return self.expected_usd_per_hour / (usable / 1024) if usable > 0 else math.inf


def hazard_per_hour(band: int) -> float:
    return BAND_MONTHLY_RATE[min(max(band, 0), WORST_BAND)] / _HOURS_PER_MONTH


def in_backoff(memory: ControllerMemory, pool_id: str, now: float) -> bool:
    until = memory.pool(pool_id).backoff_until
    return until is not None and now < until


def build_offers(  # noqa: PLR0917 - the snapshot, memory and per-pool facts an offer is priced from
    snapshot: ClusterSnapshot,
    pools: Iterable[CapacityPool],
    memory: ControllerMemory,
    boot_s: Mapping[str, float],
    rerun_s: float,
    full: Collection[str] = (),
) -> tuple[list[Offer], list[str]]:
    """Every priced offer of the pools (those of a pool in `full` marked so), and a note per pool left out
    (back-off, no price)."""
    noticed_ids = {n.instance_id for n in snapshot.interruptions}  # once, not per instance
    noticed = {i.instance_type for i in snapshot.instances if i.instance_id in noticed_ids} if noticed_ids else set()
    offers: list[Offer] = []
    notes: list[str] = []
    for pool in pools:
        markets = (pool.market,) if pool.market is not None else (Market.SPOT, Market.ON_DEMAND)
        for market in markets:
            if market is Market.SPOT and in_backoff(memory, pool.pool_id, snapshot.taken_at):
                notes.append(f"{pool.pool_id} Spot backing off after a failed resize: On-Demand fallback")
                continue
            for option in pool.options:
                quote = snapshot.price(option.instance_type, market)
                if quote is None:
                    notes.append(f"{option.instance_type} {market.value} in {pool.pool_id} has no price")
                    continue
                band = None
                risk = 0.0
                if market is Market.SPOT:
                    band = WORST_BAND if option.instance_type in noticed else quote.interruption_band
                    band = UNKNOWN_BAND if band is None else band
                    lost_h = (rerun_s + boot_s.get(pool.pool_id, 0.0)) / 3600
                    risk = hazard_per_hour(band) * lost_h * quote.usd_per_hour
                offers.append(Offer(pool, option, market, quote.usd_per_hour, risk, band, pool.pool_id in full))
    return offers, notes


def incumbent(offers: Sequence[Offer]) -> Offer | None:
    """The offer capacity is currently bought on: the (pool, market) with the most requested units."""
    held = [(o.pool.requested.get(o.market), o) for o in offers]
    held = [(n, o) for n, o in held if n > 0]
    if not held:
        return None
    return max(held, key=lambda h: (h[0], -h[1].usd_per_hour))[1]


def choose(offers: Sequence[Offer], shapes: Mapping[Resources, int], factor: float) -> tuple[Offer | None, str]:
    """The cheapest offer per usable GB for `shapes`, unless the incumbent is within `factor` of it.

    While the cheapest is busy, a dearer ready offer is taken only within `factor`."""
    scored = sorted(
        ((o.usd_per_gb_hour(shapes), o) for o in offers),
        key=lambda so: (so[0], so[1].market is not Market.SPOT, so[1].pool.pool_id, so[1].option.instance_type),
    )
    scored = [(s, o) for s, o in scored if math.isfinite(s)]
    if not scored:
        return None, "no priced offer can hold the pending shapes"
    best_score, best = scored[0]
    if best.busy:
        ready = [(s, o) for s, o in scored if not o.busy and s <= best_score * factor]
        if not ready:
            return None, (
                f"waiting for {best.label} (${best_score:.4f}/GB-h), {best.state}: no pool that can grow now is "
                f"within price_improvement_factor {factor:g} of it"
            )
        prefix = f"{best.label} is {best.state} and this pool is within price_improvement_factor {factor:g}, so "
        scored = ready
        best_score, best = scored[0]
    else:
        prefix = ""
    scored = [(s, o) for s, o in scored if not o.busy]
    why = f"{best.label} at ${best.usd_per_hour:.3f}/h, ${best_score:.4f} per usable GB-hour"
    if best.band is not None:
        why += f" incl. band-{best.band} risk ${best.risk_usd_per_hour:.4f}/h"
    if len(scored) > 1:
        second_score, second = scored[1]
        why += f", {100 * (1 - best_score / second_score):.0f}% cheaper than {second.label}"
    held = incumbent([o for _, o in scored])
    if held is not None and held.key != best.key:
        held_score = next(s for s, o in scored if o.key == held.key)
        if held_score <= best_score * factor:
            return held, (
                f"kept buying {held.label} (${held_score:.4f}/GB-h): {best.label} is only "
                f"{100 * (1 - best_score / held_score):.0f}% cheaper, under price_improvement_factor {factor:g}"
            )
    return best, f"{prefix}chose {why}"
