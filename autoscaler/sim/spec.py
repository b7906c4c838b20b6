"""The simulated cluster's shape and EMR timings (`ClusterSpec`), and its YAML form.

The spec lives in the `sim:` section of the `--config` file (the daemon ignores it; the simulator
removes it before validating the rest):

```yaml
sim:
  boot_s: [300, 360]            # uniform boot delay: request -> YARN capacity (AWS: ~5-6 min)
  # boot_s: {distribution: lognormal, median: 320, sigma: 0.2, max: 900}   # or normal, fixed, empirical
  spot_price_fraction: 0.35     # Spot = 35% of on-demand when no --spot-prices row covers a type
  # availability_zone: use1-az4 # the AZ whose --spot-prices rows are billed (default: first in sort
  #                             # order with prices for every Spot type the pools use)
  resource_calculator: memory   # YARN placement: memory (EMR's default) or dominant (memory + vcores)
  interruption_band: 1          # Spot Advisor band (0 "<5%" .. 4 ">20%") when a pool sets none, or "advisor"
  # spot_advisor_file: feed.json  # with "advisor": the Spot Advisor feed to read (default: the bundled slice)
  # spot_advisor_region: us-east-1
  # reclaims: [{at_s: 5400, pool: ig-task-spot}]  # replay known Spot reclaims (trace seconds), 2-min notice
  # conversion: {split_bytes: 268435456}          # SWIM/Alibaba conversion, see autoscaler.sim.conversion
  pools:
    - {id: ig-master, role: MASTER, market: ON_DEMAND, types: [m5.xlarge], initial: 1}
    - {id: ig-core, role: CORE, market: ON_DEMAND, types: [m5.xlarge], initial: 2}
    - {id: ig-task-spot, role: TASK, market: SPOT, types: [m5.xlarge], initial: 0}
    - {id: if-task, role: TASK, kind: INSTANCE_FLEET, types: [m5.xlarge, m5.2xlarge], weights: [1, 2],
       initial_spot: 0, initial_on_demand: 0}
```

Spot interruptions are a constant hazard per Spot node from its Spot Advisor band (see
`band_hazard_per_s`). The band is the pool's own `interruption_band` when it sets one, else the
spec's: a number applies to every instance type (default 1, "5-10%", which the figures in
BENCHMARKS.md use), while `interruption_band: advisor` gives each instance type its band from the
Spot Advisor feed, `autoscaler.prices.load_spot_advisor` (the bundled us-east-1 slice, or
`spot_advisor_file` for `spot_advisor_region`), so a fleet mixing m5.xlarge (band 4 in the bundled
feed) and c5.xlarge (band 0) loses the first far more often. A type a Spot pool may launch that the
feed lacks is a `SpecError`, not a silent default.

Known reclaims can be replayed instead (`interruptions: false`) or as well: each `reclaims` entry
takes one running Spot node of `pool` (the longest-running one) at `at_s` seconds of trace time,
after the usual notice; with no Spot node running then, the entry is counted as skipped.

`boot_s` is a distribution (see `autoscaler.sim.boot`), drawn per node from the cluster's seeded
boot RNG: `[min, max]` uniform (default `[300, 360]`), a bare number (fixed), or a mapping
`{distribution: uniform|fixed|normal|lognormal|empirical, ...}` with `min`/`max`, `value`,
`mean`/`stddev` (clipped to `min`, default 0, and an optional `max`), `median`/`sigma` (likewise
clipped) or `values: [...]` (measured boot times, resampled).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final

from autoscaler.model import Market, PoolKind, PoolRole
from autoscaler.prices import load_spot_advisor
from autoscaler.sim.boot import DEFAULT_BOOT, BootDelay, BootError, as_boot, parse_boot
from autoscaler.sim.conversion import ConversionError, ConversionModel, parse_conversion

#: Spot Advisor band -> monthly share of capacity reclaimed, band midpoints of "<5%", "5-10%",
#: "10-15%", "15-20%", ">20%" (the last taken as 25%).
BAND_MONTHLY_RATE: tuple[float, ...] = (0.025, 0.075, 0.125, 0.175, 0.25)
#: `interruption_band` value that takes each instance type's band from the Spot Advisor feed.
ADVISOR: Final = "advisor"
_MONTH_S = 30 * 24 * 3600.0

#: YARN CapacityScheduler resource calculators: "memory" is the DefaultResourceCalculator (Hadoop's
#: and EMR's default: vcores are not scheduled), "dominant" the DominantResourceCalculator.
RESOURCE_CALCULATORS: tuple[str, ...] = ("memory", "dominant")


def band_hazard_per_s(band: int) -> float:
    """Constant hazard whose one-month survival matches the band's reclaimed share."""
    rate = BAND_MONTHLY_RATE[min(max(band, 0), 4)]
    return -math.log(1.0 - rate) / _MONTH_S


