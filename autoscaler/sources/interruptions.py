"""Spot interruption warnings and rebalance recommendations, read from an SQS queue that an
EventBridge rule feeds (source aws.ec2, detail-types below).

Messages are deleted once read (parsed or not: the queue is dedicated to these events, and a message
we cannot parse would otherwise come back every tick). Notices are remembered until they take effect.
"""

from __future__ import annotations

import json
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
    """Drains the queue each poll and returns every notice not yet in effect."""

    def __init__(self, sqs_client: SqsPort, queue_url: str) -> None:
        self._sqs = sqs_client
        self._url = queue_url
        self._notices: dict[tuple[str, str], InterruptionNotice] = {}
        self.ignored_messages = 0

    def poll(self, now: float) -> tuple[InterruptionNotice, ...]:
        try:
            for _ in range(_MAX_BATCHES):
                resp = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
                messages = resp.get("Messages", [])
                if not messages:
                    break
                for msg in messages:
                    notice = parse_event(msg.get("Body", ""))
                    if notice is None:
                        self.ignored_messages += 1
                    else:
                        self._notices[(notice.instance_id, notice.action)] = notice
                entries: list[DeleteMessageBatchEntry] = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
                ]
                self._sqs.delete_message_batch(QueueUrl=self._url, Entries=entries)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "?")
            raise SourceError(f"sqs interruptions queue: {code}") from err
        except BotoCoreError as err:
            raise SourceError(f"sqs interruptions queue: {type(err).__name__}: {err}") from err
        finally:
            self._notices = {k: n for k, n in self._notices.items() if n.effective_at > now}
        return tuple(sorted(self._notices.values(), key=lambda n: (n.effective_at, n.instance_id)))
