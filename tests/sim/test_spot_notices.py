"""Replayed Spot reclaims through the simulator and the one tick: the two-minute notice reaches the
snapshot before the node dies, the replacement starts at the notice (earlier than EMR's own refill
after the reclaim), and the pool is not over-bought (EMR's refill is cancelled before it arrives).
Also the interruption storm: every Spot node warned at once never buys past the maximum, never drops
core below its floor and never writes to a pool twice in one tick."""

from __future__ import annotations

from dataclasses import dataclass, field

from autoscaler.model import ControllerMemory, Market, PoolRole
from autoscaler.policy import load_policies
from autoscaler.sim.actuator import SimActuator
from autoscaler.sim.cluster import SimCluster
from autoscaler.sim.node import Lifecycle
from autoscaler.sim.spec import group
from autoscaler.testing import make_cluster_config
from autoscaler.tick import run_tick

from .conftest import cluster, spec_with

TICK_S = 30.0
RECLAIM_AT = 1000.0  # notice at 880 s


@dataclass
class Run:
    launches: list[float] = field(default_factory=list)  # when a node was requested (after start)
    requested: list[int] = field(default_factory=list)  # the pool's target after each tick
    short_s: float = 0.0  # time the pool had fewer than 4 running nodes
    cost_usd: float = 0.0
    held_max: int = 0  # most nodes (booting or running or leaving) at once


def note_launches(sim: SimCluster, seen: set[str], run: Run, start_at: float) -> None:
    for node in sim.live_nodes():
        if node.instance_id not in seen:
            seen.add(node.instance_id)
            run.launches.append(node.requested_at - start_at)


def replay(replace_on_notice: bool, seconds: float = 2400.0) -> tuple[Run, SimCluster]:
    spot = group("ig-spot", PoolRole.TASK, Market.SPOT, 4)
    core = group("ig-core", PoolRole.CORE, Market.ON_DEMAND, 1)
    spec = spec_with(core, spot, interruptions=False, reclaims=((RECLAIM_AT, "ig-spot"),))
    sim = cluster(spec)
    config = make_cluster_config(
        policies=[{"type": "static", "options": {"units": 4}}],
        spot={"replace_on_notice": replace_on_notice},
        guards={"scale_down_confirmations": 3},
    )
    policies, actuator, memory, run = load_policies(config.policies), SimActuator(sim), ControllerMemory(), Run()
    seen = {n.instance_id for n in sim.live_nodes()}
    t = spec.start_at
    while t <= spec.start_at + seconds:
        sim.advance_to(t)
        pool = sim.pools["ig-spot"]
        run.held_max = max(run.held_max, len(pool.nodes))
        note_launches(sim, seen, run, spec.start_at)  # EMR's own (a refill is cancelled within the tick)
        memory = run_tick(sim.snapshot(), memory, policies, config, actuator, now=t).memory
        note_launches(sim, seen, run, spec.start_at)  # ours
        run.requested.append(pool.target[Market.SPOT])
        running = sum(1 for n in pool.nodes.values() if n.state is Lifecycle.RUNNING)
        run.short_s += TICK_S if running < 4 else 0.0
        t += TICK_S
    run.cost_usd = sim.ledger.total_usd(t)
    return run, sim


def test_a_replayed_reclaim_is_replaced_at_the_notice_and_not_over_bought() -> None:
    with_notice, sim = replay(True)
    without, _ = replay(False)
    assert sim.interruptions == 1
    # without: EMR refills only at the reclaim; with: the replacement starts at the first tick after the notice
    assert without.launches == [RECLAIM_AT]
    assert with_notice.launches[0] == 900.0  # first tick at or after the notice (880 s)
    assert with_notice.launches[0] < without.launches[0] - 90
    assert with_notice.short_s < without.short_s  # less time below 4 running nodes
    # not over-bought: EMR's refill at the reclaim is cancelled at the next tick, back to 4 for good
    assert with_notice.launches == [900.0, RECLAIM_AT]
    assert with_notice.requested[-1] == 4
    assert max(with_notice.requested) == 5
    assert len([n for n in sim.pools["ig-spot"].nodes.values() if n.state is Lifecycle.RUNNING]) == 4
    assert with_notice.held_max <= 6  # the leaving node, the replacement, and EMR's refill for one tick
    # what it costs: one Spot node from the notice until the reclaim, plus EMR's refill for one tick
    extra = with_notice.cost_usd - without.cost_usd
    assert 0 < extra < 0.12 * (RECLAIM_AT - 900 + TICK_S + 300) / 3600


def test_an_interruption_storm_in_the_simulator_respects_max_floor_and_one_write_per_pool() -> None:
    """Every Spot node, core included, gets its two-minute warning in the same instant."""
    core = group("ig-core", PoolRole.CORE, Market.SPOT, 4)
    tasks = [group("ig-a", PoolRole.TASK, Market.SPOT, 6), group("ig-od", PoolRole.TASK, Market.ON_DEMAND, 1)]
    spec = spec_with(core, *tasks, interruptions=False)
    sim = cluster(spec)
    config = make_cluster_config(
        policies=[{"type": "static", "options": {"pools": {"ig-a": 6, "ig-od": 1, "ig-core": 4}}}],
        limits={"max_task_units": 8, "max_step_up_units": 5, "min_core_units": 3, "max_core_units": 5},
        guards={"scale_core": True, "dfs_replication": 2},
        spot={"failover_after_notices": 3},
    )
    policies, actuator, memory = load_policies(config.policies), SimActuator(sim), ControllerMemory()
    t = spec.start_at + 600
    sim.advance_to(t)
    for node in [n for n in sim.live_nodes() if n.market is Market.SPOT]:
        sim.schedule_interruption(node.instance_id, t + 120)
    for _ in range(40):
        sim.advance_to(t)
        writes = len(actuator.applied)
        result = run_tick(sim.snapshot(), memory, policies, config, actuator, now=t)
        memory = result.memory
        pools = [r.pool_id for r in result.decision.plan.resizes]
        assert len(pools) == len(set(pools))  # one write per pool per tick
        assert len(actuator.applied) - writes == len(pools)
        for r in result.decision.plan.resizes:
            hi = 5 if r.pool_id == "ig-core" else 8
            assert r.target.total <= hi
            assert r.pool_id != "ig-core" or r.target.total >= 4
        for pool_id, pool in sim.pools.items():
            assert sum(pool.target.values()) <= (5 if pool_id == "ig-core" else 8 if pool_id != "ig-master" else 1)
        assert sim.pools["ig-core"].target[Market.SPOT] >= 3  # never below the core floor
        t += TICK_S
    assert sim.interruptions == 10  # every Spot node was reclaimed; EMR and the replacements refilled
    assert sum(1 for n in sim.pools["ig-a"].nodes.values() if n.state is Lifecycle.RUNNING) >= 6
