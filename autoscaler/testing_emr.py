"""`FakeEmr`: a stateful EMR for tests, implementing `ports.EmrPort` (mypy checks it against the port).

Re-exported by `autoscaler.testing`. In the style of Karpenter's cloud-provider fakes: it holds the
cluster (instance groups or fleets, their instances, managed scaling on/off), applies writes the way
EMR does (absolute targets; the pool RESIZING until `settle()`), logs every call (`calls`), and
injects the failures production sees (`fail`): throttling, a capacity error, a 5xx, a write that was
applied but answered 500, and an endpoint that does not implement a call. Use moto where the real
boundary is wanted (request shapes, botocore validation); use this where a test needs state, call
counts or faults moto cannot give (fleets, managed scaling, errors on a chosen call).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from autoscaler.ports import (
    DescribeClusterOutput,
    EmrPort,
    GetManagedScalingPolicyOutput,
    Instance,
    InstanceFleet,
    InstanceFleetModifyConfig,
    InstanceGroup,
    InstanceGroupModifyConfig,
    ListInstanceFleetsOutput,
    ListInstanceGroupsOutput,
    ListInstancesOutput,
)

LAUNCHED_AT: Final = datetime(2023, 11, 14, 22, 0, tzinfo=UTC)


class EmrFault(StrEnum):
    THROTTLE = "throttle"  # ThrottlingException, 400
    CAPACITY = "capacity"  # ValidationException "Insufficient capacity ...", as EMR words it
    SERVER_ERROR = "server_error"  # InternalServerError, 500
    APPLIED_BUT_500 = "applied_but_500"  # the write takes effect, the answer is a 500
    NOT_IMPLEMENTED = "not_implemented"  # NotImplementedError, as in-process moto raises for unknown calls


_ERRORS: Final = {
    EmrFault.THROTTLE: ("ThrottlingException", "Rate exceeded", 400),
    EmrFault.CAPACITY: ("ValidationException", "Insufficient capacity for instance type m5.xlarge", 400),
    EmrFault.SERVER_ERROR: ("InternalServerError", "Internal Server Error", 500),
    EmrFault.APPLIED_BUT_500: ("InternalServerError", "Internal Server Error", 500),
}


@dataclass(frozen=True, slots=True)
class EmrCall:
    operation: str  # the boto3 method name, e.g. "modify_instance_groups"
    params: dict[str, Any]


@dataclass
class FakePool:
    """One instance group (one market) or fleet; `requested` is the target, `running` what arrived."""

    pool_id: str
    role: str
    fleet: bool
    instance_type: str
    market: str = "ON_DEMAND"
    requested: dict[str, int] = field(default_factory=lambda: {"ON_DEMAND": 0, "SPOT": 0})
    running: dict[str, int] = field(default_factory=lambda: {"ON_DEMAND": 0, "SPOT": 0})
    state: str = "RUNNING"
    autoscaling_policy: str | None = None  # the policy's Status.State (e.g. "ATTACHED"), or None


def client_error(operation: str, code: str, message: str, status: int) -> ClientError:
    """A botocore ClientError as boto3 raises it for an AWS error answer."""
    response: Any = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, operation)


class FakeEmr:
    """One EMR cluster, `cluster_id`, with pools added by `add_group` / `add_fleet`."""

    def __init__(self, cluster_id: str = "j-FAKE", *, state: str = "WAITING", page_size: int = 50) -> None:
        self.cluster_id = cluster_id
        self.state = state
        self.page_size = page_size
        self.pools: dict[str, FakePool] = {}
        self.managed_scaling = False
        self.calls: list[EmrCall] = []
        self._faults: dict[str, list[EmrFault]] = {}

    # -- building the cluster ---------------------------------------------------------------------

    def add_group(self, role: str, count: int, *, market: str = "ON_DEMAND", instance_type: str = "m5.xlarge") -> str:
        pool_id = f"ig-{role}{len(self.pools)}"
        units = {"ON_DEMAND": 0, "SPOT": 0} | {market: count}
        self.pools[pool_id] = FakePool(pool_id, role, False, instance_type, market, dict(units), dict(units))
        return pool_id

    def add_fleet(self, role: str, on_demand: int, spot: int, *, instance_type: str = "m5.xlarge") -> str:
        pool_id = f"if-{role}{len(self.pools)}"
        units = {"ON_DEMAND": on_demand, "SPOT": spot}
        self.pools[pool_id] = FakePool(pool_id, role, True, instance_type, "", dict(units), dict(units))
        return pool_id

    def fail(self, operation: str, fault: EmrFault, times: int = 1) -> None:
        """The next `times` calls of `operation` (boto3 method name) fail with `fault`."""
        self._faults.setdefault(operation, []).extend([fault] * times)

    def settle(self) -> None:
        """EMR finishes every resize: running catches up with requested, pools turn RUNNING."""
        for pool in self.pools.values():
            pool.running = dict(pool.requested)
            pool.state = "RUNNING"

    def writes(self) -> list[EmrCall]:
        return [c for c in self.calls if c.operation.startswith("modify_")]

    # -- the port ---------------------------------------------------------------------------------

    def _enter(self, operation: str, params: dict[str, Any]) -> EmrFault | None:
        """Log the call; raise its injected fault, or return APPLIED_BUT_500 for the caller to raise late."""
        self.calls.append(EmrCall(operation, params))
        queue = self._faults.get(operation)
        fault = queue.pop(0) if queue else None
        if fault is EmrFault.NOT_IMPLEMENTED:
            raise NotImplementedError(f"The {operation} action has not been implemented")
        if fault is not None and fault is not EmrFault.APPLIED_BUT_500:
            raise client_error(operation, *_ERRORS[fault])
        return fault

    def _check_cluster(self, operation: str, cluster_id: str) -> None:
        if cluster_id != self.cluster_id:
            raise client_error(operation, "InvalidRequestException", f"Cluster id '{cluster_id}' is not valid.", 400)

    def _page(self, items: list[Any], marker: str | None) -> tuple[list[Any], str | None]:
        start = int(marker or 0)
        end = start + self.page_size
        return items[start:end], (str(end) if end < len(items) else None)

    def describe_cluster(self, *, ClusterId: str) -> DescribeClusterOutput:
        self._enter("describe_cluster", {"ClusterId": ClusterId})
        self._check_cluster("describe_cluster", ClusterId)
        fleets = any(p.fleet for p in self.pools.values())
        kind = "INSTANCE_FLEET" if fleets else "INSTANCE_GROUP"
        return {"Cluster": {"Id": ClusterId, "Status": {"State": self.state}, "InstanceCollectionType": kind}}

    def list_instance_groups(self, *, ClusterId: str, Marker: str | None = None) -> ListInstanceGroupsOutput:
        self._enter("list_instance_groups", {"ClusterId": ClusterId} | ({"Marker": Marker} if Marker else {}))
        self._check_cluster("list_instance_groups", ClusterId)
        page, marker = self._page([self._group(p) for p in self.pools.values() if not p.fleet], Marker)
        return {"InstanceGroups": page} | ({"Marker": marker} if marker else {})  # type: ignore[return-value]

    def list_instance_fleets(self, *, ClusterId: str, Marker: str | None = None) -> ListInstanceFleetsOutput:
        self._enter("list_instance_fleets", {"ClusterId": ClusterId} | ({"Marker": Marker} if Marker else {}))
        self._check_cluster("list_instance_fleets", ClusterId)
        page, marker = self._page([self._fleet(p) for p in self.pools.values() if p.fleet], Marker)
        return {"InstanceFleets": page} | ({"Marker": marker} if marker else {})  # type: ignore[return-value]

    def list_instances(
        self, *, ClusterId: str, InstanceStates: list[str] | None = None, Marker: str | None = None
    ) -> ListInstancesOutput:
        self._enter("list_instances", {"ClusterId": ClusterId, "InstanceStates": InstanceStates, "Marker": Marker})
        self._check_cluster("list_instances", ClusterId)
        page, marker = self._page(self.instances(), Marker)
        return {"Instances": page} | ({"Marker": marker} if marker else {})  # type: ignore[return-value]

    def get_managed_scaling_policy(self, *, ClusterId: str) -> GetManagedScalingPolicyOutput:
        self._enter("get_managed_scaling_policy", {"ClusterId": ClusterId})
        self._check_cluster("get_managed_scaling_policy", ClusterId)
        if not self.managed_scaling:
            return {}
        limits = {"UnitType": "Instances", "MinimumCapacityUnits": 1, "MaximumCapacityUnits": 20}
        return {"ManagedScalingPolicy": {"ComputeLimits": limits}}

    def modify_instance_groups(
        self, *, ClusterId: str, InstanceGroups: list[InstanceGroupModifyConfig]
    ) -> dict[str, Any]:
        late = self._enter("modify_instance_groups", {"ClusterId": ClusterId, "InstanceGroups": InstanceGroups})
        self._check_cluster("modify_instance_groups", ClusterId)
        for change in InstanceGroups:
            pool = self._pool("modify_instance_groups", change["InstanceGroupId"], fleet=False)
            if change["InstanceCount"] < 0:
                raise client_error("modify_instance_groups", "ValidationException", "InstanceCount < 0", 400)
            pool.requested[pool.market] = change["InstanceCount"]
            pool.state = "RESIZING"
        return self._answer("modify_instance_groups", late)

    def modify_instance_fleet(self, *, ClusterId: str, InstanceFleet: InstanceFleetModifyConfig) -> dict[str, Any]:
        late = self._enter("modify_instance_fleet", {"ClusterId": ClusterId, "InstanceFleet": InstanceFleet})
        self._check_cluster("modify_instance_fleet", ClusterId)
        pool = self._pool("modify_instance_fleet", InstanceFleet["InstanceFleetId"], fleet=True)
        pool.requested = {
            "ON_DEMAND": InstanceFleet["TargetOnDemandCapacity"],
            "SPOT": InstanceFleet["TargetSpotCapacity"],
        }
        pool.state = "RESIZING"
        return self._answer("modify_instance_fleet", late)

    # -- rendering ---------------------------------------------------------------------------------

    def _answer(self, operation: str, late: EmrFault | None) -> dict[str, Any]:
        if late is EmrFault.APPLIED_BUT_500:
            raise client_error(operation, *_ERRORS[late])
        return {}

    def _pool(self, operation: str, pool_id: str, *, fleet: bool) -> FakePool:
        pool = self.pools.get(pool_id)
        if pool is None or pool.fleet is not fleet:
            raise client_error(operation, "InvalidRequestException", f"no such pool {pool_id}", 400)
        return pool

    def _group(self, p: FakePool) -> InstanceGroup:
        group: InstanceGroup = {
            "Id": p.pool_id,
            "Name": p.role.lower(),
            "Market": p.market,
            "InstanceGroupType": p.role,
            "InstanceType": p.instance_type,
            "RequestedInstanceCount": p.requested[p.market],
            "RunningInstanceCount": p.running[p.market],
            "Status": {"State": p.state},
        }
        if p.autoscaling_policy is not None:
            group["AutoScalingPolicy"] = {"Status": {"State": p.autoscaling_policy}, "Rules": []}
        return group

    def _fleet(self, p: FakePool) -> InstanceFleet:
        return {
            "Id": p.pool_id,
            "Name": p.role.lower(),
            "InstanceFleetType": p.role,
            "Status": {"State": p.state},
            "TargetOnDemandCapacity": p.requested["ON_DEMAND"],
            "TargetSpotCapacity": p.requested["SPOT"],
            "ProvisionedOnDemandCapacity": p.running["ON_DEMAND"],
            "ProvisionedSpotCapacity": p.running["SPOT"],
            "InstanceTypeSpecifications": [{"InstanceType": p.instance_type, "WeightedCapacity": 1}],
        }

    def instances(self) -> list[Instance]:
        """One RUNNING instance per running unit, with a stable id and private DNS name per slot."""
        out: list[Instance] = []
        for index, pool in enumerate(self.pools.values()):
            for market, count in sorted(pool.running.items()):
                for n in range(count):
                    slot = index * 1000 + (500 if market == "SPOT" else 0) + n
                    instance: Instance = {
                        "Id": f"ci-{slot:05d}",
                        "Ec2InstanceId": f"i-{slot:017x}",
                        "PrivateDnsName": f"ip-10-0-{slot // 250}-{slot % 250 + 1}.ec2.internal",
                        "InstanceType": pool.instance_type,
                        "Market": market,
                        "Status": {"State": "RUNNING", "Timeline": {"CreationDateTime": LAUNCHED_AT}},
                    }
                    instance["InstanceFleetId" if pool.fleet else "InstanceGroupId"] = pool.pool_id
                    out.append(instance)
        return out


if TYPE_CHECKING:  # mypy proves the fake implements the port
    _PORT: EmrPort = FakeEmr()
