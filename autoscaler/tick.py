"""The tick, once: snapshot + memory in, decision + outcomes + new memory out.

`run_tick` is the only place where evaluate → act → record happens. The daemon (`loop`), the
simulator (`sim.runner`), the emulator demo (which runs the daemon) and `explain` all call it, so
what one of them decides for a state is what every other decides. Which actuator is passed is the
only difference: EMR, dry run, or the simulated cluster. `engine.evaluate` stays pure; the actuator
is the one effect, and its outcomes (each failure stamped with when it failed) fold back into
memory through `engine.record_outcomes`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from autoscaler.actuation import Actuator
from autoscaler.config import ClusterConfig
from autoscaler.engine import evaluate, record_outcomes
from autoscaler.model import ClusterSnapshot, ControllerMemory, Decision, Outcome
from autoscaler.policy import Policy


class ActuatorFailed(Exception):
    """The actuator raised (a bug, or an error it did not turn into an Outcome): `decision` is the plan
    that was being applied, so the caller can still report it; the original error is `__cause__`."""

    def __init__(self, decision: Decision, cause: Exception) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.decision = decision


@dataclass(frozen=True, slots=True)
class TickResult:
    decision: Decision
    outcomes: tuple[Outcome, ...]
    memory: ControllerMemory  # for the next tick: the decision's memory with the outcomes folded in


def run_tick(
    snapshot: ClusterSnapshot,
    memory: ControllerMemory,
    policies: Sequence[Policy],
    config: ClusterConfig,
    actuator: Actuator,
    *,
    now: float | None = None,
) -> TickResult:
    """Decide on `snapshot` with `memory`, apply a non-empty plan through `actuator`, record what it did.

    `now` (default `snapshot.taken_at`) is when the tick began; a resize's cooldown starts there.
    """
    decision = evaluate(snapshot, memory, policies, config)
    try:
        outcomes = actuator.apply(decision.plan, snapshot) if not decision.plan.empty else ()
    except Exception as err:
        raise ActuatorFailed(decision, err) from err
    at = snapshot.taken_at if now is None else now
    return TickResult(decision, outcomes, record_outcomes(decision.memory, outcomes, decision.plan, at, config))
