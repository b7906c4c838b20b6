"""Which instances leave an instance group when it shrinks (ShrinkPolicy InstancesToTerminate).

EMR picks victims itself unless told; telling it is the only way to keep busy nodes and
ApplicationMaster hosts alive. A node may be named only if it is idle (RUNNING, no containers, no
AM), EMR-old enough (EMR will not remove instances added in the last ~10 minutes), and known to EMR
by instance id. DECOMMISSIONING nodes are already leaving and never count again. A RUNNING node
whose container count or used memory the RM did not report is never a victim (unknown is not
idle) and is protected with the AM hosts, so EMR cannot pick it either.

Order among removable nodes: a Spot node with an interruption notice first (it is leaving anyway),
then Spot before on-demand (Spot decommissions in ~20 s and is the capacity at risk), then least
used memory, then the most recently launched (the least likely to hold cached shuffle output), then
host name so the choice is deterministic. Fleets have no per-instance choice: no victims.
"""

from __future__ import annotations

from autoscaler.model import CapacityPool, ClusterSnapshot, Market, NodeInfo, NodeState


def pool_nodes(snapshot: ClusterSnapshot, pool_id: str) -> tuple[NodeInfo, ...]:
    return tuple(n for n in snapshot.nodes if n.pool_id == pool_id)


def choose_victims(
    pool: CapacityPool, snapshot: ClusterSnapshot, remove_units: int, now: float, min_node_age_s: float
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(instances_to_terminate, instances_to_protect); terminate may be shorter than asked for."""
    if pool.is_fleet:
        return (), ()
    nodes = pool_nodes(snapshot, pool.pool_id)
    guarded = (n for n in nodes if n.hosts_am or (n.state is NodeState.RUNNING and not n.usage_known))
    protect = tuple(sorted(n.instance_id for n in guarded if n.instance_id))
    if remove_units <= 0:
        return (), protect

    launched = {i.instance_id: i.launched_at for i in snapshot.instances if i.pool_id == pool.pool_id}
    interrupted = {notice.instance_id for notice in snapshot.interruptions}

    def old_enough(instance_id: str) -> bool:
        at = launched.get(instance_id)
        return at is None or now - at >= min_node_age_s  # unknown age: ListInstances gave no date

    candidates = [n for n in nodes if n.is_idle and n.instance_id and old_enough(n.instance_id)]

    def order(n: NodeInfo) -> tuple[bool, bool, int, float, str]:
        iid = n.instance_id or ""
        return (
            iid not in interrupted,
            n.market is not Market.SPOT,
            n.used.memory_mb if n.used is not None else 0,  # candidates are idle: used is known
            -(launched.get(iid) or 0.0),
            n.host,
        )

    candidates.sort(key=order)
    return tuple(n.instance_id or "" for n in candidates[:remove_units]), protect
