"""`emr-autoscaler simulate --replay DIR`: candidate policies on a day the daemon recorded (`record_dir`).

    emr-autoscaler simulate --replay DIR --policy NAME [--policy NAME ...] [--config FILE] --report FILE

Each `--policy` (or `A+B`) is loaded with the options `--config`'s first cluster gives a policy of
its type (in `policies:`, else `shadow_policies:`; without `--config`, the recorded config's; else
its defaults) and re-run open loop on every recorded tick (`autoscaler.sim.replay`) under the
guards, limits and managed pools the daemon decided with (the recording's `<file>.config.json`;
without one, `--config`'s). Prints one row per policy: its would-be cost against what
the cluster actually spent over the same time, and how many ticks its plan matched the recorded live
plan. `--report` gets every tick (per pool: recorded units and each policy's would-be target; the
recorded and would-be $/h): JSON, or CSV when the file name ends in `.csv`. Bad or truncated
recording lines are counted and named (file:line) on stderr and in the report. The same recording
and flags give byte-identical output.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from autoscaler.config import ClusterConfig
from autoscaler.policy import load_policies
from autoscaler.sim.command import SimulateError, check_outputs, cluster_config, load_sim_config, policy_runs
from autoscaler.sim.hindsight import SIM_ONLY_POLICIES
from autoscaler.sim.recording import MAX_BAD_SHOWN, Recording, RecordingError, read_recording
from autoscaler.sim.replay import ActualTick, ReplayResult, actual_ticks, replay_policy
from autoscaler.sim.runner import policy_label


def run_replay(args: argparse.Namespace) -> int:
    """The body of `simulate` when `--replay` is given (bad input raises SimulateError: exit 2)."""
    if args.plot:
        raise SimulateError("--plot: not drawn for --replay (the report has every tick)")
    if args.spot_prices:
        raise SimulateError("--spot-prices: not for --replay (it prices with what the daemon saw each tick)")
    if args.trace_scale != 1.0:
        raise SimulateError("--trace-scale: not for --replay (the recorded demand is what it was)")
    check_outputs(args.report, None)
    app, spec = load_sim_config(args.config)
    options, _ = cluster_config(app, spec)
    if sim_only := sorted({p for name in args.policy for p in name.split("+") if p in SIM_ONLY_POLICIES}):
        raise SimulateError(f"--policy: {', '.join(sim_only)} needs the future, which a recording does not hold")
    # a policy's options: the --config's policies, then its shadow policies (else the recorded config's)
    try:
        recording = _read(args.replay, options if app is not None else None)
    except RecordingError as err:
        raise SimulateError(f"--replay {err}") from None
    for line in recording.bad_summary():
        print(line, file=sys.stderr)
    config = _decided_under(recording, options, args.replay)
    source = options if app is not None else config
    source = source.model_copy(update={"policies": [*source.policies, *source.shadow_policies]})
    runs = policy_runs(args.policy, source)
    loaded = [load_policies(specs, "--policy") for specs in runs]
    started = time.process_time()
    actual = actual_ticks(recording, config)
    results = [
        replay_policy(policy_label(specs), policies, recording.ticks, actual, config)
        for specs, policies in zip(runs, loaded, strict=True)
    ]
    cpu_s = time.process_time() - started
    try:
        write_replay_report(args.report, recording, actual, results, str(args.replay))
    except OSError as err:
        raise SimulateError(f"--report {args.report}: {err.strerror}") from None
    print(format_replay(recording, actual, results))
    print(f"replayed {len(recording.ticks)} ticks x {len(results)} policies in {cpu_s:.2f} CPU s", file=sys.stderr)
    return 0


def _decided_under(recording: Recording, fallback: ClusterConfig, where: str) -> ClusterConfig:
    """The guards, limits and pools the daemon decided with (its recorded config), else --config's."""
    if recording.config is None:
        print(f"--replay {where}: no recorded config; guards, limits and pools are --config's", file=sys.stderr)
        return fallback
    try:
        recorded = ClusterConfig.model_validate(recording.config)
    except ValidationError as err:
        raise SimulateError(f"--replay {where}: recorded config unreadable: {err.errors()[0]['msg']}") from None
    if recording.config_changed:
        print(
            f"--replay {where}: the daemon's config changed during the recording; the newest is used", file=sys.stderr
        )
    return recorded


