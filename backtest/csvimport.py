"""CSV import into the store, with presets for the formats Chinese quants have.

``import_csv(store, paths, symbol, period, format=...)`` reads CSV files (plain, ``.gz``,
``.xz`` or ``.bz2``), maps their columns onto the store's, converts times and units, checks the
rows (:mod:`backtest.validate`) and writes everything in one store transaction: a refused or
interrupted import leaves the store as it was.

Presets (``format=``):

- ``tqsdk``: tqsdk's kline/tick CSVs; columns already use the store's names (``datetime``,
  ``open`` … ``close_oi``, ``last_price``, ``bid_price1`` …); bars labelled by their start.
- ``xtquant``: ``get_market_data_ex`` frames saved with ``to_csv``: ``time`` in ms since the
  epoch, xtquant's field names (``openInterest``, ``lastPrice``, ``askPrice`` as a
  ``[p1, …, p5]`` list …); intraday bars labelled by their end; stock volumes in lots.
- ``wondertrader-tick``: WonderTrader tick CSVs (``price``, ``total_volume``,
  ``bid_qty1`` …); zero settlement means "not yet known".
- ``wondertrader-bar``: WonderTrader bar CSVs (``datetime`` labelled by the bar's end,
  volume in shares).
- ``hikyuu``: hikyuu daily CSVs (``date``, ``symbol`` like ``SH.600000``, volume in lots for
  stocks).
- ``tdx``: TongDaXin daily CSVs with a ``volume_unit`` column (``lots``/``shares`` per row).
- ``generic``: any CSV, with ``columns={"datetime": "Date", "close": "Close", …}``.

Options: ``tz`` (the time zone of the file's clock, default Asia/Shanghai; times written with
an offset, such as ``2020-01-02T01:30:00Z``, keep it, and a file must write every time with an
offset or none), ``label`` (``"start"``/``"end"``: what a bar's time marks), ``volume_unit``
(``"shares"``/``"lots"``: the unit of stock and fund volumes; lots of 100 are converted to
shares, also when a ``volume_unit`` column gives them per row; other instruments' volumes are
stored as the file has them, a futures lot, 手, being one contract, and ``"lots"`` given for
one of them is not applied, with a warning), ``decimals`` (0 to 15: round prices, e.g. 2 to
remove a decoder's binary noise or a source's truncation), ``columns`` (store column → source
column, overriding a preset's; ``datetime`` names the time column), ``encoding`` (of the file's
text, default ``utf-8``; Chinese Windows tools often write ``gbk``), ``delimiter`` (the one
character between fields, default ``","``; ``";"``, ``"|"``, a tab as ``"\\t"`` or
``"tab"``), ``time_format`` (a strftime format such as ``"%d/%m/%Y %H:%M"``, overriding the
preset's: without one, times must start with a four-digit year, as ISO text and ``20200102``
do, because in ``06/01/2020`` the day cannot be told from the month).

Messages give row numbers of the file (1 = the first data row; blank lines are not counted).
A time in a message is the file's text when the file's clock is not the Beijing start of the
bar (another ``tz``, a UTC offset, bars labelled by their end), followed by the Beijing start
it was read as; otherwise (and for xtquant's ms since the epoch) the Beijing start.
A file that cannot be read as a whole (damaged compression, text not in ``encoding``, a row with
more or fewer fields than the header, an unparseable number or time, a time outside the years
1824 to 2115 the store holds, no data rows) is refused with a :class:`~backtest.errors.DataError`
whatever the policy. Rows the import cannot use are problems like those of
:mod:`backtest.validate` (refused by default, dropped and counted by skip and repair):

- ``symbol``: in a file holding several symbols (filtered on its symbol column, any spelling of
  the symbol), a symbol cell that names no symbol: the row might be the symbol's. A cell names
  no symbol when, stripped, it is empty, not printable, a placeholder (``N/A``, ``NA``,
  ``NaN``, ``None``, ``null``, ``-``, ``--``, ``#N/A``, ``#REF!``, ``#VALUE!``, ``#NAME?``,
  ``?``, any case) or a plain number (``12.5``, ``42``; six digits or more are a bare code,
  ``600000``). Any other cell names some symbol: the rows are the symbol's when
  :meth:`~backtest.model.Symbol.parse` reads it as the symbol (or it is the bare code,
  ``IF2003``), else another symbol's (``IF2005``, ``600000.XSHG``, continuous contracts such as
  ``KQ.m@CFFEX.IF``, ``IFL8``, ``SHFE.rb.HOT+``). Rows of other symbols are left out and
  counted in the report (``150 of 300 rows kept (150 rows of other symbols)``).
- ``unit``: a ``volume_unit`` cell other than ``lots``/``手`` or ``shares``/``股`` (any case).
- ``auction`` (``xtquant`` intraday bars of SSE, SZSE, BSE and CFFEX): bars starting from 09:15
  to before 09:30 (the opening auction) are folded into the first bar from 09:30 of the same day,
  as :mod:`backtest.xtquant` does (its open, the highest high, the lowest low, volumes and
  amounts added), and counted in the report; an earlier bar, an auction bar without a later bar
  that day, or any bar before 09:30 in a file not in time order is a problem.

A symbol without instrument terms (no default terms for its product, no row in the store's
``instruments.parquet``) is imported with a warning: nothing says when it trades, so its
intraday bars are not checked against trading sessions (bars outside them, overlapping bars)
nor its ticks' books for crossing, and a backtest needs its terms (``Backtest(instruments=…)``).
Once the store has its terms, ``backtest data verify SYMBOL`` runs the checks.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from .calendar import TradingCalendar
from .csvread import file_bytes, read_columns
from .csvtimes import parse_times, zone
from .errors import ConfigError, DataError, UnknownInstrumentError
from .instrument import InstrumentTable
from .model import (
    DAY,
    TICK,
    ProductClass,
    Symbol,
    normalize_symbol,
    parse_period,
    period_label,
)
from .store import KLINE_COLUMNS, TICK_COLUMNS, TICK_LEVEL_COLUMNS, Store, int_times
from .times import NS_PER_DAY, NS_PER_SECOND, UTC_OFFSET_NS, format_ns
from .validate import Policy, Problem, Report, apply_policy, as_written
from .xtquant import AUCTION_EXCHANGES, auction_bars, fold_bars, plan_auction_fold

_AUCTION_START_NS: Final = (9 * 3600 + 15 * 60) * NS_PER_SECOND
_PRICE_COLUMNS: Final = ("open", "high", "low", "close")
_OTHER_PRICES: Final = frozenset(
    {"highest", "lowest", "upper_limit", "lower_limit", "pre_close", "pre_settlement",
     "settlement", *_PRICE_COLUMNS}
)  # fmt: skip


_A_CLASS: Final = {
    ProductClass.FUTURE: "a future", ProductClass.INDEX: "an index",
    ProductClass.OPTION: "an option", ProductClass.STOCK: "a stock", ProductClass.FUND: "a fund",
}  # fmt: skip
_UNITS: Final = {"lots": True, "手": True, "shares": False, "股": False}
"""``volume_unit`` cells (trimmed, lower case) → whether the row's volume is in lots."""


