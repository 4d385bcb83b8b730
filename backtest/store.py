"""The local Parquet store of market data, instrument metadata and the trading calendar.

Layout of a store directory (``data/store`` in the repository is one)::

    store.json                              {"schema_version": 1}
    instruments.parquet                     one row per symbol; columns are Instrument fields
    calendar.parquet                        column trading_day (date32), every trading day
    dividends.parquet                       corporate actions: symbol, ex_date (date32), cash
                                            (CNY per share, before tax), share_ratio (bonus +
                                            transferred shares per share held)
    klines/<period>/<symbol>/<YYYY>.parquet  bars of one period, one file per Beijing year
    ticks/<symbol>/<YYYY>/<YYYYMMDD>.parquet ticks, one file per Beijing calendar date

``<period>`` is a label such as ``1m``, ``5m``, ``1h``, ``1d``; ``<symbol>`` is canonical
(``IF2003.IF``). Every market data file is sorted by ``datetime`` with no duplicates, so a
backtest opens only the files its time range touches and an incremental write rewrites only the
newest file.

Columns (missing optional columns read as NaN):

- klines: ``datetime`` (timestamp[ns, +08:00], the bar's **start**; daily bars: 00:00 of
  their trading day), ``open, high, low, close, volume, amount, open_oi, close_oi`` (float64).
  Stock volumes are in shares.
- ticks: ``datetime``, ``last_price, volume`` (cumulative) required; optional
  ``bid_price1..5, bid_volume1..5, ask_price1..5, ask_volume1..5``, ``open_interest``,
  ``amount`` (cumulative), ``average, highest, lowest, open``, ``upper_limit, lower_limit,
  pre_close, pre_settlement, pre_open_interest, settlement`` (float64).

Writes go to a temporary file in the same directory and are renamed over the target, so an
interrupted write leaves each file either as it was or complete. Market data writes are grouped
in transactions (:meth:`Store.transaction`): they are staged under ``.staging/``, listed in a
journal under ``.journal/`` and renamed into place together; a store opened after a crash
finishes or discards them. Every write, the replacement of a metadata file too, holds an OS file
lock on ``.lock`` (released when the process exits, even by a crash), so two imports into one
store run one after the other, and a download's metadata waits for an import to finish.

Every file the store reads is checked as far as is cheap: a file pyarrow cannot read, a market
data file without a required column (``datetime, open, high, low, close, volume`` for klines;
``datetime, last_price, volume`` for ticks), with a column of the wrong type or a name outside
the layout, rows whose ``datetime`` does not increase (checked per batch read, and across batch
and file boundaries), a metadata file without its key column, a damaged journal: each raises
:class:`~backtest.errors.DataError` naming the file and saying what to do. ``backtest data
verify`` checks every row of every file.

This module documents the layout above and holds :class:`Store` (metadata, what is stored,
reading) and the checks on what is read; the metadata files themselves (reading them, checking
rows before they are written) are in :mod:`backtest.storemeta`. The code that knows the
layout, which reading and writing share (the columns, the stored ``datetime`` type, the columns
a file must have, partition keys and file names, replacing a file atomically), is in
:mod:`backtest.storelayout`; the write path that :meth:`Store.write` and
:meth:`Store.transaction` delegate to (staging, the journal, recovery, merging rows into stored
files) is in :mod:`backtest.storewrite`; reading one file so that damage is named is in
:mod:`backtest.storefile`. Other modules import the public names of storelayout and storewrite
from here.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .calendar import TradingCalendar
from .errors import ApiUsageError, ConfigError, DataError, disk_full
from .model import TICK, normalize_symbol, parse_period, period_label
from .storefile import check_increasing, manifest_version
from .storelayout import (
    FAR_NS,
    JOURNAL_DIR,
    KLINE_COLUMNS,
    LOCK_FILE,
    STAGING_DIR,
    TICK_COLUMNS,
    TICK_LEVEL_COLUMNS,
    TIMESTAMP_TYPE,
    atomic_write,
    check_duration,
    columns_for,
    int_times,
    kline_directory,
    market_file_problem,
    open_market_file,
    partition_key,
    partition_keys,
    read_key,
    serial_files,
    tick_directory,
)
from .storemeta import (
    CALENDAR,
    DIVIDENDS,
    INSTRUMENTS,
    calendar_table,
    dividends_table,
    instruments_table,
    read_calendar,
    read_dividends,
    read_instruments,
)
from .storewrite import Transaction, not_writable, open_transaction, recover_if_idle, write_lock
from .times import BEIJING

# with the names of backtest.storelayout and backtest.storewrite that other modules import from
# here, where the layout they implement is documented
__all__ = [
    "FAR_NS",
    "IMPORT_HINT",
    "KLINE_COLUMNS",
    "LOCK_TIMEOUT_S",
    "SCHEMA_VERSION",
    "TICK_COLUMNS",
    "TICK_LEVEL_COLUMNS",
    "TIMESTAMP_TYPE",
    "OnMisnamed",
    "SerialInfo",
    "Store",
    "Transaction",
    "check_duration",
    "columns_for",
    "default_store_path",
    "int_times",
    "market_file_problem",
    "partition_key",
    "read_key",
    "serial_files",
]

LOCK_TIMEOUT_S: Final = 600.0
"""How long a writer waits for another process's write to the same store to finish."""
IMPORT_HINT: Final = "import it with `backtest data import` or point data= at a store that has it"
"""How to supply a symbol a store has no data for (the end of every such message)."""
SCHEMA_VERSION: Final = 1
"""Version of the layout above; a store written with a newer version is refused."""


