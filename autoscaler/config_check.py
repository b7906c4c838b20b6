"""A config file checked in one pass: the file, the environment and every policy's name and options.

`validate` and `run` share it, so an operator fixes everything after one run and `run` refuses the
same files `validate` does (exit 2, one located line per problem, never a traceback).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from autoscaler.config import AppConfig, ConfigError, PolicySpec, parse_config, read_config_file
from autoscaler.metrics_server import security_problems
from autoscaler.policy import PolicyError, load_policy


def check_config(path: str | Path, env: Mapping[str, str] | None = None) -> AppConfig:
    """The validated config, or one ConfigError with every problem of the file and the environment."""
    data = read_config_file(path)
    config: AppConfig | None = None
    problems: list[str] = []
    env_problems: list[str] = []
    try:
        config = parse_config(data, str(path), env)
    except ConfigError as err:
        problems, env_problems = list(err.problems), list(err.env_problems)
    except RecursionError:
        problems = ["<root>: nested too deeply to validate"]
    problems += policy_problems(data)
    if config is not None:
        problems += security_problems(config)  # the TLS and password files load, as `run` will load them
    if config is None or problems or env_problems:
        raise ConfigError(str(path), problems, env_problems)
    return config


def policy_problems(data: Any) -> list[str]:
    """Unknown policy names and options a policy refuses, read from the raw file so they are found even
    when other parts of it are invalid; specs that are themselves malformed are left to the schema."""
    out: list[str] = []
    clusters = data.get("clusters") if isinstance(data, dict) else None
    for i, cluster in enumerate(clusters if isinstance(clusters, list) else []):
        specs = cluster.get("policies") if isinstance(cluster, dict) else None
        for j, raw in enumerate(specs if isinstance(specs, list) else []):
            try:
                spec = PolicySpec.model_validate(raw)
            except ValidationError:
                continue
            try:
                load_policy(spec, where=f"clusters[{i}].policies[{j}]")
            except PolicyError as err:
                out.append(str(err))
    return out
