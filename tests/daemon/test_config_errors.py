"""Every bad config gets located errors, all at once, and exit 2 from both `validate` and `run`, never
a traceback (issue 10: one round for field, cross-field and policy errors; issue 11: files that crashed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_config_cli import GOOD

from autoscaler import __version__
from autoscaler.cli import main

THREE_ROUNDS = """
poll_interval_s: -5
clusters:
  - cluster_id: j-XXXXXXXXXXXX
    yarn: {urls: ["http://10.0.0.5:8088"], timeout_s: 0}
    limits: {min_task_units: 9, max_task_units: 3, max_step_up_units: 0}
    policies:
      - {type: no-such-policy}
      - {type: pending-demand, options: {not_an_option: 1}}
"""


def _deep(levels: int) -> str:
    return "a: " + "[" * levels + "]" * levels + "\n"


CASES = {
    "three rounds in one": (
        THREE_ROUNDS,
        [
            "poll_interval_s: Input should be greater than 0",
            "clusters[0].yarn.timeout_s: Input should be greater than 0",
            "clusters[0].limits.max_step_up_units: Input should be greater than or equal to 1",
            "clusters[0].limits.max_task_units: must be >= min_task_units",
            "clusters[0].policies[0].type: unknown policy 'no-such-policy'",
            "clusters[0].policies[1].options:",
        ],
    ),
    "region": (
        GOOD.replace("region: us-east-1", 'region: "not a region!"'),
        ["clusters[0].region: String should match"],
    ),
    "poll interval inf": (
        GOOD.replace("poll_interval_s: 30", "poll_interval_s: .inf"),
        ["poll_interval_s: Input should be a finite number"],
    ),
    "poll interval too long": (
        GOOD.replace("poll_interval_s: 30", "poll_interval_s: 1e9"),
        ["poll_interval_s: Input should be less than or equal to 86400"],
    ),
    "yarn timeout inf": (
        GOOD.replace(
            'yarn: {urls: ["http://10.0.0.5:8088"]}', 'yarn: {urls: ["http://10.0.0.5:8088"], timeout_s: .inf}'
        ),
        ["clusters[0].yarn.timeout_s: Input should be a finite number"],
    ),
    "nan cooldown": (
        GOOD + "    guards: {cooldown_up_s: .nan}\n",
        ["clusters[0].guards.cooldown_up_s: Input should be a finite number"],
    ),
    "policy option inf": (
        GOOD.replace("- {type: pending-demand}", "- {type: pending-demand, options: {pending_for_s: .inf}}"),
        ["clusters[0].policies[0].options: pending_for_s: Input should be a finite number"],
    ),
    "deeply nested yaml": (_deep(5000), ["nested too deeply"]),
    "not a mapping": ("- 1\n- 2\n", ["<root>: must be a mapping"]),
}


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_config_is_reported_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str, case: str
) -> None:
    """Each expected problem appears with its path, every line is `error: FILE: ...`, and exit is 2."""
    for var in ("EMR_AUTOSCALER_DRY_RUN", "EMR_AUTOSCALER_POLL_INTERVAL_S", "EMR_AUTOSCALER_METRICS_PORT"):
        monkeypatch.delenv(var, raising=False)
    text, expected = CASES[case]
    path = tmp_path / "config.yaml"
    path.write_text(text)
    args = [command, "-c", str(path)] + (["--once"] if command == "run" else [])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines
    assert all(line.startswith(f"error: {path}: ") for line in lines), err
    for want in expected:
        assert any(want in line for line in lines), f"{want!r} not in:\n{err}"


@pytest.mark.parametrize("command", ["validate", "run"])
def test_non_utf8_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    """A Latin-1 file is a located error naming the byte, not a UnicodeDecodeError."""
    path = tmp_path / "config.yaml"
    path.write_bytes(GOOD.encode() + "# r\xe9gion\n".encode("latin-1"))
    assert main([command, "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"error: {path}: <file>: not UTF-8 text (byte 0xe9" in err
    assert "Traceback" not in err


def test_file_and_environment_problems_are_blamed_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad EMR_AUTOSCALER_DRY_RUN is the environment's line; the file's own problem is the file's."""
    monkeypatch.setenv("EMR_AUTOSCALER_DRY_RUN", "perhaps")
    path = tmp_path / "config.yaml"
    path.write_text(GOOD.replace("region: us-east-1", "region: moon-1"))
    assert main(["validate", "-c", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert any(line.startswith(f"error: {path}: clusters[0].region:") for line in lines)
    assert any(line.startswith("error: environment: EMR_AUTOSCALER_DRY_RUN: ") for line in lines)
    assert not any(str(path) in line and "DRY_RUN" in line for line in lines)


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-2", "us-gov-west-1", "us-isob-east-1", "ap-southeast-5"])
def test_real_regions_pass(tmp_path: Path, region: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(GOOD.replace("region: us-east-1", f"region: {region}"))
    assert main(["validate", "-c", str(path)]) == 0


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`emr-autoscaler --version` prints the package version and exits 0."""
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith(f"emr-autoscaler {__version__} ")


def test_validate_echo_hides_rm_url_credentials(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The effective config `validate` prints shows `***@` for a user:password in an RM URL."""
    path = tmp_path / "config.yaml"
    path.write_text(GOOD.replace("http://10.0.0.5:8088", "http://ops:s3cret@10.0.0.5:8088"))
    assert main(["validate", "-c", str(path)]) == 0
    out = capsys.readouterr().out
    assert "http://***@10.0.0.5:8088" in out
    assert "s3cret" not in out
