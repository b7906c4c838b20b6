"""Workload traces: the native JSON Lines format of DESIGN §5 and the dispatch to SWIM/Alibaba loaders.

A trace is a list of `Job`s; each job has an optional ApplicationMaster and stages that run in
order, each stage a number of identical-shape tasks. Every malformed input is reported as a
`TraceError` naming the file and line, because traces are hand-edited and a traceback helps nobody.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from autoscaler.model import Resources
from autoscaler.sim.conversion import ConversionModel


class TraceError(ValueError):
    """A trace that cannot be read, with `file:line: field: problem`."""


@dataclass(frozen=True, slots=True)
class Stage:
    """`tasks` containers of one shape; `task_s` is one duration for all or one per task."""

    tasks: int
    memory_mb: int
    vcores: int
    task_s: float | tuple[float, ...]

    @property
    def shape(self) -> Resources:
        return Resources(self.memory_mb, self.vcores)

    def durations(self) -> tuple[float, ...]:
        return self.task_s if isinstance(self.task_s, tuple) else (float(self.task_s),) * self.tasks

    @property
    def longest_s(self) -> float:
        return max(self.task_s) if isinstance(self.task_s, tuple) else float(self.task_s)

    @property
    def mb_seconds(self) -> float:
        per = sum(self.task_s) if isinstance(self.task_s, tuple) else self.task_s * self.tasks
        return float(per) * self.memory_mb


@dataclass(frozen=True, slots=True)
class Job:
    """One application. `am_start_s` is the AM's start-up time before it asks for task containers."""

    id: str
    submit_s: float
    stages: tuple[Stage, ...]
    queue: str = "default"
    am: Resources | None = None
    am_start_s: float = 0.0

    @property
    def ideal_s(self) -> float:
        """Run time with unlimited capacity: AM start-up plus each stage's longest task."""
        return self.am_start_s + sum(s.longest_s for s in self.stages)


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise TraceError(f"{where}: must be a positive integer")
    return value


def _number(value: Any, where: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TraceError(f"{where}: must be a number")
    if value < 0 or (positive and value == 0):
        raise TraceError(f"{where}: must be {'positive' if positive else 'non-negative'}")
    return float(value)


def _shape(value: Any, where: str) -> Resources:
    if not isinstance(value, dict):
        raise TraceError(f"{where}: must be an object with memory_mb and vcores")
    return Resources(
        _positive_int(value.get("memory_mb"), f"{where}.memory_mb"),
        _positive_int(value.get("vcores"), f"{where}.vcores"),
    )


def _stage(value: Any, where: str) -> Stage:
    if not isinstance(value, dict):
        raise TraceError(f"{where}: must be an object")
    tasks = _positive_int(value.get("tasks"), f"{where}.tasks")
    shape = _shape(value, where)
    raw = value.get("task_s")
    task_s: float | tuple[float, ...]
    if isinstance(raw, list):
        if len(raw) != tasks:
            raise TraceError(f"{where}.task_s: list has {len(raw)} durations for {tasks} tasks")
        task_s = tuple(_number(v, f"{where}.task_s[{i}]") for i, v in enumerate(raw))
    else:
        task_s = _number(raw, f"{where}.task_s")
    return Stage(tasks, shape.memory_mb, shape.vcores, task_s)


def parse_job(data: Any) -> Job:
    """One native-format job; raises TraceError with the field path (the caller adds file:line)."""
    if not isinstance(data, dict):
        raise TraceError("<line>: must be a JSON object")
    job_id = data.get("id")
    if not isinstance(job_id, str | int) or isinstance(job_id, bool) or job_id == "":
        raise TraceError("id: must be a non-empty string")
    stages = data.get("stages")
    if not isinstance(stages, list):
        raise TraceError("stages: must be a list")
    queue = data.get("queue", "default")
    if not isinstance(queue, str):
        raise TraceError("queue: must be a string")
    am = data.get("am")
    return Job(
        id=str(job_id),
        submit_s=_number(data.get("submit_s"), "submit_s"),
        stages=tuple(_stage(s, f"stages[{i}]") for i, s in enumerate(stages)),
        queue=queue,
        am=None if am is None else _shape(am, "am"),
        am_start_s=_number(data.get("am_start_s", 0.0), "am_start_s"),
    )


def load_native(path: Path) -> list[Job]:
    jobs: list[Job] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as err:
                raise TraceError(f"{path.name}:{lineno}: invalid JSON: {err.msg} (column {err.colno})") from None
            try:
                jobs.append(parse_job(data))
            except TraceError as err:
                raise TraceError(f"{path.name}:{lineno}: {err}") from None
    return jobs


def scale_job(job: Job, scale: float) -> Job:
    """Scale data volume: each stage's task count × scale, rounded, at least one task."""
    if scale == 1.0:
        return job
    stages = []
    for s in job.stages:
        n = max(1, round(s.tasks * scale))
        if isinstance(s.task_s, tuple):
            task_s: float | tuple[float, ...] = tuple(s.task_s[i % len(s.task_s)] for i in range(n))
        else:
            task_s = s.task_s
        stages.append(replace(s, tasks=n, task_s=task_s))
    return replace(job, stages=tuple(stages))


def load_trace(
    path: str | Path, *, fmt: str | None = None, scale: float = 1.0, model: ConversionModel | None = None
) -> list[Job]:
    """Read a trace by extension (.jsonl/.json native, .tsv SWIM, .csv Alibaba v2017), sorted by submit.

    `model` is a `ConversionModel` for SWIM/Alibaba (defaults documented there); `scale` multiplies
    data volume (task counts) for every format.
    """
    from autoscaler.sim.alibaba import load_alibaba  # noqa: PLC0415 - the loaders import this module
    from autoscaler.sim.swim import load_swim  # noqa: PLC0415

    path = Path(path)
    if scale <= 0 or not math.isfinite(scale):
        raise TraceError(f"{path.name}: --trace-scale must be a positive number, got {scale}")
    kind = fmt or {".jsonl": "native", ".json": "native", ".tsv": "swim", ".csv": "alibaba"}.get(path.suffix.lower())
    if kind is None:
        raise TraceError(f"{path.name}: unknown trace format {path.suffix!r} (use .jsonl, .tsv or .csv)")
    if not path.is_file():
        raise TraceError(f"{path}: no such file")
    conv = model or ConversionModel()
    if kind == "native":
        jobs = [scale_job(j, scale) for j in load_native(path)]
    elif kind == "swim":
        jobs = load_swim(path, conv, scale=scale)
    elif kind == "alibaba":
        jobs = load_alibaba(path, conv, scale=scale)
    else:
        raise TraceError(f"{path.name}: unknown trace format {kind!r} (native, swim or alibaba)")
    return sorted(jobs, key=lambda j: j.submit_s)
