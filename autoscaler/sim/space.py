"""`tune`'s search space, read off a policy's options model: the ranges are declared once, on the fields.

A field is searched when it is
- a number (int or float) with both a lower (`ge`/`gt`) and an upper (`le`/`lt`) bound: uniform over
  that range (`gt`/`lt` exclusive: the next representable value, or ±1 for an int);
- a bool, an Enum or a Literal: categorical over its values.

Everything else is not searched and keeps the value the config gives it (or its default): fields
with one bound or none, nullable fields (`None` means "off", a choice the operator makes, not a
dial), and structured ones (pool maps, windows). The options model is the type of the policy class's
`__init__(options)` parameter, the convention `config-reference` reads it by.
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from autoscaler.policy import PolicyError, available_policies


@dataclass(frozen=True, slots=True)
class Param:
    """One searched option. `name` is `policy.option`, unique across a policy set (`A+B`)."""

    policy: str
    option: str
    kind: typing.Literal["int", "float", "categorical"]
    low: float = 0.0
    high: float = 0.0
    choices: tuple[Any, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.policy}.{self.option}"

    def describe(self) -> str:
        if self.kind == "categorical":
            return f"{self.name} in {{{', '.join(str(c) for c in self.choices)}}}"
        return f"{self.name} in [{self.low:g}, {self.high:g}]"


def options_model(policy_type: str) -> type[BaseModel]:
    """The pydantic model a policy validates its options with (its `__init__(options)` annotation)."""
    eps = available_policies()
    if policy_type not in eps:
        raise PolicyError(f"--policy: unknown policy {policy_type!r}; available: {', '.join(sorted(eps))}")
    cls = eps[policy_type].load()
    try:
        model = typing.get_type_hints(cls.__init__).get("options")
    except (NameError, TypeError):
        model = None
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise PolicyError(f"--policy {policy_type}: its options are not a pydantic model; nothing to tune")
    return model


def _bounds(info: FieldInfo, integer: bool) -> tuple[float, float] | None:
    low = high = None
    for meta in info.metadata:
        if (v := getattr(meta, "ge", None)) is not None:
            low = v
        if (v := getattr(meta, "gt", None)) is not None:
            low = v + 1 if integer else math.nextafter(v, math.inf)
        if (v := getattr(meta, "le", None)) is not None:
            high = v
        if (v := getattr(meta, "lt", None)) is not None:
            high = v - 1 if integer else math.nextafter(v, -math.inf)
    if low is None or high is None or high < low:
        return None
    return float(low), float(high)


def field_param(policy: str, option: str, info: FieldInfo) -> Param | None:
    """The search dimension of one field, or None when the field is not searched (see the module doc)."""
    annotation = info.annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return None  # nullable or a union: not a dial
    if origin is typing.Literal:
        return Param(policy, option, "categorical", choices=typing.get_args(annotation))
    if annotation is bool:
        return Param(policy, option, "categorical", choices=(False, True))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return Param(policy, option, "categorical", choices=tuple(m.value for m in annotation))
    if annotation in (int, float):
        bounds = _bounds(info, integer=annotation is int)
        if bounds is None:
            return None
        return Param(policy, option, "int" if annotation is int else "float", low=bounds[0], high=bounds[1])
    return None


def search_space(policy_types: typing.Sequence[str]) -> tuple[Param, ...]:
    """Every searched option of every policy in the set, in declaration order."""
    params: list[Param] = []
    for policy in policy_types:
        model = options_model(policy)
        for option, info in model.model_fields.items():
            param = field_param(policy, option, info)
            if param is not None:
                params.append(param)
    return tuple(params)


def options_of(params: dict[str, Any], policy: str) -> dict[str, Any]:
    """The options of one policy from a trial's `policy.option` parameters."""
    prefix = f"{policy}."
    return {k.removeprefix(prefix): v for k, v in params.items() if k.startswith(prefix)}
