"""structlog setup and the one `tick` event per cluster per tick.

One event carries everything needed to answer "why did (or didn't) it scale?": the inputs summary,
every recommendation, every rejection with its reason, the plan and the outcomes. JSON lines when
stderr is not a TTY (containers, files) or `log_format: json`; a readable console on a TTY.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any, Protocol, TextIO

import structlog

from autoscaler.model import ClusterSnapshot, Decision, NoticeNote, Outcome, Plan, Rejection, Resize


class EventLogger(Protocol):
    """The slice of a structlog logger the daemon uses (a test can pass a list-backed fake)."""

    def info(self, event: str, **kw: Any) -> Any: ...

    def warning(self, event: str, **kw: Any) -> Any: ...

    def error(self, event: str, **kw: Any) -> Any: ...


_HANDLER_MARK = "_emr_autoscaler_handler"


def configure_logging(log_format: str = "auto", stream: TextIO | None = None) -> EventLogger:
    """Configure structlog and the stdlib root logger once for the process; return the daemon's logger.

    Every line goes through one stdlib handler and structlog's renderer: our events and every
    library's stdlib logging (APScheduler, botocore, urllib3, `warnings`) alike, so a JSON log is
    JSON on every line (`jq` never stops at a library's plain-text line). Calling it again replaces
    the handler it installed (tests configure a fresh stream each time).
    """
    stream = stream or sys.stderr
    json_lines = log_format == "json" or (log_format == "auto" and not stream.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False) if json_lines else structlog.dev.ConsoleRenderer()
    )
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            timestamper,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            # records from other libraries: level, logger name and time like ours, %-args applied
            foreign_pre_chain=[structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name, timestamper],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)  # libraries: warnings and errors only, as before
    logging.getLogger("emr_autoscaler").setLevel(logging.INFO)
    logging.captureWarnings(True)  # warnings.warn (e.g. urllib3's InsecureRequestWarning) as log records
    # APScheduler logs every job run at INFO; our tick event already says it
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logger: EventLogger = structlog.get_logger("emr_autoscaler")
    return logger


def resize_fields(r: Resize) -> dict[str, Any]:
    out: dict[str, Any] = {
        "pool": r.pool_id,
        "kind": r.kind.value,
        "current": {"on_demand": r.current.on_demand, "spot": r.current.spot},
        "target": {"on_demand": r.target.on_demand, "spot": r.target.spot},
        "reason": r.reason,
    }
    if r.instances_to_terminate:
        out["terminate"] = list(r.instances_to_terminate)
    if r.instances_to_protect:
        out["protect"] = list(r.instances_to_protect)
    return out


def rejection_fields(r: Rejection) -> dict[str, Any]:
    out: dict[str, Any] = {"reason": r.reason.value, "detail": r.detail}
    for key, value in (
        ("pool", r.pool_id),
        ("policy", r.policy),
        ("wanted", r.wanted_units),
        ("allowed", r.allowed_units),
    ):
        if value is not None:
            out[key] = value
    return out


def plan_fields(plan: Plan) -> list[dict[str, Any]]:
    return [resize_fields(r) for r in plan.resizes]


def notice_fields(notes: Iterable[NoticeNote]) -> list[dict[str, Any]]:
    """Spot notices and what became of them (`autoscaler.replacement`); `usd_per_hour` is what the
    capacity bought costs (negative: what a give-back saves), absent when a price is unknown."""
    out = []
    for n in notes:
        row: dict[str, Any] = {"instance": n.instance_id, "kind": n.kind, "status": n.status.value, "detail": n.detail}
        for key, value in (("pool", n.pool_id), ("to_pool", n.to_pool), ("units", n.units)):
            if value is not None:
                row[key] = value
        if n.usd_per_hour is not None:
            row["usd_per_hour"] = round(n.usd_per_hour, 6)
        out.append(row)
    return out


def inputs_fields(snapshot: ClusterSnapshot) -> dict[str, Any]:
    y = snapshot.yarn
    yarn = (
        None
        if y is None
        else {
            "pending_mb": y.pending_mb,
            "pending_vcores": y.pending_vcores,
            "available_mb": y.available_mb,
            "available_vcores": y.available_vcores,
            "apps_pending": y.apps_pending,
            "active_nodes": y.active_nodes,
        }
    )
    pools = [
        {
            "pool": p.pool_id,
            "role": p.role.value,
            "state": p.state.value,
            "requested": p.requested.total,
            "running": p.running.total,
        }
        for p in snapshot.pools
    ]
    return {"cluster_state": snapshot.cluster_state, "yarn": yarn, "pools": pools, "nodes": len(snapshot.nodes)}


def source_notes(snapshot: ClusterSnapshot) -> list[str]:
    """What sources noted without failing (e.g. a call the endpoint does not implement), "source: note"."""
    return [f"{s.name}: {note}" for s in snapshot.sources for note in s.notes]


def tick_event(
    snapshot: ClusterSnapshot,
    decision: Decision | None,
    outcomes: Iterable[Outcome],
    *,
    dry_run: bool,
    seconds: float,
    error: str | None = None,
) -> dict[str, Any]:
    """The fields of the one `tick` event; `decision` is None when the tick failed before deciding."""
    fields: dict[str, Any] = {
        "cluster": snapshot.cluster_id,
        "taken_at": snapshot.taken_at,
        "dry_run": dry_run,
        "stale": snapshot.stale,
        "stale_reasons": list(snapshot.stale_reasons) if snapshot.stale else [],
        "source_notes": source_notes(snapshot),
        "inputs": inputs_fields(snapshot),
        "recommendations": [],
        "rejections": [],
        "plan": [],
        "outcomes": [
            {"pool": o.pool_id, "status": o.status.value, "detail": o.detail}
            | ({"error_code": o.error_code} if o.error_code else {})
            for o in outcomes
        ],
        "duration_s": round(seconds, 4),
    }
    if decision is not None:
        fields["recommendations"] = [
            {"policy": r.policy, "pool": r.pool_id, "target": r.target_units, "reason": r.reason}
            for r in decision.recommendations
        ]
        fields["rejections"] = [rejection_fields(r) for r in decision.rejections]
        fields["plan"] = plan_fields(decision.plan)
        if decision.notices:
            fields["interruptions"] = notice_fields(decision.notices)
    if error is not None:
        fields["error"] = error
    return fields
