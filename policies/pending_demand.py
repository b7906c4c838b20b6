"""`pending-demand`: add exactly the nodes that let YARN place what it is waiting for.

What it does, in order:

1. Demand is YARN's outstanding container asks by shape (app `resourceRequests` with resourceName
   "*"). When no app carries asks but the cluster counters report pending containers, the demand is
   `containersPending` containers of the average pending shape (pendingMB and pendingVirtualCores
   divided by containersPending, rounded up).
2. Shapes are placed first-fit-decreasing (largest memory first, then vcores), memory AND vcores
   (memory alone with `count_vcores` false), onto: the free space of RUNNING nodes (DECOMMISSIONING
   nodes are never spare), then the nodes already requested but not yet arrived (each pool's
   `provisioning` units, plus instances EMR counts running beyond the pool's YARN NodeManagers, as
   nodes of its assumed type), then new nodes. Without the second part a daemon restarted between
   EMR's RUNNING and the NodeManager's registration (no cooldown in its fresh memory) would buy the
   same nodes again.
3. A new node is opened on the cheapest managed (pool, instance type) that can hold the shape:
   cheapest per YARN GB using `snapshot.price()` (per GB because a unit of one pool is not the size
   of a unit of another); without prices, Spot before on-demand, TASK before CORE. A fleet's new
   node of option `o` counts `o.weight` units.
4. A shape that fits no node type of any managed pool, and found no room on existing or arriving
   nodes, is reported as `Rejection(UNSCHEDULABLE_SHAPE)` naming the pools' node sizes, and never
   adds a node: adding nodes that cannot run it only costs money.

It only ever scales up; shrinking is `idle-capacity`'s job. Bounds, step limits and cooldowns are the
engine's guardrails. This is the classic pending-pods logic of the Kubernetes Cluster Autoscaler
(simulate scheduling onto a template node of each group, pick a group by expander), applied to YARN.

Options:
- `headroom_pct` (0..100, default 0): extra units on top of what packing needs, as a % of the new units
  (rounded up), for demand that arrives while the nodes boot.
- `count_vcores` (default true): pack vcores as well as memory, as YARN's DominantResourceCalculator
  places containers. Set it false on a cluster that keeps the CapacityScheduler's default
  DefaultResourceCalculator (EMR's default), which places by memory alone and over-commits vcores:
  packing vcores there buys several times the nodes the asks need.
- `pending_for_s` (0..1800, default 0): act only on a backlog the history shows pending for this long
  (every sample in the window, and the history must reach back that far). A new node takes ~5-6
  minutes to boot; a backlog of short containers that clears within a minute or two on the running
  nodes would only buy nodes that arrive to nothing.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Self

from pydantic import Field

from autoscaler.model import (
    CapacityPool,
    ClusterSnapshot,
    InstanceOption,
    NodeState,
    Recommendation,
    Rejection,
    RejectReason,
    Resources,
    YarnMetrics,
)
from autoscaler.policy import PolicyContext
from policies._common import (
    PolicyOptions,
    cheapest_option,
    describe,
    has_pending,
    observed_since,
    parse_options,
    pool_market,
    preference_key,
    scalable,
    window,
)
from policies._packing import Bins, per_node, place


class PendingDemandOptions(PolicyOptions):
    headroom_pct: float = Field(0.0, ge=0, le=100, description="Extra % of the new units, rounded up.")
    count_vcores: bool = Field(True, description="Pack vcores too (false: memory-only YARN scheduling).")
    pending_for_s: float = Field(0.0, ge=0, le=1800, description="Seconds the history must show demand pending.")


def demand(snapshot: ClusterSnapshot) -> dict[Resources, int]:
    """Pending containers by shape; the counters' average shape when no app carries its asks."""
    # keyed by (MB, vcores) while counting, as hashing a tuple is far cheaper than a Resources (this runs
    # over every app's asks every tick); each shape keeps its first Resources, in first-seen order
    counts: dict[tuple[int, int], int] = {}
    first: dict[tuple[int, int], Resources] = {}
    for req in snapshot.pending_requests():
        if req.count > 0:
            shape = req.shape
            key = (shape.memory_mb, shape.vcores)
            seen = counts.get(key)
            if seen is None:
                counts[key] = req.count
                first[key] = shape
            else:
                counts[key] = seen + req.count
    if counts:
        return {first[key]: n for key, n in counts.items()}
    return _from_counters(snapshot.yarn)


