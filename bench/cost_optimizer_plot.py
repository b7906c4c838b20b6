"""Cost-vs-wait plot for BENCHMARKS.md: cost-optimizer's curve over the target sweep, every other
contestant as a point, one panel per trace. Reads the reports `cost_optimizer_sweep.py` and the
reference run wrote, and optionally `hindsight`'s frontier over its option sweep (reports of
`hindsight_frontier.py`, a third path, comma-separated) as a dashed curve. Usage, from the repo root:

    .venv/bin/python bench/cost_optimizer_plot.py -o bench/cost_optimizer.png \\
        "FB-2009 day 0=bench/out/co-fb2009:bench/out/fb2009-refs.json[:bench/out/hf-fb2009.json,...]" \\
        "Alibaba v2017 × 0.01=bench/out/co-alibaba:bench/out/alibaba-refs.json[:bench/out/hf-alibaba.json]"
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from cost_optimizer_sweep import TARGETS


def _load(path: Path) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = json.loads(path.read_text())["results"]
    return results


def _cheapest_by_wait(rows: list[dict[str, Any]]) -> list[tuple[float, float]]:
    """(p95 wait, controllable $) of the runs no run both waits less and costs less than."""
    points = sorted((r["wait_s"]["p95"], r["controllable_cost_usd"]) for r in rows)
    out: list[tuple[float, float]] = []
    for w, c in points:
        if not out or c < out[-1][1]:
            out.append((w, c))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("panels", nargs="+", help="TITLE=SWEEP_DIR:REFS_REPORT")
    args = parser.parse_args()
    fig, axes = plt.subplots(1, len(args.panels), figsize=(6.5 * len(args.panels), 5), squeeze=False)
    for ax, panel in zip(axes[0], args.panels, strict=True):
        title, _, paths = panel.partition("=")
        sweep_dir, _, rest = paths.partition(":")
        refs, _, frontier = rest.partition(":")
        curve = []
        for t in TARGETS:
            report = Path(sweep_dir) / f"target-{t}.json"
            if report.exists():
                (r,) = _load(report)
                curve.append((t, r["wait_s"]["p95"], r["controllable_cost_usd"]))
        ax.plot(
            [c[1] for c in curve], [c[2] for c in curve], "o-", color="black", label="cost-optimizer (target sweep)"
        )
        for t, w, c in curve:
            ax.annotate(f"{t} s", (w, c), textcoords="offset points", xytext=(4, 4), fontsize=7, color="black")
        colors = iter(("tab:blue", "tab:orange", "tab:red", "tab:purple", "tab:green", "tab:brown"))
        for r in _load(Path(refs)):
            marker = "*" if r["policy"] == "hindsight" else "s"
            ax.plot(
                r["wait_s"]["p95"],
                r["controllable_cost_usd"],
                marker,
                color=next(colors),
                markersize=9,
                label=r["policy"],
            )
        if frontier:
            rows = [r for f in frontier.split(",") for r in json.loads(Path(f).read_text())["hindsight"]]
            points = _cheapest_by_wait(
                [r for r in rows if r["jobs_completed"] == max(x["jobs_completed"] for x in rows)]
            )
            ax.plot(
                [w for w, _ in points],
                [c for _, c in points],
                "--",
                color="tab:green",
                label="hindsight frontier (option sweep)",
            )
        ax.set_xscale("symlog", linthresh=10)
        ax.set_yscale("log")
        ax.set_xlabel("p95 job wait, s (submit → first container)")
        ax.set_ylabel("controllable cost, $ (cost − always-on)")
        ax.set_title(f"{title}: labels are target_p95_wait_s")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main())
