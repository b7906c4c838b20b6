"""The tick: collect → evaluate → act → record → report, one log event per cluster, never raising;
and the scheduler: no overlapping ticks, clean stop."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autoscaler.actuator import DryRunActuator
from autoscaler.config import AppConfig, MetricsAuthConfig, MetricsTlsConfig
from autoscaler.daemon import EXIT_NO_PORT, EXIT_STALE, Runner, run
from autoscaler.explain import daemon_access, fetch_daemon
from autoscaler.loop import ClusterDeps, Deps, tick
from autoscaler.memory_codec import decode_states
from autoscaler.metrics import Health, Metrics, MetricsServer
from autoscaler.model import ClusterSnapshot, ControllerMemory
from autoscaler.policy import load_policies
from autoscaler.testing import (
    T0,
    ListLogger,
    RecordingActuator,
    make_cluster_config,
    make_node,
    make_pool,
    make_snapshot,
    metric_value,
)


def _cluster(
    cluster_id: str = "j-TEST",
    collect: Callable[[float], ClusterSnapshot] | None = None,
    actuator: Any = None,
    units: int = 4,
) -> ClusterDeps:
    config = make_cluster_config(cluster_id=cluster_id, policies=[{"type": "static", "options": {"units": units}}])

    def healthy(now: float) -> ClusterSnapshot:
        return make_snapshot(
            cluster_id=cluster_id,
            taken_at=now,
            pools=[make_pool("ig-t", requested=2)],
            nodes=[make_node("h1", containers=3), make_node("h2", containers=3)],
        )

    return ClusterDeps(config, collect or healthy, actuator or RecordingActuator(), load_policies(config.policies))


def _deps(*clusters: ClusterDeps, logger: ListLogger | None = None) -> Deps:
    ids = tuple(c.config.cluster_id for c in clusters)
    return Deps(clusters, Metrics(), Health(30, ids, started_at=T0), logger or ListLogger(), clock=lambda: T0)


def test_tick_acts_on_the_plan_and_reports_once() -> None:
    """A healthy tick applies the plan, logs exactly one tick event with its parts, and marks success."""
    logger, actuator = ListLogger(), RecordingActuator()
    deps = _deps(_cluster(actuator=actuator), logger=logger)
    state = tick(deps, {}, T0)
    assert [r.target.total for p in actuator.calls for r in p.resizes] == [4]
    (event,) = logger.ticks()
    assert event["plan"][0]["target"]["spot"] == 4
    assert event["recommendations"][0]["policy"] == "static"
    assert event["outcomes"] == [{"pool": "ig-t", "status": "applied", "detail": ""}]
    assert event["stale"] is False
    assert event["inputs"]["pools"][0]["requested"] == 2
    assert state["j-TEST"].pool("ig-t").last_scale_up_at == T0
    assert metric_value(deps.metrics, "emr_autoscaler_last_successful_tick_timestamp_seconds", cluster="j-TEST") == T0
    assert deps.health.status(T0 + 1) == (True, "ok")


def test_stale_snapshot_resizes_nothing() -> None:
    """YARN unreachable: no actuator call, stale reasons in the event, stale gauge 1, health not refreshed."""
    logger, actuator = ListLogger(), RecordingActuator()

    def yarn_down(now: float) -> ClusterSnapshot:
        return make_snapshot(taken_at=now, yarn=None, pools=[make_pool("ig-t", requested=2)])

    deps = _deps(_cluster(collect=yarn_down, actuator=actuator), logger=logger)
    tick(deps, {}, T0)
    assert actuator.calls == []
    (event,) = logger.ticks()
    assert event["stale"] is True
    assert event["stale_reasons"]
    assert metric_value(deps.metrics, "emr_autoscaler_snapshot_stale", cluster="j-TEST") == 1
    assert metric_value(deps.metrics, "emr_autoscaler_ticks_total", cluster="j-TEST", outcome="stale") == 1
    assert "j-TEST" not in deps.health.last_success


def test_tick_survives_a_failing_source_and_keeps_memory() -> None:
    """An exception while collecting ends the tick with one error event, a count, and the old memory."""
    logger = ListLogger()

    def broken(now: float) -> ClusterSnapshot:
        raise RuntimeError("boom")

    deps = _deps(_cluster(collect=broken), logger=logger)
    before = ControllerMemory()
    state = tick(deps, {"j-TEST": before}, T0)
    assert state["j-TEST"] is before
    ((level, event, fields),) = logger.events
    assert (level, event) == ("error", "tick")
    assert fields["error"] == "RuntimeError: boom"
    assert metric_value(deps.metrics, "emr_autoscaler_ticks_total", cluster="j-TEST", outcome="error") == 1
    assert "boom" in deps.health.last_problem["j-TEST"]


def test_failing_actuator_does_not_stop_other_clusters() -> None:
    """One cluster's actuator raising leaves the other cluster's tick intact."""
    logger = ListLogger()
    good = RecordingActuator()
    deps = _deps(
        _cluster("j-BAD", actuator=RecordingActuator(error=ConnectionError("reset"))),
        _cluster("j-GOOD", actuator=good),
        logger=logger,
    )
    tick(deps, {}, T0)
    assert len(good.calls) == 1
    events = {e["cluster"]: e for e in logger.ticks()}
    assert set(events) == {"j-BAD", "j-GOOD"}
    assert "reset" in events["j-BAD"]["error"]
    assert events["j-BAD"]["plan"], "the plan that was about to be applied is in the event"
    assert "error" not in events["j-GOOD"]


def test_dry_run_tick_writes_nothing_and_says_what_it_would_do() -> None:
    """With the dry-run actuator the outcome is dry_run and names the ModifyInstanceGroups request."""
    logger = ListLogger()
    deps = _deps(_cluster(actuator=DryRunActuator("j-TEST")), logger=logger)
    tick(deps, {}, T0)
    (event,) = logger.ticks()
    (outcome,) = event["outcomes"]
    assert outcome["status"] == "dry_run"
    assert '"InstanceCount":4' in outcome["detail"]


def test_scheduler_never_overlaps_ticks_and_stops_cleanly() -> None:
    """Ticks slower than the interval never run concurrently; setting stop ends run() with 0."""
    running, overlaps, ticks = [0], [0], [0]
    lock = threading.Lock()

    def slow(now: float) -> ClusterSnapshot:
        with lock:
            running[0] += 1
            overlaps[0] += running[0] > 1
        time.sleep(0.15)
        with lock:
            running[0] -= 1
            ticks[0] += 1
        return make_snapshot(taken_at=now, pools=[make_pool("ig-t", requested=2)])

    deps = _deps(_cluster(collect=slow))
    settings = AppConfig.model_validate(
        {"poll_interval_s": 0.05, "metrics_port": 0, "clusters": [deps.clusters[0].config.model_dump()]}
    )
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(run(settings, deps, stop=stop)))
    thread.start()
    deadline = time.monotonic() + 5
    while ticks[0] < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    thread.join(timeout=5)
    assert result == [0]
    assert ticks[0] >= 3
    assert overlaps[0] == 0
    assert running[0] == 0, "shutdown waited for the running tick"


def test_runner_carries_memory_between_ticks() -> None:
    """State returned by one tick is the input of the next (cooldown starts after the first resize)."""
    actuator = RecordingActuator()
    runner = Runner(_deps(_cluster(actuator=actuator)))
    runner.step()
    runner.step()
    assert runner.ticks == 2
    assert len(actuator.calls) == 1, "the second tick is inside the scale-up cooldown the first one started"


def test_a_busy_metrics_port_stops_the_daemon_with_one_clear_event() -> None:
    """run() on a port already in use returns EXIT_NO_PORT and logs why, without a traceback or a tick."""
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        logger = ListLogger()
        deps = _deps(_cluster(), logger=logger)
        settings = AppConfig.model_validate({"metrics_port": port, "clusters": [deps.clusters[0].config.model_dump()]})
        assert run(settings, deps, once=True) == EXIT_NO_PORT != 0
    ((level, event, fields),) = logger.events
    assert (level, event) == ("error", "startup_failed")
    assert f"metrics_port {port}" in fields["error"]
    assert logger.ticks() == []


def _settings(deps: Deps, metrics_port: int = 0) -> AppConfig:
    return AppConfig.model_validate(
        {"metrics_port": metrics_port, "clusters": [c.config.model_dump() for c in deps.clusters]}
    )


def _yarn_down(now: float) -> ClusterSnapshot:
    return make_snapshot(taken_at=now, yarn=None, pools=[make_pool("ig-t", requested=2)])


def test_run_once_exits_3_on_a_stale_snapshot() -> None:
    """`run --once` on stale data decided nothing: a script must see that in the exit status."""
    stale = _deps(_cluster(collect=_yarn_down))
    assert run(_settings(stale), stale, once=True) == EXIT_STALE == 3
    fresh = _deps(_cluster())
    assert run(_settings(fresh), fresh, once=True) == 0


def test_the_board_holds_what_the_next_tick_will_start_from() -> None:
    """/debug/decision's document: each cluster's memory after its tick (what the next tick starts
    from, so what `explain` must evaluate with) and that tick's decision."""
    deps = _deps(_cluster())
    state = tick(deps, {}, T0)
    (posted,) = decode_states(json.loads(json.dumps(deps.board.document()))).values()
    assert posted.memory == state["j-TEST"]
    assert posted.last_decision is not None
    assert posted.last_decision.taken_at == T0
    assert [dict(r) for r in posted.last_decision.plan] == [
        {"pool": "ig-t", "current": 2, "target": 4, "reason": "static: static size: 4 units"}
    ]
    assert [dict(o)["status"] for o in posted.last_decision.outcomes] == ["applied"]


