"""A small hand-written cluster at the emulator's boundary: a fixed snapshot plus a log of modify calls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from autoscaler.model import Capacity, ClusterSnapshot, Market


@dataclass
class FakeCluster:
    """Holds a snapshot; `modify_*` record the call and set the pool's requested units."""

    state: ClusterSnapshot
    now: float = 0.0
    modify_calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    advanced_to: list[float] = field(default_factory=list)
    next_error: Exception | None = None

    def __post_init__(self) -> None:
        self.now = self.state.taken_at

    @property
    def cluster_id(self) -> str:
        return self.state.cluster_id

    def advance_to(self, t: float) -> None:
        self.advanced_to.append(t)
        self.now = t
        self.state = replace(self.state, taken_at=t)

    def snapshot(self) -> ClusterSnapshot:
        return self.state

    def _raise_injected(self) -> None:
        if self.next_error is not None:
            err, self.next_error = self.next_error, None
            raise err

    def _set_requested(self, pool_id: str, requested: Capacity) -> None:
        pools = tuple(replace(p, requested=requested) if p.pool_id == pool_id else p for p in self.state.pools)
        self.state = replace(self.state, pools=pools)

    def modify_instance_group(
        self,
        pool_id: str,
        instance_count: int,
        *,
        instances_to_terminate: Sequence[str] = (),
        instances_to_protect: Sequence[str] = (),
        decommission_timeout_s: int | None = None,
    ) -> None:
        self._raise_injected()
        self.modify_calls.append(
            (
                "group",
                pool_id,
                {
                    "instance_count": instance_count,
                    "instances_to_terminate": tuple(instances_to_terminate),
                    "instances_to_protect": tuple(instances_to_protect),
                    "decommission_timeout_s": decommission_timeout_s,
                },
            )
        )
        market = self.state.pool(pool_id).market or Market.ON_DEMAND
        self._set_requested(pool_id, Capacity().with_market(market, instance_count))

    def modify_instance_fleet(
        self, pool_id: str, *, target_on_demand: int | None = None, target_spot: int | None = None
    ) -> None:
        self._raise_injected()
        self.modify_calls.append(("fleet", pool_id, {"target_on_demand": target_on_demand, "target_spot": target_spot}))
        old = self.state.pool(pool_id).requested
        new = Capacity(
            old.on_demand if target_on_demand is None else target_on_demand,
            old.spot if target_spot is None else target_spot,
        )
        self._set_requested(pool_id, new)
