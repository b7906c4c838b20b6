"""A versioned JSON codec for what a controller carries between ticks: `ControllerMemory` and a
summary of the last `Decision`.

Why: `explain` must evaluate with the daemon's memory (cooldowns, back-offs, scale-in
confirmations), and a new leader must continue where the old one stopped; both read this format
from another process, so it is explicit, versioned and checked on the way in. Every field of
`PoolMemory` and `YarnMetrics` is encoded by name, so a field added there travels without a change
here; a document from another `CODEC_VERSION` is refused rather than half read.

Pure: no I/O, no clock. `dumps`/`loads` add only `json`.
"""

from __future__ import annotations

import json
import math
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any, Final

from autoscaler.model import ControllerMemory, Decision, MetricSample, Outcome, PoolMemory, Replacement, YarnMetrics

CODEC_VERSION: Final = 1


class CodecError(ValueError):
    """A document that is not a controller state of this version; the message names the field."""


@dataclass(frozen=True, slots=True)
class DecisionSummary:
    """What the last tick decided and did, as plain JSON-ready rows (for display, not re-evaluation)."""

    taken_at: float
    plan: tuple[Mapping[str, object], ...] = ()
    rejections: tuple[Mapping[str, object], ...] = ()
    outcomes: tuple[Mapping[str, object], ...] = ()


@dataclass(frozen=True, slots=True)
class ControllerState:
    """One cluster's memory plus the decision that produced it."""

    cluster_id: str
    memory: ControllerMemory
    last_decision: DecisionSummary | None = None


def summarize(decision: Decision, outcomes: Sequence[Outcome]) -> DecisionSummary:
    return DecisionSummary(
        taken_at=decision.taken_at,
        plan=tuple(
            {"pool": r.pool_id, "current": r.current.total, "target": r.target.total, "reason": r.reason}
            for r in decision.plan.resizes
        ),
        rejections=tuple(
            {"reason": r.reason.value, "pool": r.pool_id, "policy": r.policy, "detail": r.detail}
            for r in decision.rejections
        ),
        outcomes=tuple({"pool": o.pool_id, "status": o.status.value, "detail": o.detail} for o in outcomes),
    )


# -- encoding ------------------------------------------------------------------------------------


def _plain(obj: Any) -> dict[str, object]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def encode_memory(memory: ControllerMemory) -> dict[str, object]:
    return {
        "pools": {pool_id: _plain(mem) for pool_id, mem in sorted(memory.pools.items())},
        "samples": [{"at": s.at, "yarn": _plain(s.yarn)} for s in memory.samples],
        "booting": {iid: [pool_id, at] for iid, (pool_id, at) in sorted(memory.booting.items())},
        "boot_s": {pool_id: list(durations) for pool_id, durations in sorted(memory.boot_s.items())},
        "notices": {key: [pool_id, at] for key, (pool_id, at) in sorted(memory.notices.items())},
        "replacements": {iid: _plain(rep) for iid, rep in sorted(memory.replacements.items())},
    }


def _encode_summary(summary: DecisionSummary) -> dict[str, object]:
    return {
        "taken_at": summary.taken_at,
        "plan": [dict(r) for r in summary.plan],
        "rejections": [dict(r) for r in summary.rejections],
        "outcomes": [dict(r) for r in summary.outcomes],
    }


def encode_state(state: ControllerState) -> dict[str, object]:
    last = state.last_decision
    return {
        "version": CODEC_VERSION,
        "cluster": state.cluster_id,
        "memory": encode_memory(state.memory),
        "last_decision": None if last is None else _encode_summary(last),
    }


def encode_states(states: Iterable[ControllerState]) -> dict[str, object]:
    """The `/debug/decision` document: every cluster's state, keyed by cluster id."""
    return {"version": CODEC_VERSION, "clusters": {s.cluster_id: encode_state(s) for s in states}}


def dumps(state: ControllerState) -> str:
    return json.dumps(encode_state(state), sort_keys=True, allow_nan=False)


# -- decoding ------------------------------------------------------------------------------------


