"""`simulate --replay`: candidates re-run open loop on a recording, priced as shadow policies are;
the same recording gives byte-identical output, bad lines are named, gaps are not priced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoscaler.cli import main
from autoscaler.config_recording import RecordingConfig
from autoscaler.loop import ClusterDeps, Deps, State, tick
from autoscaler.metrics import Health, Metrics
from autoscaler.model import Market, OutcomeStatus, PriceQuote
from autoscaler.policy import load_policies
from autoscaler.record_codec import TickRecord
from autoscaler.recorder import Recorder
from autoscaler.testing import T0, make_cluster_config, make_pool, make_snapshot
from autoscaler.testing_fakes import ListLogger, RecordingActuator

SPOT = PriceQuote("m5.xlarge", Market.SPOT, 0.08, 0.048)  # 0.128 $/h a unit
CONFIG = """
clusters:
  - cluster_id: j-TEST
    yarn: {urls: ["http://127.0.0.1:8088"]}
    policies: [{type: static, options: {units: 4}}]
"""


def _record(directory: Path, times: list[float], units: int = 4) -> None:
    """A dry-run daemon (live policy static:`units`) ticking at `times` on a 2-unit Spot pool, recording."""
    config = make_cluster_config(policies=[{"type": "static", "options": {"units": units}}])
    recorder = Recorder("j-TEST", directory, RecordingConfig(), ListLogger())
    snapshots = {t: make_snapshot(taken_at=t, pools=[make_pool("ig-t", requested=2)], prices=[SPOT]) for t in times}
    actuator = RecordingActuator(status=OutcomeStatus.DRY_RUN)
    cluster = ClusterDeps(config, snapshots.__getitem__, actuator, load_policies(config.policies), recorder=recorder)
    deps = Deps((cluster,), Metrics(), Health(60, ("j-TEST",), started_at=T0), ListLogger(), clock=lambda: T0)
    state: State = {}
    for t in times:
        state = tick(deps, state, t)
    recorder.close()


def _replay(tmp_path: Path, *policies: str, report: str = "r.json") -> tuple[int, str, str]:
    (tmp_path / "c.yaml").write_text(CONFIG)
    argv = ["simulate", "--replay", str(tmp_path / "rec"), "--config", str(tmp_path / "c.yaml")]
    for p in policies:
        argv += ["--policy", p]
    return main([*argv, "--report", str(tmp_path / report)]), "", ""


def test_would_be_cost_is_priced_as_a_shadow_and_the_live_policy_agrees_with_its_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """10 ticks a minute apart: static (units 4 in the config) holds 4 units where the cluster held 2:
    +2 x $0.128/h over the 540 s between the first and last tick; it plans as the live daemon did."""
    _record(tmp_path / "rec", [T0 + 60 * i for i in range(10)])
    assert _replay(tmp_path, "static", "idle-capacity")[0] == 0
    out = capsys.readouterr().out
    assert "10 ticks over 0.15 h in 1 files; 0 bad lines" in out
    doc = json.loads((tmp_path / "r.json").read_text())
    static, idle = doc["results"]
    assert static["actual_cost_usd"] == pytest.approx(2 * 0.128 * 540 / 3600)
    assert static["would_be_cost_usd"] == pytest.approx(4 * 0.128 * 540 / 3600)
    assert static["ticks_as_live"] == 10  # same policy, same snapshots, same memory path: same plans
    assert idle["would_be_cost_usd"] == pytest.approx(idle["actual_cost_usd"])  # no idle node: holds what is there
    first = doc["per_tick"][0]
    assert first["requested"] == {"ig-t": 2}
    assert first["policies"]["static"] == {"targets": {"ig-t": 4}, "usd_per_hour": pytest.approx(0.512)}
    assert first["live_plan"] == {"ig-t": 4}


def test_replay_is_deterministic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _record(tmp_path / "rec", [T0 + 30 * i for i in range(40)], units=3)
    outputs = []
    for name in ("a.json", "b.json", "a.csv", "b.csv"):
        assert _replay(tmp_path, "static", "pending-demand+idle-capacity", report=name)[0] == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] == outputs[2] == outputs[3]
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    header, first = (tmp_path / "a.csv").read_text().splitlines()[:2]
    assert header == "at,policy,pool,requested_units,target_units,actual_usd_per_hour,usd_per_hour"
    assert first.split(",")[1:5] == ["static", "ig-t", "2", "4"]


def test_a_gap_in_the_recording_is_not_priced_and_bad_lines_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    times = [T0 + 60 * i for i in range(5)] + [T0 + 7200 + 60 * i for i in range(5)]
    _record(tmp_path / "rec", times)
    (path,) = (tmp_path / "rec").iterdir()
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:3]) + '{"v":1,"at":"x"}\n' + "".join(lines[3:]) + lines[0][:40])
    assert _replay(tmp_path, "static")[0] == 0
    captured = capsys.readouterr()
    assert f"bad line {path.name}:4: record.at: expected float, got str" in captured.err
    assert f"bad line {path.name}:12: not JSON" in captured.err
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["bad_lines_total"] == 2
    assert doc["ticks"] == 10
    (static,) = doc["results"]
    assert static["priced_s"] == 8 * 60  # the two-hour gap is nobody's cost
    assert static["actual_cost_usd"] == pytest.approx(2 * 0.128 * 480 / 3600, abs=1e-6)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--policy", "hindsight"], "hindsight needs the future"),
        (["--policy", "static", "--plot", "x.png"], "--plot: not drawn for --replay"),
        (["--policy", "nope"], "--policy: unknown nope"),
        (["--policy", "static", "--spot-prices", "x.tsv"], "--spot-prices: not for --replay"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    _record(tmp_path / "rec", [T0, T0 + 60])
    code = main(["simulate", "--replay", str(tmp_path / "rec"), *argv, "--report", str(tmp_path / "r.json")])
    assert code == 2
    assert message in capsys.readouterr().err


def test_an_empty_folder_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "rec").mkdir()
    code = main(["simulate", "--replay", str(tmp_path / "rec"), "--policy", "static", "--report", str(tmp_path / "r")])
    assert code == 2
    assert "no recording files" in capsys.readouterr().err


def test_guards_limits_and_options_come_from_the_recorded_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The daemon's config is beside each file: without --config a replay decides under its limits (here
    max 3 task units) with its policies' options (static units 4), so static holds 3."""
    config = make_cluster_config(policies=[{"type": "static", "options": {"units": 4}}], limits={"max_task_units": 3})
    recorder = Recorder(
        "j-TEST", tmp_path / "rec", RecordingConfig(), ListLogger(), config=config.model_dump(mode="json")
    )
    for i in range(3):
        t = T0 + 60 * i
        recorder.submit(TickRecord(t, make_snapshot(taken_at=t, pools=[make_pool("ig-t", requested=2)], prices=[SPOT])))
    recorder.close()
    assert sorted(p.name for p in (tmp_path / "rec").iterdir()) == ["j-TEST-000001.config.json", "j-TEST-000001.jsonl"]
    report = tmp_path / "r.json"
    assert main(["simulate", "--replay", str(tmp_path / "rec"), "--policy", "static", "--report", str(report)]) == 0
    assert "no recorded config" not in capsys.readouterr().err
    (static,) = json.loads(report.read_text())["results"]
    assert json.loads(report.read_text())["per_tick"][0]["policies"]["static"]["targets"] == {"ig-t": 3}
    assert static["would_be_cost_usd"] == pytest.approx(3 * 0.128 * 120 / 3600, abs=1e-6)
