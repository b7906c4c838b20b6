"""The trace's ideal demand curve: YARN memory held by running containers if no job ever waited.

In the ideal no-wait schedule every job starts at its submit time, its ApplicationMaster holds its
memory for the job's ideal run time, and stage k's tasks all start when stage k-1's longest task
ends. No real schedule can run a container earlier than this one does (an AM starts no earlier than
its submit, a stage no earlier than the previous stage's end), which is what makes the curve the
basis of the oracle floors (`autoscaler.sim.oracle`), of the static sizing (`autoscaler.sim.peak`)
and of `hindsight`'s knowledge of the future (`autoscaler.sim.hindsight`).

The curve is a step function: `levels[i]` MB from `times[i]` (seconds after the trace's start) to
`times[i + 1]`, and 0 after the last time.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from autoscaler.sim.job import Job

AM_SHARE: Final = 0.1  # the simulated CapacityScheduler's maximum-am-resource-percent (`Placement.am_share`)


@dataclass(frozen=True, slots=True)
class DemandCurve:
    times: tuple[float, ...]
    levels: tuple[int, ...]

    def at(self, t: float) -> int:
        """Demand (MB) at `t` seconds after the trace's start."""
        i = bisect_right(self.times, t) - 1
        return self.levels[i] if i >= 0 else 0

    @property
    def peak_mb(self) -> int:
        return max(self.levels, default=0)

    def areas_every(self, step_s: float, count: int) -> list[float]:
        """MB-seconds under the curve from 0 to k * step_s, for k = 0 .. count - 1 (one linear sweep)."""
        out: list[float] = []
        times, levels, n = self.times, self.levels, len(self.times)
        i, done, at = -1, 0.0, 0.0  # `done` is the area up to `at`; step i is in force at `at`
        for k in range(count):
            x = k * step_s
            while i + 1 < n and times[i + 1] <= x:
                nxt = times[i + 1]
                done += (levels[i] if i >= 0 else 0) * (nxt - at)
                at = nxt
                i += 1
            out.append(done + (levels[i] if i >= 0 else 0) * (x - at))
        return out

    def mb_seconds(self) -> float:
        """The area under the curve: every container's MB-seconds, AMs included."""
        return sum(lv * (t1 - t0) for t0, t1, lv in zip(self.times, self.times[1:], self.levels, strict=False))

    def scaled(self, factor: float) -> DemandCurve:
        return DemandCurve(self.times, tuple(math.ceil(lv * factor) for lv in self.levels))

    def window_max(self, lookahead_s: float) -> DemandCurve:
        """The curve M(t) = the highest demand in [t, t + lookahead_s]: what capacity must be there soon.

        A sliding-window maximum over the steps (monotonic deque, linear time). M changes only where
        a step enters the window (its start - lookahead) or leaves it (its end).
        """
        times, levels = self.times, self.levels
        n = len(times)
        if n == 0:
            return self
        candidates = sorted({*times, *(t - lookahead_s for t in times)})
        out_t: list[float] = []
        out_l: list[int] = []
        window: deque[int] = deque()  # step indices, levels decreasing
        entered = 0
        for c in candidates:
            while entered < n and times[entered] <= c + lookahead_s:
                while window and levels[window[-1]] <= levels[entered]:
                    window.pop()
                window.append(entered)
                entered += 1
            # step i covers [times[i], times[i+1]); it has left the window once its end is <= c
            while window and window[0] + 1 < n and times[window[0] + 1] <= c:
                window.popleft()
            level = levels[window[0]] if window else 0
            if not out_l or out_l[-1] != level:
                out_t.append(c)
                out_l.append(level)
        return DemandCurve(tuple(out_t), tuple(out_l))


def pointwise_max(a: DemandCurve, b: DemandCurve) -> DemandCurve:
    """max(a(t), b(t)) at every t."""
    times: list[float] = []
    levels: list[int] = []
    for t in sorted({*a.times, *b.times}):
        level = max(a.at(t), b.at(t))
        if not levels or levels[-1] != level:
            times.append(t)
            levels.append(level)
    return DemandCurve(tuple(times), tuple(levels))


def ideal_demand(jobs: Sequence[Job], *, am_only: bool = False) -> DemandCurve:
    """Running-container memory over time in the ideal no-wait schedule of `jobs` (`am_only`: AMs alone)."""
    deltas: dict[float, int] = {}

    def hold(start: float, seconds: float, mb: int) -> None:
        if seconds <= 0 or mb <= 0:
            return
        deltas[start] = deltas.get(start, 0) + mb
        deltas[start + seconds] = deltas.get(start + seconds, 0) - mb

    for job in jobs:
        if job.am is not None:
            hold(job.submit_s, job.ideal_s, job.am.memory_mb)
        start = job.submit_s + job.am_start_s
        for stage in () if am_only else job.stages:
            if isinstance(stage.task_s, tuple):
                counts: dict[float, int] = {}
                for d in stage.task_s:
                    counts[d] = counts.get(d, 0) + 1
                for d, n in counts.items():
                    hold(start, d, n * stage.memory_mb)
            else:
                hold(start, float(stage.task_s), stage.tasks * stage.memory_mb)
            start += stage.longest_s
    times: list[float] = []
    levels: list[int] = []
    level = 0
    for t in sorted(deltas):  # ends before starts at one instant: the same key nets them
        level += deltas[t]
        if levels and levels[-1] == level:
            continue
        times.append(t)
        levels.append(level)
    return DemandCurve(tuple(times), tuple(levels))


def effective_demand(jobs: Sequence[Job], am_share: float = AM_SHARE) -> DemandCurve:
    """The capacity the ideal schedule needs: its containers' memory, and its AMs' over `am_share`.

    YARN starts an ApplicationMaster only while AMs hold at most `am_share` of the cluster's memory,
    so many small jobs at once need ten times their AMs' memory, however little their tasks need.
    """
    return pointwise_max(ideal_demand(jobs), ideal_demand(jobs, am_only=True).scaled(1.0 / am_share))
