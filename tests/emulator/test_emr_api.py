from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from autoscaler.emulator.server import Emulator
from autoscaler.model import InstanceState, Market
from autoscaler.testing import T0, make_instance, make_pool, make_snapshot

from .conftest import emr_client, fleet_snapshot
from .fake_cluster import FakeCluster


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def test_describe_cluster_round_trips_through_boto3(emulator: Emulator) -> None:
    """DescribeCluster answers with the snapshot's id, state and collection type, timestamps as datetimes."""
    cluster = emr_client(emulator.emr_url).describe_cluster(ClusterId="j-TEST")["Cluster"]
    assert cluster["Id"] == "j-TEST"
    assert cluster["Status"]["State"] == "WAITING"
    assert cluster["InstanceCollectionType"] == "INSTANCE_GROUP"
    assert cluster["Status"]["Timeline"]["CreationDateTime"] == datetime.fromtimestamp(T0, UTC)
    assert cluster["MasterPublicDnsName"] == "ip-10-0-0-1.ec2.internal"


def test_list_instance_groups_reports_requested_and_running(emulator: Emulator) -> None:
    """ListInstanceGroups shows every group with its role, market, type and requested/running counts."""
    groups = {
        g["Id"]: g for g in emr_client(emulator.emr_url).list_instance_groups(ClusterId="j-TEST")["InstanceGroups"]
    }
    assert set(groups) == {"ig-master", "ig-core", "ig-task"}
    task = groups["ig-task"]
    assert (task["InstanceGroupType"], task["Market"], task["InstanceType"]) == ("TASK", "SPOT", "m5.xlarge")
    assert (task["RequestedInstanceCount"], task["RunningInstanceCount"]) == (3, 2)
    assert task["Status"]["State"] == "RUNNING"
    assert groups["ig-core"]["Market"] == "ON_DEMAND"
    assert "AutoScalingPolicy" not in task


def test_list_instance_fleets_reports_targets_and_weights() -> None:
    """ListInstanceFleets shows targets, provisioned units per market and weighted instance types."""
    with Emulator(FakeCluster(fleet_snapshot()), time_scale=0) as emu:
        client = emr_client(emu.emr_url)
        fleets = {f["Id"]: f for f in client.list_instance_fleets(ClusterId="j-TEST")["InstanceFleets"]}
        assert client.describe_cluster(ClusterId="j-TEST")["Cluster"]["InstanceCollectionType"] == "INSTANCE_FLEET"
        assert client.list_instance_groups(ClusterId="j-TEST")["InstanceGroups"] == []
    task = fleets["if-task"]
    assert (task["TargetOnDemandCapacity"], task["TargetSpotCapacity"]) == (1, 4)
    assert (task["ProvisionedOnDemandCapacity"], task["ProvisionedSpotCapacity"]) == (1, 2)
    weights = {s["InstanceType"]: s["WeightedCapacity"] for s in task["InstanceTypeSpecifications"]}
    assert weights == {"m5.xlarge": 1, "m5.2xlarge": 2}


def test_list_instances_maps_hosts_to_ec2_ids_and_filters(emulator: Emulator) -> None:
    """ListInstances gives EC2 id, private DNS, group and launch time, and honours group and state filters."""
    client = emr_client(emulator.emr_url)
    everything = client.list_instances(ClusterId="j-TEST")["Instances"]
    assert len(everything) == 6
    task1 = next(i for i in everything if i["Ec2InstanceId"] == "i-task1")
    assert task1["PrivateDnsName"] == "ip-10-0-0-21.ec2.internal"
    assert task1["InstanceGroupId"] == "ig-task"
    assert task1["Id"].startswith("ci-")
    assert task1["Status"]["Timeline"]["CreationDateTime"] == datetime.fromtimestamp(T0 - 3600, UTC)
    in_task = client.list_instances(ClusterId="j-TEST", InstanceGroupId="ig-task")["Instances"]
    assert {i["Ec2InstanceId"] for i in in_task} == {"i-task1", "i-task2", "i-task3"}
    booting = client.list_instances(ClusterId="j-TEST", InstanceStates=["PROVISIONING"])["Instances"]
    assert [i["Ec2InstanceId"] for i in booting] == ["i-task3"]
    core = client.list_instances(ClusterId="j-TEST", InstanceGroupTypes=["CORE"])["Instances"]
    assert {i["Ec2InstanceId"] for i in core} == {"i-core1", "i-core2"}


def test_list_instances_paginates_by_fifty() -> None:
    """120 instances come back as pages of 50, 50 and 20 linked by Marker, each instance exactly once."""
    instances = [
        make_instance(f"i-{n:04d}", private_dns=f"ip-10-2-{n // 250}-{n % 250}.ec2.internal") for n in range(120)
    ]
    snapshot = make_snapshot(pools=[make_pool(requested=120)], instances=instances)
    with Emulator(FakeCluster(snapshot), time_scale=0) as emu:
        client = emr_client(emu.emr_url)
        first = client.list_instances(ClusterId="j-TEST")
        pages = list(client.get_paginator("list_instances").paginate(ClusterId="j-TEST"))
    assert len(first["Instances"]) == 50
    assert "Marker" in first
    assert [len(p["Instances"]) for p in pages] == [50, 50, 20]
    ids = [i["Ec2InstanceId"] for p in pages for i in p["Instances"]]
    assert sorted(ids) == sorted(i.instance_id for i in instances)


