"""Clusters spread across replicas through the same leases: each replica holds at most its fair share,
ceil(clusters / live replicas), so adding a replica adds capacity with nothing else to run
(designs/0007-many-clusters-and-lease-spreading.md).

Every round a replica raises its heartbeat counter in the lease table (`DynamoLeases.heartbeat`) and
counts the replicas it has seen beat within a lease, by its own monotonic clock as for the leases
themselves. Then, for each cluster's lease (`ha.DynamoClusterLease.begin`):
- below its share it may take a free, released or expired lease (`claim`);
- at its share it takes none, but keeps watching them, so it can take one at once when the share grows
  (a replica died: its leases expire and the live count drops at about the same time);
- above its share (a replica joined) it releases the excess, one lease per tick of a held cluster
  (`excess`), after that cluster's memory was saved: the taker continues from it, without waiting.
Take and release are the lease's own conditional writes, so a wrong count (a replica's heartbeat late,
a dead one not yet forgotten) can only leave a cluster unled for a while, never led twice.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from autoscaler.aws import CallObserver, make_client
from autoscaler.config import AppConfig, ClusterConfig
from autoscaler.ha import ClusterLease, DynamoClusterLease, FileMemory, replica_id
from autoscaler.lease import DynamoLeases, LeaseError
from autoscaler.logs import EventLogger

#: (live replicas, fair share) after each heartbeat: the metrics.
BeatObserver = Callable[[int, int], None]


class FairShare:
    """One replica's share of one lease table's leases. Thread-safe: ticks claim concurrently."""

    def __init__(
        self,
        leases: DynamoLeases,
        logger: EventLogger,
        on_beat: BeatObserver = lambda live, fair: None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.leases, self.logger, self.on_beat, self.monotonic = leases, logger, on_beat, monotonic
        self.fair: int | None = None  # unknown until the first heartbeat is answered: no limit
        self.live = 1
        self._lock = threading.Lock()
        self._held: set[str] = set()
        self._count = 0
        self._seen: dict[str, tuple[int, float]] = {}  # replica -> (counter, when it last changed)

    def beat(self, clusters: int) -> None:
        """Heartbeat, count the live replicas, and set the share for `clusters` clusters; never raises."""
        self._count += 1
        try:
            beats = self.leases.heartbeat(self._count)
        except LeaseError as err:
            self.logger.warning("replica_heartbeat_failed", error=str(err), fair_share=self.fair)
            return
        live = max(1, sum(self._alive(holder, count) for holder, count in beats.items()))
        with self._lock:
            changed = live != self.live
            self.live, self.fair = live, math.ceil(clusters / live)
            held = len(self._held)
        if changed:
            self.logger.info("replicas", live=live, clusters=clusters, fair_share=self.fair, held=held)
        self.on_beat(live, self.fair)

    def _alive(self, holder: str, count: int) -> bool:
        if holder == self.leases.holder:
            return True
        now = self.monotonic()
        last = self._seen.get(holder)
        if last is None or last[0] != count:
            self._seen[holder] = (count, now)
            return True
        idle = now - last[1]
        if idle >= 2 * self.leases.duration_s:  # dead for two leases: forget it (if still unchanged)
            try:
                self.leases.forget_replica(holder, count)
            except LeaseError:
                return False
            self._seen.pop(holder, None)
        return idle < self.leases.duration_s

    def claim(self, cluster_id: str) -> bool:
        with self._lock:
            if cluster_id in self._held or self.fair is None or len(self._held) < self.fair:
                self._held.add(cluster_id)
                return True
            return False

    def excess(self, cluster_id: str) -> bool:
        with self._lock:
            if self.fair is not None and cluster_id in self._held and len(self._held) > self.fair:
                self._held.discard(cluster_id)
                return True
            return False

    def note(self, cluster_id: str, held: bool) -> None:
        with self._lock:
            if held:
                self._held.add(cluster_id)
            else:
                self._held.discard(cluster_id)


class Leases:
    """Each cluster's lease per `config.ha`, configured or discovered alike: DynamoDB (one holder id, one
    client and one `FairShare` per table region), a memory file, or none (`None`: act always)."""

    def __init__(
        self,
        config: AppConfig,
        observer: CallObserver,
        logger: EventLogger,
        clock: Callable[[], float],
        on_beat: BeatObserver = lambda live, fair: None,
    ) -> None:
        self.ha, self.observer, self.logger, self.clock, self.on_beat = config.ha, observer, logger, clock, on_beat
        self.holder = replica_id()
        self._shares: dict[str, FairShare] = {}
        self._file = FileMemory(Path(self.ha.memory_file), logger) if self.ha.memory_file is not None else None

    def _region(self, cluster: ClusterConfig) -> str:
        return self.ha.region or cluster.region

    def _share(self, region: str, table: str) -> FairShare:
        if region not in self._shares:
            client = make_client("dynamodb", region, self.observer)
            leases = DynamoLeases(client, table, self.holder, self.ha.lease_duration_s)
            self._shares[region] = FairShare(leases, self.logger, self.on_beat)
        return self._shares[region]

    def __call__(self, cluster: ClusterConfig) -> ClusterLease | None:
        if self.ha.lease_table is not None:
            share = self._share(self._region(cluster), self.ha.lease_table)
            return DynamoClusterLease(share.leases, cluster.cluster_id, self.clock, self.logger, share)
        if self._file is not None:
            return self._file.lease(cluster.cluster_id)
        return None

    def beat(self, clusters: Sequence[ClusterConfig]) -> None:
        """Once per round, before the ticks: each table's heartbeat and share (no-op without a table)."""
        table = self.ha.lease_table
        if table is None:
            return
        for region in {self._region(c) for c in clusters}:
            self._share(region, table).beat(sum(1 for c in clusters if self._region(c) == region))
