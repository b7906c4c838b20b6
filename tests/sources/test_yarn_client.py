"""YarnClient against real local HTTP servers speaking the RM REST API."""

from __future__ import annotations

import json
import ssl
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import certifi
import pytest

from autoscaler.config import YarnConfig
from autoscaler.sources import SourceError, redact_url
from autoscaler.sources.yarn import YarnClient

from .conftest import DATA
from .rm_server import FakeRM, fake_rm

YARN = DATA / "yarn"


def _doc(name: str) -> Any:
    return json.loads((YARN / name).read_text())


def _serve_active(rm: FakeRM, ha_state: str = "ACTIVE") -> None:
    info = _doc("cluster_info.hadoop3_doc.json")
    info["clusterInfo"]["haState"] = ha_state
    rm.answer("/ws/v1/cluster/info", info)
    rm.answer("/ws/v1/cluster/metrics", _doc("cluster_metrics.hadoop3_doc.json"))
    rm.answer("/ws/v1/cluster/nodes", _doc("cluster_nodes.hadoop3_doc.json"))
    app = _doc("cluster_app_with_resourceRequests.trunk_doc.json")
    app["state"] = "RUNNING"
    app["resourceRequests"][0]["numContainers"] = 5
    rm.answer("/ws/v1/cluster/apps", {"apps": {"app": [app]}})


def _serve_standby_307(rm: FakeRM, active_url: str) -> None:
    info = _doc("cluster_info.hadoop3_doc.json")
    info["clusterInfo"]["haState"] = "STANDBY"
    for path in ("/ws/v1/cluster/info", "/ws/v1/cluster/metrics", "/ws/v1/cluster/nodes", "/ws/v1/cluster/apps"):
        rm.answer(path, b"", status=307, headers={"Location": active_url + path})


@pytest.fixture
def two_rms() -> Iterator[tuple[FakeRM, FakeRM]]:
    with fake_rm() as a, fake_rm() as b:
        yield a, b


def test_fetch_reads_metrics_nodes_and_live_apps() -> None:
    """A single RM: metrics, nodes and RUNNING/ACCEPTED apps (asked for by state) are returned."""
    with fake_rm() as rm:
        _serve_active(rm)
        state = YarnClient(YarnConfig(urls=[rm.url])).fetch()
    assert state.rm_url == rm.url
    assert state.metrics.total_mb == _doc("cluster_metrics.hadoop3_doc.json")["clusterMetrics"]["totalMB"]
    assert len(state.nodes) == 2
    assert state.apps[0].pending[0].count == 5
    assert any(c == "/ws/v1/cluster/apps?states=RUNNING%2CACCEPTED" for c in rm.calls)


def test_standby_answering_307_is_skipped(two_rms: tuple[FakeRM, FakeRM]) -> None:
    """A standby that redirects with 307 is not followed; the next URL, which is active, is used."""
    standby, active = two_rms
    _serve_standby_307(standby, "http://unreachable.invalid:8088")
    _serve_active(active)
    state = YarnClient(YarnConfig(urls=[standby.url, active.url])).fetch()
    assert state.rm_url == active.url
    assert standby.calls == ["/ws/v1/cluster/info"]


def test_standby_ha_state_is_skipped(two_rms: tuple[FakeRM, FakeRM]) -> None:
    """An RM reporting haState STANDBY is skipped even though it answers 200."""
    standby, active = two_rms
    _serve_active(standby, ha_state="STANDBY")
    _serve_active(active)
    client = YarnClient(YarnConfig(urls=[standby.url, active.url]))
    assert client.fetch().rm_url == active.url
    assert "/ws/v1/cluster/metrics" not in standby.calls
    # the active RM is asked first on the next tick
    standby.calls.clear()
    client.fetch()
    assert standby.calls == []


def test_no_active_rm_lists_every_url(two_rms: tuple[FakeRM, FakeRM]) -> None:
    """When no RM is active, the error names each URL and what it said."""
    a, b = two_rms
    _serve_active(a, ha_state="STANDBY")
    _serve_standby_307(b, a.url)
    with pytest.raises(SourceError, match="no active ResourceManager") as err:
        YarnClient(YarnConfig(urls=[a.url, b.url])).fetch()
    assert a.url in str(err.value)
    assert b.url in str(err.value)


def test_timeout_is_a_source_error() -> None:
    """A slow RM times out after timeout_s and raises SourceError saying so."""
    with fake_rm() as rm:
        _serve_active(rm)
        rm.routes["/ws/v1/cluster/metrics"].delay_s = 1.0
        with pytest.raises(SourceError, match="timed out"):
            YarnClient(YarnConfig(urls=[rm.url], timeout_s=0.2)).fetch()


