"""What `demo` can take from the operator: a trace to run, policies to try, and a finished day to serve.

- `--trace FILE`: the jobs of a trace (any format `simulate` reads) instead of the two built-in ones.
- `--config FILE`: the operator's daemon config; its `dry_run` and its first cluster's `policies`,
  `shadow_policies`, `record_dir` and `recording` replace the demo's. Everything else (the emulated
  RM's address, the cluster id, guards scaled to the time scale) stays the demo's, so the policies
  are tried on the emulated cluster as they would run on a real one.
- `--history`: no daemon. The trace runs to completion at once on the demo cluster with its task
  group held at its maximum, starting a day ago, and the emulated RM then serves those finished
  apps (with the fields `trace import --yarn` reads) at their real times until Ctrl-C: a day's
  history to import, as a real RM keeps it.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Final, TextIO

from autoscaler.config import ConfigError, read_config_file
from autoscaler.prices import load_ondemand_table
from autoscaler.sim.billing import PriceBook
from autoscaler.sim.cluster import SimCluster
from autoscaler.sim.job import Job
from autoscaler.sim.spec import ClusterSpec, group
from autoscaler.sim.trace import load_trace

OVERLAY_CLUSTER_KEYS: Final = ("policies", "shadow_policies", "record_dir", "recording")
HISTORY_LIMIT_S: Final = 7 * 86400.0


def trace_jobs(path: str, spec: ClusterSpec) -> list[Job]:
    """The trace's jobs, converted with the demo cluster's container sizes; TraceError when unreadable."""
    return load_trace(path, model=spec.conversion)


def overlay_config(data: dict[str, Any], path: str) -> dict[str, Any]:
    """The demo's daemon config with the operator's policies (see the module docstring)."""
    theirs = read_config_file(path)
    clusters = theirs.get("clusters") if isinstance(theirs, dict) else None
    if not isinstance(clusters, list) or not clusters or not isinstance(clusters[0], dict):
        raise ConfigError(path, ["clusters: the demo takes the first cluster's policies; there is none"])
    cluster = data["clusters"][0]
    for key in OVERLAY_CLUSTER_KEYS:
        if key in clusters[0]:
            cluster[key] = clusters[0][key]
    if "dry_run" in theirs:
        data["dry_run"] = theirs["dry_run"]
    return data


def finished_day(spec: ClusterSpec, jobs: list[Job], task_units: int, task_pool: str) -> SimCluster:
    """Every job run to completion, submitted from a day ago, on the demo cluster with `task_units` task nodes."""
    pools = tuple(group(p.pool_id, p.role, p.market, task_units) if p.pool_id == task_pool else p for p in spec.pools)
    start_at = float(int(time.time()) - 86400)  # whole seconds: the served milliseconds do not depend on when
    spec = replace(spec, pools=pools, start_at=start_at)
    cluster = SimCluster(spec, PriceBook(load_ondemand_table(), start_at=start_at))
    for job in jobs:
        cluster.submit(job)
    step = 3600.0
    while len(cluster.workload.completed) < len(jobs) and cluster.now - start_at < HISTORY_LIMIT_S:
        cluster.advance_to(cluster.now + step)
    return cluster


def serve_history(cluster: SimCluster, jobs: int, yarn_port: int, out: TextIO) -> int:
    """Serve the finished day's RM (time frozen) until Ctrl-C/SIGTERM; 1 when a job never finished."""
    from autoscaler.emulator.server import Emulator  # noqa: PLC0415 - botocore's service model, only for the demo

    done = cluster.workload.completed
    with Emulator(cluster, time_scale=0, yarn_port=yarn_port) as emu:
        first = min(cluster.spec.start_at + jr.job.submit_s for jr in done) if done else cluster.now
        last = max((jr.finished_at or 0.0) for jr in done) if done else cluster.now
        print(
            f"emulated YARN RM at {emu.yarn_url}: {len(done)} of {jobs} jobs finished (first submitted "
            f"{_utc(first)}, last finished {_utc(last)}); serving them until Ctrl-C",
            file=out,
            flush=True,
        )
        if len(done) < jobs:
            print(f"{jobs - len(done)} jobs did not finish within {HISTORY_LIMIT_S / 86400:g} days", file=out)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0 if len(done) == jobs else 1


def _utc(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
