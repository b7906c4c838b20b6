"""Metrics of running many clusters from one process: the worker pool's rounds (`autoscaler.daemon`)
and cluster discovery (`autoscaler.discovery`). Part of `Metrics`, on its registry (`metrics.clusters`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LAG_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

DISCOVERY_STATES = ("managed", "rejected", "waiting")
"""managed: ticked; rejected: a bad tag or template value (a `discovery_rejected` event says which);
waiting: tagged but without a master DNS name yet (starting)."""


class ClusterMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.tick_lag_seconds = Histogram(
            "emr_autoscaler_tick_lag_seconds",
            "Seconds a cluster's tick waited for a free worker after its round began (near"
            " cluster_tick_deadline_s: raise max_concurrent_clusters or add replicas).",
            buckets=_LAG_BUCKETS,
            registry=r,
        )
        self.tick_overruns = Counter(
            "emr_autoscaler_tick_overruns_total",
            "Ticks still running at their round's deadline (cluster_tick_deadline_s): they can no longer resize.",
            ["cluster"],
            registry=r,
        )
        self.ticks_skipped = Counter(
            "emr_autoscaler_ticks_skipped_total",
            "Rounds in which a cluster was not ticked, by reason: still_running (its previous tick had not ended)"
            " or no_worker (no worker was free before the round's deadline).",
            ["cluster", "reason"],
            registry=r,
        )
        self.live_replicas = Gauge(
            "emr_autoscaler_live_replicas",
            "HA (ha.lease_table): replicas this one saw heartbeat within a lease, itself included.",
            registry=r,
        )
        self.fair_share = Gauge(
            "emr_autoscaler_lease_fair_share",
            "HA: most cluster leases this replica holds, ceil(clusters / live replicas); it hands the excess over.",
            registry=r,
        )
        self.discovered = Gauge(
            "emr_autoscaler_discovered_clusters",
            "Tagged clusters the last discovery scan found, by state: managed, rejected (bad tag or template"
            " value: see the discovery_rejected event), waiting (no master DNS name yet).",
            ["state"],
            registry=r,
        )
        self.discovery_scans = Counter(
            "emr_autoscaler_discovery_scans_total",
            "Discovery scans by result: ok, or failed (ListClusters unanswered; the last set is kept).",
            ["result"],
            registry=r,
        )

    def record_replicas(self, live: int, fair_share: int) -> None:
        self.live_replicas.set(live)
        self.fair_share.set(fair_share)

    def record_round(self, overrun: Iterable[str] = (), **skipped: Iterable[str]) -> None:
        """One round of the worker pool: the clusters whose tick overran, and those skipped by reason."""
        for cluster in overrun:
            self.tick_overruns.labels(cluster).inc()
        for reason, clusters in skipped.items():
            for cluster in clusters:
                self.ticks_skipped.labels(cluster, reason).inc()

    def record_scan(self, counts: Mapping[str, int] | None) -> None:
        """A discovery scan: clusters per state, or None when the scan failed."""
        self.discovery_scans.labels("failed" if counts is None else "ok").inc()
        for state in DISCOVERY_STATES:
            if counts is not None:
                self.discovered.labels(state).set(counts.get(state, 0))
