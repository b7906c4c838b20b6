"""A tiny real HTTP server that answers like a YARN ResourceManager, with answers the test controls."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from autoscaler.serving import HttpServer, Request, Response, WsgiApp, endpoint


@dataclass
class Route:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class FakeRM:
    routes: dict[str, Route] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    url: str = ""

    def answer(self, path: str, body: Any = None, status: int = 200, **kw: Any) -> None:
        self.routes[path] = Route(status, body, **kw)


def _app(rm: FakeRM) -> WsgiApp:
    def handle(request: Request) -> Response:
        rm.calls.append(request.target)
        route = rm.routes.get(request.path)
        if route is None:
            return Response(404)
        time.sleep(route.delay_s)
        data = route.body if isinstance(route.body, bytes) else json.dumps(route.body).encode()
        return Response(route.status, data, "application/json", tuple(route.headers.items()))

    return endpoint(handle)


@contextmanager
def serving(app: WsgiApp, tls: ssl.SSLContext | None = None) -> Iterator[int]:
    """`app` served on a free loopback port (HTTPS with `tls`) until the block ends; yields the port."""
    with HttpServer(app, tls=tls) as server:
        yield server.port


@contextmanager
def fake_rm(tls: ssl.SSLContext | None = None) -> Iterator[FakeRM]:
    """An RM on a free port; with `tls` it speaks HTTPS (https://127.0.0.1:PORT)."""
    rm = FakeRM()
    with serving(_app(rm), tls) as port:
        rm.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        yield rm
