"""CSV import (backtest/csvimport.py): every preset on real files, the options, the errors, and
what refused, repeated and adjacent imports do to the store.

The real files are ``data/raw`` (xz-compressed, imported exactly as ``data/build_store.py``
does) and the team's plain copies in ``/work/shared/data/real``. Expected rows were read from
those CSV files by hand (``head``/``tail``/``grep`` of the source row, then the conversion the
preset documents). Small hand-written CSVs reuse real rows, quoted where they are defined.
"""

from __future__ import annotations

import bz2
import gzip
import importlib.util
import lzma
import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa
import pytest

from backtest.csvimport import import_csv
from backtest.errors import ConfigError, DataError
from backtest.model import parse_period
from backtest.store import Store
from backtest.validate import Policy

REPO = Path(__file__).resolve().parent.parent
RAW = REPO / "data" / "raw"
SHARED = Path("/work/shared/data/real")
"""The team's copy of the raw files as received: plain CSVs, a README per source."""
BEIJING = timezone(timedelta(hours=8))
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OHLCV = ("open", "high", "low", "close", "volume")


def _load_build_store() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_store", REPO / "data" / "build_store.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILD = _load_build_store()


@pytest.fixture
def store(empty_store: Store) -> Store:
    """An empty store with the sample calendar and build_store's instrument rows."""
    empty_store.write_instruments(BUILD.INSTRUMENTS)
    return empty_store


def at(text: str) -> int:
    """int ns of a Beijing wall-clock time (fixed UTC+8), computed without backtest.times."""
    moment = datetime.fromisoformat(text).replace(tzinfo=BEIJING)
    return (moment - EPOCH) // timedelta(microseconds=1) * 1000


