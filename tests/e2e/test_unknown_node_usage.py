"""Issue 11, item 1, end to end: the real daemon against an RM that lists RUNNING task nodes with
numContainers/usedMemoryMB of -1 or missing. It used to read them as idle and shrink 3 -> 1 naming
busy nodes; unknown usage must never be grounds for a scale-in nor a victim."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_harness import Harness, run_once, tick_events

from autoscaler.model import AppInfo, NodeInfo, Resources
from autoscaler.testing import make_app, make_node

pytestmark = pytest.mark.e2e


def _state(harness: Harness, unknown: str, known_idle: int) -> tuple[list[NodeInfo], list[AppInfo]]:
    """Core nodes busy; the first `known_idle` task nodes idle, the others with unknown usage."""
    cluster = harness.cluster
    nodes = [
        make_node(str(i["PrivateDnsName"]), containers=3, used=Resources(12288, 4)) for i in cluster.core_instances
    ]
    unknown_hosts = set()
    for n, inst in enumerate(cluster.task_instances):
        host = str(inst["PrivateDnsName"])
        nodes.append(make_node(host) if n < known_idle else make_node(host, containers=2, used=Resources(4096, 1)))
        if n >= known_idle:
            unknown_hosts.add(host)

    def confuse(path: str, body: Any) -> Any:
        """The RM's confused answers: -1 (rendered by the emulator's code) or the keys left out."""
        if path.startswith("/ws/v1/cluster/nodes") and body.get("nodes"):
            for node in body["nodes"]["node"]:
                if node["nodeHostName"] in unknown_hosts:
                    for key in ("numContainers", "usedMemoryMB"):
                        if unknown == "missing":
                            del node[key]
                        else:
                            node[key] = -1
        return body

    harness.yarn.tamper = confuse
    am = str(cluster.core_instances[0]["PrivateDnsName"])
    return nodes, [make_app("application_1_0001", am_host=am)]


@pytest.mark.parametrize("unknown", ["minus-one", "missing"])
def test_nodes_of_unknown_usage_are_not_shrunk(harness: Harness, unknown: str) -> None:
    """All three task nodes unknown: no write at all."""
    harness.yarn.set(*_state(harness, unknown, known_idle=0))
    done = run_once(harness.config(), harness.env())
    assert done.returncode == 0, done.stderr
    assert harness.proxy.writes() == []
    assert harness.cluster.task_requested() == 3
    (event,) = tick_events(done.stderr)
    assert not event["stale"]
    assert event["plan"] == []


def test_only_the_known_idle_node_drains_and_unknown_ones_are_protected(harness: Harness) -> None:
    """One known-idle task node beside two unknown ones: 3 -> 2, naming the idle one, protecting the rest."""
    harness.yarn.set(*_state(harness, "minus-one", known_idle=1))
    done = run_once(harness.config(), harness.env())
    assert done.returncode == 0, done.stderr
    (write,) = harness.proxy.writes()
    (group,) = write.body["InstanceGroups"]
    assert group["InstanceCount"] == 2
    idle, *unknown = (str(i["Ec2InstanceId"]) for i in harness.cluster.task_instances)
    resize = group["ShrinkPolicy"]["InstanceResizePolicy"]
    assert resize["InstancesToTerminate"] == [idle]
    assert sorted(resize["InstancesToProtect"]) == sorted(unknown)
