"""The oracle floor counts the pool minimums every policy keeps (`limits.min_task_units`), and stays a floor."""

from __future__ import annotations

import pytest

from autoscaler.config import LimitsConfig, PolicySpec
from autoscaler.model import Market, PoolRole
from autoscaler.sim.job import Job, Stage
from autoscaler.sim.oracle import bounded_minimum_units, oracle_floor
from autoscaler.sim.runner import build_prices, simulate_policy
from autoscaler.sim.spec import ClusterSpec, group
from autoscaler.testing import make_cluster_config

from .conftest import book, spec_with

# conftest's book: m5.xlarge on-demand 0.192 + EMR 0.048 = 0.24 USD/h; Spot at half EC2: 0.096 + 0.048
ON_DEMAND_H, SPOT_H = 0.24, 0.144
ONE_HOUR_JOB = [Job("j", 0.0, (Stage(1, 1024, 1, 3600.0),))]  # span 1 h, negligible work


def _minimum(spec: ClusterSpec, **limits: int) -> float:
    return oracle_floor(ONE_HOUR_JOB, spec, book(spec), limits=LimitsConfig(**limits)).minimum_usd


def test_task_minimum_counts_what_the_pool_starts_with_up_to_the_minimum() -> None:
    """A Spot task group of 3 with min_task_units 2 adds 2 Spot units for the span; with 5 it adds the 3 it has."""
    spec = spec_with(group("ig-spot", PoolRole.TASK, Market.SPOT, 3))
    master_only = ON_DEMAND_H * 1.0
    assert _minimum(spec) == pytest.approx(master_only)
    assert _minimum(spec, min_task_units=2) == pytest.approx(master_only + 2 * SPOT_H)
    assert _minimum(spec, min_task_units=5, max_task_units=20) == pytest.approx(master_only + 3 * SPOT_H)


def test_minimum_applies_per_managed_task_pool_and_to_core_only_when_core_scales() -> None:
    """Each managed task pool keeps its own minimum; an unmanaged pool keeps none; core's min only with scale_core."""
    limits = LimitsConfig(min_task_units=2, min_core_units=1)
    spot = group("ig-spot", PoolRole.TASK, Market.SPOT, 4)
    od = group("ig-od", PoolRole.TASK, Market.ON_DEMAND, 2)
    core = group("ig-core", PoolRole.CORE, Market.ON_DEMAND, 3)
    assert bounded_minimum_units(spot, limits, core_fixed=True) == 2
    assert bounded_minimum_units(od, limits, core_fixed=True) == 2
    assert bounded_minimum_units(od, limits, core_fixed=True, managed=["ig-spot"]) == 0
    assert bounded_minimum_units(core, limits, core_fixed=True) == 0  # fixed: counted in full as before
    assert bounded_minimum_units(core, limits, core_fixed=False) == 1
    spec = spec_with(spot, od)
    assert _minimum(spec, min_task_units=2) == pytest.approx(ON_DEMAND_H + 2 * SPOT_H + 2 * ON_DEMAND_H)


def _jobs() -> list[Job]:
    """Six small jobs over 100 minutes: the always-on nodes, not the work, set the floor."""
    return [Job(f"j{i}", i * 1200.0, (Stage(4, 2048, 1, 300.0),)) for i in range(6)]


@pytest.mark.parametrize("initial", [4, 1])
@pytest.mark.parametrize("policy", ["static", "pending-demand", "emr-rules", "dataproc", "managed-scaling-like"])
def test_floor_with_min_task_units_is_below_every_policy_and_above_the_floor_without(policy: str, initial: int) -> None:
    """min_task_units 3: each policy costs at least the floor, which is higher than with min_task_units 0."""
    spec = ClusterSpec(
        pools=(
            group("ig-master", PoolRole.MASTER, Market.ON_DEMAND, 1),
            group("ig-core", PoolRole.CORE, Market.ON_DEMAND, 1),
            group("ig-task-spot", PoolRole.TASK, Market.SPOT, initial),
        )
    )
    config = make_cluster_config(cluster_id="j-SIMULATED", limits={"min_task_units": 3, "max_task_units": 20})
    result = simulate_policy(_jobs(), spec, [PolicySpec(type=policy)], config, None, 3)
    assert result.jobs_completed == 6
    assert result.extras["overrun_stop"] is False
    assert result.cost_usd >= result.oracle_floor_usd
    no_min = make_cluster_config(cluster_id="j-SIMULATED", limits={"min_task_units": 0, "max_task_units": 20})
    prices = build_prices(no_min, spec, None)
    floor_without = oracle_floor(_jobs(), spec, prices, limits=no_min.limits).usd
    added = min(initial, 3) * prices.min_usd_per_hour("m5.xlarge", Market.SPOT) * (5 * 1200 + 300) / 3600
    assert result.oracle_floor_usd == pytest.approx(floor_without + added, abs=1e-6)
