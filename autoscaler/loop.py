"""A cluster's tick as the daemon runs it, and what the ticks share (`Deps`).

`autoscaler.daemon` runs `tick_one` for every cluster on a worker pool each poll interval; `tick`
runs one round in the calling thread (tests, benchmarks). A cluster's tick: collect →
`tick.run_tick` (evaluate → act → record) → report (metrics, one `tick` log event, and the cluster's
memory and last decision on the `DecisionBoard` that `/debug/decision` serves to `explain`). A tick
never raises: an unexpected error is logged, counted, and ends that cluster's tick without a resize;
the next tick starts again from the real cluster.

Restart: controller memory starts empty and the cluster's real state is re-read, so nothing from
before the restart is trusted. A pool still RESIZING from an earlier write is busy (a guardrail
rejects any write to it until EMR settles), a scale-in needs its confirmations counted again from
zero (so a restart can only delay a scale-in, never hasten it), and the scale-up cooldown is not
carried over: after a restart the daemon may add capacity at once, the safe direction. With
`ha.memory_file` (one replica) or `ha.lease_table` (replicas) memory is restored instead: a cluster's
tick then runs inside `ha.leased_tick`, only on the lease holder, its writes fenced.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

from autoscaler.actuation import Actuator
from autoscaler.config import ClusterConfig
from autoscaler.exits import EXIT_NO_PORT, EXIT_STALE  # noqa: F401 - still importable from here (CHANGELOG)
from autoscaler.ha import ClusterLease, Leadership, leased_tick
from autoscaler.logs import EventLogger, tick_event
from autoscaler.memory_codec import ControllerState, DecisionSummary, encode_states, summarize
from autoscaler.metrics import Health, Metrics
from autoscaler.model import ClusterSnapshot, ControllerMemory, Decision, Outcome
from autoscaler.policy import Policy
from autoscaler.record_codec import TickRecord
from autoscaler.recorder import Recorder
from autoscaler.shadow import ShadowResult, Shadows
from autoscaler.tick import ActuatorFailed, run_tick

#: Controller memory per cluster id, carried from one tick to the next.
State = Mapping[str, ControllerMemory]


@dataclass(frozen=True)
class ClusterDeps:
    config: ClusterConfig
    collect: Callable[[float], ClusterSnapshot]  # never raises; failed sources make it stale
    actuator: Actuator
    policies: tuple[Policy, ...]
    lease: ClusterLease | None = None  # HA: tick only as the lease holder (autoscaler/ha.py)
    shadows: Shadows = field(default_factory=lambda: Shadows(()))  # evaluated beside, never acting
    recorder: Recorder | None = None  # record_dir: every tick's snapshot and decision, never blocking


class ClusterSource(Protocol):
    """Clusters found at run time (`autoscaler.discovery`): `scan` every `interval_s`, never raising."""

    interval_s: float

    def scan(self) -> None: ...

    def clusters(self) -> tuple[ClusterDeps, ...]: ...


class DecisionBoard:
    """Each cluster's memory and last decision after its latest tick, for `/debug/decision`.

    Written by the tick thread, read by the HTTP thread: one lock, whole values swapped."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, ControllerState] = {}
        self._stale: dict[str, bool] = {}

    def post(self, state: ControllerState, *, stale: bool) -> None:
        with self._lock:
            self._states[state.cluster_id] = state
            self._stale[state.cluster_id] = stale

    def document(self) -> Mapping[str, object]:
        with self._lock:
            states = list(self._states.values())
        return encode_states(states)

    def last_decision(self, cluster_id: str) -> DecisionSummary | None:
        with self._lock:
            state = self._states.get(cluster_id)
        return state.last_decision if state is not None else None

    def any_stale(self) -> bool:
        with self._lock:
            return any(self._stale.values())


@dataclass(frozen=True)
class Deps:
    clusters: tuple[ClusterDeps, ...]
    metrics: Metrics
    health: Health
    logger: EventLogger
    clock: Callable[[], float] = time.time
    dry_run: bool = True
    board: DecisionBoard = field(default_factory=DecisionBoard)
    max_concurrent_clusters: int = 8  # the worker pool (autoscaler.daemon)
    tick_deadline_s: float = 24.0  # a round's deadline: config cluster_tick_deadline_s
    discovery: ClusterSource | None = None  # clusters found by tag, ticked beside `clusters`
    spread: Callable[[Sequence[ClusterConfig]], None] | None = None  # HA: heartbeat and fair share, per round


def tick(deps: Deps, state: State, now: float) -> State:
    """One tick for every cluster, one after another in this thread; returns the new state. Never raises."""
    return MappingProxyType(
        {
            c.config.cluster_id: tick_one(deps, c, state.get(c.config.cluster_id, ControllerMemory()), now)
            for c in deps.clusters
        }
    )


