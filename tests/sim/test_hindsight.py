"""`hindsight`: the simulator-only contestant with perfect foresight of the trace's demand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoscaler.config import PolicySpec
from autoscaler.policy import PolicyError, guard_profile, load_policy
from autoscaler.sim.command import main
from autoscaler.sim.demand import DemandCurve
from autoscaler.sim.hindsight import capacity_plan
from autoscaler.sim.runner import build_prices, contestant_policies, simulate_policy
from autoscaler.sim.spec import default_spec
from autoscaler.sim.trace import Job, Stage, load_trace
from autoscaler.testing import make_cluster_config

FIRST50 = "traces/swim/FB-2009_samples_24_times_1hr_0_first50jobs.tsv"
BURST = DemandCurve((0.0, 600.0, 660.0), (0, 12000, 0))  # 12,000 MB for one minute at t=600


def _plan(max_wait_s: float, held_mb: int = 0) -> DemandCurve:
    return capacity_plan(BURST, held_mb=held_mb, max_mb=100_000, step_s=30.0, horizon_s=600.0, max_wait_s=max_wait_s)


def test_plan_without_a_wait_allowance_is_the_demand_itself() -> None:
    plan = _plan(0.0)
    assert [plan.at(t) for t in (570.0, 600.0, 630.0, 660.0)] == [0, 12000, 12000, 0]


def test_plan_spreads_a_burst_over_its_wait_allowance() -> None:
    """With 60 s allowed, the minute's 720,000 MB-s need at most 720,000 / (60 + 60) = 6,000 MB at once."""
    plan = _plan(60.0)
    assert plan.peak_mb == 6000
    assert sum(lv * 30.0 for lv in (plan.at(k * 30.0) for k in range(40))) >= 720_000


def test_plan_stays_within_the_always_on_memory_and_the_cap() -> None:
    plan = capacity_plan(BURST, held_mb=2000, max_mb=5000, step_s=30.0, horizon_s=600.0, max_wait_s=0.0)
    assert min(plan.levels) == 2000
    assert plan.peak_mb == 5000


def test_window_max_looks_ahead() -> None:
    """M(t) is the highest level in [t, t + 5]."""
    m = DemandCurve((0.0, 10.0, 20.0), (5, 1, 0)).window_max(5.0)
    assert [m.at(t) for t in (-5.0, 6.0, 10.0, 16.0, 20.0)] == [5, 5, 1, 1, 0]


def _late_burst() -> list[Job]:
    """40 x 1 GB for 600 s at t=1200 (16 GB more than the two core nodes hold), then one small job at t=4000."""
    return [Job("late", 1200.0, (Stage(40, 1024, 1, 600.0),)), Job("tail", 4000.0, (Stage(1, 1024, 1, 60.0),))]


def test_hindsight_has_the_nodes_up_when_the_burst_arrives() -> None:
    """Foresight: every task starts at submit (slowdown 1); pending-demand buys at submit and waits a boot."""
    config = make_cluster_config(cluster_id="j-SIMULATED")
    seen = simulate_policy(_late_burst(), default_spec(), [PolicySpec(type="hindsight")], config, None, 1)
    late = simulate_policy(_late_burst(), default_spec(), [PolicySpec(type="pending-demand")], config, None, 1)
    assert seen.slowdown["p95"] == pytest.approx(1.0)
    assert late.slowdown["p95"] > 1.2
    assert seen.resizes >= 2  # bought ahead, and gave back once the future no longer needed it


def test_same_seed_same_result(data: Path) -> None:
    """Two hindsight runs with one seed agree exactly."""
    jobs = load_trace(data / FIRST50)
    config = make_cluster_config(cluster_id="j-SIMULATED")
    runs = [simulate_policy(jobs, default_spec(), [PolicySpec(type="hindsight")], config, None, 7) for _ in "ab"]
    a, b = ({f: getattr(r, f) for f in r.__dataclass_fields__ if f != "sim_wall_s"} for r in runs)
    assert a == b


def test_the_daemon_cannot_load_it() -> None:
    """Not in the entry-point group: `run`, `validate` and `explain` know no `hindsight`."""
    with pytest.raises(PolicyError, match="unknown policy 'hindsight'"):
        load_policy(PolicySpec(type="hindsight"))


def test_bad_option_is_a_located_error(tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "clusters:\n  - cluster_id: j-SIMULATED\n    yarn: {urls: ['http://simulated:8088']}\n"
        "    policies: [{type: hindsight, options: {max_wait_s: -1}}]\n"
    )
    argv = ["--trace", str(data / FIRST50), "--policy", "hindsight", "--config", str(config)]
    assert main([*argv, "--report", str(tmp_path / "r.json")]) == 2
    assert "policies[0].options: max_wait_s:" in capsys.readouterr().err


def test_simulate_runs_it_beside_daemon_policies(tmp_path: Path, data: Path) -> None:
    report = tmp_path / "r.json"
    argv = ["--trace", str(data / FIRST50), "--policy", "hindsight", "--policy", "dataproc"]
    assert main([*argv, "--report", str(report)]) == 0
    results = json.loads(report.read_text())["results"]
    assert [r["policy"] for r in results] == ["hindsight", "dataproc"]
    assert all(r["jobs_completed"] == 50 for r in results)


@pytest.mark.parametrize(("guards", "profile"), [(None, "vendor"), ("ours", "ours")])
def test_it_runs_under_no_timing_guards_unless_the_config_says_ours(guards: str | None, profile: str) -> None:
    """Its plan times every resize already; `guards: ours` in its policies entry puts our cooldowns back."""
    spec = default_spec()
    config = make_cluster_config(cluster_id="j-SIMULATED")
    (policy,) = contestant_policies(
        [PolicySpec(type="hindsight", guards=guards)],
        _late_burst(),
        spec=spec,
        config=config,
        prices=build_prices(config, spec, None),
        poll_interval_s=30.0,
    )
    assert guard_profile(policy) == profile
