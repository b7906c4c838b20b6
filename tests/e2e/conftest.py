"""Fixtures for the end-to-end tests: a moto server (EMR), a recording proxy in front of it, a YARN
RM REST server, and a fresh EMR cluster per test (see e2e_harness.py for the pieces)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from e2e_harness import REGION, EmrCluster, Harness, recording_proxy
from faults.proxy import FaultProxy

from autoscaler.testing import FakeYarn, create_emr_cluster


@pytest.fixture
def proxy(moto_url: str) -> Iterator[FaultProxy]:
    p = recording_proxy(int(moto_url.rsplit(":", 1)[1]))
    yield p
    p.close()


@pytest.fixture
def yarn() -> Iterator[FakeYarn]:
    server = FakeYarn().serve()
    yield server
    server.close()


@pytest.fixture
def emr_cluster(moto_url: str) -> EmrCluster:
    """A WAITING cluster with MASTER (1), CORE (2) and a Spot TASK group (3 m5.xlarge)."""
    client = boto3.client(
        "emr",
        region_name=REGION,
        endpoint_url=moto_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    cid = create_emr_cluster(client, task=3, name="e2e")
    by_role = {g["InstanceGroupType"]: g["Id"] for g in client.list_instance_groups(ClusterId=cid)["InstanceGroups"]}
    instances = client.list_instances(ClusterId=cid)["Instances"]
    return EmrCluster(
        cid,
        by_role["TASK"],
        tuple(i for i in instances if i["InstanceGroupId"] == by_role["TASK"]),
        tuple(i for i in instances if i["InstanceGroupId"] == by_role["CORE"]),
        client,
    )


@pytest.fixture
def harness(tmp_path: Path, yarn: FakeYarn, proxy: FaultProxy, emr_cluster: EmrCluster, moto_url: str) -> Harness:
    return Harness(tmp_path, yarn, proxy, emr_cluster, moto_url)
