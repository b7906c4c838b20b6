"""Which of issue 9's Target clauses can any policy meet? `hindsight`'s frontier against each reference.

`hindsight` (autoscaler/sim/hindsight.py) is an achievable plan that knows the trace's future. This
sweeps the options that trade its cost for wait, within its definition: `max_wait_s` (the wait its
fluid plan allows), `lookahead_s` (how far ahead it buys: longer keeps capacity through lulls, default
the boot delay's 95th percentile + one tick) and `horizon_s` (how much future work one plan step
weighs). For each reference R it picks the cheapest run no slower than R (p95 wait and p95 slowdown)
and compares its controllable cost with 0.75 × R's: the Target's clause for R.

    .venv/bin/python bench/hindsight_frontier.py --config bench/fb2009.yaml --report bench/out/hf-fb2009.json \
        -- --trace ../shared/data/traces/swim/FB-2009_samples_24_times_1hr_0.tsv --spot-prices FILE --seed 1

Runs the four references and the whole grid in one process pool (two workers; `--refs REPORT` takes
the reference rows from an earlier `simulate` report instead); `--table REPORT...` only prints the
tables of reports this script wrote, their runs pooled (references from the first). Grid: `--waits`,
`--lookaheads` (`d` for the default), `--horizons`. `bench/hindsight_frontier.sh` runs BENCHMARKS.md's grids.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from autoscaler.config import PolicySpec
from autoscaler.sim.command import cluster_config, load_sim_config, policy_runs, sized_static, spot_history
from autoscaler.sim.report import result_json
from autoscaler.sim.runner import simulate_policies
from autoscaler.sim.trace import load_trace

REFERENCES = ("static", "emr-rules", "dataproc", "managed-scaling-like")
WAITS = "0,15,30,60,120,300,600,1200,2400,4800"
MARGIN = 0.75  # the Target: controllable cost at most this share of the reference's


def _grid(waits: str, lookaheads: str, horizons: str) -> list[dict[str, float]]:
    out = []
    for w, la, h in itertools.product(waits.split(","), lookaheads.split(","), horizons.split(",")):
        opts: dict[str, float] = {"max_wait_s": float(w), "horizon_s": float(h)}
        if la != "d":
            opts["lookahead_s"] = float(la)
        out.append(opts)
    return out


def label(opts: dict[str, Any]) -> str:
    la = opts.get("lookahead_s")
    return f"wait {opts['max_wait_s']:g}, lookahead {'d' if la is None else f'{la:g}'}, horizon {opts['horizon_s']:g}"


def run(args: argparse.Namespace, extra: list[str]) -> dict[str, Any]:
    sim = argparse.ArgumentParser()
    sim.add_argument("--trace", required=True)
    sim.add_argument("--trace-scale", type=float, default=1.0)
    sim.add_argument("--spot-prices")
    sim.add_argument("--seed", type=int, default=0)
    s = sim.parse_args(extra)
    app, spec = load_sim_config(args.config)
    config, poll = cluster_config(app, spec)
    jobs = load_trace(s.trace, scale=s.trace_scale, model=spec.conversion)
    history, zone = spot_history(s.spot_prices, config.region, spec)
    grid = _grid(args.waits, args.lookaheads, args.horizons)
    runs = [[PolicySpec(type="hindsight", options=o)] for o in grid]
    refs: list[dict[str, Any]] = []
    if args.refs:
        given = json.loads(Path(args.refs).read_text())
        refs = [r for r in given.get("references", given.get("results", [])) if r["policy"] in REFERENCES]
    else:
        ref_runs, _ = sized_static(policy_runs(list(REFERENCES), config), jobs, spec, config, history)
        runs = ref_runs + runs
    results = [
        result_json(r)
        for r in simulate_policies(jobs, spec, runs, config, history, s.seed, workers=2, poll_interval_s=poll)
    ]
    if not args.refs:
        refs, results = results[: len(REFERENCES)], results[len(REFERENCES) :]
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "trace": s.trace,
        "trace_scale": s.trace_scale,
        "seed": s.seed,
        "availability_zone": zone,
        "config": args.config,
        "commit": commit,
        "references": refs,
        "hindsight": [{"options": o, **r} for o, r in zip(grid, results, strict=True)],
    }


def _no_slower(r: dict[str, Any], ref: dict[str, Any]) -> bool:
    return bool(r["wait_s"]["p95"] <= ref["wait_s"]["p95"] and r["slowdown"]["p95"] <= ref["slowdown"]["p95"])


def _frontier(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runs no other run beats on both controllable cost and p95 wait, by wait."""
    out: list[dict[str, Any]] = []
    for r in sorted(rows, key=lambda r: (r["wait_s"]["p95"], r["controllable_cost_usd"])):
        if not out or r["controllable_cost_usd"] < out[-1]["controllable_cost_usd"]:
            out.append(r)
    return out


