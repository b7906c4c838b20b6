"""The DynamoDB lease protocol (autoscaler/lease.py) and the HA hook (autoscaler/ha.py) on moto.

Conditional writes decide everything: one holder at a time, a token that grows at every change of
holder, a fence that refuses a deposed or nearly expired leader, memory saved only by the holder.
Each replica judges expiry by its own monotonic clock (a `FakeClock` here), never by wall clocks."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Any

import boto3
import pytest

from autoscaler.config import AppConfig, ConfigError, HaConfig, parse_config
from autoscaler.explain import DaemonView
from autoscaler.ha import DynamoClusterLease, FencedActuator, FileMemory, Leadership, leased_tick, with_lease_memory
from autoscaler.lease import DynamoLeases, LeaseError
from autoscaler.loop import ClusterDeps, Deps, tick
from autoscaler.memory_codec import ControllerState, dumps
from autoscaler.metrics import Health, Metrics
from autoscaler.model import Capacity, ControllerMemory, OutcomeStatus, Plan, PoolMemory, Resize
from autoscaler.testing import (
    T0,
    FakeClock,
    ListLogger,
    RecordingActuator,
    create_lease_table,
    make_cluster_config,
    make_pool,
    make_snapshot,
)

REGION = "us-east-1"
LEASE_S = 30.0


@pytest.fixture
def client(moto_aws: None) -> Any:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    create_lease_table(dynamodb, "leases")
    return dynamodb


def replicas(client: Any, n: int) -> tuple[list[DynamoLeases], list[FakeClock]]:
    """`n` replicas, each with its own monotonic clock (their expiry decisions never compare clocks)."""
    clocks = [FakeClock(0.0) for _ in range(n)]
    return [DynamoLeases(client, "leases", f"replica-{i}", LEASE_S, clocks[i]) for i in range(n)], clocks


def test_one_holder_at_a_time_and_takeover_only_after_a_whole_unrenewed_lease(client: Any) -> None:
    (a, b, c), (ca, cb, cc) = replicas(client, 3)
    held = a.acquire("j-1", T0)
    assert held is not None
    assert (held.holder, held.token) == ("replica-0", 1)
    assert b.acquire("j-1", T0) is None  # b starts watching version 1
    cc.t = 1000.0  # however late c starts, it must watch a whole lease itself
    assert c.acquire("j-1", T0) is None
    ca.t = cb.t = 20
    renewed = a.acquire("j-1", T0 + 20, held)
    assert renewed is not None
    assert (renewed.token, renewed.version) == (1, 2)
    cb.t = LEASE_S + 1
    assert b.acquire("j-1", T0) is None  # renewed meanwhile: b watches version 2 from now
    cb.t = 2 * LEASE_S  # version 2 unchanged for 29 s of b's clock: not yet
    assert b.acquire("j-1", T0) is None
    cb.t = 2 * LEASE_S + 1
    taken = b.acquire("j-1", T0)
    assert taken is not None
    assert (taken.holder, taken.token) == ("replica-1", 2)
    # the deposed holder can neither renew nor take back the live lease
    ca.t = 100
    assert a.acquire("j-1", T0 + 100, renewed) is None


def test_wall_clock_jumps_never_move_a_lease(client: Any) -> None:
    """The holder's wall clock jumps a day ahead, the standby's a day back: only the monotonic
    clocks count, so the standby waits while the holder renews and takes over a lease after it stops."""
    (a, b), (ca, cb) = replicas(client, 2)
    held = a.acquire("j-1", T0)
    for step in range(1, 6):  # a renews every 10 s with its wall clock a day ahead
        ca.t = cb.t = 10.0 * step
        held = a.acquire("j-1", T0 + 86_400 + 10 * step, held)
        assert held is not None
        assert b.acquire("j-1", T0 - 86_400) is None
    assert a.fence(held, margin_s=10)
    cb.t = 50 + LEASE_S  # a stopped renewing at 50 (died): b has watched that version for a lease
    taken = b.acquire("j-1", T0 - 86_400)
    assert taken is not None
    assert taken.token == 2


def test_clusters_have_independent_leases(client: Any) -> None:
    (a, b), _ = replicas(client, 2)
    assert a.acquire("j-1", T0) is not None
    assert b.acquire("j-2", T0) is not None
    assert b.acquire("j-1", T0) is None


def _take_over(b: DynamoLeases, cb: FakeClock) -> Any:
    """b watches the lease for a whole lease period on its own clock, then takes it."""
    assert b.acquire("j-1", T0) is None
    cb.t += LEASE_S
    return b.acquire("j-1", T0)


def test_fence_refuses_a_deposed_leader_and_a_nearly_expired_lease(client: Any) -> None:
    (a, b), (ca, cb) = replicas(client, 2)
    held = a.acquire("j-1", T0)
    assert held is not None
    ca.t = 1
    assert a.fence(held, margin_s=10)
    ca.t = LEASE_S - 5
    assert not a.fence(held, margin_s=10)  # would expire mid-write
    ca.t = 1  # even by a clock that says the lease is young, once the token moved on it is fenced
    assert _take_over(b, cb) is not None
    assert not a.fence(held, margin_s=10)


def test_memory_travels_with_the_lease_and_only_the_holder_saves(client: Any) -> None:
    (a, b), (_, cb) = replicas(client, 2)
    held = a.acquire("j-1", T0)
    assert held is not None
    memory = ControllerMemory().with_pool("ig-task", PoolMemory(last_scale_up_at=T0, down_confirmations=2))
    assert a.save(held, dumps(ControllerState("j-1", memory)))
    taken = _take_over(b, cb)
    assert taken is not None
    assert taken.memory == dumps(ControllerState("j-1", memory))
    assert not a.save(held, dumps(ControllerState("j-1", ControllerMemory())))  # deposed: refused
    assert b.read("j-1") == taken


def test_release_hands_over_at_once(client: Any) -> None:
    (a, b), _ = replicas(client, 2)
    held = a.acquire("j-1", T0)
    assert held is not None
    assert b.acquire("j-1", T0) is None
    assert a.release(held, T0 + 1)
    assert not a.fence(held, margin_s=0)
    taken = b.acquire("j-1", T0 + 1)  # no waiting: a released lease is free
    assert taken is not None
    assert taken.token == 2


def test_a_missing_table_is_a_lease_error_not_leadership(client: Any) -> None:
    lost = DynamoLeases(client, "no-such-table", "r", LEASE_S, FakeClock(0.0))
    with pytest.raises(LeaseError, match="no-such-table"):
        lost.acquire("j-1", T0)
    lease = DynamoClusterLease(lost, "j-1", FakeClock(T0), ListLogger())
    assert not lease.begin(T0).leader


def test_fenced_actuator_writes_only_while_the_lease_holds(client: Any) -> None:
    (a, b), (_, cb) = replicas(client, 2)
    lease = DynamoClusterLease(a, "j-1", FakeClock(T0), ListLogger())
    assert lease.begin(T0).leader
    inner = RecordingActuator()
    actuator = FencedActuator(inner, lease)
    pool = make_pool(requested=2)
    snapshot = make_snapshot(pools=[pool])
    plan = Plan((_resize(pool),))
    (ok,) = actuator.apply(plan, snapshot)
    assert ok.status is OutcomeStatus.APPLIED
    assert _take_over(b, cb) is not None  # a was paused (its clock stood still) and lost its lease
    (fenced,) = actuator.apply(plan, snapshot)
    assert fenced.status is OutcomeStatus.FENCED
    assert len(inner.calls) == 1


def test_leased_tick_runs_only_as_holder_and_continues_from_stored_memory(client: Any) -> None:
    (a, b), (_, cb) = replicas(client, 2)
    logger = ListLogger()
    first = DynamoClusterLease(a, "j-1", FakeClock(T0), logger)
    second = DynamoClusterLease(b, "j-1", FakeClock(T0), logger)
    remembered = ControllerMemory().with_pool("ig-task", PoolMemory(down_confirmations=3))
    ran: list[ControllerMemory] = []

    def run(start: ControllerMemory) -> ControllerMemory:
        ran.append(start)
        return remembered

    def state(m: ControllerMemory) -> ControllerState:
        return ControllerState("j-1", m)

    assert leased_tick("j-1", first, ControllerMemory(), T0, run=run, state_of=state, logger=logger) == remembered
    assert leased_tick("j-1", second, ControllerMemory(), T0 + 1, run=run, state_of=state, logger=logger) == (
        ControllerMemory()
    )
    assert len(ran) == 1
    assert logger.named("standby")
    cb.t += LEASE_S  # the first leader stopped renewing (it died)
    leased_tick("j-1", second, ControllerMemory(), T0 + LEASE_S + 1, run=run, state_of=state, logger=logger)
    assert ran[-1] == remembered  # the new leader started from what the old one saved


def test_file_memory_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "memory.json"
    logger = ListLogger()
    memory = ControllerMemory().with_pool("ig-task", PoolMemory(last_scale_down_at=T0))
    lease = FileMemory(path, logger).lease("j-1")
    assert lease.begin(T0).memory is None
    lease.end(ControllerState("j-1", memory))
    again = FileMemory(path, logger).lease("j-1")
    held = again.begin(T0 + 60)
    assert (held.leader, held.memory) == (True, memory)
    assert again.fence() is None


def test_unreadable_memory_file_starts_empty_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "memory.json"
    path.write_text("{not json")
    logger = ListLogger()
    assert FileMemory(path, logger).lease("j-1").begin(T0).memory is None
    assert [event for _, event, _ in logger.events] == ["memory_file_unreadable"]


def _resize(pool: Any) -> Resize:
    return Resize(pool.pool_id, pool.kind, pool.requested, Capacity(0, pool.requested.total + 1), "test")


class _Standby:
    """A lease held elsewhere (or, with `error`, a lease store that cannot be reached)."""

    def __init__(self, error: bool = False) -> None:
        self.error, self.released = error, False

    def begin(self, now: float) -> Leadership:
        return Leadership(False, detail="unreachable" if self.error else "held by replica-9", error=self.error)

    def fence(self) -> str | None:
        return "not ours"

    def end(self, state: ControllerState) -> None:
        raise AssertionError("a standby saves nothing")

    def release(self) -> None:
        self.released = True

    def leads(self) -> bool:
        return False


@pytest.mark.parametrize("error", [False, True])
def test_a_standby_stays_live_reads_nothing_and_is_ready_unless_the_store_failed(error: bool) -> None:
    """A standby never collects or acts, and its probes never restart it: /livez stays ok for hours;
    /readyz is ok for a healthy standby, not when DynamoDB cannot be reached."""
    config = make_cluster_config(cluster_id="j-1")
    collected: list[float] = []

    def collect(now: float) -> Any:
        collected.append(now)
        raise AssertionError("a standby reads nothing")

    lease = _Standby(error)
    inner = RecordingActuator()
    cluster = ClusterDeps(config, collect, inner, (), lease)
    health = Health(30, ("j-1",), started_at=T0)
    logger = ListLogger()
    deps = Deps((cluster,), Metrics(), health, logger, clock=lambda: T0)
    state = tick(deps, {}, T0)
    for n in range(1, 400):  # 400 ticks of 30 s: over three hours
        state = tick(deps, state, T0 + 30 * n)
    now = T0 + 30 * 400
    assert collected == []
    assert inner.calls == []
    assert health.live(now)[0]
    assert health.status(now)[0] is not error
    assert len(logger.named("standby")) == 400
    assert deps.metrics.registry.get_sample_value("emr_autoscaler_lease_held", {"cluster": "j-1"}) == 0


def test_explain_reads_the_leaders_memory_from_the_lease_where_the_daemon_has_none(client: Any) -> None:
    """Asked on a standby (or with no daemon), explain still evaluates with the leader's memory."""
    cluster = make_cluster_config(cluster_id="j-1")
    config = AppConfig(
        clusters=[cluster], poll_interval_s=10, ha=HaConfig(lease_table="leases", lease_duration_s=LEASE_S)
    )
    (a,), _ = replicas(client, 1)
    held = a.acquire("j-1", T0)
    assert held is not None
    memory = ControllerMemory().with_pool("ig-task", PoolMemory(last_scale_up_at=T0))
    a.save(held, dumps(ControllerState("j-1", memory)))
    standby = DaemonView("http://127.0.0.1:9464")  # answered, but has never ticked j-1
    view = with_lease_memory(standby, config)
    assert view.why_unknown("j-1") is None
    assert view.memory("j-1") == memory
    assert "dynamodb table leases" in str(view.url)
    mine = DaemonView("http://x", MappingProxyType({"j-1": ControllerState("j-1", ControllerMemory())}))
    assert with_lease_memory(mine, config).memory("j-1") == ControllerMemory()  # the daemon's own wins


