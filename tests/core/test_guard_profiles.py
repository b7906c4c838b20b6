"""Guard profiles: a reference policy runs with its vendor's timing only; ours apply where configured;
safety guards apply to every policy."""

from __future__ import annotations

import pytest

from autoscaler import engine
from autoscaler.config import ClusterConfig, PolicySpec
from autoscaler.guardrails import apply_guardrails
from autoscaler.model import (
    CapacityPool,
    ControllerMemory,
    PoolMemory,
    PoolState,
    Recommendation,
    RejectReason,
)
from autoscaler.policy import WithGuardProfile, guard_profile, guard_profiles, load_policies, load_policy
from autoscaler.testing import T0, make_cluster_config, make_node, make_pool, make_snapshot, sample

CONFIG = make_cluster_config(
    guards={"cooldown_up_s": 120, "cooldown_down_s": 300, "scale_down_confirmations": 3},
    limits={"max_task_units": 50, "max_step_up_units": 2, "max_step_down_units": 1},
)


def _guard(
    pool: CapacityPool, target: int, profile: str, memory: PoolMemory | None = None, config: ClusterConfig = CONFIG
) -> tuple[int | None, list[RejectReason]]:
    nodes = [make_node(f"h{i}", pool.pool_id) for i in range(pool.running.total)]
    snapshot = make_snapshot(pools=[pool], nodes=nodes)
    mem = ControllerMemory().with_pool(pool.pool_id, memory or PoolMemory())
    wanted = {pool.pool_id: Recommendation("ref", pool.pool_id, target, "because")}
    plan, rejections, _ = apply_guardrails(snapshot, wanted, mem, config, profiles={"ref": profile})  # type: ignore[dict-item]
    return (plan.resizes[0].target.total if plan.resizes else None), [r.reason for r in rejections]


@pytest.mark.parametrize(
    ("target", "memory", "ours", "vendor"),
    [
        # scale-up 60 s after a scale-up: our cooldown_up_s; +5 > max_step_up_units 2
        (9, PoolMemory(last_scale_up_at=T0 - 60), (None, [RejectReason.COOLDOWN_UP]), (9, [])),
        (9, PoolMemory(), (6, [RejectReason.STEP_LIMIT]), (9, [])),
        # scale-in wanted for the first tick (3 confirmations), 60 s after a resize, by 3 > step 1
        (1, PoolMemory(), (None, [RejectReason.AWAITING_CONFIRMATION]), (1, [])),
        (
            1,
            PoolMemory(last_scale_up_at=T0 - 60, down_confirmations=2),
            (None, [RejectReason.COOLDOWN_DOWN]),
            (1, []),
        ),
        (1, PoolMemory(down_confirmations=2), (3, [RejectReason.STEP_LIMIT]), (1, [])),
    ],
)
def test_timing_guards_apply_only_under_our_profile(
    target: int,
    memory: PoolMemory,
    ours: tuple[int | None, list[RejectReason]],
    vendor: tuple[int | None, list[RejectReason]],
) -> None:
    """Cooldowns, confirmations and step limits stop or trim "ours"; a "vendor" policy passes them."""
    pool = make_pool(requested=4)
    assert _guard(pool, target, "ours", memory) == ours
    assert _guard(pool, target, "vendor", memory) == vendor


@pytest.mark.parametrize(
    ("pool", "target", "memory", "reason"),
    [
        (make_pool(requested=4, running=2, state=PoolState.RESIZING), 6, None, RejectReason.POOL_BUSY),
        (make_pool(requested=4), 6, PoolMemory(backoff_until=T0 + 60, consecutive_failures=1), RejectReason.BACKOFF),
        (make_pool(requested=4), 80, None, RejectReason.ABOVE_MAX),
    ],
)
def test_safety_guards_apply_to_vendor_policies(
    pool: CapacityPool, target: int, memory: PoolMemory | None, reason: RejectReason
) -> None:
    """Busy pool, back-off and bounds hold for a "vendor" policy exactly as for ours."""
    _, reasons = _guard(pool, target, "vendor", memory)
    assert reason in reasons


def test_am_hosts_are_never_drained_for_a_vendor_policy() -> None:
    """A vendor scale-in still drains only idle, non-AM nodes."""
    pool = make_pool(requested=2)
    nodes = [make_node("h0", hosts_am=True, containers=1), make_node("h1")]
    snapshot = make_snapshot(pools=[pool], nodes=nodes)
    wanted = {"ig-task": Recommendation("ref", "ig-task", 0, "because")}
    plan, rejections, _ = apply_guardrails(snapshot, wanted, ControllerMemory(), CONFIG, profiles={"ref": "vendor"})
    assert plan.resizes[0].instances_to_terminate == ("i-h1",)
    assert [r.reason for r in rejections] == [RejectReason.NO_REMOVABLE_NODES]


def test_reference_policies_declare_vendor_and_others_ours() -> None:
    """dataproc, emr-rules and managed-scaling-like run under "vendor"; everything else under "ours"."""
    profiles = {
        name: guard_profile(load_policy(PolicySpec(type=name)))
        for name in ("dataproc", "emr-rules", "managed-scaling-like", "pending-demand", "idle-capacity")
    }
    assert profiles == {
        "dataproc": "vendor",
        "emr-rules": "vendor",
        "managed-scaling-like": "vendor",
        "pending-demand": "ours",
        "idle-capacity": "ours",
    }


def test_policy_spec_guards_overrides_the_declared_profile() -> None:
    """`guards: ours` on a reference applies our guards; `guards: vendor` on ours lifts them."""
    dataproc = load_policy(PolicySpec(type="dataproc", guards="ours"))
    pending = load_policy(PolicySpec(type="pending-demand", guards="vendor"))
    assert isinstance(dataproc, WithGuardProfile)
    assert (dataproc.name, guard_profile(dataproc), guard_profile(pending)) == ("dataproc", "ours", "vendor")
    assert guard_profiles(load_policies([PolicySpec(type="dataproc")])) == {"dataproc": "vendor"}


def test_bad_guards_value_is_a_located_config_error() -> None:
    """`guards` takes vendor or ours, nothing else."""
    with pytest.raises(ValueError, match="guards"):
        make_cluster_config(policies=[{"type": "dataproc", "guards": "none"}])


@pytest.mark.parametrize(("guards", "planned"), [(None, 6), ("ours", 4)])
def test_engine_applies_the_profile_of_the_policy_that_won(guards: str | None, planned: int) -> None:
    """dataproc wants +4 (4 nodes pending, its resize completed 120 s ago): at vendor timing it gets 6;
    under `guards: ours` the cluster's max_step_up_units 2 trims it to 4."""
    config = make_cluster_config(limits={"max_task_units": 50, "max_step_up_units": 2})
    pool = make_pool(requested=2)
    node_mb = pool.options[0].yarn.memory_mb
    busy = sample(T0, pending_mb=4 * node_mb, available_mb=0)
    memory = ControllerMemory(samples=(sample(T0 - 60, pending_mb=4 * node_mb, available_mb=0),)).with_pool(
        "ig-task", PoolMemory(last_scale_up_at=T0 - 400, last_resize_completed_at=T0 - 120)
    )
    policies = load_policies([PolicySpec.model_validate({"type": "dataproc", "guards": guards})])
    nodes = [make_node(f"h{i}", containers=12) for i in range(2)]
    decision = engine.evaluate(make_snapshot(pools=[pool], nodes=nodes, yarn=busy.yarn), memory, policies, config)
    assert decision.plan.resizes[0].target.total == planned
