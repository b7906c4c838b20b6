"""Issue 11, item 3: with `log_format: json` every line the daemon writes is JSON, including what
libraries log through stdlib logging. A slow RM makes ticks overrun the interval, so APScheduler
logs "skipped: maximum number of running instances reached", which used to be a plain-text line."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest
from e2e_harness import Harness, start_daemon, wait_for

from autoscaler.testing import make_node

pytestmark = pytest.mark.e2e


def test_every_output_line_is_json_even_from_apscheduler(harness: Harness) -> None:
    cluster = harness.cluster
    harness.yarn.set([make_node(str(i["PrivateDnsName"])) for i in cluster.core_instances + cluster.task_instances])
    harness.yarn.slow_s = 0.3
    harness.yarn.inject("slow")
    config = harness.config()
    proc = start_daemon(config, harness.env(), stdout=subprocess.PIPE)
    try:
        # a tick reads four endpoints at 0.3 s each against a 0.5 s interval: runs get skipped
        assert wait_for(lambda: len(harness.yarn.calls) >= 5, timeout=30), "the daemon never read YARN"
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    events = []
    for stream, text in (("stdout", stdout), ("stderr", stderr)):
        for n, line in enumerate(text.splitlines(), 1):
            try:
                event = json.loads(line)
            except ValueError:
                pytest.fail(f"{stream} line {n} is not JSON: {line!r}")
            assert isinstance(event, dict), line
            assert {"event", "level", "timestamp"} <= event.keys(), line
            events.append(event)
    skipped = [e for e in events if "maximum number of running instances reached" in e["event"]]
    assert skipped, f"APScheduler never skipped a run: {[e['event'] for e in events]}"
    assert all(e["logger"].startswith("apscheduler") and e["level"] == "warning" for e in skipped)
    assert any(e["event"] == "tick" for e in events)
