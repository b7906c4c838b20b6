"""Pure limits between what policies want and what gets done: combined wishes in, a `Plan` of
absolute targets and a named `Rejection` for every "no" out.

Per pool, in this order (each check either trims the target and says so, or stops the pool):
1. bounds (`bounds.pool_bounds`), per pool: each task pool on its own in [min_task_units,
   max_task_units] (not their sum across task pools); core [max(min_core_units, dfs.replication
   rule, HDFS need), max_core_units], never shrunk without `guards.scale_core`. A ceiling never turns
   a wanted scale-up into a scale-down (the pool holds). A managed pool out of bounds that no policy
   spoke for gets an implicit "limits" recommendation from `bounds.limit_recommendations`, so bounds
   hold on every tick, through these checks.
2. scale-in confirmations are counted on every fresh tick the combined wish is a scale-in, whatever
   else blocks it, and reset as soon as it is not, so "wanted for N consecutive ticks" means that.
3. pool busy (any state but RUNNING), back-off after failures.
4. scale-in only: awaiting confirmation; cooldown since the last resize of either direction.
   scale-up only: a Spot instance group whose type's Spot Advisor band exceeds
   `spot.max_interruption_band` is not grown past its floor while a managed on-demand group of the
   same role has room under its maximum (SPOT_RISK; an unknown band is no reason to refuse, and the
   demand is not redirected: policies should prefer that group); cooldown since the last scale-up.
5. step limits per tick; `limits.max_on_demand_units` across core and task pools.
6. scale-in: cancel capacity that has not arrived first, drain the rest from idle instances
   chosen by `drain.choose_victims`; shrink only as far as there are removable nodes.
Guard profiles: the confirmations and cooldowns of 4 and the step limits of 5 are *our* timing
guards. They apply when the pool's winning recommendation comes from a policy under the "ours"
profile (every policy by default, and the implicit "limits"); a reference policy that declares
"vendor" (dataproc, emr-rules, managed-scaling-like) keeps only its vendor's own timing, unless the
operator sets `guards: ours` on it (designs/0004-reference-guard-profiles.md). Everything else here
is safety and applies to every policy.
Then the target is split by market: a group uses its own market; a fleet adds on-demand up to
`spot.on_demand_base_units` and the rest on Spot, and removes on-demand above the base first, then
Spot, then the base; with `prefer_spot` off it adds on-demand and removes Spot first; a
`Recommendation.market` puts the whole change on that side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from autoscaler.bounds import hdfs_utilization, pool_bounds
from autoscaler.config import ClusterConfig, GuardProfile
from autoscaler.drain import choose_victims
from autoscaler.model import (
    Capacity,
    CapacityPool,
    ClusterSnapshot,
    ControllerMemory,
    Market,
    Plan,
    PoolMemory,
    PoolRole,
    PoolState,
    Recommendation,
    Rejection,
    RejectReason,
    Replacement,
    Resize,
)
from autoscaler.replacement import REPLACEMENT_POLICY, GiveBack


def spot_band(pool: CapacityPool, snapshot: ClusterSnapshot) -> int | None:
    """The Spot Advisor band of a Spot instance group's type, None when unknown or not a Spot group."""
    if pool.market is not Market.SPOT or not pool.options:
        return None
    quote = snapshot.price(pool.options[0].instance_type, Market.SPOT)
    return quote.interruption_band if quote is not None else None


