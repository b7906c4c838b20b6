"""The simulator's event queue: events run by time, then in the order they were pushed.

Container batches that end at the same instant and were pushed one after another are one event, a
list of batches run in push order (`open_group`). That is the same order as one event each: no
other event was pushed between them, so none could run between them. It spares a heap push and pop
per batch: a placement pass that fills many nodes for one job pushes one event, not one per node.
The placement loop pushes batches itself (`autoscaler.sim.placement`), with the same rule.
"""

from __future__ import annotations

import heapq
from typing import Final

from autoscaler.sim.jobrun import Batch
from autoscaler.sim.node import SimNode

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
    """A heap of (time, push order, kind, payload); a BATCH payload is a list of batches.

    `seq` is the last push order given; `open_group` the last batch event pushed (ending at
    `group_at`) while no other event has been pushed since and it has not run: a batch pushed next
    that ends then joins it.
    """

    __slots__ = ("group_at", "heap", "open_group", "seq")

    def __init__(self) -> None:
        self.heap: list[tuple[float, int, int, object]] = []
        self.seq = 0
        self.open_group: list[Batch] | None = None
        self.group_at = 0.0

    def push(self, t: float, kind: int, obj: object) -> None:
        self.seq += 1
        self.open_group = None
        heapq.heappush(self.heap, (t, self.seq, kind, obj))

    def batches_on(self, node: SimNode) -> list[Batch]:
        """The batches on `node` not yet ended, in push order (the order they were placed in).

        A scan of the queue: for a node lost with containers still on it, which is rare.
        """
        groups = sorted((seq, obj) for _, seq, kind, obj in self.heap if kind == BATCH)
        return [b for _, group in groups for b in group if b[1] is node]  # type: ignore[attr-defined] # BATCH: lists
