"""What one node of an EC2 instance type gives YARN on EMR, by default.

A pool's capacity in YARN terms is what policies bin-pack onto and what the simulator places
containers on, so it must match what EMR configures, not the EC2 spec sheet: EMR sets
`yarn.nodemanager.resource.memory-mb` per instance type (well below the RAM: the OS, the
NodeManager and the DataNode need the rest) and `yarn.nodemanager.resource.cpu-vcores` to the
instance's vCPU count.

Memory figures below are EMR's documented defaults, "Task configuration" page of the EMR Release
Guide (docs.aws.amazon.com/emr/latest/ReleaseGuide/emr-hadoop-task-config.html; awsdocs/
amazon-emr-release-guide doc_source/emr-hadoop-task-config.md @ e107543f). Graviton types (m6g,
r6g, c6g, m6gd, r6gd, c6gd) are not in that revision; they take the figure of the x86 type with the
same RAM (EMR's table is keyed by memory size: m5/m5a/m5d and h1.2xlarge all get 24576 MB for
32 GiB), which is what the current page lists for them.

Types missing from the table fall back to 75% of the EC2 memory (EMR's figure for the common
xlarge/2xlarge sizes) and all vCPUs, from the bundled `data/ec2_instance_specs.csv`.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

from autoscaler.model import Resources

# yarn.nodemanager.resource.memory-mb, EMR defaults (no HBase), see the module docstring.
_EMR_YARN_MEMORY_MB: dict[str, int] = {
    # general purpose
    "m4.large": 6144,
    "m4.xlarge": 12288,
    "m4.2xlarge": 24576,
    "m4.4xlarge": 57344,
    "m4.10xlarge": 155648,
    "m4.16xlarge": 253952,
    **{f"{fam}.xlarge": 12288 for fam in ("m5", "m5a", "m5d", "m6g", "m6gd")},
    **{f"{fam}.2xlarge": 24576 for fam in ("m5", "m5a", "m5d", "m6g", "m6gd")},
    **{f"{fam}.4xlarge": 57344 for fam in ("m5", "m5a", "m5d", "m6g", "m6gd")},
    **{f"{fam}.8xlarge": 122880 for fam in ("m5", "m5a", "m5d", "m6g", "m6gd")},
    **{f"{fam}.12xlarge": 188416 for fam in ("m5", "m5a", "m5d", "m6g", "m6gd")},
    **{f"{fam}.16xlarge": 253952 for fam in ("m5", "m5a", "m5d", "m6g", "m6gd")},
    **{f"{fam}.24xlarge": 385024 for fam in ("m5", "m5a", "m5d")},
    # compute optimised
    "c4.large": 1792,
    "c4.xlarge": 5632,
    "c4.2xlarge": 11520,
    "c4.4xlarge": 23040,
    "c4.8xlarge": 53248,
    **{f"{fam}.xlarge": 6144 for fam in ("c5", "c5d", "c6g", "c6gd")},
    **{f"{fam}.2xlarge": 12288 for fam in ("c5", "c5d", "c6g", "c6gd")},
    **{f"{fam}.4xlarge": 24576 for fam in ("c5", "c5d", "c6g", "c6gd")},
    "c5.9xlarge": 65536,
    "c5d.9xlarge": 65536,
    "c5.18xlarge": 139264,
    "c5d.18xlarge": 139264,
    "c5n.xlarge": 8064,
    "c5n.2xlarge": 16128,
    "c5n.4xlarge": 34816,
    "c5n.9xlarge": 90112,
    "c5n.18xlarge": 188416,
    # memory optimised
    "r4.xlarge": 23424,
    "r4.2xlarge": 54272,
    "r4.4xlarge": 116736,
    "r4.8xlarge": 241664,
    "r4.16xlarge": 491520,
    **{f"{fam}.xlarge": 24576 for fam in ("r5", "r5a", "r5d", "r6g", "r6gd", "z1d")},
    **{f"{fam}.2xlarge": 57344 for fam in ("r5", "r5a", "r5d", "r6g", "r6gd", "z1d")},
    **{f"{fam}.4xlarge": 122880 for fam in ("r5", "r5a", "r5d", "r6g", "r6gd")},
    **{f"{fam}.8xlarge": 253952 for fam in ("r5", "r5a", "r5d", "r6g", "r6gd")},
    **{f"{fam}.12xlarge": 385024 for fam in ("r5", "r5a", "r5d", "r6g", "r6gd", "z1d")},
    **{f"{fam}.16xlarge": 516096 for fam in ("r5", "r5a", "r5d", "r6g", "r6gd")},
    **{f"{fam}.24xlarge": 778240 for fam in ("r5", "r5a", "r5d")},
    # storage optimised
    "i3.xlarge": 23424,
    "i3.2xlarge": 54272,
    "i3.4xlarge": 116736,
    "i3.8xlarge": 241664,
    "i3.16xlarge": 491520,
    "i3en.xlarge": 24576,
    "i3en.2xlarge": 57344,
    "i3en.3xlarge": 90112,
    "i3en.6xlarge": 188416,
    "i3en.12xlarge": 385024,
    "i3en.24xlarge": 778240,
    "d2.xlarge": 23424,
    "d2.2xlarge": 54272,
    "d2.4xlarge": 116736,
    "d2.8xlarge": 241664,
    "h1.2xlarge": 24576,
    "h1.4xlarge": 57344,
    "h1.8xlarge": 122880,
    "h1.16xlarge": 253952,
}

#: Share of EC2 memory given to YARN for types missing from EMR's table.
FALLBACK_MEMORY_FRACTION = 0.75


class UnknownInstanceType(KeyError):
    """Neither EMR's table nor the bundled EC2 specs know this type."""

    def __str__(self) -> str:
        return f"unknown instance type {self.args[0]!r}: not in EMR's YARN defaults nor the bundled EC2 specs"


@cache
def _ec2_specs() -> dict[str, tuple[int, float]]:
    """instance_type -> (vCPUs, memory GiB), read once from the bundled table."""
    text = resources.files("autoscaler").joinpath("data/ec2_instance_specs.csv").read_text()
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {r["instance_type"]: (int(r["vcpus"]), float(r["memory_gib"])) for r in rows}


@cache
def yarn_resources(instance_type: str) -> Resources:
    """NodeManager memory/vcores EMR configures by default for `instance_type`.

    Raises `UnknownInstanceType` (a KeyError) when neither table knows the type.
    """
    spec = _ec2_specs().get(instance_type)
    memory = _EMR_YARN_MEMORY_MB.get(instance_type)
    if memory is not None and spec is not None:
        return Resources(memory, spec[0])
    if spec is None:
        raise UnknownInstanceType(instance_type)
    vcpus, ram_gib = spec
    return Resources(int(ram_gib * 1024 * FALLBACK_MEMORY_FRACTION), vcpus)


def is_documented(instance_type: str) -> bool:
    """True when the memory figure is EMR's published default rather than the 75% fallback."""
    return instance_type in _EMR_YARN_MEMORY_MB


def known_instance_types() -> tuple[str, ...]:
    """Every type `yarn_resources` answers for (documented or derived), sorted."""
    documented = {t for t in _EMR_YARN_MEMORY_MB if t in _ec2_specs()}
    return tuple(sorted(documented | set(_ec2_specs())))
