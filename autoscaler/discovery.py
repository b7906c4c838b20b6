"""Clusters found by tag: every `discovery.rescan_interval_s`, EMR ListClusters (active states) and
DescribeCluster; a cluster tagged `<tag_key>=<tag_value>` is managed with the config's template, its
own tags `<settings_prefix><setting>` on top, and its YARN at the master's DNS name.

Why these rules:
- A cluster whose tags or resulting settings are bad is never ticked: one `discovery_rejected`
  warning per scan names the cluster and each bad tag (`tag emr-autoscaler/max-task-units='ten': ...`).
  Acting on a guessed setting would resize a cluster nobody configured that way.
- A tagged cluster without a master DNS name yet (still starting) waits for a later scan.
- A failed scan (EMR unreachable, throttled) keeps the clusters found before: an outage of the EMR
  API must not drop every cluster. A cluster whose DescribeCluster fails keeps its last settings.
- A cluster whose settings changed gets new deps (sources, actuator, policies) and keeps its memory
  (the runner holds memory by cluster id); a cluster no longer found (terminated, untagged) is
  dropped, and its lease released.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final, Generic, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from autoscaler.config import ClusterConfig, DiscoveryConfig
from autoscaler.logs import EventLogger
from autoscaler.policy import available_policies
from autoscaler.ports import Cluster, EmrDiscoveryPort

ACTIVE_STATES: Final = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING"]
"""EMR's states of a cluster that is up or coming up (TERMINATING and after are gone for good)."""

UNIT_SETTINGS: Final = {
    "min-task-units": ("limits", "min_task_units"),
    "max-task-units": ("limits", "max_task_units"),
    "min-core-units": ("limits", "min_core_units"),
    "max-core-units": ("limits", "max_core_units"),
}
POLICY_SETTING: Final = "policy"
_WHOLE: Final = re.compile(r"\d{1,9}")

T = TypeVar("T")


def tag_settings(tags: Mapping[str, str], config: DiscoveryConfig) -> tuple[dict[str, Any], list[str]]:
    """The template overrides a cluster's tags ask for, and every problem, each naming its tag."""
    overrides: dict[str, Any] = {}
    problems: list[str] = []
    prefix = config.settings_prefix
    for key, value in sorted(tags.items()):
        if key == config.tag_key or not key.startswith(prefix):
            continue
        name, where = key[len(prefix) :], f"tag {key}={value!r}"
        if name in UNIT_SETTINGS:
            if not _WHOLE.fullmatch(value.strip()):
                problems.append(f"{where}: not a whole number of units")
                continue
            section, field = UNIT_SETTINGS[name]
            overrides.setdefault(section, {})[field] = int(value)
        elif name == POLICY_SETTING:
            known = available_policies()
            if value not in known:
                problems.append(f"{where}: unknown policy; available: {', '.join(sorted(known))}")
                continue
            overrides["policies"] = [{"type": value}]
        else:
            known_settings = ", ".join(prefix + s for s in [*UNIT_SETTINGS, POLICY_SETTING])
            problems.append(f"{where}: unknown setting; known: {known_settings}")
    return overrides, problems


def cluster_config(description: Cluster, config: DiscoveryConfig) -> tuple[ClusterConfig | None, list[str]]:
    """A tagged cluster's config, or None and why not (no problems: not addressable yet)."""
    tags = {t.get("Key", ""): t.get("Value", "") for t in description.get("Tags", [])}
    overrides, problems = tag_settings(tags, config)
    dns = description.get("MasterPublicDnsName")
    if problems or not dns:
        return None, problems
    try:
        return config.cluster(description.get("Id", ""), dns, overrides), []
    except ValidationError as err:
        return None, ["tags/template: " + ".".join(map(str, e["loc"])) + f": {e['msg']}" for e in err.errors()]


class Discovery(Generic[T]):
    """The tagged clusters, each built once per distinct config with `build` (T: the daemon's
    `ClusterDeps`); `scan` never raises. Thread-safe: the scan job writes, the tick rounds read."""

    def __init__(
        self,
        config: DiscoveryConfig,
        emr: EmrDiscoveryPort,
        build: Callable[[ClusterConfig], T],
        logger: EventLogger,
        *,
        on_scan: Callable[[Mapping[str, int] | None], None] = lambda _: None,
        on_drop: Callable[[T], None] = lambda _: None,
    ) -> None:
        self.config, self.emr, self.build, self.logger = config, emr, build, logger
        self.on_scan, self.on_drop = on_scan, on_drop
        self.interval_s = config.rescan_interval_s
        self._lock = threading.Lock()
        self._found: dict[str, tuple[ClusterConfig, T]] = {}

    def clusters(self) -> tuple[T, ...]:
        with self._lock:
            return tuple(deps for _, deps in self._found.values())

    def scan(self) -> None:
        try:
            ids = list(self._active_ids())
        except (ClientError, BotoCoreError) as err:
            self.logger.warning("discovery_failed", error=f"ListClusters: {err}", kept=len(self._found))
            self.on_scan(None)
            return
        counts = {"managed": 0, "rejected": 0, "waiting": 0}
        found: dict[str, tuple[ClusterConfig, T]] = {}
        for cid in ids:
            entry, state = self._one(cid)
            if entry is not None:
                found[cid] = entry
            if state in counts:
                counts[state] += 1
        with self._lock:
            dropped = [deps for cid, (_, deps) in self._found.items() if cid not in found]
            self._found = found
        for deps in dropped:
            self.on_drop(deps)
        self.logger.info("discovery_scan", listed=len(ids), **counts, dropped=len(dropped))
        self.on_scan(counts)

    def _active_ids(self) -> Iterator[str]:
        marker: str | None = None
        while True:
            page = (
                self.emr.list_clusters(ClusterStates=ACTIVE_STATES, Marker=marker)
                if marker
                else self.emr.list_clusters(ClusterStates=ACTIVE_STATES)
            )
            yield from (c["Id"] for c in page.get("Clusters", []) if c.get("Id"))
            marker = page.get("Marker")
            if not marker:
                return

    def _one(self, cid: str) -> tuple[tuple[ClusterConfig, T] | None, str]:
        """(the cluster's entry or None, its state: managed, rejected, waiting or untagged)."""
        with self._lock:
            known = self._found.get(cid)
        try:
            description = self.emr.describe_cluster(ClusterId=cid).get("Cluster", {})
        except (ClientError, BotoCoreError) as err:
            self.logger.warning("discovery_failed", cluster=cid, error=f"DescribeCluster: {err}", kept=bool(known))
            return known, "managed" if known else "untagged"
        tags = {t.get("Key"): t.get("Value") for t in description.get("Tags", [])}
        if tags.get(self.config.tag_key) != self.config.tag_value:
            return None, "untagged"
        config, problems = cluster_config(description, self.config)
        if config is None and not problems:
            self.logger.info("discovery_waiting", cluster=cid, reason="no master DNS name yet")
            return None, "waiting"
        if config is not None and known is not None and known[0] == config:
            return known, "managed"
        if config is not None:
            try:
                return (config, self.build(config)), "managed"
            except Exception as err:  # a policy's options refused, an unreadable price file: this cluster only
                problems = [f"{type(err).__name__}: {err}"]
        self.logger.warning("discovery_rejected", cluster=cid, problems=problems, managed=False)
        return None, "rejected"
