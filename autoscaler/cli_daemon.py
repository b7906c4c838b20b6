"""The daemon's commands behind `emr-autoscaler` (run | explain | validate): loading a config with its
policies, and the wiring of real sources and actuators into the loop's `Deps`.

Apart from `autoscaler.cli` so that `simulate` and the other simulator commands do not import boto3,
the metrics server and the logging stack they never use (start-up time of every simulator run).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from functools import partial
from typing import IO, Any

import yaml

from autoscaler.actuator import Actuator, DryRunActuator, EmrActuator
from autoscaler.aws import Clients, make_client
from autoscaler.config import AppConfig, ClusterConfig, HaConfig, parse_config
from autoscaler.config_check import check_config
from autoscaler.config_daemon import TEMPLATE_CLUSTER_ID
from autoscaler.daemon import run
from autoscaler.discovery import Discovery
from autoscaler.exits import EXIT_STALE
from autoscaler.explain import daemon_access, explain_data, explain_text, fetch_daemon
from autoscaler.ha import ClusterLease, FencedActuator, with_lease_memory
from autoscaler.logs import EventLogger, configure_logging
from autoscaler.loop import ClusterDeps, Deps
from autoscaler.metrics import Health, Metrics
from autoscaler.model import ClusterSnapshot
from autoscaler.policy import Policy, PolicyError, load_policy
from autoscaler.recorder import Recorder
from autoscaler.shadow import Shadows, shadow_names
from autoscaler.snapshot import Sources, build_sources, collect
from autoscaler.sources import redact_url
from autoscaler.spread import Leases
from autoscaler.tick import run_tick

__all__ = [
    "PolicyErrors",
    "build_deps",
    "explain_command",
    "explain_data",
    "explain_text",
    "load_all_policies",
    "load_all_shadows",
    "load_args",
    "run_command",
    "validate_command",
]


def build_deps(
    config: AppConfig,
    metrics: Metrics,
    logger: EventLogger,
    clock: Callable[[], float] = time.time,
) -> Deps:
    """Real sources and actuators for every configured cluster, and discovery when configured; raises
    PolicyErrors listing every unknown policy or bad option in every cluster (and the discovery
    template) at once."""
    policies, shadows = _load_lists(config)
    make_lease = Leases(config, metrics.observe_aws_call, logger, clock, metrics.clusters.record_replicas)
    build = partial(_cluster_deps, config, metrics, logger, make_lease, Clients(metrics.observe_aws_call))
    clusters = tuple(build(c, p, s) for c, p, s in zip(config.clusters, policies, shadows, strict=True))
    health = Health(config.poll_interval_s, tuple(c.cluster_id for c in config.clusters), started_at=clock())
    metrics.set_dry_run(config.dry_run)
    return Deps(
        clusters,
        metrics,
        health,
        logger,
        clock,
        config.dry_run,
        max_concurrent_clusters=config.max_concurrent_clusters,
        tick_deadline_s=config.tick_deadline_s,
        discovery=_discovery(config, metrics, logger, build),
        spread=make_lease.beat,
    )


def _cluster_deps(  # noqa: PLR0917 - bound by partial in build_deps
    config: AppConfig,
    metrics: Metrics,
    logger: EventLogger,
    make_lease: Callable[[ClusterConfig], ClusterLease | None],
    clients: Clients,
    cluster: ClusterConfig,
    cluster_policies: tuple[Policy, ...],
    cluster_shadows: Shadows,
) -> ClusterDeps:
    actuator: Actuator = (
        DryRunActuator(cluster.cluster_id)
        if config.dry_run
        else EmrActuator(clients("emr", cluster.region), cluster.cluster_id)
    )
    lease = make_lease(cluster)
    if lease is not None:
        actuator = FencedActuator(actuator, lease)  # every write asks the lease first
    collect = _collector(build_sources(cluster, observer=metrics.observe_aws_call, clients=clients), cluster)
    recorder = (
        Recorder(
            cluster.cluster_id,
            cluster.record_dir,
            cluster.recording,
            logger,
            dropped=metrics.count_record_dropped,
            written=metrics.count_record_written,
            config=_recorded_config(cluster),
        )
        if cluster.record_dir
        else None
    )  # its thread and files start with the first tick: explain, which never ticks, records nothing
    names = (getattr(p, "name", type(p).__name__) for p in cluster_policies)  # as the engine names them
    metrics.expect(cluster.cluster_id, names, cluster.pools)
    return ClusterDeps(cluster, collect, actuator, cluster_policies, lease, cluster_shadows, recorder)


def _recorded_config(cluster: ClusterConfig) -> dict[str, Any]:
    """The cluster's config as a recording keeps it: JSON, with any credentials in an RM URL redacted."""
    data = cluster.model_dump(mode="json")
    data["yarn"]["urls"] = [redact_url(url) for url in data["yarn"]["urls"]]
    return data


def _discovery(
    config: AppConfig,
    metrics: Metrics,
    logger: EventLogger,
    build: Callable[[ClusterConfig, tuple[Policy, ...], Shadows], ClusterDeps],
) -> Discovery[ClusterDeps] | None:
    if config.discovery is None:
        return None

    def build_found(cluster: ClusterConfig) -> ClusterDeps:
        errors: list[str] = []
        loaded, shadows = _policies_of(cluster, f"cluster {cluster.cluster_id}", errors)
        if errors:
            raise PolicyErrors(errors)
        return build(cluster, loaded, shadows)

    def drop(cluster: ClusterDeps) -> None:
        if cluster.lease is not None:
            cluster.lease.release()  # terminated or untagged: nobody needs to wait for this lease

    emr = make_client("emr", config.discovery.region, metrics.observe_aws_call)
    return Discovery(config.discovery, emr, build_found, logger, on_scan=metrics.clusters.record_scan, on_drop=drop)


