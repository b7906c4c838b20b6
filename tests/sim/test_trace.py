from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from autoscaler.model import Resources
from autoscaler.sim.conversion import MIB, ConversionModel
from autoscaler.sim.job import Job, Stage, scale_job
from autoscaler.sim.trace import TraceError, load_trace


def _write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_native_trace_round_trips_fields(tmp_path: Path) -> None:
    """A native line becomes a Job with its AM, stages and per-task durations."""
    line = {
        "id": "j1",
        "submit_s": 12.0,
        "queue": "etl",
        "am": {"memory_mb": 1024, "vcores": 1},
        "stages": [
            {"tasks": 2, "memory_mb": 2048, "vcores": 1, "task_s": [3, 5]},
            {"tasks": 1, "memory_mb": 512, "vcores": 2, "task_s": 7},
        ],
    }
    (job,) = load_trace(_write(tmp_path, "t.jsonl", [json.dumps(line)]))
    assert job.am == Resources(1024, 1)
    assert job.queue == "etl"
    assert job.stages[0].durations() == (3.0, 5.0)
    assert job.ideal_s == 5.0 + 7.0


def test_native_null_am_allowed(tmp_path: Path) -> None:
    """`am: null` means a job without an ApplicationMaster."""
    line = '{"id": "a", "submit_s": 0, "am": null, "stages": [{"tasks": 1, "memory_mb": 1, "vcores": 1, "task_s": 1}]}'
    (job,) = load_trace(_write(tmp_path, "t.jsonl", [line]))
    assert job.am is None


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (
            '{"id": "x", "submit_s": 1, "stages": [{"tasks": 0, "memory_mb": 1, "vcores": 1, "task_s": 1}]}',
            "stages[0].tasks: must be a positive integer",
        ),
        ('{"id": "x", "submit_s": -1, "stages": []}', "submit_s: must be non-negative"),
        (
            '{"id": "x", "submit_s": 1, "stages": [{"tasks": 2, "memory_mb": 1, "vcores": 1, "task_s": [1]}]}',
            "stages[0].task_s: list has 1",
        ),
        ('{"id": "x", "submit_s": 1, "am": {"memory_mb": 1}, "stages": []}', "am.vcores: must be a positive integer"),
        ("{not json", "invalid JSON"),
    ],
)
def test_malformed_native_line_names_file_and_line(tmp_path: Path, bad: str, message: str) -> None:
    """A bad line is a TraceError with file:line and the field, never a traceback."""
    good = '{"id": "ok", "submit_s": 0, "stages": []}'
    path = _write(tmp_path, "trace.jsonl", [good, "", bad])
    with pytest.raises(TraceError) as err:
        load_trace(path)
    assert str(err.value).startswith("trace.jsonl:3: ")
    assert message in str(err.value)


def test_swim_first_50_jobs_convert_by_the_documented_model(data: Path) -> None:
    """SWIM rows become maps per 128 MiB split and reduces per 256 MiB shuffle."""
    jobs = load_trace(data / "traces/swim/FB-2009_samples_24_times_1hr_0_first50jobs.tsv")
    assert len(jobs) == 50
    by_id = {j.id: j for j in jobs}
    # job0: 740,773 input bytes, 2,339,561 shuffle: one map, one reduce; submitted at 49 s
    job0 = by_id["job0"]
    assert job0.submit_s == 49.0
    assert [s.tasks for s in job0.stages] == [1, 1]
    model = ConversionModel()
    assert job0.stages[0].task_s == pytest.approx(model.container_start_s + 740773 / MIB / model.map_mb_per_s)
    # job4: 3,623,279 input, no shuffle: map-only
    assert len(by_id["job4"].stages) == 1


def test_swim_scale_multiplies_bytes(tmp_path: Path) -> None:
    """--trace-scale on SWIM scales bytes, hence task counts."""
    path = _write(tmp_path, "t.tsv", [f"j\t0\t0\t{10 * 128 * MIB}\t{4 * 256 * MIB}\t0"])
    (job,) = load_trace(path, scale=0.5)
    assert [s.tasks for s in job.stages] == [5, 2]


def test_swim_bad_row_names_line(tmp_path: Path) -> None:
    """A SWIM row with a non-number names its line."""
    path = _write(tmp_path, "f.tsv", ["j0\t1\t1\t10\t0\t0", "j1\tx\t1\t10\t0\t0"])
    with pytest.raises(TraceError, match=r"^f\.tsv:2: "):
        load_trace(path)


def test_alibaba_slice_groups_tasks_into_ordered_stages(data: Path, tmp_path: Path) -> None:
    """Alibaba tasks of a job become stages by create time; waiting/invalid rows are skipped."""
    lines = (data / "traces/alibaba_v2017/batch_task_v2017_with_header.csv").read_text().splitlines()[:200]
    jobs = load_trace(_write(tmp_path, "slice.csv", lines))
    assert jobs
    kept = [r.split(",") for r in lines[1:]]
    kept = [r for r in kept if r[5] in ("Terminated", "Failed") and r[6] and 0 < int(r[0]) < int(r[1])]
    assert sum(len(j.stages) for j in jobs) == len(kept)
    job3 = next(j for j in jobs if j.id == "3")
    rows3 = sorted((int(r[0]), int(r[3]), r) for r in kept if r[2] == "3")
    assert [s.tasks for s in job3.stages] == [int(r[4]) for _, _, r in rows3]
    first = rows3[0][2]
    model = ConversionModel()
    assert job3.stages[0].vcores == 1  # 50 = half a core, rounded up
    assert job3.stages[0].task_s == int(first[1]) - int(first[0]) + model.container_start_s
    assert min(j.submit_s for j in jobs) == 0.0


def test_unknown_extension_is_an_error(tmp_path: Path) -> None:
    """An unknown trace extension says which ones are known."""
    with pytest.raises(TraceError, match="unknown trace format"):
        load_trace(_write(tmp_path, "t.txt", ["x"]))


def test_scale_job_keeps_every_other_field() -> None:
    """Scaling changes only the task counts (and per-task durations, cycled): every other field of the
    job and its stages, whatever fields they grow, is what `dataclasses.replace` would carry over."""
    job = Job(
        "j",
        7.0,
        (Stage(3, 2048, 2, (1.0, 2.0, 3.0)), Stage(2, 512, 1, 9.0)),
        queue="etl",
        am=Resources(1024, 1),
        am_start_s=4.0,
    )
    expected = replace(
        job,
        stages=(replace(job.stages[0], tasks=6, task_s=(1.0, 2.0, 3.0) * 2), replace(job.stages[1], tasks=4)),
    )
    assert scale_job(job, 2.0) == expected
