"""YARN's side of the model: jobs, containers and FIFO placement on the nodes that are RUNNING.

Containers of one job stage that start on one node at the same moment with the same duration are
one `Batch` with one completion event, so a 10,000-task stage costs a handful of events, not
10,000. Placement is YARN FIFO: jobs in submit order, each job's ApplicationMaster before its
tasks, a job's tasks only after its AM has started and only for its current stage. A job that does
not fit is skipped, as the FifoScheduler does on each node heartbeat, so small jobs behind a big one
still run. Nodes are filled oldest first, which leaves young nodes idle for scale-in.

ApplicationMasters may hold at most `am_share` of the RUNNING nodes' memory (the CapacityScheduler's
`yarn.scheduler.capacity.maximum-am-resource-percent`, default 0.1), except that one AM may always
start: without that limit a burst of jobs fills the cluster with AMs and no task can ever run.

Placement counts memory only unless `count_vcores` is set: the CapacityScheduler's default
`yarn.scheduler.capacity.resource-calculator` is the DefaultResourceCalculator (memory only), which
EMR keeps, so a node's vcores can be over-committed (YARN then reports allocated vcores above the
total). With `count_vcores` (the DominantResourceCalculator) memory and vcores both bind.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable
from typing import Final

from autoscaler.model import Market, Resources
from autoscaler.sim.trace import Job

BOOTING: Final = 0
RUNNING: Final = 1
DECOMMISSIONING: Final = 2
TERMINATED: Final = 3

AM_PENDING: Final = 0
AM_STARTING: Final = 1
AM_READY: Final = 2

_PLACED: Final = 0
_NO_ROOM: Final = 1
_AM_LIMIT: Final = 2
_NO_JOB: Final = 1 << 62  # after every job seq: an exhausted queue sorts last in the merge


class SimNode:
    """One EC2 instance; a YARN NodeManager once RUNNING (the master is never one)."""

    __slots__ = (
        "am_jobs",
        "batches",
        "cap_mem",
        "cap_vc",
        "doomed_at",
        "free_mem",
        "free_vc",
        "host",
        "instance_id",
        "instance_type",
        "is_nodemanager",
        "leaving",
        "market",
        "notice_at",
        "pool_id",
        "requested_at",
        "running_at",
        "seq",
        "state",
        "terminated_at",
        "weight",
    )

    def __init__(
        self, seq: int, instance_id: str, host: str, *, pool_id: str, instance_type: str, market: Market, weight: int
    ) -> None:
        self.seq = seq
        self.instance_id = instance_id
        self.host = host
        self.pool_id = pool_id
        self.instance_type = instance_type
        self.market = market
        self.weight = weight
        self.cap_mem = self.cap_vc = self.free_mem = self.free_vc = 0
        self.is_nodemanager = True
        self.leaving = False  # chosen by a shrink (not by a Spot interruption)
        self.state = BOOTING
        self.requested_at = 0.0
        self.running_at: float | None = None
        self.terminated_at: float | None = None
        self.notice_at: float | None = None  # Spot interruption warning received
        self.doomed_at: float | None = None  # when the Spot interruption takes the node
        self.batches: set[Batch] = set()
        self.am_jobs: set[JobRun] = set()

    def set_capacity(self, yarn: Resources) -> None:
        self.cap_mem = self.free_mem = yarn.memory_mb
        self.cap_vc = self.free_vc = yarn.vcores

    @property
    def busy(self) -> bool:
        return bool(self.batches or self.am_jobs)


class JobRun:
    """A job's progress: AM state, current stage, unlaunched task runs [(count, seconds)]."""

    __slots__ = (
        "am_node",
        "am_state",
        "done",
        "finished_at",
        "job",
        "running",
        "runs",
        "seq",
        "stage",
        "started_at",
        "version",
    )

    def __init__(self, seq: int, job: Job) -> None:
        self.seq = seq
        self.job = job
        self.am_state = AM_PENDING if job.am is not None else AM_READY
        self.am_node: SimNode | None = None
        self.stage = -1
        self.runs: list[list[float]] = []
        self.running = 0
        self.done = 0
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.version = 0  # bumped on every change, so snapshot views can be cached

    @property
    def pending_tasks(self) -> int:
        return int(sum(r[0] for r in self.runs)) if self.am_state == AM_READY else 0


class Batch:
    __slots__ = ("alive", "count", "end", "job", "mem", "node", "seconds", "start", "vc")

    def __init__(
        self, job: JobRun, node: SimNode, count: int, seconds: float, *, start: float, shape: Resources
    ) -> None:
        self.job, self.node, self.count, self.seconds = job, node, count, seconds
        self.start, self.end = start, start + seconds
        self.mem, self.vc = shape.memory_mb, shape.vcores
        self.alive = True


Schedule = Callable[[float, int, object], None]


