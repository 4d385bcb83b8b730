"""Rebuild the sample Parquet store (``data/store``) from the raw CSV files in ``data/raw``.

Usage::

    python data/build_store.py [--raw DIR] [--out DIR]

``--raw`` defaults to ``data/raw`` and ``--out`` to ``data/store``, both relative to the
repository root. Each raw file is read as ``<name>.csv`` or, if that does not exist, as the
xz-compressed ``<name>.csv.xz`` that the repository ships. The ``backtest`` package must be
importable (``pip install -e .`` or ``PYTHONPATH=<repo root>``).

The output directory is deleted and written again from scratch through
:class:`backtest.store.Store`: klines, ticks, ``instruments.parquet`` and ``calendar.parquet``
(see the ``backtest/store.py`` docstring for the layout). The build is deterministic: every
table is sorted and nothing depends on the clock or on randomness, so the same inputs and the
same pyarrow version give byte-identical Parquet files.

There is one small reader per source format; each returns a pyarrow Table whose columns are the
store's column names (``datetime`` as ``timestamp[ns, +08:00]``, Beijing time). The readers
check what the stored metadata relies on (source symbol, OHLC consistency, prices on the tick
grid) and stop the build with :class:`BuildError` instead of repairing data.
``data/README.md`` describes the sources, their licences and every conversion made here.
"""

from __future__ import annotations

import argparse
import io
import lzma
import shutil
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Final

import exchange_calendars  # type: ignore[import-untyped, unused-ignore]
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from backtest.model import DAY, TICK, period_label
from backtest.store import TIMESTAMP_TYPE, Store
from backtest.times import NS_PER_DAY, NS_PER_SECOND, UTC_OFFSET_NS

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
MINUTE: Final = 60
"""Duration of a 1-minute kline, in seconds."""

KLINE_PRICES: Final = ("open", "high", "low", "close")
TICK_PRICES: Final = (
    "last_price", "open", "highest", "lowest", "upper_limit", "lower_limit", "pre_close",
    "pre_settlement", "settlement", "bid_price1", "ask_price1",
)  # fmt: skip
"""Price columns of the IF2101 ticks, rounded to 6 decimals (see :func:`wondertrader_ticks`)."""

TQSDK_KLINE_TYPES: Final[dict[str, pa.DataType]] = {
    "datetime": pa.timestamp("ns"),
    "symbol": pa.string(),
    "open": pa.float64(),
    "high": pa.float64(),
    "low": pa.float64(),
    "close": pa.float64(),
    "volume": pa.int64(),
    "open_oi": pa.int64(),
    "close_oi": pa.int64(),
}
WONDERTRADER_TICK_COLUMNS: Final = {
    # source column -> store column; every other source column is dropped
    "datetime": "datetime",
    "price": "last_price",
    "open": "open",
    "high": "highest",
    "low": "lowest",
    "total_volume": "volume",
    "total_turnover": "amount",
    "open_interest": "open_interest",
    "upper_limit": "upper_limit",
    "lower_limit": "lower_limit",
    "pre_close": "pre_close",
    "pre_settle": "pre_settlement",
    "pre_interest": "pre_open_interest",
    "settle_price": "settlement",
    "bid_price1": "bid_price1",
    "bid_qty1": "bid_volume1",
    "ask_price1": "ask_price1",
    "ask_qty1": "ask_volume1",
}
DAILY_TYPES: Final[dict[str, pa.DataType]] = {
    "date": pa.date32(),
    "symbol": pa.string(),
    "open": pa.float64(),
    "high": pa.float64(),
    "low": pa.float64(),
    "close": pa.float64(),
    "volume": pa.int64(),
    "amount": pa.float64(),
}

