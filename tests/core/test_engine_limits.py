"""Bounds hold without a recommendation, Spot risk refuses growth, and policies see the tick's `now`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from autoscaler.bounds import LIMITS_POLICY
from autoscaler.engine import evaluate
from autoscaler.model import (
    CapacityPool,
    ClusterSnapshot,
    ControllerMemory,
    Decision,
    Market,
    PoolRole,
    PoolState,
    PriceQuote,
    RejectReason,
    SourceStatus,
)
from autoscaler.policy import Policy
from autoscaler.testing import T0, Wants, make_cluster_config, make_node, make_pool, make_snapshot


def decide(
    pools: Iterable[CapacityPool],
    policies: Iterable[Policy] = (),
    memory: ControllerMemory | None = None,
    guards: dict[str, Any] | None = None,
    **config: Any,
) -> Decision:
    """One evaluation over `pools`, each with one idle node per unit; scale-in confirmed in 1 tick by default."""
    pool_list = list(pools)
    nodes = [make_node(f"{p.pool_id}-{i}", p.pool_id) for p in pool_list for i in range(p.requested.total)]
    cfg = make_cluster_config(guards={"scale_down_confirmations": 1, **(guards or {})}, **config)
    return evaluate(
        make_snapshot(pools=pool_list, nodes=nodes), memory or ControllerMemory(), list(policies) or [Wants()], cfg
    )


def targets(decision: Decision) -> dict[str, int]:
    return {r.pool_id: r.target.total for r in decision.plan.resizes}


def test_pool_below_min_is_raised_without_a_recommendation() -> None:
    """A task pool under min_task_units that no policy spoke for is raised by policy "limits"."""
    decision = decide([make_pool("ig-task", requested=1)], limits={"min_task_units": 3})
    assert targets(decision) == {"ig-task": 3}
    assert [(r.policy, r.target_units) for r in decision.recommendations] == [(LIMITS_POLICY, 3)]
    assert decision.plan.resizes[0].reason.startswith("limits: ")


def test_raise_to_min_respects_step_limit() -> None:
    """The implicit scale-up is still cut to max_step_up_units per tick (STEP_LIMIT)."""
    decision = decide([make_pool("ig-task", requested=0)], limits={"min_task_units": 8, "max_step_up_units": 3})
    assert targets(decision) == {"ig-task": 3}
    assert [r.reason for r in decision.rejections] == [RejectReason.STEP_LIMIT]


def test_pool_above_max_is_lowered_after_confirmation() -> None:
    """An over-max pool nobody recommended for shrinks to max_task_units, but only once confirmed."""
    pool = make_pool("ig-task", requested=6)
    first = decide([pool], limits={"max_task_units": 4}, guards={"scale_down_confirmations": 2})
    assert targets(first) == {}
    assert [r.reason for r in first.rejections] == [RejectReason.AWAITING_CONFIRMATION]
    second = decide([pool], memory=first.memory, limits={"max_task_units": 4}, guards={"scale_down_confirmations": 2})
    assert targets(second) == {"ig-task": 4}
    assert len(second.plan.resizes[0].instances_to_terminate) == 2


def test_limits_apply_to_each_task_pool_on_its_own() -> None:
    """min_task_units is a per-pool floor: two task pools of 2 units each are both raised to 3."""
    pools = [make_pool("ig-a", requested=2), make_pool("ig-b", requested=2, market=Market.ON_DEMAND)]
    decision = decide(pools, limits={"min_task_units": 3})
    assert targets(decision) == {"ig-a": 3, "ig-b": 3}


def test_a_policy_recommendation_suppresses_the_implicit_one() -> None:
    """When a policy spoke for the pool, bounds trim its wish (BELOW_MIN) and "limits" adds nothing."""
    decision = decide([make_pool("ig-task", requested=1)], [Wants({"ig-task": 2})], limits={"min_task_units": 3})
    assert [r.policy for r in decision.recommendations] == ["wants"]
    assert [r.reason for r in decision.rejections] == [RejectReason.BELOW_MIN]
    assert targets(decision) == {"ig-task": 3}


def test_in_bounds_pool_gets_no_implicit_recommendation() -> None:
    """A pool inside its bounds with no recommendation is left alone and nothing is said about it."""
    decision = decide([make_pool("ig-task", requested=2)], limits={"min_task_units": 1, "max_task_units": 4})
    assert decision.recommendations == ()
    assert decision.rejections == ()
    assert decision.plan.resizes == ()


def test_implicit_recommendation_is_blocked_by_stale_input_and_busy_pool() -> None:
    """The "limits" wish goes through the same blockers: a stale tick and a resizing pool refuse it."""
    config = make_cluster_config(limits={"min_task_units": 3})
    failed = SourceStatus("emr", False, T0, error="boom")
    stale = evaluate(
        make_snapshot(pools=[make_pool(requested=1)], sources=[failed]), ControllerMemory(), [Wants()], config
    )
    assert [(r.reason, r.policy) for r in stale.rejections] == [(RejectReason.STALE_INPUT, LIMITS_POLICY)]
    assert stale.plan.resizes == ()
    busy = decide([make_pool(requested=1, state=PoolState.RESIZING)], limits={"min_task_units": 3})
    assert [r.reason for r in busy.rejections] == [RejectReason.POOL_BUSY]
    assert busy.plan.resizes == ()


def test_core_below_its_floor_is_raised_when_managed() -> None:
    """With scale_core, a core pool under min_core_units is raised like a task pool."""
    core = make_pool("ig-core", role=PoolRole.CORE, requested=2, market=Market.ON_DEMAND)
    decision = decide(
        [core], guards={"scale_core": True, "dfs_replication": 1}, limits={"min_core_units": 3, "max_core_units": 5}
    )
    assert targets(decision) == {"ig-core": 3}


def spot_snapshot(band: int | None, with_on_demand: bool = True, on_demand_units: int = 2) -> ClusterSnapshot:
    spot = make_pool("ig-spot", requested=2, instance_type="r5.xlarge")
    od = make_pool("ig-od", requested=on_demand_units, market=Market.ON_DEMAND, instance_type="m5.xlarge")
    quote = PriceQuote("r5.xlarge", Market.SPOT, 0.08, 0.063, interruption_band=band)
    return make_snapshot(pools=[spot, od] if with_on_demand else [spot], prices=[quote])


def test_risky_spot_group_is_not_grown_when_on_demand_exists() -> None:
    """A Spot group whose band exceeds spot.max_interruption_band is refused growth with SPOT_RISK."""
    config = make_cluster_config(spot={"max_interruption_band": 2})
    decision = evaluate(spot_snapshot(band=3), ControllerMemory(), [Wants({"ig-spot": 5})], config)
    assert decision.plan.resizes == ()
    [rejection] = decision.rejections
    assert rejection.reason is RejectReason.SPOT_RISK
    assert "ig-od" in rejection.detail
    assert (rejection.wanted_units, rejection.allowed_units) == (5, 2)


def test_spot_growth_allowed_when_band_ok_unknown_or_no_alternative() -> None:
    """Growth proceeds at or under the band, with no band known, or with no on-demand pool that could grow."""
    config = make_cluster_config(spot={"max_interruption_band": 2}, limits={"max_task_units": 6})
    for snapshot in (
        spot_snapshot(band=2),
        spot_snapshot(band=None),
        spot_snapshot(band=4, with_on_demand=False),
        spot_snapshot(band=4, on_demand_units=6),
    ):
        decision = evaluate(snapshot, ControllerMemory(), [Wants({"ig-spot": 5})], config)
        assert targets(decision) == {"ig-spot": 5}, snapshot.prices


def test_risky_spot_group_may_still_shrink() -> None:
    """SPOT_RISK only refuses growth: shrinking a risky Spot group is unaffected."""
    config = make_cluster_config(spot={"max_interruption_band": 0}, guards={"scale_down_confirmations": 1})
    snapshot = spot_snapshot(band=4)
    nodes = [make_node(f"s{i}", "ig-spot") for i in range(2)]
    snapshot = make_snapshot(pools=snapshot.pools, prices=snapshot.prices, nodes=nodes)
    decision = evaluate(snapshot, ControllerMemory(), [Wants({"ig-spot": 1})], config)
    assert targets(decision) == {"ig-spot": 1}


def test_policies_see_the_tick_instant_even_without_yarn() -> None:
    """ctx.now is snapshot.taken_at, not the last metric sample's time, on a tick where YARN is missing."""
    policy = Wants()
    first = evaluate(make_snapshot(taken_at=T0), ControllerMemory(), [policy], make_cluster_config())
    evaluate(make_snapshot(taken_at=T0 + 90, yarn=None), first.memory, [policy], make_cluster_config())
    assert [ctx.now for ctx in policy.seen] == [T0, T0 + 90]
    assert policy.seen[1].history[-1].at == T0


def test_risky_spot_group_still_reaches_its_floor() -> None:
    """SPOT_RISK never keeps a Spot group under min_task_units: growth is cut back to the floor, not to nothing."""
    config = make_cluster_config(spot={"max_interruption_band": 2}, limits={"min_task_units": 3})
    alone = evaluate(spot_snapshot(band=4, on_demand_units=3), ControllerMemory(), [Wants()], config)
    assert targets(alone) == {"ig-spot": 3}
    assert alone.rejections == ()
    pushed = evaluate(spot_snapshot(band=4, on_demand_units=3), ControllerMemory(), [Wants({"ig-spot": 5})], config)
    assert targets(pushed) == {"ig-spot": 3}
    [rejection] = pushed.rejections
    assert (rejection.reason, rejection.wanted_units, rejection.allowed_units) == (RejectReason.SPOT_RISK, 5, 3)
