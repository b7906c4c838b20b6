"""The daemon's process: APScheduler fires a round every `poll_interval_s`, and each round ticks every
cluster (`loop.tick_one`) on a bounded worker pool (`autoscaler.workers`), so one slow, hung or
failing cluster never delays or stops another.

A round ends at its deadline (`cluster_tick_deadline_s`), whatever is still running: the clusters
that overran are reported (`tick_overrun` event, `tick_overruns_total`, a `/readyz` problem), can no
longer resize, and are not ticked again until their tick ends (`tick_skipped`, reason still_running).
A late tick's memory is still kept when it ends: it says what that tick really did (a write in flight
at the deadline may have been applied), and the next tick starts from it.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from types import FrameType, MappingProxyType

from apscheduler.schedulers.background import BackgroundScheduler

from autoscaler.clockwatch import ClockWatch
from autoscaler.config import AppConfig, ClusterConfig
from autoscaler.exits import EXIT_NO_PORT, EXIT_STALE
from autoscaler.loop import ClusterDeps, Deps, State, tick_one
from autoscaler.metrics import MetricsServer
from autoscaler.metrics_server import server_security
from autoscaler.model import ControllerMemory
from autoscaler.workers import ClusterWorkers, Deadline, DeadlineActuator, Round

__all__ = ["EXIT_NO_PORT", "EXIT_STALE", "Runner", "run"]


class Runner:
    """The memory of every cluster between rounds, and the worker pool; APScheduler runs at most one
    `step` at a time."""

    def __init__(self, deps: Deps, state: State | None = None, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.deps = deps
        self.ticks = 0
        self.clock_watch = ClockWatch(deps.clock, monotonic)
        self._offset = 0.0  # the wall-clock steps seen so far, summed
        self.workers = ClusterWorkers(deps.max_concurrent_clusters, deps.tick_deadline_s)
        self._lock = threading.Lock()
        self._memory: dict[str, ControllerMemory] = dict(state or {})
        # each cluster's deps with its actuator behind the deadline, built once per ClusterDeps
        self._guarded: dict[str, tuple[ClusterDeps, ClusterDeps, DeadlineActuator]] = {}
        self._beats = ThreadPoolExecutor(max_workers=1, thread_name_prefix="heartbeat")
        self._beat: Future[None] | None = None

    @property
    def state(self) -> State:
        with self._lock:
            return MappingProxyType(dict(self._memory))

    def clusters(self) -> tuple[ClusterDeps, ...]:
        """The configured clusters, then the discovered ones not also configured."""
        listed = self.deps.clusters
        if self.deps.discovery is None:
            return listed
        ids = {c.config.cluster_id for c in listed}
        return listed + tuple(c for c in self.deps.discovery.clusters() if c.config.cluster_id not in ids)

    def step(self) -> None:
        clusters = self.clusters()
        self.deps.health.clusters = tuple(c.config.cluster_id for c in clusters)
        if self.deps.spread is not None and (self._beat is None or self._beat.done()):
            # HA: heartbeat and fair share in their own thread: a slow lease table delays no round
            self._beat = self._beats.submit(self._spread, [c.config for c in clusters])
            if self.ticks == 0:  # the first round knows its share, unless the table is slow to answer
                wait([self._beat], timeout=self.deps.tick_deadline_s)
        # the clusters this replica leads first: a standby's tick (one lease read) must not queue ahead of
        # a tick that can act (HA: each replica ticks every cluster, most of them as a standby)
        ordered = sorted(clusters, key=lambda c: c.lease is not None and not c.lease.leads())
        jobs = {c.config.cluster_id: partial(self._job, *self._guard(c)) for c in ordered}
        self._report(self.workers.run_round(jobs))
        self.ticks += 1

    def _now(self) -> tuple[float, float]:
        """(the wall time for a tick, the clock offset its memory is on); call holding `_lock`.

        After a wall-clock step every timer moves with the clock (memory, health), so a cooldown or a
        back-off lasts its real length: never cut short by a forward step, never stretched by a backward
        one. The same reading gives the tick its time, so no tick decides on a stepped clock with
        unmoved timers; a tick that began before the step has its memory moved when it ends."""
        now, step = self.clock_watch.read()
        if step:
            self._offset += step
            self._memory = {cid: memory.shifted(step) for cid, memory in self._memory.items()}
            self.deps.health.shift(step)
            self.deps.logger.warning(
                "clock_jump",
                seconds=round(step, 3),
                detail="the wall clock stepped; cooldowns, back-offs and confirmations keep their real length",
            )
        return now, self._offset

    def _spread(self, clusters: list[ClusterConfig]) -> None:
        assert self.deps.spread is not None
        try:
            self.deps.spread(clusters)
        except Exception as err:  # a bug here must not stop the ticks; the leases stay safe without it
            self.deps.logger.error("replica_heartbeat_failed", error=f"{type(err).__name__}: {err}")

    def _guard(self, cluster: ClusterDeps) -> tuple[ClusterDeps, DeadlineActuator]:
        cid = cluster.config.cluster_id
        known = self._guarded.get(cid)
        if known is None or known[0] is not cluster:
            actuator = DeadlineActuator(cluster.actuator)
            known = self._guarded[cid] = (cluster, replace(cluster, actuator=actuator), actuator)
        return known[1], known[2]

    def _job(self, cluster: ClusterDeps, actuator: DeadlineActuator, deadline: Deadline, lag_s: float) -> None:
        cid = cluster.config.cluster_id
        actuator.arm(deadline)
        self.deps.metrics.clusters.tick_lag_seconds.observe(lag_s)
        with self._lock:
            now, offset = self._now()
            memory = self._memory.get(cid, ControllerMemory())
        after = tick_one(self.deps, cluster, memory, now, lag_s=lag_s)
        with self._lock:
            self._memory[cid] = after.shifted(self._offset - offset) if self._offset != offset else after

    def _report(self, done: Round) -> None:
        deps, now = self.deps, self.deps.clock()
        deps.metrics.clusters.record_round(done.overrun, still_running=done.busy, no_worker=done.not_started)
        deadline = deps.tick_deadline_s
        for cid in done.overrun:
            why = f"tick still running at its round's deadline ({deadline:g}s): it can no longer resize"
            deps.logger.error("tick_overrun", cluster=cid, deadline_s=deadline, detail=why)
            deps.health.problem(cid, why, now)
        for cid, reason, why in _skips(done.busy, done.not_started, deadline):
            deps.logger.warning("tick_skipped", cluster=cid, reason=reason, detail=why)
            deps.health.problem(cid, why)
        for cid, err in done.errors.items():  # tick_one never raises: a bug, reported, never fatal
            deps.logger.error("tick", cluster=cid, error=f"{type(err).__name__}: {err}")
            deps.health.problem(cid, str(err), now)

    def close(self) -> None:
        self.workers.shutdown()
        self._beats.shutdown(wait=True, cancel_futures=True)


def _skips(busy: Iterable[str], not_started: Iterable[str], deadline: float) -> list[tuple[str, str, str]]:
    return [(cid, "still_running", "not ticked: its previous tick is still running") for cid in busy] + [
        (cid, "no_worker", f"not ticked: no worker free within the round's {deadline:g}s (max_concurrent_clusters)")
        for cid in not_started
    ]


def run(settings: AppConfig, deps: Deps, *, once: bool = False, stop: threading.Event | None = None) -> int:
    """Tick every `poll_interval_s` until SIGTERM/SIGINT (or `stop`); `once` runs one round.

    Returns 0; EXIT_STALE when `once` ticked on a stale snapshot; or EXIT_NO_PORT (one
    `startup_failed` event, no tick) when `metrics_port` cannot be bound: a daemon nobody can scrape
    or health-check must not run unseen."""
    try:
        server = (
            MetricsServer(
                deps.metrics,
                deps.health,
                deps.clock,
                settings.metrics_bind_address,
                settings.metrics_port,
                debug=deps.board.document,
                **server_security(settings),
            )
            if settings.metrics_port
            else None
        )
    except OSError as err:
        deps.logger.error(
            "startup_failed", error=f"metrics_port {settings.metrics_port}: {err.strerror or err}", ticks=0
        )
        return EXIT_NO_PORT
    runner = Runner(deps)
    try:
        if deps.discovery is not None:
            deps.discovery.scan()  # the first round already ticks what is found
        if once:
            runner.step()
            runner.close()
            return EXIT_STALE if deps.board.any_stale() else 0
        _serve(settings, deps, runner, stop or threading.Event(), server.port if server else None)
        return 0
    finally:
        runner.close()
        for cluster in runner.clusters():
            if cluster.recorder is not None:
                cluster.recorder.close()  # what is queued is written (bounded wait), then the file closed
        if server is not None:
            server.close()


def _serve(settings: AppConfig, deps: Deps, runner: Runner, stop: threading.Event, port: int | None) -> None:
    _install_signal_handlers(stop, deps)
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        runner.step,
        "interval",
        seconds=settings.poll_interval_s,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=max(1, int(settings.poll_interval_s)),
        next_run_time=datetime.now(UTC),  # first tick at once, not one interval later
        id="tick",
    )
    if deps.discovery is not None:
        interval = deps.discovery.interval_s
        scheduler.add_job(deps.discovery.scan, "interval", seconds=interval, max_instances=1, coalesce=True, id="scan")
    deps.logger.info(
        "started",
        clusters=[c.config.cluster_id for c in runner.clusters()],
        dry_run=deps.dry_run,
        poll_interval_s=settings.poll_interval_s,
        max_concurrent_clusters=deps.max_concurrent_clusters,
        cluster_tick_deadline_s=deps.tick_deadline_s,
        metrics_port=port,
    )
    scheduler.start()
    _wake_on_clock_steps(scheduler, settings.poll_interval_s, stop, deps.clock)
    scheduler.shutdown(wait=True)  # let a running round finish
    runner.close()  # and the ticks still running past its deadline: never leave a write half-reported
    for cluster in runner.clusters():
        if cluster.lease is not None:
            cluster.lease.release()  # HA: a standby takes over at its next tick, not after expiry
    deps.logger.info("stopped", ticks=runner.ticks)


def _wake_on_clock_steps(
    scheduler: BackgroundScheduler, every_s: float, stop: threading.Event, wall: Callable[[], float]
) -> None:
    """Until `stop`: when the wall clock steps, run the jobs now and reschedule them from there.

    APScheduler schedules on the wall clock: after a backward step it would sleep until the clock
    caught up with the next run it had planned (a day's step, a day without ticks, and `/livez` still
    green), and after a forward step it would first count every run it missed."""
    watch = ClockWatch(wall)
    while not stop.wait(every_s):
        if watch.step():
            for job in scheduler.get_jobs():
                job.modify(next_run_time=datetime.now(UTC))


def _install_signal_handlers(stop: threading.Event, deps: Deps) -> None:
    if threading.current_thread() is not threading.main_thread():
        return  # signals can only be handled on the main thread (e.g. when embedded in tests)

    def handle(signum: int, _frame: FrameType | None) -> None:
        deps.logger.info("stopping", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
