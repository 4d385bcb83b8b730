"""Errors raised by backtest, and the end-of-data signal.

Every error the package raises on purpose derives from :class:`BacktestError`::

    BacktestError
    ├── ConfigError      an argument or configuration value is invalid or unknown (your input)
    ├── DataError        the data store lacks what was asked, or holds something malformed
    │   └── UnknownInstrumentError   no metadata for a symbol (orders on it are rejected)
    ├── StrategyError    the user's strategy code raised (the original exception is __cause__)
    └── ApiUsageError    the strategy API was called in a way it cannot honour

:class:`BacktestFinished` is not an error: ``wait_update()`` raises it when the data ends, as
tqsdk does, so ported strategies keep their ``try/except BacktestFinished``. The runner catches
it and returns the result; it never touches ``sys.excepthook`` or calls ``sys.exit``.

Expected trading outcomes are values, not exceptions: a rejected order is a finished order whose
``last_msg`` says why.
"""

from __future__ import annotations

import difflib
import errno
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .result import BacktestResult


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'close'?)`` naming the choice closest to a misspelt ``name``, for an
    error message; empty when none is close."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unwritable(exc: OSError) -> str:
    """What an OS error failed to do, naming the paths, for a message: ``cannot write A (Is a
    directory)``, ``renaming A to B failed (Permission denied)``."""
    if exc.filename2 is not None:
        return f"renaming {exc.filename} to {exc.filename2} failed ({exc.strerror})"
    if exc.filename is not None:
        return f"cannot write {exc.filename} ({exc.strerror})"
    return str(exc)


def disk_full(exc: OSError) -> bool:
    """True for an OS error that says the disk (or the user's quota) is full: the advice is
    then to free space, not to change permissions."""
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)


class BacktestError(Exception):
    """Root of every error backtest raises on purpose; catch it to handle them all.

    Raised from inside a running strategy (an ``ApiUsageError`` from a bad call, a ``DataError``
    for a symbol the store lacks), the error's ``result`` holds the partial result up to that
    point, as :class:`StrategyError`'s does; otherwise it is None.
    """

    result: BacktestResult | None = None


class ConfigError(BacktestError, ValueError):
    """An argument or configuration value is invalid or unknown.

    The message names the argument, the value that was given and what is accepted. Fix the call
    or the configuration file.
    """


class DataError(BacktestError):
    """The data store lacks what was asked for, or holds something malformed.

    The message names the store, the symbol and period or file, and how to supply what is missing
    (for example ``backtest data import`` or an ``instruments=`` override).
    """


class UnknownInstrumentError(DataError):
    """No instrument metadata is known for a symbol: no default terms for its product, no row
    in the store's ``instruments.parquet``, no ``instruments=`` override.

    Asking for its quote, klines or position raises this; an order on it is not an exception
    but a rejected order whose ``last_msg`` carries this message (DESIGN.md §7).
    """


class ApiUsageError(BacktestError, RuntimeError):
    """The strategy API was called in a way it cannot honour.

    For example ``Backtest.run()`` inside a running event loop (use ``await Backtest.arun()``),
    or ``insert_order`` after the backtest finished. The message says what to do instead.
    """


class StrategyError(BacktestError):
    """The user's strategy raised an exception; the original is chained as ``__cause__``.

    ``result`` holds what the backtest had computed up to the failure (orders, trades, daily
    snapshots, with the last trading day settled), so nothing already simulated is lost.
    """

    def __init__(self, message: str, result: BacktestResult | None = None) -> None:
        super().__init__(message)
        self.result = result


class NoDataWarning(UserWarning):
    """Warned by ``run()``/``arun()`` when the strategy subscribed symbols but the store holds no
    market data for them in the run's span, so no trading day was simulated. Scripts and CI can
    make it an error: ``warnings.simplefilter("error", NoDataWarning)`` (``backtest run`` exits
    1 on it).
    """


class DataEndedWarning(UserWarning):
    """Warned by ``run()``/``arun()`` when the market data of the symbols the strategy asked
    for ends before the run's last trading day, so the result and its statistics
    (``trading_days``, ``annual_yield`` …) cover fewer trading days than the run asked for.
    ``backtest run`` prints it and saves the result.
    """


class BacktestFinished(Exception):  # noqa: N818 - tqsdk's name, kept so ported code still works
    """Raised by ``wait_update()`` when every subscribed series has reached its end.

    Not a :class:`BacktestError`: it is the normal end of a backtest. The runner catches it,
    settles the last trading day and returns the result.
    """
