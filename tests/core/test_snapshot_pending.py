"""`ClusterSnapshot.pending_requests()` is built once per snapshot, and never outlives its apps."""

from __future__ import annotations

from dataclasses import replace

from autoscaler.model import AppInfo, ClusterSnapshot, PendingRequest, Resources


def _snapshot(*counts: int) -> ClusterSnapshot:
    apps = tuple(
        AppInfo(f"app{i}", "RUNNING", pending=(PendingRequest(Resources(1024, 1), n, f"app{i}"),))
        for i, n in enumerate(counts)
    )
    return ClusterSnapshot("j-1", 0.0, "WAITING", None, apps=apps)


def test_every_policy_gets_the_same_tuple() -> None:
    snap = _snapshot(3, 5)
    first = snap.pending_requests()
    assert [r.count for r in first] == [3, 5]
    assert snap.pending_requests() is first


def test_a_replaced_snapshot_sees_its_own_apps() -> None:
    snap = _snapshot(3)
    snap.pending_requests()
    other = replace(snap, apps=_snapshot(7, 1).apps)
    assert [r.count for r in other.pending_requests()] == [7, 1]
    assert other == replace(other)  # the cache takes no part in equality
