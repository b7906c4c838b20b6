"""A step of the wall clock moves the daemon's timers with it: a cooldown lasts its real length
through a step either way, and `/livez` and `/readyz` measure real time since the last tick.

The real process under libfaketime is tests/faults/test_clock_jump.py; here the Runner is driven
with a wall clock and a monotonic clock that the test moves apart."""

from __future__ import annotations

from collections.abc import Callable

from autoscaler.clockwatch import ClockWatch
from autoscaler.daemon import Runner
from autoscaler.loop import ClusterDeps, Deps
from autoscaler.metrics import Health, Metrics
from autoscaler.model import ClusterSnapshot, ControllerMemory, MetricSample, PoolMemory, YarnMetrics
from autoscaler.policy import load_policies
from autoscaler.testing import (
    FakeClock,
    ListLogger,
    RecordingActuator,
    make_cluster_config,
    make_node,
    make_pool,
    make_snapshot,
)

DAY = 86_400.0
COOLDOWN_S = 60.0


def _runner(wall: FakeClock, mono: FakeClock) -> tuple[Runner, RecordingActuator, Deps]:
    """One cluster whose static policy always wants 2 -> 4 (every tick sees 2 requested, so each write is
    a new scale-up), with a 60 s scale-up cooldown."""

    def collect(now: float) -> ClusterSnapshot:
        pools = [make_pool("ig-t", requested=2)]
        return make_snapshot(taken_at=now, pools=pools, nodes=[make_node("h1", containers=3)])

    config = make_cluster_config(
        policies=[{"type": "static", "options": {"units": 4}}],
        guards={"cooldown_up_s": COOLDOWN_S, "cooldown_down_s": 0},
    )
    actuator = RecordingActuator()
    cluster = ClusterDeps(config, collect, actuator, load_policies(config.policies))
    deps = Deps((cluster,), Metrics(), Health(10, ("j-TEST",), started_at=wall()), ListLogger(), clock=wall)
    return Runner(deps, monotonic=mono), actuator, deps


def _stepped(wall: FakeClock, mono: FakeClock, seconds: float, step: float) -> None:
    mono.advance(seconds)
    wall.t += seconds + step


def _writes(actuator: RecordingActuator) -> int:
    return len(actuator.calls)


def _case(step: float, after_s: float) -> tuple[int, list[str]]:
    wall, mono = FakeClock(1_700_000_000.0), FakeClock(100.0)
    runner, actuator, deps = _runner(wall, mono)
    try:
        runner.step()
        assert _writes(actuator) == 1
        _stepped(wall, mono, after_s, step)
        runner.step()
        logger = deps.logger
        assert isinstance(logger, ListLogger)
        return _writes(actuator), [e for _, e, _ in logger.events if e == "clock_jump"]
    finally:
        runner.close()


def test_a_forward_step_does_not_cut_a_cooldown_short() -> None:
    writes, jumps = _case(step=DAY, after_s=5)
    assert writes == 1, "a second scale-up 5 real seconds after the first: the cooldown was cut short"
    assert jumps == ["clock_jump"]


def test_a_backward_step_does_not_stretch_a_cooldown() -> None:
    writes, jumps = _case(step=-DAY, after_s=COOLDOWN_S + 1)
    assert writes == 2, "the cooldown was stretched by the step"
    assert jumps == ["clock_jump"]


def test_no_step_no_shift() -> None:
    assert _case(step=0.0, after_s=5)[0] == 1
    assert _case(step=0.0, after_s=COOLDOWN_S + 1) == (2, [])


def test_memory_moves_its_own_instants_and_keeps_aws_ones() -> None:
    yarn = YarnMetrics()
    memory = ControllerMemory(
        pools={"ig-t": PoolMemory(last_scale_up_at=10.0, backoff_until=20.0, down_confirmations=2)},
        samples=(MetricSample(5.0, yarn),),
        booting={"i-1": ("ig-t", 3.0)},
    )
    moved = memory.shifted(100.0)
    assert moved.pool("ig-t") == PoolMemory(last_scale_up_at=110.0, backoff_until=120.0, down_confirmations=2)
    assert moved.samples == (MetricSample(105.0, yarn),)
    assert moved.booting == memory.booting  # EMR's launch times are on AWS's clock


def test_probes_measure_real_time_across_a_step() -> None:
    health = Health(10, ("j-TEST",), started_at=1000.0)
    health.success("j-TEST", 1000.0)
    health.shift(-DAY)  # the clock stepped back a day right after that tick
    now = 1000.0 - DAY + 500  # 500 real seconds without a tick: the loop is dead
    assert not health.live(now)[0]
    assert not health.status(now)[0]


def test_the_watch_sees_steps_not_drift() -> None:
    wall, mono = FakeClock(1000.0), FakeClock(0.0)
    watch: Callable[[], float] = ClockWatch(wall, mono).step
    _stepped(wall, mono, 10, 0.5)
    assert watch() == 0.0
    _stepped(wall, mono, 10, -30)
    assert watch() == -30
