"""`trace import --spark-logs` speed: N copies of the real complete fixture log, imported by the real CLI.

Each copy is tests/fixtures/spark-events/application_1578436911597_0052 (Apache Spark's test resource:
27 lines, one job of 6 tasks) under its own application id, written plain, or zstd/lz4-compressed as
Spark frames them. Reports the command's CPU seconds (user+sys of the child process, start to exit)
and wall seconds, apps and event lines per CPU second, and MB of event text per CPU second.

    .venv/bin/python bench/spark_import_speed.py --apps 5000 --codec none zstd lz4
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autoscaler.testing_spark import lz4_java

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "spark-events" / "application_1578436911597_0052"
APP = FIXTURE.name


def encode(codec: str, data: bytes) -> bytes:
    if codec == "zstd":
        import zstandard  # noqa: PLC0415

        return zstandard.ZstdCompressor().compress(data)
    return lz4_java(data) if codec == "lz4" else data


def run(apps: int, codec: str) -> dict[str, object]:
    text = FIXTURE.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        logs = Path(tmp) / "logs"
        logs.mkdir()
        size = 0
        for i in range(apps):
            app = f"application_1578436911597_{i:06d}"
            data = text.replace(APP.encode(), app.encode())
            size += len(data)
            (logs / (app + ("" if codec == "none" else f".{codec}"))).write_bytes(encode(codec, data))
        out = Path(tmp) / "trace.jsonl"
        cmd = [sys.executable, "-m", "autoscaler.cli", "trace", "import", "--spark-logs", str(logs), "-o", str(out)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        jobs = sum(1 for _ in out.open())
    lines = apps * text.count(b"\n")
    print(done.stdout.splitlines()[0])
    return {
        "codec": codec,
        "apps": apps,
        "trace_jobs": jobs,
        "event_mb": round(size / 1e6, 1),
        "cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
        "apps_per_cpu_s": round(apps / cpu),
        "lines_per_cpu_s": round(lines / cpu),
        "mb_per_cpu_s": round(size / 1e6 / cpu, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--apps", type=int, default=5000)
    parser.add_argument("--codec", nargs="+", default=["none", "zstd", "lz4"], choices=["none", "zstd", "lz4"])
    args = parser.parse_args()
    for codec in args.codec:
        print(json.dumps(run(args.apps, codec)))


if __name__ == "__main__":
    main()
