"""A fault-injecting HTTP reverse proxy: the daemon's own HTTP stack (requests for the RM, botocore
for AWS) talks to it as to the real endpoint, and it forwards, answers, delays, cuts, edits or holds
each request as the current `rule` says. It logs every exchange, so a test sees what reached the
backend (`forwarded`) and what the daemon was told.

`down()` stops listening (connection refused, as a dead RM gives) and `up()` listens again on the
same port. Rules are plain functions `Exchange -> Action | None` (None: forward untouched).
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from autoscaler.serving import HttpServer, Request, _request, _status_line

_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive", "server", "date", "content-type"}


@dataclass
class Exchange:
    """One request as the proxy saw it, and what became of it."""

    at: float  # time.time() when it arrived
    method: str
    target: str  # path and query
    operation: str  # AWS: the X-Amz-Target operation; otherwise the path
    body: dict[str, Any]
    fault: str = ""  # the name of the action that answered it, "" when forwarded untouched
    forwarded: bool = False  # the backend received it
    status: int = 0  # what the daemon was answered


@dataclass(frozen=True)
class Answer:
    """Answer here; the backend never sees the request."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    name: str = "answer"


@dataclass(frozen=True)
class ForwardThenAnswer:
    """The backend applies the request; the daemon is told `answer` instead (a write applied but answered 500)."""

    answer: Answer


@dataclass(frozen=True)
class Edit:
    """Forward, then pass the JSON response body through `edit` (wrong types, unknown counters)."""

    edit: Callable[[str, Any], Any]
    name: str = "edit"


@dataclass(frozen=True)
class Delay:
    seconds: float
    name: str = "slow"


@dataclass(frozen=True)
class Truncate:
    """Forward; send the headers of the whole body (its Content-Length) and then only half of it."""

    name: str = "truncated"


@dataclass(frozen=True)
class Drip:
    """Forward; send the answer a few bytes at a time, `every_s` apart (each read inside the client's
    timeout, the whole answer far past it: a slow-loris RM or an overloaded proxy in between)."""

    every_s: float
    chunk: int = 16
    name: str = "drip"


@dataclass(frozen=True)
class Hold:
    """Forward only once `release` is set; `holding` is set when a request waits."""

    holding: threading.Event
    release: threading.Event
    name: str = "hold"


Action = Answer | ForwardThenAnswer | Edit | Delay | Truncate | Drip | Hold
Rule = Callable[[Exchange], Action | None]


def aws_error(code: str, message: str, status: int) -> Answer:
    """An AWS JSON-1.1 error answer, as botocore parses it into a ClientError with `code`."""
    body = json.dumps({"__type": code, "message": message}).encode()
    return Answer(status, body, "application/x-amz-json-1.1", (("x-amzn-ErrorType", code),), name=code)


def _dripping(data: bytes, drip: Drip) -> Iterator[bytes]:
    for start in range(0, len(data), drip.chunk):
        time.sleep(drip.every_s)
        yield data[start : start + drip.chunk]


@dataclass
class FaultProxy:
    """Forwards to http://127.0.0.1:`target_port` unless `rule` says otherwise."""

    target_port: int
    rule: Rule | None = None
    log: list[Exchange] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._port = 0
        self._server: HttpServer | None = None
        self.up()

    # -- listening -------------------------------------------------------------------------------

    def up(self) -> None:
        if self._server is None:
            self._server = HttpServer(self._app, port=self._port, name="fault-proxy")
            self._port = self._server.port

    def down(self) -> None:
        """Stop listening: the daemon's connections are refused until `up()`."""
        server, self._server = self._server, None
        if server is not None:
            server.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def close(self) -> None:
        self.down()

    # -- what was seen ---------------------------------------------------------------------------

    def exchanges(self, since: float = 0.0, operation: str | None = None) -> list[Exchange]:
        with self._lock:
            seen = list(self.log)
        return [e for e in seen if e.at >= since and (operation is None or e.operation == operation)]

    def writes(self, since: float = 0.0) -> list[Exchange]:
        """AWS writes (Modify*) the daemon sent since `since`, forwarded or not."""
        return [e for e in self.exchanges(since) if e.operation.startswith("Modify")]

    # -- the proxy -------------------------------------------------------------------------------

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = _request(environ)
        operation = request.headers.get("x-amz-target", "").rpartition(".")[2] or request.path
        try:
            body = json.loads(request.body) if request.body else {}
        except ValueError:
            body = {}
        exchange = Exchange(time.time(), request.method, request.target, operation, body)
        with self._lock:
            self.log.append(exchange)
        rule = self.rule
        action = rule(exchange) if rule is not None else None
        status, headers, data, cut = self._act(action, request, exchange)
        exchange.status = status
        start_response(_status_line(status), [*headers, ("Content-Length", str(len(data)))])
        if isinstance(action, Drip):
            return _dripping(data, action)
        return [data[: len(data) // 2] if cut else data]

    def _act(
        self, action: Action | None, request: Request, exchange: Exchange
    ) -> tuple[int, list[tuple[str, str]], bytes, bool]:
        if isinstance(action, Answer):
            exchange.fault = action.name
            return action.status, [("Content-Type", action.content_type), *action.headers], action.body, False
        if isinstance(action, Delay):
            exchange.fault = action.name
            time.sleep(action.seconds)
        if isinstance(action, Hold):
            exchange.fault = action.name
            action.holding.set()
            action.release.wait(60)
        status, headers, data = self._forward(request)
        exchange.forwarded = True
        if isinstance(action, ForwardThenAnswer):
            exchange.fault = action.answer.name
            answer = action.answer
            return answer.status, [("Content-Type", answer.content_type), *answer.headers], answer.body, False
        if isinstance(action, Edit):
            exchange.fault = action.name
            data = json.dumps(action.edit(request.path, json.loads(data))).encode()
        if isinstance(action, Truncate | Drip):
            exchange.fault = action.name
        return status, headers, data, isinstance(action, Truncate)

    def _forward(self, request: Request) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.target_port, timeout=30)
        try:
            headers = {k: v for k, v in request.headers.items() if k not in ("host", "connection", "content-length")}
            conn.request(request.method, request.target, request.body, headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        passed = [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP]
        return resp.status, [("Content-Type", resp.getheader("Content-Type") or "application/json"), *passed], data
