"""Spot notices in the decision: replacement capacity at a two-minute warning, given back once EMR
refills the reclaimed instance itself, and bought in another pool when one keeps losing nodes.

A component of the decision core (between `combine` and `guardrails`), not a policy, so every
policy's target benefits. Its wishes pass the same guardrails as any other (bounds, on-demand cap,
step limit, back-off, busy pool) except the scale-up cooldown, which paces policy reactions and is
not meant to delay restoring capacity that is being taken away.

EMR holds a pool's requested count: "When Amazon EC2 reclaims a Spot Instance in a running cluster
[...] Amazon EMR tries to replace the instance" (Management Guide, instance fleets); an instance
group returns to its requested size unless told otherwise (InstanceGroupModifyConfig:
"After you terminate the instances, the instance group will not return to its original requested
size"). A node under a two-minute warning is therefore capacity that is leaving and that EMR refills
only after the reclaim plus a boot. The rule, per pool:
1. at the warning the pool's effective count excludes the noticed units, so its wish becomes
   max(target, requested + noticed units): counted against the target, so a policy that already
   wants that much buys nothing more, and a pool the policies are shrinking is not replaced (the loss
   is part of the shrink);
2. once the instance is gone EMR refills it on top of the replacement, so the units are given back:
   the requested count is lowered again, only as far as the running units allow (it cancels capacity
   that has not arrived and never drains a node), at once, also while that refill keeps the pool
   RESIZING, and never below what EMR held after the purchases minus their units (if EMR itself
   lowered the count, nothing is given back twice);
3. a pool with `spot.failover_after_notices` warnings within `spot.failover_window_s` buys its
   replacements in another managed pool of the same role instead (cheapest known $/unit with room: a
   Spot pool of another type, an on-demand group, or a fleet's on-demand side) and still gives its
   own units back, so the capacity moves.
Rebalance recommendations are counted and steer victim choice (`drain`), nothing more. A notice for
an instance EMR does not list (or with no instance list at all) is ignored and said so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Final

from autoscaler.bounds import hdfs_utilization, pool_bounds
from autoscaler.config import ClusterConfig
from autoscaler.model import (
    CapacityPool,
    ClusterSnapshot,
    ControllerMemory,
    InstanceInfo,
    InstanceState,
    InterruptionNotice,
    Market,
    NoticeNote,
    NoticeStatus,
    Plan,
    Recommendation,
    Rejection,
    RejectReason,
    Replacement,
)

REPLACEMENT_POLICY: Final = "interruptions"  # policy name on this component's recommendations
WARNING_S: Final = 120.0  # EC2's two-minute warning
SURVIVED_AFTER_S: Final = 300.0  # still listed this long after its warning took effect: not reclaimed, give back
KEEP_NOTICES_S: Final = 900.0  # seen notices are remembered at least this long (a rebalance lives 600 s)


@dataclass(frozen=True, slots=True)
class GiveBack:
    """Lower `pool_id` to `target` (cancelling units not yet arrived), for the gone `instance_ids`."""

    target: int
    instance_ids: tuple[str, ...]
    detail: str


@dataclass(frozen=True, slots=True)
class NoticePlan:
    wanted: dict[str, Recommendation]
    buys: dict[str, tuple[tuple[str, Replacement], ...]]  # by the pool that buys, in notice order
    give_back: dict[str, GiveBack]
    notes: tuple[NoticeNote, ...]
    memory: ControllerMemory
    rejections: tuple[Rejection, ...] = ()  # policy wishes this component overrode (SUPERSEDED)


def notice_kind(notice: InterruptionNotice) -> str:
    return "rebalance" if notice.action == "rebalance" else "interruption"


def _unit_price(
    snapshot: ClusterSnapshot, pool: CapacityPool, market: Market, itype: str | None = None
) -> float | None:
    """$/h of one unit of `pool` on `market` (of `itype` when given, else its first option)."""
    option = next((o for o in pool.options if o.instance_type == itype), pool.options[0] if pool.options else None)
    if option is None:
        return None
    quote = snapshot.price(option.instance_type, market)
    return None if quote is None else quote.usd_per_hour / max(option.weight, 1)


def _cost(usd: float | None) -> str:
    return "cost unknown (no price)" if usd is None else f"${usd:.3f}/h"


def _alternative(
    pool: CapacityPool, managed: Sequence[CapacityPool], snapshot: ClusterSnapshot, config: ClusterConfig
) -> tuple[CapacityPool, Market] | None:
    """Where a pool that keeps losing nodes buys instead: same role, room under its maximum, not Spot of
    the same instance types; the cheapest known $/unit first, unknown prices last."""
    lost_types = {o.instance_type for o in pool.options}
    best: tuple[float, str, str, CapacityPool, Market] | None = None
    hdfs = hdfs_utilization(snapshot)
    for q in managed:
        if q.role is not pool.role or not q.options:
            continue
        if q.requested.total >= pool_bounds(q, config, hdfs).hi:
            continue
        for market in (q.market,) if q.market is not None else (Market.SPOT, Market.ON_DEMAND):
            same_type = q.pool_id == pool.pool_id or bool(lost_types & {o.instance_type for o in q.options})
            if market is Market.SPOT and same_type:
                continue
            price = _unit_price(snapshot, q, market)
            key = (math.inf if price is None else price, q.pool_id, market.value, q, market)
            if best is None or key[:3] < best[:3]:
                best = key
    return None if best is None else (best[3], best[4])


def _to_units(pool: CapacityPool, inst: InstanceInfo, dest: CapacityPool) -> int:
    """The noticed instance's units in `dest`, by YARN memory (at least one unit)."""
    if dest.pool_id == pool.pool_id:
        return inst.weight
    lost = next((o for o in pool.options if o.instance_type == inst.instance_type), None)
    lost_mb = lost.yarn.memory_mb if lost is not None else (pool.smallest_node.memory_mb if pool.smallest_node else 0)
    per_unit = dest.options[0].yarn.memory_mb / max(dest.options[0].weight, 1)
    return max(1, math.ceil(lost_mb / per_unit - 1e-9)) if per_unit > 0 else 1


