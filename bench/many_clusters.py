"""Many clusters from one daemon process, and the same clusters across replicas (issue 11).

Everything the daemon talks to is real HTTP on this machine: a moto server process (EMR, EC2 Spot
prices, CloudWatch, DynamoDB for the lease table) with the e2e tests' recording proxy in front of its
EMR endpoint (it answers GetManagedScalingPolicy, which moto lacks), and one HTTP server in this
process serving a `FakeYarn` ResourceManager per cluster under `/c/<cluster id>` (each with the
cluster's own core and task nodes, busy, half of them with pending demand). The daemon(s) run as
`python -m autoscaler.cli run` with the real sources, dry-run (every tick plans, nothing is written).

Measured over the run after the first round (start-up and first client connections excluded):
- tick lag: each `tick` event's `lag_s` (the wait for a worker after its round began): p50, p99, max;
- tick duration (`duration_s`) p50/p99, overruns and skipped ticks;
- CPU: the daemon process's utime+stime from /proc over the window, per cluster-tick and as % of a core;
- RSS: the daemon's VmRSS at the end (and its peak, VmHWM).

    .venv/bin/python bench/many_clusters.py --clusters 200 --poll 30 --minutes 3
    .venv/bin/python bench/many_clusters.py --clusters 200 --poll 30 --minutes 3 --replicas 3
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import yaml

from autoscaler.model import Resources
from autoscaler.serving import HttpServer, Request, Response, endpoint
from autoscaler.testing import FakeYarn, create_emr_cluster, create_lease_table, make_app, make_node

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "e2e"), str(REPO / "tests")]  # reuse the e2e harness (and its imports)

from e2e_harness import REGION, daemon_env, free_port, log_events, recording_proxy  # noqa: E402

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    proc.wait()
    raise RuntimeError("moto server did not start")


def _clusters(moto_url: str, n: int) -> dict[str, FakeYarn]:
    """`n` EMR clusters (master 1, core 2, Spot task 2) and a busy fake RM for each."""
    emr = boto3.client("emr", region_name=REGION, endpoint_url=moto_url, **KEYS)
    fakes: dict[str, FakeYarn] = {}
    for i in range(n):
        cid = create_emr_cluster(emr, core=2, task=2, name=f"bench-{i}")
        hosts = [
            str(inst["PrivateDnsName"])
            for inst in emr.list_instances(ClusterId=cid)["Instances"]
            if inst.get("PrivateDnsName")
        ]
        nodes = [make_node(h, containers=3, used=Resources(12288, 4)) for h in hosts[1:]]
        apps = [make_app(f"application_{i}_0001", am_host=hosts[1], pending=4 * (i % 2), memory_mb=4096)]
        fakes[cid] = FakeYarn(nodes, apps)
    return fakes


def _yarn_router(fakes: dict[str, FakeYarn]) -> HttpServer:
    def handle(request: Request) -> Response:
        _, _, cid, rest = request.target.split("/", 3)
        return fakes[cid].answer("/" + rest, request.method)

    return HttpServer(endpoint(handle), name="yarn-router")


def _config(path: Path, yarn_url: str, ids: list[str], *, poll: float, workers: int, table: str | None) -> Path:
    cluster = {
        "region": REGION,
        "limits": {"min_task_units": 1, "max_task_units": 20},
        "policies": [{"type": "pending-demand"}, {"type": "idle-capacity"}],
    }
    data: dict[str, Any] = {
        "dry_run": True,
        "poll_interval_s": poll,
        "log_format": "json",
        "max_concurrent_clusters": workers,
        "clusters": [{**cluster, "cluster_id": cid, "yarn": {"urls": [f"{yarn_url}/c/{cid}"]}} for cid in ids],
    }
    if table is not None:
        data["ha"] = {"lease_table": table, "lease_duration_s": 3 * poll}
    path.write_text(yaml.safe_dump(data))
    return path


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S  # utime, stime


def _status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def run(clusters: int, *, poll: float, minutes: float, replicas: int, workers: int, out: Path) -> dict[str, Any]:
    moto, moto_url = _moto()
    proxy = recording_proxy(int(moto_url.rsplit(":", 1)[1]))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        fakes = _clusters(moto_url, clusters)
        router = _yarn_router(fakes)
        table = None
        if replicas > 1:
            table = create_lease_table(boto3.client("dynamodb", region_name=REGION, endpoint_url=moto_url, **KEYS))
        config = _config(out / "config.yaml", router.url, list(fakes), poll=poll, workers=workers, table=table)
        env = daemon_env(moto_url, proxy.url)
        logs = [out / f"daemon-{i}.log" for i in range(replicas)]
        for log in logs:
            env = {**env, "EMR_AUTOSCALER_METRICS_PORT": str(free_port())}  # each replica its own port
            with log.open("wb") as err:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "autoscaler.cli", "run", "-c", str(config)],
                        env=env,
                        stderr=err,
                        cwd=REPO,
                    )
                )
        started = time.monotonic()
        time.sleep(poll + 5)  # the first round (start-up, first connections) is not measured
        cpu0 = {p.pid: _cpu_s(p.pid) for p in procs}
        window_start = time.time()
        time.sleep(max(0.0, minutes * 60 - (time.monotonic() - started)))
        cpu1 = {p.pid: _cpu_s(p.pid) for p in procs}
        window_s = time.time() - window_start
        rss = {p.pid: (_status_mb(p.pid, "VmRSS"), _status_mb(p.pid, "VmHWM")) for p in procs}
        load = os.getloadavg()
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=120)
        router.close()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        proxy.close()
        moto.kill()
        moto.wait()
    return _report(procs, logs, cpu0, cpu1, rss, window_start, window_s, load, clusters, poll, replicas, workers)


def _report(  # noqa: PLR0917
    procs: list[subprocess.Popen[bytes]],
    logs: list[Path],
    cpu0: dict[int, float],
    cpu1: dict[int, float],
    rss: dict[int, tuple[float, float]],
    window_start: float,
    window_s: float,
    load: tuple[float, float, float],
    clusters: int,
    poll: float,
    replicas: int,
    workers: int,
) -> dict[str, Any]:
    per: list[dict[str, Any]] = []
    lags: list[float] = []
    durations: list[float] = []
    for proc, log in zip(procs, logs, strict=True):
        events = log_events(log.read_text())
        measured = [e for e in events if e.get("event") == "tick" and _ts(e) >= window_start and "lag_s" in e]
        lags += [e["lag_s"] for e in measured]
        durations += [e["duration_s"] for e in measured]
        cpu = cpu1[proc.pid] - cpu0[proc.pid]
        per.append(
            {
                "ticks": len(measured),
                "clusters_led": len({e["cluster"] for e in measured}),
                "cpu_s": round(cpu, 2),
                "cpu_pct_of_core": round(100 * cpu / window_s, 1),
                "cpu_ms_per_cluster_tick": round(1000 * cpu / max(1, len(measured)), 1),
                "rss_mb": round(rss[proc.pid][0], 1),
                "peak_rss_mb": round(rss[proc.pid][1], 1),
                "overruns": sum(1 for e in events if e.get("event") == "tick_overrun"),
                "skipped": sum(1 for e in events if e.get("event") == "tick_skipped"),
                "errors": sum(1 for e in events if e.get("event") == "tick" and "error" in e),
                "stale": sum(1 for e in measured if e.get("stale")),
            }
        )
    return {
        "clusters": clusters,
        "poll_interval_s": poll,
        "replicas": replicas,
        "max_concurrent_clusters": workers,
        "window_s": round(window_s, 1),
        "cluster_ticks": len(lags),
        "lag_s": {"p50": round(_pct(lags, 50), 3), "p99": round(_pct(lags, 99), 3), "max": round(max(lags), 3)},
        "duration_s": {"p50": round(_pct(durations, 50), 3), "p99": round(_pct(durations, 99), 3)},
        "cpu_ms_per_cluster_tick": round(1000 * sum(p["cpu_s"] for p in per) / max(1, len(lags)), 1),
        "per_process": per,
        "load_average": [round(x, 2) for x in load],
        "cpus": os.cpu_count(),
    }


def _ts(event: dict[str, Any]) -> float:
    from datetime import datetime  # noqa: PLC0415

    return datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00")).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clusters", type=int, default=200)
    parser.add_argument("--poll", type=float, default=30.0)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--workers", type=int, default=8, help="max_concurrent_clusters")
    parser.add_argument("--out", type=Path, default=None, help="folder for the config and daemon logs")
    args = parser.parse_args()
    out = args.out or Path(f"/tmp/many-clusters-{args.clusters}x{args.replicas}")
    out.mkdir(parents=True, exist_ok=True)
    print(
        json.dumps(
            run(
                args.clusters,
                poll=args.poll,
                minutes=args.minutes,
                replicas=args.replicas,
                workers=args.workers,
                out=out,
            ),
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
