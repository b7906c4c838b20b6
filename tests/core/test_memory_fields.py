"""`ControllerMemory.with_samples` builds the memory field by field (the engine calls it every tick):
a field it forgot, or one added to ControllerMemory later, would silently reset to its default."""

from __future__ import annotations

import dataclasses

from autoscaler.model import ControllerMemory


def test_with_samples_keeps_every_other_field() -> None:
    values = {f.name: object() for f in dataclasses.fields(ControllerMemory)}  # distinct, equal only to itself
    memory = ControllerMemory(**values)  # type: ignore[arg-type]
    samples = object()
    assert memory.with_samples(samples) == dataclasses.replace(memory, samples=samples)  # type: ignore[arg-type]
