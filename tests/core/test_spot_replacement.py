"""Spot notices in the decision (`autoscaler.replacement`): a replacement at the two-minute warning,
counted against the target, given back once EMR refills the reclaimed instance, moved to another
pool when one keeps losing nodes; unknown instances ignored; guardrails hold."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from autoscaler.config import ClusterConfig
from autoscaler.engine import evaluate, record_outcomes
from autoscaler.memory_codec import decode_memory, encode_memory
from autoscaler.model import (
    Capacity,
    ClusterSnapshot,
    ControllerMemory,
    Decision,
    InstanceInfo,
    InterruptionNotice,
    Market,
    NoticeStatus,
    Outcome,
    OutcomeStatus,
    PoolKind,
    PoolRole,
    PoolState,
    PriceQuote,
    RejectReason,
)
from autoscaler.model import CapacityPool as Pool
from autoscaler.policy import Policy
from autoscaler.replacement import REPLACEMENT_POLICY
from autoscaler.testing import T0, Wants, make_cluster_config, make_instance, make_pool, make_snapshot

CONFIG = make_cluster_config(limits={"max_task_units": 10})
SPOT_PRICE = PriceQuote("m5.xlarge", Market.SPOT, 0.07, 0.048)
OD_PRICE = PriceQuote("m5.xlarge", Market.ON_DEMAND, 0.192, 0.048)
R5_SPOT = PriceQuote("r5.xlarge", Market.SPOT, 0.09, 0.063)


def warning(iid: str, at: float = T0, action: str = "terminate") -> InterruptionNotice:
    return InterruptionNotice(iid, action, at, at + 120)


def snap(
    pools: Sequence[Pool],
    instances: Sequence[InstanceInfo],
    notices: Sequence[InterruptionNotice] = (),
    at: float = T0,
    **kw: object,
) -> ClusterSnapshot:
    return make_snapshot(
        pools=pools,
        instances=instances,
        interruptions=notices,
        taken_at=at,
        prices=(SPOT_PRICE, OD_PRICE, R5_SPOT),
        **kw,  # type: ignore[arg-type]
    )


def task(n: int, pool_id: str = "ig-task", **kw: object) -> tuple[Pool, list[InstanceInfo]]:
    pool = make_pool(pool_id, requested=n, **kw)  # type: ignore[arg-type]
    return pool, [make_instance(f"i-{pool_id}-{k}", pool_id) for k in range(n)]


def tick(
    snapshot: ClusterSnapshot,
    memory: ControllerMemory,
    policies: Sequence[Policy] = (),
    config: ClusterConfig = CONFIG,
    status: OutcomeStatus = OutcomeStatus.APPLIED,
) -> tuple[dict[str, int], ControllerMemory, Decision]:
    decision = evaluate(snapshot, memory, policies, config)
    outcomes = [Outcome(r.pool_id, status) for r in decision.plan.resizes]
    memory = record_outcomes(decision.memory, outcomes, decision.plan, snapshot.taken_at, config)
    return {r.pool_id: r.target.total for r in decision.plan.resizes}, memory, decision


def test_a_warning_buys_one_replacement_at_once_and_says_what_it_costs() -> None:
    pool, instances = task(4)
    targets, memory, decision = tick(snap([pool], instances, [warning("i-ig-task-1")]), ControllerMemory())
    assert targets == {"ig-task": 5}  # the effective count excludes the leaving node: one unit restores it
    note = next(n for n in decision.notices if n.status is NoticeStatus.REPLACING)
    assert note.usd_per_hour == SPOT_PRICE.usd_per_hour
    assert "$0.118/h" in note.detail
    assert {n.status for n in decision.notices} == {NoticeStatus.NEW, NoticeStatus.REPLACING}
    assert "i-ig-task-1" in memory.replacements
    assert any(r.policy == REPLACEMENT_POLICY for r in decision.recommendations)


def test_the_replacement_is_counted_against_the_target_not_on_top_of_it() -> None:
    """A policy that already wants the unit back buys nothing more; one that wants more gets just that."""
    pool, instances = task(4)
    notice = [warning("i-ig-task-1")]
    assert tick(snap([pool], instances, notice), ControllerMemory(), [Wants({"ig-task": 5})])[0] == {"ig-task": 5}
    assert tick(snap([pool], instances, notice), ControllerMemory(), [Wants({"ig-task": 7})])[0] == {"ig-task": 7}
    # a pool the policies shrink is not replaced: the loss is part of the shrink
    _targets, memory, decision = tick(snap([pool], instances, notice), ControllerMemory(), [Wants({"ig-task": 2})])
    assert not memory.replacements
    assert NoticeStatus.NOT_REPLACED in {n.status for n in decision.notices}


def test_the_same_notice_buys_once_and_the_unit_is_given_back_when_emr_refills_it() -> None:
    pool, instances = task(4)
    notice = [warning("i-ig-task-1")]
    targets, memory, _ = tick(snap([pool], instances, notice), ControllerMemory())
    assert targets == {"ig-task": 5}
    # next tick: the replacement boots (RESIZING), the notice is still there: nothing more is bought
    booting = make_pool(requested=5, running=4, state=PoolState.RESIZING)
    targets, memory, decision = tick(snap([booting], instances, notice, at=T0 + 30), memory)
    assert targets == {}
    assert NoticeStatus.REPLACED in {n.status for n in decision.notices}
    # reclaimed: EMR holds 5 and launches a refill (2 booting, 3 running); the unit is given back at once
    gone = [i for i in instances if i.instance_id != "i-ig-task-1"]
    refill = make_pool(requested=5, running=3, provisioning=2, state=PoolState.RESIZING)
    targets, memory, decision = tick(snap([refill], gone, at=T0 + 150), memory)
    assert targets == {"ig-task": 4}
    resize = decision.plan.resizes[0]
    assert resize.instances_to_terminate == ()  # cancels what has not arrived, never drains
    assert not memory.replacements
    # and then nothing more happens
    settled = make_pool(requested=4, running=3, provisioning=1, state=PoolState.RESIZING)
    assert tick(snap([settled], gone, at=T0 + 180), memory)[0] == {}


def test_the_give_back_never_drains_running_nodes_nor_gives_back_twice() -> None:
    pool, instances = task(4)
    _, memory, _ = tick(snap([pool], instances, [warning("i-ig-task-1")]), ControllerMemory())
    gone = [i for i in instances if i.instance_id != "i-ig-task-1"] + [make_instance("i-new", "ig-task")]
    # everything arrived already (5 running): lowering would drain a node, so the unit stays, forgotten
    arrived = make_pool(requested=5, running=5)
    targets, memory, _ = tick(snap([arrived], gone, at=T0 + 900), memory)
    assert targets == {}
    assert not memory.replacements
    # EMR lowered the count itself (4): nothing is given back twice
    _, memory, _ = tick(snap([pool], instances, [warning("i-ig-task-1")]), ControllerMemory())
    lowered = make_pool(requested=4, running=3, provisioning=1)
    assert tick(snap([lowered], gone, at=T0 + 150), memory)[0] == {}


def test_a_notice_for_an_unknown_instance_is_ignored_and_logged() -> None:
    pool, instances = task(4)
    targets, memory, decision = tick(snap([pool], instances, [warning("i-elsewhere")]), ControllerMemory())
    assert targets == {}
    assert not memory.replacements
    ignored = [n for n in decision.notices if n.status is NoticeStatus.IGNORED]
    assert ignored
    assert "no instance i-elsewhere" in ignored[0].detail
    # no instance list at all (pools hold units): unknown, never "none": nothing bought, nothing given back
    targets, _, decision = tick(snap([pool], [], [warning("i-ig-task-1")]), ControllerMemory())
    assert targets == {}
    assert "instance list is unavailable" in decision.notices[-1].detail


def test_rebalance_recommendations_are_counted_not_replaced() -> None:
    pool, instances = task(4)
    targets, _, decision = tick(
        snap([pool], instances, [warning("i-ig-task-1", action="rebalance")]), ControllerMemory()
    )
    assert targets == {}
    assert [(n.kind, n.status) for n in decision.notices] == [
        ("rebalance", NoticeStatus.NEW),
        ("rebalance", NoticeStatus.NOT_REPLACED),
    ]


def test_a_stale_tick_notes_and_counts_but_buys_nothing() -> None:
    pool, instances = task(4)
    stale = snap([pool], instances, [warning("i-ig-task-1")], yarn=None)
    targets, memory, decision = tick(stale, ControllerMemory())
    assert targets == {}
    assert not memory.replacements
    assert NoticeStatus.WAITING in {n.status for n in decision.notices}
    # the next fresh tick still replaces, and the notice is not counted NEW twice
    targets, _, decision = tick(snap([pool], instances, [warning("i-ig-task-1")], at=T0 + 30), memory)
    assert targets == {"ig-task": 5}
    assert NoticeStatus.NEW not in {n.status for n in decision.notices}


def test_replacement_skips_the_scale_up_cooldown_but_not_the_maximum_or_a_backoff() -> None:
    pool, instances = task(4)
    recent = ControllerMemory().with_pool("ig-task", ControllerMemory().pool("ig-task"))
    cooling = recent.with_pool("ig-task", replace(recent.pool("ig-task"), last_scale_up_at=T0 - 10))
    assert tick(snap([pool], instances, [warning("i-ig-task-1")]), cooling)[0] == {"ig-task": 5}
    backing = recent.with_pool("ig-task", replace(recent.pool("ig-task"), backoff_until=T0 + 60))
    targets, _, decision = tick(snap([pool], instances, [warning("i-ig-task-1")]), backing)
    assert targets == {}
    assert RejectReason.BACKOFF in {r.reason for r in decision.rejections}
    assert NoticeStatus.WAITING in {n.status for n in decision.notices}
    full, full_instances = task(10)
    targets, _, decision = tick(snap([full], full_instances, [warning("i-ig-task-1")]), ControllerMemory())
    assert targets == {}
    assert RejectReason.ABOVE_MAX in {r.reason for r in decision.rejections}


def test_a_pool_that_keeps_losing_nodes_buys_elsewhere_and_gives_its_own_units_back() -> None:
    spot, spot_instances = task(4)
    other, other_instances = task(2, "ig-r5", instance_type="r5.xlarge")
    ondemand, od_instances = task(1, "ig-od", market=Market.ON_DEMAND)
    instances = [*spot_instances, *other_instances, *od_instances]
    pools = [spot, other, ondemand]
    memory = ControllerMemory()
    for k, iid in enumerate(("i-ig-task-0", "i-ig-task-1")):  # two warnings: replaced in place
        at = T0 + 1000 * k
        targets, memory, _ = tick(snap(pools, instances, [warning(iid, at)], at=at), memory)
        assert targets == {"ig-task": 5}  # (EMR is not moved here: each tick sees the pool at 4)
    third = T0 + 1500
    targets, memory, decision = tick(snap(pools, instances, [warning("i-ig-task-2", third)], at=third), memory)
    # a third warning within 30 min: bought in the cheapest other pool with room (r5 Spot, not on-demand)
    assert targets == {"ig-r5": 3}
    note = next(n for n in decision.notices if n.status is NoticeStatus.REPLACING)
    assert note.to_pool == "ig-r5"
    assert "spot.failover_after_notices=3" in note.detail
    # once the instance is gone, ig-task gives its unit back (EMR would refill it): the capacity moved
    gone = [i for i in instances if i.instance_id != "i-ig-task-2"]
    refilling = make_pool(requested=4, running=3, provisioning=1, state=PoolState.RESIZING)
    targets, memory, _ = tick(snap([refilling, other, ondemand], gone, at=third + 150), memory)
    assert targets["ig-task"] == 3


def test_a_fleet_fails_over_to_its_own_on_demand_side() -> None:
    fleet = make_pool("if-task", kind=PoolKind.INSTANCE_FLEET, requested=Capacity(0, 4))
    instances = [make_instance(f"i-{k}", "if-task") for k in range(4)]
    config = make_cluster_config(limits={"max_task_units": 10}, spot={"failover_after_notices": 1})
    _targets, _, decision = tick(snap([fleet], instances, [warning("i-1")]), ControllerMemory(), config=config)
    resize = decision.plan.resizes[0]
    assert (resize.target.on_demand, resize.target.spot) == (1, 4)


def test_an_interruption_storm_never_buys_past_the_max_drops_core_or_resizes_a_pool_twice() -> None:
    """Every Spot node of every pool warned in one tick (the fault suite's interruption storm); each
    applied plan moves the pools as EMR would (new count, RESIZING until the next tick's check)."""
    config = make_cluster_config(
        limits={
            "max_task_units": 12,
            "max_step_up_units": 5,
            "min_core_units": 3,
            "max_core_units": 6,
            "max_on_demand_units": 4,
        },
        guards={"scale_core": True, "dfs_replication": 2},
        spot={"failover_after_notices": 2},
    )
    core = make_pool("ig-core", role=PoolRole.CORE, requested=4)
    tasks = [make_pool(f"ig-t{k}", requested=8, instance_type=t) for k, t in enumerate(("m5.xlarge", "r5.xlarge"))]
    od = make_pool("ig-od", requested=2, market=Market.ON_DEMAND)
    pools = {p.pool_id: p for p in (core, *tasks, od)}
    instances = [
        make_instance(f"i-{p.pool_id}-{k}", p.pool_id, market=p.market or Market.SPOT)
        for p in pools.values()
        for k in range(p.requested.total)
    ]
    storm = [warning(i.instance_id) for i in instances if i.market is Market.SPOT]
    memory, writes = ControllerMemory(), 0
    for k in range(6):  # the storm stays in the snapshot for the whole two minutes
        at = T0 + 20 * k
        _targets, memory, decision = tick(
            snap(list(pools.values()), instances, storm, at=at), memory, [Wants({})], config
        )
        resizes = decision.plan.resizes
        assert len({r.pool_id for r in resizes}) == len(resizes)
        writes += len(resizes)
        for r in resizes:
            pool = pools[r.pool_id]
            assert pool.state is PoolState.RUNNING  # never a second write into a pool still resizing
            assert r.target.total <= (6 if pool.role is PoolRole.CORE else 12)
            assert r.target.total - r.current.total <= 5
            assert pool.role is not PoolRole.CORE or r.target.total >= 4
            pools[r.pool_id] = replace(pool, requested=r.target, state=PoolState.RESIZING)
    # core and each task pool once; once both Spot task pools are full, the failover reaches on-demand,
    # capped by limits.max_on_demand_units
    assert writes == 4
    assert pools["ig-core"].requested.total == 6
    assert [pools[p].requested.total for p in ("ig-t0", "ig-t1", "ig-od")] == [12, 12, 4]


def test_replacements_travel_with_the_memory() -> None:
    pool, instances = task(4)
    _, memory, _ = tick(snap([pool], instances, [warning("i-ig-task-1")]), ControllerMemory())
    assert decode_memory(encode_memory(memory)) == memory


def test_a_policy_does_not_take_the_replacement_back_while_the_noticed_node_is_still_leaving() -> None:
    """A static 4 on a pool at 5 (4 + the replacement, the noticed node still there) holds until it is gone."""
    pool, instances = task(4)
    _, memory, _ = tick(snap([pool], instances, [warning("i-ig-task-1")]), ControllerMemory(), [Wants({"ig-task": 4})])
    five = make_pool(requested=5, running=5)
    more = [*instances, make_instance("i-new", "ig-task")]
    targets, _, decision = tick(
        snap([five], more, [warning("i-ig-task-1")], at=T0 + 60), memory, [Wants({"ig-task": 4})]
    )
    assert targets == {}
    held = [r for r in decision.rejections if r.reason is RejectReason.SUPERSEDED and r.policy == "wants"]
    assert held
    assert "i-ig-task-1 (replaced here) is still leaving" in held[0].detail


def test_a_warning_for_an_on_demand_instance_is_ignored() -> None:
    """EC2 warns only Spot instances: a message naming an on-demand one is not grounds to buy."""
    pool, _ = task(2, market=Market.ON_DEMAND)
    instances = [make_instance(f"i-ig-task-{k}", market=Market.ON_DEMAND) for k in range(2)]
    targets, _, decision = tick(snap([pool], instances, [warning("i-ig-task-1")]), ControllerMemory())
    assert targets == {}
    assert [n.detail for n in decision.notices if n.status is NoticeStatus.IGNORED] == [
        "i-ig-task-1 is not a Spot instance"
    ]


def test_in_a_scale_up_cooldown_only_the_replacement_passes() -> None:
    """A policy's own growth still waits for guards.cooldown_up_s; the replaced unit does not."""
    pool, instances = task(4)
    cooling = ControllerMemory().with_pool("ig-task", replace(ControllerMemory().pool("ig-task"), last_scale_up_at=T0))
    notice = [warning("i-ig-task-1", T0 + 10)]
    targets, _, decision = tick(snap([pool], instances, notice, at=T0 + 10), cooling, [Wants({"ig-task": 9})])
    assert targets == {"ig-task": 5}
    (cut,) = [r for r in decision.rejections if r.reason is RejectReason.COOLDOWN_UP]
    assert (cut.wanted_units, cut.allowed_units) == (9, 5)


def test_several_replacements_bought_together_are_given_back_together() -> None:
    pool, instances = task(4)
    warned = [warning(f"i-ig-task-{k}") for k in range(3)]
    targets, memory, _ = tick(snap([pool], instances, warned), ControllerMemory())
    assert targets == {"ig-task": 7}
    survivors = [instances[3]]
    refilling = make_pool(requested=7, running=4, provisioning=3, state=PoolState.RESIZING)
    targets, memory, _ = tick(snap([refilling], survivors, at=T0 + 150), memory)
    assert targets == {"ig-task": 4}
    assert not memory.replacements
