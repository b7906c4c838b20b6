"""PriceBook: what each of the cluster's instance types costs right now, on-demand and Spot.

On-demand comes from a table (bundled or `pricing.ondemand_file`) plus the EMR charge. Spot comes
from DescribeSpotPriceHistory (cheapest AZ of the last hour), cached for `pricing.spot_ttl_s`; when
a fetch fails the last good price is kept (Karpenter's pricing provider does the same), and a type
never fetched falls back to `pricing.spot_price_file` replayed at `now` (its last price when the
file is older). Spot quotes carry the Spot Advisor interruption band when an advisor table is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from autoscaler.config import PricingConfig
from autoscaler.model import Market, PriceQuote
from autoscaler.ports import Ec2Port, SpotPrice
from autoscaler.prices import LINUX_PRODUCTS, SpotHistory, emr_charge_usd_per_hour

SPOT_LOOKBACK_S = 3600.0


@dataclass(frozen=True, slots=True)
class PriceReport:
    quotes: tuple[PriceQuote, ...]
    error: str | None = None  # a failed Spot fetch; quotes then hold last-good or static prices


@dataclass(frozen=True, slots=True)
class _Cached:
    price: float
    fetched_at: float


def _spot_rows(ec2: Ec2Port, types: list[str], now: float) -> Iterator[SpotPrice]:
    """DescribeSpotPriceHistory for `types` over the last hour, following NextToken."""
    start, end = datetime.fromtimestamp(now - SPOT_LOOKBACK_S, UTC), datetime.fromtimestamp(now, UTC)
    page = ec2.describe_spot_price_history(
        InstanceTypes=types, ProductDescriptions=["Linux/UNIX"], StartTime=start, EndTime=end
    )
    while True:
        yield from page.get("SpotPriceHistory", [])
        token = page.get("NextToken")
        if not token:
            return
        page = ec2.describe_spot_price_history(
            InstanceTypes=types, ProductDescriptions=["Linux/UNIX"], StartTime=start, EndTime=end, NextToken=token
        )


class PriceBook:
    """Builds `PriceQuote`s per instance type; one instance lives as long as the daemon."""

    def __init__(
        self,
        pricing: PricingConfig,
        ondemand: Mapping[str, float],
        ec2_client: Ec2Port | None = None,
        spot_history: SpotHistory | None = None,
        advisor: Mapping[str, tuple[int, float]] | None = None,
    ) -> None:
        self._cfg = pricing
        self._ondemand = dict(ondemand)
        self._ec2 = ec2_client if pricing.describe_spot_history else None
        self._history = spot_history
        self._advisor = dict(advisor or {})
        self._spot: dict[str, _Cached] = {}

    def _fetch_spot(self, ec2: Ec2Port, types: list[str], now: float) -> None:
        """Latest price per (type, AZ) over the last hour; the cheapest AZ per type is cached."""
        latest: dict[tuple[str, str], tuple[float, float]] = {}
        for row in _spot_rows(ec2, types, now):
            if row.get("ProductDescription") not in LINUX_PRODUCTS:
                continue
            key = (row["InstanceType"], row.get("AvailabilityZone", ""))
            at = row["Timestamp"].timestamp() if isinstance(row.get("Timestamp"), datetime) else 0.0
            if key not in latest or at >= latest[key][0]:
                latest[key] = (at, float(row["SpotPrice"]))
        cheapest: dict[str, float] = {}
        for (itype, _az), (_at, price) in latest.items():
            cheapest[itype] = min(price, cheapest.get(itype, price))
        for itype, price in cheapest.items():
            self._spot[itype] = _Cached(price, now)

    def _spot_price(self, itype: str, now: float) -> float | None:
        cached = self._spot.get(itype)
        if cached is not None:
            return cached.price
        if self._history is not None:
            return self._history.price_at(itype, now)
        return None

    def quotes(self, instance_types: Iterable[str], now: float) -> PriceReport:
        """Quotes for `instance_types` at `now`; never raises (a failed fetch is in `error`)."""
        types = sorted(set(instance_types))
        error = None
        stale = [t for t in types if t not in self._spot or now - self._spot[t].fetched_at >= self._cfg.spot_ttl_s]
        if self._ec2 is not None and stale:
            try:
                self._fetch_spot(self._ec2, stale, now)
            except (ClientError, BotoCoreError, KeyError, TypeError, ValueError) as err:
                code = err.response.get("Error", {}).get("Code", "?") if isinstance(err, ClientError) else ""
                error = f"ec2 describe_spot_price_history: {code or type(err).__name__}: keeping last good prices"
        out: list[PriceQuote] = []
        for itype in types:
            od = self._ondemand.get(itype)
            if od is None:
                continue  # without an on-demand price there is no EMR charge either: leave it unpriced
            emr = emr_charge_usd_per_hour(itype, od, self._cfg.emr_charge_usd_per_hour)
            out.append(PriceQuote(itype, Market.ON_DEMAND, od, emr, observed_at=now))
            spot = self._spot_price(itype, now)
            if spot is not None:
                cached = self._spot.get(itype)
                band = self._advisor.get(itype, (None, 0.0))[0]
                observed = cached.fetched_at if cached else now
                out.append(PriceQuote(itype, Market.SPOT, spot, emr, interruption_band=band, observed_at=observed))
        return PriceReport(tuple(out), error)