def shown(ts_ns: int) -> str:
    """Beijing time as ``YYYY-MM-DD HH:MM:SS.mmm``."""
    moment = EPOCH + timedelta(microseconds=ts_ns // 1000)
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def stored(
    store: Store, symbol: str, period: str, columns: Sequence[str] = OHLCV
) -> list[tuple[Any, ...]]:
    """Every stored row as (Beijing time, *columns); missing values as None."""
    batches = store.scan(symbol, parse_period(period), -(2**62), 2**62, columns)
    rows = pa.Table.from_batches(list(batches)).to_pylist()

    def plain(value: Any) -> Any:
        return None if isinstance(value, float) and math.isnan(value) else value

    return [(shown(row["datetime"]), *(plain(row[c]) for c in columns)) for row in rows]


def write_csv(path: Path, *lines: str) -> Path:
    """A CSV file of these lines, compressed as its suffix says (.gz, .bz2, .xz)."""
    data = ("\n".join(lines) + "\n").encode()
    compress: dict[str, Callable[[bytes], bytes]] = {
        ".gz": gzip.compress,
        ".bz2": bz2.compress,
        ".xz": lzma.compress,
    }
    path.write_bytes(compress.get(path.suffix, bytes)(data))
    return path


def snapshot(store: Store) -> dict[str, bytes]:
    """Every file of the store (hidden ones too) and its bytes."""
    root = store.root
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def data_rows(path: Path) -> int:
    """Data rows of a plain or xz CSV (lines after the header)."""
    data = lzma.decompress(path.read_bytes()) if path.suffix == ".xz" else path.read_bytes()
    return data.count(b"\n") - 1


# Real rows, as in the files: the first rows of tqsdk/CFFEX.IF2003_1min.csv and
# tqsdk/SHFE.au1912_1min.csv.
TQ_HEADER = "datetime,symbol,open,high,low,close,volume,open_oi,close_oi,kline_id"
IF2003_ROWS = (
    "2019-12-16 14:21:00,CFFEX.IF2003,3981.2,3982.0,3980.8,3981.4,35,28792,28796,23961",
    "2019-12-16 14:22:00,CFFEX.IF2003,3981.4,3982.6,3981.4,3982.4,12,28796,28792,23962",
    "2019-12-16 14:23:00,CFFEX.IF2003,3982.4,3984.0,3981.6,3984.0,51,28792,28795,23963",
)
IF2003_STORED = [
    ("2019-12-16 14:21:00.000", 3981.2, 3982.0, 3980.8, 3981.4, 35.0),
    ("2019-12-16 14:22:00.000", 3981.4, 3982.6, 3981.4, 3982.4, 12.0),
    ("2019-12-16 14:23:00.000", 3982.4, 3984.0, 3981.6, 3984.0, 51.0),
]
AU1912_ROW = "2019-04-08 13:36:00,SHFE.au1912,286.6,286.75,286.6,286.75,144,42734,42844,50542"


# --- every preset on the real files of data/raw, as data/build_store.py imports them ------------

TQ_COLUMNS = (*OHLCV, "open_oi", "close_oi")
DAILY_COLUMNS = (*OHLCV, "amount")
TICK_COLUMNS = (
    "last_price", "bid_price1", "bid_volume1", "ask_price1", "ask_volume1", "volume",
    "open_interest", "amount", "upper_limit", "lower_limit", "settlement",
)  # fmt: skip
RAW_EXPECTED: dict[str, tuple[Sequence[str], int, tuple[Any, ...], tuple[Any, ...]]] = {
    # symbol: (columns, rows, first row, last row). Rows: the files' data rows (wc -l minus the
    # header; for multi-symbol files, grep -c of the symbol). Values: the first and last source
    # rows of the symbol, converted as each preset documents.
    # tqsdk: bar start kept, identity columns.
    "IF2003.IF": (TQ_COLUMNS, 12_279,
        ("2019-12-16 14:21:00.000", 3981.2, 3982.0, 3980.8, 3981.4, 35.0, 28792.0, 28796.0),
        ("2020-03-05 14:59:00.000", 4193.0, 4193.6, 4191.6, 4191.8, 894.0, 100051.0, 100356.0)),
    "au1912.SF": (TQ_COLUMNS, 33_969,
        ("2019-04-08 13:36:00.000", 286.6, 286.75, 286.6, 286.75, 144.0, 42734.0, 42844.0),
        ("2019-07-09 23:14:00.000", 314.85, 314.9, 314.7, 314.7, 750.0, 220184.0, 220405.0)),
    # wondertrader-bar: source 09:31 / 10:27 are bar ends, stored 60 s earlier; shares.
    "600009.SH": (OHLCV, 15_353,
        ("2020-01-02 09:30:00.000", 78.78, 78.89, 78.78, 78.81, 175658.0),
        ("2020-04-10 10:26:00.000", 66.8, 66.9, 66.65, 66.7, 78000.0)),
    # wondertrader-tick, three files (27,955 + 28,254 + 28,138 rows); settlement 0.0 → None.
    "IF2101.IF": (TICK_COLUMNS, 84_347,
        ("2021-01-04 09:29:00.400", 5230.0, 5230.0, 1.0, 5230.8, 2.0, 240.0, 90767.0,
         376560000.0, 5737.8, 4694.6, None),
        ("2021-01-06 15:44:33.000", 5408.4, 5408.4, 4.0, 5408.8, 2.0, 94934.0, 85935.0,
         153535642320.0, 5892.6, 4821.4, 5397.8)),
    # tdx: SH.600000 rows 8,457 and 14,575 of the file, volume_unit "shares".
    "600000.SH": (DAILY_COLUMNS, 6_119,
        ("1999-11-10 00:00:00.000", 29.5, 29.8, 27.0, 27.75, 174085000.0, 4859102208.0),
        ("2025-08-05 00:00:00.000", 13.15, 13.78, 13.14, 13.75, 133646594.0, 1812400000.0)),
    # hikyuu: the index keeps its volume (1,260 "lots") and 3 decimals ...
    "000001.SH": (DAILY_COLUMNS, 5_121,
        ("1990-12-19 00:00:00.000", 96.05, 99.98, 95.79, 99.98, 1260.0, 494000.0),
        ("2011-12-06 00:00:00.000", 2326.66, 2331.892, 2310.155, 2325.905, 45917078.0,
         42625595000.0)),
    # ... stocks have volume in lots × 100 and prices rounded to 2 decimals.
    "600004.SH": (DAILY_COLUMNS, 2_044,
        ("2003-04-28 00:00:00.000", 7.72, 8.76, 7.69, 8.75, 187469900.0, 1512258000.0),
        ("2011-12-06 00:00:00.000", 6.85, 6.88, 6.8, 6.86, 1305400.0, 8912000.0)),
    "600005.SH": (DAILY_COLUMNS, 2_921,
        ("1999-08-03 00:00:00.000", 4.89, 4.97, 4.8, 4.86, 83774300.0, 408130000.0),
        ("2011-12-06 00:00:00.000", 3.12, 3.16, 3.12, 3.15, 9909000.0, 31140000.0)),
    "000001.SZ": (DAILY_COLUMNS, 4_937,
        ("1991-01-02 00:00:00.000", 67.41, 67.41, 67.41, 67.41, 58900.0, 3976000.0),
        ("2011-12-05 00:00:00.000", 15.94, 16.04, 15.7, 15.95, 11349200.0, 180715000.0)),
    "000002.SZ": (DAILY_COLUMNS, 5_022,
        ("1991-01-02 00:00:00.000", 15.63, 15.63, 15.63, 15.63, 19000.0, 1486000.0),
        ("2011-12-06 00:00:00.000", 7.29, 7.49, 7.25, 7.4, 40032100.0, 296682000.0)),
    "000004.SZ": (DAILY_COLUMNS, 4_954,
        ("1991-01-02 00:00:00.000", 16.78, 16.78, 16.78, 16.78, 2300.0, 193000.0),
        ("2011-12-06 00:00:00.000", 10.58, 11.17, 10.35, 10.89, 757400.0, 8246000.0)),
    "000005.SZ": (DAILY_COLUMNS, 4_644,
        ("1991-01-02 00:00:00.000", 18.21, 18.21, 18.21, 18.21, 10100.0, 920000.0),
        ("2011-04-29 00:00:00.000", 3.83, 3.87, 3.77, 3.86, 4264400.0, 16326000.0)),
}  # fmt: skip


@pytest.mark.parametrize("job", BUILD.IMPORTS, ids=[job[0] for job in BUILD.IMPORTS])
def test_raw_files_import_with_their_presets(store: Store, job: tuple[Any, ...]) -> None:
    symbol, period, form, names, decimals = job
    assert symbol in RAW_EXPECTED, f"add the expected rows of {symbol} to RAW_EXPECTED"
    columns, rows, first, last = RAW_EXPECTED[symbol]
    paths = [RAW / f"{name}.xz" for name in names]
    report = import_csv(store, paths, symbol, period, format=form, decimals=decimals)
    assert report.rows == rows
    assert [p for p, _ in report.files] == [str(p) for p in paths]
    found = stored(store, symbol, period, columns)
    assert (len(found), found[0], found[-1]) == (rows, first, last)


# --- every file of the shared real data imports with some preset --------------------------------

SharedImport = tuple[str, str, str, dict[str, Any], str]
"""symbol, period, format, other import_csv arguments, expected report summary."""
SHARED_IMPORTS: dict[str, list[SharedImport]] = {
    # Row counts: the READMEs' tables, checked with grep -c / wc -l.
    # Multi-symbol files: every import counts all rows of the file (32,479 and 14,574).
    "hikyuu/cn_stock_daily_8symbols_1990-2011.csv": [
        (
            symbol,
            "1d",
            "hikyuu",
            {},
            f"{rows} of 32479 rows kept ({32479 - rows} rows of other symbols)",
        )
        for symbol, rows in (
            ("000001.SH", 5121),
            ("600000.SH", 2836),
            ("600004.SH", 2044),
            ("600005.SH", 2921),
            ("000001.SZ", 4937),
            ("000002.SZ", 5022),
            ("000004.SZ", 4954),
            ("000005.SZ", 4644),
        )
    ],
    "hikyuu/tdx_daily_SH000001_SH600000_1990-2025.csv": [
        # 16 index rows of 1991-1995 fail the OHLC check (the file's README)
        (
            "000001.SH",
            "1d",
            "tdx",
            {"policy": Policy.SKIP},
            "8439 of 14574 rows kept (6119 rows of other symbols, 16 bad rows dropped)",
        ),
        ("600000.SH", "1d", "tdx", {}, "6119 of 14574 rows kept (8455 rows of other symbols)"),
    ],
    "tqsdk/CFFEX.IF2003_1min.csv": [("IF2003.IF", "1m", "tqsdk", {}, "12279 of 12279 rows kept")],
    "tqsdk/SHFE.au1912_1min.csv": [("au1912.SF", "1m", "tqsdk", {}, "33969 of 33969 rows kept")],
    **{
        f"wondertrader/CFFEX.IF.HOT_tick_{day}.csv": [
            ("IF2101.IF", "tick", "wondertrader-tick", {}, f"{rows} of {rows} rows kept")
        ]
        for day, rows in (("20210104", 27955), ("20210105", 28254), ("20210106", 28138))
    },
    "wondertrader/SSE.600009_1min_20200102-20200410.csv": [
        ("600009.SH", "1m", "wondertrader-bar", {}, "15353 of 15353 rows kept")
    ],
}
SHARED_FILES = (
    sorted(
        p.relative_to(SHARED).as_posix()
        for p in SHARED.rglob("*")
        if p.is_file() and p.name != "README.md"
    )
    if SHARED.is_dir()
    else []
)


@pytest.mark.parametrize("name", SHARED_FILES)
def test_every_shared_real_file_imports_with_a_preset(empty_store: Store, name: str) -> None:
    # a store without instrument rows: the products' defaults decide units and sessions
    imports = SHARED_IMPORTS.get(name)
    if imports is None:
        pytest.fail(f"{SHARED / name} is new: add the import that reads it to SHARED_IMPORTS")
    path = SHARED / name
    own_rows = 0
    for symbol, period, form, options, summary in imports:
        report = import_csv(empty_store, [path], symbol, period, format=form, **options)
        assert report.summary() == f"{path}: {summary}"
        assert len(stored(empty_store, symbol, period, ["close"])) == report.rows
        checked = report.files[0][1]
        assert checked.rows_in == data_rows(path)
        own_rows += checked.rows_in - checked.other_rows
    assert own_rows == data_rows(path)  # every row of the file belongs to one of the imports


def test_shared_imports_name_only_existing_files() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not on this machine")
    assert sorted(SHARED_IMPORTS) == SHARED_FILES


# --- xtquant and generic: real rows rewritten in those formats ------------------------------------


def test_generic_preset_reads_any_headers_through_a_column_mapping(
    store: Store, tmp_path: Path
) -> None:
    renamed = [",".join(row.split(",")[:7]) for row in IF2003_ROWS]
    path = write_csv(tmp_path / "if.csv", "Time,Code,O,H,L,C,Vol", *renamed)
    mapping = {"datetime": "Time", "open": "O", "high": "H", "low": "L", "close": "C"}
    import_csv(store, [path], "IF2003.IF", "1m", columns={**mapping, "volume": "Vol"})
    assert stored(store, "IF2003.IF", "1m") == IF2003_STORED
    assert store.available_columns("IF2003.IF", 60) == ("datetime", *OHLCV)


def test_a_mapping_to_a_missing_price_column_names_it(store: Store, tmp_path: Path) -> None:
    renamed = [",".join(row.split(",")[:7]) for row in IF2003_ROWS]
    path = write_csv(tmp_path / "if.csv", "Time,Code,O,H,L,C,Vol", *renamed)
    mapping = {
        "datetime": "Time",
        "open": "O",
        "high": "H",
        "low": "L",
        "close": "Close",
        "volume": "Vol",
    }
    with pytest.raises(DataError) as caught:
        import_csv(store, [path], "IF2003.IF", "1m", columns=mapping)
    assert str(caught.value) == (
        f"{path}: no column 'Close' (for close): is --format or --columns right? (columns: Time, "
        "Code, O, H, L, C, Vol)"
    )


def test_a_preset_mapping_can_be_overridden_including_the_time_column(
    store: Store, tmp_path: Path
) -> None:
    header = TQ_HEADER.replace("datetime", "bar_start").replace("volume", "vol")
    path = write_csv(tmp_path / "if.csv", header, *IF2003_ROWS)
    columns = {"datetime": "bar_start", "volume": "vol"}
    import_csv(store, [path], "IF2003.IF", "1m", format="tqsdk", columns=columns)
    assert stored(store, "IF2003.IF", "1m") == IF2003_STORED


def test_xtquant_bars_are_labelled_by_their_end_with_stock_volume_in_lots(
    store: Store, tmp_path: Path
) -> None:
    # The last two bars of wondertrader/SSE.600009_1min_20200102-20200410.csv (ends 10:26 and
    # 10:27, volumes 117,900 and 78,000 shares) as get_market_data_ex(...).to_csv() writes them:
    # the index, then time in ms (UTC) of the bar's end, volume in lots.
    path = write_csv(
        tmp_path / "600009.csv",
        ",time,open,high,low,close,volume",
        f"20200410102600,{at('2020-04-10 10:26') // 10**6},66.63,66.85,66.63,66.8,1179",
        f"20200410102700,{at('2020-04-10 10:27') // 10**6},66.8,66.9,66.65,66.7,780",
    )
    report = import_csv(store, [path], "600009.SH", "1m", format="xtquant")
    assert report.rows == 2
    expected = [
        ("2020-04-10 10:25:00.000", 66.63, 66.85, 66.63, 66.8, 117900.0),
        ("2020-04-10 10:26:00.000", 66.8, 66.9, 66.65, 66.7, 78000.0),
    ]
    assert stored(store, "600009.SH", "1m") == expected
    # the same bars through their own preset land on the same rows
    wt = write_csv(
        tmp_path / "wt.csv",
        "datetime,symbol,open,high,low,close,volume",
        "2020-04-10 10:26:00,SSE.600009,66.63,66.85,66.63,66.8,117900",
        "2020-04-10 10:27:00,SSE.600009,66.8,66.9,66.65,66.7,78000",
    )
    import_csv(store, [wt], "600009.SH", "1m", format="wondertrader-bar")
    assert stored(store, "600009.SH", "1m") == expected


XT_TICK_HEADER = (
    ",time,lastPrice,open,high,low,lastClose,amount,volume,openInt,lastSettlementPrice,"
    "askPrice,bidPrice,askVol,bidVol"
)


def xt_tick(when: str, rest: str) -> str:
    """An xtquant tick row: the index, time in ms, then ``rest``."""
    return f"{when},{at(when) // 10**6},{rest}"


def test_xtquant_ticks_expand_the_book_lists_and_treat_zero_levels_as_missing(
    store: Store, tmp_path: Path
) -> None:
    # The first two ticks of wondertrader/CFFEX.IF.HOT_tick_20210104.csv in xtquant's fields
    # (that README maps them: lastPrice=price, volume=total_volume, openInt=open_interest …).
    path = write_csv(
        tmp_path / "if2101.csv",
        XT_TICK_HEADER,
        xt_tick(
            "2021-01-04 09:29:00.400",
            "5230.0,5230.0,5230.0,5230.0,5227.0,376560000.0,240,90767,5216.2,"
            '"[5230.8, 0.0, 0.0, 0.0, 0.0]","[5230.0, 0.0, 0.0, 0.0, 0.0]","[2, 0, 0, 0, 0]",'
            '"[1, 0, 0, 0, 0]"',
        ),
        xt_tick(
            "2021-01-04 09:30:00.400",
            "5230.8,5230.0,5232.8,5229.2,5227.0,487976040.0,311,90751,5216.2,"
            '"[5231.6, 0.0, 0.0, 0.0, 0.0]","[5231.4, 0.0, 0.0, 0.0, 0.0]","[1, 0, 0, 0, 0]",'
            '"[2, 0, 0, 0, 0]"',
        ),
    )
    import_csv(store, [path], "IF2101.IF", "tick", format="xtquant")
    columns = (
        "last_price",
        "volume",
        "open_interest",
        "highest",
        "lowest",
        "pre_close",
        "pre_settlement",
        "ask_price1",
        "ask_volume1",
        "bid_price1",
        "bid_volume1",
        "ask_price2",
        "ask_volume2",
        "bid_price5",
    )
    assert stored(store, "IF2101.IF", "tick", columns) == [
        ("2021-01-04 09:29:00.400", 5230.0, 240.0, 90767.0, 5230.0, 5230.0, 5227.0, 5216.2,
         5230.8, 2.0, 5230.0, 1.0, None, None, None),
        ("2021-01-04 09:30:00.400", 5230.8, 311.0, 90751.0, 5232.8, 5229.2, 5227.0, 5216.2,
         5231.6, 1.0, 5231.4, 2.0, None, None, None),
    ]  # fmt: skip


def test_xtquant_stock_ticks_convert_lots_and_drop_the_trading_status(
    store: Store, tmp_path: Path
) -> None:
    # A stock's tick: volume and book volumes in lots, openInt is the trading status (13)
    path = write_csv(
        tmp_path / "600009.csv",
        XT_TICK_HEADER,
        xt_tick(
            "2020-01-02 09:30:03",
            "70.5,70.5,70.5,70.5,70.0,705000.0,100,13,0.0,"
            '"[70.51, 70.52, 0.0, 0.0, 0.0]","[70.5, 0.0, 0.0, 0.0, 0.0]","[3, 4, 0, 0, 0]",'
            '"[5, 0, 0, 0, 0]"',
        ),
    )
    import_csv(store, [path], "600009.SH", "tick", format="xtquant")
    columns = ("last_price", "volume", "amount", "ask_volume1", "ask_volume2", "bid_volume1")
    assert stored(store, "600009.SH", "tick", columns) == [
        ("2020-01-02 09:30:03.000", 70.5, 10000.0, 705000.0, 300.0, 400.0, 500.0)
    ]
    assert "open_interest" not in store.available_columns("600009.SH", 0)


def test_xtquant_futures_ticks_keep_the_settlement_price(store: Store, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "if2101.csv",
        ",time,lastPrice,volume,openInt,settlementPrice",
        xt_tick("2021-01-04 15:00:00.400", "5275.0,1000,90800,0.0"),
        xt_tick("2021-01-04 15:30:00.000", "5275.0,1000,90800,5278.6"),
    )
    import_csv(store, [path], "IF2101.IF", "tick", format="xtquant")
    assert stored(store, "IF2101.IF", "tick", ("open_interest", "settlement")) == [
        ("2021-01-04 15:00:00.400", 90800.0, None),  # 0: not known yet
        ("2021-01-04 15:30:00.000", 90800.0, 5278.6),
    ]


def test_xtquant_opening_auction_bar_is_folded_as_the_download_does(
    store: Store, tmp_path: Path
) -> None:
    # SZSE 1m bars labelled by their end: 09:30 is the opening auction, folded into 09:30-09:31
    path = write_csv(
        tmp_path / "000001.csv",
        ",time,open,high,low,close,volume,amount",
        f"20240102093000,{at('2024-01-02 09:30') // 10**6},10.0,10.0,10.0,10.0,50,50000.0",
        f"20240102093100,{at('2024-01-02 09:31') // 10**6},10.1,10.2,10.05,10.1,10,10100.0",
        f"20240102093200,{at('2024-01-02 09:32') // 10**6},10.1,10.3,10.1,10.2,20,20300.0",
    )
    report = import_csv(store, [path], "000001.SZ", "1m", format="xtquant")
    assert report.rows == 2
    columns = ("open", "high", "low", "close", "volume", "amount")
    assert stored(store, "000001.SZ", "1m", columns) == [
        ("2024-01-02 09:30:00.000", 10.0, 10.2, 10.0, 10.1, 6000.0, 60100.0),
        ("2024-01-02 09:31:00.000", 10.1, 10.3, 10.1, 10.2, 2000.0, 20300.0),
    ]


def test_xtquant_tick_with_more_than_five_levels_is_refused(store: Store, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "deep.csv",
        ",time,lastPrice,volume,askPrice",
        xt_tick("2021-01-04 09:30:00", '5230.0,10,"[1, 2, 3, 4, 5, 6]"'),
    )
    with pytest.raises(DataError) as caught:
        import_csv(store, [path], "IF2101.IF", "tick", format="xtquant")
    assert str(caught.value) == (
        f"{path}: row 1, column askPrice: more than 5 levels: '[1, 2, 3, 4, 5, 6]'"
    )


def test_xtquant_ticks_with_bid_and_ask_swapped_are_refused(store: Store, tmp_path: Path) -> None:
    # The two real ticks above with the bid and ask lists written the wrong way round: the
    # 09:29 call-auction tick may cross; the 09:30 one, in continuous trading, may not.
    path = write_csv(
        tmp_path / "swapped.csv",
        XT_TICK_HEADER,
        xt_tick(
            "2021-01-04 09:29:00.400",
            "5230.0,5230.0,5230.0,5230.0,5227.0,376560000.0,240,90767,5216.2,"
            '"[5230.0, 0.0, 0.0, 0.0, 0.0]","[5230.8, 0.0, 0.0, 0.0, 0.0]","[1, 0, 0, 0, 0]",'
            '"[2, 0, 0, 0, 0]"',
        ),
        xt_tick(
            "2021-01-04 09:30:00.400",
            "5230.8,5230.0,5232.8,5229.2,5227.0,487976040.0,311,90751,5216.2,"
            '"[5231.4, 0.0, 0.0, 0.0, 0.0]","[5231.6, 0.0, 0.0, 0.0, 0.0]","[2, 0, 0, 0, 0]",'
            '"[1, 0, 0, 0, 0]"',
        ),
    )
    with pytest.raises(DataError) as caught:
        import_csv(store, [path], "IF2101.IF", "tick", format="xtquant")
    assert str(caught.value) == (
        f"{path}: 1 problem(s) (1 book):\n"
        "  row 2, column bid_price1, value 5231.6: above ask_price1 (5231.4) inside a trading "
        "session: a crossed book (are bid and ask swapped?)\n"
        "fix the data, or use --repair (sort, drop duplicates, drop or clip bad rows) or "
        "--skip-bad-rows (drop the bad rows)"
    )
    assert not store.has("IF2101.IF", 0)


def test_a_sentinel_price_is_refused_even_when_prices_are_rounded(
    store: Store, tmp_path: Path
) -> None:
    # rounding 1.8e308 to 2 decimals overflowed inside pyarrow (a raw ArrowInvalid)
    path = write_csv(
        tmp_path / "bars.csv",
        "datetime,open,high,low,close,volume",
        "2020-01-02 09:30:00,4000.0,4001.0,3999.0,4000.0,1",
        "2020-01-02 09:31:00,1.7976931348623157e308,4001.0,3999.0,4000.0,1",
    )
    with pytest.raises(DataError) as caught:
        import_csv(store, [path], "IF2003.IF", "1m", format="tqsdk", decimals=2)
    assert str(caught.value).splitlines()[:3] == [
        f"{path}: 2 problem(s) (1 ohlc, 1 price):",
        "  row 2, column open, value 1.7976931348623157e+308: open is outside [low, high]",
        "  row 2, column open, value 1.7976931348623157e+308: a price above 1e+09 is not a "
        "price (CTP writes 1.7976931348623157e+308 for 'no value'): fix the data, or leave the "
        "cell empty where the column allows it",
    ]
    assert not store.has("IF2003.IF", 60)


# --- options ------------------------------------------------------------------------------------


def shifted(rows: Sequence[str], hours: int) -> list[str]:
    """Rows with their leading time moved by ``hours``."""
    out = []
    for row in rows:
        when, rest = row.split(",", 1)
        moved = datetime.fromisoformat(when) + timedelta(hours=hours)
        out.append(f"{moved:%Y-%m-%d %H:%M:%S},{rest}")
    return out


def test_a_file_written_in_utc_stores_the_same_instants(store: Store, tmp_path: Path) -> None:
    utc = write_csv(tmp_path / "utc.csv", TQ_HEADER, *shifted(IF2003_ROWS, -8))
    assert utc.read_text().splitlines()[1].startswith("2019-12-16 06:21:00,")
    import_csv(store, [utc], "IF2003.IF", "1m", format="tqsdk", tz="UTC")
    assert stored(store, "IF2003.IF", "1m") == IF2003_STORED


@pytest.mark.parametrize("suffix", ["Z", "+00:00", "+08:00"])
def test_times_written_with_an_offset_keep_it_whatever_tz_says(
    store: Store, tmp_path: Path, suffix: str
) -> None:
    hours = -8 if suffix != "+08:00" else 0
    rows = [f"{row[:10]}T{row[11:19]}{suffix}{row[19:]}" for row in shifted(IF2003_ROWS, hours)]
    path = write_csv(tmp_path / "aware.csv", TQ_HEADER, *rows)
    import_csv(store, [path], "IF2003.IF", "1m", format="tqsdk")  # tz: Asia/Shanghai
    assert stored(store, "IF2003.IF", "1m") == IF2003_STORED


def test_beijing_time_is_a_fixed_utc_plus_8_even_in_1991_summer(
    store: Store, tmp_path: Path
) -> None:
    # hikyuu/cn_stock_daily_8symbols_1990-2011.csv row 13,013; China kept summer time in 1991
    path = write_csv(
        tmp_path / "summer.csv",
        "date,symbol,open,high,low,close,volume,amount",
        "1991-06-03,SZ.000001,37.96,37.96,37.96,37.96,7,26000",
    )
    import_csv(store, [path], "000001.SZ", "1d", format="hikyuu")
    batch = next(store.scan("000001.SZ", 86_400, -(2**62), 2**62, ["close"]))
    assert batch.column("datetime").to_pylist() == [at("1991-06-03 00:00")]


def test_unknown_time_zone_is_a_config_error(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "if.csv", TQ_HEADER, *IF2003_ROWS)
    message = (
        "unknown time zone 'Beijing'; use a zone name such as 'Asia/Shanghai' or 'UTC', or an "
        "offset such as '+08:00'"
    )
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        import_csv(store, [path], "IF2003.IF", "1m", format="tqsdk", tz="Beijing")


@pytest.mark.parametrize("when", ["2019-03-10 02:30:00", "2019-11-03 01:30:00"])
def test_a_time_skipped_or_repeated_by_daylight_saving_is_a_data_error(
    store: Store, tmp_path: Path, when: str
) -> None:
    rows = (IF2003_ROWS[0], IF2003_ROWS[1].replace("2019-12-16 14:22:00", when))
    path = write_csv(tmp_path / "ny.csv", TQ_HEADER, *rows)
    assert refusal(store, path, tz="America/New_York") == (
        f"{path}: row 2, column datetime: value {when!r} does not exist or is ambiguous in "
        "America/New_York (daylight saving time)"
    )


@pytest.mark.parametrize(
    ("period", "label", "source", "start"),
    [
        ("1m", "end", "2024-01-02 09:31:00", "2024-01-02 09:30:00.000"),
        ("5m", "end", "2024-01-02 09:35:00", "2024-01-02 09:30:00.000"),
        ("1m", "start", "2024-01-02 09:31:00", "2024-01-02 09:31:00.000"),
        ("1d", "end", "2024-01-02", "2024-01-02 00:00:00.000"),
    ],
)
def test_label_end_moves_intraday_bars_back_by_their_duration_but_not_daily_bars(
    store: Store, tmp_path: Path, period: str, label: str, source: str, start: str
) -> None:
    path = write_csv(
        tmp_path / "bars.csv", "datetime,open,high,low,close,volume", f"{source},10,11,9,10.5,7"
    )
    import_csv(store, [path], "IF2401.IF", period, format="tqsdk", label=label)
    assert stored(store, "IF2401.IF", period) == [(start, 10.0, 11.0, 9.0, 10.5, 7.0)]


def test_label_start_overrides_the_wondertrader_bar_preset(store: Store, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "wt.csv",
        "datetime,symbol,open,high,low,close,volume",
        "2020-01-02 09:31:00,SSE.600009,78.78,78.89,78.78,78.81,175658",  # the file's first row
    )
    import_csv(store, [path], "600009.SH", "1m", format="wondertrader-bar", label="start")
    assert stored(store, "600009.SH", "1m")[0][0] == "2020-01-02 09:31:00.000"


@pytest.mark.parametrize(
    ("symbol", "unit", "volume"),
    [
        ("600000.SH", "lots", 1200.0),  # stock
        ("510300.SH", "lots", 1200.0),  # fund
        # futures and indexes keep the file's number, with a warning: test_csv_checks.py
        ("600000.SH", "shares", 12.0),
        ("600000.SH", None, 12.0),  # tqsdk's default: shares
    ],
)
def test_volume_in_lots_becomes_shares_for_stocks_and_funds_only(
    store: Store, tmp_path: Path, symbol: str, unit: str | None, volume: float
) -> None:
    path = write_csv(
        tmp_path / "bars.csv",
        "datetime,open,high,low,close,volume",
        "2024-01-02 09:30:00,10,11,9,10.5,12",
    )
    import_csv(store, [path], symbol, "1m", format="tqsdk", volume_unit=unit)
    assert stored(store, symbol, "1m", ["volume"]) == [("2024-01-02 09:30:00.000", volume)]


def test_tdx_volume_unit_column_converts_stock_lots_but_keeps_index_volume(
    store: Store, tmp_path: Path
) -> None:
    # The first rows of hikyuu/tdx_daily_SH000001_SH600000_1990-2025.csv for each symbol, plus
    # the 600000 row written in lots (1,740,850 lots = 174,085,000 shares).
    header = "date,symbol,open,high,low,close,volume,volume_unit,amount"
    index = "1990-12-19,SH.000001,96.05,99.98,95.79,99.98,1260,lots,494000.0"
    stock = "1999-11-10,SH.600000,29.5,29.8,27.0,27.75,174085000,shares,4859102208.0"
    shares = write_csv(tmp_path / "shares.csv", header, index, stock)
    in_lots = stock.replace(",174085000,shares,", ",1740850,lots,")
    lots = write_csv(tmp_path / "lots.csv", header, index, in_lots)
    import_csv(store, [shares], "000001.SH", "1d", format="tdx")
    assert stored(store, "000001.SH", "1d", ["volume"]) == [("1990-12-19 00:00:00.000", 1260.0)]
    for path in (shares, lots):
        import_csv(store, [path], "600000.SH", "1d", format="tdx")
        assert stored(store, "600000.SH", "1d", ["volume"]) == [
            ("1999-11-10 00:00:00.000", 174085000.0)
        ]


def test_decimals_round_prices_but_not_volumes(store: Store, tmp_path: Path) -> None:
    # hikyuu/cn_stock_daily_8symbols_1990-2011.csv rows 8,071 and 8,077: a stray third
    # decimal 9 where TongDaXin has 8.15
    path = write_csv(
        tmp_path / "600004.csv",
        "date,symbol,open,high,low,close,volume,amount",
        "2003-10-20,SH.600004,8.45,8.47,8.149,8.22,41086,33885000",
        "2003-10-28,SH.600004,8.149,8.2,7.97,8.12,101179,81675000",
    )
    import_csv(store, [path], "600004.SH", "1d", format="hikyuu")
    assert [row[1:4] for row in stored(store, "600004.SH", "1d")] == [
        (8.45, 8.47, 8.149),
        (8.149, 8.2, 7.97),
    ]
    import_csv(store, [path], "600004.SH", "1d", format="hikyuu", decimals=2)
    assert stored(store, "600004.SH", "1d", (*OHLCV, "amount")) == [
        ("2003-10-20 00:00:00.000", 8.45, 8.47, 8.15, 8.22, 4108600.0, 33885000.0),
        ("2003-10-28 00:00:00.000", 8.15, 8.2, 7.97, 8.12, 10117900.0, 81675000.0),
    ]


WT_TICK_HEADER = (
    "datetime,exchange,code,trading_date,action_date,action_time,price,open,high,low,"
    "settle_price,upper_limit,lower_limit,total_volume,volume,total_turnover,turn_over,"
    "open_interest,diff_interest,pre_close,pre_settle,pre_interest,bid_price1,bid_qty1,"
    "ask_price1,ask_qty1"
)
# The first and last rows of wondertrader/CFFEX.IF.HOT_tick_20210106.csv: the decoder left
# lower_limit 4821.400000000001 in the first, and settle_price is 0.0 ("not known yet") there.
IF2101_0106 = (
    "2021-01-06 09:29:00.000,CFFEX,IF2101,20210106,20210106,92900000,5374.8,5374.8,5374.8,"
    "5374.8,0.0,5892.6,4821.400000000001,122,122,196717680.0,196717680.0,85895,-73,5359.8,"
    "5357.0,85968,5372.6,4,5376.0,3",
    "2021-01-06 15:44:33.000,CFFEX,IF2101,20210106,20210106,154433000,5408.4,5374.8,5443.4,"
    "5346.6,5397.8,5892.6,4821.4,94934,0,153535642320.0,0.0,85935,0,5359.8,5357.0,85968,"
    "5408.4,4,5408.8,2",
)


@pytest.mark.parametrize(("decimals", "lower_limit"), [(None, 4821.4), (13, 4821.400000000001)])
def test_wondertrader_ticks_lose_the_decoder_noise_and_the_unknown_settlement(
    store: Store, tmp_path: Path, decimals: int | None, lower_limit: float
) -> None:
    path = write_csv(tmp_path / "ticks.csv", WT_TICK_HEADER, *IF2101_0106)
    import_csv(store, [path], "IF2101.IF", "tick", format="wondertrader-tick", decimals=decimals)
    columns = ["last_price", "volume", "amount", "lower_limit", "settlement"]
    assert stored(store, "IF2101.IF", "tick", columns) == [
        ("2021-01-06 09:29:00.000", 5374.8, 122.0, 196717680.0, lower_limit, None),
        ("2021-01-06 15:44:33.000", 5408.4, 94934.0, 153535642320.0, 4821.4, 5397.8),
    ]


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".csv.bz2", ".csv.xz"])
def test_plain_and_compressed_files_import_alike(store: Store, tmp_path: Path, suffix: str) -> None:
    path = write_csv(tmp_path / f"if{suffix}", TQ_HEADER, *IF2003_ROWS)
    assert path.read_bytes()[:9] != TQ_HEADER[:9].encode() or suffix == ".csv"
    import_csv(store, [path], "IF2003.IF", "1m", format="tqsdk")
    assert stored(store, "IF2003.IF", "1m") == IF2003_STORED


