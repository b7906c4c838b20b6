"""What a cluster looks like at one moment: `ClusterSnapshot` and the values it is made of.

Frozen dataclasses with no I/O and no clock (time is `taken_at`, an input). Units are EMR's: one
instance for an instance group, one weighted-capacity unit for an instance fleet. Unknown YARN
values are None, never 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from itertools import chain
from types import MappingProxyType

from autoscaler.model._fastinit import fast_init


class Market(StrEnum):
    ON_DEMAND = "ON_DEMAND"
    SPOT = "SPOT"


class PoolKind(StrEnum):
    INSTANCE_GROUP = "INSTANCE_GROUP"
    INSTANCE_FLEET = "INSTANCE_FLEET"


class PoolRole(StrEnum):
    MASTER = "MASTER"
    CORE = "CORE"
    TASK = "TASK"


class PoolState(StrEnum):
    """Union of EMR InstanceGroup and InstanceFleet states."""

    PROVISIONING = "PROVISIONING"
    BOOTSTRAPPING = "BOOTSTRAPPING"
    RUNNING = "RUNNING"
    RECONFIGURING = "RECONFIGURING"
    RESIZING = "RESIZING"
    SUSPENDED = "SUSPENDED"
    TERMINATING = "TERMINATING"
    TERMINATED = "TERMINATED"
    ARRESTED = "ARRESTED"
    SHUTTING_DOWN = "SHUTTING_DOWN"
    ENDED = "ENDED"


class NodeState(StrEnum):
    """YARN NodeState (hadoop-yarn-api NodeState.java)."""

    NEW = "NEW"
    RUNNING = "RUNNING"
    UNHEALTHY = "UNHEALTHY"
    DECOMMISSIONED = "DECOMMISSIONED"
    LOST = "LOST"
    REBOOTED = "REBOOTED"
    DECOMMISSIONING = "DECOMMISSIONING"
    SHUTDOWN = "SHUTDOWN"


class InstanceState(StrEnum):
    """EMR Instance.Status.State."""

    AWAITING_FULFILLMENT = "AWAITING_FULFILLMENT"
    PROVISIONING = "PROVISIONING"
    BOOTSTRAPPING = "BOOTSTRAPPING"
    RUNNING = "RUNNING"
    TERMINATED = "TERMINATED"


@fast_init
@dataclass(frozen=True, slots=True)
class Resources:
    """A YARN resource vector (memory in MB, virtual cores)."""

    memory_mb: int
    vcores: int

    def fits_in(self, other: Resources) -> bool:
        return self.memory_mb <= other.memory_mb and self.vcores <= other.vcores


@fast_init
@dataclass(frozen=True, slots=True)
class YarnMetrics:
    """`/ws/v1/cluster/metrics`, default partition or `*AcrossPartition` when the RM offers it.

    Unknown values (absent keys, YARN's -1) are None rather than 0 so a policy cannot mistake
    "not reported" for "nothing pending".
    """

    apps_pending: int | None = None
    apps_running: int | None = None
    containers_pending: int | None = None
    containers_allocated: int | None = None
    pending_mb: int | None = None
    pending_vcores: int | None = None
    allocated_mb: int | None = None
    allocated_vcores: int | None = None
    available_mb: int | None = None
    available_vcores: int | None = None
    reserved_mb: int | None = None
    reserved_vcores: int | None = None
    total_mb: int | None = None
    total_vcores: int | None = None
    active_nodes: int | None = None
    decommissioning_nodes: int | None = None
    unhealthy_nodes: int | None = None
    lost_nodes: int | None = None
    shutdown_nodes: int | None = None

    @property
    def memory_available_pct(self) -> float | None:
        """EMR's YARNMemoryAvailablePercentage: available / total * 100."""
        if self.available_mb is None or not self.total_mb:
            return None
        return 100.0 * self.available_mb / self.total_mb


@fast_init
@dataclass(frozen=True, slots=True)
class NodeInfo:
    """One YARN NodeManager joined with the EMR instance that hosts it (when the join succeeded).

    `num_containers`, `used` and `available` are None when the RM did not report them (absent, -1 or
    another negative): unknown usage is never idle, so such a node is neither a drain victim nor
    evidence for scale-in, and its free space is never counted as room for pending containers.
    """

    host: str
    state: NodeState
    num_containers: int | None = 0
    used: Resources | None = Resources(0, 0)
    available: Resources | None = Resources(0, 0)
    last_health_update_s: float | None = None
    instance_id: str | None = None
    pool_id: str | None = None
    market: Market | None = None
    hosts_am: bool = False

    @property
    def capacity(self) -> Resources | None:
        """used + available; None when either is unknown."""
        if self.used is None or self.available is None:
            return None
        return Resources(self.used.memory_mb + self.available.memory_mb, self.used.vcores + self.available.vcores)

    @property
    def usage_known(self) -> bool:
        """The RM reported both the container count and the used resources."""
        return self.num_containers is not None and self.used is not None

    @property
    def is_idle(self) -> bool:
        """RUNNING, known to run no container (with known used resources), not an AM host."""
        # `usage_known`, inline (policies ask this of every node every tick): 0 containers is a known count
        running = self.state is NodeState.RUNNING
        return running and self.num_containers == 0 and self.used is not None and not self.hosts_am


@fast_init
@dataclass(frozen=True, slots=True)
class PendingRequest:
    """Outstanding container asks of one shape (resourceRequests with resourceName "*")."""

    shape: Resources
    count: int
    app_id: str = ""
    queue: str = "default"


@fast_init
@dataclass(frozen=True, slots=True)
class AppInfo:
    app_id: str
    state: str  # YarnApplicationState: ACCEPTED, RUNNING, ...
    queue: str = "default"
    am_host: str | None = None
    pending: tuple[PendingRequest, ...] = ()
    submitted_at: float | None = None
    # what the app holds now, AM included (allocatedMB/VCores, runningContainers); None = not reported
    allocated: Resources | None = None
    running_containers: int | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class QueueAmLimit:
    """One CapacityScheduler leaf queue's ApplicationMaster accounting (`/ws/v1/cluster/scheduler`).

    The queue starts a waiting AM only while its AMs hold at most `share` of its resources
    (`maximum-am-resource-percent`, Hadoop 3's `maxAMLimitPercentage` / 100); `limit_mb` is that
    limit in MB (`AMResourceLimit`), `used_mb` the AMs' memory now (`usedAMResource`). None = not
    reported (older RM, another scheduler, an absurd value): unknown, never 0.
    """

    queue: str
    share: float | None = None
    limit_mb: int | None = None
    used_mb: int | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class InstanceOption:
    """An instance type a pool may launch, with what it brings to YARN."""

    instance_type: str
    yarn: Resources
    weight: int = 1  # WeightedCapacity for fleets; 1 for instance groups
    bid_price_usd: float | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class Capacity:
    """Units split by market. An instance group uses only the side of its market."""

    on_demand: int = 0
    spot: int = 0

    @property
    def total(self) -> int:
        return self.on_demand + self.spot

    def get(self, market: Market) -> int:
        return self.on_demand if market is Market.ON_DEMAND else self.spot

    def with_market(self, market: Market, units: int) -> Capacity:
        return replace(self, on_demand=units) if market is Market.ON_DEMAND else replace(self, spot=units)


@fast_init
@dataclass(frozen=True, slots=True)
class InstanceInfo:
    """One EMR instance (ListInstances), whether or not YARN knows it yet."""

    instance_id: str
    pool_id: str
    instance_type: str
    market: Market
    state: InstanceState
    private_dns: str | None = None
    launched_at: float | None = None  # CreationDateTime, epoch seconds
    weight: int = 1


@fast_init
@dataclass(frozen=True, slots=True)
class CapacityPool:
    """An EMR instance group or instance fleet.

    `requested` is the target EMR holds (InstanceCount / Target*Capacity); `running` is what has
    arrived; `provisioning` is requested but not running yet; `decommissioning` is leaving but still
    billed. Kept apart so shrinking can cancel capacity that has not arrived before draining capacity
    that is working.
    """

    pool_id: str
    name: str
    kind: PoolKind
    role: PoolRole
    state: PoolState
    requested: Capacity
    running: Capacity
    options: tuple[InstanceOption, ...]
    market: Market | None = None  # instance groups have one market; fleets None
    provisioning: Capacity = Capacity()
    decommissioning: Capacity = Capacity()
    has_autoscaling_policy: bool = False

    @property
    def is_fleet(self) -> bool:
        return self.kind is PoolKind.INSTANCE_FLEET

    @property
    def smallest_node(self) -> Resources | None:
        if not self.options:
            return None
        return min((o.yarn for o in self.options), key=lambda r: (r.memory_mb, r.vcores))

    @property
    def largest_node(self) -> Resources | None:
        if not self.options:
            return None
        return max((o.yarn for o in self.options), key=lambda r: (r.memory_mb, r.vcores))


@fast_init
@dataclass(frozen=True, slots=True)
class PriceQuote:
    """Price of one instance type in one market, EC2 and EMR charge separately, USD per hour."""

    instance_type: str
    market: Market
    ec2_usd_per_hour: float
    emr_usd_per_hour: float
    interruption_band: int | None = None  # Spot Advisor range index 0 (<5%) .. 4 (>20%)
    observed_at: float | None = None

    @property
    def usd_per_hour(self) -> float:
        return self.ec2_usd_per_hour + self.emr_usd_per_hour


@fast_init
@dataclass(frozen=True, slots=True)
class InterruptionNotice:
    """A Spot interruption warning (two-minute notice) or rebalance recommendation."""

    instance_id: str
    action: str  # "terminate", "stop", "hibernate" or "rebalance"
    notice_at: float
    effective_at: float


@fast_init
@dataclass(frozen=True, slots=True)
class SourceStatus:
    """How one source fared while building a snapshot; a failed source makes the snapshot stale."""

    name: str
    ok: bool
    fetched_at: float
    error: str | None = None
    required: bool = True
    notes: tuple[str, ...] = ()  # worth telling the operator, did not make the read fail


@fast_init
@dataclass(frozen=True, slots=True)
class ClusterSnapshot:
    """One immutable view of one cluster at `taken_at` (epoch seconds)."""

    cluster_id: str
    taken_at: float
    cluster_state: str
    yarn: YarnMetrics | None
    nodes: tuple[NodeInfo, ...] = ()
    apps: tuple[AppInfo, ...] = ()
    pools: tuple[CapacityPool, ...] = ()
    instances: tuple[InstanceInfo, ...] = ()
    prices: tuple[PriceQuote, ...] = ()
    interruptions: tuple[InterruptionNotice, ...] = ()
    cloudwatch: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    sources: tuple[SourceStatus, ...] = ()
    managed_scaling_enabled: bool = False
    # leaf queues' AM limits as YARN reports them; () = not reported (unknown, see `QueueAmLimit`)
    am_limits: tuple[QueueAmLimit, ...] = ()
    # every app's asks in one tuple, built on first use: several policies ask for it each tick
    _pending: tuple[PendingRequest, ...] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def stale(self) -> bool:
        """True when a required source failed (`collect` marks a late one failed) or YARN gave no metrics:
        no resize may be decided on this snapshot."""
        return any(s.required and not s.ok for s in self.sources) or self.yarn is None

    @property
    def stale_reasons(self) -> tuple[str, ...]:
        reasons = tuple(f"{s.name}: {s.error}" for s in self.sources if s.required and not s.ok)
        return reasons if self.yarn is not None or reasons else ("yarn: no metrics",)

    def pool(self, pool_id: str) -> CapacityPool:
        for p in self.pools:
            if p.pool_id == pool_id:
                return p
        raise KeyError(pool_id)

    def price(self, instance_type: str, market: Market) -> PriceQuote | None:
        for q in self.prices:
            if q.instance_type == instance_type and q.market is market:
                return q
        return None

    def pending_requests(self) -> tuple[PendingRequest, ...]:
        """Every app's outstanding asks, in app order (computed once per snapshot)."""
        if self._pending is None:
            # a cache, not state: the snapshot's fields never change
            object.__setattr__(self, "_pending", tuple(chain.from_iterable(a.pending for a in self.apps)))
        assert self._pending is not None
        return self._pending
