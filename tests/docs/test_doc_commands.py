"""Every `emr-autoscaler ...` command shown in the docs and the README parses with the real CLI (no stale flags)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from autoscaler.cli import _parser

DOCS = Path(__file__).resolve().parents[2] / "docs"
_FENCE = re.compile(r"```(?:sh|text|bash)\n(.*?)```", re.S)
_SHELL_STOP = {"|", ">", "2>", "2>&1", ";", "&&", "||"}


def doc_commands() -> list[tuple[str, list[str]]]:
    """(file, argv after `emr-autoscaler`) for each command line in a sh/text block of docs/*.md and README.md."""
    found = []
    for path in [*sorted(DOCS.glob("*.md")), DOCS.parent / "README.md"]:
        for block in _FENCE.findall(path.read_text()):
            for raw in block.splitlines():
                line = raw.removeprefix("$ ").strip()
                if not line.startswith("emr-autoscaler "):
                    continue
                argv = []
                for token in shlex.split(line.split(";", 1)[0])[1:]:
                    if token in _SHELL_STOP or token.startswith(("2>", ">")):
                        break
                    argv.append(token)
                found.append((path.name, argv))
    return found


def test_the_walkthrough_shows_every_step() -> None:
    """The dry-run walkthrough runs validate, explain, run, simulate and demo."""
    used = {argv[0] for name, argv in doc_commands() if name == "dry-run-tuning.md"}
    assert {"validate", "explain", "run", "simulate", "demo"} <= used


@pytest.mark.parametrize(("doc", "argv"), doc_commands(), ids=lambda v: v if isinstance(v, str) else " ".join(v))
def test_doc_command_parses(doc: str, argv: list[str]) -> None:
    """The command's subcommand and flags exist (argparse exits on anything unknown)."""
    args = _parser().parse_args(argv)
    assert args.command == argv[0]
