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


def _simulate(
    tmp_path: Path, jobs: list[dict[str, Any]], policy: dict[str, Any], *, min_node_age_s: float | None = None
) -> dict[str, Any]:
    trace = tmp_path / "t.jsonl"
    trace.write_text("".join(json.dumps(j) + "\n" for j in jobs))
    config = tmp_path / "c.yaml"
    pools = [
        {"id": "ig-master", "role": "MASTER", "initial": 1},
        {"id": "ig-core", "role": "CORE", "initial": 1},
        {"id": "ig-task", "role": "TASK", "market": "ON_DEMAND", "initial": 0},
    ]
    cluster: dict[str, Any] = {"cluster_id": "j-PROBE", "yarn": {"urls": ["http://rm:8088"]}}
    cluster["limits"] = {"max_task_units": 50}
    sim: dict[str, Any] = {"boot_s": 300, "interruptions": False, "pools": pools}
    if min_node_age_s is not None:  # EMR's 10-minute rule, in the simulated EMR and in our drain choice
        sim["min_node_age_s"] = min_node_age_s
        cluster["guards"] = {"min_node_age_s": min_node_age_s}
    doc = {"poll_interval_s": 30, "clusters": [{**cluster, "policies": [policy]}]}
    config.write_text(json.dumps({**doc, "sim": sim}))
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
        ({"scale_down_after_s": 120}, None, 420),  # nothing pending since 300 s: released at 420 s
        ({"scale_down_after_s": 600}, None, 900),
        # the same under our guards: 3 scale-in confirmations (900, 930, 960 s)
        ({"scale_down_after_s": 600}, "ours", 960),
        # the default wait, 60 s (the BENCHMARKS.md sensitivity table): the node idles at 330 s, goes at 360 s
        ({}, None, 360),
    ],
)
def test_managed_scaling_like_waits_scale_down_after_s_with_nothing_pending(
    tmp_path: Path, options: dict[str, Any], guards: str | None, task_node_s: float
) -> None:
    """Two whole-node tasks, 300 s and 30 s: the first runs on core, the second is pending → +1 at 0 s; the
    node is up at 300 s, idle from 330 s, and nothing is pending from 300 s. With EMR's minimum node age
    off, it leaves `scale_down_after_s` after 300 s (at a tick, once idle). A small job at 3000 s keeps the
    run going to the 3030 s tick; the task node is billed from 0 s until it leaves."""
    policy: dict[str, Any] = {"type": "managed-scaling-like", "options": options}
    if guards is not None:
        policy["guards"] = guards
    first = _job("a", 2, 0.0)
    first["stages"][0]["task_s"] = [300.0, 30.0]
    jobs = [first, _job("b", 1, 10.0, submit_s=3000.0, memory_mb=1024)]
    result = _simulate(tmp_path, jobs, policy, min_node_age_s=0)
    assert result["simulated_s"] == 3030
    assert result["cost_usd"] == pytest.approx((2 * 3030 + task_node_s) * USD_PER_S, abs=1e-6)
