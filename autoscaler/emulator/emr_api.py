"""The EMR API (JSON 1.1 protocol) over an emulated cluster, for boto3 via `AWS_ENDPOINT_URL_EMR`.

Every request is checked against botocore's own EMR service model before it is acted on, so a
request the real service would refuse as malformed is refused here too, in the AWS JSON error
shape (`__type`, `message`, HTTP 400) that boto3 turns into a `ClientError`. Only the calls the
daemon makes are served; the rest answer `UnknownOperationException`.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import cache
from typing import Any, Final

import botocore.session
from botocore.exceptions import ParamValidationError
from botocore.model import OperationModel, ServiceModel
from botocore.validate import validate_parameters

from autoscaler.emulator.cluster_protocol import EmulatedCluster
from autoscaler.emulator.emr_render import (
    render_cluster,
    render_instance,
    render_instance_fleet,
    render_instance_group,
    render_managed_scaling_policy,
)
from autoscaler.model import ClusterSnapshot, PoolKind, PoolRole
from autoscaler.serving import Request, Response, WsgiApp, endpoint

PAGE_SIZE: Final = 50  # EMR's List* calls return at most 50 items per page
TARGET_PREFIX: Final = "ElasticMapReduce."

ClusterAccess = Callable[[], AbstractContextManager[EmulatedCluster]]
"""Gives exclusive use of the cluster, brought up to the current emulated time."""


class EmrApiError(Exception):
    """An AWS error answer: `code` becomes `__type`, which boto3 reports as the error code."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@cache
def _service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("emr")


def _operation(name: str) -> OperationModel:
    try:
        return _service_model().operation_model(name)
    except Exception as err:  # botocore raises OperationNotFoundError
        raise EmrApiError("UnknownOperationException", f"Unknown operation {name}") from err


def _page(items: list[dict[str, Any]], marker: str | None) -> dict[str, Any]:
    try:
        start = int(marker) if marker else 0
    except ValueError:
        raise EmrApiError("InvalidRequestException", f"Invalid marker: {marker}") from None
    if not 0 <= start <= len(items):
        raise EmrApiError("InvalidRequestException", f"Invalid marker: {marker}")
    end = start + PAGE_SIZE
    out: dict[str, Any] = {"items": items[start:end]}
    if end < len(items):
        out["Marker"] = str(end)
    return out


