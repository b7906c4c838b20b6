"""A Spark application's events as native trace jobs: one per Spark job, plus one holding its AM. Pure.

Why one trace job per Spark job: the simulator's job wait is submit-to-first-container. A Spark job's
`Submission Time` is when its demand reached the cluster, so its wait in the simulator is the delay a
query or ETL step would feel from capacity, and the gaps between an app's jobs (driver work, a
notebook's think time) stay gaps instead of being squeezed together. The app's YARN AM (the driver
in cluster mode) is one more job, `<app>:am`: one container of the AM size held from
ApplicationStart to ApplicationEnd, whose wait is the app's own wait for its AM.

Sizes (Spark's configuration docs): an executor container is `spark.executor.memory` (1g) plus
`spark.executor.memoryOverhead`, whose default is "executorMemory * spark.executor.memoryOverheadFactor,
with minimum of 384" (factor 0.10; minimum `spark.executor.minMemoryOverhead` where set), with
`spark.executor.cores` (1 on YARN) task slots of `spark.task.cpus` (1) each; a stage's resource
profile overrides these. Each task attempt becomes one simulator task of one slot: executor MB /
slots (rounded up) and `spark.task.cpus` vcores, running its real launch-to-finish time (at least 1 ms).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from autoscaler.trace_import.spark_events import AppEvents, StageAttempt

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)b?\s*$", re.IGNORECASE)
_MIB = {"k": 1 / 1024, "": 1, "m": 1, "g": 1024, "t": 1024**2, "p": 1024**3}
_YARN_APP = re.compile(r"^application_\d+_\d+(_\d+)?$")
MIN_OVERHEAD_MB = 384
OVERHEAD_FACTOR = 0.10


def mib(text: str | None, default: float, *, bare_bytes: bool = False) -> float:
    """A Spark size property in MiB; a bare number is MiB (the memory properties) or bytes
    (`spark.memory.offHeap.size`, as Spark declares each); `default` if unset or unreadable."""
    m = _SIZE.match(text) if text else None
    if m is None:
        return default
    unit = m.group(2).lower()
    return float(m.group(1)) / (1024 * 1024) if bare_bytes and not unit else float(m.group(1)) * _MIB[unit]


def _number(text: str | None, default: float) -> float:
    try:
        value = float(text) if text is not None else default
    except ValueError:
        return default
    return value if math.isfinite(value) and value > 0 else default


def container_mb(props: Mapping[str, str], role: str, heap_default: float, heap: float | None = None) -> int:
    """Heap + overhead of a `role` ("executor", "driver", "yarn.am") container, as Spark asks YARN."""
    heap_mb = heap if heap is not None else mib(props.get(f"spark.{role}.memory"), heap_default)
    explicit = props.get(f"spark.{role}.memoryOverhead") or props.get(f"spark.yarn.{role}.memoryOverhead")
    if explicit:
        overhead = mib(explicit, MIN_OVERHEAD_MB)
    else:
        factor = _number(props.get(f"spark.{role}.memoryOverheadFactor"), OVERHEAD_FACTOR)
        floor = mib(props.get(f"spark.{role}.minMemoryOverhead"), MIN_OVERHEAD_MB)
        overhead = max(floor, heap_mb * factor)
    extra = 0.0  # what YARN's executor container also holds: off-heap memory, PySpark workers' limit
    if role == "executor":
        if props.get("spark.memory.offHeap.enabled", "").lower() == "true":
            extra += mib(props.get("spark.memory.offHeap.size"), 0.0, bare_bytes=True)
        extra += mib(props.get("spark.executor.pyspark.memory"), 0.0)
    return math.ceil(heap_mb + overhead + extra)


def task_shape(app: AppEvents, profile: int) -> tuple[int, int]:
    """(MB, vcores) of one task slot of an executor of `profile` (0 = the app's Spark properties)."""
    props, asks = app.props, app.profiles.get(profile, {}) if profile else {}
    cores = int(asks.get("cores") or _number(props.get("spark.executor.cores"), 1))
    cpus = int(asks.get("task.cpus") or _number(props.get("spark.task.cpus"), 1))
    heap = asks.get("memory")
    memory = container_mb(props, "executor", 1024, heap)
    if "memoryOverhead" in asks:  # the profile's own overhead replaces the derived one
        memory = math.ceil((heap or mib(props.get("spark.executor.memory"), 1024)) + asks["memoryOverhead"])
    slots = max(1, cores // max(1, cpus))
    return math.ceil(memory / slots), max(1, cpus)


def am_shape(props: Mapping[str, str]) -> tuple[int, int]:
    """The YARN AM container: the driver's in cluster mode, else `spark.yarn.am.*` (512m, 1 core)."""
    if props.get("spark.submit.deployMode", "client") == "cluster":
        return container_mb(props, "driver", 1024), int(_number(props.get("spark.driver.cores"), 1))
    return container_mb(props, "yarn.am", 512), int(_number(props.get("spark.yarn.am.cores"), 1))


def is_yarn(app: AppEvents) -> bool:
    master = app.props.get("spark.master")
    if master is not None:
        return master.startswith("yarn")
    return bool(app.app_id and _YARN_APP.match(app.app_id))


def _stages(app: AppEvents, attempts: list[StageAttempt]) -> list[dict[str, Any]]:
    """Stage attempts in submission order; attempts that overlapped in time with one shape are one stage."""
    attempts.sort(key=lambda s: (s.submit_ms or min(t[0] for t in s.tasks), s.stage_id, s.attempt))
    out: list[dict[str, Any]] = []
    group_end = -1
    for s in attempts:
        mem, vc = task_shape(app, s.profile)
        durations = [max(0.001, (f - launch) / 1000.0) for launch, f in sorted(s.tasks)]
        start = s.submit_ms or min(t[0] for t in s.tasks)
        last = out[-1] if out else None
        if last is not None and start < group_end and (last["memory_mb"], last["vcores"]) == (mem, vc):
            last["task_s"] += durations  # ran at the same time as the previous attempt: one stage
            last["tasks"] = len(last["task_s"])
        else:
            out.append({"tasks": len(durations), "memory_mb": mem, "vcores": vc, "task_s": durations})
        group_end = max(group_end, *(f for _, f in s.tasks))
    for st in out:
        st["task_s"] = [round(d, 3) for d in st["task_s"]]
    return out


def to_jobs(app: AppEvents) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """(native jobs with absolute `submit_ms`, [(why a job was skipped, where)]) for one YARN app."""
    queue = app.props.get("spark.yarn.queue", "default") or "default"
    app_id = app.app_id or "unknown-app"
    by_job: dict[int, list[StageAttempt]] = {}
    for s in app.stages.values():
        job_id = app.stage_job.get(s.stage_id)
        if job_id is not None and s.tasks:
            by_job.setdefault(job_id, []).append(s)
    jobs: list[dict[str, Any]] = []
    skipped: list[tuple[str, str]] = []
    for job in sorted(app.jobs.values(), key=lambda j: j.id):
        if job.end_ms is None:
            skipped.append(("job did not end in the log (log cut short or app still running)", job.where))
            continue
        attempts = by_job.get(job.id, [])
        if not attempts:
            skipped.append(("job ran no tasks (its stages were skipped or cached)", job.where))
            continue
        jobs.append(_job(f"{app_id}:job{job.id}", job.submit_ms, queue, _stages(app, attempts)))
    if app.start_ms is None:
        skipped.append(("AM: no SparkListenerApplicationStart", app.where or app_id))
    elif app.end_ms is None or app.end_ms < app.start_ms:
        skipped.append(("AM: application did not end in the log (log cut short or app still running)", app.where))
    else:
        mem, vc = am_shape(app.props)
        held = max(0.001, (app.end_ms - app.start_ms) / 1000.0)
        am_stage = {"tasks": 1, "memory_mb": mem, "vcores": vc, "task_s": round(held, 3)}
        jobs.append(_job(f"{app_id}:am", app.start_ms, queue, [am_stage]))
    return jobs, skipped


def _job(job_id: str, submit_ms: int, queue: str, stages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": job_id, "submit_ms": submit_ms, "queue": queue, "am": None, "am_start_s": 0.0, "stages": stages}