def tick_one(
    deps: Deps, cluster: ClusterDeps, memory: ControllerMemory, now: float, *, lag_s: float | None = None
) -> ControllerMemory:
    """The cluster's tick, inside its lease when it has one (HA); `lag_s` (the wait for a worker) is
    reported in its `tick` event."""
    if cluster.lease is None:
        return tick_cluster(deps, cluster, memory, now, lag_s=lag_s)
    cid = cluster.config.cluster_id
    return leased_tick(
        cid,
        cluster.lease,
        memory,
        now,
        run=lambda start: tick_cluster(deps, cluster, start, now, lag_s=lag_s),
        state_of=lambda after: ControllerState(cid, after, deps.board.last_decision(cid)),
        logger=deps.logger,
        on_lease=lambda held: _lease_seen(deps, cid, held, now),
    )


def _lease_seen(deps: Deps, cid: str, held: Leadership, now: float) -> None:
    deps.metrics.set_lease_held(cid, held.leader)
    if held.error:
        deps.health.problem(cid, f"lease: {held.detail}", now)
    elif not held.leader:
        deps.health.success(cid, now)  # a standby is healthy: ready to take over, never restarted


def tick_cluster(
    deps: Deps, cluster: ClusterDeps, memory: ControllerMemory, now: float, *, lag_s: float | None = None
) -> ControllerMemory:
    cid, started = cluster.config.cluster_id, time.perf_counter()
    lag = {} if lag_s is None else {"lag_s": round(lag_s, 4)}
    snapshot: ClusterSnapshot | None = None
    decision: Decision | None = None
    outcomes: tuple[Outcome, ...] = ()
    try:
        snapshot = cluster.collect(now)
        deps.metrics.record_snapshot(snapshot)
        result = run_tick(snapshot, memory, cluster.policies, cluster.config, cluster.actuator, now=now)
        decision, outcomes = result.decision, result.outcomes
        deps.metrics.record_decision(snapshot, decision, outcomes)
        deps.board.post(ControllerState(cid, result.memory, summarize(decision, outcomes)), stale=snapshot.stale)
        _shadows(deps, cluster, snapshot)
    except Exception as err:  # the loop must survive any bug in a source, policy or actuator
        seconds = time.perf_counter() - started
        if isinstance(err, ActuatorFailed):
            decision, error = err.decision, str(err)
        else:
            error = f"{type(err).__name__}: {err}"
        deps.metrics.record_tick(cid, "error", seconds, now)
        deps.health.problem(cid, error, now)
        fields = (
            tick_event(snapshot, decision, outcomes, dry_run=deps.dry_run, seconds=seconds, error=error)
            if snapshot is not None
            else {"cluster": cid, "dry_run": deps.dry_run, "duration_s": round(seconds, 4), "error": error}
        )
        deps.logger.error("tick", **fields, **lag, exc_info=True)
        _record(cluster, snapshot, decision, outcomes, now, error)
        return memory
    seconds = time.perf_counter() - started
    outcome = "stale" if snapshot.stale else "ok"
    deps.metrics.record_tick(cid, outcome, seconds, now)
    if snapshot.stale:
        deps.health.problem(cid, "stale snapshot: " + "; ".join(snapshot.stale_reasons), now)
    else:
        deps.health.success(cid, now)
    deps.logger.info("tick", **tick_event(snapshot, decision, outcomes, dry_run=deps.dry_run, seconds=seconds), **lag)
    _record(cluster, snapshot, decision, outcomes, now)
    return result.memory


def _record(  # noqa: PLR0917 - the tick's own values, in the order tick_cluster has them
    cluster: ClusterDeps,
    snapshot: ClusterSnapshot | None,
    decision: Decision | None,
    outcomes: tuple[Outcome, ...],
    now: float,
    error: str | None = None,
) -> None:
    """Hand the tick to the cluster's recorder (a queue put: it never blocks or raises)."""
    if cluster.recorder is None or snapshot is None:
        return
    if decision is None:
        cluster.recorder.submit(TickRecord(now, snapshot, outcomes=outcomes, error=error))
    else:
        plan, recs, rejections = decision.plan, decision.recommendations, decision.rejections
        cluster.recorder.submit(TickRecord(now, snapshot, recs, rejections, plan, outcomes, error))


def _shadows(deps: Deps, cluster: ClusterDeps, snapshot: ClusterSnapshot) -> None:
    """Shadow policies, after the live decision is made, applied and reported; never raises into the tick."""
    if not cluster.shadows:
        return
    try:
        results = cluster.shadows.evaluate(snapshot, cluster.config)
        deps.metrics.record_shadows(snapshot, results)
    except Exception as err:  # a shadow (or its reporting) never turns a live tick into an error
        results = [ShadowResult(name, error=f"{type(err).__name__}: {err}") for name in cluster.shadows.names]
    for r in results:
        if r.error is not None:
            deps.logger.warning("shadow_error", cluster=cluster.config.cluster_id, policy=r.name, error=r.error)
