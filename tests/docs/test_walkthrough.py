"""The README's end-to-end walkthrough, run for real at small sizes: a finished day served by the emulated
RM is imported, tuned on, shadow-run with a recording, replayed, re-imported from the recording, and the
chosen options flipped into `policies:` pass `validate`. The README's own commands must parse (below)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from autoscaler.testing import free_port

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
FB50 = REPO.parent / "shared" / "data" / "traces" / "swim" / "FB-2009_samples_24_times_1hr_0_first50jobs.tsv"
README = REPO / "README.md"


def _cli(cwd: Path, *argv: str, timeout: float = 300) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "autoscaler.cli", *argv],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{argv}: {done.stdout}\n{done.stderr}"
    return done.stdout


def _walkthrough_commands() -> list[str]:
    text = README.read_text()
    section = text.split("## Walkthrough: your workload, end to end", 1)[1].split("\n## ", 1)[0]
    return [line[2:] for line in section.splitlines() if line.startswith("$ emr-autoscaler ")]


def test_the_readme_walkthrough_shows_every_step() -> None:
    steps = " ".join(_walkthrough_commands())
    for step in ("demo --trace", "--history", "trace import --yarn", "tune ", "--config shadow.yaml",
                 "simulate --replay", "trace import --recording", "validate -c flipped.yaml"):  # fmt: skip
        assert step in steps, step


@pytest.mark.skipif(not FB50.is_file(), reason="the shared FB-2009 sample is not here")
def test_the_walkthrough_runs_at_small_sizes(tmp_path: Path) -> None:
    (tmp_path / "day.tsv").write_text("".join(FB50.read_text().splitlines(keepends=True)[:4]))
    port = free_port()
    history = subprocess.Popen(
        [sys.executable, "-m", "autoscaler.cli", "demo", "--trace", "day.tsv", "--history", "--yarn-port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert history.stdout is not None
        assert "4 of 4 jobs finished" in history.stdout.readline()
        out = _cli(tmp_path, "trace", "import", "--yarn", f"http://127.0.0.1:{port}", "-o", "day.jsonl")
        assert "read 4 apps" in out
    finally:
        history.send_signal(signal.SIGTERM)
        history.wait(timeout=20)
        if history.stdout is not None:
            history.stdout.close()
    tune = ["tune", "--trace", "day.jsonl", "--policy", "pending-demand+idle-capacity", "--max-p95-wait", "3600"]
    _cli(tmp_path, *tune, "--trials", "2", "--seed", "1", "--workers", "1", "-o", "best.yaml")
    tuned = yaml.safe_load((tmp_path / "best.yaml").read_text())["clusters"][0]["policies"]
    shadow = {
        "dry_run": False,
        "clusters": [
            {
                "cluster_id": "j-0123456789AB",
                "yarn": {"urls": ["http://resourcemanager:8088"]},
                "policies": [{"type": "pending-demand"}, {"type": "idle-capacity"}],
                "shadow_policies": tuned,
                "record_dir": "rec",
            }
        ],
    }
    (tmp_path / "shadow.yaml").write_text(yaml.safe_dump(shadow))
    _cli(tmp_path, "validate", "-c", "shadow.yaml")
    demo = ["demo", "--trace", "day.tsv", "--config", "shadow.yaml", "--time-scale", "10", "--duration", "240"]
    assert "all 4 jobs done" in _cli(tmp_path, *demo, "--metrics-port", str(free_port()), timeout=300)
    replay = ["simulate", "--replay", "rec", "--policy", "pending-demand+idle-capacity"]
    live = _cli(tmp_path, *replay, "--report", "live.json")
    ticks = json.loads((tmp_path / "live.json").read_text())["ticks"]
    assert re.search(rf"\b{ticks}/{ticks}\b", live), live  # the live policies replay as live
    _cli(tmp_path, *replay, "--config", "best.yaml", "--report", "tuned.json")
    assert json.loads((tmp_path / "tuned.json").read_text())["results"][0]["policy"] == "pending-demand+idle-capacity"
    assert "wrote" in _cli(tmp_path, "trace", "import", "--recording", "rec", "-o", "recorded.jsonl")
    flipped = yaml.safe_load((tmp_path / "shadow.yaml").read_text())
    flipped["clusters"][0]["policies"] = flipped["clusters"][0].pop("shadow_policies")
    (tmp_path / "flipped.yaml").write_text(yaml.safe_dump(flipped))
    assert "headroom_pct" in _cli(tmp_path, "validate", "-c", "flipped.yaml")