CFFEX_IF: Final = {
    "product_class": "FUTURE",
    "product": "IF",
    "price_tick": 0.2,
    "volume_multiple": 300.0,
    "sessions": "09:30-11:30,13:00-15:00",
    "margin_ratio_long": 0.12,
    "margin_ratio_short": 0.12,
    # CFFEX index-future fees in force from 2019-12-23: 0.23 per 10,000 of turnover to open or
    # close a position held overnight, 3.45 per 10,000 to close a position opened the same day
    "commission_unit": "turnover",
    "commission_open": 0.000023,
    "commission_close": 0.000023,
    "commission_close_today": 0.000345,
    "board": "",
}
SSE_SZSE_STOCK: Final = {
    "product_class": "STOCK",
    "product": "",
    "price_tick": 0.01,
    "volume_multiple": 1.0,
    "sessions": "09:30-11:30,13:00-15:00",
    "margin_ratio_long": 0.0,
    "margin_ratio_short": 0.0,
    "commission_unit": "turnover",
    "commission_open": 0.00025,
    "commission_close": 0.00025,
    "commission_close_today": 0.00025,
    "board": "MAIN",
}
INSTRUMENTS: Final[dict[str, dict[str, Any]]] = {
    "IF2003.IF": {"name": "沪深300股指期货2003", **CFFEX_IF},
    "IF2101.IF": {"name": "沪深300股指期货2101", **CFFEX_IF},
    "au1912.SF": {
        "name": "黄金1912",
        "product_class": "FUTURE",
        "product": "au",
        # SHFE gold's tick was 0.05 CNY/g until the contract revision effective 2019-12-10
        # (then 0.02); au1912_1min() checks that every price of the data lies on the 0.05 grid
        "price_tick": 0.05,
        "volume_multiple": 1000.0,
        "sessions": "21:00-02:30,09:00-10:15,10:30-11:30,13:30-15:00",
        "margin_ratio_long": 0.08,
        "margin_ratio_short": 0.08,
        # CNY per lot
        "commission_unit": "lot",
        "commission_open": 10.0,
        "commission_close": 10.0,
        "commission_close_today": 0.0,
        "board": "",
    },
    "600009.SH": {"name": "上海机场", **SSE_SZSE_STOCK},
    "600000.SH": {"name": "浦发银行", **SSE_SZSE_STOCK},
    "600004.SH": {"name": "白云机场", **SSE_SZSE_STOCK},
    "600005.SH": {"name": "武钢股份", **SSE_SZSE_STOCK},
    "000001.SZ": {"name": "平安银行", **SSE_SZSE_STOCK},
    "000002.SZ": {"name": "万科A", **SSE_SZSE_STOCK},
    "000004.SZ": {"name": "国农科技", **SSE_SZSE_STOCK},
    "000005.SZ": {"name": "世纪星源", **SSE_SZSE_STOCK},
    "000001.SH": {
        "name": "上证指数",
        **SSE_SZSE_STOCK,
        "product_class": "INDEX",
        "commission_open": 0.0,
        "commission_close": 0.0,
        "commission_close_today": 0.0,
        "board": "",
    },
}

HIKYUU_DAILY: Final = "hikyuu/cn_stock_daily_8symbols_1990-2011.csv"
TDX_DAILY: Final = "hikyuu/tdx_daily_SH000001_SH600000_1990-2025.csv"
IF2101_TICK_FILES: Final = tuple(
    f"wondertrader/CFFEX.IF.HOT_tick_{day}.csv" for day in ("20210104", "20210105", "20210106")
)
HIKYUU_SKIPPED: Final = frozenset({"SH.600000"})
"""Symbols of the hikyuu file that are not stored (600000.SH comes from the TDX file)."""
INDEX_SYMBOLS: Final = frozenset({"000001.SH"})
"""Stored symbols that are indexes: their volume is kept as the source stores it."""
CALENDAR_START: Final = "1990-12-19"
CALENDAR_END: Final = "2026-12-31"


class BuildError(Exception):
    """The raw data is not what this script expects; nothing is repaired silently."""


# --- reading -------------------------------------------------------------------------------


def source_path(raw: Path, name: str) -> Path:
    """``raw/name`` if it exists, else its xz-compressed copy ``raw/name.xz``."""
    for path in (raw / name, raw / f"{name}.xz"):
        if path.is_file():
            return path
    raise BuildError(f"raw file {name} not found in {raw} (neither .csv nor .csv.xz)")


def read_csv(path: Path, types: Mapping[str, pa.DataType]) -> pa.Table:
    """The columns named in ``types`` of a ``.csv`` or ``.csv.xz`` file, parsed as those types."""
    data = path.read_bytes()
    if path.suffix == ".xz":
        data = lzma.decompress(data)
    options = pacsv.ConvertOptions(column_types=dict(types), include_columns=list(types))
    return pacsv.read_csv(io.BytesIO(data), convert_options=options)


def beijing_to_utc(column: pa.ChunkedArray[Any]) -> pa.Array[Any]:
    """Naive Beijing wall-clock timestamps as ``timestamp[ns, +08:00]`` instants.

    The sources write local exchange time without a zone. Like ``backtest.times``, this takes
    Beijing time as a fixed UTC+8 (int64 ns since the epoch, UTC = wall clock - 8 h).
    """
    wall_ns = pc.cast(column.combine_chunks(), pa.timestamp("ns")).cast(pa.int64())
    return pc.subtract(wall_ns, UTC_OFFSET_NS).cast(TIMESTAMP_TYPE)


