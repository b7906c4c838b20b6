"""What the simulated cluster costs: EC2 (on-demand or replayed Spot) + EMR charge, per second.

A node is billed from request until terminated (boot and drain are paid), per second with a
one-minute minimum, as EC2 and EMR bill Linux instances. The bill is exact whatever the tick: each
node's cost is the integral of its price over its billed interval, so a Spot price change is paid
from the second it happens (no one-minute grid, no "price at the start of the tick").

Spot prices come from a replayed `SpotHistory` in ONE Availability Zone (a cluster lives in one
subnet): `availability_zone`, or by default the first AZ in sort order with rows for every Spot type
the cluster uses that the history prices (`SpotHistory.first_zone_with`). The history's first row is
aligned to simulated time 0 and the history repeats when the trace outlasts it (one cycle runs to a
minute past the last row, so the last price is charged too). A type the history lacks (in that AZ),
or every type when there is no history, and any type before its first row, pays on-demand ×
`spot_price_fraction` (default 0.35: the Spot Advisor shows ~65% savings for m5.xlarge in us-east-1).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from autoscaler.model import Market
from autoscaler.prices import SpotHistory, emr_charge_usd_per_hour

MIN_BILLED_S = 60.0
WRAP_HOLD_S = 60.0  # the last history row holds this long before the history repeats


def choose_zone(history: SpotHistory, spot_types: Collection[str], requested: str | None = None) -> str:
    """The one AZ whose Spot prices are replayed: `requested`, else the first AZ in sort order with
    rows for every one of `spot_types` that the history prices at all. ValueError when neither exists."""
    zones = sorted({az for t in history.instance_types() for az in history.availability_zones(t)})
    if requested is not None:
        if requested not in zones:
            raise ValueError(f"availability zone {requested!r} has no Spot price rows; zones: {', '.join(zones)}")
        return requested
    priced = sorted(set(spot_types) & set(history.instance_types())) or list(history.instance_types())
    zone = history.first_zone_with(priced)
    if zone is None:
        raise ValueError(
            f"no availability zone has Spot prices for all of {', '.join(priced)}; "
            f"set sim.availability_zone (types it lacks pay on-demand x spot_price_fraction)"
        )
    return zone


@dataclass(frozen=True, slots=True)
class _Steps:
    """A price step function over one history cycle [0, cycle) s, with its running integral."""

    starts: tuple[float, ...]  # offsets into the cycle; starts[0] == 0
    prices: tuple[float, ...]  # USD/h from starts[k] to starts[k + 1]
    cum: tuple[float, ...]  # USD·s/h from 0 to starts[k]
    cycle: float
    cycle_total: float

    @classmethod
    def build(cls, starts: list[float], prices: list[float], cycle: float) -> _Steps:
        cum = [0.0]
        for k in range(1, len(starts)):
            cum.append(cum[-1] + prices[k - 1] * (starts[k] - starts[k - 1]))
        total = cum[-1] + prices[-1] * (cycle - starts[-1])
        return cls(tuple(starts), tuple(prices), tuple(cum), cycle, total)

    def at(self, offset: float) -> float:
        return self.prices[bisect_right(self.starts, offset % self.cycle) - 1]

    def integral(self, offset: float) -> float:
        """USD·s/h from cycle start 0 to `offset` (any number of cycles later)."""
        n, r = divmod(offset, self.cycle)
        k = bisect_right(self.starts, r) - 1
        return n * self.cycle_total + self.cum[k] + self.prices[k] * (r - self.starts[k])


class PriceBook:
    """USD per hour for (instance type, market) at a simulated time, and exact integrals of it."""

    def __init__(
        self,
        ondemand: Mapping[str, float],
        *,
        spot_history: SpotHistory | None = None,
        start_at: float = 0.0,
        spot_price_fraction: float = 0.35,
        emr_overrides: Mapping[str, float] | None = None,
        availability_zone: str | None = None,
        spot_types: Collection[str] = (),
    ) -> None:
        """`availability_zone` None: `choose_zone` over `spot_types` (the cluster's Spot types; empty:
        every type in the history)."""
        self._ondemand = dict(ondemand)
        self._start_at = start_at
        self._fraction = spot_price_fraction
        self._emr = dict(emr_overrides or {})
        self._steps: dict[str, _Steps | None] = {}  # built on first use: not every type has an on-demand price
        self._history = spot_history
        self.availability_zone: str | None = None
        if spot_history is not None and spot_history.instance_types():
            self.availability_zone = choose_zone(spot_history, spot_types, availability_zone)
            self._h0 = spot_history.start
            self._cycle = spot_history.end - spot_history.start + WRAP_HOLD_S

    def _steps_for(self, itype: str) -> _Steps | None:
        """The type's replayed price steps in the book's AZ; None when the history has no rows for it."""
        if itype not in self._steps:
            zone, history = self.availability_zone, self._history
            series = history.series(itype, zone) if history is not None and zone is not None else None
            self._steps[itype] = None if series is None else self._build(itype, *series)
        return self._steps[itype]

    def _build(self, itype: str, times: tuple[float, ...], prices: tuple[float, ...]) -> _Steps:
        starts = [t - self._h0 for t in times]
        values = list(prices)
        if starts[0] > 0:  # unknown before the first row: the fallback price
            starts.insert(0, 0.0)
            values.insert(0, self._fallback(itype))
        return _Steps.build(starts, values, self._cycle)

    def _fallback(self, instance_type: str) -> float:
        return self.ondemand(instance_type) * self._fraction

    def spot_priced(self, instance_type: str) -> bool:
        """True when the type's Spot price is replayed (in the book's AZ), not on-demand × fraction."""
        return self._steps_for(instance_type) is not None

    def ondemand(self, instance_type: str) -> float:
        try:
            return self._ondemand[instance_type]
        except KeyError:
            raise KeyError(f"no on-demand price for {instance_type!r}") from None

    def ec2(self, instance_type: str, market: Market, t: float) -> float:
        if market is Market.ON_DEMAND:
            return self.ondemand(instance_type)
        steps = self._steps_for(instance_type)
        return steps.at(t - self._start_at) if steps else self._fallback(instance_type)

    def min_usd_per_hour(self, instance_type: str, market: Market) -> float:
        """The lowest price this book can ever charge for the type (every replayed step scanned)."""
        steps = self._steps_for(instance_type) if market is Market.SPOT else None
        ec2 = min(steps.prices) if steps else self.ec2(instance_type, market, self._start_at)
        return ec2 + self.emr(instance_type)

    def emr(self, instance_type: str) -> float:
        return emr_charge_usd_per_hour(instance_type, self.ondemand(instance_type), self._emr)

    def usd_per_hour(self, instance_type: str, market: Market, t: float) -> float:
        return self.ec2(instance_type, market, t) + self.emr(instance_type)

    def usd(self, instance_type: str, market: Market, t0: float, t1: float) -> float:
        """Exact USD for one node from `t0` to `t1`: the price step function integrated."""
        if t1 <= t0:
            return 0.0
        flat = self.emr(instance_type)
        steps = self._steps_for(instance_type) if market is Market.SPOT else None
        if steps is None:
            return (self.ec2(instance_type, market, t0) + flat) * (t1 - t0) / 3600.0
        spot = steps.integral(t1 - self._start_at) - steps.integral(t0 - self._start_at)
        return (spot + flat * (t1 - t0)) / 3600.0


class Meter:
    """One node's bill: its type, market and the time its billing started."""

    __slots__ = ("instance_type", "market", "start")

    def __init__(self, instance_type: str, market: Market, start: float) -> None:
        self.instance_type, self.market, self.start = instance_type, market, start


