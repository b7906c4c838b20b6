"""What the emulator's servers need from a cluster model, and nothing more.

The servers depend on this protocol rather than on `autoscaler.sim.cluster.SimCluster`, so they can
be tested with a small fake and the simulator can change its insides freely.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from autoscaler.model import ClusterSnapshot


class EmulatedCluster(Protocol):
    """A cluster that can be read as a snapshot, resized, and moved forward in time."""

    @property
    def now(self) -> float: ...

    @property
    def cluster_id(self) -> str: ...

    def advance_to(self, t: float) -> None: ...

    def snapshot(self) -> ClusterSnapshot: ...

    def modify_instance_group(
        self,
        pool_id: str,
        instance_count: int,
        *,
        instances_to_terminate: Sequence[str] = (),
        instances_to_protect: Sequence[str] = (),
        decommission_timeout_s: int | None = None,
    ) -> None: ...

    def modify_instance_fleet(
        self, pool_id: str, *, target_on_demand: int | None = None, target_spot: int | None = None
    ) -> None: ...
