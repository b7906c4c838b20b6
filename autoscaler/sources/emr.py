"""EMR API reader: the cluster's pools (instance groups or fleets), their instances, and whether
EMR's own scaling (managed scaling, automatic scaling policies) is active on them.

Read-only: DescribeCluster, ListInstanceGroups | ListInstanceFleets, ListInstances,
GetManagedScalingPolicy, through the typed `ports.EmrPort` (a boto3 client made by
`autoscaler.aws.make_client`, or `testing.FakeEmr`). Whether EMR's own scaling is on is never
guessed: an error reading it fails the read (stale snapshot, no resize), never "off".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from autoscaler.instance_types import yarn_resources
from autoscaler.model import (
    Capacity,
    CapacityPool,
    InstanceInfo,
    InstanceOption,
    InstanceState,
    Market,
    PoolKind,
    PoolRole,
    PoolState,
)
from autoscaler.ports import EmrPort, Instance, InstanceFleet, InstanceGroup
from autoscaler.sources import SourceError

#: Instances still billed or about to be; terminated ones are history.
LIVE_INSTANCE_STATES = ("AWAITING_FULFILLMENT", "PROVISIONING", "BOOTSTRAPPING", "RUNNING")


@dataclass(frozen=True, slots=True)
class EmrState:
    cluster_state: str
    pools: tuple[CapacityPool, ...]
    instances: tuple[InstanceInfo, ...]
    managed_scaling_enabled: bool
    notes: tuple[str, ...] = ()  # things worth logging that did not make the read fail


def _epoch(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    return None


def _enum(kind: type[Any], value: Any, where: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise SourceError(f"emr {where}: unexpected value {value!r}") from None


def _options(specs: Iterable[tuple[str, int, float | None]], notes: list[str]) -> tuple[InstanceOption, ...]:
    out = []
    for itype, weight, bid in specs:
        try:
            yarn = yarn_resources(itype)
        except KeyError as err:
            notes.append(f"instance type {itype}: {err}; left out of the pool's options")
            continue
        out.append(InstanceOption(itype, yarn, weight, bid))
    return tuple(out)


def _bid(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "", "OnDemandPrice") else None
    except (TypeError, ValueError):
        return None


def autoscaling_policy_active(group: Mapping[str, Any]) -> bool:
    """Whether an instance group (as ListInstanceGroups returns it) has an automatic scaling policy
    EMR may still act on. A DETACHED or DETACHING policy is on its way out after
    RemoveAutoScalingPolicy; the snapshot and the actuator's re-read must agree on this."""
    policy = group.get("AutoScalingPolicy") or {}
    return bool(policy) and (policy.get("Status") or {}).get("State") not in ("DETACHED", "DETACHING")


def _group(g: Mapping[str, Any], notes: list[str]) -> CapacityPool:
    gid = g["Id"]
    market = _enum(Market, g.get("Market", "ON_DEMAND"), f"instance group {gid} Market")
    requested = int(g.get("RequestedInstanceCount", 0))
    running = int(g.get("RunningInstanceCount", 0))
    return CapacityPool(
        pool_id=gid,
        name=g.get("Name") or gid,
        kind=PoolKind.INSTANCE_GROUP,
        role=_enum(PoolRole, g.get("InstanceGroupType"), f"instance group {gid} InstanceGroupType"),
        state=_enum(PoolState, (g.get("Status") or {}).get("State"), f"instance group {gid} Status.State"),
        requested=Capacity().with_market(market, requested),
        running=Capacity().with_market(market, running),
        provisioning=Capacity().with_market(market, max(requested - running, 0)),
        decommissioning=Capacity().with_market(market, max(running - requested, 0)),
        options=_options([(g["InstanceType"], 1, _bid(g.get("BidPrice")))], notes),
        market=market,
        has_autoscaling_policy=autoscaling_policy_active(g),
    )


def _fleet(f: Mapping[str, Any], notes: list[str]) -> CapacityPool:
    fid = f["Id"]
    target = Capacity(int(f.get("TargetOnDemandCapacity", 0)), int(f.get("TargetSpotCapacity", 0)))
    provisioned = Capacity(int(f.get("ProvisionedOnDemandCapacity", 0)), int(f.get("ProvisionedSpotCapacity", 0)))
    specs = [
        (s["InstanceType"], int(s.get("WeightedCapacity", 1)), _bid(s.get("BidPrice")))
        for s in f.get("InstanceTypeSpecifications", [])
    ]
    return CapacityPool(
        pool_id=fid,
        name=f.get("Name") or fid,
        kind=PoolKind.INSTANCE_FLEET,
        role=_enum(PoolRole, f.get("InstanceFleetType"), f"instance fleet {fid} InstanceFleetType"),
        state=_enum(PoolState, (f.get("Status") or {}).get("State"), f"instance fleet {fid} Status.State"),
        requested=target,
        running=provisioned,
        provisioning=Capacity(max(target.on_demand - provisioned.on_demand, 0), max(target.spot - provisioned.spot, 0)),
        decommissioning=Capacity(
            max(provisioned.on_demand - target.on_demand, 0), max(provisioned.spot - target.spot, 0)
        ),
        options=_options(specs, notes),
    )


