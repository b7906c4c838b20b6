"""A discrete-event model of one EMR cluster: pools, node lifecycles, Spot interruptions.

Time moves only through `advance_to(t)`, which pops a heap of events (no per-second stepping):
node boot, container completion, AM start-up, decommission deadline, Spot notice and reclaim,
shrink retries. Modelled EMR behaviour:

* a requested node boots for a draw from `boot_s` (a distribution, seeded) before YARN sees it;
* shrinking cancels booting nodes first, then gracefully decommissions running ones (ShrinkPolicy
  InstancesToTerminate first, never InstancesToProtect, then fewest containers); a decommissioning
  node takes no new containers and terminates when empty or at its timeout, killing and re-queuing
  what is left; Spot nodes get at most `spot_decommission_s` (~20 s);
* EMR removes no running node younger than `min_node_age_s` (10 min): the shrink waits for it;
* Spot nodes are reclaimed at a constant hazard from their Spot Advisor band, or at replayed times
  (`ClusterSpec.reclaims`), with a two-minute notice; EMR replaces reclaimed nodes to hold the target.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable, Sequence

from autoscaler.instance_types import yarn_resources
from autoscaler.model import ClusterSnapshot, InstanceOption, Market, PoolKind, PoolRole, Resources
from autoscaler.sim.billing import Ledger, PriceBook
from autoscaler.sim.events import AM, BATCH, DEADLINE, NODE_UP, NOTICE, RECLAIM, REPLAY, RETRY, SUBMIT, EventQueue
from autoscaler.sim.job import Job
from autoscaler.sim.jobrun import JobRun
from autoscaler.sim.node import Lifecycle, SimNode
from autoscaler.sim.pool import SimPool
from autoscaler.sim.spec import ClusterSpec, band_hazard_per_s
from autoscaler.sim.view import SnapshotCache, build_snapshot
from autoscaler.sim.workload import Workload


class SimCluster:
    def __init__(self, spec: ClusterSpec, prices: PriceBook, *, seed: int = 0, cluster_state: str = "WAITING") -> None:
        self.spec = spec
        self.prices = prices
        self.ledger = Ledger(prices)
        self.cluster_id = spec.cluster_id
        self.cluster_state = cluster_state
        self.now = spec.start_at
        self._queue = EventQueue()
        self._push = self._queue.push
        self._node_seq = 0
        self._boot_rng = random.Random(f"boot-{seed}")
        self._spot_rng = random.Random(f"spot-{seed}")
        self.views = SnapshotCache()  # snapshot views of jobs, nodes and pools, rebuilt when they change
        self.workload = Workload(
            self._queue,
            count_vcores=spec.resource_calculator == "dominant",
            touched=self.views.changed_nodes,
        )
        self.pools: dict[str, SimPool] = {}
        self.interruptions = 0
        self.interrupted: Counter[str] = Counter()  # Spot reclaims by instance type
        self.lost_containers = 0
        self.reclaims_skipped = 0  # replayed reclaims that found no running Spot node in their pool
        self.resizes = 0
        self.launched = 0  # nodes started by resizes (not the initial ones): what a policy bought
        self.rejected: list[Job] = []
        self.on_change: Callable[[float], None] | None = None  # optional observer (plots)
        self._handlers: dict[int, Callable[[object], None]] = {
            SUBMIT: self._on_submit,
            NODE_UP: self._on_node_up,
            BATCH: self._on_batch,
            AM: self._on_am,
            DEADLINE: self._on_deadline,
            NOTICE: self._on_notice,
            RECLAIM: self._on_reclaim,
            RETRY: self._on_retry,
            REPLAY: self._on_replay,
        }
        for i, ps in enumerate(spec.pools):
            options = tuple(
                InstanceOption(t, yarn_resources(t), w) for t, w in zip(ps.instance_types, ps.weights, strict=True)
            )
            hazards = {t: band_hazard_per_s(spec.band(ps, t)) if spec.interruptions else 0.0 for t in ps.instance_types}
            self.pools[ps.pool_id] = pool = SimPool(i, ps, options, hazards)
            self._reconcile(pool, initial=True)
        self._nm_options = [o for p in self.pools.values() if p.spec.role is not PoolRole.MASTER for o in p.options]
        self._fits_on: dict[tuple[int, int], bool] = {}
        for at_s, pool_id in spec.reclaims:
            reclaim = spec.start_at + at_s
            self._push(max(spec.start_at, reclaim - spec.interruption_notice_s), REPLAY, (pool_id, reclaim))

    # --- events -------------------------------------------------------------------------------
    def advance_to(self, t: float) -> None:
        """Run every event up to and including `t`; containers are placed once per instant."""
        queue, handlers, workload = self._queue, self._handlers, self.workload
        events = queue.heap
        pop, batches_done, drained = heapq.heappop, workload.batches_done, self._maybe_done_draining
        while events and events[0][0] <= t:
            at, _, kind, obj = pop(events)
            self.now = at
            if kind == BATCH:  # `_on_batch` inlined: most events are container-batch completions
                if obj is queue.open_group:
                    queue.open_group = None  # run: a later batch must not join it
                batches_done(obj, at, drained)  # type: ignore[arg-type] # only batch lists are pushed as BATCH
            else:
                handlers[kind](obj)
            if not events or events[0][0] > at:
                workload.place(at)
        self.now = max(self.now, t)

    def submit(self, job: Job) -> None:
        """Queue a job to arrive at `start_at + job.submit_s` (or now, if that has passed).

        A job asking for a container larger than every NodeManager type is refused, as YARN refuses
        asks above `yarn.scheduler.maximum-allocation-*` (EMR sets it to the node size): it is
        listed in `rejected` and never runs.
        """
        shapes = [(s.memory_mb, s.vcores) for s in job.stages]
        if job.am:
            shapes.append((job.am.memory_mb, job.am.vcores))
        if not all(map(self._fits, shapes)):
            self.rejected.append(job)
            return
        self._push(max(self.spec.start_at + job.submit_s, self.now), SUBMIT, job)

    def _fits(self, shape: tuple[int, int]) -> bool:
        """A container of (MB, vcores) fits on some NodeManager type (answered once per shape)."""
        fits = self._fits_on.get(shape)
        if fits is None:
            ask = Resources(*shape)
            fits = self._fits_on[shape] = any(ask.fits_in(o.yarn) for o in self._nm_options)
        return fits

    def _on_submit(self, obj: object) -> None:
        assert isinstance(obj, Job)
        self.workload.submit(obj, self.now)

    def _on_batch(self, obj: object) -> None:
        assert isinstance(obj, list)
        self.workload.batches_done(obj, self.now, self._maybe_done_draining)

    def _on_am(self, obj: object) -> None:
        assert isinstance(obj, JobRun)
        self.workload.am_ready(obj, self.now)

    # --- nodes --------------------------------------------------------------------------------
    def _launch(self, pool: SimPool, option: InstanceOption, market: Market, *, initial: bool) -> None:
        self._node_seq += 1
        seq = self._node_seq
        host = f"ip-10-{pool.index}-{seq // 250}-{seq % 250 + 1}.ec2.internal"
        node = SimNode(
            seq,
            f"i-{seq:017x}",
            host,
            pool_id=pool.pool_id,
            instance_type=option.instance_type,
            market=market,
            weight=option.weight,
            changes=self.views.changed_nodes,
        )
        node.is_nodemanager = pool.spec.role is not PoolRole.MASTER
        node.set_capacity(option.yarn)
        node.requested_at = self.now - (self.spec.min_node_age_s if initial else 0.0)
        node.touch(self.now)
        pool.nodes[node.instance_id] = node
        pool.touch()
        self.ledger.open(node.instance_id, option.instance_type, market, self.now)
        if initial:
            self._on_node_up(node)
        else:
            self.launched += 1
            self._push(self.now + self.spec.boot_s.sample(self._boot_rng), NODE_UP, node)

    def _set_state(self, node: SimNode, state: Lifecycle) -> None:
        node.state = state
        node.touch(self.now)
        self.pools[node.pool_id].touch()

    def _on_node_up(self, obj: object) -> None:
        node = obj
        assert isinstance(node, SimNode)
        if node.state is not Lifecycle.BOOTING:
            return  # cancelled while booting
        self._set_state(node, Lifecycle.RUNNING)
        node.running_at = self.now
        if node.is_nodemanager:
            self.workload.node_up(node)
        hazard = self.pools[node.pool_id].hazards[node.instance_type]
        if node.market is Market.SPOT and hazard > 0:
            life = self._spot_rng.expovariate(hazard)
            reclaim = self.now + life
            node.doomed_at = None
            self._push(max(self.now, reclaim - self.spec.interruption_notice_s), NOTICE, (node, reclaim))

    def _terminate(self, node: SimNode) -> None:
        if node.state is Lifecycle.TERMINATED:
            return
        self.lost_containers += self.workload.kill_node(node, self.now)
        self._set_state(node, Lifecycle.TERMINATED)
        node.terminated_at = self.now
        self.ledger.close(node.instance_id, self.now)
        self.pools[node.pool_id].nodes.pop(node.instance_id, None)

    def _decommission(self, node: SimNode, timeout_s: float) -> None:
        if node.state is Lifecycle.BOOTING:
            self._terminate(node)
            return
        node.leaving = True
        self._set_state(node, Lifecycle.DECOMMISSIONING)
        self.workload.node_closed(node)
        if not node.busy:
            self._terminate(node)
        else:
            self._push(self.now + timeout_s, DEADLINE, node)

    def _maybe_done_draining(self, node: SimNode) -> None:
        if node.state is Lifecycle.DECOMMISSIONING and not node.busy and node.doomed_at is None:
            self._terminate(node)

    def _on_deadline(self, obj: object) -> None:
        assert isinstance(obj, SimNode)
        if obj.state is Lifecycle.DECOMMISSIONING and obj.doomed_at is None:
            self._terminate(obj)

    def _on_notice(self, obj: object) -> None:
        assert isinstance(obj, tuple)
        node: SimNode = obj[0]
        reclaim: float = obj[1]
        if node.state in (Lifecycle.TERMINATED, Lifecycle.BOOTING) or node.doomed_at is not None:
            return
        node.notice_at = self.now
        node.doomed_at = reclaim
        self._set_state(node, Lifecycle.DECOMMISSIONING)
        self.workload.node_closed(node)
        self._push(reclaim, RECLAIM, node)

    def schedule_interruption(self, instance_id: str, reclaim_at: float) -> None:
        """Replay a known Spot interruption: notice `interruption_notice_s` before `reclaim_at`."""
        node = next((n for n in self.live_nodes() if n.instance_id == instance_id), None)
        if node is None or node.market is not Market.SPOT:
            raise ValueError(f"{instance_id}: no live Spot instance with that id")
        self._push(max(self.now, reclaim_at - self.spec.interruption_notice_s), NOTICE, (node, reclaim_at))

    def _on_replay(self, obj: object) -> None:
        """A replayed reclaim: notice to the pool's longest-running Spot node not already leaving."""
        assert isinstance(obj, tuple)
        pool_id: str = obj[0]
        reclaim: float = obj[1]
        running = [
            n
            for n in self.pools[pool_id].nodes.values()
            if n.market is Market.SPOT and n.state is Lifecycle.RUNNING and n.doomed_at is None
        ]
        if not running:
            self.reclaims_skipped += 1
            return
        self._on_notice((min(running, key=lambda n: (n.running_at or 0.0, n.seq)), reclaim))

    def _on_reclaim(self, obj: object) -> None:
        assert isinstance(obj, SimNode)
        if obj.state is Lifecycle.TERMINATED:
            return
        self.interruptions += 1
        self.interrupted[obj.instance_type] += 1
        self._terminate(obj)
        self._reconcile(self.pools[obj.pool_id])

    # --- pools --------------------------------------------------------------------------------
    def _on_retry(self, obj: object) -> None:
        assert isinstance(obj, SimPool)
        if obj.retry_at is not None and obj.retry_at <= self.now:
            obj.retry_at = None
            obj.touch()
            self._reconcile(obj)

    def _cheapest(self, pool: SimPool, market: Market, missing: int) -> InstanceOption:
        """Fleets launch the lowest price per unit (price-capacity-optimized, capacity assumed).

        Between options equally cheap per unit (on-demand prices within a family are proportional to
        size), the one that does not overshoot the `missing` units wins, then the larger one: a
        1-unit target gets a weight-1 node, not a weight-2 one that leaves the fleet over target.
        """
        return min(
            pool.options,
            key=lambda o: (
                self.prices.usd_per_hour(o.instance_type, market, self.now) / o.weight,
                max(o.weight - missing, 0),
                -o.weight,
                o.instance_type,
            ),
        )

    def _reconcile(self, pool: SimPool, *, initial: bool = False) -> None:
        markets = (pool.spec.market,) if pool.spec.kind is PoolKind.INSTANCE_GROUP else tuple(Market)
        for market in markets:
            held = pool.held(market)
            units = sum(n.weight for n in held)
            target = pool.target[market]
            while units < target:
                # one option (a group): nothing to rank; every option was priced by the first snapshot
                single = len(pool.options) == 1 and not initial
                option = pool.options[0] if single else self._cheapest(pool, market, target - units)
                self._launch(pool, option, market, initial=initial)
                units += option.weight
            if units > target:
                self._shrink(pool, held, units - target)

    def _shrink(self, pool: SimPool, held: list[SimNode], excess: int) -> None:
        age_ok = self.now - self.spec.min_node_age_s
        named = {iid: i for i, iid in enumerate(pool.terminate)}

        def order(n: SimNode) -> tuple[int, int, int, float]:
            if n.instance_id in named:
                return (0, named[n.instance_id], 0, 0.0)
            if n.state is Lifecycle.BOOTING:
                return (1, 0, 0, -n.requested_at)
            return (2, n.ams, n.containers, -n.requested_at)

        blocked_until: float | None = None
        for node in sorted((n for n in held if n.doomed_at is None), key=order):
            if excess <= 0:
                break
            if node.weight > excess or node.instance_id in pool.protect:
                continue
            if node.state is Lifecycle.RUNNING and node.requested_at > age_ok:
                ready = node.requested_at + self.spec.min_node_age_s
                blocked_until = ready if blocked_until is None else min(blocked_until, ready)
                continue
            timeout = float(self.spec.decommission_timeout_s if pool.timeout_s is None else pool.timeout_s)
            if node.market is Market.SPOT:
                timeout = min(timeout, self.spec.spot_decommission_s)
            self._decommission(node, timeout)
            excess -= node.weight
        if excess > 0 and blocked_until is not None and pool.retry_at is None:
            pool.retry_at = blocked_until
            pool.touch()
            self._push(blocked_until, RETRY, pool)

    def modify_instance_group(
        self,
        pool_id: str,
        instance_count: int,
        *,
        instances_to_terminate: Sequence[str] = (),
        instances_to_protect: Sequence[str] = (),
        decommission_timeout_s: int | None = None,
    ) -> None:
        """ModifyInstanceGroups: an absolute InstanceCount with an optional ShrinkPolicy."""
        pool = self._pool(pool_id, PoolKind.INSTANCE_GROUP)
        if instance_count < 0:
            raise ValueError(f"{pool_id}: InstanceCount must be >= 0")
        if pool.spec.role is PoolRole.MASTER and instance_count != pool.target[pool.spec.market]:
            raise ValueError(f"{pool_id}: the master group cannot be resized")
        pool.target[pool.spec.market] = instance_count
        pool.touch()
        pool.terminate = tuple(instances_to_terminate)
        pool.protect = frozenset(instances_to_protect)
        pool.timeout_s = decommission_timeout_s
        self.resizes += 1
        self._reconcile(pool)

    def modify_instance_fleet(
        self, pool_id: str, *, target_on_demand: int | None = None, target_spot: int | None = None
    ) -> None:
        """ModifyInstanceFleet: absolute TargetOnDemandCapacity / TargetSpotCapacity in units."""
        pool = self._pool(pool_id, PoolKind.INSTANCE_FLEET)
        for market, value in ((Market.ON_DEMAND, target_on_demand), (Market.SPOT, target_spot)):
            if value is not None:
                if value < 0:
                    raise ValueError(f"{pool_id}: target capacity must be >= 0")
                pool.target[market] = value
                pool.touch()
        pool.terminate, pool.protect, pool.timeout_s = (), frozenset(), None
        self.resizes += 1
        self._reconcile(pool)

    def _pool(self, pool_id: str, kind: PoolKind) -> SimPool:
        pool = self.pools.get(pool_id)
        if pool is None:
            raise KeyError(f"no pool {pool_id!r} in cluster {self.cluster_id}")
        if pool.spec.kind is not kind:
            raise ValueError(f"{pool_id} is an {pool.spec.kind.value}, not an {kind.value}")
        return pool

    def live_nodes(self) -> list[SimNode]:
        return [n for p in self.pools.values() for n in p.nodes.values()]

    def snapshot(self) -> ClusterSnapshot:
        """The cluster as the daemon's sources would see it at `now` (every source ok)."""
        return build_snapshot(self, self.views)
