"""One Spark application's `SparkListener*` events, gathered into what the trace needs. Pure: no I/O.

Kept per app: id, start and end (`SparkListenerApplicationStart/End`), Spark properties
(`SparkListenerEnvironmentUpdate`), resource profiles (`SparkListenerResourceProfileAdded`, Spark 3.1+),
jobs (`SparkListenerJobStart/End`: submission time, stage ids, result), stage attempts
(`SparkListenerStageSubmitted/Completed`: submission time, resource profile) and every task attempt's
launch and finish time (`SparkListenerTaskEnd`; `TaskStart` adds nothing a finished task lacks).
Other events (executors, block managers, SQL, metrics) are read and ignored. An event whose fields
are missing or of the wrong type is a bad record, counted by reason with its file:line. A line that
names an unused event first (as Spark writes every event) is not parsed at all (`used`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

Where = str  # "file:line"


@dataclass
class SparkJob:
    id: int
    submit_ms: int
    stage_ids: tuple[int, ...]
    where: Where
    end_ms: int | None = None
    result: str = ""


@dataclass
class StageAttempt:
    stage_id: int
    attempt: int
    submit_ms: int | None = None
    profile: int = 0
    tasks: list[tuple[int, int]] = field(default_factory=list)  # (launch ms, finish ms) per task attempt


@dataclass
class AppEvents:
    """What one application's log says; `bad` maps a reason to (count, first file:line)."""

    app_id: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    where: Where = ""
    props: dict[str, str] = field(default_factory=dict)
    profiles: dict[int, dict[str, float]] = field(default_factory=dict)
    jobs: dict[int, SparkJob] = field(default_factory=dict)
    stages: dict[tuple[int, int], StageAttempt] = field(default_factory=dict)
    stage_job: dict[int, int] = field(default_factory=dict)  # stage id → the job that last listed it
    bad: dict[str, tuple[int, Where]] = field(default_factory=dict)

    def flag(self, why: str, where: Where) -> None:
        n, first = self.bad.get(why, (0, where))
        self.bad[why] = (n + 1, first)

    def add(self, event: Any, where: Where) -> None:
        """Fold one decoded JSON line into the app; a line it cannot use is flagged, never raised."""
        if not isinstance(event, dict) or not isinstance(event.get("Event"), str):
            self.flag('not a SparkListener event (no "Event" name)', where)
            return
        handler = _HANDLERS.get(event["Event"])
        if handler is None:
            return
        try:
            handler(self, event, where)
        except (KeyError, TypeError, ValueError) as err:
            self.flag(f"{event['Event']}: missing or malformed field {_field(err)}", where)

    def stage(self, stage_id: int, attempt: int) -> StageAttempt:
        return self.stages.setdefault((stage_id, attempt), StageAttempt(stage_id, attempt))


def _field(err: Exception) -> str:
    return str(err) if isinstance(err, KeyError) else f"({err})"


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} is not a number")
    return int(value)


def _ms(value: Any, name: str) -> int:
    ms = _int(value, name)
    if ms <= 0:
        raise ValueError(f"{name} is not a time")
    return ms


def _app_start(app: AppEvents, e: dict[str, Any], where: Where) -> None:
    app.start_ms = _ms(e["Timestamp"], "Timestamp")
    app_id, attempt = e.get("App ID"), e.get("App Attempt ID")
    if isinstance(app_id, str) and app_id:
        # each YARN attempt of a cluster-mode app has its own log and used the cluster on its own
        app.app_id = f"{app_id}_{attempt}" if isinstance(attempt, str) and attempt else app_id
    app.where = app.where or where


def _app_end(app: AppEvents, e: dict[str, Any], where: Where) -> None:
    app.end_ms = _ms(e["Timestamp"], "Timestamp")


def _environment(app: AppEvents, e: dict[str, Any], where: Where) -> None:
    props = e["Spark Properties"]
    if isinstance(props, list):  # Spark 1.x wrote [[key, value], ...]
        props = dict(props)
    if not isinstance(props, dict):
        raise TypeError("Spark Properties is not an object")
    app.props.update({str(k): str(v) for k, v in props.items()})


def _profile(app: AppEvents, e: dict[str, Any], where: Where) -> None:
    asks: dict[str, float] = {}
    for group in ("Executor Resource Requests", "Task Resource Requests"):
        for name, req in (e.get(group) or {}).items():
            amount = req.get("Amount") if isinstance(req, dict) else None
            if isinstance(amount, int | float) and not isinstance(amount, bool) and amount > 0:
                asks[("task." if group.startswith("Task") else "") + name] = float(amount)
    app.profiles[_int(e["Resource Profile Id"], "Resource Profile Id")] = asks


def _job_start(app: AppEvents, e: dict[str, Any], where: Where) -> None:
    job_id = _int(e["Job ID"], "Job ID")
    stage_ids = tuple(_int(s, "Stage IDs") for s in e["Stage IDs"])
    app.jobs[job_id] = SparkJob(job_id, _ms(e["Submission Time"], "Submission Time"), stage_ids, where)
    for s in stage_ids:
        app.stage_job[s] = job_id


def _job_end(app: AppEvents, e: dict[str, Any], where: Where) -> None:
    job = app.jobs.get(_int(e["Job ID"], "Job ID"))
    if job is None:
        app.flag("SparkListenerJobEnd of a job that never started in the log", where)
        return
    job.end_ms = _ms(e["Completion Time"], "Completion Time")
    result = e.get("Job Result")
    job.result = str(result.get("Result", "")) if isinstance(result, dict) else ""


def _stage_info(app: AppEvents, e: dict[str, Any], where: Where) -> None:
    info = e["Stage Info"]
    stage = app.stage(_int(info["Stage ID"], "Stage ID"), _int(info["Stage Attempt ID"], "Stage Attempt ID"))
    if isinstance(info.get("Submission Time"), int | float):
        stage.submit_ms = _ms(info["Submission Time"], "Submission Time")
    if isinstance(info.get("Resource Profile Id"), int):
        stage.profile = info["Resource Profile Id"]


def _task_end(app: AppEvents, e: dict[str, Any], where: Where) -> None:
    info = e["Task Info"]
    launch = _ms(info["Launch Time"], "Launch Time")
    finish = _ms(info["Finish Time"], "Finish Time")
    if finish < launch:
        raise ValueError("Finish Time before Launch Time")
    stage = app.stage(_int(e["Stage ID"], "Stage ID"), _int(e["Stage Attempt ID"], "Stage Attempt ID"))
    stage.tasks.append((launch, finish))


def used(line: bytes) -> bool:
    """False for a line whose leading `"Event"` names an event the trace does not use (SQL plans,
    executor metrics: often most of a log's bytes), so it is never parsed; True when unsure."""
    m = _NAME.match(line)
    return m is None or m.group(1).decode("utf-8", "replace") in _HANDLERS


_NAME = re.compile(rb'\s*\{\s*"Event"\s*:\s*"([^"]+)"')

_HANDLERS = {
    "SparkListenerApplicationStart": _app_start,
    "SparkListenerApplicationEnd": _app_end,
    "SparkListenerEnvironmentUpdate": _environment,
    "SparkListenerResourceProfileAdded": _profile,
    "SparkListenerJobStart": _job_start,
    "SparkListenerJobEnd": _job_end,
    "SparkListenerStageSubmitted": _stage_info,
    "SparkListenerStageCompleted": _stage_info,
    "SparkListenerTaskEnd": _task_end,
}
