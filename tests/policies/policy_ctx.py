"""A PolicyContext builder for the policy tests (the rest comes from `autoscaler.testing`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from autoscaler.model import CapacityPool, ControllerMemory, MetricSample, PoolMemory
from autoscaler.policy import PolicyContext
from autoscaler.testing import T0, make_cluster_config, make_pool


def make_ctx(
    pools: Iterable[CapacityPool] | None = None,
    history: Iterable[MetricSample] = (),
    memory: dict[str, PoolMemory] | None = None,
    now: float | None = None,
    **config: Any,
) -> PolicyContext:
    """Context managing `pools` (default the builders' one task group) at `now` (default the last
    sample's time, else the builders' `T0`, as the engine would pass `snapshot.taken_at`)."""
    samples = tuple(history)
    mem = ControllerMemory()
    for pool_id, pm in (memory or {}).items():
        mem = mem.with_pool(pool_id, pm)
    return PolicyContext(
        config=make_cluster_config(**config),
        managed_pools=(make_pool(),) if pools is None else tuple(pools),
        history=samples,
        memory=mem,
        now=now if now is not None else (samples[-1].at if samples else T0),
    )
