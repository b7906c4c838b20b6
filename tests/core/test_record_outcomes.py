"""record_outcomes: what the actuator did flows back into cooldowns, confirmations and back-off."""

from __future__ import annotations

import pytest

from autoscaler.engine import record_outcomes
from autoscaler.model import (
    Capacity,
    ControllerMemory,
    Outcome,
    OutcomeStatus,
    Plan,
    PoolKind,
    PoolMemory,
    Resize,
)
from autoscaler.testing import T0, make_cluster_config

UP = Plan((Resize("ig-task", PoolKind.INSTANCE_GROUP, Capacity(spot=2), Capacity(spot=4), "up"),))
DOWN = Plan((Resize("ig-task", PoolKind.INSTANCE_GROUP, Capacity(spot=4), Capacity(spot=2), "down"),))
BEFORE = ControllerMemory().with_pool(
    "ig-task", PoolMemory(down_confirmations=3, down_wanted_since=T0 - 90, consecutive_failures=2, backoff_until=T0)
)


@pytest.mark.parametrize("status", [OutcomeStatus.APPLIED, OutcomeStatus.DRY_RUN])
def test_applied_and_dry_run_start_cooldowns(status: OutcomeStatus) -> None:
    """An applied (or dry-run) resize stamps its direction and clears confirmations and failures."""
    config = make_cluster_config()
    up = record_outcomes(BEFORE, [Outcome("ig-task", status)], UP, T0, config).pool("ig-task")
    assert up == PoolMemory(last_scale_up_at=T0)
    down = record_outcomes(BEFORE, [Outcome("ig-task", status)], DOWN, T0, config).pool("ig-task")
    assert down == PoolMemory(last_scale_down_at=T0)


def test_capacity_error_backs_off_for_backoff_s() -> None:
    """Insufficient capacity leaves the pool alone for guards.backoff_s."""
    config = make_cluster_config(guards={"backoff_s": 600})
    outcome = Outcome("ig-task", OutcomeStatus.FAILED, error_code="InsufficientInstanceCapacity", capacity_error=True)
    mem = record_outcomes(ControllerMemory(), [outcome], UP, T0, config).pool("ig-task")
    assert (mem.backoff_until, mem.consecutive_failures) == (T0 + 600, 1)


def test_other_failures_back_off_exponentially_up_to_the_cap() -> None:
    """Other failures back off 30 s, doubling per consecutive failure, capped at guards.backoff_s."""
    config = make_cluster_config(guards={"backoff_s": 100})
    mem = ControllerMemory()
    waits = []
    for _ in range(4):
        mem = record_outcomes(
            mem, [Outcome("ig-task", OutcomeStatus.FAILED, error_code="ThrottlingException")], UP, T0, config
        )
        until = mem.pool("ig-task").backoff_until
        assert until is not None
        waits.append(until - T0)
    assert waits == [30, 60, 100, 100]
    assert mem.pool("ig-task").consecutive_failures == 4


@pytest.mark.parametrize("status", [OutcomeStatus.SKIPPED_CHANGED, OutcomeStatus.REFUSED])
def test_skipped_and_refused_change_nothing(status: OutcomeStatus) -> None:
    """A resize that was not attempted leaves memory as it was."""
    assert record_outcomes(BEFORE, [Outcome("ig-task", status)], UP, T0, make_cluster_config()) == BEFORE


def test_outcome_for_pool_not_in_plan_is_not_a_resize() -> None:
    """An APPLIED outcome with no matching planned resize does not start a cooldown."""
    mem = record_outcomes(
        ControllerMemory(), [Outcome("ig-other", OutcomeStatus.APPLIED)], UP, T0, make_cluster_config()
    )
    assert mem.pool("ig-other") == PoolMemory()


@pytest.mark.parametrize(
    ("failed_at", "capacity", "failures_before", "backoff_until"),
    [
        (None, False, 0, T0 + 30),  # no stamp: from the tick's start, as before
        (T0 + 50, False, 0, T0 + 80),  # a throttled write retried for 50 s: the 30 s run from the failure
        (T0 + 50, False, 2, T0 + 50 + 120),  # third failure in a row: 120 s, still from the failure
        (T0 + 50, True, 0, T0 + 50 + 600),  # capacity error: guards.backoff_s from the failure
        (T0 - 5, False, 0, T0 + 30),  # a stamp before the tick began (clock skew) never shortens it
    ],
)
def test_back_off_runs_from_the_failure_not_the_tick_start(
    failed_at: float | None, capacity: bool, failures_before: int, backoff_until: float
) -> None:
    """botocore's retries happen inside the write; the back-off must be whole after them."""
    config = make_cluster_config(guards={"backoff_s": 600})
    before = ControllerMemory().with_pool("ig-task", PoolMemory(consecutive_failures=failures_before))
    outcome = Outcome("ig-task", OutcomeStatus.FAILED, "slow down", "ThrottlingException", capacity, failed_at)
    mem = record_outcomes(before, [outcome], UP, T0, config).pool("ig-task")
    assert mem.backoff_until == backoff_until
    assert mem.consecutive_failures == failures_before + 1
