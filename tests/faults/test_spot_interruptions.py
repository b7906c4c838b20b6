"""Spot warnings through the real daemon process: EventBridge-shaped messages on a moto SQS queue, the
emulated cluster reclaiming the noticed nodes two emulated minutes later.

A single warning: the daemon buys the replacement at once (3 -> 4), and once the node is gone it
cancels the refill EMR launched for it (4 -> 3) while the pool is still RESIZING. The storm (many
warnings at once) is a row of the fault suite's table: test_storm.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from autoscaler.testing import send_spot_notices

from .checks import quiesce
from .world import REGION, TASK, Daemon, World, wait_for

pytestmark = pytest.mark.e2e
MAX_TASK = 6


@pytest.fixture(scope="module")
def queue(world: World) -> tuple[Any, str]:
    sqs = boto3.client(
        "sqs",
        endpoint_url=world.moto_url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return sqs, sqs.create_queue(QueueName="faults-spot")["QueueUrl"]


@pytest.fixture(scope="module")
def daemon(world: World, queue: tuple[Any, str]) -> Iterator[Daemon]:
    limits = {"min_task_units": 1, "max_task_units": MAX_TASK, "min_core_units": 2}
    d = world.start(world.config("spot.yaml", interruptions_queue_url=queue[1], limits=limits))
    yield d
    assert d.stop() == 0, d.lines


def task_instances(world: World) -> list[str]:
    with world.emu.locked() as cluster:
        pool = cluster.pools[TASK]  # type: ignore[attr-defined]
        return sorted(n.instance_id for n in pool.nodes.values() if n.doomed_at is None)


def warn(world: World, queue: tuple[Any, str], ids: list[str]) -> float:
    """Each instance's two-minute warning: in the emulated cluster and on the queue, at the same time;
    returns when, for `daemon.ticks(since)` (a tick that began just before may be the one that reads it)."""
    since = time.time() - 1.0
    with world.emu.locked() as cluster:
        for iid in ids:
            cluster.schedule_interruption(iid, cluster.now + 120)  # type: ignore[attr-defined]
    world.advance(0.001)
    send_spot_notices(queue[0], queue[1], ids, time.time())
    return since


def with_note(daemon: Daemon, since: float, status: str, ids: set[str]) -> list[dict[str, Any]]:
    """Ticks since `since` that say `status` of any of `ids` and planned a write (waiting up to 5 s for
    the first: the log is read as the daemon writes it)."""

    def found() -> list[dict[str, Any]]:
        return [
            t
            for t in daemon.ticks(since)
            if t["plan"] and any(n["status"] == status and n["instance"] in ids for n in t.get("interruptions", []))
        ]

    wait_for(found, 5)
    return found()


def test_a_warning_is_replaced_at_once_and_emrs_refill_cancelled(
    world: World, daemon: Daemon, queue: tuple[Any, str]
) -> None:
    world.demand(2)  # two more task nodes' worth, busy for ever
    quiesce(world, daemon)
    assert world.requested(TASK) == 3
    (victim, *_) = task_instances(world)
    at_rest = time.time()  # quiesce saw two ticks plan nothing: no write is in flight
    since = warn(world, queue, [victim])
    assert wait_for(lambda: world.requested(TASK) == 4, 15), daemon.ticks(since)[-2:]
    (bought,) = with_note(daemon, since, "replacing", {victim})
    assert [sum(r["target"].values()) for r in bought["plan"]] == [4]
    reclaimed = time.time()
    world.advance(121)  # reclaimed; EMR launches a refill to hold 4 (boots in 30 emulated s: not yet)
    assert wait_for(lambda: world.requested(TASK) == 3, 15), daemon.ticks(reclaimed)[-2:]
    gaves = with_note(daemon, since, "giving_back", {victim})
    assert len(gaves) == 1, [(t["plan"], t["outcomes"], t["inputs"]["pools"]) for t in gaves]
    (gave,) = gaves
    assert [sum(r["target"].values()) for r in gave["plan"]] == [3]
    assert [p["state"] for p in gave["inputs"]["pools"] if p["pool"] == TASK] == ["RESIZING"]  # EMR's refill
    quiesce(world, daemon)
    assert world.requested(TASK) == 3
    counts = [w.body["InstanceGroups"][0]["InstanceCount"] for w in world.emr.writes(at_rest)]
    assert counts == [4, 3]  # the replacement, then the refill cancelled: nothing else, nothing twice