# --- files holding several symbols ----------------------------------------------------------------


def two_symbols(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "mixed.csv", TQ_HEADER, IF2003_ROWS[0], AU1912_ROW, *IF2003_ROWS[1:]
    )


@pytest.mark.parametrize("spelling", ["IF2003.IF", "CFFEX.IF2003"])
def test_a_multi_symbol_file_is_filtered_on_its_symbol_column(
    store: Store, tmp_path: Path, spelling: str
) -> None:
    report = import_csv(store, [two_symbols(tmp_path)], spelling, "1m", format="tqsdk")
    assert report.summary() == (
        f"{tmp_path / 'mixed.csv'}: 3 of 4 rows kept (1 rows of other symbols)"
    )
    assert stored(store, "IF2003.IF", "1m") == IF2003_STORED
    assert store.symbols() == ["IF2003.IF"]


def test_an_absent_symbol_names_what_the_column_holds(store: Store, tmp_path: Path) -> None:
    path = two_symbols(tmp_path)
    with pytest.raises(DataError) as caught:
        import_csv(store, [path], "IF2006.IF", "1m", format="tqsdk")
    assert str(caught.value) == (
        f"{path}: no rows of IF2006.IF in column 'symbol' (it holds: CFFEX.IF2003, SHFE.au1912)"
    )


