"""`explain` sees what the daemon sees: with the daemon running, `explain --daemon` evaluates with
the daemon's own memory (from `/debug/decision`), so on an idle pool it agrees with the daemon tick
for tick; without a daemon it says the memory is unknown; on stale input both exit 3."""

from __future__ import annotations

import contextlib
import io
import json
import signal
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from e2e_harness import Harness, free_port, run_once, start_daemon, tick_events, wait_for

from autoscaler.cli import main
from autoscaler.model import Resources
from autoscaler.testing import make_node

pytestmark = pytest.mark.e2e


def _idle_pool(harness: Harness, port: int, poll_s: float) -> Path:
    """Busy core nodes, three idle task nodes; a dry run (the cluster never changes, so every tick
    sees the same input) needing 3 scale-in confirmations, the task pool free to go to 0."""
    cluster = harness.cluster
    nodes = [
        make_node(str(i["PrivateDnsName"]), containers=3, used=Resources(12288, 4)) for i in cluster.core_instances
    ]
    nodes += [make_node(str(i["PrivateDnsName"])) for i in cluster.task_instances]
    harness.yarn.set(nodes)
    path = harness.config(port)
    data = yaml.safe_load(path.read_text())
    data.update(dry_run=True, poll_interval_s=poll_s)
    (c,) = data["clusters"]
    c["limits"]["min_task_units"] = 0
    c["guards"]["scale_down_confirmations"] = 3
    path.write_text(yaml.safe_dump(data))
    return path


def _explain(config: Path, harness: Harness, monkeypatch: pytest.MonkeyPatch, *flags: str) -> tuple[int, Any]:
    """`emr-autoscaler explain --json` in this process (fast enough to land between two daemon ticks)."""
    with monkeypatch.context() as env:
        for key, value in harness.env().items():
            env.setenv(key, value)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["explain", "-c", str(config), "--json", *flags])
    return code, json.loads(out.getvalue())


def _board(port: int) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/debug/decision", timeout=2) as resp:
            return dict(json.loads(resp.read()))
    except OSError:
        return None


def _last_tick(port: int, cluster_id: str) -> float | None:
    state = ((_board(port) or {}).get("clusters") or {}).get(cluster_id) or {}
    return (state.get("last_decision") or {}).get("taken_at")


def _newer(tick: float | None, than: float | None) -> float | None:
    return tick if tick is not None and (than is None or tick > than) else None


def _summary(tick: dict[str, Any]) -> tuple[list[Any], bool]:
    """What must agree: the plan, and whether a scale-in is still awaiting confirmation."""
    return tick["plan"], any(r["reason"] == "awaiting_confirmation" for r in tick["rejections"])


def test_explain_and_the_daemon_agree_tick_for_tick_on_an_idle_pool(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon plans `ig-task → 0` on its 3rd tick; `explain` run between the 2nd and the 3rd must
    plan the same, not say awaiting_confirmation, and so for every tick explain is run before."""
    port, cid, task = free_port(), harness.cluster.cluster_id, harness.cluster.task_group
    config = _idle_pool(harness, port, poll_s=1.0)
    daemon = start_daemon(config, harness.env())
    explained: list[tuple[float, tuple[list[Any], bool]]] = []
    try:
        seen: float | None = None
        for _ in range(4):
            seen = wait_for(lambda after=seen: _newer(_last_tick(port, cid), after))
            assert seen, "the daemon stopped ticking"
            code, out = _explain(config, harness, monkeypatch, "--daemon", f"http://127.0.0.1:{port}")
            assert code == 0
            assert out["memory"]["source"] == "daemon", out["memory"]
            explained.append((out["memory"]["daemon_last_tick_taken_at"], _summary(out)))
        last_base = explained[-1][0]
        assert wait_for(lambda: _newer(_last_tick(port, cid), last_base))
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=20)
    ticks = tick_events(stderr)
    assert ticks, stderr
    daemon_plans = [_summary(t)[0] for t in ticks]
    assert [bool(p) for p in daemon_plans[:4]] == [False, False, True, False], (
        "plans on the 3rd tick, then counts again"
    )
    assert daemon_plans[2][0]["pool"] == task
    assert daemon_plans[2][0]["target"] == {"on_demand": 0, "spot": 0}
    for base, summary in explained:
        following = next(t for t in ticks if t["taken_at"] > base)
        assert summary == _summary(following), f"explain after the daemon's tick at {base} disagrees"
    assert any(plan for _, (plan, _) in explained), "explain was run before a planning tick at least once"
    assert any(waiting for _, (_, waiting) in explained)
    assert harness.proxy.writes() == []


def test_without_a_daemon_explain_says_memory_is_unknown(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _idle_pool(harness, free_port(), poll_s=1.0)  # nothing listens on that metrics port
    code, out = _explain(config, harness, monkeypatch)
    assert code == 0
    assert out["memory"]["source"] == "none"
    assert out["memory"]["unknown"] == ["cooldowns", "back-offs", "scale-in confirmations"]
    assert "awaiting_confirmation" in {r["reason"] for r in out["rejections"]}


def test_run_once_and_explain_exit_3_on_a_stale_snapshot(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """YARN down: nothing is decided, and the exit status says so (documented: 3)."""
    config = harness.config(yarn_url=f"http://127.0.0.1:{free_port()}")
    done = run_once(config, harness.env())
    assert done.returncode == 3, done.stderr
    assert tick_events(done.stderr)[0]["stale"] is True
    code, out = _explain(config, harness, monkeypatch, "--daemon", "none")
    assert code == 3
    assert out["stale_reasons"]
    assert harness.proxy.writes() == []
