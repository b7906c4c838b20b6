from __future__ import annotations

from collections.abc import Iterable

import pytest
from policy_ctx import make_ctx

from autoscaler.model import (
    AppInfo,
    CapacityPool,
    InstanceOption,
    Market,
    MetricSample,
    NodeInfo,
    NodeState,
    PendingRequest,
    PoolKind,
    PriceQuote,
    Recommendation,
    Rejection,
    RejectReason,
    Resources,
)
from autoscaler.testing import T0, make_node, make_pool, make_snapshot, sample, yarn_from_nodes
from policies.pending_demand import PendingDemandPolicy

M5_LARGE = Resources(6144, 2)
R5_XLARGE = Resources(24576, 4)


def _app(*asks: tuple[int, int, int]) -> AppInfo:
    """An app waiting for `count` containers of (memory_mb, vcores) per ask."""
    return AppInfo(
        "application_1_0001",
        "RUNNING",
        pending=tuple(PendingRequest(Resources(mb, vc), n) for mb, vc, n in asks),
    )


def _full_node(host: str, pool_id: str = "ig-task") -> NodeInfo:
    return make_node(host, pool_id, containers=4, used=Resources(12288, 4), available=Resources(0, 0))


def _run(
    pools: list[CapacityPool],
    apps: Iterable[AppInfo] = (),
    nodes: Iterable[NodeInfo] = (),
    options: dict | None = None,
    prices: Iterable[PriceQuote] = (),
    **snapshot: object,
) -> tuple[dict[str, int], list[Rejection]]:
    snap = make_snapshot(pools=pools, apps=apps, nodes=nodes, prices=prices, **snapshot)  # type: ignore[arg-type]
    out = list(PendingDemandPolicy.from_options(options or {}).evaluate(snap, make_ctx(pools)))
    recs = {r.pool_id: r.target_units for r in out if isinstance(r, Recommendation)}
    return recs, [r for r in out if isinstance(r, Rejection)]


def test_container_larger_than_any_node_is_rejected_not_scaled() -> None:
    """An 8 GB container on 6 GB nodes is an UNSCHEDULABLE_SHAPE rejection and adds no node."""
    pool = make_pool("ig-task", instance_type="m5.large", yarn=M5_LARGE)
    recs, rejections = _run([pool], apps=[_app((8192, 2, 3))])
    assert recs == {}
    (rej,) = rejections
    assert rej.reason is RejectReason.UNSCHEDULABLE_SHAPE
    assert "8192 MB / 2 vcores fits no node of ig-task (m5.large 6144 MB/2 vcores)" in rej.detail
    assert "3 container" in rej.detail


def test_unschedulable_shape_does_not_hide_schedulable_demand() -> None:
    """Other shapes still get nodes while the oversized one is rejected."""
    pool = make_pool("ig-task", requested=2, instance_type="m5.large", yarn=M5_LARGE)
    recs, rejections = _run([pool], apps=[_app((8192, 2, 1), (2048, 1, 4))], nodes=[_full_node("a"), _full_node("b")])
    assert len(rejections) == 1
    assert recs == {"ig-task": 4}  # 2 x 2048/1 per m5.large (vcore-bound): 2 new nodes


@pytest.mark.parametrize(
    ("shape", "count", "new_nodes"),
    [
        ((4096, 1), 9, 3),  # memory-bound: 3 per 12 GB node
        ((1024, 2), 9, 5),  # vcore-bound: 2 per 4-vcore node despite 12 GB free
        ((3072, 1), 8, 2),  # both bind at 4 per node
        ((12288, 4), 2, 2),  # exactly one per node
    ],
)
def test_packs_memory_and_vcores(shape: tuple[int, int], count: int, new_nodes: int) -> None:
    """New nodes = containers packed by whichever of memory or vcores runs out first."""
    pool = make_pool(requested=2)
    recs, _ = _run([pool], apps=[_app((*shape, count))], nodes=[_full_node("a"), _full_node("b")])
    assert recs == {"ig-task": 2 + new_nodes}


