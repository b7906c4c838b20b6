"""Parsing real YARN ResourceManager REST answers (../shared/data/yarn/)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from autoscaler.model import NodeState, Resources
from autoscaler.sources import SourceError
from autoscaler.sources.yarn import parse_apps, parse_ha_state, parse_metrics, parse_nodes

from .conftest import DATA

YARN = DATA / "yarn"


def _load(name: str) -> Any:
    return json.loads((YARN / name).read_text())


def test_every_sample_file_parses() -> None:
    """Each shipped sample parses with the parser for its endpoint."""
    parsers = {"cluster_metrics": parse_metrics, "cluster_nodes": parse_nodes, "cluster_node_single": parse_nodes}
    parsers |= {"cluster_apps": parse_apps, "cluster_app_with": parse_apps, "cluster_info": parse_ha_state}
    files = sorted(YARN.glob("*.json"))
    assert len(files) == 8
    for f in files:
        parser = next(p for prefix, p in parsers.items() if f.name.startswith(prefix))
        parser(json.loads(f.read_text()))


def test_hadoop3_doc_metrics() -> None:
    """Doc sample: values read as given; pendingMB absent from the sample is unknown, not zero."""
    m = parse_metrics(_load("cluster_metrics.hadoop3_doc.json"))
    raw = _load("cluster_metrics.hadoop3_doc.json")["clusterMetrics"]
    assert m.total_mb == raw["totalMB"]
    assert m.available_mb == raw["availableMB"]
    assert m.decommissioning_nodes == raw["decommissioningNodes"]
    assert m.pending_mb is None


def test_legacy_metrics_missing_keys_are_none() -> None:
    """Hadoop 2 sample lacks decommissioningNodes/shutdownNodes: they are None, the rest parse."""
    m = parse_metrics(_load("cluster_metrics.hadoop2_doc_legacy.json"))
    assert m.decommissioning_nodes is None
    assert m.shutdown_nodes is None
    assert m.total_mb == 17408
    assert m.available_vcores == 7
    assert m.memory_available_pct == 100.0


def test_partitioned_metrics_use_across_partition_figures() -> None:
    """With crossPartitionMetricsAvailable, totals come from *AcrossPartition; Long.MAX is tolerated."""
    doc = _load("cluster_metrics.real_hadoop3_with_partitions.json")
    doc["clusterMetrics"]["totalMB"] = 4096  # a wrong default-partition figure (YARN-9088) must be ignored
    m = parse_metrics(doc)
    assert m.total_mb == 12288
    assert m.total_vcores == 4
    assert m.allocated_mb == 0
    assert m.available_mb == 12288
    assert m.active_nodes == 2
    assert m.shutdown_nodes == 2


def test_minus_one_and_long_max_are_unknown() -> None:
    """-1, other negatives (accounting races) and Long.MAX (as rounded by JSON tools) are unknown: None."""
    m = parse_metrics(
        {"clusterMetrics": {"appsPending": -1, "availableMB": -2048, "pendingMB": 9223372036854776000, "totalMB": 10.0}}
    )
    assert m.apps_pending is None
    assert m.available_mb is None
    assert m.pending_mb is None
    assert m.total_mb == 10


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {"clusterMetrics": {"totalMB": "abc"}},
            "yarn /ws/v1/cluster/metrics: clusterMetrics.totalMB: expected an integer, got 'abc'",
        ),
        ({"clusterMetrics": {"availableMB": 1.5}}, "clusterMetrics.availableMB: expected an integer"),
        ({"clusterMetrics": {"activeNodes": True}}, "clusterMetrics.activeNodes"),
        ({"clusterMetric": {}}, "clusterMetrics: expected an object"),
        ([], "<root>: expected an object"),
    ],
)
def test_bad_metrics_raise_naming_the_field(doc: Any, message: str) -> None:
    """A wrongly typed field raises SourceError naming endpoint and field."""
    with pytest.raises(SourceError, match=message.replace(".", r"\.").replace("(", r"\(")):
        parse_metrics(doc)


def test_nodes_doc_sample() -> None:
    """Nodes list: host, state, used/available resources, lastHealthUpdate in seconds."""
    nodes = parse_nodes(_load("cluster_nodes.hadoop3_doc.json"))
    assert len(nodes) == 2
    n = nodes[0]
    assert n.host == "host.domain.com"
    assert n.state is NodeState.RUNNING
    assert n.available == Resources(8192, 8)
    assert n.capacity == Resources(8192, 8)
    assert n.last_health_update_s == pytest.approx(1476995346.399)


def test_single_node_and_empty_nodes() -> None:
    """A /nodes/{id} answer is one node; `{"nodes": null}` is none."""
    (node,) = parse_nodes(_load("cluster_node_single.trunk_doc.json"))
    assert node.host == "host.domain.com"
    assert parse_nodes({"nodes": None}) == ()
    assert parse_nodes({"nodes": {}}) == ()


def test_unknown_node_state_raises() -> None:
    """A node state outside NodeState is an error naming the node's position."""
    with pytest.raises(SourceError, match=r"nodes\.node\[0\]\.state"):
        parse_nodes({"nodes": {"node": [{"nodeHostName": "h", "state": "ZOMBIE"}]}})


