from __future__ import annotations

import pytest

from autoscaler.model import Market, PoolKind, PoolRole, PoolState, Resources
from autoscaler.sim.job import Job, Stage
from autoscaler.sim.spec import PoolSpec, group

from .conftest import cluster, spec_with


def _job(tasks: int, seconds: float, *, submit: float = 0.0, am: bool = True, name: str = "j") -> Job:
    return Job(name, submit, (Stage(tasks, 1024, 1, seconds),), am=Resources(1024, 1) if am else None)


def test_known_job_finishes_at_the_computed_time() -> None:
    """2 m5.xlarge cores (4 vcores each), DominantResourceCalculator: AM takes a vcore, 8 × 10 s tasks run 7+1 → +20."""
    spec = spec_with(group("ig-core", PoolRole.CORE, Market.ON_DEMAND, 2), resource_calculator="dominant")
    c = cluster(spec)
    c.submit(_job(8, 10.0, submit=10.0))
    c.advance_to(spec.start_at + 1000)
    (jr,) = c.workload.completed
    assert jr.started_at == spec.start_at + 10
    assert jr.finished_at == spec.start_at + 30


def test_default_calculator_schedules_memory_only() -> None:
    """EMR's default (memory only): 2 × 12,288 MB hold the AM and all 8 × 1 GB tasks at once → one wave, +10 s."""
    spec = spec_with(group("ig-core", PoolRole.CORE, Market.ON_DEMAND, 2))
    c = cluster(spec)
    c.submit(_job(8, 10.0, submit=10.0))
    c.advance_to(spec.start_at + 15)
    yarn = c.snapshot().yarn
    assert yarn is not None
    assert (yarn.allocated_vcores, yarn.total_vcores) == (9, 8)  # over-committed, as YARN reports it
    assert yarn.available_vcores is None  # YARN's negative figure, read as unknown like the live source
    c.advance_to(spec.start_at + 1000)
    (jr,) = c.workload.completed
    assert jr.finished_at == spec.start_at + 20


def test_stages_run_in_order_and_am_start_up_delays_tasks() -> None:
    """Stage 2 starts only when stage 1 is done; tasks wait for the AM's start-up time."""
    spec = spec_with(group("ig-core", PoolRole.CORE, Market.ON_DEMAND, 1))
    c = cluster(spec)
    job = Job("j", 0.0, (Stage(3, 1024, 1, 10.0), Stage(1, 1024, 1, 4.0)), am=Resources(1024, 1), am_start_s=5.0)
    c.submit(job)
    c.advance_to(spec.start_at + 100)
    (jr,) = c.workload.completed
    assert jr.finished_at == spec.start_at + 5 + 10 + 4


def test_draining_kills_at_the_timeout_and_reruns_the_work() -> None:
    """A node drained with 100 s left kills its 4 tasks at the timeout; they re-run after the others finish."""
    spec = spec_with(group("ig-task", PoolRole.TASK, Market.ON_DEMAND, 2), resource_calculator="dominant")
    c = cluster(spec)
    c.submit(_job(8, 1000.0, am=False))
    c.advance_to(spec.start_at + 1)
    _, second = sorted(c.pools["ig-task"].nodes.values(), key=lambda n: n.seq)
    c.modify_instance_group("ig-task", 1, instances_to_terminate=[second.instance_id], decommission_timeout_s=100)
    snap = c.snapshot()
    assert snap.pool("ig-task").decommissioning.total == 1
    assert snap.pool("ig-task").state is PoolState.RESIZING
    c.advance_to(spec.start_at + 100)
    assert second.instance_id in c.pools["ig-task"].nodes  # still draining at 100 s
    c.advance_to(spec.start_at + 101)
    assert second.instance_id not in c.pools["ig-task"].nodes
    assert c.lost_containers == 4
    c.advance_to(spec.start_at + 5000)
    (jr,) = c.workload.completed
    assert jr.finished_at == spec.start_at + 1000 + 1000  # the killed four re-ran on the survivor
    assert c.ledger.node_seconds(spec.start_at + 101) >= 101 * 3  # the drained node was paid while draining


def test_a_lost_node_requeues_its_batches_last_placed_first_and_their_ends_do_nothing() -> None:
    """Three batches (2 x 100 s, 3 x 300 s, 1 x 500 s) on the one task node, killed at the timeout: each
    goes back to the front of the queue in the order placed, and their completion events do nothing."""
    spec = spec_with(group("ig-task", PoolRole.TASK, Market.ON_DEMAND, 1))
    c = cluster(spec)
    c.submit(Job("j", 0.0, (Stage(6, 1024, 1, (100.0, 100.0, 300.0, 300.0, 300.0, 500.0)),), am=None))
    c.advance_to(spec.start_at + 1)
    (node,) = c.pools["ig-task"].nodes.values()
    assert node.containers == 6
    c.modify_instance_group("ig-task", 0, decommission_timeout_s=10)
    c.advance_to(spec.start_at + 11)
    (jr,) = c.workload.jobs
    assert c.lost_containers == 6
    assert jr.runs == [[1, 500.0], [3, 300.0], [2, 100.0]]
    assert (jr.queued, jr.running) == (6, 0)
    assert c.workload.lost_container_s == 6 * 11  # placed at 0, killed at 1 + 10
    c.advance_to(spec.start_at + 1000)  # past every lost batch's end: nothing ran, nothing finished
    assert (jr.running, jr.done, jr.queued) == (0, 0, 6)
    assert not c.workload.completed
    assert c.workload.totals.allocated == 0


