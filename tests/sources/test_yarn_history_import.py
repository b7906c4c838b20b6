"""`trace import --yarn` reads through the daemon's YarnClient: a private-CA HTTPS RM is trusted through
the config's `ca_bundle`, and of an RM HA pair the standby (307) is skipped for the active one."""

from __future__ import annotations

import ssl
import sys
from pathlib import Path

import pytest

from autoscaler.cli import main as cli_main
from autoscaler.sim.trace import load_trace

from .rm_server import FakeRM, fake_rm
from .test_yarn_client import _serve_active, _serve_standby_307

FINISH_MS = 1_699_923_600_000  # 2023-11-14T01:00:00Z
WINDOW = ["--since", "2023-11-14T00:00:00Z", "--until", "2023-11-14T02:00:00Z", "--window-s", "7200"]


def _serve_history(rm: FakeRM) -> None:
    _serve_active(rm)
    app = {
        "id": "application_1699920000000_0001",
        "state": "FINISHED",
        "queue": "etl",
        "startedTime": FINISH_MS - 120_000,
        "launchTime": FINISH_MS - 100_000,
        "finishedTime": FINISH_MS,
        "memorySeconds": 6144 * 100 + 3072 * 100 * 4,
        "vcoreSeconds": 100 + 4 * 100,
    }
    rm.answer("/ws/v1/cluster/apps", {"apps": {"app": [app]}})


def _config(tmp_path: Path, yarn: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(
        "clusters:\n  - cluster_id: j-XXXXXXXXXXXX\n    region: us-east-1\n"
        f"    yarn: {yarn}\n    policies: [{{type: pending-demand}}]\n"
    )
    return str(path)


def test_private_ca_rm_is_read_through_the_configs_ca_bundle(
    tls_cert: tuple[ssl.SSLContext, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    context, ca_file = tls_cert
    out = tmp_path / "t.jsonl"
    with fake_rm(tls=context) as rm:
        _serve_history(rm)
        # without the CA bundle, TLS verification fails the read: exit 2, one line naming the RM
        assert cli_main(["trace", "import", "--yarn", rm.url, *WINDOW, "-o", str(out)]) == 2
        assert "SSLError" in capsys.readouterr().err
        config = _config(tmp_path, f'{{urls: ["{rm.url}"], ca_bundle: "{ca_file}"}}')
        assert cli_main(["trace", "import", "--yarn", rm.url, *WINDOW, "--config", config, "-o", str(out)]) == 0
    assert "kept 1, skipped 0" in capsys.readouterr().out
    (job,) = load_trace(out)
    assert (job.queue, job.stages[0].tasks) == ("etl", 4)


def test_an_ha_pair_reads_the_active_rm_past_a_standby_307(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "t.jsonl"
    with fake_rm() as standby, fake_rm() as active:
        _serve_standby_307(standby, active.url)
        _serve_history(active)
        argv = ["trace", "import", "--yarn", f"{standby.url},{active.url}", *WINDOW, "-o", str(out)]
        assert cli_main(argv) == 0
        assert not any(c.startswith("/ws/v1/cluster/apps") for c in standby.calls)
        assert any(c.startswith("/ws/v1/cluster/apps?") and "FINISHED" in c for c in active.calls)
    assert "kept 1, skipped 0" in capsys.readouterr().out


def test_the_configs_kerberos_setting_reaches_the_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """kerberos: true in --config makes the import authenticate as the daemon does (here: the extra is missing)."""
    monkeypatch.setitem(sys.modules, "requests_gssapi", None)
    with fake_rm() as rm:
        _serve_history(rm)
        config = _config(tmp_path, f'{{urls: ["{rm.url}"], kerberos: true}}')
        argv = ["trace", "import", "--yarn", rm.url, *WINDOW, "--config", config, "-o", str(tmp_path / "t.jsonl")]
        assert cli_main(argv) == 2
        assert not any(c.startswith("/ws/v1/cluster/apps") for c in rm.calls)
    err = capsys.readouterr().err
    assert err.startswith(f"error: --yarn {rm.url}: ")
    assert "kerberos is enabled but requests-gssapi is not installed: pip install 'emr-autoscaler[kerberos]'" in err
