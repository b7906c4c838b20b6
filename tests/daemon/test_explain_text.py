"""explain's text says "unknown" for YARN values the RM did not report, never "None"."""

from __future__ import annotations

from collections.abc import Iterable

from autoscaler.cli import explain_text
from autoscaler.engine import evaluate
from autoscaler.model import ClusterSnapshot, ControllerMemory, Recommendation, Rejection, YarnMetrics
from autoscaler.policy import PolicyContext
from autoscaler.testing import make_cluster_config, make_snapshot


class Quiet:
    name = "quiet"

    def evaluate(self, snapshot: ClusterSnapshot, ctx: PolicyContext) -> Iterable[Recommendation | Rejection]:
        return ()


def _yarn_line(yarn: YarnMetrics) -> str:
    snapshot = make_snapshot(yarn=yarn)
    decision = evaluate(snapshot, ControllerMemory(), [Quiet()], make_cluster_config())
    return next(line for line in explain_text(snapshot, decision, []).splitlines() if line.startswith("  yarn:"))


def test_missing_vcores_print_unknown() -> None:
    """An RM that omits vcores: the line says "unknown vcores", and a reported 0 stays 0."""
    line = _yarn_line(YarnMetrics(pending_mb=2048, available_mb=0, total_mb=8192, active_nodes=2, apps_pending=0))
    assert line == (
        "  yarn: pending 2048 MB / unknown vcores, available 0 MB / unknown vcores, 2 active nodes, 0 apps pending"
    )
    assert "None" not in line


def test_reported_values_print_as_numbers() -> None:
    """Every value reported: numbers only, no "unknown"."""
    yarn = YarnMetrics(
        pending_mb=1024, pending_vcores=1, available_mb=4096, available_vcores=3, active_nodes=1, apps_pending=2
    )
    line = _yarn_line(yarn)
    assert line == "  yarn: pending 1024 MB / 1 vcores, available 4096 MB / 3 vcores, 1 active nodes, 2 apps pending"
