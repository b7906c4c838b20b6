"""An exact fingerprint of one `simulate` run, for refactors that must not change any result.

    .venv/bin/python bench/sim_fingerprint.py OUT.fp <simulate arguments>

The JSON report rounds what it shows; this hashes what the report is computed from, unrounded:
every job's start and finish time, the order jobs completed in, the ledger's closed dollars and
node-seconds, the interruptions and lost work, and every resize applied with its simulated time.
One hash per policy set, one per line, in run order (single process: give one `--policy` per run,
or the worker processes' clusters are not seen). `bench/sim_identity.sh` runs the whole set.
"""

from __future__ import annotations

import hashlib
import sys
from typing import Any

import autoscaler.sim.runner as runner_module
from autoscaler.cli import main

clusters: list[Any] = []
actuators: list[Any] = []


class _Cluster(runner_module.SimCluster):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        clusters.append(self)


class _Actuator(runner_module.SimActuator):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        actuators.append(self)


def fingerprint(cluster: Any, actuator: Any) -> str:
    w = cluster.workload
    h = hashlib.sha256()
    h.update(repr([(jr.seq, jr.started_at, jr.finished_at) for jr in w.jobs]).encode())
    h.update(repr([jr.seq for jr in w.completed]).encode())
    ledger = (cluster.ledger.closed_usd, cluster.ledger.closed_node_s, cluster.now)
    h.update(repr((ledger, cluster.interruptions, cluster.lost_containers, w.lost_container_s)).encode())
    h.update(repr([(t, r.pool_id, r.target, r.instances_to_terminate) for t, r in actuator.applied]).encode())
    return h.hexdigest()


if __name__ == "__main__":
    runner_module.SimCluster = _Cluster  # type: ignore[misc] # seen through the runner's own names
    runner_module.SimActuator = _Actuator  # type: ignore[misc]
    out, argv = sys.argv[1], sys.argv[2:]
    try:
        main(["simulate", *argv])
    except SystemExit as stop:
        if stop.code not in (0, None):
            raise
    with open(out, "w", encoding="utf-8") as f:
        f.writelines(fingerprint(c, a) + "\n" for c, a in zip(clusters, actuators, strict=True))
