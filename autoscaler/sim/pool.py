"""One simulated instance group or fleet: its targets, its members, and a pending shrink's terms."""

from __future__ import annotations

from autoscaler.model import InstanceOption, Market
from autoscaler.sim.node import Lifecycle, SimNode
from autoscaler.sim.spec import PoolSpec


class SimPool:
    """Targets and members of one instance group or fleet.

    `version` is bumped whenever what EMR would list for the pool changes (a member arrives, changes
    state or leaves; the target or a retry changes), so its snapshot view is rebuilt only then.
    """

    def __init__(
        self, index: int, spec: PoolSpec, options: tuple[InstanceOption, ...], hazards: dict[str, float]
    ) -> None:
        self.index = index
        self.spec = spec
        self.options = options
        self.hazards = hazards  # Spot interruption hazard (1/s) by instance type
        self.target = {Market.ON_DEMAND: spec.initial_on_demand, Market.SPOT: spec.initial_spot}
        self.nodes: dict[str, SimNode] = {}  # every non-terminated node
        self.terminate: tuple[str, ...] = ()
        self.protect: frozenset[str] = frozenset()
        self.timeout_s: int | None = None
        self.retry_at: float | None = None
        self.version = 0

    @property
    def pool_id(self) -> str:
        return self.spec.pool_id

    def touch(self) -> None:
        self.version += 1

    def held(self, market: Market) -> list[SimNode]:
        """Nodes counted toward the target: booting or running (incl. under Spot notice)."""
        return [
            n
            for n in self.nodes.values()
            if n.market is market
            and (n.state in (Lifecycle.BOOTING, Lifecycle.RUNNING) or (n.doomed_at is not None and not n.leaving))
        ]
