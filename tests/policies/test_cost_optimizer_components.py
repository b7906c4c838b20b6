"""Table tests for each of cost-optimizer's decisions, one pure component at a time."""

from __future__ import annotations

import pytest
from policy_ctx import make_ctx

from autoscaler.boots import measured_boot_s, observe_boots
from autoscaler.model import (
    AppInfo,
    ControllerMemory,
    InstanceState,
    InterruptionNotice,
    Market,
    PendingRequest,
    PoolMemory,
    PoolState,
    PriceQuote,
    Resources,
)
from autoscaler.testing import T0, make_instance, make_node, make_pool, make_snapshot, sample
from policies.cost_optimizer.backlog import Capacity, arrivals, boot_estimates, forecast, least_work_s, throughput
from policies.cost_optimizer.budget import cap, spend_rate
from policies.cost_optimizer.buffer import arrival_rate, size_buffer
from policies.cost_optimizer.pricing import build_offers, choose
from policies.cost_optimizer.scale_in import plan_release

M5 = Resources(12288, 4)
R5 = Resources(24576, 4)


def _quote(itype: str, market: Market, usd: float, band: int | None = None) -> PriceQuote:
    return PriceQuote(itype, market, usd, 0.0, interruption_band=band if market is Market.SPOT else None)


def _offers(pools, prices, *, memory=None, instances=(), interruptions=(), rerun_s=900.0):  # type: ignore[no-untyped-def]
    snap = make_snapshot(pools=pools, prices=prices, instances=instances, interruptions=interruptions)
    boots = {p.pool_id: 330.0 for p in pools}
    offers, notes = build_offers(snap, pools, memory or ControllerMemory(), boots, rerun_s)
    return offers, notes


@pytest.mark.parametrize(
    ("a_usd", "a_band", "b_usd", "b_band", "winner"),
    [
        (0.10000, 4, 0.10005, 0, "ig-b"),  # A is cheaper per hour, but its band-4 risk costs more than the gap
        (0.10000, 0, 0.10005, 0, "ig-a"),  # same risk: the cheaper wins
        (0.10000, 4, 0.10100, 0, "ig-a"),  # a 1% gap is more than the risk penalty
        (0.10000, None, 0.10002, 0, "ig-b"),  # unknown band is priced as band 2, never as no risk
    ],
)
def test_cheapest_pool_wins_after_the_risk_penalty(
    a_usd: float, a_band: int | None, b_usd: float, b_band: int, winner: str
) -> None:
    pools = [
        make_pool("ig-a", requested=0, instance_type="m5.xlarge"),
        make_pool("ig-b", requested=0, instance_type="m5a.xlarge"),
    ]
    prices = [_quote("m5.xlarge", Market.SPOT, a_usd, a_band), _quote("m5a.xlarge", Market.SPOT, b_usd, b_band)]
    offers, _ = _offers(pools, prices, rerun_s=7200)
    best, why = choose(offers, {Resources(1024, 0): 10}, 1.15)
    assert best is not None
    assert best.pool.pool_id == winner
    assert "per usable GB-hour" in why


def test_a_live_interruption_notice_scores_the_type_at_the_worst_band() -> None:
    pool = make_pool("ig-a", requested=1)
    notice = InterruptionNotice("i-x", "terminate", T0, T0 + 120)
    offers, _ = _offers(
        [pool], [_quote("m5.xlarge", Market.SPOT, 0.1, 0)], instances=[make_instance("i-x")], interruptions=[notice]
    )
    assert offers[0].band == 4


@pytest.mark.parametrize(
    ("shape_mb", "winner"),
    [
        (7168, "r5.xlarge"),  # 1 per m5 (5 GB stranded), 3 per r5: r5 is cheaper per usable GB
        (4096, "m5.xlarge"),  # 3 per m5, 6 per r5: both full, m5 is cheaper per GB
    ],
)
def test_shape_fit_prefers_the_type_the_shape_fills(shape_mb: int, winner: str) -> None:
    pools = [
        make_pool("ig-m5", requested=0, instance_type="m5.xlarge", yarn=M5),
        make_pool("ig-r5", requested=0, instance_type="r5.xlarge", yarn=R5),
    ]
    prices = [_quote("m5.xlarge", Market.SPOT, 0.115, 1), _quote("r5.xlarge", Market.SPOT, 0.26, 1)]
    offers, _ = _offers(pools, prices)
    best, _ = choose(offers, {Resources(shape_mb, 0): 6}, 1.0)
    assert best is not None
    assert best.option.instance_type == winner


