"""``python -m backtest`` runs the command line (see :mod:`backtest.cli`)."""

from .cli import entry_point

entry_point()
