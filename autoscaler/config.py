"""Typed configuration: YAML validated by pydantic, every error reported at once with its path.

The keys named in issue #3 (`dry_run`, `poll_interval_s`, `clusters[].cluster_id`, `region`,
`yarn.urls`, `limits.{min_task_units,max_task_units,max_core_units}`, `policies[].{type,options}`)
are a public contract: extend, never rename. Each field's description feeds the generated
config reference (`emr-autoscaler config-reference`, `autoscaler/reference.py`).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final, Literal, Self

import yaml
from pydantic import Field, ValidationError, model_validator

from autoscaler.config_daemon import (
    DAY_S,
    REGION_PATTERN,
    WEEK_S,
    DiscoveryConfig,
    HaConfig,
    MetricsAuthConfig,
    MetricsTlsConfig,
    Strict,
)
from autoscaler.config_env import (
    ENV_PREFIX,
    ConfigError,
    Loc,
    env_var,
    format_errors,
    loc_text,
    located,
    prune,
    read_env,
)
from autoscaler.config_market import PricingConfig, SpotConfig
from autoscaler.config_recording import RecordingConfig

__all__ = [
    "ENV_PREFIX",
    "AppConfig",
    "ClusterConfig",
    "ConfigError",
    "DiscoveryConfig",
    "HaConfig",
    "MetricsAuthConfig",
    "MetricsTlsConfig",
    "PricingConfig",
    "SpotConfig",
    "format_errors",
    "load_config",
    "parse_config",
]


class YarnConfig(Strict):
    urls: list[str] = Field(
        min_length=1, description="ResourceManager base URLs; several = RM HA, the active one is used."
    )
    timeout_s: float = Field(
        5.0,
        gt=0,
        le=300,
        description="Connect and read timeout for each YARN request, and the most its whole answer may take "
        "(an RM trickling a few bytes at a time is cut off).",
    )
    verify_tls: bool = Field(True, description="Verify the RM's TLS certificate.")
    ca_bundle: str | None = Field(None, description="CA bundle file for a private CA (implies verify_tls).")
    kerberos: bool = Field(False, description="Authenticate with SPNEGO (needs the `kerberos` extra).")


class LimitsConfig(Strict):
    min_task_units: int = Field(
        0, ge=0, description="Never fewer units than this in each task pool, enforced even when no policy asks."
    )
    max_task_units: int = Field(
        20, ge=0, description="Never more units than this in each task pool, enforced even when no policy asks."
    )
    min_core_units: int = Field(0, ge=0, description="Core floor; the dfs.replication rule may raise it.")
    max_core_units: int = Field(0, ge=0, description="Core ceiling; 0 with scale_core false leaves core alone.")
    max_on_demand_units: int | None = Field(None, ge=0, description="Cap on on-demand units across pools.")
    max_step_up_units: int = Field(10, ge=1, description="Largest scale-up of one pool in one tick.")
    max_step_down_units: int = Field(5, ge=1, description="Largest scale-in of one pool in one tick.")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.max_task_units < self.min_task_units:
            raise ValueError("max_task_units: must be >= min_task_units")
        if self.max_core_units and self.max_core_units < self.min_core_units:
            raise ValueError("max_core_units: must be >= min_core_units")
        return self


class GuardsConfig(Strict):
    cooldown_up_s: float = Field(
        120, ge=0, le=WEEK_S, description="Seconds after a scale-up before another scale-up of the pool."
    )
    cooldown_down_s: float = Field(
        300, ge=0, le=WEEK_S, description="Seconds after any resize before a scale-in of the pool."
    )
    scale_down_confirmations: int = Field(
        3, ge=1, description="Consecutive ticks a scale-in must be wanted before it happens."
    )
    backoff_s: float = Field(600, ge=0, le=WEEK_S, description="Seconds a pool is left alone after a capacity error.")
    stale_after_s: float = Field(
        120,
        gt=0,
        le=DAY_S,
        description="A source older than this makes the snapshot stale: YARN or EMR answering more than this "
        "many seconds after the tick began (so the data read first is that old when acted on) means no resize "
        "that tick.",
    )
    scale_core: bool = Field(False, description="Allow resizing CORE pools (task-only is the safe default).")
    dfs_replication: int | None = Field(
        None, ge=1, description="HDFS replication factor; default follows EMR's rule by core count."
    )
    max_hdfs_utilization_pct: float = Field(
        80,
        gt=0,
        le=100,
        description=(
            "Core scale-in never leaves HDFS fuller than this (from CloudWatch HDFSUtilization);"
            " with utilisation unknown, core is not shrunk."
        ),
    )
    min_node_age_s: float = Field(
        600,
        ge=0,
        le=WEEK_S,
        description="EMR will not remove instances younger than this; they are never chosen to drain.",
    )

    @model_validator(mode="after")
    def _replication_known(self) -> Self:
        # EMR picks dfs.replication from the core count at launch, which the daemon cannot read back;
        # recomputing it from today's count would let core shrink, tick by tick, below the real factor.
        if self.scale_core and self.dfs_replication is None:
            raise ValueError("dfs_replication: must be set when scale_core is true (your cluster's dfs.replication)")
        return self


GuardProfile = Literal["vendor", "ours"]
"""Which timing guards apply to a policy's resizes (designs/0004-reference-guard-profiles.md)."""


