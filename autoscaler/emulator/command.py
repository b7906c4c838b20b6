"""The `demo` subcommand; also runnable alone as `python -m autoscaler.emulator.command`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from autoscaler.emulator.demo import DemoSettings, run_demo


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


def _handle(args: argparse.Namespace) -> int:
    if args.time_scale <= 0:
        print("error: --time-scale must be > 0", file=sys.stderr)
        return 2
    settings = DemoSettings(
        time_scale=args.time_scale,
        duration_s=args.duration,
        metrics_port=args.metrics_port,
        keep_running=args.keep_running,
    )
    return run_demo(settings)


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
