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
from collections.abc import Callable, Mapping
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


_MISSING: Final = object()
_FIELDS: dict[type[Any], tuple[tuple[str, Any], ...]] = {}


def _fields(cls: type[Any]) -> tuple[tuple[str, Any], ...]:
    """(name, default or _MISSING) of each init field, computed once per class."""
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = tuple(
            (
                f.name,
                f.default
                if f.default is not dataclasses.MISSING
                else f.default_factory()
                if f.default_factory is not dataclasses.MISSING
                else _MISSING,
            )
            for f in fields(cls)
            if f.init  # not a cache (ClusterSnapshot._pending)
        )
    return found


def _encode(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return value if math.isfinite(value) else "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if dataclasses.is_dataclass(value):
        out = {}
        for name, default in _fields(kind):
            item = getattr(value, name)
            if default is _MISSING or item != default:
                out[name] = _encode(item)
        return out
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    return value


def encode_record(record: TickRecord) -> dict[str, Any]:
    body = _encode(record)
    return {"v": RECORD_VERSION, **body}


def dumps(record: TickRecord) -> str:
    """One compact line (no newline): no spaces, defaults left out."""
    return json.dumps(encode_record(record), separators=(",", ":"), allow_nan=False)


# -- decoding ------------------------------------------------------------------------------------


Decoder = Callable[[Any, str], Any]
"""(JSON value, where it is) → the typed value; RecordError naming `where` when it is not one."""
_DECODERS: dict[Any, Decoder] = {}


def _decoder(hint: Any) -> Decoder:
    """The decoder of one type, built once from its hints (a per-value dispatch on types costs 3x)."""
    found = _DECODERS.get(hint)
    if found is None:
        found = _DECODERS[hint] = _build(hint)
    return found


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _wrong(hint: Any, value: Any, where: str) -> RecordError:
    return RecordError(f"{where}: expected {getattr(hint, '__name__', hint)}, got {_kind(value)}")


def _build(hint: Any) -> Decoder:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is types.UnionType or origin is typing.Union:
        (inner,) = [_decoder(a) for a in args if a is not type(None)]
        nullable = type(None) in args

        def union(value: Any, where: str) -> Any:
            return None if value is None and nullable else inner(value, where)

        return union
    if origin is tuple:
        return _tuple(args)
    if origin in (Mapping, dict, typing.Mapping):
        item = _decoder(args[1])

        def mapping(value: Any, where: str) -> Any:
            if not isinstance(value, dict):
                raise RecordError(f"{where}: expected an object, got {_kind(value)}")
            return MappingProxyType({k: item(v, f"{where}.{k}") for k, v in value.items()})

        return mapping
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _dataclass(hint)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum(hint)
    if hint in (bool, int, str):

        def exact(value: Any, where: str) -> Any:
            if type(value) is hint:  # `is`: a bool is not an int here
                return value
            raise _wrong(hint, value, where)

        return exact
    if hint is float:

        def number(value: Any, where: str) -> Any:
            kind = type(value)
            if kind is float:
                return value
            if kind is int:
                return float(value)
            if kind is str and value in _FLOATS:
                return _FLOATS[value]
            raise _wrong(hint, value, where)

        return number
    raise TypeError(f"the record codec cannot decode a {hint!r}")


def _tuple(args: tuple[Any, ...]) -> Decoder:
    if len(args) == 2 and args[1] is Ellipsis:
        item = _decoder(args[0])

        def items(value: Any, where: str) -> Any:
            if not isinstance(value, list):
                raise RecordError(f"{where}: expected a list, got {_kind(value)}")
            return tuple(item(v, f"{where}[{i}]") for i, v in enumerate(value))

        return items
    parts = [_decoder(a) for a in args]

    def fixed(value: Any, where: str) -> Any:
        if not isinstance(value, list):
            raise RecordError(f"{where}: expected a list, got {_kind(value)}")
        if len(value) != len(parts):
            raise RecordError(f"{where}: expected {len(parts)} items, got {len(value)}")
        return tuple(d(v, f"{where}[{i}]") for i, (d, v) in enumerate(zip(parts, value, strict=True)))

    return fixed


def _enum(cls: type[Enum]) -> Decoder:
    def member(value: Any, where: str) -> Any:
        try:
            return cls(value)
        except ValueError:
            raise RecordError(f"{where}: {value!r} is not a {cls.__name__}") from None

    return member


def _dataclass(cls: type[Any]) -> Decoder:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in fields(cls) if f.init]
    known = frozenset(names)
    decoders: dict[str, Decoder] = {}

    def record(value: Any, where: str) -> Any:
        if not isinstance(value, dict):
            raise RecordError(f"{where}: expected an object, got {_kind(value)}")
        if not known.issuperset(value):
            raise RecordError(f"{where}: unknown field(s) {', '.join(sorted(set(value) - known))}")
        if not decoders:  # built on first use: a field may refer back to its own type
            decoders.update({name: _decoder(hints[name]) for name in names})
        kwargs = {name: decoders[name](item, f"{where}.{name}") for name, item in value.items()}
        try:
            return cls(**kwargs)
        except TypeError as err:  # a required field is missing
            raise RecordError(f"{where}: {err}") from None

    return record


def decode_record(value: object, where: str = "record") -> TickRecord:
    if not isinstance(value, dict):
        raise RecordError(f"{where}: expected an object, got {_kind(value)}")
    version = value.get("v")
    if version != RECORD_VERSION:
        raise RecordError(f"{where}.v: {version!r}, this build reads version {RECORD_VERSION}")
    body = {k: v for k, v in value.items() if k != "v"}
    record: TickRecord = _decoder(TickRecord)(body, where)
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
