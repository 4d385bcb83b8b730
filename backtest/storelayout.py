"""The store's layout as code: which columns a market data file holds, and where it lives.

:mod:`backtest.store` documents the layout for users (directories, file names, columns); this
module is the one place that knows it, for reading (:mod:`backtest.store`) and writing
(:mod:`backtest.storewrite`) alike:

- the columns: :data:`KLINE_COLUMNS`, :data:`TICK_COLUMNS`, the required ones
  (:func:`required_columns`), and the stored ``datetime`` type :data:`TIMESTAMP_TYPE`;
  :func:`market_file_problem` judges a file's columns by them, and :func:`open_market_file`
  opens a file and applies that judgement;
- the files: a row's time gives its partition key (a Beijing day number for ticks, a year for
  klines: :func:`partition_key`), the key gives its file (:func:`path_for`), a file's name gives
  the key back (:func:`read_key`); :func:`serial_files` lists a serial's files, and
  :func:`check_duration` reads the ``duration_s`` argument that names a serial's period;
- how files are replaced: :func:`atomic_write`, and the names of the writers' staging
  directory, journal directory and lock file.

:mod:`backtest.store` re-exports the public names that other modules use.
"""

from __future__ import annotations

import numbers
import os
import re
import tempfile
from collections.abc import Callable
from contextlib import suppress
from datetime import date
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa

from .errors import ConfigError, DataError
from .model import TICK, parse_period, period_label
from .storefile import StoredFile, is_number_type, is_time_type, open_parquet
from .times import NS_PER_DAY, UTC_OFFSET_NS, date_of_day_number

STAGING_DIR: Final = ".staging"
"""Where a transaction stages its files (``.staging/<id>/``), under the store's root."""
JOURNAL_DIR: Final = ".journal"
"""Where a commit lists its staged files (``.journal/<id>.json``), under the store's root."""
LOCK_FILE: Final = ".lock"
"""The file writers hold an OS file lock on, under the store's root."""
FAR_NS: Final = 2**62
"""Beyond any stored time (1823-11-12 … 2116-02-20 lie within ±FAR_NS): time bounds are
clipped to ±FAR_NS, and imported times must lie strictly within."""

KLINE_COLUMNS: Final = (
    "datetime", "open", "high", "low", "close", "volume", "amount", "open_oi", "close_oi",
)  # fmt: skip
TICK_LEVEL_COLUMNS: Final = tuple(
    f"{side}_{what}{level}"
    for level in range(2, 6)
    for side in ("bid", "ask")
    for what in ("price", "volume")
)
TICK_COLUMNS: Final = (
    "datetime", "last_price", "bid_price1", "bid_volume1", "ask_price1", "ask_volume1",
    "volume", "open_interest", "amount", "average", "highest", "lowest", "open",
    *TICK_LEVEL_COLUMNS, "upper_limit", "lower_limit", "pre_close", "pre_settlement",
    "pre_open_interest", "settlement",
)  # fmt: skip
"""Tick columns in canonical order (also the order of a quote's fields)."""
TIMESTAMP_TYPE: Final = pa.timestamp("ns", tz="+08:00")
"""Stored ``datetime`` type: Beijing time, a fixed UTC+8 (the engine's arithmetic; the
``Asia/Shanghai`` zone database would show 1986–1991 summer time)."""
_REQUIRED_TICK: Final = ("datetime", "last_price", "volume")
_REQUIRED_KLINE: Final = ("datetime", "open", "high", "low", "close", "volume")


def columns_for(duration_s: int) -> tuple[str, ...]:
    """The full column list of ticks (duration 0) or klines."""
    return TICK_COLUMNS if duration_s == TICK else KLINE_COLUMNS


def required_columns(duration_s: int) -> tuple[str, ...]:
    """The columns a file of ticks (duration 0) or klines must have."""
    return _REQUIRED_TICK if duration_s == TICK else _REQUIRED_KLINE


def open_market_file(path: Path, duration_s: int) -> StoredFile:
    """Open a kline or tick file and check its columns (cheap: from the footer only)."""
    parquet = open_parquet(path)
    problem = market_file_problem(parquet.schema, duration_s)
    if problem is not None:
        raise parquet.damaged(problem)
    return parquet


def market_file_problem(schema: pa.Schema, duration_s: int) -> str | None:
    """What is wrong with the columns of a kline or tick file (None: nothing): a required
    column missing, or a stored column of the wrong type. The store's readers and
    ``backtest data verify`` judge files by this one rule."""
    missing = [c for c in required_columns(duration_s) if c not in schema.names]
    if missing:
        return f"missing column(s) {', '.join(missing)}"
    for field in schema:
        if field.name == "datetime":
            wrong = not is_time_type(field.type)
        else:
            wrong = field.name in columns_for(duration_s) and not is_number_type(field.type)
        if wrong:
            return f"{field.name} holds {field.type} values"
    return None


