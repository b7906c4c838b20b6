"""`FakeYarn`: a stateful YARN ResourceManager for tests, rendered by the emulator's own YARN JSON code.

Re-exported by `autoscaler.testing`. The JSON comes from `autoscaler.emulator.yarn_api`, the code the
emulator serves, so a fake and the emulator cannot drift apart; the server is `autoscaler.serving`.
Faults are injected the way they show up in production: the RM down (connection refused), slow,
answering HTML (a misrouted proxy), or a standby's 307 (here to itself: a redirect loop).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from types import TracebackType
from typing import Any, Final, Self

from autoscaler.emulator.yarn_api import route
from autoscaler.model import AppInfo, ClusterSnapshot, NodeInfo, NodeState, PendingRequest, Resources, YarnMetrics
from autoscaler.serving import HttpServer, Request, Response, allow_head, endpoint

FAKE_RM_STARTED_AT: Final = 1_699_999_000.0
GARBAGE: Final = b"<html><body>Service Temporarily Unavailable</body></html>"


class YarnFault(StrEnum):
    DOWN = "down"  # nothing listens: connection refused
    SLOW = "slow"  # answers after `FakeYarn.slow_s`
    GARBAGE = "garbage"  # 200 with an HTML page
    REDIRECT = "307"  # a standby's redirect, pointing back at itself


def _total(values: Iterable[int | None]) -> int | None:
    """The sum, or None (unknown) when any term is unknown."""
    terms = list(values)
    return None if any(v is None for v in terms) else sum(v for v in terms if v is not None)


def yarn_from_nodes(nodes: Iterable[NodeInfo], apps: Iterable[AppInfo] = (), **overrides: int | None) -> YarnMetrics:
    """Cluster metrics consistent with the nodes and the apps' pending asks (overrides win); a node's
    unknown usage makes the sums it is part of unknown."""
    nodes, apps = tuple(nodes), tuple(apps)
    live = [n for n in nodes if n.state is NodeState.RUNNING]
    used, available, capacity = [n.used for n in live], [n.available for n in live], [n.capacity for n in live]
    asks = [r for a in apps for r in a.pending]
    fields: dict[str, int | None] = {
        "apps_pending": sum(1 for a in apps if a.state == "ACCEPTED"),
        "apps_running": sum(1 for a in apps if a.state == "RUNNING"),
        "containers_pending": sum(r.count for r in asks),
        "containers_allocated": _total(n.num_containers for n in live),
        "pending_mb": sum(r.count * r.shape.memory_mb for r in asks),
        "pending_vcores": sum(r.count * r.shape.vcores for r in asks),
        "allocated_mb": _total(None if r is None else r.memory_mb for r in used),
        "allocated_vcores": _total(None if r is None else r.vcores for r in used),
        "available_mb": _total(None if r is None else r.memory_mb for r in available),
        "available_vcores": _total(None if r is None else r.vcores for r in available),
        "reserved_mb": 0,
        "reserved_vcores": 0,
        "total_mb": _total(None if r is None else r.memory_mb for r in capacity),
        "total_vcores": _total(None if r is None else r.vcores for r in capacity),
        "active_nodes": len(live),
        "decommissioning_nodes": sum(1 for n in nodes if n.state is NodeState.DECOMMISSIONING),
        "unhealthy_nodes": sum(1 for n in nodes if n.state is NodeState.UNHEALTHY),
        "lost_nodes": 0,
        "shutdown_nodes": 0,
    }
    fields.update(overrides)
    return YarnMetrics(**fields)


def make_app(
    app_id: str,
    *,
    am_host: str | None = None,
    pending: int = 0,
    memory_mb: int = 2048,
    vcores: int = 1,
    state: str = "RUNNING",
    queue: str = "default",
    submitted_at: float | None = None,
) -> AppInfo:
    """A YARN application with `pending` outstanding asks of one container shape."""
    asks = (PendingRequest(Resources(memory_mb, vcores), pending, app_id, queue),) if pending else ()
    return AppInfo(app_id, state, queue, am_host, asks, submitted_at)


@dataclass(frozen=True)
class YarnCall:
    method: str
    path: str  # with the query string, as asked
    fault: YarnFault | None  # the fault it was answered with


class FakeYarn:
    """A YARN RM whose nodes, apps and faults a test sets; `calls` logs every request.

    Use it in-process (`answer(path)`) or over HTTP (`serve()` / `with FakeYarn(...) as rm:` then
    `rm.url`). `metrics` overrides fields of the derived cluster metrics (e.g. `pending_mb=None` for
    YARN's -1, "unknown").
    """

    def __init__(
        self,
        nodes: Iterable[NodeInfo] = (),
        apps: Iterable[AppInfo] = (),
        *,
        slow_s: float = 3.0,
        started_at: float = FAKE_RM_STARTED_AT,
    ) -> None:
        self._lock = threading.Lock()
        self.nodes: tuple[NodeInfo, ...] = tuple(nodes)
        self.apps: tuple[AppInfo, ...] = tuple(apps)
        self.metrics: dict[str, int | None] = {}
        self.fault: YarnFault | None = None
        self.slow_s = slow_s
        self.started_at = started_at
        self.calls: list[YarnCall] = []
        self.tamper: Callable[[str, Any], Any] | None = None
        """Edits each rendered JSON body (path, body) -> body: wrong types, missing keys, odd values."""
        self._server: HttpServer | None = None
        self._address: tuple[str, int] = ("127.0.0.1", 0)

    # state

    def set(
        self,
        nodes: Iterable[NodeInfo] | None = None,
        apps: Iterable[AppInfo] | None = None,
        **metrics: int | None,
    ) -> None:
        """Replace the nodes and/or apps; keyword metrics override the derived cluster metrics."""
        with self._lock:
            if nodes is not None:
                self.nodes = tuple(nodes)
            if apps is not None:
                self.apps = tuple(apps)
            self.metrics = dict(metrics)

    def snapshot(self) -> ClusterSnapshot:
        with self._lock:
            nodes, apps, overrides = self.nodes, self.apps, dict(self.metrics)
        yarn = yarn_from_nodes(nodes, apps, **overrides)
        return ClusterSnapshot("j-FAKEYARN", time.time(), "WAITING", yarn, nodes, apps)

    def inject(self, fault: YarnFault | str | None) -> None:
        """Answer every request with `fault` from now on (None clears it). DOWN closes the port."""
        fault = None if fault is None else YarnFault(fault)
        with self._lock:
            self.fault = fault
            server = self._server
        if fault is YarnFault.DOWN and server is not None:
            server.close()
            with self._lock:
                self._server = None
        elif fault is not YarnFault.DOWN and server is None and self._address[1]:
            self._listen(*self._address)

    # answers

    def answer(self, path: str, method: str = "GET") -> Response:
        """The response to one request, faults included (DOWN raises ConnectionRefusedError)."""
        with self._lock:
            fault = self.fault
            self.calls.append(YarnCall(method, path, fault))
        if fault is YarnFault.DOWN:
            raise ConnectionRefusedError(f"fake RM is down: {path}")
        if fault is YarnFault.SLOW:
            time.sleep(self.slow_s)
        if fault is YarnFault.GARBAGE:
            return Response(200, GARBAGE, "text/html")
        if fault is YarnFault.REDIRECT:
            return Response(307, b"", headers=(("Location", self.url + path),))
        body = route(path, replace(self.snapshot(), taken_at=self.started_at), self.started_at)
        if body is None:
            return Response.json(404, {"RemoteException": {"exception": "NotFoundException", "message": path}})
        return Response.json(200, body if self.tamper is None else self.tamper(path, body))

    def json(self, path: str) -> Any:
        """The JSON body for `path` (in-process, no HTTP)."""
        return json.loads(self.answer(path).body)

    # HTTP

    def _handle(self, request: Request) -> Response:
        return self.answer(request.target, request.method)

    def _listen(self, host: str, port: int) -> None:
        server = HttpServer(allow_head(endpoint(self._handle)), host, port, name="fake-yarn")
        with self._lock:
            self._server, self._address = server, (host, server.port)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Self:
        """Listen on (host, port), port 0 = a free one; the port is kept across a DOWN fault."""
        self._listen(host, port)
        return self

    @property
    def url(self) -> str:
        host, port = self._address
        return f"http://{host}:{port}"

    def close(self) -> None:
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.close()

    def __enter__(self) -> Self:
        return self if self._server is not None else self.serve()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
