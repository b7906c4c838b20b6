from __future__ import annotations

from datetime import UTC, datetime

import pytest
from policy_ctx import make_ctx

from autoscaler.model import CapacityPool, Recommendation
from autoscaler.testing import make_pool, make_snapshot
from policies.schedule import SchedulePolicy

BUSINESS_PARIS = {
    "days": ["mon", "tue", "wed", "thu", "fri"],
    "start": "08:00",
    "end": "18:00",
    "tz": "Europe/Paris",
    "min_units": 4,
    "max_units": 20,
}
NIGHT_NY = {"days": ["fri"], "start": "22:00", "end": "06:00", "tz": "America/New_York", "max_units": 2}


def _utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _recs(windows: list[dict], at: float, pools: list[CapacityPool] | None = None) -> list[Recommendation]:
    pools = pools or [make_pool(requested=2)]
    policy = SchedulePolicy.from_options({"windows": windows})
    out = list(policy.evaluate(make_snapshot(pools=pools, taken_at=at), make_ctx(pools)))
    assert all(isinstance(r, Recommendation) for r in out)
    return out  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("utc", "active"),
    [
        ("2026-11-23 07:30", True),  # Monday 08:30 in Paris (CET = UTC+1)
        ("2026-11-23 06:30", False),  # Monday 07:30 in Paris: before the window
        ("2026-11-23 16:59", True),  # 17:59 Paris
        ("2026-11-23 17:00", False),  # 18:00 Paris: the end is exclusive
        ("2026-11-28 10:00", False),  # Saturday
        ("2026-07-15 06:30", True),  # Wednesday 08:30 in Paris in summer (CEST = UTC+2)
    ],
)
def test_window_in_its_own_time_zone(utc: str, active: bool) -> None:
    """A window is read in its time zone, DST included, on its days only."""
    assert bool(_recs([BUSINESS_PARIS], _utc(utc))) is active


def test_floor_raises_target_and_carries_bounds() -> None:
    """Inside the window a 2-unit pool is asked up to the floor, with min/max attached."""
    (rec,) = _recs([BUSINESS_PARIS], _utc("2026-11-23 09:00"))
    assert (rec.target_units, rec.min_units, rec.max_units) == (4, 4, 20)


def test_target_inside_bounds_is_the_current_size() -> None:
    """Within [min, max] it proposes no change of its own."""
    (rec,) = _recs([BUSINESS_PARIS], _utc("2026-11-23 09:00"), [make_pool(requested=7)])
    assert rec.target_units == 7


def test_ceiling_lowers_target() -> None:
    """Above the ceiling the target is the ceiling."""
    (rec,) = _recs([BUSINESS_PARIS], _utc("2026-11-23 09:00"), [make_pool(requested=30)])
    assert (rec.target_units, rec.max_units) == (20, 20)


@pytest.mark.parametrize(
    ("utc", "active"),
    [
        ("2026-11-28 08:00", True),  # Saturday 03:00 New York (EST = UTC-5): Friday's night window
        ("2026-11-28 03:30", True),  # Friday 22:30 New York
        ("2026-11-27 08:00", False),  # Friday 03:00 New York: belongs to Thursday's night, not listed
        ("2026-11-28 11:00", False),  # Saturday 06:00 New York: ended
    ],
)
def test_window_across_midnight(utc: str, active: bool) -> None:
    """A 22:00-06:00 window started on Friday runs into Saturday morning only."""
    assert bool(_recs([NIGHT_NY], _utc(utc))) is active


def test_overlapping_windows_take_highest_floor_and_lowest_ceiling() -> None:
    """Two active windows combine: max of floors, min of ceilings."""
    windows = [{"start": "00:00", "end": "24:00", "min_units": 3, "max_units": 10}, {**BUSINESS_PARIS, "min_units": 5}]
    (rec,) = _recs(windows, _utc("2026-11-23 09:00"))
    assert (rec.min_units, rec.max_units, rec.target_units) == (5, 10, 5)


def test_crossing_floor_and_ceiling_floor_wins() -> None:
    """A floor above another window's ceiling wins: availability before saving."""
    windows = [{"start": "00:00", "end": "24:00", "max_units": 2}, {"start": "00:00", "end": "24:00", "min_units": 6}]
    (rec,) = _recs(windows, _utc("2026-11-23 09:00"))
    assert (rec.min_units, rec.max_units, rec.target_units) == (6, 6, 6)


def test_pools_filter() -> None:
    """A window naming pools leaves other managed pools alone."""
    pools = [make_pool("ig-a", requested=1), make_pool("ig-b", requested=1)]
    recs = _recs(
        [{"start": "00:00", "end": "24:00", "min_units": 3, "pools": ["ig-b"]}], _utc("2026-11-23 09:00"), pools
    )
    assert [(r.pool_id, r.target_units) for r in recs] == [("ig-b", 3)]


@pytest.mark.parametrize(
    ("window", "named"),
    [
        ({"start": "08:00", "end": "18:00", "min_units": 1, "days": ["funday"]}, "windows.0.days"),
        ({"start": "25:00", "end": "18:00", "min_units": 1}, "windows.0.start"),
        ({"start": "08:00", "end": "8am", "min_units": 1}, "windows.0.end"),
        ({"start": "08:00", "end": "18:00", "min_units": 1, "tz": "Mars/Olympus"}, "windows.0.tz"),
        ({"start": "08:00", "end": "18:00", "min_units": 5, "max_units": 2}, "min_units 5 > max_units 2"),
        ({"start": "08:00", "end": "18:00"}, "min_units or max_units"),
        ({"start": "08:00", "end": "18:00", "min_units": 1, "size": 3}, "windows.0.size"),
    ],
)
def test_invalid_window_names_the_field(window: dict, named: str) -> None:
    """Each bad window field is reported with its path in the options."""
    with pytest.raises(ValueError, match=named):
        SchedulePolicy.from_options({"windows": [window]})


def test_windows_required() -> None:
    """A schedule without windows is refused."""
    with pytest.raises(ValueError, match="windows"):
        SchedulePolicy.from_options({})
