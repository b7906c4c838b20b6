"""Boot delay distributions: how long a requested node takes to become YARN capacity (`sim.boot_s`).

AWS quotes ~5-6 minutes, but real boot times have a tail (AMI pulls, bootstrap actions, capacity
waits), and a policy's waiting time depends on it; so the delay is a distribution, sampled from the
cluster's own seeded RNG (runs stay deterministic). Forms of `boot_s`:

    boot_s: [300, 360]                                         # uniform [min, max] (the default)
    boot_s: 330                                                # fixed
    boot_s: {distribution: uniform, min: 300, max: 360}
    boot_s: {distribution: fixed, value: 330}
    boot_s: {distribution: normal, mean: 330, stddev: 30}      # clipped to [min, max]: min 0, no max
    boot_s: {distribution: lognormal, median: 320, sigma: 0.2} # median * e^(sigma Z), clipped likewise
    boot_s: {distribution: empirical, values: [290, 310, 540]} # resample measured boot times

Clipping makes the normal's mean drift above `mean` when `stddev` is large next to it (the draws
below `min` are raised to it, not redrawn): state a `min` that is a real lower bound.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Final


class BootError(ValueError):
    """A `boot_s` value that describes no distribution, with its field path."""


@dataclass(frozen=True, slots=True)
class Uniform:
    low: float
    high: float

    def sample(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)


@dataclass(frozen=True, slots=True)
class Fixed:
    value: float

    def sample(self, rng: random.Random) -> float:
        return self.value


#: (min, max) a normal or lognormal draw is clipped to: no negative boot, no ceiling
NO_CLIP: Final = (0.0, math.inf)


def _clipped(value: float, bounds: tuple[float, float]) -> float:
    return min(max(value, bounds[0]), bounds[1])


@dataclass(frozen=True, slots=True)
class Normal:
    mean: float
    stddev: float
    bounds: tuple[float, float] = NO_CLIP

    def sample(self, rng: random.Random) -> float:
        return _clipped(rng.normalvariate(self.mean, self.stddev), self.bounds)


@dataclass(frozen=True, slots=True)
class LogNormal:
    median: float
    sigma: float
    bounds: tuple[float, float] = NO_CLIP

    def sample(self, rng: random.Random) -> float:
        return _clipped(rng.lognormvariate(math.log(self.median), self.sigma), self.bounds)


@dataclass(frozen=True, slots=True)
class Empirical:
    values: tuple[float, ...]

    def sample(self, rng: random.Random) -> float:
        return rng.choice(self.values)


BootDelay = Uniform | Fixed | Normal | LogNormal | Empirical
DEFAULT_BOOT: Final[BootDelay] = Uniform(300.0, 360.0)

_KEYS: Final = {
    "uniform": ({"min", "max"}, set()),
    "fixed": ({"value"}, set()),
    "normal": ({"mean", "stddev"}, {"min", "max"}),
    "lognormal": ({"median", "sigma"}, {"min", "max"}),
    "empirical": ({"values"}, set()),
}


def _seconds(value: Any, where: str, *, positive: bool = False) -> float:
    """A finite number >= 0 (> 0 with `positive`); bools are not numbers here."""
    ok = not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
    if not ok or value < 0 or (positive and value == 0):
        raise BootError(f"{where}: must be a {'positive' if positive else 'non-negative'} number, not {value!r}")
    return float(value)


def _clip(data: dict[str, Any], where: str) -> tuple[float, float]:
    low = _seconds(data.get("min", 0.0), f"{where}.min")
    high = _seconds(data["max"], f"{where}.max") if "max" in data else math.inf
    if high < low:
        raise BootError(f"{where}.max: must be >= min")
    return low, high


def _mapping(data: dict[str, Any], where: str) -> BootDelay:
    kind = data.get("distribution")
    if kind not in _KEYS:
        raise BootError(f"{where}.distribution: must be one of {', '.join(_KEYS)}, not {kind!r}")
    required, optional = _KEYS[kind]
    missing = sorted(required - set(data))
    unknown = sorted(set(data) - required - optional - {"distribution"})
    if missing or unknown:
        wrong = f"missing {missing}" if missing else f"unknown keys {unknown}"
        raise BootError(f"{where}: {kind} takes {sorted(required | optional)}: {wrong}")
    if kind == "uniform":
        low, high = _seconds(data["min"], f"{where}.min"), _seconds(data["max"], f"{where}.max")
        if high < low:
            raise BootError(f"{where}.max: must be >= min")
        return Uniform(low, high)
    if kind == "fixed":
        return Fixed(_seconds(data["value"], f"{where}.value"))
    if kind == "normal":
        mean, stddev = _seconds(data["mean"], f"{where}.mean"), _seconds(data["stddev"], f"{where}.stddev")
        return Normal(mean, stddev, _clip(data, where))
    if kind == "lognormal":
        median = _seconds(data["median"], f"{where}.median", positive=True)
        return LogNormal(median, _seconds(data["sigma"], f"{where}.sigma"), _clip(data, where))
    values = data["values"]
    if not isinstance(values, list) or not values:
        raise BootError(f"{where}.values: must be a non-empty list of seconds")
    return Empirical(tuple(_seconds(v, f"{where}.values[{i}]") for i, v in enumerate(values)))


def parse_boot(raw: Any, where: str = "sim.boot_s") -> BootDelay:
    """`boot_s` in any of its forms (module docstring) -> a distribution; None is the default."""
    if raw is None:
        return DEFAULT_BOOT
    if isinstance(raw, dict):
        return _mapping(raw, where)
    if isinstance(raw, list | tuple):
        if len(raw) != 2:
            raise BootError(f"{where}: [min, max] seconds with 0 <= min <= max")
        low, high = _seconds(raw[0], f"{where}[0]"), _seconds(raw[1], f"{where}[1]")
        if high < low:
            raise BootError(f"{where}: [min, max] seconds with 0 <= min <= max")
        return Uniform(low, high)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        seconds = _seconds(raw, where)
        return Uniform(seconds, seconds)  # as before: one draw of a zero-width uniform, same RNG stream
    raise BootError(f"{where}: a number, [min, max] or {{distribution: ...}}, not {raw!r}")


def as_boot(value: BootDelay | tuple[float, float]) -> BootDelay:
    """A `ClusterSpec.boot_s` given as the older (min, max) tuple -> its uniform distribution."""
    if isinstance(value, tuple):
        return Uniform(float(value[0]), float(value[1]))
    return value
