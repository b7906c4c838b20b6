"""`emr-autoscaler validate`, env overrides, error paths and the generated config reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from autoscaler.cli import _load, _parser, main
from autoscaler.config import ConfigError, load_config, parse_config
from autoscaler.reference import config_reference

REPO = Path(__file__).resolve().parents[2]

GOOD = """
dry_run: true
poll_interval_s: 30
clusters:
  - cluster_id: j-XXXXXXXXXXXX
    region: us-east-1
    yarn: {urls: ["http://10.0.0.5:8088"]}
    limits: {min_task_units: 0, max_task_units: 40, max_core_units: 3}
    policies:
      - {type: pending-demand}
      - {type: idle-capacity}
"""


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return str(path)


def test_validate_prints_the_effective_config_with_defaults(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """validate echoes the issue's example with every default filled in, and exits 0."""
    assert main(["validate", "-c", _write(tmp_path, GOOD)]) == 0
    effective = yaml.safe_load(capsys.readouterr().out)
    cluster = effective["clusters"][0]
    assert cluster["limits"]["max_task_units"] == 40
    assert cluster["guards"]["scale_down_confirmations"] == 3
    assert cluster["decommission_timeout_s"] == 3600
    assert effective["dry_run"] is True


def test_validate_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--format json prints the same effective config as JSON."""
    assert main(["validate", "-c", _write(tmp_path, GOOD), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["poll_interval_s"] == 30


def test_every_error_is_reported_with_its_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """All problems appear at once, one line each, with their location, and the exit code is 2."""
    bad = GOOD.replace("max_task_units: 40", "max_task_units: -1").replace("poll_interval_s: 30", "poll_interval_s: 0")
    bad = bad.replace("cluster_id: j-XXXXXXXXXXXX", "cluster_id: cluster-one\n    colour: blue")
    assert main(["validate", "-c", _write(tmp_path, bad)]) == 2
    err = capsys.readouterr().err
    assert "clusters[0].limits.max_task_units: Input should be greater than or equal to 0" in err
    assert "poll_interval_s: Input should be greater than 0" in err
    assert "clusters[0].cluster_id: String should match pattern" in err
    assert "clusters[0].colour: Extra inputs are not permitted" in err
    assert "Traceback" not in err


def test_model_validator_errors_carry_the_field_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Cross-field rules name the field: clusters[0].limits.max_task_units: must be >= min_task_units."""
    bad = GOOD.replace("min_task_units: 0", "min_task_units: 50")
    assert main(["validate", "-c", _write(tmp_path, bad)]) == 2
    assert "clusters[0].limits.max_task_units: must be >= min_task_units" in capsys.readouterr().err


def test_unknown_policy_lists_the_available_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown policy name fails validation with its path and the installed policy names."""
    bad = GOOD.replace("{type: idle-capacity}", "{type: idel-capacity}")
    assert main(["validate", "-c", _write(tmp_path, bad)]) == 2
    err = capsys.readouterr().err
    assert "clusters[0].policies[1].type: unknown policy 'idel-capacity'" in err
    assert "idle-capacity" in err.split("available:")[1]
    assert "pending-demand" in err.split("available:")[1]


def test_run_refuses_an_invalid_config_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """run --once on a broken config exits 2 before touching any cluster."""
    assert main(["run", "-c", _write(tmp_path, "clusters: []\n"), "--once"]) == 2
    assert "clusters: list at least one cluster, or set discovery" in capsys.readouterr().err


def test_unreadable_and_malformed_files_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing file and a YAML syntax error each produce a single clear line."""
    assert main(["validate", "-c", str(tmp_path / "missing.yaml")]) == 2
    assert "No such file" in capsys.readouterr().err
    assert main(["validate", "-c", _write(tmp_path, "clusters: [\n")]) == 2
    err = capsys.readouterr().err
    assert "line " in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("var", "value", "key", "expected"),
    [
        ("EMR_AUTOSCALER_DRY_RUN", "false", "dry_run", False),
        ("EMR_AUTOSCALER_POLL_INTERVAL_S", "5", "poll_interval_s", 5.0),
        ("EMR_AUTOSCALER_METRICS_PORT", "0", "metrics_port", 0),
        ("EMR_AUTOSCALER_LOG_FORMAT", "json", "log_format", "json"),
    ],
)
def test_env_overrides_top_level_keys(tmp_path: Path, var: str, value: str, key: str, expected: object) -> None:
    """EMR_AUTOSCALER_<KEY> overrides the file's top-level key."""
    config = load_config(_write(tmp_path, GOOD), env={var: value})
    assert getattr(config, key) == expected


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("EMR_AUTOSCALER_DRY_RUN", "perhaps", "valid boolean"),
        ("EMR_AUTOSCALER_POLL_INTERVAL_S", "0", "greater than 0"),
        ("EMR_AUTOSCALER_METRICS_PORT", "http", "valid integer"),
    ],
)
def test_invalid_env_override_is_blamed_on_the_variable(tmp_path: Path, var: str, value: str, message: str) -> None:
    """A bad environment value names the variable, never the file (whose problems stay its own)."""
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, GOOD), env={var: value})
    assert err.value.problems == []
    (problem,) = err.value.env_problems
    assert problem.startswith(f"{var}: ")
    assert message in problem
    assert err.value.lines() == [f"environment: {problem}"]


