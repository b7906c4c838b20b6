"""Component 7, the ApplicationMasters' share: the cluster memory YARN needs before it starts the
AMs that are waiting, and the memory the running AMs need it to keep.

YARN's CapacityScheduler (Hadoop's capacity-scheduler.xml) documents
`yarn.scheduler.capacity.maximum-am-resource-percent`, default 0.1, as the "Maximum percent of
resources in the cluster which can be used to run application masters i.e. controls number of
concurrent running applications", per queue "proportional to its capacity". A queue starts a
waiting AM only while its AMs hold at most that share, so a waiting 6 GiB AM needs about ten times
its memory in the cluster, however much memory sits free: buying for the pending memory, in which
it counts once, leaves jobs queued for hours (issue 9, the Alibaba v2017 runs).

Whether EMR changes that default is not in the AWS documentation searched here; one user reports
0.5 on EMR (raster-foundry/raster-foundry#1897, 2017), and the FairScheduler's `maxAMShare` is 0.5
too. So what YARN reports wins (`ClusterSnapshot.am_limits`, from `/ws/v1/cluster/scheduler`: a leaf
queue's `maxAMLimitPercentage`, `AMResourceLimit`, `usedAMResource`). The share of the *cluster* a
queue's AMs may hold is `AMResourceLimit / cluster memory` when both are known (that folds in the
queue's capacity), else the queue's share, else `DOCUMENTED_SHARE`, said so in the reason. The AMs'
memory in use has no default: unknown usage justifies no purchase and no kept capacity.

Jobs that wait for the AM share start as running jobs end, so the purchase is for the AMs still
waiting when a node bought now lands: the start rate is measured from the history over the job-rate
window (`start_rate`: `apps_pending` rose by the submissions minus the starts). At that rate the
waiting AMs start one after another, oldest first; one that starts before a node bought now could
land, or before it has waited the target, needs no purchase (`_late`): a larger target buys for
fewer of them. The AMs left get only as many AM slots as start them within the new node's work time
(`_queue_demand`; as `backlog`, EMR's paid time unless the target is shorter).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from autoscaler.model import AppInfo, MetricSample, QueueAmLimit

from .buffer import arrival_rate

#: Hadoop's documented `maximum-am-resource-percent` (capacity-scheduler.xml), used only when YARN
#: does not report the queue's own.
DOCUMENTED_SHARE = 0.1


@dataclass(frozen=True, slots=True)
class Timing:
    """The purchase's clock: the target wait, a boot, and the least work a new node is sized for
    (`backlog.least_work_s`: EMR's paid time less the boot, or the target if shorter)."""

    target_s: float
    boot_s: float
    min_work_s: float = 0.0


@dataclass(frozen=True, slots=True)
class AmShare:
    """What the AM share asks of the cluster's memory (MB), with the reason in words."""

    waiting: int  # AMs waiting to start (ACCEPTED apps without an AM host, with an AM ask)
    waiting_mb: int
    used_mb: int | None  # AMs' memory now; None = unknown
    share: float  # of the cluster's memory the AMs may hold
    needed_mb: float  # cluster memory before YARN starts the AMs still waiting when nodes land
    shortfall_mb: float  # needed − running and booting memory; 0 when nothing is justified
    keep_mb: float  # cluster memory the running AMs need kept (scale-in); 0 when unknown
    why: str


@lru_cache(maxsize=1024)  # the same few queues, asked of every waiting app every tick
def _leaf(queue: str) -> str:
    return queue.rsplit(".", 1)[-1]


def cluster_share(limit: QueueAmLimit | None, cluster_mb: float) -> tuple[float, str]:
    """The share of the cluster's memory the queue's AMs may hold, and where it comes from."""
    if limit is not None and limit.limit_mb and cluster_mb > 0 and 0 < limit.limit_mb <= cluster_mb:
        return limit.limit_mb / cluster_mb, (
            f"YARN's AM limit {limit.limit_mb / 1024:.0f} GB of {cluster_mb / 1024:.0f} GB"
            + (f" (maximum-am-resource-percent {100 * limit.share:g}%)" if limit.share is not None else "")
        )
    if limit is not None and limit.share is not None:
        return limit.share, f"YARN's {100 * limit.share:g}% AM share"
    return DOCUMENTED_SHARE, (
        f"YARN's documented {100 * DOCUMENTED_SHARE:g}% AM share (the RM reports none for this queue)"
    )


def start_rate(history: Sequence[MetricSample], apps: Iterable[AppInfo], now: float, window_s: float) -> float | None:
    """Waiting apps YARN started per second over the window: submissions minus the rise of
    `apps_pending`; None with fewer than two samples reporting it (nothing measured yet)."""
    since = now - window_s
    pts: list[tuple[float, int]] = [
        (s.at, n) for s in history if since <= s.at <= now and (n := s.yarn.apps_pending) is not None
    ]
    if len(pts) < 2 or pts[-1][0] <= pts[0][0]:
        return None
    span = pts[-1][0] - pts[0][0]
    submitted = arrival_rate(apps, now, span) * span
    return max(submitted - (pts[-1][1] - pts[0][1]), 0.0) / span


def waiting_ams(apps: Iterable[AppInfo]) -> dict[str, list[tuple[float | None, int]]]:
    """Per leaf queue: (submitted at, None if unknown; AM ask MB) of each app waiting for its AM to start."""
    out: dict[str, list[tuple[float | None, int]]] = {}
    for a in apps:
        if a.state == "ACCEPTED" and a.am_host is None and (asks := a.pending):
            # an app asks for one shape at first (its AM): `max` over one is the shape itself
            ask = asks[0].shape.memory_mb if len(asks) == 1 else max(r.shape.memory_mb for r in asks)
            out.setdefault(_leaf(a.queue), []).append((a.submitted_at, ask))
    return out


def _running_use(limits: Sequence[QueueAmLimit], cluster_mb: float) -> tuple[int | None, float]:
    """The running AMs' memory (None = unknown) and the cluster memory their share needs kept."""
    used_known = [q.used_mb for q in limits if q.used_mb is not None]
    total_used = sum(used_known) if limits and len(used_known) == len(limits) else None
    # scale-in: every queue's running AMs keep their share of the cluster
    keep = 0.0
    for q in limits:
        if q.used_mb:
            keep = max(keep, q.used_mb / cluster_share(q, cluster_mb)[0])
    return total_used, keep


def running_ams(limits: Sequence[QueueAmLimit], cluster_mb: float) -> AmShare:
    """`am_share` with no AM waiting (nothing pending): only what the running AMs need kept, which
    reads neither the apps nor the history."""
    total_used, keep = _running_use(limits, cluster_mb)
    share, src = cluster_share(next(iter(limits), None), cluster_mb)
    return AmShare(
        0, 0, total_used, share, 0.0, 0.0, keep, f"no AM waiting; running AMs keep {keep / 1024:.0f} GB ({src})"
    )


def am_share(  # noqa: PLR0917 - one value per input the rule weighs
    apps: Sequence[AppInfo],
    limits: Sequence[QueueAmLimit],
    cluster_mb: float,
    arriving_mb: float,
    history: Sequence[MetricSample],
    now: float,
    timing: Timing,
    window_s: float,
) -> AmShare:
    """The AM share's demand on the cluster: the binding queue's, in cluster memory."""
    waiting = waiting_ams(apps)
    if not waiting:
        return running_ams(limits, cluster_mb)
    by_queue = {_leaf(q.queue): q for q in limits}
    total_used, keep = _running_use(limits, cluster_mb)
    n_wait = sum(len(w) for w in waiting.values())
    wait_mb = sum(mb for w in waiting.values() for _, mb in w)
    have = cluster_mb + arriving_mb
    rate = start_rate(history, apps, now, window_s)
    best: AmShare | None = None
    for name, asks in waiting.items():
        limit = by_queue.get(name)
        share, src = cluster_share(limit, cluster_mb)
        n, mb = len(asks), sum(m for _, m in asks)
        head = f"{n} waiting AM(s) of {mb / n / 1024:.1f} GB in queue {name}"
        if limit is None or limit.used_mb is None:
            need, short = 0.0, 0.0
            why = f"{head}: AM memory in use unknown, so the AM share justifies no purchase ({src})"
        else:
            # an unknown submit time is no evidence of a long wait: such an app counts as just submitted;
            # oldest first, the order YARN's FIFO ordering policy starts them in
            ages = sorted((max(now - t, 0.0) if t is not None else 0.0 for t, _ in asks), reverse=True)
            need, short, why = _queue_demand(n, mb, limit.used_mb, share, src, head, have, rate, ages, timing)
        out = AmShare(n_wait, wait_mb, total_used, share, need, short, keep, why)
        if best is None or out.shortfall_mb > best.shortfall_mb:
            best = out
    assert best is not None
    return best


def _queue_demand(  # noqa: PLR0917 - one queue's rule, each input named in its reason
    n: int,
    mb: int,
    used_mb: int,
    share: float,
    src: str,
    head: str,
    have: float,
    rate: float | None,
    ages: Sequence[float],
    timing: Timing,
) -> tuple[float, float, str]:
    """(cluster memory needed, shortfall, reason) for one queue's `n` waiting AMs of `mb` in all.

    Running jobs end and hand their AM room on: `rate` starts/s on the running AMs' room, so each
    running AM starts `mu = rate / running` jobs a second. The AMs that rate starts only after both a
    boot and their target wait (`left`, `_late`) need X more AM slots that, with the running ones,
    start them all within the work time of a node bought now (as `backlog`: until the oldest of them
    reaches the target, at least `timing.min_work_s`): (rate + X·mu)·work ≥ left. With no start
    measured (long jobs), every one of them needs its own slot."""
    boot_s, target_s = timing.boot_s, timing.target_s
    each = mb / n
    now_need = (used_mb + mb) / share
    base = (
        f"{head}, {used_mb / 1024:.0f} GB of AMs running: YARN starts them all at {now_need / 1024:.0f} GB "
        f"of cluster memory ({src})"
    )
    age = ages[0] if ages else 0.0
    if now_need <= have:
        return now_need, 0.0, f"{base}; {have / 1024:.0f} GB running and booting: the AM share does not bind"
    if rate is None and age < target_s:
        return now_need, 0.0, f"{base}; measuring how fast they start first ({age:.0f} s old)"
    rate = rate or 0.0
    clear_s = n / rate if rate > 0 else math.inf
    pace = f"{rate * 60:.1f} starts/min as running jobs end"
    late = _late(ages, rate, timing)
    if not late:
        return (
            now_need,
            0.0,
            (
                f"{base}; at {pace} each starts within a {boot_s:.0f} s boot or before it has waited the target "
                f"{target_s:g} s (oldest {age:.0f} s old, all in {clear_s:.0f} s): buy nothing for them"
            ),
        )
    left = float(len(late))
    work_s = max(target_s - late[0] - boot_s, timing.min_work_s, 1.0)
    running = used_mb / each
    mu = rate / running if running > 0 else 0.0
    # YARN admits whole AMs (used + AM ≤ limit): a part of a slot is a slot
    slots = math.ceil(min(max(left / work_s - rate, 0.0) / mu, left) if mu > 0 else left)
    need = (used_mb + slots * each) / share
    short = max(need - have, 0.0)
    raise_to = (used_mb + slots * each) / have if have > 0 else math.inf
    cheaper = (
        f"raising YARN's maximum-am-resource-percent to {raise_to:.2f} would need no node for them"
        if raise_to <= 1
        else "no AM share would start them on the nodes already there"
    )
    return (
        need,
        short,
        (
            f"{base}; at {pace} {left:.0f} would start after both a {boot_s:.0f} s boot and the target "
            f"{target_s:g} s: {slots:.0f} more AM(s) at once "
            f"start them within {work_s:.0f} s, at {need / 1024:.0f} GB of cluster memory, "
            f"{have / 1024:.0f} GB running and booting: {short / 1024:.0f} GB short ({cheaper})"
        ),
    )


def _late(ages: Sequence[float], rate: float, timing: Timing) -> list[float]:
    """Ages of the waiting AMs (oldest first, as they start) that the measured start rate starts only after
    both a boot (a node bought now could help them) and the target wait (they need its help).

    The i-th starts (i + 1) / rate seconds from now as running jobs end; one that starts before a node
    bought now lands, or before it has waited `target_s`, needs no purchase: a larger target buys for
    fewer of them, a smaller for more."""
    late: list[float] = []
    for i, age in enumerate(ages):
        starts_in = (i + 1) / rate if rate > 0 else math.inf
        if starts_in > max(timing.boot_s, timing.target_s - age):
            late.append(age)
    return late