def day_start(column: pa.ChunkedArray[Any]) -> pa.Array[Any]:
    """Dates as 00:00 Beijing time (UTC+8) of that date, ``timestamp[ns, +08:00]``."""
    days = pc.cast(column.combine_chunks(), pa.int32()).cast(pa.int64())  # days since 1970-01-01
    return pc.subtract(pc.multiply(days, NS_PER_DAY), UTC_OFFSET_NS).cast(TIMESTAMP_TYPE)


# --- checks --------------------------------------------------------------------------------


def only_symbol(table: pa.Table, column: str, expected: str, what: str) -> None:
    """Stop unless every row's ``column`` is ``expected``."""
    found = sorted(str(v) for v in pc.unique(table.column(column)).to_pylist())
    if found != [expected]:
        raise BuildError(f"{what}: expected only {column} {expected!r}, found {found}")


def check_ohlc(table: pa.Table, what: str) -> None:
    """Stop unless low <= min(open, close), max(open, close) <= high and low <= high everywhere."""
    low, high = table.column("low"), table.column("high")
    body_low = pc.min_element_wise(table.column("open"), table.column("close"))
    body_high = pc.max_element_wise(table.column("open"), table.column("close"))
    good = pc.and_(
        pc.and_(pc.less_equal(low, body_low), pc.less_equal(body_high, high)),
        pc.less_equal(low, high),
    )
    # a row with a missing price gives a null mask value, emitted as a (null) bad row
    bad = table.filter(pc.invert(good), null_selection_behavior="emit_null")
    if bad.num_rows:
        sample = bad.slice(0, 5).to_pylist()
        raise BuildError(f"{what}: {bad.num_rows} rows fail the OHLC check, e.g. {sample}")


def check_grid(table: pa.Table, columns: Sequence[str], tick: float, what: str) -> None:
    """Stop unless every non-null value of ``columns`` is a multiple of ``tick``."""
    for name in columns:
        ratio = pc.divide(table.column(name), pa.scalar(tick))
        off = pc.greater(pc.abs(pc.subtract(ratio, pc.round(ratio))), pa.scalar(1e-6))
        count = pc.sum(pc.cast(pc.fill_null(off, pa.scalar(False)), pa.int64())).as_py() or 0
        if count:
            raise BuildError(f"{what}: {count} {name} values are not multiples of {tick}")


# --- one reader per source format ----------------------------------------------------------


def tqsdk_1min(path: Path, source_symbol: str, tick: float) -> pa.Table:
    """TqSdk 1-minute klines (``tqsdk/*.csv``).

    ``datetime`` is already the bar start (Beijing time); prices in CNY (per index point for
    IF, per gram for au), volume and open interest in contracts. ``symbol`` and ``kline_id``
    are dropped; the source has no turnover (amount).
    """
    table = read_csv(path, TQSDK_KLINE_TYPES)
    only_symbol(table, "symbol", source_symbol, path.name)
    check_ohlc(table, path.name)
    check_grid(table, KLINE_PRICES, tick, path.name)
    names = ["open", "high", "low", "close", "volume", "open_oi", "close_oi"]
    out = pa.table(
        [beijing_to_utc(table.column("datetime")), *(table.column(n) for n in names)],
        names=["datetime", *names],
    )
    return out.sort_by("datetime")


def if2003_1min(raw: Path) -> pa.Table:
    """``tqsdk/CFFEX.IF2003_1min.csv`` → IF2003.IF 1m."""
    return tqsdk_1min(source_path(raw, "tqsdk/CFFEX.IF2003_1min.csv"), "CFFEX.IF2003", 0.2)


def au1912_1min(raw: Path) -> pa.Table:
    """``tqsdk/SHFE.au1912_1min.csv`` → au1912.SF 1m (prices checked on the old 0.05 grid)."""
    return tqsdk_1min(source_path(raw, "tqsdk/SHFE.au1912_1min.csv"), "SHFE.au1912", 0.05)


def sh600009_1min(raw: Path) -> pa.Table:
    """``wondertrader/SSE.600009_1min_...csv`` → 600009.SH 1m.

    The source labels each bar with its END time (09:31 … 15:00); the store wants the start,
    so 60 s are subtracted. Prices in CNY; volume is already in shares. No amount.
    """
    path = source_path(raw, "wondertrader/SSE.600009_1min_20200102-20200410.csv")
    types = {name: TQSDK_KLINE_TYPES[name] for name in ("datetime", "symbol", *KLINE_PRICES)}
    table = read_csv(path, {**types, "volume": pa.int64()})
    only_symbol(table, "symbol", "SSE.600009", path.name)
    check_ohlc(table, path.name)
    end_ns = beijing_to_utc(table.column("datetime")).cast(pa.int64())
    start = pc.subtract(end_ns, MINUTE * NS_PER_SECOND).cast(TIMESTAMP_TYPE)
    names = [*KLINE_PRICES, "volume"]
    out = pa.table([start, *(table.column(n) for n in names)], names=["datetime", *names])
    return out.sort_by("datetime")


