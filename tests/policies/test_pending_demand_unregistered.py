"""pending-demand counts nodes EMR reports running but YARN has not registered yet as arriving capacity."""

from __future__ import annotations

from policy_ctx import make_ctx

from autoscaler.model import AppInfo, NodeInfo, PendingRequest, Recommendation, Resources
from autoscaler.testing import make_node, make_pool, make_snapshot
from policies.pending_demand import PendingDemandPolicy

# 10 pending 4 GB / 1 vcore asks; an m5.xlarge offers YARN 12 GB / 4 vcores: 3 per node, so 4 nodes
WAITING = AppInfo("application_1_0001", "RUNNING", pending=(PendingRequest(Resources(4096, 1), 10),))


def _full(host: str, pool_id: str = "ig-task", instance_id: str | None = None) -> NodeInfo:
    return make_node(host, pool_id, instance_id, containers=3, used=Resources(12288, 4), available=Resources(0, 0))


def _target(running: int, nodes: list[NodeInfo]) -> int | None:
    pool = make_pool("ig-task", requested=running, running=running)
    snap = make_snapshot(pools=[pool], apps=[WAITING], nodes=nodes)
    out = PendingDemandPolicy.from_options({}).evaluate(snap, make_ctx([pool]))
    return next((r.target_units for r in out if isinstance(r, Recommendation)), None)


def test_running_in_emr_but_not_yet_in_yarn_is_not_bought_again() -> None:
    """Task group at 7 in EMR, YARN still sees its first 3 full nodes: the 4 unregistered ones hold the 10 asks."""
    assert _target(7, [_full(h) for h in "abc"]) is None


def test_without_unregistered_nodes_the_same_demand_adds_four() -> None:
    """Control: 3 running in EMR and in YARN, all full: the 10 asks need 4 new nodes (target 7)."""
    assert _target(3, [_full(h) for h in "abc"]) == 7


def test_partly_registered_counts_only_the_gap() -> None:
    """7 running in EMR, 5 in YARN (2 new ones empty): 2 unregistered + 2 empty hold 4 x 3 asks."""
    nodes = [_full(h) for h in "abc"] + [make_node(h) for h in "de"]
    assert _target(7, nodes) is None
    assert _target(5, nodes) == 7, "control: with no gap, 4 asks beyond the 2 empty nodes need 2 more"


def test_no_join_at_all_is_not_taken_for_arriving_capacity() -> None:
    """When no YARN node joined an EMR instance, running units are not passed off as arriving."""
    unjoined = [NodeInfo(h, _full(h).state, 3, Resources(12288, 4), Resources(0, 0)) for h in "abc"]
    assert _target(7, unjoined) == 11
