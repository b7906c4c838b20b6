"""`idle-capacity`: give back nodes that run nothing, while nothing is waiting.

What it does: when YARN has no pending demand (no app asks, no pending containers, MB or vcores),
it proposes shrinking each managed pool by its idle nodes (RUNNING, no containers, not hosting an
ApplicationMaster) beyond a `keep_idle_nodes` buffer, counted in units (an instance of a group is 1,
a fleet instance its weight). It gives the pool a target only; which instances drain is the
actuator's choice (idle, non-AM, Spot first), and the engine's confirmation guard (scale-in wanted
for N ticks) supplies the hysteresis, so this policy holds no state of its own.

With `idle_for_s` > 0 it also asks the history: over the last `idle_for_s` seconds every sample must
show nothing pending and at least the idle nodes' memory available, and the history must reach back
that far (a daemon that just started knows nothing about the last 10 minutes, so it waits).

Capacity that is requested but not yet running is left alone: cancelling it is the guardrails'
"shrink what has not arrived first" rule, applied to whatever target wins.

Options:
- `keep_idle_nodes` (0..100, default 0): idle nodes per pool to keep as a warm buffer.
- `idle_for_s` (0..3600, default 0): seconds the cluster must have stayed idle enough, from history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from operator import attrgetter
from typing import Any, Self

from pydantic import Field

from autoscaler.model import ClusterSnapshot, NodeInfo, Recommendation, Rejection
from autoscaler.policy import PolicyContext
from policies._common import PolicyOptions, has_pending, observed_since, parse_options, scalable, window

_INSTANCE_ID, _WEIGHT = attrgetter("instance_id"), attrgetter("weight")


class IdleCapacityOptions(PolicyOptions):
    keep_idle_nodes: int = Field(0, ge=0, le=100, description="Idle nodes per pool kept as a warm buffer.")
    idle_for_s: float = Field(0.0, ge=0, le=3600, description="Seconds the history must show the cluster idle enough.")


class IdleCapacityPolicy:
    """Shrinks each managed pool by its idle nodes beyond a buffer, only when nothing is pending."""

    name = "idle-capacity"

    def __init__(self, options: IdleCapacityOptions) -> None:
        self.options = options

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Self:
        return cls(parse_options(IdleCapacityOptions, options))

    def evaluate(self, snapshot: ClusterSnapshot, ctx: PolicyContext) -> Iterable[Recommendation | Rejection]:
        if snapshot.yarn is None or has_pending(snapshot.yarn, snapshot):
            return []
        weights: dict[str, int] | None = None  # indexed on the first pool with a surplus (most ticks: none)
        ones = False  # every instance is one unit (groups): a surplus's units are its length
        out: list[Recommendation | Rejection] = []
        for pool in scalable(ctx.managed_pools):
            pool_id = pool.pool_id
            idle = [n for n in snapshot.nodes if n.pool_id == pool_id and n.num_containers == 0 and n.is_idle]
            keep = self.options.keep_idle_nodes
            if len(idle) <= keep:
                continue  # no surplus
            if weights is None:
                instances = snapshot.instances
                units_each = list(map(_WEIGHT, instances))
                ones = units_each.count(1) == len(units_each)
                weights = dict(zip(map(_INSTANCE_ID, instances), units_each, strict=True))
            if keep:  # which nodes are kept depends on the order; with none kept, only sums are read
                w = weights
                idle.sort(key=lambda n: (_weight(n, w), n.host))
            surplus = idle[: len(idle) - keep]
            if not self._idle_long_enough(snapshot, ctx, surplus):
                continue
            units = len(surplus) if ones else sum(_weight(n, weights) for n in surplus)
            target = max(pool.requested.total - units, 0)
            if target >= pool.requested.total:
                continue
            out.append(
                Recommendation(
                    policy=self.name,
                    pool_id=pool.pool_id,
                    target_units=target,
                    reason=f"{len(idle)} idle node(s), keeping {len(idle) - len(surplus)}: "
                    f"release {units} unit(s), nothing pending",
                )
            )
        return out

    def _idle_long_enough(self, snapshot: ClusterSnapshot, ctx: PolicyContext, surplus: list[NodeInfo]) -> bool:
        span = self.options.idle_for_s
        if span <= 0:
            return True
        now = snapshot.taken_at
        if not observed_since(ctx.history, now - span):
            return False
        # `capacity`'s memory (idle: known), without building a Resources per node
        needed_mb = sum(
            n.used.memory_mb + n.available.memory_mb for n in surplus if n.used is not None and n.available is not None
        )
        return all(
            not has_pending(s.yarn) and s.yarn.available_mb is not None and s.yarn.available_mb >= needed_mb
            for s in window(ctx.history, now, span)
        )


def _weight(node: NodeInfo, weights: Mapping[str, int]) -> int:
    return weights.get(node.instance_id, 1) if node.instance_id else 1