def _read(directory: str, config: ClusterConfig | None) -> Recording:
    try:
        return read_recording(directory)
    except RecordingError:
        if config is None:
            raise
        return read_recording(directory, config.cluster_id)  # several clusters there: the config's


def format_replay(recording: Recording, actual: list[ActualTick], results: list[ReplayResult]) -> str:
    hours = recording.span_s / 3600.0
    lines = [
        f"recording {recording.cluster_id}: {len(recording.ticks)} ticks over {hours:.2f} h in "
        f"{len(recording.files)} files; {len(recording.bad_lines)} bad lines",
    ]
    head = ("policy", "would-be $", "actual $", "delta $", "delta %", "resizes", "as live", "unpriced h", "errors")
    rows = [list(head)]
    for r in results:
        pct = 100.0 * (r.would_be_cost_usd - r.actual_cost_usd) / r.actual_cost_usd if r.actual_cost_usd else 0.0
        rows.append(
            [
                r.policy,
                f"{r.would_be_cost_usd:.2f}",
                f"{r.actual_cost_usd:.2f}",
                f"{round(r.would_be_cost_usd - r.actual_cost_usd, 2) + 0.0:+.2f}",  # + 0.0: never -0.00
                f"{round(pct, 1) + 0.0:+.1f}",
                str(r.resizes),
                f"{r.agrees_with_live}/{len(actual)}",
                f"{r.unpriced_s / 3600.0:.2f}",
                str(r.errors),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    for n, row in enumerate(rows):
        lines.append(
            "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append(
        "would-be $: the recorded spend plus the price of the units each policy would hold instead (open loop); "
        "as live: ticks its plan equals the recorded one"
    )
    lines.extend(f"{r.policy}: {r.errors} ticks with errors, first {r.first_error}" for r in results if r.errors)
    return "\n".join(lines)


def _report(recording: Recording, actual: list[ActualTick], results: list[ReplayResult], source: str) -> dict[str, Any]:
    return {
        "recording": source,
        "cluster_id": recording.cluster_id,
        "files": list(recording.files),
        "ticks": len(recording.ticks),
        "span_s": round(recording.span_s, 3),
        "duplicate_ticks": recording.duplicates,
        "bad_lines_total": len(recording.bad_lines),
        "bad_lines": [{"file": b.file, "line": b.line, "error": b.error} for b in recording.bad_lines[:MAX_BAD_SHOWN]],
        "results": [
            {
                "policy": r.policy,
                "would_be_cost_usd": r.would_be_cost_usd,
                "actual_cost_usd": r.actual_cost_usd,
                "delta_usd": round(r.would_be_cost_usd - r.actual_cost_usd, 6),
                "priced_s": r.priced_s,
                "unpriced_s": r.unpriced_s,
                "resizes": r.resizes,
                "ticks_as_live": r.agrees_with_live,
                "error_ticks": r.errors,
                "first_error": r.first_error,
            }
            for r in results
        ],
        "per_tick": [
            {
                "at": a.at,
                "requested": dict(sorted(a.requested.items())),
                "usd_per_hour": a.usd_per_hour,
                "live_plan": dict(sorted(a.live_plan.items())),
                "policies": {
                    r.policy: {
                        "targets": dict(sorted(r.ticks[i].targets.items())),
                        "usd_per_hour": r.ticks[i].usd_per_hour,
                    }
                    for r in results
                },
            }
            for i, a in enumerate(actual)
        ],
    }


def write_replay_report(
    path: str, recording: Recording, actual: list[ActualTick], results: list[ReplayResult], source: str
) -> None:
    if Path(path).suffix.lower() != ".csv":
        doc = _report(recording, actual, results, source)
        Path(path).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["at", "policy", "pool", "requested_units", "target_units", "actual_usd_per_hour", "usd_per_hour"])
        for i, a in enumerate(actual):
            for r in results:
                tick = r.ticks[i]
                for pool in sorted(tick.targets):
                    out.writerow(
                        [
                            a.at,
                            r.policy,
                            pool,
                            a.requested.get(pool, ""),
                            tick.targets[pool],
                            _cell(a.usd_per_hour),
                            _cell(tick.usd_per_hour),
                        ]
                    )


def _cell(value: float | None) -> str:
    return "" if value is None else repr(value)
