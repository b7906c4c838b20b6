"""Replay a trace against the simulated cluster under one policy set, exactly as the daemon ticks.

Each tick (every `config.poll_interval_s` of simulated time) builds a real `ClusterSnapshot` from
the model and runs the daemon's own tick (`tick.run_tick`: evaluate with the same policies the
daemon loads, apply through `SimActuator`, fold the outcomes back into memory). The run ends when every
job has finished (or `max_overrun_s` after the last submit); then every node is billed to the end.
Several policies run side by side in worker processes; each run is deterministic for its seed.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from autoscaler.config import ClusterConfig, PolicySpec
from autoscaler.model import ControllerMemory
from autoscaler.policy import Policy, PolicyError, WithGuardProfile, guard_profile, load_policy
from autoscaler.prices import SpotHistory, load_ondemand_table
from autoscaler.sim.actuator import SimActuator
from autoscaler.sim.billing import PriceBook
from autoscaler.sim.cluster import SimCluster
from autoscaler.sim.demand import effective_demand
from autoscaler.sim.hindsight import SIM_ONLY_POLICIES, hindsight_policy
from autoscaler.sim.job import Job
from autoscaler.sim.oracle import always_on, oracle_floor
from autoscaler.sim.spec import ClusterSpec
from autoscaler.tick import run_tick

MAX_OVERRUN_S = 7 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Timeline:
    """Sampled every `step_s` of simulated time: for the plot."""

    t_s: tuple[float, ...]
    demand_mb: tuple[int, ...]  # allocated + pending YARN memory
    capacity_mb: tuple[int, ...]  # YARN memory of RUNNING nodes
    cost_usd: tuple[float, ...]  # cumulative


@dataclass(frozen=True, slots=True)
class PolicyResult:
    policy: str
    cost_usd: float
    oracle_floor_usd: float
    jobs: int
    jobs_completed: int
    wait_s: dict[str, float]
    slowdown: dict[str, float]
    node_hours: float
    resizes: int
    interruptions: int
    sim_wall_s: float
    extras: dict[str, Any] = field(default_factory=dict)
    timeline: Timeline | None = None
    always_on_usd: float = 0.0  # the nodes every policy keeps, over the trace span (`autoscaler.sim.oracle`)
    no_wait_floor_usd: float | None = None

    @property
    def controllable_cost_usd(self) -> float:
        """What the policy's own choices cost: `cost_usd` - `always_on_usd`."""
        return round(self.cost_usd - self.always_on_usd, 6)


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); 0.0 for no values."""
    if not values:
        return 0.0
    s = sorted(values)
    pos = (len(s) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def build_prices(config: ClusterConfig, spec: ClusterSpec, spot_history: SpotHistory | None) -> PriceBook:
    return PriceBook(
        load_ondemand_table(config.pricing.ondemand_file),
        spot_history=spot_history,
        start_at=spec.start_at,
        spot_price_fraction=spec.spot_price_fraction,
        emr_overrides=config.pricing.emr_charge_usd_per_hour,
        availability_zone=spec.availability_zone,
        spot_types=spec.spot_instance_types(),
    )


def policy_label(policy_specs: Sequence[PolicySpec]) -> str:
    return "+".join(p.type for p in policy_specs)


def contestant_policies(
    policy_specs: Sequence[PolicySpec],
    jobs: Sequence[Job],
    *,
    spec: ClusterSpec,
    config: ClusterConfig,
    prices: PriceBook,
    poll_interval_s: float,
) -> tuple[Policy, ...]:
    """The daemon's policies by entry point; the simulator's own (`hindsight`) built here with the future."""
    out: list[Policy] = []
    for i, ps in enumerate(policy_specs):
        if ps.type in SIM_ONLY_POLICIES:
            core_fixed = not config.guards.scale_core
            _, held_mb = always_on(spec, prices, 0.0, core_fixed=core_fixed, limits=config.limits, managed=config.pools)
            try:
                demand = effective_demand(jobs)
                seer: Policy = hindsight_policy(
                    ps.options, demand, spec=spec, config=config, poll_interval_s=poll_interval_s, held_mb=held_mb
                )
            except ValueError as err:
                raise PolicyError(f"policies[{i}].options: {err}") from None
            # the operator's `guards:` override, as load_policy applies it to the daemon's policies
            out.append(seer if ps.guards in (None, guard_profile(seer)) else WithGuardProfile(seer, ps.guards))
        else:
            out.append(load_policy(ps, f"policies[{i}]"))
    return tuple(out)


def simulate_policy(  # noqa: PLR0917 - the documented call: jobs, spec, policies, config, prices, seed
    jobs: Sequence[Job],
    spec: ClusterSpec,
    policy_specs: Sequence[PolicySpec],
    config: ClusterConfig,
    spot_history: SpotHistory | None,
    seed: int,
    *,
    progress: Callable[[float], None] | None = None,
    timeline_step_s: float = 300.0,
    poll_interval_s: float = 30.0,
    timeline: bool = True,
) -> PolicyResult:
    """Run one policy set over the trace; `poll_interval_s` is the daemon's tick (AppConfig).

    `timeline: False` leaves the result's `timeline` None: only the plot reads it, and its cost
    samples bill every open node again (a sum over the cluster each `timeline_step_s`).
    """
    started = time.perf_counter()
    prices = build_prices(config, spec, spot_history)
    cluster = SimCluster(spec, prices, seed=seed)
    for job in jobs:
        cluster.submit(job)
    refused = {id(j) for j in cluster.rejected}
    runnable = [j for j in jobs if id(j) not in refused]
    policies = contestant_policies(
        policy_specs, runnable, spec=spec, config=config, prices=prices, poll_interval_s=poll_interval_s
    )
    actuator = SimActuator(cluster)
    memory = ControllerMemory()
    poll = poll_interval_s
    last_submit = spec.start_at + max((j.submit_s for j in jobs), default=0.0)
    horizon = last_submit + MAX_OVERRUN_S
    workload = cluster.workload
    samples: tuple[list[float], list[int], list[int], list[float]] = ([], [], [], [])
    next_sample = spec.start_at
    t = spec.start_at
    while True:
        cluster.advance_to(t)
        snapshot = cluster.snapshot()
        memory = run_tick(snapshot, memory, policies, config, actuator, now=t).memory
        if t >= next_sample:
            if timeline:
                yarn = snapshot.yarn
                assert yarn is not None
                samples[0].append(t - spec.start_at)
                samples[1].append((yarn.allocated_mb or 0) + (yarn.pending_mb or 0))
                samples[2].append(yarn.total_mb or 0)
                samples[3].append(cluster.ledger.total_usd(t))
            next_sample += timeline_step_s
            if progress is not None:
                progress(min(1.0, (t - spec.start_at) / max(last_submit - spec.start_at, 1.0)))
        arrived = len(workload.jobs) + len(cluster.rejected) == len(jobs)
        if (t >= last_submit and arrived and not workload.active) or t >= horizon:
            break
        t += poll
    end = cluster.now
    cost = cluster.ledger.total_usd(end)
    done = workload.completed
    waits = [jr.started_at - jr.job.submit_s - spec.start_at for jr in workload.jobs if jr.started_at is not None]
    slowdowns = [
        (jr.finished_at - spec.start_at - jr.job.submit_s) / jr.job.ideal_s
        for jr in done
        if jr.finished_at is not None and jr.job.ideal_s > 0
    ]
    core_fixed = not config.guards.scale_core
    floor = oracle_floor(runnable, spec, prices, core_fixed=core_fixed, limits=config.limits, managed=config.pools)
    return PolicyResult(
        policy=policy_label(policy_specs),
        cost_usd=round(cost, 6),
        oracle_floor_usd=round(floor.usd, 6),
        jobs=len(jobs),
        jobs_completed=len(done),
        wait_s={
            "p50": percentile(waits, 50),
            "p95": percentile(waits, 95),
            "p99": percentile(waits, 99),
            "mean": sum(waits) / len(waits) if waits else 0.0,
        },
        slowdown={"p50": percentile(slowdowns, 50), "p95": percentile(slowdowns, 95)},
        node_hours=round(cluster.ledger.node_seconds(end) / 3600.0, 4),
        resizes=len(actuator.applied),
        interruptions=cluster.interruptions,
        sim_wall_s=round(time.perf_counter() - started, 3),
        extras={
            "cost_over_oracle": round(cost / floor.usd, 4) if floor.usd > 0 else None,
            # stopped MAX_OVERRUN_S after the last submit with work left: cost and waits are partial
            "overrun_stop": bool(workload.active) or len(done) + len(cluster.rejected) < len(jobs),
            "simulated_s": round(end - spec.start_at, 1),
            "nodes_launched": cluster.launched,
            "lost_containers": cluster.lost_containers,
            "reclaims_skipped": cluster.reclaims_skipped,
            "jobs_rejected": len(cluster.rejected),
            "lost_container_hours": round(workload.lost_container_s / 3600.0, 4),
            "oracle_demand_mb_hours": round(floor.demand_mb_s / 3600.0, 1),
            "oracle_minimum_usd": round(floor.minimum_usd, 6),
            "always_on_mb": floor.always_on_mb,
            "oracle_backlog_mb_hours": round(floor.backlog_mb_s / 3600.0, 1),
            "oracle_excess_mb_hours": round(floor.excess_mb_s / 3600.0, 1),
        },
        timeline=Timeline(tuple(samples[0]), tuple(samples[1]), tuple(samples[2]), tuple(samples[3]))
        if timeline
        else None,
        always_on_usd=round(floor.always_on_usd, 6),
        no_wait_floor_usd=None if floor.no_wait_usd is None else round(floor.no_wait_usd, 6),
    )


_SHARED: dict[str, Any] = {}  # a worker process's copy of the inputs every run shares (`_share`)


def _share(  # noqa: PLR0917 - the shared inputs of simulate_policy, in its order
    jobs: Sequence[Job],
    spec: ClusterSpec,
    config: ClusterConfig,
    spot_history: SpotHistory | None,
    seed: int,
    poll_interval_s: float,
    timeline: bool,
) -> None:
    """Worker initializer: the trace and the rest reach each worker once (inherited when the worker is
    forked), not pickled again with each policy set."""
    _SHARED.update(
        jobs=jobs,
        spec=spec,
        config=config,
        spot_history=spot_history,
        seed=seed,
        poll_interval_s=poll_interval_s,
        timeline=timeline,
    )


def _run_one(specs: Sequence[PolicySpec]) -> PolicyResult:
    sh = _SHARED
    return simulate_policy(
        sh["jobs"],
        sh["spec"],
        specs,
        sh["config"],
        sh["spot_history"],
        sh["seed"],
        poll_interval_s=sh["poll_interval_s"],
        timeline=sh["timeline"],
    )


def simulate_policies(  # noqa: PLR0917 - mirrors simulate_policy
    jobs: Sequence[Job],
    spec: ClusterSpec,
    runs: Sequence[Sequence[PolicySpec]],
    config: ClusterConfig,
    spot_history: SpotHistory | None,
    seed: int,
    *,
    workers: int | None = None,
    show_progress: bool | None = None,
    poll_interval_s: float = 30.0,
    timeline: bool = True,
) -> list[PolicyResult]:
    """One result per policy set, in the order given; one worker process per CPU core by default
    (`timeline`: as `simulate_policy`'s)."""
    if show_progress is None:
        show_progress = sys.stderr.isatty()
    if workers is None:
        workers = os.cpu_count() or 1
    if len(runs) == 1 or workers <= 1:
        results = []
        for specs in runs:
            bar = _bar(show_progress, policy_label(specs))
            results.append(
                simulate_policy(
                    jobs,
                    spec,
                    specs,
                    config,
                    spot_history,
                    seed,
                    progress=bar.update if bar else None,
                    poll_interval_s=poll_interval_s,
                    timeline=timeline,
                )
            )
            if bar:
                bar.close()
        return results
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415 - only for several policy sets

    shared = (jobs, spec, config, spot_history, seed, poll_interval_s, timeline)
    with ProcessPoolExecutor(max_workers=min(workers, len(runs)), initializer=_share, initargs=shared) as pool:
        futures = [pool.submit(_run_one, specs) for specs in runs]
        bar = _bar(show_progress, f"{len(runs)} policies")
        out = []
        for f in futures:
            out.append(f.result())
            if bar:
                bar.update(len(out) / len(runs))
        if bar:
            bar.close()
        return out


class _Bar:
    """A tqdm bar over a 0..1 fraction, on stderr."""

    def __init__(self, label: str) -> None:
        from tqdm import tqdm  # noqa: PLC0415 - only for interactive runs

        self._bar = tqdm(total=1000, desc=label, file=sys.stderr, leave=False)
        self._at = 0

    def update(self, fraction: float) -> None:
        n = int(fraction * 1000)
        if n > self._at:
            self._bar.update(n - self._at)
            self._at = n

    def close(self) -> None:
        self._bar.close()


def _bar(show: bool, label: str) -> _Bar | None:
    return _Bar(label) if show else None
