"""`trace import --yarn`: a ResourceManager's finished applications as a native JSONL trace.

Read: `GET /ws/v1/cluster/apps?states=FINISHED,KILLED,FAILED&finishedTimeBegin=B&finishedTimeEnd=E&limit=L`
over [since, until] in windows of `window_s`; a window that comes back full (L apps) is halved until
it does not, so a history of any size pages and nothing is cut off. Apps seen twice (a window edge)
count once. The mapping, and what it cannot recover, is docs/trace-import.md:

- `submit_s` = `startedTime` (the RM's accept time; `submittedTime` when present) minus the earliest
  kept app's; `queue` = `queue`; the id is the app id (`name` and `applicationType` are not used).
- the AM = `resourceInfo.resourceUsagesByPartition[].amUsed` when it is not zero, else the conversion
  model's AM size (`sim.conversion.am_memory_mb`/`am_vcores`; most RMs zero it once the app ends).
- one stage of N equal tasks running the whole launch-to-finish span D = `finishedTime` - `launchTime`,
  of the model's map container size (`map_memory_mb`); N = ceil(task MB-seconds / (size × D)), where
  task MB-seconds = `memorySeconds` - AM size × D; vcores per task from `vcoreSeconds` the same way.
  This keeps the app's memory-seconds and its run time with unlimited room; how the work was split
  into stages, waves and task durations is not in the RM's record.

The RM is read through the daemon's `YarnClient`, so the import gets the same CA bundle, TLS
verification, Kerberos (SPNEGO) and RM HA handling as the daemon (`--config`'s first cluster's `yarn:`
settings; several comma-separated `--yarn` URLs are an HA pair).

Records the mapping cannot use (missing or negative times, finish before launch, no memory-seconds,
another state) are skipped and counted by reason, never a crash.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from autoscaler.config import YarnConfig
from autoscaler.sim.conversion import ConversionModel
from autoscaler.sources import SourceError, redact_url
from autoscaler.sources.yarn import YarnClient
from autoscaler.trace_import.stats import ImportStats, relative_submits

APPS = "/ws/v1/cluster/apps"
STATES = "FINISHED,KILLED,FAILED"
Fetch = Callable[[Mapping[str, str]], Any]


class RmReadError(Exception):
    """The RM could not be read at all (connection refused, not JSON, HTTP error)."""


@dataclass
class YarnStats(ImportStats):
    requests: int = 0
    full_windows: int = 0

    def headline(self) -> str:
        skipped = sum(self.skipped.values())
        return f"read {self.read} apps in {self.requests} requests, kept {self.kept}, skipped {skipped}"

    def notes(self) -> list[str]:
        if not self.full_windows:
            return []
        return [f"{self.full_windows} one-millisecond window(s) returned the limit: apps may be missing"]


#: History pages are larger than the daemon's live reads: the import waits at least this long for one.
MIN_TIMEOUT_S = 30.0


def rm_fetch(urls: str, tls: YarnConfig | None = None) -> Fetch:
    """GET the active RM's apps resource with a query, through the daemon's `YarnClient`.

    `urls` is one RM base URL or several comma-separated (HA); `tls` lends its `verify_tls`,
    `ca_bundle`, `kerberos` and `timeout_s` (at least MIN_TIMEOUT_S). Raises RmReadError.
    """
    listed = [u.strip() for u in urls.split(",") if u.strip()]
    if not listed:
        raise RmReadError(f"--yarn {urls!r}: no URL")
    settings = {} if tls is None else tls.model_dump(exclude={"urls"})
    settings["timeout_s"] = max(settings.get("timeout_s", 0.0), MIN_TIMEOUT_S)
    client = YarnClient(YarnConfig(urls=listed, **settings))
    shown = ",".join(redact_url(u) for u in listed)

    def fetch(params: Mapping[str, str]) -> Any:
        try:
            return client.read_apps(dict(params))
        except SourceError as err:
            raise RmReadError(f"--yarn {shown}: {err}") from None

    return fetch


def _apps(body: Any) -> list[Any]:
    apps = body.get("apps") if isinstance(body, dict) else None
    if apps is None:
        return []  # Jersey renders an empty list as {"apps": null}
    app = apps.get("app") if isinstance(apps, dict) else None
    if not isinstance(app, list):
        raise RmReadError(f"{APPS}: 'apps.app' is not a list")
    return app


def fetch_history(
    fetch: Fetch, since_ms: int, until_ms: int, stats: YarnStats, *, window_ms: int = 3_600_000, limit: int = 1000
) -> Iterator[Any]:
    """Every finished app with `since_ms` <= finishedTime <= `until_ms`, each window at most `limit` apps."""
    start = since_ms
    while start <= until_ms:
        yield from _window(fetch, start, min(start + window_ms - 1, until_ms), stats, limit)
        start += window_ms


def _window(fetch: Fetch, begin: int, end: int, stats: YarnStats, limit: int) -> Iterator[Any]:
    query = {"states": STATES, "finishedTimeBegin": str(begin), "finishedTimeEnd": str(end), "limit": str(limit)}
    stats.requests += 1
    apps = _apps(fetch(query))
    if len(apps) >= limit and end > begin:  # full: there may be more; halve the window
        mid = (begin + end) // 2
        yield from _window(fetch, begin, mid, stats, limit)
        yield from _window(fetch, mid + 1, end, stats, limit)
        return
    if len(apps) >= limit:
        stats.full_windows += 1  # one millisecond holds `limit` apps: the RM may have more there
    yield from apps


def _ms(app: Mapping[str, Any], key: str) -> int | None:
    v = app.get(key)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
        return None
    return int(v)


def _am(app: Mapping[str, Any], model: ConversionModel) -> tuple[int, int]:
    info = app.get("resourceInfo")
    parts = info.get("resourceUsagesByPartition") if isinstance(info, dict) else None
    for part in parts if isinstance(parts, list) else []:
        used = part.get("amUsed") if isinstance(part, dict) else None
        if isinstance(used, dict):
            mem, vc = used.get("memory"), used.get("vCores")
            if isinstance(mem, int) and isinstance(vc, int) and mem > 0 and vc > 0:
                return mem, vc
    return model.am_memory_mb, model.am_vcores


def to_job(app: Any, model: ConversionModel) -> tuple[dict[str, Any] | None, str]:
    """(native job with absolute `submit_ms`, "") or (None, why it was skipped)."""
    if not isinstance(app, dict):
        return None, "not a JSON object"
    if not isinstance(app.get("id"), str) or not app["id"]:
        return None, "no id"
    if str(app.get("state", "")).upper() not in STATES.split(","):
        return None, "not finished, killed or failed"
    submit = _ms(app, "submittedTime") or _ms(app, "startedTime")
    launch, finish = _ms(app, "launchTime"), _ms(app, "finishedTime")
    if submit is None or finish is None:
        return None, "missing submit or finish time"
    if launch is None:
        return None, "never launched (no launchTime)"
    if not submit <= launch <= finish:
        return None, "times out of order (submit <= launch <= finish)"
    mb_s, vc_s = app.get("memorySeconds"), app.get("vcoreSeconds")
    if isinstance(mb_s, bool) or not isinstance(mb_s, int | float) or not math.isfinite(mb_s) or mb_s < 0:
        return None, "missing or negative memorySeconds"
    span = max((finish - launch) / 1000.0, 1.0)
    am_mb, am_vc = _am(app, model)
    task_mb_s = max(float(mb_s) - am_mb * span, 0.0)
    mem = model.map_memory_mb
    tasks = max(1, math.ceil(task_mb_s / (mem * span) - 1e-9))
    vcores = model.map_vcores
    if isinstance(vc_s, int | float) and not isinstance(vc_s, bool) and math.isfinite(vc_s) and vc_s > 0:
        vcores = max(1, round(max(float(vc_s) - am_vc * span, 0.0) / (tasks * span)))
    queue = app.get("queue") if isinstance(app.get("queue"), str) else "default"
    job = {
        "id": app["id"],
        "submit_ms": submit,
        "queue": queue,
        "am": {"memory_mb": am_mb, "vcores": am_vc},
        "am_start_s": 0.0,
        "stages": [{"tasks": tasks, "memory_mb": mem, "vcores": vcores, "task_s": round(span, 3)}],
    }
    return job, ""


def convert(apps: Iterator[Any], model: ConversionModel, stats: ImportStats) -> list[dict[str, Any]]:
    """Native jobs, submit times relative to the first kept app, sorted by submit."""
    seen: set[str] = set()
    jobs = []
    for app in apps:
        stats.read += 1
        job, why = to_job(app, model)
        if job is None:
            app_id = app.get("id") if isinstance(app, dict) else None
            stats.skip(why, f"record {stats.read}" + (f", {app_id}" if isinstance(app_id, str) else ""))
            continue
        if job["id"] in seen:
            stats.read -= 1  # the same app from two windows: one app
            continue
        seen.add(job["id"])
        jobs.append(job)
    stats.kept = len(jobs)
    return relative_submits(jobs)
