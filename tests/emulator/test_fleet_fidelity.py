"""Fleets: the emulator and the simulator make the same decisions for the same state.

A real `SimCluster` built from a fleet spec (a task fleet of m5.xlarge = 1 unit and m5.2xlarge =
2 units, on-demand and Spot targets) is (a) handed to `engine.evaluate` directly and (b) served by
the emulator and read back through the daemon's own sources (ListInstanceFleets, ListInstances,
the YARN RM). moto has no instance fleets, so this is the fleet path's only end-to-end check.
Both sides see the same Spot prices: the sim replays a one-row price file the daemon also reads.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from autoscaler.config import ClusterConfig
from autoscaler.emulator.server import Emulator
from autoscaler.engine import evaluate
from autoscaler.model import Capacity, ClusterSnapshot, ControllerMemory, PoolKind, PoolState
from autoscaler.policy import load_policies
from autoscaler.sim.cluster import SimCluster
from autoscaler.snapshot import build_sources, collect  # the sources as the daemon builds them

from .fleet import FLEET, T0, fleet_cluster


def fleet_config(yarn_url: str, spot_file: Path) -> ClusterConfig:
    return ClusterConfig.model_validate(
        {
            "cluster_id": "j-FLEETSIM",
            "yarn": {"urls": [yarn_url], "timeout_s": 2},
            "limits": {"max_task_units": 40, "max_step_up_units": 40, "max_step_down_units": 40},
            "guards": {"cooldown_up_s": 0, "cooldown_down_s": 0, "scale_down_confirmations": 1},
            "spot": {"on_demand_base_units": 1},
            "pools": [FLEET],
            "decommission_timeout_s": 300,
            "cloudwatch": False,
            "pricing": {"describe_spot_history": False, "spot_price_file": str(spot_file)},
            "policies": [{"type": "pending-demand"}, {"type": "idle-capacity"}],
        }
    )


def _served(
    cluster: SimCluster, spot_file: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[ClusterConfig, ClusterSnapshot]:
    with Emulator(cluster, time_scale=0) as emu:
        monkeypatch.setenv("AWS_ENDPOINT_URL_EMR", emu.emr_url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        config = fleet_config(emu.yarn_url, spot_file)
        snapshot = collect(build_sources(config), config, cluster.now)
    assert not snapshot.stale, snapshot.stale_reasons
    return config, snapshot


def _plan(snapshot: ClusterSnapshot, config: ClusterConfig) -> object:
    return evaluate(snapshot, ControllerMemory(), load_policies(config.policies), config).plan


def test_served_fleet_reads_back_as_the_simulator_sees_it(spot_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ListInstanceFleets/ListInstances over the wire give the fleet's targets, units, weights and state."""
    cluster = fleet_cluster(spot_file)
    cluster.advance_to(T0 + 30)
    direct = cluster.snapshot()
    _, served = _served(cluster, spot_file, monkeypatch)
    mine, theirs = direct.pool(FLEET), served.pool(FLEET)
    assert theirs.kind is PoolKind.INSTANCE_FLEET
    assert theirs.state is mine.state is PoolState.RUNNING
    assert theirs.requested == mine.requested == Capacity(on_demand=1, spot=2)
    assert theirs.running == mine.running
    assert [(o.instance_type, o.weight) for o in theirs.options] == [("m5.xlarge", 1), ("m5.2xlarge", 2)]
    units = {(i.instance_id, i.instance_type, i.market, i.weight) for i in served.instances if i.pool_id == FLEET}
    assert units == {
        (i.instance_id, i.instance_type, i.market, i.weight) for i in direct.instances if i.pool_id == FLEET
    }
    assert {(p.instance_type, p.market, p.ec2_usd_per_hour) for p in served.prices} == {
        (p.instance_type, p.market, p.ec2_usd_per_hour) for p in direct.prices
    }


def test_same_fleet_scale_up_split_by_market(spot_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pending demand on a fleet gives the same absolute on-demand and Spot targets directly and over the wire."""
    cluster = fleet_cluster(spot_file)
    cluster.advance_to(T0 + 30)
    direct = cluster.snapshot()
    config, served = _served(cluster, spot_file, monkeypatch)
    plan = _plan(direct, config)
    assert _plan(served, config) == plan
    (resize,) = plan.resizes  # type: ignore[attr-defined]
    assert resize.kind is PoolKind.INSTANCE_FLEET
    # on-demand stays at the configured base of 1 unit; every new unit is Spot
    assert resize.target.on_demand == 1
    assert resize.target.spot > 2


def test_same_fleet_scale_in_once_the_work_is_done(spot_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An idle, grown fleet is released to the same (zero) targets directly and over the wire."""
    cluster = fleet_cluster(spot_file, tasks=4)
    cluster.modify_instance_fleet(FLEET, target_on_demand=3, target_spot=6)
    cluster.advance_to(T0 + 3600)  # the job is done and the new nodes are older than EMR's 10 minutes
    direct = cluster.snapshot()
    assert direct.pool(FLEET).state is PoolState.RUNNING
    config, served = _served(cluster, spot_file, monkeypatch)
    plan = _plan(direct, config)
    assert _plan(served, config) == plan
    (resize,) = plan.resizes  # type: ignore[attr-defined]
    assert resize.current == Capacity(on_demand=3, spot=6)
    assert resize.target == Capacity(0, 0)  # min_task_units 0 and nothing pending: every unit goes
    assert resize.instances_to_terminate == ()  # a fleet cannot name its victims
