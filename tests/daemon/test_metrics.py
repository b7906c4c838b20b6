"""Metrics naming and values, per-instance registries, the health rule and the HTTP endpoints."""

from __future__ import annotations

import platform
import re

from prometheus_client.parser import text_string_to_metric_families

from autoscaler import __version__
from autoscaler.metrics import Health, Metrics, estimated_usd_per_hour
from autoscaler.model import (
    Capacity,
    ControllerMemory,
    Decision,
    Market,
    Outcome,
    OutcomeStatus,
    Plan,
    PoolKind,
    PriceQuote,
    Recommendation,
    Rejection,
    RejectReason,
    Resize,
    SourceStatus,
)
from autoscaler.testing import T0, make_instance, make_node, make_pool, make_snapshot


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_names_follow_prometheus_conventions() -> None:
    """Every metric has the prefix, counters end in _total, and no label can carry an id or URL."""
    m = Metrics()
    m.observe_aws_call("emr", "ListInstances", 0.1, None)
    for family in text_string_to_metric_families(m.exposition().decode()):
        if family.name.startswith(("process_", "python_")):
            continue  # prometheus_client's standard process and platform collectors
        assert family.name.startswith("emr_autoscaler_"), family.name
        if family.name == "emr_autoscaler_build_info":
            continue  # version and python: one series per process
        for s in family.samples:
            assert set(s.labels) <= {
                "cluster",
                "pool",
                "policy",
                "reason",
                "operation",
                "service",
                "outcome",
                "code",
                "direction",
                "le",
            }
    text = m.exposition().decode()
    counters = re.findall(r"^# TYPE (\S+) counter$", text, flags=re.M)
    assert counters, "expected counters"
    assert all(name.endswith("_total") for name in counters)


def test_each_metrics_object_has_its_own_registry() -> None:
    """Two daemons in one process do not share or collide on metrics."""
    a, b = Metrics(), Metrics()
    a.set_dry_run(True)
    b.set_dry_run(False)
    assert _samples(a)[("emr_autoscaler_dry_run", ())] == 1
    assert _samples(b)[("emr_autoscaler_dry_run", ())] == 0


def test_aws_calls_are_timed_and_errors_counted_by_code() -> None:
    """The AWS call observer fills the latency histogram and the error counter."""
    m = Metrics()
    m.observe_aws_call("emr", "ModifyInstanceGroups", 0.2, None)
    m.observe_aws_call("emr", "ModifyInstanceGroups", 0.3, "ThrottlingException")
    s = _samples(m)
    labels = (("operation", "ModifyInstanceGroups"), ("service", "emr"))
    assert s[("emr_autoscaler_aws_call_duration_seconds_count", labels)] == 2
    err = (("code", "ThrottlingException"), *labels)
    assert s[("emr_autoscaler_aws_call_errors_total", tuple(sorted(err)))] == 1


def test_snapshot_and_decision_figures() -> None:
    """YARN, pool, stale, rejection, recommendation and outcome figures reflect one tick."""
    m = Metrics()
    nodes = [make_node("h1", containers=2), make_node("h2")]
    snap = make_snapshot(pools=[make_pool("ig-t", requested=2)], nodes=nodes)
    resize = Resize("ig-t", PoolKind.INSTANCE_GROUP, Capacity(spot=2), Capacity(spot=5), "pending")
    decision = Decision(
        "j-TEST",
        T0,
        (Recommendation("pending-demand", "ig-t", 5, "pending"), Recommendation("idle-capacity", "ig-t", 1, "idle")),
        (
            Rejection(RejectReason.SUPERSEDED, "up wins", "ig-t", "idle-capacity"),
            Rejection(RejectReason.UNSCHEDULABLE_SHAPE, "64 GB fits no node"),
        ),
        Plan((resize,)),
        ControllerMemory(),
    )
    m.record_snapshot(snap)
    m.record_decision(snap, decision, (Outcome("ig-t", OutcomeStatus.DRY_RUN),))
    s = _samples(m)
    c = (("cluster", "j-TEST"),)
    cp = (("cluster", "j-TEST"), ("pool", "ig-t"))
    assert s[("emr_autoscaler_yarn_allocated_memory_bytes", c)] == 2048 * 1024 * 1024
    assert s[("emr_autoscaler_snapshot_stale", c)] == 0
    assert s[("emr_autoscaler_pool_requested_units", cp)] == 2
    assert s[("emr_autoscaler_pool_target_units", cp)] == 5
    assert s[("emr_autoscaler_unschedulable_shapes", c)] == 1
    rejected = (*c, ("policy", "other"), ("pool", "ig-t"), ("reason", "superseded"))  # no expect(): policy unknown
    assert s[("emr_autoscaler_rejections_total", rejected)] == 1
    assert s[("emr_autoscaler_recommendations_total", (*c, ("direction", "up"), ("policy", "pending-demand")))] == 1
    assert s[("emr_autoscaler_recommendations_total", (*c, ("direction", "down"), ("policy", "idle-capacity")))] == 1
    assert s[("emr_autoscaler_decisions_total", (c[0], ("outcome", "dry_run"), cp[1]))] == 1


