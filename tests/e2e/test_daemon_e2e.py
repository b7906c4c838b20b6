"""The real `emr-autoscaler run` process against a YARN RM REST server and moto's EMR: what it writes."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from e2e_harness import (
    REPO,
    EmrCluster,
    Harness,
    daemon_env,
    free_port,
    run_once,
    scrape,
    start_daemon,
    tick_events,
    wait_for,
    write_config,
)
from faults.proxy import FaultProxy

from autoscaler.model import AppInfo, NodeInfo, Resources
from autoscaler.testing import YarnFault, make_app, make_node

pytestmark = pytest.mark.e2e


def _host(instance: dict[str, object]) -> str:
    return str(instance["PrivateDnsName"])


def _busy(cluster: EmrCluster) -> list[NodeInfo]:
    """Every core and task node full (3 containers of 4 GB, all vcores)."""
    return [
        make_node(_host(i), containers=3, used=Resources(12288, 4))
        for i in cluster.core_instances + cluster.task_instances
    ]


def _pending_demand(cluster: EmrCluster) -> tuple[list[NodeInfo], list[AppInfo]]:
    am_host = _host(cluster.core_instances[0])
    return (_busy(cluster), [make_app("application_1_0001", am_host=am_host, pending=10, memory_mb=4096)])


def test_pending_demand_grows_the_task_group(
    harness: Harness,
) -> None:
    """10 pending 4 GB containers on a full cluster → one ModifyInstanceGroups raising the task group."""
    yarn, proxy, emr_cluster = harness.yarn, harness.proxy, harness.cluster
    yarn.set(*_pending_demand(emr_cluster))
    config = harness.config()
    done = run_once(config, harness.env())
    assert done.returncode == 0, done.stderr
    (write,) = proxy.writes()
    assert write.operation == "ModifyInstanceGroups"
    (group,) = write.body["InstanceGroups"]
    assert group["InstanceGroupId"] == emr_cluster.task_group
    # 4 GB / 1 vcore asks on 12 GB / 4 vcore nodes: 3 per node, so 10 need 4 more nodes
    assert group["InstanceCount"] == 7
    assert "ShrinkPolicy" not in group
    assert emr_cluster.task_requested() == 7
    (event,) = tick_events(done.stderr)
    assert event["outcomes"][0]["status"] == "applied"
    assert event["dry_run"] is False


def test_idle_nodes_shrink_with_a_shrink_policy_naming_idle_non_am_instances(
    harness: Harness,
) -> None:
    """Two idle task nodes and one hosting an AM: the idle ones are named to terminate, the AM host is not."""
    yarn, proxy, emr_cluster = harness.yarn, harness.proxy, harness.cluster
    am, idle1, idle2 = emr_cluster.task_instances
    nodes = [make_node(_host(i), containers=3, used=Resources(12288, 4)) for i in emr_cluster.core_instances]
    nodes += [
        make_node(_host(am), containers=1, used=Resources(2048, 1)),
        make_node(_host(idle1)),
        make_node(_host(idle2)),
    ]
    yarn.set(nodes, [make_app("application_1_0002", am_host=_host(am))])
    config = harness.config()
    done = run_once(config, harness.env())
    assert done.returncode == 0, done.stderr
    (write,) = proxy.writes()
    (group,) = write.body["InstanceGroups"]
    assert group["InstanceGroupId"] == emr_cluster.task_group
    assert group["InstanceCount"] == 1
    assert "EC2InstanceIdsToTerminate" not in group
    shrink = group["ShrinkPolicy"]
    assert shrink["DecommissionTimeout"] == 120
    victims = set(shrink["InstanceResizePolicy"]["InstancesToTerminate"])
    assert victims == {idle1["Ec2InstanceId"], idle2["Ec2InstanceId"]}
    assert am["Ec2InstanceId"] not in victims
    assert am["Ec2InstanceId"] in shrink["InstanceResizePolicy"].get("InstancesToProtect", [am["Ec2InstanceId"]])
    assert emr_cluster.task_requested() == 1


@pytest.mark.parametrize("failure", ["down", "garbage"])
def test_yarn_down_or_garbage_means_no_resize_and_a_stale_metric(harness: Harness, failure: str) -> None:
    """With YARN unreachable or answering HTML, the daemon writes nothing, exports stale=1, turns
    unready (/readyz and its old name /healthz 503) but stays live (/livez 200: their outage must not
    restart us), and still stops cleanly on SIGTERM."""
    yarn, proxy, emr_cluster = harness.yarn, harness.proxy, harness.cluster
    if failure == "garbage":
        yarn.set(_busy(emr_cluster))
        yarn.inject(YarnFault.GARBAGE)
        yarn_url = yarn.url
    else:
        yarn_url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    port = free_port()
    config = harness.config(port, yarn_url)
    proc = start_daemon(config, harness.env())
    try:
        stale_line = f'emr_autoscaler_snapshot_stale{{cluster="{emr_cluster.cluster_id}"}} 1.0'
        assert wait_for(lambda: stale_line in (scrape(port) or "")), "stale gauge never reached 1"
        assert wait_for(lambda: _healthz(port) == 503, timeout=10), "healthz stayed healthy on stale input"
        assert _healthz(port, "/readyz") == 503
        assert _healthz(port, "/livez") == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert proxy.writes() == []
    assert any(c.operation == "DescribeCluster" for c in proxy.exchanges()), "EMR was read through the proxy"
    events = tick_events(stderr)
    assert events, stderr
    assert all(e["stale"] and e["plan"] == [] for e in events)
    assert any("yarn" in reason for reason in events[0]["stale_reasons"])


def _healthz(port: int, path: str = "/healthz") -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        err.close()
        return int(err.code)
    except OSError:
        return None


def test_dry_run_writes_nothing_and_logs_the_request(
    harness: Harness,
) -> None:
    """--dry-run with the same pending demand: zero Modify calls; the tick event names the request."""
    yarn, proxy, emr_cluster = harness.yarn, harness.proxy, harness.cluster
    yarn.set(*_pending_demand(emr_cluster))
    config = harness.config()
    done = run_once(config, harness.env(), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert proxy.writes() == []
    assert emr_cluster.task_requested() == 3
    (event,) = tick_events(done.stderr)
    assert event["dry_run"] is True
    (outcome,) = event["outcomes"]
    assert outcome["status"] == "dry_run"
    assert "ModifyInstanceGroups" in outcome["detail"]
    assert '"InstanceCount":7' in outcome["detail"]


def test_invalid_config_exits_2_without_contacting_aws(tmp_path: Path, proxy: FaultProxy, moto_url: str) -> None:
    """run --once with an unknown policy fails fast with a one-line error and exit code 2."""
    config = write_config(tmp_path, "j-NOPE", "http://127.0.0.1:1", 0, policies=[{"type": "no-such-policy"}])
    done = run_once(config, daemon_env(moto_url, proxy.url))
    assert done.returncode == 2
    assert "unknown policy 'no-such-policy'" in done.stderr
    assert "Traceback" not in done.stderr
    assert proxy.exchanges() == []


def test_explain_prints_the_tick_and_writes_nothing(harness: Harness) -> None:
    """explain against the live cluster shows inputs, each recommendation, the plan and what it would send."""
    harness.yarn.set(*_pending_demand(harness.cluster))
    done = subprocess.run(
        [sys.executable, "-m", "autoscaler.cli", "explain", "-c", str(harness.config())],
        env=harness.env(),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "yarn: pending 40960 MB / 10 vcores" in out
    assert f"pending-demand → {harness.cluster.task_group}: 7 units" in out
    assert f"{harness.cluster.task_group}: 3 → 7 units" in out
    assert "dry_run: would call ModifyInstanceGroups" in out
    assert harness.proxy.writes() == []
