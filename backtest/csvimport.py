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
- ``tdx``: TongDaXin daily CSVs with a ``volume_unit`` column (``lots``/``shares``).
- ``generic``: any CSV, with ``columns={"datetime": "Date", "close": "Close", …}``.

Options: ``tz`` (the time zone of the file's clock, default Asia/Shanghai; times written with
an offset, such as ``2020-01-02T01:30:00Z``, keep it), ``label`` (``"start"``/``"end"``: what a
bar's time marks), ``volume_unit`` (``"shares"``/``"lots"``; lots are converted to shares for
stocks and funds, also when a ``volume_unit`` column gives them per row), ``decimals`` (round
prices, e.g. 2 to remove a decoder's binary noise or a source's truncation), ``columns`` (store
column → source column, overriding a preset's; ``datetime`` names the time column). A file
holding several symbols is filtered on its symbol column (any spelling of the symbol); messages
give row numbers of the file.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .errors import ConfigError, DataError
from .instrument import InstrumentTable
from .model import DAY, TICK, ProductClass, Symbol, normalize_symbol, parse_period, period_label
from .store import KLINE_COLUMNS, TICK_COLUMNS, TICK_LEVEL_COLUMNS, Store
from .times import format_ns
from .validate import Policy, Report, apply_policy
from .xtquant import AUCTION_EXCHANGES, auction_bars, fold_auction

_NUMBER: Final = r"^\s*([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[-+]?(nan|NaN|inf|Inf)|)\s*$"


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
        fold_auction: fold intraday bars starting before 09:30 (the opening-auction bar) into
            the next bar on SSE, SZSE, BSE and CFFEX, as :mod:`backtest.xtquant` does.
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
    """What an import did: rows per file and the checks' reports."""

    symbol: str
    period: str
    files: list[tuple[str, Report]] = field(default_factory=list)

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
    found = Preset({}) if name == "generic" else PRESETS.get(name)
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


def _open_text(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    suffix = path.suffix.lower()
    if suffix == ".gz":
        return gzip.decompress(data)
    if suffix == ".xz":
        return lzma.decompress(data)
    if suffix == ".bz2":
        return bz2.decompress(data)
    return data


def _read(
    path: Path, wanted: Sequence[str], strings: Sequence[str], required: Sequence[str]
) -> pa.Table:
    """The ``wanted`` columns of a CSV; numbers as float64, ``strings`` as text.

    Raises:
        DataError: the file is not a readable CSV, lacks a ``required`` column, or holds text
            where a number should be.
    """
    data = _open_text(path)
    try:  # the header only: the first block
        names = pacsv.open_csv(
            io.BytesIO(data), read_options=pacsv.ReadOptions(block_size=1 << 16)
        ).schema.names
    except pa.ArrowInvalid as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None
    missing = [name for name in required if name not in names]
    if missing:
        raise DataError(
            f"{path}: no column {missing[0]!r}: is --format right? (columns: {', '.join(names)})"
        )
    present = [name for name in wanted if name in names]
    types = {name: (pa.string() if name in strings else pa.float64()) for name in present}
    options = pacsv.ConvertOptions(column_types=types, include_columns=present,
                                   strings_can_be_null=True)  # fmt: skip
    try:
        return pacsv.read_csv(io.BytesIO(data), convert_options=options)
    except pa.ArrowInvalid as exc:
        as_text = pacsv.read_csv(
            io.BytesIO(data),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(present, pa.string()), include_columns=present
            ),
        )
        for name in present:
            if name in strings:
                continue
            column = as_text.column(name)
            flags = pc.match_substring_regex(column, _NUMBER).to_pylist()
            bad = [row for row, ok in enumerate(flags) if ok is False]
            if bad:
                row = bad[0]
                value = column[row].as_py()
                raise DataError(
                    f"{path}: row {row + 1}, column {name}: value {value!r} is not a number"
                ) from None
        raise DataError(f"{path}: cannot read: {exc}") from None


def _zone(tz: str) -> str:
    """The zone handed to pandas for ``tz``: Beijing names are a fixed +08:00 (as the store).

    Raises:
        ConfigError: pandas knows no such zone.
    """
    zone = "+08:00" if tz in ("Asia/Shanghai", "Asia/Beijing", "CST") else tz
    try:
        pd.Timestamp(0).tz_localize(zone)
    except (LookupError, ValueError):
        raise ConfigError(
            f"unknown time zone {tz!r}; use a zone name such as 'Asia/Shanghai' or 'UTC', or an "
            f"offset such as '+08:00'"
        ) from None
    return zone


def _times(
    table: pa.Table, spec: Preset, tz: str, path: Path, rows: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Source times → int64 ns since the epoch; ``rows`` are the file's row numbers."""
    columns = [table.column(name).to_pandas() for name in spec.time]
    text = columns[0] if len(columns) == 1 else columns[0].astype(str) + " " + columns[1]
    where = f"column {', '.join(spec.time)}"
    if text.isna().any():
        row = int(np.flatnonzero(text.isna().to_numpy())[0])
        raise DataError(f"{path}: row {rows[row]}, {where}: empty time")
    if spec.time_format == "ms":
        ms = text.to_numpy(dtype=np.float64)
        if not np.isfinite(ms).all():
            row = int(np.flatnonzero(~np.isfinite(ms))[0])
            raise DataError(f"{path}: row {rows[row]}, {where}: value {ms[row]!r} is not a time")
        return ms.astype(np.int64) * 1_000_000
    form = {"iso": "mixed", "date": None}.get(spec.time_format, spec.time_format)
    try:
        parsed = pd.to_datetime(text, format=form)
    except (ValueError, TypeError) as exc:
        try:
            bad = np.flatnonzero(pd.to_datetime(text, format=form, errors="coerce").isna())
        except (ValueError, TypeError):
            bad = np.array([], np.int64)
        if bad.size:
            row = int(bad[0])
            raise DataError(
                f"{path}: row {rows[row]}, {where}: value {text.iloc[row]!r} is not a time"
            ) from None
        raise DataError(f"{path}: {where}: cannot parse times: {exc}") from None
    if parsed.isna().any():
        row = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise DataError(f"{path}: row {rows[row]}, {where}: empty time")
    if parsed.dt.tz is None:  # wall-clock times of ``tz``; times with an offset keep it
        parsed = parsed.dt.tz_localize(_zone(tz), ambiguous="NaT", nonexistent="NaT")
        if parsed.isna().any():  # skipped or repeated by a daylight-saving change
            row = int(np.flatnonzero(parsed.isna().to_numpy())[0])
            raise DataError(
                f"{path}: row {rows[row]}, {where}: value {text.iloc[row]!r} does not exist or "
                f"is ambiguous in {tz} (daylight saving time)"
            )
    # pandas may parse at µs resolution: ask for ns before taking the integers.
    return np.asarray(parsed.dt.tz_convert("UTC").dt.as_unit("ns").astype("int64"), dtype=np.int64)


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
) -> pa.Table:
    """One CSV as a table in the store's columns (``datetime`` int64 ns, the bar's start).

    ``decimals`` rounds the prices (overriding the preset's rounding).
    """
    table, _ = _read_rows(
        Path(path), symbol, duration_s, spec, tz, label, volume_unit, product_class, decimals
    )
    return table


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
) -> tuple[pa.Table, npt.NDArray[np.int64]]:
    """:func:`read_csv`, with the file's row number of each row (1 = the first data row)."""
    wanted = list(dict.fromkeys([*spec.time, *spec.columns.values(), *spec.lists]))
    strings = list(spec.time if spec.time_format != "ms" else ()) + list(spec.lists)
    if spec.symbol_column:
        wanted.append(spec.symbol_column)
        strings.append(spec.symbol_column)
    if spec.volume_unit_column:
        wanted.append(spec.volume_unit_column)
        strings.append(spec.volume_unit_column)
    needed = ("last_price", "volume") if duration_s == TICK else ("open", "high", "low", "close")
    required = [*spec.time, *(spec.columns[name] for name in needed if name in spec.columns)]
    table = _read(path, wanted, strings, required)
    rows = np.arange(1, table.num_rows + 1, dtype=np.int64)
    if spec.symbol_column and spec.symbol_column in table.column_names:
        keep = _symbol_rows(table, spec.symbol_column, symbol, path)
        table, rows = table.take(keep), rows[keep]
    times = _times(table, spec, tz, path, rows)
    if duration_s not in (TICK,) and duration_s < DAY and (label or spec.label) == "end":
        times = times - duration_s * 1_000_000_000
    arrays: dict[str, pa.Array] = {"datetime": pa.array(times, pa.int64())}  # type: ignore[type-arg]
    allowed = set(TICK_COLUMNS if duration_s == TICK else KLINE_COLUMNS)
    # a source column may feed several store columns (xtquant's high: bars' high, ticks' highest)
    for target, source in spec.columns.items():
        if target in allowed and source in table.column_names:
            arrays[target] = pc.cast(table.column(source), pa.float64()).combine_chunks()
    for source, prefix in spec.lists.items():
        if duration_s == TICK and source in table.column_names:
            arrays.update(_expand(table.column(source), prefix, path, source, rows))
    rounding = spec.round_prices if decimals is None else decimals
    if rounding is not None:
        for name in list(arrays):
            if "price" in name or name in ("open", "highest", "lowest", "high", "low", "close",
                                            "upper_limit", "lower_limit", "pre_close",
                                            "pre_settlement", "settlement"):  # fmt: skip
                arrays[name] = pc.round(arrays[name], ndigits=rounding)
    for name in spec.zero_is_missing:
        if name in arrays:
            column = arrays[name]
            zero = pc.equal(column, pa.scalar(0.0))
            arrays[name] = pc.if_else(zero, pa.scalar(None, pa.float64()), column)
    # lots are converted for stocks and funds only (futures count contracts, indexes keep the
    # source's number), whether the unit is per file or per row
    if "volume" in arrays and product_class in (ProductClass.STOCK, ProductClass.FUND):
        if spec.volume_unit_column and spec.volume_unit_column in table.column_names:
            lots = pc.equal(table.column(spec.volume_unit_column), pa.scalar("lots"))
            arrays["volume"] = pc.if_else(
                lots, pc.multiply(arrays["volume"], 100.0), arrays["volume"]
            )
        elif (volume_unit or spec.volume_unit) == "lots":
            # bars' volume; ticks' cumulative volume and book volumes (amounts stay CNY)
            for name in [n for n in arrays if n == "volume" or "_volume" in n]:
                arrays[name] = pc.multiply(arrays[name], 100.0)
    if spec.futures_open_interest and product_class is not ProductClass.FUTURE:
        for name in ("open_interest", "open_oi", "close_oi"):
            arrays.pop(name, None)
    result = pa.table(arrays)
    if spec.fold_auction and TICK < duration_s < DAY:
        result, rows = _fold_auction(result, rows, symbol)
    return result, rows


