"""Guardrails: each limit trims or stops a wish and names why."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from autoscaler.bounds import dfs_replication_floor
from autoscaler.config import ClusterConfig
from autoscaler.guardrails import _confirmations, apply_guardrails
from autoscaler.model import (
    Capacity,
    CapacityPool,
    ControllerMemory,
    Market,
    NodeInfo,
    Plan,
    PoolKind,
    PoolMemory,
    PoolRole,
    PoolState,
    Recommendation,
    Rejection,
    RejectReason,
)
from autoscaler.testing import T0, make_cluster_config, make_node, make_pool, make_snapshot


def run(
    pool: CapacityPool,
    target: int,
    *,
    config: ClusterConfig | None = None,
    memory: ControllerMemory | None = None,
    nodes: list[NodeInfo] | None = None,
    others: tuple[CapacityPool, ...] = (),
    market: Market | None = None,
    cloudwatch: dict[str, float] | None = None,
) -> tuple[Plan, list[Rejection], ControllerMemory]:
    snapshot = make_snapshot(pools=(pool, *others), nodes=nodes or [], cloudwatch=cloudwatch)
    wanted = {pool.pool_id: Recommendation("p", pool.pool_id, target, "because", market)}
    return apply_guardrails(snapshot, wanted, memory or ControllerMemory(), config or cfg())


def cfg(confirmations: int = 1, **overrides: Any) -> ClusterConfig:
    guards = {"scale_down_confirmations": confirmations, **overrides.pop("guards", {})}
    return make_cluster_config(guards=guards, **overrides)


def idle_nodes(n: int, pool_id: str = "ig-task") -> list[NodeInfo]:
    return [make_node(f"h{i}", pool_id) for i in range(n)]


def reasons(rejections: list[Rejection]) -> list[RejectReason]:
    return [r.reason for r in rejections]


def target_of(plan: Plan) -> int | None:
    return plan.resizes[0].target.total if plan.resizes else None


@pytest.mark.parametrize(
    ("current", "wanted", "limits", "expected", "reason"),
    [
        (5, 10, {"max_task_units": 6}, 6, RejectReason.ABOVE_MAX),
        (5, 1, {"min_task_units": 3}, 3, RejectReason.BELOW_MIN),
        (8, 10, {"max_task_units": 6}, None, RejectReason.ABOVE_MAX),  # a ceiling never turns up into down
        (8, 7, {"max_task_units": 6}, 6, RejectReason.ABOVE_MAX),  # over-max pool lowered when less is wanted
        (2, 20, {"max_task_units": 40, "max_step_up_units": 10}, 12, RejectReason.STEP_LIMIT),
        (10, 2, {"max_step_down_units": 5}, 5, RejectReason.STEP_LIMIT),
    ],
)
def test_task_bounds_and_steps(
    current: int, wanted: int, limits: dict[str, int], expected: int | None, reason: RejectReason
) -> None:
    """Task targets are clamped into [min, max] and moved at most one step per tick, with the cause named."""
    pool = make_pool(requested=current)
    plan, rejections, _ = run(pool, wanted, config=cfg(limits=limits), nodes=idle_nodes(current))
    assert target_of(plan) == expected
    assert reasons(rejections) == [reason]
    assert rejections[0].wanted_units == wanted
    assert rejections[0].allowed_units == (expected if expected is not None else current)


@pytest.mark.parametrize(
    ("core_units", "dfs_replication", "min_core", "expected_floor"),
    [(3, 1, 0, 1), (5, 2, 0, 2), (12, 3, 0, 3), (12, 2, 0, 2), (5, 2, 4, 4)],
)
def test_core_floor_follows_dfs_replication(
    core_units: int, dfs_replication: int, min_core: int, expected_floor: int
) -> None:
    """Core never shrinks below max(min_core_units, dfs.replication) when HDFS is nearly empty."""
    pool = make_pool("ig-core", role=PoolRole.CORE, requested=core_units)
    config = cfg(
        limits={"min_core_units": min_core, "max_core_units": 20},
        guards={"scale_core": True, "dfs_replication": dfs_replication},
    )
    plan, rejections, _ = run(
        pool, 0, config=config, nodes=idle_nodes(core_units, "ig-core"), cloudwatch={"HDFSUtilization": 0.0}
    )
    assert reasons(rejections)[0] is RejectReason.CORE_FLOOR
    expected = max(expected_floor, core_units - config.limits.max_step_down_units)
    assert target_of(plan) == (expected if expected < core_units else None)
    assert rejections[0].allowed_units == expected_floor


@pytest.mark.parametrize(
    ("utilization", "expected_floor"),
    [(None, 10), (40.0, 5), (41.0, 6), (80.0, 10), (95.0, 10)],
)
def test_core_floor_keeps_room_for_hdfs_data(utilization: float | None, expected_floor: int) -> None:
    """Core keeps the nodes HDFS needs under max_hdfs_utilization_pct (80); unknown usage keeps them all."""
    pool = make_pool("ig-core", role=PoolRole.CORE, requested=10)
    config = cfg(
        limits={"max_core_units": 20, "max_step_down_units": 10},
        guards={"scale_core": True, "dfs_replication": 2},
    )
    cloudwatch = None if utilization is None else {"HDFSUtilization": utilization}
    plan, rejections, _ = run(pool, 0, config=config, nodes=idle_nodes(10, "ig-core"), cloudwatch=cloudwatch)
    assert reasons(rejections)[0] is RejectReason.CORE_FLOOR
    assert rejections[0].allowed_units == expected_floor
    assert target_of(plan) == (expected_floor if expected_floor < 10 else None)


def test_scale_core_requires_dfs_replication() -> None:
    """scale_core without dfs_replication is a config error naming the key: EMR's launch-time value is unknowable."""
    with pytest.raises(ValueError, match="dfs_replication: must be set when scale_core is true"):
        cfg(guards={"scale_core": True})


