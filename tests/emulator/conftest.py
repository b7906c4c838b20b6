from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from autoscaler.emulator.server import Emulator
from autoscaler.model import (
    AppInfo,
    Capacity,
    ClusterSnapshot,
    InstanceOption,
    InstanceState,
    Market,
    PendingRequest,
    PoolKind,
    PoolRole,
    Resources,
)
from autoscaler.testing import T0, make_instance, make_node, make_pool, make_snapshot

from .fake_cluster import FakeCluster
from .fleet import SPOT_ROWS


def group_snapshot() -> ClusterSnapshot:
    """Master + 2 core (on-demand) + a Spot task group of 3 requested, 2 arrived, one hosting an AM."""
    pools = [
        make_pool("ig-master", role=PoolRole.MASTER, market=Market.ON_DEMAND, requested=1),
        make_pool("ig-core", role=PoolRole.CORE, market=Market.ON_DEMAND, requested=2),
        make_pool("ig-task", requested=3, running=2),
    ]
    nodes = [
        make_node("ip-10-0-0-11.ec2.internal", "ig-core", "i-core1", containers=2, market=Market.ON_DEMAND),
        make_node("ip-10-0-0-12.ec2.internal", "ig-core", "i-core2", market=Market.ON_DEMAND),
        make_node("ip-10-0-0-21.ec2.internal", "ig-task", "i-task1", containers=3, hosts_am=True),
        make_node("ip-10-0-0-22.ec2.internal", "ig-task", "i-task2", last_health_update_s=T0 - 2.5),
    ]
    instances = [
        make_instance("i-master", "ig-master", market=Market.ON_DEMAND, private_dns="ip-10-0-0-1.ec2.internal"),
        make_instance("i-core1", "ig-core", market=Market.ON_DEMAND, private_dns="ip-10-0-0-11.ec2.internal"),
        make_instance("i-core2", "ig-core", market=Market.ON_DEMAND, private_dns="ip-10-0-0-12.ec2.internal"),
        make_instance("i-task1", "ig-task", private_dns="ip-10-0-0-21.ec2.internal"),
        make_instance("i-task2", "ig-task", private_dns="ip-10-0-0-22.ec2.internal"),
        make_instance("i-task3", "ig-task", state=InstanceState.PROVISIONING, launched_at=T0 - 30),
    ]
    apps = [
        AppInfo(
            "application_1_0001",
            "RUNNING",
            "default",
            am_host="ip-10-0-0-21.ec2.internal",
            pending=(PendingRequest(Resources(2048, 1), 6, "application_1_0001", "default"),),
            submitted_at=T0 - 120,
        ),
        AppInfo(
            "application_1_0002",
            "ACCEPTED",
            "etl",
            pending=(PendingRequest(Resources(1024, 1), 1, "application_1_0002", "etl"),),
            submitted_at=T0 - 5,
        ),
    ]
    return make_snapshot(pools=pools, nodes=nodes, instances=instances, apps=apps)


def fleet_snapshot() -> ClusterSnapshot:
    """A fleet cluster: a task fleet of m5.xlarge (weight 1) and m5.2xlarge (weight 2) units."""
    options = (
        InstanceOption("m5.xlarge", Resources(12288, 4), 1),
        InstanceOption("m5.2xlarge", Resources(24576, 8), 2),
    )
    pools = [
        make_pool("if-master", role=PoolRole.MASTER, kind=PoolKind.INSTANCE_FLEET, market=Market.ON_DEMAND),
        make_pool(
            "if-task", kind=PoolKind.INSTANCE_FLEET, requested=Capacity(1, 4), running=Capacity(1, 2), options=options
        ),
    ]
    instances = [
        make_instance("i-fm", "if-master", market=Market.ON_DEMAND, private_dns="ip-10-1-0-1.ec2.internal"),
        make_instance("i-ft1", "if-task", market=Market.ON_DEMAND, private_dns="ip-10-1-0-2.ec2.internal"),
        make_instance("i-ft2", "if-task", instance_type="m5.2xlarge", weight=2, private_dns="ip-10-1-0-3.ec2.internal"),
    ]
    return make_snapshot(pools=pools, instances=instances)


@pytest.fixture
def fake() -> FakeCluster:
    return FakeCluster(group_snapshot())


@pytest.fixture
def emulator(fake: FakeCluster) -> Iterator[Emulator]:
    with Emulator(fake, time_scale=0) as emu:
        yield emu


@cache
def _session() -> boto3.session.Session:
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")


def emr_client(url: str, *, validate: bool = True) -> Any:
    """A real boto3 EMR client at `url`; `validate=False` lets malformed requests reach the server."""
    return _session().client(
        "emr",
        endpoint_url=url,
        config=Config(parameter_validation=validate, retries={"total_max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture
def spot_file(tmp_path: Path) -> Path:
    """A one-row-per-type Spot price file both the simulator and the daemon read (see fleet.py)."""
    path = tmp_path / "spot.tsv"
    path.write_text(SPOT_ROWS)
    return path
