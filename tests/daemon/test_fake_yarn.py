"""`autoscaler.testing.FakeYarn` against the daemon's real YarnClient: same JSON as the emulator, a
call log, and the faults a production RM shows (down, slow, garbage, a standby's 307)."""

from __future__ import annotations

import pytest

from autoscaler.config import YarnConfig
from autoscaler.emulator.yarn_api import render_nodes
from autoscaler.model import Resources
from autoscaler.sources import SourceError
from autoscaler.sources.yarn import YarnClient
from autoscaler.testing import FakeYarn, YarnFault, make_app, make_node, make_snapshot


def _rm() -> FakeYarn:
    nodes = [make_node("h1", containers=2, used=Resources(4096, 2)), make_node("h2")]
    return FakeYarn(nodes, [make_app("application_1_0001", am_host="h1", pending=3, memory_mb=4096)])


def _client(rm: FakeYarn, timeout_s: float = 2.0) -> YarnClient:
    return YarnClient(YarnConfig(urls=[rm.url], timeout_s=timeout_s))


def test_renders_the_emulators_json_and_reads_back_as_it_was_set() -> None:
    """Nodes are byte-for-byte the emulator's rendering; the client reads back nodes, pending demand, apps."""
    rm = _rm()
    assert rm.json("/ws/v1/cluster/nodes") == render_nodes(make_snapshot(nodes=rm.nodes))
    with rm:
        state = _client(rm).fetch()
    assert [n.host for n in state.nodes] == ["h1", "h2"]
    assert state.nodes[0].num_containers == 2
    assert state.metrics.pending_mb == 3 * 4096
    assert state.metrics.containers_pending == 3
    assert [a.app_id for a in state.apps] == ["application_1_0001"]
    assert {c.path.split("?")[0] for c in rm.calls} >= {"/ws/v1/cluster/info", "/ws/v1/cluster/nodes"}


def test_state_changes_and_metric_overrides_are_served() -> None:
    """`set` replaces the nodes; keyword metrics override the derived figures (None = YARN's -1, unknown)."""
    with _rm() as rm:
        rm.set(nodes=[make_node("h3")], pending_mb=None)
        state = _client(rm).fetch()
    assert [n.host for n in state.nodes] == ["h3"]
    assert state.metrics.pending_mb is None


def test_down_refuses_connections_and_comes_back_on_the_same_port() -> None:
    with _rm() as rm:
        url = rm.url
        rm.inject(YarnFault.DOWN)
        with pytest.raises(SourceError, match="ConnectionError"):
            _client(rm).fetch()
        rm.inject(None)
        assert rm.url == url
        assert _client(rm).fetch().nodes


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (YarnFault.GARBAGE, "not JSON"),
        (YarnFault.REDIRECT, "307"),
        (YarnFault.SLOW, "timed out"),
    ],
)
def test_faults_are_what_the_client_reports(fault: YarnFault, message: str) -> None:
    """Each fault fails the read with the client's own located message; every request is logged with it."""
    with _rm() as rm:
        rm.slow_s = 0.5
        rm.inject(fault)
        with pytest.raises(SourceError, match=message):
            _client(rm, timeout_s=0.2).fetch()
    assert rm.calls
    assert all(c.fault is fault for c in rm.calls)


def test_in_process_down_raises_connection_refused() -> None:
    """Without a server, DOWN is a ConnectionRefusedError from `answer`."""
    rm = _rm()
    rm.inject("down")
    with pytest.raises(ConnectionRefusedError):
        rm.answer("/ws/v1/cluster/metrics")
