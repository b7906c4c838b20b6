"""A small YARN ResourceManager REST server for end-to-end tests.

It serves `/ws/v1/cluster/{info,metrics,nodes,apps}` in the RM's JSON shapes (see
`../shared/data/yarn/`) from state a test sets with `set_state`; `garbage=True` makes every endpoint
answer 200 with HTML, as a misrouted proxy would.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Node:
    """One NodeManager; capacity defaults to an m5.xlarge's EMR YARN defaults (12 GB, 4 vcores)."""

    host: str
    containers: int = 0
    used_mb: int = 0
    used_vcores: int = 0
    memory_mb: int = 12288
    vcores: int = 4
    state: str = "RUNNING"
    unknown: str = ""  # "minus-one" or "missing": numContainers/usedMemoryMB as a confused RM reports them

    def json(self) -> dict[str, Any]:
        out = self._json()
        for key in ("numContainers", "usedMemoryMB"):
            if self.unknown == "minus-one":
                out[key] = -1
            elif self.unknown == "missing":
                del out[key]
        return out

    def _json(self) -> dict[str, Any]:
        return {
            "rack": "/default-rack",
            "state": self.state,
            "id": f"{self.host}:8041",
            "nodeHostName": self.host,
            "nodeHTTPAddress": f"{self.host}:8042",
            "lastHealthUpdate": 1_700_000_000_000,
            "healthReport": "",
            "numContainers": self.containers,
            "usedMemoryMB": self.used_mb,
            "availMemoryMB": self.memory_mb - self.used_mb,
            "usedVirtualCores": self.used_vcores,
            "availableVirtualCores": self.vcores - self.used_vcores,
        }


@dataclass(frozen=True)
class App:
    """A RUNNING (or ACCEPTED) application with its AM host and pending asks of one shape."""

    app_id: str
    am_host: str | None = None
    pending_containers: int = 0
    memory_mb: int = 2048
    vcores: int = 1
    state: str = "RUNNING"

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.app_id,
            "user": "hadoop",
            "name": self.app_id,
            "queue": "default",
            "state": self.state,
            "finalStatus": "UNDEFINED",
            "startedTime": 1_700_000_000_000,
            "resourceRequests": [
                {
                    "capability": {"memory": self.memory_mb, "virtualCores": self.vcores},
                    "numContainers": self.pending_containers,
                    "priority": {"priority": 20},
                    "relaxLocality": True,
                    "resourceName": "*",
                    "nodeLabelExpression": "",
                }
            ],
        }
        if self.am_host:
            out["amHostHttpAddress"] = f"{self.am_host}:8042"
        return out


@dataclass
class YarnState:
    nodes: list[Node] = field(default_factory=list)
    apps: list[App] = field(default_factory=list)
    garbage: bool = False
    delay_s: float = 0.0  # every answer this late: a slow RM

    def metrics(self) -> dict[str, Any]:
        live = [n for n in self.nodes if n.state == "RUNNING"]
        pending = [a for a in self.apps if a.pending_containers]
        used_mb = sum(n.used_mb for n in live)
        used_vcores = sum(n.used_vcores for n in live)
        total_mb = sum(n.memory_mb for n in live)
        total_vcores = sum(n.vcores for n in live)
        return {
            "clusterMetrics": {
                "appsSubmitted": len(self.apps),
                "appsCompleted": 0,
                "appsPending": sum(1 for a in self.apps if a.state == "ACCEPTED"),
                "appsRunning": sum(1 for a in self.apps if a.state == "RUNNING"),
                "reservedMB": 0,
                "availableMB": total_mb - used_mb,
                "allocatedMB": used_mb,
                "pendingMB": sum(a.pending_containers * a.memory_mb for a in pending),
                "reservedVirtualCores": 0,
                "availableVirtualCores": total_vcores - used_vcores,
                "allocatedVirtualCores": used_vcores,
                "pendingVirtualCores": sum(a.pending_containers * a.vcores for a in pending),
                "containersAllocated": sum(n.containers for n in live),
                "containersReserved": 0,
                "containersPending": sum(a.pending_containers for a in pending),
                "totalMB": total_mb,
                "totalVirtualCores": total_vcores,
                "totalNodes": len(self.nodes),
                "lostNodes": 0,
                "unhealthyNodes": 0,
                "decommissioningNodes": sum(1 for n in self.nodes if n.state == "DECOMMISSIONING"),
                "decommissionedNodes": 0,
                "rebootedNodes": 0,
                "activeNodes": len(live),
                "shutdownNodes": 0,
            }
        }

    def body(self, path: str) -> dict[str, Any] | None:
        if path == "/ws/v1/cluster/info":
            return {"clusterInfo": {"id": 1, "state": "STARTED", "haState": "ACTIVE", "hadoopVersion": "3.3.6"}}
        if path == "/ws/v1/cluster/metrics":
            return self.metrics()
        if path == "/ws/v1/cluster/nodes":
            return {"nodes": {"node": [n.json() for n in self.nodes]}}
        if path == "/ws/v1/cluster/apps":
            return {"apps": {"app": [a.json() for a in self.apps]} if self.apps else None}
        return None


class YarnServer:
    """Serve a `YarnState` on 127.0.0.1 (ephemeral port); `requests` records every path asked for."""

    def __init__(self) -> None:
        self.state = YarnState()
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def set_state(self, state: YarnState) -> None:
        with self._lock:
            self.state = state

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                with server._lock:
                    server.requests.append(path)
                    state = server.state
                if state.delay_s:
                    time.sleep(state.delay_s)
                if state.garbage:
                    self._send(200, b"<html><body>Service Temporarily Unavailable</body></html>", "text/html")
                    return
                body = state.body(path)
                if body is None:
                    self._send(404, b'{"RemoteException":{"message":"not found"}}', "application/json")
                else:
                    self._send(200, json.dumps(body).encode(), "application/json")

            def _send(self, code: int, body: bytes, content_type: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler
