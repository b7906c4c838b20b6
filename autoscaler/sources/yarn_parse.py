"""Pure parsers for the YARN ResourceManager REST answers (`/ws/v1/cluster/...`).

Tolerant of what real RMs send (missing keys on old versions, extra keys on new ones, -1 for
"unknown", Long.MAX_VALUE rounded to 9223372036854776000 by JSON tools), strict about what would
mislead a policy: a field of the wrong type raises `SourceError` naming endpoint and field, so the
snapshot goes stale instead of carrying a silent zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from autoscaler.model import AppInfo, NodeInfo, NodeState, PendingRequest, QueueAmLimit, Resources, YarnMetrics
from autoscaler.sources import SourceError

METRICS = "/ws/v1/cluster/metrics"
NODES = "/ws/v1/cluster/nodes"
APPS = "/ws/v1/cluster/apps"
INFO = "/ws/v1/cluster/info"
SCHEDULER = "/ws/v1/cluster/scheduler"

_LONG_MAX = 2**63 - 1


def _int(endpoint: str, path: str, value: Any) -> int | None:
    """An integer count; None when absent, negative (-1 = unknown) or Long.MAX (unbounded)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SourceError(f"yarn {endpoint}: {path}: expected an integer, got {value!r}")
    if isinstance(value, float) and not value.is_integer():
        raise SourceError(f"yarn {endpoint}: {path}: expected an integer, got {value!r}")
    n = int(value)
    # -1 is YARN's "unknown"; other negatives are accounting races (e.g. YARN-3933), no more trustworthy
    if n < 0 or n >= _LONG_MAX:
        return None
    return n


