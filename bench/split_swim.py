"""Split a SWIM day into two held-out halves (BENCHMARKS.md, "tuned on one trace, judged on another").

FB-2009's day file is 24 independent one-hour samples laid end to end, so its first and second
twelve hours are two traces: options tuned on one are judged on the other. Writes
`<stem>_h00-11.tsv` (submits in [0, 43200) s) and `<stem>_h12-23.tsv` (submits in [43200, 86400) s,
rebased to start at 0, as if it were a day of its own) into the output folder. Usage, from the repo root:

    .venv/bin/python bench/split_swim.py ../shared/data/traces/swim/FB-2009_samples_24_times_1hr_0.tsv bench/out
"""

from __future__ import annotations

import sys
from pathlib import Path

HALF_S = 12 * 3600


def split(path: Path, out: Path) -> tuple[Path, Path]:
    first: list[str] = []
    second: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        if len(cols) < 6:
            continue
        submit = int(cols[1])
        if submit < HALF_S:
            first.append(line)
        else:
            cols[1] = str(submit - HALF_S)
            if not second:
                cols[2] = cols[1]  # the gap from the previous submit: none before the first
            second.append("\t".join(cols))
    out.mkdir(parents=True, exist_ok=True)
    a, b = out / f"{path.stem}_h00-11.tsv", out / f"{path.stem}_h12-23.tsv"
    a.write_text("\n".join(first) + "\n", encoding="utf-8")
    b.write_text("\n".join(second) + "\n", encoding="utf-8")
    return a, b


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    for written in split(Path(argv[0]), Path(argv[1])):
        print(written)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