@pytest.mark.parametrize(
    ("spot_usd", "factor", "winner"),
    [
        (0.21, 1.15, Market.ON_DEMAND),  # Spot 12.5% cheaper: under the factor, capacity stays put
        (0.12, 1.15, Market.SPOT),  # Spot half the price: worth moving back
        (0.21, 1.0, Market.SPOT),  # factor 1: any saving moves it
    ],
)
def test_price_improvement_factor_blocks_churn(spot_usd: float, factor: float, winner: Market) -> None:
    od = make_pool("ig-od", market=Market.ON_DEMAND, requested=5)
    spot = make_pool("ig-spot", market=Market.SPOT, requested=0)
    prices = [_quote("m5.xlarge", Market.ON_DEMAND, 0.24), _quote("m5.xlarge", Market.SPOT, spot_usd, 1)]
    offers, _ = _offers([od, spot], prices)
    best, why = choose(offers, {Resources(1024, 0): 10}, factor)
    assert best is not None
    assert best.market is winner
    if winner is Market.ON_DEMAND:
        assert "price_improvement_factor" in why


@pytest.mark.parametrize(
    ("state", "full", "factor", "winner"),
    [
        (PoolState.RESIZING, False, 1.15, None),  # On-Demand is twice the resizing Spot pool: wait for it
        (PoolState.RUNNING, True, 1.15, None),  # the Spot pool at its maximum is waited for the same way
        (PoolState.RESIZING, False, 2.5, Market.ON_DEMAND),  # an operator who pays for the wait says so
        (PoolState.RUNNING, True, 2.5, Market.ON_DEMAND),
        (PoolState.RUNNING, False, 1.15, Market.SPOT),  # free to grow: the cheapest wins
    ],
)
def test_a_cheapest_pool_that_cannot_grow_is_waited_for_unless_the_next_is_within_the_factor(
    state: PoolState, full: bool, factor: float, winner: Market | None
) -> None:
    od = make_pool("ig-od", market=Market.ON_DEMAND, requested=0)
    spot = make_pool("ig-spot", market=Market.SPOT, requested=4, running=2, state=state)
    prices = [_quote("m5.xlarge", Market.ON_DEMAND, 0.24), _quote("m5.xlarge", Market.SPOT, 0.12, 1)]
    snap = make_snapshot(pools=[od, spot], prices=prices)
    boots = {"ig-od": 330.0, "ig-spot": 330.0}
    offers, _ = build_offers(snap, [od, spot], ControllerMemory(), boots, 900.0, {"ig-spot"} if full else set())
    best, why = choose(offers, {Resources(1024, 0): 10}, factor)
    assert (best.market if best else None) is winner
    assert "ig-spot" in why
    if winner is None:
        assert ("at its maximum" if full else "RESIZING") in why


def test_spot_pool_backing_off_falls_back_to_on_demand() -> None:
    od = make_pool("ig-od", market=Market.ON_DEMAND, requested=0)
    spot = make_pool("ig-spot", market=Market.SPOT, requested=0)
    prices = [_quote("m5.xlarge", Market.ON_DEMAND, 0.24), _quote("m5.xlarge", Market.SPOT, 0.08, 1)]
    memory = ControllerMemory().with_pool("ig-spot", PoolMemory(backoff_until=T0 + 300, consecutive_failures=1))
    offers, notes = _offers([od, spot], prices, memory=memory)
    best, _ = choose(offers, {Resources(1024, 0): 10}, 1.15)
    assert best is not None
    assert best.market is Market.ON_DEMAND
    assert any("backing off" in n for n in notes)


