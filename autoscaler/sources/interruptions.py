"""Spot interruption warnings and rebalance recommendations, read from an SQS queue that an
EventBridge rule feeds (source aws.ec2, detail-types below).

One queue serves a region (deploy/cloudformation/spot-interruptions.yaml), so clusters share it, and
with replicas each cluster is read only by its lease holder (`ha.leased_tick`: a standby collects
nothing). A reader therefore deletes only what is its cluster's, or nobody's: a message about one of
its cluster's instances (claimed: the notice is remembered until it takes effect), one it cannot
parse (it would come back every tick), and one whose notice has already taken effect. A message about
another instance is left on the queue, hidden for `release_after_s` only, for the reader of the
cluster it belongs to (another cluster, or another replica's); it goes once it has expired.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from autoscaler.model import InterruptionNotice
from autoscaler.ports import DeleteMessageBatchEntry, SqsPort
from autoscaler.sources import SourceError

INTERRUPTION = "EC2 Spot Instance Interruption Warning"
REBALANCE = "EC2 Instance Rebalance Recommendation"

#: EC2 gives a two-minute warning before reclaiming a Spot instance.
INTERRUPTION_NOTICE_S = 120.0
#: A rebalance recommendation has no deadline; remember it this long.
REBALANCE_MEMORY_S = 600.0

_MAX_BATCHES = 5
#: How long a message about another cluster's instance stays hidden after this reader saw it.
RELEASE_AFTER_S = 5


def parse_event(body: str) -> InterruptionNotice | None:
    """An EventBridge event (optionally wrapped in an SNS notification) -> notice; None if unrelated."""
    try:
        event = json.loads(body)
        if isinstance(event, dict) and event.get("Type") == "Notification" and "Message" in event:
            event = json.loads(event["Message"])
    except (ValueError, TypeError):
        return None
    if not isinstance(event, dict):
        return None
    kind = event.get("detail-type")
    detail = event.get("detail")
    if kind not in (INTERRUPTION, REBALANCE) or not isinstance(detail, dict):
        return None
    instance_id = detail.get("instance-id")
    if not isinstance(instance_id, str):
        return None
    try:
        at = datetime.fromisoformat(str(event.get("time", "")).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
    if kind == INTERRUPTION:
        action = str(detail.get("instance-action", "terminate"))
        return InterruptionNotice(instance_id, action, at, at + INTERRUPTION_NOTICE_S)
    return InterruptionNotice(instance_id, "rebalance", at, at + REBALANCE_MEMORY_S)


class InterruptionReader:
    """Drains the queue each poll and returns every claimed notice not yet in effect."""

    def __init__(
        self, sqs_client: SqsPort, queue_url: str, release_after_s: int = RELEASE_AFTER_S, *, consume: bool = True
    ) -> None:
        """`consume=False` (explain, which writes nothing): messages are only looked at, never deleted nor
        hidden, so the daemon still gets every one; notices it already took off the queue are not seen."""
        self._sqs = sqs_client
        self._url = queue_url
        self._release_after_s = release_after_s if consume else 0
        self._consume = consume
        self._notices: dict[tuple[str, str], InterruptionNotice] = {}
        self.ignored_messages = 0
        self.left_on_queue = 0  # last poll: messages about instances not in the cluster, left for their reader

    def poll(self, now: float, instance_ids: Collection[str] | None = None) -> tuple[InterruptionNotice, ...]:
        """Read the queue; `instance_ids` are the cluster's instances (None: every message is ours)."""
        self.left_on_queue = 0
        looked: set[str] = set()
        try:
            for _ in range(_MAX_BATCHES):
                resp = self._sqs.receive_message(
                    QueueUrl=self._url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=0,
                    VisibilityTimeout=self._release_after_s,
                )
                # a peek (or a message hidden only briefly) may come again within one poll: once is enough
                messages = [m for m in resp.get("Messages", []) if m.get("MessageId", "") not in looked]
                if not messages:
                    break
                looked.update(m.get("MessageId", "") for m in messages)
                done = []
                for msg in messages:
                    notice = parse_event(msg.get("Body", ""))
                    if notice is None:
                        self.ignored_messages += 1
                    elif instance_ids is None or notice.instance_id in instance_ids:
                        self._notices[(notice.instance_id, notice.action)] = notice
                    elif notice.effective_at > now:
                        self.left_on_queue += 1
                        continue
                    done.append(msg)
                entries: list[DeleteMessageBatchEntry] = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ]
                if entries and self._consume:
                    self._sqs.delete_message_batch(QueueUrl=self._url, Entries=entries)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "?")
            raise SourceError(f"sqs interruptions queue: {code}") from err
        except BotoCoreError as err:
            raise SourceError(f"sqs interruptions queue: {type(err).__name__}: {err}") from err
        finally:
            self._notices = {k: n for k, n in self._notices.items() if n.effective_at > now}
        return tuple(sorted(self._notices.values(), key=lambda n: (n.effective_at, n.instance_id)))
