"""The EMR actuator: request shapes checked against botocore's model, re-read-then-write, refusals,
errors; instance groups against moto, instance fleets and injected faults with `FakeEmr` (moto has no fleets)."""

from __future__ import annotations

from typing import Any

import boto3
import botocore.session
import pytest
from botocore.validate import validate_parameters

from autoscaler.actuator import MODIFY_FLEET, MODIFY_GROUPS, DryRunActuator, EmrActuator, build_request
from autoscaler.model import Capacity, Market, OutcomeStatus, Plan, PoolKind, PoolRole, PoolState, Resize
from autoscaler.sources.emr import autoscaling_policy_active
from autoscaler.testing import EmrFault, FakeEmr, create_emr_cluster, emr_autoscaling_policy, make_pool, make_snapshot

EMR_MODEL = botocore.session.get_session().get_service_model("emr")


def _validate(operation: str, params: dict[str, Any]) -> None:
    validate_parameters(params, EMR_MODEL.operation_model(operation).input_shape)


def _group_resize(pool_id: str, current: int, target: int, **kw: Any) -> Resize:
    return Resize(pool_id, PoolKind.INSTANCE_GROUP, Capacity(spot=current), Capacity(spot=target), "test", **kw)


def test_scale_in_request_names_victims_and_protects_am_hosts() -> None:
    """A group scale-in sends the absolute count and a ShrinkPolicy; botocore's model accepts it."""
    resize = _group_resize(
        "ig-1",
        5,
        3,
        instances_to_terminate=("i-a", "i-b"),
        instances_to_protect=("i-am",),
        decommission_timeout_s=600,
    )
    req = build_request("j-1", resize)
    assert req.operation == MODIFY_GROUPS
    _validate(req.operation, req.params)
    (group,) = req.params["InstanceGroups"]
    assert group["InstanceCount"] == 3
    assert group["ShrinkPolicy"] == {
        "DecommissionTimeout": 600,
        "InstanceResizePolicy": {
            "InstancesToTerminate": ["i-a", "i-b"],
            "InstancesToProtect": ["i-am"],
            "InstanceTerminationTimeout": 600,
        },
    }
    assert "EC2InstanceIdsToTerminate" not in group


def test_scale_out_request_is_an_absolute_count_without_shrink_policy() -> None:
    """Growing a group sends only the new absolute InstanceCount."""
    req = build_request("j-1", _group_resize("ig-1", 2, 7, decommission_timeout_s=600))
    _validate(req.operation, req.params)
    assert req.params == {"ClusterId": "j-1", "InstanceGroups": [{"InstanceGroupId": "ig-1", "InstanceCount": 7}]}


def test_fleet_request_sets_both_absolute_targets() -> None:
    """A fleet resize sends both target capacities, valid for ModifyInstanceFleet."""
    resize = Resize("if-1", PoolKind.INSTANCE_FLEET, Capacity(2, 4), Capacity(2, 9), "test")
    req = build_request("j-1", resize)
    assert req.operation == MODIFY_FLEET
    _validate(req.operation, req.params)
    assert req.params["InstanceFleet"] == {
        "InstanceFleetId": "if-1",
        "TargetOnDemandCapacity": 2,
        "TargetSpotCapacity": 9,
    }


# --- instance groups against moto -------------------------------------------------------------------


@pytest.fixture
def emr(moto_aws: None) -> Any:
    return boto3.client("emr", region_name="us-east-1")


def _cluster(emr: Any, task_count: int = 3) -> tuple[str, str]:
    cid = create_emr_cluster(emr, task=task_count, name="t")
    task = next(
        g for g in emr.list_instance_groups(ClusterId=cid)["InstanceGroups"] if g["InstanceGroupType"] == "TASK"
    )
    return cid, task["Id"]


def _requested(emr: Any, cid: str, gid: str) -> int:
    groups = emr.list_instance_groups(ClusterId=cid)["InstanceGroups"]
    return int(next(g for g in groups if g["Id"] == gid)["RequestedInstanceCount"])


def _task_snapshot(gid: str, requested: int, **kw: Any) -> Any:
    return make_snapshot(pools=[make_pool(gid, requested=requested, market=Market.SPOT)], **kw)


def test_group_resize_is_written_when_the_pool_is_unchanged(emr: Any) -> None:
    """The actuator writes the absolute count after re-reading an unchanged group."""
    cid, gid = _cluster(emr, 3)
    outcomes = EmrActuator(emr, cid).apply(Plan((_group_resize(gid, 3, 6),)), _task_snapshot(gid, 3))
    assert [o.status for o in outcomes] == [OutcomeStatus.APPLIED]
    assert _requested(emr, cid, gid) == 6


