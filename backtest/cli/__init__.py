"""The ``backtest`` command line.

``backtest data …`` manages a local data store (:mod:`backtest.cli.data`). Run ``backtest
--help`` or ``backtest data --help`` for the commands and their options.

Exit status: 0 on success; 1 when the data or the options are wrong (the message says which
file, row, field or argument, and what to do); 2 for a command line argparse cannot parse; 130
when interrupted with Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from ..errors import BacktestError
from . import data

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command."""
    parser = argparse.ArgumentParser(
        prog="backtest",
        description="Backtesting for Chinese futures and A-shares on merged time series.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
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
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return int(exc.code) if isinstance(exc.code, int) else 2
    try:
        status: int = args.run(args, out, err)
    except BacktestError as exc:
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