@dataclass(slots=True)
class _PoolCheck:
    """One pool's pass through the guardrails; collects its rejections."""

    pool: CapacityPool
    rec: Recommendation
    config: ClusterConfig
    rejections: list[Rejection]
    on_demand_alternative: str | None = None  # a managed on-demand group of the same role with room to grow
    hdfs_utilization_pct: float | None = None
    timing_guards: bool = True  # our cooldowns, confirmations and step limits ("ours" profile)
    buys: tuple[tuple[str, Replacement], ...] = ()  # Spot replacements this pool's scale-up would buy
    give_back: GiveBack | None = None  # units to cancel for reclaimed instances (`autoscaler.replacement`)

    def reject(self, reason: RejectReason, detail: str, wanted: int, allowed: int) -> None:
        self.rejections.append(
            Rejection(reason, detail, self.pool.pool_id, self.rec.policy, wanted_units=wanted, allowed_units=allowed)
        )

    def bounds(self) -> int:
        current, target = self.pool.requested.total, max(self.rec.target_units, 0)
        b = pool_bounds(self.pool, self.config, self.hdfs_utilization_pct)
        allowed = target
        if allowed > b.hi:
            allowed = max(b.hi, current) if target > current else b.hi
            self.reject(RejectReason.ABOVE_MAX, b.hi_detail, target, allowed)
        if allowed < b.lo:
            allowed = b.lo
            self.reject(b.lo_reason, b.lo_detail, target, allowed)
        return allowed

    def cooldown_up(self, mem: PoolMemory, now: float, target: int, wanted: int) -> int:
        """`target` as the scale-up cooldown allows: the current size while it runs (COOLDOWN_UP), except
        for Spot replacements (restoring capacity being taken away is not a policy reaction)."""
        cooldown_s, current = self.config.guards.cooldown_up_s, self.pool.requested.total
        if not self.timing_guards or mem.last_scale_up_at is None or now - mem.last_scale_up_at >= cooldown_s:
            return target
        allowed = min(target, current + sum(rep.to_units for _, rep in self.buys))
        if allowed == target:
            return target
        ago = now - mem.last_scale_up_at
        detail = f"last scale-up {ago:.0f}s ago; guards.cooldown_up_s={cooldown_s:g} ({cooldown_s - ago:.0f}s left)"
        self.reject(RejectReason.COOLDOWN_UP, detail, wanted, max(allowed, current))
        return allowed

    def spot_risk(self, snapshot: ClusterSnapshot, target: int) -> int:
        """`target` cut back to what a Spot group riskier than configured may still grow to (its floor,
        or where it is), with a SPOT_RISK rejection when cut; unchanged when the risk is acceptable."""
        band, limit = spot_band(self.pool, snapshot), self.config.spot.max_interruption_band
        if band is None or band <= limit or self.on_demand_alternative is None:
            return target
        floor = pool_bounds(self.pool, self.config, self.hdfs_utilization_pct).lo
        allowed = max(self.pool.requested.total, min(target, floor))
        if allowed < target:
            itype = self.pool.options[0].instance_type
            detail = (
                f"{itype} Spot interruption band {band} > spot.max_interruption_band={limit}; "
                f"on-demand pool {self.on_demand_alternative} can take the demand"
            )
            self.reject(RejectReason.SPOT_RISK, detail, target, allowed)
        return allowed


def _confirmations(mem: PoolMemory, scale_in: bool, now: float, needed: int) -> PoolMemory:
    if not scale_in:
        if mem.down_confirmations == 0 and mem.down_wanted_since is None:
            return mem  # the usual tick: nothing to reset
        return replace(mem, down_confirmations=0, down_wanted_since=None)
    since = mem.down_wanted_since if mem.down_wanted_since is not None else now
    # every tick a scale-in is wanted: the constructor, not `replace` (several times slower)
    return PoolMemory(
        last_scale_up_at=mem.last_scale_up_at,
        last_scale_down_at=mem.last_scale_down_at,
        down_wanted_since=since,
        down_confirmations=min(mem.down_confirmations + 1, needed),
        backoff_until=mem.backoff_until,
        consecutive_failures=mem.consecutive_failures,
        resizing_since=mem.resizing_since,
        last_resize_completed_at=mem.last_resize_completed_at,
    )


