"""An exact fingerprint of one `simulate` run, to prove a speed change left every decision alone.

    .venv/bin/python bench/fingerprint.py OUT.fp <simulate arguments, one --policy>

Writes to OUT.fp one digest per stream (compare two files with `cmp`): every tick's decision
(recommendations, rejections with their text, the plan, Spot-notice notes), the actuator's outcomes
and the memory carried to the next tick; every job's start and finish time unrounded, and the order
jobs completed in; every applied resize with its simulated time; and the ledger's dollars and
node-seconds, closed and at the end, with the interruptions and the work they lost. A report rounds;
this does not. The run itself is the ordinary `simulate` (its report too). `bench/sim_identity.sh`
runs it over every run a simulator speed change must leave identical.
"""

from __future__ import annotations

import hashlib
import sys
from typing import Any

import autoscaler.sim.actuator as actuator_module
import autoscaler.sim.cluster as cluster_module
import autoscaler.sim.runner as runner_module
from autoscaler.cli import main
from autoscaler.tick import TickResult, run_tick

digests = {name: hashlib.sha256() for name in ("decisions", "outcomes", "memory", "jobs", "resizes", "ledger")}
clusters: list[Any] = []
actuators: list[Any] = []
ticks = [0]


def _memory_text(result: TickResult) -> str:
    m = result.memory
    maps = (m.pools, m.booting, m.boot_s, m.notices, m.replacements)
    return repr((m.samples, *(sorted(x.items()) for x in maps)))


def tick(*args: Any, **kwargs: Any) -> TickResult:
    result = run_tick(*args, **kwargs)
    d = result.decision
    ticks[0] += 1
    digests["decisions"].update(repr((d.taken_at, d.recommendations, d.rejections, d.plan, d.notices)).encode())
    digests["outcomes"].update(repr(result.outcomes).encode())
    digests["memory"].update(_memory_text(result).encode())
    return result


class Cluster(cluster_module.SimCluster):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        clusters.append(self)


class Actuator(actuator_module.SimActuator):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        actuators.append(self)


if __name__ == "__main__":
    out = sys.argv[1]
    runner_module.run_tick = tick  # type: ignore[attr-defined] # the runner's own name
    runner_module.SimCluster = Cluster  # type: ignore[misc]
    runner_module.SimActuator = Actuator  # type: ignore[misc]
    code = main(["simulate", *sys.argv[2:]])
    if len(clusters) != 1:
        sys.exit("give one --policy (worker processes are not fingerprinted)")
    cluster = clusters[0]
    done = sorted(
        (jr for jr in cluster.workload.jobs if jr.finished_at is not None), key=lambda jr: (jr.finished_at, jr.seq)
    )
    for jr in cluster.workload.jobs:
        digests["jobs"].update(repr((jr.seq, jr.started_at, jr.finished_at)).encode())
    digests["jobs"].update(repr([jr.seq for jr in done]).encode())
    digests["jobs"].update(repr([jr.seq for jr in cluster.workload.completed]).encode())
    for at, resize in actuators[0].applied:
        digests["resizes"].update(repr((at, resize)).encode())
    end = cluster.now
    ledger = cluster.ledger
    digests["ledger"].update(repr((end, ledger.total_usd(end), ledger.node_seconds(end))).encode())
    digests["ledger"].update(repr((ledger.closed_usd, ledger.closed_node_s)).encode())
    lost = (cluster.interruptions, cluster.lost_containers, cluster.workload.lost_container_s)
    digests["ledger"].update(repr(lost).encode())
    with open(out, "w") as f:
        f.write(f"ticks {ticks[0]}\njobs {len(cluster.workload.jobs)}\nresizes {len(actuators[0].applied)}\n")
        for name, h in digests.items():
            f.write(f"{name} {h.hexdigest()}\n")
    sys.exit(code)