def test_problems_in_a_multi_symbol_file_name_the_file_rows(store: Store, tmp_path: Path) -> None:
    bad = IF2003_ROWS[2].replace(",3981.6,", ",3990.0,")  # low above the open
    path = write_csv(tmp_path / "mixed.csv", TQ_HEADER, AU1912_ROW, *IF2003_ROWS[:2], bad)
    with pytest.raises(DataError) as caught:
        import_csv(store, [path], "IF2003.IF", "1m", format="tqsdk")
    assert str(caught.value) == (
        f"{path}: 3 problem(s) (3 ohlc):\n"
        "  row 4, column high, value 3984.0: high is below low\n"
        "  row 4, column open, value 3982.4: open is outside [low, high]\n"
        "  row 4, column close, value 3984.0: close is outside [low, high]\n"
        "fix the data, or use --repair (sort, drop duplicates, drop or clip bad rows) or "
        "--skip-bad-rows (drop the bad rows)"
    )


# --- unreadable input -----------------------------------------------------------------------------


def refusal(store: Store, path: Path, **options: Any) -> str:
    """The message of the error an import of ``path`` as IF2003.IF 1m bars raises."""
    options.setdefault("format", "tqsdk")
    with pytest.raises((DataError, ConfigError)) as caught:
        import_csv(store, [path], "IF2003.IF", "1m", **options)
    return str(caught.value)


