"""The two oracle floors and the always-on / controllable split, by hand and as invariants over traces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoscaler.config import PolicySpec
from autoscaler.sim.command import main
from autoscaler.sim.demand import DemandCurve, ideal_demand
from autoscaler.sim.oracle import backlog_and_excess
from autoscaler.sim.runner import simulate_policy
from autoscaler.sim.spec import default_spec
from autoscaler.sim.trace import Job, Stage, load_trace
from autoscaler.testing import make_cluster_config

FIRST50 = "traces/swim/FB-2009_samples_24_times_1hr_0_first50jobs.tsv"
ALIBABA = "traces/alibaba_v2017/batch_task_v2017_with_header.csv"
CONTESTANTS = [
    "static",
    "emr-rules",
    "dataproc",
    "managed-scaling-like",
    "pending-demand",
    "pending-demand+idle-capacity",
    "hindsight",
]

# The default cluster without a Spot history: master + 2 core m5.xlarge on-demand (0.192 EC2 + 0.048 EMR)
# always on; task Spot at 0.35 x on-demand EC2 + EMR = 0.1152 USD/h for 12,288 YARN MB.
ALWAYS_ON_USD_H = 3 * 0.24
HELD_MB = 2 * 12288
SPOT_USD_PER_MB_S = (0.35 * 0.192 + 0.048) / 3600 / 12288


def _two_bursts(tmp_path: Path) -> Path:
    """48 x 1 GB for 100 s at t=0 and again at t=3500: the span is 3600 s."""
    stage = {"tasks": 48, "memory_mb": 1024, "vcores": 1, "task_s": 100}
    lines = [json.dumps({"id": name, "submit_s": at, "stages": [stage]}) for name, at in (("a", 0), ("b", 3500))]
    path = tmp_path / "two.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_two_job_floors_computed_by_hand(tmp_path: Path) -> None:
    """Always-on $0.72 for the hour; 24,576 MB above the core nodes for 100 s in each burst.

    No-wait floor: both bursts' excess, 2 x 24,576 MB x 100 s at the Spot price per MB-second:
    0.72 + 4,915,200 x 0.1152 / 3600 / 12,288 = 0.7328.
    Oracle floor: the first burst can wait and run on the idle core nodes during the next hour; the
    last cannot (the trace ends): 0.72 + 2,457,600 x the same price = 0.7264.
    """
    report = tmp_path / "r.json"
    argv = ["--trace", str(_two_bursts(tmp_path)), "--policy", "emr-rules", "--policy", "hindsight"]
    assert main([*argv, "--report", str(report), "--seed", "1"]) == 0
    for r in json.loads(report.read_text())["results"]:
        assert r["always_on_usd"] == pytest.approx(ALWAYS_ON_USD_H, abs=1e-6)
        assert r["no_wait_floor_usd"] == pytest.approx(ALWAYS_ON_USD_H + 2 * HELD_MB * 100 * SPOT_USD_PER_MB_S)
        assert r["no_wait_floor_usd"] == pytest.approx(0.7328, abs=1e-6)
        assert r["oracle_floor_usd"] == pytest.approx(ALWAYS_ON_USD_H + HELD_MB * 100 * SPOT_USD_PER_MB_S)
        assert r["oracle_floor_usd"] == pytest.approx(0.7264, abs=1e-6)
        assert r["controllable_cost_usd"] == pytest.approx(r["cost_usd"] - r["always_on_usd"], abs=1e-6)
        assert r["cost_usd"] >= r["oracle_floor_usd"]


def test_table_shows_the_controllable_cost_and_both_floors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--trace", str(_two_bursts(tmp_path)), "--policy", "static", "--report", str(tmp_path / "r.json")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "ctrl $" in out
    assert "oracle floor: $0.73" in out
    assert "no-wait floor: $0.73" in out
    assert "always-on: $0.72" in out


def test_fluid_backlog_carries_over_and_excess_does_not() -> None:
    """H = 10: 30 for 2 s, then 0 for 1 s, then 20 for 1 s. Excess 40 + 10; backlog 40 - 10 + 10 = 40."""
    curve = DemandCurve((0.0, 2.0, 3.0, 4.0), (30, 0, 20, 0))
    assert backlog_and_excess(curve, 10) == (40.0, 50.0)


def test_ideal_demand_follows_the_no_wait_schedule() -> None:
    """Two 1 GB tasks for 10 s, then one 2 GB task for 5 s: 2048 MB over [0, 10), 2048 over [10, 15)."""
    job = Job("j", 0.0, (Stage(2, 1024, 1, 10.0), Stage(1, 2048, 1, 5.0)))
    curve = ideal_demand([job])
    assert (curve.at(0.0), curve.at(12.0), curve.at(15.0)) == (2048, 2048, 0)
    assert curve.mb_seconds() == 2 * 1024 * 10 + 2048 * 5


def _slice(data: Path, tmp_path: Path) -> Path:
    """Alibaba tasks created in the trace's first three hours (300 of them): a few hours' run."""
    header, *rows = (data / ALIBABA).read_text().splitlines()
    rows = [r for r in rows if r.split(",")[0].isdigit()]
    start = min(int(r.split(",")[0]) for r in rows)
    kept = [r for r in rows if int(r.split(",")[0]) < start + 3 * 3600][:300]
    path = tmp_path / "alibaba-slice.csv"
    path.write_text("\n".join([header, *kept]) + "\n")
    return path


@pytest.mark.parametrize("policy", CONTESTANTS)
@pytest.mark.parametrize("trace", ["fb2009", "alibaba"])
def test_no_contestant_beats_the_oracle_floor(data: Path, tmp_path: Path, policy: str, trace: str) -> None:
    """On the first 50 FB-2009 jobs and an Alibaba slice every contestant, hindsight too, costs at least the floor."""
    jobs = load_trace(data / FIRST50) if trace == "fb2009" else load_trace(_slice(data, tmp_path), scale=0.01)
    config = make_cluster_config(cluster_id="j-SIMULATED", limits={"max_task_units": 40})
    specs = [PolicySpec(type=p, options={"units": 10} if p == "static" else {}) for p in policy.split("+")]
    result = simulate_policy(jobs, default_spec(), specs, config, None, 3)
    assert result.extras["overrun_stop"] is False
    assert result.jobs_completed + result.extras["jobs_rejected"] == result.jobs
    assert result.cost_usd >= result.oracle_floor_usd >= result.always_on_usd > 0
    assert result.no_wait_floor_usd is not None
    assert result.no_wait_floor_usd >= result.oracle_floor_usd
    assert result.controllable_cost_usd == pytest.approx(result.cost_usd - result.always_on_usd, abs=1e-6)
