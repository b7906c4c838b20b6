"""The one HTTP serving helper: routing, errors, HEAD, request parsing, IPv6 and a taken port."""

from __future__ import annotations

import http.client
import json
import socket

import pytest

from autoscaler.serving import HttpServer, Request, Response, allow_head, endpoint, routes


def _echo(request: Request) -> Response:
    return Response.json(
        200,
        {
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "body": request.body.decode(),
            "target": request.headers.get("x-amz-target"),
        },
    )


def _boom(_: Request) -> Response:
    raise RuntimeError("a bug in one route")


def _call(server: HttpServer, method: str, path: str, body: bytes = b"", **headers: str) -> tuple[int, bytes, str]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read(), resp.headers.get("Content-Type", "")
    finally:
        conn.close()


def test_routes_parse_the_request_and_a_failing_route_answers_500() -> None:
    """Method, path, query, headers and body reach the handler; an exception is a 500, and the server lives on."""
    app = allow_head(routes({"/echo": endpoint(_echo), "/boom": endpoint(_boom)}))
    with HttpServer(app) as server:
        status, body, ctype = _call(server, "POST", "/echo?a=1&a=2&b=x", b'{"k": 1}', **{"X-Amz-Target": "T.Op"})
        assert (status, ctype) == (200, "application/json")
        assert json.loads(body) == {
            "method": "POST",
            "path": "/echo",
            "query": {"a": "2", "b": "x"},
            "body": '{"k": 1}',
            "target": "T.Op",
        }
        status, body, _ = _call(server, "GET", "/boom")
        assert status == 500
        assert b"RuntimeError" in body
        assert b"a bug" not in body  # the message may carry internals; the type is enough
        status, body, _ = _call(server, "GET", "/elsewhere")
        assert status == 404
        assert b"/boom, /echo" in body
        assert _call(server, "HEAD", "/echo")[:2] == (200, b"")


def test_a_taken_port_raises_at_construction() -> None:
    """Binding happens in the constructor, so the caller can report it before anything runs."""
    with HttpServer(endpoint(_echo)) as first, pytest.raises(OSError, match="in use"):
        HttpServer(endpoint(_echo), "127.0.0.1", first.port)


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6 in this Python build")
def test_ipv6_loopback() -> None:
    """An IPv6 address picks the IPv6 family; the URL brackets the host."""
    try:
        server = HttpServer(endpoint(_echo), "::1", 0)
    except OSError as err:
        pytest.skip(f"no IPv6 loopback here: {err}")
    with server:
        assert server.url.startswith("http://[::1]:")
        assert _call(server, "GET", "/x")[0] == 200