def test_group_changed_since_snapshot_is_skipped(emr: Any) -> None:
    """If someone resized the group after the snapshot, the plan is not applied."""
    cid, gid = _cluster(emr, 3)
    snapshot = _task_snapshot(gid, 3)
    emr.modify_instance_groups(ClusterId=cid, InstanceGroups=[{"InstanceGroupId": gid, "InstanceCount": 4}])
    (outcome,) = EmrActuator(emr, cid).apply(Plan((_group_resize(gid, 3, 6),)), snapshot)
    assert outcome.status is OutcomeStatus.SKIPPED_CHANGED
    assert "3 to 4" in outcome.detail
    assert _requested(emr, cid, gid) == 4


def test_group_whose_state_changed_is_skipped(emr: Any) -> None:
    """A plan made while the group looked RESIZING is not applied to a group now RUNNING (or vice versa)."""
    cid, gid = _cluster(emr, 3)
    snapshot = make_snapshot(pools=[make_pool(gid, requested=3, state=PoolState.RESIZING)])
    (outcome,) = EmrActuator(emr, cid).apply(Plan((_group_resize(gid, 3, 6),)), snapshot)
    assert outcome.status is OutcomeStatus.SKIPPED_CHANGED
    assert _requested(emr, cid, gid) == 3


def test_managed_scaling_is_refused_without_writing(emr: Any) -> None:
    """A cluster under EMR Managed Scaling is never resized by us."""
    cid, gid = _cluster(emr, 3)
    snapshot = _task_snapshot(gid, 3, managed_scaling_enabled=True)
    (outcome,) = EmrActuator(emr, cid).apply(Plan((_group_resize(gid, 3, 6),)), snapshot)
    assert outcome.status is OutcomeStatus.REFUSED
    assert "managed scaling" in outcome.detail
    assert _requested(emr, cid, gid) == 3


def test_group_with_live_autoscaling_policy_is_refused(emr: Any) -> None:
    """An automatic scaling policy attached after the snapshot is seen on re-read and refused."""
    cid, gid = _cluster(emr, 3)
    emr.put_auto_scaling_policy(ClusterId=cid, InstanceGroupId=gid, AutoScalingPolicy=emr_autoscaling_policy(1, 9))
    (outcome,) = EmrActuator(emr, cid).apply(Plan((_group_resize(gid, 3, 6),)), _task_snapshot(gid, 3))
    assert outcome.status is OutcomeStatus.REFUSED
    assert _requested(emr, cid, gid) == 3


def test_vanished_group_is_skipped(emr: Any) -> None:
    """A pool EMR no longer lists is skipped, not written."""
    cid, _ = _cluster(emr, 3)
    (outcome,) = EmrActuator(emr, cid).apply(Plan((_group_resize("ig-GONE", 3, 6),)), _task_snapshot("ig-GONE", 3))
    assert outcome.status is OutcomeStatus.SKIPPED_CHANGED


def test_dry_run_describes_the_request_and_changes_nothing(emr: Any) -> None:
    """Dry-run reports the exact request the real actuator would send and leaves the group alone."""
    cid, gid = _cluster(emr, 3)
    resize = _group_resize(gid, 3, 1, instances_to_terminate=("i-x", "i-y"), decommission_timeout_s=60)
    (outcome,) = DryRunActuator(cid).apply(Plan((resize,)), _task_snapshot(gid, 3))
    assert outcome.status is OutcomeStatus.DRY_RUN
    assert build_request(cid, resize).describe() in outcome.detail
    assert _requested(emr, cid, gid) == 3


def test_dry_run_reports_a_refusal_under_managed_scaling() -> None:
    """Dry-run says the write would be refused when managed scaling owns the cluster."""
    snapshot = _task_snapshot("ig-1", 3, managed_scaling_enabled=True)
    (outcome,) = DryRunActuator("j-1").apply(Plan((_group_resize("ig-1", 3, 5),)), snapshot)
    assert outcome.status is OutcomeStatus.REFUSED


# --- instance fleets and faults with FakeEmr (moto has no fleets) -------------------------------------


def _fake_fleet(on_demand: int = 2, spot: int = 4) -> tuple[FakeEmr, str]:
    emr = FakeEmr(page_size=1)
    emr.add_fleet("CORE", 1, 0)
    return emr, emr.add_fleet("TASK", on_demand, spot)


def _fleet_snapshot(fid: str) -> Any:
    pool = make_pool(fid, kind=PoolKind.INSTANCE_FLEET, role=PoolRole.TASK, requested=Capacity(2, 4))
    return make_snapshot(pools=[pool])


def _fleet_plan(fid: str) -> Plan:
    return Plan((Resize(fid, PoolKind.INSTANCE_FLEET, Capacity(2, 4), Capacity(2, 8), "test"),))


