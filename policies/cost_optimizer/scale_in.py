"""Component 5, scale-in that pays for itself.

A node leaves only when the money its release saves exceeds what leaving costs:

- saved: its price for as long as it is expected to stay idle. The history tells how long the
  cluster has had this node's memory (on top of the warm buffer and the nodes already chosen)
  free with nothing pending; idle capacity is expected to stay idle about as long again (capped
  at `HORIZON_S`);
- cost: if the work comes back the node is bought again, paying a boot during which it runs
  nothing (weighted by `rebuy_probability`, the chance that happens before the node would have
  been used) plus EMR's per-second billing minimum of one minute; draining a node that still runs
  containers would add what it is paid until they end, or the re-run of those the decommission
  timeout kills. Only idle nodes (no container, no ApplicationMaster) are candidates, so that term
  is zero, and the engine's victim choice (`autoscaler.drain`) names exactly such nodes.

EMR will not remove a node younger than `guards.min_node_age_s` (10 minutes): such nodes are never
counted. Candidates go least remaining work first, Spot before On-Demand, then by host. The
ShrinkPolicy DecommissionTimeout is the victims' remaining work, at least
`min_decommission_timeout_s` (a timeout on an idle node costs nothing: it leaves when empty).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter

from autoscaler.model import ClusterSnapshot, Market, MetricSample, NodeInfo, Resources

_INSTANCE_ID, _LAUNCHED_AT, _INSTANCE_TYPE = (
    attrgetter("instance_id"),
    attrgetter("launched_at"),
    attrgetter("instance_type"),
)
_HOST, _USED_MB = attrgetter("host"), attrgetter("used.memory_mb")

#: Longest idle stretch ahead a release is credited with: an hour, past which history says little.
HORIZON_S = 3600.0
#: EMR bills per second with a one-minute minimum: re-buying a node pays at least this.
MIN_BILLED_S = 60.0


@dataclass(frozen=True, slots=True)
class Release:
    units: int
    hosts: tuple[str, ...]
    timeout_s: int
    why: str


def idle_for(history: Sequence[MetricSample], now: float, needed_mb: int) -> float:
    """Seconds the history shows nothing pending and at least `needed_mb` available, without a break."""
    since = now
    for s in reversed(history):
        y = s.yarn
        if y.pending_mb or y.containers_pending or y.available_mb is None or y.available_mb < needed_mb:
            break
        since = s.at
    return now - since


def idle_by_pool(snapshot: ClusterSnapshot) -> dict[str, list[NodeInfo]]:
    """Per pool, its idle nodes joined to an EMR instance, in node order: the only scale-in candidates,
    found in one walk over the nodes for every pool (most ticks find none, and release nothing)."""
    out: dict[str, list[NodeInfo]] = {}
    for n in snapshot.nodes:
        # the container count first: a busy node costs no property call
        if n.num_containers == 0 and n.is_idle and n.instance_id and n.pool_id is not None:
            out.setdefault(n.pool_id, []).append(n)
    return out


def _candidates(snapshot: ClusterSnapshot, nodes: Sequence[NodeInfo], min_age_s: float) -> list[NodeInfo]:
    if not nodes:  # the usual tick: the instances are not indexed
        return []
    instances = snapshot.instances
    launched = dict(zip(map(_INSTANCE_ID, instances), map(_LAUNCHED_AT, instances), strict=True))  # in C
    now = snapshot.taken_at
    nodes = [n for n in nodes if (at := launched.get(n.instance_id or "")) is None or now - at >= min_age_s]
    # ordered by (memory used, not Spot, host) as stable sorts from the last key to the first, with C keys:
    # a tuple key is a Python call per node per tick (idle nodes' `used` is known: `idle_by_pool`)
    spot = Market.SPOT
    by_host = sorted(nodes, key=_HOST)
    return sorted([n for n in by_host if n.market is spot] + [n for n in by_host if n.market is not spot], key=_USED_MB)


def memory_mb(res: Resources | None) -> int:
    """Memory of a resource vector; 0 only where the caller already knows it is known (idle nodes)."""
    return res.memory_mb if res is not None else 0


def plan_release(  # noqa: PLR0917 - the inputs of one pool's release, each named in its reason
    snapshot: ClusterSnapshot,
    pool_id: str,
    history: Sequence[MetricSample],
    keep_mb: int,
    boot_s: float,
    min_age_s: float,
    min_timeout_s: int,
    weights: Mapping[str, int],
    rebuy_probability: float = 1.0,
    may_free_mb: float = float("inf"),
    floor_why: str = "",
    idle: Sequence[NodeInfo] | None = None,
) -> Release | None:
    """The idle nodes of the pool worth releasing now, or None with nothing idle to consider.

    At most `may_free_mb` of YARN memory leaves: what the running ApplicationMasters' share lets go
    (`am_share`; `floor_why` says why). `idle`: the pool's `idle_by_pool`, if the caller has it."""
    nodes = _candidates(snapshot, idle_by_pool(snapshot).get(pool_id, []) if idle is None else idle, min_age_s)
    if not nodes:
        return None
    instances = snapshot.instances
    types = dict(zip(map(_INSTANCE_ID, instances), map(_INSTANCE_TYPE, instances), strict=True))  # in C
    chosen: list[NodeInfo] = []
    freed_mb = 0
    saved_usd = 0.0
    refusal = ""
    for node in nodes:
        quote = snapshot.price(types.get(node.instance_id or "", ""), node.market or Market.ON_DEMAND)
        if quote is None:
            refusal = f"kept {node.host}: its price is unknown, so what releasing saves is too"
            break
        node_mb = memory_mb(node.capacity)  # a new Resources per call: once per node
        if freed_mb + node_mb > may_free_mb:
            refusal = f"kept {node.host}: {floor_why}"
            break
        idle_s = min(idle_for(history, snapshot.taken_at, keep_mb + freed_mb + node_mb), HORIZON_S)
        saves = quote.usd_per_hour * idle_s / 3600
        costs = quote.usd_per_hour * (rebuy_probability * boot_s + MIN_BILLED_S) / 3600
        if saves <= costs:
            refusal = (
                f"did not remove {node.host}: idle capacity {idle_s:.0f} s, releasing saves ${saves:.4f}, "
                f"re-buying costs ${costs:.4f} ({rebuy_probability:g} × {boot_s:.0f} s boot "
                f"+ {MIN_BILLED_S:.0f} s minimum)"
            )
            break
        chosen.append(node)
        freed_mb += node_mb
        saved_usd += saves - costs
    if not chosen:
        return Release(0, (), min_timeout_s, refusal)
    units = sum(weights.get(n.instance_id or "", 1) for n in chosen)
    why = (
        f"release {len(chosen)} idle node(s) ({', '.join(n.host for n in chosen[:3])}"
        f"{'…' if len(chosen) > 3 else ''}): saves ${saved_usd:.4f} net of re-buying, "
        f"keeping a {keep_mb / 1024:.1f} GB buffer; DecommissionTimeout {min_timeout_s} s (no work left on them)"
    )
    if refusal:
        why += f"; {refusal}"
    return Release(units, tuple(n.host for n in chosen), min_timeout_s, why)