def wondertrader_ticks(path: Path) -> pa.Table:
    """One day of WonderTrader level-1 ticks of IF2101 (``CFFEX.IF.HOT_tick_YYYYMMDD.csv``).

    Units: prices in index points; ``total_volume`` (→ ``volume``) is the cumulative day volume
    in contracts; ``total_turnover`` (→ ``amount``) the cumulative day turnover in CNY
    (multiplier 300 included); open interest and queue sizes in contracts. ``datetime`` has
    millisecond precision (Beijing time).

    Price columns carry binary noise from the source decoder (4821.400000000001); they are
    rounded to 6 decimals, which restores the exchange's decimal values (ticks are 0.2).
    ``settle_price`` is 0.0 until the post-close updates: 0.0 means "not yet known" and is
    stored as null. Dropped: exchange, code, trading_date, action_date, action_time (all
    contained in datetime/symbol), and the per-tick differences volume, turn_over and
    diff_interest (derivable from the cumulative columns).
    """
    types: dict[str, pa.DataType] = {name: pa.float64() for name in WONDERTRADER_TICK_COLUMNS}
    types["datetime"] = pa.timestamp("ns")
    types["code"] = pa.string()
    table = read_csv(path, types)
    only_symbol(table, "code", "IF2101", path.name)
    arrays: list[pa.Array[Any] | pa.ChunkedArray[Any]] = []
    for source, name in WONDERTRADER_TICK_COLUMNS.items():
        column = table.column(source)
        if name == "datetime":
            arrays.append(beijing_to_utc(column))
            continue
        if name == "settlement":
            column = pc.if_else(
                pc.equal(column, pa.scalar(0.0)), pa.scalar(None, pa.float64()), column
            )
        if name in TICK_PRICES:
            column = pc.round(column, ndigits=6)
        arrays.append(column)
    out = pa.table(arrays, names=list(WONDERTRADER_TICK_COLUMNS.values()))
    check_grid(out, TICK_PRICES, 0.2, path.name)
    return out.sort_by("datetime")


def if2101_ticks(raw: Path) -> pa.Table:
    """The three ``wondertrader/CFFEX.IF.HOT_tick_2021010{4,5,6}.csv`` days → IF2101.IF ticks."""
    days = [wondertrader_ticks(source_path(raw, name)) for name in IF2101_TICK_FILES]
    return pa.concat_tables(days).sort_by("datetime")


def daily(
    table: pa.Table, store_symbol: str, volume_factor: int, price_decimals: int | None = None
) -> pa.Table:
    """Daily klines from the hikyuu/TDX columns; ``datetime`` = 00:00 Beijing of ``date``.

    ``price_decimals`` rounds the prices (half to even) when given.
    """
    check_ohlc(table, store_symbol)
    volume = pc.multiply(table.column("volume"), volume_factor)
    prices = [table.column(n) for n in KLINE_PRICES]
    if price_decimals is not None:
        prices = [pc.round(p, ndigits=price_decimals) for p in prices]
    out = pa.table(
        [
            day_start(table.column("date")),
            *prices,
            volume,
            table.column("amount"),
        ],
        names=["datetime", *KLINE_PRICES, "volume", "amount"],
    )
    return out.sort_by("datetime")


def store_symbol_of(source_symbol: str) -> str:
    """``SH.600004`` → ``600004.SH``, ``SZ.000001`` → ``000001.SZ``."""
    exchange, code = source_symbol.split(".")
    if exchange not in ("SH", "SZ"):
        raise BuildError(f"unexpected exchange in source symbol {source_symbol!r}")
    return f"{code}.{exchange}"


