"""Restart: a new daemon process resumes from the cluster's real state, not from what it remembered.

Controller memory is not persisted (see `autoscaler/loop.py`), so after a restart cooldowns and
scale-in confirmations start empty. These tests show that is safe: absolute targets make a repeated
scale-up a no-op, and a scale-in needs its confirmations counted again from zero.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from e2e_harness import EmrCluster, Harness, run_once, start_daemon, tick_events, wait_for

from autoscaler.model import AppInfo, NodeInfo, Resources
from autoscaler.testing import make_app, make_node

pytestmark = pytest.mark.e2e


def _host(instance: dict[str, Any]) -> str:
    return str(instance["PrivateDnsName"])


def _ticks_seen(harness: Harness) -> int:
    """Ticks that reached EMR: each tick reads DescribeCluster once through the recording proxy."""
    return sum(1 for c in harness.proxy.exchanges() if c.operation == "DescribeCluster")


def _daemon(config: Path, harness: Harness) -> subprocess.Popen[str]:
    return start_daemon(config, harness.env())


def _stop(proc: subprocess.Popen[str]) -> list[dict[str, Any]]:
    """SIGTERM, wait for a clean exit, and return the process's tick events."""
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    return tick_events(stderr)


def _pending_demand(cluster: EmrCluster) -> tuple[list[NodeInfo], list[AppInfo]]:
    """Every node full and 10 pending 4 GB containers: pending-demand wants the task group at 7."""
    busy = [make_node(_host(i), containers=3, used=Resources(12288, 4)) for i in cluster.core_instances]
    busy += [make_node(_host(i), containers=3, used=Resources(12288, 4)) for i in cluster.task_instances]
    am_host = _host(cluster.core_instances[0])
    return busy, [make_app("application_1_0001", am_host=am_host, pending=10, memory_mb=4096)]


def test_restart_with_the_same_demand_does_not_grow_the_group_again(harness: Harness) -> None:
    """Scale up to 7, SIGTERM, restart on the same pending demand: no second write, the group stays at 7.

    The scale-up cooldown (600 s) held the first process back from a repeat; the restarted one has
    no cooldown in memory, so only the absolute target read back from EMR keeps it from adding more."""
    cluster = harness.cluster
    harness.yarn.set(*_pending_demand(cluster))
    config = harness.config(guards={"cooldown_up_s": 600, "cooldown_down_s": 600, "min_node_age_s": 0})

    first = _daemon(config, harness)
    try:
        assert wait_for(harness.proxy.writes, timeout=10), "the first daemon never scaled up"
        seen = _ticks_seen(harness)
        assert wait_for(lambda: _ticks_seen(harness) >= seen + 2, timeout=10)
    finally:
        first_events = _stop(first)
    (write,) = harness.proxy.writes()
    (group,) = write.body["InstanceGroups"]
    assert (group["InstanceGroupId"], group["InstanceCount"]) == (cluster.task_group, 7)
    assert cluster.task_requested() == 7
    assert next(e for e in first_events if e["plan"])["outcomes"][0]["status"] == "applied"

    before = _ticks_seen(harness)
    second = _daemon(config, harness)
    try:
        assert wait_for(lambda: _ticks_seen(harness) >= before + 3, timeout=10), "the restarted daemon never ticked"
    finally:
        second_events = _stop(second)
    assert len(second_events) >= 3
    assert harness.proxy.writes() == [write], "the restarted daemon wrote again for the same demand"
    assert cluster.task_requested() == 7
    for event in second_events:
        assert not event["stale"]
        assert all(sum(r["target"].values()) <= 7 for r in event["plan"]), event["plan"]


def _idle_task_nodes(cluster: EmrCluster) -> tuple[list[NodeInfo], list[AppInfo]]:
    """Core busy (one hosts the AM), every task node idle: idle-capacity wants the task group at its min of 1."""
    nodes = [make_node(_host(i), containers=3, used=Resources(12288, 4)) for i in cluster.core_instances]
    nodes += [make_node(_host(i)) for i in cluster.task_instances]
    return nodes, [make_app("application_1_0002", am_host=_host(cluster.core_instances[0]))]


def _confirmations(event: dict[str, Any]) -> list[str]:
    return [r["detail"] for r in event["rejections"] if r["reason"] == "awaiting_confirmation"]


def test_scale_in_confirmations_start_from_zero_after_each_restart(harness: Harness) -> None:
    """Idle nodes with scale_down_confirmations=2: two one-tick processes never shrink (each counts 1/2);
    one process that lives two ticks does, on its second tick."""
    cluster = harness.cluster
    harness.yarn.set(*_idle_task_nodes(cluster))
    config = harness.config(guards={"scale_down_confirmations": 2, "cooldown_down_s": 0, "min_node_age_s": 0})

    for _ in range(2):  # what a restart between every tick would look like
        done = run_once(config, harness.env())
        assert done.returncode == 0, done.stderr
        (event,) = tick_events(done.stderr)
        assert event["plan"] == []
        assert _confirmations(event) == ["scale-in wanted 1/2 consecutive ticks"]
    assert harness.proxy.writes() == [], "a restart hastened a scale-in"
    assert cluster.task_requested() == 3

    daemon = _daemon(config, harness)
    try:
        assert wait_for(harness.proxy.writes, timeout=10), "a daemon that lives two ticks should shrink"
    finally:
        events = _stop(daemon)
    first, second = events[0], events[1]
    assert first["plan"] == []
    assert _confirmations(first) == ["scale-in wanted 1/2 consecutive ticks"]
    assert [(r["pool"], r["target"]["spot"]) for r in second["plan"]] == [(cluster.task_group, 1)]
    (write,) = harness.proxy.writes()
    assert write.body["InstanceGroups"][0]["InstanceCount"] == 1
