"""What `explain` prints, and the daemon memory it evaluates with.

`explain` must not contradict the daemon: cooldowns, back-offs and scale-in confirmations live in
the daemon's controller memory, so `explain` fetches it from the running daemon's
`/debug/decision` (the `memory_codec` document) and evaluates with it. When no daemon answers it
evaluates with empty memory, as a daemon that just started would, and says so in text and JSON:
what it then prints about cooldowns, back-offs and confirmations is not what the daemon will do.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from autoscaler.config import AppConfig
from autoscaler.logs import inputs_fields, notice_fields, plan_fields, rejection_fields, source_notes
from autoscaler.memory_codec import CodecError, ControllerState, decode_states
from autoscaler.model import ClusterSnapshot, ControllerMemory, Decision, Outcome

DEBUG_PATH = "/debug/decision"
UNKNOWN_WITHOUT_DAEMON = ("cooldowns", "back-offs", "scale-in confirmations")


@dataclass(frozen=True, slots=True)
class DaemonView:
    """The daemon's state per cluster, or why there is none (`error`)."""

    url: str | None
    states: Mapping[str, ControllerState] = field(default_factory=lambda: MappingProxyType({}))
    error: str | None = None

    def state(self, cluster_id: str) -> ControllerState | None:
        return self.states.get(cluster_id) if self.error is None else None

    def memory(self, cluster_id: str) -> ControllerMemory:
        state = self.state(cluster_id)
        return ControllerMemory() if state is None else state.memory

    def why_unknown(self, cluster_id: str) -> str | None:
        """None when the daemon's memory for this cluster is known; else why not."""
        if self.url is None:
            return self.error or "no daemon to ask (metrics_port is 0 and no --daemon URL)"
        if self.error is not None:
            return f"no daemon memory from {self.url}: {self.error}"
        if cluster_id not in self.states:
            return f"the daemon at {self.url} has not ticked cluster {cluster_id} yet"
        return None


@dataclass(frozen=True, slots=True)
class DaemonAccess:
    """How to reach the local daemon's metrics server as its config sets it up: the URL, the
    certificate to trust (`metrics_tls`) and the basic-auth pair (`metrics_basic_auth`)."""

    url: str | None
    cafile: str | None = None
    auth: tuple[str, str] | None = None


def daemon_access(settings: AppConfig, url: str | None = None) -> DaemonAccess:
    """`url` ("none": no daemon), else the loopback address of `metrics_port` from the config."""
    cafile = settings.metrics_tls.cert_file if settings.metrics_tls is not None else None
    auth = None
    if settings.metrics_basic_auth is not None:
        try:
            password = Path(settings.metrics_basic_auth.password_file).read_text().rstrip("\r\n")
            auth = (settings.metrics_basic_auth.username, password)
        except (OSError, UnicodeDecodeError):
            auth = None  # the daemon then answers 401: reported as unknown memory, never a crash
    if url is None and settings.metrics_port:
        url = f"{'https' if cafile else 'http'}://127.0.0.1:{settings.metrics_port}"
    return DaemonAccess(None if url == "none" else url, cafile, auth)


def _tls(cafile: str) -> ssl.SSLContext:
    """Trust the daemon's own certificate; on loopback its name need not match."""
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False
    return ctx


def fetch_daemon(url: str | DaemonAccess | None, timeout_s: float = 3.0) -> DaemonView:
    """GET `url` + /debug/decision; any failure is a `DaemonView` with its `error`, never an exception."""
    access = url if isinstance(url, DaemonAccess) else DaemonAccess(url)
    if access.url is None:
        return DaemonView(None)
    request = urllib.request.Request(access.url.rstrip("/") + DEBUG_PATH)
    if access.auth is not None:
        token = base64.b64encode(":".join(access.auth).encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        ctx = _tls(access.cafile) if access.cafile and access.url.startswith("https:") else None
        with urllib.request.urlopen(request, timeout=timeout_s, context=ctx) as resp:
            document = json.loads(resp.read())
        return DaemonView(access.url, MappingProxyType(decode_states(document)))
    except (OSError, ValueError) as err:  # URLError/HTTPError/timeouts/TLS are OSError; bad JSON ValueError
        kind = "bad document" if isinstance(err, CodecError | json.JSONDecodeError) else type(err).__name__
        return DaemonView(access.url, error=f"{kind}: {err}")


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


def memory_fields(view: DaemonView | None, cluster_id: str) -> dict[str, object]:
    if view is None:
        view = DaemonView(None)
    why = view.why_unknown(cluster_id)
    state = view.state(cluster_id)
    if why is not None or state is None:
        return {"source": "none", "daemon": view.url, "why": why, "unknown": list(UNKNOWN_WITHOUT_DAEMON)}
    last = state.last_decision
    return {
        "source": "daemon",
        "daemon": view.url,
        "daemon_last_tick_at": None if last is None else _iso(last.taken_at),
        "daemon_last_tick_taken_at": None if last is None else last.taken_at,
        "daemon_last_plan": [] if last is None else [dict(r) for r in last.plan],
        "unknown": [],
    }


def explain_data(
    snapshot: ClusterSnapshot, decision: Decision, outcomes: Sequence[Outcome], view: DaemonView | None = None
) -> dict[str, object]:
    return {
        "cluster": snapshot.cluster_id,
        "stale_reasons": list(snapshot.stale_reasons) if snapshot.stale else [],
        "source_notes": source_notes(snapshot),
        "memory": memory_fields(view, snapshot.cluster_id),
        "inputs": inputs_fields(snapshot),
        "recommendations": [
            {"policy": r.policy, "pool": r.pool_id, "target": r.target_units, "reason": r.reason}
            for r in decision.recommendations
        ],
        "rejections": [rejection_fields(r) for r in decision.rejections],
        "plan": plan_fields(decision.plan),
        "would_do": [{"pool": o.pool_id, "status": o.status.value, "detail": o.detail} for o in outcomes],
        "interruptions": notice_fields(decision.notices),
    }


def _known(value: int | None) -> str:
    """YARN leaves some fields out (vcores on a memory-only RM): say "unknown", never "None" or 0."""
    return "unknown" if value is None else str(value)


def _memory_lines(view: DaemonView | None, cluster_id: str) -> list[str]:
    fields_ = memory_fields(view, cluster_id)
    if fields_["source"] == "daemon":
        at = fields_["daemon_last_tick_at"]
        return [f"  memory: the daemon's ({fields_['daemon']}), after its tick at {at}"]
    return [
        f"  memory: UNKNOWN: {fields_['why']}",
        "  so cooldowns, back-offs and scale-in confirmations are unknown: this is what a daemon that just",
        "  started would decide, not necessarily what the running daemon will do",
    ]


def explain_text(
    snapshot: ClusterSnapshot, decision: Decision, outcomes: Sequence[Outcome], view: DaemonView | None = None
) -> str:
    lines = [f"cluster {snapshot.cluster_id} ({snapshot.cluster_state})"]
    if snapshot.stale:
        lines.append("  STALE snapshot: no resize will be decided: " + "; ".join(snapshot.stale_reasons))
    lines += [f"  note: {note}" for note in source_notes(snapshot)]
    lines += _memory_lines(view, snapshot.cluster_id)
    y = snapshot.yarn
    if y is not None:
        lines.append(
            f"  yarn: pending {_known(y.pending_mb)} MB / {_known(y.pending_vcores)} vcores, "
            f"available {_known(y.available_mb)} MB / {_known(y.available_vcores)} vcores, "
            f"{_known(y.active_nodes)} active nodes, {_known(y.apps_pending)} apps pending"
        )
    for p in snapshot.pools:
        lines.append(
            f"  pool {p.pool_id} {p.role.value} {p.kind.value} {p.state.value}: "
            f"requested {p.requested.total}, running {p.running.total}"
        )
    lines.append("recommendations:" if decision.recommendations else "recommendations: none")
    lines += [f"  {r.policy} → {r.pool_id}: {r.target_units} units ({r.reason})" for r in decision.recommendations]
    lines.append("rejections:" if decision.rejections else "rejections: none")
    for rej in decision.rejections:
        where = " ".join(x for x in (rej.policy, rej.pool_id) if x)
        lines.append(f"  {rej.reason.value}{' [' + where + ']' if where else ''}: {rej.detail}")
    if decision.notices:
        lines.append("spot notices:")
    for n in decision.notices:
        lines.append(f"  {n.kind} {n.instance_id} [{n.pool_id or 'no pool'}] {n.status.value}: {n.detail}")
    lines.append("plan:" if decision.plan.resizes else "plan: no change")
    for r in decision.plan.resizes:
        lines.append(f"  {r.pool_id}: {r.current.total} → {r.target.total} units ({r.reason})")
    lines += [f"  {o.status.value}: {o.detail}" for o in outcomes]
    if view is None or view.state(snapshot.cluster_id) is None:
        lines.append("(explain sees one snapshot: policies that average over history see only this sample)")
    return "\n".join(lines) + "\n"
