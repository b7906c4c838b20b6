"""The pure decision: `evaluate(snapshot, memory, policies, config) -> Decision`, and
`record_outcomes` to fold what the actuator did back into memory. No I/O, no clock: `now` is
`snapshot.taken_at`, so the daemon, `explain` and the simulator make the same decision for the same
state.

Policies always run (so `explain` shows their view), then whole-tick blockers turn every
recommendation into a named rejection and leave the plan empty:
- a stale snapshot (STALE_INPUT): no scale-in *and no scale-up* — a source that failed may be the
  one showing the demand is gone, and issue #3 asks that no resize be decided on stale data. A
  required source that answered more than `guards.stale_after_s` away from `taken_at` (see
  `late_sources`) makes the snapshot stale too;
- a cluster that is not RUNNING/WAITING (CLUSTER_NOT_READY);
- EMR Managed Scaling on the cluster (MANAGED_SCALING_CONFLICT): we refuse rather than fight it.
A pool with an EMR automatic scaling policy is refused the same way, pool by pool.

Bounds hold whether or not a policy speaks: a managed pool whose requested total is outside its
bounds and that no policy recommended for gets an implicit recommendation from policy "limits"
(`bounds.limit_recommendations`). It passes through the same admission and guardrails as any
other (stale, busy, step limits, cooldowns, scale-in confirmations), so a pool far below its
minimum is raised `max_step_up_units` a tick. `limits.min_task_units`/`max_task_units` bound each
task pool on its own, not their sum, exactly as guardrails applies them to recommended pools.

Policies see `ctx.now == snapshot.taken_at`, the decision instant, even on a tick without YARN.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import replace
from operator import attrgetter, le
from types import MappingProxyType

from autoscaler.boots import observe_boots
from autoscaler.bounds import hdfs_utilization, limit_recommendations
from autoscaler.combine import combine
from autoscaler.config import ClusterConfig
from autoscaler.guardrails import apply_guardrails
from autoscaler.model import (
    CapacityPool,
    ClusterSnapshot,
    ControllerMemory,
    Decision,
    MetricSample,
    Outcome,
    OutcomeStatus,
    Plan,
    PoolRole,
    Recommendation,
    Rejection,
    RejectReason,
    Resize,
    SourceStatus,
)
from autoscaler.policy import Policy, PolicyContext, guard_profiles
from autoscaler.replacement import plan_notices, settle_notes
from autoscaler.settling import note_resize_progress

READY_CLUSTER_STATES = frozenset({"RUNNING", "WAITING"})
_AT = attrgetter("at")
FAILURE_BACKOFF_BASE_S = 30.0
"""First back-off after a non-capacity failure; doubles per consecutive failure up to guards.backoff_s."""


def managed_pools(snapshot: ClusterSnapshot, config: ClusterConfig) -> tuple[CapacityPool, ...]:
    """`config.pools` if given, else every TASK pool (and CORE with guards.scale_core); never MASTER."""
    if config.pools is not None:
        chosen = set(config.pools)
        return tuple(p for p in snapshot.pools if p.pool_id in chosen and p.role is not PoolRole.MASTER)
    roles = {PoolRole.TASK, PoolRole.CORE} if config.guards.scale_core else {PoolRole.TASK}
    return tuple(p for p in snapshot.pools if p.role in roles)


def _remember(
    memory: ControllerMemory, snapshot: ClusterSnapshot, window_s: float, pools: Sequence[CapacityPool] = ()
) -> ControllerMemory:
    """Add this tick's YARN sample (bounded by the window) and each managed pool's resize progress."""
    samples = _window(memory.samples, snapshot, window_s)
    memory = observe_boots(memory, snapshot)
    if samples != memory.samples:
        memory = memory.with_samples(samples)
    for pool in pools:
        mem = memory.pool(pool.pool_id)
        noted = note_resize_progress(mem, pool, snapshot.taken_at)
        if noted is not mem:
            memory = memory.with_pool(pool.pool_id, noted)
    return memory


def _window(samples: tuple[MetricSample, ...], snapshot: ClusterSnapshot, window_s: float) -> tuple[MetricSample, ...]:
    """The samples within `window_s` of `taken_at`, this tick's (if YARN answered) last. The same
    instant evaluated twice (e.g. explain after a tick) replaces, never duplicates."""
    at = snapshot.taken_at
    oldest = at - window_s
    ats = list(map(_AT, samples))
    if oldest <= at and all(map(le, ats, ats[1:])) and (not ats or ats[0] == ats[0]):
        # the usual: oldest first and no NaN, so each cut is a bisection (every tick, not a walk in Python)
        kept = samples[bisect_left(ats, oldest) :]
        if snapshot.yarn is None:
            return kept
        ats = ats[len(ats) - len(kept) :]
        same = bisect_left(ats, at)
        return (*kept[:same], *kept[bisect_right(ats, at, same) :], MetricSample(at, snapshot.yarn))
    if snapshot.yarn is not None:
        samples = (*(s for s in samples if s.at != at), MetricSample(at, snapshot.yarn))
    return tuple(s for s in samples if s.at >= oldest)


def _run_policies(
    policies: Sequence[Policy], snapshot: ClusterSnapshot, ctx: PolicyContext
) -> tuple[list[Recommendation], list[Rejection]]:
    recs: list[Recommendation] = []
    rejections: list[Rejection] = []
    for policy in policies:
        name = getattr(policy, "name", type(policy).__name__)
        try:
            out = list(policy.evaluate(snapshot, ctx))
        except Exception as err:  # one broken policy must not stop the others or the tick
            detail = f"policy raised {type(err).__name__}: {err}"
            rejections.append(Rejection(RejectReason.POLICY_ERROR, detail, policy=name))
            continue
        for item in out:
            if isinstance(item, Recommendation):
                recs.append(item)
            elif isinstance(item, Rejection):
                rejections.append(item if item.policy else replace(item, policy=name))
            else:
                detail = f"policy yielded {type(item).__name__}, not a Recommendation or Rejection"
                rejections.append(Rejection(RejectReason.POLICY_ERROR, detail, policy=name))
    return recs, rejections


def source_lateness(status: SourceStatus, taken_at: float, stale_after_s: float) -> str | None:
    """Why a source's answer is too far in time from the decision instant `taken_at`, or None.

    `taken_at` is when the tick began asking; `fetched_at` is when this source answered. The plan is
    acted on only after the last answer, so a source that answered more than `stale_after_s` after
    `taken_at` means everything read before it is that old by then. A source stamped more than
    `stale_after_s` *before* `taken_at` is old data carried into this tick.
    """
    gap = status.fetched_at - taken_at
    if gap > stale_after_s:
        return (
            f"answered {gap:.0f}s after the tick began (guards.stale_after_s={stale_after_s:g}); "
            "the snapshot's data would be that old when acted on"
        )
    if -gap > stale_after_s:
        return f"data from {-gap:.0f}s before the tick (guards.stale_after_s={stale_after_s:g})"
    return None


def late_sources(snapshot: ClusterSnapshot, stale_after_s: float) -> tuple[str, ...]:
    """`name: why` for each required source that answered but too far from `taken_at` (see `source_lateness`)."""
    out = []
    for s in snapshot.sources:
        why = source_lateness(s, snapshot.taken_at, stale_after_s) if s.required and s.ok else None
        if why is not None:
            out.append(f"{s.name}: {why}")
    return tuple(out)


def _tick_blocker(snapshot: ClusterSnapshot, config: ClusterConfig) -> tuple[RejectReason, str] | None:
    stale = (*snapshot.stale_reasons, *late_sources(snapshot, config.guards.stale_after_s))
    if snapshot.stale or stale:
        return RejectReason.STALE_INPUT, "snapshot is stale: " + "; ".join(stale)
    if snapshot.cluster_state not in READY_CLUSTER_STATES:
        return RejectReason.CLUSTER_NOT_READY, f"cluster is {snapshot.cluster_state}, not RUNNING or WAITING"
    if snapshot.managed_scaling_enabled:
        return RejectReason.MANAGED_SCALING_CONFLICT, "EMR Managed Scaling is on for this cluster; refusing to act"
    return None


def _admit(
    recs: Sequence[Recommendation],
    snapshot: ClusterSnapshot,
    managed: Sequence[CapacityPool],
    config: ClusterConfig,
    blocker: tuple[RejectReason, str] | None,
) -> tuple[list[Recommendation], list[Rejection]]:
    """Keep recommendations for pools we may resize; name why each other one is dropped (`blocker`:
    the tick's `_tick_blocker`)."""
    managed_ids = {p.pool_id for p in managed}
    all_pools = {p.pool_id: p for p in snapshot.pools}
    kept: list[Recommendation] = []
    rejections: list[Rejection] = []
    for rec in recs:
        pool = all_pools.get(rec.pool_id)
        if blocker is not None:
            reason, detail = blocker
        elif pool is None:
            reason, detail = RejectReason.UNKNOWN_POOL, f"no pool {rec.pool_id!r} in cluster {snapshot.cluster_id}"
        elif pool.role is PoolRole.MASTER:
            reason, detail = RejectReason.MASTER_POOL, "the MASTER pool is never resized"
        elif rec.pool_id not in managed_ids and pool.role is PoolRole.CORE:
            reason, detail = RejectReason.CORE_NOT_ENABLED, "CORE pools are managed only with guards.scale_core"
        elif rec.pool_id not in managed_ids:
            reason, detail = RejectReason.UNKNOWN_POOL, f"pool {rec.pool_id!r} is not in the configured pools"
        elif pool.has_autoscaling_policy:
            reason = RejectReason.MANAGED_SCALING_CONFLICT
            detail = "pool has an EMR automatic scaling policy; refusing to act on it"
        else:
            kept.append(rec)
            continue
        rejections.append(Rejection(reason, detail, rec.pool_id, rec.policy, wanted_units=rec.target_units))
    return kept, rejections


def evaluate(
    snapshot: ClusterSnapshot, memory: ControllerMemory, policies: Sequence[Policy], config: ClusterConfig
) -> Decision:
    """Policies (+ implicit "limits") → admission → combine → Spot notices (`replacement`) → guardrails,
    memory passed in and returned."""
    pools = managed_pools(snapshot, config)
    memory = _remember(memory, snapshot, config.history_window_s, pools)
    ctx = PolicyContext(config, pools, memory.samples, memory, now=snapshot.taken_at)
    recs, rejections = _run_policies(policies, snapshot, ctx)
    recs += limit_recommendations(pools, {r.pool_id for r in recs}, config, hdfs_utilization(snapshot))
    blocker, profiles = _tick_blocker(snapshot, config), guard_profiles(policies)
    admitted, dropped = _admit(recs, snapshot, pools, config, blocker)
    wanted, superseded = combine(admitted, pools)
    vendor_only = bool(profiles) and all(p == "vendor" for p in profiles.values())
    why = None if blocker is None else blocker[1]
    notices = plan_notices(snapshot, memory, wanted, pools, config, blocked=why, vendor_only=vendor_only)
    replacing = [r for pool_id, r in notices.wanted.items() if r is not wanted.get(pool_id)]
    plan, refused, memory = apply_guardrails(
        snapshot,
        notices.wanted,
        notices.memory,
        config,
        pools,
        profiles=profiles,
        buys=notices.buys,
        give_back=notices.give_back,
    )
    return Decision(
        cluster_id=snapshot.cluster_id,
        taken_at=snapshot.taken_at,
        recommendations=(*recs, *replacing),
        rejections=(*rejections, *dropped, *superseded, *notices.rejections, *refused),
        plan=plan,
        memory=memory,
        notices=settle_notes(notices.notes, plan),
    )


def _record_replacements(memory: ControllerMemory, resize: Resize) -> ControllerMemory:
    """An applied resize's Spot replacements are remembered until given back; its give-backs forgotten."""
    if not resize.replaces and not resize.gives_back:
        return memory
    reps = {iid: rep for iid, rep in memory.replacements.items() if iid not in resize.gives_back}
    reps.update(resize.replaces)
    return replace(memory, replacements=MappingProxyType(reps))


def record_outcomes(
    memory: ControllerMemory, outcomes: Iterable[Outcome], plan: Plan, now: float, config: ClusterConfig
) -> ControllerMemory:
    """Fold the actuator's outcomes into memory.

    DRY_RUN counts as APPLIED (cooldowns start, confirmations reset) so a dry run shows the cadence
    the live daemon would have. A capacity error backs the pool off for guards.backoff_s; any other
    failure backs it off 30 s, doubling per consecutive failure, capped at guards.backoff_s. A
    back-off runs from `outcome.failed_at` (stamped by the actuator after the SDK's own retries, so
    a slow throttled write cannot use it up), or from `now` when the outcome carries no time.
    SKIPPED_CHANGED and REFUSED change nothing: the next tick decides again from fresh state.
    """
    resizes = {r.pool_id: r for r in plan.resizes}
    for outcome in outcomes:
        mem = memory.pool(outcome.pool_id)
        resize = resizes.get(outcome.pool_id)
        if outcome.status in (OutcomeStatus.APPLIED, OutcomeStatus.DRY_RUN) and resize is not None:
            memory = _record_replacements(memory, resize)
            mem = replace(mem, down_confirmations=0, down_wanted_since=None, consecutive_failures=0, backoff_until=None)
            up = resize.is_scale_up
            mem = replace(
                mem,
                last_scale_up_at=now if up else mem.last_scale_up_at,
                last_scale_down_at=mem.last_scale_down_at if up else now,
            )
        elif outcome.status is OutcomeStatus.FAILED:
            failures = mem.consecutive_failures + 1
            backoff_s = config.guards.backoff_s
            if not outcome.capacity_error:
                backoff_s = min(backoff_s, FAILURE_BACKOFF_BASE_S * 2 ** (failures - 1))
            failed_at = now if outcome.failed_at is None else max(now, outcome.failed_at)
            mem = replace(mem, consecutive_failures=failures, backoff_until=failed_at + backoff_s)
        else:
            continue
        memory = memory.with_pool(outcome.pool_id, mem)
    return memory
