"""The CapacityScheduler's AM limits: `/ws/v1/cluster/scheduler` parsed tolerantly (unknown, never 0),
read by the YarnClient from a real local HTTP server, and served by the emulator's RM."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from autoscaler.config import YarnConfig
from autoscaler.emulator.yarn_api import route
from autoscaler.model import QueueAmLimit
from autoscaler.sources import SourceError
from autoscaler.sources.yarn import YarnClient, parse_scheduler
from autoscaler.testing import make_snapshot

from .rm_server import fake_rm
from .test_yarn_client import _serve_active


def _leaf(name: str, pct: float | None = 10.0, limit: int | None = 12288, used: int | None = 6144) -> dict[str, Any]:
    """A Hadoop 3 CapacitySchedulerLeafQueueInfo with the fields the AM share reads."""
    q: dict[str, Any] = {"type": "capacitySchedulerLeafQueueInfo", "queueName": name, "numPendingApplications": 3}
    if pct is not None:
        q["capacities"] = {"queueCapacitiesByPartition": [{"partitionName": "", "maxAMLimitPercentage": pct}]}
    if limit is not None:
        q["AMResourceLimit"] = {"memory": limit, "vCores": 1}
    if used is not None:
        q["usedAMResource"] = {"memory": used, "vCores": 1}
    return q


def _doc(*queues: dict[str, Any]) -> dict[str, Any]:
    return {
        "scheduler": {
            "schedulerInfo": {"type": "capacityScheduler", "queueName": "root", "queues": {"queue": list(queues)}}
        }
    }


def test_leaf_queues_are_read_through_parent_queues() -> None:
    parent = {"queueName": "batch", "queues": {"queue": [_leaf("etl", 20.0, 4096, 0), _leaf("adhoc")]}}
    got = parse_scheduler(_doc(_leaf("default"), parent))
    assert got == (
        QueueAmLimit("default", 0.1, 12288, 6144),
        QueueAmLimit("etl", 0.2, 4096, 0),
        QueueAmLimit("adhoc", 0.1, 12288, 6144),
    )


@pytest.mark.parametrize(
    ("leaf", "expected"),
    [
        (_leaf("q", None, None, None), QueueAmLimit("q")),  # an older RM: nothing reported is unknown
        (_leaf("q", 150.0, -1, -1), QueueAmLimit("q")),  # absurd share, YARN's -1: unknown, never 0
        (_leaf("q", 0.0, 0, 0), QueueAmLimit("q", None, None, 0)),  # a 0% share or limit is no limit known
        ({**_leaf("q", None), "configuredMaxAMResourceLimit": 0.25}, QueueAmLimit("q", 0.25, 12288, 6144)),
        ({**_leaf("q"), "usedAMResource": {"memorySize": 8192, "vCores": 1}}, QueueAmLimit("q", 0.1, 12288, 8192)),
    ],
)
def test_missing_or_absurd_fields_are_unknown(leaf: dict[str, Any], expected: QueueAmLimit) -> None:
    assert parse_scheduler(_doc(leaf)) == (expected,)


def test_another_scheduler_reports_no_am_limits() -> None:
    assert parse_scheduler({"scheduler": {"schedulerInfo": {"type": "fairScheduler"}}}) == ()


def test_a_malformed_answer_is_a_source_error_naming_the_field() -> None:
    with pytest.raises(SourceError, match=r"scheduler\.schedulerInfo"):
        parse_scheduler({"scheduler": {"schedulerInfo": []}})


def test_the_client_reads_the_am_limits_and_a_failing_endpoint_leaves_them_unknown() -> None:
    with fake_rm() as rm:
        _serve_active(rm)
        rm.answer("/ws/v1/cluster/scheduler", _doc(_leaf("default")))
        state = YarnClient(YarnConfig(urls=[rm.url])).fetch()
        assert state.am_limits == (QueueAmLimit("default", 0.1, 12288, 6144),)
        assert state.notes == ()
        rm.answer("/ws/v1/cluster/scheduler", {"scheduler": "nope"})
        broken = YarnClient(YarnConfig(urls=[rm.url])).fetch()
    assert broken.am_limits == ()  # unknown, not a stale snapshot: metrics, nodes and apps still read
    assert broken.metrics.total_mb is not None
    assert "AM limits unknown" in broken.notes[0]


def test_the_emulator_serves_the_snapshot_s_am_limits() -> None:
    limits = (QueueAmLimit("default", 0.1, 2457, 6144), QueueAmLimit("etl", None, None, 0))
    snap = make_snapshot()
    served = route("/ws/v1/cluster/scheduler", replace(snap, am_limits=limits), 0.0)
    assert parse_scheduler(served) == limits
    assert parse_scheduler(route("/ws/v1/cluster/scheduler", snap, 0.0)) == (QueueAmLimit("default"),)
