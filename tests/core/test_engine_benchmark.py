"""evaluate() on a 200-node, 3-pool snapshot (issue #3 target: < 5 ms).

Measure with `pytest --benchmark-enable tests/core/test_engine_benchmark.py`; the normal suite runs
it once with benchmarking disabled.
"""

from __future__ import annotations

from collections.abc import Iterable

from pytest_benchmark.fixture import BenchmarkFixture

from autoscaler.engine import evaluate
from autoscaler.model import (
    AppInfo,
    ClusterSnapshot,
    ControllerMemory,
    Decision,
    Market,
    NodeInfo,
    PendingRequest,
    PoolRole,
    Recommendation,
    Rejection,
    Resources,
)
from autoscaler.policy import PolicyContext
from autoscaler.testing import T0, make_cluster_config, make_instance, make_node, make_pool, make_snapshot, sample


class PendingMemory:
    """Scales each pool up by the nodes needed for pending memory, split evenly (a typical O(pools) policy)."""

    name = "pending"

    def evaluate(self, snapshot: ClusterSnapshot, ctx: PolicyContext) -> Iterable[Recommendation | Rejection]:
        pending = sum(r.shape.memory_mb * r.count for r in snapshot.pending_requests())
        for pool in ctx.managed_pools:
            node = pool.largest_node
            if node is None or not pending:
                continue
            extra = -(-pending // node.memory_mb) // len(ctx.managed_pools)
            yield Recommendation(self.name, pool.pool_id, pool.requested.total + extra, f"{pending} MB pending")


class IdleNodes:
    """Scales each pool in by its idle nodes (a typical O(nodes) policy)."""

    name = "idle"

    def evaluate(self, snapshot: ClusterSnapshot, ctx: PolicyContext) -> Iterable[Recommendation | Rejection]:
        idle: dict[str | None, int] = {}
        for n in snapshot.nodes:
            if n.is_idle:
                idle[n.pool_id] = idle.get(n.pool_id, 0) + 1
        for pool in ctx.managed_pools:
            if idle.get(pool.pool_id):
                yield Recommendation(self.name, pool.pool_id, pool.requested.total - idle[pool.pool_id], "idle")


def big_snapshot() -> ClusterSnapshot:
    """200 nodes: 10 core, 120 Spot task, 70 on-demand task; a third idle; 30 apps pending containers."""
    layout = [("ig-core", PoolRole.CORE, Market.ON_DEMAND, 10), ("ig-spot", PoolRole.TASK, Market.SPOT, 120)]
    layout.append(("ig-od", PoolRole.TASK, Market.ON_DEMAND, 70))
    pools = [make_pool("ig-master", role=PoolRole.MASTER, market=Market.ON_DEMAND, requested=1)]
    nodes: list[NodeInfo] = []
    instances = []
    for pool_id, role, market, count in layout:
        pools.append(make_pool(pool_id, role=role, market=market, requested=count))
        for i in range(count):
            host = f"{pool_id}-{i}"
            busy = i % 3 != 0
            nodes.append(make_node(host, pool_id, containers=4 if busy else 0, market=market, hosts_am=i % 17 == 1))
            instances.append(make_instance(f"i-{host}", pool_id, market=market, launched_at=T0 - 60 * i))
    apps = [
        AppInfo(f"application_{i}", "RUNNING", am_host=f"ig-spot-{i}", pending=(PendingRequest(Resources(2048, 1), 8),))
        for i in range(30)
    ]
    return make_snapshot(pools=pools, nodes=nodes, instances=instances, apps=apps)


def test_evaluate_200_nodes(benchmark: BenchmarkFixture) -> None:
    """A 200-node, 3-pool evaluation plans a resize for each task pool (and is timed when enabled)."""
    snapshot = big_snapshot()
    config = make_cluster_config(guards={"scale_down_confirmations": 1}, limits={"max_task_units": 400})
    memory = ControllerMemory(samples=tuple(sample(T0 - 30 * k, pending_mb=1) for k in range(60, 0, -1)))
    policies = [PendingMemory(), IdleNodes()]

    decision: Decision = benchmark(evaluate, snapshot, memory, policies, config)

    assert len(snapshot.nodes) == 200
    assert {r.pool_id for r in decision.plan.resizes} == {"ig-spot", "ig-od"}
    assert all(r.is_scale_up for r in decision.plan.resizes)


def test_evaluate_200_nodes_scale_in(benchmark: BenchmarkFixture) -> None:
    """The scale-in path (victim choice over 200 nodes) names only idle, non-AM instances."""
    snapshot = big_snapshot()
    config = make_cluster_config(guards={"scale_down_confirmations": 1}, limits={"max_step_down_units": 100})

    decision: Decision = benchmark(evaluate, snapshot, ControllerMemory(), [IdleNodes()], config)

    idle = {n.instance_id for n in snapshot.nodes if n.is_idle}
    resizes = {r.pool_id: r for r in decision.plan.resizes}
    assert set(resizes) == {"ig-spot", "ig-od"}
    # 40 container-free Spot nodes (i % 3 == 0), less 2 AM hosts (i = 18, 69), less 4 launched < 600 s ago (i < 10)
    assert len(resizes["ig-spot"].instances_to_terminate) == 34
    assert resizes["ig-spot"].target.total == 120 - 34
    assert all(i in idle for r in resizes.values() for i in r.instances_to_terminate)
