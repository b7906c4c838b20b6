"""Tune `pending-demand` + `idle-capacity` on one trace, write the chosen options (BENCHMARKS.md).

The protocol shows tuned options only as judged on another trace: this script does the tuning
half. It runs the pair over a grid (`count_vcores: false`, as EMR places by memory only;
`pending-demand.pending_for_s` x `idle-capacity.keep_idle_nodes`) on the tuning trace, prints
the grid (controllable cost $ / p95 wait s), and writes the cell with the lowest controllable cost
whose p95 wait is no worse than the pair's at defaults on the same trace, as a config for the other
trace. The rule is fixed before any held-out run. Usage, from the repo root:

    .venv/bin/python bench/tune_pair.py --base bench/fb2009.yaml --out bench/pair-tuned-h00-11.yaml \
        -- --trace bench/out/FB-2009_samples_24_times_1hr_0_h00-11.tsv --spot-prices FILE --seed 1
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

PENDING_FOR_S = (0, 30, 60, 120)
KEEP_IDLE_NODES = (0, 2, 4, 8)
PAIR = "pending-demand+idle-capacity"


def _config(base: dict[str, Any], cell: tuple[int, int] | None) -> dict[str, Any]:
    cfg: dict[str, Any] = json.loads(json.dumps(base))
    cluster = cfg["clusters"][0]
    kept = [p for p in cluster["policies"] if p["type"] not in ("pending-demand", "idle-capacity")]
    if cell is not None:
        kept.append({"type": "pending-demand", "options": {"count_vcores": False, "pending_for_s": cell[0]}})
        kept.append({"type": "idle-capacity", "options": {"keep_idle_nodes": cell[1]}})
    cluster["policies"] = kept or [{"type": "static"}]
    return cfg


def _simulate(cfg: dict[str, Any], work: Path, name: str, extra: list[str]) -> dict[str, Any]:
    path, report = work / f"{name}.yaml", work / f"{name}.json"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    cmd = [sys.executable, "-m", "autoscaler.cli", "simulate", "--policy", PAIR, "--config", str(path)]
    subprocess.run([*cmd, *extra, "--report", str(report)], check=True, capture_output=True)
    result: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))["results"][0]
    return result


def _cell(result: dict[str, Any]) -> str:
    return f"{result['controllable_cost_usd']:.2f} / {result['wait_s']['p95']:.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the protocol's config (every policy at defaults)")
    parser.add_argument("--out", required=True, help="where to write the chosen cell's config")
    parser.add_argument("simulate_args", nargs=argparse.REMAINDER, help="-- then simulate's --trace etc.")
    args = parser.parse_args()
    base = yaml.safe_load(Path(args.base).read_text(encoding="utf-8"))
    extra = [a for a in args.simulate_args if a != "--"]
    cells = list(itertools.product(PENDING_FOR_S, KEEP_IDLE_NODES))
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=2) as pool:
        work = Path(tmp)
        defaults = pool.submit(_simulate, _config(base, None), work, "defaults", extra)
        runs = pool.map(lambda c: _simulate(_config(base, c), work, f"{c[0]}-{c[1]}", extra), cells)
        grid = dict(zip(cells, runs, strict=True))
        at_defaults = defaults.result()
    limit = at_defaults["wait_s"]["p95"]
    print(f"defaults: ${at_defaults['controllable_cost_usd']:.2f} controllable / p95 wait {limit:.0f} s")
    print("| pending_for_s \\ keep_idle_nodes | " + " | ".join(map(str, KEEP_IDLE_NODES)) + " |")
    print("|---:|" + "---:|" * len(KEEP_IDLE_NODES))
    for p in PENDING_FOR_S:
        row = [_cell(grid[p, k]) for k in KEEP_IDLE_NODES]
        print(f"| {p} | " + " | ".join(row) + " |")
    eligible = [c for c in cells if grid[c]["wait_s"]["p95"] <= limit]
    if not eligible:
        print("no cell waits no longer than the defaults: nothing written")
        return 1
    chosen = min(eligible, key=lambda c: grid[c]["controllable_cost_usd"])
    print(f"chosen: pending_for_s {chosen[0]}, keep_idle_nodes {chosen[1]}")
    header = f"# {PAIR} tuned by bench/tune_pair.py on {' '.join(extra)}\n# judge it only on another trace\n"
    Path(args.out).write_text(header + yaml.safe_dump(_config(base, chosen), sort_keys=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
