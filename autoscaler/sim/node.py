"""One simulated EC2 instance and its lifecycle: BOOTING → RUNNING → DECOMMISSIONING → TERMINATED.

A node may skip states (a booting node cancelled by a shrink terminates at once; a Spot notice
moves a running node straight to DECOMMISSIONING). `touch` records every change the daemon's
sources could see (lifecycle, containers, free resources) in a set shared with the cluster, so the
snapshot views of a node are rebuilt only when it changed; `changed_at` is when that last happened.
Which containers run here is the workload's business (`autoscaler.sim.workload`); the node counts them.
"""

from __future__ import annotations

from enum import Enum

from autoscaler.model import Market, Resources


class Lifecycle(Enum):
    """Where a node is in its life; only RUNNING NodeManagers take new containers."""

    BOOTING = "booting"  # requested and billed, not yet known to YARN
    RUNNING = "running"
    DECOMMISSIONING = "decommissioning"  # takes no new containers; billed until it terminates
    TERMINATED = "terminated"


class SimNode:
    """One EC2 instance; a YARN NodeManager once RUNNING (the master is never one)."""

    __slots__ = (
        "_changes",
        "ams",
        "cap_mem",
        "cap_vc",
        "changed_at",
        "containers",
        "doomed_at",
        "free_mem",
        "free_vc",
        "host",
        "instance_id",
        "instance_type",
        "is_nodemanager",
        "leaving",
        "market",
        "notice_at",
        "pool_id",
        "requested_at",
        "running_at",
        "seq",
        "state",
        "terminated_at",
        "weight",
    )

    def __init__(
        self,
        seq: int,
        instance_id: str,
        host: str,
        *,
        pool_id: str,
        instance_type: str,
        market: Market,
        weight: int,
        changes: set[SimNode] | None = None,
    ) -> None:
        self._changes = set() if changes is None else changes  # where `touch` reports the node changed
        self.seq = seq
        self.instance_id = instance_id
        self.host = host
        self.pool_id = pool_id
        self.instance_type = instance_type
        self.market = market
        self.weight = weight
        self.cap_mem = self.cap_vc = self.free_mem = self.free_vc = 0
        self.containers = 0  # task containers running here
        self.ams = 0  # ApplicationMasters running here
        self.is_nodemanager = True
        self.leaving = False  # chosen by a shrink (not by a Spot interruption)
        self.state = Lifecycle.BOOTING
        self.requested_at = 0.0
        self.running_at: float | None = None
        self.terminated_at: float | None = None
        self.notice_at: float | None = None  # Spot interruption warning received
        self.doomed_at: float | None = None  # when the Spot interruption takes the node
        self.changed_at = 0.0

    def set_capacity(self, yarn: Resources) -> None:
        self.cap_mem = self.free_mem = yarn.memory_mb
        self.cap_vc = self.free_vc = yarn.vcores

    def touch(self, now: float) -> None:
        """Something a source would report changed at `now`."""
        self.changed_at = now
        self._changes.add(self)

    @property
    def busy(self) -> bool:
        return bool(self.containers or self.ams)

    @property
    def is_yarn_node(self) -> bool:
        """Listed by the ResourceManager: a NodeManager that registered and has not left."""
        return self.is_nodemanager and self.state in (Lifecycle.RUNNING, Lifecycle.DECOMMISSIONING)
