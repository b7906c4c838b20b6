"""Fair shares of the leases (autoscaler/spread.py) on moto's DynamoDB: replicas heartbeat into the
lease table, each holds at most ceil(clusters / live replicas), hands the excess over, and forgets a
replica whose heartbeat stopped; every replica judges time by its own clock (a `FakeClock`). The
three-process test with a SIGKILL is tests/e2e/test_spread_e2e.py."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from autoscaler.ha import DynamoClusterLease
from autoscaler.lease import REPLICAS_KEY, DynamoLeases
from autoscaler.spread import FairShare
from autoscaler.testing import T0, FakeClock, ListLogger, create_lease_table

LEASE_S = 30.0
IDS = [f"j-C{i}" for i in range(5)]


@pytest.fixture
def client(moto_aws: None) -> Any:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    create_lease_table(dynamodb, "leases")
    return dynamodb


class Replica:
    def __init__(self, client: Any, name: str) -> None:
        self.clock, self.logger = FakeClock(0.0), ListLogger()
        leases = DynamoLeases(client, "leases", name, LEASE_S, self.clock)
        self.share = FairShare(leases, self.logger, monotonic=self.clock)
        self.leases = {cid: DynamoClusterLease(leases, cid, lambda: T0, self.logger, self.share) for cid in IDS}

    def round(self) -> set[str]:
        """A heartbeat, then every cluster's lease; the clusters it leads."""
        self.share.beat(len(IDS))
        return {cid for cid, lease in self.leases.items() if lease.begin(T0).leader}


def _advance(replicas: list[Replica], seconds: float) -> None:
    for r in replicas:
        r.clock.advance(seconds)


def test_replicas_split_the_leases_hand_over_the_excess_and_take_over_a_dead_ones(client: Any) -> None:
    a, b, c = (Replica(client, f"replica-{i}") for i in range(3))
    assert a.round() == set(IDS), "alone, a replica leads every cluster"
    b.round()
    led_a = a.round()  # sees b: its share is ceil(5 / 2) = 3, it hands two over
    assert len(led_a) == 3
    assert [e["cluster"] for e in a.logger.named("lease_handed_over")] == sorted(set(IDS) - led_a)
    led_b = b.round()
    assert led_b == set(IDS) - led_a, "the released leases are taken at once, with no lease of waiting"

    for r in (c, a, b, c):  # a third replica: shares of 2
        r.round()
    led = [a.round(), b.round(), c.round()]
    assert sorted(len(s) for s in led) == [1, 2, 2]
    assert set().union(*led) == set(IDS)

    # c stops: a whole lease after they last saw its heartbeat and renewals change, a and b take over
    for _ in range(5):
        _advance([a, b], LEASE_S / 4)
        led = [a.round(), b.round()]
    assert sorted(len(s) for s in led) == [2, 3]
    assert set().union(*led) == set(IDS)
    assert a.share.live == b.share.live == 2

    # after two leases its heartbeat entry is removed from the table
    for _ in range(5):
        _advance([a, b], LEASE_S / 4)
        a.round(), b.round()
    beats = client.get_item(TableName="leases", Key={"cluster_id": {"S": REPLICAS_KEY}})["Item"]["beats"]["M"]
    assert set(beats) == {"replica-0", "replica-1"}


def test_a_failed_heartbeat_keeps_the_last_share_and_never_raises(client: Any) -> None:
    a = Replica(client, "replica-0")
    a.round()
    lost = FairShare(DynamoLeases(client, "no-such-table", "r", LEASE_S), ListLogger())
    lost.beat(5)
    assert lost.fair is None, "unknown share: no limit, as without spreading (the leases still decide)"
    assert lost.logger.named("replica_heartbeat_failed")  # type: ignore[attr-defined]
    assert a.share.fair == 5
