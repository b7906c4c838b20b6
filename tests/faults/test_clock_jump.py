"""A wall-clock jump under one real daemon process: the system clock steps a day back or a day
forward (an NTP step, a VM restored from a snapshot) while the monotonic clock runs on.

The daemon runs under libfaketime (Debian's `libfaketime`, LD_PRELOAD), which moves only the wall
clock (`FAKETIME_DONT_FAKE_MONOTONIC`): the offset is read from a file the test rewrites. A scale-up
cooldown of `COOLDOWN_S` real seconds must hold as real seconds through either jump: never cut short
(a forward jump would otherwise allow a second scale-up at once), never stretched by the jump (a
backward jump would otherwise block scale-ups for a day).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .checks import applied_only_when_fresh, core_floor, quiesce, running_clean
from .world import POLL_S, TASK, Daemon, World, wait_for

pytestmark = pytest.mark.e2e

LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
COOLDOWN_S = 3.0
DAY = "1d"


@pytest.fixture(scope="module")
def clock_file(world: World) -> Path:
    path = world.tmp / "faketimerc"
    path.write_text("+0\n")
    return path


@pytest.fixture(scope="module")
def daemon(world: World, clock_file: Path) -> Iterator[Daemon]:
    if not LIBFAKETIME.exists():
        pytest.skip(f"{LIBFAKETIME} missing: apt-get install libfaketime (.ci/run installs it)")
    config = world.config(guards=_guards())
    d = world.start(
        config,
        LD_PRELOAD=str(LIBFAKETIME),
        FAKETIME_TIMESTAMP_FILE=str(clock_file),
        FAKETIME_DONT_FAKE_MONOTONIC="1",
        FAKETIME_CACHE_DURATION="1",
    )
    yield d
    assert d.stop() == 0, d.lines


def _guards() -> dict[str, float]:
    return {
        "cooldown_up_s": COOLDOWN_S,
        "cooldown_down_s": 0,
        "scale_down_confirmations": 1,
        "min_node_age_s": 0,
        "backoff_s": 0,
        "stale_after_s": 2,
    }


def _scale_up(world: World, daemon: Daemon) -> float:
    """Demand for two more nodes; returns when its write reached EMR."""
    since = world.demand(2)
    assert wait_for(lambda: world.emr.writes(since), 15), f"no scale-up: {daemon.events[-3:]}"
    return world.emr.writes(since)[0].at


@pytest.mark.parametrize("jump", ["-" + DAY, "+" + DAY])
def test_cooldown_holds_in_real_seconds_through_a_wall_clock_jump(
    world: World, daemon: Daemon, clock_file: Path, jump: str
) -> None:
    clock_file.write_text("+0\n")
    time.sleep(1.2)  # the cache: the daemon reads the file at most once a second
    quiesce(world, daemon)
    first = _scale_up(world, daemon)
    clock_file.write_text(f"{jump}\n")
    world.settle()  # the new nodes boot: only the cooldown stands between new demand and a write
    before = world.requested(TASK)
    second = _scale_up(world, daemon)
    waited = second - first
    assert waited >= COOLDOWN_S - 0.05, f"a second scale-up {waited:.2f}s after the first: the cooldown was cut short"
    assert waited <= COOLDOWN_S + 1.5 + 4 * POLL_S, f"the cooldown was stretched to {waited:.1f}s by the jump"
    assert world.requested(TASK) > before
    running_clean(daemon)
    applied_only_when_fresh(daemon)
    core_floor(world, world.emr.exchanges())
