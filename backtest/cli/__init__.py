"""The ``backtest`` command line.

``backtest run|check|report|show|diff`` runs strategy files and works with run directories
(:mod:`backtest.cli.runs`); ``backtest data …`` manages a local data store
(:mod:`backtest.cli.data`). ``backtest --help`` and ``backtest COMMAND --help`` list the options
with examples.

Exit status: 0 on success (``check`` and ``diff``: equal); 1 when the data or the options are
wrong (the message says which file, row, field or argument, and what to do), or when ``check``
and ``diff`` find differences; 2 when the strategy fails (syntax error or exception; the
traceback points into the strategy file) or the command line cannot be parsed; 130 when
interrupted with Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from ..errors import BacktestError
from . import data, runs

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command."""
    parser = argparse.ArgumentParser(
        prog="backtest",
        description="Backtesting for Chinese futures and A-shares on merged time series.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    runs.add_parsers(commands)
    data.add_parser(commands)
    return parser


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run one command; return its exit status (see the module docstring).

    ``stdout``/``stderr`` default to the process's streams (tests pass buffers).
    """
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parser = build_parser()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return int(exc.code) if isinstance(exc.code, int) else 2
    try:
        status: int = args.run(args, out, err)
    except BacktestError as exc:
        print(f"backtest: error: {exc}", file=err)
        return 1
    except BrokenPipeError:  # the reader of our output left: entry_point() ends quietly
        raise
    except OSError as exc:  # a path that cannot be read or written
        print(f"backtest: error: {exc}", file=err)
        return 1
    except KeyboardInterrupt:
        print("backtest: interrupted", file=err)
        return 130
    return status


def entry_point() -> None:
    """The ``backtest`` console script."""
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:  # `backtest data ls | head`: the reader left; not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        status = 0
    sys.exit(status)
