"""The simulated cluster seen through the daemon's sources: one `ClusterSnapshot` at `now`.

What YARN would report (RUNNING and DECOMMISSIONING NodeManagers, cluster metrics over RUNNING
nodes, apps with their outstanding asks), what EMR would list (pools with requested / running /
provisioning / decommissioning kept apart, instances with their private DNS = YARN host), the
prices in force and the CloudWatch metrics EMR publishes. Every source is reported ok.

A tick's snapshot must not cost more as the queue grows: YARN's counters come from the workload's
running `Totals`, and the views of jobs, nodes and pools are cached (`SnapshotCache`) and rebuilt
only for what changed since the last snapshot. A node's `last_health_update_s` is therefore the
last time its report changed, not `now`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

from autoscaler.model import (
    AppInfo,
    Capacity,
    CapacityPool,
    ClusterSnapshot,
    InstanceInfo,
    InstanceState,
    InterruptionNotice,
    Market,
    NodeInfo,
    NodeState,
    PendingRequest,
    PoolKind,
    PoolState,
    PriceQuote,
    Resources,
    SourceStatus,
    YarnMetrics,
)
from autoscaler.sim.billing import PriceBook
from autoscaler.sim.jobrun import JobRun
from autoscaler.sim.node import Lifecycle, SimNode
from autoscaler.sim.pool import SimPool
from autoscaler.sim.spec import BAND_MONTHLY_RATE, ClusterSpec
from autoscaler.sim.workload import Workload


class SimState(Protocol):
    """What a snapshot is built from (`SimCluster` has it; this module does not import the cluster)."""

    now: float
    cluster_id: str
    cluster_state: str
    spec: ClusterSpec
    prices: PriceBook
    workload: Workload
    pools: dict[str, SimPool]


@dataclass(slots=True)
class SnapshotCache:
    """Views built for earlier snapshots, each kept until what it shows changes."""

    apps: dict[int, AppInfo] = field(default_factory=dict)  # active jobs, in submit order
    apps_tuple: tuple[AppInfo, ...] = ()
    nodes: dict[int, tuple[int, NodeInfo]] = field(default_factory=dict)  # by node seq: (node version, view)
    instances: dict[int, tuple[bool, InstanceInfo]] = field(default_factory=dict)  # by seq: (booting, view)
    pools: dict[str, tuple[int, CapacityPool]] = field(default_factory=dict)  # by pool id: (pool version, view)


def app_info(jr: JobRun, start_at: float) -> AppInfo:
    job = jr.job
    app_id = f"application_{int(start_at)}_{jr.seq + 1:04d}"
    ask = jr.pending_ask()
    return AppInfo(
        app_id=app_id,
        state="ACCEPTED" if jr.accepted else "RUNNING",
        queue=job.queue,
        am_host=jr.am_node.host if jr.am_node is not None else None,
        pending=() if ask is None else (PendingRequest(ask[0], ask[1], app_id, job.queue),),
        submitted_at=start_at + job.submit_s,
    )


def _node_info(n: SimNode) -> NodeInfo:
    used_mem, used_vc = n.cap_mem - n.free_mem, n.cap_vc - n.free_vc
    return NodeInfo(
        host=n.host,
        state=NodeState.RUNNING if n.state is Lifecycle.RUNNING else NodeState.DECOMMISSIONING,
        num_containers=n.containers + n.ams,
        used=Resources(used_mem, used_vc),
        # over-committed vcores (memory-only scheduling) read as 0 free, as our YARN source parses them
        available=Resources(n.free_mem, max(n.free_vc, 0)),
        last_health_update_s=n.changed_at,
        instance_id=n.instance_id,
        pool_id=n.pool_id,
        market=n.market,
        hosts_am=bool(n.ams),
    )


def _instance_info(n: SimNode) -> InstanceInfo:
    return InstanceInfo(
        instance_id=n.instance_id,
        pool_id=n.pool_id,
        instance_type=n.instance_type,
        market=n.market,
        state=InstanceState.PROVISIONING if n.state is Lifecycle.BOOTING else InstanceState.RUNNING,
        private_dns=n.host,
        launched_at=n.requested_at,
        weight=n.weight,
    )


def _units(nodes: list[SimNode]) -> Capacity:
    od = sum(n.weight for n in nodes if n.market is Market.ON_DEMAND)
    return Capacity(od, sum(n.weight for n in nodes if n.market is Market.SPOT))


def pool_view(pool: SimPool) -> CapacityPool:
    nodes = list(pool.nodes.values())
    running = [n for n in nodes if n.state is Lifecycle.RUNNING]
    booting = [n for n in nodes if n.state is Lifecycle.BOOTING]
    leaving = [n for n in nodes if n.state is Lifecycle.DECOMMISSIONING]
    requested = Capacity(pool.target[Market.ON_DEMAND], pool.target[Market.SPOT])
    held = _units([n for n in nodes if n.state in (Lifecycle.BOOTING, Lifecycle.RUNNING)])
    spec = pool.spec
    # A group above its count is still shrinking; a fleet above target by less than one node's weight
    # is fulfilled (EMR overshoots weighted targets rather than miss them) and reads RUNNING.
    over = held.total > requested.total and spec.kind is PoolKind.INSTANCE_GROUP
    busy = bool(booting) or any(n.leaving for n in leaving) or over or pool.retry_at is not None
    return CapacityPool(
        pool_id=spec.pool_id,
        name=spec.name or f"{spec.role.value.lower()}-{spec.pool_id}",
        kind=spec.kind,
        role=spec.role,
        state=PoolState.RESIZING if busy else PoolState.RUNNING,
        requested=requested,
        running=_units(running),
        options=pool.options,
        market=spec.market if spec.kind is PoolKind.INSTANCE_GROUP else None,
        provisioning=_units(booting),
        decommissioning=_units(leaving),
    )


def _prices(cluster: SimState) -> tuple[PriceQuote, ...]:
    now, book, out = cluster.now, cluster.prices, {}
    for pool in cluster.pools.values():
        for o in pool.options:
            band = min(max(cluster.spec.band(pool.spec, o.instance_type), 0), len(BAND_MONTHLY_RATE) - 1)
            for market in Market:
                key = (o.instance_type, market)
                if key not in out:
                    out[key] = PriceQuote(
                        o.instance_type,
                        market,
                        book.ec2(o.instance_type, market, now),
                        book.emr(o.instance_type),
                        interruption_band=band if market is Market.SPOT else None,
                        observed_at=now,
                    )
    return tuple(out.values())


def _apps(workload: Workload, start_at: float, cache: SnapshotCache) -> tuple[AppInfo, ...]:
    changed = workload.take_changed()
    if changed:
        active = workload.active
        for seq in sorted(changed):  # new jobs have the highest seqs: submit order is kept
            jr = active.get(seq)
            if jr is None:
                cache.apps.pop(seq, None)
            else:
                cache.apps[seq] = app_info(jr, start_at)
        cache.apps_tuple = tuple(cache.apps.values())
    return cache.apps_tuple


def _node_views(
    cluster: SimState, cache: SnapshotCache
) -> tuple[tuple[NodeInfo, ...], tuple[InstanceInfo, ...], tuple[InterruptionNotice, ...]]:
    """YARN's nodes, EMR's instances and the interruption notices, each view rebuilt only when its node changed."""
    nodes: list[NodeInfo] = []
    instances: list[InstanceInfo] = []
    notices: list[InterruptionNotice] = []
    node_cache: dict[int, tuple[int, NodeInfo]] = {}
    instance_cache: dict[int, tuple[bool, InstanceInfo]] = {}
    old_nodes, old_instances = cache.nodes, cache.instances
    for pool in cluster.pools.values():
        for n in pool.nodes.values():
            seq = n.seq
            booting = n.state is Lifecycle.BOOTING
            inst = old_instances.get(seq)
            if inst is None or inst[0] != booting:
                inst = (booting, _instance_info(n))
            instance_cache[seq] = inst
            instances.append(inst[1])
            if n.notice_at is not None and n.doomed_at is not None:
                notices.append(InterruptionNotice(n.instance_id, "terminate", n.notice_at, n.doomed_at))
            if n.is_yarn_node:
                view = old_nodes.get(seq)
                if view is None or view[0] != n.version:
                    view = (n.version, _node_info(n))
                node_cache[seq] = view
                nodes.append(view[1])
    cache.nodes, cache.instances = node_cache, instance_cache
    return tuple(nodes), tuple(instances), tuple(notices)


def _pools(cluster: SimState, cache: SnapshotCache) -> tuple[CapacityPool, ...]:
    out = []
    for pool in cluster.pools.values():
        hit = cache.pools.get(pool.pool_id)
        if hit is None or hit[0] != pool.version:
            hit = (pool.version, pool_view(pool))
            cache.pools[pool.pool_id] = hit
        out.append(hit[1])
    return tuple(out)


def build_snapshot(cluster: SimState, cache: SnapshotCache) -> ClusterSnapshot:
    now = cluster.now
    workload = cluster.workload
    t = workload.totals
    apps = _apps(workload, cluster.spec.start_at, cache)
    nodes, instances, notices = _node_views(cluster, cache)
    running = sum(1 for n in nodes if n.state is NodeState.RUNNING)
    apps_pending = t.accepted
    yarn = YarnMetrics(
        apps_pending=apps_pending,
        apps_running=len(apps) - apps_pending,
        containers_pending=t.pending_containers,
        containers_allocated=t.allocated,
        pending_mb=t.pending_mem,
        pending_vcores=t.pending_vc,
        allocated_mb=t.total_mem - t.free_mem,
        allocated_vcores=t.total_vc - t.free_vc,
        available_mb=t.free_mem,
        available_vcores=t.free_vc if t.free_vc >= 0 else None,  # YARN's negative count: unknown
        reserved_mb=0,
        reserved_vcores=0,
        total_mb=t.total_mem,
        total_vcores=t.total_vc,
        active_nodes=running,
        decommissioning_nodes=len(nodes) - running,
        unhealthy_nodes=0,
        lost_nodes=0,
        shutdown_nodes=0,
    )
    allocated, pend_n = t.allocated, t.pending_containers
    cloudwatch = {
        "YARNMemoryAvailablePercentage": 100.0 * t.free_mem / t.total_mem if t.total_mem else 0.0,
        "ContainerAllocated": float(allocated),
        "ContainerPending": float(pend_n),
        "ContainerPendingRatio": pend_n / allocated if allocated else float(pend_n > 0),
        "AppsPending": float(apps_pending),
        "AppsRunning": float(len(apps) - apps_pending),
        "MemoryTotalMB": float(t.total_mem),
        "MemoryAvailableMB": float(t.free_mem),
        "IsIdle": float(not apps),
    }
    return ClusterSnapshot(
        cluster_id=cluster.cluster_id,
        taken_at=now,
        cluster_state=cluster.cluster_state,
        yarn=yarn,
        nodes=nodes,
        apps=apps,
        pools=_pools(cluster, cache),
        instances=instances,
        prices=_prices(cluster),
        interruptions=notices,
        cloudwatch=MappingProxyType(cloudwatch),
        sources=tuple(SourceStatus(name, True, now) for name in ("yarn", "emr", "prices")),
    )