class SpecError(ValueError):
    """A `sim:` section that cannot describe a cluster, with the field path."""


@dataclass(frozen=True, slots=True)
class PoolSpec:
    pool_id: str
    role: PoolRole
    kind: PoolKind = PoolKind.INSTANCE_GROUP
    market: Market = Market.ON_DEMAND  # instance groups only
    instance_types: tuple[str, ...] = ("m5.xlarge",)
    weights: tuple[int, ...] = (1,)
    initial_on_demand: int = 0
    initial_spot: int = 0
    interruption_band: int | None = None
    name: str = ""

    @property
    def initial(self) -> int:
        return self.initial_on_demand + self.initial_spot


@dataclass(frozen=True, slots=True)
class ClusterSpec:
    pools: tuple[PoolSpec, ...]
    cluster_id: str = "j-SIMULATED"
    start_at: float = 1_699_920_000.0  # 2023-11-14T00:00:00Z: trace time 0, a midnight for schedules
    #: request -> YARN capacity; a (min, max) tuple is still accepted and becomes `Uniform(min, max)`
    boot_s: BootDelay = DEFAULT_BOOT
    decommission_timeout_s: int = 3600
    spot_decommission_s: float = 20.0
    min_node_age_s: float = 600.0
    interruption_notice_s: float = 120.0
    interruption_band: int = 1
    #: (instance type, band) from the Spot Advisor feed with `interruption_band: advisor`; empty otherwise
    advisor_bands: tuple[tuple[str, int], ...] = ()
    interruptions: bool = True
    #: replayed Spot reclaims: (trace seconds, pool id), sorted
    reclaims: tuple[tuple[float, str], ...] = ()
    spot_price_fraction: float = 0.35
    resource_calculator: str = "memory"  # "memory": DefaultResourceCalculator; "dominant": DRF
    #: how SWIM/Alibaba rows become containers (`sim.conversion`, see `autoscaler.sim.conversion`)
    conversion: ConversionModel = field(default_factory=ConversionModel)
    #: the one AZ whose replayed Spot prices are billed; None: `autoscaler.sim.billing.choose_zone`
    availability_zone: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "boot_s", as_boot(self.boot_s))

    def spot_instance_types(self) -> tuple[str, ...]:
        """Every type a Spot group or a fleet may launch on Spot, sorted."""
        return tuple(
            sorted(
                {
                    t
                    for p in self.pools
                    if p.kind is PoolKind.INSTANCE_FLEET or p.market is Market.SPOT
                    for t in p.instance_types
                }
            )
        )

    def band(self, pool: PoolSpec, instance_type: str) -> int:
        """The Spot Advisor band a Spot node of `instance_type` in `pool` is interrupted at."""
        if pool.interruption_band is not None:
            return pool.interruption_band
        if not self.advisor_bands:
            return self.interruption_band
        return dict(self.advisor_bands).get(instance_type, self.interruption_band)


def group(pool_id: str, role: PoolRole, market: Market, count: int, instance_type: str = "m5.xlarge") -> PoolSpec:
    on_demand, spot = (count, 0) if market is Market.ON_DEMAND else (0, count)
    return PoolSpec(pool_id, role, PoolKind.INSTANCE_GROUP, market, (instance_type,), (1,), on_demand, spot)


def default_spec() -> ClusterSpec:
    """1 master, 2 on-demand core, an empty Spot task group and an empty on-demand task group."""
    return ClusterSpec(
        pools=(
            group("ig-master", PoolRole.MASTER, Market.ON_DEMAND, 1),
            group("ig-core", PoolRole.CORE, Market.ON_DEMAND, 2),
            group("ig-task-spot", PoolRole.TASK, Market.SPOT, 0),
            group("ig-task-od", PoolRole.TASK, Market.ON_DEMAND, 0),
        )
    )


