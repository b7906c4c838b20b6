"""guards.stale_after_s: a required source answered too far from the tick's instant makes the tick stale."""

from __future__ import annotations

import pytest

from autoscaler.engine import evaluate, late_sources
from autoscaler.model import ClusterSnapshot, ControllerMemory, RejectReason, SourceStatus
from autoscaler.testing import T0, Wants, make_cluster_config, make_pool, make_snapshot

TASK = make_pool("ig-task", requested=4)


def _snap(yarn_at: float, emr_at: float = T0, pricing_at: float = T0) -> ClusterSnapshot:
    sources = (
        SourceStatus("yarn", True, yarn_at),
        SourceStatus("emr", True, emr_at),
        SourceStatus("pricing", True, pricing_at, required=False),
    )
    return make_snapshot(pools=(TASK,), sources=sources)


@pytest.mark.parametrize(
    ("yarn_at", "stale"),
    [
        (T0 + 1, False),
        (T0 + 120, False),  # exactly stale_after_s is still fresh: "older than" is strict
        (T0 + 121, True),  # answered after the tick had run two minutes
        (T0 - 121, True),  # data carried in from before the tick
    ],
)
def test_required_source_far_from_taken_at_blocks_every_resize(yarn_at: float, stale: bool) -> None:
    """A required source stamped more than stale_after_s from taken_at: STALE_INPUT for up and down alike."""
    config = make_cluster_config(guards={"stale_after_s": 120, "scale_down_confirmations": 1, "min_node_age_s": 0})
    decision = evaluate(_snap(yarn_at), ControllerMemory(), [Wants({"ig-task": 9})], config)
    assert (RejectReason.STALE_INPUT in {r.reason for r in decision.rejections}) is stale
    assert decision.plan.empty is stale
    if stale:
        assert "guards.stale_after_s=120" in decision.rejections[0].detail
        assert decision.rejections[0].detail.startswith("snapshot is stale: yarn: ")


def test_late_optional_source_does_not_stale_the_tick() -> None:
    """Pricing is optional: however old, it never blocks a resize."""
    config = make_cluster_config(guards={"stale_after_s": 60})
    decision = evaluate(_snap(T0, pricing_at=T0 + 3600), ControllerMemory(), [Wants({"ig-task": 9})], config)
    assert not decision.plan.empty
    assert late_sources(_snap(T0, pricing_at=T0 + 3600), 60) == ()


def test_late_sources_names_each_late_required_source() -> None:
    """Both required sources are named with how far they are from the tick's start."""
    late = late_sources(_snap(T0 + 200, emr_at=T0 + 300), 120)
    assert [r.split(":")[0] for r in late] == ["yarn", "emr"]
    assert "answered 300s after the tick began" in late[1]


def test_failed_source_is_reported_once_not_also_as_late() -> None:
    """A source that already failed is stale for its error; lateness does not add a second line for it."""
    failed = SourceStatus("yarn", False, T0 + 500, error="timed out")
    snapshot = make_snapshot(pools=(TASK,), sources=(failed, SourceStatus("emr", True, T0)))
    decision = evaluate(snapshot, ControllerMemory(), [Wants({"ig-task": 9})], make_cluster_config())
    assert decision.rejections[0].detail == "snapshot is stale: yarn: timed out"
