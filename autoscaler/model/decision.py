"""What one evaluation concludes and what acting on it did.

Policies emit `Recommendation`s, guardrails turn them into a `Plan` of absolute `Resize` targets plus
named `Rejection`s, and actuators report `Outcome`s that flow back into `ControllerMemory`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from autoscaler.model._fastinit import fast_init
from autoscaler.model.cluster import Capacity, Market, PoolKind
from autoscaler.model.memory import ControllerMemory, Replacement


class RejectReason(StrEnum):
    """Every way a recommendation can be turned down; each has an entry in docs/faq.md."""

    STALE_INPUT = "stale_input"
    BELOW_MIN = "below_min"
    ABOVE_MAX = "above_max"
    STEP_LIMIT = "step_limit"
    COOLDOWN_UP = "cooldown_up"
    COOLDOWN_DOWN = "cooldown_down"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    POOL_BUSY = "pool_busy"
    BACKOFF = "backoff"
    CORE_FLOOR = "core_floor"
    CORE_NOT_ENABLED = "core_not_enabled"
    MASTER_POOL = "master_pool"
    UNKNOWN_POOL = "unknown_pool"
    UNSCHEDULABLE_SHAPE = "unschedulable_shape"
    MANAGED_SCALING_CONFLICT = "managed_scaling_conflict"
    NO_REMOVABLE_NODES = "no_removable_nodes"
    SUPERSEDED = "superseded"
    CLUSTER_NOT_READY = "cluster_not_ready"
    POLICY_ERROR = "policy_error"
    SPOT_RISK = "spot_risk"  # Spot type above spot.max_interruption_band while an on-demand pool exists
    BUDGET = "budget"  # a scale-up cut so the estimated spend rate stays under a policy's budget_usd_per_hour


@fast_init
@dataclass(frozen=True, slots=True)
class Recommendation:
    """One policy's wish for one pool: an absolute number of units, never a delta."""

    policy: str
    pool_id: str
    target_units: int
    reason: str
    market: Market | None = None  # for fleets: which side the policy means; None lets the engine split
    min_units: int | None = None  # a floor (e.g. a schedule window): combine raises the winner to it
    max_units: int | None = None  # a ceiling: combine lowers the winner to it
    decommission_timeout_s: int | None = None  # scale-in: ShrinkPolicy DecommissionTimeout; None = config's


@fast_init
@dataclass(frozen=True, slots=True)
class Rejection:
    reason: RejectReason
    detail: str
    pool_id: str | None = None
    policy: str | None = None
    wanted_units: int | None = None
    allowed_units: int | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class Resize:
    """An absolute target for one pool, plus, for groups, which instances to drain or keep."""

    pool_id: str
    kind: PoolKind
    current: Capacity
    target: Capacity
    reason: str
    instances_to_terminate: tuple[str, ...] = ()
    instances_to_protect: tuple[str, ...] = ()
    decommission_timeout_s: int | None = None
    # Spot notices: replacements this resize buys (by noticed instance id), and noticed instances whose
    # replacement this resize gives back (`autoscaler.replacement`); recorded in memory once applied
    replaces: tuple[tuple[str, Replacement], ...] = ()
    gives_back: tuple[str, ...] = ()

    @property
    def is_scale_up(self) -> bool:
        return self.target.total > self.current.total


@fast_init
@dataclass(frozen=True, slots=True)
class Plan:
    resizes: tuple[Resize, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.resizes


class NoticeStatus(StrEnum):
    """What became of one Spot notice on one tick (`autoscaler.replacement`)."""

    NEW = "new"  # first seen this tick (counted once in emr_autoscaler_interruption_notices_total)
    REPLACING = "replacing"  # replacement capacity is planned this tick
    REPLACED = "replaced"  # replacement bought on an earlier tick; waiting for the instance to go
    WAITING = "waiting"  # replacement wanted but not planned (guardrails said no: see rejections)
    GIVING_BACK = "giving_back"  # the instance is gone: EMR's refill of it is cancelled this tick
    IGNORED = "ignored"  # no such instance in the cluster, no instance list, or not in a managed pool
    NOT_REPLACED = "not_replaced"  # a rebalance recommendation, replacement off, or the pool scales in


@fast_init
@dataclass(frozen=True, slots=True)
class NoticeNote:
    """One line of the tick log's and `explain`'s account of Spot notices; `usd_per_hour` is what the
    capacity bought (positive) or given back (negative) costs, None when a price is unknown."""

    instance_id: str
    kind: str  # "interruption" (two-minute warning) or "rebalance"
    status: NoticeStatus
    detail: str
    pool_id: str | None = None
    to_pool: str | None = None
    units: int | None = None
    usd_per_hour: float | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class Decision:
    """What one evaluation concluded, with everything needed to explain it."""

    cluster_id: str
    taken_at: float
    recommendations: tuple[Recommendation, ...]
    rejections: tuple[Rejection, ...]
    plan: Plan
    memory: ControllerMemory
    notices: tuple[NoticeNote, ...] = ()


class OutcomeStatus(StrEnum):
    APPLIED = "applied"
    DRY_RUN = "dry_run"
    SKIPPED_CHANGED = "skipped_changed"  # the pool moved between plan and act
    REFUSED = "refused"  # e.g. managed scaling owns the pool
    FAILED = "failed"
    FENCED = "fenced"  # not written: this replica no longer holds the cluster's lease (autoscaler/ha.py)


@fast_init
@dataclass(frozen=True, slots=True)
class Outcome:
    pool_id: str
    status: OutcomeStatus
    detail: str = ""
    error_code: str | None = None  # AWS error code when FAILED
    capacity_error: bool = False  # insufficient capacity: back the pool off
    failed_at: float | None = None  # when the write failed (after any SDK retries): back-off starts here
