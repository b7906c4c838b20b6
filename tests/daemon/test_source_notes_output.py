"""Source notes (said by a source that still succeeded) reach the tick log and `explain`."""

from __future__ import annotations

from autoscaler.cli import explain_data, explain_text
from autoscaler.engine import evaluate
from autoscaler.logs import tick_event
from autoscaler.model import ControllerMemory, SourceStatus
from autoscaler.testing import T0, Wants, make_cluster_config, make_snapshot

NOTE = "instance type x9.huge: unknown instance type; left out of the pool's options"


def test_notes_appear_in_tick_event_and_explain() -> None:
    """An EMR note is in the tick event, explain's JSON and explain's text, prefixed by its source."""
    snapshot = make_snapshot(sources=[SourceStatus("yarn", True, T0), SourceStatus("emr", True, T0, notes=(NOTE,))])
    decision = evaluate(snapshot, ControllerMemory(), [Wants(name="quiet")], make_cluster_config())
    assert not snapshot.stale, "a note is not a failure"
    assert tick_event(snapshot, decision, [], dry_run=True, seconds=0.1)["source_notes"] == [f"emr: {NOTE}"]
    assert explain_data(snapshot, decision, [])["source_notes"] == [f"emr: {NOTE}"]
    assert f"note: emr: {NOTE}" in explain_text(snapshot, decision, [])


def test_no_notes_no_noise() -> None:
    """Without notes the field is an empty list and explain prints no note line."""
    snapshot = make_snapshot()
    decision = evaluate(snapshot, ControllerMemory(), [Wants(name="quiet")], make_cluster_config())
    assert tick_event(snapshot, None, [], dry_run=True, seconds=0.0)["source_notes"] == []
    assert "note:" not in explain_text(snapshot, decision, [])