class _Planner:
    """One tick's pass over the notices; collects notes, wishes, buys and give-backs."""

    def __init__(
        self,
        snapshot: ClusterSnapshot,
        memory: ControllerMemory,
        wanted: Mapping[str, Recommendation],
        managed: Sequence[CapacityPool],
        config: ClusterConfig,
    ) -> None:
        self.snapshot, self.memory, self.config, self.managed = snapshot, memory, config, managed
        self.now = snapshot.taken_at
        self.wanted = dict(wanted)
        self.pools = {p.pool_id: p for p in snapshot.pools}
        self.managed_ids = {p.pool_id for p in managed}
        self.live = {i.instance_id: i for i in snapshot.instances if i.state is not InstanceState.TERMINATED}
        # no instance list while pools hold units: which instances exist is unknown, not "none"
        self.instances_known = bool(snapshot.instances) or not any(
            p.running.total or p.provisioning.total for p in snapshot.pools
        )
        self.notes: list[NoticeNote] = []
        self.buys: dict[str, list[tuple[str, Replacement]]] = {}
        self.markets: dict[str, Market | None] = {}
        self.give_back: dict[str, GiveBack] = {}
        self.rejections: list[Rejection] = []
        self.replacements = dict(memory.replacements)
        self.seen = dict(memory.notices)
        self.off: str | None = None if config.spot.replace_on_notice else "spot.replace_on_notice is false"

    def note(self, notice: InterruptionNotice, status: NoticeStatus, detail: str, **kw: object) -> None:
        self.notes.append(NoticeNote(notice.instance_id, notice_kind(notice), status, detail, **kw))  # type: ignore[arg-type]

    def remember(self) -> None:
        """Count each notice once (NEW), and forget old ones no longer reported."""
        current = set()
        for n in self.snapshot.interruptions:
            key = f"{n.instance_id}/{notice_kind(n)}"
            current.add(key)
            if key not in self.seen:
                inst = self.live.get(n.instance_id)
                self.seen[key] = (inst.pool_id if inst is not None else "", n.notice_at)
                where = f" in pool {inst.pool_id}" if inst is not None else ""
                left = n.effective_at - self.now
                self.note(n, NoticeStatus.NEW, f"{n.action} notice{where}, takes effect {left:.0f}s from now")
        keep = max(self.config.spot.failover_window_s, KEEP_NOTICES_S)
        self.seen = {k: v for k, v in self.seen.items() if k in current or self.now - v[1] <= keep}

    def losses(self, pool_id: str) -> int:
        """Two-minute warnings seen for `pool_id` within spot.failover_window_s (this tick's included)."""
        since = self.now - self.config.spot.failover_window_s
        seen = self.seen.items()
        return sum(1 for k, (p, at) in seen if p == pool_id and at >= since and k.endswith("/interruption"))

    def classify(self, blocked: str | None) -> dict[str, list[tuple[InstanceInfo, InterruptionNotice]]]:
        """Warnings that want a replacement now, by losing pool; every other notice gets its note."""
        warned = {n.instance_id for n in self.snapshot.interruptions if notice_kind(n) == "interruption"}
        out: dict[str, list[tuple[InstanceInfo, InterruptionNotice]]] = {}
        done: set[str] = set()
        for n in self.snapshot.interruptions:
            iid = n.instance_id
            if iid in done or (notice_kind(n) == "rebalance" and iid in warned):
                continue
            done.add(iid)
            inst = self.live.get(iid)
            if not self.instances_known:
                self.note(n, NoticeStatus.IGNORED, "EMR's instance list is unavailable this tick: instance unknown")
            elif inst is None:
                self.note(n, NoticeStatus.IGNORED, f"no instance {iid} in cluster {self.snapshot.cluster_id}")
            elif notice_kind(n) == "rebalance":
                detail = "rebalance recommendation: not replaced; first to go when its pool shrinks"
                self.note(n, NoticeStatus.NOT_REPLACED, detail, pool_id=inst.pool_id)
            elif inst.market is not Market.SPOT:
                self.note(n, NoticeStatus.IGNORED, f"{iid} is not a Spot instance", pool_id=inst.pool_id)
            elif inst.pool_id not in self.managed_ids:
                detail = f"pool {inst.pool_id} is not managed: EMR refills it after the reclaim"
                self.note(n, NoticeStatus.IGNORED, detail, pool_id=inst.pool_id)
            elif iid in self.replacements:
                rep = self.replacements[iid]
                detail = f"replacement bought in {rep.to_pool}; given back in {rep.pool_id} once the instance is gone"
                self.note(
                    n, NoticeStatus.REPLACED, detail, pool_id=rep.pool_id, to_pool=rep.to_pool, units=rep.to_units
                )
            elif self.off is not None:
                self.note(n, NoticeStatus.NOT_REPLACED, self.off, pool_id=inst.pool_id)
            elif blocked is not None:
                self.note(n, NoticeStatus.WAITING, f"not replaced this tick: {blocked}", pool_id=inst.pool_id)
            else:
                out.setdefault(inst.pool_id, []).append((inst, n))
        return out

    def plan_buys(self, warnings: Mapping[str, list[tuple[InstanceInfo, InterruptionNotice]]]) -> None:
        spot = self.config.spot
        for pool_id, items in warnings.items():
            pool = self.pools[pool_id]
            lost = self.losses(pool_id)
            dest_market: tuple[CapacityPool, Market | None] = (pool, Market.SPOT if pool.is_fleet else None)
            failover = ""
            if lost >= spot.failover_after_notices:
                alt = _alternative(pool, self.managed, self.snapshot, self.config)
                if alt is not None:
                    dest_market = alt
                    failover = (
                        f"; {lost} warnings in {pool_id} within spot.failover_window_s={spot.failover_window_s:g} "
                        f"(spot.failover_after_notices={spot.failover_after_notices}): bought in {alt[0].pool_id}"
                    )
            dest, market = dest_market
            for inst, n in items:
                units = _to_units(pool, inst, dest)
                rep = Replacement(pool_id, inst.weight, dest.pool_id, units, self.now, pool.requested.total)
                self.buys.setdefault(dest.pool_id, []).append((inst.instance_id, rep))
                self.markets[dest.pool_id] = market
                on = market or dest.market or Market.SPOT
                price = _unit_price(self.snapshot, dest, on, inst.instance_type if dest is pool else None)
                usd = None if price is None else price * units
                detail = f"{units} unit(s) of {dest.pool_id} ({on.value}) at {_cost(usd)}{failover}"
                where = {"pool_id": pool_id, "to_pool": dest.pool_id, "units": units, "usd_per_hour": usd}
                self.note(n, NoticeStatus.REPLACING, detail, **where)

    def plan_wishes(self) -> None:
        for dest_id, items in list(self.buys.items()):
            dest = self.pools[dest_id]
            current = dest.requested.total
            rec = self.wanted.get(dest_id)
            target = current if rec is None else rec.target_units
            if target < current:  # the policies shrink this pool: the loss is part of the shrink
                why = f"policies shrink {dest_id} to {target} (now {current}): the loss is part of the shrink"
                self.notes = [
                    replace(x, status=NoticeStatus.NOT_REPLACED, detail=why)
                    if x.status is NoticeStatus.REPLACING and x.to_pool == dest_id
                    else x
                    for x in self.notes
                ]
                del self.buys[dest_id]
                continue
            add = sum(rep.to_units for _, rep in items)
            if current + add > target:
                ids = ", ".join(iid for iid, _ in items)
                reason = f"replace {add} unit(s) for Spot instance(s) {ids} under a two-minute warning"
                self.wanted[dest_id] = Recommendation(
                    REPLACEMENT_POLICY, dest_id, current + add, reason, market=self.markets.get(dest_id)
                )

    def hold_replaced(self) -> None:
        """A pool holding a replacement for an instance still leaving is not shrunk meanwhile: its count
        includes that instance, so a policy's lower target would take the replacement back early."""
        leaving: dict[str, list[str]] = {}
        for iid, rep in self.replacements.items():
            if iid in self.live:
                leaving.setdefault(rep.to_pool, []).append(iid)
        for pool_id, ids in leaving.items():
            rec, pool = self.wanted.get(pool_id), self.pools.get(pool_id)
            if rec is None or pool is None or rec.target_units >= pool.requested.total:
                continue
            current = pool.requested.total
            why = f"holds {current} while {', '.join(sorted(ids))} (replaced here) is still leaving"
            self.rejections.append(
                Rejection(
                    RejectReason.SUPERSEDED,
                    f"{rec.policy} wanted {rec.target_units}; {REPLACEMENT_POLICY} {why}",
                    pool_id,
                    rec.policy,
                    wanted_units=rec.target_units,
                    allowed_units=current,
                )
            )
            self.wanted[pool_id] = Recommendation(REPLACEMENT_POLICY, pool_id, current, why)

    def plan_give_backs(self) -> None:
        gone: dict[str, list[tuple[str, Replacement]]] = {}
        for iid, rep in self.replacements.items():
            inst = self.live.get(iid)
            survived = inst is not None and self.now > rep.bought_at + WARNING_S + SURVIVED_AFTER_S
            if self.instances_known and (inst is None or survived):
                gone.setdefault(rep.pool_id, []).append((iid, rep))
        for pool_id, items in gone.items():
            pool = self.pools.get(pool_id)
            ids = tuple(iid for iid, _ in items)
            if pool is None or pool_id not in self.managed_ids:
                self._forget(ids)
                continue
            if pool_id in self.buys:  # one resize per pool per tick: give back on the next one
                continue
            current = pool.requested.total
            units = sum(rep.units for _, rep in items)
            floor = max(rep.pool_requested for _, rep in items) - units  # what EMR held before, at least
            lo = pool_bounds(pool, self.config, hdfs_utilization(self.snapshot)).lo
            target = max(current - units, floor, pool.running.total, lo)
            rec = self.wanted.get(pool_id)
            if rec is not None and rec.target_units > current:
                self._forget(ids)  # a policy grows the pool: EMR's refill is capacity it wants anyway
                continue
            if target >= current:
                self._forget(ids)  # nothing left that has not arrived: ordinary capacity from now on
                continue
            price = _unit_price(self.snapshot, pool, pool.market or Market.SPOT)
            saved = None if price is None else price * (current - target)
            usd = None if saved is None else -saved
            detail = (
                f"{', '.join(ids)} gone: EMR refills {pool_id} on top of the replacement; lowering {current} -> "
                f"{target} cancels {current - target} unit(s) not yet arrived, saving {_cost(saved)}"
            )
            self.give_back[pool_id] = GiveBack(target, ids, detail)
            for iid, rep in items:
                status = NoticeStatus.GIVING_BACK
                self.notes.append(NoticeNote(iid, "interruption", status, detail, pool_id, rep.to_pool, rep.units, usd))
            if rec is None:
                self.wanted[pool_id] = Recommendation(REPLACEMENT_POLICY, pool_id, target, detail, market=Market.SPOT)

    def _forget(self, ids: Sequence[str]) -> None:
        for iid in ids:
            self.replacements.pop(iid, None)


