"""What every `trace import` source reports and writes: counts with reasons, and the native JSONL trace.

A skipped record is counted by reason with the first place it was seen (file:line, or record N), so
nothing is dropped silently and the summary stays a few lines however many records were bad.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

ORDER = ("id", "submit_s", "queue", "am", "am_start_s", "stages")


@dataclass
class ImportStats:
    read: int = 0
    kept: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    first: dict[str, str] = field(default_factory=dict)  # reason → the first record skipped for it
    warnings: list[str] = field(default_factory=list)

    def skip(self, why: str, where: str) -> None:
        self.skipped[why] += 1
        self.first.setdefault(why, where)

    def headline(self) -> str:
        return f"read {self.read} apps, kept {self.kept}, skipped {sum(self.skipped.values())}"

    def notes(self) -> list[str]:
        """Source-specific warnings, computed when the summary is printed."""
        return []

    def summary(self) -> str:
        lines = [self.headline()]
        for why, n in sorted(self.skipped.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  skipped {n}: {why} (first: {self.first[why]})")
        lines += [f"  warning: {w}" for w in [*self.warnings, *self.notes()]]
        return "\n".join(lines)


def relative_submits(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Jobs carrying an absolute `submit_ms`, sorted, with `submit_s` relative to the first one."""
    jobs.sort(key=lambda j: (j["submit_ms"], j["id"]))
    t0 = jobs[0]["submit_ms"] if jobs else 0
    for j in jobs:
        j["submit_s"] = round((j.pop("submit_ms") - t0) / 1000.0, 3)
    return jobs


def write_jsonl(path: str, jobs: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for j in jobs:
            fh.write(json.dumps({k: j[k] for k in ORDER}) + "\n")
