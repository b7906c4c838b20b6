"""Process faults: SIGKILL in the middle of a resize and a restart, and replicas sharing a lease table
on moto's DynamoDB (two and three real daemon processes) whose leader is killed or paused.

The cluster is the emulated one (its resize lag keeps a pool RESIZING after a write, as EMR does);
the lease table is moto's; every EMR request goes through the fault proxy, which can hold one
request (`Hold`) so a process dies or freezes exactly between two of its calls. Each test ends with
the shared checks: the core floor held, no survivor crashed, and every decision written once.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from autoscaler.lease import DynamoLeases
from autoscaler.testing import create_lease_table

from .checks import applied_only_when_fresh, core_floor, quiesce, running_clean
from .proxy import Exchange, Hold, Rule
from .world import CLUSTER_ID, POLL_S, TASK, Daemon, World, wait_for

pytestmark = pytest.mark.e2e

LEASE_S = 1.5  # >= 2 x poll_interval_s: failover within lease + two ticks = 2.3 s, required within 3 s
COOLDOWN_S = 6.0  # well past a failover, even on a loaded machine


@pytest.fixture
def world(fresh_world: World) -> World:
    """A cluster of its own for each test: no demand or resize left over from another."""
    return fresh_world


@pytest.fixture
def daemons(world: World) -> Iterator[list[Daemon]]:
    """The test's daemons; any still running at the end are killed (after SIGCONT)."""
    started: list[Daemon] = []
    yield started
    for d in started:
        if d.alive():
            d.signal(signal.SIGCONT)
            d.kill()
    world.emr.rule = None


@pytest.fixture
def leases(world: World, request: pytest.FixtureRequest) -> DynamoLeases:
    """A fresh lease table on moto, and the test's own view of it."""
    client = world.aws("dynamodb")
    table = f"leases-{request.node.name.replace('_', '-')[:60]}"
    create_lease_table(client, table)
    return DynamoLeases(client, table, "the-test", LEASE_S)


def _ha(leases: DynamoLeases) -> dict[str, Any]:
    return {"lease_table": leases.table, "lease_duration_s": LEASE_S}


def _holder(leases: DynamoLeases) -> int | None:
    lease = leases.read(CLUSTER_ID)
    return int(lease.holder.split(":")[1]) if lease is not None and lease.holder else None


def _hold_once(operation: str) -> tuple[Rule, threading.Event, threading.Event]:
    """A rule that holds the first `operation` request until released, and passes every other."""
    holding, release = threading.Event(), threading.Event()
    action = Hold(holding, release)

    def rule(e: Exchange) -> Hold | None:
        if e.operation == operation and not holding.is_set():
            return action
        return None

    return rule, holding, release


def _demand(world: World) -> float:
    return world.demand(2)


def _applied(events: list[dict[str, Any]]) -> int:
    return sum(1 for e in events if e.get("event") == "tick" for o in e["outcomes"] if o["status"] == "applied")


def _forwarded_writes(world: World, since: float) -> list[Exchange]:
    return [e for e in world.emr.writes(since) if e.forwarded]


def _stop_all(daemons: list[Daemon], *, but: Daemon | None = None) -> None:
    """The survivors' checks (alive, clean output, no write on stale data), then SIGTERM."""
    for d in daemons:
        applied_only_when_fresh(d)
        if d is not but and d.alive():
            running_clean(d)
            assert d.stop() == 0, d.lines


def test_sigkill_mid_resize_then_restart_writes_nothing_twice(world: World, daemons: list[Daemon]) -> None:
    """One daemon dies while its ModifyInstanceGroups is in flight; EMR applies it and the pool is
    RESIZING. The restarted daemon, with no memory of that tick, reads the target back and writes
    nothing more; once the resize is done, new demand is written within one tick."""
    since = time.time()
    world.emr.rule, holding, release = _hold_once("ModifyInstanceGroups")
    daemons.append(first := world.start())
    _demand(world)
    assert holding.wait(20), "the daemon never wrote"
    wanted = world.emr.writes(since)[0].body
    first.kill()
    release.set()  # the write reaches EMR after its sender died: applied, never answered
    assert wait_for(lambda: world.requested(TASK) == wanted["InstanceGroups"][0]["InstanceCount"], 10)
    daemons.append(second := world.start())
    restarted = time.time()
    second.wait_ticks(4, restarted)
    assert len(_forwarded_writes(world, since)) == 1, "the restarted daemon wrote the same decision again"

    quiesce(world, second)  # the resize completes
    cleared = _demand(world)
    assert wait_for(lambda: _forwarded_writes(world, cleared), 10), "no write after the restart"
    (write,) = _forwarded_writes(world, cleared)
    (first_tick, *_) = second.wait_ticks(1, cleared)  # its event comes once the tick has ended
    assert write.at <= first_tick["taken_at"] + first_tick["duration_s"] + 0.05, "not written by the first tick"
    core_floor(world, world.emr.exchanges(since))
    _stop_all(daemons)


