"""Unknown node usage is never idle (issue 11, item 1): a RUNNING node whose container count or used
memory the RM did not report is neither a drain victim nor evidence for scale-in, and its free space
is not room for pending containers. Every consumer of node counters is covered here."""

from __future__ import annotations

from dataclasses import replace

import pytest

from autoscaler.drain import choose_victims
from autoscaler.emulator.yarn_api import render_node
from autoscaler.guardrails import apply_guardrails
from autoscaler.model import (
    AppInfo,
    ControllerMemory,
    NodeInfo,
    PendingRequest,
    Recommendation,
    RejectReason,
    Resources,
)
from autoscaler.policy import PolicyContext
from autoscaler.sources.yarn_parse import parse_nodes
from autoscaler.testing import T0, make_cluster_config, make_node, make_pool, make_snapshot, yarn_from_nodes
from policies.idle_capacity import IdleCapacityPolicy
from policies.pending_demand import PendingDemandPolicy

POOL = make_pool("ig-task", requested=3)

UNKNOWN_WAYS = {
    "containers": {"num_containers": None},
    "used": {"used": None},
    "both": {"num_containers": None, "used": None},
}


def unknown(host: str, how: str) -> NodeInfo:
    """An idle-looking node with some of its usage unknown."""
    node = make_node(host)
    return replace(node, **UNKNOWN_WAYS[how])  # type: ignore[arg-type]


def ctx() -> PolicyContext:
    return PolicyContext(make_cluster_config(), (POOL,), (), ControllerMemory(), T0)


@pytest.mark.parametrize("how", UNKNOWN_WAYS)
def test_unknown_node_is_not_idle_and_usage_unknown(how: str) -> None:
    node = unknown("h", how)
    assert not node.is_idle
    assert not node.usage_known


@pytest.mark.parametrize("how", UNKNOWN_WAYS)
def test_unknown_node_is_never_a_victim_and_is_protected(how: str) -> None:
    """Asked for three, drain names only the known-idle node and protects the unknown ones."""
    nodes = [unknown("u1", how), unknown("u2", how), make_node("idle")]
    snapshot = make_snapshot(pools=[POOL], nodes=nodes)
    terminate, protect = choose_victims(POOL, snapshot, 3, T0, 600)
    assert terminate == ("i-idle",)
    assert protect == ("i-u1", "i-u2")


def test_guardrails_refuse_a_scale_in_over_unknown_nodes() -> None:
    """The issue's case: three RUNNING task nodes with unknown counters and a wish for 1 -> no resize."""
    nodes = [unknown(f"h{i}", "both") for i in range(3)]
    snapshot = make_snapshot(pools=[POOL], nodes=nodes)
    wanted = {POOL.pool_id: Recommendation("p", POOL.pool_id, 1, "because")}
    config = make_cluster_config(guards={"scale_down_confirmations": 1})
    plan, rejections, _ = apply_guardrails(snapshot, wanted, ControllerMemory(), config)
    assert plan.empty
    assert [r.reason for r in rejections] == [RejectReason.NO_REMOVABLE_NODES]


@pytest.mark.parametrize("how", UNKNOWN_WAYS)
def test_idle_capacity_takes_no_evidence_from_unknown_nodes(how: str) -> None:
    nodes = [unknown(f"h{i}", how) for i in range(3)]
    snapshot = make_snapshot(pools=[POOL], nodes=nodes, yarn=yarn_from_nodes([make_node("x")]))
    assert list(IdleCapacityPolicy.from_options({}).evaluate(snapshot, ctx())) == []
    known = [*nodes, make_node("idle")]
    snapshot = make_snapshot(pools=[POOL], nodes=known, yarn=yarn_from_nodes([make_node("x")]))
    (rec,) = IdleCapacityPolicy.from_options({}).evaluate(snapshot, ctx())
    assert isinstance(rec, Recommendation)
    assert rec.target_units == 2  # only the one known-idle node is released


def test_pending_demand_does_not_count_unknown_free_space() -> None:
    """A node whose free space is unknown is no room: the pending container needs a new node."""
    one = make_pool("ig-task", requested=1)
    app = AppInfo("application_1_0001", "RUNNING", pending=(PendingRequest(Resources(1024, 1), 1),))
    context = PolicyContext(make_cluster_config(), (one,), (), ControllerMemory(), T0)
    blind = replace(make_node("blind"), available=None)
    snapshot = make_snapshot(pools=[one], nodes=[blind], apps=[app])
    (rec,) = PendingDemandPolicy.from_options({}).evaluate(snapshot, context)
    assert isinstance(rec, Recommendation)
    assert rec.target_units == 2
    roomy = make_snapshot(pools=[one], nodes=[make_node("roomy")], apps=[app])
    assert list(PendingDemandPolicy.from_options({}).evaluate(roomy, context)) == []


def test_yarn_from_nodes_sums_are_unknown_when_a_node_is() -> None:
    metrics = yarn_from_nodes([make_node("a"), unknown("b", "both")])
    assert metrics.containers_allocated is None
    assert metrics.allocated_mb is None
    assert metrics.total_mb is None
    assert metrics.available_mb == yarn_from_nodes([make_node("a"), make_node("b")]).available_mb


@pytest.mark.parametrize("how", UNKNOWN_WAYS)
def test_emulator_renders_unknown_as_minus_one_and_it_parses_back_unknown(how: str) -> None:
    node = unknown("h.internal", how)
    rendered = render_node(node)
    (parsed,) = parse_nodes({"nodes": {"node": [rendered]}})
    assert not parsed.is_idle
    assert not parsed.usage_known
    if node.num_containers is None:
        assert rendered["numContainers"] == -1
    if node.used is None:
        assert rendered["usedMemoryMB"] == -1
        assert "totalResource" not in rendered
