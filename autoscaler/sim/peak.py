"""`static` "sized for the peak": the fixed cluster an operator would build for this trace.

Issue 4's static reference is a cluster that never resizes and never makes a job wait for
capacity. We size it from the trace itself: the peak of the capacity the ideal no-wait schedule
needs (every job starts at its submit time; its AM holds its memory for the job's ideal run time;
stage k's tasks all start when stage k-1's longest task ends), minus what the fixed core nodes
already give YARN, in nodes of the task pool with the cheapest price per YARN MB (its lowest
replayed price, as the oracle floor uses). The capacity needed at an instant is the larger of the
running containers' memory and the AMs' memory over YARN's AM share (`demand.effective_demand`):
with 6 GiB AMs and a 10% share, a burst of small jobs needs ten times its AMs' memory, and a
cluster sized by container memory alone makes them wait for AM room. That is the smallest fixed
size that could run the ideal schedule; the real schedule (boot-free, but with FIFO placement and
fragmentation) may still queue.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from autoscaler.instance_types import yarn_resources
from autoscaler.model import Market, PoolKind, PoolRole
from autoscaler.sim.billing import PriceBook
from autoscaler.sim.demand import effective_demand, ideal_demand
from autoscaler.sim.job import Job
from autoscaler.sim.spec import ClusterSpec


@dataclass(frozen=True, slots=True)
class PeakSizing:
    pool_id: str
    units: int
    peak_mb: int  # the capacity the ideal schedule needs at its peak (containers; AMs over the AM share)
    core_mb: int  # YARN memory of the fixed core nodes, subtracted before sizing


def peak_demand_mb(jobs: Sequence[Job]) -> int:
    """Maximum over time of the memory held by running containers in the ideal no-wait schedule."""
    return ideal_demand(jobs).peak_mb


def _cheapest_task_pool(spec: ClusterSpec, prices: PriceBook) -> tuple[str, float] | None:
    """(pool id, YARN MB per unit) of the task pool with the lowest price per YARN MB."""
    best: tuple[float, str, float] | None = None
    for pool in spec.pools:
        if pool.role is not PoolRole.TASK:
            continue
        markets = [pool.market] if pool.kind is PoolKind.INSTANCE_GROUP else list(Market)
        for itype, weight in zip(pool.instance_types, pool.weights, strict=True):
            mem = yarn_resources(itype).memory_mb
            for market in markets:
                per_mb = prices.min_usd_per_hour(itype, market) / mem
                if best is None or per_mb < best[0]:
                    best = (per_mb, pool.pool_id, mem / weight)
    return None if best is None else (best[1], best[2])


def size_for_peak(
    jobs: Sequence[Job], spec: ClusterSpec, prices: PriceBook, *, max_units: int | None = None
) -> PeakSizing | None:
    """Units of the cheapest task pool that, with the core nodes, hold what the ideal schedule needs at its peak."""
    chosen = _cheapest_task_pool(spec, prices)
    if chosen is None:
        return None
    pool_id, mb_per_unit = chosen
    core_mb = sum(
        pool.initial * yarn_resources(pool.instance_types[0]).memory_mb // pool.weights[0]
        for pool in spec.pools
        if pool.role is PoolRole.CORE
    )
    peak = effective_demand(jobs).peak_mb
    units = max(0, math.ceil((peak - core_mb) / mb_per_unit))
    if max_units is not None:
        units = min(units, max_units)
    return PeakSizing(pool_id, units, peak, core_mb)
