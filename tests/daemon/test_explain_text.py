"""explain's text says "unknown" for YARN values the RM did not report, never "None", and says where its
controller memory came from: the daemon, or nowhere (then cooldowns and confirmations are unknown)."""

from __future__ import annotations

import socket
from types import MappingProxyType

import pytest

from autoscaler.cli import explain_data, explain_text
from autoscaler.engine import evaluate
from autoscaler.explain import DaemonView, fetch_daemon
from autoscaler.memory_codec import ControllerState, DecisionSummary
from autoscaler.model import ControllerMemory, YarnMetrics
from autoscaler.testing import T0, Wants, make_cluster_config, make_snapshot


def _yarn_line(yarn: YarnMetrics) -> str:
    snapshot = make_snapshot(yarn=yarn)
    decision = evaluate(snapshot, ControllerMemory(), [Wants(name="quiet")], make_cluster_config())
    return next(line for line in explain_text(snapshot, decision, []).splitlines() if line.startswith("  yarn:"))


def test_missing_vcores_print_unknown() -> None:
    """An RM that omits vcores: the line says "unknown vcores", and a reported 0 stays 0."""
    line = _yarn_line(YarnMetrics(pending_mb=2048, available_mb=0, total_mb=8192, active_nodes=2, apps_pending=0))
    assert line == (
        "  yarn: pending 2048 MB / unknown vcores, available 0 MB / unknown vcores, 2 active nodes, 0 apps pending"
    )
    assert "None" not in line


def test_reported_values_print_as_numbers() -> None:
    """Every value reported: numbers only, no "unknown"."""
    yarn = YarnMetrics(
        pending_mb=1024, pending_vcores=1, available_mb=4096, available_vcores=3, active_nodes=1, apps_pending=2
    )
    line = _yarn_line(yarn)
    assert line == "  yarn: pending 1024 MB / 1 vcores, available 4096 MB / 3 vcores, 1 active nodes, 2 apps pending"


def _explained(view: DaemonView | None) -> tuple[str, dict[str, object]]:
    snapshot = make_snapshot()
    decision = evaluate(
        snapshot,
        view.memory(snapshot.cluster_id) if view else ControllerMemory(),
        [Wants(name="quiet")],
        make_cluster_config(),
    )
    return explain_text(snapshot, decision, [], view), explain_data(snapshot, decision, [], view)


@pytest.mark.parametrize(
    ("view", "why"),
    [
        (None, "no daemon to ask"),
        (DaemonView("http://127.0.0.1:9"), "has not ticked cluster"),
        (
            DaemonView("http://127.0.0.1:9", error="URLError: refused"),
            "no daemon memory from http://127.0.0.1:9: URLError",
        ),
    ],
)
def test_without_the_daemons_memory_explain_says_what_it_cannot_know(view: DaemonView | None, why: str) -> None:
    """No daemon memory: text and JSON say plainly that cooldowns, back-offs and confirmations are unknown."""
    text, data = _explained(view)
    assert "memory: UNKNOWN: " in text
    assert why in text
    assert "cooldowns, back-offs and scale-in confirmations are unknown" in text
    memory = data["memory"]
    assert isinstance(memory, dict)
    assert memory["source"] == "none"
    assert memory["unknown"] == ["cooldowns", "back-offs", "scale-in confirmations"]
    assert why in str(memory["why"])


def test_with_the_daemons_memory_explain_names_its_source() -> None:
    cid = make_snapshot().cluster_id
    state = ControllerState(cid, ControllerMemory(), DecisionSummary(T0))
    text, data = _explained(DaemonView("http://d:9100", MappingProxyType({cid: state})))
    assert "memory: the daemon's (http://d:9100), after its tick at 2023-11-14T22:13:20+00:00" in text
    assert "UNKNOWN" not in text
    assert data["memory"] == {
        "source": "daemon",
        "daemon": "http://d:9100",
        "daemon_last_tick_at": "2023-11-14T22:13:20+00:00",
        "daemon_last_tick_taken_at": T0,
        "daemon_last_plan": [],
        "unknown": [],
    }


def test_a_daemon_that_does_not_answer_is_an_error_not_an_exception() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connection refused
        view = fetch_daemon(f"http://127.0.0.1:{port}", timeout_s=2)
    assert view.error is not None
    assert view.memory("j-1") == ControllerMemory()
