"""Issue 11, security: no credential, token or URL userinfo ever shows in the daemon's logs, its
metrics, its debug document or `explain`. Secrets are planted in every place an operator puts one
(AWS keys and session token, user:password in the RM URL, the metrics password file), the real
daemon runs through a good tick and a YARN outage, and every output is scanned."""

from __future__ import annotations

import base64
import signal
import urllib.request
from pathlib import Path

import pytest
import yaml
from e2e_harness import Harness, free_port, run_cli, start_daemon, wait_for

from autoscaler.model import Resources
from autoscaler.testing import YarnFault, make_app, make_node

pytestmark = pytest.mark.e2e

SECRETS = {
    "AWS_SECRET_ACCESS_KEY": "PlantedSecretAccessKey0123456789abcdefXYZ",
    "AWS_SESSION_TOKEN": "PlantedSessionToken0123456789abcdefXYZ",
}
RM_USER, RM_PASSWORD = "planted-rm-user", "PlantedRmPassword42"
METRICS_PASSWORD = "PlantedMetricsPassword42"
PLANTED = [
    *SECRETS.values(),
    RM_PASSWORD,
    METRICS_PASSWORD,
    base64.b64encode(f"prom:{METRICS_PASSWORD}".encode()).decode(),
]


def _get(url: str, auth: str | None = None) -> str:
    headers = {"Authorization": f"Basic {auth}"} if auth else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as resp:
            return str(resp.read().decode())
    except OSError as err:
        return str(err)


def test_planted_secrets_never_appear_in_any_output(harness: Harness, tmp_path: Path) -> None:
    cluster = harness.cluster
    busy = [make_node(str(i["PrivateDnsName"]), containers=3, used=Resources(12288, 4)) for i in cluster.core_instances]
    busy += [make_node(str(i["PrivateDnsName"])) for i in cluster.task_instances]
    harness.yarn.set(busy, [make_app("application_1_0001", am_host=str(cluster.core_instances[0]["PrivateDnsName"]))])
    password_file = tmp_path / "metrics-password"
    password_file.write_text(METRICS_PASSWORD + "\n")
    port = free_port()
    rm_url = harness.yarn.url.replace("http://", f"http://{RM_USER}:{RM_PASSWORD}@")
    config = harness.config(port, rm_url)
    data = yaml.safe_load(config.read_text())
    data["metrics_basic_auth"] = {"username": "prom", "password_file": str(password_file)}
    config.write_text(yaml.safe_dump(data))
    env = {**harness.env(), **SECRETS}
    token = base64.b64encode(f"prom:{METRICS_PASSWORD}".encode()).decode()

    outputs: dict[str, str] = {}
    proc = start_daemon(config, env)
    try:
        assert wait_for(lambda: "emr_autoscaler_ticks_total" in _get(f"http://127.0.0.1:{port}/metrics", token))
        harness.yarn.inject(YarnFault.GARBAGE)  # errors name the RM: with its password?
        stale = f'emr_autoscaler_snapshot_stale{{cluster="{cluster.cluster_id}"}} 1.0'
        assert wait_for(lambda: stale in _get(f"http://127.0.0.1:{port}/metrics", token))
        outputs["metrics"] = _get(f"http://127.0.0.1:{port}/metrics", token)
        outputs["debug"] = _get(f"http://127.0.0.1:{port}/debug/decision", token)
        outputs["readyz"] = _get(f"http://127.0.0.1:{port}/readyz")
        for fmt in ([], ["--json"]):
            done = run_cli(env, "explain", "-c", str(config), *fmt)
            outputs[f"explain{fmt}"] = done.stdout + done.stderr
        harness.yarn.inject(None)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    outputs["daemon stderr"], outputs["daemon stdout"] = err, out or ""
    assert "tick" in err
    leaks = [(where, secret) for where, text in outputs.items() for secret in PLANTED if secret in text]
    assert leaks == [], leaks
    assert RM_USER not in "".join(outputs.values()), "URL userinfo (even the user) stays out of outputs"
