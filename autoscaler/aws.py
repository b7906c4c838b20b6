"""The one place boto3 clients are made, so every AWS call is timed and its error code counted.

Endpoints come from boto3's own configuration (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_EMR`, ...) and
credentials from the default chain: nothing secret lives in our config.
"""

from __future__ import annotations

import threading
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


_SESSION_LOCK = threading.Lock()
_SESSION: list[boto3.session.Session] = []


def _shared_session() -> boto3.session.Session:
    """One session for the process: botocore loads each service's model once per session, and EC2's
    alone is tens of MB in memory; with a session per client, a daemon of 200 clusters held 200 copies."""
    if not _SESSION:
        _SESSION.append(boto3.session.Session())
    return _SESSION[0]


def make_client(
    service: str,
    region: str,
    observer: CallObserver | None = None,
    session: boto3.session.Session | None = None,
) -> Any:
    """A boto3 client whose every API call (including retries' final result) reaches `observer`.

    Clients are thread-safe once made; making one from a shared session is not, hence the lock."""
    with _SESSION_LOCK:
        client = (session or _shared_session()).client(service, region_name=region, config=_RETRIES)
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


class Clients:
    """One client per (service, region) for one daemon, shared by its clusters: a botocore client is
    thread-safe and holds about a megabyte of models and hooks, and 200 clusters' sources would
    otherwise make 600 of them. Scoped to the daemon that makes it (not process-wide), so a new
    daemon, or a test, gets clients made under its own environment."""

    def __init__(self, observer: CallObserver | None = None) -> None:
        self.observer = observer
        self._lock = threading.Lock()
        self._made: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str) -> Any:
        with self._lock:
            if (service, region) not in self._made:
                self._made[service, region] = make_client(service, region, self.observer)
            return self._made[service, region]
