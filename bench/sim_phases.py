"""CPU seconds of one `simulate` run by phase (BENCHMARKS.md "Simulator speed").

    .venv/bin/python bench/sim_phases.py <simulate arguments, one --policy>

Wraps the three per-tick phases of `simulate_policy` with a CPU clock (`time.thread_time`): events
(`SimCluster.advance_to`: completions and placement), the snapshot (`SimCluster.snapshot`) and the
daemon's tick (`run_tick`: engine, policies, guards, actuator); the rest after imports is the trace,
the Spot file, the floors and the report. Adds a few microseconds per tick, no profiler overhead.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import autoscaler.sim.cluster as cluster_module
import autoscaler.sim.runner as runner_module
from autoscaler.cli import main
from autoscaler.tick import run_tick

spent = {"events": 0.0, "snapshot": 0.0, "tick": 0.0}


def timed(phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[phase] += time.thread_time() - start

    return wrapper


if __name__ == "__main__":
    sim = cluster_module.SimCluster
    sim.advance_to = timed("events", sim.advance_to)  # type: ignore[method-assign]
    sim.snapshot = timed("snapshot", sim.snapshot)  # type: ignore[method-assign]
    runner_module.run_tick = timed("tick", run_tick)  # type: ignore[attr-defined] # the runner's own name
    started = time.process_time()
    code = main(["simulate", *sys.argv[1:]])
    total = time.process_time() - started
    rest = total - sum(spent.values())
    print(
        " ".join(f"{k}={v:.2f}" for k, v in spent.items()), f"rest={rest:.2f} total={total:.2f} CPU s", file=sys.stderr
    )
    sys.exit(code)
