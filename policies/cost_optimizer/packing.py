"""Component 2, shape-aware packing: pending shapes first onto free and booting space, the rest
onto new nodes of the offer that is cheapest per usable GB for that shape.

Scoring each shape against each type's YARN memory/vcore ratio is what prefers a type the shape
fills (little stranded capacity) over one that is cheaper per raw GB. A shape no offer's node can
hold buys nothing and is named, as `pending-demand` names it (UNSCHEDULABLE_SHAPE).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from autoscaler.model import CapacityPool, Resources
from policies._common import describe
from policies._packing import Bins, per_node, place

from .pricing import Offer, OfferKey, choose


@dataclass(slots=True)
class Packing:
    unplaced: dict[Resources, int] = field(default_factory=dict)  # what free and booting space cannot take
    on_free: int = 0
    on_arriving: int = 0


@dataclass(slots=True)
class Purchase:
    nodes: dict[OfferKey, tuple[Offer, int]] = field(default_factory=dict)
    unschedulable: list[str] = field(default_factory=list)
    why: list[str] = field(default_factory=list)

    def add(self, offer: Offer, n: int) -> None:
        _, have = self.nodes.get(offer.key, (offer, 0))
        self.nodes[offer.key] = (offer, have + n)


def by_size(shapes: Mapping[Resources, int]) -> list[Resources]:
    return sorted(shapes, key=lambda s: (s.memory_mb, s.vcores), reverse=True)


def pack_existing(shapes: Mapping[Resources, int], free: list[Bins], arriving: list[Bins]) -> Packing:
    out = Packing()
    for shape in by_size(shapes):
        left = shapes[shape]
        placed = place(shape, left, free)
        out.on_free += placed
        left -= placed
        placed = place(shape, left, arriving)
        out.on_arriving += placed
        left -= placed
        if left:
            out.unplaced[shape] = left
    return out


def buy(
    shapes: Mapping[Resources, int],
    offers: Sequence[Offer],
    factor: float,
    pools: Sequence[CapacityPool],
) -> Purchase:
    """New nodes for `shapes` (vcores 0 when YARN places by memory only): each shape on its own
    cheapest fitting offer, later shapes first onto earlier shapes' leftovers."""
    out = Purchase()
    opened: list[Bins] = []
    for shape in by_size(shapes):
        left = shapes[shape] - place(shape, shapes[shape], opened)
        if left <= 0:
            continue
        fits = [o for o in offers if shape.fits_in(o.option.yarn)]
        offer, why = choose(fits, {shape: left}, factor)
        if offer is None and any(shape.fits_in(o.yarn) for p in pools for o in p.options):
            out.why.append(f"{left} × {shape.memory_mb} MB: {why}")
            continue
        if offer is None:
            sizes = "; ".join(sorted({f"{o.option.instance_type} {describe(o.option.yarn)}" for o in offers})) or "none"
            out.unschedulable.append(f"{describe(shape)} fits no node of the managed pools ({sizes}); {left} pending")
            continue
        node = offer.option.yarn
        n = math.ceil(left / per_node(shape, node.memory_mb, node.vcores))
        new = [Bins(node.memory_mb, node.vcores, n, offer.pool, offer.option)]
        place(shape, left, new)
        opened.extend(new)
        out.add(offer, n)
        out.why.append(f"{n} × {offer.option.instance_type} for {left} × {shape.memory_mb} MB: {why}")
    return out


def buffer_nodes(
    deficit_mb: int,
    first: Resources,
    offers: Sequence[Offer],
    factor: float,
    pools: Sequence[CapacityPool],
    *,
    label: str = "buffer",
) -> Purchase:
    """Nodes for `deficit_mb` of room in containers of size `first` (the warm buffer's, or the AM
    share's), each line of their reason prefixed with `label`."""
    out = Purchase()
    if deficit_mb <= 0:
        return out
    count = max(math.ceil(deficit_mb / max(first.memory_mb, 1)), 1)
    got = buy({first: count}, offers, factor, pools)
    got.why = [f"{label}: {w}" for w in got.why]
    return got
