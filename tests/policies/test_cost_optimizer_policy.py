"""cost-optimizer as the engine runs it: what it buys, holds, releases and refuses, and why."""

from __future__ import annotations

import pytest
from policy_ctx import make_ctx

from autoscaler.config import PolicySpec
from autoscaler.engine import evaluate
from autoscaler.model import (
    AppInfo,
    ControllerMemory,
    Market,
    PendingRequest,
    PriceQuote,
    Recommendation,
    Rejection,
    RejectReason,
    Resources,
)
from autoscaler.policy import guard_profile, load_policy
from autoscaler.testing import T0, make_cluster_config, make_instance, make_node, make_pool, make_snapshot, sample
from policies.cost_optimizer import CostOptimizerPolicy

M5 = Resources(12288, 4)


def _spot(itype: str, usd: float) -> PriceQuote:
    return PriceQuote(itype, Market.SPOT, usd, 0.0, interruption_band=1)


def _waiting(n: int, mb: int = 4096, state: str = "RUNNING", submitted_at: float | None = None) -> AppInfo:
    return AppInfo(
        "application_1_0001", state, pending=(PendingRequest(Resources(mb, 1), n),), submitted_at=submitted_at
    )


def _full(host: str, pool_id: str = "ig-a") -> object:
    return make_node(host, pool_id, containers=3, used=M5, available=Resources(0, 0))


def _run(pools, apps, *, nodes=(), prices=(), options=None, history=(), instances=()):  # type: ignore[no-untyped-def]
    snap = make_snapshot(pools=pools, apps=apps, nodes=nodes, prices=prices, instances=instances)
    out = list(CostOptimizerPolicy.from_options(options or {}).evaluate(snap, make_ctx(pools, history)))
    return [r for r in out if isinstance(r, Recommendation)], [r for r in out if isinstance(r, Rejection)]


def test_loads_through_the_entry_point_with_range_checked_options() -> None:
    policy = load_policy(PolicySpec(type="cost-optimizer", options={"target_p95_wait_s": 120}))
    assert policy.name == "cost-optimizer"
    for bad in ({"target_p95_wait_s": -1}, {"budget_usd_per_hour": 0}, {"price_improvement_factor": 0.5}, {"nope": 1}):
        with pytest.raises(ValueError, match="options"):
            load_policy(PolicySpec(type="cost-optimizer", options=bad))


def test_grows_the_cheaper_of_two_spot_groups_and_says_why() -> None:
    a = make_pool("ig-a", requested=1, instance_type="m5.xlarge")
    b = make_pool("ig-b", requested=0, instance_type="m5a.xlarge")
    recs, _ = _run(
        [a, b],
        [_waiting(9)],
        nodes=[_full("a1")],
        prices=[_spot("m5.xlarge", 0.12), _spot("m5a.xlarge", 0.06)],
        options={"target_p95_wait_s": 0},
    )
    grow = [r for r in recs if r.target_units > (1 if r.pool_id == "ig-a" else 0)]
    assert [(r.pool_id, r.target_units) for r in grow] == [("ig-b", 3)]
    assert "m5a.xlarge Spot (ig-b)" in grow[0].reason
    assert "cheaper than m5.xlarge Spot (ig-a)" in grow[0].reason


def test_a_backlog_that_clears_within_the_target_buys_nothing() -> None:
    """36 GB pending on one full node whose containers complete 0.67%/s of its memory (82 MB/s): it clears
    in about 450 s, after a boot but before the 60 s old backlog reaches target 900: hold. 120 GB would take
    1,500 s: buy."""
    pool = make_pool("ig-a", requested=1)
    history = [sample(T0 - 60 + 30 * i, pending_mb=36864 + 2457 * (2 - i), allocated_mb=12288) for i in range(3)]
    kwargs = {"nodes": [_full("a1")], "prices": [_spot("m5.xlarge", 0.1)], "history": history}
    recs, _ = _run([pool], [_waiting(9)], options={"target_p95_wait_s": 900}, **kwargs)  # type: ignore[arg-type]
    assert [(r.pool_id, r.target_units) for r in recs] == [("ig-a", 1)]
    assert "within target_p95_wait_s 900" in recs[0].reason
    recs, _ = _run([pool], [_waiting(30)], options={"target_p95_wait_s": 900}, **kwargs)  # type: ignore[arg-type]
    assert recs[0].target_units > 1


def test_a_backlog_seen_once_is_measured_before_buying_unless_the_target_is_zero() -> None:
    pool = make_pool("ig-a", requested=1)
    args = {"nodes": [_full("a1")], "prices": [_spot("m5.xlarge", 0.1)]}
    recs, _ = _run([pool], [_waiting(9)], options={"target_p95_wait_s": 60}, **args)  # type: ignore[arg-type]
    assert [(r.pool_id, r.target_units) for r in recs] == [("ig-a", 1)]
    assert "measuring its drain first" in recs[0].reason
    recs, _ = _run([pool], [_waiting(9)], options={"target_p95_wait_s": 0}, **args)  # type: ignore[arg-type]
    assert [(r.pool_id, r.target_units) for r in recs] == [("ig-a", 4)]


