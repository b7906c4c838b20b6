"""`configure_logging`: one JSON renderer for our events and every library's stdlib logging."""

from __future__ import annotations

import io
import json
import logging
import warnings

from autoscaler.logs import configure_logging


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_library_records_warnings_and_tracebacks_render_as_json_lines() -> None:
    stream = io.StringIO()
    log = configure_logging("json", stream)
    log.info("tick", cluster="j-1")
    logging.getLogger("urllib3.connectionpool").warning("Connection pool is full, discarding connection: %s", "h")
    logging.getLogger("botocore.credentials").info("Found credentials in environment variables.")  # below WARNING
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        logging.captureWarnings(True)
        warnings.warn_explicit("Unverified HTTPS request", UserWarning, "x.py", 1)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("apscheduler.executors.default").exception("Job raised an exception")
    events = _lines(stream)
    assert [e["event"] for e in events][:2] == ["tick", "Connection pool is full, discarding connection: h"]
    assert events[0]["level"] == "info"
    assert events[1]["logger"] == "urllib3.connectionpool"
    assert not any("Found credentials" in str(e["event"]) for e in events)
    assert any(e.get("logger") == "py.warnings" and "Unverified" in str(e["event"]) for e in events)
    (crash,) = [e for e in events if e["event"] == "Job raised an exception"]
    assert crash["level"] == "error"
    assert "RuntimeError: boom" in str(crash["exception"])


def test_reconfiguring_replaces_the_handler() -> None:
    """A second configure writes to the new stream only, never twice."""
    first, second = io.StringIO(), io.StringIO()
    configure_logging("json", first)
    configure_logging("json", second).warning("once")
    logging.getLogger("apscheduler.scheduler").warning("skipped: maximum number of running instances reached (1)")
    assert first.getvalue() == ""
    assert [e["event"] for e in _lines(second)] == ["once", "skipped: maximum number of running instances reached (1)"]
