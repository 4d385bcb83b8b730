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

Every series is imported with :func:`backtest.csvimport.import_csv` and one of its presets (the
same path users take with ``backtest data import``), under the default ``refuse`` policy: a row
that fails a check stops the build instead of being repaired. After the import the build checks
that every futures price lies on its contract's tick grid.
``data/README.md`` describes the sources, their licences and every conversion made here.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import warnings
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, Final

import exchange_calendars  # type: ignore[import-untyped, unused-ignore]
import numpy as np

from backtest.csvimport import import_csv
from backtest.errors import DataError
from backtest.store import Store

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
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
CALENDAR_START: Final = "1990-12-19"
CALENDAR_END: Final = "2026-12-31"


class BuildError(Exception):
    """The raw data is not what this script expects; nothing is repaired silently."""


# --- the sources, as imports with the presets of backtest.csvimport ----------------------

IMPORTS: Final[tuple[tuple[str, str, str, tuple[str, ...], int | None], ...]] = (
    # symbol, period, format, raw files, price decimals
    ("IF2003.IF", "1m", "tqsdk", ("tqsdk/CFFEX.IF2003_1min.csv",), None),
    ("au1912.SF", "1m", "tqsdk", ("tqsdk/SHFE.au1912_1min.csv",), None),
    # WonderTrader labels bars by their end; volume in shares.
    ("600009.SH", "1m", "wondertrader-bar",
     ("wondertrader/SSE.600009_1min_20200102-20200410.csv",), None),
    # Level-1 ticks; prices rounded to 6 decimals (decoder noise), settlement 0 = unknown.
    ("IF2101.IF", "tick", "wondertrader-tick", IF2101_TICK_FILES, None),
    # 600000 from the TDX file (to 2025); its SH.000001 rows fail the OHLC check, unused.
    ("600000.SH", "1d", "tdx", (TDX_DAILY,), None),
    # The hikyuu index keeps its 3 decimals; stock prices are rounded to the 0.01 tick: the
    # source keeps price x 1000 as an integer and ~400 prices end in a stray 9.
    ("000001.SH", "1d", "hikyuu", (HIKYUU_DAILY,), None),
    *((symbol, "1d", "hikyuu", (HIKYUU_DAILY,), 2) for symbol in (
        "600004.SH", "600005.SH", "000001.SZ", "000002.SZ", "000004.SZ", "000005.SZ")),
)  # fmt: skip
"""Everything stored, by the import that produces it."""
TICK_GRIDS: Final = {"IF2003.IF": 0.2, "IF2101.IF": 0.2, "au1912.SF": 0.05}
"""Price ticks checked after the build (au1912's 2019 prices lie on the old 0.05 grid)."""


def source_path(raw: Path, name: str) -> Path:
    """``raw/name`` if it exists, else its xz-compressed copy ``raw/name.xz``."""
    for path in (raw / name, raw / f"{name}.xz"):
        if path.is_file():
            return path
    raise BuildError(f"raw file {name} not found in {raw} (neither .csv nor .csv.xz)")


def trading_days() -> list[date]:
    """SSE trading days from exchange_calendars' XSHG calendar."""
    with warnings.catch_warnings():
        # exchange_calendars triggers pandas deprecation warnings that do not concern us
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        calendar = exchange_calendars.get_calendar("XSHG", start=CALENDAR_START, end=CALENDAR_END)
        return sorted(session.date() for session in calendar.sessions)


def check_grid(store: Store, symbol: str, tick: float) -> None:
    """Stop unless every stored price of ``symbol`` is a multiple of ``tick``."""
    for duration in store.durations(symbol):
        columns = store.available_columns(symbol, duration)
        prices = [c for c in columns if c in ("open", "high", "low", "close", "last_price",
                                              "bid_price1", "ask_price1")]  # fmt: skip
        for batch in store.scan(symbol, duration, 0, 2**62, prices):
            for name in prices:
                ratio = batch.column(name).to_numpy(zero_copy_only=False) / tick
                if (np.abs(ratio - np.round(ratio)) > 1e-6).any():  # NaN compares False
                    raise BuildError(f"{symbol}: {name} prices are not multiples of {tick}")


def reset(out: Path) -> None:
    """Delete ``out`` if it is a store (or empty); refuse to delete any other directory."""
    if not out.exists():
        return
    if out.is_dir() and ((out / "store.json").is_file() or not any(out.iterdir())):
        shutil.rmtree(out)
        return
    raise BuildError(f"{out} exists and is not a data store; refusing to delete it")


def build(raw: Path, out: Path) -> list[tuple[str, str, int]]:
    """Delete ``out`` and write the whole store there from the files under ``raw``."""
    stored = {symbol for symbol, *_ in IMPORTS}
    if stored != INSTRUMENTS.keys():
        raise BuildError(
            f"instrument rows and stored symbols differ: {stored ^ INSTRUMENTS.keys()}"
        )
    files = {job: [source_path(raw, name) for name in job[3]] for job in IMPORTS}
    reset(out)
    store = Store.create(out)
    store.write_instruments(INSTRUMENTS)
    store.write_calendar(trading_days())
    done = []
    for job in IMPORTS:
        symbol, period, form, _, decimals = job
        report = import_csv(store, files[job], symbol, period, format=form, decimals=decimals)
        done.append((symbol, period, report.rows))
    for symbol, tick in TICK_GRIDS.items():
        check_grid(store, symbol, tick)
    return done


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--raw", type=Path, default=REPO_ROOT / "data" / "raw")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "data" / "store")
    args = parser.parse_args(argv)
    try:
        done = build(args.raw, args.out)
    except (BuildError, DataError) as exc:
        print(f"build_store: {exc}", file=sys.stderr)
        return 1
    for symbol, period, rows in done:
        print(f"{symbol:10} {period:4} {rows:6} rows")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
