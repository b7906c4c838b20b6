"""The emulator and the simulator make the same decisions for the same state.

(a) the simulator hands `engine.evaluate` its snapshot directly; (b) the same cluster is served by
the emulator and read back by the daemon's own sources (YarnClient over HTTP, EmrReader over boto3,
`snapshot.collect`). Both must give the same Plan.
"""

from __future__ import annotations

import pytest

from autoscaler.config import ClusterConfig
from autoscaler.emulator.demo import TASK_POOL, build_cluster
from autoscaler.emulator.server import Emulator
from autoscaler.engine import evaluate
from autoscaler.model import ClusterSnapshot, ControllerMemory, Plan
from autoscaler.policy import load_policies
from autoscaler.sim.cluster import SimCluster
from autoscaler.snapshot import build_sources, collect


def _config(yarn_url: str, cluster_id: str) -> ClusterConfig:
    return ClusterConfig.model_validate(
        {
            "cluster_id": cluster_id,
            "yarn": {"urls": [yarn_url], "timeout_s": 2},
            "limits": {"max_task_units": 6, "max_step_up_units": 6, "max_step_down_units": 6},
            "guards": {"cooldown_up_s": 0, "cooldown_down_s": 0, "scale_down_confirmations": 1},
            "pools": [TASK_POOL],
            "decommission_timeout_s": 300,
            "cloudwatch": False,
            "pricing": {"describe_spot_history": False},
            "policies": [{"type": "pending-demand"}, {"type": "idle-capacity"}],
        }
    )


def _served_snapshot(cluster: SimCluster, monkeypatch: pytest.MonkeyPatch) -> tuple[ClusterConfig, ClusterSnapshot]:
    """The snapshot the daemon's own sources build from the emulator serving `cluster`."""
    with Emulator(cluster, time_scale=0) as emu:
        monkeypatch.setenv("AWS_ENDPOINT_URL_EMR", emu.emr_url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        config = _config(emu.yarn_url, cluster.cluster_id)
        return config, collect(build_sources(config), config, cluster.now)


def _decide(snapshot: ClusterSnapshot, config: ClusterConfig) -> Plan:
    policies = load_policies(config.policies)
    return evaluate(snapshot, ControllerMemory(), policies, config).plan


def _both_plans(cluster: SimCluster, monkeypatch: pytest.MonkeyPatch) -> tuple[Plan, Plan, ClusterSnapshot]:
    direct = cluster.snapshot()
    config, served = _served_snapshot(cluster, monkeypatch)
    assert not served.stale, served.stale_reasons
    return _decide(direct, config), _decide(served, config), served


def test_same_scale_up_for_a_burst(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pending demand seen directly and over the wire asks for the same absolute task-group target."""
    cluster = build_cluster(1_700_000_000.0)
    cluster.advance_to(cluster.now + 30)
    direct, served, _ = _both_plans(cluster, monkeypatch)
    assert direct.resizes, "the burst must call for task nodes"
    assert served == direct


def test_same_scale_in_with_the_same_victims(monkeypatch: pytest.MonkeyPatch) -> None:
    """Idle task nodes seen directly and over the wire are drained the same way, naming the same instances."""
    cluster = build_cluster(1_700_000_000.0)
    cluster.modify_instance_group(TASK_POOL, 4)
    cluster.advance_to(cluster.now + 3600)  # the burst is done, the nodes are old enough to leave
    direct, served, snapshot = _both_plans(cluster, monkeypatch)
    assert [r.target.total for r in direct.resizes] == [0]
    assert served == direct
    assert set(direct.resizes[0].instances_to_terminate) == {
        i.instance_id for i in snapshot.instances if i.pool_id == TASK_POOL
    }


def test_same_drain_choice_around_an_application_master(monkeypatch: pytest.MonkeyPatch) -> None:
    """With an AM on a task node, both paths keep that node and drain the same idle ones."""
    cluster = build_cluster(1_700_000_000.0)
    cluster.modify_instance_group(TASK_POOL, 5)
    cluster.advance_to(cluster.now + 600)  # the last job's AM still runs on a task node; three nodes idle
    direct, served, snapshot = _both_plans(cluster, monkeypatch)
    assert served == direct
    am_instances = {n.instance_id for n in snapshot.nodes if n.hosts_am}
    assert am_instances, "the state must have an AM on a task node"
    victims = set(direct.resizes[0].instances_to_terminate)
    assert victims
    assert not victims & am_instances
