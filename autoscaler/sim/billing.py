"""What the simulated cluster costs: EC2 (on-demand or replayed Spot) + EMR charge, per second.

A node is billed from request until terminated (boot and drain are paid), per second with a
one-minute minimum, as EC2 and EMR bill Linux instances. Spot prices come from a replayed
`SpotHistory` whose first row is aligned to simulated time 0 (wrapping round when the trace is
longer than the history); a type the history lacks, or every type when there is no history, pays
on-demand × `spot_price_fraction` (default 0.35: the Spot Advisor shows ~65% savings for
m5.xlarge in us-east-1). Replayed prices are read on a one-minute grid.
"""

from __future__ import annotations

from collections.abc import Mapping

from autoscaler.model import Market
from autoscaler.prices import SpotHistory, emr_charge_usd_per_hour

MIN_BILLED_S = 60.0
SPOT_STEP_S = 60.0  # replayed Spot prices are read on a one-minute grid (exact bounds for the oracle)


class PriceBook:
    """USD per hour for (instance type, market) at a simulated time."""

    def __init__(
        self,
        ondemand: Mapping[str, float],
        *,
        spot_history: SpotHistory | None = None,
        start_at: float = 0.0,
        spot_price_fraction: float = 0.35,
        emr_overrides: Mapping[str, float] | None = None,
    ) -> None:
        self._ondemand = dict(ondemand)
        self._history = spot_history
        self._start_at = start_at
        self._fraction = spot_price_fraction
        self._emr = dict(emr_overrides or {})
        self._spot_types = frozenset(spot_history.instance_types()) if spot_history else frozenset()
        if spot_history is not None and self._spot_types:
            # one cycle runs to a minute past the last row, so the last price is charged too
            self._h0, self._span = spot_history.start, spot_history.end - spot_history.start + SPOT_STEP_S

    def ondemand(self, instance_type: str) -> float:
        try:
            return self._ondemand[instance_type]
        except KeyError:
            raise KeyError(f"no on-demand price for {instance_type!r}") from None

    def ec2(self, instance_type: str, market: Market, t: float) -> float:
        od = self.ondemand(instance_type)
        if market is Market.ON_DEMAND:
            return od
        if self._history is not None and instance_type in self._spot_types:
            offset = (t - self._start_at) % self._span
            price = self._history.price_at(instance_type, self._h0 + offset // SPOT_STEP_S * SPOT_STEP_S)
            if price is not None:
                return price
        return od * self._fraction

    def min_usd_per_hour(self, instance_type: str, market: Market) -> float:
        """The lowest price this book can ever charge for the type (every Spot grid point scanned)."""
        emr = self.emr(instance_type)
        if market is Market.ON_DEMAND or self._history is None or instance_type not in self._spot_types:
            return self.ec2(instance_type, market, self._start_at) + emr
        steps = int(self._span // SPOT_STEP_S) + 1
        prices = (self._history.price_at(instance_type, self._h0 + k * SPOT_STEP_S) for k in range(steps))
        known = [p for p in prices if p is not None]
        fallback = self.ondemand(instance_type) * self._fraction
        return min([*known, fallback] if len(known) < steps else known) + emr

    def emr(self, instance_type: str) -> float:
        return emr_charge_usd_per_hour(instance_type, self.ondemand(instance_type), self._emr)

    def usd_per_hour(self, instance_type: str, market: Market, t: float) -> float:
        return self.ec2(instance_type, market, t) + self.emr(instance_type)


class Meter:
    """One node's bill: accrued piecewise at the price in force at each segment's start."""

    __slots__ = ("closed", "instance_type", "last", "market", "start", "usd")

    def __init__(self, instance_type: str, market: Market, start: float) -> None:
        self.instance_type, self.market = instance_type, market
        self.start = self.last = start
        self.usd = 0.0
        self.closed = False


class Ledger:
    """Every node's meter; `accrue(t)` is called at ticks so Spot price changes are followed."""

    def __init__(self, prices: PriceBook) -> None:
        self.prices = prices
        self._open: dict[str, Meter] = {}
        self.closed_usd = 0.0
        self.closed_node_s = 0.0

    def open(self, node_id: str, instance_type: str, market: Market, t: float) -> None:
        self._open[node_id] = Meter(instance_type, market, t)

    def _accrue(self, m: Meter, t: float) -> None:
        if t > m.last:
            m.usd += (t - m.last) * self.prices.usd_per_hour(m.instance_type, m.market, m.last) / 3600.0
            m.last = t

    def close(self, node_id: str, t: float) -> float:
        """Stop the meter; a node that lived under a minute pays a minute. Returns its total."""
        m = self._open.pop(node_id)
        self._accrue(m, t)
        lived = t - m.start
        if lived < MIN_BILLED_S:
            m.usd += (MIN_BILLED_S - lived) * self.prices.usd_per_hour(m.instance_type, m.market, t) / 3600.0
        m.closed = True
        self.closed_usd += m.usd
        self.closed_node_s += max(lived, MIN_BILLED_S)
        return m.usd

    def accrue(self, t: float) -> None:
        for m in self._open.values():
            self._accrue(m, t)

    def total_usd(self, t: float) -> float:
        """Cost so far, as if every running node stopped at `t` (minimum included)."""
        self.accrue(t)
        running = 0.0
        for m in self._open.values():
            running += m.usd
            if t - m.start < MIN_BILLED_S:
                running += (
                    (MIN_BILLED_S - (t - m.start)) * self.prices.usd_per_hour(m.instance_type, m.market, t) / 3600
                )
        return self.closed_usd + running

    def node_seconds(self, t: float) -> float:
        return self.closed_node_s + sum(max(t - m.start, MIN_BILLED_S) for m in self._open.values())
