"""`schedule`: floors and ceilings by time of day and day of week.

What it does: for each window active at `snapshot.taken_at` (read in the window's own time zone
with `zoneinfo`, so daylight-saving shifts follow the operator's clock), it emits, for each pool
the window names (or every managed pool), a Recommendation carrying `min_units`/`max_units` and a
`target_units` equal to the pool's current requested units clamped into them. So it never asks for
a change on its own except to honour the floor or ceiling; combine raises or lowers the other
policies' winner to them. Outside every window it says nothing.

A window whose `end` is not after its `start` runs past midnight (`22:00`-`06:00`): it starts on
the listed days and ends the next morning. `end: "24:00"` means midnight. When several windows
apply to a pool at once, the highest floor and the lowest ceiling hold; if they cross, the floor wins
(a business-hours minimum is about availability, which outranks saving money).

This is the scheduled-scaling feature found in most autoscalers (e.g. AWS Auto Scaling scheduled
actions), expressed as bounds rather than fixed sizes so demand-driven policies still work inside.

Options:
- `windows` (required, at least one), each:
  `days` (list of mon..sun, default every day), `start` / `end` ("HH:MM", 24 h), `tz` (IANA name,
  default "UTC"), `min_units` and/or `max_units` (at least one, min <= max), `pools` (pool ids,
  default every managed pool).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from autoscaler.model import ClusterSnapshot, Recommendation, Rejection
from autoscaler.policy import PolicyContext
from policies._common import PolicyOptions, parse_options, scalable

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _minutes(text: str) -> int:
    hh, sep, mm = text.partition(":")
    if not sep or not (hh.isdigit() and mm.isdigit()) or len(mm) != 2:
        raise ValueError(f"{text!r} is not HH:MM")
    minutes = int(hh) * 60 + int(mm)
    if int(mm) >= 60 or minutes > 24 * 60:
        raise ValueError(f"{text!r} is not a time between 00:00 and 24:00")
    return minutes


class Window(PolicyOptions):
    days: tuple[str, ...] = Field(DAYS, min_length=1, description="Days the window starts on, mon..sun.")
    start: str = Field(description="Local start time, HH:MM.")
    end: str = Field(description="Local end time, HH:MM; not after start = ends the next day.")
    tz: str = Field("UTC", description="IANA time zone of start/end, e.g. Europe/Paris.")
    min_units: int | None = Field(None, ge=0, description="Floor while the window is active.")
    max_units: int | None = Field(None, ge=0, description="Ceiling while the window is active.")
    pools: tuple[str, ...] | None = Field(None, description="Pool ids it applies to; default every managed pool.")

    @field_validator("days")
    @classmethod
    def _days(cls, days: tuple[str, ...]) -> tuple[str, ...]:
        norm = tuple(d.strip().lower()[:3] for d in days)
        bad = [d for d, n in zip(days, norm, strict=True) if n not in DAYS]
        if bad:
            raise ValueError(f"unknown day(s) {bad}; use {', '.join(DAYS)}")
        return norm

    @field_validator("start", "end")
    @classmethod
    def _time(cls, value: str) -> str:
        _minutes(value)
        return value

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.min_units is None and self.max_units is None:
            raise ValueError("a window needs min_units or max_units")
        if self.min_units is not None and self.max_units is not None and self.min_units > self.max_units:
            raise ValueError(f"min_units {self.min_units} > max_units {self.max_units}")
        return self

    def active(self, at: float) -> bool:
        local = datetime.fromtimestamp(at, UTC).astimezone(ZoneInfo(self.tz))
        now = local.hour * 60 + local.minute + local.second / 60
        start, end = _minutes(self.start), _minutes(self.end)
        today = DAYS[local.weekday()]
        if start < end:
            return today in self.days and start <= now < end
        yesterday = DAYS[(local - timedelta(days=1)).weekday()]
        return (today in self.days and now >= start) or (yesterday in self.days and now < end)

    def label(self) -> str:
        days = "every day" if set(self.days) == set(DAYS) else ",".join(self.days)
        return f"{days} {self.start}-{self.end} {self.tz}"


class ScheduleOptions(PolicyOptions):
    windows: tuple[Window, ...] = Field(min_length=1, description="Time windows with floors/ceilings.")


class SchedulePolicy:
    """Emits floors/ceilings for the windows active at the snapshot's time."""

    name = "schedule"

    def __init__(self, options: ScheduleOptions) -> None:
        self.options = options

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Self:
        return cls(parse_options(ScheduleOptions, options))

    def evaluate(self, snapshot: ClusterSnapshot, ctx: PolicyContext) -> Iterable[Recommendation | Rejection]:
        active = [w for w in self.options.windows if w.active(snapshot.taken_at)]
        out: list[Recommendation | Rejection] = []
        for pool in scalable(ctx.managed_pools):
            mine = [w for w in active if w.pools is None or pool.pool_id in w.pools]
            if not mine:
                continue
            floors = [w.min_units for w in mine if w.min_units is not None]
            ceilings = [w.max_units for w in mine if w.max_units is not None]
            floor = max(floors) if floors else None
            ceiling = min(ceilings) if ceilings else None
            if floor is not None and ceiling is not None and ceiling < floor:
                ceiling = floor
            target = pool.requested.total
            if floor is not None:
                target = max(target, floor)
            if ceiling is not None:
                target = min(target, ceiling)
            out.append(
                Recommendation(
                    policy=self.name,
                    pool_id=pool.pool_id,
                    target_units=target,
                    reason="window " + "; ".join(w.label() for w in mine) + f": units in [{floor}, {ceiling}]",
                    min_units=floor,
                    max_units=ceiling,
                )
            )
        return out
