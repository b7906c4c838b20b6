"""`simulate --replay`: candidate policies re-run open loop on a recorded day, tick by tick.

Each candidate runs through the daemon's own tick (`tick.run_tick`) on every recorded snapshot, in
order, with its own controller memory and the shadow policies' actuator (nothing applied; each
resize reported DRY_RUN, so its cooldowns start and its confirmations reset as a dry-run daemon's).
Open loop: each tick it sees the cluster as it really was, not the one it would have made.

The would-be capacity it holds per managed pool is the recorded one changed by what it wants: its
plan's target when it plans a resize; its earlier target while its guards hold a change back
(cooldown after its own would-be resize, scale-in confirmations, step limits: a rejection for the
pool); the recorded capacity when it wants no change (no recommendation, or one the engine finds
already met). So a candidate that reacts later than the live policies adopts the capacity they bought
once that covers the demand it sees: open loop tells what a candidate would add or remove on the
recorded day, not when it would have bought what the live policies bought first (closed loop does:
`trace import --recording`, then `simulate`). Priced as a shadow policy is
(`autoscaler.spend`): the recorded spend rate plus the would-be units minus the recorded ones, per
market, at each pool's first instance type. Each tick's rate holds until the next tick, but never
longer than `max_gap_s` (3 median tick intervals by default): a gap in the recording (the daemon was
down) is not priced for anyone. A tick without a known price is counted as unpriced time, never as
free. Pure given the recording: the same recording and policies give the same figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from autoscaler.config import ClusterConfig
from autoscaler.engine import managed_pools
from autoscaler.model import Capacity, ControllerMemory, Decision, RejectReason
from autoscaler.policy import Policy
from autoscaler.record_codec import TickRecord
from autoscaler.shadow import ShadowActuator
from autoscaler.sim.recording import Recording
from autoscaler.spend import capacity_delta_usd_per_hour, estimated_usd_per_hour
from autoscaler.tick import run_tick

_HOLDS = frozenset(RejectReason) - {RejectReason.SUPERSEDED}
"""A rejection for a pool that means "a change was held back", not "another policy won"."""


@dataclass(frozen=True, slots=True)
class ActualTick:
    """What the cluster held and spent at one recorded tick, and what the live daemon planned."""

    at: float
    requested: Mapping[str, int]  # managed pool → units EMR held
    usd_per_hour: float | None
    live_plan: Mapping[str, int]  # pool → target of the recorded plan
    priced_s: float  # how long this tick's rate holds (0 at a gap and at the last tick)


@dataclass(frozen=True, slots=True)
class PolicyTick:
    targets: Mapping[str, int]  # managed pool → units it would hold
    usd_per_hour: float | None
    plan: Mapping[str, int]  # pool → target of its plan this tick
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ReplayResult:
    policy: str
    ticks: tuple[PolicyTick, ...]
    would_be_cost_usd: float
    actual_cost_usd: float  # over the same priced time as would_be_cost_usd
    priced_s: float
    unpriced_s: float
    resizes: int
    errors: int
    agrees_with_live: int  # ticks whose plan equals the recorded live plan
    first_error: str | None = None
    extras: dict[str, object] = field(default_factory=dict)


def actual_ticks(recording: Recording, config: ClusterConfig, max_gap_s: float | None = None) -> list[ActualTick]:
    return [
        ActualTick(
            at=t.at,
            requested={p.pool_id: p.requested.total for p in managed_pools(t.snapshot, config)},
            usd_per_hour=estimated_usd_per_hour(t.snapshot),
            live_plan={r.pool_id: r.target.total for r in t.plan.resizes},
            priced_s=held_s,
        )
        for t, held_s in zip(recording.ticks, recording.intervals(max_gap_s), strict=True)
    ]


def _hold(decision: Decision, pool_id: str, requested: Capacity, held: Capacity) -> Capacity:
    """The capacity the policy holds for a pool after this decision (see the module docstring)."""
    for resize in decision.plan.resizes:
        if resize.pool_id == pool_id:
            return resize.target
    if any(r.pool_id == pool_id and r.reason in _HOLDS for r in decision.rejections):
        return held
    return requested


def replay_policy(
    label: str,
    policies: Sequence[Policy],
    ticks: Sequence[TickRecord],
    actual: Sequence[ActualTick],
    config: ClusterConfig,
) -> ReplayResult:
    """One candidate (a policy set, combined as the daemon combines a cluster's) over every recorded tick."""
    memory = ControllerMemory()
    held: dict[str, Capacity] = {}
    rows: list[PolicyTick] = []
    would_be = spent = priced = unpriced = 0.0
    resizes = errors = agrees = 0
    first_error: str | None = None
    actuator = ShadowActuator()
    for record, real in zip(ticks, actual, strict=True):
        snapshot = record.snapshot
        pools = managed_pools(snapshot, config)
        error: str | None = None
        try:
            result = run_tick(snapshot, memory, policies, config, actuator, now=record.at)
        except Exception as err:  # a candidate's bug is its own result, never the end of the replay
            result, error = None, f"{type(err).__name__}: {err}"
        plan: dict[str, int] = {}
        if result is not None:
            memory, decision = result.memory, result.decision
            failed = [r.detail for r in decision.rejections if r.reason is RejectReason.POLICY_ERROR]
            error = "; ".join(failed) or None
            plan = {r.pool_id: r.target.total for r in decision.plan.resizes}
            resizes += len(plan)
            for pool in pools:
                held[pool.pool_id] = _hold(
                    decision, pool.pool_id, pool.requested, held.get(pool.pool_id, pool.requested)
                )
        agrees += plan == dict(real.live_plan)
        if error is not None:
            errors += 1
            first_error = first_error or f"at {record.at:.0f}: {error}"
        changes = [(p.pool_id, p.requested, held.get(p.pool_id, p.requested)) for p in pools]
        delta = capacity_delta_usd_per_hour(snapshot, changes)
        rate = None if real.usd_per_hour is None or delta is None else real.usd_per_hour + delta
        if rate is None:
            unpriced += real.priced_s
        else:
            assert real.usd_per_hour is not None
            would_be += rate * real.priced_s / 3600.0
            spent += real.usd_per_hour * real.priced_s / 3600.0
            priced += real.priced_s
        targets = {p.pool_id: held.get(p.pool_id, p.requested).total for p in pools}
        rows.append(PolicyTick(targets, None if rate is None else round(rate, 6), plan, error))
    return ReplayResult(
        policy=label,
        ticks=tuple(rows),
        would_be_cost_usd=round(would_be, 6),
        actual_cost_usd=round(spent, 6),
        priced_s=round(priced, 3),
        unpriced_s=round(unpriced, 3),
        resizes=resizes,
        errors=errors,
        agrees_with_live=agrees,
        first_error=first_error,
    )
