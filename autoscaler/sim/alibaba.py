"""Alibaba cluster-trace-v2017 `batch_task` `.csv` → jobs, through `ConversionModel`.

Columns: create time, end time, job id, task id, instances, status, CPU per instance (100 = one
core), normalized memory per instance. Each task becomes one stage of `instances` containers; a
job's tasks run as stages in order of create time (the v2017 trace has no DAG). Skipped, as the
trace documents them as outside the window or never run: rows with a timestamp <= 0, end <= create,
no CPU or memory request, or a status other than Terminated/Failed. Submit times are relative to
the earliest kept create time. A header line is allowed.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from autoscaler.model import Resources
from autoscaler.sim.conversion import ConversionModel
from autoscaler.sim.job import Job, Stage, TraceError

_KEEP_STATUS = frozenset({"Terminated", "Failed"})


def load_alibaba(path: Path, model: ConversionModel, *, scale: float = 1.0) -> list[Job]:
    # job id -> list of (create, stage)
    per_job: dict[str, list[tuple[float, int, Stage]]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for lineno, row in enumerate(csv.reader(fh), start=1):
            if not row or (lineno == 1 and not row[0].strip().lstrip("-").isdigit()):
                continue
            if len(row) < 8:
                raise TraceError(f"{path.name}:{lineno}: expected 8 comma-separated columns, got {len(row)}")
            if row[5].strip() not in _KEEP_STATUS or not row[6].strip() or not row[7].strip():
                continue
            try:
                create, end = int(row[0]), int(row[1])
                instances, cpu, mem = int(row[4]), int(row[6]), float(row[7])
                task_id = int(row[3])
            except ValueError as err:
                raise TraceError(f"{path.name}:{lineno}: {err}") from None
            if create <= 0 or end <= create or instances <= 0 or cpu <= 0 or mem <= 0:
                continue
            tasks = max(1, round(instances * scale))
            stage = Stage(
                tasks=tasks,
                memory_mb=max(1, math.ceil(mem * model.alibaba_machine_mb)),
                vcores=max(1, math.ceil(cpu / 100)),
                task_s=model.clamp(end - create + model.container_start_s),
            )
            per_job.setdefault(row[2].strip(), []).append((float(create), task_id, stage))
    if not per_job:
        return []
    origin = min(c for rows in per_job.values() for c, _, _ in rows)
    am = Resources(model.am_memory_mb, model.am_vcores)
    jobs = []
    for job_id, rows in per_job.items():
        rows.sort(key=lambda r: (r[0], r[1]))
        jobs.append(
            Job(
                id=job_id,
                submit_s=rows[0][0] - origin,
                stages=tuple(s for _, _, s in rows),
                am=am,
                am_start_s=model.am_start_s,
            )
        )
    return jobs
