"""Read-only adapters: they fetch and parse, and decide nothing."""

from __future__ import annotations


class SourceError(Exception):
    """A source could not be read or its answer could not be trusted; the message names where."""
