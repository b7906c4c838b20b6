"""CPU seconds of one policy's own `evaluate` over a whole `simulate` run (BENCHMARKS.md "Simulator speed").

    .venv/bin/python bench/policy_evaluate.py [--rounds N] [--profile OUT] -- <simulate arguments, one --policy>

Runs the simulation once, keeping every (snapshot, context) the policy is asked about (policies are
pure, so asking again returns the same plan), then replays them all through `evaluate` N times and
prints the least total: the policy's share of the tick without the event loop, the snapshot, the
engine or the run-to-run noise of the shared cores that `bench/sim_phases.py` carries. `--profile`
also writes a cProfile of two replays (pstats), whose shares are not distorted by the rest of the run.
"""

from __future__ import annotations

import argparse
import cProfile
import sys
import time
from collections.abc import Sequence

import autoscaler.engine as engine_module
from autoscaler.cli import main
from autoscaler.model import ClusterSnapshot
from autoscaler.policy import Policy, PolicyContext

Asked = tuple[Sequence[Policy], ClusterSnapshot, PolicyContext]


def replay_all(asked: list[Asked]) -> float:
    start = time.thread_time()
    for policies, snapshot, ctx in asked:
        for policy in policies:
            list(policy.evaluate(snapshot, ctx))
    return time.thread_time() - start


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", help="also write a profile of two replays here (pstats)")
    parser.add_argument("simulate", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    sim_args = args.simulate[1:] if args.simulate[:1] == ["--"] else args.simulate
    policy_name = sim_args[sim_args.index("--policy") + 1]
    asked: list[Asked] = []
    run_policies = engine_module._run_policies

    def keep(policies: Sequence[Policy], snapshot: ClusterSnapshot, ctx: PolicyContext) -> object:
        asked.append((policies, snapshot, ctx))
        return run_policies(policies, snapshot, ctx)

    engine_module._run_policies = keep  # type: ignore[assignment] # the engine's own name, per tick
    code = main(["simulate", *sim_args])
    engine_module._run_policies = run_policies
    best = min(replay_all(asked) for _ in range(args.rounds))
    print(f"{policy_name}: evaluate over {len(asked)} ticks, least of {args.rounds}: {best:.3f} CPU s", file=sys.stderr)
    if args.profile:
        prof = cProfile.Profile()
        prof.runcall(lambda: (replay_all(asked), replay_all(asked)))
        prof.dump_stats(args.profile)
    sys.exit(code)
