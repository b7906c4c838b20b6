"""EMR's default MapReduce container sizes, per instance type: the trace conversion's defaults.

A SWIM or Alibaba job does not say what containers it ran, so the conversion asks for what stock
EMR would: `mapreduce.map.memory.mb`, `mapreduce.reduce.memory.mb` and
`yarn.app.mapreduce.am.resource.mb` of the cluster's core instance type (the first type of the
first CORE pool; with no core pool, of the first non-master pool). EMR derives them from the core
nodes' instance type: on m5.xlarge they are 3072 / 6144 / 6144 MB, three to six times Hadoop's
1024 MB stock default, so demand in node terms is what an EMR cluster really sees.

The table (`data/emr_task_defaults.csv`) is the EMR Release Guide's "Task configuration" page. A type
it lacks (newer families: m6i, r7g, ...) takes the row of its sibling: the same family letter and
size in the newest listed generation, plainest variant (m6i.8xlarge -> m5.8xlarge, r7g.xlarge ->
r5.xlarge). With no sibling (x2iedn, i4g), the listed type nearest in YARN memory per vCPU, then per
node (`autoscaler.instance_types`), ties to the newest generation. The substitution is reported
(`ContainerSizes.note`), never silent. `sim.conversion` keys override any of the three sizes.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from autoscaler.instance_types import UnknownInstanceType, yarn_resources


@dataclass(frozen=True, slots=True)
class ContainerSizes:
    """EMR's map / reduce / AM container MB for `instance_type`, read from the table row `row`."""

    instance_type: str
    row: str
    map_memory_mb: int
    reduce_memory_mb: int
    am_memory_mb: int

    @property
    def documented(self) -> bool:
        return self.row == self.instance_type

    @property
    def note(self) -> str:
        sizes = f"map {self.map_memory_mb} MB, reduce {self.reduce_memory_mb} MB, AM {self.am_memory_mb} MB"
        if self.documented:
            return f"containers: EMR's defaults for {self.instance_type}: {sizes}"
        return (
            f"containers: {self.instance_type} is not in EMR's task-configuration table; using the row of "
            f"{self.row} (its sibling, or the nearest in YARN memory): {sizes}; set sim.conversion to override"
        )


@cache
def emr_task_defaults() -> dict[str, tuple[int, int, int]]:
    """instance type -> (map, reduce, AM) MB from the bundled table."""
    text = resources.files("autoscaler").joinpath("data/emr_task_defaults.csv").read_text()
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {
        r["instance_type"]: (int(r["map_memory_mb"]), int(r["reduce_memory_mb"]), int(r["am_memory_mb"])) for r in rows
    }


def _family(itype: str) -> tuple[str, int, str]:
    """("m", 5, "xlarge") for m5d.xlarge: family letters before the generation, generation, size."""
    match = re.match(r"([a-z]+?)(\d+)[a-z-]*\.(.+)", itype)
    return (match.group(1), int(match.group(2)), match.group(3)) if match else (itype, 0, "")


def _sibling(instance_type: str, rows: list[str]) -> str | None:
    """The listed type of the same family letter and size, newest generation, plainest variant."""
    letter, _, size = _family(instance_type)
    same = [r for r in rows if _family(r)[0] == letter and _family(r)[2] == size]
    return min(same, key=lambda r: (-_family(r)[1], len(r), r)) if same else None


def _distance(row: str, per_vcpu: float, per_node: float) -> tuple[float, float, int, str]:
    """Nearest YARN memory per vCPU, then per node; ties go to the newest generation, then the name."""
    yarn = yarn_resources(row)
    per_cpu_gap = abs(math.log(yarn.memory_mb / yarn.vcores / per_vcpu))
    return (round(per_cpu_gap, 9), round(abs(math.log(yarn.memory_mb / per_node)), 9), -_family(row)[1], row)


@cache
def container_sizes(instance_type: str) -> ContainerSizes:
    """EMR's container sizes for the type, or those of the nearest listed type (module docstring).

    Raises `UnknownInstanceType` when the type is in neither table.
    """
    table = emr_task_defaults()
    row = instance_type if instance_type in table else _sibling(instance_type, list(table))
    if row is None:
        target = yarn_resources(instance_type)
        per_vcpu, per_node = target.memory_mb / target.vcores, float(target.memory_mb)
        known = []
        for t in table:
            try:
                known.append(_distance(t, per_vcpu, per_node))
            except UnknownInstanceType:
                continue
        row = min(known)[-1]
    return ContainerSizes(instance_type, row, *table[row])
