"""An interruption storm: two-minute Spot warnings for most of the task group at once, on a moto SQS
queue the daemon reads (`interruptions_queue_url`), while the emulated cluster reclaims those
instances two minutes later and EMR refills the group to its requested count.

Written against the invariants, not one reaction: the daemon may replace the noticed capacity at
once (`spot.replace_on_notice`, autoscaler/replacement.py) or leave the refill to EMR; either way
no write comes from a stale tick, capacity is bought at most once per notice (never above the group
plus the noticed units), each decision is written once, the core group is untouched, the process
lives, and once the storm is over the group is back where the demand wants it within one tick.
`limits.max_task_units` leaves room for half the noticed units: the maximum holds through the storm.
"""

from __future__ import annotations

import time

import pytest

from autoscaler.model import Market
from autoscaler.testing import send_spot_notices

from .checks import applied_only_when_fresh, core_floor, quiesce, running_clean, tick_of
from .world import TASK, World

pytestmark = pytest.mark.e2e

NOTICED = 6
HEADROOM = 3  # limits.max_task_units: the group before the storm + 3, so a full replacement would pass it


@pytest.fixture
def world(fresh_world: World) -> World:
    return fresh_world


@pytest.mark.parametrize("replace_on_notice", [True, False], ids=["replacing", "refill-only"])
def test_an_interruption_storm(world: World, replace_on_notice: bool) -> None:
    sqs = world.aws("sqs")
    queue = sqs.create_queue(QueueName=f"spot-storm-{replace_on_notice}")["QueueUrl"]
    before = 1 + 8
    limits = {"min_task_units": 1, "max_task_units": before + HEADROOM, "min_core_units": 2}
    config = world.config(interruptions_queue_url=queue, spot={"replace_on_notice": replace_on_notice}, limits=limits)
    daemon = world.start(config)
    world.demand(8)
    quiesce(world, daemon)
    assert world.requested(TASK) == before
    spot = [i.instance_id for i in world.emu.snapshot().instances if i.pool_id == TASK and i.market is Market.SPOT]
    assert len(spot) >= NOTICED, spot
    doomed = spot[:NOTICED]

    storm = time.time()
    with world.emu.locked() as cluster:
        for instance_id in doomed:  # EC2 takes them two minutes after the warning
            cluster.schedule_interruption(instance_id, cluster.now + 120)  # type: ignore[attr-defined]
    send_spot_notices(sqs, queue, doomed, storm)
    daemon.wait_ticks(4, storm)
    peak = world.requested(TASK)
    world.advance(121)  # the reclaims; EMR starts refilling the group to its requested count
    quiesce(world, daemon)  # the refill boots, replacements (if any) are given back
    cleared = time.time()
    (first, *_) = daemon.wait_ticks(2, cleared)

    writes = [e for e in world.emr.writes(storm) if e.forwarded]
    ticks = daemon.ticks(storm - 5)
    for w in writes:
        tick = tick_of(ticks, w.at)
        assert tick is not None
        assert not tick["stale"], "a write from a stale tick"
    bodies = [repr(w.body) for w in writes]
    assert len(bodies) == len(set(bodies)), f"a decision written twice: {bodies}"
    assert all(len({g["InstanceGroupId"] for g in w.body["InstanceGroups"]}) == 1 for w in writes)
    counts = [w.body["InstanceGroups"][0]["InstanceCount"] for w in writes]
    assert max(counts, default=before) <= before + HEADROOM, f"past limits.max_task_units: {counts}"
    assert peak <= before + NOTICED, f"bought {peak - before} units for {NOTICED} notices"
    if replace_on_notice:  # at once, as far as the maximum allows: 9 -> 12, not 15
        assert peak == before + min(NOTICED, HEADROOM), f"the notices were not replaced at once: {before} -> {peak}"
    assert not first["plan"], f"the first tick after the storm still wants {first['plan']}"
    assert world.requested(TASK) == before, f"the group ended at {world.requested(TASK)}, the demand wants {before}"
    snapshot = world.emu.snapshot()
    assert not ({i.instance_id for i in snapshot.instances} & set(doomed)), "the noticed instances were not reclaimed"
    core_floor(world, world.emr.exchanges(storm))
    running_clean(daemon)
    applied_only_when_fresh(daemon)
    notices = [n for t in ticks for n in t.get("interruptions", [])]
    assert notices, "the daemon never read the notices"
    assert daemon.stop() == 0
