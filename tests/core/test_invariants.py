"""Guardrail invariants over random clusters, wishes, memories and configs (hypothesis).

Whatever policies want, every Resize in the plan of `engine.evaluate`:
- never touches MASTER, and touches CORE only with guards.scale_core;
- moves a pool toward or within its bounds (`bounds.pool_bounds`: a scale-up ends at or below
  max(hi, lo), a scale-in at or above lo, so CORE never drops below max(min_core_units, the
  dfs.replication rule)); a pool above its ceiling is never grown, one below its floor never shrunk;
- changes a pool by at most max_step_up_units / max_step_down_units;
- names to terminate only idle, non-AM, old-enough instances of that pool that YARN knows, at most
  as many as the scale-in drains, none of them protected; fleets name none;
and a stale snapshot (failed or late required source) has an empty plan; evaluate is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from autoscaler.bounds import hdfs_utilization, pool_bounds
from autoscaler.config import ClusterConfig
from autoscaler.engine import evaluate, late_sources
from autoscaler.model import (
    Capacity,
    CapacityPool,
    ClusterSnapshot,
    ControllerMemory,
    Market,
    NodeInfo,
    NodeState,
    PoolKind,
    PoolMemory,
    PoolRole,
    PoolState,
    Recommendation,
    Rejection,
    Resize,
    Resources,
    SourceStatus,
)
from autoscaler.policy import PolicyContext
from autoscaler.testing import T0, make_cluster_config, make_instance, make_node, make_pool, make_snapshot

MARKETS = st.sampled_from([Market.SPOT, Market.ON_DEMAND])


@st.composite
def pools(draw: st.DrawFn) -> list[CapacityPool]:
    """A MASTER, maybe a CORE group, and one to three task groups or fleets in any state."""
    out = [make_pool("ig-master", role=PoolRole.MASTER, market=Market.ON_DEMAND, requested=1)]
    roles = [PoolRole.CORE] * draw(st.integers(0, 1)) + [PoolRole.TASK] * draw(st.integers(1, 3))
    for i, role in enumerate(roles):
        fleet = role is PoolRole.TASK and draw(st.booleans())
        requested = draw(st.integers(0, 14))
        running = draw(st.integers(max(requested - 3, 0), requested + 2))
        out.append(
            make_pool(
                f"{'if' if fleet else 'ig'}-{i}",
                role=role,
                kind=PoolKind.INSTANCE_FLEET if fleet else PoolKind.INSTANCE_GROUP,
                market=draw(MARKETS),
                requested=Capacity(draw(st.integers(0, requested)), 0) if fleet else requested,
                running=running,
                state=draw(st.sampled_from([PoolState.RUNNING] * 4 + [PoolState.RESIZING, PoolState.SUSPENDED])),
            )
        )
    # a fleet's requested may be split across markets: put the rest on Spot
    return [
        p
        if not p.is_fleet
        else make_pool(
            p.pool_id,
            kind=PoolKind.INSTANCE_FLEET,
            requested=Capacity(p.requested.on_demand, draw(st.integers(0, 10))),
            running=p.running,
            state=p.state,
        )
        for p in out
    ]


@st.composite
def nodes_for(draw: st.DrawFn, pool: CapacityPool) -> list[NodeInfo]:
    """YARN nodes for a group's running units: some busy, some idle, some hosting an AM or leaving."""
    out = []
    for j in range(pool.running.total if pool.role is not PoolRole.MASTER else 0):
        busy = draw(st.integers(0, 3))
        out.append(
            make_node(
                f"{pool.pool_id}-n{j}",
                pool.pool_id,
                containers=busy,
                used=Resources(busy * 4096, busy),
                hosts_am=draw(st.booleans()) and draw(st.booleans()),
                state=draw(st.sampled_from([NodeState.RUNNING] * 5 + [NodeState.DECOMMISSIONING])),
                market=pool.market,
            )
        )
    return out


@st.composite
def snapshots(draw: st.DrawFn) -> ClusterSnapshot:
    chosen = draw(pools())
    nodes = [n for p in chosen for n in draw(nodes_for(p))]
    instances = [
        make_instance(n.instance_id or "", n.pool_id or "", launched_at=T0 - draw(st.sampled_from([60, 900, 7200])))
        for n in nodes
    ]

    def status(name: str) -> SourceStatus:
        """Mostly fresh, so most examples reach the guardrails; else failed or answered 400 s late."""
        fresh = draw(st.sampled_from([True] * 9 + [False]))
        ok = fresh or draw(st.booleans())
        return SourceStatus(name, ok, T0 + (draw(st.sampled_from([0, 5])) if fresh else 400))

    return make_snapshot(
        pools=chosen,
        nodes=nodes,
        instances=instances,
        sources=(status("yarn"), status("emr")),
        cluster_state=draw(st.sampled_from(["WAITING"] * 5 + ["RUNNING"] * 4 + ["STARTING"])),
        cloudwatch=draw(st.sampled_from([None, {"HDFSUtilization": 0.0}, {"HDFSUtilization": 55.0}])),
    )


