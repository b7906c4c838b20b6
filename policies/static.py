"""`static`: a fixed size, the "sized for the peak" baseline every other policy is compared against.

What it does: recommends, every tick, `pools[pool_id]` units for the pools listed and `units` for every
other managed pool; pools it has no size for get no opinion. With neither option it has no opinion
at all (an empty `options: {}` is a valid do-nothing baseline that never blocks another policy's
scale-in, which a "hold at current size" vote would, see `autoscaler.combine`). It imitates the most
common EMR practice of all: a cluster created at a size and never resized.

Options:
- `units` (>= 0, default unset): target for every managed pool not named in `pools`.
- `pools` (map pool id → units, default empty): per-pool targets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Self

from pydantic import Field, NonNegativeInt

from autoscaler.model import ClusterSnapshot, Recommendation, Rejection
from autoscaler.policy import PolicyContext
from policies._common import PolicyOptions, parse_options, scalable


class StaticOptions(PolicyOptions):
    units: int | None = Field(None, ge=0, description="Target for every managed pool not in `pools`.")
    pools: dict[str, NonNegativeInt] = Field(default_factory=dict, description="Per-pool targets by pool id.")


class StaticPolicy:
    """A fixed target per pool; no opinion on pools without one."""

    name = "static"

    def __init__(self, options: StaticOptions) -> None:
        self.options = options

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Self:
        return cls(parse_options(StaticOptions, options))

    def evaluate(self, snapshot: ClusterSnapshot, ctx: PolicyContext) -> Iterable[Recommendation | Rejection]:
        out: list[Recommendation | Rejection] = []
        for pool in scalable(ctx.managed_pools):
            if pool.pool_id in self.options.pools:
                target, why = self.options.pools[pool.pool_id], f"static size for {pool.pool_id}"
            elif self.options.units is not None:
                target, why = self.options.units, "static size"
            else:
                continue
            out.append(Recommendation(self.name, pool.pool_id, target, f"{why}: {target} units"))
        return out
