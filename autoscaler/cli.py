"""`emr-autoscaler`: run | explain | validate | config-reference (| simulate | tune | trace import | demo when
installed), and the wiring of real sources and actuators into the loop's `Deps`.

Config and policy errors print one line per problem with its path and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

import yaml

from autoscaler import __version__
from autoscaler.actuator import Actuator, DryRunActuator, EmrActuator
from autoscaler.aws import make_client
from autoscaler.config import AppConfig, ClusterConfig, ConfigError, HaConfig, parse_config
from autoscaler.config_check import check_config
from autoscaler.explain import daemon_access, explain_data, explain_text, fetch_daemon
from autoscaler.ha import FencedActuator, cluster_leases, with_lease_memory
from autoscaler.logs import EventLogger, configure_logging
from autoscaler.loop import EXIT_STALE, ClusterDeps, Deps, run
from autoscaler.metrics import Health, Metrics
from autoscaler.metrics_reference import metrics_reference
from autoscaler.model import ClusterSnapshot
from autoscaler.policy import Policy, PolicyError, load_policy
from autoscaler.reference import config_reference
from autoscaler.shadow import Shadows, shadow_names
from autoscaler.snapshot import Sources, build_sources, collect
from autoscaler.sources import redact_url
from autoscaler.tick import run_tick

EXIT_CONFIG = 2
__all__ = ["EXIT_CONFIG", "EXIT_STALE", "explain_data", "explain_text", "main"]

EXIT_CODES = (
    "exit status: 0 ok; 1 the metrics port cannot be bound (run); 2 bad config or policy;"
    f" {EXIT_STALE} a cluster's snapshot was stale, nothing decided (run --once, explain)"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emr-autoscaler", description="Cost-optimizing, explainable autoscaler for Amazon EMR.", epilog=EXIT_CODES
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__} (Python {platform.python_version()})"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p_run = sub.add_parser(
        "run", help="run the daemon (dry-run unless the config or --no-dry-run says otherwise)", epilog=EXIT_CODES
    )
    p_run.add_argument("-c", "--config", required=True, help="YAML config file")
    p_run.add_argument("--once", action="store_true", help="run one tick and exit")
    p_run.add_argument(
        "--dry-run", action=argparse.BooleanOptionalAction, default=None, help="override the config's dry_run"
    )
    p_run.add_argument("--metrics-port", type=int, default=None, help="override metrics_port (0 disables)")
    p_run.add_argument(
        "--metrics-bind-address", default=None, help="override metrics_bind_address (127.0.0.1 = this host only)"
    )

    p_explain = sub.add_parser(
        "explain", help="one tick against the live cluster, printed; writes nothing", epilog=EXIT_CODES
    )
    p_explain.add_argument("-c", "--config", required=True, help="YAML config file")
    p_explain.add_argument("--json", action="store_true", help="print the tick as JSON")
    p_explain.add_argument(
        "--daemon",
        metavar="URL",
        help="the running daemon's metrics server, whose memory (cooldowns, back-offs, scale-in confirmations) "
        "explain evaluates with (default http[s]://127.0.0.1:<metrics_port>, with the config's metrics_tls "
        "and metrics_basic_auth; 'none' to skip)",
    )

    p_validate = sub.add_parser("validate", help="check a config: print the effective config or every error")
    p_validate.add_argument("-c", "--config", required=True, help="YAML config file")
    p_validate.add_argument("--format", choices=("yaml", "json"), default="yaml")

    p_ref = sub.add_parser("config-reference", help="print the Markdown config reference")
    p_ref.add_argument("-o", "--output", help="write to this file instead of stdout")

    p_mref = sub.add_parser("metrics-reference", help="print the Markdown metrics reference")
    p_mref.add_argument("-o", "--output", help="write to this file instead of stdout")

    _register_optional(sub)
    return parser


def _register_optional(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`simulate` and `demo` live in their own packages; each exposes `register(subparsers)`."""
    for module in (
        "autoscaler.sim.command",
        "autoscaler.sim.tune_command",
        "autoscaler.sim.import_command",
        "autoscaler.emulator.command",
    ):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
            continue
        mod.register(sub)