@dataclass(frozen=True)
class Preset:
    """How to read one CSV format.

    Attributes:
        columns: store column → source column.
        time: the source time column(s): one column, or ``("date", "time")``.
        time_format: how it is written: ``"iso"`` (anything pandas parses), ``"ms"`` (ms since
            the epoch, UTC), ``"date"`` (a day: daily bars) or a strptime format.
        label: ``"start"`` or ``"end"``: what a bar's time marks.
        volume_unit: ``"shares"`` or ``"lots"`` (stock volumes in lots of 100).
        symbol_column: a column naming each row's symbol, to filter a multi-symbol file.
        zero_is_missing: columns where 0 means "no value" (empty book levels, settlement).
        round_prices: decimals to round prices to (removes binary noise of decoders).
        lists: source columns holding ``[v1, …, v5]`` lists → store columns prefix, e.g.
            ``{"askPrice": "ask_price"}`` gives ``ask_price1`` … ``ask_price5``.
        volume_unit_column: a column saying, per row, ``lots`` or ``shares``.
        futures_open_interest: open-interest columns only for futures (xtquant's ``openInt``
            is a stock's trading status).
        fold_auction: fold intraday bars starting from 09:15 to before 09:30 (the opening
            auction) into the first bar from 09:30 of the same day on SSE, SZSE, BSE and
            CFFEX, as :mod:`backtest.xtquant` does (see the module docstring).
    """

    columns: Mapping[str, str]
    time: tuple[str, ...] = ("datetime",)
    time_format: str = "iso"
    label: str = "start"
    volume_unit: str = "shares"
    symbol_column: str | None = None
    zero_is_missing: tuple[str, ...] = ()
    round_prices: int | None = None
    lists: Mapping[str, str] = field(default_factory=dict)
    volume_unit_column: str | None = None
    futures_open_interest: bool = False
    fold_auction: bool = False


