"""YARN parsing on bad input: node counters that are missing, -1 or absurd are unknown (never 0),
and no input whatever raises anything but a located `SourceError` (hypothesis)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoscaler.model import NodeState, Resources
from autoscaler.sources import SourceError
from autoscaler.sources.yarn_parse import parse_apps, parse_ha_state, parse_metrics, parse_nodes

LONG_MAX_AS_JSON = 9223372036854776000
BASE = {
    "nodeHostName": "h.internal",
    "state": "RUNNING",
    "numContainers": 0,
    "usedMemoryMB": 0,
    "usedVirtualCores": 0,
    "availMemoryMB": 12288,
    "availableVirtualCores": 4,
}
MISSING = object()


def node(**fields: Any) -> dict[str, Any]:
    out = dict(BASE)
    for key, value in fields.items():
        if value is MISSING:
            out.pop(key)
        else:
            out[key] = value
    return out


def parse_one(raw: dict[str, Any]) -> Any:
    (parsed,) = parse_nodes({"nodes": {"node": [raw]}})
    return parsed


@pytest.mark.parametrize("bad", [-1, -7, MISSING, None, LONG_MAX_AS_JSON])
@pytest.mark.parametrize("key", ["numContainers", "usedMemoryMB", "usedVirtualCores"])
def test_unknown_usage_counter_is_unknown_not_idle(key: str, bad: Any) -> None:
    """The issue's case: RUNNING with numContainers/usedMemoryMB -1 or missing was read as 0 (idle)."""
    parsed = parse_one(node(**{key: bad}))
    assert parsed.state is NodeState.RUNNING
    assert not parsed.usage_known
    assert not parsed.is_idle
    if key == "numContainers":
        assert parsed.num_containers is None
    else:
        assert parsed.used is None
        assert parsed.capacity is None


@pytest.mark.parametrize("bad", [-1, MISSING, LONG_MAX_AS_JSON])
def test_unknown_available_memory_is_unknown_free_space(bad: Any) -> None:
    parsed = parse_one(node(availMemoryMB=bad))
    assert parsed.available is None
    assert parsed.is_idle  # usage is known: it can still be idle, only its free space is unknown


def test_overcommitted_vcores_are_none_free() -> None:
    """Memory-only scheduling over-commits vcores: a negative availableVirtualCores is 0 free, known."""
    parsed = parse_one(node(availableVirtualCores=-3, usedVirtualCores=7))
    assert parsed.available == Resources(12288, 0)
    assert parse_one(node(availableVirtualCores=MISSING)).available is None


def test_known_idle_node_is_idle() -> None:
    parsed = parse_one(node())
    assert parsed.is_idle
    assert parsed.usage_known
    assert parsed.capacity == Resources(12288, 4)


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"numContainers": "3"}, "nodes.node[0].numContainers: expected an integer"),
        ({"usedMemoryMB": 1.5}, "nodes.node[0].usedMemoryMB: expected an integer"),
        ({"usedMemoryMB": math.nan}, "nodes.node[0].usedMemoryMB: expected an integer"),
        ({"availMemoryMB": math.inf}, "nodes.node[0].availMemoryMB: expected an integer"),
        ({"availableVirtualCores": True}, "nodes.node[0].availableVirtualCores: expected an integer"),
        ({"state": 3}, "nodes.node[0].state: expected a string"),
        ({"nodeHostName": MISSING}, "nodes.node[0].nodeHostName: missing"),
    ],
)
def test_wrong_types_are_located_errors(fields: dict[str, Any], where: str) -> None:
    with pytest.raises(SourceError) as err:
        parse_one(node(**fields))
    assert str(err.value).startswith("yarn /ws/v1/cluster/nodes: ")
    assert where in str(err.value)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
NODE_VALUES = st.one_of(JSON, st.sampled_from([-1, -2, 0, 1, LONG_MAX_AS_JSON, "RUNNING", "LOST"]))
FUZZED_NODE = st.fixed_dictionaries(
    {},
    optional=dict.fromkeys((*BASE, "lastHealthUpdate"), NODE_VALUES),
).map(lambda d: {**{"nodeHostName": "h", "state": "RUNNING"}, **d})
PARSERS = {
    "/ws/v1/cluster/metrics": parse_metrics,
    "/ws/v1/cluster/nodes": parse_nodes,
    "/ws/v1/cluster/apps": parse_apps,
    "/ws/v1/cluster/info": parse_ha_state,
}


def _located(err: SourceError, endpoint: str) -> None:
    assert str(err).startswith(f"yarn {endpoint}: "), str(err)


