"""`trace import --recording`: each app's asks and allocation tick by tick become stages that keep its
work and its wanted parallelism; apps the recording saw only in part are skipped by reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoscaler.cli import main
from autoscaler.model import AppInfo, PendingRequest, Resources
from autoscaler.record_codec import TickRecord, dumps
from autoscaler.sim.conversion import ConversionModel
from autoscaler.sim.recording import read_recording
from autoscaler.sim.trace import load_trace
from autoscaler.testing import T0, make_pool, make_snapshot
from autoscaler.trace_import.recording import convert_recording
from autoscaler.trace_import.stats import ImportStats

AM, TASK = Resources(1024, 1), Resources(2048, 1)


def _app(app_id: str, state: str, *, held: int = 0, asks: int = 0, am_ask: bool = False) -> AppInfo:
    """An app holding its AM and `held` task containers, asking for `asks` more (or for its AM)."""
    pending = (PendingRequest(AM, 1, app_id),) if am_ask else ((PendingRequest(TASK, asks, app_id),) if asks else ())
    running = held + 1 if state == "RUNNING" else 0
    allocated = Resources(AM.memory_mb + held * TASK.memory_mb, 1 + held) if running else Resources(0, 0)
    return AppInfo(app_id, state, "etl", None, pending, T0 + 5, allocated, running)


def _write(directory: Path, apps_per_tick: list[list[AppInfo]], step: float = 60.0) -> None:
    directory.mkdir()
    lines = [
        dumps(TickRecord(T0 + step * i, make_snapshot(taken_at=T0 + step * i, apps=apps, pools=[make_pool()])))
        for i, apps in enumerate(apps_per_tick)
    ]
    (directory / "j-TEST-000001.jsonl").write_text("\n".join(lines) + "\n")


def test_stages_keep_the_work_and_the_wanted_parallelism(tmp_path: Path) -> None:
    """Minute ticks: accepted; AM alone; 4 tasks held + 4 asked (two ticks); 8 held (one); gone.

    Stage 1: w = 8 for two minutes with 4 held: 480 container-s → 8 tasks of 60 s.
    Stage 2: w = 8 again (8 held, the last tick seen: half a minute): merged, 8 × 30 s more → 8 × 90 s.
    """
    ticks = [
        [],
        [_app("a1", "ACCEPTED", am_ask=True)],
        [_app("a1", "RUNNING")],
        [_app("a1", "RUNNING", held=4, asks=4)],
        [_app("a1", "RUNNING", held=4, asks=4)],
        [_app("a1", "RUNNING", held=8)],
        [],
    ]
    _write(tmp_path / "rec", ticks)
    stats = ImportStats()
    (job,) = convert_recording(read_recording(tmp_path / "rec"), ConversionModel(), stats)
    assert job["am"] == {"memory_mb": 1024, "vcores": 1}
    assert job["am_start_s"] == 60.0  # AM alone for one tick before any task ran or was asked for
    assert job["queue"] == "etl"
    assert job["stages"] == [{"tasks": 8, "memory_mb": 2048, "vcores": 1, "task_s": 90.0}]
    assert stats.headline() == "read 1 apps, kept 1, skipped 0"


def test_partial_apps_are_skipped_by_reason_and_bad_lines_named(tmp_path: Path) -> None:
    ticks = [
        [_app("early", "RUNNING", held=2)],
        [_app("early", "RUNNING", held=2), _app("idle", "RUNNING")],
        [_app("late", "ACCEPTED", am_ask=True)],
        [_app("late", "RUNNING", held=1)],
    ]
    _write(tmp_path / "rec", ticks)
    path = tmp_path / "rec" / "j-TEST-000001.jsonl"
    path.write_text(path.read_text() + '{"v":1,"at":1}\n')
    stats = ImportStats()
    jobs = convert_recording(read_recording(tmp_path / "rec"), ConversionModel(), stats)
    assert jobs == []
    assert dict(stats.skipped) == {
        "running when the recording began (its start is not recorded)": 1,
        "never seen holding a task container": 1,
        "still running when the recording ended": 1,
        "unreadable recording line": 1,
    }
    assert stats.first["unreadable recording line"].startswith("j-TEST-000001.jsonl:5: record: ")


def test_the_command_writes_a_trace_simulate_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ticks = [[], *[[_app(f"a{k}", "RUNNING", held=3, asks=1) for k in range(3)]] * 4, []]
    ticks[1] = [_app(f"a{k}", "ACCEPTED", am_ask=True) for k in range(3)]
    _write(tmp_path / "rec", ticks)
    out = tmp_path / "t.jsonl"
    assert main(["trace", "import", "--recording", str(tmp_path / "rec"), "-o", str(out)]) == 0
    assert "read 3 apps, kept 3, skipped 0" in capsys.readouterr().out
    jobs = load_trace(out)
    assert [j.stages[0].tasks for j in jobs] == [4, 4, 4]
    report = tmp_path / "r.json"
    assert main(["simulate", "--trace", str(out), "--policy", "pending-demand", "--report", str(report)]) == 0
    assert json.loads(report.read_text())["results"][0]["jobs_completed"] == 3
    assert main(["trace", "import", "--recording", str(tmp_path / "nope"), "-o", str(out)]) == 2
    assert "--recording" in capsys.readouterr().err