def test_dfs_rule_boundaries() -> None:
    """EMR's default replication: 1 for 1–3 core nodes, 2 for 4–9, 3 for 10+."""
    assert [dfs_replication_floor(n) for n in (1, 3, 4, 9, 10, 40)] == [1, 1, 2, 2, 3, 3]


def test_core_not_shrunk_without_scale_core() -> None:
    """A CORE pool reaching guardrails without guards.scale_core may grow but never shrink."""
    pool = make_pool("ig-core", role=PoolRole.CORE, requested=5)
    config = cfg(limits={"max_core_units": 6})
    plan, rejections, _ = run(pool, 3, config=config, nodes=idle_nodes(5, "ig-core"))
    assert plan.empty
    assert reasons(rejections) == [RejectReason.CORE_NOT_ENABLED]
    plan, rejections, _ = run(pool, 9, config=config)
    assert target_of(plan) == 6
    assert reasons(rejections) == [RejectReason.ABOVE_MAX]


def test_core_without_max_does_not_grow() -> None:
    """limits.max_core_units = 0 means core stays at its size even when more is wanted."""
    pool = make_pool("ig-core", role=PoolRole.CORE, requested=3)
    plan, rejections, _ = run(pool, 5, config=cfg(guards={"scale_core": True, "dfs_replication": 1}))
    assert plan.empty
    assert reasons(rejections) == [RejectReason.ABOVE_MAX]


@pytest.mark.parametrize(
    "state",
    [PoolState.RESIZING, PoolState.SUSPENDED, PoolState.PROVISIONING, PoolState.BOOTSTRAPPING, PoolState.ARRESTED],
)
def test_busy_pool_is_left_alone(state: PoolState) -> None:
    """Only a RUNNING pool is written to; every other state is POOL_BUSY."""
    plan, rejections, _ = run(make_pool(requested=2, state=state), 4)
    assert plan.empty
    assert reasons(rejections) == [RejectReason.POOL_BUSY]
    assert state.value in rejections[0].detail


def test_backoff_blocks_until_it_expires() -> None:
    """A pool backing off after a failure is not resized until backoff_until has passed."""
    pool = make_pool(requested=2)
    mem = ControllerMemory().with_pool("ig-task", PoolMemory(backoff_until=T0 + 10, consecutive_failures=1))
    plan, rejections, _ = run(pool, 4, memory=mem)
    assert plan.empty
    assert reasons(rejections) == [RejectReason.BACKOFF]
    mem = ControllerMemory().with_pool("ig-task", PoolMemory(backoff_until=T0, consecutive_failures=1))
    plan, rejections, _ = run(pool, 4, memory=mem)
    assert target_of(plan) == 4
    assert rejections == []