class PolicySpec(Strict):
    type: str = Field(description="Policy name from the `emr_autoscaler.policies` entry-point group.")
    options: dict[str, Any] = Field(default_factory=dict, description="Validated by the policy itself.")
    guards: GuardProfile | None = Field(
        None,
        description="Timing guards for this policy's resizes. `ours`: the cluster's guards.cooldown_up_s, "
        "cooldown_down_s, scale_down_confirmations and limits.max_step_*_units. `vendor`: only the timing the "
        "policy itself implements (the reference policies dataproc, emr-rules and managed-scaling-like default "
        "to this; every other policy to `ours`). Safety guards (stale input, bounds, core floor, busy pool, "
        "back-off, AM protection) apply to every policy either way.",
    )


class ClusterConfig(Strict):
    cluster_id: str = Field(pattern=r"^j-[A-Z0-9]+$", description="EMR cluster id (j-...).")
    region: str = Field("us-east-1", pattern=REGION_PATTERN, description="AWS region of the cluster.")
    yarn: YarnConfig
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    guards: GuardsConfig = Field(default_factory=GuardsConfig)
    spot: SpotConfig = Field(default_factory=SpotConfig)
    pricing: PricingConfig = Field(default_factory=PricingConfig)
    policies: list[PolicySpec] = Field(min_length=1, description="Evaluated every tick; combined per pool.")
    shadow_policies: list[PolicySpec] = Field(
        default_factory=list,
        description="Candidates evaluated every tick beside `policies`, each on its own with the same guards and "
        "its own memory, never acting: metrics emr_autoscaler_shadow_target_units and "
        "emr_autoscaler_shadow_cost_usd_per_hour say what each would hold and spend.",
    )
    pools: list[str] | None = Field(
        None, description="Pool ids (ig-/if-) to manage; default every TASK pool (and CORE with scale_core)."
    )
    decommission_timeout_s: int = Field(
        3600,
        ge=0,
        le=WEEK_S,
        description="ShrinkPolicy DecommissionTimeout; YARN's graceful decommission default is 3600.",
    )
    cloudwatch: bool = Field(True, description="Read CloudWatch EMR metrics (one GetMetricData per tick).")
    interruptions_queue_url: str | None = Field(
        None, description="SQS queue fed by EventBridge with EC2 Spot interruption warnings; unset = not read."
    )
    history_window_s: float = Field(
        1800, gt=0, le=WEEK_S, description="How much metric history policies may average over."
    )
    record_dir: str | None = Field(
        None,
        min_length=1,
        description="Record every tick's snapshot and decision here (JSON lines, rotated and bounded by "
        "`recording`) for `simulate --replay` and `trace import --recording`; written by a thread, never "
        "delaying a tick. Unset: nothing recorded.",
    )
    recording: RecordingConfig = Field(
        default_factory=RecordingConfig, description="Bounds of record_dir: file size, file count, queue."
    )