def test_unparseable_number_names_file_row_column_and_value(store: Store, tmp_path: Path) -> None:
    bad = IF2003_ROWS[1].replace(",12,", ",12x,")
    path = write_csv(tmp_path / "if.csv", TQ_HEADER, IF2003_ROWS[0], bad, IF2003_ROWS[2])
    assert refusal(store, path) == f"{path}: row 2, column volume: value '12x' is not a number"


def test_unparseable_number_deep_in_a_large_file_is_found(store: Store, tmp_path: Path) -> None:
    # beyond pyarrow's first 64 KiB block, where the column's type was already inferred
    rows = [f"2024-01-02 09:30:00,CFFEX.IF2401,1,2,0.5,1.5,{i},0,0,0" for i in range(4000)]
    rows[3500] = rows[3500].replace(",3500,", ",1e,")
    path = write_csv(tmp_path / "big.csv", TQ_HEADER, *rows)
    assert path.stat().st_size > 2 * 65_536
    assert refusal(store, path) == f"{path}: row 3501, column volume: value '1e' is not a number"


def test_unparseable_time_names_file_row_column_and_value(store: Store, tmp_path: Path) -> None:
    bad = "yesterday" + IF2003_ROWS[1][19:]
    path = write_csv(tmp_path / "if.csv", TQ_HEADER, IF2003_ROWS[0], bad)
    assert (
        refusal(store, path) == f"{path}: row 2, column datetime: value 'yesterday' is not a time"
    )


