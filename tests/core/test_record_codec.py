"""The recorded-tick codec: a snapshot and its decision round-trip exactly (so a replay decides on what
the daemon saw), lines are compact, and anything else is refused with the field named."""

from __future__ import annotations

import json
import math
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoscaler.model import (
    AppInfo,
    Capacity,
    ClusterSnapshot,
    InterruptionNotice,
    Market,
    NodeInfo,
    NodeState,
    Outcome,
    OutcomeStatus,
    PendingRequest,
    Plan,
    PoolKind,
    PriceQuote,
    Recommendation,
    Rejection,
    RejectReason,
    Resize,
    Resources,
    SourceStatus,
    YarnMetrics,
)
from autoscaler.record_codec import RECORD_VERSION, RecordError, TickRecord, decode_record, dumps, loads
from autoscaler.testing import T0, make_instance, make_node, make_pool, make_snapshot
from autoscaler.testing_yarn import make_app


def _rich() -> TickRecord:
    """Every kind of value a snapshot holds: enums, None for unknown, nested tuples, a mapping, a fleet."""
    snapshot = make_snapshot(
        pools=(
            make_pool("ig-core", market=Market.ON_DEMAND, requested=2),
            make_pool("if-task", kind=PoolKind.INSTANCE_FLEET, requested=Capacity(1, 4), running=Capacity(1, 2)),
        ),
        nodes=(
            make_node("a", "ig-core", containers=3, hosts_am=True),
            NodeInfo("b", NodeState.UNHEALTHY, num_containers=None, used=None, available=None),
        ),
        apps=(make_app("app_1", pending=4, am_host="a", submitted_at=T0 - 60), make_app("app_2", state="ACCEPTED")),
        instances=(make_instance("i-1", "if-task", launched_at=None),),
        prices=(PriceQuote("m5.xlarge", Market.SPOT, 0.07, 0.048, interruption_band=1, observed_at=T0),),
        interruptions=(InterruptionNotice("i-1", "terminate", T0, T0 + 120),),
        sources=(
            SourceStatus("yarn", True, T0 + 0.5, notes=("rm2 standby",)),
            SourceStatus("cw", False, T0, "x", False),
        ),
        cloudwatch={"HDFSUtilization": 12.5, "Odd": math.inf},
    )
    current, target = Capacity(1, 4), Capacity(1, 6)
    return TickRecord(
        at=T0,
        snapshot=snapshot,
        recommendations=(Recommendation("pending-demand", "if-task", 7, "4 asks", market=Market.SPOT),),
        rejections=(Rejection(RejectReason.STEP_LIMIT, "max 2", "if-task", "pending-demand", 7, 6),),
        plan=Plan((Resize("if-task", PoolKind.INSTANCE_FLEET, current, target, "asks", ("i-9",)),)),
        outcomes=(Outcome("if-task", OutcomeStatus.DRY_RUN, "dry run"),),
    )


def test_a_rich_record_round_trips_exactly() -> None:
    record = _rich()
    line = dumps(record)
    assert "\n" not in line
    assert ": " not in line  # compact separators
    back = loads(line)
    assert back.snapshot.cloudwatch["Odd"] == math.inf
    assert back == record
    assert back.snapshot.pending_requests() == record.snapshot.pending_requests()


def test_defaults_are_left_out() -> None:
    """A node's default market or a request's default queue is not written: lines stay small."""
    doc = json.loads(dumps(TickRecord(T0, ClusterSnapshot("j-X", T0, "WAITING", YarnMetrics(pending_mb=5)))))
    assert doc == {
        "v": RECORD_VERSION,
        "at": T0,
        "snapshot": {"cluster_id": "j-X", "taken_at": T0, "cluster_state": "WAITING", "yarn": {"pending_mb": 5}},
    }


_res = st.builds(Resources, st.integers(0, 10**6), st.integers(0, 64))
_apps = st.builds(
    AppInfo,
    app_id=st.text(max_size=12),
    state=st.sampled_from(["ACCEPTED", "RUNNING"]),
    queue=st.text(max_size=5),
    am_host=st.one_of(st.none(), st.text(max_size=8)),
    pending=st.lists(st.builds(PendingRequest, _res, st.integers(0, 500)), max_size=3).map(tuple),
    submitted_at=st.one_of(st.none(), st.floats(0, 2e9)),
)


@settings(max_examples=60, deadline=None)
@given(
    apps=st.lists(_apps, max_size=4).map(tuple),
    yarn=st.one_of(st.none(), st.builds(YarnMetrics, pending_mb=st.one_of(st.none(), st.integers(0, 10**7)))),
    taken_at=st.floats(0, 2e9),
    cloudwatch=st.dictionaries(st.text(max_size=6), st.floats(allow_nan=False), max_size=3),
)
def test_any_snapshot_round_trips(
    apps: tuple[AppInfo, ...], yarn: YarnMetrics | None, taken_at: float, cloudwatch: dict[str, float]
) -> None:
    snapshot = make_snapshot(apps=apps, yarn=yarn, taken_at=taken_at, cloudwatch=cloudwatch)
    assert loads(dumps(TickRecord(taken_at, snapshot))) == TickRecord(taken_at, snapshot)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(v=2), "record.v: 2, this build reads version 1"),
        (lambda d: d.pop("v"), "record.v: None"),
        (lambda d: d["snapshot"].update(nodes="x"), "record.snapshot.nodes: expected a list, got str"),
        (lambda d: d["snapshot"]["pools"][0].update(role="BOSS"), "record.snapshot.pools[0].role: 'BOSS' is not"),
        (lambda d: d["snapshot"]["pools"][0].update(colour=1), "record.snapshot.pools[0]: unknown field(s) colour"),
        (lambda d: d["snapshot"].pop("taken_at"), "record.snapshot: "),
        (lambda d: d["snapshot"]["yarn"].update(pending_mb=True), "record.snapshot.yarn.pending_mb: expected int"),
        (lambda d: d.update(at="soon"), "record.at: expected float, got str"),
    ],
)
def test_anything_else_is_refused_with_the_field_named(mutate: object, message: str) -> None:
    doc = json.loads(dumps(_rich()))
    mutate(doc)  # type: ignore[operator]
    with pytest.raises(RecordError) as err:
        decode_record(doc)
    assert message in str(err.value)


def test_not_json_is_a_record_error() -> None:
    with pytest.raises(RecordError, match="not JSON"):
        loads('{"v":1,"at":')
    assert loads(dumps(_rich())).snapshot.cloudwatch == MappingProxyType({"HDFSUtilization": 12.5, "Odd": math.inf})
