"""Markdown tables for BENCHMARKS.md from `simulate` reports, so every figure there is copied, not typed.

One row per result: cost, controllable cost (cost above the always-on nodes), controllable cost over
`hindsight`'s in the same report (when it ran), p95 wait, p95 slowdown, jobs completed, resizes,
node-hours, simulated wall time; then a line with the floors and the always-on cost. Usage:

    .venv/bin/python bench/tables.py bench/out/fb2009.json [REPORT[=LABEL SUFFIX] ...]

Rows are appended in report order; `=suffix` labels a report's rows (e.g. the options they ran with),
and a later row with the same label replaces an earlier one (a contestant re-run on its own).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HEADER = (
    "| contestant | cost $ | controllable $ | ctrl / hindsight | p95 wait s | p95 slowdown | done | resizes "
    "| node-h | sim wall s |"
)


def _label(r: dict[str, Any], suffix: str) -> str:
    units = f" ({r['static_units']} units)" if "static_units" in r else ""
    return f"{r['policy']}{units}{suffix}"


def _row(r: dict[str, Any], hindsight_ctrl: float | None) -> str:
    ctrl = r["controllable_cost_usd"]
    ratio = f"{ctrl / hindsight_ctrl:.2f}" if hindsight_ctrl else "–"
    label = r["label"]
    done = f"{r['jobs_completed']}/{r['jobs']}" + ("!" if r.get("overrun_stop") else "")
    cells = [
        label,
        f"{r['cost_usd']:.2f}",
        f"{ctrl:.2f}",
        ratio,
        f"{r['wait_s']['p95']:.0f}",
        f"{r['slowdown']['p95']:.2f}",
        done,
        str(r["resizes"]),
        f"{r['node_hours']:.1f}",
        f"{r['sim_wall_s']:.1f}",
    ]
    return "| " + " | ".join(cells) + " |"


def render(paths: list[str]) -> str:
    rows: dict[str, dict[str, Any]] = {}
    for arg in paths:
        path, _, suffix = arg.partition("=")
        for r in json.loads(Path(path).read_text(encoding="utf-8"))["results"]:
            r["label"] = _label(r, f", {suffix}" if suffix else "")
            rows[r["label"]] = r
    results = list(rows.values())
    seer = rows["hindsight"]["controllable_cost_usd"] if "hindsight" in rows else None  # at its defaults
    lines = [HEADER, "|---|" + "---:|" * 9]
    lines += [_row(r, seer) for r in results]
    first = results[0]
    no_wait = first.get("no_wait_floor_usd")
    lines.append("")
    lines.append(
        f"Oracle floor ${first['oracle_floor_usd']:.2f} (controllable "
        f"${first['oracle_floor_usd'] - first['always_on_usd']:.2f}); no-wait floor "
        + (f"${no_wait:.2f} (controllable ${no_wait - first['always_on_usd']:.2f})" if no_wait is not None else "none")
        + f"; always-on ${first['always_on_usd']:.2f}; {first['jobs']:,} jobs."
    )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    print(render(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
