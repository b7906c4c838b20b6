"""High availability with real daemon processes sharing a lease table on moto's DynamoDB (server mode).

- SIGKILL the leader of three: a standby takes over within two lease periods, continues from the
  memory the leader saved (its scale-up cooldown still holds), and each decision is written once.
- SIGSTOP the leader of two after it has read the cluster and before it writes (the classic stale
  leader): the standby takes over and writes; the paused leader, resumed, is fenced and writes nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from e2e_harness import REGION, EmrCluster, Harness, log_events, start_daemon, wait_for

from autoscaler.lease import DynamoLeases
from autoscaler.model import NodeInfo, Resources
from autoscaler.testing import create_lease_table, make_app, make_node

pytestmark = pytest.mark.e2e

LEASE_S = 3.0  # >= 2 x poll_interval_s (0.5)
TABLE = "leases"


def _dynamodb(moto_url: str) -> Any:
    return boto3.client(
        "dynamodb",
        region_name=REGION,
        endpoint_url=moto_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def leases(harness: Harness) -> DynamoLeases:
    """The test's view of the lease table (a fresh table per test)."""
    client = _dynamodb(harness.moto_url)
    table = f"{TABLE}-{harness.cluster.cluster_id}"
    create_lease_table(client, table)
    return DynamoLeases(client, table, "the-test", LEASE_S)


def _config(harness: Harness, leases: DynamoLeases, **cluster: Any) -> Path:
    path = harness.config(**cluster)
    data = yaml.safe_load(path.read_text())
    data["ha"] = {"lease_table": leases.table, "lease_duration_s": LEASE_S}
    path.write_text(yaml.safe_dump(data))
    return path


def _busy(cluster: EmrCluster) -> list[NodeInfo]:
    return [
        make_node(str(i["PrivateDnsName"]), containers=3, used=Resources(12288, 4))
        for i in cluster.core_instances + cluster.task_instances
    ]


def _demand(harness: Harness, containers: int) -> None:
    am = str(harness.cluster.core_instances[0]["PrivateDnsName"])
    app = make_app("application_1_0001", am_host=am, pending=containers, memory_mb=4096)
    harness.yarn.set(_busy(harness.cluster), [app])


def _holder_pid(leases: DynamoLeases, cluster_id: str) -> int | None:
    lease = leases.read(cluster_id)
    return int(lease.holder.split(":")[1]) if lease is not None else None


@pytest.fixture
def daemons() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGCONT)
            p.kill()
        p.communicate(timeout=30)


def _stop(proc: subprocess.Popen[str]) -> list[dict[str, Any]]:
    """SIGTERM (after SIGCONT), wait, and return the process's log events."""
    os.kill(proc.pid, signal.SIGCONT)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    return log_events(stderr)


def test_sigkill_of_the_leader_fails_over_with_its_memory_and_no_double_write(
    harness: Harness, leases: DynamoLeases, daemons: list[subprocess.Popen[str]]
) -> None:
    cluster, proxy = harness.cluster, harness.proxy
    _demand(harness, 10)  # 3 -> 7 task nodes
    # a cooldown well past the failover (<= lease + two ticks = 4 s after the kill), even on a loaded machine
    cooldown = 12
    config = _config(harness, leases, guards={"cooldown_up_s": cooldown, "cooldown_down_s": 0, "min_node_age_s": 0})
    daemons += [start_daemon(config, harness.env()) for _ in range(3)]
    assert wait_for(lambda: len(proxy.writes()) >= 1, timeout=40), "no replica scaled up"
    first_write_at = time.time()
    leader_pid = _holder_pid(leases, cluster.cluster_id)
    (leader,) = [p for p in daemons if p.pid == leader_pid]
    time.sleep(3 * 0.5)  # a few more ticks of everyone: nobody writes the same decision again
    assert len(proxy.writes()) == 1
    token = leases.read(cluster.cluster_id).token  # type: ignore[union-attr]

    leader.kill()
    killed_at = time.time()
    leader.communicate(timeout=30)
    _demand(harness, 22)  # 7 -> 10 (the max): a new decision, wanted at once
    assert wait_for(lambda: (leases.read(cluster.cluster_id) or leases).token > token, timeout=4 * LEASE_S)  # type: ignore[union-attr]
    failover_s = time.time() - killed_at
    assert failover_s <= 2 * LEASE_S + 0.5, f"failover took {failover_s:.1f}s"
    assert wait_for(lambda: len(proxy.writes()) >= 2, timeout=20), "the new leader never scaled up"
    second_write_at = time.time()
    time.sleep(1.0)
    first, second = proxy.writes()
    assert first.body["InstanceGroups"][0]["InstanceCount"] == 7
    assert second.body["InstanceGroups"][0]["InstanceCount"] == 10
    # the old leader's scale-up cooldown carried over in the lease's memory: not written before it ended
    assert second_write_at - first_write_at >= cooldown - 1.0

    survivors = [p for p in daemons if p is not leader]
    events = [e for p in survivors for e in _stop(p)]
    released = leases.read(cluster.cluster_id)
    assert released is not None
    assert released.expires_at <= time.time(), "a clean shutdown gives the lease up at once"
    new_leader_ticks = [e for e in events if e.get("event") == "tick"]
    assert any(r["reason"] == "cooldown_up" for e in new_leader_ticks for r in e.get("rejections", [])), (
        "the new leader did not know the old one's cooldown"
    )
    assert any(e.get("event") == "standby" for e in events)
    applied = [o for e in new_leader_ticks for o in e.get("outcomes", []) if o["status"] == "applied"]
    assert len(applied) == 1


