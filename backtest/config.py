"""BacktestConfig: the validated, immutable settings of one backtest."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .errors import ConfigError


@dataclass(frozen=True)
class BacktestConfig:
    """Settings of a backtest.

    Attributes:
        start: first trading day (a ``date``: the run starts when that trading day starts, at
            18:00 of the trading day before) or an exact moment (a ``datetime``; naive means
            Beijing time), e.g. ``date(2020, 1, 2)``.
        end: last trading day (a ``date``: the run ends when that trading day ends) or an exact
            moment, e.g. ``date(2020, 2, 28)``.
        init_balance: starting balance of the futures account, CNY, e.g. ``1_000_000``.
        data: directory of the Parquet data store; None uses the sample store shipped with the
            package (``data/store`` in the repository).
        instruments: overrides of instrument terms keyed by symbol or product, e.g.
            ``{"IF": {"commission_close_today": 0.00023}}`` (see :mod:`backtest.instrument`).
        annual_days: trading days per year, for annualized statistics (tqsdk uses 250).
        risk_free_rate: annual risk-free rate for Sharpe and Sortino, e.g. ``0.02``.
    """

    start: date | datetime
    end: date | datetime
    init_balance: float = 10_000_000.0
    data: str | None = None
    instruments: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    annual_days: int = 250
    risk_free_rate: float = 0.0

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, date):
                raise ConfigError(
                    f"{name} must be a datetime.date or datetime.datetime, was {value!r}"
                )
        if _as_datetime(self.start) > _as_datetime(self.end, end=True):
            raise ConfigError(f"start {self.start} is after end {self.end}")
        balance = self.init_balance
        if (
            isinstance(balance, bool)
            or not isinstance(balance, int | float)
            or not math.isfinite(balance)
            or balance <= 0
        ):
            raise ConfigError(f"init_balance must be a positive number of CNY, was {balance!r}")
        days = self.annual_days
        if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
            raise ConfigError(f"annual_days must be a positive whole number, was {days!r}")
        rate = self.risk_free_rate
        if not isinstance(rate, int | float) or not math.isfinite(rate) or rate <= -1:
            raise ConfigError(f"risk_free_rate must be a number above -1, was {rate!r}")
        if self.data is not None and not isinstance(self.data, str | Path):
            raise ConfigError(f"data must be a directory path, was {self.data!r}")
        if not isinstance(self.instruments, Mapping):
            raise ConfigError(
                f"instruments must map symbols or products to field values, was "
                f"{self.instruments!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-friendly values."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "init_balance": float(self.init_balance),
            "data": None if self.data is None else str(self.data),
            "instruments": {k: dict(v) for k, v in self.instruments.items()},
            "annual_days": self.annual_days,
            "risk_free_rate": float(self.risk_free_rate),
        }


def _as_datetime(value: date | datetime, end: bool = False) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime(value.year, value.month, value.day, 23 if end else 0, 59 if end else 0)
