"""The AWS surface we use, typed: exactly the EMR, EC2, CloudWatch, SQS and DynamoDB calls the sources,
the actuator and the lease table make, with the request keywords we send and the response fields we read.

Why: with `Any` clients and method names as strings, mypy could not see the AWS surface, and a fake
could not be checked against it. A boto3 client satisfies these Protocols structurally (botocore's
own types are `Any` to mypy); `autoscaler.testing.FakeEmr` implements `EmrPort` and mypy checks it.
Responses are `total=False` TypedDicts: AWS may leave any field out, and the readers treat a missing
field as unknown, never as zero. Pagination is by `Marker`/`NextToken`, followed by the caller.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, TypedDict

# -- EMR ------------------------------------------------------------------------------------------


class Status(TypedDict, total=False):
    State: str
    Timeline: dict[str, datetime]  # CreationDateTime, ...


class Tag(TypedDict, total=False):
    Key: str
    Value: str


class Cluster(TypedDict, total=False):
    Id: str
    Name: str
    Status: Status
    InstanceCollectionType: str  # INSTANCE_GROUP | INSTANCE_FLEET
    MasterPublicDnsName: str  # the private DNS name when the cluster is in a private subnet
    Tags: list[Tag]


class ClusterSummary(TypedDict, total=False):
    Id: str
    Name: str
    Status: Status


class ListClustersOutput(TypedDict, total=False):
    Clusters: list[ClusterSummary]
    Marker: str


class DescribeClusterOutput(TypedDict, total=False):
    Cluster: Cluster


class AutoScalingPolicyDescription(TypedDict, total=False):
    Status: Status
    Rules: list[dict[str, Any]]


class InstanceGroup(TypedDict, total=False):
    Id: str
    Name: str
    Market: str
    InstanceGroupType: str
    InstanceType: str
    BidPrice: str
    RequestedInstanceCount: int
    RunningInstanceCount: int
    Status: Status
    AutoScalingPolicy: AutoScalingPolicyDescription


class InstanceTypeSpecification(TypedDict, total=False):
    InstanceType: str
    WeightedCapacity: int
    BidPrice: str


class InstanceFleet(TypedDict, total=False):
    Id: str
    Name: str
    InstanceFleetType: str
    Status: Status
    TargetOnDemandCapacity: int
    TargetSpotCapacity: int
    ProvisionedOnDemandCapacity: int
    ProvisionedSpotCapacity: int
    InstanceTypeSpecifications: list[InstanceTypeSpecification]


class Instance(TypedDict, total=False):
    Id: str
    Ec2InstanceId: str
    PrivateDnsName: str
    InstanceGroupId: str
    InstanceFleetId: str
    InstanceType: str
    Market: str
    Status: Status


class ListInstanceGroupsOutput(TypedDict, total=False):
    InstanceGroups: list[InstanceGroup]
    Marker: str


class ListInstanceFleetsOutput(TypedDict, total=False):
    InstanceFleets: list[InstanceFleet]
    Marker: str


class ListInstancesOutput(TypedDict, total=False):
    Instances: list[Instance]
    Marker: str


class GetManagedScalingPolicyOutput(TypedDict, total=False):
    ManagedScalingPolicy: dict[str, Any]


class InstanceResizePolicy(TypedDict, total=False):
    InstancesToTerminate: list[str]
    InstancesToProtect: list[str]
    InstanceTerminationTimeout: int


class ShrinkPolicy(TypedDict, total=False):
    DecommissionTimeout: int
    InstanceResizePolicy: InstanceResizePolicy


class _InstanceGroupModifyRequired(TypedDict):
    InstanceGroupId: str
    InstanceCount: int


class InstanceGroupModifyConfig(_InstanceGroupModifyRequired, total=False):
    ShrinkPolicy: ShrinkPolicy


class InstanceFleetModifyConfig(TypedDict):
    InstanceFleetId: str
    TargetOnDemandCapacity: int
    TargetSpotCapacity: int


class ModifyInstanceGroupsInput(TypedDict):
    ClusterId: str
    InstanceGroups: list[InstanceGroupModifyConfig]


class ModifyInstanceFleetInput(TypedDict):
    ClusterId: str
    InstanceFleet: InstanceFleetModifyConfig


class EmrPort(Protocol):
    """Read: DescribeCluster, ListInstanceGroups | ListInstanceFleets, ListInstances,
    GetManagedScalingPolicy. Write: ModifyInstanceGroups | ModifyInstanceFleet. Nothing else."""

    def describe_cluster(self, *, ClusterId: str) -> DescribeClusterOutput: ...

    def list_instance_groups(self, *, ClusterId: str, Marker: str = ...) -> ListInstanceGroupsOutput: ...

    def list_instance_fleets(self, *, ClusterId: str, Marker: str = ...) -> ListInstanceFleetsOutput: ...

    def list_instances(
        self, *, ClusterId: str, InstanceStates: list[str] = ..., Marker: str = ...
    ) -> ListInstancesOutput: ...

    def get_managed_scaling_policy(self, *, ClusterId: str) -> GetManagedScalingPolicyOutput: ...

    def modify_instance_groups(
        self, *, ClusterId: str, InstanceGroups: list[InstanceGroupModifyConfig]
    ) -> dict[str, Any]: ...

    def modify_instance_fleet(self, *, ClusterId: str, InstanceFleet: InstanceFleetModifyConfig) -> dict[str, Any]: ...


class EmrDiscoveryPort(Protocol):
    """Discovery (`autoscaler.discovery`): ListClusters in the active states, DescribeCluster for tags and
    the master's DNS name. Read only."""

    def list_clusters(self, *, ClusterStates: list[str], Marker: str = ...) -> ListClustersOutput: ...

    def describe_cluster(self, *, ClusterId: str) -> DescribeClusterOutput: ...


