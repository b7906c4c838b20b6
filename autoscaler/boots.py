"""Boot time per pool, measured from the cluster's own history: requested → YARN-running.

A node bought now is useful only once its NodeManager registers, 5–6 minutes later on EMR, and
that delay differs by instance type, market and region. Policies that buy ahead of need
(`cost-optimizer`) read it from `ControllerMemory.boot_s` instead of assuming a constant.

How it is measured, once per tick (`observe_boots`, called by the engine): an instance EMR lists
but YARN does not run yet is remembered with its pool and request time (`launched_at`, EMR's
CreationDateTime); when it first shows up as a RUNNING NodeManager, `taken_at - launched_at` is
recorded for its pool. Instances already in YARN when first seen (a daemon that just started) are
never measured: their boot was not watched. The figure is an upper bound by at most one tick.
"""

from __future__ import annotations

import statistics
from dataclasses import replace
from types import MappingProxyType

from autoscaler.model import ClusterSnapshot, ControllerMemory, InstanceState, NodeState

#: Durations kept per pool: enough for a stable median, small enough to follow a change.
KEEP_PER_POOL = 16


def observe_boots(memory: ControllerMemory, snapshot: ClusterSnapshot) -> ControllerMemory:
    """Memory with this snapshot's newly registered instances' boot times recorded."""
    in_yarn = {n.instance_id for n in snapshot.nodes if n.instance_id and n.state is NodeState.RUNNING}
    booting = dict(memory.booting)
    boot_s = dict(memory.boot_s)
    listed = set()
    for inst in snapshot.instances:
        listed.add(inst.instance_id)
        seen = booting.get(inst.instance_id)
        if inst.instance_id in in_yarn:
            if seen is not None:
                pool_id, requested_at = booting.pop(inst.instance_id)
                took = snapshot.taken_at - requested_at
                if took >= 0:
                    boot_s[pool_id] = (*boot_s.get(pool_id, ()), took)[-KEEP_PER_POOL:]
        elif seen is None and inst.launched_at is not None and inst.state is not InstanceState.TERMINATED:
            booting[inst.instance_id] = (inst.pool_id, inst.launched_at)
    booting = {iid: v for iid, v in booting.items() if iid in listed}
    if booting == dict(memory.booting) and boot_s == dict(memory.boot_s):
        return memory
    return replace(memory, booting=MappingProxyType(booting), boot_s=MappingProxyType(boot_s))


def measured_boot_s(memory: ControllerMemory, pool_id: str) -> float | None:
    """Median measured boot of the pool, None until one boot has been watched."""
    durations = memory.boot_s.get(pool_id)
    return statistics.median(durations) if durations else None