def split_by_market(pool: CapacityPool, total: int, market: Market | None, config: ClusterConfig) -> Capacity:
    """The absolute per-market target for `total` units (see the module docstring)."""
    cur = pool.requested
    if pool.market is not None:
        return Capacity().with_market(pool.market, total)
    delta = total - cur.total
    spot_cfg = config.spot
    if delta >= 0:
        if market is not None:
            return cur.with_market(market, cur.get(market) + delta)
        if not spot_cfg.prefer_spot:
            return replace(cur, on_demand=cur.on_demand + delta)
        od_add = min(delta, max(spot_cfg.on_demand_base_units - cur.on_demand, 0))
        return Capacity(cur.on_demand + od_add, cur.spot + delta - od_add)
    remove = -delta
    od, spot = cur.on_demand, cur.spot
    if market is Market.ON_DEMAND:
        steps = [(Market.ON_DEMAND, od), (Market.SPOT, spot)]
    elif market is Market.SPOT or not spot_cfg.prefer_spot:
        steps = [(Market.SPOT, spot), (Market.ON_DEMAND, od)]
    else:
        above_base = max(od - spot_cfg.on_demand_base_units, 0)
        steps = [(Market.ON_DEMAND, above_base), (Market.SPOT, spot), (Market.ON_DEMAND, od - above_base)]
    for side, available in steps:
        take = min(remove, available)
        if side is Market.ON_DEMAND:
            od -= take
        else:
            spot -= take
        remove -= take
    return Capacity(od, spot)


def _cap_on_demand(
    check: _PoolCheck, target: Capacity, od_elsewhere: int, limit: int | None, market: Market | None
) -> Capacity:
    cur = check.pool.requested
    if limit is None or target.on_demand <= cur.on_demand:
        return target
    allowed_od = max(limit - od_elsewhere, cur.on_demand)
    if target.on_demand <= allowed_od:
        return target
    excess = target.on_demand - allowed_od
    if check.pool.is_fleet and market is not Market.ON_DEMAND:
        return Capacity(allowed_od, target.spot + excess)
    capped = Capacity(allowed_od, target.spot)
    check.reject(
        RejectReason.ABOVE_MAX,
        f"limits.max_on_demand_units={limit} ({od_elsewhere} on-demand units in other pools)",
        target.total,
        capped.total,
    )
    return capped


def _plan_pool(
    check: _PoolCheck, snapshot: ClusterSnapshot, mem: PoolMemory, od_elsewhere: int
) -> tuple[Resize | None, PoolMemory]:
    pool, rec, config = check.pool, check.rec, check.config
    guards, limits, now = config.guards, config.limits, snapshot.taken_at
    current = pool.requested.total
    target = check.bounds()
    mem = _confirmations(mem, target < current, now, guards.scale_down_confirmations)
    if check.give_back is not None and target <= current:
        return _give_back(check, snapshot, check.give_back, mem), mem
    if target == current:
        return None, mem
    wanted = target
    if pool.state is not PoolState.RUNNING:
        check.reject(RejectReason.POOL_BUSY, f"pool is {pool.state.value}; resized only when RUNNING", wanted, current)
        return None, mem
    if mem.backoff_until is not None and now < mem.backoff_until:
        left = mem.backoff_until - now
        detail = f"backing off for {left:.0f}s more after {mem.consecutive_failures} failed resize(s)"
        check.reject(RejectReason.BACKOFF, detail, wanted, current)
        return None, mem

    if target > current:
        target = check.spot_risk(snapshot, target)
        if target == current:
            return None, mem
        target = check.cooldown_up(mem, now, target, wanted)
        if target <= current:
            return None, mem
        if check.timing_guards and target - current > limits.max_step_up_units:
            target = current + limits.max_step_up_units
            check.reject(
                RejectReason.STEP_LIMIT, f"limits.max_step_up_units={limits.max_step_up_units}", wanted, target
            )
        split = split_by_market(pool, target, rec.market, config)
        split = _cap_on_demand(check, split, od_elsewhere, limits.max_on_demand_units, rec.market)
        if split.total <= current:
            return None, mem
        resize = Resize(pool.pool_id, pool.kind, pool.requested, split, f"{rec.policy}: {rec.reason}")
        return _with_buys(resize, check.buys), mem

    if check.timing_guards and mem.down_confirmations < guards.scale_down_confirmations:
        detail = f"scale-in wanted {mem.down_confirmations}/{guards.scale_down_confirmations} consecutive ticks"
        check.reject(RejectReason.AWAITING_CONFIRMATION, detail, wanted, current)
        return None, mem
    last = max((t for t in (mem.last_scale_up_at, mem.last_scale_down_at) if t is not None), default=None)
    if check.timing_guards and last is not None and now - last < guards.cooldown_down_s:
        left = guards.cooldown_down_s - (now - last)
        check.reject(
            RejectReason.COOLDOWN_DOWN,
            f"last resize {now - last:.0f}s ago; guards.cooldown_down_s={guards.cooldown_down_s:g} ({left:.0f}s left)",
            wanted,
            current,
        )
        return None, mem
    if check.timing_guards and current - target > limits.max_step_down_units:
        target = current - limits.max_step_down_units
        check.reject(
            RejectReason.STEP_LIMIT, f"limits.max_step_down_units={limits.max_step_down_units}", wanted, target
        )
    return _shrink(check, snapshot, target), mem


