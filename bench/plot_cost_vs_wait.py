"""Cost against wait for every contestant of one or more `simulate` reports (BENCHMARKS.md).

Each result is a point: p95 job wait (x, symlog) against controllable cost (y, log; cost above
the always-on nodes). Results that share a policy label across reports (a sweep of one option) are joined
as a curve, cheapest wait first. Dashed lines: the oracle floor and the no-wait floor, as
controllable cost (floor - always-on). Usage, from the repo root:

    .venv/bin/python bench/plot_cost_vs_wait.py --title "FB-2009 day 0" -o docs/img/cost_vs_wait_fb2009.png \
        bench/out/fb2009.json [bench/out/co-fb2009/target-*.json ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any


def load(paths: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in paths:
        out.extend(json.loads(Path(path).read_text(encoding="utf-8"))["results"])
    return out


def plot(results: list[dict[str, Any]], title: str, output: str) -> None:
    import matplotlib  # noqa: PLC0415 - a bench script's optional dependency (extra `plot`)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(11, 6))
    series: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for r in results:
        label = r["policy"] + (" (overrun stop: partial)" if r.get("overrun_stop") else "")
        series[label].append((r["wait_s"]["p95"], r["controllable_cost_usd"]))
    for label, points in series.items():
        points.sort()
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        style = "o-" if len(points) > 1 else "o"
        (line,) = ax.plot(xs, ys, style, label=label, markersize=7)
        ax.annotate(label, points[0], textcoords="offset points", xytext=(6, 4), fontsize=8, color=line.get_color())
    first = results[0]
    ax.axhline(first["oracle_floor_usd"] - first["always_on_usd"], color="black", ls="--", lw=1, label="oracle floor")
    if first.get("no_wait_floor_usd") is not None:
        no_wait = first["no_wait_floor_usd"] - first["always_on_usd"]
        ax.axhline(no_wait, color="grey", ls=":", lw=1, label="no-wait floor")
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(0, 3 * max(r["wait_s"]["p95"] for r in results))
    ax.set_yscale("log")
    ax.set_xlabel("p95 job wait, s (submit to first container; symlog)")
    ax.set_ylabel(f"controllable cost, USD (cost - always-on ${first['always_on_usd']:.2f})")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("reports", nargs="+", help="simulate --report files")
    parser.add_argument("-o", "--output", required=True, help="PNG to write")
    parser.add_argument("--title", default="cost against wait")
    args = parser.parse_args(argv)
    plot(load(args.reports), args.title, args.output)
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
