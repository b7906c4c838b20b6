"""`trace import --spark-logs` on real Spark event logs from Apache Spark's own test resources
(tests/fixtures/spark-events/README.md): what it keeps, what it skips and why, and that the trace replays."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from autoscaler.cli import main as cli_main
from autoscaler.sim.trace import load_trace
from autoscaler.trace_import.spark import import_spark_logs
from autoscaler.trace_import.spark_convert import am_shape, task_shape
from autoscaler.trace_import.spark_events import AppEvents, used

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "spark-events"
COMPLETE = FIXTURES / "application_1578436911597_0052"  # whole log: 1 job, 1 stage, 6 tasks
CUT = FIXTURES / "application_1516285256255_0012"  # cut at a line boundary inside job 0


def _events(path: Path, name: str) -> list[dict[str, object]]:
    return [e for e in map(json.loads, path.read_text().splitlines()) if e["Event"] == name]


def test_a_complete_yarn_log_becomes_its_job_and_its_am() -> None:
    jobs, stats = import_spark_logs(str(COMPLETE))
    assert (stats.read, stats.kept, stats.jobs_kept, stats.ams_kept) == (1, 1, 1, 1)
    assert sum(stats.bad.values()) == 0
    by_id = {j["id"]: j for j in jobs}
    job = by_id["application_1578436911597_0052:job0"]
    (stage,) = job["stages"]
    ends = _events(COMPLETE, "SparkListenerTaskEnd")
    spans = sorted((e["Task Info"]["Launch Time"], e["Task Info"]["Finish Time"]) for e in ends)  # type: ignore[index]
    assert stage["tasks"] == len(ends) == 6
    assert stage["task_s"] == [round(max(0.001, (f - s) / 1000), 3) for s, f in spans]
    # the stage ran in resource profile 3: 4 executor cores, 2 cpus a task; memory: the 1g default + 384 MiB
    assert (stage["memory_mb"], stage["vcores"]) == ((1024 + 384) // 2, 2)
    (start,) = _events(COMPLETE, "SparkListenerApplicationStart")
    (end,) = _events(COMPLETE, "SparkListenerApplicationEnd")
    (job_start,) = _events(COMPLETE, "SparkListenerJobStart")
    am = by_id["application_1578436911597_0052:am"]
    assert am["stages"] == [
        {"tasks": 1, "memory_mb": 512 + 384, "vcores": 1, "task_s": (end["Timestamp"] - start["Timestamp"]) / 1000}
    ]  # type: ignore[operator]
    assert job["submit_s"] - am["submit_s"] == (job_start["Submission Time"] - start["Timestamp"]) / 1000  # type: ignore[operator]


def test_a_log_cut_short_keeps_nothing_unfinished_and_says_where() -> None:
    jobs, stats = import_spark_logs(str(CUT))
    assert jobs == []
    assert (stats.read, stats.kept, stats.jobs_read) == (1, 0, 1)
    assert stats.job_skips["job did not end in the log (log cut short or app still running)"] == 1
    assert stats.first["job: job did not end in the log (log cut short or app still running)"] == f"{CUT}:14"
    assert "skipped 1 app: nothing to import (every job skipped)" in stats.summary()


def test_executor_and_am_sizes_follow_sparks_properties() -> None:
    """The cut log's real properties: --executor-memory 2G, client mode, no cores or overhead set."""
    app = AppEvents()
    (env,) = _events(CUT, "SparkListenerEnvironmentUpdate")
    app.add(env, "env")
    assert app.props["spark.executor.memory"] == "2G"
    assert task_shape(app, 0) == (2048 + 384, 1)  # max(384, 10% of 2048) = 384
    assert am_shape(app.props) == (512 + 384, 1)  # client mode: spark.yarn.am.memory's 512m default
    app.props.update({"spark.executor.memory": "8g", "spark.executor.cores": "4", "spark.submit.deployMode": "cluster"})
    assert task_shape(app, 0) == ((8192 + 819) // 4 + 1, 1)  # 10% of 8 GiB beats 384; 4 slots, rounded up
    app.props["spark.executor.memoryOverhead"] = "1g"
    assert task_shape(app, 0) == ((8192 + 1024) // 4, 1)
    assert am_shape(app.props) == (1024 + 384, 1)  # cluster mode: the driver is the AM
    app.props.update({"spark.memory.offHeap.enabled": "true", "spark.memory.offHeap.size": "2g"})
    app.props["spark.executor.pyspark.memory"] = "512m"
    assert task_shape(app, 0) == ((8192 + 1024 + 2048 + 512) // 4, 1)
    app.props["spark.memory.offHeap.size"] = str(1024 * 1024 * 1024)  # a bare number is bytes here: 1 GiB
    assert task_shape(app, 0) == ((8192 + 1024 + 1024 + 512) // 4, 1)


def test_bad_lines_are_counted_with_file_and_line_and_the_rest_is_used(tmp_path: Path) -> None:
    lines = COMPLETE.read_text().splitlines(keepends=True)
    broken = tmp_path / COMPLETE.name
    # a corrupt line 3, a task end without its finish time at line 7, and the last line (ApplicationEnd) cut short
    task_end = next(json.loads(line) for line in lines if '"SparkListenerTaskEnd"' in line)
    del task_end["Task Info"]["Finish Time"]
    body = [*lines[:2], "{not json\n", *lines[2:5], json.dumps(task_end) + "\n", *lines[5:-1], lines[-1][:20]]
    broken.write_text("".join(body))
    jobs, stats = import_spark_logs(str(broken))
    assert stats.bad["not a JSON line"] == 1
    assert stats.first["record: not a JSON line"] == f"{broken}:3"
    assert stats.bad["SparkListenerTaskEnd: missing or malformed field 'Finish Time'"] == 1
    assert stats.first["record: SparkListenerTaskEnd: missing or malformed field 'Finish Time'"] == f"{broken}:7"
    assert stats.bad["last line cut short (no newline, not JSON)"] == 1
    assert stats.first["record: last line cut short (no newline, not JSON)"] == f"{broken}:{len(body)}"
    # the job is whole; the app's end was the cut line, so its AM's run time is unknown and it is skipped
    assert [(j["id"], j["stages"][0]["tasks"]) for j in jobs] == [("application_1578436911597_0052:job0", 6)]
    assert stats.job_skips["AM: application did not end in the log (log cut short or app still running)"] == 1


def test_a_rolling_log_folder_reads_its_parts_in_order(tmp_path: Path) -> None:
    """The complete log re-chunked at line boundaries into Spark's rolling layout (parts listed out of order)."""
    lines = COMPLETE.read_text().splitlines(keepends=True)
    app_id = COMPLETE.name
    folder = tmp_path / f"eventlog_v2_{app_id}"
    folder.mkdir()
    cuts = [0, 5, 12, 20, len(lines)]
    for i in range(len(cuts) - 1):
        (folder / f"events_{i + 1}_{app_id}").write_text("".join(lines[cuts[i] : cuts[i + 1]]))
    (folder / f"appstatus_{app_id}").write_text("")
    (tmp_path / f".{app_id}.crc").write_text("x")
    rolled, stats = import_spark_logs(str(tmp_path))
    single, _ = import_spark_logs(str(COMPLETE))
    assert rolled == single
    assert (stats.files, stats.read) == (4, 1)
    assert "1 files are not event logs" in stats.summary()


def test_the_cli_writes_a_trace_that_simulate_replays(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logs = tmp_path / "logs"
    shutil.copytree(FIXTURES, logs, ignore=shutil.ignore_patterns("*.md"))
    out = tmp_path / "trace.jsonl"
    assert cli_main(["trace", "import", "--spark-logs", str(logs), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("read 2 apps (2 jobs) in 2 files")
    assert "kept 1 apps (1 jobs + 1 AMs), skipped 1 apps and 2 jobs" in printed
    assert len(load_trace(out)) == 2
    report = tmp_path / "r.json"
    assert cli_main(["simulate", "--trace", str(out), "--policy", "static", "--report", str(report)]) == 0
    assert json.loads(report.read_text())["results"][0]["jobs_completed"] == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--spark-logs", "/nonexistent/logs"], "error: --spark-logs /nonexistent/logs: no such file or folder"),
        (["--spark-logs", str(COMPLETE), "--since", "2024-01-01"], "error: --since/--until: only with --yarn"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["trace", "import", *argv, "-o", str(tmp_path / "t.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert "Traceback" not in err


def test_events_the_trace_does_not_use_are_not_parsed() -> None:
    lines = COMPLETE.read_bytes().splitlines()
    names = {json.loads(line)["Event"]: used(line) for line in lines}
    assert names["SparkListenerTaskEnd"]
    assert names["SparkListenerEnvironmentUpdate"]
    assert not names["SparkListenerBlockManagerAdded"]
    assert not names["SparkListenerTaskStart"]
    assert used(b"{not json")
    assert used(b'{"Other": 1, "Event": "SparkListenerBlockManagerAdded"}')


def test_each_attempt_of_an_app_is_its_own_app(tmp_path: Path) -> None:
    """A cluster-mode app retried by YARN logs each attempt (`App Attempt ID`); both used the cluster."""
    lines = COMPLETE.read_text().splitlines(keepends=True)
    for attempt in ("1", "2"):
        body = [
            json.dumps({**json.loads(line), "App Attempt ID": attempt}) + "\n"
            if '"SparkListenerApplicationStart"' in line
            else line
            for line in lines
        ]
        (tmp_path / f"{COMPLETE.name}_{attempt}").write_text("".join(body))
    jobs, stats = import_spark_logs(str(tmp_path))
    assert (stats.read, stats.kept) == (2, 2)
    assert {j["id"] for j in jobs} >= {f"{COMPLETE.name}_1:job0", f"{COMPLETE.name}_2:job0"}


def test_lines_spanning_many_read_chunks_are_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    whole, _ = import_spark_logs(str(COMPLETE))
    monkeypatch.setattr("autoscaler.trace_import.spark_store.CHUNK", 7)  # every line spans many chunks
    jobs, stats = import_spark_logs(str(COMPLETE))
    assert jobs == whole
    assert (stats.lines, sum(stats.bad.values())) == (27, 0)


def test_a_rolling_log_missing_its_first_part_is_named_by_its_folder(tmp_path: Path) -> None:
    """Without part 1 there is no ApplicationStart (id, start) and no properties: the jobs are still kept."""
    lines = COMPLETE.read_text().splitlines(keepends=True)
    folder = tmp_path / f"eventlog_v2_{COMPLETE.name}"
    folder.mkdir()
    (folder / f"events_2_{COMPLETE.name}").write_text("".join(lines[5:]))
    jobs, stats = import_spark_logs(str(tmp_path))
    assert [j["id"] for j in jobs] == [f"{COMPLETE.name}:job0"]
    assert stats.job_skips["AM: no SparkListenerApplicationStart"] == 1
