"""The `demo` subcommand; also runnable alone as `python -m autoscaler.emulator.command`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from autoscaler.emulator.demo import DemoSettings, run_demo
from autoscaler.sim.command import exit_2_on_bad_input


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = DemoSettings()
    parser.add_argument(
        "--time-scale", type=float, default=defaults.time_scale, help="emulated seconds per real second (default 10)"
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=defaults.duration_s,
        help="real seconds to wait for a scale-up and a scale-in before failing (default 180)",
    )
    parser.add_argument(
        "--metrics-port", type=int, default=defaults.metrics_port, help="the daemon's /metrics port (default 9464)"
    )
    parser.add_argument(
        "--keep-running", action="store_true", help="keep the emulator and the daemon running until Ctrl-C"
    )
    parser.add_argument("--trace", metavar="FILE", help="run this trace's jobs (stop when all are done)")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="try these policies: dry_run and the first cluster's policies, "
        "shadow_policies, record_dir, recording replace the demo's",
    )
    parser.add_argument(
        "--history",
        action="store_true",
        help="no daemon: run --trace to completion a day back, serve its finished apps",
    )
    parser.add_argument("--yarn-port", type=int, default=0, metavar="N", help="the emulated RM's port (default: free)")


def _handle(args: argparse.Namespace) -> int:
    if args.time_scale <= 0:
        print("error: --time-scale must be > 0", file=sys.stderr)
        return 2
    settings = DemoSettings(
        time_scale=args.time_scale,
        duration_s=args.duration,
        metrics_port=args.metrics_port,
        keep_running=args.keep_running,
        trace=args.trace,
        config=args.config,
        history=args.history,
        yarn_port=args.yarn_port,
    )
    return exit_2_on_bad_input(lambda _: run_demo(settings), args)


def register(subparsers: Any) -> None:
    """Add `demo` to the CLI's subcommands (`argparse._SubParsersAction`)."""
    parser = subparsers.add_parser(
        "demo", help="run the daemon against an emulated EMR cluster (no AWS account needed)"
    )
    _add_arguments(parser)
    parser.set_defaults(handler=_handle)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="emr-autoscaler demo", description=__doc__)
    _add_arguments(parser)
    return _handle(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
