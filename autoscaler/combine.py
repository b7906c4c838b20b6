"""The one rule that merges several policies' recommendations into one wish per pool.

Votes are compared with the pool's current requested total:
- any scale-up beats any scale-down, and the largest scale-up wins;
- a scale-down applies only when no policy wants more, at the least aggressive proposal;
- a recommendation equal to the current size is a vote to hold, so it blocks scale-in (a policy
  with no opinion yields nothing instead).
All three reduce to "the largest target wins", which is why the rule is safe to reason about: more
policies can only keep more capacity.

Floors and ceilings (`Recommendation.min_units` / `max_units`, e.g. from a schedule window) are
bounds, not votes: the winner is clamped into [highest floor, lowest ceiling]; when those cross,
the floor wins (keeping capacity is the recoverable mistake). A recommendation carrying a bound is
not a vote: its `target_units` is ignored, so a schedule window neither blocks another policy's
scale-in nor drags the pool to its floor (a policy that wants both yields two recommendations).
With bounds but no votes the current size is clamped, so a floor alone scales up and a ceiling
alone scales down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from autoscaler.model import CapacityPool, Recommendation, Rejection, RejectReason


def _combine_pool(current: int, recs: Sequence[Recommendation]) -> tuple[Recommendation, list[Rejection]]:
    votes = [r for r in recs if r.min_units is None and r.max_units is None]
    floors = [(r.min_units, r) for r in recs if r.min_units is not None]
    ceilings = [(r.max_units, r) for r in recs if r.max_units is not None]

    # max() keeps the first of equal targets: ties go to the earlier policy in config order.
    winner = max(votes, key=lambda r: r.target_units) if votes else None
    target = winner.target_units if winner is not None else current
    decided = winner
    if ceilings:
        hi, by = min(ceilings, key=lambda c: c[0])
        if target > hi:
            target, decided = hi, by
    if floors:
        lo, by = max(floors, key=lambda f: f[0])
        if target < lo:
            target, decided = lo, by

    if decided is None:  # only bounds, none binding: hold, credited to the first bound
        decided = recs[0]
    if decided is winner and target == winner.target_units:
        result = winner  # a vote carries no bounds: the usual tick, nothing to rebuild
    elif winner is None or decided is winner:
        result = replace(decided, target_units=target, min_units=None, max_units=None)
    else:
        reason = f"{decided.reason} (bound {target} applied to {winner.policy}'s {winner.target_units})"
        result = replace(
            decided, target_units=target, reason=reason, market=winner.market, min_units=None, max_units=None
        )

    losers = [
        Rejection(
            reason=RejectReason.SUPERSEDED,
            detail=f"{r.policy} wanted {r.target_units}; combined target is {target} ({result.policy})",
            pool_id=r.pool_id,
            policy=r.policy,
            wanted_units=r.target_units,
            allowed_units=target,
        )
        for r in votes
        if r.target_units != target
    ]
    return result, losers


def combine(
    recommendations: Sequence[Recommendation], pools: Sequence[CapacityPool]
) -> tuple[dict[str, Recommendation], list[Rejection]]:
    """One recommendation per pool (absolute target), and a SUPERSEDED rejection for each loser.

    Every recommendation must be for one of `pools`: the engine's admission (`engine._admit`) is the
    one place that turns a recommendation for an unknown pool into UNKNOWN_POOL.
    """
    by_pool: dict[str, list[Recommendation]] = {}
    rejections: list[Rejection] = []
    known = {p.pool_id: p for p in pools}
    for rec in recommendations:
        if rec.pool_id not in known:
            raise ValueError(f"combine: {rec.policy} recommends pool {rec.pool_id!r}, not one of the pools given")
        by_pool.setdefault(rec.pool_id, []).append(rec)

    wanted: dict[str, Recommendation] = {}
    for pool_id, recs in by_pool.items():
        wanted[pool_id], losers = _combine_pool(known[pool_id].requested.total, recs)
        rejections.extend(losers)
    return wanted, rejections
