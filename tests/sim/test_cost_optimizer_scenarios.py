"""cost-optimizer over whole small simulated traces, with invariants checked on every tick.

The loop is the simulator's own (`autoscaler.sim.runner`): snapshot → `tick.run_tick` with
`SimActuator`, so what is checked here is what `simulate` runs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

import pytest

from autoscaler.config import ClusterConfig
from autoscaler.model import ControllerMemory, InstanceState, Resources
from autoscaler.policy import load_policies
from autoscaler.sim.actuator import SimActuator
from autoscaler.sim.cluster import SimCluster
from autoscaler.sim.runner import percentile
from autoscaler.sim.spec import default_spec
from autoscaler.sim.trace import Job, Stage
from autoscaler.testing import make_cluster_config
from autoscaler.tick import run_tick

from .conftest import book


@dataclass
class Run:
    waits: list[float] = field(default_factory=list)
    max_rate: float = 0.0
    below_floor: list[str] = field(default_factory=list)
    am_victims: list[str] = field(default_factory=list)
    cost_usd: float = 0.0


def _rate(snapshot) -> float:  # type: ignore[no-untyped-def]
    total = 0.0
    for i in snapshot.instances:
        if i.state is not InstanceState.TERMINATED:
            q = snapshot.price(i.instance_type, i.market)
            total += q.usd_per_hour if q else 0.0
    return total


def _simulate(
    jobs: list[Job], config: ClusterConfig, seed: int = 1, poll: float = 30.0, *, am_limits_known: bool = True
) -> Run:
    """`am_limits_known=False` hides YARN's AM accounting from the policy (an RM that reports none)."""
    spec = default_spec()
    cluster = SimCluster(spec, book(spec), seed=seed)
    for job in jobs:
        cluster.submit(job)
    policies = load_policies(config.policies)
    actuator = SimActuator(cluster)
    memory = ControllerMemory()
    run = Run()
    t = spec.start_at
    end = spec.start_at + max(j.submit_s for j in jobs) + 6 * 3600
    while t < end:
        cluster.advance_to(t)
        snap = cluster.snapshot()
        if not am_limits_known:
            snap = replace(snap, am_limits=())
        result = run_tick(snap, memory, policies, config, actuator, now=t)
        decision = result.decision
        am_hosts = {n.instance_id for n in snap.nodes if n.hosts_am}
        for resize in decision.plan.resizes:
            run.am_victims += [i for i in resize.instances_to_terminate if i in am_hosts]
            if resize.target.total < config.limits.min_task_units and snap.pool(resize.pool_id).role.value == "TASK":
                run.below_floor.append(f"{resize.pool_id} -> {resize.target.total} at {t - spec.start_at:.0f}")
        memory = result.memory
        run.max_rate = max(run.max_rate, _rate(cluster.snapshot()))
        if t >= spec.start_at + max(j.submit_s for j in jobs) and not cluster.workload.active:
            break
        t += poll
    run.cost_usd = cluster.ledger.total_usd(cluster.now)
    run.waits = [
        jr.started_at - jr.job.submit_s - spec.start_at for jr in cluster.workload.jobs if jr.started_at is not None
    ]
    return run


def _config(min_task_units: int = 1, max_task_units: int = 40, **options: object) -> ClusterConfig:
    return make_cluster_config(
        cluster_id="j-SIMULATED",
        policies=[{"type": "cost-optimizer", "options": options}],
        limits={"max_task_units": max_task_units, "min_task_units": min_task_units, "max_step_up_units": 20},
    )


def _bursty(seed: int = 3, hours: float = 3.0) -> list[Job]:
    """Small jobs every ~40 s and, every half hour, a wide one that needs many task nodes."""
    rng = random.Random(seed)
    jobs, t, k = [], 0.0, 0
    while t < hours * 3600:
        wide = k % 45 == 44
        tasks = 200 if wide else rng.randint(2, 12)
        jobs.append(
            Job(f"j{k}", t, (Stage(tasks, 2048, 1, rng.uniform(60, 240)),), am=Resources(1536, 1), am_start_s=5.0)
        )
        t += rng.expovariate(1 / 40)
        k += 1
    return jobs


@pytest.mark.parametrize("budget", [1.5, 3.0])
def test_never_above_budget_never_below_floor_never_an_am_host(budget: float) -> None:
    run = _simulate(_bursty(), _config(target_p95_wait_s=0, budget_usd_per_hour=budget))
    assert run.max_rate <= budget + 1e-9
    assert run.below_floor == []
    assert run.am_victims == []


def test_without_a_budget_the_same_trace_spends_more_than_the_budget() -> None:
    """The budget test above binds: unbounded, the burst buys past $1.5/h."""
    run = _simulate(_bursty(), _config(target_p95_wait_s=0))
    assert run.max_rate > 1.5
    assert run.am_victims == []


def _steady(hours: float = 8.0) -> list[Job]:
    """A job a minute, each 12 × 2 GB for 10 minutes: ~20 task nodes busy once warm."""
    return [
        Job(f"s{k}", 60.0 * k, (Stage(12, 2048, 1, 600.0),), am=Resources(1536, 1), am_start_s=5.0)
        for k in range(int(hours * 60))
    ]


@pytest.mark.parametrize("target", [300.0, 600.0])
def test_steady_workload_p95_wait_stays_within_the_target(target: float) -> None:
    """p95 wait ≤ 1.25 × target over 8 h of a steady load, cold start included (239 s measured at both).

    Only the upper side of issue 9's "within 25% of the target" is asserted, and the lower side is
    reported as not met (BENCHMARKS.md): on a steady load a capacity below the arrival rate's need makes
    the queue grow without bound and one at or above it keeps the wait near zero, so no capacity holds a
    wait of 450–750 s; the policy buys the capacity the load needs and the p95 (239 s at targets 120, 300
    and 600) is the cold start's, the first jobs waiting for the first boots."""
    run = _simulate(_steady(), _config(min_task_units=0, target_p95_wait_s=target))
    assert percentile(run.waits, 95) <= 1.25 * target


def _am_bound(hours: float = 2.0) -> list[Job]:
    """A job a minute, each holding EMR's 6 GiB AM for 10 minutes with 2 × 1 GB tasks: ~80 GB of
    containers at once, but ~60 GB of AMs, which YARN's 10% AM share starts only on ~600 GB."""
    return [
        Job(f"a{k}", 60.0 * k, (Stage(2, 1024, 1, 600.0),), am=Resources(6144, 1), am_start_s=5.0)
        for k in range(int(hours * 60))
    ]


def test_buying_for_the_am_share_cuts_the_wait_of_an_am_bound_workload() -> None:
    """Planning for YARN's AM share (`am_share`) makes an AM-bound workload wait far less than buying for
    the pending memory alone, which is what the policy does when the RM reports no AM accounting."""
    config = _config(min_task_units=0, max_task_units=80)
    planned = _simulate(_am_bound(), config)
    blind = _simulate(_am_bound(), config, am_limits_known=False)
    assert percentile(planned.waits, 95) < 0.25 * percentile(blind.waits, 95)
    assert planned.am_victims == []
    assert planned.below_floor == []
