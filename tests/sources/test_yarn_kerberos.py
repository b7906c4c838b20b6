"""YarnClient's SPNEGO path end to end: a throwaway MIT Kerberos realm on loopback and an RM that accepts tokens.

Everything lives in a temp dir and is reached through the KRB5_* environment variables (never /etc): the
KDC, its database, the service keytab and the user's credential cache. Skipped, with the missing piece
named, where the MIT krb5 tools or the `kerberos` extra (gssapi, requests-gssapi) are not installed.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from autoscaler.config import YarnConfig
from autoscaler.serving import Request, Response, WsgiApp, endpoint
from autoscaler.sources import SourceError
from autoscaler.sources.yarn import YarnClient

from .conftest import DATA
from .rm_server import serving

pytestmark = pytest.mark.kerberos

REALM = "AUTOSCALER.TEST"
USER = f"alice@{REALM}"
SERVICE = f"HTTP/localhost@{REALM}"
_TOOLS = ("krb5kdc", "kdb5_util", "kadmin.local", "kinit")
# Debian puts the KDC tools in /usr/sbin, which a non-root PATH often lacks.
_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/sbin"])
_YARN = DATA / "yarn"


#: A CapacityScheduler answer with one leaf queue (the fields the AM share reads; tests/sources/test_yarn_scheduler.py).
_SCHEDULER = {
    "scheduler": {
        "schedulerInfo": {
            "type": "capacityScheduler",
            "queueName": "root",
            "queues": {
                "queue": [
                    {
                        "type": "capacitySchedulerLeafQueueInfo",
                        "queueName": "default",
                        "capacities": {
                            "queueCapacitiesByPartition": [{"partitionName": "", "maxAMLimitPercentage": 10.0}]
                        },
                        "AMResourceLimit": {"memory": 12288, "vCores": 1},
                        "usedAMResource": {"memory": 6144, "vCores": 1},
                    }
                ]
            },
        }
    }
}


def _doc(name: str) -> Any:
    return json.loads((_YARN / name).read_text())


@dataclass
class SpnegoRM:
    """An RM that answers only requests carrying a valid Negotiate token; records who authenticated."""

    url: str
    routes: dict[str, Any]
    principals: list[str] = field(default_factory=list)
    rejected: int = 0


def _app(rm: SpnegoRM) -> WsgiApp:
    import gssapi  # noqa: PLC0415 - optional extra; the fixture skips before this runs without it

    def accept(request: Request) -> tuple[str, bytes | None] | None:
        """(initiator, mutual-auth token) for a valid single-round Negotiate token, else None."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "negotiate" or not token:
            return None
        try:
            # Acceptor credentials come from KRB5_KTNAME, i.e. the test realm's keytab.
            ctx = gssapi.SecurityContext(creds=gssapi.Credentials(usage="accept"), usage="accept")
            out = ctx.step(base64.b64decode(token))
        except (gssapi.raw.misc.GSSError, ValueError):
            return None
        if not ctx.complete:
            return None
        return str(ctx.initiator_name), out

    def handle(request: Request) -> Response:
        accepted = accept(request)
        if accepted is None:
            rm.rejected += 1
            return Response(
                401, b'{"error": "authentication required"}', "application/json", (("WWW-Authenticate", "Negotiate"),)
            )
        principal, out = accepted
        rm.principals.append(principal)
        body = rm.routes.get(request.path)
        headers = (("WWW-Authenticate", "Negotiate " + base64.b64encode(out).decode()),) if out else ()
        if body is None:
            return Response(404, b"{}", "application/json", headers)
        return Response(200, json.dumps(body).encode(), "application/json", headers)

    return endpoint(handle)


def _free_port() -> int:
    """A loopback port free for both TCP and UDP (the KDC listens on both)."""
    for _ in range(50):
        with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
            with closing(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free loopback port for the KDC")


def _write_configs(d: Path, port: int) -> None:
    (d / "krb5.conf").write_text(
        f"""[libdefaults]
    default_realm = {REALM}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
[realms]
    {REALM} = {{
        kdc = 127.0.0.1:{port}
    }}
[domain_realm]
    localhost = {REALM}
[logging]
    default = FILE:{d}/krb5.log
    kdc = FILE:{d}/kdc.log
    admin_server = FILE:{d}/kadmin.log
"""
    )
    (d / "kdc.conf").write_text(
        f"""[kdcdefaults]
    kdc_listen = 127.0.0.1:{port}
    kdc_tcp_listen = 127.0.0.1:{port}
[realms]
    {REALM} = {{
        database_name = {d}/principal
        key_stash_file = {d}/stash
        acl_file = {d}/kadm5.acl
        supported_enctypes = aes256-cts-hmac-sha1-96:normal
    }}
"""
    )


def _run(argv: list[str], env: dict[str, str], stdin: str | None = None) -> None:
    proc = subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True, timeout=20, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip() or proc.stdout.strip()}")


