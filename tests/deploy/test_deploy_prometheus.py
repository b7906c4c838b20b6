"""promtool accepts the Prometheus config and alert rules, and the rules' unit tests pass.

Needs `promtool` (Debian's `prometheus` package, installed by .ci/run); skipped with that reason otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROM = ROOT / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")

pytestmark = [
    pytest.mark.prometheus,
    pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (apt-get install prometheus)"),
]


def _promtool(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_alert_rules_are_valid() -> None:
    """`promtool check rules` accepts alerts.yml."""
    result = _promtool("check", "rules", str(PROM / "alerts.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_config_is_valid() -> None:
    """`promtool check config` accepts prometheus.yml, including the rule file it loads."""
    result = _promtool("check", "config", str(PROM / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout


def test_alert_rules_fire_when_they_should() -> None:
    """`promtool test rules` on alerts_test.yml: each alert fires on its failure and stays quiet when healthy."""
    result = _promtool("test", "rules", "alerts_test.yml", cwd=Path(__file__).parent)
    assert result.returncode == 0, result.stdout + result.stderr
