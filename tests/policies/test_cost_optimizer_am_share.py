"""Table tests for cost-optimizer's AM-share demand (`policies.cost_optimizer.am_share`) and how the
policy buys for it and keeps it at scale-in."""

from __future__ import annotations

from dataclasses import replace

import pytest
from policy_ctx import make_ctx

from autoscaler.model import AppInfo, PendingRequest, PriceQuote, QueueAmLimit, Recommendation, Resources
from autoscaler.model.cluster import Market
from autoscaler.testing import T0, make_instance, make_node, make_pool, make_snapshot, sample
from policies.cost_optimizer import CostOptimizerPolicy
from policies.cost_optimizer.am_share import DOCUMENTED_SHARE, Timing, am_share, cluster_share
from policies.cost_optimizer.backlog import least_work_s

GB = 1024
AM = 6 * GB  # EMR's ApplicationMaster on m5.xlarge
M5 = Resources(12288, 4)


def _waiting_am(k: int, submitted_at: float = T0 - 600, queue: str = "default") -> AppInfo:
    return AppInfo(
        f"application_1_{k:04d}",
        "ACCEPTED",
        queue,
        pending=(PendingRequest(Resources(AM, 1), 1),),
        submitted_at=submitted_at,
    )


def _history(apps_pending: list[int], step_s: float = 60.0) -> list:  # type: ignore[type-arg]
    n = len(apps_pending)
    return [sample(T0 - (n - 1 - i) * step_s, apps_pending=p) for i, p in enumerate(apps_pending)]


def _demand(  # type: ignore[no-untyped-def]
    waiting: int,
    limits: tuple[QueueAmLimit, ...],
    *,
    cluster_gb: float = 100,
    arriving_gb: float = 0,
    history=(),
    target_s: float = 300,
):
    apps = [_waiting_am(k) for k in range(waiting)]
    return am_share(apps, limits, cluster_gb * GB, arriving_gb * GB, history, T0, Timing(target_s, 330, 270), 900)


def test_twelve_waiting_6gib_ams_at_a_10pct_share_on_100gb_with_10gb_running_need_820gb() -> None:
    """(10 GB running + 12 × 6 GB waiting) / 10% = 820 GB of cluster memory: 720 GB short of 100 GB, i.e. 60
    m5.xlarge (12 GB of YARN memory each). Nothing has started for 10 minutes, so all 12 still wait at landing."""
    got = _demand(12, (QueueAmLimit("default", 0.1, 10 * GB, 10 * GB),), history=_history([12] * 10))
    assert got.waiting == 12
    assert got.waiting_mb == 72 * GB
    assert got.needed_mb == pytest.approx(820 * GB)
    assert got.shortfall_mb == pytest.approx(720 * GB)
    assert "12 waiting AM(s)" in got.why
    assert "720 GB short" in got.why
    assert "raising YARN's maximum-am-resource-percent to 0.82 would need no node" in got.why  # 82 GB of 100


def test_unknown_am_usage_justifies_no_purchase() -> None:
    """The RM reports the share but not what the AMs hold (or nothing at all): no purchase, said so."""
    for limits in ((QueueAmLimit("default", 0.1, 10 * GB, None),), ()):
        got = _demand(12, limits, history=_history([12] * 10))
        assert got.shortfall_mb == 0
        assert got.keep_mb == 0
        assert "AM memory in use unknown" in got.why


def test_unknown_share_falls_back_to_the_documented_default_and_says_so() -> None:
    got = _demand(12, (QueueAmLimit("default", None, None, 10 * GB),), history=_history([12] * 10))
    assert got.share == DOCUMENTED_SHARE
    assert got.shortfall_mb == pytest.approx(720 * GB)
    assert "documented" in got.why


@pytest.mark.parametrize(
    ("limit", "share"),
    [
        (QueueAmLimit("default", 0.5, 50 * GB, 0), 0.5),  # YARN's own share wins over the default
        (QueueAmLimit("default", 0.1, 5 * GB, 0), 0.05),  # a queue at half the cluster: its limit says 5%
        (QueueAmLimit("default", 0.1, 500 * GB, 0), 0.1),  # a limit above the cluster is absurd: the share
        (QueueAmLimit("default", None, None, 0), DOCUMENTED_SHARE),
    ],
)
def test_the_share_of_the_cluster_comes_from_what_yarn_reports(limit: QueueAmLimit, share: float) -> None:
    assert cluster_share(limit, 100 * GB)[0] == pytest.approx(share)