def hikyuu_daily(raw: Path) -> dict[str, pa.Table]:
    """``hikyuu/cn_stock_daily_8symbols_1990-2011.csv`` → 1d klines by store symbol.

    Every symbol except SH.600000 (stored from the TDX file instead). Prices in CNY (index
    points for the index), unadjusted. ``volume`` is in lots of 100 shares for stocks and is
    multiplied by 100 to give shares; for the SSE Composite index (000001.SH) it is kept as the
    source stores it. ``amount`` is CNY (rounded to thousands by the source).

    Stock prices are rounded to the 0.01 CNY tick: the source keeps price × 1000 as an integer
    and about 400 of its prices end in a stray 9 in the third decimal (16.309 where the TDX
    file and the exchange have 16.31). Index prices keep their 3 decimals.
    """
    table = read_csv(source_path(raw, HIKYUU_DAILY), DAILY_TYPES)
    result: dict[str, pa.Table] = {}
    for source_symbol in sorted(str(s) for s in pc.unique(table.column("symbol")).to_pylist()):
        if source_symbol in HIKYUU_SKIPPED:
            continue
        symbol = store_symbol_of(source_symbol)
        rows = table.filter(pc.equal(table.column("symbol"), pa.scalar(source_symbol)))
        if symbol in INDEX_SYMBOLS:
            result[symbol] = daily(rows, symbol, 1)
        else:
            result[symbol] = daily(rows, symbol, 100, price_decimals=2)
    return result


def sh600000_daily(raw: Path) -> pa.Table:
    """``hikyuu/tdx_daily_SH000001_SH600000_1990-2025.csv``, SH.600000 rows → 600000.SH 1d.

    Prices in CNY, unadjusted. ``volume`` is already in shares (``volume_unit`` is checked);
    ``amount`` is CNY with float32 precision. The file's SH.000001 rows are not used: 16 of
    them fail the OHLC check, and the index comes from the hikyuu file.
    """
    table = read_csv(source_path(raw, TDX_DAILY), {**DAILY_TYPES, "volume_unit": pa.string()})
    rows = table.filter(pc.equal(table.column("symbol"), pa.scalar("SH.600000")))
    only_symbol(rows, "volume_unit", "shares", "SH.600000 in the TDX file")
    return daily(rows, "600000.SH", 1)


# --- the store -----------------------------------------------------------------------------


def trading_days() -> list[date]:
    """SSE trading days from exchange_calendars' XSHG calendar."""
    with warnings.catch_warnings():
        # exchange_calendars triggers pandas deprecation warnings that do not concern us
        warnings.simplefilter("ignore", DeprecationWarning)
        calendar = exchange_calendars.get_calendar("XSHG", start=CALENDAR_START, end=CALENDAR_END)
        return sorted(session.date() for session in calendar.sessions)


def serials(raw: Path) -> list[tuple[str, int, pa.Table]]:
    """Every (symbol, duration in seconds, table) to store, sorted by symbol and duration."""
    builders: list[tuple[str, int, Callable[[Path], pa.Table]]] = [
        ("IF2003.IF", MINUTE, if2003_1min),
        ("au1912.SF", MINUTE, au1912_1min),
        ("600009.SH", MINUTE, sh600009_1min),
        ("IF2101.IF", TICK, if2101_ticks),
        ("600000.SH", DAY, sh600000_daily),
    ]
    found = [(symbol, duration, build(raw)) for symbol, duration, build in builders]
    found += [(symbol, DAY, table) for symbol, table in hikyuu_daily(raw).items()]
    return sorted(found, key=lambda item: (item[0], item[1]))


def reset(out: Path) -> None:
    """Delete ``out`` if it is a store (or empty); refuse to delete any other directory."""
    if not out.exists():
        return
    if out.is_dir() and ((out / "store.json").is_file() or not any(out.iterdir())):
        shutil.rmtree(out)
        return
    raise BuildError(f"{out} exists and is not a data store; refusing to delete it")


def build(raw: Path, out: Path) -> list[tuple[str, int, pa.Table]]:
    """Delete ``out`` and write the whole store there from the files under ``raw``."""
    found = serials(raw)  # read and check everything before touching the output
    stored = {symbol for symbol, _, _ in found}
    if stored != INSTRUMENTS.keys():
        raise BuildError(
            f"instrument rows and stored symbols differ: {stored ^ INSTRUMENTS.keys()}"
        )
    reset(out)
    store = Store.create(out)
    for symbol, duration, table in found:
        store.write(symbol, duration, table)
    store.write_instruments(INSTRUMENTS)
    store.write_calendar(trading_days())
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--raw", type=Path, default=REPO_ROOT / "data" / "raw")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "data" / "store")
    args = parser.parse_args(argv)
    try:
        found = build(args.raw, args.out)
    except BuildError as exc:
        print(f"build_store: {exc}", file=sys.stderr)
        return 1
    for symbol, duration, table in found:
        times = table.column("datetime")
        first, last = pc.min(times).as_py(), pc.max(times).as_py()
        label = period_label(duration)
        print(f"{symbol:10} {label:4} {table.num_rows:6} rows  {first} → {last}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
