"""docs/faq.md has one entry per RejectReason, each saying how to see it and what to change."""

from __future__ import annotations

import re
from pathlib import Path

from autoscaler.model import RejectReason

FAQ = Path(__file__).resolve().parents[2] / "docs" / "faq.md"
_REASONS_SECTION = "## Rejection reasons"


def reason_entries() -> dict[str, str]:
    """`### name` entries of the rejection-reasons section, each with its body."""
    text = FAQ.read_text()
    section = text.split(_REASONS_SECTION, 1)[1].split("\n## ", 1)[0]
    parts = re.split(r"^### (\S+)\s*$", section, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_every_reject_reason_has_an_faq_entry() -> None:
    """A RejectReason member without a `### value` entry fails (document a new reason when adding it)."""
    missing = sorted(r.value for r in RejectReason if r.value not in reason_entries())
    assert missing == []


def test_every_faq_reason_entry_is_a_real_reason() -> None:
    """An entry for a reason that no longer exists (renamed or removed) fails."""
    values = {r.value for r in RejectReason}
    stale = sorted(name for name in reason_entries() if name not in values)
    assert stale == []


def test_each_entry_names_its_metric_series_and_what_to_change() -> None:
    """Each entry gives the rejections counter with its own reason label, and Means/Produced by/Change parts."""
    problems = []
    for name, body in reason_entries().items():
        for needle in (
            f'emr_autoscaler_rejections_total{{reason="{name}"}}',
            "**Means**",
            "**Produced by**",
            "**Change**",
        ):
            if needle not in body:
                problems.append(f"{name}: no {needle}")
    assert problems == []


def test_faq_internal_links_point_at_entries() -> None:
    """Every `(#anchor)` link in the FAQ names a heading that exists."""
    text = FAQ.read_text()
    headings = {
        re.sub(r"[^a-z0-9_ -]", "", h.strip().lower()).replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", text, flags=re.M)
    }
    broken = sorted(a for a in re.findall(r"\]\(#([^)]+)\)", text) if a not in headings)
    assert broken == []
