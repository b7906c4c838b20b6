"""cost-optimizer in the real daemon against the emulator: of two Spot task groups it grows the one
cheaper per usable GB, and `explain` says so with the prices.

The emulated cluster has master, two on-demand core nodes and two empty Spot task groups: m5.xlarge
at $0.070/h and m5a.xlarge at $0.050/h (EC2 Spot) plus each type's EMR charge; both give YARN 12 GB.
One job waits for 60 × 2 GB containers that the core nodes cannot hold.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from autoscaler.emulator.demo import daemon_env, running_daemon
from autoscaler.emulator.server import Emulator
from autoscaler.model import Market, PoolRole
from autoscaler.prices import SpotHistory, load_ondemand_table
from autoscaler.sim.billing import PriceBook
from autoscaler.sim.cluster import SimCluster
from autoscaler.sim.spec import ClusterSpec, group
from autoscaler.sim.trace import parse_job
from autoscaler.testing import free_port

T0 = 1_700_000_000.0
TIME_SCALE = 60.0
SPOT_ROWS = (
    "us-east-1a\tm5.xlarge\tLinux/UNIX\t0.070000\t2023-11-14T22:13:20+00:00\n"
    "us-east-1a\tm5a.xlarge\tLinux/UNIX\t0.050000\t2023-11-14T22:13:20+00:00\n"
)


def _cluster(spot_file: Path, jobs: list[dict[str, Any]] | None = None) -> SimCluster:
    spec = ClusterSpec(
        pools=(
            group("ig-master", PoolRole.MASTER, Market.ON_DEMAND, 1),
            group("ig-core", PoolRole.CORE, Market.ON_DEMAND, 2),
            group("ig-spot-m5", PoolRole.TASK, Market.SPOT, 0, "m5.xlarge"),
            group("ig-spot-m5a", PoolRole.TASK, Market.SPOT, 0, "m5a.xlarge"),
        ),
        cluster_id="j-COSTOPT",
        start_at=T0,
        interruptions=False,
    )
    history = SpotHistory.load(spot_file)
    cluster = SimCluster(spec, PriceBook(load_ondemand_table(), spot_history=history, start_at=T0))
    job = {
        "id": "etl",
        "submit_s": 0.0,
        "am": {"memory_mb": 1024, "vcores": 1},
        "stages": [{"tasks": 60, "memory_mb": 2048, "vcores": 1, "task_s": 600.0}],
    }
    for one in jobs if jobs is not None else [job]:
        cluster.submit(parse_job(one))
    return cluster


def _explain(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "autoscaler.cli", "explain", "-c", str(config), "--daemon", "none"],
        env={**env, "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _config(yarn_url: str, spot_file: Path) -> dict[str, Any]:
    return {
        "dry_run": False,
        "poll_interval_s": 1.0,
        "log_format": "json",
        "clusters": [
            {
                "cluster_id": "j-COSTOPT",
                "region": "us-east-1",
                "yarn": {"urls": [yarn_url], "timeout_s": 2.0},
                "limits": {"max_task_units": 20, "max_step_up_units": 20},
                "guards": {"cooldown_up_s": 1.0, "cooldown_down_s": 600.0, "min_node_age_s": 10.0},
                "cloudwatch": False,
                "pricing": {"describe_spot_history": False, "spot_price_file": str(spot_file)},
                "policies": [{"type": "cost-optimizer", "options": {"target_p95_wait_s": 0}}],
            }
        ],
    }


@pytest.mark.e2e
def test_daemon_grows_the_cheaper_spot_group_and_explain_says_why(tmp_path: Path) -> None:
    spot_file = tmp_path / "spot.tsv"
    spot_file.write_text(SPOT_ROWS)
    cluster = _cluster(spot_file)
    with Emulator(cluster, time_scale=TIME_SCALE, wall_clock=True) as emu:
        config = tmp_path / "daemon.yaml"
        config.write_text(yaml.safe_dump(_config(emu.yarn_url, spot_file)))
        env = daemon_env(emu.emr_url)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not cluster.workload.active:
            time.sleep(0.1)
        explained = _explain(config, env)
        log_path = tmp_path / "daemon.log"
        with log_path.open("w") as log, running_daemon(config, free_port(), env, log) as proc:
            writes: list[tuple[str, dict[str, Any]]] = []
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and proc.poll() is None and not writes:
                writes = emu.emr.write_calls()
                time.sleep(0.25)
        assert emu.error is None
    text = explained.stdout
    assert explained.returncode == 0, explained.stderr[-2000:]
    assert "cost-optimizer → ig-spot-m5a" in text, text
    assert "chose m5a.xlarge Spot (ig-spot-m5a)" in text, text
    assert "cheaper than m5.xlarge Spot (ig-spot-m5)" in text, text
    assert "ig-spot-m5a: 0 →" in text, text
    assert writes, log_path.read_text()[-3000:]
    operation, params = writes[0]
    assert operation == "ModifyInstanceGroups"
    (group_write,) = params["InstanceGroups"]
    assert group_write["InstanceGroupId"] == "ig-spot-m5a"
    assert group_write["InstanceCount"] > 0


@pytest.mark.e2e
def test_explain_buys_for_the_am_share_the_emulated_rm_reports(tmp_path: Path) -> None:
    """Ten jobs with EMR's 6 GiB AMs and one small task each: the two core nodes' 10% AM share (2.4 GB)
    starts one AM, nine wait with free memory all around. The daemon reads the share and the AMs' usage
    from the emulator's `/ws/v1/cluster/scheduler`, and `explain` buys for them and says so."""
    spot_file = tmp_path / "spot.tsv"
    spot_file.write_text(SPOT_ROWS)
    jobs = [
        {
            "id": f"small-{k}",
            "submit_s": 0.0,
            "am": {"memory_mb": 6144, "vcores": 1},
            "stages": [{"tasks": 1, "memory_mb": 1024, "vcores": 1, "task_s": 600.0}],
        }
        for k in range(10)
    ]
    cluster = _cluster(spot_file, jobs)
    with Emulator(cluster, time_scale=TIME_SCALE, wall_clock=True) as emu:
        config = tmp_path / "daemon.yaml"
        config.write_text(yaml.safe_dump(_config(emu.yarn_url, spot_file)))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(cluster.workload.active) < 10:
            time.sleep(0.1)
        explained = _explain(config, daemon_env(emu.emr_url))
        assert emu.error is None
    text = explained.stdout
    assert explained.returncode == 0, explained.stderr[-2000:]
    assert "[am-share] 9 waiting AM(s) of 6.0 GB" in text, text
    assert "maximum-am-resource-percent 10%" in text, text
    assert "no AM share would start them on the nodes already there" in text, text  # 54 GB of AMs, 24 GB
    assert "ig-spot-m5a: 0 →" in text, text