class Ledger:
    """Every node's meter; each is billed exactly when it closes (or when a total is asked for)."""

    def __init__(self, prices: PriceBook) -> None:
        self.prices = prices
        self._open: dict[str, Meter] = {}
        self.closed_usd = 0.0
        self.closed_node_s = 0.0

    def open(self, node_id: str, instance_type: str, market: Market, t: float) -> None:
        self._open[node_id] = Meter(instance_type, market, t)

    def _bill(self, m: Meter, t: float) -> float:
        """The node's cost had it stopped at `t`: at least a minute, at the prices of that minute."""
        return self.prices.usd(m.instance_type, m.market, m.start, max(t, m.start + MIN_BILLED_S))

    def close(self, node_id: str, t: float) -> float:
        """Stop the meter; a node that lived under a minute pays a minute. Returns its total."""
        m = self._open.pop(node_id)
        usd = self._bill(m, t)
        self.closed_usd += usd
        self.closed_node_s += max(t - m.start, MIN_BILLED_S)
        return usd

    def total_usd(self, t: float) -> float:
        """Cost so far, as if every running node stopped at `t` (minimum included)."""
        return self.closed_usd + sum(self._bill(m, t) for m in self._open.values())

    def node_seconds(self, t: float) -> float:
        return self.closed_node_s + sum(max(t - m.start, MIN_BILLED_S) for m in self._open.values())
