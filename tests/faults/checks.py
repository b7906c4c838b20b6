"""The invariants every fault row is held to, as one function per invariant over what a row saw:
the daemon's tick events and every exchange the EMR proxy logged (what reached the emulator, and
when). A write belongs to the tick whose [taken_at, taken_at + duration_s] holds the moment the
proxy received it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from .proxy import Exchange
from .table import Fault
from .world import CORE, CORE_FLOOR, Daemon, World

_SLACK_S = 0.02  # clock resolution between the daemon's stamps and the proxy's


@dataclass
class RowRun:
    fault: Fault
    injected: float
    cleared: float
    recovery_tick: dict[str, Any]  # the first tick that began after the fault cleared
    ticks: list[dict[str, Any]]  # every tick from the injection to the recovery tick
    exchanges: list[Exchange]  # every EMR request in that time
    before: int  # task units requested before the fault
    after: int  # ... and after the recovery tick
    daemon: Daemon
    world: World

    def forwarded_writes(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.operation.startswith("Modify") and e.forwarded]


def tick_of(ticks: list[dict[str, Any]], at: float) -> dict[str, Any] | None:
    """The tick that sent a request at `at`: the last to begin before it (ticks never overlap), if it
    had not ended by then."""
    within = [t for t in ticks if t["taken_at"] <= at <= t["taken_at"] + t["duration_s"]]
    if within:
        return within[0]
    started = [t for t in ticks if t["taken_at"] - _SLACK_S <= at]
    if not started:
        return None
    tick = max(started, key=lambda t: t["taken_at"])
    return tick if at <= tick["taken_at"] + tick["duration_s"] + _SLACK_S else None


def no_write_on_stale_data(run: RowRun) -> None:
    for write in run.forwarded_writes():
        tick = tick_of(run.ticks, write.at)
        assert tick is not None, f"a write at {write.at:.2f} from no tick seen: {write.body}"
        assert not tick["stale"], f"a write from a stale tick: {tick['stale_reasons']}"
        if write.at < run.cleared:
            assert run.fault.applied_in_fault, f"a write reached EMR under the fault: {write.body}"


def no_double_resize(run: RowRun) -> None:
    writes = run.forwarded_writes()
    ticks = {id(tick_of(run.ticks, w.at)) for w in writes}
    bodies = {repr(w.body) for w in writes}
    assert len(ticks) <= 1, f"{len(ticks)} ticks wrote for one decision: {[w.body for w in writes]}"
    assert len(bodies) <= 1, f"retries differ: {bodies}"
    applied = [t for t in run.ticks for o in t["outcomes"] if o["status"] == "applied"]
    assert len(applied) <= 1, f"{len(applied)} ticks applied a resize for one decision"


def core_floor(world: World, exchanges: list[Exchange]) -> None:
    """No request names the core group, and EMR never holds fewer core units than the floor."""
    for e in exchanges:
        for group in e.body.get("InstanceGroups", []):
            assert group.get("InstanceGroupId") != CORE, f"the core group was written: {e.body}"
    core = world.emu.snapshot().pool(CORE)
    assert min(core.requested.total, core.running.total) >= CORE_FLOOR, core


def core_floor_held(run: RowRun) -> None:
    core_floor(run.world, run.exchanges)


def running_clean(daemon: Daemon, ticks: list[dict[str, Any]] | None = None) -> None:
    """Alive, every line of its output a JSON event, no tick ended in an error."""
    assert daemon.alive(), f"the daemon exited with {daemon.proc.returncode}"
    assert not daemon.lines, f"non-JSON output (a traceback?): {daemon.lines[:5]}"
    errors = [t["error"] for t in (daemon.ticks() if ticks is None else ticks) if "error" in t]
    assert not errors, f"ticks ended in an error: {errors}"


def applied_only_when_fresh(daemon: Daemon) -> None:
    """No tick of this daemon applied a resize on a stale snapshot (by its own account)."""
    for t in daemon.ticks():
        if any(o["status"] == "applied" for o in t["outcomes"]):
            assert not t["stale"], f"a resize applied on a stale snapshot: {t['stale_reasons']}"


def no_crash(run: RowRun) -> None:
    running_clean(run.daemon, run.ticks)


def recovery_within_one_tick(run: RowRun) -> None:
    first = run.recovery_tick
    assert not first["stale"], f"the first tick after the fault cleared is stale: {first['stale_reasons']}"
    end = first["taken_at"] + first["duration_s"] + _SLACK_S
    writes = run.forwarded_writes()
    assert writes, f"{run.fault.name}: the truth ({run.fault.truth}) was never written"
    assert all(w.at <= end for w in writes), "the write came later than the first tick after the fault cleared"
    if run.fault.applied_in_fault:
        assert not first["plan"], f"the applied write was not read back: {first['plan']}"


def during_fault(run: RowRun) -> None:
    """Each tick under the fault looks as the row says: stale, its write failed, or fresh and holding."""
    under = [t for t in run.ticks if run.injected <= t["taken_at"] and t["taken_at"] + t["duration_s"] < run.cleared]
    assert under, "no tick ran under the fault"
    for t in under:
        statuses = {o["status"] for o in t["outcomes"]}
        if run.fault.during == "stale":
            assert t["stale"], f"a tick under {run.fault.name} was not stale"
        elif run.fault.during == "failed":
            assert "applied" not in statuses, statuses
        else:
            assert not t["stale"], f"{run.fault.name}: {t['stale_reasons']}"
            assert not statuses, f"{run.fault.name}: {t['plan']} {statuses}"


CHECKS = (no_write_on_stale_data, no_double_resize, core_floor_held, no_crash, recovery_within_one_tick, during_fault)


def check_invariants(run: RowRun) -> None:
    failures = []
    for check in CHECKS:
        try:
            check(run)
        except AssertionError as err:
            failures.append(f"{check.__name__}: {err}")
    assert not failures, f"{run.fault.name}:\n" + "\n".join(failures)


def scaled(run: RowRun) -> str:
    return "up" if run.after > run.before else "down" if run.after < run.before else "none"


def _at_rest(tick: dict[str, Any]) -> bool:
    pools = tick["inputs"]["pools"]
    return not tick["plan"] and not tick["stale"] and all(p["state"] == "RUNNING" for p in pools)


def quiesce(world: World, daemon: Daemon, timeout: float = 40) -> None:
    """Settle the cluster until a fresh tick that began after it settled plans nothing."""
    deadline = time.monotonic() + timeout
    while True:
        world.settle()
        since = time.time()
        ticks = daemon.wait_ticks(1, since)[:1]
        if all(_at_rest(t) for t in ticks):
            return
        assert time.monotonic() < deadline, f"the daemon never came to rest: {ticks}"
