"""The `sim:` settings beyond the cluster shape: replayed reclaims, the trace conversion, Spot drains, ticks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoscaler.config import PolicySpec
from autoscaler.model import Market, PoolRole, Resources
from autoscaler.sim.command import main
from autoscaler.sim.conversion import MIB
from autoscaler.sim.job import Job, Stage
from autoscaler.sim.runner import simulate_policy
from autoscaler.sim.spec import SpecError, default_spec, group, parse_spec
from autoscaler.sim.trace import load_trace
from autoscaler.testing import make_cluster_config

from .conftest import cluster, spec_with

_POOLS = [
    {"id": "ig-master", "role": "MASTER", "initial": 1},
    {"id": "ig-core", "role": "CORE", "initial": 1},
    {"id": "ig-spot", "role": "TASK", "market": "SPOT", "initial": 2},
]


def _job(tasks: int, seconds: float, *, submit: float = 0.0) -> Job:
    return Job("j", submit, (Stage(tasks, 1024, 1, seconds),), am=None)


def test_spot_node_drains_in_twenty_seconds_not_the_timeout() -> None:
    """A busy Spot node asked to drain with a 3600 s timeout is gone 20 s later, its work re-queued."""
    spec = spec_with(
        group("ig-spot", PoolRole.TASK, Market.SPOT, 2), interruptions=False, resource_calculator="dominant"
    )
    c = cluster(spec)
    c.submit(_job(8, 600.0))  # 4 vcores per node: 4 tasks on each Spot node
    c.advance_to(spec.start_at + 1)
    _, second = sorted(c.pools["ig-spot"].nodes.values(), key=lambda n: n.seq)
    c.modify_instance_group("ig-spot", 1, instances_to_terminate=[second.instance_id], decommission_timeout_s=3600)
    c.advance_to(spec.start_at + 20.9)
    assert second.instance_id in c.pools["ig-spot"].nodes
    c.advance_to(spec.start_at + 21)
    assert second.instance_id not in c.pools["ig-spot"].nodes
    assert c.lost_containers == 4


def test_replayed_reclaim_notifies_two_minutes_ahead_and_takes_the_oldest_spot_node() -> None:
    """`reclaims` at 1000 s: notice at 880 s to the longest-running Spot node, reclaimed at 1000 s, replaced."""
    spec = parse_spec(
        {"boot_s": 300, "interruptions": False, "pools": _POOLS, "reclaims": [{"at_s": 1000, "pool": "ig-spot"}]}
    )
    c = cluster(spec)
    first, second = sorted(c.pools["ig-spot"].nodes.values(), key=lambda n: n.seq)
    c.advance_to(spec.start_at + 879)
    assert not c.snapshot().interruptions
    c.advance_to(spec.start_at + 880)
    assert [n.instance_id for n in c.snapshot().interruptions] == [first.instance_id]
    c.advance_to(spec.start_at + 1000)
    assert c.interruptions == 1
    assert set(c.pools["ig-spot"].nodes) - {second.instance_id}, "EMR launches a replacement"
    assert first.instance_id not in c.pools["ig-spot"].nodes
    assert c.reclaims_skipped == 0


def test_replayed_reclaim_without_a_running_spot_node_is_skipped() -> None:
    """A reclaim that finds only booting Spot nodes takes nothing and is counted as skipped."""
    pools = [*_POOLS[:2], {**_POOLS[2], "initial": 0}]
    spec = parse_spec({"interruptions": False, "pools": pools, "reclaims": [{"at_s": 200, "pool": "ig-spot"}]})
    c = cluster(spec)
    c.modify_instance_group("ig-spot", 1)  # boots for 300 s or more: not running at 200 s
    c.advance_to(spec.start_at + 400)
    assert (c.interruptions, c.reclaims_skipped) == (0, 1)


@pytest.mark.parametrize(
    ("sim", "message"),
    [
        ({"boot": 300}, "sim.boot: Extra inputs are not permitted"),
        ({"pools": _POOLS, "reclaims": [{"at_s": 5, "pool": "ig-core"}]}, "sim.reclaims[0].pool: 'ig-core'"),
        ({"pools": _POOLS, "reclaims": [{"at_s": -1, "pool": "ig-spot"}]}, "sim.reclaims[0].at_s"),
        ({"pools": _POOLS, "reclaims": [{"pool": "ig-spot"}]}, "sim.reclaims[0].at_s: Field required"),
        ({"conversion": {"split_bytes": 0}}, "sim.conversion.split_bytes: Input should be greater than 0"),
        ({"conversion": {"map_mb_per_s": "fast"}}, "sim.conversion.map_mb_per_s: Input should be a valid number"),
        ({"conversion": {"max_reduces": 2.5}}, "sim.conversion.max_reduces: Input should be a valid integer"),
        ({"conversion": {"splits": 1}}, "sim.conversion.splits: Extra inputs are not permitted"),
        ({"conversion": {"min_task_s": 10, "max_task_s": 5}}, "sim.conversion.min_task_s: must be <= max_task_s"),
        ({"interruptions": "false"}, "sim.interruptions: Input should be a valid boolean"),
        ({"min_node_age_s": "10m"}, "sim.min_node_age_s: Input should be a valid number"),
        ({"pools": [{"id": "x", "role": "boss"}]}, "sim.pools[0].role: Input should be 'MASTER', 'CORE' or 'TASK'"),
        ({"pools": [{**_POOLS[2], "initial": "2"}]}, "sim.pools[0].initial: Input should be a valid integer"),
        ({"pools": [{"id": "f", "role": "TASK", "kind": "INSTANCE_FLEET", "initial": 2}]}, "sim.pools[0].initial: "),
    ],
)
def test_bad_sim_settings_name_the_field(sim: dict[str, object], message: str) -> None:
    """A misspelt or invalid `sim:` setting is an error naming its path, never silently ignored."""
    with pytest.raises(SpecError) as err:
        parse_spec(sim)
    assert message in str(err.value)


def test_conversion_settings_change_how_swim_rows_become_tasks(tmp_path: Path) -> None:
    """`sim.conversion.split_bytes: 256 MiB` halves the maps of a 10-split input; zero start-up shortens tasks."""
    path = tmp_path / "t.tsv"
    path.write_text(f"j\t0\t0\t{10 * 128 * MIB}\t0\t0\n")
    spec = parse_spec({"conversion": {"split_bytes": 256 * MIB, "container_start_s": 0, "map_mb_per_s": 64}})
    (job,) = load_trace(path, model=spec.conversion)
    assert job.stages[0].tasks == 5
    assert job.stages[0].task_s == pytest.approx(256 / 64)  # 256 MiB per map at 64 MiB/s, no start-up


def test_simulate_reads_the_conversion_from_the_config(tmp_path: Path) -> None:
    """`simulate --config` with `sim.conversion.map_memory_mb: 4096` adds 1 GiB to each map (EMR's m5.xlarge 3072)."""
    trace = tmp_path / "t.tsv"
    trace.write_text(f"j\t0\t0\t{100 * 128 * MIB}\t0\t0\n")  # 100 maps of 2 + 128/40 = 5.2 s, no reduce
    demand = []
    for i, conversion in enumerate(({}, {"map_memory_mb": 4096})):
        config = tmp_path / f"c{i}.yaml"
        config.write_text(json.dumps({"sim": {"conversion": conversion}}))
        report = tmp_path / f"r{i}.json"
        argv = ["--trace", str(trace), "--policy", "pending-demand", "--config", str(config), "--report", str(report)]
        assert main(argv) == 0
        demand.append(json.loads(report.read_text())["results"][0]["oracle_demand_mb_hours"])
    assert demand[1] - demand[0] == pytest.approx(100 * 5.2 * 1024 / 3600, abs=0.1)


@pytest.mark.parametrize(("poll", "ends_at"), [(30.0, 120.0), (45.0, 135.0)])
def test_the_run_ticks_at_the_poll_interval(poll: float, ends_at: float) -> None:
    """A 100 s task submitted at 10 s ends at 110 s; the run stops at the first tick after that."""
    job = Job("j", 10.0, (Stage(1, 1024, 1, 100.0),), am=Resources(1024, 1))
    config = make_cluster_config(cluster_id="j-SIMULATED")
    result = simulate_policy(
        [job], default_spec(), [PolicySpec(type="pending-demand")], config, None, 0, poll_interval_s=poll
    )
    assert result.jobs_completed == 1
    assert result.extras["simulated_s"] == ends_at


def test_png_plot_is_written(tmp_path: Path) -> None:
    """`--plot out.png` writes a PNG image (matplotlib's Agg backend)."""
    trace = tmp_path / "t.jsonl"
    trace.write_text('{"id": "a", "submit_s": 0, "am": null, "stages": [{"tasks": 2, "memory_mb": 1024, '
                     '"vcores": 1, "task_s": [10, 20]}]}\n')  # fmt: skip
    out = tmp_path / "out.png"
    argv = ["--trace", str(trace), "--policy", "static", "--report", str(tmp_path / "r.json"), "--plot", str(out)]
    assert main(argv) == 0
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
