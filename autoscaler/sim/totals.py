"""The ResourceManager's cluster metrics as running sums, so a snapshot never adds them up again."""

from __future__ import annotations


class Totals:
    """What YARN's cluster metrics add up, kept as containers start and end.

    `pending_*`: outstanding asks of active jobs; `accepted`: active jobs YARN calls ACCEPTED;
    `allocated`: containers (tasks and AMs) on any NodeManager; `total_*`/`free_*`: RUNNING
    NodeManagers' capacity and what is unallocated on them (free vcores may go negative).
    """

    __slots__ = (
        "accepted",
        "allocated",
        "free_mem",
        "free_vc",
        "pending_containers",
        "pending_mem",
        "pending_vc",
        "total_mem",
        "total_vc",
    )

    def __init__(self) -> None:
        self.pending_containers = self.pending_mem = self.pending_vc = 0
        self.accepted = self.allocated = 0
        self.total_mem = self.total_vc = self.free_mem = self.free_vc = 0