def plan_notices(
    snapshot: ClusterSnapshot,
    memory: ControllerMemory,
    wanted: Mapping[str, Recommendation],
    managed: Sequence[CapacityPool],
    config: ClusterConfig,
    *,
    blocked: str | None = None,
    vendor_only: bool = False,
) -> NoticePlan:
    """This tick's replacements and give-backs (see the module docstring); `blocked` (why the whole tick
    may not act, e.g. a stale snapshot) leaves every wish as it was and only notes and counts.

    `vendor_only`: every policy is a reference under its vendor's own timing ("vendor" guard profile),
    which knows nothing of notices; references run as their vendors run them, so nothing is bought."""
    if not (snapshot.interruptions or memory.notices or memory.replacements):
        # the usual tick: nothing to note, buy, hold or give back; skip indexing every instance
        return NoticePlan(dict(wanted), {}, {}, (), memory)
    p = _Planner(snapshot, memory, wanted, managed, config)
    if vendor_only and p.off is None:
        p.off = "every policy is a reference run as its vendor runs it (guard profile vendor): no replacement"
    p.remember()
    warnings = p.classify(blocked)
    if blocked is None:
        p.plan_buys(warnings)
        p.plan_wishes()
        p.hold_replaced()
        p.plan_give_backs()
    memory = replace(memory, notices=MappingProxyType(p.seen), replacements=MappingProxyType(p.replacements))
    buys = {k: tuple(v) for k, v in p.buys.items()}
    return NoticePlan(p.wanted, buys, p.give_back, tuple(p.notes), memory, tuple(p.rejections))


def settle_notes(notes: Sequence[NoticeNote], plan: Plan) -> tuple[NoticeNote, ...]:
    """After the guardrails: a replacement or give-back that got no resize says it waits (see rejections)."""
    bought = {iid for r in plan.resizes for iid, _ in r.replaces}
    given = {iid for r in plan.resizes for iid in r.gives_back}
    out = []
    for n in notes:
        pool = n.to_pool if n.status is NoticeStatus.REPLACING else n.pool_id
        waits = (n.status is NoticeStatus.REPLACING and n.instance_id not in bought) or (
            n.status is NoticeStatus.GIVING_BACK and n.instance_id not in given
        )
        detail = f"{n.detail}; not planned: see {pool}'s rejections"
        out.append(replace(n, status=NoticeStatus.WAITING, detail=detail) if waits else n)
    return tuple(out)
