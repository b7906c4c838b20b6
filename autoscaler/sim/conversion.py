"""How SWIM and Alibaba rows become jobs: one documented model, every constant configurable.

Neither public trace says what YARN containers a job ran, so we model them:

* Container sizes default to EMR's for the cluster's core instance type
  (`mapreduce.map.memory.mb`, `mapreduce.reduce.memory.mb`, `yarn.app.mapreduce.am.resource.mb`;
  `autoscaler.sim.containers`, the EMR Release Guide's task-configuration table), 1 vcore each.
  The dataclass defaults are m5.xlarge's, the default cluster's: 3072 MB maps, 6144 MB reduces and
  a 6144 MB AM. Alibaba rows give their own task memory; only the AM size applies to them.
* SWIM (bytes only): one map task per 128 MiB input split (`dfs.blocksize` default; at least one
  map); one reduce per 256 MiB of shuffle (Hive's `hive.exec.reducers.bytes.per.reducer` default,
  capped at `max_reduces`; none when the shuffle is empty, i.e. a map-only job).
  Task time = container start-up + bytes handled / per-task throughput, clamped to
  [min_task_s, max_task_s]. A map reads its split at `map_mb_per_s`; a reduce pulls its share of
  the shuffle and writes its share of the output at `reduce_mb_per_s`.
* Alibaba v2017 (resources and times given): vcores = ceil(CPU/100); memory = normalized memory ×
  `alibaba_machine_mb` (the trace normalises to its largest machine; we assume 96 GiB); task time =
  end − create + container start-up.
* Every job's AM starts `am_start_s` after it is placed before asking for task containers.

Every field of `ConversionModel` can be set in the `--config` file's `sim.conversion` mapping, e.g.
`sim: {conversion: {split_bytes: 268435456, map_mb_per_s: 80}}` (validated by
`autoscaler.sim.settings.ConversionSettings`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ConversionModel:
    split_bytes: int = 128 * MIB
    shuffle_bytes_per_reduce: int = 256 * MIB
    max_reduces: int = 999
    map_mb_per_s: float = 40.0
    reduce_mb_per_s: float = 20.0
    map_memory_mb: int = 3072  # EMR's m5.xlarge default (autoscaler.sim.containers)
    map_vcores: int = 1
    reduce_memory_mb: int = 6144
    reduce_vcores: int = 1
    am_memory_mb: int = 6144
    am_vcores: int = 1
    am_start_s: float = 5.0
    container_start_s: float = 2.0
    min_task_s: float = 1.0
    max_task_s: float = 3600.0
    alibaba_machine_mb: int = 96 * 1024

    def clamp(self, seconds: float) -> float:
        return min(max(seconds, self.min_task_s), self.max_task_s)

    def map_tasks(self, input_bytes: int) -> int:
        return max(1, math.ceil(input_bytes / self.split_bytes))

    def reduce_tasks(self, shuffle_bytes: int) -> int:
        if shuffle_bytes <= 0:
            return 0
        return min(self.max_reduces, math.ceil(shuffle_bytes / self.shuffle_bytes_per_reduce))

    def map_task_s(self, input_bytes: int, tasks: int) -> float:
        return self.clamp(self.container_start_s + input_bytes / tasks / MIB / self.map_mb_per_s)

    def reduce_task_s(self, shuffle_bytes: int, output_bytes: int, tasks: int) -> float:
        moved = (shuffle_bytes + output_bytes) / tasks / MIB
        return self.clamp(self.container_start_s + moved / self.reduce_mb_per_s)
