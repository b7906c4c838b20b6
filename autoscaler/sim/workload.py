"""The workload's events: jobs submitted, stages and jobs ending, containers ending, nodes coming and going.

Each event updates the scheduler's state (`autoscaler.sim.placement`), which the cluster then asks
to place what waits, once per instant. The workload keeps what the ResourceManager's cluster metrics
report as running totals, updated as containers start and end (`Totals`), and the set of jobs
changed since the last snapshot, so a snapshot's cost does not grow with the queue.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable
from typing import Final

from autoscaler.sim.job import Job
from autoscaler.sim.jobrun import AmState, Batch, JobRun
from autoscaler.sim.node import Lifecycle, SimNode
from autoscaler.sim.placement import SEQ, Placement

_RUNNING: Final = Lifecycle.RUNNING
_TERMINATED: Final = Lifecycle.TERMINATED
_DECOMMISSIONING: Final = Lifecycle.DECOMMISSIONING


class Workload(Placement):
    """Jobs, their progress, and the events that move them (placement itself: `Placement`)."""

    def take_changed(self) -> set[int]:
        """Seqs of the jobs changed since the last call (finished ones included)."""
        changed, self.changed = self.changed, set()
        return changed

    # --- demand -------------------------------------------------------------------------------
    def submit(self, job: Job, now: float) -> JobRun:
        jr = JobRun(len(self.jobs), job)
        self.jobs.append(jr)
        self.active[jr.seq] = jr
        am = job.am
        if am is not None:
            self._min_mem = min(self._min_mem, am.memory_mb)
            if self.count_vcores:
                self._min_vc = min(self._min_vc, am.vcores)
        for stage in job.stages:
            self._min_mem = min(self._min_mem, stage.memory_mb)
            if self.count_vcores:
                self._min_vc = min(self._min_vc, stage.vcores)
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
        self._reopen(node)
        self._unchecked.append(node)  # may be too small for the smallest shape the next pass knows
        self._running[node.seq] = node
        self._ams[node.seq] = {}
        t = self.totals
        t.total_mem += node.cap_mem
        t.total_vc += node.cap_vc
        t.free_mem += node.free_mem
        t.free_vc += node.free_vc

    def node_closed(self, node: SimNode) -> None:
        """No new containers here (decommissioning or gone)."""
        if self._open.pop(node.seq, None) is not None:
            self._order.remove(node)
        if self._running.pop(node.seq, None) is not None:
            t = self.totals
            t.total_mem -= node.cap_mem
            t.total_vc -= node.cap_vc
            t.free_mem -= node.free_mem
            t.free_vc -= node.free_vc

    def _release(self, node: SimNode, mem: int, vc: int, containers: int, now: float) -> None:
        self._use(node, -mem, -vc, -containers, now)
        if node.state is Lifecycle.RUNNING and node.free_mem >= self._min_mem and node.free_vc >= self._min_vc:
            self._reopen(node)

    def batches_done(self, batches: list[Batch], now: float, draining: Callable[[SimNode], None]) -> None:
        """Container batches ending at `now`, in order; `draining(node)` after each on a decommissioning node.

        The simulator's most frequent event, so `_release` is inlined, a whole group runs in one call,
        and the totals are added to once at the end (nothing reads them meanwhile; every change to
        them is a sum, so the order does not matter). A batch on a TERMINATED node is dead: the node
        was lost and `kill_node` re-queued its work.
        """
        open_, order = self._open, self._order
        min_mem, min_vc = self._min_mem, self._min_vc
        touched, changed = self.touched, self.changed
        released = freed_mem = freed_vc = 0
        for jr, node, count, _, _ in batches:
            state = node.state
            if state is _TERMINATED:
                continue
            node.containers -= count
            mem, vc = jr.mem * count, jr.vc * count
            node.free_mem += mem
            node.free_vc += vc
            node.changed_at = now  # SimNode.touch
            touched.add(node)
            released += count
            if state is _RUNNING:  # a RUNNING NodeManager: counted in the totals (`_running`)
                freed_mem += mem
                freed_vc += vc
                if node.free_mem >= min_mem and node.free_vc >= min_vc and node.seq not in open_:
                    open_[node.seq] = node
                    insort(order, node, key=SEQ)
            jr.running -= count
            done = jr.done = jr.done + count
            changed.add(jr.seq)  # the app's allocation changed (no ask did: not a _touch)
            if done >= jr.stage_tasks:  # running and done alone are not in the app's view
                self._next_stage(jr, now)
                self._touch(jr)
            if state is _DECOMMISSIONING:
                draining(node)
        t = self.totals
        t.allocated -= released
        t.free_mem += freed_mem
        t.free_vc += freed_vc

    def kill_node(self, node: SimNode, now: float) -> int:
        """The node is gone: its containers are lost and re-queued; returns how many were lost."""
        self.node_closed(node)
        lost = 0
        for jr, _, count, seconds, start in self._events.batches_on(node) if node.containers else ():
            jr.running -= count
            jr.requeue(count, seconds)
            self.lost_container_s += (now - start) * count
            lost += count
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