@pytest.mark.parametrize(
    ("ha", "where"),
    [
        (
            {"lease_table": "leases", "lease_duration_s": 50},
            "lease_duration_s (50) must be at least 2 x poll_interval_s (60)",
        ),
        ({"lease_table": "leases", "memory_file": "/var/lib/m.json"}, "ha: "),
        ({"lease_table": "a b"}, "ha.lease_table"),
        ({"lease_duration_s": 0}, "ha.lease_duration_s"),
    ],
)
def test_bad_ha_settings_are_located_errors(ha: dict[str, Any], where: str) -> None:
    data = {
        "poll_interval_s": 30,
        "clusters": [
            {
                "cluster_id": "j-1",
                "region": REGION,
                "yarn": {"urls": ["http://rm:8088"]},
                "policies": [{"type": "static"}],
            }
        ],
    }
    with pytest.raises(ConfigError) as err:
        parse_config({**data, "ha": ha}, env={})
    assert any(where in line for line in err.value.lines()), err.value.lines()


def test_an_unwritable_memory_file_is_a_warning_not_a_failed_tick(tmp_path: Path) -> None:
    """A read-only root filesystem without a volume for the file: the tick goes on, the log says why."""
    logger = ListLogger()
    lease = FileMemory(tmp_path / "no-such-dir" / "memory.json", logger).lease("j-1")
    assert lease.begin(T0).leader
    lease.end(ControllerState("j-1", ControllerMemory()))
    (warning,) = logger.named("memory_file_not_saved")
    assert "no-such-dir" in str(warning["path"])


def test_a_leader_turned_standby_drops_its_cluster_state_gauges() -> None:
    """A former leader's last `snapshot_stale 1` must not keep alerting next to the new leader's 0."""
    metrics = Metrics()
    pool = make_pool(requested=2)
    metrics.record_snapshot(make_snapshot(cluster_id="j-1", pools=[pool], yarn=None))  # YARN down: stale
    sample = metrics.registry.get_sample_value
    assert sample("emr_autoscaler_snapshot_stale", {"cluster": "j-1"}) == 1
    metrics.set_lease_held("j-1", True)
    assert sample("emr_autoscaler_snapshot_stale", {"cluster": "j-1"}) == 1
    metrics.set_lease_held("j-1", False)
    assert sample("emr_autoscaler_lease_held", {"cluster": "j-1"}) == 0
    assert sample("emr_autoscaler_snapshot_stale", {"cluster": "j-1"}) is None
    assert sample("emr_autoscaler_pool_requested_units", {"cluster": "j-1", "pool": pool.pool_id}) is None
    metrics.set_lease_held("j-1", False)  # again: nothing left to drop, no error