def _obj(endpoint: str, path: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SourceError(f"yarn {endpoint}: {path}: expected an object, got {type(value).__name__}")
    return value


def _list(endpoint: str, path: str, value: Any) -> list[Any]:
    """YARN sends `null` for an empty collection and, through some JSON providers, a bare object
    for a one-element one."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [value]
    if not isinstance(value, list):
        raise SourceError(f"yarn {endpoint}: {path}: expected a list, got {type(value).__name__}")
    return value


def _str(endpoint: str, path: str, value: Any, default: str = "") -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        raise SourceError(f"yarn {endpoint}: {path}: expected a string, got {value!r}")
    return value


def parse_metrics(doc: Any) -> YarnMetrics:
    """`clusterMetrics`; with node labels the default-partition totals are wrong (YARN-9088), so the
    `*AcrossPartition` figures win when the RM says they are available."""
    m = _obj(METRICS, "clusterMetrics", _obj(METRICS, "<root>", doc).get("clusterMetrics"))

    def get(key: str) -> int | None:
        return _int(METRICS, f"clusterMetrics.{key}", m.get(key))

    total_mb, total_vc = get("totalMB"), get("totalVirtualCores")
    alloc_mb, alloc_vc = get("allocatedMB"), get("allocatedVirtualCores")
    res_mb, res_vc = get("reservedMB"), get("reservedVirtualCores")
    avail_mb, avail_vc = get("availableMB"), get("availableVirtualCores")
    containers_alloc = get("containersAllocated")
    if m.get("crossPartitionMetricsAvailable") is True:

        def across(key: str) -> tuple[int | None, int | None]:
            if m.get(key) is None:
                return None, None
            part = _obj(METRICS, f"clusterMetrics.{key}", m.get(key))
            mem = part.get("memorySize", part.get("memory"))
            return (
                _int(METRICS, f"clusterMetrics.{key}.memory", mem),
                _int(METRICS, f"clusterMetrics.{key}.vCores", part.get("vCores")),
            )

        t_mb, t_vc = across("totalClusterResourcesAcrossPartition")
        u_mb, u_vc = across("totalUsedResourcesAcrossPartition")
        r_mb, r_vc = across("totalReservedResourcesAcrossPartition")
        if t_mb is not None and u_mb is not None:
            total_mb, alloc_mb, avail_mb = t_mb, u_mb, max(t_mb - u_mb, 0)
        if t_vc is not None and u_vc is not None:
            total_vc, alloc_vc, avail_vc = t_vc, u_vc, max(t_vc - u_vc, 0)
        res_mb = r_mb if r_mb is not None else res_mb
        res_vc = r_vc if r_vc is not None else res_vc
        across_containers = get("totalAllocatedContainersAcrossPartition")
        containers_alloc = across_containers if across_containers is not None else containers_alloc
    return YarnMetrics(
        apps_pending=get("appsPending"),
        apps_running=get("appsRunning"),
        containers_pending=get("containersPending"),
        containers_allocated=containers_alloc,
        pending_mb=get("pendingMB"),
        pending_vcores=get("pendingVirtualCores"),
        allocated_mb=alloc_mb,
        allocated_vcores=alloc_vc,
        available_mb=avail_mb,
        available_vcores=avail_vc,
        reserved_mb=res_mb,
        reserved_vcores=res_vc,
        total_mb=total_mb,
        total_vcores=total_vc,
        active_nodes=get("activeNodes"),
        decommissioning_nodes=get("decommissioningNodes"),
        unhealthy_nodes=get("unhealthyNodes"),
        lost_nodes=get("lostNodes"),
        shutdown_nodes=get("shutdownNodes"),
    )


def _node(raw: Any, path: str) -> NodeInfo:
    n = _obj(NODES, path, raw)
    host = _str(NODES, f"{path}.nodeHostName", n.get("nodeHostName"))
    if not host:
        raise SourceError(f"yarn {NODES}: {path}.nodeHostName: missing")
    state_text = _str(NODES, f"{path}.state", n.get("state"))
    try:
        state = NodeState(state_text)
    except ValueError:
        raise SourceError(f"yarn {NODES}: {path}.state: unknown node state {state_text!r}") from None

    def count(key: str) -> int | None:
        return _int(NODES, f"{path}.{key}", n.get(key))

    used_mb, used_vc = count("usedMemoryMB"), count("usedVirtualCores")
    avail_mb, avail_vc = count("availMemoryMB"), count("availableVirtualCores")
    raw_avail_vc = n.get("availableVirtualCores")
    if avail_vc is None and raw_avail_vc is not None and raw_avail_vc < 0:
        avail_vc = 0  # vcores over-committed by memory-only scheduling: none free, which is known
    # a resource vector is known only whole: half of one would read the unknown half as zero
    used = Resources(used_mb, used_vc) if used_mb is not None and used_vc is not None else None
    available = Resources(avail_mb, avail_vc) if avail_mb is not None and avail_vc is not None else None
    health = _int(NODES, f"{path}.lastHealthUpdate", n.get("lastHealthUpdate"))
    return NodeInfo(
        host=host,
        state=state,
        num_containers=count("numContainers"),
        used=used,
        available=available,
        last_health_update_s=health / 1000.0 if health is not None else None,
    )


def parse_nodes(doc: Any) -> tuple[NodeInfo, ...]:
    """`/nodes` (`{"nodes": {"node": [...]}}`) or a single `/nodes/{id}` (`{"node": {...}}`)."""
    root = _obj(NODES, "<root>", doc)
    if "nodes" not in root and "node" in root:
        return (_node(root["node"], "node"),)
    nodes = root.get("nodes")
    if nodes is None:
        return ()
    items = _list(NODES, "nodes.node", _obj(NODES, "nodes", nodes).get("node"))
    return tuple(_node(item, f"nodes.node[{i}]") for i, item in enumerate(items))


def _host_of(address: str) -> str | None:
    """`host:port` (amHostHttpAddress) -> host; an empty address (no AM yet) -> None."""
    if not address:
        return None
    host = address.rsplit(":", 1)[0] if address.count(":") == 1 else address
    return host or None


def _app(raw: Any, path: str) -> AppInfo:
    a = _obj(APPS, path, raw)
    app_id = _str(APPS, f"{path}.id", a.get("id"))
    queue = _str(APPS, f"{path}.queue", a.get("queue"), "default")
    pending = []
    for j, rr in enumerate(_list(APPS, f"{path}.resourceRequests", a.get("resourceRequests"))):
        rpath = f"{path}.resourceRequests[{j}]"
        req = _obj(APPS, rpath, rr)
        if req.get("resourceName") != "*":
            continue  # node- and rack-local asks repeat the "*" ask; counting them would double demand
        count = _int(APPS, f"{rpath}.numContainers", req.get("numContainers")) or 0
        if count == 0:
            continue
        cap = _obj(APPS, f"{rpath}.capability", req.get("capability"))
        mem = _int(APPS, f"{rpath}.capability.memory", cap.get("memorySize", cap.get("memory"))) or 0
        vc = _int(APPS, f"{rpath}.capability.virtualCores", cap.get("virtualCores", cap.get("vCores"))) or 0
        pending.append(PendingRequest(Resources(mem, vc), count, app_id, queue))
    submitted = _int(APPS, f"{path}.startedTime", a.get("submittedTime", a.get("startedTime")))
    alloc_mb = _int(APPS, f"{path}.allocatedMB", a.get("allocatedMB"))
    alloc_vc = _int(APPS, f"{path}.allocatedVCores", a.get("allocatedVCores"))
    return AppInfo(
        app_id=app_id,
        state=_str(APPS, f"{path}.state", a.get("state")),
        queue=queue,
        am_host=_host_of(_str(APPS, f"{path}.amHostHttpAddress", a.get("amHostHttpAddress"))),
        pending=tuple(pending),
        submitted_at=submitted / 1000.0 if submitted else None,
        allocated=None if alloc_mb is None or alloc_vc is None else Resources(alloc_mb, alloc_vc),
        running_containers=_int(APPS, f"{path}.runningContainers", a.get("runningContainers")),
    )


def parse_apps(doc: Any) -> tuple[AppInfo, ...]:
    """`{"apps": {"app": [...]}}`; `{"apps": null}` (no apps) is empty; a bare app object is one app."""
    root = _obj(APPS, "<root>", doc)
    if "apps" not in root and "id" in root:
        return (_app(root, "app"),)
    apps = root.get("apps")
    if apps is None:
        return ()
    items = _list(APPS, "apps.app", _obj(APPS, "apps", apps).get("app"))
    return tuple(_app(item, f"apps.app[{i}]") for i, item in enumerate(items))


def parse_ha_state(doc: Any) -> str | None:
    """`clusterInfo.haState` (ACTIVE, STANDBY, ...); None when the RM does not report one (no HA)."""
    info = _obj(INFO, "clusterInfo", _obj(INFO, "<root>", doc).get("clusterInfo"))
    state = info.get("haState")
    return _str(INFO, "clusterInfo.haState", state) if state is not None else None


def _share(value: Any, scale: float) -> float | None:
    """A share in (0, 1] from a number `scale` times it (100 for a percentage); else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    share = value / scale
    return share if 0 < share <= 1 else None


def _leaf_am(q: Mapping[str, Any], path: str) -> QueueAmLimit:
    def mb(key: str) -> int | None:
        res = q.get(key)
        if not isinstance(res, Mapping):
            return None
        return _int(SCHEDULER, f"{path}.{key}.memory", res.get("memorySize", res.get("memory")))

    share = None
    caps = q.get("capacities")
    parts = caps.get("queueCapacitiesByPartition") if isinstance(caps, Mapping) else None
    for part in parts if isinstance(parts, list) else ():
        if isinstance(part, Mapping) and part.get("partitionName", "") == "":
            share = _share(part.get("maxAMLimitPercentage"), 100)
    if share is None:  # Hadoop 3's fraction, else an older RM's percentage
        share = _share(q.get("configuredMaxAMResourceLimit"), 1) or _share(q.get("maxAMLimitPercentage"), 100)
    return QueueAmLimit(
        queue=_str(SCHEDULER, f"{path}.queueName", q.get("queueName")),
        share=share,
        limit_mb=mb("AMResourceLimit") or None,  # a zero limit is an RM with no nodes yet: unknown
        used_mb=mb("usedAMResource"),
    )


def parse_scheduler(doc: Any) -> tuple[QueueAmLimit, ...]:
    """The CapacityScheduler's leaf queues' AM limits (`scheduler.schedulerInfo`, queues nested under
    `queues.queue`); () for another scheduler (Fair, FIFO), which reports none. Each field is kept
    only when it is a sane number: a missing, negative or out-of-range one is unknown (None)."""
    info = _obj(SCHEDULER, "scheduler", _obj(SCHEDULER, "<root>", doc).get("scheduler"))
    root = _obj(SCHEDULER, "scheduler.schedulerInfo", info.get("schedulerInfo"))
    if root.get("type") != "capacityScheduler":
        return ()
    out: list[QueueAmLimit] = []

    def walk(q: Mapping[str, Any], path: str) -> None:
        children = q.get("queues")
        if children is None or q.get("type") == "capacitySchedulerLeafQueueInfo":
            out.append(_leaf_am(q, path))
            return
        items = _list(SCHEDULER, f"{path}.queues.queue", _obj(SCHEDULER, f"{path}.queues", children).get("queue"))
        for i, child in enumerate(items):
            walk(_obj(SCHEDULER, f"{path}.queues.queue[{i}]", child), f"{path}.queues.queue[{i}]")

    walk(root, "scheduler.schedulerInfo")
    return tuple(q for q in out if q.queue)
