"""Builders and fakes for tests, shipped with the package so policy authors can test their plugins.

Every builder is a plain keyword-argument function with defaults that describe a small, healthy
cluster (one Spot task group of m5.xlarge nodes, YARN 12 GB / 4 vcores each), so a test states only
what matters to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final

from autoscaler.config import ClusterConfig
from autoscaler.model import (
    AppInfo,
    Capacity,
    CapacityPool,
    ClusterSnapshot,
    InstanceInfo,
    InstanceOption,
    InstanceState,
    InterruptionNotice,
    Market,
    MetricSample,
    NodeInfo,
    NodeState,
    PoolKind,
    PoolRole,
    PoolState,
    PriceQuote,
    Resources,
    SourceStatus,
    YarnMetrics,
)

# -- fakes (EMR, YARN RM, clock, logger, actuator, test policy) live in their own modules, re-exported here --
from autoscaler.sources.interruptions import INTERRUPTION, REBALANCE
from autoscaler.testing_emr import EmrCall, EmrFault, FakeEmr, FakePool  # noqa: F401
from autoscaler.testing_fakes import (  # noqa: F401
    FakeClock,
    ListLogger,
    RecordingActuator,
    Wants,
    free_port,
    metric_value,
)
from autoscaler.testing_yarn import FakeYarn, YarnCall, YarnFault, make_app, yarn_from_nodes  # noqa: F401

T0: Final = 1_700_000_000.0
"""Default `taken_at`: a fixed instant, so tests never depend on the clock."""

M5_XLARGE_YARN: Final = Resources(12288, 4)


class _Default:
    """Marks "not given" where None is a meaningful value (e.g. `yarn=None` = YARN unreachable)."""


_DEFAULT: Final = _Default()


def _units(value: int | Capacity, market: Market) -> Capacity:
    return value if isinstance(value, Capacity) else Capacity().with_market(market, value)


def make_pool(
    pool_id: str = "ig-task",
    *,
    role: PoolRole = PoolRole.TASK,
    kind: PoolKind = PoolKind.INSTANCE_GROUP,
    market: Market = Market.SPOT,
    requested: int | Capacity = 2,
    running: int | Capacity | None = None,
    provisioning: int | Capacity | None = None,
    decommissioning: int | Capacity = 0,
    instance_type: str = "m5.xlarge",
    yarn: Resources = M5_XLARGE_YARN,
    state: PoolState = PoolState.RUNNING,
    weight: int = 1,
    options: tuple[InstanceOption, ...] | None = None,
    name: str | None = None,
    has_autoscaling_policy: bool = False,
) -> CapacityPool:
    """A pool; integer unit counts go on the `market` side (for fleets too, whose `market` is None).

    `running` defaults to `requested`; `provisioning` defaults to what is requested but not running.
    """
    req = _units(requested, market)
    run = req if running is None else _units(running, market)
    if provisioning is None:
        prov = Capacity(max(req.on_demand - run.on_demand, 0), max(req.spot - run.spot, 0))
    else:
        prov = _units(provisioning, market)
    return CapacityPool(
        pool_id=pool_id,
        name=name or f"{role.value.lower()}-{pool_id}",
        kind=kind,
        role=role,
        state=state,
        requested=req,
        running=run,
        options=options or (InstanceOption(instance_type, yarn, weight),),
        market=None if kind is PoolKind.INSTANCE_FLEET else market,
        provisioning=prov,
        decommissioning=_units(decommissioning, market),
        has_autoscaling_policy=has_autoscaling_policy,
    )


def make_node(
    host: str,
    pool_id: str = "ig-task",
    instance_id: str | None = None,
    *,
    containers: int = 0,
    used: Resources | None = None,
    available: Resources | None = None,
    state: NodeState = NodeState.RUNNING,
    market: Market | None = Market.SPOT,
    hosts_am: bool = False,
    capacity: Resources = M5_XLARGE_YARN,
    last_health_update_s: float | None = None,
) -> NodeInfo:
    """A YARN node; `used` defaults to 1 GB / 1 vcore per container, `available` to the rest of `capacity`."""
    if used is None:
        used = Resources(containers * 1024, containers)
    if available is None:
        available = Resources(max(capacity.memory_mb - used.memory_mb, 0), max(capacity.vcores - used.vcores, 0))
    return NodeInfo(
        host=host,
        state=state,
        num_containers=containers,
        used=used,
        available=available,
        last_health_update_s=last_health_update_s,
        instance_id=instance_id if instance_id is not None else f"i-{host}",
        pool_id=pool_id,
        market=market,
        hosts_am=hosts_am,
    )


def make_instance(
    instance_id: str,
    pool_id: str = "ig-task",
    *,
    instance_type: str = "m5.xlarge",
    market: Market = Market.SPOT,
    state: InstanceState = InstanceState.RUNNING,
    private_dns: str | None = None,
    launched_at: float | None = T0 - 3600,
    weight: int = 1,
) -> InstanceInfo:
    """An EMR instance, launched an hour before `T0` unless told otherwise."""
    return InstanceInfo(
        instance_id=instance_id,
        pool_id=pool_id,
        instance_type=instance_type,
        market=market,
        state=state,
        private_dns=private_dns,
        launched_at=launched_at,
        weight=weight,
    )


def make_snapshot(
    *,
    pools: Iterable[CapacityPool] | None = None,
    nodes: Iterable[NodeInfo] = (),
    yarn: YarnMetrics | _Default | None = _DEFAULT,
    apps: Iterable[AppInfo] = (),
    instances: Iterable[InstanceInfo] = (),
    taken_at: float = T0,
    prices: Iterable[PriceQuote] = (),
    sources: Iterable[SourceStatus] = (),
    cluster_id: str = "j-TEST",
    cluster_state: str = "WAITING",
    managed_scaling_enabled: bool = False,
    interruptions: Iterable[InterruptionNotice] = (),
    cloudwatch: Mapping[str, float] | None = None,
) -> ClusterSnapshot:
    """A snapshot; `pools` defaults to one task group, `yarn` to metrics derived from `nodes`.

    Pass `yarn=None` for "YARN unreachable" (a stale snapshot).
    """
    node_tuple = tuple(nodes)
    return ClusterSnapshot(
        cluster_id=cluster_id,
        taken_at=taken_at,
        cluster_state=cluster_state,
        yarn=yarn_from_nodes(node_tuple) if isinstance(yarn, _Default) else yarn,
        nodes=node_tuple,
        apps=tuple(apps),
        pools=(make_pool(),) if pools is None else tuple(pools),
        instances=tuple(instances),
        prices=tuple(prices),
        interruptions=tuple(interruptions),
        cloudwatch=MappingProxyType(dict(cloudwatch or {})),
        sources=tuple(sources),
        managed_scaling_enabled=managed_scaling_enabled,
    )


def make_cluster_config(**overrides: Any) -> ClusterConfig:
    """A valid cluster config with one `static` policy; nested sections may be given as dicts."""
    data: dict[str, Any] = {
        "cluster_id": "j-TEST",
        "yarn": {"urls": ["http://127.0.0.1:8088"]},
        "policies": [{"type": "static", "options": {}}],
    }
    data.update(overrides)
    return ClusterConfig.model_validate(data)


def sample(at: float, **yarn: int | None) -> MetricSample:
    """One metric history point, e.g. `sample(T0 - 60, pending_mb=4096, available_mb=0)`."""
    return MetricSample(at, YarnMetrics(**yarn))


def create_emr_cluster(
    emr: Any,
    *,
    core: int = 2,
    task: int = 3,
    task_market: str = "SPOT",
    instance_type: str = "m5.xlarge",
    task_instance_type: str | None = None,
    bid_price: str | None = "0.2",
    name: str = "test",
) -> str:
    """A WAITING cluster of instance groups "master" (1), "core" and "task"; returns its id.

    `emr` is a boto3 EMR client pointed at moto (`mock_aws()` or a moto server), so this module
    needs no boto3. `bid_price` applies to a Spot task group only (None: no BidPrice, i.e. capped at
    the on-demand price). Moto has no instance fleets: test those with botocore's Stubber.
    """
    task_group = _emr_group("TASK", task, task_instance_type or instance_type, task_market)
    if bid_price is not None and task_market == "SPOT":
        task_group["BidPrice"] = bid_price
    groups = [_emr_group("MASTER", 1, instance_type), _emr_group("CORE", core, instance_type), task_group]
    response = emr.run_job_flow(
        Name=name,
        ReleaseLabel="emr-6.15.0",
        Instances={"InstanceGroups": groups, "KeepJobFlowAliveWhenNoSteps": True},
        JobFlowRole="EMR_EC2_DefaultRole",
        ServiceRole="EMR_DefaultRole",
    )
    return str(response["JobFlowId"])


def _emr_group(role: str, count: int, instance_type: str, market: str = "ON_DEMAND") -> dict[str, Any]:
    return {
        "Name": role.lower(),
        "Market": market,
        "InstanceRole": role,
        "InstanceType": instance_type,
        "InstanceCount": count,
    }


def emr_autoscaling_policy(min_capacity: int = 1, max_capacity: int = 5) -> dict[str, Any]:
    """An EMR automatic scaling policy (the console's +1 below 15 % YARN memory rule), for
    PutAutoScalingPolicy in tests of "refuse next to EMR's own scaler"."""
    rule = {
        "Name": "up",
        "Action": {"SimpleScalingPolicyConfiguration": {"ScalingAdjustment": 1}},
        "Trigger": {
            "CloudWatchAlarmDefinition": {
                "ComparisonOperator": "LESS_THAN",
                "MetricName": "YARNMemoryAvailablePercentage",
                "Period": 300,
                "Threshold": 15,
            }
        },
    }
    return {"Constraints": {"MinCapacity": min_capacity, "MaxCapacity": max_capacity}, "Rules": [rule]}


def create_lease_table(dynamodb_client: Any, name: str = "emr-autoscaler-leases") -> str:
    """The HA lease table as deploy/dynamodb/lease-table.yaml defines it (a deploy test keeps them equal)."""
    dynamodb_client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "cluster_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "cluster_id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def spot_notice_body(instance_id: str, at: float, *, rebalance: bool = False, action: str = "terminate") -> str:
    """The SQS message body the EventBridge rule of deploy/cloudformation/spot-interruptions.yaml sends:
    a two-minute warning (or a rebalance recommendation) for `instance_id`, stamped `at` (epoch s)."""
    when = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    detail = {"instance-id": instance_id} if rebalance else {"instance-id": instance_id, "instance-action": action}
    kind = REBALANCE if rebalance else INTERRUPTION
    return json.dumps({"detail-type": kind, "source": "aws.ec2", "time": when, "detail": detail})


def send_spot_notices(sqs_client: Any, queue_url: str, instance_ids: Iterable[str], at: float) -> int:
    """Put a two-minute warning for each instance on the queue (an interruption storm, for many); returns
    how many were sent. Batches of 10, as SendMessageBatch allows."""
    ids = list(instance_ids)
    for start in range(0, len(ids), 10):
        entries = [
            {"Id": str(k), "MessageBody": spot_notice_body(iid, at)} for k, iid in enumerate(ids[start : start + 10])
        ]
        sqs_client.send_message_batch(QueueUrl=queue_url, Entries=entries)
    return len(ids)