def _fold_auction(
    table: pa.Table, rows: npt.NDArray[np.int64], symbol: str
) -> tuple[pa.Table, npt.NDArray[np.int64]]:
    """Opening-auction bars folded into the first bar (sorted files of auction exchanges)."""
    times = np.asarray(table.column("datetime").to_numpy(), dtype=np.int64)
    if Symbol.parse(symbol).exchange not in AUCTION_EXCHANGES or len(times) == 0:
        return table, rows
    if (np.diff(times) <= 0).any():
        return table, rows  # unsorted: leave it to the checks, which name the rows
    columns = {name: table.column(name).to_numpy(zero_copy_only=False).astype(
        np.int64 if name == "datetime" else np.float64) for name in table.column_names}  # fmt: skip
    kept = ~auction_bars(times)
    merged = fold_auction(columns)
    arrays = {name: pa.array(values) for name, values in merged.items()}
    return pa.table(arrays), rows[kept]


def _symbol_rows(table: pa.Table, column: str, symbol: str, path: Path) -> npt.NDArray[np.int64]:
    """Positions of the rows of ``symbol`` (any spelling) in a multi-symbol table."""
    values = pc.unique(table.column(column)).to_pylist()
    wanted = Symbol.parse(symbol)
    matches = [v for v in values if v is not None and _same_symbol(str(v), wanted)]
    if not matches:
        raise DataError(
            f"{path}: no rows of {symbol} in column {column!r} (it holds: "
            f"{', '.join(sorted(map(str, values))[:10])})"
        )
    mask = pc.is_in(table.column(column), value_set=pa.array(matches))
    return np.flatnonzero(mask.to_numpy(zero_copy_only=False)).astype(np.int64)


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


