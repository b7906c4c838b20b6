"""`trace import --spark-logs`: Spark event logs (local or S3, rolling, compressed) as a native JSONL trace.

Each application's log (one file, or a rolling folder's parts in order) is decompressed as it streams
(`spark_codecs`), split into lines, and each line's JSON event folded into the app (`spark_events`);
`spark_convert` makes the trace jobs. Nothing stops the import: a line that is not JSON, an event
with missing fields, a file that cannot be read or decoded, a log cut inside a compressed block, a
job that never ended, an app that is not a YARN app, each is counted by reason with the first
file:line it happened at, and the rest of the log is still used.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from autoscaler.trace_import.spark_codecs import CodecError, codec_of, decode
from autoscaler.trace_import.spark_convert import is_yarn, to_jobs
from autoscaler.trace_import.spark_events import AppEvents, used
from autoscaler.trace_import.spark_store import ROLLING_DIR, AppLog, Listing, list_logs
from autoscaler.trace_import.stats import ImportStats, relative_submits


@dataclass
class SparkStats(ImportStats):
    files: int = 0
    lines: int = 0
    jobs_read: int = 0
    jobs_kept: int = 0
    ams_kept: int = 0
    job_skips: Counter[str] = field(default_factory=Counter)
    bad: Counter[str] = field(default_factory=Counter)  # bad records (lines, files) by reason

    def skip_job(self, why: str, where: str) -> None:
        self.job_skips[why] += 1
        self.first.setdefault("job: " + why, where)

    def bad_record(self, why: str, where: str, n: int = 1) -> None:
        self.bad[why] += n
        self.first.setdefault("record: " + why, where)

    def headline(self) -> str:
        return (
            f"read {self.read} apps ({self.jobs_read} jobs) in {self.files} files, {self.lines} lines;"
            f" kept {self.kept} apps ({self.jobs_kept} jobs + {self.ams_kept} AMs),"
            f" skipped {sum(self.skipped.values())} apps and {sum(self.job_skips.values())} jobs;"
            f" {sum(self.bad.values())} bad records"
        )

    def summary(self) -> str:
        lines = [self.headline()]
        for kind, counts in (("app", self.skipped), ("job", self.job_skips), ("record", self.bad)):
            for why, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
                first = self.first[why] if kind == "app" else self.first[f"{kind}: {why}"]
                what = f"{n} bad record{'s' * (n != 1)}" if kind == "record" else f"skipped {n} {kind}{'s' * (n != 1)}"
                lines.append(f"  {what}: {why} (first: {first})")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _read_app(log: AppLog, listing: Listing, stats: SparkStats) -> AppEvents:
    app = AppEvents()
    for f in log.files:
        stats.files += 1
        lineno = 0
        pending: list[bytes] = []  # the current line's pieces: a line may span many chunks
        codec = codec_of(f.rel)
        try:
            for chunk in decode(codec, listing.read(f)):
                if b"\n" not in chunk:
                    pending.append(chunk)
                    continue
                first, *whole = chunk.split(b"\n")
                pending.append(first)
                whole.insert(0, b"".join(pending))
                pending = [whole.pop()]
                for raw in whole:
                    lineno += 1
                    _line(app, raw, f"{f.name}:{lineno}", stats)
        except CodecError as err:
            stats.bad_record(f"{codec} log cannot be decoded (what came before is used)", f"{f.name}: {err}")
        except OSError as err:
            stats.bad_record("cannot read file", f"{f.name}: {err.strerror or err}")
        tail = b"".join(pending)
        if tail.strip():
            lineno += 1
            _line(app, tail, f"{f.name}:{lineno}", stats, last=True)
    return app


def _line(app: AppEvents, raw: bytes, where: str, stats: SparkStats, *, last: bool = False) -> None:
    if not raw.strip():
        return
    stats.lines += 1
    if not last and not used(raw):
        return
    try:
        event: Any = json.loads(raw)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        why = "last line cut short (no newline, not JSON)" if last else "not a JSON line"
        stats.bad_record(why, where)
        return
    app.add(event, where)


def import_spark_logs(where: str) -> tuple[list[dict[str, Any]], SparkStats]:
    """Native jobs from every app's log below `where`; raises StoreError if nothing can be listed."""
    listing = list_logs(where)
    stats = SparkStats()
    if listing.ignored:
        shown = ", ".join(listing.ignored[:3]) + (", ..." if len(listing.ignored) > 3 else "")
        stats.warnings.append(f"{len(listing.ignored)} files are not event logs, not read: {shown}")
    jobs: list[dict[str, Any]] = []
    seen: set[str] = set()
    for log in listing.apps:
        app = _read_app(log, listing, stats)
        if app.app_id is None and app.jobs:  # no ApplicationStart (a missing first part): name it by its log
            app.app_id = log.name.rsplit("/", 1)[-1].removeprefix(ROLLING_DIR).split(".")[0]
        stats.read += 1
        stats.jobs_read += len(app.jobs)
        for why, (n, first) in app.bad.items():
            stats.bad_record(why, first, n)
        if app.app_id is None and not app.jobs:
            stats.skip("no SparkListenerApplicationStart and no jobs (not a Spark event log?)", log.name)
            continue
        if not is_yarn(app):
            stats.skip(f"not a YARN application (spark.master {app.props.get('spark.master', '?')})", log.name)
            continue
        if app.app_id in seen:
            stats.skip("the same application id again (another copy of its log)", log.name)
            continue
        seen.add(app.app_id or log.name)
        app_jobs, skipped = to_jobs(app)
        for why, at in skipped:
            stats.skip_job(why, at)
        if not app_jobs:
            stats.skip("nothing to import (every job skipped)", log.name)
            continue
        stats.kept += 1
        stats.ams_kept += sum(1 for j in app_jobs if j["id"].endswith(":am"))
        stats.jobs_kept += sum(1 for j in app_jobs if not j["id"].endswith(":am"))
        jobs += app_jobs
    return relative_submits(jobs), stats
