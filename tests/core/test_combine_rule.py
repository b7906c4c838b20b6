"""The combination rule, one row per clause (pool currently requests 5 units)."""

from __future__ import annotations

import pytest

from autoscaler.combine import combine
from autoscaler.model import Market, Recommendation, RejectReason
from autoscaler.testing import make_pool

POOL = make_pool("ig-task", requested=5)


def rec(
    policy: str, target: int, min_units: int | None = None, max_units: int | None = None, market: Market | None = None
) -> Recommendation:
    return Recommendation(policy, "ig-task", target, f"{policy} says {target}", market, min_units, max_units)


CASES = [
    # (id, recommendations, expected target, expected winner policy, expected superseded policies)
    ("single up", [rec("a", 8)], 8, "a", []),
    ("single down", [rec("a", 3)], 3, "a", []),
    ("largest up wins", [rec("a", 7), rec("b", 9), rec("c", 6)], 9, "b", ["a", "c"]),
    ("any up beats any down", [rec("a", 2), rec("b", 6)], 6, "b", ["a"]),
    ("least aggressive down", [rec("a", 1), rec("b", 4), rec("c", 3)], 4, "b", ["a", "c"]),
    ("hold blocks scale-in", [rec("a", 5), rec("b", 2)], 5, "a", ["b"]),
    ("tie goes to first policy", [rec("a", 7), rec("b", 7)], 7, "a", []),
    ("floor raises winner", [rec("a", 3), rec("s", 5, min_units=6)], 6, "s", ["a"]),
    ("floor alone scales up", [rec("s", 5, min_units=8)], 8, "s", []),
    ("highest floor wins", [rec("s", 0, min_units=6), rec("t", 0, min_units=7)], 7, "t", []),
    ("ceiling lowers winner", [rec("a", 12), rec("s", 5, max_units=9)], 9, "s", ["a"]),
    ("ceiling alone scales down", [rec("s", 5, max_units=2)], 2, "s", []),
    ("lowest ceiling wins", [rec("a", 12), rec("s", 0, max_units=9), rec("t", 0, max_units=8)], 8, "t", ["a"]),
    ("non-binding bound keeps winner", [rec("a", 7), rec("s", 5, min_units=2, max_units=10)], 7, "a", []),
    ("bound does not block scale-in", [rec("a", 3), rec("s", 5, min_units=1)], 3, "a", []),
    ("bound's own target is not a vote", [rec("s", 9, min_units=1)], 5, "s", []),
    ("crossed bounds: floor wins", [rec("s", 5, min_units=8), rec("t", 5, max_units=6)], 8, "s", []),
]


@pytest.mark.parametrize(("recs", "target", "winner", "superseded"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_combine_table(recs: list[Recommendation], target: int, winner: str, superseded: list[str]) -> None:
    """Each clause of the rule picks the documented target and names every loser SUPERSEDED."""
    wanted, rejections = combine(recs, [POOL])
    assert wanted["ig-task"].target_units == target
    assert wanted["ig-task"].policy == winner
    assert all(r.reason is RejectReason.SUPERSEDED for r in rejections)
    assert sorted(r.policy or "" for r in rejections) == superseded
    assert all(r.allowed_units == target for r in rejections)


def test_bound_result_keeps_winner_market_and_explains() -> None:
    """When a bound decides, the voter's market survives and the reason names both."""
    wanted, _ = combine([rec("a", 3, market=Market.ON_DEMAND), rec("s", 5, min_units=6)], [POOL])
    out = wanted["ig-task"]
    assert out.market is Market.ON_DEMAND
    assert "a's 3" in out.reason
    assert out.min_units is None
    assert out.max_units is None


def test_pools_are_combined_independently() -> None:
    """A scale-up in one pool does not supersede a scale-in in another."""
    other = make_pool("ig-other", requested=4)
    recs = [rec("a", 8), Recommendation("b", "ig-other", 2, "idle")]
    wanted, rejections = combine(recs, [POOL, other])
    assert wanted["ig-task"].target_units == 8
    assert wanted["ig-other"].target_units == 2
    assert rejections == []


def test_unknown_pool_is_a_caller_error() -> None:
    """UNKNOWN_POOL is decided once, at admission (tests/core/test_engine_evaluate.py); combine is never
    handed a recommendation for a pool outside the pools it combines, and says so loudly if it is."""
    with pytest.raises(ValueError, match="ig-nope"):
        combine([Recommendation("a", "ig-nope", 3, "x")], [POOL])
