"""The one tick (`tick.run_tick`) and the actuation contract (`actuation.changed`) every actuator keeps."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from autoscaler.actuation import changed
from autoscaler.model import (
    Capacity,
    ClusterSnapshot,
    ControllerMemory,
    Outcome,
    OutcomeStatus,
    Plan,
    PoolKind,
    PoolState,
    Resize,
)
from autoscaler.policy import load_policies
from autoscaler.testing import T0, RecordingActuator, make_cluster_config, make_node, make_pool, make_snapshot
from autoscaler.tick import ActuatorFailed, run_tick

CONFIG = make_cluster_config(policies=[{"type": "static", "options": {"units": 4}}])
POLICIES = load_policies(CONFIG.policies)


@dataclass
class Failing:
    """Answers every resize FAILED, stamped `failed_at`; counts calls."""

    failed_at: float | None
    calls: list[Plan] = field(default_factory=list)

    def apply(self, plan: Plan, snapshot: ClusterSnapshot) -> tuple[Outcome, ...]:
        self.calls.append(plan)
        return tuple(
            Outcome(r.pool_id, OutcomeStatus.FAILED, "throttled", "ThrottlingException", failed_at=self.failed_at)
            for r in plan.resizes
        )


def _snapshot(requested: int) -> ClusterSnapshot:
    nodes = [make_node(f"h{i}", containers=3) for i in range(requested)]
    return make_snapshot(pools=[make_pool("ig-task", requested=requested)], nodes=nodes)


def test_a_tick_decides_acts_and_records_in_one_call() -> None:
    """The plan goes to the actuator, the failure comes back into memory, backed off from when it failed."""
    actuator = Failing(failed_at=T0 + 40)
    result = run_tick(_snapshot(2), ControllerMemory(), POLICIES, CONFIG, actuator)
    assert [r.target.total for r in result.decision.plan.resizes] == [4]
    assert actuator.calls == [result.decision.plan]
    assert [o.status for o in result.outcomes] == [OutcomeStatus.FAILED]
    assert result.memory.pool("ig-task").backoff_until == T0 + 40 + 30


def test_an_empty_plan_never_reaches_the_actuator() -> None:
    actuator = Failing(failed_at=None)
    result = run_tick(_snapshot(4), ControllerMemory(), POLICIES, CONFIG, actuator)
    assert result.decision.plan.empty
    assert actuator.calls == []
    assert result.outcomes == ()


def test_an_actuator_that_raises_still_yields_the_plan_it_was_given() -> None:
    broken = RecordingActuator(error=ConnectionResetError("reset"))
    with pytest.raises(ActuatorFailed, match="ConnectionResetError: reset") as failed:
        run_tick(_snapshot(2), ControllerMemory(), POLICIES, CONFIG, broken)
    assert [r.target.total for r in failed.value.decision.plan.resizes] == [4]


_GROUP = Resize("ig-1", PoolKind.INSTANCE_GROUP, Capacity(spot=3), Capacity(spot=5), "t")
_FLEET = Resize("if-1", PoolKind.INSTANCE_FLEET, Capacity(2, 3), Capacity(2, 6), "t")


@pytest.mark.parametrize(
    ("resize", "planned_state", "live_state", "live", "why"),
    [
        (_GROUP, PoolState.RUNNING, PoolState.RUNNING, Capacity(spot=3), None),
        (_GROUP, PoolState.RUNNING, PoolState.RUNNING, Capacity(spot=4), "requested count changed from 3 to 4"),
        (_GROUP, PoolState.RUNNING, PoolState.RESIZING, Capacity(spot=3), "state changed from RUNNING to RESIZING"),
        (_GROUP, PoolState.RUNNING, PoolState.RUNNING, Capacity(on_demand=3), "market changed"),
        (_FLEET, PoolState.RUNNING, PoolState.RUNNING, Capacity(2, 3), None),
        (
            _FLEET,
            PoolState.RUNNING,
            PoolState.RUNNING,
            Capacity(3, 2),
            "targets changed from on-demand 2/spot 3 to 3/2",
        ),
        (_FLEET, PoolState.RESIZING, PoolState.RUNNING, Capacity(2, 3), "state changed from RESIZING to RUNNING"),
    ],
)
def test_a_pool_that_moved_since_the_plan_is_named(
    resize: Resize, planned_state: PoolState, live_state: PoolState, live: Capacity, why: str | None
) -> None:
    """State, then per-market targets: any difference from the planned pool forbids the write."""
    kind = resize.kind
    planned = make_pool(resize.pool_id, kind=kind, requested=resize.current, state=planned_state)
    now = make_pool(resize.pool_id, kind=kind, requested=live, state=live_state)
    got = changed(resize, planned, now)
    assert (got is None) if why is None else (got is not None and got.startswith(why))
