"""One cluster's sources, and `collect`: every source read once into an immutable ClusterSnapshot.

`collect` never raises. Each source's failure becomes a `SourceStatus(ok=False)`; YARN and EMR are
required (a snapshot without them is stale and no resize may be decided on it), CloudWatch, prices
and interruption notices are optional extras. YARN nodes are joined to EMR instances by host name
(nodeHostName == PrivateDnsName) so policies know which EC2 instance, pool and market each node is,
and nodes running an ApplicationMaster are marked so they are never chosen to drain.

Each source's `fetched_at` is when it answered: `now` (the tick start, the snapshot's `taken_at`)
plus the seconds elapsed since `collect` began, measured on an injectable monotonic clock. A required
source that answered more than `guards.stale_after_s` after the tick began is marked failed
(`engine.source_lateness` decides), so a tick that took that long is stale everywhere: the engine,
the `snapshot_stale` gauge, `/readyz` and the `tick` event.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TypeVar

from autoscaler.aws import CallObserver, Clients
from autoscaler.config import ClusterConfig
from autoscaler.engine import source_lateness
from autoscaler.model import (
    AppInfo,
    ClusterSnapshot,
    InstanceInfo,
    InterruptionNotice,
    NodeInfo,
    PriceQuote,
    SourceStatus,
)
from autoscaler.prices import SpotHistory, load_ondemand_table, load_spot_advisor
from autoscaler.sources.cloudwatch import CloudWatchReader
from autoscaler.sources.emr import EmrReader, EmrState
from autoscaler.sources.interruptions import InterruptionReader
from autoscaler.sources.pricing import PriceBook
from autoscaler.sources.yarn import YarnClient, YarnState

T = TypeVar("T")


@dataclass
class Sources:
    """The adapters for one cluster; optional ones are None when not configured."""

    yarn: YarnClient
    emr: EmrReader
    cloudwatch: CloudWatchReader | None = None
    prices: PriceBook | None = None
    interruptions: InterruptionReader | None = None


def build_sources(
    cluster: ClusterConfig,
    observer: CallObserver | None = None,
    clients: Clients | None = None,
    *,
    consume_interruptions: bool = True,
) -> Sources:
    """Clients for `cluster.region` (endpoints from AWS_ENDPOINT_URL*, credentials from the default chain).

    Raises only for configuration problems found at start (an unreadable price or Spot Advisor file).
    Spot quotes carry the Spot Advisor band of `pricing.spot_advisor_file` (default: the bundled
    us-east-1 slice) so the guardrails can hold `spot.max_interruption_band`. `consume_interruptions=False`
    (explain) only looks at the Spot interruption queue: the daemon's messages stay for the daemon."""
    region = cluster.region
    pricing = cluster.pricing
    history = SpotHistory.load(pricing.spot_price_file, region=region) if pricing.spot_price_file else None
    advisor = load_spot_advisor(pricing.spot_advisor_file, region)
    client = clients or Clients(observer)  # a daemon shares one per service and region among its clusters
    ec2 = client("ec2", region) if pricing.describe_spot_history else None
    return Sources(
        yarn=YarnClient(cluster.yarn),
        emr=EmrReader(client("emr", region)),
        cloudwatch=CloudWatchReader(client("cloudwatch", region)) if cluster.cloudwatch else None,
        prices=PriceBook(pricing, load_ondemand_table(pricing.ondemand_file), ec2, history, advisor),
        interruptions=(
            InterruptionReader(client("sqs", region), cluster.interruptions_queue_url, consume=consume_interruptions)
            if cluster.interruptions_queue_url
            else None
        ),
    )


def _host_key(host: str) -> str:
    return host.strip().lower().rstrip(".")


def join_nodes(
    nodes: tuple[NodeInfo, ...], instances: tuple[InstanceInfo, ...], apps: tuple[AppInfo, ...]
) -> tuple[NodeInfo, ...]:
    """Fill each node's instance_id/pool_id/market from the instance with the same private DNS name
    (falling back to the short host name), and mark nodes hosting an ApplicationMaster."""
    by_dns: dict[str, InstanceInfo] = {}
    by_short: dict[str, InstanceInfo] = {}
    for inst in instances:
        if inst.private_dns:
            key = _host_key(inst.private_dns)
            by_dns[key] = inst
            by_short.setdefault(key.split(".", 1)[0], inst)
    am_hosts = {_host_key(a.am_host) for a in apps if a.am_host}
    am_short = {h.split(".", 1)[0] for h in am_hosts}
    out = []
    for node in nodes:
        key = _host_key(node.host)
        short = key.split(".", 1)[0]
        match = by_dns.get(key) or by_short.get(short)
        joined = node
        if match is not None:
            joined = replace(joined, instance_id=match.instance_id, pool_id=match.pool_id, market=match.market)
        if key in am_hosts or short in am_short:
            joined = replace(joined, hosts_am=True)
        out.append(joined)
    return tuple(out)