def import_csv(
    store: Store,
    paths: Sequence[str | Path],
    symbol: str,
    period: str | int,
    format: str = "generic",
    columns: Mapping[str, str] | None = None,
    policy: Policy = Policy.REFUSE,
    tz: str = "Asia/Shanghai",
    label: str | None = None,
    volume_unit: str | None = None,
    decimals: int | None = None,
) -> ImportReport:
    """Import CSV files of one symbol and period into ``store``, in one transaction.

    Every file is read and checked before anything is written; with the default policy a
    problem refuses the whole import (see :mod:`backtest.validate`). Rows whose timestamps are
    already stored replace them, so importing the same files twice changes nothing.

    Raises:
        ConfigError: unknown format, column mapping, label, volume unit or time zone.
        DataError: a file is missing or unreadable, has problems (policy refuse; see
            :func:`backtest.validate.apply_policy` for skip), or two files hold the same time.
    """
    canonical = normalize_symbol(symbol)
    duration = parse_period(period)
    spec = preset(format, columns)
    if label not in (None, "start", "end"):
        raise ConfigError(f"label must be 'start' or 'end', was {label!r}")
    if volume_unit not in (None, "shares", "lots"):
        raise ConfigError(f"volume_unit must be 'shares' or 'lots', was {volume_unit!r}")
    _zone(tz)
    table = InstrumentTable(store.instruments(), None, str(store.root))
    try:
        instrument = table.get(canonical)
        sessions, product_class = instrument.sessions, instrument.product_class
    except DataError:
        sessions, product_class = None, None  # unknown instrument: sessions are not checked
    calendar = store.calendar()
    report = ImportReport(canonical, period_label(duration))
    cleaned: list[pa.Table] = []
    for path in paths:
        raw, rows = _read_rows(
            Path(path), canonical, duration, spec, tz, label, volume_unit, product_class, decimals
        )
        good, checked = apply_policy(
            raw, duration, policy, str(path), sessions, calendar, row_numbers=rows
        )
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
        with store.transaction() as transaction:
            transaction.write(canonical, duration, merged)
    return report
