"""engine.evaluate end to end over tiny in-test policies (fakes at the plugin boundary)."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from autoscaler.engine import evaluate, managed_pools
from autoscaler.model import (
    ClusterSnapshot,
    ControllerMemory,
    OutcomeStatus,
    PoolMemory,
    PoolRole,
    Recommendation,
    Rejection,
    RejectReason,
    Resources,
    SourceStatus,
    YarnMetrics,
)
from autoscaler.policy import PolicyContext
from autoscaler.testing import (
    T0,
    RecordingActuator,
    Wants,
    make_cluster_config,
    make_node,
    make_pool,
    make_snapshot,
    sample,
)
from autoscaler.tick import run_tick

MASTER = make_pool("ig-master", role=PoolRole.MASTER, requested=1)
CORE = make_pool("ig-core", role=PoolRole.CORE, requested=3)
TASK = make_pool("ig-task", requested=4)
POOLS = (MASTER, CORE, TASK)


class Broken:
    name = "broken"

    def evaluate(self, snapshot: ClusterSnapshot, ctx: PolicyContext) -> Iterable[Recommendation | Rejection]:
        yield Recommendation(self.name, "ig-task", 40, "never seen")
        raise ZeroDivisionError("division by zero")


class Odd:
    name = "odd"

    def evaluate(self, snapshot: ClusterSnapshot, ctx: PolicyContext) -> Iterable[Recommendation | Rejection]:
        yield Rejection(RejectReason.UNSCHEDULABLE_SHAPE, "8 GB container fits no node")
        yield "a string"  # type: ignore[misc]


def snap(**kw: object) -> ClusterSnapshot:
    nodes = [make_node(f"t{i}", "ig-task") for i in range(4)]
    return make_snapshot(pools=POOLS, nodes=nodes, **kw)  # type: ignore[arg-type]


def reasons(rejections: Iterable[Rejection]) -> list[RejectReason]:
    return [r.reason for r in rejections]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, ["ig-task"]),
        ({"guards": {"scale_core": True, "dfs_replication": 1}}, ["ig-core", "ig-task"]),
        ({"pools": ["ig-core", "ig-master"]}, ["ig-core"]),
    ],
)
def test_managed_pools(overrides: dict[str, object], expected: list[str]) -> None:
    """Task pools by default, core with scale_core, or the configured list; MASTER never."""
    pools = managed_pools(snap(), make_cluster_config(**overrides))
    assert [p.pool_id for p in pools] == expected


def test_scale_up_flows_to_plan() -> None:
    """A recommendation for a managed pool becomes an absolute resize."""
    decision = evaluate(snap(), ControllerMemory(), [Wants(name="a", targets={"ig-task": 7})], make_cluster_config())
    assert [(r.pool_id, r.target.total) for r in decision.plan.resizes] == [("ig-task", 7)]
    assert decision.rejections == ()
    assert decision.cluster_id == "j-TEST"
    assert decision.taken_at == T0


def test_unmanaged_pools_are_named() -> None:
    """MASTER, CORE without scale_core, and unknown pools are each rejected with their own reason."""
    policy = Wants(name="a", targets={"ig-master": 2, "ig-core": 5, "ig-nope": 1, "ig-task": 4})
    decision = evaluate(snap(), ControllerMemory(), [policy], make_cluster_config())
    assert reasons(decision.rejections) == [
        RejectReason.MASTER_POOL,
        RejectReason.CORE_NOT_ENABLED,
        RejectReason.UNKNOWN_POOL,
    ]
    assert decision.plan.empty
    assert len(decision.recommendations) == 4


def test_task_pool_outside_configured_list_is_unknown() -> None:
    """With config.pools set, a task pool not in it is not ours to resize."""
    decision = evaluate(
        snap(), ControllerMemory(), [Wants(name="a", targets={"ig-task": 6})], make_cluster_config(pools=["ig-x"])
    )
    assert reasons(decision.rejections) == [RejectReason.UNKNOWN_POOL]
    assert decision.plan.empty


@pytest.mark.parametrize(
    ("snapshot_kw", "reason"),
    [
        ({"yarn": None}, RejectReason.STALE_INPUT),
        ({"sources": (SourceStatus("emr", ok=False, fetched_at=T0, error="timeout"),)}, RejectReason.STALE_INPUT),
        ({"cluster_state": "STARTING"}, RejectReason.CLUSTER_NOT_READY),
        ({"managed_scaling_enabled": True}, RejectReason.MANAGED_SCALING_CONFLICT),
    ],
)
def test_tick_blockers_empty_the_plan(snapshot_kw: dict[str, object], reason: RejectReason) -> None:
    """Stale input, a cluster not ready, or EMR Managed Scaling: no resize either way, every wish named."""
    up, down = Wants(name="up", targets={"ig-task": 9}), Wants(name="down", targets={"ig-task": 1})
    config = make_cluster_config(guards={"scale_down_confirmations": 1})
    for policy in (up, down):
        decision = evaluate(snap(**snapshot_kw), ControllerMemory(), [policy], config)
        assert decision.plan.empty
        assert reasons(decision.rejections) == [reason]
        assert policy.seen, "policies still run so explain can show their view"


def test_stale_detail_names_the_failed_source() -> None:
    """The STALE_INPUT rejection says which source failed and why."""
    failed = SourceStatus("yarn", ok=False, fetched_at=T0, error="connection refused")
    decision = evaluate(
        snap(sources=(failed,)), ControllerMemory(), [Wants(name="a", targets={"ig-task": 9})], make_cluster_config()
    )
    assert "yarn: connection refused" in decision.rejections[0].detail


def test_stale_tick_resets_scale_in_confirmations() -> None:
    """Scale-in confirmations must be consecutive fresh ticks: a stale tick starts the count again."""
    mem = ControllerMemory().with_pool("ig-task", PoolMemory(down_confirmations=2, down_wanted_since=T0 - 60))
    decision = evaluate(snap(yarn=None), mem, [Wants(name="a", targets={"ig-task": 1})], make_cluster_config())
    assert decision.memory.pool("ig-task").down_confirmations == 0


def test_pool_with_autoscaling_policy_is_refused_alone() -> None:
    """A pool carrying an EMR automatic scaling policy is refused; other pools still scale."""
    other = make_pool("ig-task2", requested=1)
    owned = make_pool("ig-task", requested=4, has_autoscaling_policy=True)
    snapshot = make_snapshot(pools=(MASTER, owned, other))
    decision = evaluate(
        snapshot, ControllerMemory(), [Wants(name="a", targets={"ig-task": 6, "ig-task2": 3})], make_cluster_config()
    )
    assert reasons(decision.rejections) == [RejectReason.MANAGED_SCALING_CONFLICT]
    assert decision.rejections[0].pool_id == "ig-task"
    assert [r.pool_id for r in decision.plan.resizes] == ["ig-task2"]


def test_broken_policy_does_not_stop_the_tick() -> None:
    """A policy that raises becomes a POLICY_ERROR rejection; its partial output is discarded, others act."""
    decision = evaluate(
        snap(), ControllerMemory(), [Broken(), Wants(name="a", targets={"ig-task": 6})], make_cluster_config()
    )
    assert reasons(decision.rejections) == [RejectReason.POLICY_ERROR]
    assert "ZeroDivisionError" in decision.rejections[0].detail
    assert decision.rejections[0].policy == "broken"
    assert [r.target.total for r in decision.plan.resizes] == [6]


def test_policy_rejections_pass_through_and_junk_is_named() -> None:
    """A policy's own Rejection is kept (credited to it); anything else it yields is a POLICY_ERROR."""
    decision = evaluate(snap(), ControllerMemory(), [Odd()], make_cluster_config())
    assert reasons(decision.rejections) == [RejectReason.UNSCHEDULABLE_SHAPE, RejectReason.POLICY_ERROR]
    assert {r.policy for r in decision.rejections} == {"odd"}