def test_fleet_resize_rereads_then_writes_targets() -> None:
    """Fleets: ListInstanceFleets (every page) then one ModifyInstanceFleet with absolute targets."""
    emr, fid = _fake_fleet()
    (outcome,) = EmrActuator(emr, emr.cluster_id).apply(_fleet_plan(fid), _fleet_snapshot(fid))
    assert outcome.status is OutcomeStatus.APPLIED
    assert [c.operation for c in emr.calls] == ["list_instance_fleets", "list_instance_fleets", "modify_instance_fleet"]
    (write,) = emr.writes()
    assert write.params["InstanceFleet"] == {
        "InstanceFleetId": fid,
        "TargetOnDemandCapacity": 2,
        "TargetSpotCapacity": 8,
    }
    _validate(MODIFY_FLEET, write.params)
    assert emr.pools[fid].requested == {"ON_DEMAND": 2, "SPOT": 8}


def test_fleet_whose_targets_moved_is_skipped() -> None:
    """A fleet whose targets changed since the snapshot gets no write."""
    emr, fid = _fake_fleet(2, 6)
    (outcome,) = EmrActuator(emr, emr.cluster_id).apply(_fleet_plan(fid), _fleet_snapshot(fid))
    assert outcome.status is OutcomeStatus.SKIPPED_CHANGED
    assert emr.writes() == []


@pytest.mark.parametrize(
    ("fault", "code", "capacity"),
    [
        (EmrFault.CAPACITY, "ValidationException", True),
        (EmrFault.THROTTLE, "ThrottlingException", False),
        (EmrFault.SERVER_ERROR, "InternalServerError", False),
        (EmrFault.APPLIED_BUT_500, "InternalServerError", False),
    ],
)
def test_aws_error_fails_the_outcome_with_its_code(fault: EmrFault, code: str, capacity: bool) -> None:
    """An AWS error becomes a FAILED outcome carrying the code, stamped with when it failed (the
    back-off runs from there); capacity errors are flagged for the long back-off."""
    emr, fid = _fake_fleet()
    emr.fail("modify_instance_fleet", fault)
    actuator = EmrActuator(emr, emr.cluster_id, clock=lambda: 1234.5)
    (outcome,) = actuator.apply(_fleet_plan(fid), _fleet_snapshot(fid))
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.error_code == code
    assert outcome.capacity_error is capacity
    assert outcome.failed_at == 1234.5, "stamped when it failed: the back-off runs from here"


def test_a_write_applied_but_answered_500_is_never_applied_twice() -> None:
    """EMR took the write and answered 500: the same plan retried sees the moved targets and skips."""
    emr, fid = _fake_fleet()
    emr.fail("modify_instance_fleet", EmrFault.APPLIED_BUT_500)
    actuator = EmrActuator(emr, emr.cluster_id)
    (first,) = actuator.apply(_fleet_plan(fid), _fleet_snapshot(fid))
    (again,) = actuator.apply(_fleet_plan(fid), _fleet_snapshot(fid))
    assert (first.status, again.status) == (OutcomeStatus.FAILED, OutcomeStatus.SKIPPED_CHANGED)
    assert len(emr.writes()) == 1
    assert emr.pools[fid].requested == {"ON_DEMAND": 2, "SPOT": 8}


def test_a_throttled_reread_writes_nothing() -> None:
    emr, fid = _fake_fleet()
    emr.fail("list_instance_fleets", EmrFault.THROTTLE)
    (outcome,) = EmrActuator(emr, emr.cluster_id).apply(_fleet_plan(fid), _fleet_snapshot(fid))
    assert outcome.status is OutcomeStatus.FAILED
    assert emr.writes() == []


@pytest.mark.parametrize(
    ("policy_state", "written"),
    [(None, True), ("DETACHED", True), ("DETACHING", True), ("ATTACHED", False), ("PENDING", False)],
)
def test_reread_reads_an_automatic_scaling_policy_like_the_snapshot_does(
    policy_state: str | None, written: bool
) -> None:
    """A group whose policy EMR is detaching is written; one with a live policy is refused, as the source says."""
    emr = FakeEmr()
    gid = emr.add_group("TASK", 3, market="SPOT")
    emr.pools[gid].autoscaling_policy = policy_state
    (outcome,) = EmrActuator(emr, emr.cluster_id).apply(Plan((_group_resize(gid, 3, 5),)), _task_snapshot(gid, 3))
    assert outcome.status is (OutcomeStatus.APPLIED if written else OutcomeStatus.REFUSED)
    (group,) = emr.list_instance_groups(ClusterId=emr.cluster_id)["InstanceGroups"]
    assert autoscaling_policy_active(group) is not written
    assert len(emr.writes()) == int(written)
