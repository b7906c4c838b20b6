"""Whatever an RM answers on one of its endpoints (any status, any content type, any bytes: JSON of any
shape, cut JSON, HTML, nothing), the daemon's real YARN client over real HTTP returns the cluster
or raises a `SourceError` that names the endpoint it failed on; never another exception (hypothesis).

The answers come through the fault proxy in front of a healthy fake RM, one endpoint at a time, so
the other three answer normally and the failure must be pinned on the right one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autoscaler.config import YarnConfig
from autoscaler.sources import SourceError
from autoscaler.sources.yarn import YarnClient
from autoscaler.sources.yarn_parse import APPS, INFO, METRICS, NODES, SCHEDULER
from autoscaler.testing import FakeYarn, make_app, make_node

from .proxy import Answer, Drip, FaultProxy

ENDPOINTS = (INFO, METRICS, NODES, APPS)

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**64), 2**64), st.floats(), st.text(max_size=8)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    *("clusterInfo", "haState", "clusterMetrics", "nodes", "node", "apps", "app", "x"),
                    *("scheduler", "schedulerInfo", "type", "queues", "queue", "usedAMResource", "memory"),
                ]
            ),
            inner,
            max_size=3,
        ),
    ),
    max_leaves=12,
)
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps(v).encode()[: max(len(json.dumps(v)) // 2, 1)]),  # cut short
    st.binary(max_size=64),
    st.just(b"<html><body>Bad Gateway</body></html>"),
)
answers = st.tuples(
    st.sampled_from(ENDPOINTS),
    st.sampled_from([200, 200, 200, 204, 301, 404, 500, 503]),
    st.sampled_from(["application/json", "text/html", "application/octet-stream"]),
    bodies,
)


@pytest.fixture(scope="module")
def rm() -> Iterator[FaultProxy]:
    nodes = [make_node("ip-10-0-0-1.ec2.internal", containers=2), make_node("ip-10-0-0-2.ec2.internal")]
    with FakeYarn(nodes, [make_app("application_1_0001", pending=3)]) as yarn:
        proxy = FaultProxy(int(yarn.url.rsplit(":", 1)[1]))
        yield proxy
        proxy.close()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answer=answers)
def test_any_answer_on_any_endpoint_gives_the_cluster_or_a_located_error(
    rm: FaultProxy, answer: tuple[str, int, str, bytes]
) -> None:
    endpoint, status, content_type, body = answer
    fault = Answer(status, body, content_type)
    rm.rule = lambda e: fault if e.target.split("?")[0] == endpoint else None
    client = YarnClient(YarnConfig(urls=[rm.url], timeout_s=2))
    try:
        state = client.fetch()
    except SourceError as err:
        message = str(err)
        assert message.startswith("yarn"), message
        where = "no active ResourceManager" if endpoint == INFO else endpoint
        assert where in message, f"{message!r} does not name {endpoint}"
    else:
        assert state.rm_url == rm.url
    finally:
        rm.rule = None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(status=st.sampled_from([200, 200, 404, 500]), body=bodies)
def test_any_answer_on_the_scheduler_endpoint_leaves_the_am_limits_unknown_or_sane(
    rm: FaultProxy, status: int, body: bytes
) -> None:
    """The AM limits are optional: whatever `/ws/v1/cluster/scheduler` answers, the cluster is read (no
    stale snapshot for it), and what is kept of the limits is sane (a share in (0, 1], MBs >= 0) or unknown."""
    fault = Answer(status, body, "application/json")
    rm.rule = lambda e: fault if e.target.split("?")[0] == SCHEDULER else None
    try:
        state = YarnClient(YarnConfig(urls=[rm.url], timeout_s=2)).fetch()
    finally:
        rm.rule = None
    assert state.rm_url == rm.url
    for q in state.am_limits:
        assert q.share is None or 0 < q.share <= 1
        assert all(v is None or v >= 0 for v in (q.limit_mb, q.used_mb))
    assert state.am_limits or state.notes or status == 200


def test_a_trickling_answer_is_cut_off_at_the_timeout(rm: FaultProxy) -> None:
    """Each receive inside `timeout_s` but the whole answer minutes long (16 bytes every 0.2 s): the
    request fails at its deadline, naming the endpoint, instead of holding the tick until it ends."""
    rm.rule = lambda e: Drip(0.2) if e.target.startswith(NODES) else None
    client = YarnClient(YarnConfig(urls=[rm.url], timeout_s=1))
    started = time.monotonic()
    try:
        with pytest.raises(SourceError, match=f"{NODES}.*not complete after 1s"):
            client.fetch()
    finally:
        rm.rule = None
    assert time.monotonic() - started < 3
