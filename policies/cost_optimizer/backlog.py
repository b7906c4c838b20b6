"""Component 3, buy for the backlog that will still be there when new nodes arrive.

A node bought now registers with YARN one boot later (`boot_s`, measured per pool from its own
history by `autoscaler.boots`, `default_boot_s` until then). So:

- the backlog's net drain rate (MB/s) is the fall of pending memory over the last `trend_window_s`
  of history: running containers completing minus new asks arriving, as YARN shows it;
- a backlog seen in one sample only has no drain rate yet: it waits a tick to measure it while it
  is younger than the target (with target 0 it buys at once);
- a backlog that drains within one boot buys nothing: the nodes would arrive to no work;
- a backlog younger than `target − boot` can wait: a node bought later still lands within the
  target, and the backlog may clear meanwhile;
- otherwise buy only for what will still be pending when the nodes land: pending minus one boot of
  draining, plus one boot of steady demand growth (the arrival rate of new work, the median of the
  history's per-interval growth of allocated + pending memory, so one burst is not extrapolated),
  at most `MAX_GROWTH_FRACTION` times the pending asks: the `fraction` of them bought.

A backlog older than both the target and one boot is *urgent*: waiting for the cheapest pool to
finish resizing would add up to another boot, so a dearer pool may be bought as well (`pricing`).

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
    urgent: bool = False  # the backlog is already older than the target and than a boot


def boot_estimates(memory: ControllerMemory, pool_ids: Iterable[str], default_s: float) -> dict[str, float]:
    """Per pool: its own measured median boot, else the median of the others', else `default_s`."""
    measured = {p: measured_boot_s(memory, p) for p in pool_ids}
    known = [b for b in measured.values() if b is not None]
    fallback = statistics.median(known) if known else default_s
    return {p: fallback if b is None else b for p, b in measured.items()}


def drain_rate(history: Sequence[MetricSample], now: float, window_s: float) -> float | None:
    """Net MB/s the pending memory fell by (least squares) over the window's samples of this backlog,
    i.e. the unbroken run of samples with something pending that ends now; None with fewer than two
    (a backlog seen once has no measurable drain: the rise from nothing is not a trend)."""
    pts: list[tuple[float, int]] = []
    for s in reversed(history):
        if s.at < now - window_s or not s.yarn.pending_mb:
            break
        if s.at <= now:
            pts.append((s.at, s.yarn.pending_mb))
    if len(pts) < 2:
        return None
    mt = sum(t for t, _ in pts) / len(pts)
    mp = sum(p for _, p in pts) / len(pts)
    var = sum((t - mt) ** 2 for t, _ in pts)
    if var <= 0:
        return None
    slope = sum((t - mt) * (p - mp) for t, p in pts) / var
    return max(-slope, 0.0)


def demand_growth(history: Sequence[MetricSample], now: float, window_s: float) -> float:
    """MB/s the cluster's total demand (allocated + pending) grows by, steadily, over the window.

    The median of the per-interval changes, not their sum: a steady stream of new work (the arrival
    rate) counts, one job landing at once does not, so a single large burst is never extrapolated."""
    pts = [
        (s.at, s.yarn.allocated_mb + s.yarn.pending_mb)
        for s in history
        if now - window_s <= s.at <= now and s.yarn.allocated_mb is not None and s.yarn.pending_mb is not None
    ]
    steps = sorted((b - a) / (tb - ta) for (ta, a), (tb, b) in pairwise(pts) if tb > ta)
    if not steps:
        return 0.0
    mid = len(steps) // 2
    median = steps[mid] if len(steps) % 2 else (steps[mid - 1] + steps[mid]) / 2
    return max(median, 0.0)


def backlog_age(history: Sequence[MetricSample], apps: Iterable[AppInfo], now: float) -> float:
    """Seconds something has been pending without a break, or the oldest first-container wait."""
    since = now
    for s in reversed(history):
        if not (s.yarn.pending_mb or s.yarn.containers_pending):
            break
        since = s.at
    oldest = min((a.submitted_at for a in apps if a.state == "ACCEPTED" and a.submitted_at is not None), default=now)
    return max(now - since, now - oldest, 0.0)


def forecast(  # noqa: PLR0917 - one value per input the forecast weighs
    unplaced_mb: float,
    pending_mb: float,
    history: Sequence[MetricSample],
    apps: Iterable[AppInfo],
    now: float,
    target_s: float,
    boot_s: float,
    window_s: float,
) -> Forecast:
    """Whether to buy for `unplaced_mb` (pending memory no running or arriving node can take)."""
    if unplaced_mb <= 0:
        return Forecast(False, 0.0, "nothing pending beyond running and booting capacity")
    rate = drain_rate(history, now, window_s)
    age = backlog_age(history, apps, now)
    if rate is None and age < target_s:
        return Forecast(
            False, 0.0, f"backlog {unplaced_mb / 1024:.1f} GB seen once: measuring its drain first ({age:.0f} s old)"
        )
    clear_s = pending_mb / rate if rate else math.inf
    drained = "not draining" if not rate else f"draining {rate:.0f} MB/s, clears in {clear_s:.0f} s"
    if clear_s <= boot_s:
        return Forecast(
            False, 0.0, f"backlog {unplaced_mb / 1024:.1f} GB {drained}, within a {boot_s:.0f} s boot: buy nothing"
        )
    slack = target_s - age
    if slack > boot_s:
        return Forecast(
            False,
            0.0,
            f"backlog {age:.0f} s old, {drained}: a node bought within {slack - boot_s:.0f} s still lands "
            f"inside target_p95_wait_s {target_s:g} (boot {boot_s:.0f} s)",
        )
    growth = demand_growth(history, now, window_s)
    left = max(unplaced_mb - (rate or 0.0) * boot_s + growth * boot_s, 0.0)
    fraction = min(left / unplaced_mb, MAX_GROWTH_FRACTION)
    grows = f", demand growing {growth:.0f} MB/s" if growth else ""
    return Forecast(
        fraction > 0,
        fraction,
        urgent=age >= max(target_s, boot_s),
        why=f"backlog {age:.0f} s old, {drained}{grows}; {left / 1024:.1f} GB of {unplaced_mb / 1024:.1f} GB unplaced "
        f"still pending when a node bought now lands ({boot_s:.0f} s boot, target {target_s:g} s)",
    )


def scaled(shapes: Mapping[Resources, int], fraction: float) -> dict[Resources, int]:
    """Each shape's count times `fraction`, rounded up (a part of a container is a container)."""
    return {s: math.ceil(n * fraction) for s, n in shapes.items() if math.ceil(n * fraction) > 0}