def test_a_higher_share_needs_less_memory() -> None:
    low = _demand(12, (QueueAmLimit("default", 0.1, None, 10 * GB),), history=_history([12] * 10))
    high = _demand(12, (QueueAmLimit("default", 0.5, None, 10 * GB),), history=_history([12] * 10))
    assert high.needed_mb == pytest.approx(low.needed_mb / 5)


def test_ams_that_fit_the_share_of_running_and_booting_capacity_buy_nothing() -> None:
    """820 GB needed, 900 GB running and booting: they wait for room, not for the share."""
    got = _demand(12, (QueueAmLimit("default", 0.1, 10 * GB, 10 * GB),), arriving_gb=800, history=_history([12] * 10))
    assert got.shortfall_mb == 0
    assert "does not bind" in got.why


def test_a_queue_that_starts_within_a_boot_buys_nothing() -> None:
    """12 waiting, and the history shows 30 starting a minute (apps_pending falling by 30 a minute with no
    new submissions listed): they all start long before a node bought now would land."""
    got = _demand(12, (QueueAmLimit("default", 0.1, 10 * GB, 10 * GB),), history=_history([132, 102, 72, 42, 12]))
    assert got.shortfall_mb == 0
    assert "buy nothing" in got.why


def test_short_jobs_need_fewer_slots_than_waiting_ams() -> None:
    """With jobs ending fast, fewer AM slots start the queue within the node's work time than one per AM."""
    slow = _demand(40, (QueueAmLimit("default", 0.1, 10 * GB, 60 * GB),), history=_history([40] * 10))
    fast = _demand(40, (QueueAmLimit("default", 0.1, 10 * GB, 60 * GB),), history=_history([60, 55, 50, 45, 40]))
    assert 0 < fast.shortfall_mb < slow.shortfall_mb


def test_a_backlog_seen_once_is_measured_before_buying() -> None:
    got = _demand(12, (QueueAmLimit("default", 0.1, 10 * GB, 10 * GB),), history=())
    apps = [_waiting_am(k, submitted_at=T0 - 30) for k in range(12)]
    young = am_share(
        apps, (QueueAmLimit("default", 0.1, 10 * GB, 10 * GB),), 100 * GB, 0, (), T0, Timing(300, 330), 900
    )
    assert young.shortfall_mb == 0
    assert "measuring" in young.why
    assert got.shortfall_mb > 0  # ten minutes old, past the target: no start measured is no start


@pytest.mark.parametrize(
    ("target", "short_gb", "phrase"),
    [
        # 30 AMs of 6 GB, each 180 s old, start one a minute as running jobs end (apps_pending fell by 2 in
        # 120 s, nothing submitted meanwhile): the 30th starts in 1,800 s, when it has waited 1,980 s.
        # target 2,400 s: every one starts before it has waited the target: buy nothing
        (2400, 0, "buy nothing"),
        # target 900 s: the 13th to 30th start after 720 s (past the target): 18 late; a node bought now has
        # 900 − 180 − 330 = 390 s of work after landing, in which the running AMs start 6.5 of them, each of
        # the X new slots 3.9 (0.01/s): X = ⌈(18/390 − 1/60) / 0.01⌉ = 3 → (10 + 3 × 6) / 10% = 280 GB, 180 short
        (900, 180, "18 would start after both"),
        # target 300 s: every one starting after the 330 s boot is late: the 6th to 30th, 25; 270 s of work
        # (EMR's paid time): X = ⌈(25/270 − 1/60) / 0.01⌉ = 8 → (10 + 48) / 10% = 580 GB, 480 short
        (300, 480, "25 would start after both"),
        # target 60 s: the same 25, but started within 60 s of landing: X = ⌈(25/60 − 1/60) / 0.01⌉ = 40, at
        # most one per AM, 25 → (10 + 150) / 10% = 1,600 GB, 1,500 short
        (60, 1500, "25 more AM(s)"),
    ],
)
def test_ams_the_start_rate_starts_within_the_target_buy_nothing_and_a_smaller_target_buys_more(
    target: float, short_gb: float, phrase: str
) -> None:
    apps = [_waiting_am(k, submitted_at=T0 - 180) for k in range(30)]
    history = _history([32, 31, 30])
    timing = Timing(target, 330, least_work_s(600, 330, target))
    got = am_share(apps, (QueueAmLimit("default", 0.1, None, 10 * GB),), 100 * GB, 0, history, T0, timing, 900)
    assert got.shortfall_mb == pytest.approx(short_gb * GB)
    assert phrase in got.why


def test_running_ams_keep_their_share_of_the_cluster() -> None:
    got = _demand(0, (QueueAmLimit("default", 0.1, 10 * GB, 30 * GB),))
    assert got.keep_mb == pytest.approx(300 * GB)
    assert got.shortfall_mb == 0


