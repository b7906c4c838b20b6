"""collect(): every source once into a snapshot; failures mark it stale and never raise."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from autoscaler.aws import make_client
from autoscaler.config import ClusterConfig, GuardsConfig, PricingConfig, YarnConfig
from autoscaler.model import Market
from autoscaler.prices import load_ondemand_table, load_spot_advisor
from autoscaler.snapshot import Sources, build_sources, collect
from autoscaler.sources.emr import EmrReader
from autoscaler.sources.pricing import PriceBook
from autoscaler.sources.yarn import YarnClient
from autoscaler.testing import create_emr_cluster

from .rm_server import FakeRM, fake_rm

REGION = "us-east-1"
NOW = 1_700_000_000.0


def _cluster() -> str:
    """Master and 1 core on-demand, 2 Spot task nodes (no bid), all m5.xlarge."""
    return create_emr_cluster(boto3.client("emr", region_name=REGION), core=1, task=2, bid_price=None, name="c")


def _config(cluster_id: str, urls: list[str]) -> ClusterConfig:
    return ClusterConfig(
        cluster_id=cluster_id,
        yarn=YarnConfig(urls=urls, timeout_s=0.5),
        policies=[{"type": "static"}],
        pricing=PricingConfig(describe_spot_history=False),
        cloudwatch=False,
    )


def _sources(cfg: ClusterConfig) -> Sources:
    return Sources(
        yarn=YarnClient(cfg.yarn),
        emr=EmrReader(make_client("emr", REGION)),
        prices=PriceBook(cfg.pricing, load_ondemand_table()),
    )


def _serve(rm: FakeRM, hosts: list[str], am_host: str) -> None:
    rm.answer("/ws/v1/cluster/info", {"clusterInfo": {"haState": "ACTIVE"}})
    rm.answer("/ws/v1/cluster/metrics", {"clusterMetrics": {"totalMB": 12288 * len(hosts), "availableMB": 12288}})
    node = {"state": "RUNNING", "numContainers": 0, "usedMemoryMB": 0, "usedVirtualCores": 0}
    node |= {"availMemoryMB": 12288, "availableVirtualCores": 4}
    rm.answer("/ws/v1/cluster/nodes", {"nodes": {"node": [dict(node, nodeHostName=h) for h in hosts]}})
    app = {"id": "application_1_0001", "state": "RUNNING", "queue": "default", "amHostHttpAddress": f"{am_host}:8042"}
    rm.answer("/ws/v1/cluster/apps", {"apps": {"app": [app]}})


@pytest.mark.usefixtures("moto_aws")
def test_collect_joins_nodes_to_instances_and_marks_am_hosts() -> None:
    """A healthy read: nodes carry their EC2 id, pool and market; the AM's node is marked; prices present."""
    cid = _cluster()
    instances = boto3.client("emr", region_name=REGION).list_instances(ClusterId=cid)["Instances"]
    task_id = next(
        g["Id"]
        for g in boto3.client("emr", region_name=REGION).list_instance_groups(ClusterId=cid)["InstanceGroups"]
        if g["Name"] == "task"
    )
    task_hosts = [i["PrivateDnsName"] for i in instances if i["InstanceGroupId"] == task_id]
    with fake_rm() as rm:
        _serve(rm, [h.upper() for h in task_hosts] + ["unknown-host.internal"], am_host=task_hosts[0])
        cfg = _config(cid, [rm.url])
        snap = collect(_sources(cfg), cfg, NOW)
    assert not snap.stale
    assert snap.taken_at == NOW
    assert [s.name for s in snap.sources] == ["yarn", "emr", "pricing"]
    joined = {n.host.lower(): n for n in snap.nodes}
    first = joined[task_hosts[0]]
    ec2_id = next(i["Ec2InstanceId"] for i in instances if i["PrivateDnsName"] == task_hosts[0])
    assert (first.instance_id, first.pool_id, first.market) == (ec2_id, task_id, Market.SPOT)
    assert first.hosts_am
    assert not first.is_idle
    assert not joined[task_hosts[1]].hosts_am
    assert joined[task_hosts[1]].is_idle
    assert joined["unknown-host.internal"].instance_id is None
    assert snap.price("m5.xlarge", Market.ON_DEMAND) is not None
    emr_status = next(s for s in snap.sources if s.name == "emr")
    assert emr_status.ok
    assert snap.managed_scaling_enabled is False  # tests/conftest.py answers moto's missing call as EMR does


