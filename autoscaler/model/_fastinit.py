"""A faster `__init__` for the frozen dataclasses built on every tick.

A frozen dataclass's generated `__init__` sets each field with
`__dataclass_builtins_object__.__setattr__(self, name, value)`: a global and an attribute lookup per
field, about a third of the cost of building a `NodeInfo`. The simulator and the daemon build
thousands of snapshots, nodes, apps, samples and recommendations a day; `fast_init` gives a class
the same `__init__` (same parameters in the same order, same defaults, default factories called the
same way, `init=False` fields set to their defaults) with `object.__setattr__` bound once. The class
stays frozen: only its constructor changes, not what it builds.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

_T = TypeVar("_T")


class _Factory:
    """Marks a parameter whose default comes from a `default_factory` (dataclasses' own sentinel is private)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


def fast_init(cls: type[_T]) -> type[_T]:
    """Replace `cls.__init__` (a frozen dataclass without `__post_init__`, InitVar or keyword-only
    fields) with one that sets its fields through a bound `object.__setattr__`."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or hasattr(cls, "__post_init__"):
        raise TypeError(f"fast_init: {cls.__name__} must be a frozen dataclass without __post_init__")
    namespace: dict[str, Any] = {"_set": object.__setattr__, "_FACTORY": _FACTORY}
    args: list[str] = []
    body: list[str] = []
    for i, f in enumerate(dataclasses.fields(cls)):  # type: ignore[arg-type] # checked above: a dataclass
        if f.kw_only:
            raise TypeError(f"fast_init: {cls.__name__}.{f.name} is keyword-only")
        factory = f.default_factory is not dataclasses.MISSING
        if f.default is not dataclasses.MISSING:
            namespace[f"_d{i}"] = f.default
        if factory:
            namespace[f"_f{i}"] = f.default_factory
        if not f.init:
            if f.default is dataclasses.MISSING and not factory:
                continue  # left unset, as the generated __init__ leaves it
            body.append(f"    _set(self, {f.name!r}, {f'_f{i}()' if factory else f'_d{i}'})")
            continue
        if factory:
            args.append(f"{f.name}=_FACTORY")
            body.append(f"    _set(self, {f.name!r}, _f{i}() if {f.name} is _FACTORY else {f.name})")
        else:
            args.append(f.name if f.default is dataclasses.MISSING else f"{f.name}=_d{i}")
            body.append(f"    _set(self, {f.name!r}, {f.name})")
    source = f"def __init__(self, {', '.join(args)}):\n" + ("\n".join(body) or "    pass") + "\n"
    exec(source, namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__annotations__ = dict(getattr(cls.__init__, "__annotations__", {}))
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
