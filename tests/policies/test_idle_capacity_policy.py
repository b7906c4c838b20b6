from __future__ import annotations

from collections.abc import Iterable

import pytest
from policy_ctx import make_ctx

from autoscaler.model import AppInfo, MetricSample, NodeInfo, NodeState, PendingRequest, PoolKind, Resources
from autoscaler.testing import T0, make_instance, make_node, make_pool, make_snapshot, sample, yarn_from_nodes
from policies.idle_capacity import IdleCapacityPolicy

NODE_MB = 12288


def _cluster() -> list[NodeInfo]:
    """Five nodes: three idle, one busy, one idle but hosting an ApplicationMaster."""
    return [
        make_node("idle1"),
        make_node("idle2"),
        make_node("idle3"),
        make_node("busy", containers=2),
        make_node("am", hosts_am=True),
    ]


def _targets(
    nodes: list[NodeInfo],
    options: dict | None = None,
    history: Iterable[MetricSample] = (),
    requested: int = 5,
    **snapshot: object,
) -> list[int]:
    pool = make_pool(requested=requested)
    snap = make_snapshot(pools=[pool], nodes=nodes, **snapshot)  # type: ignore[arg-type]
    recs = IdleCapacityPolicy.from_options(options or {}).evaluate(snap, make_ctx([pool], history=history))
    return [r.target_units for r in recs]


@pytest.mark.parametrize(("keep", "target"), [(0, 2), (1, 3), (3, None), (5, None)])
def test_releases_idle_nodes_beyond_the_buffer(keep: int, target: int | None) -> None:
    """Idle non-AM nodes beyond keep_idle_nodes are released; busy and AM hosts never count as idle."""
    assert _targets(_cluster(), {"keep_idle_nodes": keep}) == ([] if target is None else [target])


def test_pending_asks_block_scale_in() -> None:
    """Any pending container ask means no scale-in, however many nodes are idle."""
    app = AppInfo("application_1_0001", "RUNNING", pending=(PendingRequest(Resources(1024, 1), 1),))
    assert _targets(_cluster(), apps=[app]) == []


def test_pending_counters_block_scale_in() -> None:
    """YARN's pending counters alone (apps without asks) also block scale-in."""
    nodes = _cluster()
    assert _targets(nodes, yarn=yarn_from_nodes(nodes, containers_pending=3, pending_mb=3072)) == []


def test_draining_nodes_are_not_idle_capacity() -> None:
    """A DECOMMISSIONING node without containers is already leaving: not counted again."""
    nodes = [make_node("drain", state=NodeState.DECOMMISSIONING), make_node("busy", containers=1)]
    assert _targets(nodes, requested=1) == []


def test_stale_yarn_means_no_opinion() -> None:
    """Without YARN metrics (unreachable RM) it never proposes a scale-in."""
    assert _targets(_cluster(), yarn=None) == []


def test_fleet_units_follow_instance_weights() -> None:
    """Idle fleet nodes release their weighted units (weights from ListInstances)."""
    pool = make_pool("if-task", kind=PoolKind.INSTANCE_FLEET, requested=10, weight=4)
    nodes = [make_node("a", "if-task"), make_node("b", "if-task", containers=1)]
    instances = [make_instance("i-a", "if-task", weight=4), make_instance("i-b", "if-task", weight=4)]
    snap = make_snapshot(pools=[pool], nodes=nodes, instances=instances)
    (rec,) = IdleCapacityPolicy.from_options({}).evaluate(snap, make_ctx([pool]))
    assert rec.target_units == 6


def _steady(available_mb: int, *, span: float = 600, step: float = 60, pending_at: float | None = None) -> list:
    out = []
    t = T0 - span
    while t <= T0:
        pending = 1024 if pending_at is not None and t == pending_at else 0
        out.append(sample(t, available_mb=available_mb, pending_mb=pending, containers_pending=1 if pending else 0))
        t += step
    return out


@pytest.mark.parametrize(
    ("history", "acts"),
    [
        (_steady(4 * NODE_MB), True),  # idle for 10 minutes with room to spare
        (_steady(4 * NODE_MB, span=240), False),  # only 4 minutes of history: not known yet
        (_steady(4 * NODE_MB, pending_at=T0 - 120), False),  # something was pending 2 minutes ago
        (_steady(NODE_MB), False),  # available memory dipped below the 3 idle nodes' capacity
    ],
)
def test_idle_for_s_requires_history(history: list[MetricSample], acts: bool) -> None:
    """With idle_for_s the history must show nothing pending and the nodes' memory free throughout."""
    assert bool(_targets(_cluster(), {"idle_for_s": 300}, history=history)) is acts


def test_invalid_option_names_it() -> None:
    """A negative buffer is refused by name."""
    with pytest.raises(ValueError, match="keep_idle_nodes"):
        IdleCapacityPolicy.from_options({"keep_idle_nodes": -1})