def test_idle_node_drains_immediately_and_protected_node_stays() -> None:
    """Scale-in honours InstancesToProtect and removes an idle node at once."""
    spec = spec_with(group("ig-task", PoolRole.TASK, Market.ON_DEMAND, 2))
    c = cluster(spec)
    a, _ = sorted(c.pools["ig-task"].nodes.values(), key=lambda n: n.seq)
    c.modify_instance_group("ig-task", 1, instances_to_protect=[a.instance_id])
    assert list(c.pools["ig-task"].nodes) == [a.instance_id]


def test_emr_refuses_to_remove_nodes_younger_than_ten_minutes() -> None:
    """A node that arrived 5 min after request is kept until 10 min after its request, then removed."""
    spec = spec_with(group("ig-task", PoolRole.TASK, Market.ON_DEMAND, 0))
    c = cluster(spec)
    c.modify_instance_group("ig-task", 1)
    c.advance_to(spec.start_at + 301)
    assert c.snapshot().pool("ig-task").running.total == 1
    c.modify_instance_group("ig-task", 0)
    c.advance_to(spec.start_at + 599)
    assert len(c.pools["ig-task"].nodes) == 1
    c.advance_to(spec.start_at + 600)
    assert not c.pools["ig-task"].nodes


def test_booting_node_is_cancelled_first_and_billed_one_minute() -> None:
    """Shrinking while a node boots cancels it; it still pays the one-minute minimum."""
    spec = spec_with(group("ig-task", PoolRole.TASK, Market.ON_DEMAND, 0))
    c = cluster(spec)
    c.modify_instance_group("ig-task", 1)
    c.advance_to(spec.start_at + 10)
    c.modify_instance_group("ig-task", 0)
    assert not c.pools["ig-task"].nodes
    master_usd = 0.24 * 10 / 3600
    assert c.ledger.total_usd(spec.start_at + 10) == pytest.approx(master_usd + 0.24 * 60 / 3600 + 0.24 * 50 / 3600)


def test_spot_interruption_reruns_lost_work_and_replaces_the_node() -> None:
    """A reclaimed Spot node loses its containers (re-run elsewhere) and EMR launches a replacement."""
    spec = spec_with(
        group("ig-core", PoolRole.CORE, Market.ON_DEMAND, 1),
        group("ig-spot", PoolRole.TASK, Market.SPOT, 1),
        interruptions=False,
        resource_calculator="dominant",  # 4 vcores bind: 4 tasks per node
    )
    c = cluster(spec)
    c.submit(_job(8, 600.0, am=False))  # 4 on the core, 4 on the Spot node
    c.advance_to(spec.start_at + 1)
    (spot,) = c.pools["ig-spot"].nodes.values()
    c.schedule_interruption(spot.instance_id, spec.start_at + 200)
    c.advance_to(spec.start_at + 81)
    snap = c.snapshot()
    assert [n.instance_id for n in snap.interruptions] == [spot.instance_id]
    c.advance_to(spec.start_at + 200)
    assert c.interruptions == 1
    assert c.lost_containers == 4
    assert c.snapshot().pool("ig-spot").provisioning.total == 1  # the replacement boots for 300 s
    c.advance_to(spec.start_at + 3000)
    (jr,) = c.workload.completed
    # the four lost tasks restart when the replacement arrives at 500 s (before the core frees at 600)
    assert jr.finished_at == spec.start_at + 200 + 300 + 600


def test_fleet_launches_weighted_units_at_the_cheapest_price_per_unit() -> None:
    """A fleet target of 4 units is met by two weight-2 nodes when they are cheaper per unit."""
    fleet = PoolSpec(
        "if-task", PoolRole.TASK, PoolKind.INSTANCE_FLEET, instance_types=("m5.xlarge", "m5.2xlarge"), weights=(1, 3)
    )
    spec = spec_with(fleet)
    c = cluster(spec)
    c.modify_instance_fleet("if-task", target_spot=4)
    nodes = list(c.pools["if-task"].nodes.values())
    assert {n.instance_type for n in nodes} == {"m5.2xlarge"}  # 0.384/3 per unit beats 0.192/1
    assert sum(n.weight for n in nodes) == 6
    pool = c.snapshot().pool("if-task")
    assert pool.requested.spot == 4
    assert pool.provisioning.spot == 6


