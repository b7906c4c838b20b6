"""Price tables: EC2 on-demand, the EMR charge on top, Spot price history, Spot Advisor bands.

Parsing and lookups are pure; only the `load_*` functions and `SpotHistory.load` touch files. The
simulator replays `SpotHistory` at every billing step, so `price_at` is a bisection on a per-type
series precomputed once.
"""

from __future__ import annotations

import csv
import io
import json
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path

#: Spot rows we price with: EMR runs Amazon Linux, billed as Linux/UNIX.
LINUX_PRODUCTS = frozenset({"Linux/UNIX", "Linux/UNIX (Amazon VPC)"})

#: Share of the on-demand price charged by EMR when a type has no published figure. AWS's EMR
#: price list sits at about a quarter of EC2 on-demand for current families (m5.xlarge 0.048 of
#: 0.192, r5.xlarge 0.063 of 0.252, c5.xlarge 0.043 of 0.170).
EMR_CHARGE_FRACTION = 0.25

# EMR charge USD/h, AWS's Amazon EMR pricing page (us-east-1). The xlarge figures are the ones
# quoted in ../shared/data/MANIFEST.md; larger sizes scale linearly with size in AWS's list.
_EMR_CHARGE_USD_PER_HOUR: dict[str, float] = {
    "m5.xlarge": 0.048,
    "m5.2xlarge": 0.096,
    "m5.4xlarge": 0.192,
    "m5.8xlarge": 0.384,
    "r5.xlarge": 0.063,
    "r5.2xlarge": 0.126,
    "r5.4xlarge": 0.252,
    "r5.8xlarge": 0.504,
    "c5.xlarge": 0.043,
    "c5.2xlarge": 0.085,
    "c5.4xlarge": 0.17,
}


def _read_text(path: str | Path | None, bundled: str) -> str:
    if path is None:
        return resources.files("autoscaler").joinpath(f"data/{bundled}").read_text()
    return Path(path).read_text()


def parse_ondemand_csv(text: str) -> dict[str, float]:
    """`instance_type,region,ondemand_usd_per_hour` rows (lines starting with # are comments)."""
    rows = csv.DictReader(line for line in text.splitlines() if line.strip() and not line.startswith("#"))
    out: dict[str, float] = {}
    for lineno, row in enumerate(rows, start=2):
        try:
            out[row["instance_type"].strip()] = float(row["ondemand_usd_per_hour"])
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ValueError(f"on-demand price table, row {lineno}: {err!r}") from None
    return out


def load_ondemand_table(path: str | Path | None = None) -> dict[str, float]:
    """instance_type -> EC2 Linux on-demand USD/h; None reads the bundled us-east-1 table."""
    return parse_ondemand_csv(_read_text(path, "ondemand_us-east-1.csv"))


def emr_charge_usd_per_hour(
    instance_type: str, ondemand_usd: float, overrides: Mapping[str, float] | None = None
) -> float:
    """EMR's per-instance charge: configured override, else the published figure, else 25% of on-demand."""
    if overrides and instance_type in overrides:
        return overrides[instance_type]
    published = _EMR_CHARGE_USD_PER_HOUR.get(instance_type)
    return published if published is not None else round(ondemand_usd * EMR_CHARGE_FRACTION, 6)


_DIRECTIONS = {
    "east": "e",
    "west": "w",
    "north": "n",
    "south": "s",
    "central": "c",
    "northeast": "ne",
    "southeast": "se",
    "northwest": "nw",
    "southwest": "sw",
}


def az_in_region(az: str, region: str) -> bool:
    """True for an AZ name (`us-east-1a`) or AZ id (`use1-az4`) of `region`."""
    if az.startswith(region):
        return True
    parts = region.split("-")
    if len(parts) != 3:
        return False
    code = parts[0] + _DIRECTIONS.get(parts[1], parts[1]) + parts[2]
    return az.startswith(code + "-az")


class _ZoneFilter:
    """`az_in_region` for one region, answered once per distinct AZ (a file repeats a few hundred)."""

    __slots__ = ("_region", "_seen")

    def __init__(self, region: str | None) -> None:
        self._region = region
        self._seen: dict[str, bool] = {}

    def __call__(self, az: str) -> bool:
        found = self._seen.get(az)
        if found is None:
            found = self._seen[az] = self._region is None or az_in_region(az, self._region)
        return found


def _epoch(ts: str) -> float:
    return datetime.fromisoformat(ts.strip().replace("Z", "+00:00")).timestamp()


def _spot_rows(text: str, source: str) -> Iterator[tuple[str, str, str, float, float]]:
    """(az, instance_type, product, usd_per_hour, epoch seconds) of each row of a Spot price file."""
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text), delimiter="\t" if "\t" in first else ",")
    epochs: dict[str, float] = {}  # rows share few timestamps: each is parsed once
    for lineno, rec in enumerate(reader, start=1):
        if not rec or (lineno == 1 and rec[0] == "AvailabilityZone"):
            continue
        try:
            az, itype, product, price, ts = rec[:5]
            usd = float(price)
            at = epochs.get(ts)
            if at is None:
                at = epochs[ts] = _epoch(ts)
        except ValueError as err:
            raise ValueError(f"{source}:{lineno}: expected AZ, type, product, price, ISO time: {err}") from None
        yield az, itype, product, usd, at


@dataclass(frozen=True, slots=True)
class _Series:
    times: tuple[float, ...]
    prices: tuple[float, ...]

    def at(self, t: float) -> float | None:
        i = bisect_right(self.times, t) - 1
        return self.prices[i] if i >= 0 else None