def test_decommissioning_node_is_never_idle() -> None:
    """A DECOMMISSIONING node with no containers is not idle capacity."""
    (n,) = parse_nodes({"nodes": {"node": [{"nodeHostName": "h", "state": "DECOMMISSIONING", "numContainers": 0}]}})
    assert not n.is_idle


def test_apps_doc_sample_and_am_host() -> None:
    """Apps list: ids, queues, AM host from amHostHttpAddress."""
    apps = parse_apps(_load("cluster_apps.hadoop3_doc.json"))
    assert len(apps) == 2
    assert apps[0].app_id == "application_1476912658570_0002"
    assert apps[0].am_host == "host.domain.com"
    assert apps[0].queue == "default"
    assert parse_apps({"apps": None}) == ()


def test_resource_requests_count_only_star() -> None:
    """Only resourceName "*" asks count as pending demand; node-local repeats are ignored."""
    app = _load("cluster_app_with_resourceRequests.trunk_doc.json")
    for rr in app["resourceRequests"]:
        rr["numContainers"] = 3
    (parsed,) = parse_apps({"apps": {"app": [app]}})
    assert len(parsed.pending) == 1
    req = parsed.pending[0]
    assert req.shape == Resources(4096, 1)
    assert req.count == 3
    assert req.app_id == "application_1476912658570_0002"
    # the file as shipped has numContainers 0 everywhere: no demand
    (as_shipped,) = parse_apps(_load("cluster_app_with_resourceRequests.trunk_doc.json"))
    assert as_shipped.pending == ()


def test_info_ha_state() -> None:
    """haState is read from clusterInfo; absent means HA is off."""
    assert parse_ha_state(_load("cluster_info.hadoop3_doc.json")) == "ACTIVE"
    assert parse_ha_state({"clusterInfo": {"state": "STARTED"}}) is None


def test_app_allocation_is_read_and_minus_one_is_unknown() -> None:
    """allocatedMB/allocatedVCores/runningContainers: what a recording needs for demand over time; -1 = unknown."""
    apps = parse_apps(_load("cluster_apps.hadoop3_doc.json"))
    assert (apps[0].allocated, apps[0].running_containers) == (Resources(0, 0), 0)  # the doc's finished app
    raw = {"id": "a", "state": "RUNNING", "allocatedMB": 7168, "allocatedVCores": 3, "runningContainers": 3}
    (app,) = parse_apps({"apps": {"app": [raw]}})
    assert (app.allocated, app.running_containers) == (Resources(7168, 3), 3)
    (unknown,) = parse_apps({"apps": {"app": [{**raw, "allocatedMB": -1, "runningContainers": -1}]}})
    assert (unknown.allocated, unknown.running_containers) == (None, None)