DAY_FIRST = (
    "date,open,high,low,close,volume",
    "02/01/2020,10.0,11.0,9.0,10.5,100",  # 2 January
    "13/01/2020,10.0,11.0,9.0,10.5,100",  # 13 January: only day-first reads it
)
DAILY_COLUMNS_OF = {n: n for n in ("open", "high", "low", "close", "volume")} | {"datetime": "date"}


def test_day_first_dates_are_refused_not_read_half_one_way_half_the_other(
    store: Store, tmp_path: Path
) -> None:
    # pandas read 02/01/2020 as 1 February and 13/01/2020 as 13 January; --repair then stored
    # the scrambled dates
    path = write_csv(tmp_path / "daily.csv", *DAY_FIRST)
    for policy in ("refuse", "repair"):
        with pytest.raises(DataError) as caught:
            import_csv(store, [path], "600000.SH", "1d", columns=DAILY_COLUMNS_OF, policy=policy)
        assert str(caught.value) == (
            f"{path}: row 1, column date: value '02/01/2020' does not start with a four-digit "
            "year, so its day and month cannot be told apart; give the file's time format "
            "(--time-format, e.g. '%d/%m/%Y %H:%M:%S' or '%m/%d/%Y')"
        )
    assert not store.has("600000.SH", 86_400)


