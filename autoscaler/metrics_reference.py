"""The Markdown metrics reference, generated from a real `Metrics().registry` so the docs cannot drift
from what `/metrics` serves (a test compares `docs/metrics-reference.md` with this output).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from prometheus_client.metrics import MetricWrapperBase

from autoscaler.metrics import Metrics
from autoscaler.model import OutcomeStatus, RejectReason

LABEL_VALUES: dict[tuple[str, str], type[StrEnum]] = {
    ("emr_autoscaler_rejections", "reason"): RejectReason,
    ("emr_autoscaler_decisions", "outcome"): OutcomeStatus,
}
"""Labels whose values are an enum of ours: the reference lists every value, so a query can be written
before the first rejection of that kind happens."""

_HEADER = """# Metrics reference

Generated from `autoscaler/metrics.py` by `emr-autoscaler metrics-reference`; do not edit by hand.

The daemon serves these on `http://HOST:METRICS_PORT/metrics` (config `metrics_port`, default 9464;
`/readyz` (alias `/healthz`) answers 503 when a cluster had no successful tick in 3 poll intervals,
`/livez` when no tick finished at all in 10). Every label has a bounded set of values: `cluster` is a
configured cluster id, `pool` an instance group or fleet id (`ig-...`/`if-...`), `policy` a configured
policy name, `service`/`operation`/`code` an AWS service, API operation and error code; never instance
ids or URLs. On `rejections_total`, a pool or policy that is not in the config (a plugin naming a
made-up pool, say) is counted as `other`, and `""` means the rejection names none. The standard
`process_*` (CPU, memory, open files) and `python_info` series of prometheus-client are served too.
A labelled metric has no series until its first observation: absent is not zero (use `or vector(0)`
in alerts).

Counters are exposed as `NAME_total` (plus prometheus_client's `NAME_created` timestamp); histograms as
`NAME_bucket{le=...}`, `NAME_sum` and `NAME_count`.
"""

QUERIES: tuple[tuple[str, str], ...] = (
    (
        "Why didn't it scale? (rejections by reason, last 15 min)",
        "sum by (cluster, reason) (increase(emr_autoscaler_rejections_total[15m]))",
    ),
    (
        "Why didn't pool ig-X scale, and which policy was turned down?",
        'sum by (policy, reason) (increase(emr_autoscaler_rejections_total{pool="ig-X"}[15m]))',
    ),
    (
        "What would it do? (planned target minus what EMR holds; nonzero in dry-run = a resize it held back)",
        "emr_autoscaler_pool_target_units - emr_autoscaler_pool_requested_units",
    ),
    (
        "What did the actuator do with each plan? (applied, dry_run, refused, ...)",
        "sum by (cluster, pool, outcome) (increase(emr_autoscaler_decisions_total[1h]))",
    ),
    ("Is the input fresh?", "max by (cluster) (emr_autoscaler_snapshot_stale)"),
    (
        "Tick latency, p95",
        "histogram_quantile(0.95, sum by (cluster, le) (rate(emr_autoscaler_tick_duration_seconds_bucket[10m])))",
    ),
    ("Failing AWS calls", "sum by (operation, code) (rate(emr_autoscaler_aws_call_errors_total[10m]))"),
    ("Seconds since the last good tick", "time() - emr_autoscaler_last_successful_tick_timestamp_seconds"),
)
"""PromQL for the usual questions; a test runs each through `promtool` and checks its metric names."""


@dataclass(frozen=True, slots=True)
class MetricDoc:
    """One metric as the reference shows it."""

    name: str
    kind: str
    labels: tuple[str, ...]
    help: str
    series: tuple[str, ...]
    buckets: tuple[float, ...] = ()


def describe_metrics(metrics: Metrics | None = None) -> list[MetricDoc]:
    """Every metric a `Metrics` registers, in definition order."""
    metrics = metrics or Metrics()
    docs = []
    for value in vars(metrics).values():
        if not isinstance(value, MetricWrapperBase):
            continue
        (family,) = value.describe()
        # prometheus_client has no public accessor for a metric's label names or histogram buckets
        labels = tuple(getattr(value, "_labelnames", ()))
        bounds = tuple(b for b in getattr(value, "_upper_bounds", ()) if b != float("inf"))
        docs.append(
            MetricDoc(family.name, family.type, labels, family.documentation, _series(family.name, family.type), bounds)
        )
    return docs


def standard_series(metrics: Metrics | None = None) -> list[tuple[str, str, str]]:
    """(series, type, help) of the process and platform collectors (Linux: read from /proc)."""
    metrics = metrics or Metrics()
    out = []
    for family in metrics.registry.collect():
        if family.name.startswith("emr_autoscaler_"):
            continue
        for name in dict.fromkeys(sample.name for sample in family.samples):
            out.append((name, family.type, family.documentation))
    return out


def _series(name: str, kind: str) -> tuple[str, ...]:
    if kind == "counter":
        return (f"{name}_total",)
    if kind == "histogram":
        return (f"{name}_bucket", f"{name}_sum", f"{name}_count")
    return (name,)


def _labels_cell(doc: MetricDoc) -> str:
    if not doc.labels:
        return "—"
    cells = []
    for label in doc.labels:
        enum = LABEL_VALUES.get((doc.name, label))
        cells.append(f"`{label}`" + (f" ({enum.__name__}, see below)" if enum else ""))
    return ", ".join(cells)


def metrics_reference(metrics: Metrics | None = None) -> str:
    docs = describe_metrics(metrics)
    out = [_HEADER, "## Metrics\n", "| series | type | labels | description |", "|---|---|---|---|"]
    for doc in docs:
        series = "<br>".join(f"`{s}`" for s in doc.series)
        description = doc.help.replace("|", "\\|")
        if doc.buckets:
            description += " Buckets (s): " + ", ".join(f"{b:g}" for b in doc.buckets) + "."
        out.append(f"| {series} | {doc.kind} | {_labels_cell(doc)} | {description} |")
    out.append("")
    out += ["## Standard series from prometheus-client\n", "| series | type | description |", "|---|---|---|"]
    for name, kind, help_text in standard_series(metrics):
        out.append(f"| `{name}` | {kind} | {help_text} |")
    out.append("")
    for (name, label), enum in LABEL_VALUES.items():
        series = next(d.series[0] for d in docs if d.name == name)
        out.append(f"## `{label}` values of `{series}` ({enum.__name__})\n")
        out.append(", ".join(f"`{member.value}`" for member in enum) + "\n")
        if enum is RejectReason:
            out.append("What each one means and what to change: [FAQ](faq.md).\n")
    out += ["## Queries that answer the usual questions\n", "| question | PromQL |", "|---|---|"]
    out += [f"| {question} | `{query}` |" for question, query in QUERIES]
    return "\n".join(out).rstrip() + "\n"
