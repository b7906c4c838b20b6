"""`cost-optimizer`: the least spend for the job wait the operator asks for (`target_p95_wait_s`).

Each tick, from the snapshot and the engine's memory only (pure, no state of its own):

1. capacity (`pricing`): every pool's offers scored in $ per usable YARN GB-hour, Spot risk priced
   in; fall back to On-Demand while a Spot pool backs off; stay put unless `price_improvement_factor`
   cheaper;
2. packing (`packing`): pending shapes onto free, then booting, then new nodes of each shape's
   cheapest fitting offer; a shape nothing holds is rejected, never bought for;
3. backlog (`backlog`): buy only what will still be pending when a node bought now lands, and only
   once waiting longer would miss the target;
4. buffer (`buffer`): idle room for the first containers of jobs arriving faster than a boot;
5. scale-in (`scale_in`): idle nodes leave only when that saves more than re-buying costs;
6. budget (`budget`): scale-up never pushes the spend rate over `budget_usd_per_hour`;
7. AM share (`am_share`): YARN starts a waiting ApplicationMaster only while AMs hold at most
   `maximum-am-resource-percent` of the cluster, so the purchase is max(container shortfall, AM-share
   shortfall), and scale-in keeps the memory the running AMs' share needs.

Every recommendation's reason names the components that decided it, with their numbers; a backlog
it chooses not to buy for is a hold (target = current) whose reason says why, so `explain` shows it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from operator import attrgetter
from typing import Any, Self

from autoscaler.bounds import pool_bounds
from autoscaler.model import (
    CapacityPool,
    ClusterSnapshot,
    Market,
    NodeState,
    Recommendation,
    Rejection,
    RejectReason,
    Resources,
)
from autoscaler.policy import PolicyContext
from policies._common import has_pending, parse_options, scalable
from policies._packing import Bins
from policies.pending_demand import arriving_bins, demand, memory_only

from .am_share import AmShare, Timing, am_share, running_ams
from .backlog import Capacity, boot_estimates, forecast, least_work_s, scaled
from .budget import cap, spend_rate
from .buffer import first_container_mb, lock_cover, size_buffer
from .options import CostOptimizerOptions
from .packing import Purchase, buffer_nodes, buy, pack_existing
from .pricing import Offer, build_offers, choose
from .scale_in import idle_by_pool, memory_mb, plan_release

Item = Recommendation | Rejection
_INSTANCE_ID, _WEIGHT = attrgetter("instance_id"), attrgetter("weight")


def _running(snapshot: ClusterSnapshot, *, bins: bool) -> tuple[list[Bins], int]:
    """RUNNING nodes' free room (unknown free space is no room; none listed unless `bins`) and their
    YARN memory (allocated + free) where both are known, in one pass without a `capacity` per node."""
    free: list[Bins] = []
    running_mb = 0
    for node in snapshot.nodes:
        if node.state is NodeState.RUNNING and (room := node.available) is not None:
            if bins:
                free.append(Bins(room.memory_mb, room.vcores, 1))
            if node.used is not None:
                running_mb += node.used.memory_mb + room.memory_mb
    return free, running_mb


class CostOptimizerPolicy:
    """Holds `target_p95_wait_s` at the least expected spend; see the module docstring."""

    name = "cost-optimizer"
    guard_profile = "vendor"

    def __init__(self, options: CostOptimizerOptions) -> None:
        self.options = options

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Self:
        return cls(parse_options(CostOptimizerOptions, options))

    def evaluate(self, snapshot: ClusterSnapshot, ctx: PolicyContext) -> Iterable[Item]:
        pools = scalable(ctx.managed_pools)
        if not pools or snapshot.yarn is None:
            return []
        o = self.options
        now = snapshot.taken_at
        boots = boot_estimates(ctx.memory, [p.pool_id for p in pools], o.default_boot_s)
        boot = min(boots.values())
        shapes = demand(snapshot)
        if not o.count_vcores:
            shapes = memory_only(shapes)
        if not shapes and not has_pending(snapshot.yarn, snapshot):
            # nothing pending: no AM waits (its ask would be pending), nothing is bought or held, so only
            # scale-in can act, and it reads neither the arriving nodes nor the backlog nor the offers
            yarn_mb = snapshot.yarn.total_mb
            cluster_mb = yarn_mb if yarn_mb is not None else _running(snapshot, bins=False)[1]
            return self._scale_in(snapshot, ctx, pools, boots, boot, cluster_mb)
        # from here on something is pending (`has_pending` holds whenever `shapes` is non-empty)
        free, running_mb = _running(snapshot, bins=bool(shapes))  # free room matters only to pending shapes
        arriving = arriving_bins(snapshot, ctx)
        packed = pack_existing(shapes, free, arriving)
        unplaced_mb = sum(s.memory_mb * n for s, n in packed.unplaced.items())
        capacity = Capacity(running_mb, sum(b.memory_mb * b.count for b in arriving))
        min_work = least_work_s(ctx.config.guards.min_node_age_s, boot, o.target_p95_wait_s)
        fc = forecast(
            unplaced_mb,
            capacity,
            ctx.history,
            snapshot.apps,
            now,
            o.target_p95_wait_s,
            boot,
            o.trend_window_s,
            min_work,
            o.arrival_window_s,
        )
        cluster_mb = snapshot.yarn.total_mb if snapshot.yarn.total_mb is not None else running_mb
        ams = am_share(
            snapshot.apps,
            snapshot.am_limits,
            cluster_mb,
            capacity.arriving_mb,
            ctx.history,
            now,
            Timing(o.target_p95_wait_s, boot, min_work),
            o.arrival_window_s,
        )
        # read to buy, or to say why the backlog is held
        full = {p.pool_id for p in pools if p.requested.total >= pool_bounds(p, ctx.config).hi}
        offers, notes = build_offers(snapshot, pools, ctx.memory, boots, o.rerun_s, full)
        why: list[str] = [*notes]
        purchase = Purchase()
        if packed.unplaced:
            why.append(f"[backlog] {fc.why}")
        if packed.unplaced and fc.buy:
            purchase = buy(scaled(packed.unplaced, fc.fraction), offers, o.price_improvement_factor, pools)
        if ams.waiting:
            why.append(f"[am-share] {ams.why}")
        self._am_top_up(ams, purchase, offers, pools, why)
        if purchase.nodes:
            # a purchase locks its pool for a boot (EMR resizes a pool only while it is RUNNING), so it
            # also covers the first containers of the jobs expected meanwhile (`lock_cover`, never less
            # than the warm buffer); never bought alone, which would lock the cheapest pool just when
            # a burst comes
            spare_mb = sum(b.memory_mb * b.count for b in (*free, *arriving))
            first = Resources(first_container_mb(snapshot.apps), 0 if not o.count_vcores else 1)
            cover = lock_cover(snapshot.apps, now, boot, o.arrival_window_s)
            extra = buffer_nodes(cover.mb - spare_mb, first, offers, o.price_improvement_factor, pools)
            for offer, n in extra.nodes.values():
                purchase.add(offer, n)
            purchase.why += extra.why
            if extra.nodes:
                why.append(f"[buffer] {cover.why}, {spare_mb / 1024:.1f} GB spare")
        out: list[Item] = [
            Rejection(RejectReason.UNSCHEDULABLE_SHAPE, f"[packing] {u}", policy=self.name)
            for u in purchase.unschedulable
        ]
        bought = self._scale_up(snapshot, pools, offers, purchase, why, out)
        if not bought:
            detail = (
                "; ".join(why + [f"[capacity] {w}" for w in purchase.why])
                or f"[backlog] {packed.on_free} pending fit on free space, {packed.on_arriving} on booting nodes"
            )
            out += [Recommendation(self.name, p.pool_id, p.requested.total, f"hold: {detail}") for p in pools]
        return out

    def _am_top_up(
        self, ams: AmShare, purchase: Purchase, offers: list[Offer], pools: tuple[CapacityPool, ...], why: list[str]
    ) -> None:
        """Adds to `purchase` the nodes the AM share needs beyond its memory: max(container, AM-share shortfall)."""
        bought_mb = sum(off.option.yarn.memory_mb * n for off, n in purchase.nodes.values())
        deficit = math.ceil(ams.shortfall_mb - bought_mb)
        if deficit <= 0 or not ams.waiting:
            return
        am = Resources(max(ams.waiting_mb // ams.waiting, 1), 1 if self.options.count_vcores else 0)
        extra = buffer_nodes(deficit, am, offers, self.options.price_improvement_factor, pools, label="AM share")
        for offer, n in extra.nodes.values():
            purchase.add(offer, n)
        purchase.why += extra.why
        if extra.nodes:
            usd = sum(off.usd_per_hour * n for off, n in extra.nodes.values())
            why.append(
                f"[am-share] bought {sum(n for _, n in extra.nodes.values())} node(s) (+${usd:.3f}/h) beyond the "
                f"containers' for {deficit / 1024:.0f} GB of cluster memory the waiting AMs need"
            )

    def _scale_up(  # noqa: PLR0917 - private step of evaluate
        self,
        snapshot: ClusterSnapshot,
        pools: tuple[CapacityPool, ...],
        offers: list[Offer],
        purchase: Purchase,
        why: list[str],
        out: list[Item],
    ) -> set[str]:
        wanted = sorted(
            purchase.nodes.values(), key=lambda on: on[0].expected_usd_per_hour / max(on[0].option.yarn.memory_mb, 1)
        )
        budget = self.options.budget_usd_per_hour
        rate = None
        if budget is not None and wanted:  # `cap` reads the rate only then; it walks every instance
            unit_price = {}
            for p in pools:
                best, _ = choose([x for x in offers if x.pool.pool_id == p.pool_id], {}, 1.0)
                if best is not None:
                    unit_price[p.pool_id] = best.usd_per_hour / max(best.option.weight, 1)
            rate = spend_rate(snapshot, unit_price)
        cut = cap(wanted, rate, budget)
        by_pool: dict[str, list[tuple[Offer, int, int]]] = {}
        for offer, n in wanted:
            by_pool.setdefault(offer.pool.pool_id, []).append((offer, n, cut.allowed.get(offer.key, 0)))
        bought: set[str] = set()
        for pool_id, items in by_pool.items():
            pool = items[0][0].pool
            wanted_units = sum(n * max(off.option.weight, 1) for off, n, _ in items)
            units = sum(k * max(off.option.weight, 1) for off, _, k in items)
            if cut.bound:
                out.append(
                    Rejection(
                        RejectReason.BUDGET,
                        f"[budget] {cut.why}",
                        pool_id,
                        self.name,
                        wanted_units=pool.requested.total + wanted_units,
                        allowed_units=pool.requested.total + units,
                    )
                )
            if units <= 0:
                continue
            market = max(items, key=lambda it: it[2])[0].market
            nodes = ", ".join(f"{k} × {off.option.instance_type} {off.market.value}" for off, _, k in items if k)
            detail = "; ".join([f"[capacity+packing] {w}" for w in purchase.why] + why)
            adds = sum(k * off.usd_per_hour for off, _, k in items)
            out.append(
                Recommendation(
                    self.name,
                    pool_id,
                    pool.requested.total + units,
                    f"buy {nodes} (+{units} units, +${adds:.3f}/h): {detail}"
                    + (f"; [budget] {cut.why}" if cut.why else ""),
                    market=market if pool.is_fleet else None,
                )
            )
            bought.add(pool_id)
        return bought

    def _scale_in(  # noqa: PLR0917 - private step of evaluate
        self,
        snapshot: ClusterSnapshot,
        ctx: PolicyContext,
        pools: tuple[CapacityPool, ...],
        boots: Mapping[str, float],
        boot: float,
        cluster_mb: float,
    ) -> list[Item]:
        """Releases idle nodes, keeping the warm buffer and what the running AMs' share needs."""
        idle = idle_by_pool(snapshot)
        if not any(p.pool_id in idle for p in pools):
            return []  # the usual tick: no pool has an idle node to release, nothing to weigh
        o, now = self.options, snapshot.taken_at
        ams = running_ams(snapshot.am_limits, cluster_mb)  # nothing pending, so no AM waits
        may_free, floor_why = (
            (
                cluster_mb - ams.keep_mb,
                f"the running AMs' {ams.used_mb / 1024:.0f} GB need {ams.keep_mb / 1024:.0f} GB "
                f"of cluster memory at YARN's {100 * ams.share:g}% AM share",
            )
            if ams.keep_mb > 0 and ams.used_mb is not None
            else (float("inf"), "")
        )
        buf = size_buffer(snapshot.apps, now, o.target_p95_wait_s, boot, o.arrival_window_s)
        instances = snapshot.instances
        weights = dict(zip(map(_INSTANCE_ID, instances), map(_WEIGHT, instances), strict=True))  # {id: weight}, in C
        order = sorted(pools, key=lambda p: (p.market is not Market.SPOT, p.pool_id))
        out: list[Item] = []
        kept = buf.mb
        for pool in order:
            release = plan_release(
                snapshot,
                pool.pool_id,
                ctx.history,
                kept,
                boots[pool.pool_id],
                ctx.config.guards.min_node_age_s,
                self.options.min_decommission_timeout_s,
                weights,
                self.options.rebuy_probability,
                may_free,
                floor_why,
                idle.get(pool.pool_id, []),
            )
            if release is None:
                continue
            target = max(pool.requested.total - release.units, 0)
            out.append(
                Recommendation(
                    self.name,
                    pool.pool_id,
                    target,
                    f"[scale-in] {release.why}; [buffer] {buf.why}",
                    decommission_timeout_s=release.timeout_s if release.units else None,
                )
            )
            if not release.hosts:  # a "kept" reason: nothing leaves
                continue
            freed = sum(memory_mb(n.capacity) for n in snapshot.nodes if n.host in release.hosts)
            kept += freed
            may_free -= freed
        return out
