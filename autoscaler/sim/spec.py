"""The simulated cluster's shape and EMR timings (`ClusterSpec`), and its YAML form.

The spec lives in the `sim:` section of the `--config` file (the daemon ignores it; the simulator
removes it before validating the rest). The section is validated by pydantic
(`autoscaler.sim.settings.SimSettings`, documented in docs/config-reference.md): every problem at
once, each with its path, unknown keys and wrongly typed values (`interruptions: "false"`) are errors:

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
from typing import Any

from pydantic import ValidationError

from autoscaler.instance_types import UnknownInstanceType, yarn_resources
from autoscaler.model import Market, PoolKind, PoolRole
from autoscaler.prices import load_spot_advisor
from autoscaler.sim.boot import DEFAULT_BOOT, BootDelay, as_boot, parse_boot
from autoscaler.sim.containers import ContainerSizes, container_sizes
from autoscaler.sim.conversion import ConversionModel
from autoscaler.sim.settings import ADVISOR, PoolSettings, SimSettings, sim_errors

#: Spot Advisor band -> monthly share of capacity reclaimed, band midpoints of "<5%", "5-10%",
#: "10-15%", "15-20%", ">20%" (the last taken as 25%).
BAND_MONTHLY_RATE: tuple[float, ...] = (0.025, 0.075, 0.125, 0.175, 0.25)
_MONTH_S = 30 * 24 * 3600.0


def band_hazard_per_s(band: int) -> float:
    """Constant hazard whose one-month survival matches the band's reclaimed share."""
    rate = BAND_MONTHLY_RATE[min(max(band, 0), 4)]
    return -math.log(1.0 - rate) / _MONTH_S


class SpecError(ValueError):
    """A `sim:` section that cannot describe a cluster: every problem, each with its field path."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


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
    #: EMR's container sizes for the core type, the conversion's defaults (None: ConversionModel's own)
    containers: ContainerSizes | None = None

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
        ),
        containers=container_sizes("m5.xlarge"),
    )


def _nodemanager_type(pools: tuple[PoolSpec, ...]) -> str:
    """The type EMR sizes containers for: the first CORE pool's first type, else the first non-master's."""
    core = [p for p in pools if p.role is PoolRole.CORE]
    nodemanagers = core or [p for p in pools if p.role is not PoolRole.MASTER] or list(pools)
    return nodemanagers[0].instance_types[0]


def _unknown_types(pool: PoolSpec) -> list[UnknownInstanceType]:
    """The pool's instance types that neither EMR's YARN table nor the bundled EC2 specs know."""
    out = []
    for itype in pool.instance_types:
        try:
            yarn_resources(itype)
        except UnknownInstanceType as err:
            out.append(err)
    return out


def _pool(p: PoolSettings) -> PoolSpec:
    kind = p.kind
    if kind is PoolKind.INSTANCE_GROUP:
        count = p.initial or 0
        od, spot = (count, 0) if p.market is Market.ON_DEMAND else (0, count)
    else:
        od, spot = p.initial_on_demand or 0, p.initial_spot or 0
    return PoolSpec(
        pool_id=p.id,
        role=p.role,
        kind=kind,
        market=p.market,
        instance_types=tuple(p.types),
        weights=tuple(p.weights or [1] * len(p.types)),
        initial_on_demand=od,
        initial_spot=spot,
        interruption_band=p.interruption_band,
        name=p.name,
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


def parse_spec(data: Any, where: str = "sim") -> ClusterSpec:
    """`sim:` mapping -> ClusterSpec; absent keys keep the defaults (and the default pools).

    Raises SpecError with every problem at once, each located (`sim.pools[0].role: ...`).
    """
    if data is None:
        return default_spec()
    if not isinstance(data, dict):
        raise SpecError(f"{where}: must be a mapping")
    try:
        settings = SimSettings.model_validate(data)
    except ValidationError as err:
        raise SpecError(sim_errors(err, where)) from None
    base = default_spec()
    pools = base.pools if settings.pools is None else tuple(_pool(p) for p in settings.pools)
    per_type: tuple[tuple[str, int], ...] = ()
    band = settings.interruption_band
    if band == ADVISOR:
        path, region = settings.spot_advisor_file, settings.spot_advisor_region or "us-east-1"
        band, per_type = base.interruption_band, advisor_bands(pools, path, region, where)
    assert isinstance(band, int)
    unknown = [f"{where}.pools[{i}].types: {err}" for i, p in enumerate(pools) for err in _unknown_types(p)]
    if unknown:
        raise SpecError(unknown)
    sizes = container_sizes(_nodemanager_type(pools))
    emr = {"map_memory_mb": sizes.map_memory_mb, "reduce_memory_mb": sizes.reduce_memory_mb}
    conversion = ConversionModel(**{**emr, "am_memory_mb": sizes.am_memory_mb, **settings.conversion.given()})
    return ClusterSpec(
        pools=pools,
        cluster_id=settings.cluster_id,
        start_at=settings.start_at,
        boot_s=parse_boot(settings.boot_s, f"{where}.boot_s"),
        decommission_timeout_s=settings.decommission_timeout_s,
        spot_decommission_s=settings.spot_decommission_s,
        min_node_age_s=settings.min_node_age_s,
        interruption_notice_s=settings.interruption_notice_s,
        interruption_band=band,
        advisor_bands=per_type,
        interruptions=settings.interruptions,
        spot_price_fraction=settings.spot_price_fraction,
        resource_calculator=settings.resource_calculator,
        conversion=conversion,
        reclaims=tuple(sorted((r.at_s, r.pool) for r in settings.reclaims)),
        availability_zone=settings.availability_zone,
        containers=sizes,
    )