def _s(seconds: float) -> str:
    return f"{seconds:.1f}" if seconds < 100 else f"{seconds:.0f}"


def tables(report: dict[str, Any]) -> str:
    rows = report["hindsight"]
    done = [r for r in rows if r["jobs_completed"] == max(x["jobs_completed"] for x in rows)]
    out = [
        f"{report['trace']} × {report['trace_scale']:g}, seed {report['seed']}, commit {report['commit'][:7]}: "
        f"{len(rows)} hindsight runs, {len(rows) - len(done)} left out (stopped with jobs unfinished)",
        "",
    ]
    out.append(
        "| reference | its controllable $ / p95 wait s / p95 slowdown | 0.75 × its $ | cheapest hindsight no "
        "slower | its controllable $ / p95 wait s / p95 slowdown | clause |"
    )
    out.append("|---|---|---:|---|---|---|")
    for ref in report["references"]:
        limit = MARGIN * ref["controllable_cost_usd"]
        complete = ref["jobs_completed"] >= done[0]["jobs_completed"]
        partial = "" if complete else f" (stopped: {ref['jobs_completed']}/{ref['jobs']} done)"
        mine = (
            f"{ref['controllable_cost_usd']:.2f} / {_s(ref['wait_s']['p95'])} / {ref['slowdown']['p95']:.2f}{partial}"
        )
        ok = [r for r in done if _no_slower(r, ref)]
        if not ok:
            out.append(f"| {ref['policy']} | {mine} | {limit:.2f} | none of {len(done)} | – | not reached |")
            continue
        best = min(ok, key=lambda r: r["controllable_cost_usd"])
        verdict = "reached" if best["controllable_cost_usd"] <= limit else "not reached"
        out.append(
            f"| {ref['policy']} | {mine} | {limit:.2f} | {label(best['options'])} "
            f"({len(ok)} of {len(done)} no slower) | "
            f"{best['controllable_cost_usd']:.2f} / {_s(best['wait_s']['p95'])} / {best['slowdown']['p95']:.2f} | "
            f"{verdict} |"
        )
    out += ["", "Frontier (each run cheaper than every run that waits less at p95):", ""]
    out.append("| hindsight options (s) | controllable $ | p95 wait s | p95 slowdown | node-h | done |")
    out.append("|---|---:|---:|---:|---:|---:|")
    for r in _frontier(done):
        out.append(
            f"| {label(r['options'])} | {r['controllable_cost_usd']:.2f} | {_s(r['wait_s']['p95'])} | "
            f"{r['slowdown']['p95']:.2f} | {r['node_hours']:.0f} | {r['jobs_completed']}/{r['jobs']} |"
        )
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="benchmark config (bench/fb2009.yaml, bench/alibaba.yaml)")
    parser.add_argument("--report", help="write the sweep's JSON here")
    parser.add_argument(
        "--refs",
        help="take the reference rows from this report (simulate's, or this script's) instead of running them",
    )
    parser.add_argument(
        "--table", nargs="+", metavar="REPORT", help="print the tables of reports this script wrote (their runs pooled)"
    )
    parser.add_argument("--waits", default=WAITS)
    parser.add_argument("--lookaheads", default="d")
    parser.add_argument("--horizons", default="1800")
    parser.add_argument("simulate_args", nargs=argparse.REMAINDER, help="-- then simulate's --trace etc.")
    args = parser.parse_args()
    if args.table:
        reports = [json.loads(Path(t).read_text()) for t in args.table]
        pooled = {**reports[0], "hindsight": [r for rep in reports for r in rep["hindsight"]]}
        print(tables(pooled))
        return 0
    if not (args.config and args.report):
        parser.error("--config and --report are needed to run the sweep")
    report = run(args, [a for a in args.simulate_args if a != "--"])
    Path(args.report).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(tables(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
