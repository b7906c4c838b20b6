from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from autoscaler.config import YarnConfig
from autoscaler.emulator.server import Emulator
from autoscaler.emulator.yarn_api import render_apps, render_metrics, render_nodes, route
from autoscaler.model import ClusterSnapshot, NodeInfo
from autoscaler.sources.yarn import YarnClient
from autoscaler.sources.yarn_parse import parse_apps, parse_metrics, parse_nodes
from autoscaler.testing import make_snapshot

from .conftest import group_snapshot
from .fake_cluster import FakeCluster

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "yarn"


def _sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


def _yarn_view(node: NodeInfo) -> tuple[object, ...]:
    """What YARN itself knows of a node (the EMR join fields come from ListInstances)."""
    return (node.host, node.state, node.num_containers, node.used, node.available, node.last_health_update_s)


def test_metrics_render_parses_back_to_the_same_metrics() -> None:
    """Snapshot metrics -> RM JSON -> the daemon's parser gives back the same YarnMetrics."""
    snapshot = group_snapshot()
    assert parse_metrics(render_metrics(snapshot)) == snapshot.yarn


def test_nodes_render_parses_back_to_the_same_nodes() -> None:
    """Every node's host, state, containers, used/available resources and health time survive the trip."""
    snapshot = group_snapshot()
    assert [_yarn_view(n) for n in parse_nodes(render_nodes(snapshot))] == [_yarn_view(n) for n in snapshot.nodes]


def test_apps_render_parses_back_to_the_same_apps() -> None:
    """Apps keep id, state, queue, AM host, submit time and pending container shapes."""
    snapshot = group_snapshot()
    assert parse_apps(render_apps(snapshot, "RUNNING,ACCEPTED")) == snapshot.apps


def test_render_keys_match_the_real_rm_samples() -> None:
    """Every key the RM's own samples carry for metrics and nodes is present in the render, with the same type."""
    snapshot = group_snapshot()
    real_metrics = _sample("cluster_metrics.hadoop3_doc.json")["clusterMetrics"]
    ours = render_metrics(snapshot)["clusterMetrics"]
    assert {k: type(v) for k, v in real_metrics.items()} == {k: type(ours[k]) for k in real_metrics}
    real_node = _sample("cluster_node_single.trunk_doc.json")["node"]
    our_node = next(n for n in render_nodes(snapshot)["nodes"]["node"] if "lastHealthUpdate" in n)
    shared = set(real_node) - {"resourceUtilization"}
    assert {k: type(real_node[k]) for k in shared} == {k: type(our_node[k]) for k in shared}


def test_resource_requests_have_the_rm_shape() -> None:
    """Pending demand is a resourceRequests[] entry like the RM's: resourceName "*", capability, numContainers."""
    real = _sample("cluster_app_with_resourceRequests.trunk_doc.json")["resourceRequests"][0]
    app = render_apps(group_snapshot())["apps"]["app"][0]
    ours = app["resourceRequests"][0]
    assert set(real) == set(ours)
    assert ours["resourceName"] == "*"
    assert ours["capability"] == {"memory": 2048, "virtualCores": 1}
    assert ours["numContainers"] == 6
    assert app["amHostHttpAddress"] == "ip-10-0-0-21.ec2.internal:8042"


def test_empty_collections_are_null_like_jersey() -> None:
    """With no apps and no nodes the RM answers {"apps": null} / {"nodes": null}; so does the emulator."""
    empty = make_snapshot(nodes=())
    assert render_apps(empty) == {"apps": None}
    assert render_nodes(empty) == {"nodes": None}


def test_states_filters_apps_and_nodes() -> None:
    """`states=` keeps only apps/nodes in the listed states, case-insensitively."""
    snapshot = group_snapshot()
    accepted = route("/ws/v1/cluster/apps?states=accepted", snapshot, 0.0)
    assert accepted is not None
    assert [a["id"] for a in accepted["apps"]["app"]] == ["application_1_0002"]
    assert route("/ws/v1/cluster/nodes?states=DECOMMISSIONING", snapshot, 0.0) == {"nodes": None}


def test_unknown_metrics_are_yarns_minus_one() -> None:
    """A metric the snapshot does not know is rendered as YARN's -1, which parses back to unknown."""
    snapshot: ClusterSnapshot = make_snapshot(yarn=None)
    rendered = render_metrics(snapshot)["clusterMetrics"]
    assert rendered["pendingMB"] == -1
    assert parse_metrics(render_metrics(snapshot)).pending_mb is None


def test_yarn_client_reads_the_emulator_over_http(fake: FakeCluster) -> None:
    """The daemon's real YarnClient finds the emulator ACTIVE and reads metrics, nodes and live apps."""
    with Emulator(fake, time_scale=0) as emu:
        state = YarnClient(YarnConfig(urls=[emu.yarn_url], timeout_s=2)).fetch()
    snapshot = fake.snapshot()
    assert state.metrics == snapshot.yarn
    assert [_yarn_view(n) for n in state.nodes] == [_yarn_view(n) for n in snapshot.nodes]
    assert state.apps == snapshot.apps


def test_unknown_path_is_404(emulator: Emulator) -> None:
    """Paths the RM does not serve answer 404."""
    assert requests.get(emulator.yarn_url + "/ws/v1/cluster/queues", timeout=5).status_code == 404


def test_requests_see_emulated_time_advance(fake: FakeCluster) -> None:
    """Each request first brings the cluster to the emulated time, so a time-scaled cluster moves between reads."""
    with Emulator(fake, time_scale=1000.0, tick_s=10.0) as emu:
        t0 = fake.now
        emu.advance(60.0)
        requests.get(emu.yarn_url + "/ws/v1/cluster/metrics", timeout=5).raise_for_status()
    assert fake.now >= t0 + 60.0
    assert fake.advanced_to == sorted(fake.advanced_to)


@pytest.mark.parametrize("path", ["/ws/v1/cluster/info", "/ws/v1/cluster"])
def test_info_says_active(emulator: Emulator, path: str) -> None:
    """The cluster info reports haState ACTIVE, so HA discovery picks the emulator."""
    body = requests.get(emulator.yarn_url + path, timeout=5).json()
    assert body["clusterInfo"]["haState"] == "ACTIVE"
