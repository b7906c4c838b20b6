"""`simulate` refuses bad outputs before it runs: exit 2, one clear line, no traceback, nothing written."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from autoscaler.sim.command import main

_TRACE = '{"id": "a", "submit_s": 0, "am": null, "stages": [{"tasks": 1, "memory_mb": 1024, "vcores": 1, "task_s": 9}]}'


def _argv(tmp_path: Path, *extra: str) -> list[str]:
    trace = tmp_path / "t.jsonl"
    trace.write_text(_TRACE + "\n")
    return ["--trace", str(trace), "--policy", "static", *extra]


def _refused(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert out == "", "the run must not start: no result table"
    return err


def test_report_folder_that_does_not_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--report missing/r.json` names the missing folder."""
    err = _refused(capsys, _argv(tmp_path, "--report", str(tmp_path / "missing" / "r.json")))
    assert f"--report {tmp_path / 'missing' / 'r.json'}: folder {tmp_path / 'missing'} does not exist" in err


def test_report_that_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(capsys, _argv(tmp_path, "--report", str(tmp_path)))
    assert "is a folder" in err


def test_plot_folder_that_does_not_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "r.json"
    err = _refused(capsys, _argv(tmp_path, "--report", str(report), "--plot", str(tmp_path / "nope" / "p.png")))
    assert f"folder {tmp_path / 'nope'} does not exist" in err
    assert not report.exists()


def test_plot_extension_matplotlib_cannot_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--plot p.xyz` lists the extensions that work, .html first."""
    pytest.importorskip("matplotlib")
    err = _refused(capsys, _argv(tmp_path, "--report", str(tmp_path / "r.json"), "--plot", str(tmp_path / "p.xyz")))
    assert "unsupported extension .xyz; use .html or one of" in err
    assert ".png" in err


def test_plot_without_matplotlib_names_the_plot_extra(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With matplotlib hidden, `--plot p.png` and `--plot p.html` (matplotlib's SVG) say how to install it."""
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib...` raises ImportError
    for plot in ("p.png", "p.html"):
        err = _refused(capsys, _argv(tmp_path, "--report", str(tmp_path / "r.json"), "--plot", str(tmp_path / plot)))
        assert "needs matplotlib, the 'plot' extra: pip install 'emr-autoscaler[plot]'" in err


def test_html_plot_is_matplotlibs_svg_in_a_page(tmp_path: Path) -> None:
    """`.html` is one self-contained page: matplotlib's inline SVG, no script, no prolog inside the body."""
    pytest.importorskip("matplotlib")
    page = tmp_path / "p.html"
    assert main(_argv(tmp_path, "--report", str(tmp_path / "r.json"), "--plot", str(page))) == 0
    text = page.read_text()
    assert text.startswith("<!doctype html>")
    assert "<svg" in text
    assert "Matplotlib" in text  # the generator matplotlib writes into its SVG metadata
    assert "<script" not in text
    assert "<?xml" not in text


def test_bad_sim_values_are_located_errors_all_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`interruptions: "false"` is an error (not true), and a type error names its key; all are listed."""
    config = tmp_path / "c.yaml"
    config.write_text(
        'sim:\n  interruptions: "false"\n  boot_s: {distribution: fixed, value: soon}\n  spot_price_fraction: x\n'
    )
    err = _refused(capsys, _argv(tmp_path, "--config", str(config), "--report", str(tmp_path / "r.json")))
    assert f"error: {config}: sim.interruptions: Input should be a valid boolean" in err
    assert f"error: {config}: sim.boot_s.value: must be a non-negative number, not 'soon'" in err
    assert f"error: {config}: sim.spot_price_fraction: Input should be a valid number" in err