def _wait_listening(port: int, kdc: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if kdc.poll() is not None:
            raise RuntimeError(f"krb5kdc exited {kdc.returncode}: {log.read_text() if log.exists() else ''}")
        with closing(socket.socket()) as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError(f"krb5kdc not listening on 127.0.0.1:{port} after 5 s")


@pytest.fixture(scope="module")
def realm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A running KDC with HTTP/localhost (keytab) and alice (password, kinit'ed); yields the KRB5_* env."""
    missing = [t for t in _TOOLS if shutil.which(t, path=_SEARCH_PATH) is None]
    if missing:
        pytest.skip(
            f"MIT krb5 tools not installed: {', '.join(missing)} (Debian: krb5-kdc krb5-admin-server krb5-user)"
        )
    for module in ("gssapi", "requests_gssapi"):
        try:
            __import__(module)
        except ImportError as err:
            pytest.skip(f"python module {module} not importable ({err}): pip install 'emr-autoscaler[kerberos]'")
    d = tmp_path_factory.mktemp("krb5")
    port = _free_port()
    _write_configs(d, port)
    krb_env = {
        "KRB5_CONFIG": str(d / "krb5.conf"),
        "KRB5_KDC_PROFILE": str(d / "kdc.conf"),
        "KRB5_KTNAME": f"FILE:{d}/http.keytab",
        "KRB5CCNAME": f"FILE:{d}/ccache",
        "KRB5RCACHETYPE": "none",  # no replay cache under /var/tmp
    }
    env = {**os.environ, **krb_env, "PATH": _SEARCH_PATH}
    _run(["kdb5_util", "-r", REALM, "create", "-s", "-P", "master-secret"], env)
    admin = ["kadmin.local", "-r", REALM, "-q"]
    _run([*admin, f"addprinc -randkey {SERVICE}"], env)
    _run([*admin, f"ktadd -k {d}/http.keytab {SERVICE}"], env)
    _run([*admin, f"addprinc -pw alice-secret {USER}"], env)
    with (d / "krb5kdc.out").open("w") as out:  # a file, not a pipe nobody drains
        kdc = subprocess.Popen(
            ["krb5kdc", "-n", "-r", REALM], env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, text=True
        )
    try:
        _wait_listening(port, kdc, d / "kdc.log")
        _run(["kinit", USER], env, stdin="alice-secret\n")
        with pytest.MonkeyPatch.context() as mp:
            for k, v in krb_env.items():
                mp.setenv(k, v)
            yield krb_env
    finally:
        kdc.terminate()
        try:
            kdc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            kdc.kill()
            kdc.wait(timeout=5)


@pytest.fixture(scope="module")
def spnego_rm(realm: dict[str, str]) -> Iterator[SpnegoRM]:
    info = _doc("cluster_info.hadoop3_doc.json")
    info["clusterInfo"]["haState"] = "ACTIVE"
    app = _doc("cluster_app_with_resourceRequests.trunk_doc.json")
    app["state"] = "RUNNING"
    routes = {
        "/ws/v1/cluster/info": info,
        "/ws/v1/cluster/metrics": _doc("cluster_metrics.hadoop3_doc.json"),
        "/ws/v1/cluster/nodes": _doc("cluster_nodes.hadoop3_doc.json"),
        "/ws/v1/cluster/apps": {"apps": {"app": [app]}},
        "/ws/v1/cluster/scheduler": _SCHEDULER,
    }
    rm = SpnegoRM(url="", routes=routes)
    with serving(_app(rm)) as port:
        # "localhost", not the IP: the client asks for a ticket to HTTP/<host in the URL>.
        rm.url = f"http://localhost:{port}"
        yield rm


def test_kerberos_client_fetches_through_spnego(spnego_rm: SpnegoRM) -> None:
    """kerberos: true authenticates every RM call as the kinit'ed user and returns the parsed state."""
    spnego_rm.principals.clear()
    state = YarnClient(YarnConfig(urls=[spnego_rm.url], kerberos=True)).fetch()
    assert state.rm_url == spnego_rm.url
    assert state.metrics.total_mb == _doc("cluster_metrics.hadoop3_doc.json")["clusterMetrics"]["totalMB"]
    assert len(state.nodes) == 2
    assert len(state.apps) == 1
    assert [(q.queue, q.share, q.used_mb) for q in state.am_limits] == [("default", 0.1, 6144)]
    # info, metrics, nodes, apps, scheduler: each one accepted with a valid ticket for alice.
    assert spnego_rm.principals == [USER] * 5


def test_without_kerberos_the_401_is_a_source_error(spnego_rm: SpnegoRM) -> None:
    """kerberos: false against a SPNEGO-protected RM fails as a SourceError naming HTTP 401, not a crash."""
    before = spnego_rm.rejected
    with pytest.raises(SourceError, match=r"no active ResourceManager: http://localhost:\d+: HTTP 401"):
        YarnClient(YarnConfig(urls=[spnego_rm.url], kerberos=False)).fetch()
    assert spnego_rm.rejected == before + 1


def test_the_rm_rejects_a_forged_token(spnego_rm: SpnegoRM) -> None:
    """The fake RM really validates tokens: a Negotiate header that no KDC issued gets 401, not data."""
    before = spnego_rm.rejected
    forged = base64.b64encode(b"\x60\x10not-a-real-gss-token").decode()
    resp = requests.get(
        spnego_rm.url + "/ws/v1/cluster/info", headers={"Authorization": f"Negotiate {forged}"}, timeout=5
    )
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == "Negotiate"
    assert spnego_rm.rejected == before + 1