class AppConfig(Strict):
    dry_run: bool = Field(True, description="Default true: nothing is resized until an operator turns it off.")
    poll_interval_s: float = Field(30, gt=0, le=DAY_S, description="Seconds between ticks.")
    metrics_port: int = Field(
        9464, ge=0, le=65535, description="Port for /metrics, /livez, /readyz and /debug/decision (0 disables)."
    )
    metrics_bind_address: str = Field(
        "0.0.0.0",
        min_length=1,
        description="Address the metrics server listens on; default every IPv4 interface (scraped from outside a "
        "container), 127.0.0.1 for local only, :: for IPv6.",
    )
    metrics_tls: MetricsTlsConfig | None = Field(None, description="HTTPS for the metrics server; unset = HTTP.")
    metrics_basic_auth: MetricsAuthConfig | None = Field(
        None, description="Basic auth for /metrics and /debug/decision; unset = open."
    )
    log_format: str = Field(
        "auto", pattern="^(auto|json|console)$", description="auto: console on a TTY, JSON otherwise."
    )
    clusters: list[ClusterConfig] = Field(
        default_factory=list, description="Clusters managed by id; `discovery` may add more (at least one of the two)."
    )
    discovery: DiscoveryConfig | None = Field(None, description="Also manage the clusters tagged for it.")
    max_concurrent_clusters: int = Field(
        8, ge=1, le=256, description="Clusters ticked at once (a worker pool); the others wait for a free worker."
    )
    cluster_tick_deadline_s: float | None = Field(
        None,
        gt=0,
        le=DAY_S,
        description="A round of ticks ends this long after it began: a cluster's tick not started by then is "
        "skipped, one still running can no longer resize and is reported (tick_overrun); at most poll_interval_s. "
        "Default 0.8 x poll_interval_s.",
    )
    ha: HaConfig = Field(default_factory=HaConfig, description="High availability: leases, or a memory file.")

    @property
    def tick_deadline_s(self) -> float:
        return self.cluster_tick_deadline_s or 0.8 * self.poll_interval_s

    @model_validator(mode="after")
    def _clusters_to_manage(self) -> Self:
        if not self.clusters and self.discovery is None:
            raise ValueError("clusters: list at least one cluster, or set discovery")
        ids = [c.cluster_id for c in self.clusters]
        if twice := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"clusters: {', '.join(twice)} listed more than once")
        if self.tick_deadline_s > self.poll_interval_s:
            raise ValueError(
                f"cluster_tick_deadline_s ({self.tick_deadline_s:g}) must be at most poll_interval_s "
                f"({self.poll_interval_s:g}): a round of ticks ends before the next begins"
            )
        return self

    @model_validator(mode="after")
    def _lease_outlives_a_tick(self) -> Self:
        if self.ha.lease_table is not None and self.ha.lease_duration_s < 2 * self.poll_interval_s:
            raise ValueError(
                f"ha.lease_duration_s ({self.ha.lease_duration_s:g}) must be at least 2 x poll_interval_s "
                f"({2 * self.poll_interval_s:g}): a leader renews once per tick, and failover (lease + two "
                "intervals) must stay within two lease periods"
            )
        return self


def validate_all(data: dict[str, Any], overridden: Iterable[str] = ()) -> tuple[AppConfig | None, list[str], list[str]]:
    """(config or None, file problems, env problems): every error at once.

    pydantic stops at a model's field errors before its cross-field checks (min > max), so each pass
    drops the values it refused and validates again, up to a few passes; a "missing" error for a
    dropped value, or a cross-field error naming one, is not reported twice.
    """
    from_env = set(overridden)
    current = copy.deepcopy(data)
    pruned: set[Loc] = set()
    found: dict[Loc, str] = {}
    for _ in range(_PASSES):
        try:
            config = AppConfig.model_validate(current)
        except ValidationError as err:
            fresh = [(loc, msg) for loc, msg in map(located, err.errors()) if loc not in pruned and loc not in found]
            for loc, msg in fresh:
                found[loc] = msg
            dropped = [prune(current, loc) for loc, _ in fresh]  # every one: no short-circuit
            if not any(dropped):
                break
            pruned.update(loc for loc, _ in fresh)
            continue
        if not found:
            return config, [], []
        break
    file_problems = [f"{loc_text(loc) or '<root>'}: {msg}" for loc, msg in found.items() if not _is_env(loc, from_env)]
    env_problems = [f"{env_var(str(loc[0]))}: {msg}" for loc, msg in found.items() if _is_env(loc, from_env)]
    return None, file_problems, env_problems


_PASSES: Final = 4


def _is_env(loc: Loc, from_env: set[str]) -> bool:
    return len(loc) == 1 and loc[0] in from_env


def parse_config(data: Any, source: str = "<config>", env: Mapping[str, str] | None = None) -> AppConfig:
    """The validated config from parsed YAML and the environment; ConfigError lists every problem."""
    if not isinstance(data, dict):
        raise ConfigError(source, ["<root>: must be a mapping"])
    try:
        overrides = read_env(os.environ if env is None else env)
        env_problems: list[str] = []
    except ConfigError as err:
        overrides, env_problems = {}, err.env_problems
    config, problems, more_env = validate_all({**data, **overrides}, overrides)
    if config is None or env_problems:
        raise ConfigError(source, problems, env_problems + more_env)
    return config


def read_config_file(path: str | Path) -> Any:
    """The parsed YAML of a config file; ConfigError (never UnicodeDecodeError/RecursionError) when unreadable."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as err:
        raise ConfigError(str(path), [f"<file>: {err.strerror}"]) from None
    except UnicodeDecodeError as err:
        raise ConfigError(
            str(path), [f"<file>: not UTF-8 text (byte 0x{err.object[err.start]:02x} at offset {err.start})"]
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "<yaml>"
        raise ConfigError(str(path), [f"{where}: {getattr(err, 'problem', err)}"]) from None
    except RecursionError:
        raise ConfigError(str(path), ["<yaml>: nested too deeply to read (a config is a few levels deep)"]) from None


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> AppConfig:
    data = read_config_file(path)
    try:
        return parse_config(data, str(path), env)
    except RecursionError:
        raise ConfigError(str(path), ["<root>: nested too deeply to validate"]) from None
