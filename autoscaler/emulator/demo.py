"""`emr-autoscaler demo`: the real daemon process driving an emulated cluster, no AWS account needed.

A burst of Spark-like jobs lands on a cluster with two core nodes and an empty Spot task group;
the daemon (started as `python -m autoscaler.cli run`, talking HTTP to the emulated RM and boto3
to the emulated EMR endpoint) grows the task group, the nodes boot, the work drains, and the
daemon shrinks the group again. The timeline printed is read from the emulated cluster itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

import yaml

from autoscaler.emulator.demo_inputs import finished_day, overlay_config, serve_history, trace_jobs
from autoscaler.model import ClusterSnapshot, Market, PoolRole
from autoscaler.prices import load_ondemand_table
from autoscaler.sim.billing import PriceBook
from autoscaler.sim.cluster import SimCluster
from autoscaler.sim.command import SimulateError
from autoscaler.sim.job import Job
from autoscaler.sim.native import parse_job
from autoscaler.sim.spec import ClusterSpec, group

if TYPE_CHECKING:
    from autoscaler.emulator.server import Emulator

CLUSTER_ID: Final = "j-EMULATEDDEMO"
TASK_POOL: Final = "ig-task"
MAX_TASK_UNITS: Final = 6
EMR_MIN_NODE_AGE_S: Final = 600.0  # EMR keeps instances added in the last ~10 minutes


@dataclass(frozen=True, slots=True)
class DemoSettings:
    time_scale: float = 10.0
    duration_s: float = 180.0  # real seconds before giving up on seeing both resizes
    metrics_port: int = 9464
    keep_running: bool = False
    poll_interval_s: float = 2.0
    trace: str | None = None  # run these jobs (and stop when all are done) instead of the built-in two
    config: str | None = None  # the operator's policies, shadow policies, record_dir, dry_run (demo_inputs)
    history: bool = False  # no daemon: run the trace to completion a day back and serve the finished apps
    yarn_port: int = 0  # the emulated RM's port (0: any free one)


def demo_spec(start_at: float) -> ClusterSpec:
    """One master, two on-demand core nodes, an empty Spot task group; no interruptions, for a steady show."""
    return ClusterSpec(
        pools=(
            group("ig-master", PoolRole.MASTER, Market.ON_DEMAND, 1),
            group("ig-core", PoolRole.CORE, Market.ON_DEMAND, 2),
            group(TASK_POOL, PoolRole.TASK, Market.SPOT, 0),
        ),
        cluster_id=CLUSTER_ID,
        start_at=start_at,
        min_node_age_s=EMR_MIN_NODE_AGE_S,
        interruptions=False,
        resource_calculator="dominant",  # vcores bind: the core nodes run 8 containers (demo_jobs)
    )


def demo_jobs() -> list[Job]:
    """A 36-task job, then a 12-task one: two-GB, one-vcore containers of 2.5 minutes, then a short stage.

    The two core nodes run 8 containers at a time, so most of the burst waits for task nodes.
    """
    specs = [("demo-etl", 0.0, 36), ("demo-report", 5.0, 12)]
    return [
        parse_job(
            {
                "id": name,
                "submit_s": submit_s,
                "am": {"memory_mb": 1024, "vcores": 1},
                "stages": [
                    {"tasks": tasks, "memory_mb": 2048, "vcores": 1, "task_s": 150.0},
                    {"tasks": 2, "memory_mb": 2048, "vcores": 1, "task_s": 30.0},
                ],
            }
        )
        for name, submit_s, tasks in specs
    ]


def daemon_config(yarn_url: str, settings: DemoSettings) -> dict[str, Any]:
    """A daemon config for the emulated cluster; ages and cooldowns are real seconds (emulated / time_scale)."""
    scale = settings.time_scale
    return {
        "dry_run": False,
        "poll_interval_s": settings.poll_interval_s,
        "metrics_port": settings.metrics_port,
        "log_format": "json",
        "clusters": [
            {
                "cluster_id": CLUSTER_ID,
                "region": "us-east-1",
                "yarn": {"urls": [yarn_url], "timeout_s": 2.0},
                "limits": {
                    "min_task_units": 0,
                    "max_task_units": MAX_TASK_UNITS,
                    "max_step_up_units": MAX_TASK_UNITS,
                    "max_step_down_units": MAX_TASK_UNITS,
                },
                "guards": {
                    "cooldown_up_s": 2 * settings.poll_interval_s,
                    "cooldown_down_s": 3 * settings.poll_interval_s,
                    "scale_down_confirmations": 2,
                    "min_node_age_s": EMR_MIN_NODE_AGE_S / scale,
                    "stale_after_s": 30.0,
                },
                "pools": [TASK_POOL],
                "decommission_timeout_s": 300,
                "cloudwatch": False,
                "pricing": {"describe_spot_history": False},
                "policies": [{"type": "pending-demand"}, {"type": "idle-capacity"}],
            }
        ],
    }


def build_cluster(start_at: float, jobs: list[Job] | None = None) -> SimCluster:
    cluster = SimCluster(demo_spec(start_at), PriceBook(load_ondemand_table(), start_at=start_at))
    for job in demo_jobs() if jobs is None else jobs:
        cluster.submit(job)
    return cluster


def daemon_env(emr_url: str) -> dict[str, str]:
    """The daemon's environment: boto3 finds the emulated EMR through AWS_ENDPOINT_URL_EMR; dummy keys."""
    env = dict(os.environ)
    env.update(
        AWS_ENDPOINT_URL_EMR=emr_url,
        AWS_ACCESS_KEY_ID="emulated",
        AWS_SECRET_ACCESS_KEY="emulated",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    return env


@contextmanager
def running_daemon(
    config_path: Path, metrics_port: int, env: dict[str, str], log: TextIO
) -> Iterator[subprocess.Popen[bytes]]:
    cmd = [sys.executable, "-m", "autoscaler.cli", "run", "-c", str(config_path), "--metrics-port", str(metrics_port)]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@dataclass(slots=True)
class Progress:
    """What the timeline has shown so far: the task group's peak and whether it grew and shrank."""

    initial: int = 0
    peak: int = 0
    scaled_up: bool = False
    scaled_in: bool = False

    def see(self, requested: int) -> None:
        self.peak = max(self.peak, requested)
        self.scaled_up = self.scaled_up or requested > self.initial
        self.scaled_in = self.scaled_in or (self.scaled_up and requested < self.peak)


def timeline_line(real_s: float, sim_s: float, snapshot: ClusterSnapshot, jobs_done: int, jobs: int) -> str:
    task = snapshot.pool(TASK_POOL)
    yarn = snapshot.yarn
    pending = yarn.containers_pending if yarn and yarn.containers_pending is not None else 0
    allocated = yarn.containers_allocated if yarn and yarn.containers_allocated is not None else 0
    minutes, seconds = divmod(int(sim_s), 60)
    return (
        f"[{real_s:6.1f}s | cluster {minutes:02d}:{seconds:02d}] task nodes: requested {task.requested.total:2d}"
        f" running {task.running.total:2d} booting {task.provisioning.total:2d}"
        f" draining {task.decommissioning.total:2d} | containers: pending {pending:3d} running {allocated:3d}"
        f" | jobs done {jobs_done}/{jobs}"
    )


def _write_call_lines(calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
    lines = []
    for operation, params in calls:
        for change in params.get("InstanceGroups", []):
            victims = change.get("ShrinkPolicy", {}).get("InstanceResizePolicy", {}).get("InstancesToTerminate", [])
            drain = f", drain {', '.join(victims)}" if victims else ""
            target = f"{change.get('InstanceGroupId')} InstanceCount={change.get('InstanceCount')}"
            lines.append(f"    daemon -> EMR {operation}: {target}{drain}")
        if "InstanceFleet" in params:
            lines.append(f"    daemon -> EMR {operation}: {params['InstanceFleet']}")
    return lines


def _stop_on_sigterm() -> None:
    """SIGTERM (docker stop, kill) ends the demo like Ctrl-C does: the daemon is stopped, not orphaned."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def run_demo(settings: DemoSettings, out: TextIO = sys.stdout) -> int:
    """Run the demo; 0 once a scale-up and a scale-in were seen (or on Ctrl-C with keep_running), else 1."""
    from autoscaler.emulator.server import Emulator  # noqa: PLC0415 - botocore's service model, only for the demo

    _stop_on_sigterm()
    trace = None if settings.trace is None else trace_jobs(settings.trace, demo_spec(0.0))
    if settings.history:
        if trace is None:
            raise SimulateError("--history: give the day to serve with --trace FILE")
        day = finished_day(demo_spec(0.0), trace, MAX_TASK_UNITS, TASK_POOL)
        return serve_history(day, len(trace), settings.yarn_port, out)
    cluster = build_cluster(time.time(), trace)
    jobs = len(demo_jobs() if trace is None else trace)
    with (
        tempfile.TemporaryDirectory(prefix="emr-autoscaler-demo-") as tmp,
        Emulator(cluster, time_scale=settings.time_scale, wall_clock=True, yarn_port=settings.yarn_port) as emu,
    ):
        config_path = Path(tmp) / "demo.yaml"
        data = daemon_config(emu.yarn_url, settings)
        data["clusters"][0]["pricing"]["spot_price_file"] = _spot_prices(Path(tmp), cluster)
        if settings.config is not None:
            data = overlay_config(data, settings.config)
        config_path.write_text(yaml.safe_dump(data, sort_keys=False))
        log_path = Path(tmp) / "daemon.log"
        print(f"emulated YARN RM at {emu.yarn_url}, EMR API at {emu.emr_url} ({settings.time_scale:g}x time)", file=out)
        print(f"daemon metrics at http://127.0.0.1:{settings.metrics_port}/metrics, config {config_path}", file=out)
        with (
            log_path.open("w") as log,
            running_daemon(config_path, settings.metrics_port, daemon_env(emu.emr_url), log) as proc,
        ):
            progress = Progress(initial=cluster.snapshot().pool(TASK_POOL).requested.total)
            ok = _watch(emu, cluster, proc, progress=progress, settings=settings, jobs=jobs, out=out)
        if not ok:
            print(f"--- daemon log tail ({log_path}) ---", file=out)
            print("\n".join(log_path.read_text().splitlines()[-20:]), file=out)
    return 0 if ok else 1


def _spot_prices(folder: Path, cluster: SimCluster) -> str:
    """The emulated cluster's Spot price as a static price file, so the daemon prices its Spot nodes."""
    spot = load_ondemand_table()["m5.xlarge"] * cluster.spec.spot_price_fraction
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    path = folder / "spot.tsv"
    path.write_text(f"us-east-1a\tm5.xlarge\tLinux/UNIX\t{spot:.6f}\t{stamp}\n")
    return str(path)


def _watch(
    emu: Emulator, cluster: SimCluster, proc: subprocess.Popen[bytes], *,
    progress: Progress, settings: DemoSettings, jobs: int, out: TextIO,
) -> bool:  # fmt: skip
    """Print the timeline (a line when something changed) until both resizes were seen or time is up."""
    started, shown_calls, done_at, last = time.monotonic(), 0, None, ""
    try:
        while True:
            time.sleep(settings.poll_interval_s / 2)
            with emu.locked():
                snapshot, jobs_done = cluster.snapshot(), len(cluster.workload.completed)
            real_s = time.monotonic() - started
            calls = emu.emr.write_calls()
            for line in _write_call_lines(calls[shown_calls:]):
                print(line, file=out)
            shown_calls = len(calls)
            line = timeline_line(real_s, snapshot.taken_at - cluster.spec.start_at, snapshot, jobs_done, jobs)
            state = line.split("] ", 1)[1]
            if state != last:
                print(line, file=out, flush=True)
                last = state
            progress.see(snapshot.pool(TASK_POOL).requested.total)
            if emu.error is not None:
                print(f"emulated cluster stopped: {emu.error!r}", file=out)
                return False
            if proc.poll() is not None:
                print(f"daemon exited with code {proc.returncode}", file=out)
                return False
            if progress.scaled_up and progress.scaled_in and done_at is None:
                done_at = real_s
                print(f"scale-up to {progress.peak} and scale-in seen after {real_s:.0f}s", file=out, flush=True)
            if settings.keep_running:
                continue
            if settings.trace or settings.config:  # the operator's workload or policies: done when the work is
                if jobs_done == jobs:
                    print(f"all {jobs} jobs done after {real_s:.0f}s", file=out, flush=True)
                    return True
            elif done_at is not None:
                return True
            if real_s > settings.duration_s:
                what = "the jobs done" if settings.trace or settings.config else "a scale-up and a scale-in"
                print(f"not {what} within {settings.duration_s:g}s", file=out)
                return False
    except KeyboardInterrupt:
        return settings.keep_running or done_at is not None
