"""A pool's bounds: the configured limits, the core floor HDFS and dfs.replication need, and the
implicit recommendations that bring a pool nobody spoke for back inside them.

Pure, like the guardrails that apply them. The engine adds `limit_recommendations` to the policies'
before combining, so bounds hold for pools no policy has an opinion on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from autoscaler.config import ClusterConfig
from autoscaler.model import CapacityPool, ClusterSnapshot, PoolRole, Recommendation, RejectReason


def dfs_replication_floor(core_units: int, configured: int | None = None) -> int:
    """EMR's default dfs.replication: 1 for 1–3 core nodes, 2 for 4–9, 3 for 10 or more."""
    if configured is not None:
        return configured
    if core_units >= 10:
        return 3
    if core_units >= 4:
        return 2
    return 1 if core_units >= 1 else 0


#: Policy name on the implicit recommendations that bring an out-of-bounds pool back into bounds.
LIMITS_POLICY = "limits"


@dataclass(frozen=True, slots=True)
class Bounds:
    """One pool's [lo, hi] in units, with the words a rejection uses to name each side."""

    lo: int
    hi: int
    lo_reason: RejectReason
    lo_detail: str
    hi_detail: str

    def clamp(self, units: int) -> int:
        """Into [lo, hi]; when they cross the floor wins (keeping capacity is the recoverable mistake)."""
        return max(min(units, self.hi), self.lo)


def hdfs_floor(core_units: int, utilization_pct: float | None, max_utilization_pct: float) -> int:
    """Core nodes HDFS needs so that its current data stays under `max_utilization_pct` of capacity.

    Unknown utilisation keeps every core node: shrinking HDFS blind can lose blocks or fill the disks
    of the nodes that remain. Assumes core nodes of one size (an instance group has one type).
    """
    if utilization_pct is None:
        return core_units
    # a floor, never a reason to grow: an over-full HDFS keeps what it has
    return min(core_units, math.ceil(core_units * max(utilization_pct, 0.0) / max_utilization_pct - 1e-9))


def pool_bounds(pool: CapacityPool, config: ClusterConfig, hdfs_utilization_pct: float | None = None) -> Bounds:
    """The configured bounds of one pool; task limits apply to each task pool on its own.

    A CORE pool's floor is the largest of `limits.min_core_units`, the dfs.replication rule and what
    HDFS needs to hold its data (`hdfs_floor`, from CloudWatch's HDFSUtilization).
    """
    limits, guards = config.limits, config.guards
    if pool.role is not PoolRole.CORE:
        return _task_bounds(limits.min_task_units, limits.max_task_units)
    current = pool.requested.total
    rule = dfs_replication_floor(current, guards.dfs_replication)
    hdfs = hdfs_floor(current, hdfs_utilization_pct, guards.max_hdfs_utilization_pct)
    lo = max(limits.min_core_units, rule, hdfs)
    if not guards.scale_core:
        lo = max(lo, current)
    used = "unknown" if hdfs_utilization_pct is None else f"{hdfs_utilization_pct:g}%"
    return Bounds(
        lo,
        limits.max_core_units or current,
        RejectReason.CORE_FLOOR if guards.scale_core else RejectReason.CORE_NOT_ENABLED,
        f"core floor {lo} = max(limits.min_core_units={limits.min_core_units}, dfs.replication={rule}, "
        f"HDFS {used} used needs {hdfs} at guards.max_hdfs_utilization_pct={guards.max_hdfs_utilization_pct:g})"
        if guards.scale_core
        else "core pools are never shrunk unless guards.scale_core is true",
        f"limits.max_core_units={limits.max_core_units} (0: core does not grow)",
    )


@lru_cache(maxsize=64)
def _task_bounds(lo: int, hi: int) -> Bounds:
    """A task pool's bounds depend on the two limits alone: built once, not per pool per tick."""
    return Bounds(lo, hi, RejectReason.BELOW_MIN, f"limits.min_task_units={lo}", f"limits.max_task_units={hi}")


def limit_recommendations(
    pools: Sequence[CapacityPool],
    spoken_for: set[str],
    config: ClusterConfig,
    hdfs_utilization_pct: float | None = None,
) -> list[Recommendation]:
    """An implicit LIMITS_POLICY recommendation for each pool out of its bounds that no policy spoke for.

    Without it, bounds would only trim what policies want: a pool below its minimum (e.g. after an
    operator raised `min_task_units`) would never be raised and one above its maximum never lowered.
    """
    out = []
    for pool in pools:
        if pool.pool_id in spoken_for:
            continue
        bounds, current = pool_bounds(pool, config, hdfs_utilization_pct), pool.requested.total
        target = bounds.clamp(current)
        if target != current:
            detail = bounds.lo_detail if target > current else bounds.hi_detail
            reason = f"{current} units is outside the configured bounds ({detail})"
            out.append(Recommendation(LIMITS_POLICY, pool.pool_id, target, reason))
    return out


def hdfs_utilization(snapshot: ClusterSnapshot) -> float | None:
    """CloudWatch's HDFSUtilization (percent) from the snapshot, None when not read."""
    return snapshot.cloudwatch.get("HDFSUtilization")
