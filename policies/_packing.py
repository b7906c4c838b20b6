"""Bin-packing container shapes onto nodes, shared by `pending-demand` and `cost-optimizer`.

Identical bins are kept as one entry with a count, so thousands of containers pack in
O(shapes x distinct bins) rather than per container.
"""

from __future__ import annotations

from dataclasses import dataclass

from autoscaler.model import CapacityPool, InstanceOption, Resources

_UNLIMITED = 1 << 62


def per_node(shape: Resources, space_mb: int, space_vcores: int) -> int:
    """How many containers of `shape` fit in the given free space (memory and vcores both bind)."""
    by_mem = space_mb // shape.memory_mb if shape.memory_mb > 0 else _UNLIMITED
    by_cpu = space_vcores // shape.vcores if shape.vcores > 0 else _UNLIMITED
    return max(min(by_mem, by_cpu), 0)


@dataclass(slots=True)
class Bins:
    """`count` identical bins with this much free space each, optionally new nodes of one pool/option.

    Identical bins are kept as one entry so thousands of containers pack in O(shapes x distinct bins).
    """

    memory_mb: int
    vcores: int
    count: int
    pool: CapacityPool | None = None
    option: InstanceOption | None = None


def place(shape: Resources, wanted: int, bins: list[Bins]) -> int:
    """First-fit `wanted` containers into `bins` (split as space is used); returns how many were placed."""
    placed = 0
    i = 0
    mem, vcores = shape.memory_mb, shape.vcores
    while i < len(bins) and placed < wanted:
        b = bins[i]
        # per_node, inlined: most bins of a busy cluster take nothing, and this runs per bin per shape
        by_mem = b.memory_mb // mem if mem > 0 else _UNLIMITED
        by_cpu = b.vcores // vcores if vcores > 0 else _UNLIMITED
        k = by_mem if by_mem < by_cpu else by_cpu
        if k <= 0 or b.count == 0:
            i += 1
            continue
        take = min(wanted - placed, k * b.count)
        full, rest = divmod(take, k)
        placed += take
        leftovers: list[Bins] = []
        if full:
            leftovers.append(
                Bins(b.memory_mb - k * shape.memory_mb, b.vcores - k * shape.vcores, full, b.pool, b.option)
            )
        if rest:
            leftovers.append(
                Bins(b.memory_mb - rest * shape.memory_mb, b.vcores - rest * shape.vcores, 1, b.pool, b.option)
            )
        untouched = b.count - full - (1 if rest else 0)
        replacement = ([Bins(b.memory_mb, b.vcores, untouched, b.pool, b.option)] if untouched else []) + leftovers
        bins[i : i + 1] = replacement
        i += len(replacement)
    return placed