def test_stale_snapshot_sets_the_stale_gauge_and_a_vanished_pool_is_dropped() -> None:
    """A failed source shows as stale=1; a pool that is gone stops being exported."""
    m = Metrics()
    m.record_snapshot(make_snapshot(pools=[make_pool("ig-a"), make_pool("ig-b")]))
    failed = SourceStatus("yarn", ok=False, fetched_at=T0, error="connection refused")
    m.record_snapshot(make_snapshot(pools=[make_pool("ig-a")], sources=[failed]))
    s = _samples(m)
    assert s[("emr_autoscaler_snapshot_stale", (("cluster", "j-TEST"),))] == 1
    assert ("emr_autoscaler_pool_requested_units", (("cluster", "j-TEST"), ("pool", "ig-b"))) not in s


def test_cost_prices_every_live_instance() -> None:
    """Estimated $/h sums EC2 + EMR prices of non-terminated instances, in their market."""
    prices = [
        PriceQuote("m5.xlarge", Market.SPOT, 0.08, 0.048),
        PriceQuote("m5.xlarge", Market.ON_DEMAND, 0.192, 0.048),
    ]
    instances = [
        make_instance("i-1", market=Market.SPOT),
        make_instance("i-2", market=Market.SPOT),
        make_instance("i-3", "ig-core", market=Market.ON_DEMAND),
    ]
    snap = make_snapshot(prices=prices, instances=instances)
    assert estimated_usd_per_hour(snap) == 2 * (0.08 + 0.048) + (0.192 + 0.048)


def test_health_window_is_three_intervals() -> None:
    """Healthy within 3 poll intervals of the last successful tick, unhealthy after, with the reason."""
    h = Health(poll_interval_s=10, clusters=("j-A",), started_at=1000)
    assert h.status(1029)[0], "starting up: allowed 3 intervals for the first tick"
    assert not h.status(1031)[0]
    h.success("j-A", 1035)
    assert h.status(1065) == (True, "ok")
    h.problem("j-A", "stale snapshot: yarn: timeout")
    ok, reason = h.status(1066)
    assert not ok
    assert "yarn: timeout" in reason


def test_health_needs_every_cluster() -> None:
    """One cluster failing makes the daemon unhealthy even if another is fine."""
    h = Health(poll_interval_s=10, clusters=("j-A", "j-B"), started_at=0)
    h.success("j-A", 100)
    ok, reason = h.status(101)
    assert not ok
    assert "j-B" in reason
    assert "j-A" not in reason


def test_rejections_carry_pool_and_policy_from_the_config_and_nothing_else() -> None:
    """pool and policy labels come from the config (or EMR's pool list); other values count as `other`."""
    m = Metrics()
    m.expect("j-TEST", ["pending-demand"])
    snap = make_snapshot(pools=[make_pool("ig-t")])
    decision = Decision(
        "j-TEST",
        T0,
        (),
        (
            Rejection(RejectReason.COOLDOWN_UP, "wait", "ig-t", "pending-demand"),
            Rejection(RejectReason.UNKNOWN_POOL, "no such pool", "ig-made-up-by-a-plugin", "plugin-x"),
            Rejection(RejectReason.STALE_INPUT, "yarn down"),
        ),
        Plan(()),
        ControllerMemory(),
    )
    m.record_decision(snap, decision, ())
    series = {
        tuple(sorted(labels)): v
        for (name, labels), v in _samples(m).items()
        if name == "emr_autoscaler_rejections_total"
    }
    c = ("cluster", "j-TEST")
    assert series == {
        (c, ("policy", "pending-demand"), ("pool", "ig-t"), ("reason", "cooldown_up")): 1,
        (c, ("policy", "other"), ("pool", "other"), ("reason", "unknown_pool")): 1,
        (c, ("policy", ""), ("pool", ""), ("reason", "stale_input")): 1,
    }
    m.expect("j-TEST", ["pending-demand"], pools=["ig-other"])  # an explicit `pools:` list wins over EMR's
    m.record_decision(snap, decision, ())
    assert (
        "emr_autoscaler_rejections_total",
        (c, ("policy", "pending-demand"), ("pool", "other"), ("reason", "cooldown_up")),
    ) in _samples(m)


def test_build_info_and_process_metrics() -> None:
    """build_info names this version and Python; the standard process_* series are on the daemon's registry."""
    s = _samples(Metrics())
    assert s[("emr_autoscaler_build_info", (("python", platform.python_version()), ("version", __version__)))] == 1
    names = {name for name, _ in s}
    assert {"process_resident_memory_bytes", "process_cpu_seconds_total", "python_info"} <= names
