"""Discovery's rules without AWS: which tags become which settings, what a bad tag or template gives,
and that a failed scan keeps the clusters found before (the moto and daemon-process test is
tests/e2e/test_discovery_e2e.py)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from autoscaler.config import ConfigError, DiscoveryConfig, parse_config
from autoscaler.discovery import Discovery, cluster_config, tag_settings
from autoscaler.ports import Cluster, DescribeClusterOutput, ListClustersOutput
from autoscaler.testing import ListLogger

TEMPLATE = {"policies": [{"type": "pending-demand"}], "limits": {"max_task_units": 10}, "yarn": {"timeout_s": 3}}


def _discovery(**extra: Any) -> DiscoveryConfig:
    return DiscoveryConfig.model_validate({"template": TEMPLATE, **extra})


def _cluster(cid: str, tags: dict[str, str], dns: str | None = "ip-10-0-0-1.ec2.internal") -> Cluster:
    found: Cluster = {"Id": cid, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
    if dns is not None:
        found["MasterPublicDnsName"] = dns
    return found


def test_setting_tags_override_the_template_and_the_url_is_the_masters() -> None:
    tags = {"emr-autoscaler/enabled": "true", "emr-autoscaler/max-task-units": "6", "emr-autoscaler/policy": "static"}
    config, problems = cluster_config(_cluster("j-ONE", tags), _discovery(yarn_scheme="https", yarn_port=8090))
    assert problems == []
    assert config is not None
    assert config.cluster_id == "j-ONE"
    assert config.limits.max_task_units == 6
    assert [p.type for p in config.policies] == ["static"]
    assert config.yarn.urls == ["https://ip-10-0-0-1.ec2.internal:8090"]
    assert config.yarn.timeout_s == 3  # the template's, kept beside the discovered URL


@pytest.mark.parametrize(
    ("tags", "problem"),
    [
        ({"emr-autoscaler/max-task-units": "-1"}, "tag emr-autoscaler/max-task-units='-1': not a whole number"),
        ({"emr-autoscaler/max-task-units": "1e3"}, "not a whole number"),
        ({"emr-autoscaler/policy": "no-such"}, "tag emr-autoscaler/policy='no-such': unknown policy; available: "),
        ({"emr-autoscaler/max-units": "3"}, "tag emr-autoscaler/max-units='3': unknown setting; known: "),
        ({"emr-autoscaler/min-task-units": "12"}, "tags/template: limits: Value error, max_task_units: must be >="),
    ],
)
def test_a_bad_tag_rejects_the_cluster_naming_the_tag(tags: dict[str, str], problem: str) -> None:
    config, problems = cluster_config(_cluster("j-BAD", {"emr-autoscaler/enabled": "true", **tags}), _discovery())
    assert config is None
    assert len(problems) == 1
    assert problems[0].startswith(problem) or problem in problems[0], problems


def test_tags_outside_the_prefix_are_not_settings() -> None:
    overrides, problems = tag_settings({"team": "data", "emr-autoscaler/enabled": "true"}, _discovery())
    assert (overrides, problems) == ({}, [])


def test_a_bad_template_is_a_located_config_error() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"discovery": {"template": {"policies": [], "limits": {"max_task_units": -1}}}}, env={})
    text = str(err.value)
    assert "discovery.template.limits.max_task_units: Input should be greater than or equal to 0" in text
    assert "; discovery.template.policies: List should have at least 1 item" in text
    with pytest.raises(ConfigError, match=r"template.yarn.urls: set by discovery"):
        parse_config({"discovery": {"template": {**TEMPLATE, "yarn": {"urls": ["http://x:8088"]}}}}, env={})
    with pytest.raises(ConfigError, match=r"clusters: list at least one cluster, or set discovery"):
        parse_config({"clusters": []}, env={})


class FakeEmrListing:
    """The EMR discovery calls (`ports.EmrDiscoveryPort`) over a dict of clusters; `down` fails ListClusters."""

    def __init__(self, clusters: dict[str, Cluster]) -> None:
        self.clusters, self.down = clusters, False

    def list_clusters(self, *, ClusterStates: list[str], Marker: str = "") -> ListClustersOutput:
        if self.down:
            raise EndpointConnectionError(endpoint_url="https://elasticmapreduce.us-east-1.amazonaws.com")
        ids = sorted(self.clusters)
        start = int(Marker or 0)
        page: ListClustersOutput = {"Clusters": [{"Id": i} for i in ids[start : start + 2]]}
        if start + 2 < len(ids):
            page["Marker"] = str(start + 2)
        return page

    def describe_cluster(self, *, ClusterId: str) -> DescribeClusterOutput:
        return {"Cluster": self.clusters[ClusterId]}


def test_scans_page_through_listclusters_keep_clusters_on_failure_and_rebuild_on_change() -> None:
    on = {"emr-autoscaler/enabled": "true"}
    emr = FakeEmrListing({f"j-C{i}": _cluster(f"j-C{i}", on) for i in range(5)} | {"j-OFF": _cluster("j-OFF", {})})
    emr.clusters["j-C4"] = _cluster("j-C4", on, dns=None)  # still starting
    built: list[str] = []
    dropped: list[str] = []
    logger = ListLogger()
    found = Discovery(
        _discovery(), emr, lambda c: built.append(c.cluster_id) or c.cluster_id, logger, on_drop=dropped.append
    )
    found.scan()
    assert sorted(found.clusters()) == ["j-C0", "j-C1", "j-C2", "j-C3"]
    assert logger.named("discovery_scan")[-1] | {} == {
        "listed": 6,
        "managed": 4,
        "rejected": 0,
        "waiting": 1,
        "dropped": 0,
    }

    emr.down = True
    found.scan()
    assert sorted(found.clusters()) == ["j-C0", "j-C1", "j-C2", "j-C3"], "an EMR outage dropped the clusters"
    assert logger.named("discovery_failed")

    emr.down = False
    emr.clusters["j-C1"] = _cluster("j-C1", on | {"emr-autoscaler/max-task-units": "3"})  # re-tagged
    del emr.clusters["j-C2"]  # terminated
    found.scan()
    assert sorted(found.clusters()) == ["j-C0", "j-C1", "j-C3"]
    assert dropped == ["j-C2"]
    assert built == ["j-C0", "j-C1", "j-C2", "j-C3", "j-C1"], "only the re-tagged cluster is built again"
