"""The simulator's event queue: events run by time, then in the order they were pushed.

Container batches that end at the same instant and were pushed one after another are one event, a
list of batches run in push order (`push_batch`). That is the same order as one event each: no
other event was pushed between them, so none could run between them. It spares a heap push and pop
per batch: a placement pass that fills many nodes for one job pushes one event, not one per node.
"""

from __future__ import annotations

import heapq
from typing import Final

from autoscaler.sim.jobrun import Batch

SUBMIT: Final = 0
NODE_UP: Final = 1
BATCH: Final = 2
AM: Final = 3
DEADLINE: Final = 4
NOTICE: Final = 5
RECLAIM: Final = 6
RETRY: Final = 7
REPLAY: Final = 8


class EventQueue:
    """A heap of (time, push order, kind, payload); a BATCH payload is a list of batches."""

    __slots__ = ("_group_at", "_seq", "heap", "open_group")

    def __init__(self) -> None:
        self.heap: list[tuple[float, int, int, object]] = []
        self._seq = 0
        # the last batch event pushed, while no other event has been pushed since and it has not run
        self.open_group: list[Batch] | None = None
        self._group_at = 0.0

    def push(self, t: float, kind: int, obj: object) -> None:
        self._seq += 1
        self.open_group = None
        heapq.heappush(self.heap, (t, self._seq, kind, obj))

    def push_batch(self, t: float, batch: Batch) -> list[Batch]:
        """Queue a batch's completion at `t`; returns the event it joined, which a batch pushed next
        that ends at `t` too may join directly."""
        group = self.open_group
        if group is not None and self._group_at == t:
            group.append(batch)
            return group
        self._seq += 1
        self.open_group = group = [batch]
        self._group_at = t
        heapq.heappush(self.heap, (t, self._seq, BATCH, group))
        return group
