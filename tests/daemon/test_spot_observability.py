"""Spot notices as an operator sees them: counted in metrics (each notice once, each replacement when
written), and explained with their $/h in the tick log and `explain`."""

from __future__ import annotations

from autoscaler.engine import evaluate, record_outcomes
from autoscaler.explain import explain_data, explain_text
from autoscaler.logs import tick_event
from autoscaler.metrics import Metrics
from autoscaler.model import ControllerMemory, InterruptionNotice, Market, Outcome, OutcomeStatus, PriceQuote
from autoscaler.testing import T0, make_cluster_config, make_instance, make_pool, make_snapshot, metric_value

CONFIG = make_cluster_config()
PRICES = (PriceQuote("m5.xlarge", Market.SPOT, 0.07, 0.048),)


def test_notices_and_replacements_are_counted_once_and_explained_with_their_cost() -> None:
    instances = [make_instance(f"i-{k}") for k in range(3)]
    notices = [
        InterruptionNotice("i-1", "terminate", T0, T0 + 120),
        InterruptionNotice("i-2", "rebalance", T0, T0 + 600),
        InterruptionNotice("i-stranger", "terminate", T0, T0 + 120),
    ]
    metrics, memory = Metrics(), ControllerMemory()
    for k, status in enumerate((OutcomeStatus.APPLIED, OutcomeStatus.APPLIED)):
        at = T0 + 30 * k
        pool = make_pool(requested=3 + k)  # the second tick sees the replacement requested
        snapshot = make_snapshot(pools=[pool], instances=instances, interruptions=notices, prices=PRICES, taken_at=at)
        decision = evaluate(snapshot, memory, (), CONFIG)
        outcomes = [Outcome(r.pool_id, status) for r in decision.plan.resizes]
        metrics.record_decision(snapshot, decision, outcomes)
        memory = record_outcomes(decision.memory, outcomes, decision.plan, at, CONFIG)
        if k == 0:
            event = tick_event(snapshot, decision, outcomes, dry_run=False, seconds=0.1)
            text = explain_text(snapshot, decision, outcomes)
            data = explain_data(snapshot, decision, outcomes)

    value = metric_value
    assert value(metrics, "emr_autoscaler_interruption_notices_total", cluster="j-TEST", kind="interruption") == 2
    assert value(metrics, "emr_autoscaler_interruption_notices_total", cluster="j-TEST", kind="rebalance") == 1
    assert value(metrics, "emr_autoscaler_interruption_replacements_total", cluster="j-TEST", pool="ig-task") == 1

    replacing = [n for n in event["interruptions"] if n["status"] == "replacing"]
    assert replacing == [
        {
            "instance": "i-1",
            "kind": "interruption",
            "status": "replacing",
            "detail": "1 unit(s) of ig-task (SPOT) at $0.118/h",
            "pool": "ig-task",
            "to_pool": "ig-task",
            "units": 1,
            "usd_per_hour": 0.118,
        }
    ]
    assert data["interruptions"] == event["interruptions"]
    assert "spot notices:" in text
    assert "interruption i-1 [ig-task] replacing: 1 unit(s) of ig-task (SPOT) at $0.118/h" in text
    assert "interruption i-stranger [no pool] ignored: no instance i-stranger in cluster j-TEST" in text
    assert "ig-task: 3 → 4 units (interruptions: replace 1 unit(s)" in text