# -- EC2, CloudWatch, SQS -------------------------------------------------------------------------


class SpotPrice(TypedDict, total=False):
    InstanceType: str
    AvailabilityZone: str
    ProductDescription: str
    SpotPrice: str
    Timestamp: datetime


class DescribeSpotPriceHistoryOutput(TypedDict, total=False):
    SpotPriceHistory: list[SpotPrice]
    NextToken: str


class Ec2Port(Protocol):
    def describe_spot_price_history(
        self,
        *,
        InstanceTypes: list[str],
        ProductDescriptions: list[str],
        StartTime: datetime,
        EndTime: datetime,
        NextToken: str = ...,
    ) -> DescribeSpotPriceHistoryOutput: ...


class MetricDataResult(TypedDict, total=False):
    Id: str
    Label: str
    Timestamps: list[datetime]
    Values: list[float]


class GetMetricDataOutput(TypedDict, total=False):
    MetricDataResults: list[MetricDataResult]
    NextToken: str


class CloudWatchPort(Protocol):
    def get_metric_data(
        self,
        *,
        MetricDataQueries: list[dict[str, Any]],
        StartTime: datetime,
        EndTime: datetime,
        ScanBy: str,
        NextToken: str = ...,
    ) -> GetMetricDataOutput: ...


class Message(TypedDict, total=False):
    MessageId: str
    ReceiptHandle: str
    Body: str


class ReceiveMessageOutput(TypedDict, total=False):
    Messages: list[Message]


class DeleteMessageBatchEntry(TypedDict):
    Id: str
    ReceiptHandle: str


class SqsPort(Protocol):
    def receive_message(
        self, *, QueueUrl: str, MaxNumberOfMessages: int, WaitTimeSeconds: int, VisibilityTimeout: int
    ) -> ReceiveMessageOutput: ...

    def delete_message_batch(self, *, QueueUrl: str, Entries: list[DeleteMessageBatchEntry]) -> dict[str, Any]: ...


# -- DynamoDB (the lease table: autoscaler/lease.py) ------------------------------------------------

AttributeValue = dict[str, Any]
"""DynamoDB's typed value: {"S": str} | {"N": str} | {"M": {name: AttributeValue}}."""
Item = dict[str, AttributeValue]


class UpdateItemOutput(TypedDict, total=False):
    Attributes: Item


class GetItemOutput(TypedDict, total=False):
    Item: Item


class DynamoDbPort(Protocol):
    """Conditional UpdateItem and PutItem, consistent GetItem on one table. Nothing else (no Scan)."""

    def update_item(
        self,
        *,
        TableName: str,
        Key: Item,
        UpdateExpression: str,
        ConditionExpression: str,
        ExpressionAttributeNames: dict[str, str],
        ExpressionAttributeValues: Item,
        ReturnValues: str,
    ) -> UpdateItemOutput: ...

    def put_item(self, *, TableName: str, Item: Item, ConditionExpression: str) -> dict[str, Any]: ...

    def get_item(self, *, TableName: str, Key: Item, ConsistentRead: bool) -> GetItemOutput: ...
