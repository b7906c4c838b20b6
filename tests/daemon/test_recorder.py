"""The tick recorder: rotated and bounded on disk, never blocking a tick (a stalled writer drops and
counts), and a disk that refuses writes is an event and a count, never a crash."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from autoscaler.config_recording import RecordingConfig
from autoscaler.loop import ClusterDeps, Deps, State, tick
from autoscaler.metrics import Health, Metrics
from autoscaler.policy import load_policies
from autoscaler.record_codec import TickRecord
from autoscaler.recorder import Recorder
from autoscaler.sim.recording import read_recording
from autoscaler.testing import T0, make_cluster_config, make_node, make_pool, make_snapshot
from autoscaler.testing_fakes import ListLogger, RecordingActuator, metric_value


def _tick(i: int) -> TickRecord:
    snapshot = make_snapshot(taken_at=T0 + 30 * i, nodes=[make_node(f"n{k}", containers=k % 3) for k in range(4)])
    return TickRecord(T0 + 30 * i, snapshot)


def test_files_rotate_and_the_oldest_are_deleted(tmp_path: Path) -> None:
    limits = RecordingConfig(max_file_bytes=4096, max_files=3)
    recorder = Recorder("j-TEST", tmp_path / "rec", limits, ListLogger())
    line_size = len(json.dumps(json.loads(_compact(_tick(0))), separators=(",", ":"))) + 1
    for i in range(200):
        assert recorder.submit(_tick(i)) or recorder.counts["queue_full"]
        time.sleep(0.001)  # the writer keeps up; this test is about disk bounds, not a full queue
    recorder.close()
    files = sorted((tmp_path / "rec").iterdir())
    assert len(files) == 3
    assert files[0].name.startswith("j-TEST-0000")
    assert all(f.stat().st_size <= 4096 + line_size for f in files)
    recording = read_recording(tmp_path / "rec")
    assert recording.bad_lines == ()
    ats = [t.at for t in recording.ticks]
    assert ats == sorted(ats)
    assert ats[-1] == T0 + 30 * 199  # the newest kept, the oldest gone
    assert ats[0] > T0
    assert recorder.counts["written"] == 200 - recorder.counts["queue_full"]


def _compact(record: TickRecord) -> str:
    from autoscaler.record_codec import dumps  # noqa: PLC0415

    return dumps(record)


def test_a_restart_continues_after_the_highest_file(tmp_path: Path) -> None:
    for _ in range(2):
        recorder = Recorder("j-TEST", tmp_path, RecordingConfig(), ListLogger())
        recorder.submit(_tick(0))
        recorder.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j-TEST-000001.jsonl", "j-TEST-000002.jsonl"]
    assert len(read_recording(tmp_path).ticks) == 1  # the same instant twice is one tick
    assert read_recording(tmp_path).duplicates == 1


def test_a_stalled_writer_never_blocks_a_tick(tmp_path: Path) -> None:
    """The writer thread is held (its metrics callback waits): submits return at once, drops are counted
    and logged once, and the writer catches up when released."""
    release, entered = threading.Event(), threading.Event()
    dropped: list[str] = []

    def stall(_cluster: str, _nbytes: int) -> None:
        entered.set()
        release.wait(30)

    logger = ListLogger()
    recorder = Recorder(
        "j-TEST",
        tmp_path,
        RecordingConfig(queue_ticks=4),
        logger,
        dropped=lambda _c, reason: dropped.append(reason),
        written=stall,
    )
    recorder.submit(_tick(0))
    assert entered.wait(10)
    started = time.perf_counter()
    accepted = [recorder.submit(_tick(i)) for i in range(1, 101)]
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0  # 100 puts on a blocked writer: a blocking put would never return
    assert accepted[:4] == [True] * 4
    assert not any(accepted[4:])
    assert dropped == ["queue_full"] * 96
    assert len(logger.named("record_dropped")) == 1  # one event per run of drops, not one per tick
    release.set()
    recorder.close()
    assert recorder.counts == {"written": 5, "queue_full": 96, "write_error": 0, "encode_error": 0}
    assert recorder.submit(_tick(200)) is True
    assert logger.named("record_resumed") == [{"cluster": "j-TEST", "dropped": 96}]
    recorder.close()


def test_an_unwritable_folder_is_an_event_and_a_count(tmp_path: Path) -> None:
    """record_dir under a regular file: every write fails; one error event, each tick counted, no raise."""
    (tmp_path / "file").write_text("x")
    logger, dropped = ListLogger(), []
    recorder = Recorder(
        "j-TEST", tmp_path / "file" / "rec", RecordingConfig(), logger, dropped=lambda _c, r: dropped.append(r)
    )
    for i in range(5):
        assert recorder.submit(_tick(i))
    recorder.close()
    assert dropped == ["write_error"] * 5
    (event,) = logger.named("record_error")
    assert "Not a directory" in event["error"]
    assert str(tmp_path / "file") in event["error"]


def test_a_full_disk_drops_and_resumes_in_a_new_file(tmp_path: Path) -> None:
    """A real write limit (RLIMIT_FSIZE, as a full disk: a write fails mid-line) in a child process: the
    tick side never raises, one error event for the run of failures, and once room is back the file
    goes on from its last whole line."""
    script = textwrap.dedent(
        f"""
        import json, resource, signal, time
        from autoscaler.config_recording import RecordingConfig
        from autoscaler.recorder import Recorder
        from autoscaler.testing_fakes import ListLogger
        from tests.daemon.test_recorder import _tick
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        logger = ListLogger()
        rec = Recorder("j-TEST", {str(tmp_path)!r}, RecordingConfig(), logger)
        resource.setrlimit(resource.RLIMIT_FSIZE, (5000, hard))
        for i in range(10):
            rec.submit(_tick(i)); time.sleep(0.02)
        time.sleep(0.3)
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        for i in range(10, 13):
            rec.submit(_tick(i)); time.sleep(0.02)
        rec.close()
        print(json.dumps({{"counts": rec.counts, "events": [[lvl, e] for lvl, e, _ in logger.events]}}))
        """
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script], check=False, cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    counts = result["counts"]
    assert counts["write_error"] > 0
    assert counts["written"] + counts["write_error"] == 13
    assert result["events"].count(["error", "record_error"]) == 1
    assert ["info", "record_resumed"] in result["events"]
    recording = read_recording(tmp_path)
    assert recording.files == ("j-TEST-000001.jsonl",)
    assert recording.bad_lines == ()  # the half line the limit let through was cut back
    ats = [t.at for t in recording.ticks]
    assert ats[-3:] == [T0 + 30 * i for i in (10, 11, 12)]
    assert len(ats) == counts["written"]


def test_a_line_cut_by_a_crash_is_named_by_file_and_line(tmp_path: Path) -> None:
    recorder = Recorder("j-TEST", tmp_path, RecordingConfig(), ListLogger())
    for i in range(3):
        recorder.submit(_tick(i))
    recorder.close()
    path = tmp_path / "j-TEST-000001.jsonl"
    whole = path.read_bytes()
    path.write_bytes(whole + whole.splitlines(keepends=True)[0][:50])
    recording = read_recording(tmp_path)
    assert len(recording.ticks) == 3
    assert [str(b) for b in recording.bad_lines] == [f"j-TEST-000001.jsonl:4: {recording.bad_lines[0].error}"]
    assert recording.bad_lines[0].error.startswith("not JSON")


def test_the_daemon_tick_records_its_snapshot_and_decision(tmp_path: Path) -> None:
    """`tick_cluster` hands each tick to the recorder; the record is what the daemon saw and decided."""
    config = make_cluster_config(policies=[{"type": "static", "options": {"units": 4}}], record_dir=str(tmp_path))
    metrics, logger = Metrics(), ListLogger()
    recorder = Recorder(
        "j-TEST",
        tmp_path,
        config.recording,
        logger,
        dropped=metrics.count_record_dropped,
        written=metrics.count_record_written,
    )
    snapshots = {T0 + 30 * i: make_snapshot(taken_at=T0 + 30 * i, pools=[make_pool("ig-t")]) for i in range(3)}
    cluster = ClusterDeps(
        config, snapshots.__getitem__, RecordingActuator(), load_policies(config.policies), recorder=recorder
    )
    deps = Deps((cluster,), metrics, Health(30, ("j-TEST",), started_at=T0), logger, clock=lambda: T0)
    state: State = {}
    for now in snapshots:
        state = tick(deps, state, now)
    recorder.close()
    recording = read_recording(tmp_path)
    assert [t.snapshot for t in recording.ticks] == list(snapshots.values())
    first = recording.ticks[0]
    assert [(r.pool_id, r.target.total) for r in first.plan.resizes] == [("ig-t", 4)]
    assert [o.status.value for o in first.outcomes] == ["applied"]
    assert metric_value(metrics, "emr_autoscaler_record_lines_total", cluster="j-TEST") == 3
    assert metric_value(metrics, "emr_autoscaler_record_written_bytes_total", cluster="j-TEST") == sum(
        p.stat().st_size for p in tmp_path.iterdir()
    )


def test_a_file_another_writer_made_is_never_touched(tmp_path: Path) -> None:
    """Two writers on one folder (a misconfigured pair of replicas): the file the other created first is
    left whole; this one counts the failed tick and goes on in the next file."""
    logger = ListLogger()
    ours = Recorder("j-TEST", tmp_path, RecordingConfig(max_file_bytes=4096), logger)
    ours.submit(_tick(0))
    time.sleep(0.3)
    assert (tmp_path / "j-TEST-000001.jsonl").is_file()
    theirs = tmp_path / "j-TEST-000002.jsonl"  # created by the other writer after this one's scan
    theirs.write_text("their line\n")
    for i in range(1, 12):  # enough 1.5 KB lines to rotate twice
        ours.submit(_tick(i))
        time.sleep(0.05)
    ours.close()
    assert theirs.read_text() == "their line\n"
    assert ours.counts["write_error"] == 1
    assert ours.counts["written"] == 11
    assert (tmp_path / "j-TEST-000003.jsonl").is_file()
    assert "File exists" in logger.named("record_error")[0]["error"]
