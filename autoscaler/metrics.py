"""Every Prometheus metric the daemon exports, defined once (the server is in `metrics_server`).

Each `Metrics` owns its own `CollectorRegistry` (no process-global registry), so tests and the
emulator can run several daemons in one process. Names follow Prometheus conventions: the
`emr_autoscaler_` prefix, base units in the name, `_total` on counters, and labels with bounded
values only (cluster, pool, policy, reason, operation, service, outcome, code) — never instance ids
or URLs.
"""

from __future__ import annotations

import contextlib
import platform
from collections.abc import Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from autoscaler import __version__
from autoscaler.metrics_clusters import ClusterMetrics
from autoscaler.metrics_server import HEALTHY_INTERVALS, Health, MetricsServer
from autoscaler.model import (
    ClusterSnapshot,
    Decision,
    NoticeStatus,
    Outcome,
    OutcomeStatus,
    RejectReason,
)
from autoscaler.shadow import ShadowResult
from autoscaler.spend import estimated_usd_per_hour

_AWS_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_TICK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

OTHER = "other"
"""The label value of a pool or policy that is not in the config: keeps `rejections_total`'s series bounded."""

__all__ = ["HEALTHY_INTERVALS", "Health", "Metrics", "MetricsServer", "estimated_usd_per_hour"]


