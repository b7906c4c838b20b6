"""Resize completion, the instant vendor cooldowns count from: observed per pool, pure, one tick's resolution."""

from __future__ import annotations

import pytest

from autoscaler import engine
from autoscaler.model import Capacity, CapacityPool, ControllerMemory, PoolKind, PoolMemory, PoolRole, PoolState
from autoscaler.settling import note_resize_progress, pool_settled, resize_in_flight
from autoscaler.testing import T0, make_cluster_config, make_pool, make_snapshot

RUNNING, RESIZING = PoolState.RUNNING, PoolState.RESIZING


@pytest.mark.parametrize(
    ("state", "requested", "running", "kind", "settled"),
    [
        (RUNNING, 4, 4, PoolKind.INSTANCE_GROUP, True),
        (RESIZING, 4, 4, PoolKind.INSTANCE_GROUP, False),  # EMR still says RESIZING
        (RUNNING, 6, 4, PoolKind.INSTANCE_GROUP, False),  # two units still arriving
        (RUNNING, 2, 4, PoolKind.INSTANCE_GROUP, False),  # two units still leaving
        (RUNNING, 4, 5, PoolKind.INSTANCE_FLEET, True),  # a weighted fleet overshoots for good
        (RUNNING, 6, 4, PoolKind.INSTANCE_FLEET, False),
    ],
)
def test_a_pool_is_settled_when_running_with_what_it_requested(
    state: PoolState, requested: int, running: int, kind: PoolKind, settled: bool
) -> None:
    """Settled: RUNNING, nothing provisioning, and a group holding exactly its requested count."""
    pool = make_pool(state=state, requested=requested, running=running, kind=kind)
    assert pool_settled(pool) is settled


NOW = T0
SETTLED = make_pool(requested=4)
MOVING = make_pool(requested=6, running=4, state=RESIZING)


@pytest.mark.parametrize(
    ("before", "pool", "after"),
    [
        # nothing asked, nothing moving: memory unchanged
        (PoolMemory(), SETTLED, PoolMemory()),
        # seen moving: the resize is in flight from now
        (PoolMemory(last_scale_up_at=NOW - 30), MOVING, PoolMemory(last_scale_up_at=NOW - 30, resizing_since=NOW)),
        # still moving: the first sighting is kept
        (PoolMemory(resizing_since=NOW - 90), MOVING, PoolMemory(resizing_since=NOW - 90)),
        # seen moving earlier, settled now: completed now
        (
            PoolMemory(last_scale_up_at=NOW - 330, resizing_since=NOW - 300),
            SETTLED,
            PoolMemory(last_scale_up_at=NOW - 330, last_resize_completed_at=NOW),
        ),
        # asked last tick, settled without a tick seeing it move (a cancelled boot): completed now
        (
            PoolMemory(last_scale_down_at=NOW - 30),
            SETTLED,
            PoolMemory(last_scale_down_at=NOW - 30, last_resize_completed_at=NOW),
        ),
        # asked at this very instant (explain re-evaluating the tick): not complete yet
        (PoolMemory(last_scale_up_at=NOW), SETTLED, PoolMemory(last_scale_up_at=NOW)),
        # completion already recorded after the last ask: unchanged
        (
            PoolMemory(last_scale_up_at=NOW - 600, last_resize_completed_at=NOW - 300),
            SETTLED,
            PoolMemory(last_scale_up_at=NOW - 600, last_resize_completed_at=NOW - 300),
        ),
        # a restart finds the pool RESIZING with empty memory: it is tracked to completion too
        (PoolMemory(), MOVING, PoolMemory(resizing_since=NOW)),
    ],
)
def test_note_resize_progress(before: PoolMemory, pool: CapacityPool, after: PoolMemory) -> None:
    """The table of what one tick's view of a pool does to its resize timers."""
    assert note_resize_progress(before, pool, NOW) == after


@pytest.mark.parametrize(
    ("mem", "pool", "in_flight"),
    [
        (PoolMemory(), SETTLED, False),
        (PoolMemory(), MOVING, True),
        (PoolMemory(last_scale_up_at=NOW - 30), SETTLED, True),  # asked, completion not seen yet
        (PoolMemory(last_scale_up_at=NOW - 300, last_resize_completed_at=NOW - 30), SETTLED, False),
        (PoolMemory(resizing_since=NOW - 60), SETTLED, True),  # settles in this tick's memory update
    ],
)
def test_resize_in_flight(mem: PoolMemory, pool: CapacityPool, in_flight: bool) -> None:
    """In flight: moving now, seen moving, or asked since the last completion seen."""
    assert resize_in_flight(mem, pool) is in_flight


def test_engine_records_completion_for_managed_pools_only() -> None:
    """evaluate() folds each managed pool's progress into memory; an unmanaged CORE pool is not tracked."""
    config = make_cluster_config()
    core = make_pool("ig-core", role=PoolRole.CORE, requested=2, running=1, state=RESIZING)
    task_moving = make_pool("ig-task", requested=Capacity(spot=3), running=1, state=RESIZING)
    first = engine.evaluate(make_snapshot(pools=[core, task_moving]), ControllerMemory(), (), config)
    assert first.memory.pool("ig-task").resizing_since == T0
    assert "ig-core" not in first.memory.pools
    task_done = make_pool("ig-task", requested=3)
    second = engine.evaluate(make_snapshot(pools=[core, task_done], taken_at=T0 + 300), first.memory, (), config)
    assert second.memory.pool("ig-task") == PoolMemory(last_resize_completed_at=T0 + 300)
