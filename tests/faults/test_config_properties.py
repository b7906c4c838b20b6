"""Property tests of config loading (issue 11): whatever the file holds, `check_config` returns a
config or raises one ConfigError with located problems; it never lets another exception escape.
The base is the fault suite's own daemon config (tests/faults/world.py), any part of it replaced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autoscaler.config import ConfigError
from autoscaler.config_check import check_config

from .world import daemon_config

BASE = daemon_config("http://10.0.0.5:8088")  # the fault suite's own: every guard set, a tick deadline
KEYS = [
    "dry_run",
    "poll_interval_s",
    "metrics_port",
    "metrics_bind_address",
    "log_format",
    "clusters",
    "limits",
    "yarn",
    "urls",
    "timeout_s",
    "region",
    "cluster_id",
    "policies",
    "type",
    "options",
    "guards",
    "pools",
    "min_task_units",
    "max_task_units",
    "cooldown_up_s",
    "metrics_tls",
    "metrics_basic_auth",
    "spot",
    "ha",
    "lease_table",
    "lease_duration_s",
    "memory_file",
    "interruptions_queue_url",
    "cluster_tick_deadline_s",
    "max_concurrent_clusters",
    "stale_after_s",
    "backoff_s",
    "x",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["j-ABC", "us-east-1", "pending-demand", "static", "-1", "1e400", "yes", ".inf"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.integers(0, 3)), inner, max_size=5),
    ),
    max_leaves=25,
)


def _mutate(data: Any, path: list[str | int], value: Any) -> Any:
    """BASE with the value at `path` (followed as far as it exists) replaced by `value`."""
    if not path or not isinstance(data, dict | list):
        return value
    head, *rest = path
    if isinstance(data, dict) and head in data:
        return {**data, head: _mutate(data[head], rest, value)}
    if isinstance(data, list) and isinstance(head, int) and head < len(data):
        return [_mutate(v, rest, value) if i == head else v for i, v in enumerate(data)]
    return value


paths = st.lists(st.one_of(st.sampled_from(KEYS), st.integers(0, 1)), max_size=4)


def _problems(path: Path) -> list[str]:
    """The error lines for `path` ([] when it is valid); any exception but ConfigError fails the test."""
    try:
        check_config(path, env={})
    except ConfigError as err:
        return err.lines() or ["<no problem named>"]
    return []


def _check(tmp_path: Path, data: Any) -> None:
    path = tmp_path / "config.yaml"
    try:
        path.write_text(yaml.safe_dump(data))
    except (yaml.YAMLError, ValueError):
        return  # not representable as YAML
    assert all(": " in line and "<no problem named>" not in line for line in _problems(path))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=paths, value=values)
def test_a_good_config_with_any_part_replaced(tmp_path: Path, path: list[str | int], value: Any) -> None:
    _check(tmp_path, _mutate(BASE, path, value))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=values)
def test_any_yaml_document(tmp_path: Path, data: Any) -> None:
    _check(tmp_path, data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
def test_any_bytes(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(raw)
    assert "<no problem named>" not in _problems(path)
