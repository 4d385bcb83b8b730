"""A data store's metadata files: what they hold, reading them, and checking what is written.

- ``instruments.parquet``: one row per canonical symbol; the other columns are
  :class:`~backtest.instrument.Instrument` fields, one type each (numbers as float64,
  ``is_st`` as bool, the rest as text);
- ``calendar.parquet``: column ``trading_day`` (date32), every trading day of the store's data;
- ``dividends.parquet``: corporate actions, ``symbol``, ``ex_date`` (date32), ``cash`` (CNY per
  share, before tax), ``share_ratio`` (bonus and transferred shares per share held).

A file read is checked (its key columns, each row's symbol, dates and amounts) and a damaged one
raises :class:`~backtest.errors.DataError` naming it and how to write it again. Rows given to be
written are checked as reading checks them, so a store never holds a row it would then refuse:
the ``*_table`` functions raise :class:`~backtest.errors.ConfigError` naming the row, the field
and the value. :class:`~backtest.store.Store` reads and writes these files (holding its write
lock) through this module.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import pandas as pd
import pyarrow as pa

from .calendar import TradingCalendar
from .errors import ConfigError, DataError
from .instrument import FIELD_NAMES, check_field
from .model import Symbol, normalize_symbol
from .storefile import open_parquet

INSTRUMENTS: Final = "instruments.parquet"
CALENDAR: Final = "calendar.parquet"
DIVIDENDS: Final = "dividends.parquet"
METADATA_HINTS: Final = {
    INSTRUMENTS: (
        "write it again (`backtest data download`, or Store.write_instruments) or delete it "
        "to use the built-in instrument terms"
    ),
    CALENDAR: (
        "write it again (`backtest data download`, or Store.write_calendar) or delete it to "
        "use exchange_calendars' trading days"
    ),
    DIVIDENDS: (
        "write it again (`backtest data download`, or Store.write_dividends) or delete it if "
        "the store's symbols have no corporate actions"
    ),
}
"""How to mend each metadata file (the end of the messages naming a damaged one)."""


# --- reading ---------------------------------------------------------------------------------


def read_instruments(path: Path) -> dict[str, dict[str, Any]]:
    """Instrument rows by canonical symbol (empty if there is no file at ``path``)."""
    if not path.exists():
        return {}
    table = _read_metadata(path, ("symbol",))
    found: dict[str, dict[str, Any]] = {}
    for number, row in enumerate(table.to_pylist(), start=1):
        symbol = _row_symbol(path, number, row.pop("symbol"))
        if symbol in found:
            raise DataError(
                f"{path}: row {number} names {symbol} again; keep one row per symbol "
                f"({METADATA_HINTS[path.name]})"
            )
        found[symbol] = row
    return found


def read_calendar(path: Path) -> TradingCalendar | None:
    """The stored trading calendar, or None if there is no file at ``path``."""
    if not path.exists():
        return None
    values = _read_metadata(path, ("trading_day",), ["trading_day"]).column(0).to_pylist()
    days = [day for day in values if isinstance(day, date)]
    if len(days) != len(values):
        raise DataError(f"{path}: trading_day must hold dates, without empty cells")
    return TradingCalendar(days, source=str(path))


def read_dividends(path: Path) -> dict[str, list[tuple[date, float, float]]]:
    """Corporate actions by canonical symbol, by date (empty if there is no file)."""
    if not path.exists():
        return {}
    table = _read_metadata(path, ("symbol", "ex_date", "cash", "share_ratio"))
    actions: dict[str, list[tuple[date, float, float]]] = {}
    for number, row in enumerate(table.to_pylist(), start=1):
        day, cash, ratio = row["ex_date"], row["cash"] or 0.0, row["share_ratio"] or 0.0
        if not (isinstance(day, date) and _at_least_zero(cash) and _at_least_zero(ratio)):
            raise DataError(
                f"{path}: row {number} is not a valid corporate action ({row}): ex_date "
                f"must be a date, cash and share_ratio numbers from 0 up; "
                f"{METADATA_HINTS[path.name]}"
            )
        symbol = _row_symbol(path, number, row["symbol"])
        actions.setdefault(symbol, []).append((day, float(cash), float(ratio)))
    return {symbol: sorted(rows) for symbol, rows in actions.items()}


def _read_metadata(path: Path, key: Sequence[str], columns: list[str] | None = None) -> pa.Table:
    """A metadata file (``instruments.parquet`` …), checked to have the ``key`` columns."""
    parquet = open_parquet(path, METADATA_HINTS[path.name])
    missing = [name for name in key if name not in parquet.names]
    if missing:
        present = ", ".join(parquet.names) or "none"
        raise parquet.damaged(f"missing column(s) {', '.join(missing)}; it has {present}")
    return parquet.read(columns)


def _row_symbol(path: Path, number: int, value: Any) -> str:
    """The canonical symbol in row ``number`` (1-based) of a metadata file."""
    try:
        return normalize_symbol(value)  # a non-str (None) is refused there too
    except ConfigError as exc:
        raise DataError(f"{path}: row {number}: {exc}; {METADATA_HINTS[path.name]}") from None


# --- writing ---------------------------------------------------------------------------------


def instruments_table(rows: Mapping[str, Mapping[str, Any]]) -> pa.Table:
    """``instruments.parquet`` of these rows (see :meth:`Store.write_instruments
    <backtest.store.Store.write_instruments>`, which documents the checks)."""
    canonical: dict[str, Mapping[str, Any]] = {}
    for key, row in rows.items():
        symbol = normalize_symbol(key)
        if symbol in canonical:
            raise DataError(
                f"instrument rows name {symbol} twice (one of them as {key!r}); keep one"
            )
        canonical[symbol] = _check_instrument_row(symbol, row)
    names = sorted({name for row in canonical.values() for name in row})
    records = [{"symbol": symbol, **canonical[symbol]} for symbol in sorted(canonical)]
    return pa.Table.from_pylist(records, schema=_instrument_schema(names, records))


def calendar_table(days: Iterable[date]) -> pa.Table:
    """``calendar.parquet`` of these days (see :meth:`Store.write_calendar
    <backtest.store.Store.write_calendar>`)."""
    if isinstance(days, date) or not isinstance(days, Iterable):
        raise ConfigError(
            f"write_calendar: trading days must be an iterable of datetime.date values, was "
            f"{days!r}; pass e.g. [date(2020, 1, 2)]"
        )
    listed = [days] if isinstance(days, str) else list(days)  # one text is one value
    for position, day in enumerate(listed):
        if not isinstance(day, date) or isinstance(day, datetime):
            raise ConfigError(
                f"write_calendar: trading days must be datetime.date values, was {day!r} "
                f"at position {position}; pass e.g. date(2020, 1, 2) "
                f"(date.fromisoformat('2020-01-02') converts text, .date() a datetime)"
            )
    if not listed:
        raise ConfigError(
            "write_calendar: no trading days were given, and an empty calendar would refuse "
            "all data; pass every trading day the store's data covers, or write no calendar "
            "to use exchange_calendars' trading days"
        )
    return pa.table({"trading_day": pa.array(sorted(set(listed)), pa.date32())})


def dividends_table(rows: Iterable[tuple[str, date, float, float]]) -> pa.Table:
    """``dividends.parquet`` of these corporate actions (see :meth:`Store.write_dividends
    <backtest.store.Store.write_dividends>`)."""
    seen: dict[tuple[str, date], tuple[int, object]] = {}  # → position, row as given
    ordered: list[tuple[str, date, float, float]] = []
    for position, row in enumerate([rows] if isinstance(rows, str) else rows):
        action = _check_dividend_row(position, row)
        if action[:2] in seen:
            first, given = seen[action[:2]]
            raise ConfigError(
                f"write_dividends: the rows at positions {first} and {position} are both "
                f"corporate actions of {action[0]} on {action[1]} ({given!r} and {row!r}); "
                f"give one row per symbol and ex-date, with the cash and the shares of both"
            )
        seen[action[:2]] = (position, row)
        ordered.append(action)
    ordered.sort()
    return pa.table(
        {
            "symbol": pa.array([r[0] for r in ordered], pa.string()),
            "ex_date": pa.array([r[1] for r in ordered], pa.date32()),
            "cash": pa.array([r[2] for r in ordered], pa.float64()),
            "share_ratio": pa.array([r[3] for r in ordered], pa.float64()),
        }
    )


def _instrument_schema(names: list[str], records: list[dict[str, Any]]) -> pa.Schema:
    """The columns of ``instruments.parquet``; each field's values have one type (see
    :func:`_check_instrument_row`), a column of None cells only is text."""
    fields: list[pa.Field[Any]] = [pa.field("symbol", pa.string())]
    for name in names:
        values = [r[name] for r in records if r.get(name) is not None]
        kind: pa.DataType = pa.string()
        if values and isinstance(values[0], bool):
            kind = pa.bool_()
        elif values and isinstance(values[0], float):
            kind = pa.float64()
        fields.append(pa.field(name, kind))
    return pa.schema(fields)


def _check_instrument_row(symbol: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A row of :meth:`Store.write_instruments` as ``instruments.parquet`` holds it, refused
    if the instrument table would refuse it when reading it: a field that is not an instrument
    field, a value its field does not take (checked as an ``instruments=`` override is), an
    exchange other than the symbol's. Missing values (None, NaN, ``pd.NA``) are None cells
    ("not set"); an exchange the symbol gives is left out."""
    where = f"instrument row {symbol}"
    if not isinstance(row, Mapping):
        raise ConfigError(f"{where} must map field names to values, was {row!r}")
    exchange = Symbol.parse(symbol).exchange
    stored: dict[str, Any] = {}
    for name, value in row.items():
        if name != "exchange":
            stored[name] = _stored_value(name, value, where)
        elif not _is_missing(value) and str(value).upper() not in (exchange.value, exchange.market):
            raise ConfigError(
                f"{where}: exchange {value!r} contradicts the symbol's exchange "
                f"{exchange.value}; leave exchange out (the symbol gives it)"
            )
    return stored


