"""Actuators turn a `Plan` into EMR writes. They decide nothing new: they re-validate and act.

`EmrActuator` re-reads each pool just before writing and skips it when the pool moved since the
snapshot (another actor resized it, or it entered RESIZING), so a plan made on old data is never
applied. Targets are absolute (InstanceCount, Target*Capacity): a retried write cannot double-apply.
Scale-in of an instance group always goes through ShrinkPolicy (graceful YARN decommission, chosen
victims, protected ApplicationMaster hosts) and never `EC2InstanceIdsToTerminate`, which kills
instances at once.

`DryRunActuator` builds exactly the same request (`build_request`) and writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from autoscaler.model import (
    CapacityPool,
    ClusterSnapshot,
    Outcome,
    OutcomeStatus,
    Plan,
    PoolKind,
    Resize,
)
from autoscaler.sources.emr import autoscaling_policy_active

MODIFY_GROUPS = "ModifyInstanceGroups"
MODIFY_FLEET = "ModifyInstanceFleet"

# Error codes (and message fragments) that mean "AWS has no capacity for this now": back the pool
# off instead of retrying every tick (EC2 InsufficientInstanceCapacity; EMR surfaces it in messages).
_CAPACITY_MARKERS = ("insufficientinstancecapacity", "insufficientcapacity", "insufficient capacity")


class Actuator(Protocol):
    def apply(self, plan: Plan, snapshot: ClusterSnapshot) -> tuple[Outcome, ...]: ...


@dataclass(frozen=True, slots=True)
class Request:
    """One EMR write: the operation name and the exact keyword arguments for the boto3 call."""

    operation: str
    params: dict[str, Any]

    def describe(self) -> str:
        return f"{self.operation} {json.dumps(self.params, sort_keys=True, separators=(',', ':'))}"


def build_request(cluster_id: str, resize: Resize) -> Request:
    """The write for one resize: shared by the real and the dry-run actuator."""
    if resize.kind is PoolKind.INSTANCE_FLEET:
        fleet = {
            "InstanceFleetId": resize.pool_id,
            "TargetOnDemandCapacity": resize.target.on_demand,
            "TargetSpotCapacity": resize.target.spot,
        }
        return Request(MODIFY_FLEET, {"ClusterId": cluster_id, "InstanceFleet": fleet})
    group: dict[str, Any] = {"InstanceGroupId": resize.pool_id, "InstanceCount": resize.target.total}
    if resize.target.total < resize.current.total:
        resize_policy: dict[str, Any] = {}
        if resize.instances_to_terminate:
            resize_policy["InstancesToTerminate"] = list(resize.instances_to_terminate)
        if resize.instances_to_protect:
            resize_policy["InstancesToProtect"] = list(resize.instances_to_protect)
        shrink: dict[str, Any] = {}
        if resize.decommission_timeout_s is not None:
            shrink["DecommissionTimeout"] = resize.decommission_timeout_s
            if resize_policy:
                resize_policy["InstanceTerminationTimeout"] = resize.decommission_timeout_s
        if resize_policy:
            shrink["InstanceResizePolicy"] = resize_policy
        if shrink:
            group["ShrinkPolicy"] = shrink
    return Request(MODIFY_GROUPS, {"ClusterId": cluster_id, "InstanceGroups": [group]})


def _refusal(snapshot: ClusterSnapshot, resize: Resize) -> str | None:
    if snapshot.managed_scaling_enabled:
        return "the cluster has an EMR managed scaling policy: remove it or run this autoscaler dry"
    try:
        pool = snapshot.pool(resize.pool_id)
    except KeyError:
        return None
    if pool.has_autoscaling_policy:
        return "the group has an EMR automatic scaling policy: remove it or leave the group out of `pools`"
    return None


class DryRunActuator:
    """Says what would be written; makes no AWS call at all."""

    def __init__(self, cluster_id: str) -> None:
        self.cluster_id = cluster_id

    def apply(self, plan: Plan, snapshot: ClusterSnapshot) -> tuple[Outcome, ...]:
        outcomes = []
        for resize in plan.resizes:
            refusal = _refusal(snapshot, resize)
            request = build_request(self.cluster_id, resize)
            if refusal:
                outcomes.append(
                    Outcome(resize.pool_id, OutcomeStatus.REFUSED, f"{refusal}; would have sent {request.describe()}")
                )
            else:
                outcomes.append(Outcome(resize.pool_id, OutcomeStatus.DRY_RUN, f"would call {request.describe()}"))
        return tuple(outcomes)


class EmrActuator:
    """Writes plans to EMR with a boto3 client made by `aws.make_client("emr", ...)`."""

    def __init__(self, emr_client: Any, cluster_id: str) -> None:
        self.emr = emr_client
        self.cluster_id = cluster_id

    def apply(self, plan: Plan, snapshot: ClusterSnapshot) -> tuple[Outcome, ...]:
        return tuple(self._apply_one(resize, snapshot) for resize in plan.resizes)

    def _apply_one(self, resize: Resize, snapshot: ClusterSnapshot) -> Outcome:
        refusal = _refusal(snapshot, resize)
        if refusal:
            return Outcome(resize.pool_id, OutcomeStatus.REFUSED, refusal)
        request = build_request(self.cluster_id, resize)
        try:
            live = self._reread(resize)
            if live is None:
                return Outcome(resize.pool_id, OutcomeStatus.SKIPPED_CHANGED, "pool no longer listed by EMR")
            if autoscaling_policy_active(live):
                return Outcome(resize.pool_id, OutcomeStatus.REFUSED, "the group has an EMR automatic scaling policy")
            changed = _changed(resize, _snapshot_pool(snapshot, resize.pool_id), live)
            if changed:
                return Outcome(resize.pool_id, OutcomeStatus.SKIPPED_CHANGED, changed)
            getattr(self.emr, _method(request.operation))(**request.params)
        except ClientError as err:
            error = err.response.get("Error", {})
            code = str(error.get("Code", "ClientError"))
            message = str(error.get("Message", ""))
            capacity = any(m in f"{code} {message}".lower() for m in _CAPACITY_MARKERS)
            return Outcome(resize.pool_id, OutcomeStatus.FAILED, message or code, code, capacity)
        except BotoCoreError as err:
            return Outcome(resize.pool_id, OutcomeStatus.FAILED, str(err), type(err).__name__)
        return Outcome(resize.pool_id, OutcomeStatus.APPLIED, request.describe())

    def _reread(self, resize: Resize) -> dict[str, Any] | None:
        if resize.kind is PoolKind.INSTANCE_FLEET:
            pages = _pages(self.emr, "list_instance_fleets", "InstanceFleets", ClusterId=self.cluster_id)
        else:
            pages = _pages(self.emr, "list_instance_groups", "InstanceGroups", ClusterId=self.cluster_id)
        return next((item for item in pages if item.get("Id") == resize.pool_id), None)


def _snapshot_pool(snapshot: ClusterSnapshot, pool_id: str) -> CapacityPool | None:
    try:
        return snapshot.pool(pool_id)
    except KeyError:
        return None


def _changed(resize: Resize, pool: CapacityPool | None, live: dict[str, Any]) -> str | None:
    """Why the live pool differs from what the plan was made on, or None if it does not."""
    state = live.get("Status", {}).get("State")
    if pool is not None and state != pool.state.value:
        return f"state changed from {pool.state.value} to {state}"
    if resize.kind is PoolKind.INSTANCE_FLEET:
        now_od, now_spot = live.get("TargetOnDemandCapacity", 0), live.get("TargetSpotCapacity", 0)
        if (now_od, now_spot) != (resize.current.on_demand, resize.current.spot):
            return (
                f"targets changed from on-demand {resize.current.on_demand}/spot {resize.current.spot} "
                f"to {now_od}/{now_spot}"
            )
        return None
    requested = live.get("RequestedInstanceCount")
    if requested != resize.current.total:
        return f"requested count changed from {resize.current.total} to {requested}"
    return None


def _method(operation: str) -> str:
    return {MODIFY_GROUPS: "modify_instance_groups", MODIFY_FLEET: "modify_instance_fleet"}[operation]


def _pages(client: Any, method: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Follow EMR's Marker pagination (clusters may have many pools)."""
    marker: str | None = None
    while True:
        page = getattr(client, method)(**params, **({"Marker": marker} if marker else {}))
        yield from page.get(key, [])
        marker = page.get("Marker")
        if not marker:
            return
