"""Small fakes a test or a plugin author needs: a clock, a logger, an actuator and a policy; and
`metric_value`, to read one series of the daemon's metrics as a scrape would; `free_port`, for a
test's local servers.

Re-exported by `autoscaler.testing`. Each one records what it was asked, so a test asserts on
behaviour (what was logged, which plans were applied, which context a policy saw), and none of them
reaches for a real clock, log sink or AWS.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from autoscaler.metrics import Metrics
from autoscaler.model import ClusterSnapshot, Market, Outcome, OutcomeStatus, Plan, Recommendation, Rejection
from autoscaler.policy import PolicyContext


class FakeClock:
    """A clock that moves only when told: call it for the time; `advance`/`sleep` move it forward."""

    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("a clock does not go backwards; set `t` to model a wall-clock jump")
        self.t += seconds
        return self.t

    def sleep(self, seconds: float) -> None:
        """A `time.sleep` stand-in that returns at once, the time having passed."""
        self.advance(seconds)


@dataclass
class ListLogger:
    """An `EventLogger` that keeps events as (level, event, fields)."""

    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def info(self, event: str, **kw: Any) -> None:
        self.events.append(("info", event, kw))

    def warning(self, event: str, **kw: Any) -> None:
        self.events.append(("warning", event, kw))

    def error(self, event: str, **kw: Any) -> None:
        self.events.append(("error", event, kw))

    def named(self, event: str) -> list[dict[str, Any]]:
        return [kw for _, name, kw in self.events if name == event]

    def ticks(self) -> list[dict[str, Any]]:
        return self.named("tick")


@dataclass
class RecordingActuator:
    """An actuator that records every plan and reports each resize `status`; while `error` is set, apply raises it."""

    calls: list[Plan] = field(default_factory=list)
    error: Exception | None = None
    status: OutcomeStatus = OutcomeStatus.APPLIED

    def apply(self, plan: Plan, snapshot: ClusterSnapshot) -> tuple[Outcome, ...]:
        if self.error is not None:
            raise self.error
        self.calls.append(plan)
        return tuple(Outcome(r.pool_id, self.status) for r in plan.resizes)


class Wants:
    """A policy that recommends fixed targets ({pool_id: units}) and records every context it was given."""

    def __init__(self, targets: Mapping[str, int] | None = None, name: str = "wants", market: Market | None = None):
        self.name = name
        self.targets = dict(targets or {})
        self.market = market
        self.seen: list[PolicyContext] = []

    def evaluate(self, snapshot: ClusterSnapshot, ctx: PolicyContext) -> Iterable[Recommendation | Rejection]:
        self.seen.append(ctx)
        for pool_id, units in self.targets.items():
            yield Recommendation(self.name, pool_id, units, f"{self.name} wants {units}", market=self.market)


def metric_value(metrics: Metrics, name: str, **labels: str) -> float | None:
    """The value of the series `name{labels}` (labels matched exactly) in the exposition, or None."""
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return float(s.value)
    return None


def free_port() -> int:
    """A loopback TCP port nothing listens on right now (the OS picks it), for a test's local servers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