def test_env_override_via_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """validate shows the environment's value, so an operator sees what the daemon will use."""
    monkeypatch.setenv("EMR_AUTOSCALER_DRY_RUN", "false")
    assert main(["validate", "-c", _write(tmp_path, GOOD)]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["dry_run"] is False


def test_dry_run_defaults_to_true() -> None:
    """Nothing is resized until an operator says so."""
    config = parse_config(yaml.safe_load(GOOD.replace("dry_run: true\n", "")), env={})
    assert config.dry_run is True


def test_committed_config_reference_is_up_to_date() -> None:
    """docs/config-reference.md matches the models (regenerate: `emr-autoscaler config-reference -o FILE`)."""
    assert (REPO / "docs" / "config-reference.md").read_text() == config_reference()


def test_config_reference_documents_every_field() -> None:
    """Every field of every section appears in the reference with a description."""
    text = config_reference()
    for section in ("clusters[].limits", "clusters[].guards", "clusters[].pricing", "clusters[].policies[]"):
        assert f"## `{section}`" in text
    for line in text.splitlines():
        if line.startswith("| `"):
            assert not line.rstrip().endswith("|  |"), f"undocumented field: {line}"


def test_an_out_of_range_metrics_port_flag_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--metrics-port is validated like the file's key: exit 2 with the key named, no traceback."""
    assert main(["run", "-c", _write(tmp_path, GOOD), "--once", "--metrics-port", "70000"]) == 2
    err = capsys.readouterr().err
    assert "metrics_port: Input should be less than or equal to 65535" in err
    assert "Traceback" not in err


def test_run_flags_beat_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """run's --no-dry-run wins over EMR_AUTOSCALER_DRY_RUN=true, and --metrics-port over the file."""
    monkeypatch.setenv("EMR_AUTOSCALER_DRY_RUN", "true")
    args = _parser().parse_args(["run", "-c", _write(tmp_path, GOOD), "--no-dry-run", "--metrics-port", "9999"])
    config = _load(args)
    assert config.dry_run is False
    assert config.metrics_port == 9999


#: The public-contract example from issue #3, verbatim (comments included): external tooling writes it.
ISSUE_EXAMPLE = """\
dry_run: true              # default true: nothing is resized until an operator turns it off
poll_interval_s: 30
clusters:
  - cluster_id: j-XXXXXXXXXXXX
    region: us-east-1
    yarn: {urls: ["http://10.0.0.5:8088"]}     # several = RM HA; pick the active one
    limits: {min_task_units: 0, max_task_units: 40, max_core_units: 3}
    policies:
      - {type: dataproc, options: {scale_up_factor: 1.0, scale_down_factor: 1.0}}
"""


def test_the_issue_contract_example_validates_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's YAML, unchanged, validates (exit 0) and keeps every contract key's value."""
    monkeypatch.delenv("EMR_AUTOSCALER_DRY_RUN", raising=False)
    monkeypatch.delenv("EMR_AUTOSCALER_POLL_INTERVAL_S", raising=False)
    assert main(["validate", "-c", _write(tmp_path, ISSUE_EXAMPLE)]) == 0
    effective = yaml.safe_load(capsys.readouterr().out)
    assert (effective["dry_run"], effective["poll_interval_s"]) == (True, 30)
    (cluster,) = effective["clusters"]
    assert (cluster["cluster_id"], cluster["region"]) == ("j-XXXXXXXXXXXX", "us-east-1")
    assert cluster["yarn"]["urls"] == ["http://10.0.0.5:8088"]
    limits = cluster["limits"]
    assert (limits["min_task_units"], limits["max_task_units"], limits["max_core_units"]) == (0, 40, 3)
    options = {"scale_up_factor": 1.0, "scale_down_factor": 1.0}
    assert cluster["policies"] == [{"type": "dataproc", "options": options, "guards": None}]  # None: its own profile


def test_config_reference_documents_each_builtin_policy_and_its_options() -> None:
    """Every built-in policy has a section with each of its options, so operators need not read code."""
    text = config_reference()
    for name, options in VALID_OPTIONS.items():
        section = text.split(f"### `{name}`\n", 1)[1].split("\n### ", 1)[0]
        for option in options:
            assert f"| `{option}` |" in section, f"{name}: option {option} undocumented"


#: Options each built-in policy takes (from its module docstring's Options list; schedule's windows[] keys).
VALID_OPTIONS = {
    "pending-demand": ["headroom_pct", "count_vcores"],
    "idle-capacity": ["keep_idle_nodes", "idle_for_s"],
    "schedule": ["windows", "min_units", "tz"],
    "emr-rules": ["scale_out_below_pct", "scale_in_above_pct", "cooldown_s"],
    "dataproc": ["scale_up_factor", "scale_down_factor", "cooldown_s"],
    "static": ["units", "pools"],
    "managed-scaling-like": ["minimum_units", "maximum_units", "scale_down_after_s"],
}
