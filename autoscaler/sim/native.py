"""The native JSON Lines trace format of DESIGN §5: one job object per line.

Every malformed input is a `TraceError` naming the file, line and field, because traces are
hand-edited and a traceback helps nobody.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from autoscaler.model import Resources
from autoscaler.sim.conversion import ConversionModel
from autoscaler.sim.job import Job, Stage, TraceError, scale_job


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


def load_native_scaled(path: Path, model: ConversionModel, *, scale: float = 1.0) -> list[Job]:
    """The registry's loader: native jobs carry their own shapes, so `model` is not used."""
    del model
    return [scale_job(j, scale) for j in load_native(path)]
