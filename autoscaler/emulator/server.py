"""The emulator: one cluster model served as a YARN RM and an EMR endpoint, moving at `time_scale`.

Emulated time is `cluster.now` at start plus `time_scale` × real seconds since; a clock thread and
every request bring the cluster up to that time before it is read or changed, under one lock, so
all readers see one consistent, monotonic timeline. `time_scale=0` freezes time (tests move it
with `advance`).

With `wall_clock=True` the timestamps served (launch times, health updates, app submit times) are
translated to the real clock: an instance launched 600 emulated seconds ago at 10× shows as
launched 60 real seconds ago. A daemon, which reads its own clock, then sees ages that agree with
it, and its guards (node age, staleness) work in real seconds, i.e. emulated seconds / time_scale.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from types import TracebackType
from typing import Any, Self

from autoscaler.emulator.cluster_protocol import EmulatedCluster
from autoscaler.emulator.emr_api import EmrApi, emr_app
from autoscaler.emulator.yarn_api import yarn_app
from autoscaler.emulator.yarn_history import render_history
from autoscaler.model import ClusterSnapshot
from autoscaler.serving import HttpServer


def rebase_times(snapshot: ClusterSnapshot, convert: Callable[[float], float]) -> ClusterSnapshot:
    """The snapshot with every timestamp passed through `convert`."""

    def opt(t: float | None) -> float | None:
        return None if t is None else convert(t)

    return replace(
        snapshot,
        taken_at=convert(snapshot.taken_at),
        nodes=tuple(replace(n, last_health_update_s=opt(n.last_health_update_s)) for n in snapshot.nodes),
        apps=tuple(replace(a, submitted_at=opt(a.submitted_at)) for a in snapshot.apps),
        instances=tuple(replace(i, launched_at=opt(i.launched_at)) for i in snapshot.instances),
        interruptions=tuple(
            replace(n, notice_at=convert(n.notice_at), effective_at=convert(n.effective_at))
            for n in snapshot.interruptions
        ),
    )


class Emulator:
    """Owns the HTTP servers and the clock thread; `start()`/`stop()` or use as a context manager."""

    def __init__(
        self,
        cluster: EmulatedCluster,
        *,
        time_scale: float = 1.0,
        host: str = "127.0.0.1",
        yarn_port: int = 0,
        emr_port: int = 0,
        tick_s: float = 0.05,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: bool = False,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if time_scale < 0:
            raise ValueError("time_scale must be >= 0")
        self.cluster = cluster
        self.time_scale = time_scale
        self.error: BaseException | None = None
        self._host, self._ports, self._tick_s, self._monotonic = host, (yarn_port, emr_port), tick_s, monotonic
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._started_at = cluster.now
        self._sim0, self._real0 = cluster.now, monotonic()
        self._wall_clock, self._wall, self._wall0 = wall_clock and time_scale > 0, wall, wall()
        self.emr = EmrApi(self.locked, self.present_time(self._started_at), self.present)
        self._servers: list[HttpServer] = []
        self._threads: list[threading.Thread] = []

    # time

    def emulated_now(self) -> float:
        return self._sim0 + (self._monotonic() - self._real0) * self.time_scale

    def present_time(self, t: float) -> float:
        """An emulated instant as served: itself, or on the real clock with `wall_clock`."""
        if not self._wall_clock:
            return t
        return self._wall0 + (t - self._started_at) / self.time_scale

    def present(self, snapshot: ClusterSnapshot) -> ClusterSnapshot:
        """The snapshot with its timestamps as served (see the module docstring)."""
        return rebase_times(snapshot, self.present_time) if self._wall_clock else snapshot

    def _sync(self) -> None:
        t = self.emulated_now()
        if t > self.cluster.now:
            self.cluster.advance_to(t)

    def advance(self, seconds: float) -> None:
        """Move emulated time forward by hand (on top of the clock)."""
        with self._lock:
            self._sim0 += seconds
            self._sync()

    @contextmanager
    def locked(self) -> Iterator[EmulatedCluster]:
        """Exclusive use of the cluster, brought up to the current emulated time."""
        with self._lock:
            self._sync()
            yield self.cluster

    def history(self, query: Mapping[str, str]) -> list[dict[str, Any]]:
        """The finished apps a `/ws/v1/cluster/apps` query selects (none for a model without a workload)."""
        with self.locked() as cluster:
            workload, spec = getattr(cluster, "workload", None), getattr(cluster, "spec", None)
            if workload is None or spec is None:
                return []
            return render_history(list(workload.completed), spec.start_at, query, self.present_time)

    def snapshot(self) -> ClusterSnapshot:
        """The cluster now, in emulated time."""
        with self.locked() as cluster:
            return cluster.snapshot()

    def _clock(self) -> None:
        while not self._stopping.wait(self._tick_s):
            try:
                with self._lock:
                    self._sync()
            except Exception as err:  # a model bug must be visible, not a silently frozen cluster
                self.error = err
                print(f"emulator: cluster model failed at t={self.cluster.now:.1f}: {err!r}", file=sys.stderr)
                return

    # servers

    def start(self) -> Self:
        with self._lock:
            self._sim0, self._real0 = self.cluster.now, self._monotonic()
        yarn = HttpServer(
            yarn_app(lambda: self.present(self.snapshot()), self.present_time(self._started_at), self.history),
            self._host,
            self._ports[0],
            name="emulator-yarn",
        )
        try:
            emr = HttpServer(emr_app(self.emr), self._host, self._ports[1], name="emulator-emr")
        except OSError:
            yarn.close()
            raise
        self._servers = [yarn, emr]
        if self.time_scale > 0:
            self._spawn(self._clock, "emulator-clock")
        return self

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        for server in self._servers:
            server.close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []

    def _url(self, index: int) -> str:
        if not self._servers:
            raise RuntimeError("emulator not started")
        return self._servers[index].url

    @property
    def yarn_url(self) -> str:
        return self._url(0)

    @property
    def emr_url(self) -> str:
        return self._url(1)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
