"""A daemon makes one boto3 client per service and region, shared by its clusters (each client holds
about a megabyte: 200 clusters' sources made 600 and the daemon's RSS passed 500 MB)."""

from __future__ import annotations

import pytest

from autoscaler.actuator import EmrActuator
from autoscaler.aws import Clients
from autoscaler.cli_daemon import build_deps
from autoscaler.config import parse_config
from autoscaler.metrics import Metrics
from autoscaler.testing import ListLogger


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_CONFIG_FILE": "/dev/null"}.items():
        monkeypatch.setenv(key, value)


def test_one_client_per_service_and_region() -> None:
    clients = Clients()
    assert clients("emr", "us-east-1") is clients("emr", "us-east-1")
    assert clients("emr", "us-east-1") is not clients("emr", "eu-west-1")
    assert clients("emr", "us-east-1") is not Clients()("emr", "us-east-1"), "scoped to one daemon"


def test_a_daemons_clusters_share_their_regions_clients() -> None:
    """build_deps hands one `Clients` to every cluster: the actuators of two clusters in a region are
    given the same EMR client, a third region's cluster its own."""
    cluster = {"yarn": {"urls": ["http://rm:8088"]}, "policies": [{"type": "pending-demand"}]}
    config = parse_config(
        {
            "dry_run": False,
            "metrics_port": 0,
            "clusters": [
                {**cluster, "cluster_id": "j-ONE"},
                {**cluster, "cluster_id": "j-TWO"},
                {**cluster, "cluster_id": "j-WEST", "region": "us-west-2"},
            ],
        },
        env={},
    )
    deps = build_deps(config, Metrics(), ListLogger())  # not configure_logging: it sets process-wide logging
    one, two, west = (c.actuator for c in deps.clusters)
    assert isinstance(one, EmrActuator)
    assert isinstance(two, EmrActuator)
    assert isinstance(west, EmrActuator)
    assert one.emr is two.emr
    assert one.emr is not west.emr
