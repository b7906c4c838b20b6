"""`emr-autoscaler tune`: search a policy's options on a trace for the least controllable cost within a p95 wait.

    emr-autoscaler tune --trace T --policy NAME [--config FILE] --max-p95-wait S --trials N
                        [--storage URL] [--holdout-fraction F] [--seed N] [--spot-prices FILE] -o best.yaml

The flags are a contract. `--trace`, `--policy` (`A+B` tunes both together) and `--config` (the daemon's
YAML with an optional `sim:` section) read as in `simulate`. The options searched, and their ranges, are
the policy's option fields with both bounds (`autoscaler.sim.space`); the others keep the config's
values. Trials simulate the first 1 - F of the trace's time (default F = 0.2) in one process per core
(`--workers`), stored in `--storage` (an Optuna storage URL; default SQLite `<best>.optuna.db` beside
-o; a PostgreSQL URL lets several machines run the same command on one study). `--spot-prices` replays
a Spot price history as `simulate`'s does (trials and the holdout at their own hours; without it Spot
pays on-demand x `sim.spot_price_fraction`). It prints the Pareto
front, picks the cheapest point whose p95 wait is within S, replays it and the configured options on
the held-out last F of the trace, prints both figures, and writes `-o` as a config `validate`
accepts (the --config with the policy's options replaced, or a minimal one). Exit 0; 1 when no trial
met the wait limit (nothing written); 2 for bad input.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from autoscaler.config import AppConfig, PolicySpec, parse_config
from autoscaler.policy import load_policies
from autoscaler.sim.command import (
    SimulateError,
    add_command,
    cluster_config,
    exit_2_on_bad_input,
    load_sim_config,
    policy_runs,
    spot_history,
)
from autoscaler.sim.hindsight import SIM_ONLY_POLICIES
from autoscaler.sim.job import Job
from autoscaler.sim.runner import PolicyResult
from autoscaler.sim.space import search_space
from autoscaler.sim.spec import ClusterSpec
from autoscaler.sim.trace import load_trace

if TYPE_CHECKING:
    from autoscaler.sim.tune import Point, Problem


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = add_command(
        subparsers, "tune", "search a policy's options on a trace: least controllable cost within a p95 wait", __doc__
    )
    add_arguments(parser)
    parser.set_defaults(handler=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trace", required=True, metavar="T", help="trace: .jsonl native, .tsv SWIM, .csv Alibaba")
    parser.add_argument("--policy", required=True, metavar="NAME", help="policy (or A+B) whose options to search")
    parser.add_argument("--config", metavar="FILE", help="daemon config YAML, optionally with a sim: section")
    parser.add_argument("--max-p95-wait", required=True, type=float, metavar="S", help="p95 job wait limit, seconds")
    parser.add_argument("--trials", required=True, type=int, metavar="N", help="trials to add to the study")
    parser.add_argument("--storage", metavar="URL", help="Optuna storage URL (default sqlite:///<-o>.optuna.db)")
    parser.add_argument(
        "--holdout-fraction", type=float, default=0.2, metavar="F", help="last fraction of the trace's time held out"
    )
    parser.add_argument("--spot-prices", metavar="FILE", help="Spot price history to replay (CSV/TSV), as simulate's")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="simulator and sampler seed")
    parser.add_argument("--workers", type=int, default=None, metavar="N", help="worker processes (default: cores)")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="write the chosen config here")


def run(args: argparse.Namespace) -> int:
    return exit_2_on_bad_input(_run, args)


def _check(args: argparse.Namespace) -> Path:
    if not 0 < args.holdout_fraction < 1:
        raise SimulateError(f"--holdout-fraction: must be between 0 and 1 (exclusive), got {args.holdout_fraction}")
    if args.trials < 1:
        raise SimulateError(f"--trials: must be at least 1, got {args.trials}")
    if not args.max_p95_wait >= 0:
        raise SimulateError(f"--max-p95-wait: must be a non-negative number of seconds, got {args.max_p95_wait}")
    if args.workers is not None and args.workers < 1:
        raise SimulateError(f"--workers: must be at least 1, got {args.workers}")
    out = Path(args.output)
    if out.is_dir() or not out.parent.is_dir():
        raise SimulateError(f"-o {out}: not a file in an existing folder")
    if sim_only := [p for p in args.policy.split("+") if p in SIM_ONLY_POLICIES]:
        raise SimulateError(f"--policy: {', '.join(sim_only)} is the simulator's own and cannot be deployed")
    return out


def _run(args: argparse.Namespace) -> int:
    # imported here: Optuna and SQLAlchemy take seconds to import, and every other command loads this module
    from autoscaler.sim.tune import (  # noqa: PLC0415
        Problem,
        choose,
        pareto_front,
        policy_set,
        run_study,
        split_trace,
        study_name,
    )

    out = _check(args)
    app, spec = load_sim_config(args.config)
    config, poll = cluster_config(app, spec)
    spec = replace(spec, cluster_id=config.cluster_id)
    base = policy_runs([args.policy], config)[0]
    params = search_space([s.type for s in base])
    if not params:
        raise SimulateError(f"--policy {args.policy}: no option declares a range to search")
    jobs = load_trace(args.trace, model=spec.conversion)
    train, held, held_spec = split_trace(jobs, spec, args.holdout_fraction)
    if not train or not held:
        raise SimulateError(f"{args.trace}: too few jobs to hold out {args.holdout_fraction:g} of its time")
    history, _ = spot_history(args.spot_prices, config.region, spec)
    problem = Problem(tuple(train), spec, tuple(base), params, config, history, args.seed, poll, args.max_p95_wait)
    digest = hashlib.sha256(Path(args.trace).read_bytes()).hexdigest()
    if args.spot_prices is not None:  # other prices, another study (without the flag: the name it always had)
        digest += "|spot:" + hashlib.sha256(Path(args.spot_prices).read_bytes()).hexdigest()
    name = study_name(args.policy, digest, problem, args.holdout_fraction)
    storage = args.storage or f"sqlite:///{out.resolve().with_suffix('.optuna.db')}"
    print(f"tuning {args.policy} on {len(train)} jobs ({len(held)} held out); study {name} in {storage}")
    for p in params:
        print(f"  {p.describe()}")
    points = run_study(problem, storage, name, args.trials, args.workers or os.cpu_count() or 1)
    print(format_front(pareto_front(points), args.max_p95_wait))
    best = choose(points, args.max_p95_wait)
    if best is None:
        least = min((p.p95_wait_s for p in points if p.complete), default=None)
        print(
            f"no trial met --max-p95-wait {args.max_p95_wait:g} s"
            + (f" (least p95 wait: {least:.0f} s)" if least is not None else "")
            + f"; nothing written to {out}",
            file=sys.stderr,
        )
        return 1
    chosen = policy_set(base, best.params)
    rows = holdout_rows(problem, base, chosen, held=held, held_spec=held_spec, best=best)
    print(format_holdout(rows, best.number))
    write_best(out, args, app=app, chosen=chosen, best=best, rows=rows)
    print(f"wrote {out}")
    return 0


def holdout_rows(
    problem: Problem,
    base: list[PolicySpec],
    chosen: list[PolicySpec],
    *,
    held: list[Job],
    held_spec: ClusterSpec,
    best: Point,
) -> dict[str, tuple[float, float, float, float]]:
    """(train cost, train p95 wait, holdout cost, holdout p95 wait) of the chosen and the configured options."""
    from autoscaler.sim.tune import evaluate  # noqa: PLC0415

    chosen_held = evaluate(problem, chosen, held, held_spec)
    base_train = evaluate(problem, base, problem.jobs, problem.spec)
    base_held = evaluate(problem, base, held, held_spec)
    return {
        "chosen": (best.cost_usd, best.p95_wait_s, *_figures(chosen_held)),
        "configured": (*_figures(base_train), *_figures(base_held)),
    }


def _figures(r: PolicyResult) -> tuple[float, float]:
    return r.controllable_cost_usd, r.wait_s["p95"]


def format_front(front: list[tuple[Point, int]], limit: float) -> str:
    lines = [f"Pareto front ({len(front)} points; * = within the {limit:g} s p95 wait limit):"]
    for p, ties in front:
        opts = ", ".join(f"{k}={_value(v)}" for k, v in sorted(p.params.items()))
        mark = "*" if p.p95_wait_s <= limit else " "
        same = f" (+{ties} trials with the same figures)" if ties else ""
        lines.append(
            f" {mark} trial {p.number:>4}  ctrl ${p.cost_usd:8.2f}  p95 wait {p.p95_wait_s:7.0f} s  {opts}{same}"
        )
    return "\n".join(lines)


def format_holdout(rows: dict[str, tuple[float, float, float, float]], number: int) -> str:
    head = f"{'options':<22}{'train ctrl $':>14}{'train p95 s':>13}{'holdout ctrl $':>16}{'holdout p95 s':>15}"
    lines = [head, "-" * len(head)]
    for label, (tc, tw, hc, hw) in rows.items():
        name = f"chosen (trial {number})" if label == "chosen" else "configured/defaults"
        lines.append(f"{name:<22}{tc:>14.2f}{tw:>13.0f}{hc:>16.2f}{hw:>15.0f}")
    return "\n".join(lines)


def _value(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def write_best(
    out: Path,
    args: argparse.Namespace,
    *,
    app: AppConfig | None,
    chosen: list[PolicySpec],
    best: Point,
    rows: dict[str, tuple[float, float, float, float]],
) -> None:
    """The --config (without `sim:`) whose first cluster's `policies:` is the tuned set, exactly what was
    simulated (a configured policy of another type is dropped, and named in the header), checked like
    `validate`."""
    data = _config_data(args.config, app)
    cluster = data["clusters"][0]
    dropped = sorted({str(p.get("type")) for p in cluster.get("policies", [])} - {s.type for s in chosen})
    cluster["policies"] = [_entry(spec) for spec in chosen]
    app_checked = parse_config(data, str(out))
    for i, cluster in enumerate(app_checked.clusters):
        load_policies(cluster.policies, f"clusters[{i}].policies")
    tc, tw, hc, hw = rows["chosen"]
    header = (
        f"# emr-autoscaler tune --policy {args.policy} --trace {args.trace} --max-p95-wait {args.max_p95_wait:g}"
        f" --trials {args.trials} --seed {args.seed} --holdout-fraction {args.holdout_fraction:g}"
        + (f" --spot-prices {args.spot_prices}" if args.spot_prices else "")
        + "\n"
        f"# trial {best.number}: train ctrl ${tc:.2f}, p95 wait {tw:.0f} s;"
        f" holdout ctrl ${hc:.2f}, p95 wait {hw:.0f} s\n"
    )
    if dropped:
        header += f"# policies: the tuned set; dropped from --config (not simulated with it): {', '.join(dropped)}\n"
    out.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _config_data(path: str | None, app: AppConfig | None) -> dict[str, Any]:
    if path is None or app is None:
        return {"clusters": [{"cluster_id": "j-REPLACEME", "yarn": {"urls": ["http://resourcemanager:8088"]}}]}
    data: dict[str, Any] = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    data.pop("sim", None)
    return data


def _entry(spec: PolicySpec) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": spec.type, "options": dict(spec.options)}
    if spec.guards is not None:
        entry["guards"] = spec.guards
    return entry
