"""Reading a workload trace: the registry of trace formats and `load_trace`, which dispatches on it.

Each format's loader lives in its own module (`native`, `swim`, `alibaba`) and builds `Job`s
(`autoscaler.sim.job`); this module only chooses one, by `--trace` extension or by name, and sorts
the jobs by submit time. `Job`, `Stage`, `TraceError` and `parse_job` are re-exported for callers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from autoscaler.sim.alibaba import load_alibaba
from autoscaler.sim.conversion import ConversionModel
from autoscaler.sim.job import Job, Stage, TraceError, scale_job
from autoscaler.sim.native import load_native_scaled, parse_job
from autoscaler.sim.swim import load_swim

__all__ = ["FORMATS", "Job", "Stage", "TraceError", "TraceFormat", "load_trace", "parse_job", "scale_job"]


class Loader(Protocol):
    def __call__(self, path: Path, model: ConversionModel, *, scale: float = 1.0) -> list[Job]: ...


@dataclass(frozen=True, slots=True)
class TraceFormat:
    """One trace format: the file suffixes that select it and its loader."""

    name: str
    suffixes: tuple[str, ...]
    load: Loader


FORMATS: Mapping[str, TraceFormat] = MappingProxyType(
    {
        f.name: f
        for f in (
            TraceFormat("native", (".jsonl", ".json"), load_native_scaled),
            TraceFormat("swim", (".tsv",), load_swim),
            TraceFormat("alibaba", (".csv",), load_alibaba),
        )
    }
)


def _by_suffix(suffix: str) -> TraceFormat | None:
    return next((f for f in FORMATS.values() if suffix in f.suffixes), None)


def load_trace(
    path: str | Path, *, fmt: str | None = None, scale: float = 1.0, model: ConversionModel | None = None
) -> list[Job]:
    """Read a trace by extension (.jsonl/.json native, .tsv SWIM, .csv Alibaba v2017), sorted by submit.

    `model` is a `ConversionModel` for SWIM/Alibaba (defaults documented there); `scale` multiplies
    data volume (task counts) for every format.
    """
    path = Path(path)
    if scale <= 0 or not math.isfinite(scale):
        raise TraceError(f"{path.name}: --trace-scale must be a positive number, got {scale}")
    if fmt is None:
        found = _by_suffix(path.suffix.lower())
        if found is None:
            raise TraceError(f"{path.name}: unknown trace format {path.suffix!r} (use .jsonl, .tsv or .csv)")
    else:
        found = FORMATS.get(fmt)
        if found is None:
            raise TraceError(f"{path.name}: unknown trace format {fmt!r} (native, swim or alibaba)")
    if not path.is_file():
        raise TraceError(f"{path}: no such file")
    jobs = found.load(path, model or ConversionModel(), scale=scale)
    return sorted(jobs, key=lambda j: j.submit_s)
