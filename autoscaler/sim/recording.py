"""Reading a `record_dir`: the daemon's recorded ticks, in order, and every line that could not be read.

The files are `<cluster>-<seq>.jsonl` (`autoscaler.recorder`), read in seq order. A line that is not
a recorded tick of this version (cut short by a full disk or a crash, edited, from another release)
is counted and named by file and line, and the rest is read: never a crash, never silently dropped.
Ticks are returned sorted by their time (stable), so files from two runs of the daemon interleave
correctly; a tick recorded twice (the same cluster and instant) is kept once.
"""

from __future__ import annotations

import itertools
import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autoscaler.record_codec import FILE_NAME, RecordError, TickRecord, config_name, loads

MAX_BAD_SHOWN = 20
"""Bad lines listed one by one (in reports and on stderr); beyond that only counted."""


class RecordingError(ValueError):
    """A recording that cannot be used at all (no such folder, no recorded tick, several clusters)."""


@dataclass(frozen=True, slots=True)
class BadLine:
    file: str
    line: int
    error: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.error}"


@dataclass(frozen=True, slots=True)
class Recording:
    cluster_id: str
    ticks: tuple[TickRecord, ...]
    files: tuple[str, ...]
    bad_lines: tuple[BadLine, ...]
    duplicates: int = 0
    config: Mapping[str, Any] | None = None  # the newest file's recorded cluster config (`<file>.config.json`)
    config_changed: bool = False  # the files were written under different configs

    @property
    def span_s(self) -> float:
        return self.ticks[-1].at - self.ticks[0].at if self.ticks else 0.0

    def intervals(self, max_gap_s: float | None = None) -> list[float]:
        """How long each tick's view holds: to the next tick, or 0 across a gap longer than `max_gap_s`
        (default 3 median intervals: the daemon was down, nothing is known of that time); 0 for the last."""
        gaps = [b.at - a.at for a, b in itertools.pairwise(self.ticks)]
        limit = max_gap_s if max_gap_s is not None else 3 * statistics.median(gaps) if gaps else 0.0
        return [g if g <= limit else 0.0 for g in gaps] + [0.0]

    def bad_summary(self) -> list[str]:
        """One line per bad line (the first MAX_BAD_SHOWN), and how many more."""
        lines = [f"bad line {b}" for b in self.bad_lines[:MAX_BAD_SHOWN]]
        if len(self.bad_lines) > MAX_BAD_SHOWN:
            lines.append(f"... and {len(self.bad_lines) - MAX_BAD_SHOWN} more bad lines")
        return lines


def recording_files(directory: Path) -> dict[str, list[Path]]:
    """Each cluster's files in `directory`, in seq order."""
    found: dict[str, list[tuple[int, Path]]] = {}
    for path in directory.iterdir():
        m = FILE_NAME.fullmatch(path.name)
        if m and path.is_file():
            found.setdefault(m.group("cluster"), []).append((int(m.group("seq")), path))
    return {cluster: [p for _, p in sorted(files)] for cluster, files in sorted(found.items())}


def _choose(directory: Path, clusters: Sequence[str], cluster_id: str | None) -> str:
    if not clusters:
        raise RecordingError(f"{directory}: no recording files (<cluster>-<seq>.jsonl, written by record_dir)")
    if cluster_id is not None:
        if cluster_id not in clusters:
            raise RecordingError(f"{directory}: no recording of {cluster_id} (found: {', '.join(clusters)})")
        return cluster_id
    if len(clusters) > 1:
        raise RecordingError(f"{directory}: recordings of {', '.join(clusters)}; the --config's cluster_id chooses one")
    return clusters[0]


def read_recording(directory: str | Path, cluster_id: str | None = None) -> Recording:
    """Every readable tick of one cluster's recording in `directory`, with each bad line named."""
    path = Path(directory)
    if not path.is_dir():
        raise RecordingError(f"{path}: not a folder")
    files = recording_files(path)
    chosen = _choose(path, list(files), cluster_id)
    ticks: list[TickRecord] = []
    bad: list[BadLine] = []
    for file in files[chosen]:
        with file.open("rb") as fh:
            for lineno, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                try:
                    record = loads(raw)
                except RecordError as err:
                    bad.append(BadLine(file.name, lineno, str(err)))
                    continue
                if record.cluster_id != chosen:
                    bad.append(BadLine(file.name, lineno, f"a tick of {record.cluster_id}, not {chosen}"))
                    continue
                if not raw.endswith(b"\n"):  # the writer ends every line: this one was cut after a valid prefix
                    bad.append(BadLine(file.name, lineno, "no end of line (cut short)"))
                    continue
                ticks.append(record)
    config, changed = _configs(files[chosen])
    ticks.sort(key=lambda t: t.at)
    unique = [t for i, t in enumerate(ticks) if i == 0 or t.at != ticks[i - 1].at]
    if not unique:
        raise RecordingError(f"{path}: no readable tick of {chosen}" + (f" ({len(bad)} bad lines)" if bad else ""))
    names = tuple(f.name for f in files[chosen])
    return Recording(chosen, tuple(unique), names, tuple(bad), len(ticks) - len(unique), config, changed)


def _configs(files: Sequence[Path]) -> tuple[Mapping[str, Any] | None, bool]:
    """The newest readable sidecar config, and whether the sidecars differ (the daemon's config changed)."""
    found = []
    for file in files:
        try:
            data = json.loads(file.with_name(config_name(file.name)).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            found.append(data)
    return (found[-1] if found else None), any(c != found[-1] for c in found)
