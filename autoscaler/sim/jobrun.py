"""Job and stage bookkeeping: a submitted job's ApplicationMaster state, current stage and queued tasks.

Tasks of the current stage not yet launched are kept as runs `[count, seconds]` (equal durations
merged), so a 10,000-task stage with one duration is one run. Containers of one stage that start on
one node at the same moment with the same duration are one `Batch`: a plain tuple, the simulator's
most numerous record (a million at FB-2009 x 16), with no object, flag or index of its own.
"""

from __future__ import annotations

from enum import Enum

from autoscaler.model import Resources
from autoscaler.sim.job import Job, Stage
from autoscaler.sim.node import SimNode


class AmState(Enum):
    PENDING = "pending"  # waiting for an AM container
    STARTING = "starting"  # AM container placed, still starting up
    READY = "ready"  # the AM asks for the current stage's task containers (or the job has no AM)


class JobRun:
    """A job's progress: AM state, current stage, unlaunched task runs [(count, seconds)]."""

    __slots__ = (
        "am_node",
        "am_state",
        "counted",
        "done",
        "finished_at",
        "job",
        "mem",
        "queued",
        "running",
        "runs",
        "seq",
        "shape",
        "stage",
        "stage_tasks",
        "started_at",
        "vc",
    )

    def __init__(self, seq: int, job: Job) -> None:
        self.seq = seq
        self.job = job
        self.am_state = AmState.PENDING if job.am is not None else AmState.READY
        self.am_node: SimNode | None = None
        self.stage = -1
        self.stage_tasks = 0  # tasks in the current stage
        self.shape = Resources(0, 0)  # the current stage's container shape
        self.mem = self.vc = 0  # the same, as plain numbers for the hot loops
        self.runs: list[list[float]] = []
        self.queued = 0  # tasks in `runs`
        self.running = 0
        self.done = 0
        self.started_at: float | None = None
        self.finished_at: float | None = None
        # what the workload's totals count for this job: pending containers, MB, vcores, ACCEPTED (0/1)
        self.counted: tuple[int, int, int, int] = (0, 0, 0, 0)

    @property
    def pending_tasks(self) -> int:
        return self.queued if self.am_state is AmState.READY else 0

    @property
    def accepted(self) -> bool:
        """YARN's ACCEPTED: no AM running yet and nothing started."""
        return self.am_state is AmState.PENDING or self.started_at is None

    def pending_ask(self) -> tuple[Resources, int] | None:
        """The one outstanding container ask of this job (shape, count): its AM, or its stage's tasks."""
        job = self.job
        if self.am_state is AmState.PENDING and job.am is not None:
            return job.am, 1
        if self.am_state is AmState.READY and self.queued:
            return self.shape, self.queued
        return None

    def queue_stage(self, stage: Stage) -> None:
        self.shape = stage.shape
        self.mem, self.vc = stage.memory_mb, stage.vcores
        self.stage_tasks = stage.tasks
        self.runs = run_list(stage)
        self.queued = stage.tasks

    def requeue(self, count: int, seconds: float) -> None:
        """Lost containers go back to the front of the queue."""
        self.runs.insert(0, [count, seconds])
        self.queued += count


Batch = tuple[JobRun, SimNode, int, float, float]
"""(job, node, count, seconds, start): `count` containers of the job's current stage (its `mem` MB and
`vc` vcores each) running on `node` for `seconds` from `start`. A batch outlives no stage change (the
stage ends only when all its containers have), so the job's current shape is the batch's. A batch on
a node that was killed is dead: the node is TERMINATED, and its work was re-queued."""


def run_list(stage: Stage) -> list[list[float]]:
    """The stage's tasks as runs of equal duration, in task order."""
    if not isinstance(stage.task_s, tuple):
        return [[stage.tasks, float(stage.task_s)]]
    runs: list[list[float]] = []
    for d in stage.task_s:
        if runs and runs[-1][1] == d:
            runs[-1][0] += 1
        else:
            runs.append([1, d])
    return runs
