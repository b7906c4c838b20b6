"""What the controller remembers between ticks: passed in and returned, never mutated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from autoscaler.model._fastinit import fast_init
from autoscaler.model.cluster import YarnMetrics


@fast_init
@dataclass(frozen=True, slots=True)
class MetricSample:
    """What policies may average over time; kept in memory by the engine, bounded by a window."""

    at: float
    yarn: YarnMetrics


@fast_init
@dataclass(frozen=True, slots=True)
class PoolMemory:
    """One pool's timers. `last_scale_*_at` are when we asked; `resizing_since` and
    `last_resize_completed_at` are when the pool was seen to start and finish moving
    (`autoscaler.settling`), so a policy can count its cooldown from completion as its vendor does."""

    last_scale_up_at: float | None = None
    last_scale_down_at: float | None = None
    down_wanted_since: float | None = None
    down_confirmations: int = 0
    backoff_until: float | None = None
    consecutive_failures: int = 0
    resizing_since: float | None = None
    last_resize_completed_at: float | None = None

    def shifted(self, seconds: float) -> PoolMemory:
        """The same timers on a wall clock that stepped by `seconds` (see `ControllerMemory.shifted`)."""

        def move(t: float | None) -> float | None:
            return None if t is None else t + seconds

        return replace(
            self,
            last_scale_up_at=move(self.last_scale_up_at),
            last_scale_down_at=move(self.last_scale_down_at),
            down_wanted_since=move(self.down_wanted_since),
            backoff_until=move(self.backoff_until),
            resizing_since=move(self.resizing_since),
            last_resize_completed_at=move(self.last_resize_completed_at),
        )


_NO_POOL_MEMORY = PoolMemory()  # a pool never remembered (frozen: one shared instance)


@fast_init
@dataclass(frozen=True, slots=True)
class Replacement:
    """Capacity bought for an instance under a two-minute Spot warning (`autoscaler.replacement`).

    EMR holds a pool's requested count: once the instance is reclaimed it launches a unit of its own
    to refill `pool_id`, so `units` are given back there (cancelled before they arrive) once the
    instance is gone. `to_pool` is where the replacement was bought: `pool_id` itself, or another
    pool when this one kept losing nodes. `pool_requested` is what EMR held for `pool_id` right after
    the purchase: the give-back never goes below the latest of these minus the units given back,
    whoever else moved the pool.
    """

    pool_id: str
    units: int
    to_pool: str
    to_units: int
    bought_at: float
    pool_requested: int


@fast_init
@dataclass(frozen=True, slots=True)
class ControllerMemory:
    """State the controller carries between ticks; passed in and returned, never mutated."""

    pools: Mapping[str, PoolMemory] = field(default_factory=lambda: MappingProxyType({}))
    samples: tuple[MetricSample, ...] = ()
    # boot times measured by `autoscaler.boots`: instance id -> (pool id, requested at) for instances
    # seen before YARN knew them, and per pool the latest requested -> YARN-running durations (s)
    booting: Mapping[str, tuple[str, float]] = field(default_factory=lambda: MappingProxyType({}))
    boot_s: Mapping[str, tuple[float, ...]] = field(default_factory=lambda: MappingProxyType({}))
    # Spot notices (`autoscaler.replacement`): "instance/kind" -> (pool id, notice at) for each notice
    # seen, so each counts once and a pool's recent losses can be counted; and the replacements bought
    # for noticed instances, by instance id, until given back
    notices: Mapping[str, tuple[str, float]] = field(default_factory=lambda: MappingProxyType({}))
    replacements: Mapping[str, Replacement] = field(default_factory=lambda: MappingProxyType({}))

    def with_samples(self, samples: tuple[MetricSample, ...]) -> ControllerMemory:
        """This memory with `samples` in place of its own. Field by field, not `replace` (several times
        slower), since the engine calls it every tick; tests/core/test_memory_fields.py fails if a
        field is left out here."""
        return ControllerMemory(
            pools=self.pools,
            samples=samples,
            booting=self.booting,
            boot_s=self.boot_s,
            notices=self.notices,
            replacements=self.replacements,
        )

    def pool(self, pool_id: str) -> PoolMemory:
        found = self.pools.get(pool_id)  # not `.get(pool_id, PoolMemory())`: that builds one on every call
        return found if found is not None else _NO_POOL_MEMORY

    def shifted(self, seconds: float) -> ControllerMemory:
        """This memory after the wall clock stepped by `seconds` (an NTP step, a restored VM): every
        instant the controller stamped itself moves with the clock, so cooldowns, back-offs and
        windows keep their real length. Instants read from AWS (launch times in `booting`, notice
        times in `notices`) are on AWS's clock and stay."""
        return replace(
            self,
            pools=MappingProxyType({k: m.shifted(seconds) for k, m in self.pools.items()}),
            samples=tuple(replace(s, at=s.at + seconds) for s in self.samples),
            replacements=MappingProxyType(
                {k: replace(r, bought_at=r.bought_at + seconds) for k, r in self.replacements.items()}
            ),
        )

    def with_pool(self, pool_id: str, memory: PoolMemory) -> ControllerMemory:
        pools = dict(self.pools)
        pools[pool_id] = memory
        return replace(self, pools=MappingProxyType(pools))