def test_sigkill_of_the_leader_of_three_fails_over_with_its_memory_and_no_double_write(
    world: World, leases: DynamoLeases, daemons: list[Daemon]
) -> None:
    """A standby takes over within two lease periods, continues from the leader's memory (its
    scale-up cooldown still holds), and each decision is written once."""
    config = world.config("three.yaml", ha=_ha(leases), guards=_guards(cooldown_up_s=COOLDOWN_S))
    daemons += [world.start(config) for _ in range(3)]
    since = _demand(world)
    assert wait_for(lambda: _forwarded_writes(world, since), 30), "no replica scaled up"
    first_at = _forwarded_writes(world, since)[0].at
    (leader,) = [d for d in daemons if d.pid == _holder(leases)]
    quiesce(world, leader)  # the nodes boot: only the cooldown holds the next scale-up back
    assert _forwarded_writes(world, since)[0].body["InstanceGroups"][0]["InstanceCount"] > 1
    since = time.time()
    token = leases.read(CLUSTER_ID).token  # type: ignore[union-attr]

    leader.kill()
    killed_at = time.time()
    _demand(world)  # a new decision, wanted at once
    assert wait_for(lambda: (leases.read(CLUSTER_ID) or leases).token > token, 4 * LEASE_S)  # type: ignore[union-attr]
    failover_s = time.time() - killed_at
    assert failover_s <= 2 * LEASE_S + 0.5, f"failover took {failover_s:.1f}s"
    assert wait_for(lambda: _forwarded_writes(world, since), 20), "the new leader never scaled up"
    time.sleep(3 * POLL_S)
    (second,) = _forwarded_writes(world, since)
    assert second.at - first_at >= COOLDOWN_S - 1.0, "the new leader did not keep the old one's cooldown"

    survivors = [d for d in daemons if d is not leader]
    events = [e for d in survivors for e in d.events]
    _stop_all(daemons, but=leader)
    ticks = [e for e in events if e.get("event") == "tick"]
    assert any(r["reason"] == "cooldown_up" for t in ticks for r in t["rejections"]), "memory not carried over"
    assert any(e.get("event") == "standby" for e in events)
    assert _applied(events) == 1
    core_floor(world, world.emr.exchanges(since))


def test_sigstop_of_the_leader_between_read_and_write_fences_it(
    world: World, leases: DynamoLeases, daemons: list[Daemon]
) -> None:
    """The classic stale leader, two replicas: the leader has read the cluster (demand: two nodes)
    and is paused before it writes; the standby takes over and writes; the leader, resumed with its
    old snapshot, writes nothing."""
    config = world.config("two.yaml", ha=_ha(leases))
    world.emr.rule, holding, release = _hold_once("GetManagedScalingPolicy")  # the last read of a tick
    since = _demand(world)
    daemons += [world.start(config) for _ in range(2)]
    assert holding.wait(20), "no replica read the cluster"
    stale = next(d for d in daemons if d.pid == _holder(leases))
    stale.signal(signal.SIGSTOP)
    release.set()  # its answer waits in the paused process's socket
    assert wait_for(lambda: _forwarded_writes(world, since), 6 * LEASE_S), "the standby never took over"
    assert _holder(leases) != stale.pid

    stale.signal(signal.SIGCONT)  # it resumes holding a snapshot that says "add two nodes"
    time.sleep(4 * POLL_S)
    _stop_all(daemons)
    assert len(_forwarded_writes(world, since)) == 1, "two writes for one decision"
    # its paused tick is refused three ways: its data is late (stale), its round's deadline passed,
    # and its lease is gone (fenced); whichever speaks first, it writes nothing
    paused = stale.ticks()[0]
    statuses = {o["status"] for o in paused["outcomes"]}
    assert paused["stale"] or statuses == {"fenced"}, paused
    assert not [o for t in stale.ticks() for o in t["outcomes"] if o["status"] == "applied"]
    core_floor(world, world.emr.exchanges(since))


def test_sigkill_of_the_leader_in_the_middle_of_its_write_is_not_written_again(
    world: World, leases: DynamoLeases, daemons: list[Daemon]
) -> None:
    """Two replicas: the leader dies while its ModifyInstanceGroups is in flight and EMR applies it;
    the new leader, without that tick's memory, reads the target back and writes nothing more."""
    config = world.config("two.yaml", ha=_ha(leases))
    world.emr.rule, holding, release = _hold_once("ModifyInstanceGroups")
    daemons += [world.start(config) for _ in range(2)]
    since = _demand(world)
    assert holding.wait(30), "no replica wrote"
    leader = next(d for d in daemons if d.pid == _holder(leases))
    leader.kill()
    release.set()
    assert wait_for(lambda: _holder(leases) not in (None, leader.pid), 4 * LEASE_S)
    (survivor,) = [d for d in daemons if d is not leader]
    took_over = time.time()
    survivor.wait_ticks(5, took_over)
    _stop_all(daemons, but=leader)
    assert len(_forwarded_writes(world, since)) == 1
    assert _applied(survivor.events) == 0
    core_floor(world, world.emr.exchanges(since))


def _guards(**overrides: float) -> dict[str, float]:
    base = {"cooldown_up_s": 0, "cooldown_down_s": 0, "scale_down_confirmations": 1, "min_node_age_s": 0}
    return {**base, "backoff_s": 0, "stale_after_s": 2, **overrides}