def test_unreachable_rm_is_a_source_error() -> None:
    """Connection refused is a SourceError, not a requests exception."""
    with fake_rm() as rm:
        url = rm.url
    with pytest.raises(SourceError, match="no active ResourceManager"):
        YarnClient(YarnConfig(urls=[url], timeout_s=0.5)).fetch()


def test_garbage_json_is_a_source_error() -> None:
    """A non-JSON body raises SourceError naming the endpoint."""
    with fake_rm() as rm:
        _serve_active(rm)
        rm.answer("/ws/v1/cluster/nodes", b"<html>oops</html>")
        with pytest.raises(SourceError, match=r"/ws/v1/cluster/nodes: .* not JSON"):
            YarnClient(YarnConfig(urls=[rm.url])).fetch()


def test_malformed_field_is_a_source_error() -> None:
    """Valid JSON with a wrongly typed field raises SourceError naming the field."""
    with fake_rm() as rm:
        _serve_active(rm)
        rm.answer("/ws/v1/cluster/metrics", {"clusterMetrics": {"totalMB": "abc"}})
        with pytest.raises(SourceError, match=r"clusterMetrics\.totalMB"):
            YarnClient(YarnConfig(urls=[rm.url])).fetch()


def test_http_error_status_is_a_source_error() -> None:
    """A 500 from the RM raises SourceError with the status."""
    with fake_rm() as rm:
        _serve_active(rm)
        rm.answer("/ws/v1/cluster/apps", {"RemoteException": {}}, status=500)
        with pytest.raises(SourceError, match="HTTP 500"):
            YarnClient(YarnConfig(urls=[rm.url])).fetch()


def test_kerberos_without_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """kerberos: true without requests-gssapi installed fails with an install hint, as a SourceError."""
    # a None entry makes `import requests_gssapi` raise ImportError even where the extra is installed
    monkeypatch.setitem(sys.modules, "requests_gssapi", None)
    with fake_rm() as rm:
        _serve_active(rm)
        with pytest.raises(SourceError, match=r"emr-autoscaler\[kerberos\]"):
            YarnClient(YarnConfig(urls=[rm.url], kerberos=True)).fetch()


@pytest.fixture(scope="module")
def rm_cert(tls_cert: tuple[ssl.SSLContext, Path]) -> tuple[ssl.SSLContext, Path]:
    return tls_cert


def test_https_rm_is_trusted_through_the_configured_ca_bundle(
    rm_cert: tuple[ssl.SSLContext, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ca_bundle verifies a private-CA RM even where REQUESTS_CA_BUNDLE names another bundle."""
    context, ca_file = rm_cert
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    with fake_rm(tls=context) as rm:
        _serve_active(rm)
        state = YarnClient(YarnConfig(urls=[rm.url], ca_bundle=str(ca_file))).fetch()
    assert state.rm_url.startswith("https://")
    assert len(state.nodes) == 2


def test_https_rm_with_an_unknown_ca_is_a_source_error(rm_cert: tuple[ssl.SSLContext, Path]) -> None:
    """TLS is verified by default: a certificate from an unknown CA fails the read, naming the RM."""
    context, _ = rm_cert
    with fake_rm(tls=context) as rm:
        _serve_active(rm)
        with pytest.raises(SourceError, match=r"no active ResourceManager: https://127\.0\.0\.1:\d+: SSLError"):
            YarnClient(YarnConfig(urls=[rm.url], timeout_s=2)).fetch()


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_verify_tls_false_holds_even_with_requests_ca_bundle_set(
    rm_cert: tuple[ssl.SSLContext, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """verify_tls: false reads an RM with an untrusted certificate; the environment cannot re-enable checks."""
    context, _ = rm_cert
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    with fake_rm(tls=context) as rm:
        _serve_active(rm)
        state = YarnClient(YarnConfig(urls=[rm.url], verify_tls=False)).fetch()
    assert state.rm_url == rm.url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://u:p@rm:8088", "http://***@rm:8088"),
        ("https://only-user@rm", "https://***@rm"),
        ("http://rm:8088/path?q=1", "http://rm:8088/path?q=1"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_credentials_in_the_rm_url_never_reach_a_message() -> None:
    """user:password in a configured RM URL is used, but errors and rm_url show `***@` instead."""
    with fake_rm() as rm:
        _serve_active(rm)
        secret_url = rm.url.replace("http://", "http://operator:s3cret-pw@")
        state = YarnClient(YarnConfig(urls=[secret_url])).fetch()
        assert "s3cret" not in state.rm_url
        assert "operator" not in state.rm_url
    with pytest.raises(SourceError) as err:
        YarnClient(YarnConfig(urls=[secret_url], timeout_s=1)).fetch()  # the RM is gone now
    assert "s3cret" not in str(err.value)
    assert "operator" not in str(err.value)
    assert "***@127.0.0.1" in str(err.value)
