"""Victim choice for group scale-in, and the market split of fleet targets."""

from __future__ import annotations

import pytest

from autoscaler.drain import choose_victims
from autoscaler.guardrails import split_by_market
from autoscaler.model import (
    Capacity,
    InstanceInfo,
    InterruptionNotice,
    Market,
    NodeInfo,
    NodeState,
    PoolKind,
    Resources,
)
from autoscaler.testing import T0, make_cluster_config, make_instance, make_node, make_pool, make_snapshot

GROUP = make_pool("ig-task", requested=6)


def victims(
    nodes: list[NodeInfo],
    remove: int,
    instances: list[InstanceInfo] | None = None,
    interruptions: tuple[InterruptionNotice, ...] = (),
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if instances is None:
        instances = [make_instance(n.instance_id or "", n.pool_id or "") for n in nodes]
    snapshot = make_snapshot(pools=[GROUP], nodes=nodes, instances=instances, interruptions=interruptions)
    return choose_victims(GROUP, snapshot, remove, T0, 600)


def test_only_idle_running_non_am_nodes_are_named() -> None:
    """Busy, AM-hosting, DECOMMISSIONING and unhealthy nodes are never chosen."""
    nodes = [
        make_node("busy", containers=2),
        make_node("am", hosts_am=True),
        make_node("leaving", state=NodeState.DECOMMISSIONING),
        make_node("sick", state=NodeState.UNHEALTHY),
        make_node("idle"),
    ]
    terminate, protect = victims(nodes, 5)
    assert terminate == ("i-idle",)
    assert protect == ("i-am",)


def test_young_instances_are_not_named() -> None:
    """Instances launched less than min_node_age_s ago (EMR refuses them) are skipped."""
    nodes = [make_node("young"), make_node("old"), make_node("edge")]
    instances = [
        make_instance("i-young", launched_at=T0 - 599),
        make_instance("i-old", launched_at=T0 - 3600),
        make_instance("i-edge", launched_at=T0 - 600),
    ]
    terminate, _ = victims(nodes, 3, instances=instances)
    assert sorted(terminate) == ["i-edge", "i-old"]


def test_order_interrupted_then_spot_then_least_used_then_newest() -> None:
    """Interrupted Spot nodes go first, then Spot before on-demand, then least used memory, then newest."""
    nodes = [
        make_node("od", market=Market.ON_DEMAND),
        make_node("spot-used", used=Resources(512, 0)),
        make_node("spot-older"),
        make_node("spot-newer"),
        make_node("spot-noticed", used=Resources(2048, 0)),
    ]
    instances = [make_instance(f"i-{n.host}", launched_at=T0 - 7200) for n in nodes]
    instances[3] = make_instance("i-spot-newer", launched_at=T0 - 1200)
    notice = InterruptionNotice("i-spot-noticed", "terminate", T0 - 10, T0 + 110)
    terminate, _ = victims(nodes, 5, instances=instances, interruptions=(notice,))
    assert terminate == ("i-spot-noticed", "i-spot-newer", "i-spot-older", "i-spot-used", "i-od")
    assert victims(nodes, 2, instances=instances, interruptions=(notice,))[0] == terminate[:2]


def test_nodes_of_other_pools_and_without_instance_ids_are_ignored() -> None:
    """Only this pool's nodes joined to an EMR instance id can be named."""
    nodes = [make_node("other", "ig-other"), make_node("unjoined", instance_id=""), make_node("mine")]
    terminate, _ = victims(nodes, 3)
    assert terminate == ("i-mine",)


def test_fleet_has_no_victims() -> None:
    """Fleets cannot name instances: nothing to terminate or protect."""
    fleet = make_pool("if-task", kind=PoolKind.INSTANCE_FLEET, requested=Capacity(0, 3))
    snapshot = make_snapshot(pools=[fleet], nodes=[make_node("a", "if-task"), make_node("b", "if-task", hosts_am=True)])
    assert choose_victims(fleet, snapshot, 2, T0, 600) == ((), ())


def test_zero_removal_still_reports_protected_am_hosts() -> None:
    """Asking for no victims still lists the AM hosts to protect."""
    assert victims([make_node("am", hosts_am=True), make_node("idle")], 0) == ((), ("i-am",))


@pytest.mark.parametrize(
    ("current", "total", "market", "spot", "expected"),
    [
        (
            Capacity(0, 0),
            5,
            None,
            {"prefer_spot": True, "on_demand_base_units": 2},
            Capacity(2, 3),
        ),  # base first on-demand, rest Spot
        (
            Capacity(2, 3),
            7,
            None,
            {"prefer_spot": True, "on_demand_base_units": 2},
            Capacity(2, 5),
        ),  # base already met: all Spot
        (
            Capacity(1, 1),
            4,
            None,
            {"prefer_spot": False, "on_demand_base_units": 0},
            Capacity(3, 1),
        ),  # Spot not preferred: on-demand
        (
            Capacity(0, 2),
            5,
            Market.ON_DEMAND,
            {"prefer_spot": True, "on_demand_base_units": 0},
            Capacity(3, 2),
        ),  # policy's market wins
        (
            Capacity(3, 4),
            3,
            None,
            {"prefer_spot": True, "on_demand_base_units": 1},
            Capacity(1, 2),
        ),  # remove on-demand above base, then Spot
        (
            Capacity(3, 4),
            0,
            None,
            {"prefer_spot": True, "on_demand_base_units": 1},
            Capacity(0, 0),
        ),  # and finally the base
        (Capacity(3, 4), 5, Market.SPOT, {"prefer_spot": True, "on_demand_base_units": 0}, Capacity(3, 2)),
        (Capacity(3, 4), 5, Market.ON_DEMAND, {"prefer_spot": True, "on_demand_base_units": 0}, Capacity(1, 4)),
        (
            Capacity(3, 4),
            5,
            None,
            {"prefer_spot": False, "on_demand_base_units": 0},
            Capacity(3, 2),
        ),  # Spot not preferred: Spot leaves first
    ],
)
def test_fleet_split(
    current: Capacity, total: int, market: Market | None, spot: dict[str, object], expected: Capacity
) -> None:
    """A fleet's absolute target is split by spot.on_demand_base_units, prefer_spot and the policy's market."""
    fleet = make_pool("if-task", kind=PoolKind.INSTANCE_FLEET, requested=current)
    config = make_cluster_config(spot=spot)
    assert split_by_market(fleet, total, market, config) == expected


def test_group_split_uses_its_market() -> None:
    """An instance group's target is all on its own market, whatever the policy asked."""
    config = make_cluster_config()
    assert split_by_market(GROUP, 9, Market.ON_DEMAND, config) == Capacity(spot=9)
