"""The real daemon with a shadow policy (`shadow_policies`) against a YARN RM and moto's EMR, writes enabled:
the shadow's metrics diverge from the live ones, and every EMR write is the live policies' (here: none)."""

from __future__ import annotations

import re
import signal

import pytest
from e2e_harness import Harness, free_port, log_events, scrape, start_daemon, wait_for

from autoscaler.model import Resources
from autoscaler.testing import make_node

pytestmark = pytest.mark.e2e


def _value(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        m = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if m and all(f'{k}="{v}"' in m.group(1) for k, v in labels.items()):
            return float(m.group(2))
    return None


def test_shadow_metrics_diverge_and_the_shadow_never_writes(harness: Harness) -> None:
    cluster = harness.cluster
    instances = cluster.core_instances + cluster.task_instances
    nodes = [make_node(str(i["PrivateDnsName"]), containers=3, used=Resources(12288, 4)) for i in instances]
    harness.yarn.set(nodes, [])  # every node busy, nothing pending: the live policies hold the task group at 3
    spot = harness.tmp_path / "spot.tsv"  # a static Spot price, so the would-be spend rate is known
    spot.write_text("us-east-1a\tm5.xlarge\tLinux/UNIX\t0.070000\t2023-11-14T22:13:20+00:00\n")
    port = free_port()
    config = harness.config(
        port,
        shadow_policies=[{"type": "static", "options": {"units": 9}}],
        pricing={"describe_spot_history": False, "spot_price_file": str(spot)},
    )
    proc = start_daemon(config, harness.env())
    cid, pool = cluster.cluster_id, cluster.task_group
    try:

        def shadowed() -> str | None:
            text = scrape(port) or ""
            ticks = _value(text, "emr_autoscaler_ticks_total", cluster=cid, outcome="ok") or 0
            shadow = _value(text, "emr_autoscaler_shadow_target_units", cluster=cid, pool=pool, policy="static")
            return text if ticks >= 3 and shadow is not None else None

        text = wait_for(shadowed, timeout=30)
        assert text, "no shadow metrics after 3 ticks"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert _value(text, "emr_autoscaler_shadow_target_units", cluster=cid, pool=pool, policy="static") == 9
    assert _value(text, "emr_autoscaler_pool_target_units", cluster=cid, pool=pool) == 3
    actual = _value(text, "emr_autoscaler_estimated_cost_usd_per_hour", cluster=cid)
    would_be = _value(text, "emr_autoscaler_shadow_cost_usd_per_hour", cluster=cid, policy="static")
    assert actual is not None
    assert would_be is not None
    assert would_be > actual
    assert harness.proxy.writes() == [], "a shadow policy wrote to EMR"
    assert cluster.task_requested() == 3
    assert not [e for e in log_events(stderr) if e.get("event") == "shadow_error"]
