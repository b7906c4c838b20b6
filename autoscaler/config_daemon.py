"""The daemon-wide config sections (metrics server security, high availability, cluster discovery) and
the strict base every config model shares; apart from `config.py` to keep each module short.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

if TYPE_CHECKING:
    from autoscaler.config import ClusterConfig


class Strict(BaseModel):
    # inf/nan are YAML floats (.inf, .nan) but never a duration: refused by every float field
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


DAY_S: Final = 86_400
WEEK_S: Final = 7 * DAY_S
REGION_PATTERN: Final = r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+$"
"""AWS region names (us-east-1, us-gov-west-1, us-isob-east-1, ...), as botocore's endpoint data spells them."""


class MetricsTlsConfig(Strict):
    """HTTPS for the metrics server (TLS 1.2+); without it the server speaks plain HTTP."""

    cert_file: str = Field(min_length=1, description="PEM certificate chain, server certificate first.")
    key_file: str | None = Field(None, description="PEM private key; default: the key is in cert_file.")


class MetricsAuthConfig(Strict):
    """HTTP basic auth on /metrics and /debug/decision; the probes (/livez, /readyz, /healthz) stay open."""

    username: str = Field(min_length=1, description="User name Prometheus sends.")
    password_file: str = Field(
        min_length=1, description="File holding the password (e.g. a mounted Secret); never the password itself."
    )


class HaConfig(Strict):
    lease_table: str | None = Field(
        None,
        min_length=3,
        max_length=255,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="DynamoDB table of per-cluster leases (deploy/dynamodb/lease-table.yaml): set it to run two or "
        "more replicas; only a cluster's lease holder reads, decides and writes, and its memory travels with the "
        "lease. Unset: one replica, always acting.",
    )
    lease_duration_s: float = Field(
        90,
        gt=0,
        le=DAY_S,
        description="A leader that has not renewed its lease for this long (as each standby's own clock measures) "
        "is replaced; at least 2 x poll_interval_s. Failover takes at most this plus two poll intervals.",
    )
    region: str | None = Field(
        None, pattern=REGION_PATTERN, description="Region of the lease table; default each cluster's region."
    )
    memory_file: str | None = Field(
        None,
        min_length=1,
        description="Without lease_table: a JSON file keeping controller memory across restarts of the one replica "
        "(cooldowns, confirmations, back-offs). Unset: memory starts empty at every start.",
    )

    @model_validator(mode="after")
    def _one_store(self) -> Self:
        if self.lease_table is not None and self.memory_file is not None:
            raise ValueError(
                "set lease_table (replicas share memory in DynamoDB) or memory_file (one replica), not both"
            )
        return self


TEMPLATE_CLUSTER_ID: Final = "j-TEMPLATE"
"""Stands in for a discovered cluster's id while the template is validated at load."""


class DiscoveryConfig(Strict):
    """Clusters found by tag (EMR ListClusters + DescribeCluster), managed beside `clusters`."""

    tag_key: str = Field(
        "emr-autoscaler/enabled", min_length=1, max_length=128, description="Tag that marks a cluster to manage."
    )
    tag_value: str = Field("true", max_length=256, description="Value `tag_key` must have (exactly).")
    settings_prefix: str = Field(
        "emr-autoscaler/",
        min_length=1,
        max_length=100,
        description="Tags `<prefix><setting>` override the template per cluster: min-task-units, max-task-units, "
        "min-core-units, max-core-units (integers), policy (a policy name, replacing the template's policies). "
        "Any other tag under the prefix, or a bad value, skips the cluster with a `discovery_rejected` event.",
    )
    rescan_interval_s: float = Field(
        300, gt=0, le=DAY_S, description="Seconds between scans (clusters added, re-tagged or terminated)."
    )
    region: str = Field("us-east-1", pattern=REGION_PATTERN, description="Region scanned; discovered clusters' region.")
    yarn_scheme: Literal["http", "https"] = Field("http", description="Scheme of the ResourceManager URL.")
    yarn_port: int = Field(8088, ge=1, le=65535, description="ResourceManager port on the master node.")
    template: dict[str, Any] = Field(
        description="Settings of every discovered cluster: any `clusters[]` key but cluster_id, region and "
        "yarn.urls (the URL is `<yarn_scheme>://<MasterPublicDnsName>:<yarn_port>`, EMR's master DNS name, "
        "private in a private subnet); `policies` is required. Validated at load like a cluster."
    )

    @model_validator(mode="after")
    def _template_is_a_cluster(self) -> Self:
        for key in ("cluster_id", "region"):
            if key in self.template:
                raise ValueError(f"template.{key}: set by discovery, not in the template")
        if "urls" in (self.template.get("yarn") or {}):
            raise ValueError("template.yarn.urls: set by discovery (yarn_scheme, yarn_port), not in the template")
        try:
            self.cluster(TEMPLATE_CLUSTER_ID, "template.invalid")
        except ValidationError as err:
            problems = ("template." + ".".join(map(str, e["loc"])) + ": " + e["msg"] for e in err.errors())
            raise ValueError("; discovery.".join(problems)) from None  # each located like the first
        return self

    def cluster(self, cluster_id: str, master_dns: str, overrides: dict[str, Any] | None = None) -> ClusterConfig:
        """The `ClusterConfig` of a discovered cluster: the template, `overrides` (nested keys) on top;
        raises pydantic's ValidationError for a bad value."""
        from autoscaler.config import ClusterConfig  # noqa: PLC0415 - config imports this module

        data: dict[str, Any] = {**self.template}
        for section, values in (overrides or {}).items():
            data[section] = {**(data.get(section) or {}), **values} if isinstance(values, dict) else values
        url = f"{self.yarn_scheme}://{master_dns}:{self.yarn_port}"
        data.update(cluster_id=cluster_id, region=self.region, yarn={**(data.get("yarn") or {}), "urls": [url]})
        return ClusterConfig.model_validate(data)