def test_fleet_does_not_overshoot_a_small_target_on_a_price_tie() -> None:
    """Weight-1 and weight-2 types equally cheap per unit (on-demand m5): a 1-unit target gets the weight-1 node,
    a 4-unit target the fewer, larger nodes."""
    fleet = PoolSpec(
        "if-task", PoolRole.TASK, PoolKind.INSTANCE_FLEET, instance_types=("m5.xlarge", "m5.2xlarge"), weights=(1, 2)
    )
    c = cluster(spec_with(fleet))
    c.modify_instance_fleet("if-task", target_on_demand=1)
    assert [n.instance_type for n in c.pools["if-task"].nodes.values()] == ["m5.xlarge"]
    c.modify_instance_fleet("if-task", target_on_demand=5)
    types = sorted(n.instance_type for n in c.pools["if-task"].nodes.values())
    assert types == ["m5.2xlarge", "m5.2xlarge", "m5.xlarge"]


def test_fleet_over_target_by_less_than_a_node_is_running() -> None:
    """A fleet of weight-2 nodes asked for 3 units holds 4 once booted and reads RUNNING, not RESIZING forever."""
    fleet = PoolSpec("if-task", PoolRole.TASK, PoolKind.INSTANCE_FLEET, instance_types=("m5.2xlarge",), weights=(2,))
    spec = spec_with(fleet)
    c = cluster(spec)
    c.modify_instance_fleet("if-task", target_spot=3)
    assert c.snapshot().pool("if-task").state is PoolState.RESIZING  # booting
    c.advance_to(spec.start_at + 301)
    pool = c.snapshot().pool("if-task")
    assert (pool.requested.spot, pool.running.spot) == (3, 4)
    assert pool.state is PoolState.RUNNING


def test_am_share_keeps_room_for_tasks() -> None:
    """A burst of jobs cannot fill the cluster with AMs: tasks still run and every job finishes."""
    spec = spec_with(group("ig-core", PoolRole.CORE, Market.ON_DEMAND, 1))
    c = cluster(spec)
    for i in range(20):
        c.submit(_job(2, 5.0, name=f"j{i}"))
    c.advance_to(spec.start_at + 10_000)
    assert len(c.workload.completed) == 20


def test_snapshot_reports_pending_demand_and_am_hosts() -> None:
    """Pending asks appear per shape on apps and in YARN metrics; the AM's node is marked."""
    spec = spec_with(group("ig-core", PoolRole.CORE, Market.ON_DEMAND, 1), resource_calculator="dominant")
    c = cluster(spec)
    c.submit(_job(10, 100.0))
    c.advance_to(spec.start_at)
    snap = c.snapshot()
    assert snap.yarn is not None
    assert snap.yarn.pending_mb == 7 * 1024
    (app,) = snap.apps
    assert app.pending[0].count == 7
    (node,) = snap.nodes
    assert node.hosts_am
    assert app.am_host == node.host
    assert {i.private_dns for i in snap.instances} >= {node.host}
    assert not snap.stale


def test_job_larger_than_any_node_is_refused_not_queued_forever() -> None:
    """An ask above every node's YARN size is refused (maximum-allocation) and never counts as active."""
    spec = spec_with(group("ig-core", PoolRole.CORE, Market.ON_DEMAND, 1))
    c = cluster(spec)
    c.submit(Job("huge", 0.0, (Stage(1, 64 * 1024, 1, 10.0),)))
    c.advance_to(spec.start_at + 10)
    assert [j.id for j in c.rejected] == ["huge"]
    assert not c.workload.active


def test_snapshot_views_carry_each_field_by_name() -> None:
    """The node and app views (built positionally, for speed) hold each value in the field it names,
    and an app's view follows its ask as tasks finish (a reused view would show the old count)."""
    spec = spec_with(group("ig-core", PoolRole.CORE, Market.ON_DEMAND, 1), resource_calculator="dominant")
    c = cluster(spec)
    c.submit(_job(10, 100.0, submit=5.0))
    c.advance_to(spec.start_at + 5)
    snap = c.snapshot()
    (node,) = snap.nodes
    (inst,) = [i for i in snap.instances if i.private_dns == node.host]
    assert (node.instance_id, node.pool_id, node.market) == (inst.instance_id, "ig-core", Market.ON_DEMAND)
    assert node.num_containers == 4  # the AM and 3 tasks: 4 vcores
    assert (node.used, node.available) == (Resources(4 * 1024, 4), Resources(12288 - 4 * 1024, 0))
    assert node.last_health_update_s == spec.start_at + 5
    assert node.hosts_am
    (app,) = snap.apps
    assert (app.state, app.queue, app.am_host, app.submitted_at) == ("RUNNING", "default", node.host, spec.start_at + 5)
    assert (app.allocated, app.running_containers) == (Resources(4 * 1024, 4), 4)
    assert [(r.shape, r.count, r.app_id) for r in app.pending] == [(Resources(1024, 1), 7, app.app_id)]
    c.advance_to(spec.start_at + 105)
    (later,) = c.snapshot().apps
    assert later.app_id == app.app_id
    assert [(r.count, r.app_id) for r in later.pending] == [(4, app.app_id)]
    assert c.snapshot().nodes[0].last_health_update_s == spec.start_at + 105
