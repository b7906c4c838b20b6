"""What a trace is made of: `Job`s of ordered `Stage`s, and `TraceError` for input that cannot be read.

Each job has an optional ApplicationMaster and stages that run in order, each stage a number of
identical-shape tasks. The loaders (`native`, `swim`, `alibaba`) build these; `trace` picks the loader.
"""

from __future__ import annotations

from dataclasses import dataclass

from autoscaler.model import Resources


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


def scale_job(job: Job, scale: float) -> Job:
    """Scale data volume: each stage's task count × scale, rounded, at least one task.

    Built with the constructors, not `dataclasses.replace` (several times slower, once per job of a
    whole trace): every other field is carried over as it is.
    """
    if scale == 1.0:
        return job
    stages = []
    for s in job.stages:
        n = max(1, round(s.tasks * scale))
        if isinstance(s.task_s, tuple):
            task_s: float | tuple[float, ...] = tuple(s.task_s[i % len(s.task_s)] for i in range(n))
        else:
            task_s = s.task_s
        stages.append(Stage(n, s.memory_mb, s.vcores, task_s))
    return Job(job.id, job.submit_s, tuple(stages), job.queue, job.am, job.am_start_s)
