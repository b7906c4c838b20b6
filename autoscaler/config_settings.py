"""The `EMR_AUTOSCALER_*` overrides, read and typed by pydantic-settings (imported only when one is set)."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from autoscaler.config_env import ENV_PREFIX, ENV_SOURCE, ConfigError, env_problems


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
