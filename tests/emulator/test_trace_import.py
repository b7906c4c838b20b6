"""`trace import --yarn` against the emulator's real HTTP RM: finished apps with their times, memory- and
vcore-seconds and AM size, paged by finish-time windows; the trace it writes replays; bad records are
counted by reason, never a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoscaler.cli import main as cli_main
from autoscaler.emulator.server import Emulator
from autoscaler.emulator.yarn_history import render_finished
from autoscaler.model import Market, PoolRole, Resources
from autoscaler.sim.billing import PriceBook
from autoscaler.sim.cluster import SimCluster
from autoscaler.sim.conversion import ConversionModel
from autoscaler.sim.job import Job, Stage
from autoscaler.sim.spec import ClusterSpec, group
from autoscaler.sim.trace import load_trace
from autoscaler.trace_import.yarn import YarnStats, convert, fetch_history, rm_fetch

START = 1_699_920_000.0  # 2023-11-14T00:00:00Z
JOBS = 12


def _finished_cluster() -> SimCluster:
    """Twelve jobs, one every 5 minutes, run to completion on a fixed cluster."""
    spec = ClusterSpec(
        pools=(
            group("ig-master", PoolRole.MASTER, Market.ON_DEMAND, 1),
            group("ig-core", PoolRole.CORE, Market.ON_DEMAND, 4),
        ),
        start_at=START,
    )
    cluster = SimCluster(spec, PriceBook({"m5.xlarge": 0.192}, start_at=START), seed=0)
    for i in range(JOBS):
        stages = (Stage(4 + i, 2048, 1, 60.0), Stage(2, 4096, 2, 30.0))
        cluster.submit(Job(f"job{i}", 300.0 * i, stages, queue="etl" if i % 2 else "adhoc", am=Resources(1024, 1)))
    cluster.advance_to(START + 6 * 3600)
    assert len(cluster.workload.completed) == JOBS
    return cluster


@pytest.fixture(scope="module")
def emulator() -> object:
    with Emulator(_finished_cluster(), time_scale=0) as emu:
        yield emu


def test_emulator_serves_finished_apps_with_the_fields_import_reads(emulator: Emulator) -> None:
    fetch = rm_fetch(emulator.yarn_url)
    body = fetch({"states": "FINISHED,KILLED,FAILED"})
    apps = body["apps"]["app"]
    assert len(apps) == JOBS
    app = apps[0]
    assert app["state"] == "FINISHED"
    assert app["submittedTime"] <= app["launchTime"] <= app["finishedTime"]
    assert app["queue"] in {"etl", "adhoc"}
    assert app["applicationType"] == "MAPREDUCE"
    assert app["resourceInfo"]["resourceUsagesByPartition"][0]["amUsed"] == {"memory": 1024, "vCores": 1}
    span = (app["finishedTime"] - app["launchTime"]) / 1000
    assert app["memorySeconds"] == round(4 * 2048 * 60 + 2 * 4096 * 30 + 1024 * span)
    assert fetch({"states": "RUNNING,ACCEPTED"})["apps"] is None  # the daemon's query sees none of them


def test_history_pages_by_halving_full_windows(emulator: Emulator) -> None:
    stats = YarnStats()
    apps = list(
        fetch_history(
            rm_fetch(emulator.yarn_url),
            int(START * 1000),
            int((START + 6 * 3600) * 1000),
            stats,
            window_ms=6 * 3_600_000,
            limit=3,
        )
    )
    assert sorted(a["name"] for a in apps) == sorted(f"job{i}" for i in range(JOBS))
    assert stats.requests > 4  # one six-hour window of 12 apps at 3 a page had to be split
    assert stats.full_windows == 0


def test_trace_import_writes_a_trace_that_replays(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "trace.jsonl"
    argv = ["trace", "import", "--yarn", emulator.yarn_url, "--since", "2023-11-14T00:00:00Z"]
    assert cli_main([*argv, "--until", "2023-11-14T06:00:00Z", "--window-s", "900", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"kept {JOBS}, skipped 0" in printed
    jobs = load_trace(out)
    assert len(jobs) == JOBS
    assert jobs[0].submit_s == 0.0
    assert jobs[1].submit_s == pytest.approx(300.0, abs=0.01)
    assert {j.queue for j in jobs} == {"etl", "adhoc"}
    assert all(j.am == Resources(1024, 1) for j in jobs)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(len(r["stages"]) == 1 for r in rows)
    capsys.readouterr()
    report = tmp_path / "r.json"
    assert cli_main(["simulate", "--trace", str(out), "--policy", "static", "--report", str(report)]) == 0
    assert json.loads(report.read_text())["results"][0]["jobs_completed"] == JOBS


def test_bad_records_are_counted_by_reason_with_the_first_one() -> None:
    good = {
        "id": "application_1_0001",
        "state": "FINISHED",
        "startedTime": 1_000_000,
        "launchTime": 1_010_000,
        "finishedTime": 1_070_000,
        "memorySeconds": 3072 * 60 * 3 + 6144 * 60,
        "vcoreSeconds": 240,
        "queue": "q",
    }
    bad = [
        "not an object",
        {**good, "id": "application_1_0002", "finishedTime": None},
        {**good, "id": "application_1_0003", "launchTime": 2_000_000},
        {**good, "id": "application_1_0004", "memorySeconds": -1},
        {**good, "id": "application_1_0005", "state": "RUNNING"},
        {**good, "id": "application_1_0006", "launchTime": 0},
        good,  # the same app again (a window edge): one app
    ]
    stats = YarnStats()
    (job,) = convert(iter([good, *bad]), ConversionModel(), stats)
    assert (stats.read, stats.kept, sum(stats.skipped.values())) == (7, 1, 6)
    assert stats.skipped["times out of order (submit <= launch <= finish)"] == 1
    assert stats.first["missing submit or finish time"] == "record 3, application_1_0002"
    # memory-seconds kept: 3 tasks of 3072 MB for the 60 s span, after the default 6144 MB AM's share
    assert job["stages"] == [{"tasks": 3, "memory_mb": 3072, "vcores": 1, "task_s": 60.0}]
    assert "skipped 1: not a JSON object (first: record 2)" in stats.summary()


def test_an_rm_that_is_not_there_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["trace", "import", "--yarn", "http://127.0.0.1:9", "--since", "2023-11-14T00:00:00Z"]
    assert cli_main([*argv, "--until", "2023-11-14T01:00:00Z", "-o", str(tmp_path / "t.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --yarn http://127.0.0.1:9:")
    assert "Traceback" not in err


def test_a_compressed_clock_serves_a_consistent_workload() -> None:
    """demo's wall clock serves times 10x compressed: resource-seconds shrink alike, so the import's task
    count (memory-seconds over size x span) is the same as on the emulated clock."""
    jr = _finished_cluster().workload.completed[0]

    def fast(t: float) -> float:
        return START + (t - START) / 10

    plain = render_finished(jr, START)
    compressed = render_finished(jr, START, fast)
    assert plain is not None
    assert compressed is not None
    assert compressed["memorySeconds"] == pytest.approx(plain["memorySeconds"] / 10, rel=0.01)
    (a,), (b,) = (
        convert(iter([plain]), ConversionModel(), YarnStats()),
        convert(iter([compressed]), ConversionModel(), YarnStats()),
    )
    assert a["stages"][0]["tasks"] == b["stages"][0]["tasks"]
