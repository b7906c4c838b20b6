"""Hand-computed probes, through `emr-autoscaler simulate`, pinning each reference's vendor timing.

Every probe: 1 master + 1 core + an empty on-demand m5.xlarge task group, fixed 300 s boot, no Spot,
30 s ticks, tasks as big as a whole m5.xlarge (12288 MB YARN memory). On-demand m5.xlarge costs
$0.192 + $0.048 EMR = $0.24 an hour, billed per second, so cost pins when each node came and went.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from autoscaler.instance_types import yarn_resources
from autoscaler.sim.command import main

NODE_MB = yarn_resources("m5.xlarge").memory_mb
USD_PER_S = 0.24 / 3600


def _simulate(tmp_path: Path, jobs: list[dict[str, Any]], policy: dict[str, Any]) -> dict[str, Any]:
    trace = tmp_path / "t.jsonl"
    trace.write_text("".join(json.dumps(j) + "\n" for j in jobs))
    config = tmp_path / "c.yaml"
    pools = [
        {"id": "ig-master", "role": "MASTER", "initial": 1},
        {"id": "ig-core", "role": "CORE", "initial": 1},
        {"id": "ig-task", "role": "TASK", "market": "ON_DEMAND", "initial": 0},
    ]
    cluster = {"cluster_id": "j-PROBE", "yarn": {"urls": ["http://rm:8088"]}, "limits": {"max_task_units": 50}}
    doc = {"poll_interval_s": 30, "clusters": [{**cluster, "policies": [policy]}]}
    config.write_text(json.dumps({**doc, "sim": {"boot_s": 300, "interruptions": False, "pools": pools}}))
    report = tmp_path / "r.json"
    argv = ["--trace", str(trace), "--policy", policy["type"], "--config", str(config), "--report", str(report)]
    assert main(argv) == 0
    result: dict[str, Any] = json.loads(report.read_text())["results"][0]
    return result


def _job(job_id: str, tasks: int, task_s: float, submit_s: float = 0.0, memory_mb: int = NODE_MB) -> dict[str, Any]:
    stage = {"tasks": tasks, "memory_mb": memory_mb, "vcores": 1, "task_s": task_s}
    return {"id": job_id, "submit_s": submit_s, "am": None, "stages": [stage]}


def test_dataproc_buys_for_the_backlog_once_not_again_while_it_boots(tmp_path: Path) -> None:
    """10 whole-node tasks, 1 core node: at 0 s 9 are pending → +9. They boot until 300 s; the cooldown
    runs from that completion, and by 420 s nothing is pending: 9 nodes bought, not 9 + 8 = 17."""
    result = _simulate(tmp_path, [_job("j", 10, 600.0)], {"type": "dataproc"})
    assert result["nodes_launched"] == 9


def test_emr_rules_cooldown_runs_from_completion(tmp_path: Path) -> None:
    """3 whole-node tasks of 700 s on 1 core node: available 0 % → +1 at 300 s (the first full 5-minute
    period), up at 600 s; its cooldown ends 300 s after that completion, so the next +1 is at 900 s (a
    cooldown from the request would add one at 600 s as well). The last task ends at 1400 s; the run
    stops at the 1410 s tick. Node-seconds: master and core 1410 each, task nodes 1410−300 and 1410−900."""
    result = _simulate(tmp_path, [_job("j", 3, 700.0)], {"type": "emr-rules"})
    assert result["nodes_launched"] == 2
    assert result["simulated_s"] == 1410
    assert result["cost_usd"] == pytest.approx((2 * 1410 + 1110 + 510) * USD_PER_S, abs=1e-6)


@pytest.mark.parametrize(
    ("options", "guards", "task_node_s"),
    [
        # nothing pending from 300 s; after 120 s the busy node cannot drain; it goes when idle at 600 s
        ({"scale_down_after_s": 120}, None, 600),
        # after 600 s of nothing pending: at 900 s
        ({"scale_down_after_s": 600}, None, 900),
        # the same under our guards: 3 scale-in confirmations more (900, 930, 960 s)
        ({"scale_down_after_s": 600}, "ours", 960),
        # the default wait, 300 s (BENCHMARKS.md sensitivity table): 300 + 300 = 600 s
        ({}, None, 600),
    ],
)
def test_managed_scaling_like_waits_scale_down_after_s_with_nothing_pending(
    tmp_path: Path, options: dict[str, Any], guards: str | None, task_node_s: float
) -> None:
    """2 whole-node tasks of 300 s: one on core, one pending → +1 at 0 s, up and busy 300–600 s. A small
    job at 3000 s keeps the run going to the 3030 s tick. The task node is billed until the scale-in."""
    policy: dict[str, Any] = {"type": "managed-scaling-like", "options": options}
    if guards is not None:
        policy["guards"] = guards
    jobs = [_job("a", 2, 300.0), _job("b", 1, 10.0, submit_s=3000.0, memory_mb=1024)]
    result = _simulate(tmp_path, jobs, policy)
    assert result["simulated_s"] == 3030
    assert result["cost_usd"] == pytest.approx((2 * 3030 + task_node_s) * USD_PER_S, abs=1e-6)
