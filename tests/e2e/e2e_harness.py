"""Pieces of the end-to-end harness: the recording proxy put in front of moto (what the daemon
wrote: the fault suite's `FaultProxy`), the cluster handle, the config writer, and launching the
real `emr-autoscaler run` process with `sys.executable -m autoscaler.cli`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from faults.proxy import Answer, Exchange, FaultProxy

from autoscaler.testing import FakeYarn, free_port  # noqa: F401 - free_port re-exported: the e2e tests import it from here

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


def _moto_gaps(exchange: Exchange) -> Answer | None:
    """moto does not implement GetManagedScalingPolicy; real EMR answers `{}` for a cluster without one."""
    if exchange.operation == "GetManagedScalingPolicy":
        return Answer(200, b"{}", "application/x-amz-json-1.1")
    return None


def recording_proxy(moto_port: int) -> FaultProxy:
    """The fault suite's proxy in front of moto, recording every request (`exchanges()`, `writes()`)."""
    return FaultProxy(moto_port, rule=_moto_gaps)


@dataclass(frozen=True)
class EmrCluster:
    cluster_id: str
    task_group: str
    task_instances: tuple[dict[str, Any], ...]  # ListInstances entries: Ec2InstanceId, PrivateDnsName
    core_instances: tuple[dict[str, Any], ...]
    client: Any

    def task_requested(self) -> int:
        groups = self.client.list_instance_groups(ClusterId=self.cluster_id)["InstanceGroups"]
        return int(next(g for g in groups if g["Id"] == self.task_group)["RequestedInstanceCount"])


@dataclass(frozen=True)
class Harness:
    """Everything one end-to-end test needs, as one fixture."""

    tmp_path: Path
    yarn: FakeYarn
    proxy: FaultProxy
    cluster: EmrCluster
    moto_url: str

    def config(self, metrics_port: int = 0, yarn_url: str | None = None, **cluster: Any) -> Path:
        return write_config(self.tmp_path, self.cluster.cluster_id, yarn_url or self.yarn.url, metrics_port, **cluster)

    def env(self) -> dict[str, str]:
        return daemon_env(self.moto_url, self.proxy.url)


def write_config(tmp_path: Path, cluster_id: str, yarn_url: str, metrics_port: int, **cluster: Any) -> Path:
    """A config for fast end-to-end runs: no CloudWatch/Spot calls, no cooldowns, one confirmation."""
    data = {
        "dry_run": False,
        "poll_interval_s": 0.5,
        "metrics_port": metrics_port,
        "log_format": "json",
        "clusters": [
            {
                "cluster_id": cluster_id,
                "region": REGION,
                "yarn": {"urls": [yarn_url], "timeout_s": 2},
                "limits": {"min_task_units": 1, "max_task_units": 10},
                "guards": {
                    "cooldown_up_s": 0,
                    "cooldown_down_s": 0,
                    "scale_down_confirmations": 1,
                    "min_node_age_s": 0,
                },
                "cloudwatch": False,
                "pricing": {"describe_spot_history": False},
                "decommission_timeout_s": 120,
                "policies": [{"type": "pending-demand"}, {"type": "idle-capacity"}],
                **cluster,
            }
        ],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def daemon_env(moto_url: str, emr_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "EMR_AUTOSCALER_"))}
    env.update(CREDS)
    env.update(
        AWS_ENDPOINT_URL=moto_url,
        AWS_ENDPOINT_URL_EMR=emr_url,
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def run_once(config: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli(env, "run", "-c", str(config), "--once", *extra)


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`emr-autoscaler ARGS` as a process, to completion (60 s at most)."""
    return subprocess.run(
        [sys.executable, "-m", "autoscaler.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )


def start_daemon(config: Path, env: dict[str, str], stdout: int = subprocess.DEVNULL) -> subprocess.Popen[str]:
    """The real `emr-autoscaler run` as a process; its JSON log (tick events) is on stderr."""
    return subprocess.Popen(
        [sys.executable, "-m", "autoscaler.cli", "run", "-c", str(config)],
        env=env,
        cwd=REPO,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )


def log_events(stderr: str) -> list[dict[str, Any]]:
    """Every JSON event of a daemon's log."""
    events = []
    for line in stderr.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def tick_events(stderr: str) -> list[dict[str, Any]]:
    return [e for e in log_events(stderr) if e.get("event") == "tick"]


def scrape(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
            return str(resp.read().decode())
    except OSError:
        return None


def wait_for(predicate: Any, timeout: float = 20, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    return None
