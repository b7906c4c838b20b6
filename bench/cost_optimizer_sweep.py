"""Run `cost-optimizer` over the target sweep {0,30,60,120,300,600} s on one trace (BENCHMARKS.md).

Writes one config per target next to the reports (the base config with `cost-optimizer`'s
`target_p95_wait_s` set, every other option at its default) and runs `emr-autoscaler simulate` on
each, two at a time. Usage, from the repo root:

    .venv/bin/python bench/cost_optimizer_sweep.py --base bench/fb2009.yaml --out bench/out/co-fb2009 \
        -- --trace ../shared/data/traces/swim/FB-2009_samples_24_times_1hr_0.tsv --spot-prices FILE --seed 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

TARGETS = (0, 30, 60, 120, 300, 600)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="benchmark config to start from")
    parser.add_argument("--out", required=True, help="folder for the configs and reports")
    parser.add_argument("--targets", default=",".join(map(str, TARGETS)))
    parser.add_argument("simulate_args", nargs=argparse.REMAINDER, help="-- then simulate's --trace etc.")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    base = yaml.safe_load(Path(args.base).read_text())
    extra = [a for a in args.simulate_args if a != "--"]

    def run(target: int) -> dict[str, object]:
        cfg = json.loads(json.dumps(base))
        policies = [p for p in cfg["clusters"][0]["policies"] if p["type"] != "cost-optimizer"]
        policies.append({"type": "cost-optimizer", "options": {"target_p95_wait_s": target}})
        cfg["clusters"][0]["policies"] = policies
        path = out / f"target-{target}.yaml"
        path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        report = out / f"target-{target}.json"
        cmd = [sys.executable, "-m", "autoscaler.cli", "simulate", "--policy", "cost-optimizer", "--config", str(path)]
        subprocess.run([*cmd, *extra, "--report", str(report)], check=True, capture_output=True)
        result: dict[str, object] = json.loads(report.read_text())["results"][0]
        return result

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, [int(t) for t in args.targets.split(",")]))
    print("target  cost_usd  controllable  p95_wait  p95_slowdown")
    for t, r in zip(args.targets.split(","), results, strict=True):
        print(
            f"{t:>6}  {r['cost_usd']:8.2f}  {r['controllable_cost_usd']:12.2f}  "  # type: ignore[index]
            f"{r['wait_s']['p95']:8.0f}  {r['slowdown']['p95']:12.2f}"  # type: ignore[index]
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
