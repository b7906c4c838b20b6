"""Every row of the fault table against one real daemon process and the emulated cluster.

Each row: the daemon is steady (nothing to do), the fault goes on, then the truth changes (demand
arrives, or nodes fall idle), the daemon ticks under the fault, the fault clears, and the first tick
that starts afterwards must act on the truth. One process serves every row (rows run in order),
so the suite also shows that no fault leaves anything behind that the next one trips on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from .checks import RowRun, check_invariants, quiesce, scaled
from .table import FAULTS, Fault
from .world import TASK, Daemon, World, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def daemon(world: World) -> Iterator[Daemon]:
    d = world.start()
    yield d
    assert d.stop() == 0, d.lines


@dataclass
class _Truth:
    """How a row makes the truth change under the fault."""

    world: World

    def prepare(self, fault: Fault, daemon: Daemon) -> None:
        if fault.truth == "down":  # some task nodes busy with a short job, which the change lets finish
            world = self.world
            since = time.time()
            world.demand(2, task_s=60)
            assert wait_for(lambda: world.emr.writes(since), 10), (
                f"the setup's scale-up never came: {daemon.ticks(since)[-1:]}"
            )
            quiesce(world, daemon)

    def change(self, fault: Fault) -> None:
        if fault.truth == "up":
            self.world.demand(2)  # two nodes' worth pending, for ever
        else:
            self.world.advance(61)  # the short job ends: its nodes are idle


def _under_fault(ticks: list[dict[str, Any]], fault: Fault) -> int:
    """Ticks since the truth changed that show the fault's effect."""
    if fault.during == "stale":
        return sum(1 for t in ticks if t["stale"])
    if fault.during == "failed":
        return sum(1 for t in ticks if any(o["status"] == "failed" for o in t["outcomes"]))
    return len(ticks)


def run_row(world: World, daemon: Daemon, fault: Fault) -> RowRun:
    truth = _Truth(world)
    quiesce(world, daemon)
    truth.prepare(fault, daemon)
    before = world.requested(TASK)
    injected = time.time()
    fault.inject(world)
    changed = time.time()
    truth.change(fault)
    assert wait_for(lambda: _under_fault(daemon.ticks(changed), fault) >= fault.fault_ticks, 40), (
        f"{fault.fault_ticks} ticks under {fault.name} never seen: {daemon.ticks(changed)}"
    )
    cleared = time.time()
    fault.clear(world)
    (first, *_) = daemon.wait_ticks(1, cleared, timeout=40)
    end = first["taken_at"] + first["duration_s"] + 0.05  # the proxy logged every request of it by then
    return RowRun(
        fault=fault,
        injected=injected,
        cleared=cleared,
        recovery_tick=first,
        ticks=[t for t in daemon.ticks() if t["taken_at"] + t["duration_s"] >= injected and t["taken_at"] < end],
        exchanges=[e for e in world.emr.exchanges(injected) if e.at <= end],
        before=before,
        after=world.requested(TASK),
        daemon=daemon,
        world=world,
    )


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_fault(world: World, daemon: Daemon, fault: Fault) -> None:
    run = run_row(world, daemon, fault)
    check_invariants(run)
    assert scaled(run) == fault.truth, f"{fault.name}: the truth ({fault.truth}) was not acted on"
