"""Cluster isolation in the real daemon process: cluster A's ResourceManager answers slower than a
poll interval (a real HTTP server), cluster B's is healthy; B keeps ticking on time while A's ticks
overrun, are reported, and are not started again while one still runs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from e2e_harness import REGION, Harness, log_events, start_daemon

from autoscaler.testing import FakeYarn, YarnFault, create_emr_cluster

pytestmark = pytest.mark.e2e

POLL_S = 1.0


@pytest.fixture
def second_yarn() -> Iterator[FakeYarn]:
    server = FakeYarn().serve()
    yield server
    server.close()


def _config(harness: Harness, other_id: str, other_yarn: str) -> Path:
    path = harness.config()
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    data["poll_interval_s"] = POLL_S  # round deadline: 0.8 s
    slow = data["clusters"][0]
    slow["yarn"] = {"urls": [harness.yarn.url], "timeout_s": 3}
    data["clusters"].append({**slow, "cluster_id": other_id, "yarn": {"urls": [other_yarn], "timeout_s": 3}})
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_slow_resourcemanager_delays_no_other_cluster(harness: Harness, second_yarn: FakeYarn) -> None:
    client = boto3.client(
        "emr", region_name=REGION, endpoint_url=harness.moto_url, aws_access_key_id="x", aws_secret_access_key="x"
    )
    other = create_emr_cluster(client, task=3, name="isolation-b")
    slow = harness.cluster.cluster_id
    harness.yarn.slow_s = 4.0  # past yarn.timeout_s (3): each of A's ticks takes over 3 s, then is stale
    harness.yarn.inject(YarnFault.SLOW)
    daemon = start_daemon(_config(harness, other, second_yarn.url), harness.env())
    time.sleep(9)
    daemon.terminate()
    _, stderr = daemon.communicate(timeout=30)
    events = log_events(stderr)
    ticks_b = [e for e in events if e.get("event") == "tick" and e.get("cluster") == other]
    assert len(ticks_b) >= 5, f"B ticked {len(ticks_b)} times in ~9 s at a {POLL_S:g} s interval"
    assert all(e["stale"] is False and "error" not in e for e in ticks_b)
    assert max(e["lag_s"] for e in ticks_b) < POLL_S / 2, "B waited for a worker"
    overruns = [e for e in events if e.get("event") == "tick_overrun"]
    skipped = [e for e in events if e.get("event") == "tick_skipped"]
    assert overruns
    assert {e["cluster"] for e in overruns} == {slow}
    assert skipped
    assert {(e["cluster"], e["reason"]) for e in skipped} == {(slow, "still_running")}
    ticks_a = [e for e in events if e.get("event") == "tick" and e.get("cluster") == slow]
    assert all(e["stale"] for e in ticks_a)
    assert len(ticks_a) < len(ticks_b)