@settings(max_examples=150, deadline=None)
@given(st.lists(FUZZED_NODE, max_size=4))
def test_fuzzed_nodes_parse_or_fail_located_and_unknown_is_never_idle(raws: list[dict[str, Any]]) -> None:
    """Any node fields: a located SourceError or nodes whose idleness rests only on reported counters."""
    try:
        nodes = parse_nodes({"nodes": {"node": raws}})
    except SourceError as err:
        _located(err, "/ws/v1/cluster/nodes")
        return
    for raw, parsed in zip(raws, nodes, strict=True):
        if parsed.is_idle:
            assert raw["numContainers"] == 0
            assert isinstance(raw["usedMemoryMB"], int | float)
            assert 0 <= raw["usedMemoryMB"] < LONG_MAX_AS_JSON


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(sorted(PARSERS)), JSON)
def test_any_document_parses_or_fails_located(endpoint: str, doc: Any) -> None:
    """Whatever JSON an endpoint answers, the parser returns or raises a SourceError naming it."""
    try:
        PARSERS[endpoint](doc)
    except SourceError as err:
        _located(err, endpoint)


WRAPPED = st.sampled_from(sorted(PARSERS)).flatmap(
    lambda ep: st.tuples(
        st.just(ep),
        {
            "/ws/v1/cluster/metrics": st.builds(lambda m: {"clusterMetrics": m}, st.dictionaries(st.text(), JSON)),
            "/ws/v1/cluster/nodes": st.builds(lambda n: {"nodes": {"node": n}}, JSON),
            "/ws/v1/cluster/apps": st.builds(lambda a: {"apps": {"app": a}}, JSON),
            "/ws/v1/cluster/info": st.builds(lambda i: {"clusterInfo": i}, JSON),
        }[ep],
    )
)


@settings(max_examples=150, deadline=None)
@given(WRAPPED)
def test_well_wrapped_garbage_parses_or_fails_located(case: tuple[str, Any]) -> None:
    """Right envelope, garbage inside: still only located SourceErrors."""
    endpoint, doc = case
    try:
        PARSERS[endpoint](doc)
    except SourceError as err:
        _located(err, endpoint)


FUZZED_ASK = st.fixed_dictionaries(
    {"resourceName": st.sampled_from(["*", "rack", None])},
    optional={
        "numContainers": NODE_VALUES,
        "capability": st.one_of(
            JSON, st.fixed_dictionaries({}, optional=dict.fromkeys(("memory", "memorySize", "vCores"), NODE_VALUES))
        ),
    },
)
FUZZED_APP = st.fixed_dictionaries(
    {"id": st.one_of(st.just("application_1_0001"), JSON)},
    optional={
        "state": NODE_VALUES,
        "queue": NODE_VALUES,
        "amHostHttpAddress": st.one_of(st.text(max_size=12), JSON),
        "startedTime": NODE_VALUES,
        "resourceRequests": st.one_of(JSON, st.lists(FUZZED_ASK, max_size=3)),
    },
)
FUZZED_METRICS = st.fixed_dictionaries(
    {"crossPartitionMetricsAvailable": st.booleans()},
    optional={
        k: st.one_of(NODE_VALUES, st.fixed_dictionaries({}, optional={"memory": NODE_VALUES, "vCores": NODE_VALUES}))
        for k in (
            "totalMB",
            "availableMB",
            "containersPending",
            "totalClusterResourcesAcrossPartition",
            "totalUsedResourcesAcrossPartition",
            "totalReservedResourcesAcrossPartition",
            "totalAllocatedContainersAcrossPartition",
        )
    },
)


@settings(max_examples=120, deadline=None)
@given(st.lists(FUZZED_APP, max_size=3), FUZZED_METRICS)
def test_fuzzed_apps_and_metrics_parse_or_fail_located(apps: list[dict[str, Any]], metrics: dict[str, Any]) -> None:
    """Field-level garbage in apps (asks, capabilities) and partitioned metrics: located errors only;
    a parsed ask never carries a negative or unknown count as demand."""
    try:
        for app in parse_apps({"apps": {"app": apps}}):
            assert all(req.count > 0 for req in app.pending)
    except SourceError as err:
        _located(err, "/ws/v1/cluster/apps")
    try:
        parsed = parse_metrics({"clusterMetrics": metrics})
    except SourceError as err:
        _located(err, "/ws/v1/cluster/metrics")
    else:
        assert parsed.total_mb is None or parsed.total_mb >= 0