def test_free_space_on_running_nodes_is_used_first() -> None:
    """Two of four 4 GB containers fit on a node with 8 GB free; one new node takes the rest."""
    pool = make_pool(requested=2)
    half = make_node("a", containers=1, used=Resources(4096, 1), available=Resources(8192, 3))
    recs, _ = _run([pool], apps=[_app((4096, 1, 4))], nodes=[half, _full_node("b")])
    assert recs == {"ig-task": 3}


def test_decommissioning_nodes_are_not_spare() -> None:
    """A draining node's free space is ignored: the demand still gets a new node."""
    pool = make_pool(requested=1)
    draining = make_node("a", state=NodeState.DECOMMISSIONING)
    recs, _ = _run([pool], apps=[_app((4096, 1, 2))], nodes=[draining])
    assert recs == {"ig-task": 2}


def test_arriving_capacity_counts_before_asking_for_more() -> None:
    """Two nodes requested but not yet running absorb 6 of 9 containers: only one more is needed."""
    pool = make_pool(requested=4, running=2)
    recs, _ = _run([pool], apps=[_app((4096, 1, 9))], nodes=[_full_node("a"), _full_node("b")])
    assert recs == {"ig-task": 5}


def test_arriving_capacity_covering_demand_means_no_opinion() -> None:
    """When arriving nodes hold all pending containers the policy asks for nothing."""
    pool = make_pool(requested=4, running=2)
    recs, rejections = _run([pool], apps=[_app((4096, 1, 6))], nodes=[_full_node("a"), _full_node("b")])
    assert (recs, rejections) == ({}, [])


def test_first_fit_decreasing_fills_leftovers_with_smaller_shapes() -> None:
    """Two 8 GB containers open two nodes; two 4 GB ones fit in their leftovers: 2 nodes, not 3."""
    pool = make_pool(requested=0, running=0)
    recs, _ = _run([pool], apps=[_app((4096, 1, 2), (8192, 1, 2))])
    assert recs == {"ig-task": 2}


def test_falls_back_to_cluster_counters_without_app_asks() -> None:
    """No resourceRequests: 4 pending containers of 16 GB/4 vcores total are 4 x 4 GB/1 → 2 nodes."""
    pool = make_pool(requested=1)
    nodes = [_full_node("a")]
    yarn = yarn_from_nodes(nodes, containers_pending=4, pending_mb=16384, pending_vcores=4)
    recs, _ = _run([pool], nodes=nodes, yarn=yarn)
    assert recs == {"ig-task": 3}


def test_headroom_adds_a_rounded_up_share() -> None:
    """headroom_pct 50 on 3 new units adds ceil(1.5) = 2 more."""
    pool = make_pool(requested=0, running=0)
    recs, _ = _run([pool], apps=[_app((4096, 1, 9))], options={"headroom_pct": 50})
    assert recs == {"ig-task": 5}


def test_fleet_units_are_weighted() -> None:
    """Two new nodes of a weight-4 fleet option are 8 units."""
    fleet = make_pool("if-task", kind=PoolKind.INSTANCE_FLEET, requested=0, running=0, weight=4)
    recs, _ = _run([fleet], apps=[_app((12288, 4, 2))])
    assert recs == {"if-task": 8}


def _od_and_spot() -> list[CapacityPool]:
    return [
        make_pool("ig-od", market=Market.ON_DEMAND, requested=0, running=0),
        make_pool("ig-spot", market=Market.SPOT, requested=0, running=0),
    ]


def test_without_prices_spot_gets_the_demand() -> None:
    """Unknown prices: the Spot pool is preferred over the on-demand one."""
    recs, _ = _run(_od_and_spot(), apps=[_app((4096, 1, 3))])
    assert recs == {"ig-spot": 1}


def test_cheapest_pool_per_gb_gets_the_demand() -> None:
    """With prices, the cheaper per GB wins even if it is on-demand."""
    prices = [
        PriceQuote("m5.xlarge", Market.ON_DEMAND, 0.192, 0.048),
        PriceQuote("m5.xlarge", Market.SPOT, 0.30, 0.048),
    ]
    recs, _ = _run(_od_and_spot(), apps=[_app((4096, 1, 3))], prices=prices)
    assert recs == {"ig-od": 1}