_IDENTITY: Final = {name: name for name in (*KLINE_COLUMNS, *TICK_COLUMNS) if name != "datetime"}
_WT_TICK: Final = {
    "last_price": "price", "open": "open", "highest": "high", "lowest": "low",
    "volume": "total_volume", "amount": "total_turnover", "open_interest": "open_interest",
    "upper_limit": "upper_limit", "lower_limit": "lower_limit", "pre_close": "pre_close",
    "pre_settlement": "pre_settle", "pre_open_interest": "pre_interest",
    "settlement": "settle_price", "bid_price1": "bid_price1", "bid_volume1": "bid_qty1",
    "ask_price1": "ask_price1", "ask_volume1": "ask_qty1",
}  # fmt: skip
_OHLCV: Final = {name: name for name in ("open", "high", "low", "close", "volume")}
_XT_BARS: Final = {**_OHLCV, "amount": "amount", "close_oi": "openInterest"}
_XT_TICKS: Final = {
    "last_price": "lastPrice", "open": "open", "highest": "high", "lowest": "low",
    "pre_close": "lastClose", "amount": "amount", "volume": "volume",
    "open_interest": "openInt", "pre_settlement": "lastSettlementPrice",
    "settlement": "settlementPrice",
}  # fmt: skip

PRESETS: Final[dict[str, Preset]] = {
    "tqsdk": Preset(_IDENTITY, symbol_column="symbol"),
    "wondertrader-tick": Preset(
        _WT_TICK, symbol_column="code", round_prices=6,
        zero_is_missing=("settlement", "bid_price1", "ask_price1"),
    ),
    "wondertrader-bar": Preset(_OHLCV, label="end", symbol_column="symbol"),
    "xtquant": Preset(
        {**_XT_BARS, **_XT_TICKS}, time=("time",), time_format="ms", label="end",
        volume_unit="lots", futures_open_interest=True, fold_auction=True,
        lists={"askPrice": "ask_price", "bidPrice": "bid_price",
                                   "askVol": "ask_volume", "bidVol": "bid_volume"},
        zero_is_missing=(
            *TICK_LEVEL_COLUMNS, "bid_price1", "ask_price1", "settlement", "pre_settlement"
        ),
    ),
    "hikyuu": Preset(
        {**_OHLCV, "amount": "amount"}, time=("date",), time_format="date",
        volume_unit="lots", symbol_column="symbol",
    ),
    "tdx": Preset(
        {**_OHLCV, "amount": "amount"}, time=("date",), time_format="date",
        symbol_column="symbol", volume_unit_column="volume_unit",
    ),
}  # fmt: skip
"""The presets by name (see the module docstring)."""


@dataclass
class ImportReport:
    """What an import did: rows per file and the checks' reports.

    Attributes:
        replaced: stored rows the import replaced (rows with the time of an imported row).
    """

    symbol: str
    period: str
    files: list[tuple[str, Report]] = field(default_factory=list)
    replaced: int = 0

    @property
    def rows(self) -> int:
        """Rows written."""
        return sum(report.rows_out for _, report in self.files)

    def summary(self) -> str:
        """One line per file."""
        return "\n".join(f"{path}: {report.summary()}" for path, report in self.files)


def preset(name: str, columns: Mapping[str, str] | None = None) -> Preset:
    """The preset ``name`` with ``columns`` (store → source; ``datetime`` names the time
    column) overriding its mapping; ``generic`` takes its whole mapping from ``columns``.

    Raises:
        ConfigError: unknown preset, a mapping naming an unknown store column, or ``generic``
            without a mapping of ``datetime``.
    """
    found = (
        Preset({}) if name == "generic" else PRESETS.get(name) if isinstance(name, str) else None
    )
    if found is None:
        raise ConfigError(
            f"unknown format {name!r}; formats are {', '.join(sorted(PRESETS))}, generic"
        )
    if name == "generic" and (not columns or "datetime" not in columns):
        raise ConfigError(
            "format 'generic' needs a column mapping including datetime, e.g. "
            "--columns datetime=Date,open=Open,high=High,low=Low,close=Close,volume=Vol"
        )
    if not columns:
        return found
    mapping = {k: v for k, v in columns.items() if k != "datetime"}
    unknown = set(mapping) - set(_IDENTITY)
    if unknown:
        raise ConfigError(
            f"column mapping names unknown store column(s) {', '.join(sorted(unknown))}"
        )
    time = (columns["datetime"],) if "datetime" in columns else found.time
    return replace(found, columns={**found.columns, **mapping}, time=time)


# --- rows ----------------------------------------------------------------------------------------