def test_the_daemon_serves_its_memory_to_explain_over_http() -> None:
    """`explain --daemon URL` reads the memory the running daemon holds, over its metrics server."""
    deps = _deps(_cluster())
    state = tick(deps, {}, T0)
    server = MetricsServer(deps.metrics, deps.health, deps.clock, "127.0.0.1", 0, debug=deps.board.document)
    try:
        view = fetch_daemon(f"http://127.0.0.1:{server.port}")
    finally:
        server.close()
    assert view.error is None
    assert view.memory("j-TEST") == state["j-TEST"]
    assert view.why_unknown("j-TEST") is None
    assert view.why_unknown("j-OTHER") is not None


def test_explain_reaches_a_daemon_behind_tls_and_basic_auth_from_the_config(
    tmp_path: Path, tls_cert: tuple[ssl.SSLContext, Path]
) -> None:
    """`explain` on the daemon's host needs no flags: URL scheme, certificate and password come from
    the same config the daemon runs with; a wrong password is unknown memory, never a crash."""
    context, cert = tls_cert
    deps = _deps(_cluster())
    state = tick(deps, {}, T0)
    server = MetricsServer(
        deps.metrics, deps.health, deps.clock, "127.0.0.1", 0, debug=deps.board.document,
        tls=context, auth=("prom", "s3cret"),
    )  # fmt: skip
    password = tmp_path / "password"
    try:
        settings = _settings(deps).model_copy(
            update={
                "metrics_port": server.port,
                "metrics_tls": MetricsTlsConfig(cert_file=str(cert)),
                "metrics_basic_auth": MetricsAuthConfig(username="prom", password_file=str(password)),
            }
        )
        password.write_text("s3cret\n")
        access = daemon_access(settings)
        assert access.url == f"https://127.0.0.1:{server.port}"
        assert fetch_daemon(access).memory("j-TEST") == state["j-TEST"]
        password.write_text("guess\n")
        refused = fetch_daemon(daemon_access(settings))
        assert refused.error is not None
        assert "401" in refused.error
        assert daemon_access(settings, "none").url is None
    finally:
        server.close()
