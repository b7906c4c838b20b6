"""A simulated EMR cluster on instance fleets, shared by the fleet fidelity and end-to-end tests."""

from __future__ import annotations

from pathlib import Path

from autoscaler.model import PoolKind, PoolRole
from autoscaler.prices import SpotHistory, load_ondemand_table
from autoscaler.sim.billing import PriceBook
from autoscaler.sim.cluster import SimCluster
from autoscaler.sim.native import parse_job
from autoscaler.sim.spec import ClusterSpec, PoolSpec

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z
FLEET = "if-task"
# one Spot row per type at T0: the sim replays it from its start, the daemon reads it as its static fallback
SPOT_ROWS = (
    "us-east-1a\tm5.xlarge\tLinux/UNIX\t0.070000\t2023-11-14T22:13:20+00:00\n"
    "us-east-1a\tm5.2xlarge\tLinux/UNIX\t0.140000\t2023-11-14T22:13:20+00:00\n"
)


def fleet_spec() -> ClusterSpec:
    """Master and core fleets, and a task fleet holding 1 on-demand unit and 2 Spot units."""
    return ClusterSpec(
        pools=(
            PoolSpec("if-master", PoolRole.MASTER, PoolKind.INSTANCE_FLEET, initial_on_demand=1),
            PoolSpec("if-core", PoolRole.CORE, PoolKind.INSTANCE_FLEET, initial_on_demand=2),
            PoolSpec(
                FLEET,
                PoolRole.TASK,
                PoolKind.INSTANCE_FLEET,
                instance_types=("m5.xlarge", "m5.2xlarge"),
                weights=(1, 2),
                initial_on_demand=1,
                initial_spot=2,
            ),
        ),
        cluster_id="j-FLEETSIM",
        start_at=T0,
        interruptions=False,
    )


def fleet_cluster(spot_file: Path, tasks: int = 60) -> SimCluster:
    """The fleet cluster with one job of `tasks` 2 GB containers running 5 minutes each."""
    history = SpotHistory.load(spot_file)
    cluster = SimCluster(fleet_spec(), PriceBook(load_ondemand_table(), spot_history=history, start_at=T0))
    job = {
        "id": "etl",
        "submit_s": 0.0,
        "am": {"memory_mb": 1024, "vcores": 1},
        "stages": [{"tasks": tasks, "memory_mb": 2048, "vcores": 1, "task_s": 300.0}],
    }
    cluster.submit(parse_job(job))
    return cluster
