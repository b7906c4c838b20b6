"""Shadow policies: evaluated every tick beside the live ones with the same guards, reported as what they
would hold and spend, never written; a failing shadow never changes the live decision."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from autoscaler.cli import main as cli_main
from autoscaler.config import ClusterConfig
from autoscaler.loop import ClusterDeps, Deps, tick
from autoscaler.metrics import Health, Metrics
from autoscaler.model import ClusterSnapshot, Market, PriceQuote, Recommendation, Rejection
from autoscaler.policy import Policy, PolicyContext, load_policies
from autoscaler.shadow import Shadows, shadow_names
from autoscaler.testing import (
    T0,
    ListLogger,
    RecordingActuator,
    make_cluster_config,
    make_pool,
    make_snapshot,
    metric_value,
)

SPOT = PriceQuote("m5.xlarge", Market.SPOT, 0.08, 0.048)  # 0.128 $/h a unit


def _snapshot(now: float) -> ClusterSnapshot:
    return make_snapshot(taken_at=now, pools=[make_pool("ig-t", requested=2)], prices=[SPOT])


def _config(shadows: list[dict[str, Any]]) -> ClusterConfig:
    return make_cluster_config(policies=[{"type": "static", "options": {"units": 4}}], shadow_policies=shadows)


class Raises:
    """A policy whose evaluate raises (the engine turns it into a policy_error rejection)."""

    name = "raises"

    def evaluate(self, snapshot: ClusterSnapshot, ctx: PolicyContext) -> Iterable[Recommendation | Rejection]:
        raise RuntimeError("boom")


class Hostile:
    """A policy that breaks the engine itself: even reading its guard profile raises."""

    name = "hostile"

    @property
    def guard_profile(self) -> str:
        raise RuntimeError("no profile")

    def evaluate(self, snapshot: ClusterSnapshot, ctx: PolicyContext) -> Iterable[Recommendation | Rejection]:
        return []


def _run(config: ClusterConfig, shadows: list[tuple[str, Policy]]) -> tuple[Deps, RecordingActuator, Any]:
    actuator, logger = RecordingActuator(), ListLogger()
    cluster = ClusterDeps(config, _snapshot, actuator, load_policies(config.policies), shadows=Shadows(shadows))
    deps = Deps((cluster,), Metrics(), Health(30, ("j-TEST",), started_at=T0), logger, clock=lambda: T0)
    state = tick(deps, {}, T0)
    return deps, actuator, state


def test_shadows_report_what_they_would_hold_and_spend_and_write_nothing() -> None:
    config = _config([{"type": "static", "options": {"units": 8}}, {"type": "static", "options": {"units": 1}}])
    shadows = list(zip(shadow_names(["static", "static"]), load_policies(config.shadow_policies), strict=True))
    deps, actuator, _ = _run(config, shadows)
    assert [r.target.total for plan in actuator.calls for r in plan.resizes] == [4]  # the live plan alone
    m = deps.metrics
    assert metric_value(m, "emr_autoscaler_pool_target_units", cluster="j-TEST", pool="ig-t") == 4
    assert metric_value(m, "emr_autoscaler_shadow_target_units", cluster="j-TEST", pool="ig-t", policy="static") == 8
    # static#2 wants 1: a scale-in, which the cluster's guards confirm over several ticks first, as for a live policy
    assert metric_value(m, "emr_autoscaler_shadow_target_units", cluster="j-TEST", pool="ig-t", policy="static#2") == 2
    actual = metric_value(m, "emr_autoscaler_estimated_cost_usd_per_hour", cluster="j-TEST")
    assert actual == pytest.approx(2 * 0.128)
    assert metric_value(
        m, "emr_autoscaler_shadow_cost_usd_per_hour", cluster="j-TEST", policy="static"
    ) == pytest.approx(8 * 0.128)
    assert metric_value(
        m, "emr_autoscaler_shadow_cost_usd_per_hour", cluster="j-TEST", policy="static#2"
    ) == pytest.approx(2 * 0.128)


@pytest.mark.parametrize("bad", [Raises(), Hostile()], ids=["policy-raises", "engine-raises"])
def test_a_failing_shadow_never_affects_the_live_decision(bad: Policy) -> None:
    config = _config([])
    alone, alone_actuator, alone_state = _run(config, [])
    deps, actuator, state = _run(config, [(bad.name, bad)])
    assert actuator.calls == alone_actuator.calls
    assert state == alone_state
    (live,) = deps.logger.ticks()  # type: ignore[attr-defined]
    (live_alone,) = alone.logger.ticks()  # type: ignore[attr-defined]
    assert {k: v for k, v in live.items() if k != "duration_s"} == {
        k: v for k, v in live_alone.items() if k != "duration_s"
    }
    assert "error" not in live
    (err,) = deps.logger.named("shadow_error")  # type: ignore[attr-defined]
    assert err["policy"] == bad.name
    assert metric_value(deps.metrics, "emr_autoscaler_shadow_errors_total", cluster="j-TEST", policy=bad.name) == 1
    assert (
        metric_value(deps.metrics, "emr_autoscaler_shadow_cost_usd_per_hour", cluster="j-TEST", policy=bad.name) is None
    )
    assert deps.health.status(T0 + 1) == (True, "ok")


def test_shadow_policies_are_validated_with_their_path(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "clusters:\n- cluster_id: j-TEST\n  yarn: {urls: ['http://rm:8088']}\n  policies: [{type: static}]\n"
        "  shadow_policies: [{type: nope}, {type: pending-demand, options: {headroom_pct: 500}}]\n"
    )
    assert cli_main(["validate", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert "clusters[0].shadow_policies[0].type: unknown policy 'nope'" in err
    assert "clusters[0].shadow_policies[1].options: headroom_pct" in err


def test_a_shadow_keeps_the_daemons_cadence_its_planned_resizes_start_cooldowns() -> None:
    """Like a dry-run daemon, a shadow's planned resize starts its cooldown: static wants 8 of 2 units,
    planned at once; 30 s later, the pool unchanged (a shadow writes nothing), it is held by cooldown_up
    (120 s) rather than planned again on every tick, and planned again once the cooldown has passed."""
    config = _config([{"type": "static", "options": {"units": 8}}])
    shadows = Shadows(list(zip(["static"], load_policies(config.shadow_policies), strict=True)))
    results = [shadows.evaluate(_snapshot(T0 + dt), config)[0] for dt in (0, 30, 150)]
    planned = [[r.target.total for r in res.decision.plan.resizes] for res in results if res.decision]
    assert planned == [[8], [], [8]]
    held = results[1].decision
    assert held is not None
    assert "cooldown_up" in {r.reason.value for r in held.rejections}
