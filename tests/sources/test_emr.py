"""EmrReader contract tests: moto for instance groups, botocore Stubber for fleets (moto has none)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from autoscaler.aws import make_client
from autoscaler.instance_types import yarn_resources
from autoscaler.model import Capacity, InstanceState, Market, PoolKind, PoolRole, PoolState
from autoscaler.sources import SourceError
from autoscaler.sources.emr import EmrReader
from autoscaler.testing import EmrFault, FakeEmr, create_emr_cluster, emr_autoscaling_policy

REGION = "us-east-1"


def _cluster(task_count: int) -> str:
    """Master and 2 core m5.xlarge on-demand; `task_count` r5.xlarge on Spot bidding 0.1."""
    emr = boto3.client("emr", region_name=REGION)
    return create_emr_cluster(emr, task=task_count, task_instance_type="r5.xlarge", bid_price="0.1", name="c")


@pytest.mark.usefixtures("moto_aws")
def test_instance_groups_and_paginated_instances() -> None:
    """Groups map to pools by role and market; ListInstances is read past its first page (>100)."""
    cid = _cluster(task_count=120)
    calls: list[tuple[str, str, str | None]] = []
    client = make_client("emr", REGION, observer=lambda s, op, _t, err: calls.append((s, op, err)))
    state = EmrReader(client).read(cid)

    assert state.cluster_state == "WAITING"
    by_role = {p.role: p for p in state.pools}
    assert set(by_role) == {PoolRole.MASTER, PoolRole.CORE, PoolRole.TASK}
    task = by_role[PoolRole.TASK]
    assert task.kind is PoolKind.INSTANCE_GROUP
    assert task.market is Market.SPOT
    assert task.state is PoolState.RUNNING
    assert task.requested == Capacity(spot=120)
    assert task.running == Capacity(spot=120)
    assert task.provisioning == Capacity()
    assert task.options[0].instance_type == "r5.xlarge"
    assert task.options[0].yarn == yarn_resources("r5.xlarge")
    assert task.options[0].bid_price_usd == 0.1
    assert by_role[PoolRole.CORE].requested == Capacity(on_demand=2)

    assert len(state.instances) == 123
    assert sum(1 for op in calls if op[1] == "ListInstances") >= 3  # 50 per page
    spot = [i for i in state.instances if i.pool_id == task.pool_id]
    assert len(spot) == 120
    assert all(i.market is Market.SPOT and i.state is InstanceState.RUNNING for i in spot)
    assert all(i.instance_id.startswith("i-") and i.private_dns for i in spot)
    assert all(i.launched_at is not None for i in spot)
    assert state.managed_scaling_enabled is False  # the moto_aws fixture answers `{}`, as EMR does
    assert state.notes == ()


@pytest.mark.usefixtures("moto_aws")
def test_autoscaling_policy_is_detected() -> None:
    """A group with an EMR automatic scaling policy is flagged."""
    cid = _cluster(task_count=2)
    emr = boto3.client("emr", region_name=REGION)
    task_id = next(g["Id"] for g in emr.list_instance_groups(ClusterId=cid)["InstanceGroups"] if g["Name"] == "task")
    emr.put_auto_scaling_policy(ClusterId=cid, InstanceGroupId=task_id, AutoScalingPolicy=emr_autoscaling_policy())
    state = EmrReader(make_client("emr", REGION)).read(cid)
    flagged = {p.pool_id: p.has_autoscaling_policy for p in state.pools}
    assert flagged[task_id] is True
    assert sum(flagged.values()) == 1


@pytest.mark.usefixtures("moto_aws")
def test_unknown_cluster_is_a_source_error() -> None:
    """A cluster id EMR does not know raises SourceError naming the call."""
    with pytest.raises(SourceError, match="emr describe_cluster"):
        EmrReader(make_client("emr", REGION)).read("j-NOPE")


def _stubbed() -> tuple[Any, Stubber]:
    client = boto3.client("emr", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


_T = datetime(2024, 1, 1, tzinfo=UTC)


def _fleet_responses(stub: Stubber, managed: dict[str, Any] | None, answer_managed_scaling: bool = True) -> None:
    cid = "j-FLEET"
    stub.add_response(
        "describe_cluster",
        {
            "Cluster": {
                "Id": cid,
                "Name": "f",
                "Status": {"State": "RUNNING"},
                "InstanceCollectionType": "INSTANCE_FLEET",
            }
        },
        {"ClusterId": cid},
    )
    task = {
        "Id": "if-TASK",
        "Name": "task",
        "Status": {"State": "RESIZING"},
        "InstanceFleetType": "TASK",
        "TargetOnDemandCapacity": 2,
        "TargetSpotCapacity": 16,
        "ProvisionedOnDemandCapacity": 2,
        "ProvisionedSpotCapacity": 8,
        "InstanceTypeSpecifications": [
            {"InstanceType": "m5.xlarge", "WeightedCapacity": 4},
            {"InstanceType": "m5.2xlarge", "WeightedCapacity": 8, "BidPrice": "0.2"},
        ],
    }
    core = {
        "Id": "if-CORE",
        "Name": "core",
        "Status": {"State": "RUNNING"},
        "InstanceFleetType": "CORE",
        "TargetOnDemandCapacity": 1,
        "TargetSpotCapacity": 0,
        "ProvisionedOnDemandCapacity": 1,
        "ProvisionedSpotCapacity": 0,
        "InstanceTypeSpecifications": [{"InstanceType": "r5.xlarge", "WeightedCapacity": 1}],
    }
    stub.add_response("list_instance_fleets", {"InstanceFleets": [task], "Marker": "m1"}, {"ClusterId": cid})
    stub.add_response("list_instance_fleets", {"InstanceFleets": [core]}, {"ClusterId": cid, "Marker": "m1"})
    states = ["AWAITING_FULFILLMENT", "PROVISIONING", "BOOTSTRAPPING", "RUNNING"]
    inst = {
        "Id": "ci-1",
        "Ec2InstanceId": "i-0abc",
        "PrivateDnsName": "ip-10-0-0-1.ec2.internal",
        "Status": {"State": "RUNNING", "Timeline": {"CreationDateTime": _T}},
        "InstanceFleetId": "if-TASK",
        "Market": "SPOT",
        "InstanceType": "m5.2xlarge",
    }
    gone = dict(inst, Id="ci-2", Ec2InstanceId="i-0dead", Status={"State": "TERMINATED"})
    stub.add_response("list_instances", {"Instances": [inst, gone]}, {"ClusterId": cid, "InstanceStates": states})
    if answer_managed_scaling:
        stub.add_response("get_managed_scaling_policy", managed or {}, {"ClusterId": cid})


def test_instance_fleets_map_target_and_provisioned_capacity() -> None:
    """Fleets: targets are requested, provisioned is running, the gap is provisioning; weights kept."""
    client, stub = _stubbed()
    _fleet_responses(stub, None)
    with stub:
        state = EmrReader(client).read("j-FLEET")
        stub.assert_no_pending_responses()
    task = next(p for p in state.pools if p.pool_id == "if-TASK")
    assert task.kind is PoolKind.INSTANCE_FLEET
    assert task.state is PoolState.RESIZING
    assert task.market is None
    assert task.requested == Capacity(on_demand=2, spot=16)
    assert task.running == Capacity(on_demand=2, spot=8)
    assert task.provisioning == Capacity(on_demand=0, spot=8)
    assert [(o.instance_type, o.weight) for o in task.options] == [("m5.xlarge", 4), ("m5.2xlarge", 8)]
    assert task.options[1].bid_price_usd == 0.2
    assert len(state.pools) == 2
    (inst,) = state.instances  # the terminated one is dropped
    assert inst.instance_id == "i-0abc"
    assert inst.weight == 8
    assert inst.launched_at == _T.timestamp()
    assert state.managed_scaling_enabled is False


def test_managed_scaling_policy_is_detected() -> None:
    """A ManagedScalingPolicy on the cluster sets managed_scaling_enabled."""
    client, stub = _stubbed()
    limits = {"UnitType": "Instances", "MinimumCapacityUnits": 1, "MaximumCapacityUnits": 10}
    _fleet_responses(stub, {"ManagedScalingPolicy": {"ComputeLimits": limits}})
    with stub:
        assert EmrReader(client).read("j-FLEET").managed_scaling_enabled is True


def test_throttling_is_a_source_error() -> None:
    """An API error on any call surfaces as SourceError naming the call and code."""
    client, stub = _stubbed()
    stub.add_client_error("describe_cluster", service_error_code="ThrottlingException", http_status_code=400)
    with stub, pytest.raises(SourceError, match="describe_cluster: ThrottlingException"):
        EmrReader(client).read("j-X")


# What moto 5.x in server mode answers for GetManagedScalingPolicy (recorded with ThreadedMotoServer).
MOTO_SERVER_500 = "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"


def test_an_html_500_on_managed_scaling_fails_the_read() -> None:
    """An HTTP 500 (moto server's answer, or a proxy's) is not read as "managed scaling off": the read fails."""
    client, stub = _stubbed()
    _fleet_responses(stub, None, answer_managed_scaling=False)
    stub.add_client_error(
        "get_managed_scaling_policy", service_error_code="500", service_message=MOTO_SERVER_500, http_status_code=500
    )
    with stub, pytest.raises(SourceError, match="get_managed_scaling_policy: 500"):
        EmrReader(client).read("j-FLEET")


def test_a_501_not_implemented_on_managed_scaling_fails_the_read() -> None:
    """An endpoint that says the call is not implemented does not tell us managed scaling is off."""
    client, stub = _stubbed()
    _fleet_responses(stub, None, answer_managed_scaling=False)
    stub.add_client_error("get_managed_scaling_policy", service_error_code="NotImplemented", http_status_code=501)
    with stub, pytest.raises(SourceError, match="get_managed_scaling_policy: NotImplemented"):
        EmrReader(client).read("j-FLEET")


@pytest.mark.parametrize("fault", [EmrFault.THROTTLE, EmrFault.SERVER_ERROR, EmrFault.NOT_IMPLEMENTED])
def test_the_managed_scaling_check_fails_closed(fault: EmrFault) -> None:
    """Any error reading managed scaling (a code, a 5xx, NotImplementedError) is "unknown": the read
    fails, so the snapshot is stale and nothing is resized; it is never "managed scaling off"."""
    emr = FakeEmr()
    emr.add_group("MASTER", 1)
    emr.add_group("TASK", 2, market="SPOT")
    emr.fail("get_managed_scaling_policy", fault)
    with pytest.raises(SourceError, match="get_managed_scaling_policy"):
        EmrReader(emr).read(emr.cluster_id)
    assert EmrReader(emr).read(emr.cluster_id).managed_scaling_enabled is False  # the fault has passed


def test_managed_scaling_on_is_read_from_the_fake_as_from_emr() -> None:
    emr = FakeEmr()
    emr.add_fleet("TASK", 1, 3)
    emr.managed_scaling = True
    state = EmrReader(emr).read(emr.cluster_id)
    assert state.managed_scaling_enabled is True
    (task,) = state.pools
    assert task.requested == Capacity(on_demand=1, spot=3)
    assert len(state.instances) == 4


def test_every_page_of_groups_and_instances_is_read() -> None:
    """EMR's Marker pagination is followed for groups and instances (FakeEmr pages by 2 here)."""
    emr = FakeEmr(page_size=2)
    for _ in range(3):
        emr.add_group("TASK", 2, market="SPOT")
    state = EmrReader(emr).read(emr.cluster_id)
    assert len(state.pools) == 3
    assert len(state.instances) == 6
    assert [c.operation for c in emr.calls].count("list_instances") == 3
