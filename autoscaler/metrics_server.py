"""The daemon's HTTP endpoints: `/metrics`, `/livez`, `/readyz` (alias `/healthz`), `/debug/decision`.

Served by `autoscaler.serving` with prometheus-client's own WSGI app for `/metrics`. Liveness and
readiness are separate on purpose: `/readyz` turns 503 when YARN or EMR is down (no fresh tick), and
a liveness probe on it would restart a healthy daemon for someone else's outage. `/livez` only asks
whether ticks still run to the end, fresh or not.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import make_wsgi_app

from autoscaler.serving import HttpServer, Response, allow_head, basic_auth, endpoint, routes, tls_context

if TYPE_CHECKING:
    from autoscaler.config import AppConfig, MetricsAuthConfig, MetricsTlsConfig
    from autoscaler.metrics import Metrics

HEALTHY_INTERVALS = 3
"""/readyz: every cluster had a fresh, error-free tick within this many poll intervals."""
LIVE_INTERVALS = 10
"""/livez: some tick finished (any outcome) within this many poll intervals; past it the scheduler is
dead or a tick is wedged, and a restart is the cure."""

DebugProvider = Callable[[], Mapping[str, object]]
PROBE_PATHS = ("/livez", "/readyz", "/healthz")


@dataclass
class Health:
    """Readiness and liveness from what the ticks report (`success`, `problem`); no clock of its own."""

    poll_interval_s: float
    clusters: tuple[str, ...]
    started_at: float
    last_success: dict[str, float] = field(default_factory=dict)
    last_problem: dict[str, str] = field(default_factory=dict)
    last_tick_end: float | None = None

    def success(self, cluster: str, at: float) -> None:
        self.last_success[cluster] = at
        self.last_problem.pop(cluster, None)
        self.last_tick_end = at

    def problem(self, cluster: str, reason: str, at: float | None = None) -> None:
        """A tick that ended stale or in error at `at` (None: time unknown, liveness not renewed)."""
        self.last_problem[cluster] = reason
        if at is not None:
            self.last_tick_end = at

    def shift(self, seconds: float) -> None:
        """The wall clock stepped by `seconds`: move every instant kept here with it, so probes measure
        real time since the last tick (a forward step would fail `/livez`, a backward one hide a dead loop)."""
        self.started_at += seconds
        self.last_success = {cluster: at + seconds for cluster, at in self.last_success.items()}
        if self.last_tick_end is not None:
            self.last_tick_end += seconds

    def status(self, now: float) -> tuple[bool, str]:
        """Readiness: (ok, reason)."""
        window = HEALTHY_INTERVALS * self.poll_interval_s
        failing = []
        for cluster in self.clusters:
            last = self.last_success.get(cluster)
            if last is None and now - self.started_at <= window:
                continue  # still starting: the first ticks are allowed 3 intervals too
            if last is None or now - last > window:
                age = "never" if last is None else f"{now - last:.0f}s ago"
                why = self.last_problem.get(cluster, "no tick ran")
                failing.append(f"{cluster}: last successful tick {age} ({why})")
        if failing:
            return False, "; ".join(failing)
        return True, "ok"

    def live(self, now: float) -> tuple[bool, str]:
        """Liveness: (ok, reason); a stale or failing tick still counts as the daemon being alive."""
        last = self.started_at if self.last_tick_end is None else max(self.last_tick_end, self.started_at)
        window = LIVE_INTERVALS * self.poll_interval_s
        if now - last > window:
            return False, f"no tick finished for {now - last:.0f}s (> {LIVE_INTERVALS} poll intervals)"
        return True, "ok"


class MetricsServer:
    """The endpoints above on `host:port`, in a daemon thread; `close()` stops it.

    `debug` supplies the JSON of `/debug/decision` (the daemon's memory and last decision, for
    `explain`); without it that path is 404. `tls` makes it HTTPS; `auth` (user, password) puts
    basic auth on everything but the probes, which kubelets and load balancers call without it.
    """

    def __init__(
        self,
        metrics: Metrics,
        health: Health,
        clock: Callable[[], float],
        host: str,
        port: int,
        *,
        debug: DebugProvider | None = None,
        tls: ssl.SSLContext | None = None,
        auth: tuple[str, str] | None = None,
    ) -> None:
        def probe(check: Callable[[float], tuple[bool, str]]) -> Response:
            ok, reason = check(clock())
            return Response.text(200 if ok else 503, reason)

        def decision(_: object) -> Response:
            if debug is None:
                return Response.text(404, "no decision provider in this process")
            return Response(200, json.dumps(debug(), default=str).encode(), "application/json")

        ready = endpoint(lambda _: probe(health.status))
        app = routes(
            {
                "/metrics": make_wsgi_app(metrics.registry),
                "/livez": endpoint(lambda _: probe(health.live)),
                "/readyz": ready,
                "/healthz": ready,  # before /livez and /readyz existed; same as /readyz
                "/debug/decision": endpoint(decision),
            }
        )
        if auth is not None:
            app = basic_auth(app, *auth, open_paths=PROBE_PATHS)
        self._http = HttpServer(allow_head(app), host, port, tls=tls, name="metrics-http")

    @property
    def port(self) -> int:
        return self._http.port

    @property
    def url(self) -> str:
        return self._http.url

    def close(self) -> None:
        self._http.close()


def server_security(settings: AppConfig) -> dict[str, Any]:
    """`MetricsServer`'s `tls` and `auth` from the config; OSError (ssl.SSLError is one) names the file."""
    out: dict[str, Any] = {}
    if settings.metrics_tls is not None:
        out["tls"] = _tls(settings.metrics_tls)
    if settings.metrics_basic_auth is not None:
        out["auth"] = _auth(settings.metrics_basic_auth)
    return out


def security_problems(settings: AppConfig) -> list[str]:
    """Every file of `metrics_tls` / `metrics_basic_auth` that would not load, one located line each."""
    problems = []
    if settings.metrics_tls is not None:
        try:
            _tls(settings.metrics_tls)
        except OSError as err:
            problems.append(str(err))
    if settings.metrics_basic_auth is not None:
        try:
            _auth(settings.metrics_basic_auth)
        except OSError as err:
            problems.append(str(err))
    return problems


def _tls(tls: MetricsTlsConfig) -> ssl.SSLContext:
    try:
        return tls_context(tls.cert_file, tls.key_file)
    except OSError as err:
        raise OSError(f"metrics_tls: {tls.cert_file}: {err.strerror or err}") from None


def _auth(auth: MetricsAuthConfig) -> tuple[str, str]:
    try:
        password = Path(auth.password_file).read_text().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as err:
        raise OSError(f"metrics_basic_auth.password_file: {auth.password_file}: {err}") from None
    if not password:
        raise OSError(f"metrics_basic_auth.password_file: {auth.password_file}: empty")
    return auth.username, password
