from __future__ import annotations

import pytest
from policy_ctx import make_ctx

from autoscaler.model import Market, PoolMemory, PoolState, Recommendation
from autoscaler.testing import T0, make_pool, make_snapshot, sample
from policies.dataproc import DataprocPolicy, dataproc_delta

NODE_MB = 12288  # the builders' m5.xlarge YARN memory


@pytest.mark.parametrize(
    ("delta", "factor", "min_fraction", "current", "expected"),
    [
        (5.0, 0.5, 0.0, 10, 3),  # published example: ceil(2.5)
        (-5.0, 0.5, 0.0, 10, -2),  # published example: trunc(-2.5) toward zero
        (-0.8, 0.5, 0.0, 10, 0),  # published example: trunc(-0.4)
        (10.0, 0.7, 0.0, 10, 7),  # 10 x 0.7 is 7.000000000000001 in floats: still 7
        (0.1, 1.0, 0.0, 10, 1),  # any pending memory rounds up to a worker
        (5.0, 0.0, 0.0, 10, 0),  # factor 0 disables scaling up
        (1.0, 1.0, 0.1, 20, 0),  # 1 < 10% of 20 workers
        (2.0, 1.0, 0.1, 20, 2),  # 2 >= 10% of 20 workers
        (-1.5, 1.0, 0.1, 20, 0),  # trunc -1, below the 2-worker threshold
    ],
)
def test_dataproc_delta_rounding_and_threshold(
    delta: float, factor: float, min_fraction: float, current: int, expected: int
) -> None:
    """Dataproc rounds scale-up up, scale-down toward zero, and skips changes under the size fraction."""
    assert dataproc_delta(delta, factor, min_fraction, current) == expected


def _recs(policy: DataprocPolicy, pool_requested: int, history: list, memory: dict | None = None) -> list:
    pool = make_pool(requested=pool_requested)
    ctx = make_ctx([pool], history=history, memory=memory)
    return list(policy.evaluate(make_snapshot(pools=[pool]), ctx))


def test_scale_up_averages_over_cooldown_window() -> None:
    """Excess of 8, 2 and 5 workers in the last 120 s averages to 5; × 0.5 → +3; older samples ignored."""
    policy = DataprocPolicy.from_options({"scale_up_factor": 0.5})
    history = [
        sample(T0 - 600, pending_mb=100 * NODE_MB, available_mb=0),  # outside the cooldown window
        sample(T0 - 120, pending_mb=8 * NODE_MB, available_mb=0),
        sample(T0 - 60, pending_mb=3 * NODE_MB, available_mb=NODE_MB),
        sample(T0, pending_mb=5 * NODE_MB, available_mb=0),
    ]
    (rec,) = _recs(policy, 10, history)
    assert isinstance(rec, Recommendation)
    assert rec.target_units == 13


def test_scale_down_truncates_toward_zero() -> None:
    """Five spare workers with scale_down_factor 0.5 remove two, not three."""
    policy = DataprocPolicy.from_options({"scale_down_factor": 0.5})
    history = [
        sample(T0 - 60, pending_mb=0, available_mb=5 * NODE_MB),
        sample(T0, pending_mb=0, available_mb=5 * NODE_MB),
    ]
    (rec,) = _recs(policy, 10, history)
    assert rec.target_units == 8


def test_small_spare_capacity_does_not_scale_down() -> None:
    """0.8 of a spare worker × 0.5 truncates to zero: no recommendation."""
    policy = DataprocPolicy.from_options({"scale_down_factor": 0.5})
    history = [sample(T0, pending_mb=0, available_mb=int(0.8 * NODE_MB))]
    assert _recs(policy, 10, history) == []


def test_min_worker_fraction_uses_cluster_size() -> None:
    """A +1 change on a 20-unit cluster is skipped with scale_up_min_worker_fraction 0.1."""
    policy = DataprocPolicy.from_options({"scale_up_min_worker_fraction": 0.1})
    assert _recs(policy, 20, [sample(T0, pending_mb=NODE_MB, available_mb=0)]) == []
    (rec,) = _recs(policy, 20, [sample(T0, pending_mb=2 * NODE_MB, available_mb=0)])
    assert rec.target_units == 22


@pytest.mark.parametrize(
    ("asked_ago", "completed_ago", "acts"),
    [
        (None, None, True),  # never resized: free to act
        (400.0, None, False),  # asked, never seen complete: the update is still in flight
        (400.0, 60.0, False),  # completed 60 s ago: cooldown counts from completion
        (400.0, 119.0, False),
        (400.0, 120.0, True),  # 120 s after completion, though 400 s after the request
        (130.0, 125.0, True),
        (60.0, 300.0, False),  # asked again after the last completion: in flight again
    ],
)
def test_cooldown_counts_from_the_completion_of_the_last_resize(
    asked_ago: float | None, completed_ago: float | None, acts: bool
) -> None:
    """No decision while a resize is in flight, nor within cooldown_s (120 s) of its completion."""
    policy = DataprocPolicy.from_options({})
    mem = PoolMemory(
        last_scale_up_at=None if asked_ago is None else T0 - asked_ago,
        last_resize_completed_at=None if completed_ago is None else T0 - completed_ago,
    )
    recs = _recs(policy, 4, [sample(T0, pending_mb=2 * NODE_MB, available_mb=0)], {"ig-task": mem})
    assert bool(recs) is acts


def test_no_decision_while_a_managed_pool_is_resizing() -> None:
    """A pool EMR reports RESIZING (e.g. found so after a restart) holds the decision, memory or not."""
    pool = make_pool(requested=6, running=4, state=PoolState.RESIZING)
    ctx = make_ctx([pool], history=[sample(T0, pending_mb=2 * NODE_MB, available_mb=0)])
    assert list(DataprocPolicy.from_options({}).evaluate(make_snapshot(pools=[pool]), ctx)) == []


def test_scale_down_spills_to_next_pool_and_never_below_zero() -> None:
    """A 5-worker scale-in takes the dearer task pool to zero and the rest from the next one."""
    spot = make_pool("ig-spot", requested=6)
    od = make_pool("ig-od", requested=2, market=Market.ON_DEMAND)
    ctx = make_ctx([spot, od], history=[sample(T0, pending_mb=0, available_mb=5 * NODE_MB)])
    recs = {
        r.pool_id: r.target_units
        for r in DataprocPolicy.from_options({}).evaluate(make_snapshot(pools=[spot, od]), ctx)
    }
    assert recs == {"ig-od": 0, "ig-spot": 3}


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"scale_up_factor": 1.5}, "scale_up_factor"),
        ({"scale_down_factor": -0.1}, "scale_down_factor"),
        ({"scale_down_min_worker_fraction": 2}, "scale_down_min_worker_fraction"),
        ({"cooldown_s": 60}, "cooldown_s"),
        ({"scaleUpFactor": 0.5}, "scaleUpFactor"),
    ],
)
def test_invalid_options_name_the_option(options: dict, named: str) -> None:
    """Out-of-range or unknown options fail with the option's name in the message."""
    with pytest.raises(ValueError, match=named):
        DataprocPolicy.from_options(options)
