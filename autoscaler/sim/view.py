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
from itertools import chain
from operator import is_
from types import MappingProxyType
from typing import Protocol, TypeVar

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
    QueueAmLimit,
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

_V = TypeVar("_V")


class SimState(Protocol):
    """What a snapshot is built from (`SimCluster` has it; this module does not import the cluster)."""

    now: float
    cluster_id: str
    cluster_state: str
    spec: ClusterSpec
    prices: PriceBook
    workload: Workload
    pools: dict[str, SimPool]


class PoolNodes:
    """One pool's node views, each dict in launch order (node seq), as EMR and YARN list them."""

    __slots__ = ("instances", "notices", "yarn")

    def __init__(self) -> None:
        self.instances: dict[int, InstanceInfo] = {}
        self.yarn: dict[int, NodeInfo] = {}  # NodeManagers YARN lists (RUNNING, DECOMMISSIONING)
        self.notices: dict[int, InterruptionNotice] = {}


@dataclass(slots=True)
class SnapshotCache:
    """Views built for earlier snapshots, each kept until what it shows changes.

    Nodes report their changes into `changed_nodes` (`SimNode.touch`); only those are re-viewed.
    """

    changed_nodes: set[SimNode] = field(default_factory=set)
    apps: dict[int, AppInfo] = field(default_factory=dict)  # active jobs, in submit order
    apps_tuple: tuple[AppInfo, ...] = ()
    by_pool: dict[str, PoolNodes] = field(default_factory=dict)
    node_tuples: tuple[tuple[NodeInfo, ...], tuple[InstanceInfo, ...], tuple[InterruptionNotice, ...]] = (
        (),
        (),
        (),
    )
    pools: dict[str, tuple[int, CapacityPool]] = field(default_factory=dict)  # by pool id: (pool version, view)
    # one `Resources` per distinct (MB, vcores): a view of a node or app reuses it instead of building it
    resources: dict[tuple[int, int], Resources] = field(default_factory=dict)
    # node views put out of seq order since the last snapshot, sorted once before it (`_put`)
    unsorted: dict[int, dict[int, object]] = field(default_factory=dict)
    # the quotes' fixed parts, (type, market, EMR charge, band), for the pools' options they were built from
    price_layout: tuple[tuple[object, ...], tuple[tuple[str, Market, float, int | None], ...]] = ((), ())

    def res(self, memory_mb: int, vcores: int) -> Resources:
        """The (shared, immutable) `Resources(memory_mb, vcores)`."""
        key = (memory_mb, vcores)
        found = self.resources.get(key)
        if found is None:
            found = self.resources[key] = Resources(memory_mb, vcores)
        return found


def app_info(jr: JobRun, start_at: float, cache: SnapshotCache, seen: AppInfo | None = None) -> AppInfo:
    """The app's view; `seen` is its previous one, whose id and unchanged ask are reused (not rebuilt)."""
    job = jr.job
    app_id = seen.app_id if seen is not None else f"application_{int(start_at)}_{jr.seq + 1:04d}"
    ask = jr.pending_ask()
    pending: tuple[PendingRequest, ...] = ()
    if ask is not None:
        was = seen.pending if seen is not None else ()
        if was and was[0].count == ask[1] and was[0].shape == ask[0]:
            pending = was
        else:
            pending = (PendingRequest(ask[0], ask[1], app_id, job.queue),)
    am = job.am if jr.am_node is not None else None  # the AM holds its container from placement on
    am_mb, am_vc = (am.memory_mb, am.vcores) if am is not None else (0, 0)
    # positional, in AppInfo's field order (this runs for every app that changed, every tick)
    return AppInfo(
        app_id,
        "ACCEPTED" if jr.accepted else "RUNNING",
        job.queue,
        jr.am_node.host if jr.am_node is not None else None,
        pending,
        start_at + job.submit_s,
        cache.res(jr.running * jr.shape.memory_mb + am_mb, jr.running * jr.shape.vcores + am_vc),
        jr.running + (am is not None),
    )


