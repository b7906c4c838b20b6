"""Read-only adapters: they fetch and parse, and decide nothing."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


class SourceError(Exception):
    """A source could not be read or its answer could not be trusted; the message names where."""


def redact_url(url: str) -> str:
    """`url` with any userinfo (`user:password@`) replaced by `***@`: the form logs, metrics and explain show."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))
