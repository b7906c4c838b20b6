"""The daemon's exit statuses, apart from the loop so the CLI's help can name them without importing it."""

from __future__ import annotations

from typing import Final

#: `run`'s exit status when the /metrics and probes port cannot be bound (e.g. already in use).
EXIT_NO_PORT: Final = 1
#: `run --once` and `explain`: a cluster's snapshot was stale, so nothing could be decided.
EXIT_STALE: Final = 3
