"""A PolicyContext builder for the policy tests (the rest comes from `autoscaler.testing`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from autoscaler.model import CapacityPool, ControllerMemory, MetricSample, PoolMemory
from autoscaler.policy import PolicyContext
from autoscaler.testing import make_cluster_config, make_pool


def make_ctx(
    pools: Iterable[CapacityPool] | None = None,
    history: Iterable[MetricSample] = (),
    memory: dict[str, PoolMemory] | None = None,
    **config: Any,
) -> PolicyContext:
    """Context managing `pools` (default the builders' one task group)."""
    mem = ControllerMemory()
    for pool_id, pm in (memory or {}).items():
        mem = mem.with_pool(pool_id, pm)
    return PolicyContext(
        config=make_cluster_config(**config),
        managed_pools=(make_pool(),) if pools is None else tuple(pools),
        history=tuple(history),
        memory=mem,
    )