def _enum(cls: Any, value: Any, where: str) -> Any:
    try:
        return cls(str(value).upper())
    except ValueError:
        raise SpecError(f"{where}: must be one of {', '.join(m.value for m in cls)}") from None


def _pool(data: Any, where: str) -> PoolSpec:
    if not isinstance(data, dict):
        raise SpecError(f"{where}: must be a mapping")
    known = {"id", "role", "kind", "market", "types", "weights", "initial", "initial_on_demand", "initial_spot"}
    unknown = set(data) - known - {"interruption_band", "name"}
    if unknown:
        raise SpecError(f"{where}: unknown keys {sorted(unknown)}")
    if "id" not in data or "role" not in data:
        raise SpecError(f"{where}: id and role are required")
    kind = _enum(PoolKind, data.get("kind", "INSTANCE_GROUP"), f"{where}.kind")
    market = _enum(Market, data.get("market", "ON_DEMAND"), f"{where}.market")
    types = data.get("types", ["m5.xlarge"])
    if isinstance(types, str):
        types = [types]
    weights = data.get("weights", [1] * len(types))
    if not types or len(weights) != len(types) or any(not isinstance(w, int) or w < 1 for w in weights):
        raise SpecError(f"{where}.weights: one positive integer per instance type")
    if kind is PoolKind.INSTANCE_GROUP and len(types) != 1:
        raise SpecError(f"{where}.types: an instance group has exactly one instance type")
    if kind is PoolKind.INSTANCE_GROUP:
        count = int(data.get("initial", 0))
        od, spot = (count, 0) if market is Market.ON_DEMAND else (0, count)
    else:
        od, spot = int(data.get("initial_on_demand", 0)), int(data.get("initial_spot", 0))
    band = data.get("interruption_band")
    return PoolSpec(
        pool_id=str(data["id"]),
        role=_enum(PoolRole, data["role"], f"{where}.role"),
        kind=kind,
        market=market,
        instance_types=tuple(str(t) for t in types),
        weights=tuple(weights),
        initial_on_demand=od,
        initial_spot=spot,
        interruption_band=None if band is None else int(band),
        name=str(data.get("name", "")),
    )


def _spot_types(pools: tuple[PoolSpec, ...]) -> set[str]:
    """Types a pool may launch on Spot and that take the spec's band (fleets, Spot groups)."""
    return {
        t
        for p in pools
        if p.interruption_band is None and (p.kind is PoolKind.INSTANCE_FLEET or p.market is Market.SPOT)
        for t in p.instance_types
    }


def advisor_bands(
    pools: tuple[PoolSpec, ...], path: str | None = None, region: str = "us-east-1", where: str = "sim"
) -> tuple[tuple[str, int], ...]:
    """Each pool instance type's band from the Spot Advisor feed at `path` (None: the bundled slice)."""
    source = path or "the bundled Spot Advisor feed"
    try:
        feed = load_spot_advisor(path, region)
    except OSError as err:
        raise SpecError(f"{where}.spot_advisor_file: {path}: {err.strerror}") from None
    except ValueError as err:  # JSONDecodeError is a ValueError
        raise SpecError(f"{where}.spot_advisor_file: {path}: {err}") from None
    missing = sorted(_spot_types(pools) - set(feed))
    if missing:
        raise SpecError(f"{where}.interruption_band: {ADVISOR}: no {region} band in {source} for {', '.join(missing)}")
    types = sorted({t for p in pools for t in p.instance_types} & set(feed))
    return tuple((t, feed[t][0]) for t in types)


