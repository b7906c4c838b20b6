"""BENCHMARKS.md's cost-optimizer tables from the reports: the sweep with every reference, and issue 9's
Target checked per reference. Usage: `.venv/bin/python bench/cost_optimizer_table.py SWEEP_DIR REFS.json...`
(a later report's row replaces an earlier one of the same policy, e.g. a re-run of one reference)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from cost_optimizer_sweep import TARGETS

REFERENCES = ("static", "emr-rules", "dataproc", "managed-scaling-like")


def _row(name: str, r: dict[str, Any]) -> str:
    return (
        f"| {name} | {r['cost_usd']:.2f} | {r['controllable_cost_usd']:.2f} | {r['wait_s']['p95']:.0f} | "
        f"{r['slowdown']['p95']:.2f} | {r['node_hours']:.0f} | {r['jobs_completed']}/{r['jobs']} |"
    )


def main() -> int:
    sweep_dir, *ref_paths = sys.argv[1:]
    refs: dict[str, dict[str, Any]] = {}
    for path in ref_paths:
        for r in json.loads(Path(path).read_text())["results"]:
            refs[r["policy"]] = r
    sweep = {}
    for t in TARGETS:
        report = Path(sweep_dir) / f"target-{t}.json"
        if report.exists():
            sweep[t] = json.loads(report.read_text())["results"][0]
    print("| contestant | cost $ | controllable $ | p95 wait s | p95 slowdown | node-h | done |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for t, r in sweep.items():
        print(_row(f"cost-optimizer, target {t} s", r))
    for name, r in refs.items():
        print(_row(name, r))
    print()
    print(
        "| reference | targets no slower (p95 wait and slowdown) | cheapest of them: controllable $ "
        "| 0.75 × reference's | holds |"
    )
    print("|---|---|---:|---:|---|")
    for name in REFERENCES:
        ref = refs.get(name)
        if ref is None:
            continue
        ok = [
            (t, r)
            for t, r in sweep.items()
            if r["wait_s"]["p95"] <= ref["wait_s"]["p95"] and r["slowdown"]["p95"] <= ref["slowdown"]["p95"]
        ]
        limit = 0.75 * ref["controllable_cost_usd"]
        if not ok:
            print(f"| {name} | none | – | {limit:.2f} | no |")
            continue
        t, best = min(ok, key=lambda tr: tr[1]["controllable_cost_usd"])
        holds = "yes" if best["controllable_cost_usd"] <= limit else "no"
        targets = ", ".join(str(x) for x, _ in ok)
        print(f"| {name} | {targets} s | {best['controllable_cost_usd']:.2f} (target {t} s) | {limit:.2f} | {holds} |")
    if "hindsight" in refs and 300 in sweep:
        h, r = refs["hindsight"]["controllable_cost_usd"], sweep[300]["controllable_cost_usd"]
        verdict = "yes" if r <= 1.5 * h else "no"
        print(
            f"\nAt target 300 s: controllable ${r:.2f} against 1.5 × hindsight's ${h:.2f} = ${1.5 * h:.2f}: {verdict}."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
