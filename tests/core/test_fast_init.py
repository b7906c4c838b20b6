"""`fast_init` must build exactly what the dataclass-generated `__init__` builds, only faster."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

import autoscaler.model.cluster as cluster_model
import autoscaler.model.decision as decision_model
import autoscaler.model.memory as memory_model
from autoscaler.model._fastinit import fast_init


def _pair() -> tuple[type, type]:
    """The same frozen dataclass twice: once as generated, once with `fast_init`."""

    def make() -> type:
        @dataclasses.dataclass(frozen=True, slots=True)
        class Shape:
            name: str
            size: int = 3
            tags: list[str] = dataclasses.field(default_factory=list)
            derived: int = dataclasses.field(default=7, init=False)

        return Shape

    return make(), fast_init(make())


def test_same_values_defaults_and_factories() -> None:
    plain, fast = _pair()
    for args, kwargs in [(("a",), {}), (("a", 5), {}), ((), {"name": "b", "tags": ["x"]}), (("c", 1, ["y"]), {})]:
        p, f = plain(*args, **kwargs), fast(*args, **kwargs)
        assert dataclasses.astuple(p) == dataclasses.astuple(f)
        assert f.derived == 7
    one, two = fast("a"), fast("a")
    assert one.tags == []
    assert one.tags is not two.tags


def test_same_signature_and_errors() -> None:
    plain, fast = _pair()
    assert [p.name for p in inspect.signature(fast).parameters.values()] == ["name", "size", "tags"]
    assert inspect.signature(fast).parameters["size"].default == 3
    with pytest.raises(TypeError):
        fast()
    with pytest.raises(TypeError):
        fast("a", nope=1)
    with pytest.raises(TypeError):
        plain("a", nope=1)


def test_still_frozen_hashable_and_equal() -> None:
    _, fast = _pair()
    item = fast("a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.name = "b"
    assert fast("a", 2) == fast("a", 2)
    assert fast("a", 2) != fast("a", 3)


def test_refuses_what_it_cannot_copy() -> None:
    @dataclasses.dataclass
    class Mutable:
        x: int

    @dataclasses.dataclass(frozen=True)
    class Checked:
        x: int

        def __post_init__(self) -> None:
            pass

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class KeywordOnly:
        x: int

    for cls in (Mutable, Checked, KeywordOnly):
        with pytest.raises(TypeError):
            fast_init(cls)


@pytest.mark.parametrize("module", [cluster_model, decision_model, memory_model])
def test_model_classes_keep_their_dataclass_signature(module: object) -> None:
    """Every model dataclass's constructor takes its init fields in order, with their defaults."""
    for cls in vars(module).values():
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)) or cls.__module__ != module.__name__:  # type: ignore[attr-defined]
            continue
        params = list(inspect.signature(cls).parameters.values())
        fields = [f for f in dataclasses.fields(cls) if f.init]
        assert [p.name for p in params] == [f.name for f in fields], cls.__name__
        for p, f in zip(params, fields, strict=True):
            if f.default is not dataclasses.MISSING:
                assert p.default == f.default, (cls.__name__, f.name)
            elif f.default_factory is dataclasses.MISSING:
                assert p.default is inspect.Parameter.empty, (cls.__name__, f.name)