def _reclaims(raw: Any, pools: tuple[PoolSpec, ...], where: str) -> tuple[tuple[float, str], ...]:
    """`reclaims` entries -> sorted (at_s, pool id); each pool must be able to run Spot nodes."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise SpecError(f"{where}: must be a list of {{at_s, pool}}")
    spot_pools = {p.pool_id for p in pools if p.kind is PoolKind.INSTANCE_FLEET or p.market is Market.SPOT}
    out = []
    for i, entry in enumerate(raw):
        at = entry.get("at_s") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or set(entry) != {"at_s", "pool"}:
            raise SpecError(f"{where}[{i}]: must be a mapping with exactly at_s and pool")
        if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at) or at < 0:
            raise SpecError(f"{where}[{i}].at_s: must be a non-negative number of trace seconds")
        if entry["pool"] not in spot_pools:
            raise SpecError(f"{where}[{i}].pool: {entry['pool']!r} is not a Spot group or fleet of the sim pools")
        out.append((float(at), str(entry["pool"])))
    return tuple(sorted(out))


def _bands(
    data: dict[str, Any], pools: tuple[PoolSpec, ...], default: int, where: str
) -> tuple[int, tuple[tuple[str, int], ...]]:
    """(band for types without one, per-type bands) from `interruption_band` and the advisor keys."""
    raw = data.get("interruption_band", default)
    path = data.get("spot_advisor_file")
    region = data.get("spot_advisor_region")
    if isinstance(raw, str) and raw.strip().lower() == ADVISOR:
        return default, advisor_bands(pools, None if path is None else str(path), str(region or "us-east-1"), where)
    if path is not None or region is not None:
        raise SpecError(f"{where}.spot_advisor_file/spot_advisor_region: only read with interruption_band: {ADVISOR}")
    try:
        return int(raw), ()
    except (TypeError, ValueError):
        raise SpecError(f"{where}.interruption_band: a band 0..4 or {ADVISOR!r}, not {raw!r}") from None


_SIM_KEYS = frozenset({
    "pools", "cluster_id", "start_at", "boot_s", "decommission_timeout_s", "spot_decommission_s", "min_node_age_s",
    "interruption_notice_s", "interruption_band", "spot_advisor_file", "spot_advisor_region", "interruptions",
    "spot_price_fraction", "resource_calculator", "conversion", "reclaims", "availability_zone",
})  # fmt: skip


def parse_spec(data: Any, where: str = "sim") -> ClusterSpec:
    """`sim:` mapping -> ClusterSpec; absent keys keep the defaults (and the default pools)."""
    if data is None:
        return default_spec()
    if not isinstance(data, dict):
        raise SpecError(f"{where}: must be a mapping")
    unknown = sorted(set(data) - _SIM_KEYS)
    if unknown:
        raise SpecError(f"{where}: unknown keys {unknown}; known: {', '.join(sorted(_SIM_KEYS))}")
    base = default_spec()
    pools = base.pools
    if "pools" in data:
        raw = data["pools"]
        if not isinstance(raw, list) or not raw:
            raise SpecError(f"{where}.pools: must be a non-empty list")
        pools = tuple(_pool(p, f"{where}.pools[{i}]") for i, p in enumerate(raw))
    try:
        boot = parse_boot(data.get("boot_s"), f"{where}.boot_s")
    except BootError as err:
        raise SpecError(str(err)) from None
    calculator = str(data.get("resource_calculator", base.resource_calculator)).lower()
    if calculator not in RESOURCE_CALCULATORS:
        raise SpecError(f"{where}.resource_calculator: must be one of {', '.join(RESOURCE_CALCULATORS)}")
    band, per_type = _bands(data, pools, base.interruption_band, where)
    try:
        conversion = parse_conversion(data.get("conversion"), f"{where}.conversion")
    except ConversionError as err:
        raise SpecError(str(err)) from None
    try:
        return ClusterSpec(
            pools=pools,
            cluster_id=str(data.get("cluster_id", base.cluster_id)),
            start_at=float(data.get("start_at", base.start_at)),
            boot_s=boot,
            decommission_timeout_s=int(data.get("decommission_timeout_s", base.decommission_timeout_s)),
            spot_decommission_s=float(data.get("spot_decommission_s", base.spot_decommission_s)),
            min_node_age_s=float(data.get("min_node_age_s", base.min_node_age_s)),
            interruption_notice_s=float(data.get("interruption_notice_s", base.interruption_notice_s)),
            interruption_band=band,
            advisor_bands=per_type,
            interruptions=bool(data.get("interruptions", base.interruptions)),
            spot_price_fraction=float(data.get("spot_price_fraction", base.spot_price_fraction)),
            resource_calculator=calculator,
            conversion=conversion,
            reclaims=_reclaims(data.get("reclaims"), pools, f"{where}.reclaims"),
            availability_zone=None if data.get("availability_zone") is None else str(data["availability_zone"]),
        )
    except (TypeError, ValueError) as err:
        raise SpecError(f"{where}: {err}") from None
