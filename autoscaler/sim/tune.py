"""The study behind `emr-autoscaler tune`: Optuna trials of a policy's options on the simulator.

Each trial simulates the training part of the trace (`split_trace`) with one point of the search
space (`autoscaler.sim.space`) and reports two objectives, both minimised: controllable cost (what the
policy's own choices cost, `PolicyResult.controllable_cost_usd`) and p95 job wait. TPE samples them,
told the wait limit as a constraint so it spends its trials near the feasible region.

Trials run in worker processes (the simulator is CPU-bound Python: threads would share one core),
each running `study.optimize` on the same storage, so the study is one: machines that run the same
command against one `--storage` URL (PostgreSQL, MySQL) add their trials to it too. A study is named
by what it is tuned on (trace, policy, config, seed, holdout), so a rerun with the same inputs resumes
it and a changed input starts a new one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import optuna

from autoscaler.config import ClusterConfig, PolicySpec
from autoscaler.policy import PolicyError, load_policy
from autoscaler.prices import SpotHistory
from autoscaler.sim.job import Job
from autoscaler.sim.runner import PolicyResult, simulate_policy
from autoscaler.sim.space import Param, options_model, options_of
from autoscaler.sim.spec import ClusterSpec

COST, WAIT = "controllable_cost_usd", "p95_wait_s"


@dataclass(frozen=True, slots=True)
class Problem:
    """Everything a trial needs, pickled once per worker."""

    jobs: tuple[Job, ...]
    spec: ClusterSpec
    base: tuple[PolicySpec, ...]  # the policy set with the config's options (or none)
    params: tuple[Param, ...]
    config: ClusterConfig
    spot_history: SpotHistory | None
    seed: int
    poll_interval_s: float
    max_p95_wait_s: float


@dataclass(frozen=True, slots=True)
class Point:
    """One finished trial: its options and its two objectives on the training part."""

    number: int
    params: dict[str, Any]
    cost_usd: float
    p95_wait_s: float
    complete: bool  # every job finished (no overrun stop): the figures are whole

    def feasible(self, max_p95_wait_s: float) -> bool:
        return self.complete and self.p95_wait_s <= max_p95_wait_s


def split_trace(
    jobs: Sequence[Job], spec: ClusterSpec, holdout_fraction: float
) -> tuple[list[Job], list[Job], ClusterSpec]:
    """Train on the jobs submitted in the first 1 - `holdout_fraction` of the trace's time, hold out the rest.

    The held-out jobs keep their wall-clock instants: the returned spec starts the simulated cluster at
    the split, and their submit times are shifted by it (a schedule policy sees the same hours)."""
    if not jobs:
        return [], [], spec
    first, last = min(j.submit_s for j in jobs), max(j.submit_s for j in jobs)
    split = first + (last - first) * (1.0 - holdout_fraction)
    train = [j for j in jobs if j.submit_s < split]
    held = [replace(j, submit_s=j.submit_s - split) for j in jobs if j.submit_s >= split]
    return train, held, replace(spec, start_at=spec.start_at + split)


def policy_set(base: Sequence[PolicySpec], params: dict[str, Any]) -> list[PolicySpec]:
    """The policy set with a trial's options over the configured ones."""
    return [replace_options(s, {**s.options, **options_of(params, s.type)}) for s in base]


def replace_options(spec: PolicySpec, options: dict[str, Any]) -> PolicySpec:
    return spec.model_copy(update={"options": options})


def baseline(base: Sequence[PolicySpec], params: Sequence[Param]) -> dict[str, Any]:
    """The configured options (else the defaults) as a point of the space, so the search starts from them."""
    out: dict[str, Any] = {}
    for p in params:
        spec = next(s for s in base if s.type == p.policy)
        field = options_model(p.policy).model_fields[p.option]
        value = spec.options.get(p.option, field.default)
        if isinstance(value, Enum):
            value = value.value
        if value in p.choices or (p.kind != "categorical" and p.low <= value <= p.high):
            out[p.name] = value
    return out


def suggest(trial: optuna.Trial, params: Sequence[Param]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in params:
        if p.kind == "categorical":
            out[p.name] = trial.suggest_categorical(p.name, list(p.choices))
        elif p.kind == "int":
            out[p.name] = trial.suggest_int(p.name, int(p.low), int(p.high))
        else:
            out[p.name] = trial.suggest_float(p.name, p.low, p.high)
    return out


def evaluate(problem: Problem, specs: Sequence[PolicySpec], jobs: Sequence[Job], spec: ClusterSpec) -> PolicyResult:
    return simulate_policy(
        jobs, spec, specs, problem.config, problem.spot_history, problem.seed, poll_interval_s=problem.poll_interval_s
    )


def _objective(problem: Problem, trial: optuna.Trial) -> tuple[float, float]:
    specs = policy_set(problem.base, suggest(trial, problem.params))
    try:
        for i, s in enumerate(specs):
            load_policy(s, f"policies[{i}]")  # options valid together (e.g. min <= max)?
    except PolicyError as err:
        trial.set_user_attr("invalid", str(err))
        raise optuna.TrialPruned(str(err)) from None
    result = evaluate(problem, specs, problem.jobs, problem.spec)
    complete = not result.extras.get("overrun_stop")
    trial.set_user_attr("complete", complete)
    wait = result.wait_s["p95"]
    # feasible at <= 0; an incomplete run (jobs left at the overrun stop) is far outside
    trial.set_constraint("p95_wait", wait - problem.max_p95_wait_s if complete else 1e9)
    return result.controllable_cost_usd, wait


def make_sampler(seed: int) -> optuna.samplers.BaseSampler:
    return optuna.samplers.TPESampler(seed=seed)


def _worker(args: tuple[Problem, str, str, int, int]) -> None:
    problem, storage, name, trials, seed = args
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=name, storage=open_storage(storage), sampler=make_sampler(seed))
    study.optimize(lambda t: _objective(problem, t), n_trials=trials, catch=())


def open_storage(url: str) -> optuna.storages.BaseStorage:
    """An RDB storage; SQLite waits for the lock instead of failing when processes write at once."""
    kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite:") else None
    return optuna.storages.RDBStorage(url, engine_kwargs=kwargs)


def study_name(policy: str, trace_digest: str, problem: Problem, holdout_fraction: float) -> str:
    key = json.dumps(
        [trace_digest, [s.model_dump(mode="json") for s in problem.base], problem.config.model_dump(mode="json")],
        sort_keys=True,
        default=str,
    )
    digest = hashlib.sha256(f"{key}|{problem.seed}|{holdout_fraction}".encode()).hexdigest()[:12]
    return f"tune-{policy}-{digest}"


def run_study(problem: Problem, storage: str, name: str, trials: int, workers: int) -> list[Point]:
    """Add `trials` trials to the study (split across `workers` processes); every finished point of it."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rdb = open_storage(storage)
    study = optuna.create_study(storage=rdb, study_name=name, directions=["minimize", "minimize"], load_if_exists=True)
    seed = problem.seed + len(study.trials)  # a resumed study samples on, not the same points again
    if not study.trials:
        study.enqueue_trial(baseline(problem.base, problem.params))  # the configured options are a candidate
        if workers > 1 and trials > 1:  # run it here: two workers may both pop it from SQLite, one then fails
            _optimize_here(study, problem, seed, 1)
            trials -= 1
    workers = max(1, min(workers, trials))
    if workers == 1:
        _optimize_here(study, problem, seed, trials)
    else:
        shares = [trials // workers + (1 if i < trials % workers else 0) for i in range(workers)]
        jobs = [(problem, storage, name, n, seed + i) for i, n in enumerate(shares)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for future in [pool.submit(_worker, j) for j in jobs]:
                future.result()
    return [
        Point(t.number, dict(t.params), float(t.values[0]), float(t.values[1]), bool(t.user_attrs.get("complete")))
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    ]


def _optimize_here(study: optuna.Study, problem: Problem, seed: int, trials: int) -> None:
    study.sampler = make_sampler(seed)
    study.optimize(lambda t: _objective(problem, t), n_trials=trials, catch=())


def pareto_front(points: Sequence[Point]) -> list[tuple[Point, int]]:
    """The points no other point beats on both objectives (complete runs only), cheapest first; of
    trials with equal figures the earliest, with how many others share them."""
    first: dict[tuple[float, float], Point] = {}
    ties: dict[tuple[float, float], int] = {}
    for p in sorted((p for p in points if p.complete), key=lambda p: p.number):
        key = (p.cost_usd, p.p95_wait_s)
        ties[key] = ties.get(key, -1) + 1
        first.setdefault(key, p)
    front = [
        (p, ties[key])
        for key, p in first.items()
        if not any(c <= key[0] and w <= key[1] and (c, w) != key for c, w in first)
    ]
    return sorted(front, key=lambda pt: (pt[0].cost_usd, pt[0].p95_wait_s))


def choose(points: Sequence[Point], max_p95_wait_s: float) -> Point | None:
    """The cheapest complete point within the wait limit (ties: lower wait, then earlier trial)."""
    ok = [p for p in points if p.feasible(max_p95_wait_s)]
    return min(ok, key=lambda p: (p.cost_usd, p.p95_wait_s, p.number), default=None)
