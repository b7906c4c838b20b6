"""The one HTTP server of the project: WSGI apps under wsgiref's server, threaded, in a daemon thread.

The daemon's `/metrics` (prometheus-client's own `make_wsgi_app`), its health and debug routes, the
emulator's YARN and EMR endpoints and the test fakes all run here, so request parsing, threading,
TLS, basic auth, HEAD and shutdown are written once. Routes that are not a ready-made WSGI app are
plain functions `Request -> Response` (see `endpoint`).
"""

from __future__ import annotations

import base64
import hmac
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]  # the last value of each parameter
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""
    raw_query: str = ""  # as sent, for fakes that log or forward the exact request

    @property
    def target(self) -> str:
        """Path and query as the client sent them."""
        return self.path + (f"?{self.raw_query}" if self.raw_query else "")


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = field(default=())

    @classmethod
    def json(cls, status: int, body: Any, content_type: str = "application/json", **headers: str) -> Response:
        return cls(status, json.dumps(body).encode(), content_type, tuple(headers.items()))

    @classmethod
    def text(cls, status: int, text: str) -> Response:
        return cls(status, (text if text.endswith("\n") else text + "\n").encode())


Handler = Callable[[Request], Response]


def _status_line(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Unknown"


def _request(environ: Mapping[str, Any]) -> Request:
    headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = str(environ[key])
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    query = {k: v[-1] for k, v in parse_qs(str(environ.get("QUERY_STRING", ""))).items()}
    raw = str(environ.get("QUERY_STRING", ""))
    return Request(str(environ["REQUEST_METHOD"]), str(environ.get("PATH_INFO") or "/"), query, headers, body, raw)


def endpoint(handler: Handler) -> WsgiApp:
    """A WSGI app from a `Request -> Response` function; an exception in it answers 500, never a crash."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            resp = handler(_request(environ))
        except Exception as err:  # the server must keep serving whatever one request does
            resp = Response.text(500, f"internal error: {type(err).__name__}")
        headers = [("Content-Type", resp.content_type), ("Content-Length", str(len(resp.body))), *resp.headers]
        start_response(_status_line(resp.status), headers)
        return [resp.body]

    return app


def routes(table: Mapping[str, WsgiApp], fallback: WsgiApp | None = None) -> WsgiApp:
    """Dispatch on the exact path; anything else goes to `fallback` (default: 404 naming the routes)."""
    known = ", ".join(sorted(table))
    missing = fallback or endpoint(lambda r: Response.text(404, f"not found: try {known}"))

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        return table.get(environ.get("PATH_INFO") or "/", missing)(environ, start_response)

    return app


def allow_head(app: WsgiApp) -> WsgiApp:
    """HEAD answered as GET without the body (same status and headers, Content-Length included)."""

    def wrapped(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "HEAD":
            return app(environ, start_response)
        answer: list[tuple[str, list[tuple[str, str]]]] = []
        body = app({**environ, "REQUEST_METHOD": "GET"}, lambda status, headers, *_: answer.append((status, headers)))
        size = sum(len(chunk) for chunk in body)
        close = getattr(body, "close", None)
        if close is not None:
            close()
        status, headers = answer[0]
        if not any(name.lower() == "content-length" for name, _ in headers):
            headers = [*headers, ("Content-Length", str(size))]
        start_response(status, headers)
        return []

    return wrapped


def basic_auth(app: WsgiApp, username: str, password: str, open_paths: Iterable[str] = ()) -> WsgiApp:
    """HTTP basic auth in front of `app`; `open_paths` (e.g. probes) stay open."""
    expected = b"Basic " + base64.b64encode(f"{username}:{password}".encode())
    unauthorized = endpoint(
        lambda r: Response(401, b"unauthorized\n", headers=(("WWW-Authenticate", 'Basic realm="emr-autoscaler"'),))
    )
    free = frozenset(open_paths)

    def wrapped(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        given = str(environ.get("HTTP_AUTHORIZATION", "")).encode()
        if environ.get("PATH_INFO") in free or hmac.compare_digest(given, expected):
            return app(environ, start_response)
        return unauthorized(environ, start_response)

    return wrapped


def tls_context(certfile: str, keyfile: str | None = None) -> ssl.SSLContext:
    """A server-side TLS context (TLS 1.2+) from a PEM certificate chain and key."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(certfile, keyfile)
    return ctx


class _Quiet(WSGIRequestHandler):
    """No access log: scrapes and polls every few seconds would drown the daemon's own events."""

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _Threading(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # a client's broken connection or failed TLS handshake is theirs: no traceback in our log


class HttpServer:
    """`app` served on (host, port) — port 0 picks a free one — until `close()`; a context manager.

    Binding happens in the constructor, so a taken port raises `OSError` there. The host may be an
    IPv4 or IPv6 address or name. With `tls` every connection is HTTPS; the handshake runs in the
    request's own thread, so a slow client cannot stall the others.
    """

    def __init__(
        self, app: WsgiApp, host: str = "127.0.0.1", port: int = 0, *, tls: ssl.SSLContext | None = None, name: str = ""
    ) -> None:
        family, addr = _family(host, port)
        server_class = type("_Server", (_Threading,), {"address_family": family})
        self._server: WSGIServer = server_class((addr, port), _Quiet)
        self._server.set_app(app)
        self.tls = tls is not None
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True, do_handshake_on_connect=False)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=name or f"http-{self.port}", daemon=True
        )
        self._thread.start()

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = self.host
        host = f"[{host}]" if ":" in host else host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _family(host: str, port: int) -> tuple[socket.AddressFamily, str]:
    """The address family for `host` (IPv6 for "::"), as prometheus-client's own server picks it."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _, _, _, sockaddr = infos[0]
    return family, str(sockaddr[0])
