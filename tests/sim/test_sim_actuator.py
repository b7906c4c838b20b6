"""`SimActuator` keeps the actuation contract `EmrActuator` keeps (the same `actuation.recheck`):
a plan made on a snapshot is not applied to a pool that moved since, whatever moved."""

from __future__ import annotations

from dataclasses import replace

from autoscaler.model import Capacity, Market, OutcomeStatus, Plan, PoolKind, PoolRole, Resize
from autoscaler.sim.actuator import SimActuator
from autoscaler.sim.spec import PoolSpec, group

from .conftest import cluster, spec_with

FLEET = PoolSpec("if-task", PoolRole.TASK, PoolKind.INSTANCE_FLEET, initial_on_demand=2, initial_spot=2)


def _fleet_resize(current: Capacity, target: Capacity) -> Plan:
    return Plan((Resize("if-task", PoolKind.INSTANCE_FLEET, current, target, "test"),))


def test_a_fleet_whose_market_split_moved_is_skipped_even_at_the_same_total() -> None:
    """Another actor turned 2+3 into 3+2 after the snapshot (both while booting, so the state is the
    same RESIZING): same total, different per-market targets, so no write. Totals alone miss this."""
    sim = cluster(spec_with(FLEET))
    sim.modify_instance_fleet("if-task", target_on_demand=2, target_spot=3)
    snapshot = sim.snapshot()
    sim.modify_instance_fleet("if-task", target_on_demand=3, target_spot=2)
    actuator = SimActuator(sim)
    (outcome,) = actuator.apply(_fleet_resize(Capacity(2, 3), Capacity(2, 6)), snapshot)
    assert outcome.status is OutcomeStatus.SKIPPED_CHANGED
    assert outcome.detail == "targets changed from on-demand 2/spot 3 to 3/2"
    assert sim.pools["if-task"].target == {Market.ON_DEMAND: 3, Market.SPOT: 2}
    assert actuator.applied == []


def test_a_group_resized_since_the_snapshot_is_skipped() -> None:
    sim = cluster(spec_with(group("ig-task", PoolRole.TASK, Market.SPOT, 2)))
    snapshot = sim.snapshot()
    sim.modify_instance_group("ig-task", 4)
    plan = Plan((Resize("ig-task", PoolKind.INSTANCE_GROUP, Capacity(spot=2), Capacity(spot=6), "test"),))
    (outcome,) = SimActuator(sim).apply(plan, snapshot)
    assert outcome.status is OutcomeStatus.SKIPPED_CHANGED
    assert sim.pools["ig-task"].target[Market.SPOT] == 4


def test_a_group_whose_state_moved_is_skipped() -> None:
    """Planned while RUNNING; by the write a reclaimed Spot node's replacement is booting (RESIZING, the
    same requested count): no write, as EMR's actuator would not."""
    sim = cluster(spec_with(group("ig-task", PoolRole.TASK, Market.SPOT, 2)))
    snapshot = sim.snapshot()
    sim.schedule_interruption(next(iter(sim.pools["ig-task"].nodes)), sim.now + 1)
    sim.advance_to(sim.now + 2)
    plan = Plan((Resize("ig-task", PoolKind.INSTANCE_GROUP, Capacity(spot=2), Capacity(spot=5), "test"),))
    (outcome,) = SimActuator(sim).apply(plan, snapshot)
    assert outcome.status is OutcomeStatus.SKIPPED_CHANGED, outcome
    assert "state changed from RUNNING to RESIZING" in outcome.detail


def test_an_unchanged_pool_is_written() -> None:
    sim = cluster(spec_with(FLEET))
    (outcome,) = SimActuator(sim).apply(_fleet_resize(Capacity(2, 2), Capacity(2, 6)), sim.snapshot())
    assert outcome.status is OutcomeStatus.APPLIED
    assert sim.pools["if-task"].target == {Market.ON_DEMAND: 2, Market.SPOT: 6}


def test_nothing_is_written_next_to_emr_managed_scaling() -> None:
    """The other half of the contract (`actuation.refusal`): with EMR's own scaling on, refuse."""
    sim = cluster(spec_with(FLEET))
    snapshot = replace(sim.snapshot(), managed_scaling_enabled=True)
    actuator = SimActuator(sim)
    (outcome,) = actuator.apply(_fleet_resize(Capacity(2, 2), Capacity(2, 6)), snapshot)
    assert outcome.status is OutcomeStatus.REFUSED
    assert sim.pools["if-task"].target == {Market.ON_DEMAND: 2, Market.SPOT: 2}
    assert actuator.applied == []
