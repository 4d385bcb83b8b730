"""BacktestConfig: the validated, immutable settings of one backtest."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .ashare import StockFees
from .errors import ConfigError
from .result import json_safe
from .times import to_ns


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
        stock_init_balance: starting cash of the stock account, CNY; None means the same as
            ``init_balance``. Statistics count the accounts the strategy trades.
        data: directory of the Parquet data store; None uses the sample store shipped with the
            package (``data/store`` in the repository).
        instruments: overrides of instrument terms keyed by symbol or product, e.g.
            ``{"IF": {"commission_close_today": 0.00023}}`` (see :mod:`backtest.instrument`);
            a TOML file path with one table per key works too.
        stock_fees: the broker's A-share fee terms (:class:`backtest.ashare.StockFees` fields:
            ``commission_rate``, ``commission_min``, ``transfer_fee_rate``).
        annual_days: trading days per year, for annualized statistics (tqsdk uses 250).
        risk_free_rate: annual risk-free rate for Sharpe and Sortino, e.g. ``0.02``.
    """

    start: date | datetime
    end: date | datetime
    init_balance: float = 10_000_000.0
    stock_init_balance: float | None = None
    data: str | None = None
    instruments: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    stock_fees: Mapping[str, float | None] = field(default_factory=dict)
    annual_days: int = 250
    risk_free_rate: float = 0.0

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, date):
                raise ConfigError(
                    f"{name} must be a datetime.date or datetime.datetime, was {value!r}"
                )
        if _as_ns(self.start) > _as_ns(self.end, end=True):
            raise ConfigError(f"start {self.start} is after end {self.end}")
        for name in ("init_balance", "stock_init_balance"):
            balance = getattr(self, name)
            if name == "stock_init_balance" and balance is None:
                continue
            if (
                isinstance(balance, bool)
                or not isinstance(balance, int | float)
                or not math.isfinite(balance)
                or balance <= 0
            ):
                raise ConfigError(f"{name} must be a positive number of CNY, was {balance!r}")
        if not isinstance(self.stock_fees, Mapping):
            raise ConfigError(
                f"stock_fees must be a mapping of fee fields (commission_rate, commission_min, "
                f"transfer_fee_rate), was {self.stock_fees!r}"
            )
        self.fees()  # validates stock_fees
        days = self.annual_days
        if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
            raise ConfigError(f"annual_days must be a positive whole number, was {days!r}")
        rate = self.risk_free_rate
        if (
            isinstance(rate, bool)
            or not isinstance(rate, int | float)
            or not math.isfinite(rate)
            or rate <= -1
        ):
            raise ConfigError(f"risk_free_rate must be a number above -1, was {rate!r}")
        if self.data is not None and not isinstance(self.data, str | Path):
            raise ConfigError(f"data must be a directory path, was {self.data!r}")
        if not isinstance(self.instruments, Mapping):
            raise ConfigError(
                f"instruments must map symbols or products to field values, was "
                f"{self.instruments!r}"
            )

    def fees(self) -> StockFees:
        """``stock_fees`` as :class:`StockFees`, the defaults filling what it leaves out.

        Raises:
            ConfigError: an unknown field or a value that is not a non-negative number.
        """
        unknown = set(self.stock_fees) - _STOCK_FEE_FIELDS
        if unknown:
            raise ConfigError(
                f"stock_fees: unknown field(s) {', '.join(sorted(unknown))}; fields are "
                f"{', '.join(sorted(_STOCK_FEE_FIELDS))}"
            )
        values: dict[str, float | None] = {}
        for name, value in self.stock_fees.items():
            if value is None and name == "transfer_fee_rate":
                values[name] = None
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not 0 <= value < math.inf
            ):
                raise ConfigError(f"stock_fees: {name} must be a finite number >= 0, was {value!r}")
            values[name] = float(value)
        defaults = StockFees()
        rate, minimum = values.get("commission_rate"), values.get("commission_min")
        return StockFees(
            commission_rate=defaults.commission_rate if rate is None else rate,
            commission_min=defaults.commission_min if minimum is None else minimum,
            transfer_fee_rate=values.get("transfer_fee_rate", defaults.transfer_fee_rate),
        )

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-friendly values."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "init_balance": float(self.init_balance),
            "stock_init_balance": (
                None if self.stock_init_balance is None else float(self.stock_init_balance)
            ),
            "stock_fees": dict(self.stock_fees),
            "data": None if self.data is None else str(self.data),
            "instruments": json_safe(self.instruments),
            "annual_days": self.annual_days,
            "risk_free_rate": float(self.risk_free_rate),
        }


_STOCK_FEE_FIELDS = frozenset({"commission_rate", "commission_min", "transfer_fee_rate"})


def load_toml(path: Path, what: str) -> dict[str, Any]:
    """The table of a TOML file; ``what`` names the file in errors (``"run"``).

    Raises:
        ConfigError: the file is missing or not TOML.
    """
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{what} file {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"{what} file {path} is a directory; give the TOML file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{what} file {path} is not UTF-8 (byte {exc.start}); re-save it as UTF-8, as "
            f"TOML requires"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} file {path} is not valid TOML: {exc}") from None


def load_instruments(
    source: str | Path | Mapping[str, Mapping[str, Any]] | None,
) -> dict[str, dict[str, Any]]:
    """Instrument overrides from a mapping or a TOML file (one table per symbol or product).

    Raises:
        ConfigError: the file is missing or not TOML, or an entry is not a table.
    """
    if source is None:
        return {}
    if isinstance(source, str | Path):
        path = Path(source)
        loaded, where = load_toml(path, "instruments"), str(path)
    else:
        loaded, where = dict(source), "instruments"
    result: dict[str, dict[str, Any]] = {}
    for key, values in loaded.items():
        if not isinstance(values, Mapping):
            raise ConfigError(
                f"{where}: {key!r} must be a table of instrument fields, was {values!r}"
            )
        result[str(key)] = dict(values)
    return result


def _as_ns(value: date | datetime, end: bool = False) -> int:
    """The instant of a start or end: a date stands for its first or last minute."""
    if isinstance(value, datetime):
        return to_ns(value)  # naive: Beijing time; aware: its own zone
    return to_ns(datetime(value.year, value.month, value.day, 23 if end else 0, 59 if end else 0))
