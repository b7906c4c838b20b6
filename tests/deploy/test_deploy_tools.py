"""Each deployment file checked by the tool its users run (issue 11): Debian's `docker-compose config`
for compose.yaml, `cfn-lint` for the CloudFormation template, `parliament` for the IAM policy,
`kubernetes-validate` (the Kubernetes OpenAPI schemas, strict) for the manifests. And every
manifest runs our container as non-root with a read-only root filesystem."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from autoscaler.sources.interruptions import INTERRUPTION, REBALANCE, parse_event

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
CFN = DEPLOY / "cloudformation" / "ecs-fargate.yaml"
LEASE_TABLE = DEPLOY / "dynamodb" / "lease-table.yaml"
SPOT_QUEUE = DEPLOY / "cloudformation" / "spot-interruptions.yaml"
POLICY = DEPLOY / "iam" / "policy.json"
LEASE_POLICY = DEPLOY / "iam" / "lease-policy.json"
DOCKER_COMPOSE = shutil.which("docker-compose")
CFN_LINT = Path(sys.executable).with_name("cfn-lint")


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form intrinsics (!Ref, !Sub, ...) read as {"Fn": value}."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node)
    else:
        value = loader.construct_mapping(node)  # type: ignore[arg-type]
    return {suffix: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def cfn(path: Path = CFN) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)
    return doc


# compose


@pytest.mark.skipif(
    DOCKER_COMPOSE is None, reason="docker-compose not installed (Debian: apt-get install docker-compose)"
)
@pytest.mark.parametrize("profile", [[], ["--profile", "live"]])
def test_debian_docker_compose_accepts_the_file(profile: list[str]) -> None:
    """Debian's docker-compose (1.29) validates compose.yaml against its schema; it rejected `name:`."""
    done = subprocess.run(
        [DOCKER_COMPOSE or "docker-compose", "-f", str(DEPLOY / "compose.yaml"), *profile, "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_compose_has_no_top_level_name() -> None:
    assert "name" not in yaml.safe_load((DEPLOY / "compose.yaml").read_text())


# CloudFormation


def test_cfn_lint_accepts_every_template() -> None:
    """The Fargate service, the HA lease table and the Spot interruption queue."""
    templates = [CFN, LEASE_TABLE, SPOT_QUEUE]
    done = subprocess.run(
        [str(CFN_LINT), *map(str, templates)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_lease_table_is_the_one_the_daemon_and_tests_use() -> None:
    """Key schema as `autoscaler.testing.create_lease_table` builds it (the HA tests run on that), and
    its policy is exactly the three item calls `autoscaler/lease.py` makes, on that table only."""
    resources = cfn(LEASE_TABLE)["Resources"]
    table = resources["LeaseTable"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "cluster_id", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "cluster_id", "AttributeType": "S"}]
    (statement,) = resources["LeasePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (shipped,) = json.loads(LEASE_POLICY.read_text())["Statement"]
    assert (
        sorted(statement["Action"])
        == sorted(shipped["Action"])
        == [
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
        ]
    )
    assert statement["Resource"] == {"GetAtt": "LeaseTable.Arn"}
    assert shipped["Resource"].endswith(":table/emr-autoscaler-leases")


def test_spot_queue_gets_the_events_the_daemon_parses_from_this_rule_only() -> None:
    """The rule matches exactly the two detail-types `sources/interruptions.py` parses and sends the event
    unchanged (the body is the EventBridge JSON it reads); only EventBridge, from this rule, may send;
    the queue is encrypted; the consumer policy is policy.json's SQS statement, on this queue only."""
    resources = cfn(SPOT_QUEUE)["Resources"]
    queue = resources["InterruptionQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert 600 <= queue["MessageRetentionPeriod"] <= 3600
    rule = resources["InterruptionRule"]["Properties"]
    assert rule["EventPattern"] == {"source": ["aws.ec2"], "detail-type": [INTERRUPTION, REBALANCE]}
    (target,) = rule["Targets"]
    assert target["Arn"] == {"GetAtt": "InterruptionQueue.Arn"}
    assert not {"Input", "InputPath", "InputTransformer"} & target.keys()
    allow, deny = resources["InterruptionQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert (allow["Effect"], allow["Principal"], allow["Action"]) == (
        "Allow",
        {"Service": "events.amazonaws.com"},
        "sqs:SendMessage",
    )
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": {"GetAtt": "InterruptionRule.Arn"}}}
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    (consumer,) = resources["ConsumerPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    shipped = next(s for s in json.loads(POLICY.read_text())["Statement"] if s["Sid"] == consumer["Sid"])
    assert sorted(consumer["Action"]) == sorted(shipped["Action"]) == ["sqs:DeleteMessage", "sqs:ReceiveMessage"]
    assert consumer["Resource"] == {"GetAtt": "InterruptionQueue.Arn"}
    assert shipped["Resource"].endswith(":" + cfn(SPOT_QUEUE)["Parameters"]["QueueName"]["Default"])
    assert cfn(SPOT_QUEUE)["Outputs"]["QueueUrl"]["Value"] == {"Ref": "InterruptionQueue"}


@pytest.mark.parametrize(
    ("detail_type", "detail", "action"),
    [
        (INTERRUPTION, {"instance-id": "i-0abc", "instance-action": "terminate"}, "terminate"),
        (REBALANCE, {"instance-id": "i-0abc"}, "rebalance"),
    ],
)
def test_events_the_rule_matches_are_parsed_by_the_daemon(
    detail_type: str, detail: dict[str, str], action: str
) -> None:
    """An event of AWS's documented shape, as the rule delivers it (body = the event), becomes a notice."""
    pattern = cfn(SPOT_QUEUE)["Resources"]["InterruptionRule"]["Properties"]["EventPattern"]
    event = {
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": detail_type,
        "source": "aws.ec2",
        "account": "123456789012",
        "time": "2026-12-02T03:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"],
        "detail": detail,
    }
    assert all(event[key] in values for key, values in pattern.items())
    notice = parse_event(json.dumps(event))
    assert notice is not None
    assert (notice.instance_id, notice.action) == ("i-0abc", action)


def test_cfn_task_role_grants_exactly_the_iam_policy() -> None:
    """The template's task role has policy.json's statements: same Sids, effects and actions."""
    (inline,) = cfn()["Resources"]["TaskRole"]["Properties"]["Policies"]
    ours = {s["Sid"]: s for s in inline["PolicyDocument"]["Statement"]}
    shipped = {s["Sid"]: s for s in json.loads(POLICY.read_text())["Statement"]}
    assert ours.keys() == shipped.keys()

    def actions(statement: dict[str, Any]) -> set[str]:
        action = statement["Action"]
        return {action} if isinstance(action, str) else set(action)

    for sid, statement in shipped.items():
        assert ours[sid]["Effect"] == statement["Effect"], sid
        assert actions(ours[sid]) == actions(statement), sid
        assert ("Condition" in ours[sid]) == ("Condition" in statement), sid


def test_cfn_service_is_one_task_and_the_container_non_root_read_only() -> None:
    resources = cfn()["Resources"]
    service = resources["Service"]["Properties"]
    assert service["DesiredCount"] == 1
    assert service["DeploymentConfiguration"]["MaximumPercent"] == 100
    (container,) = resources["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    assert container["User"].split(":")[0] not in {"0", "root"}
    assert container["ReadonlyRootFilesystem"] is True
    assert container["LinuxParameters"]["Capabilities"]["Drop"] == ["ALL"]
    assert any("/livez" in part for part in container["HealthCheck"]["Command"])


# IAM


def analyze_policy_string(text: str, include_community_auditors: bool = False) -> Any:
    """parliament's own API; imported here because its import leaves files open (a ResourceWarning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        check: Callable[..., Any] = importlib.import_module("parliament").analyze_policy_string
    return check(text, include_community_auditors=include_community_auditors)


@pytest.mark.parametrize("path", [POLICY, LEASE_POLICY], ids=lambda p: p.name)
def test_parliament_finds_nothing_in_the_iam_policies(path: Path) -> None:
    findings = analyze_policy_string(path.read_text(), include_community_auditors=True).findings
    assert [(f.issue, f.detail) for f in findings] == []


def test_parliament_would_catch_a_mistake() -> None:
    """The check has teeth: a misspelt action and a resource the action cannot take are reported."""
    policy = json.loads(POLICY.read_text())
    policy["Statement"][0]["Action"].append("elasticmapreduce:DescribeClusters")
    policy["Statement"].append({"Effect": "Allow", "Action": "sqs:ReceiveMessage", "Resource": "arn:aws:s3:::x"})
    issues = {f.issue for f in analyze_policy_string(json.dumps(policy)).findings}
    assert "UNKNOWN_ACTION" in issues
    assert "RESOURCE_MISMATCH" in issues


# Kubernetes


def _k8s_docs() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        out += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return out


K8S_DOCS = _k8s_docs()
SCHEMA_VERSION = kubernetes_validate.utils.latest_version()


@pytest.mark.parametrize(("name", "doc"), K8S_DOCS, ids=[f"{n}:{d['kind']}" for n, d in K8S_DOCS])
def test_kubernetes_manifests_match_the_api_schemas(name: str, doc: dict[str, Any]) -> None:
    """Strict: no unknown field, every type right, against the newest bundled Kubernetes API schemas.
    Kustomization is kustomize's, not an API object: it is checked by the manifest tests instead."""
    if doc["kind"] == "Kustomization":
        pytest.skip("kustomization.yaml is not a Kubernetes API object (no schema)")
    kubernetes_validate.validate(doc, SCHEMA_VERSION, strict=True)


def test_kubernetes_schema_check_has_teeth() -> None:
    deployment = next(doc for _, doc in K8S_DOCS if doc["kind"] == "Deployment")
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = "yes"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, SCHEMA_VERSION, strict=True)


# non-root, read-only root, in every manifest


def test_every_manifest_runs_the_daemon_non_root_with_a_read_only_root() -> None:
    """Kubernetes, ECS JSON, CloudFormation and both compose services."""
    deployment = next(doc for _, doc in K8S_DOCS if doc["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert all(c["securityContext"]["readOnlyRootFilesystem"] is True for c in pod["containers"])
    (ecs,) = json.loads((DEPLOY / "ecs" / "task-definition.json").read_text())["containerDefinitions"]
    assert (ecs["user"].split(":")[0], ecs["readonlyRootFilesystem"]) == ("10001", True)
    (cf,) = cfn()["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    assert (cf["User"].split(":")[0], cf["ReadonlyRootFilesystem"]) == ("10001", True)
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    for name in ("autoscaler", "autoscaler-live"):
        assert (services[name]["user"].split(":")[0], services[name]["read_only"]) == ("10001", True), name
