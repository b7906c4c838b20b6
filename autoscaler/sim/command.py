"""`emr-autoscaler simulate`: replay a trace under one or more policies and report cost and waits.

`--config` is the daemon's YAML (its first cluster's limits, guards, pricing and policy options
are used; `poll_interval_s` is the tick) plus an optional `sim:` section describing the simulated
cluster (see `autoscaler.sim.spec`). `--policy NAME` runs that policy alone, with the options the
config gives a policy of that type, else its defaults; repeat it to compare policies side by side.
`--policy A+B` runs A and B together as one contestant (combined as the daemon combines a cluster's
policies), reported as `A+B`.

`static` without options in the config is "sized for the peak": a fixed number of units of the
cheapest task pool, enough (with the core nodes) for the peak running-container memory of the
trace's ideal no-wait schedule (`autoscaler.sim.peak`); the report gives it as `static_units`.

`--replay DIR` instead of `--trace` re-runs the policies open loop on a day the daemon recorded
(`record_dir`): per tick, each policy's would-be target and $/h against the recorded ones
(`autoscaler.sim.replay_command`).

`hindsight` is a contestant only the simulator has: it knows the trace's future demand and buys one
boot ahead from the cheapest pools (`autoscaler.sim.hindsight`). Every report carries the bounds:
`oracle_floor_usd`, `no_wait_floor_usd`, `always_on_usd` and `controllable_cost_usd`
(`autoscaler.sim.oracle`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from autoscaler.config import AppConfig, ClusterConfig, ConfigError, PolicySpec, parse_config
from autoscaler.policy import PolicyError, available_policies
from autoscaler.prices import SpotHistory
from autoscaler.sim.billing import choose_zone
from autoscaler.sim.hindsight import SIM_ONLY_POLICIES
from autoscaler.sim.peak import PeakSizing, size_for_peak
from autoscaler.sim.plot import PlotError, check_plot_path, write_plot
from autoscaler.sim.report import format_table, report_json, write_report
from autoscaler.sim.runner import build_prices, simulate_policies
from autoscaler.sim.spec import ClusterSpec, SpecError, default_spec, parse_spec
from autoscaler.sim.trace import Job, TraceError, load_trace


class SimulateError(Exception):
    """A problem with the command's inputs, reported as one line on stderr."""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = add_command(
        subparsers, "simulate", "replay a workload trace under one or more policies; report cost and job waits", __doc__
    )
    add_arguments(parser)
    parser.set_defaults(handler=run)


def add_command(
    subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
    name: str,
    help_: str,
    doc: str | None,
) -> argparse.ArgumentParser:
    """A simulator subcommand whose --help prints its module docstring as written."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=help_, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--trace", metavar="FILE", help="trace: .jsonl native, .tsv SWIM, .csv Alibaba")
    source.add_argument(
        "--replay", metavar="DIR", help="re-run the policies open loop on a daemon's recording (record_dir)"
    )
    parser.add_argument(
        "--policy", required=True, action="append", metavar="NAME", help="policy to run (repeat to compare)"
    )
    parser.add_argument("--config", metavar="FILE", help="daemon config YAML, optionally with a sim: section")
    parser.add_argument("--spot-prices", metavar="FILE", help="Spot price history to replay (CSV/TSV)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (boot delays, interruptions)")
    parser.add_argument(
        "--report", required=True, metavar="FILE", help="write the JSON report here (--replay: .csv for CSV)"
    )
    parser.add_argument("--trace-scale", type=float, default=1.0, metavar="X", help="multiply the trace's data volume")
    parser.add_argument(
        "--plot",
        metavar="FILE",
        help="demand/capacity and cost plot by matplotlib (.png, .svg, .pdf, or .html: the SVG in a page)",
    )


def load_sim_config(path: str | None) -> tuple[AppConfig | None, ClusterSpec]:
    if path is None:
        return None, default_spec()
    try:
        data: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise SimulateError(f"{path}: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise SimulateError(f"{path}: invalid YAML: {err}") from None
    if not isinstance(data, dict):
        raise SimulateError(f"{path}: must be a mapping")
    sim = data.pop("sim", None)
    try:
        spec = parse_spec(sim)
    except SpecError as err:
        raise ConfigError(path, err.problems) from None
    app = parse_config(data, path) if data else None
    return app, spec


def cluster_config(app: AppConfig | None, spec: ClusterSpec) -> tuple[ClusterConfig, float]:
    if app is None:
        data = {
            "cluster_id": spec.cluster_id,
            "yarn": {"urls": ["http://simulated:8088"]},
            "policies": [{"type": "static"}],
        }
        return ClusterConfig.model_validate(data), 30.0
    return app.clusters[0], app.poll_interval_s


def policy_runs(names: list[str], config: ClusterConfig) -> list[list[PolicySpec]]:
    """One policy set per `--policy`; `A+B` is A and B together, each with its configured options."""
    known = {*available_policies(), *SIM_ONLY_POLICIES}
    parts = [name.split("+") for name in names]
    unknown = sorted({p for ps in parts for p in ps if p not in known})
    if unknown:
        raise SimulateError(f"--policy: unknown {', '.join(unknown)}; available: {', '.join(sorted(known))}")
    runs = []
    for ps in parts:
        if len(set(ps)) != len(ps):
            raise SimulateError(f"--policy {'+'.join(ps)}: a policy appears twice")
        run = []
        for name in ps:
            configured = [p for p in config.policies if p.type == name]
            run.append(configured[0] if configured else PolicySpec(type=name))
        runs.append(run)
    return runs


def unsized_static(specs: list[PolicySpec]) -> bool:
    """A lone `static` with no size: the simulator sizes it for the trace's peak."""
    return len(specs) == 1 and specs[0].type == "static" and not specs[0].options