def _run_list(durations: tuple[float, ...]) -> list[list[float]]:
    runs: list[list[float]] = []
    for d in durations:
        if runs and runs[-1][1] == d:
            runs[-1][0] += 1
        else:
            runs.append([1, d])
    return runs


class Workload:
    """Jobs waiting for containers, the nodes with room, and placement between them."""

    def __init__(
        self,
        on_batch: Schedule,
        on_am: Schedule,
        batch_kind: int,
        am_kind: int,
        am_share: float = 0.1,
        *,
        count_vcores: bool = False,
    ) -> None:
        self.am_share = am_share
        self.count_vcores = count_vcores
        self._am_mem = 0  # memory held by AMs
        self._nm_mem: dict[int, int] = {}  # RUNNING NodeManagers' memory, by node seq
        self._cluster_mem = 0
        self._on_batch, self._on_am = on_batch, on_am
        self._batch_kind, self._am_kind = batch_kind, am_kind
        self.jobs: list[JobRun] = []
        self.active: dict[int, JobRun] = {}  # submitted, not finished
        # seqs of jobs waiting for an AM container / for task containers, each in FIFO order
        self._am_q: list[int] = []
        self._am_set: set[int] = set()
        self._task_q: list[int] = []
        self._task_set: set[int] = set()
        self._open: dict[int, SimNode] = {}  # RUNNING nodes with room for the smallest shape
        self._min_mem = 1 << 62
        # without vcore accounting no vcore figure (free vcores may go negative) ever blocks a node
        self._min_vc = 1 << 62 if count_vcores else -(1 << 62)
        self.completed: list[JobRun] = []
        self.lost_container_s = 0.0

    # --- demand -------------------------------------------------------------------------------
    def submit(self, job: Job, now: float) -> JobRun:
        jr = JobRun(len(self.jobs), job)
        self.jobs.append(jr)
        self.active[jr.seq] = jr
        for shape in ([job.am] if job.am else []) + [s.shape for s in job.stages]:
            self._min_mem = min(self._min_mem, shape.memory_mb)
            if self.count_vcores:
                self._min_vc = min(self._min_vc, shape.vcores)
        if jr.am_state == AM_READY:
            self.am_ready(jr, now)
        else:
            self._wait(jr)
        return jr

    def _wait(self, jr: JobRun) -> None:
        if jr.am_state == AM_PENDING:
            queue, members = self._am_q, self._am_set
        elif jr.am_state == AM_READY and jr.runs:
            queue, members = self._task_q, self._task_set
        else:
            return
        if jr.seq not in members:
            members.add(jr.seq)
            insort(queue, jr.seq)

    def am_ready(self, jr: JobRun, now: float) -> None:
        if jr.am_state == AM_STARTING:
            jr.am_state = AM_READY
        if jr.am_state != AM_READY:
            return
        jr.version += 1
        if jr.stage < 0:
            self._next_stage(jr, now)
        elif jr.runs:
            self._wait(jr)

    def _next_stage(self, jr: JobRun, now: float) -> None:
        stages = jr.job.stages
        jr.stage += 1
        jr.done = 0
        if jr.stage >= len(stages):
            self._finish(jr, now)
            return
        jr.runs = _run_list(stages[jr.stage].durations())
        self._wait(jr)

    def _finish(self, jr: JobRun, now: float) -> None:
        jr.finished_at = now
        if jr.started_at is None:
            jr.started_at = now
        node = jr.am_node
        if node is not None and jr.job.am is not None:
            node.am_jobs.discard(jr)
            self._am_mem -= jr.job.am.memory_mb
            self._release(node, jr.job.am.memory_mb, jr.job.am.vcores)
        jr.am_node = None
        self.active.pop(jr.seq, None)
        self.completed.append(jr)

    # --- supply -------------------------------------------------------------------------------
    def node_up(self, node: SimNode) -> None:
        self._open[node.seq] = node
        self._nm_mem[node.seq] = node.cap_mem
        self._cluster_mem += node.cap_mem

    def node_closed(self, node: SimNode) -> None:
        """No new containers here (decommissioning or gone)."""
        self._open.pop(node.seq, None)
        self._cluster_mem -= self._nm_mem.pop(node.seq, 0)

    def _release(self, node: SimNode, mem: int, vc: int) -> None:
        node.free_mem += mem
        node.free_vc += vc
        if node.state == RUNNING and node.free_mem >= self._min_mem and node.free_vc >= self._min_vc:
            self._open[node.seq] = node

    def batch_done(self, batch: Batch, now: float) -> None:
        if not batch.alive:
            return
        batch.alive = False
        node, jr = batch.node, batch.job
        node.batches.discard(batch)
        self._release(node, batch.mem * batch.count, batch.vc * batch.count)
        jr.running -= batch.count
        jr.done += batch.count
        jr.version += 1
        if jr.done >= jr.job.stages[jr.stage].tasks:
            self._next_stage(jr, now)

    def kill_node(self, node: SimNode, now: float) -> int:
        """The node is gone: its containers are lost and re-queued; returns how many were lost."""
        lost = 0
        for batch in list(node.batches):
            batch.alive = False
            jr = batch.job
            jr.running -= batch.count
            jr.runs.insert(0, [batch.count, batch.seconds])
            jr.version += 1
            self.lost_container_s += (now - batch.start) * batch.count
            lost += batch.count
            if jr.am_state == AM_READY:
                self._wait(jr)
        node.batches.clear()
        for jr in list(node.am_jobs):
            # AM attempt lost: YARN starts a new attempt; running tasks carry on (work-preserving)
            jr.am_state = AM_PENDING
            jr.am_node = None
            jr.version += 1
            if jr.job.am is not None:
                self._am_mem -= jr.job.am.memory_mb
            lost += 1
            self._wait(jr)
        node.am_jobs.clear()
        node.free_mem, node.free_vc = node.cap_mem, node.cap_vc
        self.node_closed(node)
        return lost

    # --- placement ----------------------------------------------------------------------------
    def place(self, now: float) -> None:  # noqa: PLR0912 - one merge loop over two FIFO queues reads best whole
        """One scheduling pass: AM asks and task asks merged in job order, until no node has room."""
        if not self._open or not (self._am_q or self._task_q):
            return
        min_mem, min_vc = self._min_mem, self._min_vc
        nodes = [self._open[k] for k in sorted(self._open)]
        am_q, task_q = self._am_q, self._task_q
        am_keep: list[int] = []
        task_keep: list[int] = []
        i = j = 0
        am_blocked = False  # the AM share is used up: no further AM can start this pass
        while nodes:
            a = am_q[i] if i < len(am_q) and not am_blocked else _NO_JOB
            b = task_q[j] if j < len(task_q) else _NO_JOB
            if a == b == _NO_JOB:
                break
            if a < b:
                i += 1
                jr = self.jobs[a]
                if jr.am_state != AM_PENDING:
                    self._am_set.discard(jr.seq)
                    continue
                status = self._place_am(jr, nodes, now)
                if status == _PLACED:
                    self._am_set.discard(jr.seq)
                else:
                    am_keep.append(jr.seq)
                    am_blocked = status == _AM_LIMIT
                    continue
            else:
                j += 1
                jr = self.jobs[b]
                if jr.am_state != AM_READY or not jr.runs:
                    self._task_set.discard(jr.seq)
                    continue
                self._place_tasks(jr, nodes, now)
                if jr.runs:
                    task_keep.append(jr.seq)
                else:
                    self._task_set.discard(jr.seq)
            nodes = [n for n in nodes if n.free_mem >= min_mem and n.free_vc >= min_vc]
        self._am_q = am_keep + am_q[i:]
        self._task_q = task_keep + task_q[j:]
        for n in list(self._open.values()):
            if n.free_mem < min_mem or n.free_vc < min_vc:
                del self._open[n.seq]

    def _start(self, jr: JobRun, now: float) -> None:
        if jr.started_at is None:
            jr.started_at = now
        jr.version += 1

    def _place_am(self, jr: JobRun, nodes: list[SimNode], now: float) -> int:
        am = jr.job.am
        assert am is not None
        if self._am_mem and self._am_mem + am.memory_mb > self.am_share * self._cluster_mem:
            return _AM_LIMIT
        for node in nodes:
            if node.free_mem >= am.memory_mb and (node.free_vc >= am.vcores or not self.count_vcores):
                node.free_mem -= am.memory_mb
                node.free_vc -= am.vcores
                node.am_jobs.add(jr)
                self._am_mem += am.memory_mb
                jr.am_node = node
                jr.am_state = AM_STARTING
                self._start(jr, now)
                # an event even for a zero start-up: the queues must not change during a pass
                self._on_am(now + jr.job.am_start_s, self._am_kind, jr)
                return _PLACED
        return _NO_ROOM

    def _place_tasks(self, jr: JobRun, nodes: list[SimNode], now: float) -> None:
        stage = jr.job.stages[jr.stage]
        mem, vc = stage.memory_mb, stage.vcores
        runs = jr.runs
        placed = False
        for node in nodes:
            if not runs:
                break
            fit = node.free_mem // mem
            if self.count_vcores and vc > 0:
                fit = min(fit, node.free_vc // vc)
            while fit > 0 and runs:
                run = runs[0]
                n = int(min(fit, run[0]))
                batch = Batch(jr, node, n, run[1], start=now, shape=stage.shape)
                node.batches.add(batch)
                node.free_mem -= mem * n
                node.free_vc -= vc * n
                jr.running += n
                fit -= n
                run[0] -= n
                if run[0] <= 0:
                    runs.pop(0)
                self._on_batch(batch.end, self._batch_kind, batch)
                placed = True
        if placed:
            self._start(jr, now)

    # --- views --------------------------------------------------------------------------------
    def waiting_jobs(self) -> list[JobRun]:
        return [self.jobs[s] for s in sorted(self._am_set | self._task_set)]