def _saturated(start: float, pending_mb: int, allocated_mb: int, done_per_s: float, n: int = 5):  # type: ignore[no-untyped-def]
    """`n` samples 30 s apart of a full cluster whose containers complete `done_per_s` of its memory a second."""
    step = allocated_mb * done_per_s * 30
    return [
        sample(start + 30 * i, pending_mb=int(pending_mb + step * (n - 1 - i)), allocated_mb=allocated_mb)
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("pending_mb", "done_per_s", "target", "buys", "fraction"),
    [
        # 100 GB on 100 GB running: 10%/s completes, clears in 10 s: buy nothing
        (100_000, 0.10, 0, False, 0.0),
        # 1%/s: clears in 100 s, before a 330 s boot: buy nothing
        (100_000, 0.01, 0, False, 0.0),
        # 0.1%/s: 1,000 s; a new MB absorbs 1 + 0.001 × 270 s of work after landing (min_work 270 s):
        # (100,000 − 100 MB/s × 600 s) / 1.27 = 31,496 MB of 100,000
        (100_000, 0.001, 0, True, 0.315),
        # nothing completes: every unplaced ask needs a slot
        (100_000, 0.0, 0, True, 1.0),
        # target 600 s: 0.3%/s clears it in 333 s, before the 120 s old backlog reaches the target
        (100_000, 0.003, 600, False, 0.0),
        # target 300 s: it would not clear in time, but a node bought now lands 330 s later with 3 s of work,
        # less than the 270 s EMR's 10-minute minimum pays for anyway: buy nothing
        (100_000, 0.003, 300, False, 0.0),
        # target 900 s, 0.1%/s: clears in 1,000 s, past the deadline (780 s left); the new nodes have 450 s
        # after landing: (100,000 − 100 MB/s × 780 s) / 1.45 = 15,172 MB: a longer target buys less
        (100_000, 0.001, 900, True, 0.152),
    ],
)
def test_backlog_forecast(pending_mb: int, done_per_s: float, target: float, buys: bool, fraction: float) -> None:
    history = _saturated(T0 - 120, pending_mb, 100_000, done_per_s)
    fc = forecast(pending_mb, Capacity(100_000, 0), history, (), T0, target, 330.0, 180.0, 270.0, 900.0)
    assert fc.buy is buys, fc.why
    assert fc.fraction == pytest.approx(fraction, abs=0.01)


@pytest.mark.parametrize(
    ("target", "work_s", "fraction"),
    [
        # the same 120 s old backlog (100 GB, 0.1%/s completing on 100 GB, 100 MB/s): it misses every target
        # below a boot, so the nodes bought now are sized to clear what is left within their work time after
        # landing: EMR's paid 270 s (600 s minimum age − 330 s boot), or the target if the operator asks for less.
        # target 300 s: (100,000 − 100 MB/s × 600 s) / (1 + 0.001 × 270) = 31,496 MB
        (300, 270.0, 0.315),
        # target 120 s: (100,000 − 100 × 450) / 1.12 = 49,107 MB
        (120, 120.0, 0.491),
        # target 60 s: (100,000 − 100 × 390) / 1.06 = 57,547 MB
        (60, 60.0, 0.575),
        # target 0 s: everything a boot does not clear, (100,000 − 100 × 330) / 1 = 67,000 MB
        (0, 0.0, 0.67),
    ],
)
def test_a_smaller_target_buys_more_for_the_same_backlog(target: float, work_s: float, fraction: float) -> None:
    assert least_work_s(600.0, 330.0, target) == work_s
    history = _saturated(T0 - 120, 100_000, 100_000, 0.001)
    fc = forecast(100_000, Capacity(100_000, 0), history, (), T0, target, 330.0, 180.0, work_s, 900.0)
    assert fc.buy, fc.why
    assert fc.fraction == pytest.approx(fraction, abs=0.005)


