"""The daemon's HTTP endpoints on a real local server: metrics, probes, debug, HEAD, TLS and basic auth."""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from autoscaler.cli import main
from autoscaler.config import AppConfig, parse_config
from autoscaler.metrics import Health, Metrics, MetricsServer
from autoscaler.metrics_server import LIVE_INTERVALS, server_security


def _get(url: str, method: str = "GET", headers: dict[str, str] | None = None, **kw: object) -> tuple[int, bytes]:
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5, **kw) as resp:  # type: ignore[arg-type]
            return int(resp.status), bytes(resp.read())
    except urllib.error.HTTPError as err:
        with err:
            return int(err.code), bytes(err.read())


@pytest.fixture
def clock() -> list[float]:
    return [0.0]


@pytest.fixture
def health() -> Health:
    return Health(poll_interval_s=1, clusters=("j-A",), started_at=0)


@pytest.fixture
def server(clock: list[float], health: Health) -> Iterator[MetricsServer]:
    m = Metrics()
    m.set_dry_run(True)
    s = MetricsServer(m, health, lambda: clock[0], "127.0.0.1", 0, debug=lambda: {"cluster": "j-A", "cooldown": 3.5})
    yield s
    s.close()


def test_metrics_and_readiness(server: MetricsServer, clock: list[float]) -> None:
    """/metrics is the exposition; /readyz and its old name /healthz go 503 after 3 intervals; others 404."""
    status, body = _get(server.url + "/metrics")
    assert status == 200
    assert b"emr_autoscaler_dry_run 1.0" in body
    assert b"process_resident_memory_bytes" in body
    for path in ("/readyz", "/healthz"):
        assert _get(server.url + path) == (200, b"ok\n")
    clock[0] = 10.0
    for path in ("/readyz", "/healthz"):
        status, body = _get(server.url + path)
        assert status == 503
        assert b"never" in body
    status, body = _get(server.url + "/nope")
    assert status == 404
    assert b"/livez" in body


def test_liveness_survives_an_outage_but_not_a_dead_scheduler(
    server: MetricsServer, clock: list[float], health: Health
) -> None:
    """Stale ticks (YARN down) keep /livez 200 while /readyz is 503; no tick at all for 10 intervals fails it."""
    for t in range(1, 20):
        clock[0] = float(t)
        health.problem("j-A", "stale snapshot: yarn: connection refused", at=clock[0])
    assert _get(server.url + "/readyz")[0] == 503
    assert _get(server.url + "/livez") == (200, b"ok\n")
    clock[0] += LIVE_INTERVALS + 1
    status, body = _get(server.url + "/livez")
    assert status == 503
    assert b"no tick finished" in body


def test_head_is_allowed_everywhere(server: MetricsServer) -> None:
    """HEAD /metrics (and the probes) answer like GET with no body; before this /metrics said 501."""
    for path in ("/metrics", "/livez", "/readyz"):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("HEAD", path)
        resp = conn.getresponse()
        assert resp.status == 200, path
        assert int(resp.headers["Content-Length"]) > 0
        assert resp.read() == b""
        conn.close()


def test_debug_decision_is_the_providers_json(server: MetricsServer, clock: list[float], health: Health) -> None:
    """/debug/decision serves what the provider returns; without a provider it is 404."""
    status, body = _get(server.url + "/debug/decision")
    assert status == 200
    assert json.loads(body) == {"cluster": "j-A", "cooldown": 3.5}
    bare = MetricsServer(Metrics(), health, lambda: clock[0], "127.0.0.1", 0)
    try:
        assert _get(bare.url + "/debug/decision")[0] == 404
    finally:
        bare.close()


def test_binds_only_the_configured_address(health: Health) -> None:
    """127.0.0.1 is served on loopback; the port is then taken for that address."""
    s = MetricsServer(Metrics(), health, lambda: 0.0, "127.0.0.1", 0)
    try:
        assert s.url.startswith("http://127.0.0.1:")
        with pytest.raises(OSError, match="in use"):
            MetricsServer(Metrics(), health, lambda: 0.0, "127.0.0.1", s.port)
    finally:
        s.close()


def test_tls_and_basic_auth(health: Health, tls_cert: tuple[ssl.SSLContext, Path]) -> None:
    """With TLS and basic auth: HTTPS only, /metrics needs the password, the probes stay open."""
    context, ca_file = tls_cert
    s = MetricsServer(Metrics(), health, lambda: 0.0, "127.0.0.1", 0, tls=context, auth=("prom", "s3cret"))
    client = ssl.create_default_context(cafile=str(ca_file))
    try:
        assert s.url.startswith("https://")
        assert _get(s.url + "/metrics", context=client)[0] == 401
        good = base64.b64encode(b"prom:s3cret").decode()
        bad = base64.b64encode(b"prom:guess").decode()
        assert _get(s.url + "/metrics", headers={"Authorization": f"Basic {bad}"}, context=client)[0] == 401
        status, body = _get(s.url + "/metrics", headers={"Authorization": f"Basic {good}"}, context=client)
        assert status == 200
        assert b"emr_autoscaler_build_info" in body
        assert _get(s.url + "/readyz", context=client) == (200, b"ok\n")
        with pytest.raises(ConnectionError):  # plain HTTP to a TLS port: the connection is dropped
            _get(s.url.replace("https", "http") + "/readyz")
    finally:
        s.close()


def _config(tmp_path: Path, **top: object) -> AppConfig:
    cluster = {"cluster_id": "j-A", "yarn": {"urls": ["http://127.0.0.1:1"]}, "policies": [{"type": "static"}]}
    return parse_config({"clusters": [cluster], **top}, env={})


def test_tls_and_auth_come_from_the_config(
    tmp_path: Path, health: Health, tls_cert: tuple[ssl.SSLContext, Path]
) -> None:
    """metrics_tls and metrics_basic_auth (password read from its file) configure the server `run` starts."""
    _, cert = tls_cert
    password = tmp_path / "password"
    password.write_text("from-a-secret\n")
    config = _config(
        tmp_path,
        metrics_tls={"cert_file": str(cert), "key_file": str(cert.with_suffix(".key"))},
        metrics_basic_auth={"username": "prom", "password_file": str(password)},
    )
    s = MetricsServer(Metrics(), health, lambda: 0.0, "127.0.0.1", 0, **server_security(config))
    client = ssl.create_default_context(cafile=str(cert))
    token = base64.b64encode(b"prom:from-a-secret").decode()
    try:
        assert _get(s.url + "/metrics", context=client)[0] == 401
        assert _get(s.url + "/metrics", headers={"Authorization": f"Basic {token}"}, context=client)[0] == 200
    finally:
        s.close()


@pytest.mark.parametrize("command", ["validate", "run"])
def test_unreadable_tls_or_password_files_are_config_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """A missing certificate or password file is a located error and exit 2, before anything starts."""
    path = tmp_path / "config.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "metrics_tls": {"cert_file": str(tmp_path / "nope.pem")},
                "metrics_basic_auth": {"username": "prom", "password_file": str(tmp_path / "nope")},
                "clusters": [
                    {"cluster_id": "j-A", "yarn": {"urls": ["http://h:8088"]}, "policies": [{"type": "static"}]}
                ],
            }
        )
    )
    assert main([command, "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"error: {path}: metrics_tls: {tmp_path / 'nope.pem'}:" in err
    assert f"error: {path}: metrics_basic_auth.password_file:" in err
