from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoscaler.config import PolicySpec
from autoscaler.model import Market
from autoscaler.prices import SpotHistory
from autoscaler.sim.billing import Ledger, PriceBook
from autoscaler.sim.command import main
from autoscaler.sim.runner import simulate_policy
from autoscaler.sim.spec import default_spec
from autoscaler.sim.trace import load_trace
from autoscaler.testing import make_cluster_config

from .conftest import PRICES

FIRST50 = "traces/swim/FB-2009_samples_24_times_1hr_0_first50jobs.tsv"


def test_billing_per_second_with_one_minute_minimum() -> None:
    """A node billed 10 s pays 60 s; one billed 90 s pays exactly 90 s (EC2 0.192 + EMR 0.048 per hour)."""
    ledger = Ledger(PriceBook(PRICES))
    ledger.open("short", "m5.xlarge", Market.ON_DEMAND, 0.0)
    ledger.open("long", "m5.xlarge", Market.ON_DEMAND, 0.0)
    assert ledger.close("short", 10.0) == pytest.approx(0.24 * 60 / 3600)
    assert ledger.close("long", 90.0) == pytest.approx(0.24 * 90 / 3600)


def test_spot_price_replayed_from_history_aligned_to_start() -> None:
    """Spot pays the history's price in force, with the first row aligned to simulated time 0."""
    text = "use1-az1\tm5.xlarge\tLinux/UNIX\t0.0500\t2022-05-31T18:00:00+00:00\n"
    text += "use1-az1\tm5.xlarge\tLinux/UNIX\t0.0800\t2022-05-31T19:00:00+00:00\n"
    book = PriceBook(PRICES, spot_history=SpotHistory.parse(text), start_at=1000.0)
    assert book.ec2("m5.xlarge", Market.SPOT, 1000.0 + 1800) == pytest.approx(0.05)
    assert book.ec2("m5.xlarge", Market.SPOT, 1000.0 + 3600) == pytest.approx(0.08)
    assert book.ec2("m5.2xlarge", Market.SPOT, 1000.0) == pytest.approx(0.384 * 0.35)  # not in the history
    assert book.min_usd_per_hour("m5.xlarge", Market.SPOT) == pytest.approx(0.05 + 0.048)


def test_same_seed_same_result(data: Path) -> None:
    """Two runs with one seed agree exactly (boot delays and Spot interruptions included)."""
    jobs = load_trace(data / FIRST50)
    config = make_cluster_config(cluster_id="j-SIMULATED")
    runs = [simulate_policy(jobs, default_spec(), [PolicySpec(type="pending-demand")], config, None, 7) for _ in "ab"]
    a, b = ({k: v for k, v in vars_of(r).items() if k != "sim_wall_s"} for r in runs)
    assert a == b


def vars_of(result: object) -> dict[str, object]:
    return {f: getattr(result, f) for f in result.__dataclass_fields__}  # type: ignore[attr-defined]


def test_simulate_command_writes_the_design_report(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`simulate` writes DESIGN §5's report fields per policy and prints a table."""
    report = tmp_path / "out.json"
    plot = tmp_path / "plot.html"
    argv = ["--trace", str(data / FIRST50), "--policy", "static", "--policy", "pending-demand"]
    assert main([*argv, "--report", str(report), "--seed", "5", "--plot", str(plot)]) == 0
    doc = json.loads(report.read_text())
    assert doc["seed"] == 5
    assert [r["policy"] for r in doc["results"]] == ["static", "pending-demand"]
    required = {"policy", "cost_usd", "oracle_floor_usd", "jobs", "jobs_completed", "wait_s", "slowdown"}
    required |= {"node_hours", "resizes", "interruptions", "sim_wall_s"}
    required |= {"always_on_usd", "controllable_cost_usd", "no_wait_floor_usd"}
    for r in doc["results"]:
        assert required <= set(r)
        assert set(r["wait_s"]) == {"p50", "p95", "p99", "mean"}
        assert set(r["slowdown"]) == {"p50", "p95"}
    assert "pending-demand" in capsys.readouterr().out
    assert "<svg" in plot.read_text()


def test_simulate_command_reports_trace_errors_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed trace exits 2 with file:line on stderr."""
    trace = tmp_path / "bad.jsonl"
    trace.write_text('{"id": "a", "submit_s": 0, "stages": [{"tasks": "x"}]}\n')
    code = main(["--trace", str(trace), "--policy", "static", "--report", str(tmp_path / "r.json")])
    assert code == 2
    assert "bad.jsonl:1: stages[0].tasks" in capsys.readouterr().err


def test_simulate_command_rejects_unknown_policy(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown --policy lists the available ones."""
    code = main(["--trace", str(data / FIRST50), "--policy", "nope", "--report", str(tmp_path / "r.json")])
    assert code == 2
    assert "available:" in capsys.readouterr().err
