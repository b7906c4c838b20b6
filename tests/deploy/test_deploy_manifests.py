"""Kubernetes, ECS and compose manifests parse and keep the one-autoscaler-per-cluster and non-root rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from autoscaler.config import parse_config
from autoscaler.policy import load_policies

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
METRICS_PORT = 9464


def _k8s() -> dict[str, dict[str, Any]]:
    docs: dict[str, dict[str, Any]] = {}
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            docs[doc["kind"]] = doc
    return docs


K8S = _k8s()


def test_kustomization_lists_every_manifest() -> None:
    """kubectl apply -k applies every manifest in deploy/k8s/."""
    listed = set(K8S["Kustomization"]["resources"])
    on_disk = {p.name for p in (DEPLOY / "k8s").glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk


def test_deployment_is_a_single_recreated_replica() -> None:
    """replicas 1 and strategy Recreate: two autoscalers never run against one cluster, even mid-rollout."""
    spec = K8S["Deployment"]["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}


def test_pod_runs_non_root_with_read_only_root() -> None:
    """Pod and container security contexts: non-root numeric user, read-only root, no privilege escalation."""
    pod = K8S["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] > 0
    (container,) = pod["containers"]
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]


def test_probes_service_and_configmap_agree_on_the_metrics_port() -> None:
    """Readiness hits /readyz, liveness /livez, on the named metrics port the Service targets and the config uses."""
    pod = K8S["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (port,) = container["ports"]
    assert port["containerPort"] == METRICS_PORT
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/livez")):
        assert container[probe]["httpGet"] == {"path": path, "port": port["name"]}
    (svc_port,) = K8S["Service"]["spec"]["ports"]
    assert svc_port["targetPort"] == port["name"]
    assert K8S["Service"]["spec"]["selector"].items() <= pod_labels().items()
    config = parse_config(yaml.safe_load(K8S["ConfigMap"]["data"]["config.yaml"]), env={})
    assert config.metrics_port == METRICS_PORT


def pod_labels() -> dict[str, str]:
    labels: dict[str, str] = K8S["Deployment"]["spec"]["template"]["metadata"]["labels"]
    return labels


def test_configmap_holds_a_valid_dry_run_config_mounted_where_the_daemon_reads() -> None:
    """The ConfigMap config validates (policies too), is dry-run, and is mounted at the path in args."""
    config = parse_config(yaml.safe_load(K8S["ConfigMap"]["data"]["config.yaml"]), env={})
    assert config.dry_run is True
    for cluster in config.clusters:
        assert load_policies(cluster.policies)
    pod = K8S["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    config_volume = next(
        v["name"] for v in pod["volumes"] if v.get("configMap", {}).get("name") == "emr-autoscaler-config"
    )
    assert container["args"] == ["run", "-c", f"{mounts[config_volume]}/config.yaml"]


def test_service_account_carries_an_irsa_role_annotation() -> None:
    """The pod uses the ServiceAccount whose eks.amazonaws.com/role-arn gives it the IAM role."""
    sa = K8S["ServiceAccount"]
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")
    assert K8S["Deployment"]["spec"]["template"]["spec"]["serviceAccountName"] == sa["metadata"]["name"]


def test_ecs_task_is_non_root_read_only_and_health_checked() -> None:
    """The ECS container runs as a non-root user, read-only, with a /livez health check on 9464 (ECS replaces
    an unhealthy task: liveness, not readiness)."""
    task = json.loads((DEPLOY / "ecs" / "task-definition.json").read_text())
    (container,) = task["containerDefinitions"]
    assert container["user"].split(":")[0] not in {"0", "root"}
    assert container["readonlyRootFilesystem"] is True
    assert container["portMappings"][0]["containerPort"] == METRICS_PORT
    assert any("/livez" in part for part in container["healthCheck"]["command"])
    assert {"name": "EMR_AUTOSCALER_DRY_RUN", "value": "true"} in container["environment"]


def test_ecs_service_never_runs_two_tasks() -> None:
    """desiredCount 1 and maximumPercent 100: a deployment stops the old task before starting the new one."""
    service = json.loads((DEPLOY / "ecs" / "service.json").read_text())
    assert service["desiredCount"] == 1
    assert service["deploymentConfiguration"]["maximumPercent"] == 100
    assert service["deploymentConfiguration"]["minimumHealthyPercent"] == 0


def test_compose_wires_prometheus_and_grafana_to_the_daemon() -> None:
    """Prometheus scrapes the compose service by name on 9464 and mounts the rules; Grafana gets the dashboard."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    (job,) = prometheus["scrape_configs"]
    (target,) = job["static_configs"][0]["targets"]
    host, port = target.split(":")
    assert host in services
    assert int(port) == METRICS_PORT
    assert services[host]["command"] == ["demo", "--keep-running"]
    assert "./prometheus:/etc/prometheus:ro" in services["prometheus"]["volumes"]
    assert (DEPLOY / "prometheus" / "alerts.yml").exists()
    live = services["autoscaler-live"]
    assert host in live["networks"]["default"]["aliases"]
    grafana_mounts = services["grafana"]["volumes"]
    assert any(m.startswith("./grafana/dashboard.json:") for m in grafana_mounts)


def test_compose_pins_images_and_holds_no_credentials() -> None:
    """Every image has a non-latest tag; credential variables are passed through by name, never given values."""
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    for name, service in services.items():
        image = service["image"]
        assert ":" in image, f"{name}: image {image!r} not pinned to a tag"
        assert not image.endswith(":latest")
        env = service.get("environment", {})
        pairs = env.items() if isinstance(env, dict) else [entry.partition("=")[::2] for entry in env]
        for key, value in pairs:
            if any(word in key for word in ("SECRET", "KEY", "TOKEN", "PASSWORD")):
                assert not value, f"{name}: {key} has a value in compose.yaml"


def test_grafana_provisioning_points_at_prometheus_and_the_dashboard() -> None:
    """The provisioned datasource is the compose Prometheus, and the dashboard uses it through a variable."""
    prov = DEPLOY / "grafana" / "provisioning"
    (ds,) = yaml.safe_load((prov / "datasources" / "prometheus.yaml").read_text())["datasources"]
    assert ds["url"] == "http://prometheus:9090"
    (provider,) = yaml.safe_load((prov / "dashboards" / "emr-autoscaler.yaml").read_text())["providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    dashboard = json.loads((DEPLOY / "grafana" / "dashboard.json").read_text())
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}"
        assert panel["targets"]