@dataclass(frozen=True)
class _Stamp:
    """Epoch seconds on the tick's timeline: `now` plus what `clock` says has elapsed since `start`."""

    now: float
    clock: Callable[[], float]
    start: float

    def __call__(self) -> float:
        return self.now + (self.clock() - self.start)


def _attempt(
    name: str, required: bool, stamp: Callable[[], float], read: Callable[[], T]
) -> tuple[T | None, SourceStatus]:
    try:
        value = read()
    except Exception as err:  # the contract: a failing source marks the snapshot, never raises
        return None, SourceStatus(name, False, stamp(), error=f"{type(err).__name__}: {err}", required=required)
    return value, SourceStatus(name, True, stamp(), required=required)


def _mark_late(statuses: list[SourceStatus], taken_at: float, stale_after_s: float) -> list[SourceStatus]:
    out = []
    for s in statuses:
        why = source_lateness(s, taken_at, stale_after_s) if s.required and s.ok else None
        out.append(s if why is None else replace(s, ok=False, error=why))
    return out


def collect(
    sources: Sources, cluster: ClusterConfig, now: float, clock: Callable[[], float] = time.monotonic
) -> ClusterSnapshot:
    """Read every source once; never raises. Missing or late required data leaves the snapshot stale.

    `now` is the tick start (`taken_at`); `clock` only measures how long each source took to answer
    (monotonic, so a wall-clock step during the tick cannot fake or hide a slow source)."""
    stamp = _Stamp(now, clock, clock())
    statuses: list[SourceStatus] = []
    yarn, status = _attempt("yarn", True, stamp, sources.yarn.fetch)
    if yarn is not None and yarn.notes:  # e.g. an RM whose scheduler endpoint fails: AM limits unknown
        status = replace(status, notes=yarn.notes)
    statuses.append(status)
    emr, status = _attempt("emr", True, stamp, lambda: sources.emr.read(cluster.cluster_id))
    if emr is not None and emr.notes:  # e.g. an endpoint without GetManagedScalingPolicy: tell the operator
        status = replace(status, notes=emr.notes)
    statuses.append(status)
    yarn_state: YarnState | None = yarn
    emr_state: EmrState | None = emr

    cloudwatch: dict[str, float] = {}
    if sources.cloudwatch is not None:
        cw_reader = sources.cloudwatch
        read_cw, status = _attempt("cloudwatch", False, stamp, lambda: cw_reader.read(cluster.cluster_id, now))
        cloudwatch = read_cw or {}
        statuses.append(status)

    prices: tuple[PriceQuote, ...] = ()
    if sources.prices is not None and emr_state is not None:
        book = sources.prices
        types = {o.instance_type for p in emr_state.pools for o in p.options}
        report, status = _attempt("pricing", False, stamp, lambda: book.quotes(types, now))
        if report is not None:
            prices = report.quotes
            if report.error:
                status = replace(status, ok=False, error=report.error)
        statuses.append(status)

    interruptions: tuple[InterruptionNotice, ...] = ()
    if sources.interruptions is not None:
        reader = sources.interruptions
        # the cluster's instances claim their messages; unknown (EMR unread): claim none, delete none
        ids = {i.instance_id for i in emr_state.instances} if emr_state is not None else set()
        notices, status = _attempt("interruptions", False, stamp, lambda: reader.poll(now, ids))
        interruptions = notices or ()
        if reader.left_on_queue:
            note = f"left {reader.left_on_queue} notice(s) about instances not in this cluster on the queue"
            status = replace(status, notes=(*status.notes, note))
        statuses.append(status)

    instances = emr_state.instances if emr_state else ()
    nodes = join_nodes(yarn_state.nodes, instances, yarn_state.apps) if yarn_state else ()
    return ClusterSnapshot(
        cluster_id=cluster.cluster_id,
        taken_at=now,
        cluster_state=emr_state.cluster_state if emr_state else "UNKNOWN",
        yarn=yarn_state.metrics if yarn_state else None,
        nodes=nodes,
        apps=yarn_state.apps if yarn_state else (),
        pools=emr_state.pools if emr_state else (),
        instances=instances,
        prices=prices,
        interruptions=interruptions,
        cloudwatch=MappingProxyType(cloudwatch),
        sources=tuple(_mark_late(statuses, now, cluster.guards.stale_after_s)),
        managed_scaling_enabled=emr_state.managed_scaling_enabled if emr_state else False,
        am_limits=yarn_state.am_limits if yarn_state else (),
    )
