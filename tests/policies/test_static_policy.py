from __future__ import annotations

import pytest
from policy_ctx import make_ctx

from autoscaler.model import PoolRole
from autoscaler.testing import make_pool, make_snapshot
from policies.static import StaticPolicy


def _targets(options: dict) -> dict[str, int]:
    pools = [make_pool("ig-a", requested=3), make_pool("ig-b", requested=5)]
    recs = StaticPolicy.from_options(options).evaluate(make_snapshot(pools=pools), make_ctx(pools))
    return {r.pool_id: r.target_units for r in recs}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"units": 10}, {"ig-a": 10, "ig-b": 10}),
        ({"pools": {"ig-b": 8}}, {"ig-b": 8}),  # no opinion on unnamed pools
        ({"units": 0, "pools": {"ig-a": 2}}, {"ig-a": 2, "ig-b": 0}),
        ({}, {}),  # no target: no opinion, so it never blocks another policy's scale-in
    ],
)
def test_fixed_targets(options: dict, expected: dict[str, int]) -> None:
    """Per-pool targets override the overall one; pools without a target get no recommendation."""
    assert _targets(options) == expected


def test_master_pool_never_gets_a_target() -> None:
    """Even if the context lists a MASTER pool, static leaves it alone."""
    pools = [make_pool("ig-master", role=PoolRole.MASTER, requested=1)]
    recs = list(StaticPolicy.from_options({"units": 4}).evaluate(make_snapshot(pools=pools), make_ctx(pools)))
    assert recs == []


@pytest.mark.parametrize(
    ("options", "named"), [({"units": -1}, "units"), ({"pools": {"ig-a": -2}}, "pools.ig-a"), ({"size": 3}, "size")]
)
def test_invalid_options_name_the_option(options: dict, named: str) -> None:
    """Negative sizes and unknown keys are refused by name."""
    with pytest.raises(ValueError, match=named):
        StaticPolicy.from_options(options)
