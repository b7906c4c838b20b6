"""Where a config problem is blamed, and the `EMR_AUTOSCALER_*` overrides (read by pydantic-settings).

Every problem is a `path: message` line; `ConfigError` keeps the file's problems apart from the
environment's, so a bad `EMR_AUTOSCALER_DRY_RUN` names the variable, never the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from typing import Any, Final

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

ENV_PREFIX: Final = "EMR_AUTOSCALER_"
ENV_SOURCE: Final = "environment"
Loc = tuple[int | str, ...]


class EnvOverrides(BaseSettings):
    """The top-level keys the environment overrides, `EMR_AUTOSCALER_<KEY>`, read and typed by pydantic-settings.

    Validated on their own first, so a bad value is blamed on the variable, never on the file.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    dry_run: bool | None = None
    poll_interval_s: float | None = None
    metrics_port: int | None = None
    metrics_bind_address: str | None = None
    log_format: str | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        environ = _ENVIRON.get()
        return (env_settings,) if environ is None else (_MappingSource(settings_cls, environ),)

    @classmethod
    def read(cls, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The overrides set in `environ` (default: the process environment); raises ConfigError."""
        token = _ENVIRON.set(environ)
        try:
            return cls().model_dump(exclude_none=True)
        except ValidationError as err:
            raise ConfigError(ENV_SOURCE, [], env_problems=env_problems(err.errors())) from None
        finally:
            _ENVIRON.reset(token)


_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("emr_autoscaler_environ", default=None)


class _MappingSource(PydanticBaseSettingsSource):
    """`EMR_AUTOSCALER_*` from a given mapping (tests, `env=`) instead of `os.environ`."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self._environ = {k.upper(): v for k, v in environ.items()}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._environ.get(ENV_PREFIX + field_name.upper()), field_name, False

    def __call__(self) -> dict[str, Any]:
        out = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                out[key] = value
        return out


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
