"""The ``gpuplan`` command line.

Each subcommand lives in its own module under :mod:`gpuplan.commands` and exposes
``register(subparsers) -> None``; the parser sets ``func`` to a callable ``func(args) -> int``.
Expected errors (:class:`scenarios.errors.InputError`) become one line on stderr and exit code 2; a
traceback only with ``--debug``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from collections.abc import Sequence

from scenarios.errors import InputError

#: Subcommand modules, in the order ``gpuplan --help`` lists them.
COMMAND_MODULES = [
    "scenario", "summary", "forecast", "optimize", "simulate", "plan", "negotiate", "compare", "sweep", "backtest",
    "inference", "monitor",
]

log = logging.getLogger("gpuplan")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="gpuplan",
        description=(
            "Plan GPU compute: forecast demand, size reservations and committed spend on forecast "
            "distributions, validate them in simulation, and schedule training into cheap, low-carbon hours."
        ),
        epilog="Run 'gpuplan COMMAND --help' for a command's options. Errors exit with code 2.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bars or step log lines")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(f"gpuplan.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"gpuplan.commands.{name}":
                continue  # not built yet
            raise
        mod.register(sub)
    return parser


def _setup_logging(quiet: bool) -> None:
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="[gpuplan] %(message)s",
        stream=sys.stderr,
        force=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse ``argv``, run the subcommand, map errors to exit codes."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    _setup_logging(args.quiet)
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"gpuplan: error: {exc.one_line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gpuplan: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