def test_waiting_ams_of_another_queue_use_that_queue_s_limit() -> None:
    apps = [_waiting_am(k, queue="root.etl") for k in range(4)]
    limits = (QueueAmLimit("default", 0.1, 10 * GB, 0), QueueAmLimit("etl", 0.1, 5 * GB, 10 * GB))
    got = am_share(apps, limits, 100 * GB, 0, _history([4] * 10), T0, Timing(300, 330, 270), 900)
    assert got.needed_mb == pytest.approx((10 + 24) * GB / 0.05)


# --- the policy: buys max(container, AM-share shortfall), keeps the running AMs' share ----------------


def _spot(usd: float = 0.1) -> PriceQuote:
    return PriceQuote("m5.xlarge", Market.SPOT, usd, 0.0, interruption_band=1)


def test_policy_buys_for_the_waiting_ams_and_states_the_cost() -> None:
    """8 idle 12 GB nodes (96 GB free) hold every pending AM ask, so the pending memory buys nothing; the AM
    share (10 GB running + 12 × 6 GB, at 10%) needs 820 GB, 724 GB more than 96 GB + 2 core nodes."""
    pool = make_pool("ig-a", requested=8, instance_type="m5.xlarge")
    nodes = [make_node(f"n{i}", "ig-a", containers=0, used=Resources(0, 0), available=M5) for i in range(8)]
    apps = [_waiting_am(k) for k in range(12)]
    snap = make_snapshot(pools=[pool], nodes=nodes, apps=apps, prices=[_spot()])
    snap = replace(snap, am_limits=(QueueAmLimit("default", 0.1, None, 10 * GB),))
    ctx = make_ctx([pool], _history([12] * 10))
    out = [r for r in CostOptimizerPolicy.from_options({}).evaluate(snap, ctx) if isinstance(r, Recommendation)]
    assert len(out) == 1
    assert out[0].reason.startswith("buy")
    total_gb = (snap.yarn.total_mb or 0) / GB  # type: ignore[union-attr]
    assert out[0].target_units - 8 >= (820 - total_gb) / 12  # at least the AM share's nodes
    assert "[am-share]" in out[0].reason
    assert "$" in out[0].reason
    assert "/h" in out[0].reason

    blind = replace(snap, am_limits=())  # the RM reports no AM accounting: nothing is bought for it
    held = [r for r in CostOptimizerPolicy.from_options({}).evaluate(blind, ctx) if isinstance(r, Recommendation)]
    assert all(r.target_units == 8 for r in held)
    assert "AM memory in use unknown" in held[0].reason


def test_scale_in_keeps_what_the_running_ams_share_needs() -> None:
    """10 idle old nodes, nothing pending; 12 GB of AMs running need 120 GB at 10%: the release stops there."""
    pool = make_pool("ig-a", requested=10, instance_type="m5.xlarge")
    nodes = [make_node(f"n{i}", "ig-a", f"i-{i}", used=Resources(0, 0), available=M5) for i in range(10)]
    instances = [make_instance(f"i-{i}", "ig-a") for i in range(10)]
    snap = make_snapshot(pools=[pool], nodes=nodes, instances=instances, prices=[_spot()])
    hist = [sample(T0 - 3600 + 60 * i, pending_mb=0, containers_pending=0, available_mb=120 * GB) for i in range(61)]
    ctx = make_ctx([pool], hist)
    free = [r for r in CostOptimizerPolicy.from_options({}).evaluate(snap, ctx) if isinstance(r, Recommendation)]
    kept = [
        r
        for r in CostOptimizerPolicy.from_options({}).evaluate(
            replace(snap, am_limits=(QueueAmLimit("default", 0.1, None, 12 * GB),)), ctx
        )
        if isinstance(r, Recommendation)
    ]
    total_mb = snap.yarn.total_mb or 0  # type: ignore[union-attr]
    assert free[0].target_units < kept[0].target_units
    left_mb = total_mb - (10 - kept[0].target_units) * M5.memory_mb
    assert left_mb >= 120 * GB
    assert "running AMs" in kept[0].reason


def test_an_unknown_submit_time_is_no_long_wait() -> None:
    """Apps without a submit time count as just submitted: their backlog is measured before buying."""
    apps = [replace(_waiting_am(k), submitted_at=None) for k in range(12)]
    got = am_share(apps, (QueueAmLimit("default", 0.1, 10 * GB, 10 * GB),), 100 * GB, 0, (), T0, Timing(300, 330), 900)
    assert got.shortfall_mb == 0
    assert "measuring" in got.why
