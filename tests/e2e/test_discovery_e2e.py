"""Discovery in the real daemon process against moto's EMR (server mode): clusters tagged
`emr-autoscaler/enabled=true` are found by ListClusters + DescribeCluster and managed with the
template and their own setting tags, their YARN read at the master's DNS name (here through an HTTP
proxy to the fake RM, since moto's DNS names resolve nowhere); a cluster with a bad tag value is
skipped with a located warning and never ticked; an untagged cluster is left alone; removing the tag
drops the cluster at the next scan. The daemon never crashes."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from e2e_harness import Harness, log_events, start_daemon, wait_for

from autoscaler.model import NodeInfo, Resources
from autoscaler.serving import HttpServer, Request, Response, endpoint
from autoscaler.testing import FakeYarn, create_emr_cluster, make_app, make_node

pytestmark = pytest.mark.e2e

ENABLED = {"Key": "emr-autoscaler/enabled", "Value": "true"}


class YarnProxy:
    """An HTTP proxy in front of a FakeYarn: records each absolute URL asked for (host and port)."""

    def __init__(self, yarn: FakeYarn) -> None:
        self.yarn, self.hosts = yarn, set[str]()
        self.server = HttpServer(endpoint(self._handle), name="yarn-proxy")

    def _handle(self, request: Request) -> Response:
        url = urlsplit(request.target)
        self.hosts.add(url.netloc)
        return self.yarn.answer(url.path + (f"?{url.query}" if url.query else ""), request.method)


def _config(harness: Harness) -> Path:
    path = harness.config()
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    (template,) = data.pop("clusters")
    for key in ("cluster_id", "region"):
        template.pop(key)
    template["yarn"] = {"timeout_s": 2}
    template["limits"] = {"min_task_units": 1, "max_task_units": 10}  # the tag lowers the max to 5
    data["clusters"] = []
    data["discovery"] = {"rescan_interval_s": 1, "yarn_port": 8088, "template": template}
    path.write_text(yaml.safe_dump(data))
    return path


def _busy(harness: Harness) -> list[NodeInfo]:
    instances = harness.cluster.core_instances + harness.cluster.task_instances
    return [make_node(str(i["PrivateDnsName"]), containers=3, used=Resources(12288, 4)) for i in instances]


def test_tagged_clusters_are_found_and_managed_and_bad_tags_are_skipped(harness: Harness) -> None:
    emr, good = harness.cluster.client, harness.cluster.cluster_id
    am = str(harness.cluster.core_instances[0]["PrivateDnsName"])
    harness.yarn.set(_busy(harness), [make_app("application_1_0001", am_host=am, pending=10, memory_mb=4096)])
    emr.add_tags(ResourceId=good, Tags=[ENABLED, {"Key": "emr-autoscaler/max-task-units", "Value": "5"}])
    bad = create_emr_cluster(emr, name="bad-tag")
    emr.add_tags(ResourceId=bad, Tags=[ENABLED, {"Key": "emr-autoscaler/max-task-units", "Value": "ten"}])
    conflicting = create_emr_cluster(emr, name="min-above-max")
    tags = [
        {"Key": "emr-autoscaler/min-task-units", "Value": "9"},
        {"Key": "emr-autoscaler/max-task-units", "Value": "2"},
    ]
    emr.add_tags(ResourceId=conflicting, Tags=[ENABLED, *tags])
    untagged = create_emr_cluster(emr, name="not-mine")
    dns = emr.describe_cluster(ClusterId=good)["Cluster"]["MasterPublicDnsName"]

    proxy = YarnProxy(harness.yarn)
    env = {**harness.env(), "HTTP_PROXY": proxy.server.url, "NO_PROXY": "127.0.0.1,localhost"}
    daemon = start_daemon(_config(harness), env)
    try:
        assert wait_for(harness.proxy.writes, timeout=40), "the discovered cluster was never resized"
        (write,) = harness.proxy.writes()
        assert write.body["ClusterId"] == good
        assert write.body["InstanceGroups"][0]["InstanceCount"] == 5, "the max-task-units tag was not applied"
        assert proxy.hosts == {f"{dns}:8088"}, "YARN was not read at the master's DNS name and the template's port"

        emr.remove_tags(ResourceId=good, TagKeys=[ENABLED["Key"]])
        time.sleep(3)  # a few scans: the cluster is dropped
        assert daemon.poll() is None, "the daemon died"
    finally:
        os.kill(daemon.pid, signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=30)
        proxy.server.close()
    assert daemon.returncode == 0
    events = log_events(stderr)
    ticked = {e["cluster"] for e in events if e.get("event") == "tick"}
    assert ticked == {good}, f"only the well-tagged cluster is ticked, got {ticked}"
    rejected = {e["cluster"]: e["problems"] for e in events if e.get("event") == "discovery_rejected"}
    assert set(rejected) == {bad, conflicting}
    assert rejected[bad] == ["tag emr-autoscaler/max-task-units='ten': not a whole number of units"]
    assert any("max_task_units" in p for p in rejected[conflicting]), rejected[conflicting]
    assert untagged not in rejected
    scans = [e for e in events if e.get("event") == "discovery_scan"]
    assert scans[0]["managed"] == 1
    assert scans[0]["rejected"] == 2
    assert any(e["dropped"] == 1 for e in scans), "untagging did not drop the cluster"
    first_drop = min(i for i, e in enumerate(events) if e.get("event") == "discovery_scan" and e["dropped"])
    late = [e for e in events[first_drop:] if e.get("event") == "tick"]
    assert len(late) <= 1, "the dropped cluster kept being ticked (one round may have been under way)"