OnMisnamed = Callable[[Path, DataError], object]
"""What :meth:`Store.symbols` and :meth:`Store.durations` call for a directory named outside the
layout: with its path and the error that names it and says what to do."""


def default_store_path() -> Path:
    """The sample store shipped with the package (``data/store`` in the repository)."""
    packaged = Path(__file__).with_name("_sample_store")
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "data" / "store"


class Store:
    """A Parquet store directory (see the module docstring for its layout).

    Args:
        root: the store directory.

    Raises:
        DataError: the directory does not exist, is not a store, or was written by a newer
            schema version; or it holds a write that an earlier process left unfinished and that
            cannot be completed now (the message names the path that failed and what to do).

    Methods taking a symbol accept every spelling the strategy API does (tqsdk's
    ``CFFEX.IF2003`` too) and store it under the canonical one (``IF2003.IF``). Methods taking
    a ``duration_s`` accept seconds as tqsdk counts them (0 for ticks, 60, 86400) or the period
    labels ``backtest data --period`` takes (``"tick"``, ``"1m"``, ``"5m"``, ``"1d"``); anything
    else raises :class:`~backtest.errors.ConfigError` naming ``duration_s``.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._writer: int | None = None  # the thread in a transaction() of this object
        manifest = self.root / "store.json"
        if not manifest.is_file():
            hint = (
                "create one with `backtest data import` or pass data= the directory that "
                "holds store.json"
            )
            if self.root.exists() and not self.root.is_dir():
                raise DataError(f"data store {self.root} is a file, not a directory; {hint}")
            if not self.root.is_dir():
                raise DataError(f"data store {self.root} does not exist; {hint}")
            if manifest.exists():
                raise DataError(
                    f"{self.root} is not a data store: {manifest} is a directory, not the "
                    f"store's manifest (a file); move it out of the way, or pass data= the "
                    f"directory that holds the store's store.json"
                )
            raise DataError(f"{self.root} is not a data store (no store.json); {hint}")
        version = manifest_version(manifest, SCHEMA_VERSION)
        if version > SCHEMA_VERSION:
            raise DataError(
                f"data store {self.root} has schema version {version}, newer than the "
                f"{SCHEMA_VERSION} this version of backtest reads; upgrade backtest"
            )
        if (self.root / JOURNAL_DIR).is_dir() or (self.root / STAGING_DIR).is_dir():
            recover_if_idle(self.root)  # left by a writer that died

    @classmethod
    def create(cls, root: str | os.PathLike[str]) -> Store:
        """Open the store at ``root``, creating an empty one if there is none (the directory,
        and those above it, are made as needed).

        Raises:
            DataError: ``root`` cannot hold a store: it or a directory above it is a file, its
                ``store.json`` is a directory, or it cannot be written (read-only, not yours).
                The message names the path and what to do; nothing is left behind.
        """
        path = Path(root)
        manifest = path / "store.json"
        if manifest.is_dir():
            raise DataError(
                f"cannot create a data store at {path}: {manifest} is a directory, where the "
                f"store's manifest (a file) must go; move it out of the way or pass another "
                f"directory"
            )
        if not manifest.exists():
            made = _first_missing(path)
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                if path.exists():
                    what = "is a file"
                elif path.is_symlink():
                    what = f"is a symbolic link to {os.readlink(path)}, which does not exist"
                else:
                    what = f"cannot be made ({exc.strerror})"
                raise DataError(
                    f"cannot create a data store at {path}: it {what}; pass a directory that "
                    "is new or holds store.json"
                ) from None
            text = json.dumps({"schema_version": SCHEMA_VERSION}) + "\n"
            try:
                atomic_write(manifest, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
            except OSError as exc:
                if made is not None:
                    _remove_empty_directories(path, made)
                fix = "free space on its disk" if disk_full(exc) else f"make {path} writable by you"
                raise DataError(
                    f"cannot create a data store at {path}: cannot write {manifest} "
                    f"({exc.strerror}); {fix} or pass another directory"
                ) from None
        return cls(path)

    @classmethod
    @contextmanager
    def creating(cls, root: str | os.PathLike[str]) -> Iterator[Store]:
        """:meth:`create` for a write that may fail before it writes anything: if the store is
        new and the ``with`` block raises while the store still holds nothing, the store is
        removed again (``store.json``, and the directories made for it), so a refused download
        leaves no empty store behind. A store that existed, that the block wrote into, or that
        another process is writing, is kept::

            with Store.creating("data/mystore") as store:
                download(store, ["000001.SZ"], "1d", "20240101").raise_for_failures()

        Raises:
            DataError: as :meth:`create`.
        """
        path = Path(root)
        new = not (path / "store.json").exists()
        made = _first_missing(path)
        store = cls.create(path)
        try:
            yield store
        except BaseException:
            if new and _discard_if_empty(path) and made is not None:
                _remove_empty_directories(path, made)
            raise

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    def fingerprint(self) -> str:
        """A SHA-256 identifying the store's content, quick even for large stores.

        It covers the metadata files' bytes and every market data file's path and size: adding,
        removing or rewriting data with a different size changes it; an edit that keeps a
        file's size exactly does not (that would need reading every byte).
        """
        digest = hashlib.sha256()
        for name in ("store.json", "instruments.parquet", "calendar.parquet", "dividends.parquet"):
            path = self.root / name
            digest.update(name.encode() + b"\0")
            digest.update(path.read_bytes() if path.is_file() else b"-")
        for kind in ("klines", "ticks"):
            for path in sorted((self.root / kind).rglob("*.parquet")):
                relative = path.relative_to(self.root).as_posix()
                digest.update(f"{relative}\0{path.stat().st_size}\n".encode())
        return digest.hexdigest()

    # --- metadata ------------------------------------------------------------------------

    def instruments(self) -> dict[str, dict[str, Any]]:
        """Instrument rows by canonical symbol (empty if the store has no
        ``instruments.parquet``).

        Raises:
            DataError: the file is damaged, has no ``symbol`` column, or a row's symbol is
                empty, not understood or a second spelling of an earlier row's.
        """
        return read_instruments(self.root / INSTRUMENTS)

    def calendar(self) -> TradingCalendar | None:
        """The stored trading calendar, or None if the store has none.

        Raises:
            DataError: the file is damaged, has no ``trading_day`` column, or holds something
                other than dates in it.
        """
        return read_calendar(self.root / CALENDAR)

    def dividends(self) -> dict[str, list[tuple[date, float, float]]]:
        """Corporate actions by canonical symbol: (ex_date, cash per share, share ratio), by
        date.

        Empty if the store has no ``dividends.parquet``.

        Raises:
            DataError: the file is damaged, lacks a column, or holds an invalid row.
        """
        return read_dividends(self.root / DIVIDENDS)

    def write_dividends(self, rows: Iterable[tuple[str, date, float, float]]) -> None:
        """Replace ``dividends.parquet`` with these corporate actions, one (symbol, ex_date,
        cash, share_ratio) tuple each, in any order: ``("600000.SH", date(2020, 6, 9), 0.76,
        0.0)``.

        ``symbol`` is a stock or fund in any spelling (stored under the canonical one);
        ``ex_date`` a ``datetime.date``; ``cash`` the dividend in CNY per share before tax and
        ``share_ratio`` the bonus and transferred shares per share held, numbers from 0 up (0
        for none). A backtest applies each row on its ex-date, so a symbol has one row per
        ex-date, holding both its cash and its shares.

        Like the other metadata writes it holds the store's write lock (waiting for an import
        to finish) and replaces the file atomically.

        Raises:
            ConfigError: a row is not such a tuple; its symbol is not understood or is a
                futures contract; its ex_date is not a date (text, a ``datetime``); its cash or
                share_ratio is not a finite number from 0 up (None, NaN, text, -0.1); or two
                rows give the same symbol and ex-date (in two spellings, say). The message names
                the row's position, the field and the value; nothing is written.
            DataError: another process kept the store's write lock longer than
                :data:`LOCK_TIMEOUT_S`, or the store is not writable (nothing is changed).
        """
        self._write_table(DIVIDENDS, dividends_table(rows))

    def write_instruments(self, rows: Mapping[str, Mapping[str, Any]]) -> None:
        """Replace ``instruments.parquet`` with these rows (symbol → fields), sorted by symbol.

        The fields are the :class:`~backtest.instrument.Instrument` fields (``price_tick``,
        ``volume_multiple``, ``sessions``, ``product_class``, ``margin_ratio_long`` …), e.g.
        ``{"IF2003.IF": {"price_tick": 0.2, "volume_multiple": 300.0}}``. Each value is checked
        as an ``instruments=`` override is, so a row that reading would refuse is refused here;
        None (or NaN, ``pd.NA``, ``pd.NaT``) leaves a field to the built-in defaults. Each
        field is stored in one type: numbers as floats, ``is_st`` as a bool, dates as ISO text
        (a ``datetime`` at midnight as its day), the rest as text; an ``exchange`` the symbol
        gives is left out.

        Raises:
            DataError: two keys are spellings of the same symbol (``IF2003.IF`` and
                ``CFFEX.IF2003``); another process kept the store's write lock longer than
                :data:`LOCK_TIMEOUT_S`, or the store is not writable (nothing is changed).
            ConfigError: a row is not a mapping, names an unknown field, holds a value the
                field does not take (a ``price_tick`` of -1, a ``name`` that is not text, a
                ``list_date`` with a time of day) or an ``exchange`` the symbol contradicts:
                the message names the symbol, the field and the value.
        """
        self._write_table(INSTRUMENTS, instruments_table(rows))

    def write_calendar(self, days: Iterable[date]) -> None:
        """Replace ``calendar.parquet`` with these trading days, ``datetime.date`` values in any
        order (``date(2020, 1, 2)``; ``date.fromisoformat`` converts ISO text, ``.date()`` a
        ``datetime`` or pandas ``Timestamp``).

        The calendar is every trading day of the store's data: imports refuse bars on other
        days, and a backtest trades only on these days.

        Raises:
            ConfigError: a value is not a date (text, a ``datetime``, whose time of day a
                calendar of days cannot hold), or there are none: an empty calendar would refuse
                all data (to use exchange_calendars' trading days, write no calendar).
            DataError: another process kept the store's write lock longer than
                :data:`LOCK_TIMEOUT_S`, or the store is not writable (nothing is changed).
        """
        self._write_table(CALENDAR, calendar_table(days))

    # --- what is stored ------------------------------------------------------------------

    def symbols(self, on_misnamed: OnMisnamed | None = None) -> list[str]:
        """Every symbol with stored klines or ticks.

        Args:
            on_misnamed: called with the path and the error of each serial directory named
                outside the layout, which is then left out (as ``os.walk``'s ``onerror``: so
                ``backtest data ls`` lists the rest); None raises the error.

        Raises:
            DataError: a serial's directory is not named by a canonical symbol (data written
                under ``SHFE.rb2005`` by an older version): the message says what to rename.
        """
        directories = [p for p in (self.root / "ticks").glob("*") if p.is_dir()]
        directories += [p for p in (self.root / "klines").glob("*/*") if p.is_dir()]
        found = set()
        for directory in sorted(directories):
            try:
                _check_symbol_directory(directory)
            except DataError as exc:
                if on_misnamed is None:
                    raise
                on_misnamed(directory, exc)
            else:
                found.add(directory.name)
        return sorted(found)

    def durations(self, symbol: str, on_misnamed: OnMisnamed | None = None) -> list[int]:
        """Stored durations of a symbol in seconds (0 = ticks), ascending.

        Args:
            on_misnamed: called with the path and the error of each ``klines/`` directory
                holding the symbol that is not named by a period label, which is then left out
                (as in :meth:`symbols`); None raises the error.

        Raises:
            DataError: a ``klines/`` directory holding the symbol is not named by a period
                label (``klines/1min``, ``klines/60s``).
        """
        symbol = normalize_symbol(symbol)
        found = [TICK] if any(tick_directory(self.root, symbol).glob("*/*.parquet")) else []
        for directory in sorted((self.root / "klines").glob(f"*/{symbol}")):
            if any(directory.glob("*.parquet")):
                try:
                    found.append(_period_of(directory.parent))
                except DataError as exc:
                    if on_misnamed is None:
                        raise
                    on_misnamed(directory.parent, exc)
        return sorted(found)

    def has(self, symbol: str, duration_s: int | str) -> bool:
        """True if the store holds data of this symbol and duration.

        Raises:
            DataError: a file of the serial is named outside the layout (``latest.parquet``).
        """
        symbol = normalize_symbol(symbol)
        return bool(self._files(symbol, check_duration(duration_s)))

    def info(self, symbol: str, duration_s: int | str) -> SerialInfo:
        """Rows, time range, files and size of one stored serial (from the Parquet footers
        and the first and last files only: quick even for years of ticks).

        Raises:
            DataError: nothing of this symbol and duration is stored, or a file is damaged.
        """
        symbol = normalize_symbol(symbol)
        duration_s = check_duration(duration_s)
        files = self._files(symbol, duration_s)
        if not files:
            self._missing(symbol, duration_s)
        rows = sum(open_market_file(path, duration_s).num_rows for path in files)
        first, last = (_stored_times(path, duration_s) for path in (files[0], files[-1]))
        return SerialInfo(
            symbol=symbol,
            duration_s=duration_s,
            rows=rows,
            first_ns=int(first[0]) if len(first) else 0,
            last_ns=int(last[-1]) if len(last) else 0,
            files=len(files),
            bytes=sum(path.stat().st_size for path in files),
            columns=self.available_columns(symbol, duration_s),
        )

    def catalog(self) -> pd.DataFrame:
        """What is stored, one row per (symbol, period): ``symbol``, ``period`` (``"1m"``,
        ``"tick"`` …), ``rows``, ``first`` and ``last`` (Beijing time), ``files``, ``bytes``.

        The same as ``backtest data ls``, as a DataFrame (it displays as a table in notebooks).
        """
        infos = [self.info(s, d) for s in self.symbols() for d in self.durations(s)]
        frame = pd.DataFrame(
            {
                "symbol": [i.symbol for i in infos],
                "period": [period_label(i.duration_s) for i in infos],
                "rows": [i.rows for i in infos],
                "first": pd.to_datetime([i.first_ns for i in infos], unit="ns", utc=True),
                "last": pd.to_datetime([i.last_ns for i in infos], unit="ns", utc=True),
                "files": [i.files for i in infos],
                "bytes": [i.bytes for i in infos],
            }
        )
        for column in ("first", "last"):
            frame[column] = frame[column].dt.tz_convert(BEIJING)
        return frame.astype({"rows": "int64", "files": "int64", "bytes": "int64"})

    def remove(self, symbol: str, duration_s: int | str | None = None) -> int:
        """Delete the stored data of ``symbol`` (one duration, or all of them).

        Instrument rows, the calendar and dividends stay. Holds the write lock; each serial's
        directory is moved out of the store in one rename before it is deleted, so a crash
        cannot leave a serial half-deleted. Returns the number of files deleted.

        Raises:
            DataError: nothing of this symbol (and duration) is stored, or the store is not
                writable (nothing is deleted then).
        """
        symbol = normalize_symbol(symbol)
        durations = self.durations(symbol) if duration_s is None else [check_duration(duration_s)]
        if not durations or not all(serial_files(self.root, symbol, d) for d in durations):
            self._missing(symbol, durations[0] if duration_s is not None else TICK)
        removed = 0
        with self.transaction() as transaction:
            moved: list[tuple[Path, Path]] = []  # (trash, directory): put back if a move fails
            try:
                for duration in durations:
                    directory = (
                        tick_directory(self.root, symbol)
                        if duration == TICK
                        else kline_directory(self.root, symbol, duration)
                    )
                    removed += len(serial_files(self.root, symbol, duration))
                    trash = transaction.stage / "removed" / directory.relative_to(self.root)
                    trash.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(directory, trash)
                    moved.append((trash, directory))
                    with suppress(OSError):  # the period's directory, if now empty
                        directory.parent.rmdir()
            except OSError as exc:
                for trash, directory in reversed(moved):
                    directory.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(trash, directory)
                raise not_writable(self.root, exc) from None
        return removed

    # --- reading -------------------------------------------------------------------------

    def available_columns(self, symbol: str, duration_s: int | str) -> tuple[str, ...]:
        """Columns present in the newest stored file of a serial, in the canonical order.

        Raises:
            DataError: nothing of this symbol and duration is stored, or that file is damaged.
        """
        symbol = normalize_symbol(symbol)
        duration_s = check_duration(duration_s)
        files = self._files(symbol, duration_s)
        if not files:
            self._missing(symbol, duration_s)
        present = set(open_market_file(files[-1], duration_s).names)
        return tuple(c for c in columns_for(duration_s) if c in present)

    def scan(
        self,
        symbol: str,
        duration_s: int | str,
        start_ns: int,
        end_ns: int,
        columns: Sequence[str],
        batch_rows: int = 65_536,
    ) -> Iterator[pa.RecordBatch]:
        """Record batches of rows with ``start_ns <= datetime <= end_ns``, ascending.

        ``datetime`` comes back first, as int64 ns, followed by ``columns`` (which must all be
        stored, see :meth:`available_columns`).

        Raises:
            DataError: nothing of this symbol and duration is stored, or a file read is
                damaged: unreadable, without a required column, or with a ``datetime`` that
                does not increase (within each batch read, and from one batch or file to the
                next).
        """
        symbol = normalize_symbol(symbol)
        duration_s = check_duration(duration_s)
        columns = _with_datetime_first(columns)
        last: tuple[Path, int] | None = None  # the file and datetime of the last row read
        for path in self._files_between(symbol, duration_s, start_ns, end_ns):
            parquet = open_market_file(path, duration_s)
            stored = [c for c in columns if c in parquet.names]
            row = 0
            for batch in parquet.batches(batch_rows, stored):
                times = int_times(batch.column(0))
                check_increasing(path, times, row, last)
                if len(times):
                    row += len(times)
                    last = (path, int(times[-1]))
                lo = int(np.searchsorted(times, start_ns, "left"))
                hi = int(np.searchsorted(times, end_ns, "right"))
                if hi > lo:
                    piece = _complete(batch.slice(lo, hi - lo), columns)
                    yield piece.set_column(0, "datetime", pa.array(times[lo:hi]))
                if hi < len(times):
                    return

    def tail(
        self, symbol: str, duration_s: int | str, upto_ns: int, count: int, columns: Sequence[str]
    ) -> pa.Table:
        """The last ``count`` rows with ``datetime <= upto_ns``, ascending.

        ``datetime`` comes first, as int64 ns, followed by ``columns``.

        Raises:
            DataError: as :meth:`scan` (each file read is checked whole).
        """
        symbol = normalize_symbol(symbol)
        duration_s = check_duration(duration_s)
        columns = _with_datetime_first(columns)
        pieces: list[pa.Table] = []
        needed = count
        later: tuple[Path, int] | None = None  # the file read before (later in time), first row
        for path in reversed(self._files_between(symbol, duration_s, None, upto_ns)):
            if needed <= 0:
                break
            parquet = open_market_file(path, duration_s)
            stored = [c for c in columns if c in parquet.names]
            table = _complete(parquet.read(stored), columns)
            times = int_times(table.column(0))
            check_increasing(path, times, 0, None)
            if len(times):
                if later is not None:  # the later file must start after this one ends
                    check_increasing(later[0], np.array([later[1]]), 0, (path, int(times[-1])))
                later = (path, int(times[0]))
            hi = int(np.searchsorted(times, upto_ns, "right"))
            lo = max(0, hi - needed)
            if hi > lo:
                piece = table.slice(lo, hi - lo)
                pieces.append(piece.set_column(0, "datetime", pa.array(times[lo:hi])))
                needed -= hi - lo
        if not pieces:
            return _empty(columns)
        return pa.concat_tables(reversed(pieces))

    # --- writing -------------------------------------------------------------------------

    def write(self, symbol: str, duration_s: int | str, table: pa.Table) -> None:
        """Merge rows into the store: new rows replace stored rows with the same datetime.

        ``table`` needs a ``datetime`` column (timestamp or int64 ns) and the required price
        columns; it is split into the layout's files, each merged with what is stored. All the
        files land together or none does (see :meth:`transaction`).

        A replaced row keeps the stored values of the optional columns ``table`` lacks: bars
        re-imported from a source without ``open_oi``/``close_oi`` keep the open interest
        stored before, and new rows read those columns as NaN. A column ``table`` has replaces
        the stored values, NaN included.

        Raises:
            DataError: ``table`` lacks a required column, has an unknown one, or its
                ``datetime`` does not increase strictly; or a stored file it merges into is
                damaged (the store is then left as it was); or the store is not writable.
        """
        with self.transaction() as transaction:
            transaction.write(symbol, duration_s, table)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Group writes so that they all land, or none does.

        Inside the ``with`` block, :meth:`Transaction.write` stages new versions of the files
        under ``.staging/``. On leaving the block without an exception a journal listing them is
        written, then each is renamed over its target, then the journal is deleted. If the
        process dies while renaming, the next :class:`Store` opening this directory completes
        the renames from the journal; if it dies before the journal exists, the staged files are
        discarded. Either way the store holds all of the write or none of it.

        Transactions hold the store's write lock from start to end: a second process writing to
        the same store waits for the first (up to :data:`LOCK_TIMEOUT_S`), and so do its
        metadata writes (:meth:`write_calendar` …). Readers are not blocked; a backtest reading
        while a transaction commits sees each file either old or new. Inside the block, this
        Store's metadata writes go ahead (each replaces its file at once, not at the commit),
        and so do its reads, which see the store without the staged files.

        Raises:
            DataError: another process kept the store locked longer than the timeout; the store
                is not writable (its lock file or staging directory cannot be written: nothing
                is changed); or a file could not be renamed into place (the write is journalled
                and the message says how to complete or abandon it).
            ApiUsageError: the thread is inside a transaction of this Store already (directly,
                or through :meth:`write` or :meth:`remove`): stage the rows with
                ``transaction.write`` instead.
        """
        if self._writer == threading.get_ident():
            raise ApiUsageError(
                f"a transaction of data store {self.root} is open in this thread already, and "
                f"a store has one writer at a time: inside `with store.transaction() as "
                f"transaction:` stage rows with transaction.write(...) (not store.write or "
                f"store.remove), or write after the block"
            )
        with open_transaction(self.root, LOCK_TIMEOUT_S) as transaction:
            self._writer = threading.get_ident()
            try:
                yield transaction
            finally:
                self._writer = None

    def _write_table(self, name: str, table: pa.Table) -> None:
        """Replace the metadata file ``name`` atomically, holding the write lock (which a
        transaction of this Store in this thread holds already)."""
        held = self._writer == threading.get_ident()
        lock: AbstractContextManager[None] = (
            nullcontext() if held else write_lock(self.root, LOCK_TIMEOUT_S)
        )
        with lock:
            try:
                atomic_write(
                    self.root / name,
                    lambda tmp: pq.write_table(table, tmp, compression="zstd"),
                )
            except OSError as exc:
                raise not_writable(self.root, exc) from None

    # --- layout --------------------------------------------------------------------------

    def files(self, symbol: str, duration_s: int | str) -> list[Path]:
        """The stored files of a serial, in time order (empty if none).

        Raises:
            DataError: a file is named outside the layout (``latest.parquet``, ``2019b.parquet``):
                the message names it.
        """
        symbol = normalize_symbol(symbol)
        return self._files(symbol, check_duration(duration_s))

    def _files(self, symbol: str, duration_s: int) -> list[Path]:
        return [path for _, path in self._keyed_files(symbol, duration_s)]

    def _keyed_files(self, symbol: str, duration_s: int) -> list[tuple[int, Path]]:
        """(partition key, path) of a serial's files in time order; a file named outside the
        layout raises DataError."""
        paths = serial_files(self.root, symbol, duration_s)
        return sorted((read_key(path, duration_s), path) for path in paths)

    def _files_between(
        self, symbol: str, duration_s: int, start_ns: int | None, end_ns: int
    ) -> list[Path]:
        """Stored files that may hold rows in [start_ns, end_ns]."""
        files = self._keyed_files(symbol, duration_s)
        if not files:
            self._missing(symbol, duration_s)
        # keep the key arithmetic inside int64 (callers may pass ±(2**63 - 1) for "no bound")
        start_ns = None if start_ns is None else max(start_ns, -FAR_NS)
        end_ns = min(end_ns, FAR_NS)
        lo_key = None if start_ns is None else partition_keys(np.array([start_ns]), duration_s)[0]
        hi_key = partition_keys(np.array([end_ns]), duration_s)[0]
        return [path for key, path in files if (lo_key is None or key >= lo_key) and key <= hi_key]

    def _missing(self, symbol: str, duration_s: int) -> None:
        stored = self.durations(symbol)
        what = "ticks" if duration_s == TICK else f"{period_label(duration_s)} klines"
        if stored:
            have = ", ".join(period_label(d) for d in stored)
            raise DataError(f"data store {self.root} has no {what} for {symbol} (it has: {have})")
        raise DataError(f"data store {self.root} has no data for {symbol}; {IMPORT_HINT}")


