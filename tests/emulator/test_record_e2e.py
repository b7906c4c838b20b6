"""The real daemon with `record_dir` against the emulator: what it records replays (`simulate --replay`,
where the live policies plan exactly as the daemon did), and converts to a trace `simulate` runs
(`trace import --recording`), keeping the jobs' work to the tick sampling."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from autoscaler.cli import main as cli_main
from autoscaler.emulator.demo import DemoSettings, daemon_config, daemon_env, demo_jobs, demo_spec, running_daemon
from autoscaler.emulator.server import Emulator
from autoscaler.prices import load_ondemand_table
from autoscaler.sim.billing import PriceBook
from autoscaler.sim.cluster import SimCluster
from autoscaler.sim.recording import read_recording
from autoscaler.sim.trace import load_trace
from autoscaler.testing import free_port

pytestmark = pytest.mark.e2e
SCALE = 60.0  # emulated seconds per real second


def _cluster(start_at: float) -> SimCluster:
    """The demo cluster and jobs, submitted 6 and 7 emulated minutes in: after the recording begins."""
    cluster = SimCluster(demo_spec(start_at), PriceBook(load_ondemand_table(), start_at=start_at))
    for i, job in enumerate(demo_jobs()):
        cluster.submit(replace(job, submit_s=360.0 + 60.0 * i))
    return cluster


def test_a_recorded_day_replays_and_imports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cluster = _cluster(time.time())
    rec = tmp_path / "rec"
    with Emulator(cluster, time_scale=SCALE, wall_clock=True) as emu:
        data = daemon_config(emu.yarn_url, DemoSettings(time_scale=SCALE, poll_interval_s=1.0))
        data["clusters"][0]["record_dir"] = str(rec)
        config = tmp_path / "daemon.yaml"
        config.write_text(yaml.safe_dump(data))
        log_path = tmp_path / "daemon.log"
        with log_path.open("w") as log, running_daemon(config, free_port(), daemon_env(emu.emr_url), log) as proc:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and proc.poll() is None:
                with emu.locked():
                    done = len(cluster.workload.completed)
                if done == 2:
                    break
                time.sleep(0.5)
            time.sleep(3)  # a few ticks with both jobs gone
        assert emu.error is None
    assert done == 2, log_path.read_text()[-3000:]
    recording = read_recording(rec)
    assert recording.bad_lines == ()
    assert len(recording.ticks) >= 10
    assert any(t.plan.resizes for t in recording.ticks)  # the daemon did scale the task group

    report = tmp_path / "replay.json"
    argv = ["simulate", "--replay", str(rec), "--config", str(config), "--policy", "pending-demand+idle-capacity"]
    assert cli_main([*argv, "--policy", "static", "--report", str(report)]) == 0
    live, static = json.loads(report.read_text())["results"]
    assert live["ticks_as_live"] == len(recording.ticks)  # the same inputs, the same decisions
    assert live["would_be_cost_usd"] == pytest.approx(live["actual_cost_usd"], rel=0.05)
    assert static["unpriced_s"] == 0  # the recorded Spot and on-demand prices price every tick
    assert live["actual_cost_usd"] > 0

    trace = tmp_path / "trace.jsonl"
    assert cli_main(["trace", "import", "--recording", str(rec), "-o", str(trace)]) == 0
    out = capsys.readouterr().out
    assert "read 2 apps, kept 2, skipped 0" in out, out
    jobs = load_trace(trace)
    assert [j.am and j.am.memory_mb for j in jobs] == [1024, 1024]
    assert {s.memory_mb for j in jobs for s in j.stages} == {2048}
    # the work: 36 (12) tasks of 150 s and 2 of 30 s, 2 GB each, on a clock compressed SCALE times
    for job, tasks in zip(jobs, (36, 12), strict=True):
        real = (tasks * 150 + 2 * 30) * 2048 / SCALE
        imported = sum(s.mb_seconds for s in job.stages)
        assert imported == pytest.approx(real, rel=0.35), (job.id, imported, real)
    result = tmp_path / "sim.json"
    assert cli_main(["simulate", "--trace", str(trace), "--policy", "pending-demand", "--report", str(result)]) == 0
    assert json.loads(result.read_text())["results"][0]["jobs_completed"] == 2
