"""Per-cluster leases in DynamoDB: which replica may act on a cluster, and the controller memory
that travels with the lease.

One item per cluster (partition key `cluster_id`): `holder` (the replica), `token` (the fencing
token, +1 at every change of holder, never reused), `expires_at` (epoch seconds), `memory` (the
`memory_codec` JSON the leader saved after its last tick). Every write is conditional:

- take: only when there is no item, or the item's lease has expired *and* its token is the one
  read (a renewal or another taker in between makes the condition fail);
- renew, save, fence: only while `holder` and `token` are still ours;
- fence (just before each EMR write) also demands that the lease outlives the write by a margin, so
  a leader that was paused (SIGSTOP, a long GC, a slow tick) and lost its lease to another replica
  finds out before it writes, not after.

Expiry compares wall clocks of different replicas: keep them NTP-synced; the fence margin absorbs
small skews. An AWS error is never taken as leadership: the tick is skipped (the safe side).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

_NAMES = {"#h": "holder", "#t": "token", "#e": "expires_at", "#m": "memory", "#w": "fenced_writes"}


@dataclass(frozen=True, slots=True)
class Lease:
    cluster_id: str
    holder: str
    token: int
    expires_at: float
    memory: str | None = None  # memory_codec JSON, as the last leader saved it


class LeaseError(Exception):
    """DynamoDB could not be asked (network, throttling, permissions): leadership is unknown."""


def _conditional_failed(err: ClientError) -> bool:
    return bool(err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


def _num(value: float) -> dict[str, str]:
    return {"N": repr(float(value)) if not float(value).is_integer() else str(int(value))}


def _lease(cluster_id: str, item: dict[str, Any]) -> Lease:
    memory = item.get("memory", {}).get("S")
    return Lease(cluster_id, item["holder"]["S"], int(item["token"]["N"]), float(item["expires_at"]["N"]), memory)


class DynamoLeases:
    """The lease protocol over a DynamoDB client (any region/endpoint boto3 is configured for)."""

    def __init__(self, client: Any, table: str, holder: str, duration_s: float) -> None:
        self.client, self.table, self.holder, self.duration_s = client, table, holder, duration_s

    def _key(self, cluster_id: str) -> dict[str, Any]:
        return {"cluster_id": {"S": cluster_id}}

    def _update(self, cluster_id: str, update: str, condition: str, values: dict[str, Any]) -> dict[str, Any] | None:
        """The item after a conditional update, or None when the condition failed."""
        names = {k: v for k, v in _NAMES.items() if k in update or k in condition}
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
            raise LeaseError(f"dynamodb {self.table}: {err}") from err
        except BotoCoreError as err:
            raise LeaseError(f"dynamodb {self.table}: {err}") from err
        item: dict[str, Any] = answer["Attributes"]
        return item

    def _ours(self, lease: Lease) -> dict[str, Any]:
        return {":me": {"S": self.holder}, ":tok": _num(lease.token)}

    def acquire(self, cluster_id: str, now: float, held: Lease | None = None) -> Lease | None:
        """Renew `held`, or take the lease when it is free or expired; None when another replica holds it."""
        expires = _num(now + self.duration_s)
        if held is not None:
            item = self._update(
                cluster_id, "SET #e = :exp", "#h = :me AND #t = :tok", {**self._ours(held), ":exp": expires}
            )
            if item is not None:
                return _lease(cluster_id, item)
        try:
            current = self.client.get_item(TableName=self.table, Key=self._key(cluster_id), ConsistentRead=True)
        except (ClientError, BotoCoreError) as err:
            raise LeaseError(f"dynamodb {self.table}: {err}") from err
        item = current.get("Item")
        if item is None:
            return self._create(cluster_id, now)
        seen = _lease(cluster_id, item)
        if seen.expires_at > now:
            return None
        taken = self._update(
            cluster_id,
            "SET #h = :me, #t = #t + :one, #e = :exp",
            "#t = :seen AND #e <= :now",
            {":me": {"S": self.holder}, ":one": _num(1), ":exp": expires, ":seen": _num(seen.token), ":now": _num(now)},
        )
        return _lease(cluster_id, taken) if taken is not None else None

    def _create(self, cluster_id: str, now: float) -> Lease | None:
        item = {
            **self._key(cluster_id),
            "holder": {"S": self.holder},
            "token": _num(1),
            "expires_at": _num(now + self.duration_s),
        }
        try:
            self.client.put_item(
                TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(cluster_id)"
            )
        except ClientError as err:
            if _conditional_failed(err):
                return None  # another replica created it first
            raise LeaseError(f"dynamodb {self.table}: {err}") from err
        except BotoCoreError as err:
            raise LeaseError(f"dynamodb {self.table}: {err}") from err
        return _lease(cluster_id, item)

    def fence(self, lease: Lease, now: float, margin_s: float) -> bool:
        """True when `lease` is still ours and outlives `now + margin_s`; counts the write on the item."""
        limit = now + margin_s
        if not math.isfinite(limit):
            return False
        item = self._update(
            lease.cluster_id,
            "ADD #w :one",
            "#h = :me AND #t = :tok AND #e > :limit",
            {**self._ours(lease), ":one": _num(1), ":limit": _num(limit)},
        )
        return item is not None

    def save(self, lease: Lease, memory: str) -> bool:
        """Store the memory with the lease; False when the lease is no longer ours (nothing written)."""
        item = self._update(
            lease.cluster_id, "SET #m = :m", "#h = :me AND #t = :tok", {**self._ours(lease), ":m": {"S": memory}}
        )
        return item is not None

    def release(self, lease: Lease, now: float) -> bool:
        """Let the lease expire now (clean shutdown), so a standby takes over at its next tick."""
        item = self._update(
            lease.cluster_id, "SET #e = :now", "#h = :me AND #t = :tok", {**self._ours(lease), ":now": _num(now)}
        )
        return item is not None

    def read(self, cluster_id: str) -> Lease | None:
        """The lease as stored (for `explain` and tests), None when there is none."""
        try:
            answer = self.client.get_item(TableName=self.table, Key=self._key(cluster_id), ConsistentRead=True)
        except (ClientError, BotoCoreError) as err:
            raise LeaseError(f"dynamodb {self.table}: {err}") from err
        item = answer.get("Item")
        return _lease(cluster_id, item) if item is not None else None
