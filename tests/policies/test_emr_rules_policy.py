from __future__ import annotations

import pytest
from policy_ctx import make_ctx

from autoscaler.model import MetricSample, PoolMemory
from autoscaler.testing import T0, make_pool, make_snapshot, sample
from policies.emr_rules import EmrRulesPolicy

TOTAL = 100_000


def _history(*pcts: float, step: float = 60.0) -> list[MetricSample]:
    """Samples of YARNMemoryAvailablePercentage, the last one at T0, `step` seconds apart."""
    n = len(pcts)
    return [
        sample(T0 - (n - 1 - i) * step, available_mb=int(p * TOTAL / 100), total_mb=TOTAL) for i, p in enumerate(pcts)
    ]


def _targets(history: list[MetricSample], memory: dict | None = None, options: dict | None = None) -> list[int]:
    pool = make_pool(requested=4)
    ctx = make_ctx([pool], history=history, memory=memory)
    policy = EmrRulesPolicy.from_options(options or {})
    return [r.target_units for r in policy.evaluate(make_snapshot(pools=[pool]), ctx)]


@pytest.mark.parametrize(
    ("pcts", "expected"),
    [
        ((10, 10, 10, 10, 10, 10), [5]),  # below 15 for the whole period: +1
        ((90, 80, 80, 80, 80, 80), [3]),  # above 75: -1
        ((40, 40, 40, 40, 40, 40), []),  # between thresholds: no opinion
        ((50, 50, 50, 50, 50, 0), []),  # one low sample: the 5-minute average is ~41.7
        ((0, 0, 0, 0, 0, 60), [5]),  # average 10: a good last sample does not cancel the alarm
    ],
)
def test_average_over_evaluation_period(pcts: tuple[float, ...], expected: list[int]) -> None:
    """The rule fires on the mean of YARNMemoryAvailablePercentage over the last 300 s, not the last sample."""
    assert _targets(_history(*pcts)) == expected


def test_samples_before_the_period_do_not_count() -> None:
    """A low reading 10 minutes ago is outside the 5-minute period and does not trigger a scale-out."""
    history = [sample(T0 - 600, available_mb=0, total_mb=TOTAL), *_history(50, 50, 50, 50, 50, 50)]
    assert _targets(history) == []


def test_waits_for_a_full_period_of_history() -> None:
    """With only 4 minutes of history (a fresh daemon) nothing fires, like an alarm with insufficient data."""
    assert _targets(_history(0, 0, 0, 0, 0)) == []


@pytest.mark.parametrize(
    ("asked_ago", "completed_ago", "fires"),
    [
        (900.0, None, False),  # the scale-up was never seen to complete: still in flight
        (900.0, 100.0, False),  # completed 100 s ago: CoolDown runs from completion
        (900.0, 299.0, False),
        (900.0, 300.0, True),
        (400.0, 700.0, False),  # asked after the last completion: in flight again
    ],
)
def test_cooldown_counts_from_completion_and_covers_both_directions(
    asked_ago: float, completed_ago: float | None, fires: bool
) -> None:
    """A scale-up blocks a scale-in until 300 s after it completed, not after it was asked (EMR CoolDown)."""
    completed = None if completed_ago is None else T0 - completed_ago
    memory = {"ig-task": PoolMemory(last_scale_up_at=T0 - asked_ago, last_resize_completed_at=completed)}
    assert bool(_targets(_history(90, 90, 90, 90, 90, 90), memory)) is fires


def test_never_below_zero() -> None:
    """Scale-in of an empty pool proposes nothing rather than a negative size."""
    pool = make_pool(requested=0)
    ctx = make_ctx([pool], history=_history(90, 90, 90, 90, 90, 90))
    assert list(EmrRulesPolicy.from_options({}).evaluate(make_snapshot(pools=[pool]), ctx)) == []


def test_custom_thresholds_and_adjustment() -> None:
    """Options change the thresholds and the step."""
    options = {"scale_out_below_pct": 50, "scale_in_above_pct": 90, "adjustment": 2}
    assert _targets(_history(40, 40, 40, 40, 40, 40), options=options) == [6]


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"scale_out_below_pct": 80, "scale_in_above_pct": 70}, "scale_in_above_pct"),
        ({"adjustment": 0}, "adjustment"),
        ({"evaluation_period_s": 0}, "evaluation_period_s"),
        ({"cooldown": 300}, "cooldown"),
    ],
)
def test_invalid_options_name_the_option(options: dict, named: str) -> None:
    """Bad options fail naming the option."""
    with pytest.raises(ValueError, match=named):
        EmrRulesPolicy.from_options(options)