def _with_buys(resize: Resize, buys: Sequence[tuple[str, Replacement]]) -> Resize:
    """The replacements a scale-up covers, in notice order, as far as its added units go."""
    room, covered = resize.target.total - resize.current.total, []
    for iid, rep in buys:
        if rep.to_units > room:
            break
        room -= rep.to_units
        covered.append((iid, replace(rep, pool_requested=resize.target.total) if rep.to_pool == rep.pool_id else rep))
    return replace(resize, replaces=tuple(covered)) if covered else resize


def _give_back(check: _PoolCheck, snapshot: ClusterSnapshot, give: GiveBack, mem: PoolMemory) -> Resize | None:
    """Lower the pool to `give.target` for reclaimed instances EMR refills on top of their replacement.

    Not a policy's scale-in: `give.target` never asks EMR to remove a running unit (see
    `autoscaler.replacement`), so confirmations, the scale-in cooldown and a RESIZING state (EMR
    launching that refill) do not hold it back; a back-off after failed writes does."""
    pool, now = check.pool, snapshot.taken_at
    current = pool.requested.total
    if mem.backoff_until is not None and now < mem.backoff_until:
        left, failures = mem.backoff_until - now, mem.consecutive_failures
        detail = f"backing off for {left:.0f}s more after {failures} failed resize(s)"
        check.reject(RejectReason.BACKOFF, detail, give.target, current)
        return None
    _, protect = choose_victims(pool, snapshot, 0, now, check.config.guards.min_node_age_s)
    split = split_by_market(pool, give.target, Market.SPOT if pool.is_fleet else None, check.config)
    reason, ids = f"{REPLACEMENT_POLICY}: {give.detail}", give.instance_ids
    return Resize(pool.pool_id, pool.kind, pool.requested, split, reason, instances_to_protect=protect, gives_back=ids)


def _shrink(check: _PoolCheck, snapshot: ClusterSnapshot, target: int) -> Resize | None:
    """Cancel not-yet-arrived units first; drain running nodes only for the rest."""
    pool, config = check.pool, check.config
    current = pool.requested.total
    cancel = min(current - target, pool.provisioning.total)
    drain = current - target - cancel
    victims, protect = choose_victims(pool, snapshot, drain, snapshot.taken_at, config.guards.min_node_age_s)
    if not pool.is_fleet and len(victims) < drain:
        short = target
        target = current - cancel - len(victims)
        check.reject(
            RejectReason.NO_REMOVABLE_NODES,
            f"only {len(victims)} of {drain} running nodes are idle, non-AM and older than "
            f"guards.min_node_age_s={config.guards.min_node_age_s:g}",
            short,
            target,
        )
        if target >= current:
            return None
    split = split_by_market(pool, target, check.rec.market, config)
    return Resize(
        pool.pool_id,
        pool.kind,
        pool.requested,
        split,
        f"{check.rec.policy}: {check.rec.reason}",
        instances_to_terminate=victims,
        instances_to_protect=protect,
        decommission_timeout_s=(
            config.decommission_timeout_s
            if check.rec.decommission_timeout_s is None
            else check.rec.decommission_timeout_s
        ),
    )