@pytest.mark.usefixtures("moto_aws")
def test_yarn_down_gives_stale_snapshot_without_raising() -> None:
    """YARN unreachable: collect returns a stale snapshot with yarn=None and the error named."""
    cid = _cluster()
    with fake_rm() as rm:
        dead_url = rm.url
    cfg = _config(cid, [dead_url])
    snap = collect(_sources(cfg), cfg, NOW)
    assert snap.stale
    assert snap.yarn is None
    yarn_status = next(s for s in snap.sources if s.name == "yarn")
    assert not yarn_status.ok
    assert "no active ResourceManager" in (yarn_status.error or "")
    assert len(snap.pools) == 3  # EMR still read


@pytest.mark.usefixtures("moto_aws")
def test_garbage_yarn_and_unknown_cluster_stale() -> None:
    """Garbage from YARN and an EMR failure both become failed statuses, not exceptions."""
    with fake_rm() as rm:
        _serve(rm, ["h"], "h")
        rm.answer("/ws/v1/cluster/metrics", b"\x00garbage")
        cfg = _config("j-NOSUCHCLUSTER", [rm.url])
        snap = collect(_sources(cfg), cfg, NOW)
    assert snap.stale
    failed = {s.name for s in snap.sources if not s.ok}
    assert failed == {"yarn", "emr"}
    assert snap.pools == ()
    assert snap.cluster_state == "UNKNOWN"
    assert len(snap.stale_reasons) == 2


def test_collect_survives_a_source_raising_anything() -> None:
    """Even an unexpected exception type from an adapter is caught into its status."""

    class Exploding:
        def fetch(self) -> Any:
            raise RuntimeError("boom")

        def read(self, *_: Any) -> Any:
            raise ZeroDivisionError

    cfg = _config("j-X", ["http://127.0.0.1:1"])
    snap = collect(Sources(yarn=Exploding(), emr=Exploding()), cfg, NOW)  # type: ignore[arg-type]
    assert snap.stale
    assert {s.name: s.ok for s in snap.sources} == {"yarn": False, "emr": False}
    assert "RuntimeError: boom" in (snap.sources[0].error or "")


@pytest.mark.usefixtures("moto_aws")
def test_build_sources_from_config() -> None:
    """build_sources wires optional sources only when configured, without calling AWS."""
    cfg = _config("j-ABC", ["http://rm:8088"])
    sources = build_sources(cfg)
    assert sources.cloudwatch is None
    assert sources.interruptions is None
    assert sources.prices is not None
    full = build_sources(cfg.model_copy(update={"cloudwatch": True, "interruptions_queue_url": "https://sqs/q"}))
    assert full.cloudwatch is not None
    assert full.interruptions is not None


SHARED_ADVISOR = (
    Path(__file__).parents[2] / ".." / "shared" / "data" / "prices" / "spot_interruption"
) / "spot-advisor-data_spotinfo_2025-06-28.json"


def _spot_band(cfg: ClusterConfig, itype: str) -> int | None:
    prices = build_sources(cfg).prices
    assert prices is not None
    quote = next(q for q in prices.quotes([itype], NOW).quotes if q.market is Market.SPOT)
    return quote.interruption_band


