"""The controller-state codec: what `explain` and a new leader read from another process round-trips
exactly, and anything else is refused with the field named."""

from __future__ import annotations

import dataclasses
import json
import re
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autoscaler.memory_codec import (
    CODEC_VERSION,
    CodecError,
    ControllerState,
    DecisionSummary,
    decode_state,
    decode_states,
    dumps,
    encode_state,
    encode_states,
    loads,
    summarize,
)
from autoscaler.model import (
    Capacity,
    ControllerMemory,
    Decision,
    MetricSample,
    Outcome,
    OutcomeStatus,
    Plan,
    PoolKind,
    PoolMemory,
    Rejection,
    RejectReason,
    Resize,
    YarnMetrics,
)
from autoscaler.testing import T0

_when = st.one_of(st.none(), st.floats(0, 2e9, allow_nan=False))
_count = st.integers(0, 1_000_000)
# every field of PoolMemory, by its type: a field added later is round-tripped without touching this test
_pool_memory = st.builds(
    PoolMemory,
    **{f.name: (st.integers(0, 10) if f.type == "int" else _when) for f in dataclasses.fields(PoolMemory)},
)
_yarn = st.builds(YarnMetrics, pending_mb=st.one_of(st.none(), _count), total_mb=st.one_of(st.none(), _count))
_memory = st.builds(
    ControllerMemory,
    pools=st.dictionaries(st.text(min_size=1, max_size=8), _pool_memory, max_size=3).map(MappingProxyType),
    samples=st.lists(st.builds(MetricSample, st.floats(0, 2e9), _yarn), max_size=3).map(tuple),
    booting=st.dictionaries(
        st.text(min_size=1, max_size=8), st.tuples(st.text(max_size=8), st.floats(0, 2e9)), max_size=3
    ).map(MappingProxyType),
    boot_s=st.dictionaries(
        st.text(min_size=1, max_size=8), st.lists(st.floats(0, 3600), max_size=4).map(tuple), max_size=3
    ).map(MappingProxyType),
)


@given(_memory)
def test_memory_round_trips_through_json(memory: ControllerMemory) -> None:
    state = loads(dumps(ControllerState("j-1", memory)))
    assert state.memory == memory
    assert state.cluster_id == "j-1"


def _decision() -> tuple[Decision, tuple[Outcome, ...]]:
    resize = Resize("ig-task", PoolKind.INSTANCE_GROUP, Capacity(spot=3), Capacity(spot=0), "idle")
    rejection = Rejection(RejectReason.COOLDOWN_DOWN, "wait 30s", "ig-core", "idle-capacity")
    decision = Decision("j-1", T0, (), (rejection,), Plan((resize,)), ControllerMemory())
    return decision, (Outcome("ig-task", OutcomeStatus.DRY_RUN, "would call ..."),)


def test_the_last_decision_summary_round_trips_and_reads_plainly() -> None:
    summary = summarize(*_decision())
    state = ControllerState("j-1", ControllerMemory().with_pool("ig-task", PoolMemory(down_confirmations=2)), summary)
    back = loads(dumps(state))
    assert back == state
    assert encode_state(state)["last_decision"] == {
        "taken_at": T0,
        "plan": [{"pool": "ig-task", "current": 3, "target": 0, "reason": "idle"}],
        "rejections": [{"reason": "cooldown_down", "pool": "ig-core", "policy": "idle-capacity", "detail": "wait 30s"}],
        "outcomes": [{"pool": "ig-task", "status": "dry_run", "detail": "would call ..."}],
    }


def test_the_debug_document_holds_every_cluster() -> None:
    states = [
        ControllerState("j-1", ControllerMemory()),
        ControllerState("j-2", ControllerMemory(), DecisionSummary(T0)),
    ]
    document = json.loads(json.dumps(encode_states(states)))
    assert document["version"] == CODEC_VERSION
    assert decode_states(document) == {s.cluster_id: s for s in states}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(version=99), "state.version: 99, this build reads version 1"),
        (lambda d: d.pop("version"), "state.version: None"),
        (lambda d: d.update(cluster=""), "state.cluster: expected a cluster id"),
        (lambda d: d["memory"]["pools"].update({"ig-1": {"down_confirmations": "2"}}), "pools.ig-1.down_confirmations"),
        (lambda d: d["memory"]["pools"].update({"ig-1": {"down_confirmations": 1.5}}), "expected an integer"),
        (lambda d: d["memory"]["pools"].update({"ig-1": {"backoff_until": True}}), "pools.ig-1.backoff_until"),
        (lambda d: d["memory"]["pools"].update({"ig-1": {"colour": 1}}), "pools.ig-1: unknown field(s) colour"),
        (lambda d: d["memory"].update(samples=[{"at": 1.0, "yarn": []}]), "memory.samples[0].yarn: expected an object"),
        (lambda d: d["memory"].update(samples=[{"yarn": {}}]), "memory.samples[0].at: expected a finite number"),
        (lambda d: d.update(last_decision={"plan": []}), "state.last_decision.taken_at"),
    ],
)
def test_a_malformed_document_is_refused_with_the_field_named(mutate: object, message: str) -> None:
    data = json.loads(dumps(ControllerState("j-1", ControllerMemory())))
    mutate(data)  # type: ignore[operator]
    with pytest.raises(CodecError, match=re.escape(message)):
        decode_state(data)


def test_text_that_is_not_json_is_a_codec_error() -> None:
    with pytest.raises(CodecError, match="not JSON"):
        loads("<html>500</html>")


def test_integral_times_decode_as_floats() -> None:
    data = encode_state(ControllerState("j-1", ControllerMemory()))
    data["memory"] = {"pools": {"ig-1": {"backoff_until": 1700000000}}}
    assert decode_state(data).memory.pool("ig-1").backoff_until == 1.7e9
    assert isinstance(decode_state(data).memory.pool("ig-1").backoff_until, float)
