"""Cluster isolation on the worker pool: a hung, slow or failing cluster never delays or stops another;
an overrunning tick is reported, is not started again while it runs, and writes nothing once late."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from autoscaler.daemon import Runner
from autoscaler.ha import Leadership
from autoscaler.loop import ClusterDeps, Deps
from autoscaler.memory_codec import ControllerState
from autoscaler.metrics import Health, Metrics
from autoscaler.model import ClusterSnapshot
from autoscaler.policy import load_policies
from autoscaler.testing import (
    ListLogger,
    RecordingActuator,
    make_cluster_config,
    make_node,
    make_pool,
    make_snapshot,
    metric_value,
)


def _healthy(cluster_id: str) -> Callable[[float], ClusterSnapshot]:
    def collect(now: float) -> ClusterSnapshot:
        return make_snapshot(
            cluster_id=cluster_id,
            taken_at=now,
            pools=[make_pool("ig-t", requested=2)],
            nodes=[make_node("h1", containers=3), make_node("h2", containers=3)],
        )

    return collect


def _cluster(cid: str, collect: Callable[[float], ClusterSnapshot] | None = None) -> ClusterDeps:
    config = make_cluster_config(
        cluster_id=cid,
        policies=[{"type": "static", "options": {"units": 4}}],
        guards={"cooldown_up_s": 0, "cooldown_down_s": 0},
    )
    return ClusterDeps(config, collect or _healthy(cid), RecordingActuator(), load_policies(config.policies))


def _hung(cid: str, release: threading.Event, entered: threading.Event) -> Callable[[float], ClusterSnapshot]:
    """A YARN that answers only when `release` is set (then with a snapshot that wants a resize)."""

    def collect(now: float) -> ClusterSnapshot:
        entered.set()
        release.wait(10)
        return _healthy(cid)(now)

    return collect


def _deps(*clusters: ClusterDeps, workers: int = 4, deadline_s: float = 0.3) -> Deps:
    ids = tuple(c.config.cluster_id for c in clusters)
    return Deps(
        clusters,
        Metrics(),
        Health(1, ids, started_at=time.time()),
        ListLogger(),
        clock=time.time,
        max_concurrent_clusters=workers,
        tick_deadline_s=deadline_s,
    )


def _log(deps: Deps) -> ListLogger:
    assert isinstance(deps.logger, ListLogger)
    return deps.logger


def _ticks(deps: Deps, cid: str) -> list[dict[str, Any]]:
    return [t for t in _log(deps).ticks() if t.get("cluster") == cid]


def test_a_hung_cluster_neither_delays_nor_stops_the_others_and_its_late_tick_writes_nothing() -> None:
    release, entered = threading.Event(), threading.Event()
    slow, fast = _cluster("j-SLOW", _hung("j-SLOW", release, entered)), _cluster("j-FAST")
    deps = _deps(slow, fast, deadline_s=0.3)
    runner = Runner(deps)
    try:
        started = time.monotonic()
        runner.step()
        first_round_s = time.monotonic() - started
        assert entered.is_set()
        assert first_round_s < 2.0, "the round waited for the hung cluster beyond its deadline"
        assert len(_ticks(deps, "j-FAST")) == 1
        assert [e["cluster"] for e in _log(deps).named("tick_overrun")] == ["j-SLOW"]
        assert metric_value(deps.metrics, "emr_autoscaler_tick_overruns_total", cluster="j-SLOW") == 1
        assert "deadline" in deps.health.last_problem["j-SLOW"]

        runner.step()  # j-SLOW's first tick is still running: not started again
        skipped = _log(deps).named("tick_skipped")
        assert [(e["cluster"], e["reason"]) for e in skipped] == [("j-SLOW", "still_running")]
        assert metric_value(
            deps.metrics, "emr_autoscaler_ticks_skipped_total", cluster="j-SLOW", reason="still_running"
        )
        assert len(_ticks(deps, "j-FAST")) == 2

        release.set()  # the late tick now decides to resize: past its deadline, nothing is written
        assert _wait(lambda: "j-SLOW" not in runner.workers.running())
        (late,) = _ticks(deps, "j-SLOW")
        assert [o["status"] for o in late["outcomes"]] == ["fenced"]
        assert "deadline" in late["outcomes"][0]["detail"]
        assert isinstance(slow.actuator, RecordingActuator)
        assert slow.actuator.calls == []

        runner.step()  # ticked again once its tick ended, and on time it writes
        (_, again) = _ticks(deps, "j-SLOW")
        assert [o["status"] for o in again["outcomes"]] == ["applied"]
    finally:
        release.set()
        runner.close()


def test_an_exception_in_one_cluster_does_not_stop_the_others() -> None:
    def broken(now: float) -> ClusterSnapshot:
        raise RuntimeError("boom")

    deps = _deps(_cluster("j-BROKEN", broken), _cluster("j-OK"))
    runner = Runner(deps)
    try:
        runner.step()
        runner.step()
    finally:
        runner.close()
    assert [t["error"] for t in _ticks(deps, "j-BROKEN")] == ["RuntimeError: boom"] * 2
    assert len(_ticks(deps, "j-OK")) == 2
    assert "j-OK" in deps.health.last_success


def test_a_tick_with_no_free_worker_before_the_deadline_is_skipped_not_queued() -> None:
    """One worker held by a hung cluster: the other's tick would start late, so it does not start."""
    release, entered = threading.Event(), threading.Event()
    deps = _deps(_cluster("j-HUNG", _hung("j-HUNG", release, entered)), _cluster("j-WAITING"), workers=1)
    runner = Runner(deps)
    try:
        runner.step()
        skipped = _log(deps).named("tick_skipped")
        assert [(e["cluster"], e["reason"]) for e in skipped] == [("j-WAITING", "no_worker")]
        assert _ticks(deps, "j-WAITING") == []
        assert "max_concurrent_clusters" in deps.health.last_problem["j-WAITING"]
    finally:
        release.set()
        runner.close()