@dataclass
class _FileRows:
    """One file's rows of the symbol, in the store's columns.

    Attributes:
        table: the rows to check (``datetime`` int64 ns, the bar's start).
        rows: the file's row number of each row of ``table``.
        rejected: problems of rows left out of ``table`` (see the module docstring).
        other_rows: rows of other symbols.
        folded: opening-auction bars folded into the next bar.
        written: the file's time text of each row of ``table``, when that is not the Beijing
            start of the row (see the module docstring), else None.
    """

    table: pa.Table
    rows: npt.NDArray[np.int64]
    rejected: list[Problem] = field(default_factory=list)
    other_rows: int = 0
    folded: int = 0
    written: npt.NDArray[np.object_] | None = None

    def without(self, positions: npt.NDArray[np.int64]) -> None:
        """Leave the rows at ``positions`` of ``table`` out."""
        keep = np.setdiff1d(np.arange(self.table.num_rows), positions)
        self.table, self.rows = self.table.take(keep), self.rows[keep]
        if self.written is not None:
            self.written = self.written[keep]

    def bar_time_problem(self, check: str, position: int, detail: str) -> Problem:
        """A problem of the time of the bar at ``position`` of ``table``, shown as
        :func:`backtest.validate.apply_policy` shows those it finds."""
        start = format_ns(int(self.table.column("datetime")[position].as_py()))
        problem = Problem(check, int(self.rows[position]), "datetime", start, detail)
        if self.written is None:
            return problem
        return as_written(problem, self.written[position], bar=True)


