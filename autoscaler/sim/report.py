"""The `--report` JSON (DESIGN §5, a public contract: field names are stable) and the stdout table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autoscaler.sim.runner import MAX_OVERRUN_S, PolicyResult


def result_json(r: PolicyResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "policy": r.policy,
        "cost_usd": r.cost_usd,
        "oracle_floor_usd": r.oracle_floor_usd,
        "no_wait_floor_usd": r.no_wait_floor_usd,
        "always_on_usd": r.always_on_usd,
        "controllable_cost_usd": r.controllable_cost_usd,
        "jobs": r.jobs,
        "jobs_completed": r.jobs_completed,
        "wait_s": {k: round(r.wait_s[k], 3) for k in ("p50", "p95", "p99", "mean")},
        "slowdown": {k: round(r.slowdown[k], 4) for k in ("p50", "p95")},
        "node_hours": r.node_hours,
        "resizes": r.resizes,
        "interruptions": r.interruptions,
        "sim_wall_s": r.sim_wall_s,
    }
    for key, value in r.extras.items():
        out.setdefault(key, value)
    return out


def report_json(trace: str, seed: int, results: Sequence[PolicyResult], **extra: Any) -> dict[str, Any]:
    return {"trace": trace, "seed": seed, **extra, "results": [result_json(r) for r in results]}


def write_report(path: str | Path, report: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


_COLUMNS = (
    ("policy", "{}"),
    ("cost $", "{:.2f}"),
    ("ctrl $", "{:.2f}"),
    ("cost/oracle", "{:.2f}"),
    ("done", "{}"),
    ("p95 wait s", "{:.0f}"),
    ("p95 slowdown", "{:.2f}"),
    ("node-h", "{:.1f}"),
    ("resizes", "{}"),
    ("interrupts", "{}"),
    ("wall s", "{:.2f}"),
)


def format_table(results: Sequence[PolicyResult]) -> str:
    rows = [[name for name, _ in _COLUMNS]]
    for r in results:
        ratio = r.cost_usd / r.oracle_floor_usd if r.oracle_floor_usd else float("nan")
        values = (
            r.policy,
            r.cost_usd,
            r.controllable_cost_usd,
            ratio,
            f"{r.jobs_completed}/{r.jobs}" + ("!" if r.extras.get("overrun_stop") else ""),
            r.wait_s["p95"],
            r.slowdown["p95"],
            r.node_hours,
            r.resizes,
            r.interruptions,
            r.sim_wall_s,
        )
        rows.append([fmt.format(v) for (_, fmt), v in zip(_COLUMNS, values, strict=True)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    lines = []
    for n, row in enumerate(rows):
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    if results:
        lines.extend(_floor_lines(results[0]))
    if any(r.extras.get("overrun_stop") for r in results):
        lines.append(
            f"! stopped {MAX_OVERRUN_S / 86400:g} days after the last submit with jobs unfinished: cost, waits partial"
        )
    return "\n".join(lines)


def _floor_lines(r: PolicyResult) -> list[str]:
    """The bounds every contestant shares (one trace, one floor), and what `ctrl $` is."""
    no_wait = "none (no pool to grow)" if r.no_wait_floor_usd is None else f"${r.no_wait_floor_usd:.2f}"
    return [
        f"oracle floor: ${r.oracle_floor_usd:.2f} (no policy can cost less); "
        f"no-wait floor: {no_wait} (no policy that never makes a job wait can cost less)",
        f"always-on: ${r.always_on_usd:.2f} (master, fixed core and pool minimums over the trace span); "
        "ctrl $ = cost - always-on",
    ]