def test_managed_scaling_policy_is_empty_unless_attached(fake: FakeCluster) -> None:
    """GetManagedScalingPolicy is empty for a plain cluster and shows limits when one is attached."""
    with Emulator(fake, time_scale=0) as emu:
        client = emr_client(emu.emr_url)
        assert "ManagedScalingPolicy" not in client.get_managed_scaling_policy(ClusterId="j-TEST")
        fake.state = replace(fake.state, managed_scaling_enabled=True)
        policy = client.get_managed_scaling_policy(ClusterId="j-TEST")["ManagedScalingPolicy"]
    assert policy["ComputeLimits"]["UnitType"] == "Instances"


def test_modify_instance_groups_passes_shrink_policy_to_the_cluster(emulator: Emulator, fake: FakeCluster) -> None:
    """ModifyInstanceGroups reaches the cluster with count, victims, protected hosts and timeout."""
    client = emr_client(emulator.emr_url)
    client.modify_instance_groups(
        ClusterId="j-TEST",
        InstanceGroups=[
            {
                "InstanceGroupId": "ig-task",
                "InstanceCount": 1,
                "ShrinkPolicy": {
                    "DecommissionTimeout": 600,
                    "InstanceResizePolicy": {"InstancesToTerminate": ["i-task2"], "InstancesToProtect": ["i-task1"]},
                },
            }
        ],
    )
    assert fake.modify_calls == [
        (
            "group",
            "ig-task",
            {
                "instance_count": 1,
                "instances_to_terminate": ("i-task2",),
                "instances_to_protect": ("i-task1",),
                "decommission_timeout_s": 600,
            },
        )
    ]
    groups = client.list_instance_groups(ClusterId="j-TEST")["InstanceGroups"]
    assert next(g for g in groups if g["Id"] == "ig-task")["RequestedInstanceCount"] == 1
    assert [op for op, _ in emulator.emr.calls] == ["ModifyInstanceGroups", "ListInstanceGroups"]
    assert emulator.emr.write_calls()[0][1]["InstanceGroups"][0]["InstanceCount"] == 1


def test_instance_termination_timeout_overrides_decommission_timeout(emulator: Emulator, fake: FakeCluster) -> None:
    """The per-instance InstanceTerminationTimeout wins over the group-wide DecommissionTimeout."""
    emr_client(emulator.emr_url).modify_instance_groups(
        InstanceGroups=[
            {
                "InstanceGroupId": "ig-task",
                "InstanceCount": 2,
                "ShrinkPolicy": {
                    "DecommissionTimeout": 600,
                    "InstanceResizePolicy": {"InstanceTerminationTimeout": 60},
                },
            }
        ]
    )
    assert fake.modify_calls[0][2]["decommission_timeout_s"] == 60


def test_modify_instance_fleet_sets_targets() -> None:
    """ModifyInstanceFleet reaches the cluster with the absolute targets given; the fleet then shows them."""
    fake = FakeCluster(fleet_snapshot())
    with Emulator(fake, time_scale=0) as emu:
        client = emr_client(emu.emr_url)
        client.modify_instance_fleet(
            ClusterId="j-TEST", InstanceFleet={"InstanceFleetId": "if-task", "TargetSpotCapacity": 8}
        )
        fleets = client.list_instance_fleets(ClusterId="j-TEST")["InstanceFleets"]
    assert fake.modify_calls == [("fleet", "if-task", {"target_on_demand": None, "target_spot": 8})]
    task = next(f for f in fleets if f["Id"] == "if-task")
    assert (task["TargetOnDemandCapacity"], task["TargetSpotCapacity"]) == (1, 8)


@pytest.mark.parametrize(
    ("group", "code"),
    [
        ({"InstanceGroupId": "ig-task"}, "ValidationException"),  # no InstanceCount
        ({"InstanceGroupId": "ig-task", "InstanceCount": "3"}, "ValidationException"),  # wrong type
        ({"InstanceGroupId": "ig-task", "InstanceCount": -1}, "ValidationException"),
        ({"InstanceCount": 3}, "ValidationException"),  # no InstanceGroupId
        ({"InstanceGroupId": "ig-task", "InstanceCount": 3, "ShrinkPolicy": {"DecommissionTimeout": "1h"}},
         "ValidationException"),
        ({"InstanceGroupId": "ig-nope", "InstanceCount": 3}, "InvalidRequestException"),
        ({"InstanceGroupId": "ig-master", "InstanceCount": 2}, "InvalidRequestException"),
        ({"InstanceGroupId": "ig-task", "InstanceCount": 1, "EC2InstanceIdsToTerminate": ["i-task2"]},
         "InvalidRequestException"),
    ],
)  # fmt: skip
def test_invalid_modify_is_refused_with_an_aws_error(
    emulator: Emulator, fake: FakeCluster, group: dict[str, object], code: str
) -> None:
    """A malformed or impossible ModifyInstanceGroups is a ClientError with the AWS code, and changes nothing."""
    client = emr_client(emulator.emr_url, validate=False)
    with pytest.raises(ClientError) as err:
        client.modify_instance_groups(ClusterId="j-TEST", InstanceGroups=[group])
    assert _code(err) == code
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert fake.modify_calls == []


