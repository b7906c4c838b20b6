"""A `ClusterSnapshot` rendered as the YARN ResourceManager REST API (`/ws/v1/cluster/...`).

Shapes follow the RM's DAOs and the samples in `../shared/data/yarn/` (ClusterMetricsInfo,
NodeInfo, AppInfo with `resourceRequests`), so the daemon's real YARN client cannot tell the
emulator from an RM: same key names, timestamps in epoch milliseconds, `{"apps": null}` for an
empty list (Jersey 1's rendering of an empty collection), and a `states` filter on nodes and apps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from autoscaler.model import AppInfo, ClusterSnapshot, NodeInfo, NodeState, QueueAmLimit, Resources, YarnMetrics
from autoscaler.serving import Request, Response, WsgiApp, allow_head, endpoint

HADOOP_VERSION: Final = "3.3.6-amzn-emulated"
NM_PORT: Final = 8041  # EMR's NodeManager RPC port: node ids are "host:8041"
NM_HTTP_PORT: Final = 8042

_METRIC_KEYS: Final = {
    "apps_pending": "appsPending",
    "apps_running": "appsRunning",
    "containers_pending": "containersPending",
    "containers_allocated": "containersAllocated",
    "pending_mb": "pendingMB",
    "pending_vcores": "pendingVirtualCores",
    "allocated_mb": "allocatedMB",
    "allocated_vcores": "allocatedVirtualCores",
    "available_mb": "availableMB",
    "available_vcores": "availableVirtualCores",
    "reserved_mb": "reservedMB",
    "reserved_vcores": "reservedVirtualCores",
    "total_mb": "totalMB",
    "total_vcores": "totalVirtualCores",
    "active_nodes": "activeNodes",
    "decommissioning_nodes": "decommissioningNodes",
    "unhealthy_nodes": "unhealthyNodes",
    "lost_nodes": "lostNodes",
    "shutdown_nodes": "shutdownNodes",
}


def _ms(seconds: float | None) -> int:
    return 0 if seconds is None else round(seconds * 1000)


def render_info(snapshot: ClusterSnapshot, started_at: float) -> dict[str, Any]:
    """`/ws/v1/cluster/info` of an active (non-HA or HA-leader) RM."""
    started_ms = _ms(started_at)
    return {
        "clusterInfo": {
            "id": started_ms,
            "startedOn": started_ms,
            "state": "STARTED",
            "haState": "ACTIVE",
            "rmStateStoreName": "org.apache.hadoop.yarn.server.resourcemanager.recovery.NullRMStateStore",
            "resourceManagerVersion": HADOOP_VERSION,
            "hadoopVersion": HADOOP_VERSION,
            "haZooKeeperConnectionState": "ResourceManager HA is not enabled.",
        }
    }


def render_metrics(snapshot: ClusterSnapshot) -> dict[str, Any]:
    """`/ws/v1/cluster/metrics`; a metric the snapshot does not know is YARN's -1 ("unknown").

    Lifetime counters the snapshot cannot know (appsCompleted, appsFailed, ...) are reported as 0,
    and appsSubmitted as the apps currently pending or running. No `*AcrossPartition` objects: the
    emulated cluster has no node labels, so the default partition is the whole cluster.
    """
    yarn = snapshot.yarn or YarnMetrics()
    out: dict[str, Any] = {}
    for attr, key in _METRIC_KEYS.items():
        value = getattr(yarn, attr)
        out[key] = -1 if value is None else value
    states = [n.state for n in snapshot.nodes]
    out.update(
        appsSubmitted=max(out["appsPending"], 0) + max(out["appsRunning"], 0),
        appsCompleted=0,
        appsFailed=0,
        appsKilled=0,
        containersReserved=0,
        totalNodes=len(states),
        decommissionedNodes=states.count(NodeState.DECOMMISSIONED),
        rebootedNodes=states.count(NodeState.REBOOTED),
    )
    return {"clusterMetrics": out}


_UNKNOWN = Resources(-1, -1)


def render_node(node: NodeInfo) -> dict[str, Any]:
    capacity = node.capacity
    used, available = node.used or _UNKNOWN, node.available or _UNKNOWN
    out: dict[str, Any] = {
        "rack": "/default-rack",
        "state": node.state.value,
        "id": f"{node.host}:{NM_PORT}",
        "nodeHostName": node.host,
        "nodeHTTPAddress": f"{node.host}:{NM_HTTP_PORT}",
        "version": HADOOP_VERSION,
        "healthReport": "",
        # what the snapshot does not know is YARN's -1 ("unknown"), as in render_metrics
        "numContainers": -1 if node.num_containers is None else node.num_containers,
        "usedMemoryMB": used.memory_mb,
        "availMemoryMB": available.memory_mb,
        "usedVirtualCores": used.vcores,
        "availableVirtualCores": available.vcores,
    }
    if capacity is not None:
        out["totalResource"] = {"memory": capacity.memory_mb, "vCores": capacity.vcores}
    if node.last_health_update_s is not None:
        out["lastHealthUpdate"] = _ms(node.last_health_update_s)
    return out


def _wanted(states: str | None) -> set[str] | None:
    if not states:
        return None
    return {s.strip().upper() for s in states.split(",") if s.strip()}


def render_nodes(snapshot: ClusterSnapshot, states: str | None = None) -> dict[str, Any]:
    """`/ws/v1/cluster/nodes[?states=...]`; every state when unfiltered, as the RM does."""
    wanted = _wanted(states)
    nodes = [render_node(n) for n in snapshot.nodes if wanted is None or n.state.value in wanted]
    return {"nodes": {"node": nodes} if nodes else None}


def render_app(app: AppInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": app.app_id,
        "user": "hadoop",
        "name": app.app_id,
        "queue": app.queue,
        "state": app.state,
        "finalStatus": "UNDEFINED",
        "progress": 0.0,
        "applicationType": "SPARK",
        "submittedTime": _ms(app.submitted_at),
        "startedTime": _ms(app.submitted_at),
        "finishedTime": 0,
        "resourceRequests": [
            {
                "capability": {"memory": r.shape.memory_mb, "virtualCores": r.shape.vcores},
                "nodeLabelExpression": "",
                "numContainers": r.count,
                "priority": {"priority": 20},
                "relaxLocality": True,
                "resourceName": "*",
            }
            for r in app.pending
        ],
    }
    if app.am_host:
        out["amHostHttpAddress"] = f"{app.am_host}:{NM_HTTP_PORT}"
    # an RM reports -1 for what an app does not hold a report of; this one always knows
    out["allocatedMB"] = app.allocated.memory_mb if app.allocated is not None else -1
    out["allocatedVCores"] = app.allocated.vcores if app.allocated is not None else -1
    out["runningContainers"] = app.running_containers if app.running_containers is not None else -1
    return out


def _leaf_queue(q: QueueAmLimit) -> dict[str, Any]:
    """A CapacitySchedulerLeafQueueInfo with its AM fields; what the snapshot does not know is left out."""
    out: dict[str, Any] = {"type": "capacitySchedulerLeafQueueInfo", "queueName": q.queue, "state": "RUNNING"}
    if q.share is not None:
        out["capacities"] = {
            "queueCapacitiesByPartition": [{"partitionName": "", "maxAMLimitPercentage": round(100 * q.share, 4)}]
        }
    if q.limit_mb is not None:
        out["AMResourceLimit"] = {"memory": q.limit_mb, "vCores": 0}
    if q.used_mb is not None:
        out["usedAMResource"] = {"memory": q.used_mb, "vCores": 0}
    return out


def render_scheduler(snapshot: ClusterSnapshot) -> dict[str, Any]:
    """`/ws/v1/cluster/scheduler` of a CapacityScheduler: root with the snapshot's leaf queues and their
    AM limits (`am_limits`); one `default` leaf without AM fields (unknown) when the snapshot has none."""
    leaves = snapshot.am_limits or (QueueAmLimit("default"),)
    return {
        "scheduler": {
            "schedulerInfo": {
                "type": "capacityScheduler",
                "queueName": "root",
                "capacity": 100.0,
                "queues": {"queue": [_leaf_queue(q) for q in leaves]},
            }
        }
    }


#: The finished apps of a query (`autoscaler.emulator.yarn_history`), given its parameters.
History = Callable[[Mapping[str, str]], list[dict[str, Any]]]
FINISHED_STATES = frozenset({"FINISHED", "KILLED", "FAILED"})


def render_apps(
    snapshot: ClusterSnapshot, states: str | None = None, finished: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """`/ws/v1/cluster/apps[?states=...]`: live apps from the snapshot, then the `finished` ones."""
    wanted = _wanted(states)
    apps = [render_app(a) for a in snapshot.apps if wanted is None or a.state.upper() in wanted]
    apps += [a for a in finished if wanted is None or a["state"] in wanted]
    return {"apps": {"app": apps} if apps else None}


def route(
    path: str, snapshot: ClusterSnapshot, started_at: float, history: History | None = None
) -> dict[str, Any] | None:
    """The JSON body for a GET of `path` (with query), or None for an unknown path."""
    parts = urlsplit(path)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    resource = parts.path.rstrip("/")
    if resource in ("/ws/v1/cluster", "/ws/v1/cluster/info"):
        return render_info(snapshot, started_at)
    if resource == "/ws/v1/cluster/metrics":
        return render_metrics(snapshot)
    if resource == "/ws/v1/cluster/scheduler":
        return render_scheduler(snapshot)
    if resource == "/ws/v1/cluster/nodes":
        return render_nodes(snapshot, query.get("states"))
    if resource == "/ws/v1/cluster/apps":
        states = query.get("states") or query.get("state")
        wanted = _wanted(states)
        asks_finished = history is not None and (wanted is None or bool(wanted & FINISHED_STATES))
        return render_apps(snapshot, states, history(query) if history is not None and asks_finished else ())
    return None


def yarn_app(read: Callable[[], ClusterSnapshot], started_at: float, history: History | None = None) -> WsgiApp:
    """The RM's REST API as a WSGI app serving `read()`'s snapshot (and `history`'s finished apps);
    `read` and `history` do the locking."""

    def handle(request: Request) -> Response:
        body = route(request.target, read(), started_at, history)
        if body is None:
            return Response.json(404, {"RemoteException": {"exception": "NotFoundException", "message": request.path}})
        return Response.json(200, body)

    return allow_head(endpoint(handle))
