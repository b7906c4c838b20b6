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
from itertools import compress, repeat
from operator import attrgetter, is_
from types import MappingProxyType

from autoscaler.model import ClusterSnapshot, ControllerMemory, InstanceState, NodeState

#: Durations kept per pool: enough for a stable median, small enough to follow a change.
KEEP_PER_POOL = 16

_NODE_INSTANCE, _NODE_STATE, _INSTANCE_ID = attrgetter("instance_id"), attrgetter("state"), attrgetter("instance_id")


def observe_boots(memory: ControllerMemory, snapshot: ClusterSnapshot) -> ControllerMemory:
    """Memory with this snapshot's newly registered instances' boot times recorded."""
    nodes, instances = snapshot.nodes, snapshot.instances
    # every tick, in C (a walk per node and per instance was most of the engine's own work on a large
    # cluster): YARN's RUNNING instance ids, and the instances this tick can change anything for
    in_yarn = set(compress(map(_NODE_INSTANCE, nodes), map(is_, map(_NODE_STATE, nodes), repeat(NodeState.RUNNING))))
    in_yarn.discard(None)
    in_yarn.discard("")
    ids = list(map(_INSTANCE_ID, instances))
    listed = set(ids)
    before = memory.booting
    # an instance YARN runs that was not booting, or one YARN does not run that is booting already,
    # leaves both maps as they are: only the others are visited, in list order as before
    todo = (listed - in_yarn).difference(before) | in_yarn.intersection(before)
    if not todo and listed.issuperset(before):
        return memory
    booting = dict(before)
    boot_s = dict(memory.boot_s)
    for inst in compress(instances, map(todo.__contains__, ids)):
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
    if booting == dict(before) and boot_s == dict(memory.boot_s):
        return memory
    return replace(memory, booting=MappingProxyType(booting), boot_s=MappingProxyType(boot_s))


def measured_boot_s(memory: ControllerMemory, pool_id: str) -> float | None:
    """Median measured boot of the pool, None until one boot has been watched."""
    durations = memory.boot_s.get(pool_id)
    return statistics.median(durations) if durations else None
