"""docs/reliability.md's fault-suite table is the one `table.py` generates: every fault in the suite
is in the doc, and every test the doc names exists."""

from __future__ import annotations

import importlib
from pathlib import Path

from .table import FAULTS, SCENARIOS, markdown_rows

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"


def test_the_doc_lists_every_fault_of_the_suite_as_generated() -> None:
    doc = DOC.read_text().splitlines()
    rows = markdown_rows()
    start = doc.index(rows[0]) if rows[0] in doc else -1
    assert start >= 0, "docs/reliability.md has no fault-suite table: paste `python -m faults.table` (from tests/)"
    assert doc[start : start + len(rows)] == rows, "the doc's table differs from tests/faults/table.py"
    assert len(rows) == 2 + len(FAULTS) + len(SCENARIOS)


def test_every_test_the_table_names_exists() -> None:
    for scenario in SCENARIOS:
        file, function = scenario.test.split("::")
        module = file.removesuffix(".py")
        assert callable(getattr(importlib.import_module(f"{__package__}.{module}"), function, None)), scenario.test