def test_sigstop_between_read_and_write_fences_the_stale_leader(
    harness: Harness, leases: DynamoLeases, daemons: list[subprocess.Popen[str]]
) -> None:
    cluster, proxy = harness.cluster, harness.proxy
    _demand(harness, 10)
    proxy.hold = "GetManagedScalingPolicy"  # the last read of the leader's first tick: it has read, not written
    config = _config(harness, leases)
    daemons += [start_daemon(config, harness.env()) for _ in range(2)]
    assert proxy.holding.wait(40), "no replica read the cluster"
    stale = next(p for p in daemons if p.pid == _holder_pid(leases, cluster.cluster_id))
    os.kill(stale.pid, signal.SIGSTOP)
    proxy.release.set()  # its answer waits in the paused process's socket
    assert wait_for(lambda: len(proxy.writes()) >= 1, timeout=6 * LEASE_S), "the standby never took over"
    assert _holder_pid(leases, cluster.cluster_id) != stale.pid

    os.kill(stale.pid, signal.SIGCONT)  # it resumes holding a snapshot that says "add 4 nodes"
    time.sleep(1.5)
    stale_events = _stop(stale)
    (write,) = proxy.writes()
    assert write.body["InstanceGroups"][0]["InstanceCount"] == 7
    ticks = [e for e in stale_events if e.get("event") == "tick"]
    outcomes = [o["status"] for e in ticks for o in e.get("outcomes", [])]
    assert outcomes[:1] == ["fenced"], stale_events
    assert "applied" not in outcomes


def test_sigkill_in_the_middle_of_the_write_is_not_written_again(
    harness: Harness, leases: DynamoLeases, daemons: list[subprocess.Popen[str]]
) -> None:
    """The leader dies while its ModifyInstanceGroups is in flight, and EMR applies it anyway: the new
    leader, without that tick's memory, re-reads 7 requested and writes nothing more."""
    cluster, proxy = harness.cluster, harness.proxy
    _demand(harness, 10)
    proxy.hold = "ModifyInstanceGroups"
    daemons += [start_daemon(_config(harness, leases), harness.env()) for _ in range(2)]
    assert proxy.holding.wait(40), "no replica wrote"
    leader = next(p for p in daemons if p.pid == _holder_pid(leases, cluster.cluster_id))
    leader.kill()
    leader.communicate(timeout=30)
    proxy.release.set()  # the request reaches moto after its sender died: applied, never answered
    assert wait_for(lambda: _holder_pid(leases, cluster.cluster_id) not in (None, leader.pid), timeout=4 * LEASE_S)
    assert wait_for(lambda: cluster.task_requested() == 7, timeout=10)
    time.sleep(2.0)  # several ticks of the new leader on the same demand
    (survivor,) = [p for p in daemons if p is not leader]
    events = _stop(survivor)
    assert len(proxy.writes()) == 1
    ticks = [e for e in events if e.get("event") == "tick"]
    assert ticks, events
    assert not [o for e in ticks for o in e.get("outcomes", []) if o["status"] == "applied"]
