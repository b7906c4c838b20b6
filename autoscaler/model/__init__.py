"""The decision core's vocabulary: immutable values shared by the daemon, the simulator and `explain`.

A facade over three cohesive modules, so callers keep importing from `autoscaler.model`:
`cluster` (one moment of one cluster: `ClusterSnapshot` and its parts), `decision` (recommendations,
rejections, plans, outcomes) and `memory` (what the controller carries between ticks).
"""

from __future__ import annotations

from autoscaler.model.cluster import (
    AppInfo,
    Capacity,
    CapacityPool,
    ClusterSnapshot,
    InstanceInfo,
    InstanceOption,
    InstanceState,
    InterruptionNotice,
    Market,
    NodeInfo,
    NodeState,
    PendingRequest,
    PoolKind,
    PoolRole,
    PoolState,
    PriceQuote,
    QueueAmLimit,
    Resources,
    SourceStatus,
    YarnMetrics,
)
from autoscaler.model.decision import (
    Decision,
    NoticeNote,
    NoticeStatus,
    Outcome,
    OutcomeStatus,
    Plan,
    Recommendation,
    Rejection,
    RejectReason,
    Resize,
)
from autoscaler.model.memory import (
    ControllerMemory,
    MetricSample,
    PoolMemory,
    Replacement,
)

__all__ = [
    "AppInfo",
    "Capacity",
    "CapacityPool",
    "ClusterSnapshot",
    "ControllerMemory",
    "Decision",
    "InstanceInfo",
    "InstanceOption",
    "InstanceState",
    "InterruptionNotice",
    "Market",
    "MetricSample",
    "NodeInfo",
    "NodeState",
    "NoticeNote",
    "NoticeStatus",
    "Outcome",
    "OutcomeStatus",
    "PendingRequest",
    "Plan",
    "PoolKind",
    "PoolMemory",
    "PoolRole",
    "PoolState",
    "PriceQuote",
    "QueueAmLimit",
    "Recommendation",
    "RejectReason",
    "Rejection",
    "Replacement",
    "Resize",
    "Resources",
    "SourceStatus",
    "YarnMetrics",
]
