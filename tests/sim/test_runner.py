from __future__ import annotations

from autoscaler.config import PolicySpec
from autoscaler.model import Market, PoolRole
from autoscaler.sim.job import Job, Stage
from autoscaler.sim.runner import simulate_policy
from autoscaler.sim.spec import ClusterSpec, default_spec, group
from autoscaler.testing import make_cluster_config


def _backlog(tasks: int = 400, seconds: float = 900.0) -> list[Job]:
    """One job of 1 GB / 1 vcore tasks, far more than two m5.xlarge cores hold: a sustained backlog."""
    return [Job("big", 0.0, (Stage(tasks, 1024, 1, seconds),), am=None)]


def test_emr_rules_scales_out_when_yarn_memory_is_used_up() -> None:
    """With EMR's memory-only scheduling a backlog uses up YARN memory, so the < 15 % rule adds task nodes."""
    config = make_cluster_config(cluster_id="j-SIMULATED", limits={"max_task_units": 10})
    result = simulate_policy(_backlog(), default_spec(), [PolicySpec(type="emr-rules")], config, None, 1)
    assert result.resizes > 0
    assert result.node_hours > 3 * result.extras["simulated_s"] / 3600  # more than the 2 cores and master


def test_dominant_calculator_leaves_memory_free_for_vcore_bound_work() -> None:
    """Under the DominantResourceCalculator 1 GB/1 vcore tasks fill the vcores first: memory stays > 15 % free."""
    base = default_spec()
    spec = ClusterSpec(
        pools=(
            group("ig-master", PoolRole.MASTER, Market.ON_DEMAND, 1),
            group("ig-core", PoolRole.CORE, Market.ON_DEMAND, 2),
            group("ig-task-spot", PoolRole.TASK, Market.SPOT, 0),
        ),
        resource_calculator="dominant",
        start_at=base.start_at,
    )
    config = make_cluster_config(cluster_id="j-SIMULATED", limits={"max_task_units": 10})
    result = simulate_policy(_backlog(tasks=40), spec, [PolicySpec(type="emr-rules")], config, None, 1)
    assert result.resizes == 0
    assert result.jobs_completed == 1