def pool_from_emr(item: Mapping[str, Any], kind: PoolKind) -> CapacityPool:
    """One ListInstanceGroups / ListInstanceFleets entry as a pool, read exactly as the snapshot reads
    it (so the actuator's re-read compares like with like); `SourceError` when a field is unreadable."""
    try:
        return _fleet(item, []) if kind is PoolKind.INSTANCE_FLEET else _group(item, [])
    except (KeyError, TypeError, ValueError) as err:
        raise SourceError(f"emr pool {item.get('Id')}: malformed: {type(err).__name__}: {err}") from err


def _instance(i: Mapping[str, Any], weights: Mapping[tuple[str, str], int]) -> InstanceInfo | None:
    status = i.get("Status") or {}
    state = status.get("State")
    if state not in LIVE_INSTANCE_STATES:
        return None
    pool_id = i.get("InstanceGroupId") or i.get("InstanceFleetId") or ""
    itype = i.get("InstanceType", "")
    return InstanceInfo(
        instance_id=i.get("Ec2InstanceId") or i["Id"],
        pool_id=pool_id,
        instance_type=itype,
        market=_enum(Market, i.get("Market", "ON_DEMAND"), f"instance {i.get('Id')} Market"),
        state=InstanceState(state),
        private_dns=i.get("PrivateDnsName") or None,
        launched_at=_epoch((status.get("Timeline") or {}).get("CreationDateTime")),
        weight=weights.get((pool_id, itype), 1),
    )


@contextmanager
def _as_source_error(operation: str) -> Iterator[None]:
    """An AWS failure of `operation` as the SourceError that marks the snapshot stale, call named."""
    try:
        yield
    except ClientError as err:
        error = err.response.get("Error", {})
        raise SourceError(f"emr {operation}: {error.get('Code', '?')}: {error.get('Message', '')}") from err
    except BotoCoreError as err:
        raise SourceError(f"emr {operation}: {type(err).__name__}: {err}") from err


def _follow(call: Callable[..., Mapping[str, Any]], key: str) -> Iterator[Any]:
    """Every item under `key` of every page, following EMR's Marker pagination (AWS errors propagate)."""
    page = call()
    while True:
        yield from page.get(key, [])
        marker = page.get("Marker")
        if not marker:
            return
        page = call(Marker=marker)


def groups(emr: EmrPort, cluster_id: str) -> Iterator[InstanceGroup]:
    return _follow(partial(emr.list_instance_groups, ClusterId=cluster_id), "InstanceGroups")


def fleets(emr: EmrPort, cluster_id: str) -> Iterator[InstanceFleet]:
    return _follow(partial(emr.list_instance_fleets, ClusterId=cluster_id), "InstanceFleets")


def instances(emr: EmrPort, cluster_id: str, states: list[str]) -> Iterator[Instance]:
    return _follow(partial(emr.list_instances, ClusterId=cluster_id, InstanceStates=states), "Instances")


class EmrReader:
    """Reads one cluster through an `EmrPort`; raises `SourceError` with the failing call named."""

    def __init__(self, client: EmrPort) -> None:
        self._emr = client

    def _managed_scaling(self, cluster_id: str) -> bool:
        """Whether EMR Managed Scaling is on. Fails closed: any error (an error code, a 5xx, an
        endpoint that does not implement the call) is a `SourceError`, so the snapshot is stale and
        nothing is resized; it is never read as "off", which could make us fight EMR's own scaling."""
        with _as_source_error("get_managed_scaling_policy"):
            try:
                resp = self._emr.get_managed_scaling_policy(ClusterId=cluster_id)
            except NotImplementedError as err:
                raise SourceError("emr get_managed_scaling_policy: not implemented by this endpoint") from err
        return bool(resp.get("ManagedScalingPolicy"))

    def read(self, cluster_id: str) -> EmrState:
        """Pools, live instances and EMR's own scaling state; `SourceError` if any call or field fails."""
        try:
            return self._read(cluster_id)
        except (KeyError, TypeError, ValueError) as err:
            raise SourceError(f"emr {cluster_id}: malformed response: {type(err).__name__}: {err}") from err

    def _read(self, cluster_id: str) -> EmrState:
        notes: list[str] = []
        with _as_source_error("describe_cluster"):
            cluster = self._emr.describe_cluster(ClusterId=cluster_id).get("Cluster") or {}
        cluster_state = (cluster.get("Status") or {}).get("State", "UNKNOWN")
        weights: dict[tuple[str, str], int] = {}
        if cluster.get("InstanceCollectionType") == "INSTANCE_FLEET":
            with _as_source_error("list_instance_fleets"):
                raw_fleets = list(fleets(self._emr, cluster_id))
            pools = tuple(_fleet(f, notes) for f in raw_fleets)
            weights = {
                (f["Id"], s["InstanceType"]): int(s.get("WeightedCapacity", 1))
                for f in raw_fleets
                for s in f.get("InstanceTypeSpecifications", [])
            }
        else:
            with _as_source_error("list_instance_groups"):
                pools = tuple(_group(g, notes) for g in list(groups(self._emr, cluster_id)))
        with _as_source_error("list_instances"):
            raw_instances = list(instances(self._emr, cluster_id, list(LIVE_INSTANCE_STATES)))
        live = tuple(x for i in raw_instances if (x := _instance(i, weights)) is not None)
        managed = self._managed_scaling(cluster_id)
        return EmrState(cluster_state, pools, live, managed, tuple(notes))
