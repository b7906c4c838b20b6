"""The `sim:` section of the `--config` file as pydantic models, validated like the daemon config.

Every problem is reported at once with its path (`sim.pools[1].weights: ...`), unknown keys are
errors, and booleans, integers and numbers are strict: `interruptions: "false"` is an error, not a
truthy string. `autoscaler.sim.spec.parse_spec` turns the validated settings into a `ClusterSpec`;
the field descriptions feed `docs/config-reference.md` (`emr-autoscaler config-reference`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from autoscaler.model import Market, PoolKind, PoolRole
from autoscaler.sim.boot import BootError, parse_boot

#: `interruption_band` value that takes each instance type's band from the Spot Advisor feed.
ADVISOR: Literal["advisor"] = "advisor"


def located(path: str, message: str) -> PydanticCustomError:
    """An error `path` below the field (or model) it is raised in, e.g. `.min` or `[0].pool`."""
    return PydanticCustomError("sim_located", "{message}", {"message": message, "path": path})


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


Seconds = Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)]
Count = Annotated[int, Field(strict=True, ge=0)]
Band = Annotated[int, Field(strict=True, ge=0, le=4)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PoolSettings(_Strict):
    """One instance group or fleet of the simulated cluster."""

    id: str = Field(description="Pool id (ig-... / if-...), as policies and `limits`/`pools` name it.")
    role: Annotated[PoolRole, BeforeValidator(_upper)] = Field(description="MASTER, CORE or TASK.")
    kind: Annotated[PoolKind, BeforeValidator(_upper)] = Field(
        PoolKind.INSTANCE_GROUP, description="INSTANCE_GROUP or INSTANCE_FLEET."
    )
    market: Annotated[Market, BeforeValidator(_upper)] = Field(
        Market.ON_DEMAND, description="ON_DEMAND or SPOT (instance groups; a fleet has both)."
    )
    types: Annotated[list[str], BeforeValidator(_listed)] = Field(
        default_factory=lambda: ["m5.xlarge"],
        min_length=1,
        description="Instance types; a group has exactly one, a fleet launches the cheapest per unit.",
    )
    weights: list[Annotated[int, Field(strict=True, ge=1)]] | None = Field(
        None, description="Units per node of each type (fleets); default 1 each."
    )
    initial: Count | None = Field(None, description="Nodes a group starts with (groups only); default 0.")
    initial_on_demand: Count | None = Field(None, description="On-demand units a fleet starts with (fleets only).")
    initial_spot: Count | None = Field(None, description="Spot units a fleet starts with (fleets only).")
    interruption_band: Band | None = Field(None, description="This pool's Spot Advisor band; default `sim`'s.")
    name: str = Field("", description="Display name.")

    @model_validator(mode="after")
    def _shape(self) -> Self:
        if self.weights is not None and len(self.weights) != len(self.types):
            raise located(".weights", "one positive integer per instance type")
        if self.kind is PoolKind.INSTANCE_GROUP:
            if len(self.types) != 1:
                raise located(".types", "an instance group has exactly one instance type")
            if self.initial_on_demand is not None or self.initial_spot is not None:
                raise located(".initial_on_demand", "fleets only; an instance group takes initial")
        elif self.initial is not None:
            raise located(".initial", "instance groups only; a fleet takes initial_on_demand and initial_spot")
        return self


class ReclaimSettings(_Strict):
    """A known Spot reclaim to replay."""

    at_s: Seconds = Field(description="Trace seconds of the reclaim (the notice comes `interruption_notice_s` before).")
    pool: str = Field(description="A Spot group or fleet; its longest-running Spot node is taken.")


class ConversionSettings(_Strict):
    """How SWIM and Alibaba rows become containers (`autoscaler/sim/conversion.py`); unset keys keep its defaults.

    Container sizes default to EMR's for the instance type of the first CORE pool (the EMR Release
    Guide's task-configuration table, `autoscaler/data/emr_task_defaults.csv`); a type the table lacks
    takes a sibling's or the nearest row, and `simulate` says which (`autoscaler/sim/containers.py`).
    """

    split_bytes: Annotated[int, Field(strict=True, gt=0)] | None = Field(
        None, description="Input bytes per map task (dfs.blocksize); default 128 MiB."
    )
    shuffle_bytes_per_reduce: Annotated[int, Field(strict=True, gt=0)] | None = Field(
        None, description="Shuffle bytes per reduce task (hive.exec.reducers.bytes.per.reducer); default 256 MiB."
    )
    max_reduces: Annotated[int, Field(strict=True, gt=0)] | None = Field(None, description="Reduce cap; default 999.")
    map_mb_per_s: Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)] | None = Field(
        None, description="Map read throughput, MiB/s per task; default 40."
    )
    reduce_mb_per_s: Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)] | None = Field(
        None, description="Reduce shuffle + write throughput, MiB/s per task; default 20."
    )
    map_memory_mb: Annotated[int, Field(strict=True, gt=0)] | None = Field(
        None, description="Map container MB; default EMR's mapreduce.map.memory.mb for the core type (m5.xlarge: 3072)."
    )
    map_vcores: Annotated[int, Field(strict=True, gt=0)] | None = Field(None, description="Map container vcores; 1.")
    reduce_memory_mb: Annotated[int, Field(strict=True, gt=0)] | None = Field(
        None, description="Reduce container MB; default EMR's mapreduce.reduce.memory.mb (m5.xlarge: 6144)."
    )
    reduce_vcores: Annotated[int, Field(strict=True, gt=0)] | None = Field(None, description="Reduce vcores; 1.")
    am_memory_mb: Annotated[int, Field(strict=True, gt=0)] | None = Field(
        None,
        description="ApplicationMaster MB; default EMR's yarn.app.mapreduce.am.resource.mb (m5.xlarge: 6144).",
    )
    am_vcores: Annotated[int, Field(strict=True, gt=0)] | None = Field(None, description="AM vcores; 1.")
    am_start_s: Seconds | None = Field(None, description="AM start-up before it asks for tasks; default 5.")
    container_start_s: Seconds | None = Field(None, description="Added to every task; default 2.")
    min_task_s: Seconds | None = Field(None, description="Shortest task; default 1.")
    max_task_s: Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)] | None = Field(
        None, description="Longest task; default 3600."
    )
    alibaba_machine_mb: Annotated[int, Field(strict=True, gt=0)] | None = Field(
        None, description="MB that Alibaba's normalised memory 1.0 stands for; default 96 GiB."
    )

    @model_validator(mode="after")
    def _task_range(self) -> Self:
        if self.min_task_s is not None and self.max_task_s is not None and self.min_task_s > self.max_task_s:
            raise located(".min_task_s", "must be <= max_task_s")
        return self

    def given(self) -> dict[str, Any]:
        """The keys the file sets."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class SimSettings(_Strict):
    """The simulated cluster (read by `simulate` only; the daemon ignores this section)."""

    pools: list[PoolSettings] | None = Field(
        None,
        min_length=1,
        description="Default: 1 on-demand m5.xlarge master, 2 on-demand core, empty Spot and on-demand task groups.",
    )
    cluster_id: str = Field("j-SIMULATED", description="Replaced by the config's cluster_id when there is one.")
    start_at: float = Field(
        1_699_920_000.0, strict=True, allow_inf_nan=False, description="Epoch seconds of trace time 0 (a midnight)."
    )
    boot_s: float | list[float] | dict[str, Any] | None = Field(
        None,
        description="Boot delay distribution: [min, max] uniform (default [300, 360]), a number, or "
        "{distribution: uniform|fixed|normal|lognormal|empirical, ...} (`autoscaler/sim/boot.py`).",
    )
    decommission_timeout_s: Count = Field(3600, description="Graceful decommission timeout when a resize sets none.")
    spot_decommission_s: Seconds = Field(20.0, description="How long a draining Spot node lasts (EMR: ~20 s).")
    min_node_age_s: Seconds = Field(600.0, description="EMR removes no running node younger than this.")
    interruption_notice_s: Seconds = Field(120.0, description="Spot interruption notice.")
    interruption_band: int | Literal["advisor"] = Field(
        1, description="Spot Advisor band 0 (<5%) .. 4 (>20%) for every type, or `advisor`: each type's own band."
    )
    spot_advisor_file: str | None = Field(None, description="With `advisor`: the feed to read; default bundled.")
    spot_advisor_region: str | None = Field(None, description="With `advisor`: the feed's region; us-east-1.")
    interruptions: bool = Field(True, strict=True, description="Draw Spot interruptions at the band's hazard.")
    reclaims: list[ReclaimSettings] = Field(default_factory=list, description="Replayed Spot reclaims.")
    spot_price_fraction: float = Field(
        0.35, strict=True, gt=0, allow_inf_nan=False, description="Spot = on-demand x this where no price row."
    )
    availability_zone: str | None = Field(
        None,
        description="AZ whose --spot-prices rows are billed; default the first in sort order with prices for "
        "every Spot type the pools use.",
    )
    resource_calculator: Annotated[Literal["memory", "dominant"], BeforeValidator(_lower)] = Field(
        "memory", description="YARN placement: memory (EMR's DefaultResourceCalculator) or dominant (DRF)."
    )
    conversion: ConversionSettings = Field(default_factory=ConversionSettings)

    @field_validator("boot_s", mode="plain")
    @classmethod
    def _boot(cls, value: Any) -> Any:
        try:
            parse_boot(value, "boot_s")
        except BootError as err:
            path, _, message = str(err).partition(": ")
            raise located(path.removeprefix("boot_s"), message) from None
        return value

    @field_validator("interruption_band", mode="plain")
    @classmethod
    def _band(cls, value: Any) -> int | Literal["advisor"]:
        if isinstance(value, str) and value.strip().lower() == ADVISOR:
            return ADVISOR
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 4:
            raise located("", f"a band 0..4 or {ADVISOR!r}, not {value!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.interruption_band != ADVISOR and (self.spot_advisor_file or self.spot_advisor_region):
            raise located(".spot_advisor_file", f"only read with interruption_band: {ADVISOR}")
        spot = {p.id for p in self.pools or () if p.kind is PoolKind.INSTANCE_FLEET or p.market is Market.SPOT}
        if self.pools is None:
            spot = {"ig-task-spot"}
        for i, r in enumerate(self.reclaims):
            if r.pool not in spot:
                raise located(f".reclaims[{i}].pool", f"{r.pool!r} is not a Spot group or fleet of the sim pools")
        return self


def _render(loc: tuple[int | str, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


def sim_errors(err: ValidationError, where: str = "sim") -> list[str]:
    """`where.path: message` for every error, as the daemon config reports them."""
    problems = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith(("function-", "literal["))))
        path = where + _render(loc)
        if e["type"] == "sim_located":
            ctx = e.get("ctx") or {}
            path, message = path + str(ctx.get("path", "")), str(ctx.get("message", e["msg"]))
        else:
            message = e["msg"].removeprefix("Value error, ")
        problems.append(f"{path}: {message}")
    return problems