@st.composite
def configs(draw: st.DrawFn) -> ClusterConfig:
    min_task = draw(st.integers(0, 4))
    min_core = draw(st.integers(0, 3))
    limits: dict[str, Any] = {
        "min_task_units": min_task,
        "max_task_units": draw(st.integers(min_task, 16)),
        "min_core_units": min_core,
        "max_core_units": draw(st.sampled_from([0, min_core, min_core + 4, 12])),
        "max_step_up_units": draw(st.integers(1, 6)),
        "max_step_down_units": draw(st.integers(1, 6)),
        "max_on_demand_units": draw(st.sampled_from([None, 0, 3, 20])),
    }
    guards: dict[str, Any] = {
        "scale_core": (scale_core := draw(st.booleans())),
        "dfs_replication": draw(st.sampled_from([1, 2, 3] if scale_core else [None, 1, 2, 3])),
        "scale_down_confirmations": draw(st.integers(1, 3)),
        "cooldown_up_s": draw(st.sampled_from([0, 120])),
        "cooldown_down_s": draw(st.sampled_from([0, 300])),
        "min_node_age_s": draw(st.sampled_from([0, 600])),
        "stale_after_s": draw(st.sampled_from([60, 120])),
    }
    spot = {"prefer_spot": draw(st.booleans()), "on_demand_base_units": draw(st.integers(0, 3))}
    return make_cluster_config(limits=limits, guards=guards, spot=spot)


@st.composite
def memories(draw: st.DrawFn, snapshot: ClusterSnapshot) -> ControllerMemory:
    mem = ControllerMemory()
    for p in snapshot.pools:
        if draw(st.booleans()):
            ago = st.sampled_from([None, T0 - 30, T0 - 1000])
            mem = mem.with_pool(
                p.pool_id,
                PoolMemory(
                    last_scale_up_at=draw(ago),
                    last_scale_down_at=draw(ago),
                    down_confirmations=draw(st.integers(0, 3)),
                    backoff_until=draw(st.sampled_from([None, T0 - 10, T0 + 100])),
                ),
            )
    return mem


@dataclass
class Wishes:
    """A policy that wants fixed targets; they may name MASTER, CORE or no pool at all."""

    name: str
    wants: tuple[tuple[str, int, Market | None], ...]

    def evaluate(self, snapshot: ClusterSnapshot, ctx: PolicyContext) -> Iterable[Recommendation | Rejection]:
        for pool_id, units, market in self.wants:
            yield Recommendation(self.name, pool_id, units, f"{self.name} wants {units}", market=market)


@st.composite
def wishes(draw: st.DrawFn, snapshot: ClusterSnapshot) -> list[Wishes]:
    task = [p.pool_id for p in snapshot.pools if p.role is PoolRole.TASK]
    ids = st.sampled_from(task * 3 + [p.pool_id for p in snapshot.pools] + ["ig-gone"])
    want = st.tuples(ids, st.integers(-1, 25), st.sampled_from([None, None, Market.SPOT, Market.ON_DEMAND]))
    return [Wishes(f"p{i}", tuple(draw(st.lists(want, max_size=4)))) for i in range(draw(st.integers(0, 3)))]


@st.composite
def cases(draw: st.DrawFn) -> tuple[ClusterSnapshot, ControllerMemory, list[Wishes], ClusterConfig]:
    snapshot = draw(snapshots())
    return snapshot, draw(memories(snapshot)), draw(wishes(snapshot)), draw(configs())


@settings(max_examples=200, deadline=None)
@given(cases())
def test_guardrail_invariants_hold_for_any_wish(
    case: tuple[ClusterSnapshot, ControllerMemory, list[Wishes], ClusterConfig],
) -> None:
    """Bounds, steps, MASTER/CORE, victims and staleness hold on every plan; evaluate is deterministic."""
    snapshot, memory, policies, config = case
    decision = evaluate(snapshot, memory, policies, config)
    assert decision == evaluate(snapshot, memory, policies, config), "same inputs, same decision"
    limits = config.limits
    if snapshot.stale or late_sources(snapshot, config.guards.stale_after_s):
        assert decision.plan.empty
    for r in decision.plan.resizes:
        pool = snapshot.pool(r.pool_id)
        current, target = pool.requested.total, r.target.total
        bounds = pool_bounds(pool, config, hdfs_utilization(snapshot))
        assert r.current == pool.requested
        assert pool.role is not PoolRole.MASTER
        assert pool.role is not PoolRole.CORE or config.guards.scale_core
        assert pool.state is PoolState.RUNNING
        assert target != current
        if target > current:
            assert target <= max(bounds.hi, bounds.lo), (current, target, bounds)
            assert target - current <= limits.max_step_up_units
            assert not r.instances_to_terminate
        else:
            assert target >= bounds.lo, (current, target, bounds)
            assert current - target <= limits.max_step_down_units
            _check_victims(r, pool, snapshot, config)
    event(f"resizes: {len(decision.plan.resizes)}")
    event(f"scale-ins: {sum(not r.is_scale_up for r in decision.plan.resizes)}")
    event(f"victims named: {any(r.instances_to_terminate for r in decision.plan.resizes)}")


def _check_victims(r: Resize, pool: CapacityPool, snapshot: ClusterSnapshot, config: ClusterConfig) -> None:
    terminate, protect, removed = r.instances_to_terminate, r.instances_to_protect, r.current.total - r.target.total
    if pool.is_fleet:
        assert terminate == ()
        return
    launched = {i.instance_id: i.launched_at for i in snapshot.instances}
    removable = {
        n.instance_id
        for n in snapshot.nodes
        if n.pool_id == pool.pool_id
        and n.state is NodeState.RUNNING
        and n.num_containers == 0
        and not n.hosts_am
        and T0 - (launched.get(n.instance_id or "") or T0) >= config.guards.min_node_age_s
    }
    assert set(terminate) <= removable
    assert len(set(terminate)) == len(terminate) <= removed
    assert not set(terminate) & set(protect)
