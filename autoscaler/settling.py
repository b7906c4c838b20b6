"""When a pool's resize completed: what vendor cooldowns are counted from.

Google Dataproc's cooldown "starts after the update operation from the previous event has
completed"; EMR's custom-rule CoolDown starts "after a scaling activity completes". Counting from
the request instead makes a reference policy re-buy capacity that is still booting. Completion is
observed, not assumed: a pool is *settled* when EMR reports it RUNNING with nothing still arriving
and (an instance group) exactly its requested count running; a fleet may overshoot a weighted target
by less than a node for good, so for fleets RUNNING with nothing provisioning is enough.

The engine folds each managed pool into `PoolMemory` every tick (`note_resize_progress`): seen
moving → `resizing_since`; then seen settled → `last_resize_completed_at = now`. A resize we asked
for counts as moving until a later tick sees the pool settled, even if no tick caught it RESIZING
(a cancelled boot settles within one poll). Resolution is one tick. A restarted daemon that finds a
pool RESIZING records its completion too, so no vendor cooldown is skipped across a restart.

Pure: no I/O, no clock; `now` is the snapshot's `taken_at`.
"""

from __future__ import annotations

from dataclasses import replace

from autoscaler.model import CapacityPool, PoolMemory, PoolState


def pool_settled(pool: CapacityPool) -> bool:
    """RUNNING, nothing provisioning, and an instance group holding exactly what it requested."""
    if pool.state is not PoolState.RUNNING or pool.provisioning.total > 0:
        return False
    return pool.is_fleet or pool.running.total == pool.requested.total


def last_request_at(mem: PoolMemory) -> float | None:
    """When we last asked this pool to resize (either direction)."""
    up, down = mem.last_scale_up_at, mem.last_scale_down_at
    if up is None or down is None:
        return down if up is None else up
    return down if down > up else up  # max((up, down)): the first of equal ones


def _ask_unfinished(mem: PoolMemory) -> bool:
    asked = last_request_at(mem)
    done = mem.last_resize_completed_at
    return asked is not None and (done is None or done < asked)


def note_resize_progress(mem: PoolMemory, pool: CapacityPool, now: float) -> PoolMemory:
    """`mem` with this tick's view of the pool folded in (unchanged object when nothing changed)."""
    if not pool_settled(pool):
        return mem if mem.resizing_since is not None else replace(mem, resizing_since=now)
    asked = last_request_at(mem)
    if mem.resizing_since is not None or (_ask_unfinished(mem) and asked is not None and asked < now):
        return replace(mem, resizing_since=None, last_resize_completed_at=now)
    return mem


def resize_in_flight(mem: PoolMemory, pool: CapacityPool) -> bool:
    """A resize of this pool has not been seen to complete: it is moving now, or we asked since
    the last completion we saw."""
    return not pool_settled(pool) or mem.resizing_since is not None or _ask_unfinished(mem)