def test_shape_goes_to_the_pool_whose_node_can_hold_it() -> None:
    """A 16 GB container skips the cheaper m5 pool it cannot fit in and lands on the r5 pool."""
    # per YARN GB-hour: m5 (0.05 + 0.048) / 12 = 0.0082 < r5 (0.20 + 0.063) / 24 = 0.0110
    m5 = make_pool("ig-m5", requested=0, running=0)
    r5 = make_pool("ig-r5", requested=0, running=0, instance_type="r5.xlarge", yarn=R5_XLARGE)
    prices = [
        PriceQuote("m5.xlarge", Market.SPOT, 0.05, 0.048),
        PriceQuote("r5.xlarge", Market.SPOT, 0.20, 0.063),
    ]
    recs, rejections = _run([m5, r5], apps=[_app((16384, 2, 1), (2048, 1, 6))], prices=prices)
    assert rejections == []
    # 16 GB opens one r5 node (8 GB / 2 vcores left): 2048/1 x 2 fit there, 4 more on one m5 node
    assert recs == {"ig-r5": 1, "ig-m5": 1}


def test_fleet_option_choice_by_price_per_unit() -> None:
    """Within a fleet the cheaper-per-GB option is assumed for new nodes."""
    options = (
        InstanceOption("m5.xlarge", Resources(12288, 4), weight=1),
        InstanceOption("m5.2xlarge", Resources(24576, 8), weight=2),
    )
    fleet = make_pool("if-task", kind=PoolKind.INSTANCE_FLEET, requested=0, running=0, options=options)
    prices = [
        PriceQuote("m5.xlarge", Market.SPOT, 0.10, 0.048),
        PriceQuote("m5.2xlarge", Market.SPOT, 0.12, 0.096),
    ]
    recs, _ = _run([fleet], apps=[_app((4096, 1, 12))], prices=prices)
    assert recs == {"if-task": 4}  # 2 x m5.2xlarge (6 each) at weight 2


def test_no_pending_demand_no_opinion() -> None:
    """Nothing pending: nothing recommended, nothing rejected."""
    assert _run([make_pool()], nodes=[make_node("a")]) == ({}, [])


def test_invalid_option_names_it() -> None:
    """headroom_pct outside 0..100 is refused by name."""
    with pytest.raises(ValueError, match="headroom_pct"):
        PendingDemandPolicy.from_options({"headroom_pct": 150})


def test_memory_only_packing_fills_nodes_by_memory() -> None:
    """count_vcores false (EMR's memory-only scheduler): 9 × 1 GB/2 vcores fit one 12 GB node, not 5 nodes."""
    pool = make_pool(requested=2)
    nodes = [_full_node("a"), _full_node("b")]
    recs, _ = _run([pool], apps=[_app((1024, 2, 9))], nodes=nodes, options={"count_vcores": False})
    assert recs == {"ig-task": 3}


def _pending_history(now: float, pending_from: float, start: float) -> list[MetricSample]:
    """Samples every 30 s from `start`; pending from `pending_from` on."""
    return [
        sample(t, containers_pending=4 if t >= pending_from else 0, pending_mb=4096 if t >= pending_from else 0)
        for t in range(int(start), int(now) + 1, 30)
    ]


@pytest.mark.parametrize(
    ("pending_from", "start", "acts"),
    [
        (T0 - 120, T0 - 300, True),  # pending for the whole 120 s window
        (T0 - 60, T0 - 300, False),  # a backlog only 60 s old may still drain before a node boots
        (T0 - 120, T0 - 60, False),  # history too short to know
    ],
)
def test_pending_for_s_waits_for_a_persistent_backlog(pending_from: float, start: float, acts: bool) -> None:
    """With pending_for_s, only a backlog seen in every sample of the window buys nodes."""
    pool = make_pool(requested=2)
    snap = make_snapshot(pools=[pool], apps=[_app((4096, 1, 4))], nodes=[_full_node("a"), _full_node("b")])
    ctx = make_ctx([pool], history=_pending_history(T0, pending_from, start))
    out = list(PendingDemandPolicy.from_options({"pending_for_s": 120}).evaluate(snap, ctx))
    assert bool([r for r in out if isinstance(r, Recommendation)]) is acts
