"""`emr-autoscaler trace import`: turn a cluster's history into a native JSONL trace for `simulate` and `tune`.

    emr-autoscaler trace import --yarn URL [--since ISO8601] [--until ISO8601] -o trace.jsonl

The command line is a contract. `--yarn` reads the ResourceManager's finished, killed and failed apps
(`autoscaler/sim/yarn_import.py`; the mapping and what it cannot recover: docs/trace-import.md) whose
finish time is in [--since, --until] (default: the 24 hours up to now), in windows of `--window-s`
that halve while the RM returns a full page. `--config` supplies `sim.conversion` (container and AM
sizes for what the RM does not record). It prints how many apps it read, kept and skipped, with each
reason and the first record skipped for it. Exit 0; 2 for bad input or an RM that cannot be read.
(`--spark-logs` and `--recording` sources are not built yet.)
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path

from autoscaler.sim.command import SimulateError, add_command, exit_2_on_bad_input, load_sim_config


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    trace = add_command(subparsers, "trace", "workload traces: import a cluster's history", __doc__)
    sub = trace.add_subparsers(dest="trace_command", required=True)
    parser = add_command(sub, "import", "a ResourceManager's finished apps as a native JSONL trace", __doc__)
    parser.add_argument("--yarn", required=True, metavar="URL", help="ResourceManager web address (http://host:8088)")
    parser.add_argument("--since", metavar="ISO8601", help="earliest finish time (default: --until - 24 h)")
    parser.add_argument("--until", metavar="ISO8601", help="latest finish time (default: now)")
    parser.add_argument("--config", metavar="FILE", help="config whose sim.conversion sizes what the RM omits")
    parser.add_argument("--window-s", type=float, default=3600.0, metavar="S", help="first page width (default 3600)")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="write the JSONL trace here")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return exit_2_on_bad_input(_run, args)


def parse_instant(text: str, flag: str) -> float:
    """An ISO 8601 instant in epoch seconds; without a zone it is UTC."""
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SimulateError(f"{flag} {text}: not an ISO 8601 time (e.g. 2026-03-01T00:00:00Z)") from None
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def _run(args: argparse.Namespace) -> int:
    until = parse_instant(args.until, "--until") if args.until else time.time()
    since = parse_instant(args.since, "--since") if args.since else until - 86400.0
    if since > until:
        raise SimulateError(f"--since {args.since}: after --until")
    if not args.window_s > 0:
        raise SimulateError(f"--window-s: must be positive, got {args.window_s}")
    out = Path(args.output)
    if out.is_dir() or not out.parent.is_dir():
        raise SimulateError(f"-o {out}: not a file in an existing folder")
    _, spec = load_sim_config(args.config)
    # requests only for this command, not on every CLI start-up
    from autoscaler.sim.yarn_import import (  # noqa: PLC0415
        ImportStats,
        RmReadError,
        convert,
        fetch_history,
        http_fetch,
        write_jsonl,
    )

    stats = ImportStats()
    apps = fetch_history(
        http_fetch(args.yarn), int(since * 1000), int(until * 1000), stats, window_ms=max(1, int(args.window_s * 1000))
    )
    try:
        jobs = convert(apps, spec.conversion, stats)
    except RmReadError as err:
        raise SimulateError(str(err)) from None
    write_jsonl(str(out), jobs)
    print(stats.summary())
    print(f"wrote {len(jobs)} jobs to {out}")
    return 0