@pytest.mark.parametrize(("ago", "blocked"), [(60, True), (119, True), (120, False), (600, False)])
def test_cooldown_up(ago: float, blocked: bool) -> None:
    """A scale-up waits guards.cooldown_up_s (120 s) after the previous scale-up."""
    mem = ControllerMemory().with_pool("ig-task", PoolMemory(last_scale_up_at=T0 - ago))
    plan, rejections, _ = run(make_pool(requested=2), 4, memory=mem)
    assert plan.empty is blocked
    assert reasons(rejections) == ([RejectReason.COOLDOWN_UP] if blocked else [])


def test_cooldown_up_ignores_scale_down() -> None:
    """A recent scale-in does not delay a scale-up (demand must be served)."""
    mem = ControllerMemory().with_pool("ig-task", PoolMemory(last_scale_down_at=T0 - 1))
    plan, _, _ = run(make_pool(requested=2), 4, memory=mem)
    assert target_of(plan) == 4


@pytest.mark.parametrize(
    ("last", "blocked"),
    [
        (PoolMemory(last_scale_up_at=T0 - 100), True),
        (PoolMemory(last_scale_down_at=T0 - 299), True),
        (PoolMemory(last_scale_up_at=T0 - 900, last_scale_down_at=T0 - 300), False),
    ],
)
def test_cooldown_down_counts_any_resize(last: PoolMemory, blocked: bool) -> None:
    """A scale-in waits guards.cooldown_down_s (300 s) after a resize in either direction."""
    mem = ControllerMemory().with_pool("ig-task", last)
    plan, rejections, _ = run(make_pool(requested=4), 2, memory=mem, nodes=idle_nodes(4))
    assert plan.empty is blocked
    assert reasons(rejections) == ([RejectReason.COOLDOWN_DOWN] if blocked else [])


def test_scale_in_needs_consecutive_confirmations() -> None:
    """A scale-in happens on the 3rd consecutive tick it is wanted; a tick not wanting it resets the count."""
    pool, config, nodes = make_pool(requested=4), cfg(confirmations=3), idle_nodes(4)
    mem = ControllerMemory()
    seen = []
    for target in (2, 2, 4, 2, 2, 2):
        plan, rejections, mem = run(pool, target, config=config, memory=mem, nodes=nodes)
        seen.append((target_of(plan), reasons(rejections), mem.pool("ig-task").down_confirmations))
    awaiting = [RejectReason.AWAITING_CONFIRMATION]
    assert seen == [
        (None, awaiting, 1),
        (None, awaiting, 2),
        (None, [], 0),
        (None, awaiting, 1),
        (None, awaiting, 2),
        (2, [], 3),
    ]


def test_confirmations_reset_when_pool_has_no_wish() -> None:
    """A pool absent from this tick's wishes loses its scale-in confirmations."""
    mem = ControllerMemory().with_pool("ig-task", PoolMemory(down_confirmations=2, down_wanted_since=T0 - 60))
    _, _, mem = apply_guardrails(make_snapshot(), {}, mem, cfg(confirmations=3))
    assert mem.pool("ig-task") == PoolMemory()


def test_on_demand_cap_trims_a_group() -> None:
    """limits.max_on_demand_units counts on-demand units in other pools and trims an on-demand group."""
    pool = make_pool(market=Market.ON_DEMAND, requested=3)
    core = make_pool("ig-core", role=PoolRole.CORE, market=Market.ON_DEMAND, requested=2)
    plan, rejections, _ = run(pool, 8, config=cfg(limits={"max_on_demand_units": 6}), others=(core,))
    assert plan.resizes[0].target == Capacity(on_demand=4)
    assert reasons(rejections) == [RejectReason.ABOVE_MAX]
    assert "max_on_demand_units" in rejections[0].detail


def test_on_demand_cap_moves_fleet_excess_to_spot() -> None:
    """On a fleet, on-demand units over the cap become Spot units instead of being refused."""
    fleet = make_pool("if-task", kind=PoolKind.INSTANCE_FLEET, requested=Capacity(1, 0))
    config = cfg(limits={"max_on_demand_units": 2}, spot={"prefer_spot": False})
    plan, rejections, _ = run(fleet, 5, config=config)
    assert plan.resizes[0].target == Capacity(on_demand=2, spot=3)
    assert rejections == []


