"""`dataproc`: the published Google Cloud Dataproc basic autoscaling algorithm (YARN), applied to EMR.

Source: "Autoscale Dataproc clusters", section "How autoscaling works"
(https://cloud.google.com/dataproc/docs/concepts/configuring-clusters/autoscaling#how_autoscaling_works)
and the `BasicYarnAutoscalingConfig` API reference (scaleUpFactor, scaleDownFactor,
scaleUpMinWorkerFraction, scaleDownMinWorkerFraction: bounds [0.0, 1.0]; cooldownPeriod: >= 2 m,
default 2 m):

    exact Δworkers = avg over the cooldown period of (pending memory − available memory) / memory per worker
    Δworkers       = ceil(exact × scaleUpFactor)   if exact > 0
                     trunc(exact × scaleDownFactor) if exact < 0   (rounded toward zero)
    act only if |Δworkers| >= minWorkerFraction × cluster size (0 = any change)

so the published examples hold: exact 5 × 0.5 → +3, exact −5 × 0.5 → −2, exact −0.8 × 0.5 → 0.
`dataproc_delta()` is that arithmetic alone, for the simulator's fidelity tests.

How it maps onto EMR: "pending memory" and "available memory" are YARN's pendingMB and availableMB
from `ctx.history` samples in the last `cooldown_s`; "memory per worker" is the YARN memory of one
unit of the pool that will change (MB / weight for fleets); cluster size is the managed pools'
requested units. A scale-up goes to the cheapest managed pool per GB (Spot before on-demand without
prices; TASK before CORE), standing in for Dataproc's secondary workers; a scale-down takes TASK pools
before CORE, dearest first, and spills to the next pool when one reaches zero. The graceful
decommission timeout is the cluster's `decommission_timeout_s`.

Timing, each rule with the sentence it follows:
- The cooldown counts from the completion of the previous resize, not its request:
  `cooldownPeriod`: "Duration between scaling events. A scaling period starts after the update
  operation from the previous event has completed." (BasicAutoscalingAlgorithm, Dataproc API
  reference). So nothing is decided while a managed pool's resize is in flight
  (`autoscaler.settling`), nor until `cooldown_s` after it was seen complete.
- The average is over the last cooldown period: `scaleUpFactor`: "Fraction of average YARN pending
  memory in the last cooldown period for which to add workers." (BasicYarnAutoscalingConfig). As the
  period starts after completion, the window never holds samples taken while the capacity of the
  previous resize was still booting (or draining).
- No other waits: it runs under the "vendor" guard profile (designs/0004), so our scale-in
  confirmations, cooldown_up_s/cooldown_down_s and step limits do not apply unless the policy's
  `guards: ours` asks for them.

Options: `scale_up_factor` (0..1, default 1.0), `scale_down_factor` (0..1, default 1.0),
`scale_up_min_worker_fraction` and `scale_down_min_worker_fraction` (0..1, default 0.0),
`cooldown_s` (120..3600, default 120).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Self

from pydantic import Field

from autoscaler.model import ClusterSnapshot, MetricSample, Recommendation, Rejection
from autoscaler.policy import PolicyContext
from policies._common import (
    PolicyOptions,
    cheapest_option,
    mb_per_unit,
    ordered_for_scaling,
    ordered_for_shrink,
    parse_options,
    pool_market,
    vendor_cooldown_left,
    window,
)


class DataprocOptions(PolicyOptions):
    scale_up_factor: float = Field(1.0, ge=0, le=1, description="Fraction of average pending memory to add for.")
    scale_down_factor: float = Field(1.0, ge=0, le=1, description="Fraction of average spare memory to remove.")
    scale_up_min_worker_fraction: float = Field(0.0, ge=0, le=1, description="Smallest scale-up, x cluster size.")
    scale_down_min_worker_fraction: float = Field(0.0, ge=0, le=1, description="Smallest scale-in, x cluster size.")
    cooldown_s: float = Field(
        120.0, ge=120, le=3600, description="Pause after a resize completes, and the averaging window (>= 2 min)."
    )


def dataproc_delta(delta_workers: float, factor: float, min_fraction: float, current: int) -> int:
    """Dataproc's rounding: ceil(delta × factor) up, trunc(delta × factor) down, then the size threshold.

    `factor` and `min_fraction` are the ones for delta's direction. The product is rounded to 9 places
    first so float noise (2.0000000001) cannot add a worker.
    """
    scaled = round(delta_workers * factor, 9)
    change = math.ceil(scaled) if scaled > 0 else math.trunc(scaled)
    if change == 0 or abs(change) < min_fraction * current:
        return 0
    return change


def average_excess_mb(samples: Iterable[MetricSample]) -> float | None:
    """Mean of pendingMB − availableMB over the samples that report both."""
    values = [
        s.yarn.pending_mb - s.yarn.available_mb
        for s in samples
        if s.yarn.pending_mb is not None and s.yarn.available_mb is not None
    ]
    return sum(values) / len(values) if values else None


class DataprocPolicy:
    """Dataproc's basic YARN algorithm: average memory gap over the cooldown, scaled and rounded."""

    name = "dataproc"
    guard_profile = "vendor"

    def __init__(self, options: DataprocOptions) -> None:
        self.options = options

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Self:
        return cls(parse_options(DataprocOptions, options))

    def evaluate(self, snapshot: ClusterSnapshot, ctx: PolicyContext) -> Iterable[Recommendation | Rejection]:
        opts = self.options
        now = snapshot.taken_at
        grow = ordered_for_scaling(snapshot, ctx)
        if not grow:
            return []
        if vendor_cooldown_left(ctx, grow, opts.cooldown_s) is not None:
            return []
        excess = average_excess_mb(window(ctx.history, now, opts.cooldown_s))
        if excess is None or excess == 0:
            return []
        size = sum(p.requested.total for p in grow)
        pools = grow if excess > 0 else ordered_for_shrink(snapshot, ctx)
        first = pools[0]
        per_unit = mb_per_unit(cheapest_option(snapshot, first, pool_market(first, ctx)))
        exact = excess / per_unit
        if excess > 0:
            change = dataproc_delta(exact, opts.scale_up_factor, opts.scale_up_min_worker_fraction, size)
        else:
            change = dataproc_delta(exact, opts.scale_down_factor, opts.scale_down_min_worker_fraction, size)
        if change == 0:
            return []
        why = f"avg pending−available {excess:+.0f} MB over {opts.cooldown_s:g} s = {exact:+.2f} workers → {change:+d}"
        if change > 0:
            return [Recommendation(self.name, first.pool_id, first.requested.total + change, why)]
        out: list[Recommendation | Rejection] = []
        remove = -change
        for pool in pools:
            take = min(remove, pool.requested.total)
            if take > 0:
                out.append(Recommendation(self.name, pool.pool_id, pool.requested.total - take, why))
                remove -= take
            if remove == 0:
                break
        return out