def test_losers_are_superseded() -> None:
    """When two policies disagree, the combined wish acts and the loser is SUPERSEDED."""
    policies = [Wants(name="down", targets={"ig-task": 2}), Wants(name="up", targets={"ig-task": 6})]
    decision = evaluate(snap(), ControllerMemory(), policies, make_cluster_config())
    assert reasons(decision.rejections) == [RejectReason.SUPERSEDED]
    assert decision.rejections[0].policy == "down"
    assert decision.plan.resizes[0].target.total == 6


def test_history_window_and_context() -> None:
    """Samples accumulate oldest first, the current one last, trimmed to history_window_s; no YARN, no sample."""
    config = make_cluster_config(history_window_s=100)
    policy = Wants(name="a", targets={})
    mem = ControllerMemory(samples=(sample(T0 - 150, pending_mb=1), sample(T0 - 50, pending_mb=2)))
    yarn = YarnMetrics(pending_mb=3)
    decision = evaluate(snap(yarn=yarn), mem, [policy], config)
    assert [s.at for s in decision.memory.samples] == [T0 - 50, T0]
    ctx = policy.seen[0]
    assert ctx.history == decision.memory.samples
    assert ctx.now == T0
    assert [p.pool_id for p in ctx.managed_pools] == ["ig-task"]
    again = evaluate(snap(yarn=yarn), decision.memory, [policy], config)
    assert [s.at for s in again.memory.samples] == [T0 - 50, T0], "same instant is not recorded twice"
    later = evaluate(snap(yarn=None, taken_at=T0 + 60), again.memory, [policy], config)
    assert [s.at for s in later.memory.samples] == [T0]


