"""The actuation contract every actuator keeps (EMR, dry run, simulator), as pure rules.

An actuator decides nothing new: it refuses next to EMR's own scaling (`refusal`), re-reads the
pool just before writing, and skips a resize whose pool moved since the snapshot the plan was made
from (`recheck`): another actor resized it, its per-market targets changed, or its state did. The
real and the simulated actuator call the same two functions on a `CapacityPool` each builds from
its own live view, so the simulator can never act on a plan the daemon would have skipped.
"""

from __future__ import annotations

from typing import Protocol

from autoscaler.model import CapacityPool, ClusterSnapshot, Outcome, OutcomeStatus, Plan, PoolKind, Resize


class Actuator(Protocol):
    def apply(self, plan: Plan, snapshot: ClusterSnapshot) -> tuple[Outcome, ...]: ...


def refusal(snapshot: ClusterSnapshot, resize: Resize) -> str | None:
    """Why this resize must not be written at all (EMR's own scaling owns the cluster or pool), or None."""
    if snapshot.managed_scaling_enabled:
        return "the cluster has an EMR managed scaling policy: remove it or run this autoscaler dry"
    pool = planned_pool(snapshot, resize.pool_id)
    if pool is not None and pool.has_autoscaling_policy:
        return "the group has an EMR automatic scaling policy: remove it or leave the group out of `pools`"
    return None


def planned_pool(snapshot: ClusterSnapshot, pool_id: str) -> CapacityPool | None:
    try:
        return snapshot.pool(pool_id)
    except KeyError:
        return None


def changed(resize: Resize, planned: CapacityPool | None, live: CapacityPool) -> str | None:
    """Why the live pool differs from what the plan was made on (state, or per-market targets), or None."""
    if planned is not None and live.state is not planned.state:
        return f"state changed from {planned.state.value} to {live.state.value}"
    was, now = resize.current, live.requested
    if now == was:
        return None
    if resize.kind is PoolKind.INSTANCE_FLEET:
        return f"targets changed from on-demand {was.on_demand}/spot {was.spot} to {now.on_demand}/{now.spot}"
    if now.total != was.total:
        return f"requested count changed from {was.total} to {now.total}"
    return f"market changed: on-demand {was.on_demand}/spot {was.spot} became {now.on_demand}/{now.spot}"


def recheck(resize: Resize, snapshot: ClusterSnapshot, live: CapacityPool | None) -> Outcome | None:
    """The outcome that replaces the write when the re-read pool forbids it, or None to write."""
    if live is None:
        return Outcome(resize.pool_id, OutcomeStatus.SKIPPED_CHANGED, "pool no longer listed by EMR")
    if live.has_autoscaling_policy:
        return Outcome(resize.pool_id, OutcomeStatus.REFUSED, "the group has an EMR automatic scaling policy")
    why = changed(resize, planned_pool(snapshot, resize.pool_id), live)
    return None if why is None else Outcome(resize.pool_id, OutcomeStatus.SKIPPED_CHANGED, why)
