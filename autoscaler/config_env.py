"""Where a config problem is blamed, and the `EMR_AUTOSCALER_*` overrides (read by pydantic-settings).

Every problem is a `path: message` line; `ConfigError` keeps the file's problems apart from the
environment's, so a bad `EMR_AUTOSCALER_DRY_RUN` names the variable, never the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from pydantic import ValidationError

ENV_PREFIX: Final = "EMR_AUTOSCALER_"
ENV_SOURCE: Final = "environment"
Loc = tuple[int | str, ...]


def read_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """The `EMR_AUTOSCALER_*` overrides set in `environ`; raises ConfigError.

    pydantic-settings (a tenth of a second to import) is loaded only when such a variable is set:
    without one there is nothing to read, and every simulator run starts faster.
    """
    if not any(k.upper().startswith(ENV_PREFIX) for k in environ):
        return {}
    from autoscaler.config_settings import EnvOverrides  # noqa: PLC0415

    return EnvOverrides.read(environ)


def env_var(key: str) -> str:
    return ENV_PREFIX + key.upper()


class ConfigError(Exception):
    """All problems found in one config: `problems` in the file (each with its path), `env_problems`
    in `EMR_AUTOSCALER_*` variables (each naming the variable)."""

    def __init__(self, source: str, problems: list[str], env_problems: list[str] | None = None) -> None:
        self.source = source
        self.problems = problems
        self.env_problems = env_problems or []
        super().__init__("; ".join(self.lines()))

    def lines(self) -> list[str]:
        """One `where: problem` line per problem, the file's first."""
        return [f"{self.source}: {p}" for p in self.problems] + [f"{ENV_SOURCE}: {p}" for p in self.env_problems]


def loc_text(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def located(e: Mapping[str, Any]) -> tuple[Loc, str]:
    """(path, message) of one pydantic error; a model validator's "field: message" joins the path."""
    loc: Loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    msg = str(e["msg"]).removeprefix("Value error, ")
    if ": " in msg and e["type"] == "value_error":
        field_name, _, msg = msg.partition(": ")
        loc = (*loc, field_name)
    return loc, msg


def format_errors(err: ValidationError) -> list[str]:
    return [f"{loc_text(loc) or '<root>'}: {msg}" for loc, msg in map(located, err.errors())]


def env_problems(errors: Iterable[Mapping[str, Any]]) -> list[str]:
    return [f"{env_var(str(loc[0]))}: {msg}" for loc, msg in map(located, errors) if loc]


def prune(data: Any, loc: Loc) -> bool:
    """Drop the value at `loc` from the raw data (a dict key only), so the next pass checks the rest."""
    for part in loc[:-1]:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return False
    if isinstance(data, dict) and loc and loc[-1] in data:
        del data[loc[-1]]
        return True
    return False