def _series(points: Iterable[tuple[float, float]]) -> _Series:
    ordered = sorted(points)
    # several rows at one instant: the last one read wins, like a later API page would
    dedup: dict[float, float] = dict(ordered)
    return _Series(tuple(dedup), tuple(dedup.values()))


def _cheapest(series: Iterable[_Series]) -> _Series:
    """One series whose price at t is the cheapest of `series` at t (among those priced at t)."""
    all_series = list(series)
    times = sorted({t for s in all_series for t in s.times})
    prices = []
    for t in times:
        prices.append(min(p for s in all_series if (p := s.at(t)) is not None))
    return _Series(tuple(times), tuple(prices))


@dataclass(slots=True)
class SpotHistory:
    """DescribeSpotPriceHistory rows: a price holds from its timestamp until the next row of the
    same (AZ, type, product). Only Linux/UNIX rows are kept. Before a series' first row its price is
    unknown (None); after its last row the last price still holds."""

    _by_az: dict[str, dict[str, _Series]]  # type -> az -> series
    _cheapest_cache: dict[str, _Series] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, str, float, float]], region: str | None = None) -> SpotHistory:
        """Rows of (az, instance_type, product, usd_per_hour, epoch seconds); `region` keeps its AZs only."""
        points: dict[str, dict[str, list[tuple[float, float]]]] = {}
        kept = _ZoneFilter(region)
        for az, itype, product, price, at in rows:
            if product in LINUX_PRODUCTS and kept(az):
                points.setdefault(itype, {}).setdefault(az, []).append((at, price))
        return cls({t: {az: _series(p) for az, p in azs.items()} for t, azs in points.items()})

    @classmethod
    def parse(cls, text: str, source: str = "<spot prices>", region: str | None = None) -> SpotHistory:
        """Both shipped formats: CSV with a header (5gt) and headerless TSV (ericpauley); one pass, each
        row checked as it is read (a bad price or time is an error wherever it is)."""
        return cls.from_rows(_spot_rows(text, source), region)

    @classmethod
    def load(cls, path: str | Path, region: str | None = None) -> SpotHistory:
        """Read a price file; `region` (e.g. us-east-1) drops other regions' AZs."""
        return cls.parse(Path(path).read_text(), str(path), region)

    def price_at(self, instance_type: str, t: float, az: str | None = None) -> float | None:
        """USD/h at epoch `t` in `az`, or the cheapest AZ priced at `t` when az is None."""
        azs = self._by_az.get(instance_type)
        if azs is None:
            return None
        if az is not None:
            s = azs.get(az)
            return s.at(t) if s else None
        cheapest = self._cheapest_cache.get(instance_type)
        if cheapest is None:
            cheapest = self._cheapest_cache[instance_type] = _cheapest(azs.values())
        return cheapest.at(t)

    def instance_types(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_az))

    def series(self, instance_type: str, az: str) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
        """(epoch seconds, USD/h) of every price change of the type in one AZ, in time order."""
        s = self._by_az.get(instance_type, {}).get(az)
        return (s.times, s.prices) if s else None

    def first_zone_with(self, instance_types: Iterable[str]) -> str | None:
        """The first AZ in sort order with rows for every one of `instance_types` (None: no AZ has them all).

        A simulated cluster lives in one AZ: picking it this way is deterministic, where taking each
        instant's cheapest AZ would bill prices no single cluster could ever pay.
        """
        wanted = set(instance_types)
        zones = sorted({az for azs in self._by_az.values() for az in azs})
        return next((z for z in zones if all(z in self._by_az.get(t, {}) for t in wanted)), None)

    def availability_zones(self, instance_type: str) -> tuple[str, ...]:
        return tuple(sorted(self._by_az.get(instance_type, {})))

    @property
    def start(self) -> float:
        """Earliest row (epoch seconds); raises ValueError on an empty history."""
        return min(s.times[0] for azs in self._by_az.values() for s in azs.values())

    @property
    def end(self) -> float:
        """Latest row (epoch seconds); raises ValueError on an empty history."""
        return max(s.times[-1] for azs in self._by_az.values() for s in azs.values())


def parse_spot_advisor(doc: Mapping[str, object], region: str, os_name: str = "Linux") -> dict[str, tuple[int, float]]:
    """Spot Advisor feed -> instance_type -> (interruption band 0..4, savings % vs on-demand)."""
    advisor = doc.get("spot_advisor")
    if not isinstance(advisor, Mapping):
        raise ValueError("spot advisor: missing 'spot_advisor' object")
    by_os = advisor.get(region, {})
    entries = by_os.get(os_name, {}) if isinstance(by_os, Mapping) else {}
    out: dict[str, tuple[int, float]] = {}
    for itype, entry in entries.items():
        if isinstance(entry, Mapping) and "r" in entry:
            out[itype] = (int(entry["r"]), float(entry.get("s", 0.0)))
    return out


def load_spot_advisor(
    path: str | Path | None = None, region: str = "us-east-1", os_name: str = "Linux"
) -> dict[str, tuple[int, float]]:
    """instance_type -> (interruption band 0 "<5%" .. 4 ">20%", savings %) for `region`; None reads the
    bundled us-east-1 Linux slice (empty for other regions)."""
    doc = json.loads(_read_text(path, "spot_advisor_us-east-1.json"))
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return parse_spot_advisor(doc, region, os_name)
