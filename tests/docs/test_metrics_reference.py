"""docs/metrics-reference.md is generated from the real registry, stays current, and its PromQL is valid."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from autoscaler.cli import main
from autoscaler.metrics import Metrics
from autoscaler.metrics_reference import QUERIES, describe_metrics, metrics_reference

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
PROMTOOL = shutil.which("promtool")
_PROMQL_BLOCK = re.compile(r"```promql\n(.*?)```", re.S)
_METRIC_NAME = re.compile(r"\bemr_autoscaler_[a-z_]+")


def _exposed_series() -> set[str]:
    """Every series name `/metrics` can serve, read from a registry with one observation per metric."""
    metrics = Metrics()
    for doc in describe_metrics(metrics):
        wrapper = next(v for v in vars(metrics).values() if getattr(v, "_name", None) == doc.name)
        child = wrapper.labels(*("x" for _ in doc.labels)) if doc.labels else wrapper
        if doc.kind == "counter":
            child.inc()
        elif doc.kind == "histogram":
            child.observe(1.0)
        else:
            child.set(1)
    text = metrics.exposition().decode()
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines() if not line.startswith("#")}


def doc_queries() -> list[str]:
    """Every PromQL query the docs show: the reference's table and each ```promql block in docs/*.md."""
    queries = [q for _, q in QUERIES]
    for path in sorted(DOCS.glob("*.md")):
        for block in _PROMQL_BLOCK.findall(path.read_text()):
            queries += [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    return queries


def test_committed_metrics_reference_is_up_to_date() -> None:
    """docs/metrics-reference.md matches the registry (regenerate: `emr-autoscaler metrics-reference -o FILE`)."""
    assert (DOCS / "metrics-reference.md").read_text() == metrics_reference()


def test_reference_lists_every_series_the_daemon_serves() -> None:
    """Each series name in a populated exposition (except prometheus_client's _created) is in the reference."""
    text = metrics_reference()
    served = {s for s in _exposed_series() if not s.endswith("_created")}
    assert len(served) >= 20
    missing = sorted(s for s in served if f"`{s}`" not in text)
    assert missing == []


def test_reference_rows_carry_type_labels_and_help() -> None:
    """The rejections row names its counter type, its labels and its help text from the code."""
    row = next(line for line in metrics_reference().splitlines() if "`emr_autoscaler_rejections_total`" in line)
    assert "| counter |" in row
    assert "`cluster`" in row
    assert "`reason`" in row
    assert "`pool`" in row
    assert "`policy`" in row
    assert "Recommendations turned down, by pool, policy and reason." in row


def test_metrics_reference_cli_writes_the_file(tmp_path: Path) -> None:
    """`emr-autoscaler metrics-reference -o FILE` writes the generated reference."""
    out = tmp_path / "metrics.md"
    assert main(["metrics-reference", "-o", str(out)]) == 0
    assert out.read_text() == metrics_reference()


def test_doc_queries_use_only_served_metric_names() -> None:
    """No query in the docs names a series the daemon does not serve (a renamed metric breaks this)."""
    served = _exposed_series()
    queries = doc_queries()
    assert len(queries) >= len(QUERIES)
    unknown = sorted({name for q in queries for name in _METRIC_NAME.findall(q)} - served)
    assert unknown == []


@pytest.mark.prometheus
@pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (apt-get install prometheus)")
def test_doc_queries_parse_as_promql(tmp_path: Path) -> None:
    """`promtool check rules` accepts every doc query as a recording rule expression."""
    assert PROMTOOL is not None
    rules = [{"record": f"doc:query_{i}", "expr": q} for i, q in enumerate(doc_queries())]
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "docs", "rules": rules}]}))
    result = subprocess.run(
        [PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