def int_times(column: pa.Array[Any] | pa.ChunkedArray[Any]) -> np.ndarray[Any, Any]:
    """int64 ns since the epoch of a timestamp or int64 column.

    A timestamp without a time zone is Beijing time (as everywhere in backtest).

    Raises:
        DataError: the column holds neither timestamps nor integers.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not is_time_type(column.type):
        raise DataError(f"datetime must be a timestamp or int64 ns column, was {column.type}")
    naive = pa.types.is_timestamp(column.type) and column.type.tz is None
    if pa.types.is_timestamp(column.type):
        column = column.cast(pa.timestamp("ns")).view(pa.int64())
    times = column.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return times - UTC_OFFSET_NS if naive else times


# --- partition keys and file names ------------------------------------------------------------

_YEAR: Final = re.compile(r"[0-9]{4}")
_DATE: Final = re.compile(r"[0-9]{8}")


def partition_key(
    times: pa.Array[Any] | pa.ChunkedArray[Any], duration_s: int
) -> np.ndarray[Any, Any]:
    """Partition keys of stored times: Beijing day numbers (ticks) or years (klines)."""
    return partition_keys(int_times(times), duration_s)


def partition_keys(times: np.ndarray[Any, Any], duration_s: int) -> np.ndarray[Any, Any]:
    """Beijing day numbers (ticks) or years (klines) of int64 ns timestamps."""
    days = (times.astype(np.int64) + UTC_OFFSET_NS) // NS_PER_DAY
    if duration_s == TICK:
        return days
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def read_key(path: Path, duration_s: int) -> int:
    """The partition key a stored file's name stands for (see :func:`partition_key`); a name
    outside the layout raises DataError."""
    stem = path.stem
    if duration_s != TICK:
        if _YEAR.fullmatch(stem):
            return int(stem)
        layout = "klines are stored as <YYYY>.parquet, one file per Beijing year"
    else:
        if _DATE.fullmatch(stem) and path.parent.name == stem[:4]:
            with suppress(ValueError):  # not a calendar date (20200231)
                day = date(int(stem[:4]), int(stem[4:6]), int(stem[6:8]))
                return (day - date(1970, 1, 1)).days
        layout = "ticks are stored as <YYYY>/<YYYYMMDD>.parquet, one file per Beijing date"
    raise DataError(
        f"{path} is not named as the store's layout names files ({layout}); rename it after "
        f"the period it holds or move it out of the store"
    )


def check_duration(duration_s: object, argument: str = "duration_s") -> int:
    """The seconds of a store method's ``duration_s`` argument: whole seconds (0 for ticks, 60,
    86400, as tqsdk counts them) or a period label as ``backtest data --period`` takes it
    (``"tick"``, ``"1m"``, ``"5m"``, ``"1h"``, ``"1d"``).

    Raises:
        ConfigError: anything else, naming the ``argument`` and the value.
    """
    if isinstance(duration_s, numbers.Integral) and not isinstance(duration_s, bool):
        duration_s = int(duration_s)  # numpy integers too
        if duration_s == TICK:
            return TICK
    if isinstance(duration_s, int | str) and not isinstance(duration_s, bool):
        with suppress(ConfigError):
            return parse_period(duration_s)
    raise ConfigError(
        f"{argument} must be whole seconds (0 for ticks, 60 for 1-minute bars, up to 86400, then "
        f"whole days) or a period such as 'tick', '1m', '5m', '1h', '1d', was {duration_s!r}"
    )


def serial_files(root: Path, symbol: str, duration_s: int) -> list[Path]:
    """Every Parquet file in the directory of a serial of the store at ``root``, whatever its
    name (:func:`read_key` judges the names), sorted by path."""
    if duration_s == TICK:
        return sorted(tick_directory(root, symbol).glob("*/*.parquet"))
    return sorted(kline_directory(root, symbol, duration_s).glob("*.parquet"))


def tick_directory(root: Path, symbol: str) -> Path:
    """The directory of a symbol's ticks in the store at ``root``."""
    return root / "ticks" / symbol


def kline_directory(root: Path, symbol: str, duration_s: int) -> Path:
    """The directory of a symbol's klines of one period in the store at ``root``."""
    return root / "klines" / period_label(duration_s) / symbol


def path_for(root: Path, symbol: str, duration_s: int, key: int) -> Path:
    """The file of a serial that holds partition ``key`` (the inverse of :func:`read_key`)."""
    if duration_s == TICK:
        day = date_of_day_number(key)
        return tick_directory(root, symbol) / f"{day.year:04d}" / f"{day:%Y%m%d}.parquet"
    return kline_directory(root, symbol, duration_s) / f"{key:04d}.parquet"


# --- replacing files ----------------------------------------------------------------------------


def atomic_write(path: Path, write: Callable[[str], object]) -> None:
    """Write through ``write(temporary_path)``, then rename over ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; store files are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
