"""High availability: run a cluster's tick only while this replica holds its lease, carry the
controller memory with the lease, and fence every write.

The loop calls `leased_tick` around a cluster's tick (see `loop.tick`):
1. `begin(now)`: acquire or renew the lease (`lease.DynamoLeases`). Not the holder: the tick is
   skipped (a `standby` log event), nothing is read or written. Newly the holder (first tick, or a
   takeover from a dead or paused leader): the memory the last leader saved replaces ours, so
   cooldowns, back-offs and scale-in confirmations carry over.
2. the tick runs; its actuator is a `FencedActuator`, which asks the lease store, just before each
   resize, whether the lease is still ours and outlives the write by a margin. A deposed leader
   (paused past its lease) learns it there and writes nothing (outcome `fenced`).
3. `end(state)`: the new memory is saved with the lease, conditional on still holding it.

Without a lease table, `FileMemory` keeps one replica's memory in a local JSON file across restarts
(optional; without it memory starts empty, as it always did). Failover takes at most one lease
period plus two poll intervals (a standby sees the last renewal at its next tick, and takes over at
its first tick a whole lease later), so within two lease periods as `ha.lease_duration_s` >=
2 x `poll_interval_s` (validated).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from autoscaler.actuation import Actuator
from autoscaler.aws import CallObserver, make_client
from autoscaler.config import AppConfig
from autoscaler.explain import DaemonView
from autoscaler.lease import DynamoLeases, Lease, LeaseError
from autoscaler.logs import EventLogger
from autoscaler.memory_codec import CodecError, ControllerState, decode_states, dumps, encode_states, loads
from autoscaler.model import ClusterSnapshot, ControllerMemory, Outcome, OutcomeStatus, Plan


@dataclass(frozen=True, slots=True)
class Leadership:
    leader: bool
    memory: ControllerMemory | None = None  # the stored memory to continue from (a new holder only)
    detail: str = ""
    error: bool = False  # leadership unknown (DynamoDB unreachable): a problem, unlike a healthy standby


class ClusterLease(Protocol):
    def begin(self, now: float) -> Leadership: ...

    def fence(self) -> str | None:
        """None when a write may go ahead, else why not."""

    def end(self, state: ControllerState) -> None: ...

    def release(self) -> None:
        """Clean shutdown: give the lease up so a standby takes over at its next tick."""

    def leads(self) -> bool:
        """Held after the last tick (the daemon dispatches the clusters it leads first)."""


class Share(Protocol):
    """This replica's fair share of the leases (`autoscaler.spread.FairShare`)."""

    fair: int | None

    def claim(self, cluster_id: str) -> bool:
        """May this replica hold (keep or take) the cluster's lease?"""

    def excess(self, cluster_id: str) -> bool:
        """Should this replica give the held lease up (it holds more than its share)? Counted as given."""

    def note(self, cluster_id: str, held: bool) -> None: ...


class DynamoClusterLease:
    """One cluster's lease in DynamoDB, as held by this replica; with a `share`, only within it."""

    def __init__(
        self,
        leases: DynamoLeases,
        cluster_id: str,
        clock: Callable[[], float],
        logger: EventLogger,
        share: Share | None = None,
    ) -> None:
        self.leases, self.cluster_id, self.clock, self.logger = leases, cluster_id, clock, logger
        self.share = share
        self.held: Lease | None = None
        # a write must leave this much of the lease: a third of it, so a renewal a tick ago still counts
        self.margin_s = leases.duration_s / 3

    def begin(self, now: float) -> Leadership:
        before, share = self.held, self.share
        if before is not None and share is not None and share.excess(self.cluster_id):
            self.release()  # its memory was saved after its last tick: the taker continues from it
            why = f"handed over: this replica held more than its fair share ({share.fair} leases)"
            self.logger.info("lease_handed_over", cluster=self.cluster_id, reason=why)
            return Leadership(False, detail=why)
        asked: list[bool] = []

        def may_take() -> bool:  # asked only when the lease is free to take
            asked.append(share is None or share.claim(self.cluster_id))
            return asked[-1]

        try:
            self.held = self.leases.acquire(self.cluster_id, now, before, may_take=may_take)
        except LeaseError as err:
            self.held = None
            return Leadership(False, detail=str(err), error=True)
        finally:
            if share is not None:
                share.note(self.cluster_id, self.held is not None)
        if self.held is None:
            why = "another replica holds the lease"
            if asked == [False] and share is not None:
                why = f"free, but this replica holds its fair share ({share.fair} leases)"
            return Leadership(False, detail=why)
        if before is not None and before.token == self.held.token:
            return Leadership(True)
        self.logger.info("lease_acquired", cluster=self.cluster_id, token=self.held.token, holder=self.leases.holder)
        return Leadership(True, self._stored_memory(self.held))

    def leads(self) -> bool:
        return self.held is not None

    def _stored_memory(self, lease: Lease) -> ControllerMemory | None:
        if lease.memory is None:
            return None
        try:
            return loads(lease.memory).memory
        except (CodecError, ValueError) as err:
            self.logger.warning("lease_memory_unreadable", cluster=self.cluster_id, error=str(err))
            return None

    def fence(self) -> str | None:
        if self.held is None:
            return "no lease held"
        try:
            ok = self.leases.fence(self.held, self.margin_s)
        except LeaseError as err:
            return f"lease check failed: {err}"
        if ok:
            return None
        return f"lease token {self.held.token} is no longer ours or expires within {self.margin_s:g}s"

    def end(self, state: ControllerState) -> None:
        if self.held is None:
            return
        try:
            saved = self.leases.save(self.held, dumps(state))
        except LeaseError as err:
            saved, error = False, str(err)
        else:
            error = "lease lost before the memory was saved"
        if not saved:
            self.logger.warning("lease_memory_not_saved", cluster=self.cluster_id, error=error)
            self.held = None
            if self.share is not None:
                self.share.note(self.cluster_id, False)

    def release(self) -> None:
        if self.held is not None:
            with contextlib.suppress(LeaseError):  # else it expires on its own
                self.leases.release(self.held, self.clock())
            self.held = None
        if self.share is not None:
            self.share.note(self.cluster_id, False)