def _node_info(n: SimNode, cache: SnapshotCache) -> NodeInfo:
    # positional, in NodeInfo's field order (this runs for every node that changed, every tick): host,
    # state, num_containers, used, available (over-committed vcores under memory-only scheduling read
    # as 0 free, as our YARN source parses them), last_health_update_s, instance_id, pool_id, market, hosts_am
    known = cache.resources  # `cache.res`, inline: two lookups per view
    used_key = (n.cap_mem - n.free_mem, n.cap_vc - n.free_vc)
    free_key = (n.free_mem, n.free_vc if n.free_vc > 0 else 0)
    return NodeInfo(
        n.host,
        NodeState.RUNNING if n.state is Lifecycle.RUNNING else NodeState.DECOMMISSIONING,
        n.containers + n.ams,
        known.get(used_key) or cache.res(*used_key),
        known.get(free_key) or cache.res(*free_key),
        n.changed_at,
        n.instance_id,
        n.pool_id,
        n.market,
        n.ams != 0,
    )


def _instance_info(n: SimNode) -> InstanceInfo:
    # positional, in InstanceInfo's field order: id, pool, type, market, state, private DNS, launched_at, weight
    return InstanceInfo(
        n.instance_id,
        n.pool_id,
        n.instance_type,
        n.market,
        InstanceState.PROVISIONING if n.state is Lifecycle.BOOTING else InstanceState.RUNNING,
        n.host,
        n.requested_at,
        n.weight,
    )


def pool_view(pool: SimPool) -> CapacityPool:
    # one pass over the pool's nodes: [on-demand, Spot] units running, booting and decommissioning
    run, boot, leave = [0, 0], [0, 0], [0, 0]
    booting = draining = False  # draining: a node leaving by our shrink, still decommissioning
    for n in pool.nodes.values():
        state = n.state
        if state is Lifecycle.RUNNING:
            units = run
        elif state is Lifecycle.BOOTING:
            units, booting = boot, True
        elif state is Lifecycle.DECOMMISSIONING:
            units, draining = leave, draining or n.leaving
        else:
            continue
        if n.market is Market.ON_DEMAND:
            units[0] += n.weight
        elif n.market is Market.SPOT:
            units[1] += n.weight
    requested = Capacity(pool.target[Market.ON_DEMAND], pool.target[Market.SPOT])
    held = boot[0] + run[0] + boot[1] + run[1]
    spec = pool.spec
    # A group above its count is still shrinking; a fleet above target by less than one node's weight
    # is fulfilled (EMR overshoots weighted targets rather than miss them) and reads RUNNING.
    over = held > requested.total and spec.kind is PoolKind.INSTANCE_GROUP
    busy = booting or draining or over or pool.retry_at is not None
    return CapacityPool(
        pool_id=spec.pool_id,
        name=spec.name or f"{spec.role.value.lower()}-{spec.pool_id}",
        kind=spec.kind,
        role=spec.role,
        state=PoolState.RESIZING if busy else PoolState.RUNNING,
        requested=requested,
        running=Capacity(*run),
        options=pool.options,
        market=spec.market if spec.kind is PoolKind.INSTANCE_GROUP else None,
        provisioning=Capacity(*boot),
        decommissioning=Capacity(*leave),
    )


def _price_layout(cluster: SimState) -> tuple[tuple[str, Market, float, int | None], ...]:
    """Each quoted (type, market) once, in pool and option order, with what does not move with time."""
    book, out = cluster.prices, {}
    for pool in cluster.pools.values():
        for o in pool.options:
            band = min(max(cluster.spec.band(pool.spec, o.instance_type), 0), len(BAND_MONTHLY_RATE) - 1)
            for market in Market:
                key = (o.instance_type, market)
                if key not in out:
                    out[key] = (
                        o.instance_type,
                        market,
                        book.emr(o.instance_type),
                        band if market is Market.SPOT else None,
                    )
    return tuple(out.values())


def _prices(cluster: SimState, cache: SnapshotCache) -> tuple[PriceQuote, ...]:
    now, book = cluster.now, cluster.prices
    built_for = tuple(x for pool in cluster.pools.values() for x in (pool.spec, pool.options))
    seen, layout = cache.price_layout
    if len(seen) != len(built_for) or not all(map(is_, seen, built_for)):
        layout = _price_layout(cluster)
        cache.price_layout = (built_for, layout)
    # positional, in PriceQuote's field order: type, market, EC2 now, EMR, band (Spot only), observed_at
    return tuple(PriceQuote(t, m, book.ec2(t, m, now), emr, band, now) for t, m, emr, band in layout)


