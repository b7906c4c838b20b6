"""Per-cluster leases in DynamoDB: which replica may act on a cluster, and the controller memory
that travels with the lease.

One item per cluster (partition key `cluster_id`): `holder` (the replica; empty once released),
`token` (the fencing token, +1 at every change of holder, never reused), `version` (+1 at every
write of the lease: take, renew, release), `expires_at` (the holder's wall clock + the lease, for
people and `explain` only), `memory` (the `memory_codec` JSON the leader saved after its last tick).

Time is never compared across machines: like Kubernetes' leader election, a replica judges expiry
by its own monotonic clock. A standby remembers when it first saw the lease's current `version`;
only when that version is still unchanged one full lease later (the holder stopped renewing) may
it take the lease, with a write conditional on that very version (a renewal or another taker in
between makes it fail). The holder counts its lease from just before its renewal request and stops
writing a margin before that lease ends, so it stops before any standby can have taken over, even
if the wall clocks of the two jump or disagree by hours. Every write is conditional:

- take: the item is absent, released, or unchanged for a full lease as this replica observed it;
- renew, save, fence: only while `holder` and `token` are still ours;
- fence (just before each EMR write) also requires, locally, that the lease outlives the write by
  the margin: a leader that was paused (SIGSTOP, a long GC, a slow tick) finds out before it writes.

An AWS error is never taken as leadership: the tick is skipped (the safe side).

Replicas also heartbeat into one item (`cluster_id` "_replicas", never a cluster id: those start
with "j-"): a map `beats` of holder -> a counter each replica raises once per round. A replica judges
another alive while it has seen that counter change within a lease, by its own clock again, and removes
an entry it watched unchanged for two leases (a replica that died). `autoscaler/spread.py` uses the
count to hold each replica to its fair share of the leases.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from autoscaler.ports import DynamoDbPort, Item

REPLICAS_KEY = "_replicas"
_NAMES = {
    "#b": "beats",
    "#h": "holder",
    "#t": "token",
    "#v": "version",
    "#e": "expires_at",
    "#m": "memory",
    "#w": "fenced_writes",
}


@dataclass(frozen=True, slots=True)
class Lease:
    cluster_id: str
    holder: str  # "" once released
    token: int
    version: int
    expires_at: float  # the holder's wall clock: informational
    memory: str | None = None  # memory_codec JSON, as the last leader saved it


class LeaseError(Exception):
    """DynamoDB could not be asked (network, throttling, permissions): leadership is unknown."""


def _conditional_failed(err: ClientError) -> bool:
    return bool(err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


def _num(value: float) -> dict[str, str]:
    return {"N": str(int(value)) if float(value).is_integer() else repr(float(value))}


def _lease(cluster_id: str, item: Item) -> Lease:
    return Lease(
        cluster_id,
        item["holder"]["S"],
        int(item["token"]["N"]),
        int(item.get("version", {"N": "0"})["N"]),
        float(item["expires_at"]["N"]),
        item.get("memory", {}).get("S"),
    )


class DynamoLeases:
    """The lease protocol over a DynamoDB client (any region/endpoint boto3 is configured for).

    `monotonic` is this replica's clock for every expiry decision (injectable for tests)."""

    def __init__(
        self,
        client: DynamoDbPort,
        table: str,
        holder: str,
        duration_s: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client, self.table, self.holder, self.duration_s = client, table, holder, duration_s
        self.monotonic = monotonic
        self._seen: dict[str, tuple[int, float]] = {}  # cluster -> (version, when first seen, monotonic)
        self._renewed: dict[str, float] = {}  # cluster -> monotonic time just before our last take/renew

    def _key(self, cluster_id: str) -> Item:
        return {"cluster_id": {"S": cluster_id}}

    def _fail(self, err: Exception) -> LeaseError:
        return LeaseError(f"dynamodb {self.table}: {err}")

    def _update(
        self, cluster_id: str, update: str, condition: str, values: Item, names: dict[str, str] | None = None
    ) -> Item | None:
        """The item after a conditional update, or None when the condition failed."""
        names = {k: v for k, v in _NAMES.items() if k in update or k in condition} | (names or {})
        try:
            answer = self.client.update_item(
                TableName=self.table,
                Key=self._key(cluster_id),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as err:
            if _conditional_failed(err):
                return None
            raise self._fail(err) from err
        except BotoCoreError as err:
            raise self._fail(err) from err
        return answer.get("Attributes", {})

    def _ours(self, lease: Lease) -> Item:
        return {":me": {"S": self.holder}, ":tok": _num(lease.token)}

    def acquire(
        self, cluster_id: str, now: float, held: Lease | None = None, *, may_take: Callable[[], bool] = lambda: True
    ) -> Lease | None:
        """Renew `held`, or take the lease when it is free, released, or was left unrenewed for a whole
        lease as this replica watched it; None when another replica holds it. `now` (wall clock) only
        fills the informational `expires_at`. `may_take` is asked only when the lease could be taken
        (this replica's fair share, autoscaler/spread.py); the lease is watched either way, so that a
        later take needs no second full lease of waiting."""
        started = self.monotonic()
        expires = _num(now + self.duration_s)
        if held is not None:
            item = self._update(
                cluster_id,
                "SET #e = :exp ADD #v :one",
                "#h = :me AND #t = :tok",
                {**self._ours(held), ":exp": expires, ":one": _num(1)},
            )
            if item is not None:
                self._renewed[cluster_id] = started
                return _lease(cluster_id, item)
            self._renewed.pop(cluster_id, None)
        seen = self.read(cluster_id)
        if seen is None:
            return self._create(cluster_id, now, started) if may_take() else None
        # ours in the table though our renewal looked failed (e.g. a timeout after DynamoDB applied it):
        # take it back at once; anyone else's: only after watching it go unrenewed for a whole lease
        if seen.holder and seen.holder != self.holder and not self._unrenewed(seen, started):
            return None
        if not may_take():
            return None
        taken = self._update(
            cluster_id,
            "SET #h = :me, #e = :exp ADD #t :one, #v :one",
            "#v = :seen",
            {":me": {"S": self.holder}, ":one": _num(1), ":exp": expires, ":seen": _num(seen.version)},
        )
        if taken is None:
            return None
        self._renewed[cluster_id] = started
        return _lease(cluster_id, taken)

    def _unrenewed(self, seen: Lease, at: float) -> bool:
        """Has this replica watched `seen.version` stay unchanged for a whole lease?"""
        version, since = self._seen.get(seen.cluster_id, (None, at))
        if version != seen.version:
            self._seen[seen.cluster_id] = (seen.version, at)
            return False
        return at - since >= self.duration_s

    def _create(self, cluster_id: str, now: float, started: float) -> Lease | None:
        item: Item = {
            **self._key(cluster_id),
            "holder": {"S": self.holder},
            "token": _num(1),
            "version": _num(1),
            "expires_at": _num(now + self.duration_s),
        }
        try:
            self.client.put_item(
                TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(cluster_id)"
            )
        except ClientError as err:
            if _conditional_failed(err):
                return None  # another replica created it first
            raise self._fail(err) from err
        except BotoCoreError as err:
            raise self._fail(err) from err
        self._renewed[cluster_id] = started
        return _lease(cluster_id, item)

    def valid_for(self, lease: Lease) -> float:
        """Seconds this replica may still count `lease` as its own (by its monotonic clock); <= 0: none."""
        renewed = self._renewed.get(lease.cluster_id)
        return -1.0 if renewed is None else renewed + self.duration_s - self.monotonic()

    def fence(self, lease: Lease, margin_s: float) -> bool:
        """True when `lease` outlives the next `margin_s` by this replica's clock and is still ours in the
        table (`holder`, `token`); counts the write on the item."""
        if self.valid_for(lease) <= margin_s:
            return False
        item = self._update(
            lease.cluster_id, "ADD #w :one", "#h = :me AND #t = :tok", {**self._ours(lease), ":one": _num(1)}
        )
        return item is not None

    def save(self, lease: Lease, memory: str) -> bool:
        """Store the memory with the lease; False when the lease is no longer ours (nothing written)."""
        item = self._update(
            lease.cluster_id, "SET #m = :m", "#h = :me AND #t = :tok", {**self._ours(lease), ":m": {"S": memory}}
        )
        return item is not None

    def release(self, lease: Lease, now: float) -> bool:
        """Give the lease up (clean shutdown): a standby takes it at its next tick, without waiting."""
        self._renewed.pop(lease.cluster_id, None)
        item = self._update(
            lease.cluster_id,
            "SET #h = :none, #e = :now ADD #v :one",
            "#h = :me AND #t = :tok",
            {**self._ours(lease), ":none": {"S": ""}, ":now": _num(now), ":one": _num(1)},
        )
        return item is not None

    def read(self, cluster_id: str) -> Lease | None:
        """The lease as stored (for `explain` and tests), None when there is none."""
        try:
            answer = self.client.get_item(TableName=self.table, Key=self._key(cluster_id), ConsistentRead=True)
        except (ClientError, BotoCoreError) as err:
            raise self._fail(err) from err
        item = answer.get("Item")
        return _lease(cluster_id, item) if item is not None else None

    def heartbeat(self, count: int) -> dict[str, int]:
        """Set this replica's heartbeat counter to `count`; every replica's counter as stored."""
        update, values = "SET #b.#r = :n", {":n": _num(count)}
        me = {"#r": self.holder}
        item = self._update(REPLICAS_KEY, update, "attribute_exists(#b)", values, me)
        if item is None:  # the first replica ever: create the map, then beat
            try:
                self.client.put_item(
                    TableName=self.table,
                    Item={**self._key(REPLICAS_KEY), "beats": {"M": {}}},
                    ConditionExpression="attribute_not_exists(cluster_id)",
                )
            except ClientError as err:
                if not _conditional_failed(err):
                    raise self._fail(err) from err
            except BotoCoreError as err:
                raise self._fail(err) from err
            item = self._update(REPLICAS_KEY, update, "attribute_exists(#b)", values, me) or {}
        beats = item.get("beats", {}).get("M", {})
        return {holder: int(value["N"]) for holder, value in beats.items() if "N" in value}

    def forget_replica(self, holder: str, count: int) -> bool:
        """Remove a dead replica's heartbeat, only if its counter is still `count`."""
        names = {"#r": holder}
        return self._update(REPLICAS_KEY, "REMOVE #b.#r", "#b.#r = :n", {":n": _num(count)}, names) is not None
