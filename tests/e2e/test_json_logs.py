"""Issue 11, item 3: with `log_format: json` every line the daemon writes is JSON, including what
libraries log through stdlib logging. APScheduler's "skipped: maximum number of running instances
reached" used to be a plain-text line; since ticks run on a worker pool with a round deadline below
the interval, APScheduler no longer skips runs, so this drives another library's stdlib logging that
still happens: urllib3's `InsecureRequestWarning` (captured through `logging.captureWarnings`) when
`yarn.verify_tls: false` meets an HTTPS RM."""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
import time
from pathlib import Path

import pytest
from e2e_harness import Harness, start_daemon, wait_for

from autoscaler.serving import HttpServer, allow_head, endpoint
from autoscaler.testing import make_node

pytestmark = pytest.mark.e2e


def test_every_output_line_is_json_even_from_libraries(harness: Harness, tls_cert: tuple[ssl.SSLContext, Path]) -> None:
    cluster = harness.cluster
    harness.yarn.set([make_node(str(i["PrivateDnsName"])) for i in cluster.core_instances + cluster.task_instances])
    context, _ = tls_cert
    # the same fake RM, answered over HTTPS with a certificate the daemon is told not to verify
    https = HttpServer(
        allow_head(endpoint(lambda request: harness.yarn.answer(request.target, request.method))),
        tls=context,
        name="fake-yarn-tls",
    )
    url = f"https://127.0.0.1:{https.port}"
    config = harness.config(yarn_url=url, yarn={"urls": [url], "timeout_s": 2, "verify_tls": False})
    proc = start_daemon(config, harness.env(), stdout=subprocess.PIPE)
    try:
        assert wait_for(lambda: len(harness.yarn.calls) >= 5, timeout=30), "the daemon never read YARN"
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=30)
        https.close()
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
    warned = [e for e in events if "InsecureRequestWarning" in e["event"]]
    assert warned, f"urllib3 never warned about the unverified HTTPS RM: {[e['event'] for e in events]}"
    assert all(e["logger"] == "py.warnings" and e["level"] == "warning" for e in warned)
    assert any(e["event"] == "tick" for e in events)