def test_scale_in_cadence_over_ticks() -> None:
    """Scale-in acts on the 3rd consecutive tick, then waits cooldown_down_s before the next one."""
    config = make_cluster_config(guards={"scale_down_confirmations": 3, "cooldown_down_s": 300})
    nodes = [make_node(f"t{i}", "ig-task") for i in range(4)]
    mem = ControllerMemory()
    acted = []
    for tick in range(13):
        now = T0 + 30 * tick
        pool = make_pool("ig-task", requested=4 - len(acted))
        snapshot = make_snapshot(pools=(pool,), nodes=nodes[: 4 - len(acted)], taken_at=now)
        target = pool.requested.total - 1
        actuator = RecordingActuator(status=OutcomeStatus.DRY_RUN)
        result = run_tick(snapshot, mem, [Wants(name="idle", targets={"ig-task": target})], config, actuator)
        mem = result.memory
        if actuator.calls:
            acted.append(tick)
    # ticks 0,1 await confirmation, 2 acts; 3..11 are in cooldown (confirmations keep counting), 12 acts
    assert acted == [2, 12]
    assert mem.pool("ig-task").last_scale_down_at == T0 + 360


def test_victims_come_from_snapshot_nodes() -> None:
    """A group scale-in names idle nodes and protects the AM host."""
    nodes = [
        make_node("busy", containers=2, used=Resources(4096, 2)),
        make_node("am", hosts_am=True),
        make_node("idle1"),
        make_node("idle2"),
    ]
    snapshot = make_snapshot(pools=(TASK,), nodes=nodes)
    config = make_cluster_config(guards={"scale_down_confirmations": 1}, decommission_timeout_s=900)
    decision = evaluate(snapshot, ControllerMemory(), [Wants(name="idle", targets={"ig-task": 2})], config)
    resize = decision.plan.resizes[0]
    assert sorted(resize.instances_to_terminate) == ["i-idle1", "i-idle2"]
    assert resize.instances_to_protect == ("i-am",)
    assert resize.decommission_timeout_s == 900
