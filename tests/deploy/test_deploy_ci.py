"""The CI script and the Makefile: `.ci/run` runs `make test`; `make test` runs every check and fails on any."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make")
needs_make = pytest.mark.skipif(MAKE is None, reason="make not installed (.ci/run installs it)")


def test_ci_script_is_strict_bash_that_runs_make_test() -> None:
    """`.ci/run` parses, is executable, uses `set -euo pipefail`, installs promtool and runs `make test`."""
    script = ROOT / ".ci" / "run"
    assert os.access(script, os.X_OK)
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert "pip install -q -e '.[dev]'" in text
    assert "prometheus" in text
    assert "make test" in text
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)


@needs_make
def test_make_help_is_the_default_and_lists_the_targets() -> None:
    """Plain `make` prints the documented targets."""
    out = subprocess.run([MAKE or "make", "-s"], cwd=ROOT, capture_output=True, text=True, timeout=30, check=True)
    listed = {line.split()[0] for line in out.stdout.splitlines() if line.strip()}
    assert {"help", "setup", "test", "lint", "demo", "bench", "docker-lint"} <= listed


def _fake_tools(tmp_path: Path, codes: dict[str, int]) -> tuple[Path, Path]:
    """Stand-ins for python/ruff/mypy/lint-imports that log their call and exit with a chosen code."""
    log = tmp_path / "calls.log"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("python", "ruff", "mypy", "lint-imports"):
        path = bin_dir / tool
        path.write_text(f'#!/bin/sh\necho "{tool} $*" >> {log}\nexit {codes.get(tool, 0)}\n')
        path.chmod(0o755)
    return bin_dir, log


@needs_make
@pytest.mark.parametrize(
    ("codes", "expected_error"),
    [({}, None), ({"python": 5}, "Error 5"), ({"python": 1, "mypy": 2}, "Error 1"), ({"lint-imports": 1}, "Error 1")],
)
def test_make_test_runs_every_check_and_fails_with_the_first_failure(
    tmp_path: Path, codes: dict[str, int], expected_error: str | None
) -> None:
    """All four checks run even after a failure; make fails with the first failing tool's status (pytest 5 included)."""
    bin_dir, log = _fake_tools(tmp_path, codes)
    result = subprocess.run(
        [MAKE or "make", "test", f"BIN={bin_dir}", f"PY={bin_dir}/python"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    calls = log.read_text().splitlines()
    assert [c.split()[0] for c in calls] == ["python", "ruff", "mypy", "lint-imports"]
    assert calls[0] == "python -m pytest -q"
    if expected_error is None:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode != 0
        assert expected_error in result.stderr
