"""`SimActuator`: a Plan applied to the simulated cluster, as `EmrActuator` applies it to EMR.

Like the real actuator it re-reads the pool first and skips a resize whose pool moved since the
snapshot the plan was made from (the plan is then stale), then writes absolute targets.
"""

from __future__ import annotations

from autoscaler.model import ClusterSnapshot, Outcome, OutcomeStatus, Plan, PoolKind, Resize
from autoscaler.sim.cluster import SimCluster


class SimActuator:
    def __init__(self, cluster: SimCluster) -> None:
        self.cluster = cluster
        self.applied: list[tuple[float, Resize]] = []

    def apply(self, plan: Plan, snapshot: ClusterSnapshot) -> tuple[Outcome, ...]:
        outcomes = []
        for resize in plan.resizes:
            outcomes.append(self._apply(resize))
        return tuple(outcomes)

    def _apply(self, resize: Resize) -> Outcome:
        pool = self.cluster.pools.get(resize.pool_id)
        if pool is None:
            return Outcome(resize.pool_id, OutcomeStatus.FAILED, "no such pool", error_code="ValidationException")
        current = (pool.target[pool.spec.market] if resize.kind is PoolKind.INSTANCE_GROUP else None, pool.target)
        now_total = sum(pool.target.values())
        if now_total != resize.current.total:
            detail = f"pool holds {now_total} units, the plan assumed {resize.current.total}"
            return Outcome(resize.pool_id, OutcomeStatus.SKIPPED_CHANGED, detail)
        try:
            if resize.kind is PoolKind.INSTANCE_GROUP and current[0] is not None:
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
            return Outcome(resize.pool_id, OutcomeStatus.FAILED, str(err), error_code="ValidationException")
        self.applied.append((self.cluster.now, resize))
        return Outcome(resize.pool_id, OutcomeStatus.APPLIED, f"{resize.current.total} -> {resize.target.total}")