class EmrApi:
    """Validates, records and answers EMR calls; `calls` lists every request as (operation, params)."""

    def __init__(
        self,
        access: ClusterAccess,
        started_at: float,
        present: Callable[[ClusterSnapshot], ClusterSnapshot] = lambda s: s,
    ) -> None:
        self._access = access
        self._started_at = started_at
        self._present = present
        self._lock = threading.Lock()
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def write_calls(self) -> list[tuple[str, dict[str, Any]]]:
        """The recorded calls that asked for a change."""
        with self._lock:
            return [(op, p) for op, p in self.calls if op.startswith("Modify")]

    def handle(self, operation: str, params: Any) -> dict[str, Any]:
        """The response body of one call, or `EmrApiError` with the AWS error code."""
        with self._lock:
            self.calls.append((operation, params if isinstance(params, dict) else {}))
        model = _operation(operation)
        handler = getattr(self, f"_op_{operation}", None)
        if handler is None:
            raise EmrApiError("UnknownOperationException", f"Operation {operation} is not emulated")
        if not isinstance(params, dict):
            raise EmrApiError("SerializationException", "Request body must be a JSON object")
        try:
            validate_parameters(params, model.input_shape)
        except ParamValidationError as err:
            raise EmrApiError("ValidationException", str(err).replace("\n", " ")) from None
        result: dict[str, Any] = handler(params)
        return result

    # reads

    def _snapshot(self, cluster_id: str | None) -> ClusterSnapshot:
        with self._access() as cluster:
            snapshot = cluster.snapshot()
        self._check_cluster(snapshot, cluster_id)
        return self._present(snapshot)

    @staticmethod
    def _check_cluster(snapshot: ClusterSnapshot, cluster_id: str | None) -> None:
        if cluster_id is not None and cluster_id != snapshot.cluster_id:
            raise EmrApiError("InvalidRequestException", f"Cluster id '{cluster_id}' is not valid.")

    def _op_DescribeCluster(self, params: dict[str, Any]) -> dict[str, Any]:
        snapshot = self._snapshot(params["ClusterId"])
        return {"Cluster": render_cluster(snapshot, self._started_at)}

    def _list_pools(self, params: dict[str, Any], kind: PoolKind, key: str) -> dict[str, Any]:
        """ListInstanceGroups / ListInstanceFleets: the pools of one kind, a page at a time."""
        snapshot = self._snapshot(params["ClusterId"])
        render = render_instance_group if kind is PoolKind.INSTANCE_GROUP else render_instance_fleet
        page = _page([render(p, self._started_at) for p in snapshot.pools if p.kind is kind], params.get("Marker"))
        return {key: page.pop("items"), **page}

    def _op_ListInstanceGroups(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._list_pools(params, PoolKind.INSTANCE_GROUP, "InstanceGroups")

    def _op_ListInstanceFleets(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._list_pools(params, PoolKind.INSTANCE_FLEET, "InstanceFleets")

    def _op_ListInstances(self, params: dict[str, Any]) -> dict[str, Any]:
        snapshot = self._snapshot(params["ClusterId"])
        pools = {p.pool_id: p for p in snapshot.pools}
        states = set(params.get("InstanceStates") or ())
        group_types = set(params.get("InstanceGroupTypes") or ())
        rendered = []
        for inst in sorted(snapshot.instances, key=lambda i: (i.launched_at or 0.0, i.instance_id)):
            pool = pools.get(inst.pool_id)
            if pool is None:
                continue
            if params.get("InstanceGroupId") not in (None, inst.pool_id):
                continue
            if params.get("InstanceFleetId") not in (None, inst.pool_id):
                continue
            if group_types and (pool.is_fleet or pool.role.value not in group_types):
                continue
            if params.get("InstanceFleetType") not in (None, pool.role.value) or (
                "InstanceFleetType" in params and not pool.is_fleet
            ):
                continue
            if states and inst.state.value not in states:
                continue
            rendered.append(render_instance(inst, pool))
        page = _page(rendered, params.get("Marker"))
        return {"Instances": page.pop("items"), **page}

    def _op_GetManagedScalingPolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        snapshot = self._snapshot(params["ClusterId"])
        policy = render_managed_scaling_policy(snapshot)
        return {} if policy is None else {"ManagedScalingPolicy": policy}

    # writes

    def _op_ModifyInstanceGroups(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._access() as cluster:
            snapshot = cluster.snapshot()
            self._check_cluster(snapshot, params.get("ClusterId"))
            pools = {p.pool_id: p for p in snapshot.pools}
            changes = []
            for i, change in enumerate(params["InstanceGroups"]):
                group_id = change["InstanceGroupId"]
                pool = pools.get(group_id)
                if pool is None or pool.kind is not PoolKind.INSTANCE_GROUP:
                    raise EmrApiError("InvalidRequestException", f"Instance group id '{group_id}' is not valid.")
                if pool.role is PoolRole.MASTER:
                    raise EmrApiError("InvalidRequestException", "The master instance group cannot be resized.")
                count = change.get("InstanceCount")
                if type(count) is not int or count < 0:
                    raise EmrApiError(
                        "ValidationException",
                        f"InstanceGroups[{i}].InstanceCount: a non-negative integer is required to resize {group_id}.",
                    )
                if change.get("EC2InstanceIdsToTerminate"):
                    raise EmrApiError(
                        "InvalidRequestException",
                        "EC2InstanceIdsToTerminate is not emulated: use ShrinkPolicy.InstanceResizePolicy.",
                    )
                shrink = change.get("ShrinkPolicy") or {}
                resize = shrink.get("InstanceResizePolicy") or {}
                timeout = resize.get("InstanceTerminationTimeout", shrink.get("DecommissionTimeout"))
                changes.append((group_id, count, resize, timeout))
            for group_id, count, resize, timeout in changes:
                try:
                    cluster.modify_instance_group(
                        group_id,
                        count,
                        instances_to_terminate=tuple(resize.get("InstancesToTerminate") or ()),
                        instances_to_protect=tuple(resize.get("InstancesToProtect") or ()),
                        decommission_timeout_s=timeout,
                    )
                except (ValueError, KeyError) as err:
                    raise EmrApiError("InvalidRequestException", str(err)) from None
        return {}

    def _op_ModifyInstanceFleet(self, params: dict[str, Any]) -> dict[str, Any]:
        fleet = params["InstanceFleet"]
        with self._access() as cluster:
            snapshot = cluster.snapshot()
            self._check_cluster(snapshot, params["ClusterId"])
            fleet_id = fleet["InstanceFleetId"]
            pool = next((p for p in snapshot.pools if p.pool_id == fleet_id), None)
            if pool is None or not pool.is_fleet:
                raise EmrApiError("InvalidRequestException", f"Instance fleet id '{fleet_id}' is not valid.")
            if pool.role is PoolRole.MASTER:
                raise EmrApiError("InvalidRequestException", "The master instance fleet cannot be resized.")
            if fleet.get("InstanceTypeConfigs"):
                raise EmrApiError("InvalidRequestException", "Changing InstanceTypeConfigs is not emulated.")
            on_demand, spot = fleet.get("TargetOnDemandCapacity"), fleet.get("TargetSpotCapacity")
            for name, value in (("TargetOnDemandCapacity", on_demand), ("TargetSpotCapacity", spot)):
                if value is not None and (type(value) is not int or value < 0):
                    raise EmrApiError("ValidationException", f"InstanceFleet.{name}: must be a non-negative integer.")
            if on_demand is not None or spot is not None:
                try:
                    cluster.modify_instance_fleet(fleet_id, target_on_demand=on_demand, target_spot=spot)
                except (ValueError, KeyError) as err:
                    raise EmrApiError("InvalidRequestException", str(err)) from None
        return {}


def emr_app(api: EmrApi) -> WsgiApp:
    """The JSON 1.1 protocol as a WSGI app: POST `/`, operation in `X-Amz-Target`; the signature is not checked."""

    def handle(request: Request) -> Response:
        target = request.headers.get("x-amz-target") or ""
        try:
            if not target.startswith(TARGET_PREFIX):
                raise EmrApiError("UnknownOperationException", f"Missing or foreign X-Amz-Target: {target!r}")
            try:
                params = json.loads(request.body or b"{}")
            except ValueError:
                raise EmrApiError("SerializationException", "Request body is not valid JSON") from None
            return _answer(200, api.handle(target.removeprefix(TARGET_PREFIX), params))
        except EmrApiError as err:
            return _answer(err.status, {"__type": err.code, "message": err.message}, err.code)
        except Exception as err:  # a model bug: answer like AWS does, keep serving
            return _answer(500, {"__type": "InternalServerError", "message": repr(err)}, "InternalServerError")

    return endpoint(handle)


def _answer(status: int, body: dict[str, Any], error_type: str | None = None) -> Response:
    headers = {"x-amzn-RequestId": str(uuid.uuid4())}
    if error_type:
        headers["x-amzn-ErrorType"] = error_type
    return Response.json(status, body, "application/x-amz-json-1.1", **headers)
