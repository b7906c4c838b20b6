"""SWIM `.tsv` (Facebook Hadoop, SWIMProjectUCB) → jobs, through `ConversionModel`.

Columns (no header, tab-separated): job id, submit time (s from start), gap from the previous
submit (s), map input bytes, shuffle bytes, reduce output bytes. `scale` multiplies every byte
count, so a 3,000-machine trace can be replayed on a small cluster.
"""

from __future__ import annotations

from pathlib import Path

from autoscaler.model import Resources
from autoscaler.sim.conversion import ConversionModel
from autoscaler.sim.job import Job, Stage, TraceError


def swim_job(
    job_id: str, submit_s: float, input_b: int, *, shuffle_b: int, output_b: int, model: ConversionModel
) -> Job:
    maps = model.map_tasks(input_b)
    stages = [Stage(maps, model.map_memory_mb, model.map_vcores, model.map_task_s(input_b, maps))]
    reduces = model.reduce_tasks(shuffle_b)
    if reduces:
        task_s = model.reduce_task_s(shuffle_b, output_b, reduces)
        stages.append(Stage(reduces, model.reduce_memory_mb, model.reduce_vcores, task_s))
    return Job(
        id=job_id,
        submit_s=submit_s,
        stages=tuple(stages),
        am=Resources(model.am_memory_mb, model.am_vcores),
        am_start_s=model.am_start_s,
    )


def load_swim(path: Path, model: ConversionModel, *, scale: float = 1.0) -> list[Job]:
    jobs = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 6:
                raise TraceError(f"{path.name}:{lineno}: expected 6 tab-separated columns, got {len(cols)}")
            try:
                submit = float(cols[1])
                sizes = [int(c) for c in cols[3:6]]
            except ValueError as err:
                raise TraceError(f"{path.name}:{lineno}: {err}") from None
            if submit < 0 or any(b < 0 for b in sizes):
                raise TraceError(f"{path.name}:{lineno}: submit time and byte counts must be non-negative")
            input_b, shuffle_b, output_b = (round(b * scale) for b in sizes)
            jobs.append(swim_job(cols[0], submit, input_b, shuffle_b=shuffle_b, output_b=output_b, model=model))
    return jobs
