"""The simulated cluster seen through the daemon's sources: one `ClusterSnapshot` at `now`.

What YARN would report (RUNNING and DECOMMISSIONING NodeManagers, cluster metrics over RUNNING
nodes, apps with their outstanding asks), what EMR would list (pools with requested / running /
provisioning / decommissioning kept apart, instances with their private DNS = YARN host), the
prices in force and the CloudWatch metrics EMR publishes. Every source is reported ok.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

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
from autoscaler.sim.spec import BAND_MONTHLY_RATE
from autoscaler.sim.workload import AM_PENDING, AM_READY, BOOTING, DECOMMISSIONING, RUNNING, JobRun, SimNode

if TYPE_CHECKING:
    from autoscaler.sim.cluster import SimCluster, SimPool


def app_info(jr: JobRun, start_at: float, cache: dict[int, tuple[int, AppInfo]]) -> AppInfo:
    hit = cache.get(jr.seq)
    if hit is not None and hit[0] == jr.version:
        return hit[1]
    job = jr.job
    pending: list[PendingRequest] = []
    app_id = f"application_{int(start_at)}_{jr.seq + 1:04d}"
    if jr.am_state == AM_PENDING and job.am is not None:
        pending.append(PendingRequest(job.am, 1, app_id, job.queue))
    elif jr.am_state == AM_READY and jr.runs:
        stage = job.stages[jr.stage]
        pending.append(PendingRequest(stage.shape, jr.pending_tasks, app_id, job.queue))
    info = AppInfo(
        app_id=app_id,
        state="ACCEPTED" if jr.am_state == AM_PENDING or jr.started_at is None else "RUNNING",
        queue=job.queue,
        am_host=jr.am_node.host if jr.am_node is not None else None,
        pending=tuple(pending),
        submitted_at=start_at + job.submit_s,
    )
    cache[jr.seq] = (jr.version, info)
    return info


def _node_info(n: SimNode, now: float) -> NodeInfo:
    used_mem, used_vc = n.cap_mem - n.free_mem, n.cap_vc - n.free_vc
    return NodeInfo(
        host=n.host,
        state=NodeState.RUNNING if n.state == RUNNING else NodeState.DECOMMISSIONING,
        num_containers=sum(b.count for b in n.batches) + len(n.am_jobs),
        used=Resources(used_mem, used_vc),
        # over-committed vcores (memory-only scheduling) read as 0 free, as our YARN source parses them
        available=Resources(n.free_mem, max(n.free_vc, 0)),
        last_health_update_s=now,
        instance_id=n.instance_id,
        pool_id=n.pool_id,
        market=n.market,
        hosts_am=bool(n.am_jobs),
    )


def _units(nodes: list[SimNode]) -> Capacity:
    od = sum(n.weight for n in nodes if n.market is Market.ON_DEMAND)
    return Capacity(od, sum(n.weight for n in nodes if n.market is Market.SPOT))


def pool_view(pool: SimPool) -> CapacityPool:
    nodes = list(pool.nodes.values())
    running = [n for n in nodes if n.state == RUNNING]
    booting = [n for n in nodes if n.state == BOOTING]
    leaving = [n for n in nodes if n.state == DECOMMISSIONING]
    requested = Capacity(pool.target[Market.ON_DEMAND], pool.target[Market.SPOT])
    held = _units([n for n in nodes if n.state in (BOOTING, RUNNING)])
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


def _prices(cluster: SimCluster) -> tuple[PriceQuote, ...]:
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


def build_snapshot(cluster: SimCluster) -> ClusterSnapshot:
    now = cluster.now
    workload = cluster.workload
    all_nodes = cluster.live_nodes()
    yarn_nodes = [n for n in all_nodes if n.is_nodemanager and n.state in (RUNNING, DECOMMISSIONING)]
    running = [n for n in yarn_nodes if n.state == RUNNING]
    apps = tuple(app_info(jr, cluster.spec.start_at, cluster.app_cache) for jr in workload.active.values())
    pend_n = pend_mb = pend_vc = 0
    for a in apps:
        for r in a.pending:
            pend_n += r.count
            pend_mb += r.count * r.shape.memory_mb
            pend_vc += r.count * r.shape.vcores
    total_mb = sum(n.cap_mem for n in running)
    total_vc = sum(n.cap_vc for n in running)
    avail_mb = sum(n.free_mem for n in running)
    avail_vc = sum(n.free_vc for n in running)
    allocated = sum(sum(b.count for b in n.batches) + len(n.am_jobs) for n in yarn_nodes)
    apps_pending = sum(1 for a in apps if a.state == "ACCEPTED")
    yarn = YarnMetrics(
        apps_pending=apps_pending,
        apps_running=len(apps) - apps_pending,
        containers_pending=pend_n,
        containers_allocated=allocated,
        pending_mb=pend_mb,
        pending_vcores=pend_vc,
        allocated_mb=total_mb - avail_mb,
        allocated_vcores=total_vc - avail_vc,
        available_mb=avail_mb,
        available_vcores=avail_vc if avail_vc >= 0 else None,  # YARN's negative count: unknown
        reserved_mb=0,
        reserved_vcores=0,
        total_mb=total_mb,
        total_vcores=total_vc,
        active_nodes=len(running),
        decommissioning_nodes=len(yarn_nodes) - len(running),
        unhealthy_nodes=0,
        lost_nodes=0,
        shutdown_nodes=0,
    )
    instances = tuple(
        InstanceInfo(
            instance_id=n.instance_id,
            pool_id=n.pool_id,
            instance_type=n.instance_type,
            market=n.market,
            state=InstanceState.PROVISIONING if n.state == BOOTING else InstanceState.RUNNING,
            private_dns=n.host,
            launched_at=n.requested_at,
            weight=n.weight,
        )
        for n in all_nodes
    )
    notices = tuple(
        InterruptionNotice(n.instance_id, "terminate", n.notice_at, n.doomed_at)
        for n in all_nodes
        if n.notice_at is not None and n.doomed_at is not None
    )
    pct = 100.0 * avail_mb / total_mb if total_mb else 0.0
    cloudwatch = {
        "YARNMemoryAvailablePercentage": pct,
        "ContainerAllocated": float(allocated),
        "ContainerPending": float(pend_n),
        "ContainerPendingRatio": pend_n / allocated if allocated else float(pend_n > 0),
        "AppsPending": float(apps_pending),
        "AppsRunning": float(len(apps) - apps_pending),
        "MemoryTotalMB": float(total_mb),
        "MemoryAvailableMB": float(avail_mb),
        "IsIdle": float(not apps),
    }
    return ClusterSnapshot(
        cluster_id=cluster.cluster_id,
        taken_at=now,
        cluster_state=cluster.cluster_state,
        yarn=yarn,
        nodes=tuple(_node_info(n, now) for n in yarn_nodes),
        apps=apps,
        pools=tuple(pool_view(p) for p in cluster.pools.values()),
        instances=instances,
        prices=_prices(cluster),
        interruptions=notices,
        cloudwatch=MappingProxyType(cloudwatch),
        sources=tuple(SourceStatus(name, True, now) for name in ("yarn", "emr", "prices")),
    )
