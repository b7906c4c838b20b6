"""`emr-autoscaler`: run | explain | validate | config-reference (| simulate | tune | trace import | demo when
installed): the parser and the dispatch.

The daemon's commands live in `autoscaler.cli_daemon`, imported only when one of them runs, so the
simulator's commands start without boto3, the metrics server and the logging stack.
Config and policy errors print one line per problem with its path and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autoscaler import __version__
from autoscaler.config import ConfigError
from autoscaler.exits import EXIT_STALE

EXIT_CONFIG = 2
__all__ = ["EXIT_CONFIG", "EXIT_STALE", "explain_data", "explain_text", "main"]  # noqa: F822 - two are lazy

EXIT_CODES = (
    "exit status: 0 ok; 1 the metrics port cannot be bound (run); 2 bad config or policy;"
    f" {EXIT_STALE} a cluster's snapshot was stale, nothing decided (run --once, explain)"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emr-autoscaler", description="Cost-optimizing, explainable autoscaler for Amazon EMR.", epilog=EXIT_CODES
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__} (Python {platform.python_version()})"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p_run = sub.add_parser(
        "run", help="run the daemon (dry-run unless the config or --no-dry-run says otherwise)", epilog=EXIT_CODES
    )
    p_run.add_argument("-c", "--config", required=True, help="YAML config file")
    p_run.add_argument("--once", action="store_true", help="run one tick and exit")
    p_run.add_argument(
        "--dry-run", action=argparse.BooleanOptionalAction, default=None, help="override the config's dry_run"
    )
    p_run.add_argument("--metrics-port", type=int, default=None, help="override metrics_port (0 disables)")
    p_run.add_argument(
        "--metrics-bind-address", default=None, help="override metrics_bind_address (127.0.0.1 = this host only)"
    )

    p_explain = sub.add_parser(
        "explain", help="one tick against the live cluster, printed; writes nothing", epilog=EXIT_CODES
    )
    p_explain.add_argument("-c", "--config", required=True, help="YAML config file")
    p_explain.add_argument("--json", action="store_true", help="print the tick as JSON")
    p_explain.add_argument(
        "--daemon",
        metavar="URL",
        help="the running daemon's metrics server, whose memory (cooldowns, back-offs, scale-in confirmations) "
        "explain evaluates with (default http[s]://127.0.0.1:<metrics_port>, with the config's metrics_tls "
        "and metrics_basic_auth; 'none' to skip)",
    )

    p_validate = sub.add_parser("validate", help="check a config: print the effective config or every error")
    p_validate.add_argument("-c", "--config", required=True, help="YAML config file")
    p_validate.add_argument("--format", choices=("yaml", "json"), default="yaml")

    p_ref = sub.add_parser("config-reference", help="print the Markdown config reference")
    p_ref.add_argument("-o", "--output", help="write to this file instead of stdout")

    p_mref = sub.add_parser("metrics-reference", help="print the Markdown metrics reference")
    p_mref.add_argument("-o", "--output", help="write to this file instead of stdout")

    _register_optional(sub)
    return parser


def _register_optional(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`simulate` and `demo` live in their own packages; each exposes `register(subparsers)`."""
    for module in (
        "autoscaler.sim.command",
        "autoscaler.sim.tune_command",
        "autoscaler.trace_import.command",
        "autoscaler.emulator.command",
    ):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
            continue
        mod.register(sub)


_LAZY = {"explain_data", "explain_text", "build_deps", "load_all_policies", "load_all_shadows", "PolicyErrors"}


def __getattr__(name: str) -> Any:
    """The daemon's names, still importable from here, loaded on first use."""
    if name in _LAZY or name == "_load":
        from autoscaler import cli_daemon  # noqa: PLC0415 - not on the simulator's start-up path

        return getattr(cli_daemon, "load_args" if name == "_load" else name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in ("run", "explain", "validate"):
        return _daemon_command(args)
    try:
        if args.command == "config-reference":
            from autoscaler.reference import config_reference  # noqa: PLC0415 - imports every policy

            return _write(config_reference(), args.output)
        if args.command == "metrics-reference":
            from autoscaler.metrics_reference import metrics_reference  # noqa: PLC0415 - imports prometheus_client

            return _write(metrics_reference(), args.output)
        handler = getattr(args, "handler", None)
        if handler is None:
            raise AssertionError(f"no handler for {args.command}")
        return int(handler(args))
    except ConfigError as err:
        for line in err.lines():
            print(f"error: {line}", file=sys.stderr)
        return EXIT_CONFIG


def _write(text: str, output: str | None) -> int:
    if output:
        Path(output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _daemon_command(args: argparse.Namespace) -> int:
    from autoscaler import cli_daemon  # noqa: PLC0415 - boto3, prometheus and structlog only for the daemon

    try:
        if args.command == "run":
            return cli_daemon.run_command(args)
        if args.command == "explain":
            return cli_daemon.explain_command(args, sys.stdout)
        return cli_daemon.validate_command(args, sys.stdout)
    except ConfigError as err:
        for line in err.lines():
            print(f"error: {line}", file=sys.stderr)
        return EXIT_CONFIG
    except cli_daemon.PolicyErrors as err:
        for problem in err.problems:
            print(f"error: {args.config}: {problem}", file=sys.stderr)
        return EXIT_CONFIG


if __name__ == "__main__":
    sys.exit(main())
