"""Cluster isolation: each round of ticks runs on a bounded worker pool, one tick per cluster at a time,
each round with a deadline.

Why: with clusters ticked one after another, one hung YARN (a read timeout per RM URL, botocore's
retries) delays every cluster behind it, and an overrunning tick delays the next round of all. Here:

- at most `max_workers` ticks run at once (bounded threads, bounded load on YARN and the AWS APIs);
- a cluster whose previous tick is still running is not ticked again (`busy`): two ticks of one
  cluster must never decide on the same pools at once;
- a tick that has not started by the round's deadline is cancelled (`not_started`: the pool is too
  small for the clusters and the interval), it would decide on time that is already late;
- a tick still running at the deadline is `overrun`: the round ends without waiting for it, and its
  `Deadline` tells `DeadlineActuator` to write nothing from then on. A write already in flight cannot
  be recalled (EMR may apply it); the late tick's memory still records it when it ends, so the next
  tick of that cluster starts from what really happened.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial

from autoscaler.actuation import Actuator
from autoscaler.model import ClusterSnapshot, Outcome, OutcomeStatus, Plan


@dataclass(frozen=True, slots=True)
class Deadline:
    """The end of a round, on the monotonic clock; `seconds` is the whole allowance, for messages."""

    at: float
    seconds: float
    monotonic: Callable[[], float] = time.monotonic

    def passed(self) -> bool:
        return self.monotonic() >= self.at


#: One cluster's tick as the pool runs it: (its round's deadline, seconds it waited for a worker).
Job = Callable[[Deadline, float], None]


@dataclass(frozen=True, slots=True)
class Round:
    """What became of each cluster's tick in one round (the rest finished within the deadline)."""

    busy: tuple[str, ...] = ()  # previous tick still running: not started again
    not_started: tuple[str, ...] = ()  # no worker free before the deadline: cancelled
    overrun: tuple[str, ...] = ()  # still running at the deadline: can no longer write
    errors: Mapping[str, BaseException] = field(default_factory=dict)  # a job that raised (a bug)


class ClusterWorkers:
    """A bounded pool of tick threads; `run_round` dispatches one job per cluster and waits at most
    `deadline_s` for them."""

    def __init__(self, max_workers: int, deadline_s: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.deadline_s, self.monotonic = deadline_s, monotonic
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="tick")
        self._lock = threading.Lock()
        self._running: dict[str, Future[None]] = {}

    def running(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._running)

    def run_round(self, jobs: Mapping[str, Job]) -> Round:
        start = self.monotonic()
        deadline = Deadline(start + self.deadline_s, self.deadline_s, self.monotonic)
        busy: list[str] = []
        futures: dict[str, Future[None]] = {}
        with self._lock:
            for cid, job in jobs.items():
                if cid in self._running and not self._running[cid].done():
                    busy.append(cid)
                    continue
                future = self._pool.submit(self._run, job, deadline, start)
                self._running[cid] = futures[cid] = future
        for cid, future in futures.items():
            future.add_done_callback(partial(self._finished, cid))
        wait(futures.values(), timeout=max(0.0, deadline.at - self.monotonic()))
        not_started = tuple(cid for cid, f in futures.items() if f.cancel())
        overrun = tuple(cid for cid, f in futures.items() if not f.done())
        errors = {
            cid: err
            for cid, f in futures.items()
            if f.done() and not f.cancelled() and (err := f.exception()) is not None
        }
        return Round(tuple(busy), not_started, overrun, errors)

    def _run(self, job: Job, deadline: Deadline, dispatched: float) -> None:
        job(deadline, self.monotonic() - dispatched)

    def _finished(self, cid: str, future: Future[None]) -> None:
        with self._lock:
            if self._running.get(cid) is future:
                del self._running[cid]

    def shutdown(self) -> None:
        """Wait for the running ticks (never leave a write half-reported); queued ones do not start."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class DeadlineActuator:
    """Refuses every resize once the tick's round is past its deadline (outcome `fenced`).

    `arm` sets the deadline of the tick about to run; a cluster has at most one tick running, so one
    wrapper per cluster holds it."""

    def __init__(self, inner: Actuator) -> None:
        self.inner = inner
        self.deadline: Deadline | None = None

    def arm(self, deadline: Deadline | None) -> None:
        self.deadline = deadline

    def apply(self, plan: Plan, snapshot: ClusterSnapshot) -> tuple[Outcome, ...]:
        outcomes: list[Outcome] = []
        for resize in plan.resizes:
            if self.deadline is not None and self.deadline.passed():
                why = f"tick overran its deadline ({self.deadline.seconds:g}s): a late decision is not written"
                outcomes.append(Outcome(resize.pool_id, OutcomeStatus.FENCED, why))
                continue
            outcomes.extend(self.inner.apply(Plan((resize,)), snapshot))
        return tuple(outcomes)