class PolicyErrors(PolicyError):
    """Every policy problem in a config, one string per problem, each starting with its path."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def load_all_policies(config: AppConfig) -> list[tuple[Policy, ...]]:
    """Each cluster's policies; raises PolicyErrors naming every unknown policy or bad option (live or
    shadow) at once."""
    return _load_lists(config)[0]


def load_all_shadows(config: AppConfig) -> list[Shadows]:
    """Each cluster's shadow policies, named by `shadow_names`; raises like `load_all_policies`."""
    return _load_lists(config)[1]


def _load_lists(config: AppConfig) -> tuple[list[tuple[Policy, ...]], list[Shadows]]:
    loaded: list[tuple[Policy, ...]] = []
    shadows: list[Shadows] = []
    errors: list[str] = []
    for i, cluster in enumerate(config.clusters):
        live, shadow = _policies_of(cluster, f"clusters[{i}]", errors)
        loaded.append(live)
        shadows.append(shadow)
    if config.discovery is not None:  # the template's policies, checked at start like a cluster's
        _policies_of(config.discovery.cluster(TEMPLATE_CLUSTER_ID, "template.invalid"), "discovery.template", errors)
    if errors:
        raise PolicyErrors(errors)
    return loaded, shadows


def _policies_of(cluster: ClusterConfig, where: str, errors: list[str]) -> tuple[tuple[Policy, ...], Shadows]:
    """A cluster's policies and shadows; each problem appended to `errors`, located under `where`."""
    lists: dict[str, list[Policy]] = {"policies": [], "shadow_policies": []}
    for key, out in lists.items():
        for j, spec in enumerate(getattr(cluster, key)):
            try:
                out.append(load_policy(spec, where=f"{where}.{key}[{j}]"))
            except PolicyError as err:
                errors.append(str(err))
    names = shadow_names([s.type for s in cluster.shadow_policies])
    return tuple(lists["policies"]), Shadows(list(zip(names, lists["shadow_policies"], strict=False)))


def _collector(sources: Sources, cluster: ClusterConfig) -> Callable[[float], ClusterSnapshot]:
    def run(now: float) -> ClusterSnapshot:
        return collect(sources, cluster, now)

    return run


def load_args(args: argparse.Namespace) -> AppConfig:
    config = check_config(args.config)
    updates: dict[str, object] = {}
    if getattr(args, "dry_run", None) is not None:
        updates["dry_run"] = args.dry_run
    for key in ("metrics_port", "metrics_bind_address"):
        if getattr(args, key, None) is not None:
            updates[key] = getattr(args, key)
    if not updates:
        return config
    # validated like the file (model_copy would not); the environment is already applied and a
    # flag beats it, so it is not applied again
    return parse_config({**config.model_dump(), **updates}, "command line", env={})


def run_command(args: argparse.Namespace) -> int:
    config = load_args(args)
    logger = configure_logging(config.log_format)
    deps = build_deps(config, Metrics(), logger)
    return run(config, deps, once=args.once)


def validate_command(args: argparse.Namespace, out: IO[str]) -> int:
    config = load_args(args)
    load_all_policies(config)
    data = config.model_dump(mode="json")
    for cluster in data["clusters"]:  # the echo gets pasted into tickets: URL credentials stay out of it
        cluster["yarn"]["urls"] = [redact_url(url) for url in cluster["yarn"]["urls"]]
    if args.format == "json":
        out.write(json.dumps(data, indent=2) + "\n")
    else:
        out.write(yaml.safe_dump(data, sort_keys=False))
    return 0


def explain_command(args: argparse.Namespace, out: IO[str]) -> int:
    loaded = load_args(args)
    view = with_lease_memory(fetch_daemon(daemon_access(loaded, args.daemon)), loaded)
    # no lease of its own: explain is not a replica, and writes nothing
    config = loaded.model_copy(update={"dry_run": True, "metrics_port": 0, "ha": HaConfig()})
    deps = build_deps(config, Metrics(), configure_logging(config.log_format))
    if deps.discovery is not None:
        deps.discovery.scan()  # the tagged clusters are explained too, after the listed ones
    now = time.time()
    stale = False
    for cluster in deps.clusters + (deps.discovery.clusters() if deps.discovery else ()):
        # the Spot queue is only looked at: deleting its messages would take them from the daemon
        sources = build_sources(cluster.config, consume_interruptions=False)
        snapshot = collect(sources, cluster.config, now)
        memory = view.memory(cluster.config.cluster_id)
        result = run_tick(snapshot, memory, cluster.policies, cluster.config, cluster.actuator, now=now)
        stale = stale or snapshot.stale
        if args.json:
            out.write(json.dumps(explain_data(snapshot, result.decision, result.outcomes, view), indent=2) + "\n")
        else:
            out.write(explain_text(snapshot, result.decision, result.outcomes, view))
    return EXIT_STALE if stale else 0