def test_throughput_is_the_upper_quartile_of_completions_per_allocated_mb() -> None:
    history = _saturated(T0 - 120, 50_000, 10_000, 0.05)
    assert throughput(history, T0, 180.0) == pytest.approx(0.05, rel=0.01)
    assert throughput(history[-1:], T0, 180.0) is None  # one sample: nothing measured yet


def test_one_burst_is_not_a_rate_but_a_stream_of_them_is() -> None:
    """A single jump of asks (already in the backlog) adds no arrival rate; a jump every interval does."""
    one = [
        sample(T0 - 90 + 30 * i, pending_mb=p, allocated_mb=10_000) for i, p in enumerate((0, 90_000, 90_000, 90_000))
    ]
    assert arrivals(one, T0, 900.0, 0.0) == 0.0
    stream = [sample(T0 - 90 + 30 * i, pending_mb=3000 * i, allocated_mb=10_000) for i in range(4)]
    assert arrivals(stream, T0, 900.0, 0.0) == pytest.approx(2 * 3000 / 90)


def test_a_burst_that_clears_before_a_boot_buys_nothing_through_the_policy() -> None:
    """The whole policy: 30 containers pending on two full nodes whose containers complete 4%/s of their
    memory (the backlog fell 30 GB every 30 s): it clears in under a minute, a hold, not a buy."""
    from policies.cost_optimizer import CostOptimizerPolicy  # noqa: PLC0415

    pool = make_pool("ig-task", requested=2)
    nodes = [make_node(h, containers=12, used=M5, available=Resources(0, 0)) for h in ("a", "b")]
    app = AppInfo("application_1_0001", "RUNNING", pending=(PendingRequest(Resources(1024, 1), 30),))
    history = [sample(T0 - 90 + 30 * i, pending_mb=30720 + 30720 * (3 - i), allocated_mb=24576) for i in range(4)]
    snap = make_snapshot(pools=[pool], nodes=nodes, apps=[app], prices=[_quote("m5.xlarge", Market.SPOT, 0.1, 1)])
    out = list(CostOptimizerPolicy.from_options({"target_p95_wait_s": 0}).evaluate(snap, make_ctx([pool], history)))
    assert [(r.pool_id, r.target_units) for r in out] == [("ig-task", 2)]
    assert "within a 330 s boot: buy nothing" in out[0].reason  # type: ignore[union-attr]


def _apps(n: int, every_s: float) -> list[AppInfo]:
    return [
        AppInfo(
            f"application_1_{i + 1:04d}",
            "ACCEPTED",
            pending=(PendingRequest(Resources(2048, 1), 1),),
            submitted_at=T0 - every_s * (n - i),
        )
        for i in range(n)
    ]


def test_buffer_shrinks_as_the_target_grows() -> None:
    apps = _apps(10, 15.0)  # one job every 15 s
    sizes = [size_buffer(apps, T0, target, 330.0, 900.0).mb for target in (0, 30, 60, 120, 300, 330, 600)]
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[0] > 0
    assert sizes[-2:] == [0, 0]  # target >= boot keeps no buffer
    assert sizes[0] == pytest.approx(4 / 60 * 330 * 2048, rel=0.02)


def test_arrival_rate_counts_finished_apps_between_listed_ids() -> None:
    """Apps 1 and 10 listed, 8 finished in between: 10 submissions over 150 s."""
    apps = [_apps(10, 15.0)[0], _apps(10, 15.0)[-1]]
    assert arrival_rate(apps, T0, 900.0) == pytest.approx(10 / 150)