def test_clusters_tick_in_parallel_up_to_the_pool_size() -> None:
    """Four clusters whose YARN takes 0.2 s each: a round on four workers takes about one of them."""

    def slow(cid: str) -> Callable[[float], ClusterSnapshot]:
        def collect(now: float) -> ClusterSnapshot:
            time.sleep(0.2)
            return _healthy(cid)(now)

        return collect

    deps = _deps(*(_cluster(f"j-C{i}", slow(f"j-C{i}")) for i in range(4)), workers=4, deadline_s=2.0)
    runner = Runner(deps)
    try:
        started = time.monotonic()
        runner.step()
        took = time.monotonic() - started
    finally:
        runner.close()
    assert len(_log(deps).ticks()) == 4
    assert took < 0.6, f"a round of four 0.2 s ticks took {took:.2f}s: not in parallel"
    lags = [t["lag_s"] for t in _log(deps).ticks()]
    assert all(isinstance(lag, float) and lag < 0.5 for lag in lags)


def _wait(predicate: Callable[[], bool], timeout: float = 10) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


class _HeldElsewhere:
    """A lease another replica holds: every tick of this cluster is a standby's."""

    def begin(self, now: float) -> Leadership:
        return Leadership(False, detail="held by replica-9")

    def fence(self) -> str | None:
        return "not ours"

    def end(self, state: ControllerState) -> None:
        raise AssertionError("a standby saves nothing")

    def release(self) -> None:
        return None

    def leads(self) -> bool:
        return False


def test_the_clusters_a_replica_leads_are_dispatched_before_its_standby_ones() -> None:
    """With one worker the order of dispatch is the order of ticks: the led cluster, listed last, goes first."""
    standby = replace(_cluster("j-STANDBY"), lease=_HeldElsewhere())
    deps = _deps(standby, _cluster("j-LED"), workers=1, deadline_s=5)
    runner = Runner(deps)
    try:
        runner.step()
    finally:
        runner.close()
    order = [(name, fields["cluster"]) for _, name, fields in _log(deps).events if name in ("tick", "standby")]
    assert order == [("tick", "j-LED"), ("standby", "j-STANDBY")]
