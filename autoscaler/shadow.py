"""Shadow policies: candidates evaluated every tick beside the live policies, never acting.

Each `shadow_policies:` entry is evaluated on its own, on the live tick's snapshot, through the same
`engine.evaluate` (admission, combine, the cluster's guards) with its own controller memory: what it
would hold if it were the cluster's policy. It goes through the one tick function (`tick.run_tick`)
with an actuator that writes nothing and reports each resize as DRY_RUN, exactly as a dry-run daemon
does, so its cooldowns start and its scale-in confirmations reset as they would if it were live (its
cadence is the daemon's); it stays open loop: each tick it sees the real cluster, not the one it
would have made. It runs after the live
decision, and anything it raises is caught here: a shadow cannot change, delay or fail the live tick.

Its would-be spend rate is the cluster's actual one plus the price of the units its plan would add
(or minus those it would remove), per market, at the pool's first instance type; unknown (None)
when a price it needs is unknown, never zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from autoscaler.config import ClusterConfig
from autoscaler.engine import managed_pools
from autoscaler.model import (
    ClusterSnapshot,
    ControllerMemory,
    Decision,
    Outcome,
    OutcomeStatus,
    Plan,
    RejectReason,
)
from autoscaler.policy import Policy
from autoscaler.spend import capacity_delta_usd_per_hour
from autoscaler.tick import run_tick


@dataclass(frozen=True, slots=True)
class ShadowResult:
    """One shadow's would-be decision this tick."""

    name: str
    targets: Mapping[str, int] = field(default_factory=dict)  # managed pool → units it would hold
    delta_usd_per_hour: float | None = None  # would-be spend rate minus the actual one
    error: str | None = None  # it raised (or its policy did): no targets this tick
    decision: Decision | None = None


def shadow_names(types: Sequence[str]) -> tuple[str, ...]:
    """The `policy` label of each entry: its type, numbered from the second entry of one type (`static#2`)."""
    seen: dict[str, int] = {}
    names = []
    for t in types:
        seen[t] = seen.get(t, 0) + 1
        names.append(t if seen[t] == 1 else f"{t}#{seen[t]}")
    return tuple(names)


class ShadowActuator:
    """A shadow's actuator: applies nothing and reports every resize as DRY_RUN, so `record_outcomes`
    starts the shadow's cooldowns and resets its confirmations as a dry-run daemon's (never a back-off)."""

    def apply(self, plan: Plan, snapshot: ClusterSnapshot) -> tuple[Outcome, ...]:
        return tuple(
            Outcome(r.pool_id, OutcomeStatus.DRY_RUN, f"shadow: would resize {r.current.total} -> {r.target.total}")
            for r in plan.resizes
        )


class Shadows:
    """A cluster's shadow policies and each one's memory, carried from tick to tick (tick thread only)."""

    def __init__(self, policies: Sequence[tuple[str, Policy]]) -> None:
        self.policies = tuple(policies)
        self._memory: dict[str, ControllerMemory] = {name: ControllerMemory() for name, _ in self.policies}

    def __bool__(self) -> bool:
        return bool(self.policies)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.policies)

    def evaluate(self, snapshot: ClusterSnapshot, config: ClusterConfig) -> list[ShadowResult]:
        """Every shadow's would-be decision on this snapshot; pure apart from each shadow's own memory."""
        return [self._one(name, policy, snapshot, config) for name, policy in self.policies]

    def _one(self, name: str, policy: Policy, snapshot: ClusterSnapshot, config: ClusterConfig) -> ShadowResult:
        try:
            result = run_tick(snapshot, self._memory[name], (policy,), config, ShadowActuator())
        except Exception as err:  # a shadow never reaches the live tick, whatever it does
            return ShadowResult(name, error=f"{type(err).__name__}: {err}")
        decision, self._memory[name] = result.decision, result.memory
        failed = [r.detail for r in decision.rejections if r.reason is RejectReason.POLICY_ERROR]
        if failed:
            return ShadowResult(name, error="; ".join(failed), decision=decision)
        targets = {p.pool_id: p.requested.total for p in managed_pools(snapshot, config)}
        for resize in decision.plan.resizes:
            targets[resize.pool_id] = resize.target.total
        return ShadowResult(name, targets, plan_delta_usd_per_hour(snapshot, decision), decision=decision)


def plan_delta_usd_per_hour(snapshot: ClusterSnapshot, decision: Decision) -> float | None:
    """What the plan's resizes would add to the spend rate (negative: save), at each pool's first type."""
    return capacity_delta_usd_per_hour(snapshot, ((r.pool_id, r.current, r.target) for r in decision.plan.resizes))
