"""Clusters spread across replicas through the lease table (moto's DynamoDB, server mode), with three
real daemon processes and six clusters: every cluster led, none by two, two each; SIGKILL of one
replica and its clusters are led by the other two, three each, within two lease periods."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from e2e_harness import REGION, REPO, Harness, free_port, scrape, wait_for

from autoscaler.lease import DynamoLeases
from autoscaler.testing import create_emr_cluster, create_lease_table

pytestmark = pytest.mark.e2e

LEASE_S = 4.0
POLL_S = 1.0  # six clusters on each of three replicas, all on moto and one fake RM: keep the machine unloaded
CLUSTERS = 6


@pytest.fixture
def replicas() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=30)


def _start(config: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A replica whose log goes to a file: six clusters' tick events would fill a pipe nobody reads."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "autoscaler.cli", "run", "-c", str(config)], env=env, cwd=REPO, stderr=out
        )


def _setup(harness: Harness) -> tuple[Path, DynamoLeases, list[str]]:
    keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    emr = boto3.client("emr", region_name=REGION, endpoint_url=harness.moto_url, **keys)
    ids = [harness.cluster.cluster_id] + [create_emr_cluster(emr, name=f"spread-{i}") for i in range(CLUSTERS - 1)]
    dynamodb = boto3.client("dynamodb", region_name=REGION, endpoint_url=harness.moto_url, **keys)
    table = create_lease_table(dynamodb, f"spread-{harness.cluster.cluster_id}")
    path = harness.config()
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    one = data["clusters"][0]
    data["dry_run"] = True
    data["poll_interval_s"] = POLL_S
    data["clusters"] = [{**one, "cluster_id": cid} for cid in ids]  # one fake RM serves them all
    data["ha"] = {"lease_table": table, "lease_duration_s": LEASE_S}
    path.write_text(yaml.safe_dump(data))
    return path, DynamoLeases(dynamodb, table, "the-test", LEASE_S), ids


def _holders(leases: DynamoLeases, ids: list[str]) -> dict[str, int | None]:
    """Each cluster's lease holder's pid (None: free or released)."""
    out: dict[str, int | None] = {}
    for cid in ids:
        lease = leases.read(cid)
        out[cid] = int(lease.holder.split(":")[1]) if lease is not None and lease.holder else None
    return out


def _spread(leases: DynamoLeases, ids: list[str], pids: set[int], each: int) -> bool:
    holders = _holders(leases, ids)
    return set(holders.values()) <= pids and sorted(Counter(holders.values()).values()) == [each] * len(pids)


def _led_by(port: int) -> set[str]:
    """The clusters whose lease_held gauge is 1 on the replica serving `port`."""
    text = scrape(port) or ""
    lines = [ln for ln in text.splitlines() if ln.startswith("emr_autoscaler_lease_held{")]
    return {ln.split('cluster="')[1].split('"')[0] for ln in lines if ln.endswith(" 1.0")}


def test_replicas_share_the_clusters_and_a_killed_ones_are_taken_over(
    harness: Harness, replicas: list[subprocess.Popen[bytes]]
) -> None:
    config, leases, ids = _setup(harness)
    ports = [free_port() for _ in range(3)]
    for i, port in enumerate(ports):
        env = {**harness.env(), "EMR_AUTOSCALER_METRICS_PORT": str(port)}
        replicas.append(_start(config, env, harness.tmp_path / f"replica-{i}.log"))
    pids = {p.pid for p in replicas}
    assert wait_for(lambda: _spread(leases, ids, pids, 2), timeout=60, every=0.5), _holders(leases, ids)

    # each replica leads exactly the clusters whose lease it holds, and no cluster has two leaders
    time.sleep(2 * POLL_S)
    led = [_led_by(port) for port in ports]
    assert sorted(len(s) for s in led) == [2, 2, 2]
    assert set().union(*led) == set(ids)

    victim = replicas[0]
    victim.kill()
    killed_at = time.monotonic()
    victim.wait(timeout=30)
    survivors = pids - {victim.pid}
    assert wait_for(lambda: _spread(leases, ids, survivors, 3), timeout=6 * LEASE_S, every=0.2), _holders(leases, ids)
    took = time.monotonic() - killed_at
    assert took <= 2 * LEASE_S + 1.0, f"redistribution took {took:.1f}s (> two lease periods)"
    time.sleep(2 * POLL_S)
    led = [_led_by(port) for port in ports[1:]]
    assert sorted(len(s) for s in led) == [3, 3]
    assert set().union(*led) == set(ids)
    for proc in replicas[1:]:
        os.kill(proc.pid, signal.SIGTERM)