def test_a_time_format_reads_day_first_dates(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "daily.csv", *DAY_FIRST)
    import_csv(store, [path], "600000.SH", "1d", columns=DAILY_COLUMNS_OF, time_format="%d/%m/%Y")
    assert [row[0] for row in stored(store, "600000.SH", "1d")] == [
        "2020-01-02 00:00:00.000",
        "2020-01-13 00:00:00.000",
    ]
    with pytest.raises(ConfigError) as caught:
        import_csv(store, [path], "600000.SH", "1d", columns=DAILY_COLUMNS_OF, time_format="dmy")
    assert str(caught.value) == (
        "time_format must be a strftime format such as '%d/%m/%Y %H:%M', was 'dmy'"
    )
    # a format the file does not follow names the row
    with pytest.raises(DataError, match=r"row 2, column date: value '13/01/2020' is not a time"):
        import_csv(
            store, [path], "600000.SH", "1d", columns=DAILY_COLUMNS_OF, time_format="%m/%d/%Y"
        )


def test_empty_time_names_its_row(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "if.csv", TQ_HEADER, IF2003_ROWS[0], IF2003_ROWS[1][19:])
    assert refusal(store, path) == f"{path}: row 2, column datetime: empty time"


def test_missing_time_column_lists_the_columns_of_the_file(store: Store, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "if.csv", "Date,open,high,low,close,volume", "2019-12-16,1,2,0.5,1.5,3"
    )
    assert refusal(store, path) == (
        f"{path}: no column 'datetime': is --format right? (columns: Date, open, high, low, "
        "close, volume)"
    )


def test_ragged_csv_is_a_data_error(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "if.csv", TQ_HEADER, IF2003_ROWS[0], IF2003_ROWS[1][:40])
    assert refusal(store, path) == (
        f"{path}: row 2 has 4 fields where the header has 10: {IF2003_ROWS[1][:40]!r}; is the "
        "file cut short, or a field missing or extra (quote values holding commas)?"
    )


def test_missing_file_is_a_data_error(store: Store, tmp_path: Path) -> None:
    assert refusal(store, tmp_path / "nope.csv") == f"{tmp_path / 'nope.csv'}: no such file"


