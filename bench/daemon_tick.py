"""Full-tick latency and RSS of the real daemon process against local servers.

Starts what the end-to-end tests use (a moto server for EMR behind the recording proxy, and the
YARN RM REST test server from `tests/e2e/`), creates a cluster with a full core+task fleet and
pending demand, then runs `python -m autoscaler.cli run` until it has logged N `tick` events.
Reports the median and p95 of the ticks' own `duration_s` (the same wall time that feeds
`emr_autoscaler_tick_duration_seconds`, whose buckets are too coarse for a median), the histogram's
mean (over every tick, warm-up included) as a cross-check, and the daemon's RSS after N ticks (`ps -o rss`).

Dry-run by default (every tick plans the same resize and writes nothing, so each tick sees the same
cluster); `--live` lets the daemon write (the first tick grows the group, later ticks hold).

    .venv/bin/python bench/daemon_tick.py --ticks 50 --task-nodes 3
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from autoscaler.testing import create_emr_cluster

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))  # reuse the e2e harness rather than copy it

from e2e_harness import REGION, RecordingProxy, daemon_env, free_port, scrape, write_config  # noqa: E402
from yarn_server import App, Node, YarnServer, YarnState  # noqa: E402


@dataclass(frozen=True, slots=True)
class Result:
    ticks: int
    task_nodes: int
    median_s: float
    p95_s: float
    max_s: float
    histogram_mean_s: float | None
    rss_mb: float
    writes: int
    planned_ticks: int
    emr_operations: tuple[str, ...]


def _cluster(moto_url: str, task_nodes: int) -> tuple[str, list[dict[str, Any]]]:
    """A WAITING cluster (master 1, core 2, Spot task `task_nodes`); its core+task ListInstances rows."""
    client = boto3.client(
        "emr",
        region_name=REGION,
        endpoint_url=moto_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    cid = create_emr_cluster(client, task=task_nodes, name="bench")
    master = {
        g["Id"]
        for g in client.list_instance_groups(ClusterId=cid)["InstanceGroups"]
        if g["InstanceGroupType"] == "MASTER"
    }
    workers = [
        i
        for page in client.get_paginator("list_instances").paginate(ClusterId=cid)
        for i in page["Instances"]
        if i["InstanceGroupId"] not in master
    ]
    return cid, workers


def _busy_with_demand(workers: list[dict[str, Any]]) -> YarnState:
    """Every node full, one app on the first node asking for 10 more 4 GB containers."""
    nodes = [Node(str(i["PrivateDnsName"]), containers=3, used_mb=12288, used_vcores=4) for i in workers]
    app = App("application_1_0001", str(workers[0]["PrivateDnsName"]), pending_containers=10, memory_mb=4096)
    return YarnState(nodes=nodes, apps=[app])


def _tick_events(log: Path) -> list[dict[str, Any]]:
    out = []
    for line in log.read_text().splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("event") == "tick" and "duration_s" in event:
            out.append(event)
    return out


def _histogram_mean(exposition: str | None) -> float | None:
    if not exposition:
        return None
    values = {}
    for line in exposition.splitlines():
        for suffix in ("_sum", "_count"):
            if line.startswith(f"emr_autoscaler_tick_duration_seconds{suffix}{{"):
                values[suffix] = float(line.rsplit(" ", 1)[1])
    if not values.get("_count"):
        return None
    return values["_sum"] / values["_count"]


def _rss_mb(pid: int) -> float:
    out = subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024


def run_bench(ticks: int, task_nodes: int, poll_s: float, live: bool, warmup: int) -> Result:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log would bury the table
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    proxy = RecordingProxy(port)
    yarn = YarnServer()
    try:
        moto_url = f"http://127.0.0.1:{port}"
        cid, workers = _cluster(moto_url, task_nodes)
        yarn.set_state(_busy_with_demand(workers))
        with tempfile.TemporaryDirectory(prefix="bench-daemon-") as tmp:
            metrics_port = free_port()
            config = write_config(
                Path(tmp), cid, yarn.url, metrics_port, limits={"min_task_units": 0, "max_task_units": task_nodes + 20}
            )
            text = config.read_text().replace("dry_run: false", f"dry_run: {str(not live).lower()}")
            config.write_text(text.replace("poll_interval_s: 0.5", f"poll_interval_s: {poll_s}"))
            log = Path(tmp) / "daemon.log"
            cmd = [sys.executable, "-m", "autoscaler.cli", "run", "-c", str(config)]
            with log.open("w") as err:
                proc = subprocess.Popen(cmd, env=daemon_env(moto_url, proxy.url), stderr=err, cwd=REPO)
            try:
                deadline = time.monotonic() + 60 + ticks * (poll_s + 2)
                while len(_tick_events(log)) < ticks + warmup:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"daemon stopped or too slow; log:\n{log.read_text()[-2000:]}")
                    time.sleep(0.1)
                rss = _rss_mb(proc.pid)
                hist_mean = _histogram_mean(scrape(metrics_port))
            finally:
                proc.terminate()
                proc.wait(timeout=15)
            events = _tick_events(log)[warmup : warmup + ticks]
    finally:
        yarn.close()
        proxy.close()
        moto.stop()
    durations = [float(e["duration_s"]) for e in events]
    ordered = sorted(durations)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return Result(
        ticks=len(durations),
        task_nodes=task_nodes,
        median_s=statistics.median(durations),
        p95_s=p95,
        max_s=ordered[-1],
        histogram_mean_s=hist_mean,
        rss_mb=rss,
        writes=len(proxy.writes()),
        planned_ticks=sum(1 for e in events if e.get("plan")),
        emr_operations=tuple(sorted({c.operation for c in proxy.calls})),
    )


def markdown(results: list[Result], live: bool) -> str:
    mode = "live (writes)" if live else "dry-run"
    lines = [
        f"| task nodes | ticks ({mode}) | ticks with a plan | tick median ms | tick p95 ms | tick max ms "
        "| histogram mean ms | RSS MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        mean = "n/a" if r.histogram_mean_s is None else f"{r.histogram_mean_s * 1000:.1f}"
        lines.append(
            f"| {r.task_nodes} | {r.ticks} | {r.planned_ticks} | {r.median_s * 1000:.1f} | {r.p95_s * 1000:.1f} | "
            f"{r.max_s * 1000:.1f} | {mean} | {r.rss_mb:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ticks", type=int, default=50, help="ticks to measure (default 50)")
    parser.add_argument(
        "--task-nodes", type=int, nargs="+", default=[3], help="task group sizes to run, one daemon each (default 3)"
    )
    parser.add_argument("--poll", type=float, default=0.5, help="poll_interval_s of the daemon (default 0.5)")
    parser.add_argument("--warmup", type=int, default=2, help="first ticks not measured (default 2)")
    parser.add_argument("--live", action="store_true", help="let the daemon write (default: dry-run)")
    args = parser.parse_args(argv)
    results = [run_bench(args.ticks, n, args.poll, args.live, args.warmup) for n in args.task_nodes]
    print(markdown(results, args.live))
    ops = ", ".join(results[0].emr_operations)
    print(
        f"\nPython {sys.version.split()[0]}; poll {args.poll:g} s; first {args.warmup} ticks excluded; "
        f"EMR calls seen (moto behind the recording proxy): {ops}; EMR writes: {results[0].writes}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