def sized_static(
    runs: list[list[PolicySpec]], jobs: list[Job], spec: ClusterSpec, config: ClusterConfig, history: SpotHistory | None
) -> tuple[list[list[PolicySpec]], PeakSizing | None]:
    if not any(unsized_static(r) for r in runs):
        return runs, None
    sizing = size_for_peak(jobs, spec, build_prices(config, spec, history), max_units=config.limits.max_task_units)
    if sizing is None:
        return runs, None
    sized = PolicySpec(type="static", options={"pools": {sizing.pool_id: sizing.units}})
    return [[sized] if unsized_static(r) else r for r in runs], sizing


def run(args: argparse.Namespace) -> int:
    return exit_2_on_bad_input(_run, args)


def exit_2_on_bad_input(body: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a simulator command: bad input (config, trace, sim spec, policy, plot) is one line per problem, exit 2."""
    try:
        return body(args)
    except ConfigError as err:
        for line in err.lines():
            print(f"error: {line}", file=sys.stderr)
        return 2
    except (SimulateError, TraceError, SpecError, PolicyError, PlotError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def spot_history(path: str | None, region: str, spec: ClusterSpec) -> tuple[SpotHistory | None, str | None]:
    """The replayed Spot history and the one AZ billed from it (None, None without --spot-prices)."""
    if path is None:
        if spec.availability_zone is not None:
            print(
                "sim.availability_zone is ignored without --spot-prices: Spot pays on-demand x spot_price_fraction",
                file=sys.stderr,
            )
        return None, None
    try:
        history = SpotHistory.load(path, region=region)
    except (OSError, ValueError) as err:
        raise SimulateError(f"--spot-prices {path}: {err}") from None
    if not history.instance_types():
        raise SimulateError(f"--spot-prices {path}: no Linux/UNIX rows for region {region}")
    try:
        zone = choose_zone(history, spec.spot_instance_types(), spec.availability_zone)
    except ValueError as err:
        raise SimulateError(f"sim.availability_zone: {err} in --spot-prices {path}") from None
    print(f"Spot prices replayed in {zone}", file=sys.stderr)
    return history, zone


def check_outputs(report: str, plot: str | None) -> None:
    """Fail before the run, not after it: the report's folder must exist, the plot must be writable."""
    path = Path(report)
    if path.is_dir():
        raise SimulateError(f"--report {report}: is a folder; give a file name such as {path / 'report.json'}")
    if not path.parent.is_dir():
        raise SimulateError(f"--report {report}: folder {path.parent} does not exist")
    if plot is not None:
        check_plot_path(plot)


def container_report(spec: ClusterSpec) -> dict[str, Any]:
    """The container sizes the SWIM/Alibaba conversion used, and the EMR table row they default to."""
    c = spec.conversion
    sizes = {"map_memory_mb": c.map_memory_mb, "reduce_memory_mb": c.reduce_memory_mb, "am_memory_mb": c.am_memory_mb}
    if spec.containers is None:
        return sizes
    return {"instance_type": spec.containers.instance_type, "emr_table_row": spec.containers.row, **sizes}


def _run(args: argparse.Namespace) -> int:
    if getattr(args, "replay", None) is not None:
        from autoscaler.sim.replay_command import run_replay  # noqa: PLC0415 - imports this module

        return run_replay(args)
    check_outputs(args.report, args.plot)
    app, spec = load_sim_config(args.config)
    config, poll = cluster_config(app, spec)
    spec = replace(spec, cluster_id=config.cluster_id)
    runs = policy_runs(args.policy, config)
    if spec.containers is not None and not spec.containers.documented:
        print(spec.containers.note, file=sys.stderr)
    jobs = load_trace(args.trace, scale=args.trace_scale, model=spec.conversion)
    if not jobs:
        raise SimulateError(f"{args.trace}: no jobs")
    history, zone = spot_history(args.spot_prices, config.region, spec)
    runs, sizing = sized_static(runs, jobs, spec, config, history)
    if sizing is not None:
        print(
            f"static sized for the peak: {sizing.units} units of {sizing.pool_id} "
            f"(ideal-schedule peak {sizing.peak_mb} MB, core nodes {sizing.core_mb} MB)",
            file=sys.stderr,
        )
    results = simulate_policies(
        jobs, spec, runs, config, history, args.seed, poll_interval_s=poll, timeline=args.plot is not None
    )
    if sizing is not None:
        extra = {"static_units": sizing.units, "static_pool": sizing.pool_id, "static_peak_mb": sizing.peak_mb}
        results = [
            replace(r, extras={**r.extras, **extra}) if unsized_static(s) else r
            for r, s in zip(results, policy_runs(args.policy, config), strict=True)
        ]
    report = report_json(
        str(args.trace),
        args.seed,
        results,
        trace_scale=args.trace_scale,
        spot_prices=args.spot_prices,
        poll_interval_s=poll,
        availability_zone=zone,
        container_sizes=container_report(spec),
    )
    try:
        write_report(args.report, report)
    except OSError as err:
        raise SimulateError(f"--report {args.report}: {err.strerror}") from None
    print(format_table(results))
    if args.plot:
        write_plot(args.plot, results, title=f"{Path(args.trace).name} (seed {args.seed})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="emr-autoscaler simulate", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