def test_shrink_cancels_provisioning_before_draining() -> None:
    """Units still provisioning are given up first; no running node is named for them."""
    pool = make_pool(requested=6, running=4)
    plan, rejections, _ = run(pool, 4, nodes=idle_nodes(4))
    assert plan.resizes[0].target.total == 4
    assert plan.resizes[0].instances_to_terminate == ()
    plan, _, _ = run(pool, 3, nodes=idle_nodes(4))
    assert plan.resizes[0].target.total == 3
    assert len(plan.resizes[0].instances_to_terminate) == 1
    assert rejections == []


def test_shrink_limited_to_removable_nodes() -> None:
    """A group shrinks only by as many nodes as are idle; the rest is NO_REMOVABLE_NODES."""
    nodes = [make_node("h0"), make_node("h1", containers=3), make_node("h2", hosts_am=True), make_node("h3")]
    plan, rejections, _ = run(make_pool(requested=4), 0, nodes=nodes)
    resize = plan.resizes[0]
    assert resize.target.total == 2
    assert sorted(resize.instances_to_terminate) == ["i-h0", "i-h3"]
    assert resize.instances_to_protect == ("i-h2",)
    assert resize.decommission_timeout_s == 3600
    assert reasons(rejections) == [RejectReason.NO_REMOVABLE_NODES]
    assert (rejections[0].wanted_units, rejections[0].allowed_units) == (0, 2)


def test_no_idle_nodes_means_no_resize() -> None:
    """With every node busy, a scale-in of a group is refused entirely."""
    nodes = [make_node(f"h{i}", containers=1) for i in range(3)]
    plan, rejections, _ = run(make_pool(requested=3), 1, nodes=nodes)
    assert plan.empty
    assert reasons(rejections) == [RejectReason.NO_REMOVABLE_NODES]


def test_fleet_shrinks_without_victims() -> None:
    """Fleets have no per-instance choice: the target drops with no named instances."""
    fleet = make_pool("if-task", kind=PoolKind.INSTANCE_FLEET, requested=Capacity(1, 4))
    nodes = [make_node(f"h{i}", "if-task", containers=1) for i in range(5)]
    plan, rejections, _ = run(fleet, 2, nodes=nodes, config=cfg(spot={"on_demand_base_units": 1}))
    assert plan.resizes[0].target == Capacity(on_demand=1, spot=1)
    assert plan.resizes[0].instances_to_terminate == ()
    assert rejections == []


def test_scale_up_resize_is_absolute_on_group_market() -> None:
    """A group's resize carries absolute current and target counts on its own market, no shrink policy."""
    plan, _, _ = run(make_pool(market=Market.ON_DEMAND, requested=2), 5)
    resize = plan.resizes[0]
    assert (resize.current, resize.target) == (Capacity(on_demand=2), Capacity(on_demand=5))
    assert resize.is_scale_up
    assert resize.decommission_timeout_s is None
    assert resize.reason == "p: because"


def test_unchanged_target_plans_nothing() -> None:
    """A wish equal to the current size is not a resize and not a rejection."""
    plan, rejections, _ = run(make_pool(requested=3), 3)
    assert plan.empty
    assert rejections == []


def test_counting_a_scale_in_confirmation_keeps_every_other_timer_of_the_pool() -> None:
    """`_confirmations` builds the pool's memory field by field (not with `replace`): a timer it forgot,
    or one added to PoolMemory later, would silently reset; every field is set to a distinct value here."""
    values = {f.name: 100.0 + i for i, f in enumerate(dataclasses.fields(PoolMemory))}
    values.update(down_confirmations=1, consecutive_failures=2)
    mem = PoolMemory(**values)  # type: ignore[arg-type]
    counted = _confirmations(mem, True, T0, 3)
    assert counted == dataclasses.replace(mem, down_confirmations=2)  # down_wanted_since already set: kept
    fresh = _confirmations(dataclasses.replace(mem, down_wanted_since=None), True, T0, 3)
    assert fresh == dataclasses.replace(mem, down_confirmations=2, down_wanted_since=T0)