def test_a_shape_no_node_holds_is_rejected_and_buys_nothing() -> None:
    pool = make_pool("ig-a", requested=1)
    recs, rejections = _run(
        [pool],
        [_waiting(2, mb=65536)],
        nodes=[_full("a1")],
        prices=[_spot("m5.xlarge", 0.1)],
        options={"target_p95_wait_s": 0},
    )
    assert all(r.target_units == 1 for r in recs)
    assert [r.reason for r in rejections] == [RejectReason.UNSCHEDULABLE_SHAPE]
    assert "65536 MB" in rejections[0].detail


def test_budget_binds_through_the_policy() -> None:
    pool = make_pool("ig-a", requested=1)
    recs, rejections = _run(
        [pool],
        [_waiting(30)],
        nodes=[_full("a1")],
        instances=[make_instance("i-a1", "ig-a")],
        prices=[_spot("m5.xlarge", 0.5)],
        options={"target_p95_wait_s": 0, "budget_usd_per_hour": 2.0},
    )
    assert [(r.pool_id, r.target_units) for r in recs] == [("ig-a", 4)]  # $0.50 now + 3 × $0.50 = $2.00
    (rej,) = rejections
    assert rej.reason is RejectReason.BUDGET
    assert (rej.wanted_units, rej.allowed_units) == (11, 4)
    assert "budget_usd_per_hour $2" in rej.detail


def test_scale_in_sets_the_decommission_timeout_through_the_engine() -> None:
    pool = make_pool("ig-a", requested=2)
    nodes = [make_node("a1", "ig-a"), make_node("a2", "ig-a", containers=2)]
    snap = make_snapshot(
        pools=[pool],
        nodes=nodes,
        instances=[make_instance("i-a1", "ig-a"), make_instance("i-a2", "ig-a")],
        prices=[_spot("m5.xlarge", 0.1)],
    )
    config = make_cluster_config(
        policies=[{"type": "cost-optimizer", "options": {}}], guards={"scale_down_confirmations": 1}, pools=["ig-a"]
    )
    memory = ControllerMemory(
        samples=tuple(sample(T0 - 1800 + 30 * i, pending_mb=0, available_mb=20000) for i in range(60))
    )
    decision = evaluate(snap, memory, [CostOptimizerPolicy.from_options({})], config)
    (resize,) = decision.plan.resizes
    assert resize.target.total == 1
    assert resize.instances_to_terminate == ("i-a1",)
    assert resize.decommission_timeout_s == 300  # min_decommission_timeout_s, not the config's 3600
    assert "[scale-in]" in resize.reason
    assert "saves $" in resize.reason


def _arrivals(n: int, every_s: float) -> list[AppInfo]:
    """`n` finished-looking apps submitted every `every_s` up to now: a job rate with nothing pending."""
    return [AppInfo(f"application_1_{i + 1:04d}", "RUNNING", submitted_at=T0 - every_s * (n - i)) for i in range(n)]


def test_the_buffer_is_never_bought_alone_but_rides_along_with_a_purchase() -> None:
    """Target 0 wants a buffer for the jobs arriving every 15 s, but buying it alone would lock the pool for
    a boot: nothing is bought without a backlog. With one, the purchase adds a boot's first containers."""
    pool = make_pool("ig-a", requested=1)
    jobs = _arrivals(40, 15.0)
    recs, _ = _run(
        [pool], jobs, nodes=[_full("a1")], prices=[_spot("m5.xlarge", 0.1)], options={"target_p95_wait_s": 0}
    )
    assert all(r.target_units <= 1 for r in recs)
    backlog = [*jobs, _waiting(3)]
    recs, _ = _run(
        [pool], backlog, nodes=[_full("a1")], prices=[_spot("m5.xlarge", 0.1)], options={"target_p95_wait_s": 0}
    )
    (grow,) = [r for r in recs if r.target_units > 1]
    assert "lock cover" in grow.reason
    assert grow.target_units > 2  # 3 × 4 GB fit one new node; the cover adds room for ~22 jobs' first containers


def test_a_spot_group_at_its_maximum_is_waited_for_not_replaced_by_on_demand() -> None:
    spot = make_pool("ig-spot", market=Market.SPOT, requested=1)
    od = make_pool("ig-od", market=Market.ON_DEMAND, requested=0)
    prices = [_spot("m5.xlarge", 0.1), PriceQuote("m5.xlarge", Market.ON_DEMAND, 0.24, 0.0)]
    snap = make_snapshot(pools=[spot, od], apps=[_waiting(30)], nodes=[_full("s1", "ig-spot")], prices=prices)
    ctx = make_ctx([spot, od], (), limits={"max_task_units": 1})
    out = list(CostOptimizerPolicy.from_options({"target_p95_wait_s": 0}).evaluate(snap, ctx))
    assert [(r.pool_id, r.target_units) for r in out if isinstance(r, Recommendation)] == [
        ("ig-spot", 1),
        ("ig-od", 0),
    ]
    assert "at its maximum" in out[0].reason  # type: ignore[union-attr]


def test_runs_on_its_own_timing_unless_the_operator_says_ours() -> None:
    assert guard_profile(load_policy(PolicySpec(type="cost-optimizer"))) == "vendor"
    assert guard_profile(load_policy(PolicySpec(type="cost-optimizer", guards="ours"))) == "ours"
