"""`trace import --recording DIR`: the demand the daemon recorded (`record_dir`) as a native JSONL trace.

A recording holds, every tick, each live app's state, its outstanding asks (shape × count), what it
holds (`allocated`, `running_containers`) and its submit time. Per app, in tick order (mapping and
limits in docs/trace-import.md):

- `submit_s` = the RM's submit time (else the first tick it was seen), relative to the earliest kept app;
  `queue` = its queue; the id is the app id.
- the AM = the app's ask while ACCEPTED (YARN's only ask then is the AM container), else what it
  held while it held one container, else what it held beyond its task containers of the shape it
  asks for, else the conversion model's AM size; `am_start_s` = from the first tick it held a container to the first
  tick it had task containers running or asked for.
- phases: each tick interval it ran, the shape it asks for most (else the one before; at first its
  most asked-for shape while running, else (allocated − AM) / (containers − 1), else the model's map
  size), the MB its task containers held (allocated − AM) and how many of that shape it wanted at
  once (held + asked for). Consecutive intervals of one shape are one stage (maps, then reduces, say)
  of W tasks, W the most it wanted at once in the phase, each running the phase's task MB-seconds /
  (W × shape MB): with room for W containers the phase takes about as long as it did, and where it
  waited for room the simulated policy decides how long it waits now. The last interval an app was
  seen counts half (it ended somewhere in it); an interval across a gap in the recording counts
  nothing; intervals with no task held or wanted (AM alone) are not kept.

Apps the recording saw only in part are skipped, counted by reason: running when the recording
began, still there when it ended, never seen holding a task container, no allocation reported.
Unreadable recording lines are counted and named by file and line.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from autoscaler.model import AppInfo, Resources
from autoscaler.sim.conversion import ConversionModel
from autoscaler.sim.recording import Recording
from autoscaler.trace_import.stats import ImportStats, relative_submits


@dataclass
class _Seen:
    """One app across the ticks it was seen in."""

    app_id: str
    queue: str
    submitted_at: float | None
    first_tick: int
    am_ask: Resources | None = None
    asked: Counter[tuple[int, int]] = field(default_factory=Counter)
    samples: list[tuple[int, AppInfo]] = field(default_factory=list)  # (tick index, the app then)


def _collect(recording: Recording) -> dict[str, _Seen]:
    apps: dict[str, _Seen] = {}
    for i, tick in enumerate(recording.ticks):
        for app in tick.snapshot.apps:
            seen = apps.get(app.app_id)
            if seen is None:
                seen = apps[app.app_id] = _Seen(app.app_id, app.queue, app.submitted_at, i)
            seen.samples.append((i, app))
            if app.state == "ACCEPTED" and app.pending and seen.am_ask is None:
                seen.am_ask = app.pending[0].shape
            elif app.state == "RUNNING":
                for ask in app.pending:
                    seen.asked[(ask.shape.memory_mb, ask.shape.vcores)] += ask.count
    return apps


def _task_shape(seen: _Seen, am: Resources, model: ConversionModel) -> Resources:
    asked = _asked_shape(seen)
    if asked is not None:
        return asked
    for _, app in seen.samples:
        n, alloc = app.running_containers, app.allocated
        if n is not None and n > 1 and alloc is not None:
            return Resources(
                max(1, (alloc.memory_mb - am.memory_mb) // (n - 1)), max(1, (alloc.vcores - am.vcores) // (n - 1))
            )
    return Resources(model.map_memory_mb, model.map_vcores)


def _held_mb(app: AppInfo, am: Resources, shape: Resources) -> float | None:
    """MB its task containers held (its AM aside); None when the RM reported neither memory nor count."""
    if app.allocated is not None:
        return float(max(app.allocated.memory_mb - am.memory_mb, 0))
    if app.running_containers is not None:
        return float(max(app.running_containers - 1, 0) * shape.memory_mb)
    return None


def _tick_shape(app: AppInfo, previous: Resources) -> Resources:
    """The shape it asks for most now (a phase of its work), else the one it asked for last."""
    asks: Counter[Resources] = Counter()
    for r in app.pending:
        asks[r.shape] += r.count
    return max(asks.items(), key=lambda kv: (kv[1], kv[0].memory_mb, kv[0].vcores))[0] if asks else previous


def _am(seen: _Seen, model: ConversionModel) -> Resources:
    """Its ask while ACCEPTED; else what it held with one container, or beyond its task containers."""
    if seen.am_ask is not None:
        return seen.am_ask
    asked = _asked_shape(seen)
    for _, app in seen.samples:
        n, alloc = app.running_containers, app.allocated
        if app.state != "RUNNING" or n is None or n < 1 or alloc is None:
            continue
        if n == 1:
            return alloc
        if asked is not None:  # n - 1 task containers of the shape it asks for, and its AM
            mb, vc = alloc.memory_mb - (n - 1) * asked.memory_mb, alloc.vcores - (n - 1) * asked.vcores
            if mb > 0 and vc > 0:
                return Resources(mb, vc)
    return Resources(model.am_memory_mb, model.am_vcores)


def _asked_shape(seen: _Seen) -> Resources | None:
    if not seen.asked:
        return None
    (mb, vc), _ = max(seen.asked.items(), key=lambda kv: (kv[1], kv[0]))
    return Resources(mb, vc)


def _to_job(
    seen: _Seen, recording: Recording, dts: list[float], model: ConversionModel
) -> tuple[dict[str, Any] | None, str]:
    am = _am(seen, model)
    shape = _task_shape(seen, am, model)
    phases: list[tuple[Resources, list[float]]] = []  # (shape, [most wanted at once, task MB-seconds])
    launched: float | None = None
    first_task: float | None = None
    last = seen.samples[-1][0]
    for i, app in seen.samples:
        if app.state != "RUNNING":
            continue
        shape = _tick_shape(app, shape)
        held_mb = _held_mb(app, am, shape)
        if held_mb is None:
            return None, "no allocation reported (allocatedMB/runningContainers)"
        at = recording.ticks[i].at
        launched = at if launched is None else launched
        wanted = math.ceil(held_mb / shape.memory_mb - 1e-9) + sum(r.count for r in app.pending if r.shape == shape)
        if wanted == 0:
            continue
        first_task = at if first_task is None else first_task
        work = held_mb * dts[i] * (0.5 if i == last else 1.0)
        if phases and phases[-1][0] == shape:
            phases[-1][1][0] = max(phases[-1][1][0], wanted)
            phases[-1][1][1] += work
        else:
            phases.append((shape, [float(wanted), work]))
    stages = [
        {
            "tasks": int(n),
            "memory_mb": sh.memory_mb,
            "vcores": sh.vcores,
            "task_s": round(max(w / (n * sh.memory_mb), 1.0), 3),
        }
        for sh, (n, w) in phases
        if w > 0
    ]
    if launched is None or first_task is None or not stages:
        return None, "never seen holding a task container"
    submit = seen.submitted_at if seen.submitted_at is not None else recording.ticks[seen.first_tick].at
    return {
        "id": seen.app_id,
        "submit_ms": round(submit * 1000),
        "queue": seen.queue,
        "am": {"memory_mb": am.memory_mb, "vcores": am.vcores},
        "am_start_s": round(first_task - launched, 3),
        "stages": stages,
    }, ""


def convert_recording(recording: Recording, model: ConversionModel, stats: ImportStats) -> list[dict[str, Any]]:
    """Native jobs (submit times relative to the first kept app, sorted) from one cluster's recording."""
    for bad in recording.bad_lines:
        stats.skip("unreadable recording line", f"{bad.file}:{bad.line}: {bad.error}")
    stats.warnings.extend(recording.bad_summary())
    dts = recording.intervals()
    end = len(recording.ticks) - 1
    jobs = []
    for seen in _collect(recording).values():
        stats.read += 1
        where = f"{seen.app_id} (first seen {recording.ticks[seen.first_tick].at:.0f})"
        if seen.first_tick == 0 and seen.samples[0][1].state == "RUNNING":
            stats.skip("running when the recording began (its start is not recorded)", where)
            continue
        if seen.samples[-1][0] == end:
            stats.skip("still running when the recording ended", where)
            continue
        job, why = _to_job(seen, recording, dts, model)
        if job is None:
            stats.skip(why, where)
            continue
        jobs.append(job)
    stats.kept = len(jobs)
    return relative_submits(jobs)
