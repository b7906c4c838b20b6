from __future__ import annotations

from collections.abc import Iterable

import pytest
from policy_ctx import make_ctx

from autoscaler.model import AppInfo, CapacityPool, Market, MetricSample, NodeInfo, PendingRequest, PoolRole, Resources
from autoscaler.testing import T0, make_node, make_pool, make_snapshot, sample, yarn_from_nodes
from policies.managed_scaling_like import ManagedScalingLikePolicy

NODE_MB = 12288


def _run(
    pools: list[CapacityPool],
    options: dict,
    *,
    pending_nodes: float = 0,
    nodes: Iterable[NodeInfo] = (),
    history: Iterable[MetricSample] = (),
    managed: list[CapacityPool] | None = None,
) -> dict[str, int]:
    nodes = tuple(nodes)
    yarn = yarn_from_nodes(
        nodes,
        pending_mb=int(pending_nodes * NODE_MB),
        pending_vcores=int(pending_nodes * 4),
        containers_pending=int(pending_nodes * 4),
    )
    snap = make_snapshot(pools=pools, nodes=nodes, yarn=yarn)
    ctx = make_ctx(pools if managed is None else managed, history=history)
    return {r.pool_id: r.target_units for r in ManagedScalingLikePolicy.from_options(options).evaluate(snap, ctx)}


def _full(n: int, pool_id: str = "ig-task") -> list[NodeInfo]:
    """`n` nodes with no free space."""
    full, none = Resources(NODE_MB, 4), Resources(0, 0)
    return [make_node(f"{pool_id}-{i}", pool_id, containers=4, used=full, available=none) for i in range(n)]


def test_scales_up_to_cover_pending_memory_at_once() -> None:
    """Three nodes' worth pending on a full cluster: +3 in one step."""
    pool = make_pool(requested=2)
    assert _run([pool], {"maximum_units": 20}, pending_nodes=3, nodes=_full(2)) == {"ig-task": 5}


def test_app_asks_count_when_counters_lag() -> None:
    """Asks of 6 x 4 GB/1 vcore with zero pending counters still need 2 nodes."""
    pool = make_pool(requested=2)
    app = AppInfo("application_1_0001", "RUNNING", pending=(PendingRequest(Resources(4096, 1), 6),))
    nodes = _full(2)
    snap = make_snapshot(pools=[pool], nodes=nodes, apps=[app])
    recs = ManagedScalingLikePolicy.from_options({"maximum_units": 20}).evaluate(snap, make_ctx([pool]))
    assert [r.target_units for r in recs] == [4]


def test_arriving_units_count_against_the_shortfall() -> None:
    """Two units already provisioning cover two of the three pending nodes."""
    pool = make_pool(requested=4, running=2)
    assert _run([pool], {"maximum_units": 20}, pending_nodes=3, nodes=_full(2)) == {"ig-task": 5}


def test_maximum_units_caps_core_and_task_together() -> None:
    """A core group (not managed) counts toward maximum_units: only 1 task unit fits under 6."""
    core = make_pool("ig-core", role=PoolRole.CORE, market=Market.ON_DEMAND, requested=3)
    task = make_pool("ig-task", requested=2)
    out = _run([core, task], {"maximum_units": 6}, pending_nodes=5, nodes=_full(2), managed=[task])
    assert out == {"ig-task": 3}


def test_on_demand_first_up_to_its_cap_then_spot() -> None:
    """With maximum_on_demand_units, on-demand grows to the cap and the rest goes to Spot."""
    od = make_pool("ig-od", market=Market.ON_DEMAND, requested=2)
    spot = make_pool("ig-spot", market=Market.SPOT, requested=0, running=0)
    out = _run(
        [od, spot], {"maximum_units": 20, "maximum_on_demand_units": 3}, pending_nodes=4, nodes=_full(2, "ig-od")
    )
    assert out == {"ig-od": 3, "ig-spot": 3}


def test_without_on_demand_cap_spot_is_preferred() -> None:
    """No maximum_on_demand_units and no prices: the Spot group takes the demand."""
    od = make_pool("ig-od", market=Market.ON_DEMAND, requested=2)
    spot = make_pool("ig-spot", market=Market.SPOT, requested=0, running=0)
    out = _run([od, spot], {"maximum_units": 20}, pending_nodes=4, nodes=_full(2, "ig-od"))
    assert out == {"ig-spot": 4}


def test_core_first_up_to_core_cap_when_set() -> None:
    """With maximum_core_units, core grows first up to it; task takes the remainder."""
    core = make_pool("ig-core", role=PoolRole.CORE, market=Market.ON_DEMAND, requested=2)
    task = make_pool("ig-task", requested=0, running=0)
    out = _run([core, task], {"maximum_units": 20, "maximum_core_units": 3}, pending_nodes=3, nodes=_full(2, "ig-core"))
    assert out == {"ig-core": 3, "ig-task": 2}


def test_grows_to_minimum_without_demand() -> None:
    """Below minimum_units it grows to the minimum even when nothing is pending."""
    assert _run([make_pool(requested=1)], {"minimum_units": 3, "maximum_units": 10}) == {"ig-task": 3}


def _quiet(available_mb: int, span: float = 600, pending_at: float | None = None) -> list[MetricSample]:
    return [
        sample(
            T0 - span + i * 60,
            available_mb=available_mb,
            available_vcores=available_mb // NODE_MB * 4,
            pending_mb=1024 if T0 - span + i * 60 == pending_at else 0,
        )
        for i in range(int(span // 60) + 1)
    ]


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        (_quiet(2 * NODE_MB), {"ig-task": 3}),  # two nodes' memory free for 10 minutes: -2
        (_quiet(2 * NODE_MB, span=300), {}),  # only 5 minutes observed: too soon
        (_quiet(2 * NODE_MB, pending_at=T0 - 240), {}),  # demand 4 minutes ago resets the wait
        (_quiet(NODE_MB // 2), {}),  # less than one node free: nothing to give back
    ],
)
def test_scales_down_cautiously(history: list[MetricSample], expected: dict[str, int]) -> None:
    """Scale-in needs scale_down_after_s (600 s here) of history with nothing pending, and gives back what
    stayed free."""
    options = {"maximum_units": 10, "scale_down_after_s": 600}
    assert _run([make_pool(requested=5)], options, history=history) == expected


def test_scale_down_stops_at_minimum() -> None:
    """Never below minimum_units, however much is free."""
    out = _run([make_pool(requested=5)], {"minimum_units": 4, "maximum_units": 10}, history=_quiet(3 * NODE_MB))
    assert out == {"ig-task": 4}


def test_default_maximum_comes_from_cluster_limits() -> None:
    """Without maximum_units the cluster's limits (max_task_units 20 + max_core_units 0) cap growth."""
    assert _run([make_pool(requested=18)], {}, pending_nodes=10, nodes=_full(2)) == {"ig-task": 20}


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"minimum_units": 5, "maximum_units": 2}, "maximum_units"),
        ({"maximum_on_demand_units": -1}, "maximum_on_demand_units"),
        ({"scale_down_after_s": -5}, "scale_down_after_s"),
        ({"MaximumCapacityUnits": 5}, "MaximumCapacityUnits"),
    ],
)
def test_invalid_options_name_the_option(options: dict, named: str) -> None:
    """Bad limits are refused by name."""
    with pytest.raises(ValueError, match=named):
        ManagedScalingLikePolicy.from_options(options)
