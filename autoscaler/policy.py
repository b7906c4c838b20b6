"""The plugin contract. Policies are structural (no base class to import) and discovered through
the `emr_autoscaler.policies` entry-point group, built-in ones exactly like third-party ones.

A policy may declare `guard_profile = "vendor"` (a reference that imitates a vendor's own timing):
then our timing guards (cooldowns, scale-in confirmations, step limits) stay off its resizes unless
the operator's `PolicySpec.guards` says `ours`. Without the attribute a policy runs under "ours".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from autoscaler.config import ClusterConfig, GuardProfile, PolicySpec
from autoscaler.model import CapacityPool, ClusterSnapshot, ControllerMemory, MetricSample, Recommendation, Rejection

ENTRY_POINT_GROUP = "emr_autoscaler.policies"


@dataclass(frozen=True, slots=True)
class PolicyContext:
    """What a policy may know besides the snapshot: its cluster's config, the pools it may
    recommend for, recent metric history (oldest first, current sample last) and `now`.

    `now` is the decision instant (the engine passes `snapshot.taken_at`), not the last sample's
    time: on a tick without YARN metrics the newest sample is older than the tick. A context built
    without `now` (code written before the field existed) falls back to the last sample's time."""

    config: ClusterConfig
    managed_pools: tuple[CapacityPool, ...]
    history: tuple[MetricSample, ...]
    memory: ControllerMemory
    now: float = math.nan

    def __post_init__(self) -> None:
        if math.isnan(self.now):
            object.__setattr__(self, "now", self.history[-1].at if self.history else 0.0)


@runtime_checkable
class Policy(Protocol):
    name: str

    def evaluate(self, snapshot: ClusterSnapshot, ctx: PolicyContext) -> Iterable[Recommendation | Rejection]:
        """Return absolute targets for the pools it has an opinion on, and named rejections for
        demand it cannot serve (e.g. a container shape no pool's node can hold)."""
        ...


class PolicyFactory(Protocol):
    """What an entry point loads: usually the policy class, whose classmethod validates the options."""

    def from_options(self, options: Mapping[str, Any]) -> Policy: ...


class PolicyError(ValueError):
    """A policy name that is not installed or options it rejected, with where they came from."""


def available_policies() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def guard_profile(policy: Policy) -> GuardProfile:
    """The timing guards a policy runs under: its `guard_profile` attribute (a reference policy
    declares "vendor"), else "ours". Anything but "vendor" reads as "ours", the stricter."""
    return "vendor" if getattr(policy, "guard_profile", "ours") == "vendor" else "ours"


def guard_profiles(policies: Iterable[Policy]) -> dict[str, GuardProfile]:
    """Policy name → guard profile; two policies of one name under different profiles get "ours"."""
    out: dict[str, GuardProfile] = {}
    for policy in policies:
        name = getattr(policy, "name", type(policy).__name__)
        profile = guard_profile(policy)
        out[name] = profile if out.get(name, profile) == profile else "ours"
    return out


class WithGuardProfile:
    """A loaded policy run under the guard profile its `PolicySpec.guards` names (the operator's
    override), delegating everything else."""

    def __init__(self, policy: Policy, profile: GuardProfile) -> None:
        self.policy = policy
        self.name = policy.name
        self.guard_profile = profile

    def evaluate(self, snapshot: ClusterSnapshot, ctx: PolicyContext) -> Iterable[Recommendation | Rejection]:
        return self.policy.evaluate(snapshot, ctx)


def load_policy(spec: PolicySpec, where: str = "policies") -> Policy:
    eps = available_policies()
    if spec.type not in eps:
        names = ", ".join(sorted(eps)) or "(none installed)"
        raise PolicyError(f"{where}.type: unknown policy {spec.type!r}; available: {names}")
    factory: PolicyFactory = eps[spec.type].load()
    try:
        policy = factory.from_options(spec.options)
    except (ValueError, TypeError) as err:
        raise PolicyError(f"{where}.options: {err}") from None
    if not isinstance(policy, Policy):
        raise PolicyError(f"{where}: {spec.type!r} does not implement the Policy protocol")
    if spec.guards is not None and spec.guards != guard_profile(policy):
        return WithGuardProfile(policy, spec.guards)
    return policy


def load_policies(specs: Iterable[PolicySpec], where: str = "policies") -> tuple[Policy, ...]:
    """Load every policy, collecting all errors before failing so an operator fixes them at once."""
    loaded: list[Policy] = []
    errors: list[str] = []
    for i, spec in enumerate(specs):
        try:
            loaded.append(load_policy(spec, f"{where}[{i}]"))
        except PolicyError as err:
            errors.append(str(err))
    if errors:
        raise PolicyError("; ".join(errors))
    return tuple(loaded)