def _from_counters(yarn: YarnMetrics | None) -> dict[Resources, int]:
    if yarn is None or not yarn.containers_pending or not yarn.pending_mb:
        return {}
    n = yarn.containers_pending
    vcores = math.ceil(yarn.pending_vcores / n) if yarn.pending_vcores else 1
    return {Resources(math.ceil(yarn.pending_mb / n), vcores): n}


class PendingDemandPolicy:
    """Bin-packs pending container shapes onto free, arriving, then new nodes of the cheapest pool."""

    name = "pending-demand"

    def __init__(self, options: PendingDemandOptions) -> None:
        self.options = options

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Self:
        return cls(parse_options(PendingDemandOptions, options))

    def evaluate(self, snapshot: ClusterSnapshot, ctx: PolicyContext) -> Iterable[Recommendation | Rejection]:
        pools = scalable(ctx.managed_pools)
        shapes = demand(snapshot)
        if not self.options.count_vcores:
            shapes = memory_only(shapes)
        if not pools or not shapes or not self._pending_long_enough(snapshot, ctx):
            return []
        return list(self._plan(snapshot, ctx, pools, shapes))

    def _pending_long_enough(self, snapshot: ClusterSnapshot, ctx: PolicyContext) -> bool:
        span = self.options.pending_for_s
        if span <= 0:
            return True
        now = snapshot.taken_at
        if not observed_since(ctx.history, now - span):
            return False
        return all(has_pending(s.yarn) for s in window(ctx.history, now, span))

    def _plan(
        self,
        snapshot: ClusterSnapshot,
        ctx: PolicyContext,
        pools: tuple[CapacityPool, ...],
        shapes: dict[Resources, int],
    ) -> Iterator[Recommendation | Rejection]:
        # a node with less free memory than every shape asks can take none: left out, so packing each
        # shape does not walk a full cluster's nodes (no placement changes: such a bin is never split)
        least_mb = min(s.memory_mb for s in shapes) if all(s.memory_mb > 0 for s in shapes) else -(1 << 62)
        free = [
            Bins(n.available.memory_mb, n.available.vcores, 1)
            for n in snapshot.nodes
            if n.state is NodeState.RUNNING
            and n.available is not None  # unknown free space is no room
            and n.available.memory_mb >= least_mb
        ]
        arriving = arriving_bins(snapshot, ctx)
        new: list[Bins] = []
        on_free = on_arriving = 0
        for shape in sorted(shapes, key=lambda s: (s.memory_mb, s.vcores), reverse=True):
            left = shapes[shape]
            placed = place(shape, left, free)
            on_free += placed
            left -= placed
            placed = place(shape, left, arriving)
            on_arriving += placed
            left -= placed
            if left == 0:
                continue
            left -= place(shape, left, new)
            if left == 0:
                continue
            choice = _cheapest_fit(snapshot, ctx, pools, shape)
            if choice is None:
                yield Rejection(
                    RejectReason.UNSCHEDULABLE_SHAPE,
                    detail=f"{shape.memory_mb} MB / {shape.vcores} vcores fits no node of "
                    + "; ".join(pool_sizes(p) for p in pools)
                    + f" ({left} container(s) pending)",
                    policy=self.name,
                )
                continue
            pool, option = choice
            k = per_node(shape, option.yarn.memory_mb, option.yarn.vcores)
            nodes = math.ceil(left / k)
            opened = [Bins(option.yarn.memory_mb, option.yarn.vcores, nodes, pool, option)]
            place(shape, left, opened)  # splits the new nodes' leftovers for smaller shapes
            new.extend(opened)
        yield from self._recommend(new, on_free, on_arriving)

    def _recommend(self, new: list[Bins], on_free: int, on_arriving: int) -> Iterator[Recommendation]:
        by_pool: dict[str, tuple[CapacityPool, dict[str, int]]] = {}
        for b in new:
            if b.pool is None or b.option is None:
                continue
            _, types = by_pool.setdefault(b.pool.pool_id, (b.pool, {}))
            types[b.option.instance_type] = types.get(b.option.instance_type, 0) + b.count
        for pool, types in by_pool.values():
            weights = {o.instance_type: o.weight for o in pool.options}
            units = sum(n * weights[t] for t, n in types.items())
            extra = math.ceil(units * self.options.headroom_pct / 100)
            nodes = ", ".join(f"{n} {t}" for t, n in sorted(types.items()))
            yield Recommendation(
                policy=self.name,
                pool_id=pool.pool_id,
                target_units=pool.requested.total + units + extra,
                reason=f"pending containers need {nodes} more (+{units} units"
                + (f", +{extra} headroom" if extra else "")
                + f"); {on_free} fit on free space, {on_arriving} on arriving nodes",
            )


