"""`SimActuator`: a Plan applied to the simulated cluster, as `EmrActuator` applies it to EMR.

It keeps the same contract through the same code (`autoscaler.actuation`): refuse next to EMR's own
scaling, re-read the pool and skip a resize whose pool moved since the snapshot (state or per-market
targets), then write absolute targets. A failure is stamped with the simulated time it happened.
"""

from __future__ import annotations

from autoscaler.actuation import recheck, refusal
from autoscaler.model import ClusterSnapshot, Outcome, OutcomeStatus, Plan, PoolKind, Resize
from autoscaler.sim.cluster import SimCluster
from autoscaler.sim.view import pool_view


class SimActuator:
    def __init__(self, cluster: SimCluster) -> None:
        self.cluster = cluster
        self.applied: list[tuple[float, Resize]] = []

    def apply(self, plan: Plan, snapshot: ClusterSnapshot) -> tuple[Outcome, ...]:
        return tuple(self._apply(resize, snapshot) for resize in plan.resizes)

    def _apply(self, resize: Resize, snapshot: ClusterSnapshot) -> Outcome:
        refused = refusal(snapshot, resize)
        if refused:
            return Outcome(resize.pool_id, OutcomeStatus.REFUSED, refused)
        pool = self.cluster.pools.get(resize.pool_id)
        skipped = recheck(resize, snapshot, None if pool is None else pool_view(pool))
        if skipped is not None or pool is None:
            return skipped or Outcome(resize.pool_id, OutcomeStatus.SKIPPED_CHANGED, "no such pool")
        try:
            if resize.kind is PoolKind.INSTANCE_GROUP:
                self.cluster.modify_instance_group(
                    resize.pool_id,
                    resize.target.get(pool.spec.market),
                    instances_to_terminate=resize.instances_to_terminate,
                    instances_to_protect=resize.instances_to_protect,
                    decommission_timeout_s=resize.decommission_timeout_s,
                )
            else:
                self.cluster.modify_instance_fleet(
                    resize.pool_id, target_on_demand=resize.target.on_demand, target_spot=resize.target.spot
                )
        except (KeyError, ValueError) as err:
            return Outcome(
                resize.pool_id, OutcomeStatus.FAILED, str(err), "ValidationException", failed_at=self.cluster.now
            )
        self.applied.append((self.cluster.now, resize))
        return Outcome(resize.pool_id, OutcomeStatus.APPLIED, f"{resize.current.total} -> {resize.target.total}")
