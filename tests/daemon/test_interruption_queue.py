"""The Spot interruption queue on a real SQS API (moto in server mode, over HTTP) with real DynamoDB
leases: only a cluster's lease holder reads the queue, a standby never deletes a message, a new
leader after failover consumes what arrives, and clusters sharing the region's queue leave each
other's messages on it."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest

from autoscaler.ha import DynamoClusterLease
from autoscaler.lease import DynamoLeases
from autoscaler.loop import ClusterDeps, Deps, tick
from autoscaler.metrics import Health, Metrics
from autoscaler.model import ClusterSnapshot, ControllerMemory, NoticeStatus
from autoscaler.sources.interruptions import InterruptionReader
from autoscaler.testing import (
    T0,
    FakeClock,
    ListLogger,
    RecordingActuator,
    create_lease_table,
    make_cluster_config,
    make_instance,
    make_pool,
    make_snapshot,
    send_spot_notices,
    spot_notice_body,
)

REGION = "us-east-1"
LEASE_S = 30.0
CREDS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": REGION}


@pytest.fixture
def endpoint(moto_url: str) -> str:
    """The session's moto server (tests/conftest.py); each test makes its own queue and table."""
    return moto_url


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, **CREDS)  # type: ignore[call-overload]


def on_queue(sqs: Any, url: str) -> int:
    """Messages still on the queue, visible or in flight (nothing deleted them)."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attrs[n]) for n in names)


class Replica:
    """One daemon replica for cluster j-1: its own reader of the shared queue, its own lease holder and
    monotonic clock; `collect` reads the queue as `snapshot.collect` does (inside the tick, which
    `ha.leased_tick` runs only on the lease holder)."""

    def __init__(self, name: str, endpoint: str, url: str, table: str) -> None:
        self.clock = FakeClock(0.0)
        self.reader = InterruptionReader(client("sqs", endpoint), url, release_after_s=1)
        self.polls = 0
        self.snapshots: list[ClusterSnapshot] = []
        leases = DynamoLeases(client("dynamodb", endpoint), table, name, LEASE_S, self.clock)
        self.logger = ListLogger()
        lease = DynamoClusterLease(leases, "j-1", self.clock, self.logger)
        config = make_cluster_config(cluster_id="j-1", interruptions_queue_url=url)
        self.actuator = RecordingActuator()
        cluster = ClusterDeps(config, self.collect, self.actuator, (), lease)
        health = Health(30, ("j-1",), started_at=T0)
        self.deps = Deps((cluster,), Metrics(), health, self.logger, clock=lambda: T0)
        self.state: Any = {}

    def collect(self, now: float) -> ClusterSnapshot:
        self.polls += 1
        instances = [make_instance(f"i-{k}", "ig-task") for k in range(4)]
        notices = self.reader.poll(now, {i.instance_id for i in instances})
        snap = make_snapshot(pools=[make_pool(requested=4)], instances=instances, interruptions=notices, taken_at=now)
        self.snapshots.append(snap)
        return snap

    def tick(self, now: float, clock: float) -> None:
        self.clock.t = clock
        self.state = tick(self.deps, self.state, now)

    def memory(self) -> ControllerMemory:
        return self.state.get("j-1", ControllerMemory())  # type: ignore[no-any-return]


def test_only_the_lease_holder_consumes_the_queue_and_a_new_leader_takes_over(endpoint: str) -> None:
    sqs, dynamodb = client("sqs", endpoint), client("dynamodb", endpoint)
    url = sqs.create_queue(QueueName="spot-ha")["QueueUrl"]
    table = create_lease_table(dynamodb, "leases-spot-ha")
    a, b = Replica("replica-a", endpoint, url, table), Replica("replica-b", endpoint, url, table)

    a.tick(T0, 0.0)  # a takes the lease
    send_spot_notices(sqs, url, ["i-1"], T0 + 5)
    for k in range(1, 4):  # the standby ticks first every round: it must leave the message alone
        b.tick(T0 + 10 * k, 10.0 * k)
        assert b.polls == 0
        assert on_queue(sqs, url) == (1 if k == 1 else 0)
        a.tick(T0 + 10 * k + 1, 10.0 * k + 1)
    assert b.polls == 0
    assert len(b.logger.named("standby")) == 3
    assert "i-1" in a.memory().replacements  # the leader read it and bought the replacement
    assert [r.target.total for plan in a.actuator.calls for r in plan.resizes] == [5]

    # the leader dies (stops ticking); a warning arrives; the standby holds off until the lease expires
    sqs.send_message(QueueUrl=url, MessageBody=spot_notice_body("i-2", T0 + 60))
    b.tick(T0 + 61, 61.0)
    assert b.polls == 0
    assert on_queue(sqs, url) == 1
    b.tick(T0 + 61 + LEASE_S + 1, 61.0 + LEASE_S + 1)  # a whole unrenewed lease later: b leads
    assert b.polls == 1
    assert on_queue(sqs, url) == 0
    # b continues from a's memory: i-1's replacement (to give back once i-1 is gone) came with the
    # lease; i-1's message was a's to delete, so b's tick speaks of i-2 only and buys only for it
    assert set(b.memory().replacements) == {"i-1", "i-2"}
    (last,) = b.logger.ticks()
    assert {(n["instance"], n["status"]) for n in last["interruptions"]} == {
        ("i-2", NoticeStatus.NEW.value),
        ("i-2", NoticeStatus.REPLACING.value),
    }
    assert [r.target.total for plan in b.actuator.calls for r in plan.resizes] == [5]
    # the deposed leader, back, is a standby now: it reads and deletes nothing
    sqs.send_message(QueueUrl=url, MessageBody=spot_notice_body("i-3", T0 + 100))
    polls = a.polls
    a.tick(T0 + 101, 101.0)
    assert a.polls == polls
    assert on_queue(sqs, url) == 1


def test_clusters_sharing_the_regions_queue_leave_each_others_messages(endpoint: str) -> None:
    sqs = client("sqs", endpoint)
    url = sqs.create_queue(QueueName="spot-shared")["QueueUrl"]
    now = time.time()
    for iid in ("i-a", "i-b", "i-nobody"):
        sqs.send_message(QueueUrl=url, MessageBody=spot_notice_body(iid, now))
    sqs.send_message(QueueUrl=url, MessageBody=spot_notice_body("i-expired", now - 600))
    first = InterruptionReader(client("sqs", endpoint), url, release_after_s=1)
    second = InterruptionReader(client("sqs", endpoint), url, release_after_s=1)
    assert [n.instance_id for n in first.poll(now, {"i-a"})] == ["i-a"]
    assert first.left_on_queue == 2  # i-b and i-nobody stay; the expired one is deleted
    assert on_queue(sqs, url) == 2
    time.sleep(1.2)  # hidden only briefly: the other cluster's reader sees its message
    assert [n.instance_id for n in second.poll(now, {"i-b"})] == ["i-b"]
    assert on_queue(sqs, url) == 1
    time.sleep(1.2)
    assert first.poll(now + 121, {"i-a"}) == ()  # once expired, nobody's message goes too
    assert on_queue(sqs, url) == 0


def test_an_interruption_storm_is_read_in_one_poll(endpoint: str) -> None:
    """Forty warnings at once (every Spot node of a cluster): one poll claims all of them (up to 50)."""
    sqs = client("sqs", endpoint)
    url = sqs.create_queue(QueueName="spot-storm")["QueueUrl"]
    now = time.time()
    ids = [f"i-{k:03d}" for k in range(40)]
    assert send_spot_notices(sqs, url, ids, now) == 40
    reader = InterruptionReader(client("sqs", endpoint), url, release_after_s=1)
    assert sorted(n.instance_id for n in reader.poll(now, set(ids))) == ids
    assert on_queue(sqs, url) == 0


def test_explain_only_looks_at_the_queue(endpoint: str) -> None:
    """`explain` reads with consume=False: it sees the warnings, and the daemon still gets every one."""
    sqs = client("sqs", endpoint)
    url = sqs.create_queue(QueueName="spot-explain")["QueueUrl"]
    now = time.time()
    send_spot_notices(sqs, url, ["i-a", "i-b"], now)
    peek = InterruptionReader(client("sqs", endpoint), url, consume=False)
    assert [n.instance_id for n in peek.poll(now, {"i-a", "i-b"})] == ["i-a", "i-b"]
    assert on_queue(sqs, url) == 2
    daemon = InterruptionReader(client("sqs", endpoint), url)  # visible at once: nothing was hidden
    assert [n.instance_id for n in daemon.poll(now, {"i-a", "i-b"})] == ["i-a", "i-b"]
    assert on_queue(sqs, url) == 0