def test_missing_cluster_id_and_unknown_cluster_are_refused(emulator: Emulator) -> None:
    """A read without ClusterId is a ValidationException; an unknown cluster is an InvalidRequestException."""
    client = emr_client(emulator.emr_url, validate=False)
    with pytest.raises(ClientError) as missing:
        client.list_instances()
    with pytest.raises(ClientError) as unknown:
        client.describe_cluster(ClusterId="j-OTHER")
    assert _code(missing) == "ValidationException"
    assert "ClusterId" in missing.value.response["Error"]["Message"]
    assert _code(unknown) == "InvalidRequestException"


def test_cluster_refusal_becomes_invalid_request(emulator: Emulator, fake: FakeCluster) -> None:
    """When the cluster model refuses a change, boto3 sees InvalidRequestException with its message."""
    fake.next_error = ValueError("instance group ig-task is RESIZING")
    with pytest.raises(ClientError) as err:
        emr_client(emulator.emr_url).modify_instance_groups(
            InstanceGroups=[{"InstanceGroupId": "ig-task", "InstanceCount": 5}]
        )
    assert _code(err) == "InvalidRequestException"
    assert "RESIZING" in err.value.response["Error"]["Message"]


def test_operations_not_emulated_are_unknown(emulator: Emulator) -> None:
    """A real EMR operation the emulator does not serve answers UnknownOperationException."""
    with pytest.raises(ClientError) as err:
        emr_client(emulator.emr_url).list_steps(ClusterId="j-TEST")
    assert _code(err) == "UnknownOperationException"


def _raw(url: str, operation: str, body: bytes) -> tuple[int, dict[str, object]]:
    resp = requests.post(
        url,
        data=body,
        headers={"X-Amz-Target": f"ElasticMapReduce.{operation}", "Content-Type": "application/x-amz-json-1.1"},
        timeout=5,
    )
    return resp.status_code, json.loads(resp.content)


def test_malformed_json_is_a_serialization_error(emulator: Emulator) -> None:
    """A body that is not JSON gets HTTP 400 with the AWS JSON error shape."""
    assert _raw(emulator.emr_url, "ListInstances", b"{not json") == (
        400,
        {"__type": "SerializationException", "message": "Request body is not valid JSON"},
    )


def test_unknown_parameter_is_a_validation_error(emulator: Emulator, fake: FakeCluster) -> None:
    """A parameter EMR's model does not define (which boto3 cannot even send) is a ValidationException."""
    body = {"InstanceGroups": [{"InstanceGroupId": "ig-task", "InstanceCount": 3, "Colour": "red"}]}
    status, error = _raw(emulator.emr_url, "ModifyInstanceGroups", json.dumps(body).encode())
    assert (status, error["__type"]) == (400, "ValidationException")
    assert "Colour" in str(error["message"])
    assert fake.modify_calls == []


def test_boto3_finds_the_emulator_through_aws_endpoint_url_emr(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client made with no endpoint_url reaches the emulator when AWS_ENDPOINT_URL_EMR names it."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_EMR", emulator.emr_url)
    client = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client("emr")
    assert client.describe_cluster(ClusterId="j-TEST")["Cluster"]["Id"] == "j-TEST"


def test_spot_market_instances_keep_their_market(emulator: Emulator) -> None:
    """Each instance reports the market it was bought on."""
    instances = emr_client(emulator.emr_url).list_instances(ClusterId="j-TEST")["Instances"]
    markets = {i["Ec2InstanceId"]: i["Market"] for i in instances}
    assert markets["i-task1"] == Market.SPOT.value
    assert markets["i-core1"] == Market.ON_DEMAND.value
    states = {i["Ec2InstanceId"]: i["Status"]["State"] for i in instances}
    assert states["i-task3"] == InstanceState.PROVISIONING.value


def test_a_cluster_model_crash_is_an_internal_error(emulator: Emulator, fake: FakeCluster) -> None:
    """An unexpected failure inside the model is HTTP 500 InternalServerError, and the endpoint keeps serving."""
    fake.next_error = RuntimeError("model bug")
    client = emr_client(emulator.emr_url)
    with pytest.raises(ClientError) as err:
        client.modify_instance_groups(InstanceGroups=[{"InstanceGroupId": "ig-task", "InstanceCount": 5}])
    assert _code(err) == "InternalServerError"
    assert client.describe_cluster(ClusterId="j-TEST")["Cluster"]["Id"] == "j-TEST"
