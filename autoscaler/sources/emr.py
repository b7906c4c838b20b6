"""EMR API reader: the cluster's pools (instance groups or fleets), their instances, and whether
EMR's own scaling (managed scaling, automatic scaling policies) is active on them.

Read-only: DescribeCluster, ListInstanceGroups | ListInstanceFleets, ListInstances,
GetManagedScalingPolicy. The client is passed in (made by `autoscaler.aws.make_client`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
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
from autoscaler.sources import SourceError

#: Instances still billed or about to be; terminated ones are history.
LIVE_INSTANCE_STATES = ("AWAITING_FULFILLMENT", "PROVISIONING", "BOOTSTRAPPING", "RUNNING")

#: Error codes meaning "this endpoint does not implement the call" (moto, older emulators).
#:
#: moto's *server* mode (5.x) is not among them on purpose: for GetManagedScalingPolicy it answers
#: HTTP 500 with Werkzeug's generic HTML "Internal Server Error" page (botocore: Code "500", no
#: `__type`, no x-amzn-RequestId), after botocore has retried twice. Nothing in that answer says "not
#: implemented", and a proxy or VPC endpoint in front of real EMR can return the same HTML 500, so
#: reading it as "managed scaling off" could make us fight EMR Managed Scaling. Any 5xx therefore
#: fails the EMR read (the snapshot is stale, nothing is resized); the end-to-end tests put a
#: recording proxy in front of moto that answers this one call.
_UNSUPPORTED = {"NotImplemented", "NotImplementedError", "UnknownOperationException", "InvalidAction"}


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


class EmrReader:
    """Reads one cluster through an EMR client; raises `SourceError` with the failing call named."""

    def __init__(self, client: Any) -> None:
        self._emr = client

    def _call(self, operation: str, **kwargs: Any) -> Any:
        with _as_source_error(operation):
            return getattr(self._emr, operation)(**kwargs)

    def _paginate(self, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
        with _as_source_error(operation):
            pages = self._emr.get_paginator(operation).paginate(**kwargs)
            return [item for page in pages for item in page.get(key, [])]

    def _managed_scaling(self, cluster_id: str, notes: list[str]) -> bool:
        try:
            resp = self._emr.get_managed_scaling_policy(ClusterId=cluster_id)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "?")
            if code in _UNSUPPORTED or err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 501:
                notes.append(f"GetManagedScalingPolicy not supported by this endpoint ({code}); assumed off")
                return False
            raise SourceError(f"emr get_managed_scaling_policy: {code}") from err
        except NotImplementedError:  # moto in-process raises this for calls it does not implement
            notes.append("GetManagedScalingPolicy not implemented by this endpoint; assumed off")
            return False
        except BotoCoreError as err:
            raise SourceError(f"emr get_managed_scaling_policy: {type(err).__name__}: {err}") from err
        return bool(resp.get("ManagedScalingPolicy"))

    def read(self, cluster_id: str) -> EmrState:
        """Pools, live instances and EMR's own scaling state; `SourceError` if any call or field fails."""
        try:
            return self._read(cluster_id)
        except (KeyError, TypeError, ValueError) as err:
            raise SourceError(f"emr {cluster_id}: malformed response: {type(err).__name__}: {err}") from err

    def _read(self, cluster_id: str) -> EmrState:
        notes: list[str] = []
        cluster = self._call("describe_cluster", ClusterId=cluster_id).get("Cluster", {})
        cluster_state = (cluster.get("Status") or {}).get("State", "UNKNOWN")
        if cluster.get("InstanceCollectionType") == "INSTANCE_FLEET":
            raw_fleets = self._paginate("list_instance_fleets", "InstanceFleets", ClusterId=cluster_id)
            pools = tuple(_fleet(f, notes) for f in raw_fleets)
            weights = {
                (f["Id"], s["InstanceType"]): int(s.get("WeightedCapacity", 1))
                for f in raw_fleets
                for s in f.get("InstanceTypeSpecifications", [])
            }
        else:
            raw_groups = self._paginate("list_instance_groups", "InstanceGroups", ClusterId=cluster_id)
            pools = tuple(_group(g, notes) for g in raw_groups)
            weights = {}
        raw_instances = self._paginate(
            "list_instances", "Instances", ClusterId=cluster_id, InstanceStates=list(LIVE_INSTANCE_STATES)
        )
        instances = tuple(x for i in raw_instances if (x := _instance(i, weights)) is not None)
        managed = self._managed_scaling(cluster_id, notes)
        return EmrState(cluster_state, pools, instances, managed, tuple(notes))
