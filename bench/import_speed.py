"""`trace import --yarn` speed: N finished apps served by a local RM stand-in, imported by the real CLI.

The server (`autoscaler.serving`, the same HTTP stack as the emulator) holds N synthetic FINISHED apps
with every field the importer reads, finishing evenly over 24 hours, and answers
`/ws/v1/cluster/apps` with `finishedTimeBegin`/`finishedTimeEnd`/`limit` like an RM (oldest first). The
command pages it in hour windows, halving full ones (1000 a page), converts and writes the trace.
Reports apps per second of the whole command (process start to exit).

    .venv/bin/python bench/import_speed.py --apps 100000
"""

from __future__ import annotations

import argparse
import bisect
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from autoscaler.serving import HttpServer, Request, Response, endpoint

DAY_MS = 86_400_000
T0_MS = 1_699_920_000_000  # 2023-11-14T00:00:00Z


def apps(n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        finish = T0_MS + (i * DAY_MS) // n
        launch = finish - 60_000 - (i % 600) * 1000
        out.append(
            {
                "id": f"application_1699920000000_{i:06d}",
                "queue": ("etl", "adhoc", "ml")[i % 3],
                "state": "FINISHED",
                "applicationType": "SPARK",
                "startedTime": launch - 5_000,
                "launchTime": launch,
                "finishedTime": finish,
                "memorySeconds": 6144 * 60 + 3072 * 60 * (1 + i % 40),
                "vcoreSeconds": 60 * (2 + i % 40),
            }
        )
    return out


def server(records: list[dict[str, Any]]) -> HttpServer:
    finishes = [a["finishedTime"] for a in records]

    def handle(request: Request) -> Response:
        if request.path == "/ws/v1/cluster/info":  # the importer's YarnClient first finds the active RM
            return Response.json(200, {"clusterInfo": {"haState": "ACTIVE"}})
        q = request.query
        lo = bisect.bisect_left(finishes, int(q.get("finishedTimeBegin", 0)))
        hi = bisect.bisect_right(finishes, int(q.get("finishedTimeEnd", 2**62)))
        page = records[lo : min(hi, lo + int(q.get("limit", 10**9)))]
        return Response.json(200, {"apps": {"app": page} if page else None})

    return HttpServer(endpoint(handle), name="bench-rm")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--apps", type=int, default=100_000)
    args = parser.parse_args()
    records = apps(args.apps)
    rm = server(records)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "trace.jsonl"
            cmd = [sys.executable, "-m", "autoscaler.cli", "trace", "import", "--yarn", rm.url]
            cmd += ["--since", "2023-11-14T00:00:00Z", "--until", "2023-11-15T00:00:00Z", "-o", str(out)]
            started = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            wall = time.perf_counter() - started
            lines = sum(1 for _ in out.open())
    finally:
        rm.close()
    print(done.stdout.strip())
    print(
        json.dumps(
            {"apps": args.apps, "jobs_written": lines, "wall_s": round(wall, 2), "apps_per_s": round(args.apps / wall)}
        )
    )


if __name__ == "__main__":
    main()
