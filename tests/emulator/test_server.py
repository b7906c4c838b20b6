from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from autoscaler.emulator.server import Emulator
from autoscaler.testing import FakeClock

from .conftest import emr_client
from .fake_cluster import FakeCluster


def test_emulated_time_runs_at_time_scale(fake: FakeCluster) -> None:
    """Emulated time is the start plus time_scale × real seconds elapsed."""
    real = FakeClock(100.0)
    emu = Emulator(fake, time_scale=10.0, monotonic=real)
    start = fake.now
    real.t += 3.0
    with emu.locked() as cluster:
        assert cluster.now == pytest.approx(start + 30.0)


def test_clock_thread_moves_the_cluster_without_requests(fake: FakeCluster) -> None:
    """With time_scale > 0 the cluster advances on its own while nobody asks."""
    start = fake.now
    with Emulator(fake, time_scale=100.0, tick_s=0.01):
        deadline = time.monotonic() + 5
        while fake.now < start + 5 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert fake.now >= start + 5


def test_wall_clock_serves_ages_in_real_seconds(fake: FakeCluster) -> None:
    """With wall_clock at 10×, an instance launched 3600 emulated seconds before start shows 360 real s before."""
    wall = FakeClock(1_800_000_000.0)
    emu = Emulator(fake, time_scale=10.0, wall_clock=True, wall=wall, monotonic=FakeClock(0.0))
    with emu:
        instances = emr_client(emu.emr_url).list_instances(ClusterId="j-TEST", InstanceGroupId="ig-core")["Instances"]
    launched = instances[0]["Status"]["Timeline"]["CreationDateTime"]
    assert launched == datetime.fromtimestamp(1_800_000_000.0 - 360.0, UTC)


def test_failing_model_stops_the_clock_and_is_reported(fake: FakeCluster) -> None:
    """A model that raises while advancing is recorded in `error` instead of dying silently."""

    def broken(t: float) -> None:
        raise RuntimeError("boom")

    fake.advance_to = broken  # type: ignore[method-assign]
    with Emulator(fake, time_scale=100.0, tick_s=0.01) as emu:
        deadline = time.monotonic() + 5
        while emu.error is None and time.monotonic() < deadline:
            time.sleep(0.01)
    assert isinstance(emu.error, RuntimeError)


def test_negative_time_scale_is_refused(fake: FakeCluster) -> None:
    """Time cannot run backwards."""
    with pytest.raises(ValueError, match="time_scale"):
        Emulator(fake, time_scale=-1.0)