class FileMemory:
    """Controller memory of every cluster in one local JSON file (`memory_codec` format), written
    atomically after each tick, read once at start: a single replica keeps its memory across restarts."""

    def __init__(self, path: Path, logger: EventLogger) -> None:
        self.path, self.logger = path, logger
        self._lock = threading.Lock()
        self._states: dict[str, ControllerState] = {}
        try:
            if path.exists():
                self._states = decode_states(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as err:  # CodecError and JSON errors are ValueErrors
            # memory is an optimisation, never input: an unreadable file means starting empty, as without one
            logger.warning("memory_file_unreadable", path=str(path), error=str(err))

    def lease(self, cluster_id: str) -> ClusterLease:
        return _FileLease(self, cluster_id)

    def memory(self, cluster_id: str) -> ControllerMemory | None:
        with self._lock:
            state = self._states.get(cluster_id)
        return state.memory if state is not None else None

    def save(self, state: ControllerState) -> None:
        """Write every cluster's state; a failed write (read-only or full disk) is a warning, never a
        failed tick: the memory stays in the process and the next tick tries again."""
        with self._lock:
            self._states[state.cluster_id] = state
            text = json.dumps(encode_states(self._states.values()), sort_keys=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            try:
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, self.path)
            except OSError as err:
                self.logger.warning("memory_file_not_saved", path=str(self.path), error=str(err))


class _FileLease:
    """Always the leader (one replica); memory from the file on the first tick."""

    def __init__(self, store: FileMemory, cluster_id: str) -> None:
        self.store, self.cluster_id, self.started = store, cluster_id, False

    def begin(self, now: float) -> Leadership:
        if self.started:
            return Leadership(True)
        self.started = True
        return Leadership(True, self.store.memory(self.cluster_id))

    def leads(self) -> bool:
        return True

    def fence(self) -> str | None:
        return None

    def end(self, state: ControllerState) -> None:
        self.store.save(state)

    def release(self) -> None:
        return None


class FencedActuator:
    """Asks the lease before each resize; a fenced resize is not written (outcome `fenced`)."""

    def __init__(self, inner: Actuator, lease: ClusterLease) -> None:
        self.inner, self.lease = inner, lease

    def apply(self, plan: Plan, snapshot: ClusterSnapshot) -> tuple[Outcome, ...]:
        outcomes: list[Outcome] = []
        for resize in plan.resizes:
            why = self.lease.fence()
            if why is not None:
                outcomes.append(Outcome(resize.pool_id, OutcomeStatus.FENCED, why))
                continue
            outcomes.extend(self.inner.apply(Plan((resize,)), snapshot))
        return tuple(outcomes)


def leased_tick(
    cluster_id: str,
    lease: ClusterLease,
    memory: ControllerMemory,
    now: float,
    *,
    run: Callable[[ControllerMemory], ControllerMemory],
    state_of: Callable[[ControllerMemory], ControllerState],
    logger: EventLogger,
    on_lease: Callable[[Leadership], None] = lambda _: None,
) -> ControllerMemory:
    """`run` the tick only as the lease holder, from the stored memory when newly the holder; save after.

    `on_lease` hears every tick's leadership (the loop sets the `lease_held` gauge and keeps a standby
    live and, unless the lease store failed, ready: a probe must never restart it for not acting)."""
    held = lease.begin(now)
    on_lease(held)
    if not held.leader:
        (logger.warning if held.error else logger.info)("standby", cluster=cluster_id, reason=held.detail)
        return memory
    after = run(held.memory if held.memory is not None else memory)
    lease.end(state_of(after))
    return after


def replica_id() -> str:
    """This process among the replicas: host, pid and a random suffix (a restart is a new holder)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def with_lease_memory(view: DaemonView, config: AppConfig, observer: CallObserver | None = None) -> DaemonView:
    """`explain` with replicas: each cluster's memory from its lease where the asked daemon has none
    (it is a standby, or none answered). The lease's memory is what the leader saved after its last tick."""
    table = config.ha.lease_table
    if table is None:
        return view
    states = {cid: view.state(cid) for cid in (c.cluster_id for c in config.clusters)}
    found = {cid: s for cid, s in states.items() if s is not None}
    errors = []
    for cluster in config.clusters:
        if cluster.cluster_id in found:
            continue
        client = make_client("dynamodb", config.ha.region or cluster.region, observer)
        try:
            lease = DynamoLeases(client, table, "explain", config.ha.lease_duration_s).read(cluster.cluster_id)
            if lease is not None and lease.memory is not None:
                found[cluster.cluster_id] = loads(lease.memory)
        except (LeaseError, CodecError, ValueError) as err:
            errors.append(f"{cluster.cluster_id}: {err}")
    if len(found) == len(states) or not errors:
        return DaemonView(f"{view.url or 'no daemon'} + dynamodb table {table}", MappingProxyType(found))
    return DaemonView(view.url, error="; ".join(errors))
