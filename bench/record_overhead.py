"""Recording (`record_dir`) cost per tick, and `simulate --replay` speed (issue 12 §2).

The daemon's `tick_cluster` in-process on one snapshot (40 RUNNING nodes with their EMR instances,
20 apps with pending asks, a core and a task group), live `pending-demand` + `idle-capacity`, N ticks
without and with a recorder writing to a temporary folder. Reports the tick thread's median and p95
wall time (what the loop waits for: a queue put), the process CPU per tick including the writer
thread's encoding and writing (what recording costs the machine), and the bytes per recorded tick.
Then replays that recording (`simulate --replay`, one candidate) and reports the CPU to read and
decode it and to re-run the candidate, per tick.

    .venv/bin/python bench/record_overhead.py --ticks 2880
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from autoscaler.config_recording import RecordingConfig
from autoscaler.loop import ClusterDeps, Deps, tick_cluster
from autoscaler.metrics import Health, Metrics
from autoscaler.model import ClusterSnapshot, ControllerMemory, Market, PoolRole, PriceQuote
from autoscaler.policy import load_policies
from autoscaler.recorder import Recorder
from autoscaler.sim.recording import read_recording
from autoscaler.sim.replay import actual_ticks, replay_policy
from autoscaler.testing import (
    ListLogger,
    RecordingActuator,
    make_app,
    make_cluster_config,
    make_instance,
    make_node,
    make_pool,
    make_snapshot,
)

T0 = 1_700_000_000.0


def snapshot(now: float) -> ClusterSnapshot:
    nodes = [make_node(f"h{i}", "ig-t", f"i-{i:017d}", containers=2) for i in range(40)]
    instances = [make_instance(f"i-{i:017d}", "ig-t", private_dns=f"h{i}") for i in range(40)]
    apps = [make_app(f"application_1_{i:04d}", am_host="h0", pending=5, memory_mb=4096) for i in range(20)]
    pools = [
        make_pool("ig-core", role=PoolRole.CORE, market=Market.ON_DEMAND, requested=10),
        make_pool("ig-t", requested=40),
    ]
    prices = [
        PriceQuote("m5.xlarge", Market.SPOT, 0.08, 0.048),
        PriceQuote("m5.xlarge", Market.ON_DEMAND, 0.192, 0.048),
    ]
    return make_snapshot(taken_at=now, nodes=nodes, apps=apps, pools=pools, prices=prices, instances=instances)


def measure(ticks: int, folder: Path | None, pace_s: float) -> tuple[list[float], float]:
    """(tick wall times, process CPU seconds per tick including the writer thread)."""
    config = make_cluster_config(policies=[{"type": "pending-demand"}, {"type": "idle-capacity"}])
    # a queue for every tick: back-to-back ticks outrun any writer, a daemon's ticks are 30 s apart
    limits = RecordingConfig(queue_ticks=ticks)
    recorder = None if folder is None else Recorder(config.cluster_id, folder, limits, ListLogger())
    cluster = ClusterDeps(config, snapshot, RecordingActuator(), load_policies(config.policies), recorder=recorder)
    deps = Deps((cluster,), Metrics(), Health(30, (config.cluster_id,), started_at=0.0), ListLogger())
    memory, out = ControllerMemory(), []
    cpu = time.process_time()
    for i in range(ticks):
        started = time.perf_counter()
        memory = tick_cluster(deps, cluster, memory, T0 + 30 * i)
        out.append(time.perf_counter() - started)
        if pace_s:
            time.sleep(pace_s)  # room for the writer between ticks, as a daemon's 30 s give it
    if recorder is not None:
        recorder.close(timeout_s=600)
        assert recorder.counts["written"] == ticks, recorder.counts
    return out, (time.process_time() - cpu) / ticks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticks", type=int, default=2880)
    parser.add_argument("--pace-ms", type=float, default=5.0, help="pause between ticks (0: back to back)")
    args = parser.parse_args()
    print("| recording | ticks | median tick ms | p95 tick ms | process CPU ms per tick |")
    print("|---|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "rec"
        for pace, label in ((args.pace_ms / 1000, f"{args.pace_ms:g} ms apart"), (0.0, "back to back")):
            for name, where in (("off", None), ("on", folder)):
                if where is not None:
                    for old in folder.glob("*"):
                        old.unlink()
                times, cpu = measure(args.ticks, where, pace)
                times = sorted(times[10:])
                median, p95 = statistics.median(times) * 1000, times[int(0.95 * (len(times) - 1))] * 1000
                print(f"| {name} | {label} | {median:.3f} | {p95:.3f} | {cpu * 1000:.3f} |")
        size = sum(p.stat().st_size for p in folder.glob("*.jsonl"))
        print(f"\n{args.ticks} ticks recorded: {size / args.ticks:,.0f} bytes a tick, {size / 1e6:.1f} MB")
        cpu = time.process_time()
        recording = read_recording(folder)
        read_cpu = time.process_time() - cpu
        config = make_cluster_config(policies=[{"type": "pending-demand"}, {"type": "idle-capacity"}])
        cpu = time.process_time()
        actual = actual_ticks(recording, config)
        replay_policy("pending-demand+idle-capacity", load_policies(config.policies), recording.ticks, actual, config)
        run_cpu = time.process_time() - cpu
        n = len(recording.ticks)
        print(
            f"replay: read and decode {read_cpu:.2f} CPU s ({n / read_cpu:,.0f} ticks/s), "
            f"one candidate {run_cpu:.2f} CPU s ({n / run_cpu:,.0f} ticks/s)"
        )


if __name__ == "__main__":
    main()
