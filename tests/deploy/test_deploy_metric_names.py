"""Every metric and label the alert rules and the dashboard use must exist in `autoscaler/metrics.py`.

Names come from the real exposition of `Metrics().registry`; label names from the same collectors.
A rename in metrics.py that is not carried into deploy/ fails here instead of silently emptying a
panel or disarming an alert.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client import generate_latest
from prometheus_client.metrics import MetricWrapperBase

from autoscaler.metrics import Metrics
from autoscaler.model import OutcomeStatus, RejectReason

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NAME = re.compile(r"\bemr_autoscaler_[a-z0-9_]+\b")
SELECTOR = re.compile(r"\b(emr_autoscaler_[a-z0-9_]+|up)\{([^}]*)\}")
MATCHER = re.compile(r'(\w+)\s*(?:=~|!~|!=|=)\s*"([^"]*)"')
GROUPING = re.compile(r"\b(?:by|on|ignoring|without)\s*\(([^)]*)\)")
SCRAPE_LABELS = {"job", "instance"}  # attached by Prometheus to every scraped series


def _series_labels() -> dict[str, set[str]]:
    """Series name -> label names, for every series the daemon can expose."""
    metrics = Metrics()
    families = {}
    for line in generate_latest(metrics.registry).decode().splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            families[name] = kind
    labels = {}
    for collector in vars(metrics).values():
        if isinstance(collector, MetricWrapperBase):
            labels[collector._name] = set(collector._labelnames)
    out: dict[str, set[str]] = {"up": set(SCRAPE_LABELS)}
    for name, kind in families.items():
        base = name.removesuffix("_total") if kind == "counter" else name
        names = labels.get(base, set()) | SCRAPE_LABELS  # process_* and python_info: not ours, no labels used
        if kind == "counter":
            out.update({f"{base}_total": names, f"{base}_created": names})
        elif kind == "histogram":
            out.update(
                {f"{base}_{s}": names | ({"le"} if s == "bucket" else set()) for s in ("bucket", "count", "sum")}
            )
        else:
            out[base] = names
    return out


SERIES = _series_labels()


def _alert_exprs() -> Iterator[tuple[str, str]]:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            yield f"alert {rule['alert']}", rule["expr"]


def _dashboard_exprs() -> Iterator[tuple[str, str]]:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboard.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            yield f"panel {panel['title']!r}", target["expr"]
    for var in dashboard["templating"]["list"]:
        if var["type"] == "query":
            yield f"variable {var['name']}", var["definition"]


EXPRS = [*_alert_exprs(), *_dashboard_exprs()]


def test_exposition_has_the_documented_families() -> None:
    """The exposition parse finds the metrics deploy/ is built on (guards the parser itself)."""
    for name in ("emr_autoscaler_dry_run", "emr_autoscaler_tick_duration_seconds_bucket", "emr_autoscaler_ticks_total"):
        assert name in SERIES


@pytest.mark.parametrize(("where", "expr"), EXPRS, ids=[w for w, _ in EXPRS])
def test_every_metric_name_exists(where: str, expr: str) -> None:
    """Each emr_autoscaler_* name in an alert or panel is a series the daemon exports."""
    used = set(NAME.findall(expr))
    assert used or 'up{job="emr-autoscaler"}' in expr, f"{where} references no emr_autoscaler metric"
    assert used <= SERIES.keys(), f"{where}: unknown {sorted(used - SERIES.keys())}"


@pytest.mark.parametrize(("where", "expr"), EXPRS, ids=[w for w, _ in EXPRS])
def test_every_label_exists(where: str, expr: str) -> None:
    """Selector matchers name labels of their metric; by/on clauses name labels some used metric has."""
    available: set[str] = set()
    for metric, matchers in SELECTOR.findall(expr):
        known = SERIES.get(metric, SCRAPE_LABELS)
        for label, _ in MATCHER.findall(matchers):
            assert label in known, f"{where}: {metric} has no label {label!r} (has {sorted(known)})"
    for metric in NAME.findall(expr):
        available |= SERIES.get(metric, set())
    if re.search(r"\bup\{", expr):
        available |= SERIES["up"]
    for group in GROUPING.findall(expr):
        for label in filter(None, (s.strip() for s in group.split(","))):
            assert label in available, f"{where}: grouping label {label!r} not on any metric used"


def test_label_values_are_ones_the_daemon_emits() -> None:
    """reason= and outcome= values in alerts and panels are RejectReason / OutcomeStatus values."""
    reasons = {r.value for r in RejectReason}
    outcomes = {o.value for o in OutcomeStatus}
    checked = 0
    for where, expr in EXPRS:
        for metric, matchers in SELECTOR.findall(expr):
            for label, value in MATCHER.findall(matchers):
                if metric == "emr_autoscaler_rejections_total" and label == "reason":
                    assert value in reasons, f"{where}: no RejectReason {value!r}"
                    checked += 1
                if metric == "emr_autoscaler_decisions_total" and label == "outcome":
                    assert value in outcomes, f"{where}: no OutcomeStatus {value!r}"
                    checked += 1
    assert checked >= 2