def read_csv(
    path: str | Path,
    symbol: str,
    duration_s: int,
    spec: Preset,
    tz: str = "Asia/Shanghai",
    label: str | None = None,
    volume_unit: str | None = None,
    product_class: ProductClass | None = None,
    decimals: int | None = None,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> pa.Table:
    """One CSV as a table in the store's columns (``datetime`` int64 ns, the bar's start).

    ``decimals`` rounds the prices (overriding the preset's rounding). The rows are not checked
    (:mod:`backtest.validate` does that), but rows the import cannot use (the ``symbol``,
    ``unit`` and ``auction`` problems of the module docstring) raise a DataError naming them.
    """
    found = _read_rows(
        Path(path), symbol, duration_s, spec, tz, label, volume_unit, product_class,
        _decimals(decimals), _encoding(encoding), _delimiter(delimiter),
    )  # fmt: skip
    if found.rejected:  # refused as an import refuses them
        apply_policy(found.table.slice(0, 0), duration_s, Policy.REFUSE, str(path),
                     rejected=found.rejected)  # fmt: skip
    return found.table


def _read_rows(
    path: Path,
    symbol: str,
    duration_s: int,
    spec: Preset,
    tz: str,
    label: str | None,
    volume_unit: str | None,
    product_class: ProductClass | None,
    decimals: int | None,
    encoding: str,
    delimiter: str,
) -> _FileRows:
    """:func:`read_csv`, with the file's row numbers and the rows left out."""
    wanted = list(dict.fromkeys([*spec.time, *spec.columns.values(), *spec.lists]))
    strings = list(spec.time if spec.time_format != "ms" else ()) + list(spec.lists)
    for extra in (spec.symbol_column, spec.volume_unit_column):
        if extra:
            wanted.append(extra)
            strings.append(extra)
    needed = ("last_price", "volume") if duration_s == TICK else (*_PRICE_COLUMNS, "volume")
    unmapped = [name for name in needed if name not in spec.columns]
    if unmapped:
        raise ConfigError(
            f"no column is mapped to {', '.join(unmapped)}: add {unmapped[0]}=<the file's "
            f"column> to the column mapping (--columns)"
        )
    required = dict.fromkeys(spec.time, "datetime")
    required.update({spec.columns[name]: name for name in needed})
    table = read_columns(path, file_bytes(path, encoding), wanted, strings, required, delimiter)
    if table.num_rows == 0:
        raise DataError(f"{path}: the file has no rows, only a header: nothing to import")
    found = _FileRows(table, np.arange(1, table.num_rows + 1, dtype=np.int64))
    if spec.symbol_column and spec.symbol_column in table.column_names:
        _keep_symbol(found, spec.symbol_column, symbol, path)
    times = parse_times(found.table, spec.time, spec.time_format, tz, path, found.rows)
    starts = times.ns
    by_end = TICK < duration_s < DAY and (label or spec.label) == "end"
    if by_end:
        starts = starts - duration_s * NS_PER_SECOND
    if times.text is not None and (times.moved or by_end):
        found.written = np.array(times.text, dtype=object)
    arrays = _store_columns(found.table, spec, duration_s, path, found.rows)
    arrays["datetime"] = pa.array(starts, pa.int64())
    rounding = spec.round_prices if decimals is None else decimals
    if rounding is not None:
        for name in [n for n in arrays if _is_price(n)]:
            arrays[name] = _rounded(arrays[name], rounding)
    for name in spec.zero_is_missing:
        if name in arrays:
            column = arrays[name]
            zero = pc.equal(column, pa.scalar(0.0))
            arrays[name] = pc.if_else(zero, pa.scalar(None, pa.float64()), column)
    lots = _lots(found, spec, volume_unit)
    # lots are converted for stocks and funds only (futures count contracts, indexes keep the
    # source's number), whether the unit is per file or per row
    if product_class in (ProductClass.STOCK, ProductClass.FUND):
        # bars' volume; ticks' cumulative volume and book volumes (amounts stay CNY)
        for name in [n for n in arrays if n == "volume" or "_volume" in n]:
            arrays[name] = pc.if_else(lots, pc.multiply(arrays[name], 100.0), arrays[name])
    if spec.futures_open_interest and product_class is not ProductClass.FUTURE:
        for name in ("open_interest", "open_oi", "close_oi"):
            arrays.pop(name, None)
    found.table = pa.table({"datetime": arrays.pop("datetime"), **arrays})
    found.without(np.flatnonzero(np.isin(found.rows, [p.row for p in found.rejected])))
    if spec.fold_auction and TICK < duration_s < DAY:
        _fold_auction(found, symbol)
    return found


def _rounded(prices: pa.Array[Any], decimals: int) -> pa.Array[Any]:
    """Prices rounded to ``decimals``; huge ones (sentinels such as CTP's 1.8e308, which
    rounding would overflow on) are left as they are for the checks to name."""
    small = pc.less(pc.abs(prices), pa.scalar(1e15))
    rounded = pc.round(pc.if_else(small, prices, pa.scalar(0.0)), ndigits=decimals)
    result: pa.Array[Any] = pc.if_else(small, rounded, prices)
    return result


def _is_price(name: str) -> bool:
    return "price" in name or name in _OTHER_PRICES


def _store_columns(
    table: pa.Table, spec: Preset, duration_s: int, path: Path, rows: npt.NDArray[np.int64]
) -> dict[str, pa.Array[Any]]:
    """The store's columns (but ``datetime``) of the source's, as float64."""
    arrays: dict[str, pa.Array[Any]] = {}
    allowed = set(TICK_COLUMNS if duration_s == TICK else KLINE_COLUMNS)
    # a source column may feed several store columns (xtquant's high: bars' high, ticks' highest)
    for target, source in spec.columns.items():
        if target in allowed and source in table.column_names:
            arrays[target] = pc.cast(table.column(source), pa.float64()).combine_chunks()
    for source, prefix in spec.lists.items():
        if duration_s == TICK and source in table.column_names:
            arrays.update(_expand(table.column(source), prefix, path, source, rows))
    return arrays


def _lots(found: _FileRows, spec: Preset, volume_unit: str | None) -> pa.Array[Any]:
    """Whether each row's volumes are in lots; a ``volume_unit`` cell that is neither lots nor
    shares is a ``unit`` problem of its row (added to ``found.rejected``)."""
    column = spec.volume_unit_column
    if not column or column not in found.table.column_names:
        same: pa.Array[Any] = pa.array(
            np.full(found.table.num_rows, (volume_unit or spec.volume_unit) == "lots")
        )
        return same
    cells = found.table.column(column).to_pylist()
    units = [_UNITS.get((cell or "").strip().lower()) for cell in cells]
    detail = "the volume unit must be lots (手) or shares (股)"
    found.rejected.extend(
        Problem("unit", int(found.rows[i]), column, cells[i] or "", detail)
        for i, unit in enumerate(units)
        if unit is None
    )
    return pa.array([bool(unit) for unit in units])


def _keep_symbol(found: _FileRows, column: str, symbol: str, path: Path) -> None:
    """Keep the rows of ``symbol`` (any spelling) of a multi-symbol file; count the others'
    and reject the rows whose symbol cell is empty or unreadable."""
    cells = found.table.column(column)
    wanted = Symbol.parse(symbol)
    values = [v for v in pc.unique(cells).to_pylist() if v is not None]
    unreadable = [v for v in values if not _names_symbol(v)]
    matches = [v for v in values if _names_symbol(v) and _same_symbol(v.strip(), wanted)]
    if not matches:
        raise DataError(
            f"{path}: no rows of {symbol} in column {column!r} (it holds: "
            f"{', '.join(sorted(values)[:10])})"
        )
    keep = pc.is_in(cells, value_set=pa.array(matches, pa.string()))
    bad = pc.or_kleene(
        pc.is_null(cells), pc.is_in(cells, value_set=pa.array(unreadable, pa.string()))
    )
    keep_at = np.flatnonzero(keep.to_numpy(zero_copy_only=False))
    bad_at = np.flatnonzero(bad.to_numpy(zero_copy_only=False))
    texts = cells.take(pa.array(bad_at, pa.int64())).to_pylist()
    found.rejected.extend(
        Problem("symbol", int(found.rows[i]), column, text or "",
                f"{'not a' if text else 'no'} symbol: cannot tell whether the row is {symbol}'s")
        for i, text in zip(bad_at, texts, strict=True)
    )  # fmt: skip
    found.other_rows = found.table.num_rows - keep_at.size - bad_at.size
    found.table, found.rows = found.table.take(keep_at), found.rows[keep_at]


_NO_SYMBOL: Final = frozenset(
    {"n/a", "na", "nan", "none", "null", "-", "--", "#n/a", "#ref!", "#value!", "#name?", "?"}
)
"""Placeholder cells of spreadsheets and dataframes (lower case), which name no symbol."""


def _names_symbol(text: str) -> bool:
    """Whether a symbol cell names some symbol (else the row might be anyone's): anything but
    an empty, unprintable, placeholder (``N/A``, ``#REF!``) or numeric (``12.5``) cell. Six
    digits or more are a bare code (``600000``, the option ``10002134``), not a number."""
    text = text.strip()
    if not text or not text.isprintable() or text.lower() in _NO_SYMBOL:
        return False
    if text.isascii() and text.isdigit() and len(text) >= 6:
        return True
    try:
        float(text)
    except ValueError:
        return True
    return False


def _same_symbol(text: str, wanted: Symbol) -> bool:
    if text == wanted.code:  # a bare code column, as WonderTrader's "code"
        return True
    try:
        return Symbol.parse(text) == wanted
    except ConfigError:
        return False


def _expand(
    column: pa.ChunkedArray[Any], prefix: str, path: Path, source: str, rows: npt.NDArray[np.int64]
) -> dict[str, pa.Array[Any]]:
    """``"[1.0, 2.0, …]"`` strings → ``prefix1`` … ``prefix5`` float columns (0 → missing)."""
    levels: list[list[float]] = [[] for _ in range(5)]
    for row, text in enumerate(column.to_pylist()):
        parts = re.findall(r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?", text or "")
        if text and len(parts) > 5:
            raise DataError(
                f"{path}: row {rows[row]}, column {source}: more than 5 levels: {text!r}"
            )
        values = [float(p) for p in parts] + [float("nan")] * (5 - len(parts))
        for level, value in enumerate(values):
            levels[level].append(value)
    return {f"{prefix}{i + 1}": pa.array(values, pa.float64()) for i, values in enumerate(levels)}


# --- the opening auction -------------------------------------------------------------------------


def _fold_auction(found: _FileRows, symbol: str) -> None:
    """Fold opening-auction bars as :func:`backtest.xtquant.fold_auction` does; the bars before
    09:30 that do not fold are problems (see the module docstring)."""
    times = np.asarray(found.table.column("datetime").to_numpy(), dtype=np.int64)
    if Symbol.parse(symbol).exchange not in AUCTION_EXCHANGES or len(times) == 0:
        return
    if not bool((np.diff(times) > 0).all()):
        early = np.flatnonzero(auction_bars(times))
        detail = "a bar before 09:30 in a file not in time order: sort the file to fold it"
        for i in early:
            found.rejected.append(found.bar_time_problem("auction", int(i), detail))
        found.without(early)
        return
    plan = plan_auction_fold(times)
    if not bool(plan.early.any()):
        return
    local = (times + UTC_OFFSET_NS) % NS_PER_DAY
    for i in plan.unfolded:
        detail = (
            "a bar before 09:15, when the opening auction starts" if local[i] < _AUCTION_START_NS
            else "an opening-auction bar without a later bar that day to fold into"
        )  # fmt: skip
        found.rejected.append(found.bar_time_problem("auction", int(i), detail))
    if len(plan.sources):
        columns = {name: found.table.column(name).to_numpy() for name in found.table.column_names}
        merged = fold_bars(columns, plan.sources, plan.targets)
        found.table = pa.table({name: pa.array(values) for name, values in merged.items()})
    found.folded = len(plan.sources)
    found.without(np.flatnonzero(plan.early))


# --- the import ----------------------------------------------------------------------------------


def import_csv(
    store: Store,
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    symbol: str,
    period: str | int,
    format: str = "generic",
    columns: Mapping[str, str] | None = None,
    policy: Policy | str = Policy.REFUSE,
    tz: str = "Asia/Shanghai",
    label: str | None = None,
    volume_unit: str | None = None,
    decimals: int | None = None,
    encoding: str = "utf-8",
    time_format: str | None = None,
    delimiter: str = ",",
) -> ImportReport:
    """Import CSV files of one symbol and period into ``store``, in one transaction.

    Every file is read and checked before anything is written; with the default policy a
    problem refuses the whole import (see :mod:`backtest.validate`). Rows whose timestamps are
    already stored replace them, so importing the same files twice changes nothing; the
    report counts them (:attr:`ImportReport.replaced`).

    Args:
        store: the store to write, e.g. ``Store.create("~/store")``.
        paths: the CSV files, or one file.
        symbol: e.g. ``"IF2003.IF"`` or ``"CFFEX.IF2003"``.
        period: ``"tick"``, ``"1m"``, ``"1d"`` … or seconds.
        format, columns, tz, label, volume_unit, decimals, encoding, delimiter, time_format:
            see the module docstring.
        policy: :class:`~backtest.validate.Policy` or its name: ``"refuse"``, ``"skip"``,
            ``"repair"``.

    Warns:
        UserWarning: the symbol has no instrument terms, so some checks were skipped (see the
            module docstring); ``volume_unit="lots"`` for a symbol that is not a stock or fund
            (not applied).

    Raises:
        ConfigError: an argument of the wrong type or value (the message names it): unknown
            format, column mapping, policy, label, volume unit, time zone, decimals,
            encoding, delimiter or time format.
        DataError: a file is missing or unreadable, has problems (policy refuse; see
            :func:`backtest.validate.apply_policy` for skip), or two files hold the same time.
    """
    files = _check_arguments(store, paths, columns, decimals, encoding)
    delimiter = _delimiter(delimiter)
    policy = Policy.parse(policy)
    canonical = normalize_symbol(symbol)
    duration = parse_period(period)
    spec = preset(format, columns)
    if time_format is not None:
        if not isinstance(time_format, str) or "%" not in time_format:
            raise ConfigError(
                f"time_format must be a strftime format such as '%d/%m/%Y %H:%M', was "
                f"{time_format!r}"
            )
        spec = replace(spec, time_format=time_format)
    if label not in (None, "start", "end"):
        raise ConfigError(f"label must be 'start' or 'end', was {label!r}")
    if volume_unit not in (None, "shares", "lots"):
        raise ConfigError(f"volume_unit must be 'shares' or 'lots', was {volume_unit!r}")
    zone(tz)
    table = InstrumentTable(store.instruments(), None, str(store.root))
    unknown: UnknownInstrumentError | None = None
    try:
        instrument = table.get(canonical)
        sessions, product_class = instrument.sessions, instrument.product_class
    except UnknownInstrumentError as exc:
        sessions, product_class = None, None  # unknown instrument: sessions are not checked
        unknown = exc
    stored_calendar = store.calendar()
    report = ImportReport(canonical, period_label(duration))
    cleaned: list[pa.Table] = []
    for path in files:
        found = _read_rows(
            path, canonical, duration, spec, tz, label, volume_unit, product_class, decimals,
            encoding, delimiter,
        )  # fmt: skip
        calendar = stored_calendar or _fallback_calendar(found.table)
        written = None if found.written is None else found.written.tolist()
        good, checked = apply_policy(
            found.table, duration, policy, str(path), sessions, calendar,
            row_numbers=found.rows, rejected=found.rejected, written=written,
        )  # fmt: skip
        checked.rows_in += found.other_rows + found.folded
        checked.other_rows = found.other_rows
        if found.folded:
            checked.changes["opening-auction bars folded"] = found.folded
        report.files.append((str(path), checked))
        cleaned.append(good)
    merged = pa.concat_tables(cleaned, promote_options="default") if cleaned else None
    if merged is not None and merged.num_rows:
        merged = merged.sort_by("datetime")
        times = merged.column("datetime").to_numpy()
        shared = np.flatnonzero(np.diff(times) <= 0)
        if shared.size:
            # --repair works file by file: it cannot choose between two files
            raise DataError(
                f"the files overlap: {format_ns(int(times[shared[0]]))} of {canonical} appears "
                f"in more than one of them; import them one at a time (an import replaces the "
                f"stored rows with the times it brings)"
            )
        with store.transaction() as transaction:  # the write lock: no other writer between
            report.replaced = transaction.write(canonical, duration, merged)
    if unknown is not None:
        warnings.warn(_unchecked(unknown, canonical, duration), stacklevel=2)
    if volume_unit == "lots" and product_class not in (ProductClass.STOCK, ProductClass.FUND):
        what = (
            "has no instrument terms (its product class is not known)"
            if product_class is None
            else f"is not a stock or fund but {_A_CLASS[product_class]}"
        )
        warnings.warn(
            f"volume_unit 'lots' was not applied: it converts stock and fund volumes from lots "
            f"of 100 to shares, and {canonical} {what}, so its volumes were stored as the files "
            f"have them (a futures lot, 手, is one contract); leave out --volume-unit",
            stacklevel=2,
        )
    return report


def _unchecked(unknown: UnknownInstrumentError, symbol: str, duration_s: int) -> str:
    """The warning of an import of a symbol without instrument terms."""
    skipped = (
        "" if duration_s >= DAY
        else " without the crossed-book check, which needs its trading sessions,"
        if duration_s == TICK
        else " without the trading-session checks (bars outside the sessions, overlapping bars),"
    )  # fmt: skip
    return (
        f"{symbol} {period_label(duration_s)} was imported{skipped} but a backtest needs its "
        f"terms: {unknown}; once the store has them (with its sessions), `backtest data verify "
        f"{symbol}` checks the stored rows against them"
    )


def _fallback_calendar(table: pa.Table) -> TradingCalendar | None:
    """The calendar a run would use for these rows when the store has none
    (:meth:`TradingCalendar.fallback`), so that sessions are checked all the same."""
    if not table.num_rows:
        return None
    times = int_times(table.column("datetime"))
    return TradingCalendar.fallback(int(times.min()), int(times.max()))


def _check_arguments(
    store: object, paths: object, columns: object, decimals: object, encoding: object
) -> list[Path]:
    """The files of :func:`import_csv`, after checking the arguments a type error would
    otherwise break deep inside.

    Raises:
        ConfigError: naming the argument, what it must be and what it was.
    """
    if not isinstance(store, Store):
        raise ConfigError(
            f"store must be a Store, e.g. Store.create('~/store'), was {type(store).__name__} "
            f"{store!r}"
        )
    if columns is not None and not (
        isinstance(columns, Mapping)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in columns.items())
    ):
        raise ConfigError(
            f"columns must map store columns to the file's, e.g. {{'datetime': 'Date', "
            f"'close': 'Close'}}, was {type(columns).__name__} {columns!r}"
        )
    _decimals(decimals)
    _encoding(encoding)
    if isinstance(paths, str | os.PathLike):
        return [Path(paths)]
    if not isinstance(paths, Sequence) or not all(isinstance(p, str | os.PathLike) for p in paths):
        raise ConfigError(
            f"paths must be a CSV file's path or a list of them, was {type(paths).__name__} "
            f"{paths!r}"
        )
    if not paths:
        raise ConfigError("paths is empty: give at least one CSV file")
    return [Path(p) for p in paths]


def _delimiter(delimiter: object) -> str:
    """``delimiter``, checked; ``"tab"`` is ``"\\t"``.

    Raises:
        ConfigError: not one character that can separate fields.
    """
    if delimiter == "tab":
        return "\t"
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n':
        raise ConfigError(
            f"delimiter must be the one character between fields, such as ',', ';', '|' or "
            f"'tab', was {delimiter!r}"
        )
    return delimiter


def _encoding(encoding: object) -> str:
    """``encoding``, checked.

    Raises:
        ConfigError: not the name of a text codec Python knows.
    """
    if not isinstance(encoding, str):
        raise ConfigError(
            f"encoding must be a codec name such as 'utf-8' or 'gbk', was {encoding!r}"
        )
    try:
        "a".encode(encoding)  # also refuses codecs that are not text encodings ("hex")
    except (LookupError, UnicodeError):
        raise ConfigError(
            f"unknown encoding {encoding!r}; use a codec name such as 'utf-8' or 'gbk'"
        ) from None
    return encoding


def _decimals(decimals: object) -> int | None:
    """``decimals``, checked.

    Raises:
        ConfigError: not None or a whole number from 0 to 15.
    """
    if decimals is None:
        return None
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 15:
        raise ConfigError(
            f"decimals must be a whole number from 0 to 15 (or None: no rounding), was {decimals!r}"
        )
    return decimals