@pytest.mark.parametrize(
    ("idle_s", "rebuy", "released"),
    [
        (200, 1.0, 0),  # idle 200 s: saving < a certain 330 s re-boot + 60 s minimum
        (120, 0.25, 0),  # idle 120 s: saving < a quarter-likely re-boot (82.5 s) + 60 s minimum
        (200, 0.25, 2),  # idle 200 s pays for a quarter-likely re-boot
        (600, 1.0, 2),  # idle 600 s: both idle nodes pay even for a certain re-boot
    ],
)
def test_drain_cost_blocks_an_unprofitable_scale_in(idle_s: int, rebuy: float, released: int) -> None:
    pool = make_pool("ig-task", requested=3)
    nodes = [make_node("a"), make_node("b"), make_node("busy", containers=2), make_node("am", hosts_am=True)]
    instances = [make_instance(f"i-{h}") for h in ("a", "b", "busy", "am")]
    snap = make_snapshot(
        pools=[pool], nodes=nodes, instances=instances, prices=[_quote("m5.xlarge", Market.SPOT, 0.1, 1)]
    )
    history = [sample(T0 - idle_s + 30 * i, pending_mb=0, available_mb=40000) for i in range(idle_s // 30 + 1)]
    rel = plan_release(
        snap,
        "ig-task",
        history,
        keep_mb=0,
        boot_s=330,
        min_age_s=600,
        min_timeout_s=300,
        weights={},
        rebuy_probability=rebuy,
    )
    assert rel is not None
    assert rel.units == released
    assert "am" not in rel.hosts
    assert "busy" not in rel.hosts
    if not released:
        assert "did not remove" in rel.why
        assert "re-buying costs" in rel.why


def test_nodes_younger_than_ten_minutes_are_not_candidates() -> None:
    pool = make_pool("ig-task", requested=1)
    snap = make_snapshot(
        pools=[pool],
        nodes=[make_node("a")],
        instances=[make_instance("i-a", launched_at=T0 - 300)],
        prices=[_quote("m5.xlarge", Market.SPOT, 0.1, 1)],
    )
    history = [sample(T0 - 1800 + 30 * i, pending_mb=0, available_mb=40000) for i in range(61)]
    assert (
        plan_release(snap, "ig-task", history, keep_mb=0, boot_s=330, min_age_s=600, min_timeout_s=300, weights={})
        is None
    )


def test_budget_binds() -> None:
    pool = make_pool("ig-task", requested=2)
    snap = make_snapshot(
        pools=[pool],
        instances=[make_instance("i-a"), make_instance("i-b")],
        prices=[_quote("m5.xlarge", Market.SPOT, 0.5, 1)],
    )
    offers, _ = _offers([pool], [_quote("m5.xlarge", Market.SPOT, 0.5, 1)])
    rate = spend_rate(snap, {"ig-task": 0.5})
    assert rate == pytest.approx(1.0)
    cut = cap([(offers[0], 10)], rate, 3.2)
    assert cut.bound
    assert cut.allowed[offers[0].key] == 4  # $1.00 + 4 × $0.50 = $3.00 <= $3.20
    assert "budget_usd_per_hour $3.2" in cut.why
    assert not cap([(offers[0], 10)], rate, None).bound


def test_unknown_spend_rate_never_counts_as_room() -> None:
    pool = make_pool("ig-task", requested=1)
    offers, _ = _offers([pool], [_quote("m5.xlarge", Market.SPOT, 0.5, 1)])
    cut = cap([(offers[0], 1)], None, 100.0)
    assert cut.bound
    assert not cut.allowed


def test_boot_time_is_measured_per_pool_from_its_own_history() -> None:
    booting = make_instance("i-new", launched_at=T0 - 100, state=InstanceState.PROVISIONING)
    mem = observe_boots(ControllerMemory(), make_snapshot(instances=[booting], taken_at=T0))
    assert measured_boot_s(mem, "ig-task") is None
    up = make_instance("i-new", launched_at=T0 - 100)
    mem = observe_boots(mem, make_snapshot(instances=[up], nodes=[make_node("new")], taken_at=T0 + 250))
    assert measured_boot_s(mem, "ig-task") == 350
    assert boot_estimates(mem, ["ig-task", "ig-other"], 330.0) == {"ig-task": 350, "ig-other": 350}
    assert boot_estimates(ControllerMemory(), ["ig-task"], 330.0) == {"ig-task": 330.0}


def test_nodes_already_running_when_first_seen_are_not_measured() -> None:
    mem = observe_boots(ControllerMemory(), make_snapshot(instances=[make_instance("i-a")], nodes=[make_node("a")]))
    assert measured_boot_s(mem, "ig-task") is None
