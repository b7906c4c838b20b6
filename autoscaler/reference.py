"""The Markdown config reference, generated from the pydantic models' field descriptions (the config's
and each built-in policy's options) so the docs cannot drift from the code (a test compares
`docs/config-reference.md` with this output).
"""

from __future__ import annotations

import json
import sys
import types
import typing
from enum import Enum
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from autoscaler.config import ENV_PREFIX, AppConfig
from autoscaler.policy import available_policies

_HEADER = f"""# Configuration reference

Generated from `autoscaler/config.py` by `emr-autoscaler config-reference`; do not edit by hand.

A YAML file (UTF-8), validated as a whole: every problem is reported at once with its path — field
errors, cross-field ones (`clusters[0].limits.max_task_units: must be >= min_task_units`) and unknown
policies or options alike — and `emr-autoscaler validate -c FILE` (or `run`) exits 2. Unknown keys are
errors; durations must be finite (no `.inf`/`.nan`) and within the bounds below. These top-level keys
can be overridden from the environment (a bad value is reported against the variable, not the file):
`{ENV_PREFIX}DRY_RUN`, `{ENV_PREFIX}POLL_INTERVAL_S`, `{ENV_PREFIX}METRICS_PORT`,
`{ENV_PREFIX}METRICS_BIND_ADDRESS`, `{ENV_PREFIX}LOG_FORMAT`.
AWS endpoints and credentials come from boto3's standard chain (`AWS_ENDPOINT_URL`,
`AWS_ENDPOINT_URL_EMR`, `AWS_PROFILE`, instance roles, ...), never from this file.
"""


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The pydantic model inside an annotation (e.g. `list[ClusterConfig]`), and whether it is a list."""
    origin = typing.get_origin(annotation)
    if origin in (list, tuple):
        inner, _ = _model_of(typing.get_args(annotation)[0])
        return inner, True
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            model, is_list = _model_of(arg)
            if model is not None:
                return model, is_list
        return None, False
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def _type_name(annotation: Any) -> str:
    """A readable type: constraints (`Annotated`) dropped, unions as `a or b`, enums and literals by value."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    if origin is typing.Literal:
        return " or ".join(json.dumps(a) for a in args)
    if origin in (list, tuple, dict):
        return f"{origin.__name__}[{', '.join(_type_name(a) for a in args)}]"
    if annotation is type(None):
        return "None"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " or ".join(json.dumps(m.value) for m in annotation)
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("autoscaler.config.", "")


def _bounds(info: FieldInfo) -> str:
    """A field's numeric limits (`> 0, ≤ 86400`), so the reference says what `validate` will refuse."""
    parts = []
    for meta in info.metadata:
        for attr, sign in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤")):
            value = getattr(meta, attr, None)
            if isinstance(value, int | float) and not isinstance(value, bool):
                parts.append(f"{sign} {value:g}")
    return ", ".join(parts)


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
        return "see below" if isinstance(value, BaseModel) else f"`{json.dumps(value)}`"
    if info.default is PydanticUndefined:
        return ""
    return f"`{json.dumps(info.default)}`"


def _section(model: type[BaseModel], path: str, out: list[str], level: int = 2) -> None:
    nested: list[tuple[type[BaseModel], str]] = []
    out.append(f"{'#' * level} `{path}`\n" if path else f"{'#' * level} Top level\n")
    doc = (model.__doc__ or "").strip()
    if doc and model is not AppConfig:
        out.append(doc.splitlines()[0] + "\n")
    out.append("| key | type | default | description |")
    out.append("|---|---|---|---|")
    for name, info in model.model_fields.items():
        sub, is_list = _model_of(info.annotation)
        key = f"{path}.{name}" if path else name
        type_name = f"list of `{key}[]` entries" if sub and is_list else _type_name(info.annotation)
        if bounds := _bounds(info):
            type_name += f" ({bounds})"
        description = (info.description or "").replace("|", "\\|")
        if sub is not None and not description:
            description = f"See `{f'{key}[]' if is_list else key}` below."
        out.append(f"| `{name}` | {type_name.replace('|', 'or')} | {_default(info)} | {description} |")
        if sub is not None:
            nested.append((sub, f"{key}[]" if is_list else key))
    out.append("")
    for sub, sub_path in nested:
        _section(sub, sub_path, out, level)


def _builtin_policies() -> list[tuple[str, type[Any]]]:
    """The policies this package ships (module `policies.*`), not whatever else happens to be installed."""
    eps = available_policies()
    return sorted((name, ep.load()) for name, ep in eps.items() if ep.value.startswith("policies."))


def _policies_section(out: list[str]) -> None:
    out.append("## Built-in policies\n")
    out.append(
        "Each `clusters[].policies[]` entry names one of these as `type`; its `options` are checked by the\n"
        "policy when the daemon starts (unknown options are errors). The full description of each\n"
        "algorithm, with its sources, is its module's docstring in `policies/`.\n"
    )
    for name, cls in _builtin_policies():
        module = sys.modules[cls.__module__]
        summary = (module.__doc__ or "").strip().split("\n\n")[0]
        out.append(f"### `{name}`\n")
        out.append(" ".join(summary.split()) + f" (`{cls.__module__}`)\n")
        options = typing.get_type_hints(cls.__init__)["options"]
        _section(options, "options", out, level=4)


_SIM_INTRO = """## `sim`

The simulated cluster, read by `emr-autoscaler simulate --config FILE` only (the daemon ignores the
section). Validated like the rest: every problem at once with its path, unknown keys are errors,
and booleans and numbers are strict (`interruptions: "false"` is an error, not true). Generated from
`autoscaler/sim/settings.py`; the model behind each key is described in `autoscaler/sim/spec.py`.
"""


def config_reference() -> str:
    from autoscaler.sim.settings import SimSettings  # noqa: PLC0415 - keeps the simulator out of the daemon's imports

    out = [_HEADER]
    _section(AppConfig, "", out)
    out.append(_SIM_INTRO)
    _section(SimSettings, "sim", out, level=3)
    _policies_section(out)
    return "\n".join(out).rstrip() + "\n"