def test_unknown_format_lists_the_formats(store: Store, tmp_path: Path) -> None:
    assert refusal(store, tmp_path / "x.csv", format="mt5") == (
        "unknown format 'mt5'; formats are hikyuu, tdx, tqsdk, wondertrader-bar, "
        "wondertrader-tick, xtquant, generic"
    )


@pytest.mark.parametrize("columns", [None, {}, {"close": "Close"}])
def test_generic_without_a_datetime_mapping_is_a_config_error(
    store: Store, tmp_path: Path, columns: dict[str, str] | None
) -> None:
    assert refusal(store, tmp_path / "x.csv", format="generic", columns=columns) == (
        "format 'generic' needs a column mapping including datetime, e.g. --columns "
        "datetime=Date,open=Open,high=High,low=Low,close=Close,volume=Vol"
    )


@pytest.mark.parametrize("form", ["generic", "tqsdk"])
def test_mapping_an_unknown_store_column_is_a_config_error(
    store: Store, tmp_path: Path, form: str
) -> None:
    columns = {"datetime": "Date", "Close": "close", "bogus": "open"}
    assert refusal(store, tmp_path / "x.csv", format=form, columns=columns) == (
        "column mapping names unknown store column(s) Close, bogus"
    )


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"label": "middle"}, "label must be 'start' or 'end', was 'middle'"),
        ({"volume_unit": "hands"}, "volume_unit must be 'shares' or 'lots', was 'hands'"),
    ],
)
def test_invalid_options_are_config_errors(
    store: Store, tmp_path: Path, option: dict[str, str], message: str
) -> None:
    assert refusal(store, tmp_path / "x.csv", **option) == message


# --- what an import does to the store ------------------------------------------------------------


def test_a_refused_import_leaves_the_store_byte_for_byte_unchanged(
    store: Store, tmp_path: Path
) -> None:
    first = write_csv(tmp_path / "first.csv", TQ_HEADER, *IF2003_ROWS[:2])
    import_csv(store, [first], "IF2003.IF", "1m", format="tqsdk")
    before = snapshot(store)
    # the third bar is new and fine, then a later file breaks
    good = write_csv(tmp_path / "good.csv", TQ_HEADER, IF2003_ROWS[2])
    # a real au1912 bar relabelled IF2003, its high pushed below its low
    bar = AU1912_ROW.replace("SHFE.au1912", "CFFEX.IF2003").replace(",286.75,286.6,", ",280,286.6,")
    broken = write_csv(tmp_path / "broken.csv", TQ_HEADER, bar)
    with pytest.raises(DataError, match=f"^{re.escape(str(broken))}: 3 problem"):
        import_csv(store, [good, broken], "IF2003.IF", "1m", format="tqsdk")
    with pytest.raises(DataError, match="the files overlap"):
        import_csv(store, [good, good], "IF2003.IF", "1m", format="tqsdk")
    assert snapshot(store) == before
    assert stored(store, "IF2003.IF", "1m") == IF2003_STORED[:2]


def test_reimporting_the_same_file_changes_nothing(store: Store) -> None:
    path = RAW / "wondertrader" / "SSE.600009_1min_20200102-20200410.csv.xz"
    first = import_csv(store, [path], "600009.SH", "1m", format="wondertrader-bar")
    before = snapshot(store)
    again = import_csv(store, [path], "600009.SH", "1m", format="wondertrader-bar")
    assert (first.rows, again.rows) == (15_353, 15_353)
    assert snapshot(store) == before
    assert len(stored(store, "600009.SH", "1m", ["close"])) == 15_353


def test_overlapping_files_are_refused_naming_a_shared_time(store: Store, tmp_path: Path) -> None:
    a = write_csv(tmp_path / "a.csv", TQ_HEADER, *IF2003_ROWS[:2])
    b = write_csv(tmp_path / "b.csv", TQ_HEADER, *IF2003_ROWS[1:])
    message = (
        "the files overlap: 2019-12-16 14:22:00.000000 of IF2003.IF appears in more than one "
        "of them; import them one at a time (an import replaces the stored rows with the times "
        "it brings)"
    )
    for policy in Policy:  # repair works file by file: it cannot pick between files
        with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
            import_csv(store, [a, b], "IF2003.IF", "1m", format="tqsdk", policy=policy)
    assert store.symbols() == []
    import_csv(store, [a], "IF2003.IF", "1m", format="tqsdk")
    import_csv(store, [b], "IF2003.IF", "1m", format="tqsdk")
    assert stored(store, "IF2003.IF", "1m") == IF2003_STORED


def test_an_adjacent_later_file_appends_without_rewriting_earlier_years(
    store: Store, tmp_path: Path
) -> None:
    # The 2,044 SH.600004 rows of hikyuu/cn_stock_daily_8symbols_1990-2011.csv, split after
    # 2009-06-30 (file row 9,410): 1,452 rows up to then (2003-2008: 1,335; 2009: 117), 592
    # from 2009-07-01 on (2009: 126, 2010: 241, 2011: 225), counted with awk.
    source = lzma.decompress((RAW / BUILD.HIKYUU_DAILY).with_suffix(".csv.xz").read_bytes())
    header, *lines = source.decode().splitlines()
    rows = [line for line in lines if line.split(",")[1] == "SH.600004"]
    split = rows.index("2009-07-01,SH.600004,9.57,9.67,9.54,9.62,137039,131445000")
    assert (split, len(rows)) == (1_452, 2_044)
    early = write_csv(tmp_path / "early.csv", header, *rows[:split])
    late = write_csv(tmp_path / "late.csv", header, *rows[split:])

    import_csv(store, [early], "600004.SH", "1d", format="hikyuu", decimals=2)
    directory = store.root / "klines" / "1d" / "600004.SH"
    years = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in directory.iterdir()}
    assert sorted(years) == [f"{year}.parquet" for year in range(2003, 2010)]

    report = import_csv(store, [late], "600004.SH", "1d", format="hikyuu", decimals=2)
    assert report.rows == 592
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in directory.iterdir()}
    assert sorted(after) == [f"{year}.parquet" for year in range(2003, 2012)]
    assert {name: after[name] for name in years if name != "2009.parquet"} == {
        name: value for name, value in years.items() if name != "2009.parquet"
    }
    assert after["2009.parquet"][0] != years["2009.parquet"][0]
    found = stored(store, "600004.SH", "1d", ["close"])
    assert len(found) == 2_044
    year = [row for row in found if row[0].startswith("2009")]  # file rows 9,294 … 9,536
    assert (len(year), year[0], year[116], year[117], year[-1]) == (
        243,
        ("2009-01-05 00:00:00.000", 7.28),
        ("2009-06-30 00:00:00.000", 9.57),
        ("2009-07-01 00:00:00.000", 9.62),
        ("2009-12-31 00:00:00.000", 10.15),
    )