@dataclass(frozen=True)
class SerialInfo:
    """What :meth:`Store.info` reports about one stored serial."""

    symbol: str
    duration_s: int
    rows: int
    first_ns: int
    """``datetime`` of the first row (int ns)."""
    last_ns: int
    """``datetime`` of the last row (int ns)."""
    files: int
    bytes: int
    columns: tuple[str, ...]


def _complete(batch: Any, columns: Sequence[str]) -> Any:
    """``batch`` (a RecordBatch or Table) with ``columns`` in order; absent ones are NaN."""
    names = batch.schema.names
    if list(names) == list(columns):
        return batch
    arrays = [
        batch.column(names.index(c)) if c in names else pa.array(np.full(batch.num_rows, np.nan))
        for c in columns
    ]
    kind = pa.RecordBatch if isinstance(batch, pa.RecordBatch) else pa.Table
    return kind.from_arrays(arrays, names=list(columns))


def _with_datetime_first(columns: Sequence[str]) -> list[str]:
    return ["datetime", *(c for c in columns if c != "datetime")]


def _check_symbol_directory(directory: Path) -> None:
    """Raise DataError unless a serial's directory is named by a canonical symbol."""
    try:
        canonical = normalize_symbol(directory.name)
    except ConfigError:
        canonical = None
    if canonical != directory.name:
        rename = f"rename it to {canonical!r}" if canonical else "rename it after its symbol"
        raise DataError(
            f"{directory} is not named as the store's layout names serial directories (by the "
            f"canonical symbol, such as 'IF2003.IF' or 'rb2405.SF'); {rename} or move it out of "
            f"the store"
        )


