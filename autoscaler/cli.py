"""`emr-autoscaler`: run | explain | validate | config-reference (| simulate | demo when installed),
and the wiring of real sources and actuators into the loop's `Deps`.

Config and policy errors print one line per problem with its path and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

import yaml

from autoscaler.actuator import Actuator, DryRunActuator, EmrActuator
from autoscaler.aws import make_client
from autoscaler.config import AppConfig, ClusterConfig, ConfigError, load_config, parse_config
from autoscaler.engine import evaluate
from autoscaler.logs import (
    EventLogger,
    configure_logging,
    inputs_fields,
    plan_fields,
    rejection_fields,
    source_notes,
)
from autoscaler.loop import ClusterDeps, Deps, run
from autoscaler.metrics import Health, Metrics
from autoscaler.metrics_reference import metrics_reference
from autoscaler.model import ClusterSnapshot, ControllerMemory, Decision, Outcome
from autoscaler.policy import Policy, PolicyError, load_policy
from autoscaler.reference import config_reference
from autoscaler.snapshot import Sources, build_sources, collect

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emr-autoscaler", description="Cost-optimizing, explainable autoscaler for Amazon EMR."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p_run = sub.add_parser("run", help="run the daemon (dry-run unless the config or --no-dry-run says otherwise)")
    p_run.add_argument("-c", "--config", required=True, help="YAML config file")
    p_run.add_argument("--once", action="store_true", help="run one tick and exit")
    p_run.add_argument(
        "--dry-run", action=argparse.BooleanOptionalAction, default=None, help="override the config's dry_run"
    )
    p_run.add_argument("--metrics-port", type=int, default=None, help="override metrics_port (0 disables)")

    p_explain = sub.add_parser("explain", help="one tick against the live cluster, printed; writes nothing")
    p_explain.add_argument("-c", "--config", required=True, help="YAML config file")
    p_explain.add_argument("--json", action="store_true", help="print the tick as JSON")

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
    for module in ("autoscaler.sim.command", "autoscaler.emulator.command"):
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
    policies = load_all_policies(config)
    clusters = []
    for cluster, cluster_policies in zip(config.clusters, policies, strict=True):
        actuator: Actuator = (
            DryRunActuator(cluster.cluster_id)
            if config.dry_run
            else EmrActuator(make_client("emr", cluster.region, metrics.observe_aws_call), cluster.cluster_id)
        )
        collect = _collector(build_sources(cluster, observer=metrics.observe_aws_call), cluster)
        clusters.append(ClusterDeps(config=cluster, collect=collect, actuator=actuator, policies=cluster_policies))
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
    """Each cluster's policies; raises PolicyErrors naming every unknown policy or bad option at once."""
    loaded: list[tuple[Policy, ...]] = []
    errors: list[str] = []
    for i, cluster in enumerate(config.clusters):
        policies = []
        for j, spec in enumerate(cluster.policies):
            try:
                policies.append(load_policy(spec, where=f"clusters[{i}].policies[{j}]"))
            except PolicyError as err:
                errors.append(str(err))
        loaded.append(tuple(policies))
    if errors:
        raise PolicyErrors(errors)
    return loaded


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
        for problem in err.problems:
            print(f"error: {err.source}: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    except PolicyErrors as err:
        for problem in err.problems:
            print(f"error: {args.config}: {problem}", file=sys.stderr)
        return EXIT_CONFIG


def _load(args: argparse.Namespace) -> AppConfig:
    config = load_config(args.config)
    updates: dict[str, object] = {}
    if getattr(args, "dry_run", None) is not None:
        updates["dry_run"] = args.dry_run
    if getattr(args, "metrics_port", None) is not None:
        updates["metrics_port"] = args.metrics_port
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
    if args.format == "json":
        out.write(json.dumps(data, indent=2) + "\n")
    else:
        out.write(yaml.safe_dump(data, sort_keys=False))
    return 0


def _explain(args: argparse.Namespace, out: IO[str]) -> int:
    config = _load(args).model_copy(update={"dry_run": True, "metrics_port": 0})
    deps = build_deps(config, Metrics(), configure_logging(config.log_format))
    now = time.time()
    for cluster in deps.clusters:
        snapshot = cluster.collect(now)
        decision = evaluate(snapshot, ControllerMemory(), cluster.policies, cluster.config)
        outcomes = cluster.actuator.apply(decision.plan, snapshot)
        if args.json:
            out.write(json.dumps(explain_data(snapshot, decision, outcomes), indent=2) + "\n")
        else:
            out.write(explain_text(snapshot, decision, outcomes))
    return 0


def explain_data(snapshot: ClusterSnapshot, decision: Decision, outcomes: Sequence[Outcome]) -> dict[str, object]:
    return {
        "cluster": snapshot.cluster_id,
        "stale_reasons": list(snapshot.stale_reasons) if snapshot.stale else [],
        "source_notes": source_notes(snapshot),
        "inputs": inputs_fields(snapshot),
        "recommendations": [
            {"policy": r.policy, "pool": r.pool_id, "target": r.target_units, "reason": r.reason}
            for r in decision.recommendations
        ],
        "rejections": [rejection_fields(r) for r in decision.rejections],
        "plan": plan_fields(decision.plan),
        "would_do": [{"pool": o.pool_id, "status": o.status.value, "detail": o.detail} for o in outcomes],
    }


def _known(value: int | None) -> str:
    """YARN leaves some fields out (vcores on a memory-only RM): say "unknown", never "None" or 0."""
    return "unknown" if value is None else str(value)


def explain_text(snapshot: ClusterSnapshot, decision: Decision, outcomes: Sequence[Outcome]) -> str:
    lines = [f"cluster {snapshot.cluster_id} ({snapshot.cluster_state})"]
    if snapshot.stale:
        lines.append("  STALE snapshot: no resize will be decided: " + "; ".join(snapshot.stale_reasons))
    lines += [f"  note: {note}" for note in source_notes(snapshot)]
    y = snapshot.yarn
    if y is not None:
        lines.append(
            f"  yarn: pending {_known(y.pending_mb)} MB / {_known(y.pending_vcores)} vcores, "
            f"available {_known(y.available_mb)} MB / {_known(y.available_vcores)} vcores, "
            f"{_known(y.active_nodes)} active nodes, {_known(y.apps_pending)} apps pending"
        )
    for p in snapshot.pools:
        lines.append(
            f"  pool {p.pool_id} {p.role.value} {p.kind.value} {p.state.value}: "
            f"requested {p.requested.total}, running {p.running.total}"
        )
    lines.append("recommendations:" if decision.recommendations else "recommendations: none")
    lines += [f"  {r.policy} → {r.pool_id}: {r.target_units} units ({r.reason})" for r in decision.recommendations]
    lines.append("rejections:" if decision.rejections else "rejections: none")
    for rej in decision.rejections:
        where = " ".join(x for x in (rej.policy, rej.pool_id) if x)
        lines.append(f"  {rej.reason.value}{' [' + where + ']' if where else ''}: {rej.detail}")
    lines.append("plan:" if decision.plan.resizes else "plan: no change")
    for r in decision.plan.resizes:
        lines.append(f"  {r.pool_id}: {r.current.total} → {r.target.total} units ({r.reason})")
    lines += [f"  {o.status.value}: {o.detail}" for o in outcomes]
    lines.append("(explain sees one snapshot: policies that average over history see only this sample)")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