def _apps(workload: Workload, start_at: float, cache: SnapshotCache) -> tuple[AppInfo, ...]:
    changed = workload.take_changed()
    if changed:
        active = workload.active
        apps = cache.apps
        for seq in sorted(changed):  # new jobs have the highest seqs: submit order is kept
            jr = active.get(seq)
            if jr is None:
                apps.pop(seq, None)
            else:
                apps[seq] = app_info(jr, start_at, cache, apps.get(seq))
        cache.apps_tuple = tuple(cache.apps.values())
    return cache.apps_tuple


def _put(views: dict[int, _V], seq: int, view: _V, cache: SnapshotCache) -> None:
    """Set `views[seq]`; a dict put out of seq order (nodes come up out of launch order) is sorted once
    before the snapshot is built (`_sort_unsorted`), however many nodes came up."""
    if seq not in views and views and seq < next(reversed(views)):
        cache.unsorted[id(views)] = views  # type: ignore[assignment] # sorted by key, values untouched
    views[seq] = view


def _sort_unsorted(cache: SnapshotCache) -> None:
    for views in cache.unsorted.values():
        ordered = sorted(views.items())
        views.clear()
        views.update(ordered)
    cache.unsorted.clear()


def _review(node: SimNode, views: PoolNodes, cache: SnapshotCache) -> None:
    """Bring one changed node's views up to date."""
    seq = node.seq
    if node.state is Lifecycle.TERMINATED:
        views.instances.pop(seq, None)
        views.yarn.pop(seq, None)
        views.notices.pop(seq, None)
        return
    booting = node.state is Lifecycle.BOOTING
    seen = views.instances.get(seq)
    if seen is None or (seen.state is InstanceState.PROVISIONING) != booting:  # the only part that changes
        _put(views.instances, seq, _instance_info(node), cache)
    if node.is_yarn_node:
        if seq in views.yarn:
            views.yarn[seq] = _node_info(node, cache)
        else:
            _put(views.yarn, seq, _node_info(node, cache), cache)
    else:
        views.yarn.pop(seq, None)
    if node.notice_at is not None and node.doomed_at is not None:
        notice = InterruptionNotice(node.instance_id, "terminate", node.notice_at, node.doomed_at)
        _put(views.notices, seq, notice, cache)
    else:
        views.notices.pop(seq, None)


def _node_views(
    cluster: SimState, cache: SnapshotCache
) -> tuple[tuple[NodeInfo, ...], tuple[InstanceInfo, ...], tuple[InterruptionNotice, ...]]:
    """YARN's nodes, EMR's instances and the interruption notices, in pool then launch order; only the
    nodes that changed since the last snapshot are viewed again."""
    if cache.changed_nodes:
        running = Lifecycle.RUNNING
        for node in cache.changed_nodes:
            views = cache.by_pool.get(node.pool_id)
            if views is None:
                views = cache.by_pool[node.pool_id] = PoolNodes()
            if node.state is running and node.notice_at is None and node.seq in views.yarn:
                # running when last viewed too (nothing returns to RUNNING), no notice: only YARN's report changed
                views.yarn[node.seq] = _node_info(node, cache)
            else:
                _review(node, views, cache)
        cache.changed_nodes.clear()
        _sort_unsorted(cache)
        pools = [cache.by_pool[p] for p in cluster.pools if p in cache.by_pool]
        cache.node_tuples = (
            tuple(chain.from_iterable(v.yarn.values() for v in pools)),
            tuple(chain.from_iterable(v.instances.values() for v in pools)),
            tuple(chain.from_iterable(v.notices.values() for v in pools)),
        )
    return cache.node_tuples


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
    running = workload.running_nodes
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
        prices=_prices(cluster, cache),
        interruptions=notices,
        cloudwatch=MappingProxyType(cloudwatch),
        sources=tuple(SourceStatus(name, True, now) for name in ("yarn", "emr", "prices")),
        # the simulated CapacityScheduler's one AM limit, as `/ws/v1/cluster/scheduler` reports it
        am_limits=(
            QueueAmLimit("default", workload.am_share, int(workload.am_share * t.total_mem), workload.am_used_mb),
        ),
    )
