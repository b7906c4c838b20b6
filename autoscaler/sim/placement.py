"""YARN's FIFO placement: the scheduler's state (queues, open nodes, what runs where) and one pass.

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

A pass costs what it places, not the cluster's size: the open nodes are kept sorted as they open and
fill, so a pass neither sorts nor filters them (`Placement.place`). The events that change this
state (submits, stage ends, container completions, nodes coming and going) are `autoscaler.sim.workload`'s.
"""

from __future__ import annotations

from bisect import insort
from heapq import heappush
from operator import attrgetter
from typing import Final

from autoscaler.model import Resources
from autoscaler.sim.demand import AM_SHARE
from autoscaler.sim.events import AM, BATCH, EventQueue
from autoscaler.sim.jobrun import AmState, Batch, JobRun
from autoscaler.sim.node import SimNode
from autoscaler.sim.totals import Totals

_NO_JOB: Final = 1 << 62  # after every job seq: an exhausted queue sorts last in the merge
SEQ: Final = attrgetter("seq")
_PENDING: Final = AmState.PENDING
_READY: Final = AmState.READY


class Placement:
    """Jobs waiting for containers, the nodes with room, and FIFO placement between them."""

    def __init__(
        self,
        events: EventQueue,
        am_share: float = AM_SHARE,
        *,
        count_vcores: bool = False,
        touched: set[SimNode] | None = None,
    ) -> None:
        """`events`: where container ends and AM start-ups are queued; `touched`: the set every node's
        `SimNode.touch` reports into (the hot loops add to it directly)."""
        self.touched: set[SimNode] = set() if touched is None else touched
        self.am_share = am_share
        self.count_vcores = count_vcores
        self._am_mem = 0  # memory held by AMs
        self._running: dict[int, SimNode] = {}  # RUNNING NodeManagers counted in `totals`, by node seq
        self._events = events
        self.jobs: list[JobRun] = []
        self.active: dict[int, JobRun] = {}  # submitted, not finished
        self.totals = Totals()
        self.changed: set[int] = set()  # seqs of jobs changed since the last `take_changed`
        # seqs of jobs waiting for an AM container / for task containers, each in FIFO order
        self._am_q: list[int] = []
        self._am_set: set[int] = set()
        self._task_q: list[int] = []
        self._task_set: set[int] = set()
        self._open: dict[int, SimNode] = {}  # RUNNING nodes with room for the smallest shape (in `_running`)
        self._order: list[SimNode] = []  # the same nodes by seq: first fit fills the oldest first
        self._full: list[SimNode] = []  # nodes a placement just left without room (a pass drops them)
        self._unchecked: list[SimNode] = []  # nodes opened by `node_up`, not yet checked for room by a pass
        # the AMs on each node, insertion-ordered (lost in that order when the node goes); a node's
        # batches are found in the event queue when it is lost (`EventQueue.batches_on`)
        self._ams: dict[int, dict[JobRun, None]] = {}
        self._min_mem = 1 << 62
        # without vcore accounting no vcore figure (free vcores may go negative) ever blocks a node
        self._min_vc = 1 << 62 if count_vcores else -(1 << 62)
        self.completed: list[JobRun] = []
        self.lost_container_s = 0.0

    # --- bookkeeping --------------------------------------------------------------------------
    def _touch(self, jr: JobRun) -> None:
        """`jr`'s YARN app view changed: mark it, and move its ask and ACCEPTED state in the totals."""
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

    def _use(self, node: SimNode, mem: int, vc: int, containers: int, now: float) -> None:
        """Allocate (positive) or release (negative) resources on `node`."""
        node.free_mem -= mem
        node.free_vc -= vc
        node.touch(now)
        self.totals.allocated += containers
        if node.seq in self._running:
            self.totals.free_mem -= mem
            self.totals.free_vc -= vc

    @property
    def running_nodes(self) -> int:
        """RUNNING NodeManagers (YARN's activeNodes)."""
        return len(self._running)

    def _reopen(self, node: SimNode) -> None:
        """`node` (RUNNING, with room for the smallest shape) takes containers again."""
        if node.seq not in self._open:
            self._open[node.seq] = node
            insort(self._order, node, key=SEQ)

    # --- placement ----------------------------------------------------------------------------
    def place(self, now: float) -> None:  # noqa: PLR0912, PLR0915 - one merge loop over two FIFO queues reads best whole
        """One scheduling pass: AM asks and task asks merged in job order, until no node has room.

        `_order` is the open nodes by seq, kept sorted as nodes open and fill (every one has room for
        the smallest shape: nodes join only with room, and free memory drops only here), so a pass
        neither sorts nor filters the nodes; a node that runs out of room leaves it at once. The
        queues do not change during a pass (an AM placed starts by an event), so each is walked once.
        """
        nodes = self._order
        am_q, task_q = self._am_q, self._task_q
        if not nodes or not (am_q or task_q):
            return
        full, jobs = self._full, self.jobs
        if self._unchecked:
            full.extend(n for n in self._unchecked if n.seq in self._open and not self._has_room(n))
            self._unchecked.clear()
        # the most free memory on any node (-1: unknown), learnt from an ask that walked every node and
        # found no room: an upper bound for the rest of the pass (a pass only allocates), forgotten
        # when a node fills (nodes leave; it is learnt again by the next walk that finds no room)
        top = -1
        am_keep: list[int] = []
        task_keep: list[int] = []
        am_dropped = task_dropped = False  # whether a queue lost an entry (else it is left as it was)
        i = j = 0
        am_end, task_end = len(am_q), len(task_q)  # am_end drops to i when the AM share is used up
        while True:
            if full:  # nodes that just ran out of room leave the pass and the open set
                for n in full:
                    nodes.remove(n)
                    del self._open[n.seq]
                full.clear()
                top = -1
                if not nodes:
                    break
            a = am_q[i] if i < am_end else _NO_JOB
            b = task_q[j] if j < task_end else _NO_JOB
            if a < b:
                i += 1
                jr = jobs[a]
                if jr.am_state is not _PENDING:
                    self._am_set.discard(a)
                    am_dropped = True
                    continue
                am = jr.job.am
                assert am is not None
                if self._am_mem and self._am_mem + am.memory_mb > self.am_share * self.totals.total_mem:
                    am_keep.append(a)
                    am_end = i  # no further AM can start this pass
                    continue
                if am.memory_mb > top >= 0:  # fits on no node: what _place_am would find, cheaper
                    am_keep.append(a)
                    continue
                most = self._place_am(jr, am, nodes, now)
                if most < 0:
                    self._am_set.discard(a)
                    am_dropped = True
                else:
                    am_keep.append(a)
                    top = most
            elif b == _NO_JOB:
                break
            else:
                j += 1
                jr = jobs[b]
                if jr.am_state is not _READY or not jr.runs:
                    self._task_set.discard(b)
                    task_dropped = True
                    continue
                if jr.mem > top >= 0:  # fits on no node: what _place_tasks would find, cheaper
                    task_keep.append(b)
                    continue
                most = self._place_tasks(jr, nodes, now)
                if most >= 0:
                    top = most
                if jr.runs:
                    task_keep.append(b)
                else:
                    self._task_set.discard(b)
                    task_dropped = True
        if am_dropped:
            self._am_q = am_keep + am_q[i:]
        if task_dropped:
            self._task_q = task_keep + task_q[j:]

    @property
    def am_used_mb(self) -> int:
        """Memory the running ApplicationMasters hold (the scheduler's `usedAMResource`)."""
        return self._am_mem

    def _has_room(self, node: SimNode) -> bool:
        """Room for the smallest container shape submitted so far."""
        return node.free_mem >= self._min_mem and node.free_vc >= self._min_vc

    def _start(self, jr: JobRun, now: float) -> None:
        if jr.started_at is None:
            jr.started_at = now
        self._touch(jr)

    def _place_am(self, jr: JobRun, am: Resources, nodes: list[SimNode], now: float) -> int:
        """Start `jr`'s AM (`am`, within the AM share) on the first node with room; a node left without
        room goes to `_full`. Returns -1 when it started, else the most free memory on any node."""
        most = -1
        for node in nodes:
            free = node.free_mem
            if free > most:  # noqa: PLR1730 - a compare, not a call, per node
                most = free
            if free >= am.memory_mb and (node.free_vc >= am.vcores or not self.count_vcores):
                self._use(node, am.memory_mb, am.vcores, 1, now)
                self._ams[node.seq][jr] = None
                node.ams += 1
                self._am_mem += am.memory_mb
                jr.am_node = node
                jr.am_state = AmState.STARTING
                self._start(jr, now)
                # an event even for a zero start-up: the queues must not change during a pass
                self._events.push(now + jr.job.am_start_s, AM, jr)
                if node.free_mem < self._min_mem or node.free_vc < self._min_vc:
                    self._full.append(node)
                return -1
        return most

    def _place_tasks(self, jr: JobRun, nodes: list[SimNode], now: float) -> int:  # noqa: PLR0912, PLR0915 - hot, inlined
        """First-fit the current stage's queued tasks (some are queued); nodes left without room go to `_full`.
        Returns -1 when it placed some, else the most free memory on any node (it walked them all).

        The simulator's hottest loop: `_use`, `SimNode.touch`, the event queue's push (with its
        grouping rule, `autoscaler.sim.events`) and `_start` are inlined, and the totals and the job's
        counts are added up once per call, as nothing reads them during it.
        """
        runs = jr.runs
        mem, vc = jr.mem, jr.vc
        count_vc = self.count_vcores and vc > 0
        min_mem, min_vc = self._min_mem, self._min_vc
        full, touched = self._full, self.touched
        events = self._events
        heap, seq, group = events.heap, events.seq, events.open_group
        group_at = events.group_at if group is not None else None
        placed = 0  # every open node is a RUNNING NodeManager, counted in the totals
        most = -1  # the most free memory on the nodes that took none
        for node in nodes:
            fit = node.free_mem // mem
            if count_vc:
                fit = min(fit, node.free_vc // vc)
            if fit <= 0:
                if node.free_mem > most:  # noqa: PLR1730 - a compare, not a call, per node
                    most = node.free_mem
                continue
            here = 0
            while True:
                run = runs[0]
                left, seconds = run
                if fit < left:
                    n = fit
                    run[0] = left - fit
                else:
                    n = int(left)
                    del runs[0]
                batch: Batch = (jr, node, n, seconds, now)
                end = now + seconds
                if end == group_at:  # no event was pushed since that group: join it
                    group.append(batch)  # type: ignore[union-attr] # group_at is set only with a group
                else:
                    seq += 1
                    group_at, group = end, [batch]
                    heappush(heap, (end, seq, BATCH, group))
                here += n
                fit -= n
                if fit <= 0 or not runs:
                    break
            node.containers += here
            node.free_mem -= mem * here
            node.free_vc -= vc * here
            node.changed_at = now  # SimNode.touch
            touched.add(node)
            placed += here
            if node.free_mem < min_mem or node.free_vc < min_vc:
                full.append(node)
            if not runs:
                break
        if placed:
            events.seq, events.open_group, events.group_at = seq, group, end  # `end`: the last batch's
            totals = self.totals
            totals.allocated += placed
            totals.free_mem -= mem * placed
            totals.free_vc -= vc * placed
            jr.running += placed
            queued = jr.queued = jr.queued - placed
            if jr.started_at is None:
                jr.started_at = now
            # `_touch` for a READY, unfinished, started job: its ask is its queued tasks, not ACCEPTED
            self.changed.add(jr.seq)
            old_n, old_mem, old_vc, old_accepted = jr.counted
            pending_mem, pending_vc = queued * mem, queued * vc
            totals.pending_containers += queued - old_n
            totals.pending_mem += pending_mem - old_mem
            totals.pending_vc += pending_vc - old_vc
            totals.accepted -= old_accepted
            jr.counted = (queued, pending_mem, pending_vc, 0)
            return -1
        return most
