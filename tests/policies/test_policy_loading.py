from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from policy_ctx import make_ctx

from autoscaler.config import PolicySpec
from autoscaler.policy import Policy, PolicyError, available_policies, load_policies
from autoscaler.testing import T0, make_node, make_pool, make_snapshot, sample

VALID: dict[str, dict[str, Any]] = {
    "pending-demand": {"headroom_pct": 10},
    "idle-capacity": {"keep_idle_nodes": 1, "idle_for_s": 300},
    "schedule": {"windows": [{"days": ["mon"], "start": "08:00", "end": "18:00", "tz": "UTC", "min_units": 2}]},
    "emr-rules": {"scale_out_below_pct": 15, "scale_in_above_pct": 75},
    "dataproc": {"scale_up_factor": 1.0, "scale_down_factor": 1.0},
    "static": {"units": 3},
    "managed-scaling-like": {"minimum_units": 0, "maximum_units": 10},
}
POLICIES_DIR = Path(__file__).parents[2] / "policies"
FORBIDDEN = {"boto3", "botocore", "requests", "prometheus_client", "structlog", "apscheduler"}


def test_every_builtin_is_registered() -> None:
    """The seven built-in names are installed in the entry-point group."""
    assert set(VALID) <= set(available_policies())


@pytest.mark.parametrize("name", sorted(VALID))
def test_entry_point_loads_with_valid_options(name: str) -> None:
    """Each entry point loads through load_policies, satisfies the Policy protocol and carries its name."""
    (policy,) = load_policies([PolicySpec(type=name, options=VALID[name])])
    assert isinstance(policy, Policy)
    assert policy.name == name


@pytest.mark.parametrize("name", sorted(VALID))
def test_evaluate_runs_on_a_plain_snapshot(name: str) -> None:
    """Each policy evaluates a small healthy cluster without error and only for managed pools."""
    (policy,) = load_policies([PolicySpec(type=name, options=VALID[name])])
    pool, other = make_pool("ig-task", requested=2), make_pool("ig-other", requested=2)
    snap = make_snapshot(pools=[pool, other], nodes=[make_node("a"), make_node("b", containers=2)])
    ctx = make_ctx([pool], history=[sample(T0 - 600 + 60 * i, available_mb=12288, total_mb=24576) for i in range(11)])
    assert all(r.pool_id in (None, "ig-task") for r in policy.evaluate(snap, ctx))


def test_unknown_name_lists_the_available_ones() -> None:
    """A typo fails at start with every installed policy name in the message."""
    with pytest.raises(PolicyError) as err:
        load_policies([PolicySpec(type="dataprok")])
    assert "dataprok" in str(err.value)
    for name in VALID:
        assert name in str(err.value)


def test_bad_options_are_reported_with_position_and_option() -> None:
    """Option errors of several policies are reported together, each with its index and option name."""
    specs = [
        PolicySpec(type="static", options={"units": 1}),
        PolicySpec(type="dataproc", options={"scale_up_factor": 3}),
        PolicySpec(type="emr-rules", options={"adjustmnet": 2}),
    ]
    with pytest.raises(PolicyError) as err:
        load_policies(specs)
    message = str(err.value)
    assert "policies[1].options: scale_up_factor" in message
    assert "policies[2].options: adjustmnet: unknown option" in message


@pytest.mark.parametrize("path", sorted(POLICIES_DIR.glob("*.py")), ids=lambda p: p.name)
def test_policies_import_no_io_libraries(path: Path) -> None:
    """Policy modules import no SDK, HTTP, metrics, logging or scheduler library (pure decisions)."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN
