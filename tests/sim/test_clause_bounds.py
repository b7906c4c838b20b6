"""bench/clause_bounds.py: the lower bounds BENCHMARKS.md's "Which Target clauses are reachable" quotes."""

from __future__ import annotations

import importlib.util
import itertools
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

from autoscaler.model import Resources
from autoscaler.sim.job import Job, Stage
from autoscaler.sim.runner import percentile

AM = Resources(6144, 1)
HELD = 24576  # two m5.xlarge core nodes
BOOT = 300.0


def _load() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / "clause_bounds.py"
    spec = importlib.util.spec_from_file_location("clause_bounds", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["clause_bounds"] = module
    spec.loader.exec_module(module)
    return module


cb = _load()


def job(submit: float, ideal: float) -> Job:
    return Job(id=f"j{submit}", submit_s=submit, stages=(Stage(1, 3072, 1, ideal - 5.0),), am=AM, am_start_s=5.0)


@pytest.mark.parametrize("n", [1, 20, 5894, 11915])
def test_fast_jobs_is_what_a_p95_at_most_w_needs(n: int) -> None:
    """A p95 wait of at most 10 s is possible with `fast` jobs within 10 s, and not with one fewer."""
    fast = cb.fast_jobs(n)
    assert percentile([0.0] * fast + [10.5] * (n - fast), 95) <= 10.0
    if fast > 0:
        assert percentile([0.0] * (fast - 1) + [1e6] * (n - fast + 1), 95) > 10.0


def test_an_am_running_at_a_later_start_needs_ten_times_its_memory() -> None:
    """A's AM runs when B starts, so the cluster holds 10 x 2 AMs then: 122,880 MB, 61,440 above the core nodes."""
    jobs = [job(0.0, 1000.0), job(400.0, 10.0)]
    assert cb.am_share_bound_mb_s(jobs, 0.0, 0, HELD, BOOT) == pytest.approx(61440 * BOOT)
    # allowed to wait 500 s, A may not have started by the time B does: nothing is sure
    assert cb.am_share_bound_mb_s(jobs, 500.0, 0, HELD, BOOT) == 0.0
    # one job may wait longer than W: it can be either, and each alone removes the whole bound
    assert cb.am_share_bound_mb_s(jobs, 0.0, 1, HELD, BOOT) == 0.0


def test_the_chosen_instants_are_the_best_spaced_set() -> None:
    """The dynamic programme equals a brute force over every set of instants boot + W apart (no slow jobs)."""
    rng = random.Random(3)
    for _ in range(150):
        jobs = [job(float(rng.randint(0, 3000)), float(rng.randint(6, 2000))) for _ in range(rng.randint(2, 8))]
        wait = rng.choice([0.0, 5.0, 100.0])
        ams = sorted((j.submit_s, j.submit_s + j.ideal_s) for j in jobs)
        values = []
        for s0, _ in ams:
            held = sum(AM.memory_mb for s1, e1 in ams if s1 + wait < s0 and e1 > s0 + wait)
            values.append(0.0 if not held else max(0.0, held / 0.1 + min(0.0, AM.memory_mb / 0.1 - HELD)))
        best = max(
            sum(values[k] for k in chosen)
            for r in range(len(ams) + 1)
            for chosen in itertools.combinations(range(len(ams)), r)
            if all(ams[b][0] - ams[a][0] >= BOOT + wait for a, b in itertools.pairwise(chosen))
        )
        assert cb.am_share_bound_mb_s(jobs, wait, 0, HELD, BOOT) == pytest.approx(best * BOOT)


def test_more_jobs_allowed_to_wait_never_raise_the_bound() -> None:
    rng = random.Random(7)
    jobs = [job(float(rng.randint(0, 20000)), float(rng.randint(6, 5000))) for _ in range(300)]
    bounds = [cb.am_share_bound_mb_s(jobs, 30.0, slow, HELD, BOOT) for slow in (0, 1, 5, 20, 100)]
    assert bounds == sorted(bounds, reverse=True)
    assert bounds[0] > 0


def test_continuous_share_pays_ten_times_the_am_memory_seconds_less_core_and_lone_am() -> None:
    jobs = [job(0.0, 1000.0), job(0.0, 1000.0), job(0.0, 1000.0)]
    expected = 3 * 6144 * 1000.0 / 0.1 - (6144 / 0.1 + HELD) * 1000.0
    assert cb.continuous_share_mb_s(jobs, HELD, 1000.0) == pytest.approx(expected)
    # a longer run leaves the formula less: the bound only weakens, never goes negative
    assert cb.continuous_share_mb_s(jobs, HELD, 1e6) == 0.0
