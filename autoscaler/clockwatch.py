"""Notices a step of the wall clock: wall time that moved more or less than monotonic time did.

The controller stamps its memory (cooldowns, back-offs, confirmations) and the health probes with
wall time, because memory outlives the process (the lease, the memory file) and is compared with
AWS's timestamps. A step of the system clock (an NTP step, a VM restored from a snapshot) would then
stretch or cut every running timer by the step, and APScheduler, which schedules on the wall clock,
would wait out a backward step before the next tick. `ClockWatch.step()` says by how much the wall
clock stepped since it was last asked, so the daemon can move its timers with it and wake the
scheduler (`autoscaler.daemon`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

#: A wall clock drifting from the monotonic one by less than this between two looks is not a step
#: (NTP slews at most 0.5 ms/s; a tick's own jitter is milliseconds).
STEP_TOLERANCE_S: Final = 1.0


class ClockWatch:
    def __init__(
        self,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        tolerance_s: float = STEP_TOLERANCE_S,
    ) -> None:
        self._wall, self._monotonic, self._tolerance = wall, monotonic, tolerance_s
        self._last = (wall(), monotonic())

    def read(self) -> tuple[float, float]:
        """(the wall time now, seconds it stepped since the last look: + forward, - back, 0.0 for none).

        Take the time for a decision from here, so the step is known before that time is used."""
        wall, mono = self._wall(), self._monotonic()
        last_wall, last_mono = self._last
        self._last = (wall, mono)
        step = (wall - last_wall) - (mono - last_mono)
        return wall, step if abs(step) > self._tolerance else 0.0

    def step(self) -> float:
        return self.read()[1]
