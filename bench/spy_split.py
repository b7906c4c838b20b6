"""Split a `py-spy record -f raw` profile into the simulator's phases (BENCHMARKS.md "Simulator speed").

    .venv/bin/py-spy record -r 250 -f raw -o prof.txt -- .venv/bin/emr-autoscaler simulate <arguments>
    .venv/bin/python bench/spy_split.py prof.txt [--top N]

Each sample is charged to the first phase whose function is on its stack (outermost first), and
the functions where samples were taken (self time) are listed. py-spy samples without slowing the
run, unlike cProfile, whose per-call cost inflates the event loop's many small calls.
"""

from __future__ import annotations

import argparse
import collections
import re

PHASES = (  # (label, a function on the stack) in the order they are tested, outer phases last
    ("events: advance_to (placement, completions)", "advance_to"),
    ("snapshot: build_snapshot", "build_snapshot"),
    ("tick: run_tick (engine, policies, guards, actuator)", "run_tick"),
    ("floors: oracle, hindsight's demand, static's peak", "oracle_floor"),
    ("floors: oracle, hindsight's demand, static's peak", "effective_demand"),
    ("floors: oracle, hindsight's demand, static's peak", "sized_static"),
    ("trace: load and convert", "load_trace"),
    ("prices: Spot history", "SpotHistory.load"),
    ("start-up: imports", "_find_and_load"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    phases: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    total = 0
    with open(args.raw) as raw:
        lines = raw.read().splitlines()
    for line in lines:
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        frames = stack.split(";")
        names = {re.sub(r" \(.*", "", f).rpartition(".")[2] for f in frames}
        names |= {re.sub(r" \(.*", "", f) for f in frames}
        for label, fn in PHASES:
            if fn in names:
                phases[label] += n
                break
        else:
            phases["other (CLI, report, process start)"] += n
        leaves[frames[-1]] += n
    print(f"{total} samples")
    for label, n in phases.most_common():
        print(f"{100 * n / total:5.1f}%  {label}")
    print("\nself time:")
    for leaf, n in leaves.most_common(args.top):
        print(f"{100 * n / total:5.1f}%  {leaf}")


if __name__ == "__main__":
    main()
