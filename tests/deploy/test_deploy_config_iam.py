"""The shipped example config loads and is dry-run; the IAM policy is least-privilege and names real API calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from autoscaler.config import load_config, parse_config
from autoscaler.policy import load_policies

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
POLICY: dict[str, Any] = json.loads((DEPLOY / "iam" / "policy.json").read_text())
#: IAM service prefix -> botocore service name
SERVICES = {"elasticmapreduce": "emr", "cloudwatch": "cloudwatch", "ec2": "ec2", "sqs": "sqs"}
WRITES = {"elasticmapreduce:ModifyInstanceGroups", "elasticmapreduce:ModifyInstanceFleet", "sqs:DeleteMessage"}
READ_PREFIXES = ("Describe", "List", "Get", "Receive")


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def _allowed() -> set[str]:
    return {a for s in POLICY["Statement"] if s["Effect"] == "Allow" for a in _actions(s)}


def test_example_config_validates_and_is_dry_run() -> None:
    """config.example.yaml passes load_config (no env overrides) and ships with dry_run true."""
    config = load_config(DEPLOY / "config.example.yaml", env={})
    assert config.dry_run is True
    assert config.metrics_port == 9464
    for cluster in config.clusters:
        assert load_policies(cluster.policies)  # every policy name and option is accepted


def test_example_config_says_how_to_turn_dry_run_off() -> None:
    """The comment next to dry_run names both ways to turn it off, and the env way works."""
    text = (DEPLOY / "config.example.yaml").read_text()
    assert "dry_run: false" in text
    assert "EMR_AUTOSCALER_DRY_RUN=false" in text
    config = load_config(DEPLOY / "config.example.yaml", env={"EMR_AUTOSCALER_DRY_RUN": "false"})
    assert config.dry_run is False


def test_policy_is_valid_iam_json() -> None:
    """Version 2012-10-17; every statement has an Effect, an Action and a Resource or NotResource."""
    assert POLICY["Version"] == "2012-10-17"
    sids = [s["Sid"] for s in POLICY["Statement"]]
    assert len(sids) == len(set(sids))
    for statement in POLICY["Statement"]:
        assert statement["Effect"] in {"Allow", "Deny"}
        assert _actions(statement)
        assert ("Resource" in statement) != ("NotResource" in statement)
        assert not any("*" in a for a in _actions(statement)), "no action wildcards"


def test_every_action_is_a_real_api_operation() -> None:
    """Each action maps to an operation in botocore's model of that service (catches typos)."""
    session = botocore.session.get_session()
    for action in {a for s in POLICY["Statement"] for a in _actions(s)}:
        prefix, operation = action.split(":")
        model = session.get_service_model(SERVICES[prefix])
        assert operation in model.operation_names, action


def test_only_the_resize_calls_and_sqs_delete_write() -> None:
    """Everything allowed is a read, except ModifyInstanceGroups/ModifyInstanceFleet and sqs:DeleteMessage."""
    writes = {a for a in _allowed() if not a.split(":")[1].startswith(READ_PREFIXES)}
    assert writes == WRITES
    assert {
        "elasticmapreduce:DescribeCluster",
        "elasticmapreduce:ListInstanceGroups",
        "elasticmapreduce:ListInstanceFleets",
        "elasticmapreduce:ListInstances",
        "elasticmapreduce:GetManagedScalingPolicy",
        "cloudwatch:GetMetricData",
        "ec2:DescribeSpotPriceHistory",
        "sqs:ReceiveMessage",
    } <= _allowed()


@pytest.mark.parametrize("action", sorted(WRITES))
def test_writes_are_scoped_to_resources(action: str) -> None:
    """No write action is allowed on Resource "*": EMR writes need a cluster ARN and the managed tag."""
    for statement in POLICY["Statement"]:
        if statement["Effect"] == "Allow" and action in _actions(statement):
            assert statement["Resource"] != "*"
            if action.startswith("elasticmapreduce:"):
                assert ":cluster/" in statement["Resource"]
                assert "aws:ResourceTag/emr-autoscaler" in statement["Condition"]["StringEquals"]


def test_modify_instance_groups_without_cluster_id_is_denied() -> None:
    """ModifyInstanceGroups accepts group ids alone, escaping cluster scoping: a NotResource deny closes that."""
    denies = [s for s in POLICY["Statement"] if s["Effect"] == "Deny"]
    assert any(
        "elasticmapreduce:ModifyInstanceGroups" in _actions(s) and s.get("NotResource", "").endswith(":cluster/*")
        for s in denies
    )


def test_the_interruption_queue_arn_matches_the_example_config_url() -> None:
    """The SQS statement's queue is the one config.example.yaml points interruptions_queue_url at."""
    text = (DEPLOY / "config.example.yaml").read_text()
    url = next(line.split(": ", 1)[1] for line in text.splitlines() if "interruptions_queue_url:" in line)
    _, _, host, account, queue = url.strip().split("/")
    region = host.split(".")[1]
    arn = next(s["Resource"] for s in POLICY["Statement"] if "sqs:ReceiveMessage" in _actions(s))
    assert arn == f"arn:aws:sqs:{region}:{account}:{queue}"
    config = parse_config(
        {
            "clusters": [
                {
                    "cluster_id": "j-ABC",
                    "yarn": {"urls": ["http://rm:8088"]},
                    "policies": [{"type": "static"}],
                    "interruptions_queue_url": url.strip(),
                }
            ]
        },
        env={},
    )
    assert config.clusters[0].interruptions_queue_url == url.strip()
