"""A real Prometheus scrapes the running daemon; promtool accepts the exposition."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from e2e_harness import REPO, Harness, free_port, scrape, wait_for

from autoscaler.testing import make_node

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.prometheus,
    pytest.mark.skipif(
        not (PROMETHEUS and PROMTOOL),
        reason="prometheus/promtool binaries not found (Debian: apt-get install prometheus)",
    ),
]


def _query(port: int, expr: str) -> list[dict[str, object]]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            body = json.loads(resp.read())
    except OSError:
        return []
    result = body.get("data", {}).get("result", [])
    return list(result) if body.get("status") == "success" else []


def test_real_prometheus_scrapes_the_daemon_and_promtool_accepts_it(harness: Harness, tmp_path: Path) -> None:
    """Prometheus ingests emr_autoscaler_dry_run from the live daemon; `promtool check metrics` passes."""
    nodes = [
        make_node(str(i["PrivateDnsName"])) for i in harness.cluster.core_instances + harness.cluster.task_instances
    ]
    harness.yarn.set(nodes)
    metrics_port, prom_port = free_port(), free_port()
    config = harness.config(metrics_port)
    prom_config = tmp_path / "prometheus.yml"
    prom_config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: emr-autoscaler\n    static_configs: [{{targets: ['127.0.0.1:{metrics_port}']}}]\n"
    )
    daemon = subprocess.Popen(
        [sys.executable, "-m", "autoscaler.cli", "run", "-c", str(config), "--dry-run"],
        env=harness.env(),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    prometheus = subprocess.Popen(
        [
            str(PROMETHEUS),
            f"--config.file={prom_config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        text = wait_for(lambda: (t := scrape(metrics_port)) and "emr_autoscaler_tick_duration_seconds_count" in t and t)
        assert text, "daemon never exported a tick"
        check = subprocess.run(
            [str(PROMTOOL), "check", "metrics"], input=text, capture_output=True, text=True, timeout=30, check=False
        )
        assert check.returncode == 0, check.stdout + check.stderr
        assert check.stdout.strip() == "", f"promtool lint findings: {check.stdout}"
        result = wait_for(lambda: _query(prom_port, "emr_autoscaler_dry_run"), timeout=30, every=0.5)
        assert result, "Prometheus never returned emr_autoscaler_dry_run"
        assert result[0]["value"][1] == "1"
    finally:
        prometheus.send_signal(signal.SIGTERM)
        daemon.send_signal(signal.SIGTERM)
        prometheus.wait(timeout=20)
        assert daemon.wait(timeout=20) == 0