def _on_demand_alternative(pools: Sequence[CapacityPool], role: PoolRole, config: ClusterConfig) -> str | None:
    """The first on-demand group of `role` that may still grow: somewhere demand can go instead of risky Spot."""
    for p in pools:
        if p.role is role and p.market is Market.ON_DEMAND and p.requested.total < pool_bounds(p, config).hi:
            return p.pool_id
    return None


def apply_guardrails(
    snapshot: ClusterSnapshot,
    wanted: Mapping[str, Recommendation],
    memory: ControllerMemory,
    config: ClusterConfig,
    managed: Sequence[CapacityPool] | None = None,
    *,
    profiles: Mapping[str, GuardProfile] | None = None,
    buys: Mapping[str, tuple[tuple[str, Replacement], ...]] | None = None,
    give_back: Mapping[str, GiveBack] | None = None,
) -> tuple[Plan, list[Rejection], ControllerMemory]:
    """The plan for this tick, every rejection, and memory with scale-in confirmations counted.

    `managed` (default: every non-MASTER pool) are the pools that could take demand instead of a
    risky Spot group (see SPOT_RISK in the module docstring). `profiles` maps a policy name to its
    guard profile; a pool whose winning recommendation comes from a "vendor" policy skips the
    timing guards (default: every policy "ours"). `buys` and `give_back` are the Spot replacements and
    give-backs of `autoscaler.replacement`, by pool."""
    rejections: list[Rejection] = []
    resizes: list[Resize] = []
    od_total = sum(p.requested.on_demand for p in snapshot.pools if p.role is not PoolRole.MASTER)
    pools = {p.pool_id: p for p in snapshot.pools}
    candidates = [p for p in (snapshot.pools if managed is None else managed) if p.role is not PoolRole.MASTER]
    od_groups = {role: _on_demand_alternative(candidates, role, config) for role in (PoolRole.TASK, PoolRole.CORE)}
    profiles, buys, give_back, hdfs = profiles or {}, buys or {}, give_back or {}, hdfs_utilization(snapshot)
    for pool_id, rec in wanted.items():
        pool = pools.get(pool_id)
        if pool is None:  # admission (`engine._admit`) drops recommendations for unknown pools
            raise ValueError(f"apply_guardrails: pool {pool_id!r} is not in the snapshot")
        timing = profiles.get(rec.policy, "ours") != "vendor"
        check = _PoolCheck(
            pool,
            rec,
            config,
            rejections,
            od_groups.get(pool.role),
            hdfs,
            timing,
            buys.get(pool_id, ()),
            give_back.get(pool_id),
        )
        resize, pool_mem = _plan_pool(check, snapshot, memory.pool(pool_id), od_total - pool.requested.on_demand)
        if pool_mem != memory.pool(pool_id):
            memory = memory.with_pool(pool_id, pool_mem)
        if resize is not None:
            resizes.append(resize)
            od_total += resize.target.on_demand - resize.current.on_demand
    for pool_id, pool_mem in memory.pools.items():
        if pool_id not in wanted and (pool_mem.down_confirmations or pool_mem.down_wanted_since is not None):
            memory = memory.with_pool(pool_id, _confirmations(pool_mem, False, snapshot.taken_at, 1))
    return Plan(tuple(resizes)), rejections, memory
