"""Component 3, buy for the backlog that will still be there when new nodes arrive.

A node bought now registers with YARN one boot later (`boot_s`, measured per pool from its own
history by `autoscaler.boots`, `default_boot_s` until then), and EMR removes no node younger than
`guards.min_node_age_s` (10 minutes), so each one is paid for at least that long. Pending memory
alone says little about how long a backlog lasts (3,000 GB of 5-second maps clear in a minute on 50
nodes; 1,000 reduces of 7 minutes need hundreds of nodes), so the forecast weighs throughput:

- `throughput` (μ): the share of allocated memory that completes per second, measured from the
  history of this cluster (a container of mean lifetime D hands its room to the backlog every D s);
- `arrivals` (λ): MB/s of new asks, from the same history;
- running and booting capacity C absorb the backlog at μ·C − λ: a backlog that clears within a boot
  on them buys nothing (a node bought now would land to no work), and neither does one that clears
  before the oldest waiting job reaches `target_p95_wait_s`;
- otherwise buy the least capacity X that clears the backlog by that deadline, and at least
  `min_work_s` after the nodes land (minimum age − boot: a node has work for the time it is paid
  anyway): one new MB absorbs 1 + μ·work_s MB of backlog, so X = (what C leaves) / (1 + μ·work_s),
  at most `MAX_GROWTH_FRACTION` times the unplaced asks (the `fraction` of them bought). A target
  shorter than that paid time shortens it to the target (`least_work_s`): the operator asks for a
  faster clear and pays for it.
- a backlog seen in one sample only has no throughput yet: it waits a tick to measure it while it
  is younger than the target (with target 0 it buys at once, as if nothing completed).

The backlog's age is how long the history has shown something pending without a break, or the
wait of the oldest app still waiting for its first container, whichever is longer.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from autoscaler.boots import measured_boot_s
from autoscaler.model import AppInfo, ControllerMemory, MetricSample, Resources

#: A purchase covers at most this many times the unplaced asks, however fast demand has been growing.
MAX_GROWTH_FRACTION = 2.0


@dataclass(frozen=True, slots=True)
class Forecast:
    buy: bool
    fraction: float  # share of the unplaced asks still pending when new nodes land
    why: str


def least_work_s(min_node_age_s: float, boot_s: float, target_s: float) -> float:
    """The YARN time a purchase is sized to keep its nodes busy for once the target cannot be met.

    EMR removes no node younger than `min_node_age_s`, so a node bought now is paid for that long
    anyway: clearing the backlog faster than its age less the boot pays for idle, and is not done
    unless the operator's target asks for it. A target shorter than that is such an ask: the jobs
    still waiting when the nodes land start within the target after they land. So a smaller target
    buys more for a shorter wait, and a target at or above EMR's paid time buys as before."""
    return min(max(min_node_age_s - boot_s, 0.0), target_s)


def boot_estimates(memory: ControllerMemory, pool_ids: Iterable[str], default_s: float) -> dict[str, float]:
    """Per pool: its own measured median boot, else the median of the others', else `default_s`."""
    measured = {p: measured_boot_s(memory, p) for p in pool_ids}
    known = [b for b in measured.values() if b is not None]
    fallback = statistics.median(known) if known else default_s
    return {p: fallback if b is None else b for p, b in measured.items()}


def arrivals(history: Sequence[MetricSample], now: float, window_s: float, mu: float) -> float:
    """MB/s of new container asks over the window: per interval, the rise of pending + allocated memory
    plus what completed meanwhile (`mu` × allocated). The mean without the window's largest interval,
    so one burst (already in the backlog) is never extrapolated, while a stream of them is."""
    since = now - window_s
    pts = [
        (s.at, p, a)
        for s in history
        if since <= s.at <= now and (a := s.yarn.allocated_mb) is not None and (p := s.yarn.pending_mb) is not None
    ]
    if len(pts) < 3:
        return 0.0
    got = sorted(
        max((p1 + a1) - (p0 + a0) + mu * (a0 + a1) / 2 * (t1 - t0), 0.0) for (t0, p0, a0), (t1, p1, a1) in pairwise(pts)
    )
    return sum(got[:-1]) / (pts[-1][0] - pts[0][0])


def backlog_age(history: Sequence[MetricSample], apps: Iterable[AppInfo], now: float) -> float:
    """Seconds something has been pending without a break, or the oldest first-container wait."""
    since = now
    for s in reversed(history):
        if not (s.yarn.pending_mb or s.yarn.containers_pending):
            break
        since = s.at
    oldest = min((a.submitted_at for a in apps if a.state == "ACCEPTED" and a.submitted_at is not None), default=now)
    return max(now - since, now - oldest, 0.0)


@dataclass(frozen=True, slots=True)
class Capacity:
    """YARN memory the backlog can use without buying: RUNNING nodes' (allocated + free) and booting nodes'."""

    running_mb: float
    arriving_mb: float

    @property
    def total_mb(self) -> float:
        return self.running_mb + self.arriving_mb