def _period_of(directory: Path) -> int:
    """The duration of a ``klines/<period>`` directory; a name that is not a period label
    (``1m``, ``5m``, ``1d`` …) raises DataError."""
    try:
        duration_s = parse_period(directory.name)
    except ConfigError:
        duration_s = TICK
    if duration_s != TICK and period_label(duration_s) == directory.name:
        return duration_s
    rename = f"to {period_label(duration_s)!r}" if duration_s != TICK else "after its period"
    raise DataError(
        f"{directory} is not named as the store's layout names kline directories (by period, "
        f"such as '1m', '5m', '1h' or '1d'); rename it {rename} or move it out of the store"
    )


def _empty(columns: Sequence[str]) -> pa.Table:
    fields = [pa.field(c, pa.int64() if c == "datetime" else pa.float64()) for c in columns]
    return pa.schema(fields).empty_table()


# --- reading stored files, and checking what is read -----------------------------------------


def _stored_times(path: Path, duration_s: int) -> np.ndarray[Any, Any]:
    """The ``datetime`` column of a kline or tick file, checked to increase."""
    times = int_times(open_market_file(path, duration_s).read(["datetime"]).column(0))
    check_increasing(path, times, 0, None)
    return times


_EMPTY_STORE: Final = ("store.json", LOCK_FILE)
"""What a store that holds nothing holds."""


def _discard_if_empty(root: Path) -> bool:
    """Delete the files of the store at ``root`` if it holds nothing and no other process is
    writing it; True if it did."""
    try:
        with write_lock(root, 0):
            if not set(os.listdir(root)) <= set(_EMPTY_STORE):
                return False
            for name in _EMPTY_STORE:
                (root / name).unlink(missing_ok=True)
    except (DataError, OSError):  # being written, or not ours to delete
        return False
    return True


def _first_missing(path: Path) -> Path | None:
    """The highest of ``path`` and the directories above it that does not exist (where
    ``mkdir(parents=True)`` starts making them); None if ``path`` exists."""
    missing = None
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            break
        missing = candidate
    return missing


def _remove_empty_directories(path: Path, upto: Path) -> None:
    """Remove ``path`` and the directories above it, up to ``upto``, while they are empty."""
    for directory in (path, *path.parents):
        try:
            directory.rmdir()
        except OSError:
            return
        if directory == upto:
            return
