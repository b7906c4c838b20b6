"""Snapshot pieces rendered as EMR API response structures (timestamps as epoch seconds).

Shapes are botocore's EMR output shapes (InstanceGroup, InstanceFleet, Instance, Cluster); the
tests parse them with a real boto3 client, which checks types on the way in.
"""

from __future__ import annotations

from typing import Any, Final

from autoscaler.model import (
    CapacityPool,
    ClusterSnapshot,
    InstanceInfo,
    InstanceState,
    Market,
    PoolKind,
    PoolRole,
    PoolState,
)

RELEASE_LABEL: Final = "emr-7.2.0"

# Instance groups have three states fleets lack; show a fleet the nearest fleet state.
_FLEET_STATE: Final = {
    PoolState.ARRESTED: "SUSPENDED",
    PoolState.SHUTTING_DOWN: "TERMINATING",
    PoolState.ENDED: "TERMINATED",
}


def _status(state: str, created_at: float, message: str = "") -> dict[str, Any]:
    return {"State": state, "StateChangeReason": {"Message": message}, "Timeline": {"CreationDateTime": created_at}}


def render_instance_group(pool: CapacityPool, created_at: float) -> dict[str, Any]:
    option = pool.options[0]
    market = pool.market or Market.ON_DEMAND
    out: dict[str, Any] = {
        "Id": pool.pool_id,
        "Name": pool.name,
        "Market": market.value,
        "InstanceGroupType": pool.role.value,
        "InstanceType": option.instance_type,
        "RequestedInstanceCount": pool.requested.get(market),
        "RunningInstanceCount": pool.running.get(market),
        "Status": _status(pool.state.value, created_at),
        "Configurations": [],
        "EbsBlockDevices": [],
        "ShrinkPolicy": {},
    }
    if option.bid_price_usd is not None and market is Market.SPOT:
        out["BidPrice"] = f"{option.bid_price_usd:.3f}"
    if pool.has_autoscaling_policy:
        out["AutoScalingPolicy"] = {
            "Status": {"State": "ATTACHED", "StateChangeReason": {"Message": ""}},
            "Constraints": {"MinCapacity": 0, "MaxCapacity": max(pool.requested.total, 1)},
            "Rules": [],
        }
    return out


def render_instance_fleet(pool: CapacityPool, created_at: float) -> dict[str, Any]:
    specs = []
    for option in pool.options:
        spec: dict[str, Any] = {"InstanceType": option.instance_type, "WeightedCapacity": option.weight}
        if option.bid_price_usd is not None:
            spec["BidPrice"] = f"{option.bid_price_usd:.3f}"
        specs.append(spec)
    return {
        "Id": pool.pool_id,
        "Name": pool.name,
        "Status": _status(_FLEET_STATE.get(pool.state, pool.state.value), created_at),
        "InstanceFleetType": pool.role.value,
        "TargetOnDemandCapacity": pool.requested.on_demand,
        "TargetSpotCapacity": pool.requested.spot,
        "ProvisionedOnDemandCapacity": pool.running.on_demand,
        "ProvisionedSpotCapacity": pool.running.spot,
        "InstanceTypeSpecifications": specs,
    }


def emr_instance_id(ec2_id: str) -> str:
    """EMR's own instance id ("ci-..."), distinct from the EC2 id ShrinkPolicy takes."""
    return "ci-" + ec2_id.removeprefix("i-").upper()


def _private_ip(ec2_id: str) -> str:
    n = sum(ord(c) * (i + 1) for i, c in enumerate(ec2_id))
    return f"10.0.{(n >> 8) % 256}.{n % 256}"


def render_instance(instance: InstanceInfo, pool: CapacityPool) -> dict[str, Any]:
    timeline: dict[str, Any] = {}
    if instance.launched_at is not None:
        timeline["CreationDateTime"] = instance.launched_at
    out: dict[str, Any] = {
        "Id": emr_instance_id(instance.instance_id),
        "Ec2InstanceId": instance.instance_id,
        "PrivateIpAddress": _private_ip(instance.instance_id),
        "Status": {"State": instance.state.value, "StateChangeReason": {}, "Timeline": timeline},
        "Market": instance.market.value,
        "InstanceType": instance.instance_type,
        "EbsVolumes": [],
    }
    if instance.private_dns:
        out["PrivateDnsName"] = instance.private_dns
    if pool.kind is PoolKind.INSTANCE_FLEET:
        out["InstanceFleetId"] = pool.pool_id
    else:
        out["InstanceGroupId"] = pool.pool_id
    return out


def render_cluster(snapshot: ClusterSnapshot, created_at: float) -> dict[str, Any]:
    fleets = any(p.is_fleet for p in snapshot.pools)
    master_pools = {p.pool_id for p in snapshot.pools if p.role is PoolRole.MASTER}
    master_dns = next(
        (
            i.private_dns
            for i in snapshot.instances
            if i.pool_id in master_pools and i.private_dns and i.state is InstanceState.RUNNING
        ),
        None,
    )
    out: dict[str, Any] = {
        "Id": snapshot.cluster_id,
        "Name": f"emulated {snapshot.cluster_id}",
        "Status": _status(snapshot.cluster_state, created_at),
        "InstanceCollectionType": "INSTANCE_FLEET" if fleets else "INSTANCE_GROUP",
        "ReleaseLabel": RELEASE_LABEL,
        "Applications": [{"Name": "Hadoop", "Version": "3.3.6"}, {"Name": "Spark", "Version": "3.5.1"}],
        "AutoTerminate": False,
        "TerminationProtected": False,
        "VisibleToAllUsers": True,
        "ScaleDownBehavior": "TERMINATE_AT_TASK_COMPLETION",
        "Tags": [],
    }
    if master_dns:
        out["MasterPublicDnsName"] = master_dns
    return out


def render_managed_scaling_policy(snapshot: ClusterSnapshot) -> dict[str, Any] | None:
    """A managed scaling policy when the snapshot says one is attached (the daemon must refuse then)."""
    if not snapshot.managed_scaling_enabled:
        return None
    total = sum(p.requested.total for p in snapshot.pools)
    unit = "InstanceFleetUnits" if any(p.is_fleet for p in snapshot.pools) else "Instances"
    return {
        "ComputeLimits": {
            "UnitType": unit,
            "MinimumCapacityUnits": 1,
            "MaximumCapacityUnits": max(total, 1) * 2,
        }
    }
