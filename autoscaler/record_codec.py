"""A versioned JSON codec for one recorded tick: the snapshot the daemon decided on and what it decided.

Why: `run` records every tick (`record_dir`) so that `simulate --replay` can re-run other policies on
the very snapshots the daemon saw, and `trace import --recording` can rebuild the demand; both read
this format in another process, maybe another release, so it is explicit, versioned and checked on
the way in, in the spirit of `memory_codec`. One line per tick, compact: every dataclass in
`autoscaler.model` is encoded by field name (so a field added there travels without a change here),
and a field equal to its default is left out. A line of another `RECORD_VERSION` is refused rather
than half read. Floats that JSON cannot hold (nan, inf) are written as strings and read back.

The decision is recorded as the engine made it (recommendations, rejections, the plan, the
actuator's outcomes) without the controller memory: a replay runs each candidate with its own.

Pure: no I/O, no clock. `dumps`/`loads` add only `json`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import Enum
from types import MappingProxyType
from typing import Any, Final

from autoscaler.model import ClusterSnapshot, Outcome, Plan, Recommendation, Rejection

RECORD_VERSION: Final = 1
FILE_NAME: Final = re.compile(r"(?P<cluster>.+)-(?P<seq>\d{6,})\.jsonl")
"""A recording file: `<cluster>-<seq>.jsonl`, seq increasing from 000001 (`autoscaler.recorder`)."""
_FLOATS: Final = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class RecordError(ValueError):
    """A line that is not a recorded tick of this version; the message names the field."""


@dataclass(frozen=True, slots=True)
class TickRecord:
    """One tick as `run` saw it: `at` is when the tick began (the decision instant is `snapshot.taken_at`)."""

    at: float
    snapshot: ClusterSnapshot
    recommendations: tuple[Recommendation, ...] = ()
    rejections: tuple[Rejection, ...] = ()
    plan: Plan = Plan()  # noqa: RUF009 - frozen, so one shared empty plan is safe
    outcomes: tuple[Outcome, ...] = ()
    error: str | None = None  # the tick failed after the snapshot was taken (a bug, an actuator that raised)

    @property
    def cluster_id(self) -> str:
        return self.snapshot.cluster_id


def file_name(cluster_id: str, seq: int) -> str:
    return f"{cluster_id}-{seq:06d}.jsonl"


def config_name(records_file: str) -> str:
    """The sidecar holding the cluster config a recording file was written under (`x.jsonl` → `x.config.json`)."""
    return records_file.removesuffix(".jsonl") + ".config.json"


# -- encoding ------------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in fields(value):
            if not f.init:
                continue  # a cache (ClusterSnapshot._pending), not data
            item = getattr(value, f.name)
            if f.default is not dataclasses.MISSING and item == f.default:
                continue
            if f.default_factory is not dataclasses.MISSING and item == f.default_factory():
                continue
            out[f.name] = _encode(item)
        return out
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def encode_record(record: TickRecord) -> dict[str, Any]:
    body = _encode(record)
    return {"v": RECORD_VERSION, **body}


def dumps(record: TickRecord) -> str:
    """One compact line (no newline): no spaces, defaults left out."""
    return json.dumps(encode_record(record), separators=(",", ":"), allow_nan=False)


# -- decoding ------------------------------------------------------------------------------------


_HINTS: dict[type[Any], Mapping[str, Any]] = {}


def _hints(cls: type[Any]) -> Mapping[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = MappingProxyType(typing.get_type_hints(cls))
    return hints


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _scalar(hint: Any, value: Any, where: str) -> Any:
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, str) and value in _FLOATS:
            return _FLOATS[value]
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    elif isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(value)
        except ValueError:
            raise RecordError(f"{where}: {value!r} is not a {hint.__name__}") from None
    else:
        raise RecordError(f"{where}: cannot decode a {hint!r}")
    raise RecordError(f"{where}: expected {getattr(hint, '__name__', hint)}, got {_kind(value)}")


def _decode(hint: Any, value: Any, where: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is types.UnionType or origin is typing.Union:
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _decode(inner, value, where)
    if origin is tuple:
        if not isinstance(value, list):
            raise RecordError(f"{where}: expected a list, got {_kind(value)}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise RecordError(f"{where}: expected {len(args)} items, got {len(value)}")
        return tuple(_decode(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True)))
    if origin in (Mapping, dict, typing.Mapping):
        if not isinstance(value, dict):
            raise RecordError(f"{where}: expected an object, got {_kind(value)}")
        return MappingProxyType({k: _decode(args[1], v, f"{where}.{k}") for k, v in value.items()})
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _dataclass(hint, value, where)
    return _scalar(hint, value, where)


def _dataclass(cls: type[Any], value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        raise RecordError(f"{where}: expected an object, got {_kind(value)}")
    hints = _hints(cls)
    known = {f.name for f in fields(cls) if f.init}
    unknown = sorted(set(value) - known)
    if unknown:
        raise RecordError(f"{where}: unknown field(s) {', '.join(unknown)}")
    kwargs = {name: _decode(hints[name], item, f"{where}.{name}") for name, item in value.items()}
    try:
        return cls(**kwargs)
    except TypeError as err:  # a required field is missing
        raise RecordError(f"{where}: {err}") from None


def decode_record(value: object, where: str = "record") -> TickRecord:
    if not isinstance(value, dict):
        raise RecordError(f"{where}: expected an object, got {_kind(value)}")
    version = value.get("v")
    if version != RECORD_VERSION:
        raise RecordError(f"{where}.v: {version!r}, this build reads version {RECORD_VERSION}")
    body = {k: v for k, v in value.items() if k != "v"}
    record: TickRecord = _dataclass(TickRecord, body, where)
    return record


def loads(text: str | bytes) -> TickRecord:
    try:
        data = json.loads(text)
    except ValueError as err:
        raise RecordError(f"not JSON: {err}") from None
    except RecursionError:
        raise RecordError("not a record: nested too deeply") from None
    return decode_record(data)


__all__ = [
    "FILE_NAME",
    "RECORD_VERSION",
    "RecordError",
    "TickRecord",
    "config_name",
    "decode_record",
    "dumps",
    "encode_record",
    "file_name",
    "loads",
]
