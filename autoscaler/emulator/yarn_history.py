"""The emulated RM's finished applications, as `/ws/v1/cluster/apps?states=FINISHED,...` renders them.

A real RM keeps finished apps (up to `yarn.resourcemanager.max-completed-applications`) and filters
them by `states`, `finishedTimeBegin`/`finishedTimeEnd` (epoch ms, inclusive) and `limit`. Each app
here carries what `trace import --yarn` reads: `submittedTime`/`startedTime` (the submit), `launchTime`
(its first container, AM or task), `finishedTime`, `elapsedTime`, `memorySeconds`/`vcoreSeconds`
(MB- and vcore-seconds of every container it ran: its tasks' and its AM's from launch to finish),
the AM container's size as `resourceInfo.resourceUsagesByPartition[].amUsed`, `queue` and
`applicationType`. On a compressed clock (`demo`'s wall clock) times and resource-seconds are served
compressed alike, so an import sees a consistent, faster workload. Every job the model completes is
FINISHED/SUCCEEDED: the simulator has no failures to report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from autoscaler.sim.jobrun import JobRun


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _same(t: float) -> float:
    return t


def render_finished(jr: JobRun, start_at: float, present: Callable[[float], float] = _same) -> dict[str, Any] | None:
    """One finished job as an RM app object (instants as served: `present`), or None while it runs."""
    if jr.finished_at is None:
        return None
    job = jr.job
    launched = jr.started_at if jr.started_at is not None else jr.finished_at
    submitted = start_at + job.submit_s
    span = jr.finished_at - launched
    mb_s = sum(s.mb_seconds for s in job.stages)
    vc_s = sum(s.vcores * (sum(s.durations())) for s in job.stages)
    am = {"memory": 0, "vCores": 0}
    if job.am is not None:
        mb_s += job.am.memory_mb * span
        vc_s += job.am.vcores * span
        am = {"memory": job.am.memory_mb, "vCores": job.am.vcores}
    # served on a compressed clock (demo's wall_clock), the resource-seconds shrink with the times
    rate = (present(jr.finished_at) - present(launched)) / span if span > 0 else 1.0
    mb_s, vc_s = mb_s * rate, vc_s * rate
    return {
        "id": f"application_{int(start_at)}_{jr.seq + 1:04d}",
        "user": "hadoop",
        "name": job.id,
        "queue": job.queue,
        "state": "FINISHED",
        "finalStatus": "SUCCEEDED",
        "progress": 100.0,
        "applicationType": "MAPREDUCE" if job.am is not None else "SPARK",
        "submittedTime": _ms(present(submitted)),
        "startedTime": _ms(present(submitted)),
        "launchTime": _ms(present(launched)),
        "finishedTime": _ms(present(jr.finished_at)),
        "elapsedTime": _ms(present(jr.finished_at) - present(submitted)),
        "memorySeconds": round(mb_s),
        "vcoreSeconds": round(vc_s),
        "allocatedMB": -1,
        "allocatedVCores": -1,
        "runningContainers": -1,
        "resourceInfo": {"resourceUsagesByPartition": [{"partitionName": "", "amUsed": am}]},
    }


def _int(query: Mapping[str, str], key: str) -> int | None:
    try:
        return int(query[key])
    except (KeyError, ValueError):
        return None


def render_history(
    finished: Iterable[JobRun], start_at: float, query: Mapping[str, str], present: Callable[[float], float] = _same
) -> list[dict[str, Any]]:
    """The finished apps a query selects (`finishedTimeBegin`/`End` inclusive, then `limit`), oldest first."""
    begin, end, limit = _int(query, "finishedTimeBegin"), _int(query, "finishedTimeEnd"), _int(query, "limit")
    out = []
    for jr in finished:
        app = render_finished(jr, start_at, present)
        if app is None:
            continue
        if (begin is not None and app["finishedTime"] < begin) or (end is not None and app["finishedTime"] > end):
            continue
        out.append(app)
    out.sort(key=lambda a: (a["finishedTime"], a["id"]))
    return out if limit is None or limit <= 0 else out[:limit]
