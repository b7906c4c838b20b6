"""Profile one `emr-autoscaler simulate` run by CPU time (BENCHMARKS.md "Simulator speed").

    .venv/bin/python bench/profile_sim.py [--top N] [--sort tottime|cumulative] -- <simulate arguments>

cProfile with its default (wall) clock: a CPU clock costs a system call per function call and
distorts the profile tenfold. Read the shares, not the seconds: the run's own CPU seconds (user +
sys, `/usr/bin/time`) are the speed figure. Worker processes are not profiled: give one `--policy`
per run. Prints the top entries and the CPU seconds spent under the profiler.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time

from autoscaler.cli import main


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime", choices=("tottime", "cumulative"))
    parser.add_argument("--out", help="also write the raw profile here (pstats)")
    parser.add_argument("simulate", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    argv = [a for a in args.simulate if a != "--"]
    profiler = cProfile.Profile()
    started = time.process_time()
    profiler.enable()
    try:
        main(["simulate", *argv])
    except SystemExit as stop:
        if stop.code not in (0, None):
            raise
    finally:
        profiler.disable()
    spent = time.process_time() - started
    if args.out:
        profiler.dump_stats(args.out)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs().sort_stats(args.sort)
    stats.print_stats(args.top)
    print(f"CPU s under the profiler: {spent:.2f}", file=sys.stderr)
    print(text.getvalue())


if __name__ == "__main__":
    run()
