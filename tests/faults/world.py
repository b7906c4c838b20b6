"""The fault suite's world: an emulated EMR cluster (the project's emulator over `SimCluster`: resize
lag, YARN placement, Spot reclaims) behind two fault proxies, moto in server mode for DynamoDB and
SQS, and real `emr-autoscaler run` processes whose JSON log is read as it is written.

The emulator's clock is frozen (`time_scale=0`): the cluster moves only when a test calls
`advance`, so demand stays exactly as a fault row set it for as many daemon ticks as the row needs.
Its timestamps start two hours before the wall clock, so advancing never puts a launch in the future.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml

from autoscaler.emulator.server import Emulator
from autoscaler.model import Market, PoolRole
from autoscaler.prices import load_ondemand_table
from autoscaler.sim.billing import PriceBook
from autoscaler.sim.boot import Fixed
from autoscaler.sim.cluster import SimCluster
from autoscaler.sim.native import parse_job
from autoscaler.sim.spec import ClusterSpec, group

from .proxy import FaultProxy

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
CLUSTER_ID = "j-FAULTSUITE"
TASK = "ig-task"
CORE = "ig-core"
CORE_FLOOR = 2
BOOT_S = 30.0  # emulated seconds from a scale-up to YARN capacity
POLL_S = 0.4
CONTAINER_MB = 3072  # one vcore each: 4 to an m5.xlarge by memory (12 GB) and by vcores (4), so a policy
CONTAINERS_PER_NODE = 4  # counting either buys the same nodes, and none stands idle once they boot


def build_cluster(start_at: float, task: int = 1) -> SimCluster:
    spec = ClusterSpec(
        pools=(
            group("ig-master", PoolRole.MASTER, Market.ON_DEMAND, 1),
            group(CORE, PoolRole.CORE, Market.ON_DEMAND, CORE_FLOOR),
            group(TASK, PoolRole.TASK, Market.SPOT, task),
        ),
        cluster_id=CLUSTER_ID,
        start_at=start_at,
        boot_s=Fixed(BOOT_S),
        min_node_age_s=0.0,
        interruptions=False,
    )
    return SimCluster(spec, PriceBook(load_ondemand_table(), start_at=start_at))


def daemon_config(yarn_url: str, **cluster: Any) -> dict[str, Any]:
    """Fast ticks, no timing guards in the way of a decision (cooldowns 0, one confirmation, no
    back-off), so "recovery within one tick" is what is measured; every safety guard is on."""
    base: dict[str, Any] = {
        "cluster_id": CLUSTER_ID,
        "region": REGION,
        "yarn": {"urls": [yarn_url], "timeout_s": 1.5},
        "limits": {"min_task_units": 1, "max_task_units": 40, "min_core_units": CORE_FLOOR},
        "guards": {
            "cooldown_up_s": 0,
            "cooldown_down_s": 0,
            "scale_down_confirmations": 1,
            "min_node_age_s": 0,
            "backoff_s": 0,
            "stale_after_s": 2,
        },
        "pools": [TASK],
        "decommission_timeout_s": 60,
        "cloudwatch": False,
        "pricing": {"describe_spot_history": False},
        "policies": [{"type": "pending-demand"}, {"type": "idle-capacity"}],
    }
    return {
        "dry_run": False,
        "poll_interval_s": POLL_S,
        "cluster_tick_deadline_s": POLL_S,  # the most allowed: a tick slowed by the machine's load is not cut off
        "metrics_port": 0,
        "log_format": "json",
        "clusters": [{**base, **cluster}],
    }


class Daemon:
    """One `emr-autoscaler run` process; a thread keeps its JSON events (stderr) as they come."""

    def __init__(self, config: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autoscaler.cli", "run", "-c", str(config)],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.events: list[dict[str, Any]] = []
        self.lines: list[str] = []  # every line that was not a JSON object: a crash or a stray print
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            try:
                event = json.loads(line)
            except ValueError:
                event = None
            if isinstance(event, dict):
                event["_seen"] = time.time()
                self.events.append(event)
            elif line.strip():
                self.lines.append(line.rstrip())

    @property
    def pid(self) -> int:
        return self.proc.pid

    def ticks(self, since: float = 0.0) -> list[dict[str, Any]]:
        """Tick events of ticks that began (`taken_at`) at or after `since`."""
        return [e for e in list(self.events) if e.get("event") == "tick" and e.get("taken_at", 0) >= since]

    def wait_ticks(self, count: int, since: float, timeout: float = 30) -> list[dict[str, Any]]:
        found = wait_for(lambda: len(self.ticks(since)) >= count, timeout)
        assert found, f"{count} ticks after {since:.1f} not seen in {timeout}s; last events {self.events[-3:]}"
        return self.ticks(since)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        os.kill(self.proc.pid, sig)

    def stop(self) -> int:
        """SIGCONT then SIGTERM; the exit status (killed after 30 s)."""
        if self.alive():
            self.signal(signal.SIGCONT)
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._reader.join(timeout=10)
        self._close()
        return code

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)
        self._reader.join(timeout=10)
        self._close()

    def _close(self) -> None:
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@dataclass
class World:
    tmp: Path
    emu: Emulator
    cluster: SimCluster
    rm: FaultProxy
    emr: FaultProxy
    moto_url: str
    daemons: list[Daemon] = field(default_factory=list)
    jobs: int = 0

    # -- the cluster -----------------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        self.emu.advance(seconds)

    def submit(self, tasks: int, task_s: float = 1e7) -> None:
        """A job of `tasks` 3 GB one-vcore containers of `task_s` emulated seconds (default: for ever)."""
        self.jobs += 1
        job = parse_job(
            {
                "id": f"job-{self.jobs}",
                "submit_s": 0,
                "stages": [{"tasks": tasks, "memory_mb": CONTAINER_MB, "vcores": 1, "task_s": task_s}],
            }
        )
        with self.emu.locked() as cluster:
            cluster.submit(job)  # type: ignore[attr-defined]
        self.advance(0.001)  # the submission is an event: run it now

    def free_slots(self) -> int:
        """Containers that fit in YARN's available memory now."""
        yarn = self.emu.snapshot().yarn
        assert yarn is not None
        assert yarn.available_mb is not None
        return yarn.available_mb // CONTAINER_MB

    def demand(self, nodes: int, task_s: float = 1e7) -> float:
        """Pending work for exactly `nodes` more task nodes; returns when it was submitted."""
        since = time.time()
        self.submit(self.free_slots() + nodes * CONTAINERS_PER_NODE, task_s)
        return since

    def requested(self, pool_id: str = TASK) -> int:
        return self.emu.snapshot().pool(pool_id).requested.total

    def settle(self, timeout: float = 20) -> None:
        """Advance emulated time until every pool is RUNNING (booted, drained)."""
        deadline = time.monotonic() + timeout
        while any(p.state.value != "RUNNING" for p in self.emu.snapshot().pools):
            assert time.monotonic() < deadline, "the emulated cluster never settled"
            self.advance(BOOT_S / 2)

    # -- daemons ---------------------------------------------------------------------------------

    def config(self, name: str = "config.yaml", ha: dict[str, Any] | None = None, **cluster: Any) -> Path:
        data = daemon_config(self.rm.url, **cluster)
        if ha:
            data["ha"] = ha
        path = self.tmp / name
        path.write_text(yaml.safe_dump(data))
        return path

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "EMR_AUTOSCALER_"))}
        env.update(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_ENDPOINT_URL=self.moto_url,
            AWS_ENDPOINT_URL_EMR=self.emr.url,
            AWS_DEFAULT_REGION=REGION,
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            AWS_EC2_METADATA_DISABLED="true",
        )
        env.update(extra)
        return env

    def aws(self, service: str) -> Any:
        """A boto3 client of the test's own for moto (DynamoDB, SQS)."""
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.moto_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def start(self, config: Path | None = None, **env: str) -> Daemon:
        daemon = Daemon(config or self.config(), self.env(**env))
        self.daemons.append(daemon)
        return daemon


def wait_for(predicate: Callable[[], Any], timeout: float = 20, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)
