"""`FakeEmr` behaves as EMR does where tests rely on it: absolute writes, RESIZING until settled, a call
log, faults that hit only the call they were set on, and errors for an unknown cluster or pool."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from autoscaler.testing import EmrFault, FakeEmr


def test_writes_are_absolute_and_settle_into_instances() -> None:
    emr = FakeEmr()
    gid = emr.add_group("TASK", 2, market="SPOT")
    emr.modify_instance_groups(ClusterId=emr.cluster_id, InstanceGroups=[{"InstanceGroupId": gid, "InstanceCount": 4}])
    (group,) = emr.list_instance_groups(ClusterId=emr.cluster_id)["InstanceGroups"]
    assert (group["RequestedInstanceCount"], group["RunningInstanceCount"], group["Status"]) == (
        4,
        2,
        {"State": "RESIZING"},
    )
    emr.settle()
    assert len(emr.instances()) == 4
    assert [c.operation for c in emr.calls] == ["modify_instance_groups", "list_instance_groups"]


def test_a_fault_hits_its_call_once_then_clears() -> None:
    emr = FakeEmr()
    emr.fail("describe_cluster", EmrFault.THROTTLE)
    with pytest.raises(ClientError) as err:
        emr.describe_cluster(ClusterId=emr.cluster_id)
    assert err.value.response["Error"]["Code"] == "ThrottlingException"
    assert emr.describe_cluster(ClusterId=emr.cluster_id)["Cluster"]["Status"] == {"State": "WAITING"}


def test_unknown_cluster_and_pool_are_aws_errors() -> None:
    emr = FakeEmr()
    with pytest.raises(ClientError, match="is not valid"):
        emr.describe_cluster(ClusterId="j-OTHER")
    with pytest.raises(ClientError, match="no such pool"):
        emr.modify_instance_groups(
            ClusterId=emr.cluster_id, InstanceGroups=[{"InstanceGroupId": "ig-x", "InstanceCount": 1}]
        )
