"""`tune`: the search space comes from the option fields' bounds; a small trace with a fixed seed gives the
same choice every time, a config `validate` accepts, and figures on the held-out part of the trace."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Literal

import optuna
import pytest
import yaml
from pydantic import BaseModel, Field

from autoscaler.cli import main as cli_main
from autoscaler.sim.job import Job, Stage
from autoscaler.sim.space import Param, field_param, search_space
from autoscaler.sim.spec import default_spec
from autoscaler.sim.tune import Point, choose, pareto_front, split_trace


def _trace(path: Path, n: int = 6, tasks: int = 40) -> Path:
    lines = [
        json.dumps(
            {
                "id": f"j{i}",
                "submit_s": 600 * i,
                "am": None,
                "stages": [{"tasks": tasks, "memory_mb": 2048, "vcores": 1, "task_s": 240}],
            }
        )
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_space_of_a_policy_is_its_bounded_fields() -> None:
    """pending-demand: bounded numbers and the bool; managed-scaling-like: nullable and one-bound fields are not."""
    assert search_space(["pending-demand"]) == (
        Param("pending-demand", "headroom_pct", "float", 0.0, 100.0),
        Param("pending-demand", "count_vcores", "categorical", choices=(False, True)),
        Param("pending-demand", "pending_for_s", "float", 0.0, 1800.0),
    )
    names = [p.option for p in search_space(["managed-scaling-like"])]
    assert names == ["scale_down_after_s"]
    assert search_space(["static"]) == ()


class _Color(Enum):
    RED = "red"
    BLUE = "blue"


class _Opts(BaseModel):
    n: int = Field(1, gt=0, lt=10)
    x: float = Field(0.5, gt=0, le=1)
    open_ended: float = Field(1.0, ge=0)
    mode: Literal["a", "b"] = "a"
    color: _Color = _Color.RED


def test_exclusive_bounds_literals_and_enums() -> None:
    fields = _Opts.model_fields
    n = field_param("p", "n", fields["n"])
    assert n is not None
    assert (n.kind, n.low, n.high) == ("int", 1, 9)
    x = field_param("p", "x", fields["x"])
    assert x is not None
    assert x.low > 0
    assert x.high == 1
    assert field_param("p", "open_ended", fields["open_ended"]) is None
    mode = field_param("p", "mode", fields["mode"])
    color = field_param("p", "color", fields["color"])
    assert mode is not None
    assert mode.choices == ("a", "b")
    assert color is not None
    assert color.choices == ("red", "blue")


def test_holdout_is_the_last_fraction_of_time_at_its_own_wall_clock() -> None:
    stage = (Stage(1, 1024, 1, 10.0),)
    jobs = [Job(f"j{i}", 100.0 * i, stage) for i in range(11)]  # submits 0..1000
    spec = default_spec()
    train, held, held_spec = split_trace(jobs, spec, 0.25)
    assert [j.id for j in train] == [f"j{i}" for i in range(8)]  # < 750
    assert [j.submit_s for j in held] == [50.0, 150.0, 250.0]  # 800, 900, 1000 after the split at 750
    assert held_spec.start_at == spec.start_at + 750.0


def test_choice_is_the_cheapest_within_the_limit_and_the_front_collapses_ties() -> None:
    pts = [
        Point(0, {}, 5.0, 100.0, True),
        Point(1, {}, 3.0, 400.0, True),
        Point(2, {}, 3.0, 400.0, True),
        Point(3, {}, 1.0, 900.0, True),
        Point(4, {}, 0.5, 50.0, False),  # jobs left at the overrun stop: not a candidate
        Point(5, {}, 6.0, 500.0, True),  # dominated
    ]
    assert choose(pts, 450.0) == pts[1]
    assert choose(pts, 10.0) is None
    assert [(p.number, ties) for p, ties in pareto_front(pts)] == [(3, 0), (1, 1), (0, 0)]


def _tune(tmp_path: Path, out: str, *extra: str, trials: int = 4, workers: int = 1) -> int:
    trace = _trace(tmp_path / "t.jsonl")
    argv = ["tune", "--trace", str(trace), "--policy", "pending-demand+idle-capacity", "--max-p95-wait", "3600"]
    argv += ["--trials", str(trials), "--seed", "7", "--workers", str(workers), "-o", str(tmp_path / out)]
    return cli_main([*argv, *extra])


def test_tune_fixed_seed_is_repeatable_and_writes_a_valid_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _tune(tmp_path, "a.yaml") == 0
    out = capsys.readouterr().out
    assert "Pareto front" in out
    assert "chosen (trial" in out
    assert "configured/defaults" in out
    assert _tune(tmp_path, "b.yaml") == 0  # a new study (its own SQLite file beside -o), the same seed
    a, b = (tmp_path / "a.yaml").read_text(), (tmp_path / "b.yaml").read_text()
    assert a.split("\n", 1)[1] == b.split("\n", 1)[1]  # all but the command line in the header
    assert "holdout ctrl $" in a
    capsys.readouterr()
    assert cli_main(["validate", "-c", str(tmp_path / "a.yaml")]) == 0
    assert "headroom_pct" in capsys.readouterr().out


def test_worker_processes_add_to_one_study_on_a_storage_url(tmp_path: Path) -> None:
    """Also: best.yaml's policies are exactly the tuned set (a configured `static` was not simulated with it)."""
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    config = tmp_path / "c.yaml"
    config.write_text(
        "clusters:\n- cluster_id: j-ABC\n  yarn: {urls: ['http://rm:8088']}\n  policies: [{type: static}]\n"
        "sim: {interruptions: false}\n"
    )
    assert _tune(tmp_path, "a.yaml", "--storage", storage, "--config", str(config), trials=2) == 0
    best = (tmp_path / "a.yaml").read_text()
    assert "dropped from --config (not simulated with it): static" in best
    assert [p["type"] for p in yaml.safe_load(best)["clusters"][0]["policies"]] == ["pending-demand", "idle-capacity"]
    assert "sim" not in yaml.safe_load(best)
    assert _tune(tmp_path, "b.yaml", "--storage", storage, "--config", str(config), trials=2, workers=2) == 0
    (summary,) = optuna.get_all_study_summaries(storage)
    assert summary.n_trials == 4
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    assert study.trials[0].params == {  # the first trial is the configured options (here the defaults)
        "pending-demand.headroom_pct": 0.0,
        "pending-demand.count_vcores": True,
        "pending-demand.pending_for_s": 0.0,
        "idle-capacity.keep_idle_nodes": 0,
        "idle-capacity.idle_for_s": 0.0,
    }


