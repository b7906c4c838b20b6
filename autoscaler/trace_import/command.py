"""`emr-autoscaler trace import`: turn a cluster's history into a native JSONL trace for `simulate` and `tune`.

    emr-autoscaler trace import (--yarn URL [--since ISO8601] [--until ISO8601]
                                | --spark-logs PATH_OR_S3_URL | --recording DIR) -o trace.jsonl

The command line is a contract; exactly one source. `--yarn` reads the ResourceManager's finished,
killed and failed apps (`autoscaler/trace_import/yarn.py`; the mapping and what it cannot recover:
docs/trace-import.md) whose finish time is in [--since, --until] (default: the 24 hours up to now), in
windows of `--window-s` that halve while the RM returns a full page. Several comma-separated `--yarn`
URLs are an RM HA pair (the active one is read). `--recording` reads the daemon's `record_dir`
(`autoscaler/trace_import/recording.py`): each app's asks and allocation tick by tick.

`--spark-logs` reads Spark event logs, the files the Spark History Server reads: a log file, a folder
of them, or an `s3://bucket/prefix`; rolling logs (`eventlog_v2_*` folders) and compressed logs
(.lz4, .snappy, .zstd with the `spark-logs` extra; .gz) included (`autoscaler/trace_import/spark.py`).
Each Spark job becomes a trace job, and each app's AM one more (docs/trace-import.md).

`--config` supplies `sim.conversion` (container and AM sizes for what a source does not record) and,
when it has clusters, the first cluster's `yarn:` TLS, CA bundle and Kerberos settings, used as the
daemon uses them. It prints how many apps it read, kept and skipped, with each reason and the first
record skipped for it. Exit 0; 2 for bad input or a source that cannot be read.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autoscaler.config import AppConfig
from autoscaler.sim.command import SimulateError, add_command, exit_2_on_bad_input, load_sim_config
from autoscaler.sim.spec import ClusterSpec
from autoscaler.trace_import.stats import ImportStats, write_jsonl

#: One source: (args, the --config's app config or None, its sim spec) → (native jobs, stats).
Source = Callable[[argparse.Namespace, AppConfig | None, ClusterSpec], tuple[list[dict[str, Any]], ImportStats]]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    trace = add_command(subparsers, "trace", "workload traces: import a cluster's history", __doc__)
    sub = trace.add_subparsers(dest="trace_command", required=True)
    parser = add_command(sub, "import", "a cluster's history as a native JSONL trace", __doc__)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--yarn", metavar="URL", help="ResourceManager web address (http://host:8088[,http://rm2:8088])"
    )
    source.add_argument(
        "--spark-logs", metavar="PATH_OR_S3_URL", help="Spark event logs: a file, a folder or s3://bucket/prefix"
    )
    source.add_argument("--recording", metavar="DIR", help="the daemon's record_dir: the demand it recorded")
    parser.add_argument("--since", metavar="ISO8601", help="--yarn: earliest finish time (default: --until - 24 h)")
    parser.add_argument("--until", metavar="ISO8601", help="--yarn: latest finish time (default: now)")
    parser.add_argument("--config", metavar="FILE", help="config: sim.conversion sizes; first cluster's yarn: TLS")
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


def _from_yarn(
    args: argparse.Namespace, app: AppConfig | None, spec: ClusterSpec
) -> tuple[list[dict[str, Any]], ImportStats]:
    until = parse_instant(args.until, "--until") if args.until else time.time()
    since = parse_instant(args.since, "--since") if args.since else until - 86400.0
    if since > until:
        raise SimulateError(f"--since {args.since}: after --until")
    if not args.window_s > 0:
        raise SimulateError(f"--window-s: must be positive, got {args.window_s}")
    # requests and the daemon's YARN client only for this source, not on every CLI start-up
    from autoscaler.trace_import.yarn import RmReadError, YarnStats, convert, fetch_history, rm_fetch  # noqa: PLC0415

    stats = YarnStats()
    tls = app.clusters[0].yarn if app is not None and app.clusters else None
    try:
        fetch = rm_fetch(args.yarn, tls)
        window_ms = max(1, int(args.window_s * 1000))
        apps = fetch_history(fetch, int(since * 1000), int(until * 1000), stats, window_ms=window_ms)
        return convert(apps, spec.conversion, stats), stats
    except RmReadError as err:
        raise SimulateError(str(err)) from None


def _from_spark_logs(
    args: argparse.Namespace, app: AppConfig | None, spec: ClusterSpec
) -> tuple[list[dict[str, Any]], ImportStats]:
    if args.since or args.until:
        raise SimulateError("--since/--until: only with --yarn (an event log holds its whole application)")
    from autoscaler.trace_import.spark import import_spark_logs  # noqa: PLC0415
    from autoscaler.trace_import.spark_store import StoreError  # noqa: PLC0415

    try:
        return import_spark_logs(args.spark_logs)
    except StoreError as err:
        raise SimulateError(str(err)) from None


def _from_recording(
    args: argparse.Namespace, app: AppConfig | None, spec: ClusterSpec
) -> tuple[list[dict[str, Any]], ImportStats]:
    if args.since or args.until:
        raise SimulateError("--since/--until: only with --yarn (a recording is imported whole)")
    from autoscaler.sim.recording import RecordingError, read_recording  # noqa: PLC0415
    from autoscaler.trace_import.recording import convert_recording  # noqa: PLC0415

    cluster_id = app.clusters[0].cluster_id if app is not None and app.clusters else None
    try:
        try:
            recording = read_recording(args.recording)
        except RecordingError:
            if cluster_id is None:
                raise
            recording = read_recording(args.recording, cluster_id)  # several clusters there: the config's
    except RecordingError as err:
        raise SimulateError(f"--recording {err}") from None
    stats = ImportStats()
    return convert_recording(recording, spec.conversion, stats), stats


def _source(args: argparse.Namespace) -> Source:
    if args.yarn is not None:
        return _from_yarn
    if args.spark_logs is not None:
        return _from_spark_logs
    if args.recording is not None:
        return _from_recording
    raise SimulateError("one source is required: --yarn, --spark-logs or --recording")


def _run(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if out.is_dir() or not out.parent.is_dir():
        raise SimulateError(f"-o {out}: not a file in an existing folder")
    source = _source(args)
    app, spec = load_sim_config(args.config)
    jobs, stats = source(args, app, spec)
    write_jsonl(str(out), jobs)
    print(stats.summary())
    print(f"wrote {len(jobs)} jobs to {out}")
    return 0