def throughput(history: Sequence[MetricSample], now: float, window_s: float) -> float | None:
    """Per second, the share of allocated memory that completes and is handed to the backlog.

    Between two samples with something pending both times, YARN places what completes, so pending
    plus allocated memory falls by what completed minus what arrived: `(−Δpending − Δallocated) /
    allocated` is at most the completion rate (1 / the mean container lifetime). The upper quartile
    of the window's intervals is taken, since arrivals only ever hide completions; None with fewer
    than two such intervals (nothing has been measured yet). Samples with nothing pending are skipped,
    so an interval may span one (a short gap between two backlogs is bridged, not measured)."""
    since = now - window_s
    pts = [
        (s.at, p, a)
        for s in history
        if since <= s.at <= now and (p := s.yarn.pending_mb) and (a := s.yarn.allocated_mb)
    ]
    rates = sorted(
        max((p0 - p1) + (a0 - a1), 0) / ((a0 + a1) / 2 * (t1 - t0))
        for (t0, p0, a0), (t1, p1, a1) in pairwise(pts)
        if t1 > t0
    )
    if len(rates) < 2:
        return None
    return rates[(3 * (len(rates) - 1) + 3) // 4]


def forecast(  # noqa: PLR0917 - one value per input the forecast weighs
    unplaced_mb: float,
    capacity: Capacity,
    history: Sequence[MetricSample],
    apps: Iterable[AppInfo],
    now: float,
    target_s: float,
    boot_s: float,
    window_s: float,
    min_work_s: float = 0.0,
    arrival_window_s: float = 900.0,
) -> Forecast:
    """Whether, and how much, to buy for `unplaced_mb` (pending memory no free or booting slot takes).

    Running and booting capacity keep absorbing the backlog as their containers complete
    (`throughput`); a node bought now lands one boot later and absorbs its own memory, then as much
    again per mean container lifetime. The purchase is the least capacity that clears the backlog
    by the time the oldest waiting job reaches the target, and never less work per new node than
    `min_work_s` after it lands (a node is paid for at least EMR's minimum age: buying more nodes than
    the work can keep busy for it only pays for idle)."""
    if unplaced_mb <= 0:
        return Forecast(False, 0.0, "nothing pending beyond running and booting capacity")
    mu = throughput(history, now, window_s)
    age = backlog_age(history, apps, now)
    gb = unplaced_mb / 1024
    if mu is None and age < target_s:
        return Forecast(False, 0.0, f"backlog {gb:.1f} GB seen once: measuring its drain first ({age:.0f} s old)")
    mu = mu or 0.0
    growth = arrivals(history, now, arrival_window_s, mu)
    net = mu * capacity.total_mb - growth
    clear_s = unplaced_mb / net if net > 0 else math.inf
    rate = f"completing {100 * mu:.1f}%/s of allocated memory" if mu else "no completions measured"
    grows = f", {growth:.0f} MB/s of new asks" if growth else ""
    on = f"{capacity.total_mb / 1024:.0f} GB running and booting"
    if clear_s <= boot_s:
        return Forecast(
            False,
            0.0,
            f"backlog {gb:.1f} GB clears in {clear_s:.0f} s on {on} ({rate}{grows}), "
            f"within a {boot_s:.0f} s boot: buy nothing",
        )
    deadline = target_s - age
    if clear_s <= deadline:
        return Forecast(
            False,
            0.0,
            f"backlog {gb:.1f} GB, {age:.0f} s old, clears in {clear_s:.0f} s on {on} ({rate}{grows}): "
            f"within target_p95_wait_s {target_s:g}",
        )
    work_s = max(deadline - boot_s, min_work_s)
    horizon = boot_s + work_s
    left = max(unplaced_mb - net * horizon, 0.0)
    needed = left / (1 + mu * work_s)
    if needed <= 0:
        return Forecast(
            False,
            0.0,
            f"backlog {gb:.1f} GB, {age:.0f} s old, clears in {clear_s:.0f} s on {on} ({rate}{grows}): "
            f"a node bought now would land in {boot_s:.0f} s with under {work_s:.0f} s of work, less than EMR's "
            "minimum age pays for: buy nothing",
        )
    fraction = min(needed / unplaced_mb, MAX_GROWTH_FRACTION)
    return Forecast(
        fraction > 0,
        fraction,
        why=f"backlog {age:.0f} s old, {gb:.1f} GB beyond {on} ({rate}{grows}); "
        f"{needed / 1024:.1f} GB more clears it {work_s:.0f} s after a {boot_s:.0f} s boot (target {target_s:g} s)",
    )


def scaled(shapes: Mapping[Resources, int], fraction: float) -> dict[Resources, int]:
    """Each shape's count times `fraction`, rounded up (a part of a container is a container)."""
    return {s: math.ceil(n * fraction) for s, n in shapes.items() if math.ceil(n * fraction) > 0}
