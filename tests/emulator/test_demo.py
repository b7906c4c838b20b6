from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from autoscaler.config import parse_config
from autoscaler.emulator.demo import TASK_POOL, DemoSettings, Progress, build_cluster, daemon_config
from autoscaler.policy import load_policies
from autoscaler.testing import free_port

REPO = Path(__file__).resolve().parents[2]


def test_daemon_config_is_valid_and_live() -> None:
    """The generated daemon config passes the daemon's own validation, writes for real and loads its policies."""
    config = parse_config(daemon_config("http://127.0.0.1:1", DemoSettings(time_scale=10.0)), env={})
    assert config.dry_run is False
    cluster = config.clusters[0]
    assert cluster.pools == [TASK_POOL]
    assert cluster.guards.min_node_age_s == 60.0  # EMR's 10 minutes, in real seconds at 10x
    assert len(load_policies(cluster.policies)) == 2


def test_workload_needs_task_nodes() -> None:
    """The built-in burst leaves containers pending on the core nodes alone, so a scale-up is warranted."""
    cluster = build_cluster(1_700_000_000.0)
    cluster.advance_to(cluster.now + 30)
    yarn = cluster.snapshot().yarn
    assert yarn is not None
    assert yarn.containers_pending is not None
    assert yarn.containers_pending > 8


def test_progress_needs_growth_then_shrink() -> None:
    """A scale-in counts only after a scale-up, as a drop below the peak."""
    progress = Progress(initial=0)
    progress.see(0)
    assert not progress.scaled_up
    progress.see(6)
    assert progress.scaled_up
    assert not progress.scaled_in
    progress.see(2)
    assert progress.scaled_in


@pytest.mark.e2e
def test_demo_scales_up_and_in_with_the_real_daemon() -> None:
    """`emr-autoscaler demo` runs the real daemon against the emulator: it grows the task group, then shrinks it,
    serves /metrics meanwhile, and exits 0."""
    port = free_port()
    cmd = [sys.executable, "-m", "autoscaler.cli", "demo", "--time-scale", "30", "--duration", "50"]
    proc = subprocess.Popen(
        [*cmd, "--metrics-port", str(port)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        metrics = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "emr_autoscaler_" not in metrics:
            try:
                metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except requests.ConnectionError:
                time.sleep(0.5)
        out, _ = proc.communicate(timeout=70)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "emr_autoscaler_" in metrics
    assert "ModifyInstanceGroups: ig-task InstanceCount=6" in out
    assert "InstanceCount=0, drain" in out
    assert "scale-in seen" in out
