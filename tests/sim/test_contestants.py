from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoscaler.config import PolicySpec
from autoscaler.model import Resources
from autoscaler.sim import runner
from autoscaler.sim.command import main
from autoscaler.sim.job import Job, Stage
from autoscaler.sim.peak import peak_demand_mb, size_for_peak
from autoscaler.sim.report import format_table
from autoscaler.sim.runner import simulate_policy
from autoscaler.sim.spec import default_spec
from autoscaler.testing import make_cluster_config

from .conftest import book

FIRST50 = "traces/swim/FB-2009_samples_24_times_1hr_0_first50jobs.tsv"


def _two_jobs() -> list[Job]:
    a = Job("a", 0.0, (Stage(3, 1024, 1, 10.0), Stage(1, 2048, 1, 4.0)), am=Resources(1536, 1), am_start_s=5.0)
    b = Job("b", 10.0, (Stage(2, 1024, 1, 20.0),))
    return [a, b]


def test_peak_is_the_ideal_schedules_highest_running_memory() -> None:
    """a: AM 1536 over [0,19], 3 × 1 GB over [5,15], 2 GB over [15,19]; b: 2 × 1 GB over [10,30] → 6656 MB at 10-15."""
    assert peak_demand_mb(_two_jobs()) == 1536 + 3 * 1024 + 2 * 1024


def test_static_is_sized_in_the_cheapest_task_pool_above_the_core_nodes() -> None:
    """Peak = 2 cores (24,576 MB) + 2.5 nodes → 3 Spot task units (Spot is the cheaper task pool)."""
    spec = default_spec()
    job = Job("wide", 0.0, (Stage(24 + 30, 1024, 1, 60.0),))  # 54 GB: 24 on the cores, 30 GB = 2.5 nodes
    sizing = size_for_peak([job], spec, book(spec))
    assert sizing is not None
    assert (sizing.pool_id, sizing.units, sizing.core_mb) == ("ig-task-spot", 3, 24576)
    assert size_for_peak([job], spec, book(spec), max_units=2).units == 2  # type: ignore[union-attr]


def test_static_holds_the_am_share_many_small_jobs_need() -> None:
    """60 one-task jobs at once, each a 6 GB AM + a 1 GB task: 420 GB of containers (34.2 nodes), but
    YARN starts AMs only within 10% of the cluster, so 360 GB of AMs need 3,600 GB: 300 nodes, 2 of them core."""
    spec = default_spec()
    jobs = [Job(f"j{i}", 0.0, (Stage(1, 1024, 1, 60.0),), am=Resources(6144, 1)) for i in range(60)]
    sizing = size_for_peak(jobs, spec, book(spec))
    assert sizing is not None
    assert sizing.peak_mb == 60 * 6144 * 10
    assert sizing.units == 300 - 2


def test_simulate_static_without_options_reports_its_peak_size(tmp_path: Path, data: Path) -> None:
    """`--policy static` with no configured size runs sized for the peak and reports static_units."""
    report = tmp_path / "r.json"
    assert main(["--trace", str(data / FIRST50), "--policy", "static", "--report", str(report)]) == 0
    (result,) = json.loads(report.read_text())["results"]
    assert result["policy"] == "static"
    assert result["static_pool"] == "ig-task-spot"
    assert result["static_units"] >= 1
    # up to the fixed size at max_step_up_units (10) a tick, never another resize
    assert result["resizes"] == -(-result["static_units"] // 10)
    assert result["jobs_completed"] == result["jobs"]


def test_combined_contestant_runs_both_policies_under_the_joined_name(tmp_path: Path, data: Path) -> None:
    """`A+B` is one contestant: idle-capacity scales in what pending-demand alone keeps forever."""
    report = tmp_path / "r.json"
    argv = ["--trace", str(data / FIRST50), "--policy", "pending-demand", "--policy", "pending-demand+idle-capacity"]
    assert main([*argv, "--report", str(report)]) == 0
    alone, together = json.loads(report.read_text())["results"]
    assert together["policy"] == "pending-demand+idle-capacity"
    assert together["resizes"] > alone["resizes"]
    assert together["node_hours"] < alone["node_hours"]


@pytest.mark.parametrize(("policy", "message"), [("pending-demand+nope", "unknown nope"), ("static+static", "twice")])
def test_combined_contestant_names_are_checked(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str], policy: str, message: str
) -> None:
    """A combined name with an unknown or repeated policy exits 2 naming the problem."""
    code = main(["--trace", str(data / FIRST50), "--policy", policy, "--report", str(tmp_path / "r.json")])
    assert code == 2
    assert message in capsys.readouterr().err


def test_overrun_stop_is_flagged_in_result_and_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run cut off with jobs unfinished says so (overrun_stop, `!` in the table); a finished run does not."""
    monkeypatch.setattr(runner, "MAX_OVERRUN_S", 600.0)
    config = make_cluster_config(cluster_id="j-SIMULATED")
    long_job = Job("long", 0.0, (Stage(1, 1024, 1, 3600.0),))
    cut = simulate_policy([long_job], default_spec(), [PolicySpec(type="static")], config, None, 1)
    done = simulate_policy(_two_jobs(), default_spec(), [PolicySpec(type="static")], config, None, 1)
    assert cut.jobs_completed == 0
    assert cut.extras["overrun_stop"] is True
    assert done.extras["overrun_stop"] is False
    table = format_table([cut, done])
    assert "0/1!" in table
    assert "2/2!" not in table
    assert "jobs unfinished" in table
