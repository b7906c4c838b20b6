"""`sim.boot_s` as a distribution: each form parses, bad forms name the field, draws have the stated shape."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from autoscaler.sim.boot import BootDelay, Empirical, Fixed, LogNormal, Normal, Uniform
from autoscaler.sim.spec import ClusterSpec, SpecError, default_spec, parse_spec

from .conftest import cluster

DRAWS = 2000


def _draws(delay: BootDelay, seed: int = 11) -> list[float]:
    rng = random.Random(seed)
    return [delay.sample(rng) for _ in range(DRAWS)]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, Uniform(300.0, 360.0)),
        ([300, 360], Uniform(300.0, 360.0)),
        (240, Uniform(240.0, 240.0)),
        ({"distribution": "uniform", "min": 200, "max": 400}, Uniform(200.0, 400.0)),
        ({"distribution": "fixed", "value": 330}, Fixed(330.0)),
        ({"distribution": "normal", "mean": 330, "stddev": 30}, Normal(330.0, 30.0)),
        (
            {"distribution": "normal", "mean": 330, "stddev": 30, "min": 240, "max": 600},
            Normal(330.0, 30.0, (240, 600)),
        ),
        ({"distribution": "lognormal", "median": 320, "sigma": 0.2}, LogNormal(320.0, 0.2, (0.0, math.inf))),
        ({"distribution": "empirical", "values": [290, 310.5, 540]}, Empirical((290.0, 310.5, 540.0))),
    ],
)
def test_each_boot_form_parses(raw: object, expected: BootDelay) -> None:
    """Every documented `boot_s` form, old and new, parses to its distribution."""
    sim = {} if raw is None else {"boot_s": raw}
    assert parse_spec(sim).boot_s == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([300], "sim.boot_s: [min, max]"),
        ([360, 300], "sim.boot_s: [min, max]"),
        ([-1, 300], "sim.boot_s[0]: must be a non-negative number"),
        ("slow", "sim.boot_s: a number, [min, max] or {distribution: ...}"),
        ({"distribution": "gamma", "k": 2}, "sim.boot_s.distribution: must be one of uniform, fixed, normal"),
        ({"min": 300, "max": 360}, "sim.boot_s.distribution: must be one of"),
        ({"distribution": "normal", "mean": 330}, "sim.boot_s: normal takes ['max', 'mean', 'min', 'stddev']"),
        ({"distribution": "fixed", "value": 300, "max": 400}, "unknown keys ['max']"),
        ({"distribution": "normal", "mean": 330, "stddev": -5}, "sim.boot_s.stddev: must be a non-negative"),
        ({"distribution": "normal", "mean": 330, "stddev": 5, "min": 400, "max": 300}, "sim.boot_s.max: must be >="),
        ({"distribution": "lognormal", "median": 0, "sigma": 0.2}, "sim.boot_s.median: must be a positive number"),
        ({"distribution": "uniform", "min": 400, "max": 300}, "sim.boot_s.max: must be >= min"),
        ({"distribution": "uniform", "min": "5m", "max": 300}, "sim.boot_s.min: must be a non-negative number"),
        ({"distribution": "empirical", "values": []}, "sim.boot_s.values: must be a non-empty list"),
        ({"distribution": "empirical", "values": [300, True]}, "sim.boot_s.values[1]: must be a non-negative"),
        ({"distribution": "fixed", "value": math.inf}, "sim.boot_s.value: must be a non-negative number"),
    ],
)
def test_bad_boot_forms_name_the_field(raw: object, message: str) -> None:
    """A `boot_s` that describes no distribution is a SpecError naming `sim.boot_s...`."""
    with pytest.raises(SpecError) as err:
        parse_spec({"boot_s": raw})
    assert message in str(err.value)


def test_uniform_draws_stay_in_range_with_the_midpoint_mean() -> None:
    """Uniform [300, 360]: every draw in range, mean 330 within 2 s (sd of the mean ~0.4 s)."""
    draws = _draws(Uniform(300.0, 360.0))
    assert min(draws) >= 300.0
    assert max(draws) <= 360.0
    assert statistics.fmean(draws) == pytest.approx(330.0, abs=2.0)


def test_normal_draws_have_the_stated_mean_and_spread() -> None:
    """Normal(330, 30): mean within 3 s (sd of the mean ~0.7 s), stddev within 10%."""
    draws = _draws(Normal(330.0, 30.0))
    assert statistics.fmean(draws) == pytest.approx(330.0, abs=3.0)
    assert statistics.stdev(draws) == pytest.approx(30.0, rel=0.1)


def test_normal_is_clipped_at_its_minimum_not_redrawn() -> None:
    """Normal(10, 100) with min 0: no negative boot; ~46% (P(Z < -0.1)) of draws sit exactly at 0."""
    draws = _draws(Normal(10.0, 100.0))
    assert min(draws) == 0.0
    at_zero = sum(d == 0.0 for d in draws) / DRAWS
    assert at_zero == pytest.approx(0.46, abs=0.05)
    capped = _draws(Normal(330.0, 100.0, (240.0, 400.0)))
    assert (min(capped), max(capped)) == (240.0, 400.0)


def test_lognormal_draws_have_the_stated_median() -> None:
    """LogNormal(median 320, sigma 0.2): median within 8 s (sd ~1.8 s), mean 320 e^(0.02) = 326.5 within 4 s."""
    draws = _draws(LogNormal(320.0, 0.2))
    assert statistics.median(draws) == pytest.approx(320.0, abs=8.0)
    assert statistics.fmean(draws) == pytest.approx(320.0 * math.exp(0.2**2 / 2), abs=4.0)
    assert min(draws) > 0.0


def test_empirical_resamples_only_the_given_values_evenly() -> None:
    """Empirical [290, 310, 540]: only those values, each about a third of the time, mean ~380."""
    draws = _draws(Empirical((290.0, 310.0, 540.0)))
    assert set(draws) == {290.0, 310.0, 540.0}
    assert statistics.fmean(draws) == pytest.approx(380.0, abs=8.0)


def test_fixed_is_always_the_value() -> None:
    """Fixed(330): every draw is 330."""
    assert set(_draws(Fixed(330.0))) == {330.0}


def test_a_min_max_tuple_still_builds_a_uniform_spec() -> None:
    """`ClusterSpec(boot_s=(a, b))`, the older form, means Uniform(a, b); the default is Uniform(300, 360)."""
    spec = ClusterSpec(pools=default_spec().pools, boot_s=(120.0, 180.0))  # type: ignore[arg-type]
    assert spec.boot_s == Uniform(120.0, 180.0)
    assert default_spec().boot_s == Uniform(300.0, 360.0)


def _up_at(spec: ClusterSpec, seed: int) -> float:
    """Seconds after the request at which one new Spot task node becomes YARN capacity."""
    c = cluster(spec, seed=seed)
    c.modify_instance_group("ig-spot", 1)
    (node,) = c.pools["ig-spot"].nodes.values()
    c.advance_to(spec.start_at + 3600)
    assert node.running_at is not None
    return node.running_at - spec.start_at


_SPOT = [{"id": "ig-master", "role": "MASTER", "initial": 1}, {"id": "ig-spot", "role": "TASK", "market": "SPOT"}]


def test_cluster_boots_with_the_configured_distribution_and_default_draws_are_unchanged() -> None:
    """A fixed 100 s boot comes up at 100 s; the default draws what `uniform(300, 360)` on the boot RNG did."""
    fixed = parse_spec({"pools": _SPOT, "boot_s": {"distribution": "fixed", "value": 100}, "interruptions": False})
    assert _up_at(fixed, seed=4) == 100.0
    default = parse_spec({"pools": _SPOT, "interruptions": False})
    assert _up_at(default, seed=4) == pytest.approx(random.Random("boot-4").uniform(300.0, 360.0))
    empirical = parse_spec(
        {"pools": _SPOT, "boot_s": {"distribution": "empirical", "values": [250, 700]}, "interruptions": False}
    )
    assert {_up_at(empirical, seed=s) for s in range(12)} == {250.0, 700.0}
    assert _up_at(empirical, seed=5) == _up_at(empirical, seed=5)  # seeded: the same seed, the same boot