def memory_only(shapes: dict[Resources, int]) -> dict[Resources, int]:
    """Shapes with their vcores dropped (0 vcores fit anywhere), merged by memory."""
    out: dict[Resources, int] = {}
    for shape, n in shapes.items():
        key = Resources(shape.memory_mb, 0)
        out[key] = out.get(key, 0) + n
    return out


def _unregistered_units(snapshot: ClusterSnapshot) -> dict[str, int]:
    """Per pool, units EMR counts running beyond those YARN has a NodeManager for (in any state).

    Empty when no YARN node joined an EMR instance: a host-name join that fails everywhere must not
    pass the whole cluster off as arriving capacity."""
    instances = snapshot.instances
    joined = [(n.pool_id, n.instance_id) for n in snapshot.nodes if n.pool_id is not None and n.instance_id is not None]
    known: dict[str, int]
    if all(i.weight == 1 for i in instances):  # every unit one instance (groups): count nodes per pool
        known = Counter(pool_id for pool_id, _ in joined)
    else:
        weights = {i.instance_id: i.weight for i in instances}
        known = {}
        for pool_id, instance_id in joined:
            known[pool_id] = known.get(pool_id, 0) + weights.get(instance_id, 1)
    if not known:
        return {}
    return {p.pool_id: max(p.running.total - known.get(p.pool_id, 0), 0) for p in snapshot.pools}


def arriving_bins(snapshot: ClusterSnapshot, ctx: PolicyContext) -> list[Bins]:
    """Units of every non-master pool that YARN cannot use yet, as empty nodes of their assumed type."""
    bins = []
    unregistered = _unregistered_units(snapshot)
    for pool in scalable(snapshot.pools):
        units = pool.provisioning.total + unregistered.get(pool.pool_id, 0)
        if units <= 0:
            continue
        option = cheapest_option(snapshot, pool, pool_market(pool, ctx))
        bins.append(Bins(option.yarn.memory_mb, option.yarn.vcores, math.ceil(units / max(option.weight, 1))))
    return bins


def _cheapest_fit(
    snapshot: ClusterSnapshot, ctx: PolicyContext, pools: tuple[CapacityPool, ...], shape: Resources
) -> tuple[CapacityPool, InstanceOption] | None:
    fits = [(p, o) for p in pools for o in p.options if shape.fits_in(o.yarn)]
    if not fits:
        return None
    return min(fits, key=lambda po: preference_key(snapshot, po[0], po[1], pool_market(po[0], ctx)))


def pool_sizes(pool: CapacityPool) -> str:
    return f"{pool.pool_id} (" + ", ".join(f"{o.instance_type} {describe(o.yarn)}" for o in pool.options) + ")"