class Metrics:
    """The daemon's metrics; `observe_aws_call` has the `aws.CallObserver` signature."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        c, cp = ["cluster"], ["cluster", "pool"]
        # YARN reports MB; Prometheus wants base units (promtool rejects "mb"), so these are bytes
        self.yarn_pending_bytes = Gauge(
            "emr_autoscaler_yarn_pending_memory_bytes", "YARN pending memory (pendingMB).", c, registry=r
        )
        self.yarn_available_bytes = Gauge(
            "emr_autoscaler_yarn_available_memory_bytes", "YARN available memory (availableMB).", c, registry=r
        )
        self.yarn_allocated_bytes = Gauge(
            "emr_autoscaler_yarn_allocated_memory_bytes", "YARN allocated memory (allocatedMB).", c, registry=r
        )
        self.yarn_pending_vcores = Gauge("emr_autoscaler_yarn_pending_vcores", "YARN pending vcores.", c, registry=r)
        self.yarn_available_vcores = Gauge(
            "emr_autoscaler_yarn_available_vcores", "YARN available vcores.", c, registry=r
        )
        self.yarn_allocated_vcores = Gauge(
            "emr_autoscaler_yarn_allocated_vcores", "YARN allocated vcores.", c, registry=r
        )
        self.yarn_active_nodes = Gauge(
            "emr_autoscaler_yarn_active_nodes", "YARN nodes in RUNNING state.", c, registry=r
        )
        self.pool_requested = Gauge(
            "emr_autoscaler_pool_requested_units", "Units EMR holds as the pool's target.", cp, registry=r
        )
        self.pool_running = Gauge(
            "emr_autoscaler_pool_running_units", "Units of the pool that are running.", cp, registry=r
        )
        self.pool_target = Gauge(
            "emr_autoscaler_pool_target_units",
            "Units the last plan asked for (requested when no resize).",
            cp,
            registry=r,
        )
        self.decisions = Counter(
            "emr_autoscaler_decisions_total", "Planned resizes by what the actuator did.", [*cp, "outcome"], registry=r
        )
        self.rejections = Counter(
            "emr_autoscaler_rejections_total",
            "Recommendations turned down, by pool, policy and reason. pool: a configured pool (or, with no"
            " `pools:` list, one EMR lists), policy: a configured policy's name; any other value is counted"
            ' as `other`, and `""` means the rejection names no pool or policy.',
            [*cp, "policy", "reason"],
            registry=r,
        )
        self.recommendations = Counter(
            "emr_autoscaler_recommendations_total",
            "Policy recommendations, by policy and direction (up, down, hold).",
            [*c, "policy", "direction"],
            registry=r,
        )
        self.unschedulable_shapes = Gauge(
            "emr_autoscaler_unschedulable_shapes",
            "Pending container shapes that fit no managed pool's node type.",
            c,
            registry=r,
        )
        self.budget_bound = Gauge(
            "emr_autoscaler_budget_bound",
            "1 when the last tick's scale-up was cut by a policy's budget_usd_per_hour (reason budget).",
            c,
            registry=r,
        )
        self.interruption_notices = Counter(
            "emr_autoscaler_interruption_notices_total",
            "Spot notices, each counted once when first seen: kind interruption (EC2's two-minute warning) or"
            " rebalance (a rebalance recommendation). A notice for an instance not in the cluster is counted"
            " and then ignored (the tick log says so).",
            [*c, "kind"],
            registry=r,
        )
        self.interruption_replacements = Counter(
            "emr_autoscaler_interruption_replacements_total",
            "Noticed Spot instances whose replacement a written resize bought (dry run: would have), by the"
            " pool that bought it (the noticed instance's own pool, or another after spot.failover_after_notices).",
            cp,
            registry=r,
        )
        self.aws_call_seconds = Histogram(
            "emr_autoscaler_aws_call_duration_seconds",
            "AWS API call latency.",
            ["service", "operation"],
            buckets=_AWS_BUCKETS,
            registry=r,
        )
        self.aws_errors = Counter(
            "emr_autoscaler_aws_call_errors_total",
            "AWS API calls that failed.",
            ["service", "operation", "code"],
            registry=r,
        )
        self.tick_seconds = Histogram(
            "emr_autoscaler_tick_duration_seconds",
            "Wall time of one cluster's tick.",
            c,
            buckets=_TICK_BUCKETS,
            registry=r,
        )
        self.ticks = Counter(
            "emr_autoscaler_ticks_total", "Ticks by result (ok, stale, error).", [*c, "outcome"], registry=r
        )
        self.last_success = Gauge(
            "emr_autoscaler_last_successful_tick_timestamp_seconds",
            "Unix time of the last tick that completed on a fresh snapshot.",
            c,
            registry=r,
        )
        self.snapshot_stale = Gauge(
            "emr_autoscaler_snapshot_stale",
            "1 when the last snapshot was stale (a required source failed).",
            c,
            registry=r,
        )
        self.usd_per_hour = Gauge(
            "emr_autoscaler_estimated_cost_usd_per_hour",
            "Estimated EC2 + EMR cost of the cluster's instances right now.",
            c,
            registry=r,
        )
        self.shadow_target = Gauge(
            "emr_autoscaler_shadow_target_units",
            "Units a shadow policy (shadow_policies, never acting) would hold in the pool after this tick.",
            [*cp, "policy"],
            registry=r,
        )
        self.shadow_usd_per_hour = Gauge(
            "emr_autoscaler_shadow_cost_usd_per_hour",
            "A shadow policy's would-be spend rate: the estimated cost plus the units its plan would add or"
            " remove, at each pool's first instance type. Absent while a price it needs is unknown.",
            [*c, "policy"],
            registry=r,
        )
        self.shadow_errors = Counter(
            "emr_autoscaler_shadow_errors_total",
            "Ticks on which a shadow policy raised (the live decision is unaffected).",
            [*c, "policy"],
            registry=r,
        )
        self.record_lines = Counter(
            "emr_autoscaler_record_lines_total", "Ticks written to the cluster's record_dir.", c, registry=r
        )
        self.record_bytes = Counter(
            "emr_autoscaler_record_written_bytes_total", "Bytes written to the cluster's record_dir.", c, registry=r
        )
        self.record_dropped = Counter(
            "emr_autoscaler_record_dropped_total",
            "Ticks not recorded, by reason: queue_full (the writer is recording.queue_ticks behind; the tick never"
            " waits), write_error (disk full, permission, read-only), encode_error.",
            [*c, "reason"],
            registry=r,
        )
        self.dry_run = Gauge("emr_autoscaler_dry_run", "1 when the daemon writes nothing (dry-run).", registry=r)
        self.lease_held = Gauge(
            "emr_autoscaler_lease_held",
            "HA (ha.lease_table): 1 on the replica holding the cluster's lease, 0 on a standby.",
            c,
            registry=r,
        )
        self.clusters = ClusterMetrics(r)  # the worker pool's rounds and discovery
        vars(self).update(vars(self.clusters))  # its metrics listed in the reference like the others
        self.build_info = Gauge(
            "emr_autoscaler_build_info",
            "Always 1; the labels say which version runs on which Python.",
            ["version", "python"],
            registry=r,
        )
        self.build_info.labels(__version__, platform.python_version()).set(1)
        ProcessCollector(registry=r)  # process_cpu_seconds_total, process_resident_memory_bytes, ...
        PlatformCollector(registry=r)  # python_info
        self._pools_seen: dict[str, set[str]] = {}
        self._label_values: dict[str, tuple[frozenset[str], frozenset[str] | None]] = {}

    def expect(self, cluster: str, policies: Iterable[str], pools: Iterable[str] | None = None) -> None:
        """The `policy` and `pool` label values `rejections_total` may carry for `cluster` (see its help).

        Without a call, every policy is `other`; `pools=None` allows the pools EMR lists for the cluster.
        """
        self._label_values[cluster] = (frozenset(policies), None if pools is None else frozenset(pools))

    def _bounded(self, snapshot: ClusterSnapshot, pool: str | None, policy: str | None) -> tuple[str, str]:
        policies, pools = self._label_values.get(snapshot.cluster_id, (frozenset(), None))
        known_pools = pools if pools is not None else {p.pool_id for p in snapshot.pools}
        return (
            "" if pool is None else pool if pool in known_pools else OTHER,
            "" if policy is None else policy if policy in policies else OTHER,
        )

    def observe_aws_call(self, service: str, operation: str, seconds: float, error: str | None) -> None:
        self.aws_call_seconds.labels(service, operation).observe(seconds)
        if error is not None:
            self.aws_errors.labels(service, operation, error).inc()

    def set_dry_run(self, dry_run: bool) -> None:
        self.dry_run.set(1 if dry_run else 0)

    def set_lease_held(self, cluster: str, held: bool) -> None:
        """HA: 1 on the holder. A standby reads nothing of the cluster, so it drops the cluster's state
        gauges it exported as a former leader: a stale figure of its own must not alert beside the
        leader's (`max by (cluster)`)."""
        self.lease_held.labels(cluster).set(1 if held else 0)
        if held:
            return
        state = [self.snapshot_stale, self.unschedulable_shapes, self.budget_bound, self.usd_per_hour]
        state += [self.yarn_pending_bytes, self.yarn_available_bytes, self.yarn_allocated_bytes]
        state += [self.yarn_pending_vcores, self.yarn_available_vcores, self.yarn_allocated_vcores]
        for gauge in (*state, self.yarn_active_nodes):
            with contextlib.suppress(KeyError):
                gauge.remove(cluster)
        for pool in self._pools_seen.pop(cluster, set()):
            for pool_gauge in (self.pool_requested, self.pool_running, self.pool_target):
                with contextlib.suppress(KeyError):
                    pool_gauge.remove(cluster, pool)

    def record_snapshot(self, snapshot: ClusterSnapshot) -> None:
        cluster = snapshot.cluster_id
        self.snapshot_stale.labels(cluster).set(1 if snapshot.stale else 0)
        y = snapshot.yarn
        if y is not None:
            for gauge, value in (
                (self.yarn_pending_bytes, _bytes(y.pending_mb)),
                (self.yarn_available_bytes, _bytes(y.available_mb)),
                (self.yarn_allocated_bytes, _bytes(y.allocated_mb)),
                (self.yarn_pending_vcores, y.pending_vcores),
                (self.yarn_available_vcores, y.available_vcores),
                (self.yarn_allocated_vcores, y.allocated_vcores),
                (self.yarn_active_nodes, y.active_nodes),
            ):
                if value is not None:
                    gauge.labels(cluster).set(value)
        if not snapshot.pools:
            return  # EMR unreadable: keep the last known pool figures rather than drop them
        current = {p.pool_id for p in snapshot.pools}
        for gone in self._pools_seen.get(cluster, set()) - current:
            for gauge in (self.pool_requested, self.pool_running, self.pool_target):
                gauge.remove(cluster, gone)
        self._pools_seen[cluster] = current
        for p in snapshot.pools:
            self.pool_requested.labels(cluster, p.pool_id).set(p.requested.total)
            self.pool_running.labels(cluster, p.pool_id).set(p.running.total)
            self.pool_target.labels(cluster, p.pool_id).set(p.requested.total)
        cost = estimated_usd_per_hour(snapshot)
        if cost is not None:
            self.usd_per_hour.labels(cluster).set(cost)

    def record_decision(self, snapshot: ClusterSnapshot, decision: Decision, outcomes: Iterable[Outcome]) -> None:
        cluster = decision.cluster_id
        for rec in decision.recommendations:
            self.recommendations.labels(cluster, rec.policy, _direction(snapshot, rec.pool_id, rec.target_units)).inc()
        shapes = 0
        for rej in decision.rejections:
            self.rejections.labels(cluster, *self._bounded(snapshot, rej.pool_id, rej.policy), rej.reason.value).inc()
            shapes += rej.reason is RejectReason.UNSCHEDULABLE_SHAPE
        self.unschedulable_shapes.labels(cluster).set(shapes)
        self.budget_bound.labels(cluster).set(any(r.reason is RejectReason.BUDGET for r in decision.rejections))
        for resize in decision.plan.resizes:
            self.pool_target.labels(cluster, resize.pool_id).set(resize.target.total)
        for note in decision.notices:
            if note.status is NoticeStatus.NEW:
                self.interruption_notices.labels(cluster, note.kind).inc()
        bought = {r.pool_id: len(r.replaces) for r in decision.plan.resizes if r.replaces}
        for outcome in outcomes:
            self.decisions.labels(cluster, outcome.pool_id, outcome.status.value).inc()
            if outcome.pool_id in bought and outcome.status in (OutcomeStatus.APPLIED, OutcomeStatus.DRY_RUN):
                self.interruption_replacements.labels(cluster, outcome.pool_id).inc(bought[outcome.pool_id])

    def record_shadows(self, snapshot: ClusterSnapshot, results: Iterable[ShadowResult]) -> None:
        """Each shadow's would-be targets and spend rate; a failed or unpriced figure is removed, not zeroed."""
        cluster = snapshot.cluster_id
        actual = estimated_usd_per_hour(snapshot)
        for r in results:
            if r.error is not None:
                self.shadow_errors.labels(cluster, r.name).inc()
                _remove(self.shadow_usd_per_hour, cluster, r.name)
                continue
            for pool, units in r.targets.items():
                self.shadow_target.labels(cluster, pool, r.name).set(units)
            if actual is None or r.delta_usd_per_hour is None:
                _remove(self.shadow_usd_per_hour, cluster, r.name)
            else:
                self.shadow_usd_per_hour.labels(cluster, r.name).set(round(actual + r.delta_usd_per_hour, 6))

    def record_tick(self, cluster: str, outcome: str, seconds: float, now: float) -> None:
        """outcome: ok (fresh snapshot, no error), stale or error."""
        self.tick_seconds.labels(cluster).observe(seconds)
        self.ticks.labels(cluster, outcome).inc()
        if outcome == "ok":
            self.last_success.labels(cluster).set(now)

    def count_record_written(self, cluster: str, nbytes: int) -> None:
        self.record_lines.labels(cluster).inc()
        self.record_bytes.labels(cluster).inc(nbytes)

    def count_record_dropped(self, cluster: str, reason: str) -> None:
        self.record_dropped.labels(cluster, reason).inc()

    def exposition(self) -> bytes:
        return bytes(generate_latest(self.registry))


def _remove(gauge: Gauge, *labels: str) -> None:
    with contextlib.suppress(KeyError):  # never set
        gauge.remove(*labels)


def _bytes(mb: int | None) -> int | None:
    return None if mb is None else mb * 1024 * 1024


def _direction(snapshot: ClusterSnapshot, pool_id: str, target: int) -> str:
    try:
        current = snapshot.pool(pool_id).requested.total
    except KeyError:
        return "unknown_pool"
    return "up" if target > current else "down" if target < current else "hold"
