"""The real daemon process drives an instance fleet served by the emulator (moto has no fleets).

`python -m autoscaler.cli run` reads the emulated YARN RM and EMR endpoint of a `SimCluster` whose
task fleet mixes m5.xlarge (1 unit) and m5.2xlarge (2 units), writes `ModifyInstanceFleet` with
absolute on-demand and Spot targets, and the simulated fleet then grows by those weighted units.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from autoscaler.emulator.demo import daemon_env, running_daemon
from autoscaler.emulator.server import Emulator
from autoscaler.model import Market
from autoscaler.sim.node import Lifecycle
from autoscaler.testing import free_port

from .fleet import FLEET, T0, fleet_cluster

TIME_SCALE = 60.0  # a 5-6 minute boot takes 5-6 real seconds


def _daemon_config(yarn_url: str, spot_file: Path) -> dict[str, Any]:
    """Ages and cooldowns in real seconds (emulated / TIME_SCALE); one on-demand base unit, the rest Spot."""
    return {
        "dry_run": False,
        "poll_interval_s": 1.0,
        "log_format": "json",
        "clusters": [
            {
                "cluster_id": "j-FLEETSIM",
                "region": "us-east-1",
                "yarn": {"urls": [yarn_url], "timeout_s": 2.0},
                "limits": {"max_task_units": 40, "max_step_up_units": 40, "max_step_down_units": 40},
                "guards": {"cooldown_up_s": 1.0, "cooldown_down_s": 600.0, "min_node_age_s": 10.0},
                "spot": {"on_demand_base_units": 1},
                "pools": [FLEET],
                "cloudwatch": False,
                "pricing": {"describe_spot_history": False, "spot_price_file": str(spot_file)},
                "policies": [{"type": "pending-demand"}],
            }
        ],
    }


def _running(emu: Emulator, market: Market) -> list[tuple[str, int]]:
    """(instance type, weight) of the fleet's running nodes on `market`."""
    with emu.locked() as cluster:
        pool = cluster.pools[FLEET]  # type: ignore[attr-defined]
        return [
            (n.instance_type, n.weight)
            for n in pool.nodes.values()
            if n.market is market and n.state is Lifecycle.RUNNING
        ]


def _running_units(emu: Emulator, market: Market) -> int:
    return sum(w for _, w in _running(emu, market))


@pytest.mark.e2e
def test_daemon_grows_a_fleet_with_absolute_targets(tmp_path: Path, spot_file: Path) -> None:
    """Pending demand makes the daemon write ModifyInstanceFleet with absolute integer targets (the on-demand
    base kept, the growth on Spot), and the emulated fleet's running Spot units then reach that target,
    counted in weighted units."""
    cluster = fleet_cluster(spot_file)
    assert (cluster.pools[FLEET].target[Market.ON_DEMAND], cluster.pools[FLEET].target[Market.SPOT]) == (1, 2)
    with Emulator(cluster, time_scale=TIME_SCALE, wall_clock=True) as emu:
        config = tmp_path / "daemon.yaml"
        config.write_text(yaml.safe_dump(_daemon_config(emu.yarn_url, spot_file)))
        log_path = tmp_path / "daemon.log"
        with log_path.open("w") as log, running_daemon(config, free_port(), daemon_env(emu.emr_url), log) as proc:
            deadline = time.monotonic() + 15
            writes: list[tuple[str, dict[str, Any]]] = []
            target_spot = None
            while time.monotonic() < deadline and proc.poll() is None:
                writes = emu.emr.write_calls()
                if writes:
                    target_spot = writes[0][1]["InstanceFleet"]["TargetSpotCapacity"]
                    if _running_units(emu, Market.SPOT) >= target_spot:
                        break
                time.sleep(0.25)
            spot_nodes = _running(emu, Market.SPOT)
            od_running = _running_units(emu, Market.ON_DEMAND)
        assert emu.error is None
    daemon_log = log_path.read_text()
    assert writes, f"the daemon wrote nothing; log tail:\n{daemon_log[-3000:]}"
    operation, params = writes[0]
    assert operation == "ModifyInstanceFleet"
    fleet = params["InstanceFleet"]
    assert params["ClusterId"] == "j-FLEETSIM"
    assert fleet["InstanceFleetId"] == FLEET
    assert type(fleet["TargetOnDemandCapacity"]) is int
    assert type(fleet["TargetSpotCapacity"]) is int
    assert fleet["TargetOnDemandCapacity"] == 1  # the configured on-demand base, unchanged
    assert fleet["TargetSpotCapacity"] > 2  # absolute: the 2 Spot units held plus the growth
    spot_units = sum(w for _, w in spot_nodes)
    assert spot_units >= fleet["TargetSpotCapacity"], daemon_log[-3000:]
    assert len(spot_nodes) < spot_units  # the target was met in weighted units: some nodes count 2
    assert od_running == 1
    assert cluster.now > T0
