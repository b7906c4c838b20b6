"""The one place boto3 clients are made, so every AWS call is timed and its error code counted.

Endpoints come from boto3's own configuration (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_EMR`, ...) and
credentials from the default chain: nothing secret lives in our config.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

#: Called once per AWS request: (service, operation, seconds, error code or None).
CallObserver = Callable[[str, str, float, str | None], None]

_RETRIES = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=15)


def _no_observer(service: str, operation: str, seconds: float, error: str | None) -> None:
    return None


def make_client(
    service: str,
    region: str,
    observer: CallObserver | None = None,
    session: boto3.session.Session | None = None,
) -> Any:
    """A boto3 client whose every API call (including retries' final result) reaches `observer`."""
    session = session or boto3.session.Session()
    client = session.client(service, region_name=region, config=_RETRIES)
    observe = observer or _no_observer
    started: dict[int, tuple[float, str]] = {}

    def before(model: Any, context: dict[str, Any], **_: Any) -> None:
        started[id(context)] = (time.perf_counter(), model.name)

    def finish(context: dict[str, Any], error: str | None) -> None:
        t0, operation = started.pop(id(context), (time.perf_counter(), "unknown"))
        observe(service, operation, time.perf_counter() - t0, error)

    def after(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        finish(context, parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None)

    def after_error(exception: Exception, context: dict[str, Any], **_: Any) -> None:
        # connection failures and timeouts never reach after-call
        finish(context, type(exception).__name__)

    events = client.meta.events
    events.register("before-call.*.*", before)
    events.register("after-call.*.*", after)
    events.register("after-call-error.*.*", after_error)
    return client