def _mapping(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise CodecError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _list(value: object, where: str) -> list[object]:
    if not isinstance(value, list):
        raise CodecError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _number(value: object, where: str, *, integral: bool = False) -> float | int:
    ok = isinstance(value, int) if integral else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or not math.isfinite(float(value)):  # type: ignore[arg-type]
        raise CodecError(f"{where}: expected {'an integer' if integral else 'a finite number'}, got {value!r}")
    return value  # type: ignore[return-value]


def _field_kinds(cls: type[Any]) -> Mapping[str, tuple[bool, bool]]:
    """name → (integral, optional) for each field of a dataclass whose fields are int/float [| None]."""
    hints = typing.get_type_hints(cls)
    out = {}
    for f in fields(cls):
        args = set(typing.get_args(hints[f.name])) if isinstance(hints[f.name], types.UnionType) else {hints[f.name]}
        out[f.name] = (float not in args, type(None) in args)
    return MappingProxyType(out)


_REPLACEMENT_FIELDS: Final = frozenset(f.name for f in fields(Replacement))
_KINDS: Final = {PoolMemory: _field_kinds(PoolMemory), YarnMetrics: _field_kinds(YarnMetrics)}


def _record(cls: type[Any], value: object, where: str) -> Any:
    data = _mapping(value, where)
    kinds = _KINDS[cls]
    unknown = sorted(set(data) - set(kinds))
    if unknown:
        raise CodecError(f"{where}: unknown field(s) {', '.join(unknown)}")
    kwargs: dict[str, object] = {}
    for name, item in data.items():
        integral, optional = kinds[name]
        if item is None and optional:
            kwargs[name] = None
        else:
            number = _number(item, f"{where}.{name}", integral=integral)
            kwargs[name] = number if integral else float(number)
    return cls(**kwargs)


def decode_memory(value: object, where: str = "memory") -> ControllerMemory:
    data = _mapping(value, where)
    pools = {
        pool_id: _record(PoolMemory, mem, f"{where}.pools.{pool_id}")
        for pool_id, mem in _mapping(data.get("pools", {}), f"{where}.pools").items()
    }
    samples = []
    for i, raw in enumerate(_list(data.get("samples", []), f"{where}.samples")):
        sample = _mapping(raw, f"{where}.samples[{i}]")
        at = _number(sample.get("at"), f"{where}.samples[{i}].at")
        samples.append(MetricSample(float(at), _record(YarnMetrics, sample.get("yarn"), f"{where}.samples[{i}].yarn")))
    booting = _pairs(data.get("booting", {}), f"{where}.booting", "[pool id, requested at]")
    boot_s = {
        pool_id: tuple(float(_number(d, f"{where}.boot_s.{pool_id}")) for d in _list(raw, f"{where}.boot_s.{pool_id}"))
        for pool_id, raw in _mapping(data.get("boot_s", {}), f"{where}.boot_s").items()
    }
    return ControllerMemory(
        pools=MappingProxyType(pools),
        samples=tuple(samples),
        booting=MappingProxyType(booting),
        boot_s=MappingProxyType(boot_s),
        notices=MappingProxyType(_pairs(data.get("notices", {}), f"{where}.notices", "[pool id, notice at]")),
        replacements=MappingProxyType(_replacements(data.get("replacements", {}), f"{where}.replacements")),
    )


def _pairs(value: object, where: str, shape: str) -> dict[str, tuple[str, float]]:
    """{key: [a string, a number]} (the memory's `booting` and `notices`)."""
    out = {}
    for key, raw in _mapping(value, where).items():
        pair = _list(raw, f"{where}.{key}")
        if len(pair) != 2 or not isinstance(pair[0], str):
            raise CodecError(f"{where}.{key}: must be {shape}")
        out[key] = (pair[0], float(_number(pair[1], f"{where}.{key}[1]")))
    return out


def _replacements(value: object, where: str) -> dict[str, Replacement]:
    out = {}
    for iid, raw in _mapping(value, where).items():
        data, at = _mapping(raw, f"{where}.{iid}"), f"{where}.{iid}"
        if set(data) != _REPLACEMENT_FIELDS:
            raise CodecError(f"{at}: must have exactly the fields {', '.join(sorted(_REPLACEMENT_FIELDS))}")
        pool_id, to_pool = data["pool_id"], data["to_pool"]
        if not isinstance(pool_id, str) or not isinstance(to_pool, str):
            raise CodecError(f"{at}: pool_id and to_pool must be strings")
        out[iid] = Replacement(
            pool_id,
            int(_number(data["units"], f"{at}.units", integral=True)),
            to_pool,
            int(_number(data["to_units"], f"{at}.to_units", integral=True)),
            float(_number(data["bought_at"], f"{at}.bought_at")),
            int(_number(data["pool_requested"], f"{at}.pool_requested", integral=True)),
        )
    return out


def _rows(value: object, where: str) -> tuple[Mapping[str, object], ...]:
    return tuple(MappingProxyType(dict(_mapping(r, f"{where}[{i}]"))) for i, r in enumerate(_list(value, where)))


def _decode_summary(value: object, where: str) -> DecisionSummary | None:
    if value is None:
        return None
    data = _mapping(value, where)
    return DecisionSummary(
        taken_at=float(_number(data.get("taken_at"), f"{where}.taken_at")),
        plan=_rows(data.get("plan", []), f"{where}.plan"),
        rejections=_rows(data.get("rejections", []), f"{where}.rejections"),
        outcomes=_rows(data.get("outcomes", []), f"{where}.outcomes"),
    )


def _check_version(data: Mapping[str, object], where: str) -> None:
    version = data.get("version")
    if version != CODEC_VERSION:
        raise CodecError(f"{where}.version: {version!r}, this build reads version {CODEC_VERSION}")


def decode_state(value: object, where: str = "state") -> ControllerState:
    data = _mapping(value, where)
    _check_version(data, where)
    cluster = data.get("cluster")
    if not isinstance(cluster, str) or not cluster:
        raise CodecError(f"{where}.cluster: expected a cluster id, got {cluster!r}")
    return ControllerState(
        cluster_id=cluster,
        memory=decode_memory(data.get("memory", {}), f"{where}.memory"),
        last_decision=_decode_summary(data.get("last_decision"), f"{where}.last_decision"),
    )


def decode_states(value: object) -> dict[str, ControllerState]:
    """The `/debug/decision` document back into states, keyed by cluster id."""
    data = _mapping(value, "document")
    _check_version(data, "document")
    clusters = _mapping(data.get("clusters", {}), "document.clusters")
    return {cid: decode_state(raw, f"clusters.{cid}") for cid, raw in clusters.items()}


def loads(text: str | bytes) -> ControllerState:
    try:
        data = json.loads(text)
    except ValueError as err:
        raise CodecError(f"not JSON: {err}") from None
    return decode_state(data)
