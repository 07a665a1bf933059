"""The ``gpuplan`` command line.

Each subcommand lives in its own module under :mod:`gpuplan.commands` and exposes
``register(subparsers) -> None``; the parser sets ``func`` to a callable ``func(args) -> int``.
Expected errors (:class:`scenarios.errors.InputError`, a bad option, a file that cannot be read or
written) become one line on stderr and exit code 2; a traceback only with ``--debug``.  SIGTERM ends a run
like Ctrl-C does (temporary files are removed, exit 143); a closed pipe (``gpuplan scenario show | head``)
ends quietly.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from typing import NoReturn

from scenarios.errors import InputError

#: Subcommand modules, in the order ``gpuplan --help`` lists them.
COMMAND_MODULES = [
    "scenario", "summary", "forecast", "optimize", "simulate", "plan", "negotiate", "compare", "sweep", "backtest",
    "inference", "monitor",
]

log = logging.getLogger("gpuplan")


class Terminated(BaseException):
    """Raised in the main thread when the process gets SIGTERM, so ``finally`` blocks clean up."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr (and exit code 2), like every other error."""

    def error(self, message: str) -> NoReturn:
        """Print ``gpuplan CMD: error: message (see --help)`` and exit 2."""
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every available subcommand."""
    parser = OneLineParser(
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


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While running a command, SIGTERM raises :class:`Terminated` (main thread only; restored after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's final flush stays quiet."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _os_error_line(exc: OSError) -> str:
    where = exc.filename if exc.filename is not None else ""
    what = exc.strerror or type(exc).__name__
    return f"{where}: {what}" if where else what


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse ``argv``, run the subcommand, map errors to exit codes.

    Exit codes: 0 done, 2 bad input (one line on stderr, nothing written), 130 Ctrl-C, 141 closed pipe,
    143 SIGTERM.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    _setup_logging(args.quiet)
    try:
        with _sigterm_raises():
            code = int(args.func(args) or 0)
            sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
            return code
    except InputError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"gpuplan: error: {exc.one_line()}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except OSError as exc:  # a file the user named cannot be read or written (disk full, permissions)
        if args.debug:
            traceback.print_exc()
        print(f"gpuplan: error: {_os_error_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gpuplan: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("gpuplan: terminated (SIGTERM); nothing half-written was left", file=sys.stderr)
        return 143


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