def build_deps(
    config: AppConfig,
    metrics: Metrics,
    logger: EventLogger,
    clock: Callable[[], float] = time.time,
) -> Deps:
    """Real sources and actuators for every configured cluster; raises PolicyErrors listing every
    unknown policy or bad option in every cluster at once."""
    policies, shadows = _load_lists(config)
    leases = cluster_leases(config, metrics.observe_aws_call, logger, clock)
    clusters = []
    for cluster, cluster_policies, cluster_shadows in zip(config.clusters, policies, shadows, strict=True):
        actuator: Actuator = (
            DryRunActuator(cluster.cluster_id)
            if config.dry_run
            else EmrActuator(make_client("emr", cluster.region, metrics.observe_aws_call), cluster.cluster_id)
        )
        lease = leases.get(cluster.cluster_id)
        if lease is not None:
            actuator = FencedActuator(actuator, lease)  # every write asks the lease first
        collect = _collector(build_sources(cluster, observer=metrics.observe_aws_call), cluster)
        clusters.append(ClusterDeps(cluster, collect, actuator, cluster_policies, lease, cluster_shadows))
        names = (getattr(p, "name", type(p).__name__) for p in cluster_policies)  # as the engine names them
        metrics.expect(cluster.cluster_id, names, cluster.pools)
    health = Health(config.poll_interval_s, tuple(c.cluster_id for c in config.clusters), started_at=clock())
    metrics.set_dry_run(config.dry_run)
    return Deps(tuple(clusters), metrics, health, logger, clock, config.dry_run)


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
        lists: dict[str, list[Policy]] = {"policies": [], "shadow_policies": []}
        for key, out in lists.items():
            for j, spec in enumerate(getattr(cluster, key)):
                try:
                    out.append(load_policy(spec, where=f"clusters[{i}].{key}[{j}]"))
                except PolicyError as err:
                    errors.append(str(err))
        loaded.append(tuple(lists["policies"]))
        names = shadow_names([s.type for s in cluster.shadow_policies])
        shadows.append(Shadows(list(zip(names, lists["shadow_policies"], strict=False))))
    if errors:
        raise PolicyErrors(errors)
    return loaded, shadows


def _collector(sources: Sources, cluster: ClusterConfig) -> Callable[[float], ClusterSnapshot]:
    def run(now: float) -> ClusterSnapshot:
        return collect(sources, cluster, now)

    return run


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "explain":
            return _explain(args, sys.stdout)
        if args.command == "validate":
            return _validate(args, sys.stdout)
        if args.command in ("config-reference", "metrics-reference"):
            text = config_reference() if args.command == "config-reference" else metrics_reference()
            if args.output:
                Path(args.output).write_text(text)
            else:
                sys.stdout.write(text)
            return 0
        handler = getattr(args, "handler", None)
        if handler is None:
            raise AssertionError(f"no handler for {args.command}")
        return int(handler(args))
    except ConfigError as err:
        for line in err.lines():
            print(f"error: {line}", file=sys.stderr)
        return EXIT_CONFIG
    except PolicyErrors as err:
        for problem in err.problems:
            print(f"error: {args.config}: {problem}", file=sys.stderr)
        return EXIT_CONFIG


def _load(args: argparse.Namespace) -> AppConfig:
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


def _run(args: argparse.Namespace) -> int:
    config = _load(args)
    logger = configure_logging(config.log_format)
    deps = build_deps(config, Metrics(), logger)
    return run(config, deps, once=args.once)


def _validate(args: argparse.Namespace, out: IO[str]) -> int:
    config = _load(args)
    load_all_policies(config)
    data = config.model_dump(mode="json")
    for cluster in data["clusters"]:  # the echo gets pasted into tickets: URL credentials stay out of it
        cluster["yarn"]["urls"] = [redact_url(url) for url in cluster["yarn"]["urls"]]
    if args.format == "json":
        out.write(json.dumps(data, indent=2) + "\n")
    else:
        out.write(yaml.safe_dump(data, sort_keys=False))
    return 0


def _explain(args: argparse.Namespace, out: IO[str]) -> int:
    loaded = _load(args)
    view = with_lease_memory(fetch_daemon(daemon_access(loaded, args.daemon)), loaded)
    # no lease of its own: explain is not a replica, and writes nothing
    config = loaded.model_copy(update={"dry_run": True, "metrics_port": 0, "ha": HaConfig()})
    deps = build_deps(config, Metrics(), configure_logging(config.log_format))
    now = time.time()
    stale = False
    for cluster in deps.clusters:
        snapshot = cluster.collect(now)
        memory = view.memory(cluster.config.cluster_id)
        result = run_tick(snapshot, memory, cluster.policies, cluster.config, cluster.actuator, now=now)
        stale = stale or snapshot.stale
        if args.json:
            out.write(json.dumps(explain_data(snapshot, result.decision, result.outcomes, view), indent=2) + "\n")
        else:
            out.write(explain_text(snapshot, result.decision, result.outcomes, view))
    return EXIT_STALE if stale else 0


if __name__ == "__main__":
    sys.exit(main())