def test_no_trial_within_the_limit_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace = _trace(tmp_path / "t.jsonl", tasks=400)  # needs nodes that take minutes to boot
    argv = ["tune", "--trace", str(trace), "--policy", "pending-demand", "--max-p95-wait", "1", "--trials", "2"]
    assert cli_main([*argv, "--workers", "1", "-o", str(tmp_path / "best.yaml")]) == 1
    assert "no trial met --max-p95-wait 1 s" in capsys.readouterr().err
    assert not (tmp_path / "best.yaml").exists()


@pytest.mark.parametrize(
    ("policy", "extra", "message"),
    [
        ("pending-demand", ["--holdout-fraction", "1"], "--holdout-fraction: must be between 0 and 1"),
        ("hindsight", [], "hindsight is the simulator's own"),
        ("static", [], "no option declares a range to search"),
        ("nope", [], "--policy: unknown nope"),
    ],
)
def test_bad_input_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], policy: str, extra: list[str], message: str
) -> None:
    trace = _trace(tmp_path / "t.jsonl", n=2)
    argv = ["tune", "--trace", str(trace), "--policy", policy, "--max-p95-wait", "60", "--trials", "1"]
    assert cli_main([*argv, *extra, "-o", str(tmp_path / "best.yaml")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def _spot(path: Path, usd_per_hour: float) -> Path:
    """One AZ's m5.xlarge Spot price, flat over the trace's day (the default start is 2023-11-14)."""
    rows = [f"use1-az1\tm5.xlarge\tLinux/UNIX\t{usd_per_hour}\t2023-11-1{d}T00:00:00+00:00\n" for d in (3, 5)]
    path.write_text("".join(rows))
    return path


def test_spot_prices_replay_as_simulate_s_and_name_their_own_study(tmp_path: Path) -> None:
    """`--spot-prices`: the same history as simulate replays; a dearer Spot price costs more, in its own study."""
    config = tmp_path / "c.yaml"
    config.write_text(
        "clusters:\n- cluster_id: j-ABC\n  yarn: {urls: ['http://rm:8088']}\n  policies: [{type: pending-demand}]\n"
        "sim:\n  interruptions: false\n  pools:\n"
        "  - {id: ig-core, role: CORE, market: ON_DEMAND, types: [m5.xlarge], initial: 1}\n"
        "  - {id: ig-spot, role: TASK, market: SPOT, types: [m5.xlarge], initial: 0}\n"
    )
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    costs = {}
    for price in (0.05, 0.5):
        out = f"best-{price}.yaml"
        spot = _spot(tmp_path / f"spot-{price}.tsv", price)
        extra = ("--config", str(config), "--storage", storage, "--spot-prices", str(spot))
        assert _tune(tmp_path, out, *extra, trials=1) == 0
        header = (tmp_path / out).read_text().splitlines()
        assert header[0].endswith(f"--spot-prices {spot}")
        costs[price] = float(header[1].split("train ctrl $", 1)[1].split(",", 1)[0])
    assert costs[0.5] > 3 * costs[0.05] > 0
    assert len(optuna.get_all_study_summaries(storage)) == 2
    trace = str(tmp_path / "t.jsonl")
    argv = ["tune", "--trace", trace, "--policy", "pending-demand", "--max-p95-wait", "60", "--trials", "1"]
    argv += ["--spot-prices", str(tmp_path / "missing.tsv"), "-o", str(tmp_path / "x.yaml")]
    assert cli_main(argv) == 2