@pytest.mark.usefixtures("moto_aws")
def test_build_sources_gives_spot_quotes_their_advisor_band(tmp_path: Path) -> None:
    """Spot quotes carry the bundled us-east-1 Spot Advisor band (the shared feed's value), a configured
    file's band when given, and none in a region the bundled slice does not cover."""
    history = tmp_path / "spot.csv"
    history.write_text(
        "us-east-1a,r5.xlarge,Linux/UNIX,0.08,2020-01-01T00:00:00+00:00\n"
        "eu-west-1a,r5.xlarge,Linux/UNIX,0.09,2020-01-01T00:00:00+00:00\n"
    )
    pricing = PricingConfig(describe_spot_history=False, spot_price_file=str(history))
    cfg = _config("j-ABC", ["http://rm:8088"]).model_copy(update={"pricing": pricing})
    expected = load_spot_advisor(SHARED_ADVISOR, "us-east-1")["r5.xlarge"][0]
    assert _spot_band(cfg, "r5.xlarge") == expected
    custom = tmp_path / "advisor.json"
    custom.write_text(json.dumps({"spot_advisor": {"us-east-1": {"Linux": {"r5.xlarge": {"r": 0, "s": 10}}}}}))
    own = pricing.model_copy(update={"spot_advisor_file": str(custom)})
    assert _spot_band(cfg.model_copy(update={"pricing": own}), "r5.xlarge") == 0
    assert _spot_band(cfg.model_copy(update={"region": "eu-west-1"}), "r5.xlarge") is None


@pytest.mark.usefixtures("moto_aws")
@pytest.mark.parametrize(("seconds_per_rm_request", "stale"), [(60.0, True), (10.0, False)])
def test_slow_yarn_answer_makes_the_snapshot_stale(seconds_per_rm_request: float, stale: bool) -> None:
    """fetched_at is when each source answered; YARN answering after guards.stale_after_s (120 s) is stale."""
    cid = _cluster()
    with fake_rm() as rm:
        _serve(rm, ["h"], "h")
        cfg = _config(cid, [rm.url])
        # a fake clock on which every request the RM serves takes `seconds_per_rm_request`
        snap = collect(_sources(cfg), cfg, NOW, clock=lambda: seconds_per_rm_request * len(rm.calls))
        rm_requests = len(rm.calls)
    yarn_status = next(s for s in snap.sources if s.name == "yarn")
    assert yarn_status.fetched_at == NOW + seconds_per_rm_request * rm_requests
    assert snap.taken_at == NOW
    assert snap.yarn is not None, "the data is kept for explain; only the decision refuses it"
    assert snap.stale is stale
    assert yarn_status.ok is not stale
    if stale:
        assert "guards.stale_after_s=120" in (yarn_status.error or "")
        assert any(r.startswith("yarn: answered") for r in snap.stale_reasons)


@pytest.mark.usefixtures("moto_aws")
def test_slow_emr_after_fast_yarn_is_stale_and_optional_sources_never_are() -> None:
    """A late EMR answer ages the YARN data read before it; a late optional source (pricing) never stales."""
    cid = _cluster()
    ticks = iter([0.0, 1.0, 500.0, 900.0])  # collect starts, yarn answers, emr answers, pricing answers
    with fake_rm() as rm:
        _serve(rm, ["h"], "h")
        cfg = _config(cid, [rm.url]).model_copy(update={"guards": GuardsConfig(stale_after_s=300)})
        snap = collect(_sources(cfg), cfg, NOW, clock=lambda: next(ticks, 900.0))
    status = {s.name: s for s in snap.sources}
    assert status["yarn"].ok
    assert status["yarn"].fetched_at == NOW + 1.0
    assert not status["emr"].ok
    assert "answered 500s after the tick began (guards.stale_after_s=300)" in (status["emr"].error or "")
    assert status["pricing"].ok, "optional sources are stamped but never make the snapshot stale"
    assert status["pricing"].fetched_at == NOW + 900.0
    assert snap.stale