def _stored_value(name: str, value: Any, where: str) -> float | bool | str | None:
    """An instrument field's value as ``instruments.parquet`` holds it (see
    :func:`~backtest.instrument.check_field`), None for a missing value."""
    if _is_missing(value):
        if name not in FIELD_NAMES:
            check_field(name, value, where)  # names the unknown field
        return None
    return check_field(name, value, where)


def _is_missing(value: Any) -> bool:
    """True for None and pandas' and numpy's missing scalars (NaN of any float, pd.NA, NaT)."""
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _at_least_zero(value: object) -> bool:
    """True for a finite number from 0 up (numpy's too; not a bool, None, NaN or text)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return False
    return math.isfinite(value) and float(value) >= 0


def _check_dividend_row(position: int, row: object) -> tuple[str, date, float, float]:
    """Row ``position`` (0-based) of :meth:`Store.write_dividends`, checked: (canonical
    symbol, ex_date, cash, share_ratio)."""
    where = f"write_dividends: the row at position {position} ({row!r})"
    if isinstance(row, str) or not isinstance(row, Sequence) or len(row) != 4:
        raise ConfigError(
            f"{where} must be a (symbol, ex_date, cash, share_ratio) tuple, such as "
            f"('600000.SH', date(2020, 6, 9), 0.76, 0.0)"
        )
    given, day, cash, ratio = row
    try:
        symbol = normalize_symbol(given)  # a non-str (None) is refused there too
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if Symbol.parse(symbol).exchange.is_futures:
        raise ConfigError(
            f"{where}: {symbol} is a futures contract, and corporate actions are for stocks "
            f"and funds (.SH, .SZ, .BJ)"
        )
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ConfigError(
            f"{where}: ex_date must be a datetime.date, was {day!r}; pass e.g. date(2020, 6, "
            f"9) (date.fromisoformat('2020-06-09') converts text, .date() a datetime)"
        )
    for name, value, unit in (
        ("cash", cash, "CNY per share"),
        ("share_ratio", ratio, "shares per share held"),
    ):
        if not _at_least_zero(value):
            raise ConfigError(
                f"{where}: {name} must be a finite number from 0 up ({unit}, 0 for none), was "
                f"{value!r}"
            )
    return symbol, day, float(cash), float(ratio)
