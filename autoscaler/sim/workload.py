"""YARN placement: jobs waiting for containers, the RUNNING nodes with room, and FIFO placement between them.

Placement is YARN FIFO: jobs in submit order, each job's ApplicationMaster before its tasks, a job's
tasks only after its AM has started and only for its current stage. A job that does not fit is
skipped, as the FifoScheduler does on each node heartbeat, so small jobs behind a big one still
run. Nodes are filled oldest first, which leaves young nodes idle for scale-in.

ApplicationMasters may hold at most `am_share` of the RUNNING nodes' memory (the CapacityScheduler's
`yarn.scheduler.capacity.maximum-am-resource-percent`, default 0.1), except that one AM may always
start: without that limit a burst of jobs fills the cluster with AMs and no task can ever run.

Placement counts memory only unless `count_vcores` is set: the CapacityScheduler's default
`yarn.scheduler.capacity.resource-calculator` is the DefaultResourceCalculator (memory only), which
EMR keeps, so a node's vcores can be over-committed (YARN then reports allocated vcores above the
total). With `count_vcores` (the DominantResourceCalculator) memory and vcores both bind.

The workload keeps the RM's cluster metrics as running totals updated as containers start and end
(`Totals`), and the jobs changed since the last snapshot: a snapshot's cost does not grow with the queue.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable
from typing import Final

from autoscaler.sim.job import Job
from autoscaler.sim.jobrun import AmState, Batch, JobRun
from autoscaler.sim.node import Lifecycle, SimNode
from autoscaler.sim.totals import Totals

_PLACED: Final = 0
_NO_ROOM: Final = 1
_AM_LIMIT: Final = 2
_NO_JOB: Final = 1 << 62  # after every job seq: an exhausted queue sorts last in the merge


Schedule = Callable[[float, int, object], None]


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
        self._running: dict[int, SimNode] = {}  # RUNNING NodeManagers counted in `totals`, by node seq
        self._on_batch, self._on_am = on_batch, on_am
        self._batch_kind, self._am_kind = batch_kind, am_kind
        self.jobs: list[JobRun] = []
        self.active: dict[int, JobRun] = {}  # submitted, not finished
        self.totals = Totals()
        self.changed: set[int] = set()  # seqs of jobs changed since the last `take_changed`
        # seqs of jobs waiting for an AM container / for task containers, each in FIFO order
        self._am_q: list[int] = []
        self._am_set: set[int] = set()
        self._task_q: list[int] = []
        self._task_set: set[int] = set()
        self._open: dict[int, SimNode] = {}  # RUNNING nodes with room for the smallest shape
        # what runs on each node, insertion-ordered (lost in that order when the node goes)
        self._batches: dict[int, dict[Batch, None]] = {}
        self._ams: dict[int, dict[JobRun, None]] = {}
        self._min_mem = 1 << 62
        # without vcore accounting no vcore figure (free vcores may go negative) ever blocks a node
        self._min_vc = 1 << 62 if count_vcores else -(1 << 62)
        self.completed: list[JobRun] = []
        self.lost_container_s = 0.0

    # --- bookkeeping --------------------------------------------------------------------------
    def _touch(self, jr: JobRun) -> None:
        """`jr`'s YARN app view changed: mark it, and move its ask and ACCEPTED state in the totals."""
        jr.version += 1
        self.changed.add(jr.seq)
        n = mem = vc = accepted = 0
        if jr.finished_at is None:
            state, am = jr.am_state, jr.job.am
            accepted = int(state is AmState.PENDING or jr.started_at is None)
            if state is AmState.PENDING and am is not None:
                n, mem, vc = 1, am.memory_mb, am.vcores
            elif state is AmState.READY and jr.queued:
                n = jr.queued
                mem, vc = n * jr.shape.memory_mb, n * jr.shape.vcores
        t = self.totals
        old_n, old_mem, old_vc, old_accepted = jr.counted
        t.pending_containers += n - old_n
        t.pending_mem += mem - old_mem
        t.pending_vc += vc - old_vc
        t.accepted += accepted - old_accepted
        jr.counted = (n, mem, vc, accepted)

    @property
    def running_nodes(self) -> int:
        """RUNNING NodeManagers (YARN's activeNodes)."""
        return len(self._running)

    def take_changed(self) -> set[int]:
        """Seqs of the jobs changed since the last call (finished ones included)."""
        changed, self.changed = self.changed, set()
        return changed

    def _use(self, node: SimNode, mem: int, vc: int, containers: int, now: float) -> None:
        """Allocate (positive) or release (negative) resources on `node`."""
        node.free_mem -= mem
        node.free_vc -= vc
        node.touch(now)
        self.totals.allocated += containers
        if node.seq in self._running:
            self.totals.free_mem -= mem
            self.totals.free_vc -= vc

    # --- demand -------------------------------------------------------------------------------
    def submit(self, job: Job, now: float) -> JobRun:
        jr = JobRun(len(self.jobs), job)
        self.jobs.append(jr)
        self.active[jr.seq] = jr
        for shape in ([job.am] if job.am else []) + [s.shape for s in job.stages]:
            self._min_mem = min(self._min_mem, shape.memory_mb)
            if self.count_vcores:
                self._min_vc = min(self._min_vc, shape.vcores)
        if jr.am_state is AmState.READY:
            self.am_ready(jr, now)
        else:
            self._wait(jr)
            self._touch(jr)
        return jr

    def _wait(self, jr: JobRun) -> None:
        if jr.am_state is AmState.PENDING:
            queue, members = self._am_q, self._am_set
        elif jr.am_state is AmState.READY and jr.runs:
            queue, members = self._task_q, self._task_set
        else:
            return
        if jr.seq not in members:
            members.add(jr.seq)
            insort(queue, jr.seq)

    def am_ready(self, jr: JobRun, now: float) -> None:
        if jr.am_state is AmState.STARTING:
            jr.am_state = AmState.READY
        if jr.am_state is not AmState.READY:
            return
        if jr.stage < 0:
            self._next_stage(jr, now)
        elif jr.runs:
            self._wait(jr)
        self._touch(jr)

    def _next_stage(self, jr: JobRun, now: float) -> None:
        stages = jr.job.stages
        jr.stage += 1
        jr.done = 0
        if jr.stage >= len(stages):
            self._finish(jr, now)
            return
        jr.queue_stage(stages[jr.stage])
        self._wait(jr)

    def _finish(self, jr: JobRun, now: float) -> None:
        jr.finished_at = now
        if jr.started_at is None:
            jr.started_at = now
        node = jr.am_node
        if node is not None and jr.job.am is not None:
            self._ams[node.seq].pop(jr, None)
            node.ams -= 1
            self._am_mem -= jr.job.am.memory_mb
            self._release(node, jr.job.am.memory_mb, jr.job.am.vcores, 1, now)
        jr.am_node = None
        self.active.pop(jr.seq, None)
        self.completed.append(jr)

    # --- supply -------------------------------------------------------------------------------
    def node_up(self, node: SimNode) -> None:
        self._open[node.seq] = node
        self._running[node.seq] = node
        self._batches[node.seq] = {}
        self._ams[node.seq] = {}
        t = self.totals
        t.total_mem += node.cap_mem
        t.total_vc += node.cap_vc
        t.free_mem += node.free_mem
        t.free_vc += node.free_vc

    def node_closed(self, node: SimNode) -> None:
        """No new containers here (decommissioning or gone)."""
        self._open.pop(node.seq, None)
        if self._running.pop(node.seq, None) is not None:
            t = self.totals
            t.total_mem -= node.cap_mem
            t.total_vc -= node.cap_vc
            t.free_mem -= node.free_mem
            t.free_vc -= node.free_vc

    def _release(self, node: SimNode, mem: int, vc: int, containers: int, now: float) -> None:
        self._use(node, -mem, -vc, -containers, now)
        if node.state is Lifecycle.RUNNING and node.free_mem >= self._min_mem and node.free_vc >= self._min_vc:
            self._open[node.seq] = node

    def batch_done(self, batch: Batch, now: float) -> None:
        if not batch.alive:
            return
        batch.alive = False
        node, jr, count = batch.node, batch.job, batch.count
        self._batches[node.seq].pop(batch, None)
        node.containers -= count
        # _release, inlined: this runs once per container batch, the simulator's most frequent event
        mem, vc = batch.mem * count, batch.vc * count
        node.free_mem += mem
        node.free_vc += vc
        node.touch(now)
        t = self.totals
        t.allocated -= count
        seq = node.seq
        if seq in self._running:
            t.free_mem += mem
            t.free_vc += vc
            if node.free_mem >= self._min_mem and node.free_vc >= self._min_vc:
                self._open[seq] = node
        jr.running -= count
        jr.done += count
        self.changed.add(jr.seq)  # the app's allocation changed (no ask did: not a _touch)
        if jr.done >= jr.job.stages[jr.stage].tasks:  # running and done alone are not in the app's view
            self._next_stage(jr, now)
            self._touch(jr)

    def kill_node(self, node: SimNode, now: float) -> int:
        """The node is gone: its containers are lost and re-queued; returns how many were lost."""
        self.node_closed(node)
        lost = 0
        for batch in self._batches.pop(node.seq, {}):
            batch.alive = False
            jr = batch.job
            jr.running -= batch.count
            jr.requeue(batch.count, batch.seconds)
            self.lost_container_s += (now - batch.start) * batch.count
            lost += batch.count
            if jr.am_state is AmState.READY:
                self._wait(jr)
            self._touch(jr)
        for jr in self._ams.pop(node.seq, {}):
            # AM attempt lost: YARN starts a new attempt; running tasks carry on (work-preserving)
            jr.am_state = AmState.PENDING
            jr.am_node = None
            if jr.job.am is not None:
                self._am_mem -= jr.job.am.memory_mb
            lost += 1
            self._wait(jr)
            self._touch(jr)
        self.totals.allocated -= node.containers + node.ams
        node.containers = node.ams = 0
        node.free_mem, node.free_vc = node.cap_mem, node.cap_vc
        node.touch(now)
        return lost

    # --- placement ----------------------------------------------------------------------------
    def place(self, now: float) -> None:  # noqa: PLR0912 - one merge loop over two FIFO queues reads best whole
        """One scheduling pass: AM asks and task asks merged in job order, until no node has room."""
        if not self._open or not (self._am_q or self._task_q):
            return
        nodes, full = self._with_room([self._open[k] for k in sorted(self._open)])
        # the most free memory on any node: an upper bound for the whole pass, as a pass only allocates
        top = max((n.free_mem for n in nodes), default=0)
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
                if jr.am_state is not AmState.PENDING:
                    self._am_set.discard(jr.seq)
                    continue
                status, filled = self._place_am(jr, nodes, now)
                if status == _PLACED:
                    self._am_set.discard(jr.seq)
                else:
                    am_keep.append(jr.seq)
                    am_blocked = status == _AM_LIMIT
                    continue
            else:
                j += 1
                jr = self.jobs[b]
                if jr.am_state is not AmState.READY or not jr.runs:
                    self._task_set.discard(jr.seq)
                    continue
                if jr.shape.memory_mb > top:  # fits on no node: what _place_tasks would find, cheaper
                    task_keep.append(jr.seq)
                    continue
                filled = self._place_tasks(jr, nodes, now)
                if jr.runs:
                    task_keep.append(jr.seq)
                else:
                    self._task_set.discard(jr.seq)
            if filled:  # only a node that just took containers can have run out of room
                nodes, now_full = self._with_room(nodes)
                full += now_full
                top = max((n.free_mem for n in nodes), default=0)
        self._am_q = am_keep + am_q[i:]
        self._task_q = task_keep + task_q[j:]
        for n in full:
            del self._open[n.seq]

    def _with_room(self, nodes: list[SimNode]) -> tuple[list[SimNode], list[SimNode]]:
        """`nodes` split into those with room for the smallest shape and those without."""
        min_mem, min_vc = self._min_mem, self._min_vc
        room = [n for n in nodes if n.free_mem >= min_mem and n.free_vc >= min_vc]
        if len(room) == len(nodes):
            return room, []
        return room, [n for n in nodes if n.free_mem < min_mem or n.free_vc < min_vc]

    def _start(self, jr: JobRun, now: float) -> None:
        if jr.started_at is None:
            jr.started_at = now
        self._touch(jr)

    def _place_am(self, jr: JobRun, nodes: list[SimNode], now: float) -> tuple[int, bool]:
        """(status, whether the node it went to ran out of room)."""
        am = jr.job.am
        assert am is not None
        if self._am_mem and self._am_mem + am.memory_mb > self.am_share * self.totals.total_mem:
            return _AM_LIMIT, False
        for node in nodes:
            if node.free_mem >= am.memory_mb and (node.free_vc >= am.vcores or not self.count_vcores):
                self._use(node, am.memory_mb, am.vcores, 1, now)
                self._ams[node.seq][jr] = None
                node.ams += 1
                self._am_mem += am.memory_mb
                jr.am_node = node
                jr.am_state = AmState.STARTING
                self._start(jr, now)
                # an event even for a zero start-up: the queues must not change during a pass
                self._on_am(now + jr.job.am_start_s, self._am_kind, jr)
                return _PLACED, node.free_mem < self._min_mem or node.free_vc < self._min_vc
        return _NO_ROOM, False

    def _place_tasks(self, jr: JobRun, nodes: list[SimNode], now: float) -> bool:
        """First-fit the current stage's queued tasks; True when a node ran out of room (hot: `_use` inlined)."""
        runs = jr.runs
        if not runs:
            return False
        mem, vc = jr.shape.memory_mb, jr.shape.vcores
        count_vc = self.count_vcores and vc > 0
        min_mem, min_vc = self._min_mem, self._min_vc
        totals, running, batches = self.totals, self._running, self._batches
        push, kind = self._on_batch, self._batch_kind
        placed = filled = False
        for node in nodes:
            if not runs:
                break
            fit = node.free_mem // mem
            if count_vc:
                fit = min(fit, node.free_vc // vc)
            if fit <= 0:
                continue
            on_node = batches[node.seq]
            counted = node.seq in running
            while fit > 0 and runs:
                run = runs[0]
                n = int(min(fit, run[0]))
                batch = Batch(jr, node, n, run[1], now, mem, vc)
                on_node[batch] = None
                node.containers += n
                node.free_mem -= mem * n
                node.free_vc -= vc * n
                totals.allocated += n
                if counted:
                    totals.free_mem -= mem * n
                    totals.free_vc -= vc * n
                jr.running += n
                jr.queued -= n
                self.changed.add(jr.seq)
                fit -= n
                run[0] -= n
                if run[0] <= 0:
                    runs.pop(0)
                push(batch.end, kind, batch)
            node.touch(now)
            placed = True
            filled = filled or node.free_mem < min_mem or node.free_vc < min_vc
        if placed:
            self._start(jr, now)
        return filled
