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
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from autoscaler.actuation import Actuator, recheck, refusal
from autoscaler.model import (
    CapacityPool,
    ClusterSnapshot,
    Outcome,
    OutcomeStatus,
    Plan,
    PoolKind,
    Resize,
)
from autoscaler.ports import (
    EmrPort,
    InstanceFleetModifyConfig,
    InstanceGroupModifyConfig,
    InstanceResizePolicy,
    ModifyInstanceFleetInput,
    ModifyInstanceGroupsInput,
    ShrinkPolicy,
)
from autoscaler.sources import SourceError
from autoscaler.sources.emr import fleets, groups, pool_from_emr

__all__ = ["MODIFY_FLEET", "MODIFY_GROUPS", "Actuator", "DryRunActuator", "EmrActuator", "Request", "build_request"]

MODIFY_GROUPS = "ModifyInstanceGroups"
MODIFY_FLEET = "ModifyInstanceFleet"

# Error codes (and message fragments) that mean "AWS has no capacity for this now": back the pool
# off instead of retrying every tick (EC2 InsufficientInstanceCapacity; EMR surfaces it in messages).
_CAPACITY_MARKERS = ("insufficientinstancecapacity", "insufficientcapacity", "insufficient capacity")


@dataclass(frozen=True, slots=True)
class Request:
    """One EMR write: exactly one of `groups` (ModifyInstanceGroups) or `fleet` (ModifyInstanceFleet),
    as the keyword arguments of the `EmrPort` call."""

    groups: ModifyInstanceGroupsInput | None = None
    fleet: ModifyInstanceFleetInput | None = None

    @property
    def operation(self) -> str:
        return MODIFY_FLEET if self.fleet is not None else MODIFY_GROUPS

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.fleet if self.fleet is not None else self.groups or {})

    def describe(self) -> str:
        return f"{self.operation} {json.dumps(self.params, sort_keys=True, separators=(',', ':'))}"

    def send(self, emr: EmrPort) -> None:
        if self.fleet is not None:
            emr.modify_instance_fleet(**self.fleet)
        elif self.groups is not None:
            emr.modify_instance_groups(**self.groups)


def _shrink_policy(resize: Resize) -> ShrinkPolicy | None:
    resize_policy: InstanceResizePolicy = {}
    if resize.instances_to_terminate:
        resize_policy["InstancesToTerminate"] = list(resize.instances_to_terminate)
    if resize.instances_to_protect:
        resize_policy["InstancesToProtect"] = list(resize.instances_to_protect)
    shrink: ShrinkPolicy = {}
    if resize.decommission_timeout_s is not None:
        shrink["DecommissionTimeout"] = resize.decommission_timeout_s
        if resize_policy:
            resize_policy["InstanceTerminationTimeout"] = resize.decommission_timeout_s
    if resize_policy:
        shrink["InstanceResizePolicy"] = resize_policy
    return shrink or None


def build_request(cluster_id: str, resize: Resize) -> Request:
    """The write for one resize: shared by the real and the dry-run actuator."""
    if resize.kind is PoolKind.INSTANCE_FLEET:
        fleet: InstanceFleetModifyConfig = {
            "InstanceFleetId": resize.pool_id,
            "TargetOnDemandCapacity": resize.target.on_demand,
            "TargetSpotCapacity": resize.target.spot,
        }
        return Request(fleet={"ClusterId": cluster_id, "InstanceFleet": fleet})
    group: InstanceGroupModifyConfig = {"InstanceGroupId": resize.pool_id, "InstanceCount": resize.target.total}
    shrink = _shrink_policy(resize) if resize.target.total < resize.current.total else None
    if shrink:
        group["ShrinkPolicy"] = shrink
    return Request(groups={"ClusterId": cluster_id, "InstanceGroups": [group]})


class DryRunActuator:
    """Says what would be written; makes no AWS call at all."""

    def __init__(self, cluster_id: str) -> None:
        self.cluster_id = cluster_id

    def apply(self, plan: Plan, snapshot: ClusterSnapshot) -> tuple[Outcome, ...]:
        outcomes = []
        for resize in plan.resizes:
            refusal_ = refusal(snapshot, resize)
            request = build_request(self.cluster_id, resize)
            if refusal_:
                outcomes.append(
                    Outcome(resize.pool_id, OutcomeStatus.REFUSED, f"{refusal_}; would have sent {request.describe()}")
                )
            else:
                outcomes.append(Outcome(resize.pool_id, OutcomeStatus.DRY_RUN, f"would call {request.describe()}"))
        return tuple(outcomes)


class EmrActuator:
    """Writes plans to EMR with a boto3 client made by `aws.make_client("emr", ...)`.

    `clock` stamps a failed write with when it failed (after botocore's own retries), so the pool's
    back-off runs from the failure rather than from the tick's start."""

    def __init__(self, emr_client: EmrPort, cluster_id: str, clock: Callable[[], float] = time.time) -> None:
        self.emr = emr_client
        self.cluster_id = cluster_id
        self.clock = clock

    def apply(self, plan: Plan, snapshot: ClusterSnapshot) -> tuple[Outcome, ...]:
        return tuple(self._apply_one(resize, snapshot) for resize in plan.resizes)

    def _apply_one(self, resize: Resize, snapshot: ClusterSnapshot) -> Outcome:
        refusal_ = refusal(snapshot, resize)
        if refusal_:
            return Outcome(resize.pool_id, OutcomeStatus.REFUSED, refusal_)
        request = build_request(self.cluster_id, resize)
        try:
            try:
                live = self._reread(resize)
            except SourceError as err:  # a pool EMR lists but we cannot read: unknown, so no write
                return Outcome(resize.pool_id, OutcomeStatus.SKIPPED_CHANGED, f"cannot read the live pool: {err}")
            skipped = recheck(resize, snapshot, live)
            if skipped is not None:
                return skipped
            request.send(self.emr)
        except ClientError as err:
            error = err.response.get("Error", {})
            code = str(error.get("Code", "ClientError"))
            message = str(error.get("Message", ""))
            capacity = any(m in f"{code} {message}".lower() for m in _CAPACITY_MARKERS)
            return Outcome(resize.pool_id, OutcomeStatus.FAILED, message or code, code, capacity, self.clock())
        except BotoCoreError as err:
            return Outcome(resize.pool_id, OutcomeStatus.FAILED, str(err), type(err).__name__, failed_at=self.clock())
        return Outcome(resize.pool_id, OutcomeStatus.APPLIED, request.describe())

    def _reread(self, resize: Resize) -> CapacityPool | None:
        items: Iterator[Mapping[str, Any]]
        if resize.kind is PoolKind.INSTANCE_FLEET:
            items = fleets(self.emr, self.cluster_id)
        else:
            items = groups(self.emr, self.cluster_id)
        item = next((item for item in items if item.get("Id") == resize.pool_id), None)
        return None if item is None else pool_from_emr(item, resize.kind)
