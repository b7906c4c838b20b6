"""YARN ResourceManager REST client: finds the active RM, reads metrics, nodes and live apps.

RM HA: every configured URL is asked for `/ws/v1/cluster/info`; the first whose haState is ACTIVE
(or that reports no haState: HA off) is used. A standby RM answers most REST calls with an HTTP 307
to the active one; we never follow it blindly (its Location may be an internal name, and following
would hide which RM answered): a 307 means "not active, try the next URL". The last active URL is
tried first next time. Parsing lives in `yarn_parse` (pure) and is re-exported here.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import requests
import urllib3

from autoscaler.config import YarnConfig
from autoscaler.model import AppInfo, NodeInfo, QueueAmLimit, YarnMetrics
from autoscaler.sources import SourceError, redact_url
from autoscaler.sources.yarn_parse import (
    APPS,
    INFO,
    METRICS,
    NODES,
    SCHEDULER,
    parse_apps,
    parse_ha_state,
    parse_metrics,
    parse_nodes,
    parse_scheduler,
)

__all__ = [
    "YarnClient",
    "YarnState",
    "parse_apps",
    "parse_ha_state",
    "parse_metrics",
    "parse_nodes",
    "parse_scheduler",
]

_LIVE_APPS = {"states": "RUNNING,ACCEPTED"}


@dataclass(frozen=True, slots=True)
class YarnState:
    metrics: YarnMetrics
    nodes: tuple[NodeInfo, ...]
    apps: tuple[AppInfo, ...]
    rm_url: str
    am_limits: tuple[QueueAmLimit, ...] = ()  # () = the scheduler's AM limits are unknown
    notes: tuple[str, ...] = ()


class _NotActive(Exception):
    """This RM is a standby (307 or haState STANDBY): try the next one."""


class _Late(Exception):
    """The answer was still arriving at the request's deadline."""


def _read_by(resp: requests.Response, deadline: float) -> bytes:
    """The body, read as it arrives (one receive at a time) until `deadline` (monotonic).

    `timeout_s` bounds each receive; this bounds the whole answer, so an RM (or a proxy before it)
    that trickles a few bytes at a time cannot hold a tick for minutes with data that is stale by the
    time it is complete."""
    chunks: list[bytes] = []
    while True:
        chunk = resp.raw.read1(64 * 1024, decode_content=True)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise _Late


def _kerberos_auth() -> Any:
    try:
        from requests_gssapi import HTTPSPNEGOAuth  # noqa: PLC0415 - optional extra, imported only when enabled
    except ImportError:
        raise SourceError(
            "yarn: kerberos is enabled but requests-gssapi is not installed: pip install 'emr-autoscaler[kerberos]'"
        ) from None
    return HTTPSPNEGOAuth()


class YarnClient:
    """Reads one cluster's RM; every request times out after `cfg.timeout_s`."""

    def __init__(self, cfg: YarnConfig, session: requests.Session | None = None) -> None:
        self._cfg = cfg
        self._session = session or requests.Session()
        # Passed on every request, not set on the session: requests lets REQUESTS_CA_BUNDLE and
        # CURL_CA_BUNDLE override a session's `verify`, which would silently replace the configured
        # CA bundle, or turn verification back on, wherever the environment sets them.
        self._verify: bool | str = cfg.ca_bundle if cfg.ca_bundle else cfg.verify_tls
        self._auth: Any = None
        self._active: str | None = None

    @property
    def active_url(self) -> str | None:
        """The RM that answered last; None before the first successful fetch."""
        return self._active

    def _get(self, base: str, endpoint: str, params: dict[str, str] | None = None) -> Any:
        if self._cfg.kerberos and self._auth is None:
            self._auth = _kerberos_auth()
        url = base.rstrip("/") + endpoint
        shown = redact_url(base)  # credentials in the URL never reach a message
        timeout = self._cfg.timeout_s
        deadline = time.monotonic() + timeout
        try:
            resp = self._session.get(
                url,
                params=params,
                timeout=(timeout, timeout),
                allow_redirects=False,
                auth=self._auth,
                verify=self._verify,
                headers={"Accept": "application/json"},
                stream=True,  # the body is read here, against the request's whole deadline
            )
            try:
                if resp.is_redirect:
                    location = redact_url(resp.headers.get("Location", "?"))
                    raise _NotActive(f"{shown}: HTTP {resp.status_code} to {location} (standby)")
                if resp.status_code != 200:
                    raise SourceError(f"yarn {endpoint}: {shown}: HTTP {resp.status_code}")
                body = _read_by(resp, deadline)
            finally:
                resp.close()
        except requests.Timeout:
            raise SourceError(f"yarn {endpoint}: {shown}: timed out after {timeout:g}s") from None
        except _Late:
            raise SourceError(f"yarn {endpoint}: {shown}: the answer was not complete after {timeout:g}s") from None
        except requests.RequestException as err:
            detail = str(err).replace(base, shown).replace(url, redact_url(url))
            raise SourceError(f"yarn {endpoint}: {shown}: {type(err).__name__}: {detail}") from None
        except (urllib3.exceptions.HTTPError, OSError) as err:  # raised by the raw body read, not wrapped by requests
            raise SourceError(f"yarn {endpoint}: {shown}: {type(err).__name__}: {err}") from None
        try:
            return json.loads(body)
        except ValueError:
            text = body[:80].decode("utf-8", errors="replace")
            raise SourceError(f"yarn {endpoint}: {shown}: response is not JSON: {text!r}") from None

    def _find_active(self) -> str:
        urls = list(self._cfg.urls)
        if self._active in urls:
            urls.remove(self._active)
            urls.insert(0, self._active)
        problems = []
        for base in urls:
            try:
                state = parse_ha_state(self._get(base, INFO))
            except (_NotActive, SourceError) as err:
                problems.append(str(err).removeprefix(f"yarn {INFO}: "))
                continue
            if state is None or state == "ACTIVE":
                return base
            problems.append(f"{redact_url(base)}: haState {state}")
        raise SourceError("yarn: no active ResourceManager: " + "; ".join(problems))

    def fetch(self) -> YarnState:
        """Metrics, nodes and RUNNING/ACCEPTED apps from the active RM; `SourceError` on any problem."""
        base = self._find_active()
        try:
            metrics = parse_metrics(self._get(base, METRICS))
            nodes = parse_nodes(self._get(base, NODES))
            apps = parse_apps(self._get(base, APPS, _LIVE_APPS))
            am_limits, notes = self._am_limits(base)
        except _NotActive as err:
            self._active = None
            raise SourceError(f"yarn: ResourceManager failed over during the read: {err}") from None
        self._active = base
        return YarnState(metrics, nodes, apps, redact_url(base), am_limits, notes)

    def _am_limits(self, base: str) -> tuple[tuple[QueueAmLimit, ...], tuple[str, ...]]:
        """The leaf queues' AM limits; a failed or malformed answer leaves them unknown (a note, not a
        stale snapshot: no decision needs them, `cost-optimizer` only buys less without them)."""
        try:
            return parse_scheduler(self._get(base, SCHEDULER)), ()
        except SourceError as err:
            return (), (f"AM limits unknown: {err}",)

    def read_apps(self, query: dict[str, str]) -> Any:
        """The active RM's raw `/ws/v1/cluster/apps?query` (history import); `SourceError` on any problem."""
        base = self._find_active()
        try:
            body = self._get(base, APPS, query)
        except _NotActive as err:
            self._active = None
            raise SourceError(f"yarn: ResourceManager failed over during the read: {err}") from None
        self._active = base
        return body
