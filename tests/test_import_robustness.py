"""Bad input to the CSV import (backtest/csvimport.py): each path ends in an error naming the
file, row, field or argument, or in rows that are counted, never in a crash or a silent loss.

The cases come from the robustness audit: rows the symbol filter dropped without a count,
xtquant's opening-auction folding swallowing any bar before 09:30, unknown ``volume_unit``
cells read as shares, a broken instrument row switching the checks off, large or cut or
non-UTF-8 or damaged compressed files, times the store cannot hold, and Python-API arguments of
the wrong type. Real rows come from data/raw (quoted where they are used).
"""

from __future__ import annotations

import bz2
import gzip
import lzma
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from backtest.csvimport import PRESETS, import_csv, read_csv
from backtest.errors import ConfigError, DataError
from backtest.store import Store
from backtest.validate import Policy

from .test_csvimport import (
    AU1912_ROW,
    BUILD,
    IF2003_ROWS,
    IF2003_STORED,
    RAW,
    TQ_HEADER,
    at,
    snapshot,
    stored,
    write_csv,
)

ADVICE = (
    "fix the data, or use --repair (sort, drop duplicates, drop or clip bad rows) or "
    "--skip-bad-rows (drop the bad rows)"
)
RAGGED = "is the file cut short, or a field missing or extra (quote values holding commas)?"
TIME_RANGE = "is outside the years 1824 to 2115 the store holds"


@pytest.fixture
def store(empty_store: Store) -> Store:
    """An empty store with the sample calendar and build_store's instrument rows."""
    empty_store.write_instruments(BUILD.INSTRUMENTS)
    return empty_store


def refusal(store: Store, path: Path, **options: Any) -> str:
    """The message of the error an import of ``path`` as IF2003.IF 1m bars raises; the store
    is left as it was."""
    options.setdefault("format", "tqsdk")
    before = snapshot(store)
    with pytest.raises((DataError, ConfigError)) as caught:
        import_csv(store, [path], "IF2003.IF", "1m", **options)
    assert snapshot(store) == before
    return str(caught.value)


def if2003_lines() -> list[str]:
    """tqsdk/CFFEX.IF2003_1min.csv: the header and its 12,279 rows."""
    return (
        lzma.decompress((RAW / "tqsdk" / "CFFEX.IF2003_1min.csv.xz").read_bytes())
        .decode("utf-8")
        .splitlines()
    )


# --- values the checks used to let through (the whole file, under each policy) --------------------


def test_an_infinite_high_is_refused_and_the_store_left_alone(store: Store, tmp_path: Path) -> None:
    # the high of a real row written as 1e400 (inf once read): a far sell limit would fill on it
    bad = IF2003_ROWS[1].replace(",3982.6,", ",1e400,")
    path = write_csv(tmp_path / "if.csv", TQ_HEADER, IF2003_ROWS[0], bad, IF2003_ROWS[2])
    assert refusal(store, path) == (
        f"{path}: 1 problem(s) (1 price):\n"
        "  row 2, column high, value inf: a price must be a finite positive number\n" + ADVICE
    )


@pytest.mark.parametrize(
    ("policy", "summary"),
    [
        (Policy.SKIP, "1 of 3 rows kept (2 bad rows dropped)"),
        (Policy.REPAIR, "1 of 3 rows kept (2 rows dropped (volume))"),
    ],
)
def test_negative_and_empty_volumes_are_dropped_by_skip_and_repair(
    store: Store, tmp_path: Path, policy: Policy, summary: str
) -> None:
    negative = IF2003_ROWS[1].replace(",12,", ",-12,")
    empty = IF2003_ROWS[2].replace(",51,", ",,")
    path = write_csv(tmp_path / "if.csv", TQ_HEADER, IF2003_ROWS[0], negative, empty)
    assert refusal(store, path) == (
        f"{path}: 2 problem(s) (2 volume):\n"
        "  row 2, column volume, value -12.0: a volume must be a finite number, 0 or more\n"
        "  row 3, column volume, value nan: a volume must be a finite number, 0 or more\n" + ADVICE
    )
    report = import_csv(store, [path], "IF2003.IF", "1m", format="tqsdk", policy=policy)
    assert report.summary() == f"{path}: {summary}"
    assert stored(store, "IF2003.IF", "1m") == IF2003_STORED[:1]


def test_a_negative_bid_and_an_infinite_last_price_of_ticks_are_refused(
    store: Store, tmp_path: Path
) -> None:
    # the first rows of wondertrader/CFFEX.IF.HOT_tick_20210104.csv, in tqsdk's tick columns
    header = "datetime,last_price,volume,bid_price1,bid_volume1,ask_price1,ask_volume1"
    path = write_csv(
        tmp_path / "ticks.csv",
        header,
        "2021-01-04 09:29:00.400,5230.0,240,5230.0,1,5230.8,2",
        "2021-01-04 09:30:00.400,5230.8,311,-5231.4,2,5231.6,1",
        "2021-01-04 09:30:00.900,inf,354,5231.4,1,5232.0,1",
    )
    with pytest.raises(DataError) as caught:
        import_csv(store, [path], "IF2101.IF", "tick", format="tqsdk")
    assert str(caught.value) == (
        f"{path}: 2 problem(s) (2 price):\n"
        "  row 2, column bid_price1, value -5231.4: a book price must be a finite positive "
        "number, or empty (no order)\n"
        "  row 3, column last_price, value inf: a price must be a finite positive number\n" + ADVICE
    )


# --- policies by name -----------------------------------------------------------------------------


def test_policy_refuse_given_as_a_string_refuses(store: Store, tmp_path: Path) -> None:
    bad = IF2003_ROWS[1].replace(",3982.6,", ",nan,")
    path = write_csv(tmp_path / "if.csv", TQ_HEADER, IF2003_ROWS[0], bad)
    assert refusal(store, path, policy="refuse") == refusal(store, path)
    report = import_csv(store, [path], "IF2003.IF", "1m", format="tqsdk", policy="skip")
    assert report.summary() == f"{path}: 1 of 2 rows kept (1 bad rows dropped)"


def test_an_unknown_policy_name_lists_the_policies(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "if.csv", TQ_HEADER, *IF2003_ROWS)
    assert refusal(store, path, policy="fix") == (
        "policy must be one of 'refuse', 'skip', 'repair', was 'fix'"
    )


# --- the symbol filter ----------------------------------------------------------------------------


@pytest.mark.parametrize(("cell", "what"), [("", "no"), ("CFFEX.IF200\x00", "not a")])
def test_an_empty_or_unreadable_symbol_cell_is_a_problem_of_its_row(
    store: Store, tmp_path: Path, cell: str, what: str
) -> None:
    blank = IF2003_ROWS[1].replace("CFFEX.IF2003", cell)
    path = write_csv(tmp_path / "if.csv", TQ_HEADER, IF2003_ROWS[0], blank, IF2003_ROWS[2])
    assert refusal(store, path) == (
        f"{path}: 1 problem(s) (1 symbol):\n"
        f"  row 2, column symbol, value {cell!r}: {what} symbol: cannot tell whether the row is "
        "IF2003.IF's\n" + ADVICE
    )
    report = import_csv(store, [path], "IF2003.IF", "1m", format="tqsdk", policy=Policy.REPAIR)
    assert report.summary() == f"{path}: 2 of 3 rows kept (1 rows dropped (symbol))"
    assert stored(store, "IF2003.IF", "1m") == [IF2003_STORED[0], IF2003_STORED[2]]


def test_every_row_of_the_file_is_counted_other_symbols_rows_too(
    store: Store, tmp_path: Path
) -> None:
    typo = IF2003_ROWS[2].replace("CFFEX.IF2003", "CFFEX.IF2030")  # another contract's row
    bad = IF2003_ROWS[1].replace(",3982.6,", ",nan,")
    path = write_csv(tmp_path / "mixed.csv", TQ_HEADER, IF2003_ROWS[0], AU1912_ROW, bad, typo)
    report = import_csv(store, [path], "IF2003.IF", "1m", format="tqsdk", policy=Policy.SKIP)
    assert report.summary() == (
        f"{path}: 1 of 4 rows kept (2 rows of other symbols, 1 bad rows dropped)"
    )
    checked = report.files[0][1]
    assert (checked.rows_in, checked.rows_out, checked.other_rows) == (4, 1, 2)


def test_a_file_with_only_a_header_says_it_has_no_rows(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "if.csv", TQ_HEADER)
    assert refusal(store, path) == f"{path}: the file has no rows, only a header: nothing to import"


def test_an_empty_file_says_it_has_no_header(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "if.csv"
    path.write_bytes(b"")
    assert refusal(store, path) == f"{path}: the file is empty: no header row of column names"


# --- xtquant's opening auction --------------------------------------------------------------------

XT_HEADER = ",time,open,high,low,close,volume,amount"


def xt_bar(end: str, rest: str) -> str:
    """An xtquant 1m bar of 2024-01-02 ending at ``end`` (HH:MM): index, ms time, ``rest``."""
    when = f"2024-01-02 {end}"
    return f"{when.replace('-', '').replace(' ', '').replace(':', '')}00,{at(when) // 10**6},{rest}"


def test_auction_bars_from_0915_to_0930_fold_into_the_first_bar_and_are_counted(
    store: Store, tmp_path: Path
) -> None:
    # two auction bars (starts 09:25 and 09:29) fold into the 09:30-09:31 bar: the first
    # auction bar's open, the highest high, the lowest low, volumes and amounts added
    path = write_csv(
        tmp_path / "000001.csv",
        XT_HEADER,
        xt_bar("09:26", "10.0,10.0,10.0,10.0,30,30000.0"),
        xt_bar("09:30", "10.02,10.02,10.02,10.02,20,20040.0"),
        xt_bar("09:31", "10.1,10.2,10.05,10.1,10,10100.0"),
        xt_bar("09:32", "10.1,10.3,10.1,10.2,20,20300.0"),
    )
    report = import_csv(store, [path], "000001.SZ", "1m", format="xtquant")
    assert report.summary() == f"{path}: 2 of 4 rows kept (2 opening-auction bars folded)"
    assert stored(
        store, "000001.SZ", "1m", ("open", "high", "low", "close", "volume", "amount")
    ) == [
        ("2024-01-02 09:30:00.000", 10.0, 10.2, 10.0, 10.1, 6000.0, 60140.0),
        ("2024-01-02 09:31:00.000", 10.1, 10.3, 10.1, 10.2, 2000.0, 20300.0),
    ]


def test_a_bar_before_0915_is_a_problem_not_folded(store: Store, tmp_path: Path) -> None:
    # the ms time -5 (1969-12-31 23:59:59.995 UTC) is no auction: refused, or dropped and counted
    path = write_csv(
        tmp_path / "000001.csv",
        XT_HEADER,
        "0,-5,10.0,10.0,10.0,10.0,30,30000.0",
        xt_bar("09:31", "10.1,10.2,10.05,10.1,10,10100.0"),
    )
    with pytest.raises(DataError) as caught:
        import_csv(store, [path], "000001.SZ", "1m", format="xtquant")
    assert str(caught.value) == (
        f"{path}: 1 problem(s) (1 auction):\n"
        "  row 1, column datetime, value '1970-01-01 07:58:59.995000': a bar before 09:15, when "
        "the opening auction starts\n" + ADVICE
    )
    report = import_csv(store, [path], "000001.SZ", "1m", format="xtquant", policy="skip")
    assert report.summary() == f"{path}: 1 of 2 rows kept (1 bad rows dropped)"
    assert stored(store, "000001.SZ", "1m", ["open", "volume"]) == [
        ("2024-01-02 09:30:00.000", 10.1, 1000.0)
    ]


def test_an_auction_bar_without_a_later_bar_that_day_is_a_problem(
    store: Store, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "000001.csv",
        XT_HEADER,
        xt_bar("09:31", "10.1,10.2,10.05,10.1,10,10100.0"),
        xt_bar("09:32", "10.1,10.3,10.1,10.2,20,20300.0"),
        f"20240103093000,{at('2024-01-03 09:30') // 10**6},10.0,10.0,10.0,10.0,30,30000.0",
    )
    with pytest.raises(DataError) as caught:
        import_csv(store, [path], "000001.SZ", "1m", format="xtquant")
    assert str(caught.value) == (
        f"{path}: 1 problem(s) (1 auction):\n"
        "  row 3, column datetime, value '2024-01-03 09:29:00.000000': an opening-auction bar "
        "without a later bar that day to fold into\n" + ADVICE
    )


def test_an_auction_bar_of_an_unsorted_file_is_dropped_by_repair_not_folded_wrongly(
    store: Store, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "000001.csv",
        XT_HEADER,
        xt_bar("09:32", "10.1,10.3,10.1,10.2,20,20300.0"),
        xt_bar("09:30", "10.0,10.0,10.0,10.0,30,30000.0"),
        xt_bar("09:31", "10.1,10.2,10.05,10.1,10,10100.0"),
    )
    with pytest.raises(DataError) as caught:
        import_csv(store, [path], "000001.SZ", "1m", format="xtquant")
    assert str(caught.value) == (
        f"{path}: 2 problem(s) (1 auction, 1 order):\n"
        "  row 2, column datetime, value '2024-01-02 09:29:00.000000': a bar before 09:30 in a "
        "file not in time order: sort the file to fold it\n"
        "  row 3, column datetime, value '2024-01-02 09:30:00.000000': earlier than the row "
        "before it\n" + ADVICE
    )
    report = import_csv(store, [path], "000001.SZ", "1m", format="xtquant", policy="repair")
    assert report.summary() == f"{path}: 2 of 3 rows kept (1 rows dropped (auction), 2 rows sorted)"


def test_bars_before_0930_of_other_exchanges_are_not_folded(store: Store, tmp_path: Path) -> None:
    # SHFE's day session opens at 09:00: its 09:00-09:01 bar is a bar like any other
    path = write_csv(
        tmp_path / "au.csv",
        XT_HEADER,
        xt_bar("09:01", "450.0,450.5,449.8,450.2,30,1000.0"),
        xt_bar("09:02", "450.2,450.6,450.0,450.4,20,1000.0"),
    )
    report = import_csv(store, [path], "au2406.SF", "1m", format="xtquant")
    assert report.summary() == f"{path}: 2 of 2 rows kept"
    assert [row[0] for row in stored(store, "au2406.SF", "1m")] == [
        "2024-01-02 09:00:00.000",
        "2024-01-02 09:01:00.000",
    ]


# --- tdx volume units -----------------------------------------------------------------------------

TDX_HEADER = "date,symbol,open,high,low,close,volume,volume_unit,amount"
TDX_ROW = "1999-11-10,SH.600000,29.5,29.8,27.0,27.75,1740850,{unit},4859102208.0"
"""The first SH.600000 row of hikyuu/tdx_daily_SH000001_SH600000_1990-2025.csv, in lots."""


@pytest.mark.parametrize(
    ("unit", "volume"),
    [("lots", 174085000.0), (" LOTS ", 174085000.0), ("手", 174085000.0),
     ("Shares", 1740850.0), ("股", 1740850.0)],
)  # fmt: skip
def test_tdx_volume_units_are_read_in_any_case_and_in_chinese(
    store: Store, tmp_path: Path, unit: str, volume: float
) -> None:
    path = write_csv(tmp_path / "tdx.csv", TDX_HEADER, TDX_ROW.format(unit=unit))
    import_csv(store, [path], "600000.SH", "1d", format="tdx")
    assert stored(store, "600000.SH", "1d", ["volume"]) == [("1999-11-10 00:00:00.000", volume)]


@pytest.mark.parametrize("unit", ["boxes", ""])
def test_an_unknown_tdx_volume_unit_is_a_problem_of_its_row_not_shares(
    store: Store, tmp_path: Path, unit: str
) -> None:
    good = TDX_ROW.format(unit="lots").replace("1999-11-10", "1999-11-11")
    path = write_csv(tmp_path / "tdx.csv", TDX_HEADER, TDX_ROW.format(unit=unit), good)
    with pytest.raises(DataError) as caught:
        import_csv(store, [path], "600000.SH", "1d", format="tdx")
    assert str(caught.value) == (
        f"{path}: 1 problem(s) (1 unit):\n"
        f"  row 1, column volume_unit, value {unit!r}: the volume unit must be lots (手) or "
        "shares (股)\n" + ADVICE
    )
    report = import_csv(store, [path], "600000.SH", "1d", format="tdx", policy=Policy.SKIP)
    assert report.summary() == f"{path}: 1 of 2 rows kept (1 bad rows dropped)"
    assert stored(store, "600000.SH", "1d", ["volume"]) == [
        ("1999-11-11 00:00:00.000", 174085000.0)
    ]


def test_read_csv_refuses_the_rows_an_import_would_reject(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "tdx.csv", TDX_HEADER, TDX_ROW.format(unit="boxes"))
    with pytest.raises(DataError) as caught:
        read_csv(path, "600000.SH", 86_400, PRESETS["tdx"])
    assert str(caught.value) == (
        f"{path}: 1 problem(s) (1 unit):\n"
        "  row 1, column volume_unit, value 'boxes': the volume unit must be lots (手) or "
        "shares (股)\n" + ADVICE
    )


# --- instruments ----------------------------------------------------------------------------------


def test_a_broken_instrument_row_stops_the_import_instead_of_the_checks(
    store: Store, tmp_path: Path
) -> None:
    # the row has a field no instrument has; the import used to skip the session check
    rows = [{"symbol": "IF2003.IF", "price_tick": 0.2, "note": "x"}]
    pq.write_table(pa.Table.from_pylist(rows), store.root / "instruments.parquet")
    off_session = IF2003_ROWS[0].replace("14:21:00", "03:00:00")
    path = write_csv(tmp_path / "if.csv", TQ_HEADER, off_session)
    assert refusal(store, path).startswith(
        "instrument IF2003.IF: 'note'='x' is not an instrument field; instrument rows hold "
    )


# --- files that cannot be read as a whole ---------------------------------------------------------


def test_a_large_file_cut_mid_line_names_the_last_row(store: Store, tmp_path: Path) -> None:
    lines = if2003_lines()
    text = "\n".join(lines) + "\n"
    path = tmp_path / "if.csv"
    path.write_text(text[:-30])  # beyond pyarrow's first 64 KiB block
    assert path.stat().st_size > 15 * 65_536
    cut = "2020-03-05 14:59:00,CFFEX.IF2003,4193.0,4193.6,4191.6,4"
    assert refusal(store, path) == (
        f"{path}: row 12279 has 6 fields where the header has 10: {cut!r}; {RAGGED}"
    )


def test_a_late_row_with_an_extra_field_in_a_large_file_is_named(
    store: Store, tmp_path: Path
) -> None:
    lines = if2003_lines()
    lines[12270] += ",1"  # the 10th row from the end, 2020-03-05 14:50
    path = tmp_path / "if.csv"
    path.write_text("\n".join(lines) + "\n")
    row = "2020-03-05 14:50:00,CFFEX.IF2003,4199.0,4199.0,4195.6,4196.0,282,98404,98562,36230,1"
    assert refusal(store, path) == (
        f"{path}: row 12270 has 11 fields where the header has 10: {row!r}; {RAGGED}"
    )


GBK_HEADER = "日期,开盘,最高,最低,收盘,成交量"
GBK_COLUMNS = {"datetime": "日期", "open": "开盘", "high": "最高", "low": "最低", "close": "收盘",
               "volume": "成交量"}  # fmt: skip
GBK_ROW = "1999-11-10,29.5,29.8,27.0,27.75,174085000"  # SH.600000's first tdx row


def test_a_gbk_file_is_refused_with_the_way_out_and_imports_with_its_encoding(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes(f"{GBK_HEADER}\n{GBK_ROW}\n".encode("gbk"))
    with pytest.raises(DataError) as caught:
        import_csv(store, [path], "600000.SH", "1d", columns=GBK_COLUMNS)
    assert str(caught.value) == (
        f"{path}: the header is not utf-8 text (byte 0xc8 at offset 0): re-save it as UTF-8 or "
        "pass --encoding gbk"
    )
    import_csv(store, [path], "600000.SH", "1d", columns=GBK_COLUMNS, encoding="gbk")
    assert stored(store, "600000.SH", "1d") == [
        ("1999-11-10 00:00:00.000", 29.5, 29.8, 27.0, 27.75, 174085000.0)
    ]


def test_gbk_text_in_a_cell_names_its_row(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "tdx.csv"
    second = TDX_ROW.format(unit="lots").replace("SH.600000", "浦发银行")
    data = f"{TDX_HEADER}\n{TDX_ROW.format(unit='lots')}\n{second}\n".encode("gbk")
    path.write_bytes(data)
    offset = data.index("浦".encode("gbk"))
    assert refusal(store, path) == (
        f"{path}: row 2 is not utf-8 text (byte 0x{data[offset]:02x} at offset {offset}): "
        "re-save it as UTF-8 or pass --encoding gbk"
    )


def test_a_utf16_file_is_told_to_pass_utf16(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "if.csv"
    path.write_text("\n".join([TQ_HEADER, *IF2003_ROWS]) + "\n", encoding="utf-16")
    assert refusal(store, path) == (
        f"{path}: the header is not utf-8 text (byte 0xff at offset 0): re-save it as UTF-8 or "
        "pass --encoding utf-16"
    )
    import_csv(store, [path], "IF2003.IF", "1m", format="tqsdk", encoding="utf-16")
    assert stored(store, "IF2003.IF", "1m") == IF2003_STORED


@pytest.mark.parametrize(
    ("suffix", "compress", "detail"),
    [
        (".gz", gzip.compress, "Compressed file ended before the end-of-stream marker was reached"),
        (".xz", lzma.compress, "Compressed data ended before the end-of-stream marker was reached"),
        (".bz2", bz2.compress, "Compressed data ended before the end-of-stream marker was reached"),
        (".gz", bytes, "Not a gzipped file (b'da')"),  # plain text named .gz
    ],
)
def test_a_damaged_compressed_file_is_named(
    store: Store,
    tmp_path: Path,
    suffix: str,
    compress: Callable[[bytes], bytes],
    detail: str,
) -> None:
    data = compress(("\n".join([TQ_HEADER, *IF2003_ROWS]) + "\n").encode())
    path = tmp_path / f"if.csv{suffix}"
    path.write_bytes(data[:-20] if compress is not bytes else data)
    assert refusal(store, path) == (
        f"damaged or truncated compressed file {path} ({detail}); copy or download it again"
    )


def test_a_directory_given_as_a_file_is_named(store: Store, tmp_path: Path) -> None:
    (tmp_path / "if.csv").mkdir()
    assert refusal(store, tmp_path / "if.csv") == (
        f"{tmp_path / 'if.csv'}: cannot read the file: Is a directory"
    )


def test_a_column_named_twice_in_the_header_is_refused(store: Store, tmp_path: Path) -> None:
    header = TQ_HEADER.replace("open_oi", "open")
    path = write_csv(tmp_path / "if.csv", header, *IF2003_ROWS)
    assert refusal(store, path) == (
        f"{path}: the header names column 'open' 2 times: rename all but one, or map the store "
        "column to another with --columns"
    )


# --- times ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("year", ["2300", "1500"])
def test_a_year_the_store_cannot_hold_names_its_row(
    store: Store, tmp_path: Path, year: str
) -> None:
    bad = IF2003_ROWS[2].replace("2019", year, 1)
    path = write_csv(tmp_path / "if.csv", TQ_HEADER, *IF2003_ROWS[:2], bad)
    assert refusal(store, path) == (
        f"{path}: row 3, column datetime: value '{year}-12-16 14:23:00' {TIME_RANGE}"
    )


def test_a_number_column_mapped_as_the_time_names_row_and_value(
    store: Store, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "bars.csv", "Date,Open,High,Low,Close,Vol", "2020-01-02,1,2,1,2,1000"
    )
    columns = {"datetime": "Vol", "open": "Open", "high": "High", "low": "Low", "close": "Close",
               "volume": "Vol"}  # fmt: skip
    assert refusal(store, path, format="generic", columns=columns) == (
        f"{path}: row 1, column Vol: value '1000' {TIME_RANGE}"
    )


def test_an_xtquant_time_beyond_the_store_names_its_row(store: Store, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "000001.csv",
        XT_HEADER,
        xt_bar("09:31", "10.1,10.2,10.05,10.1,10,10100.0"),
        "1,1e20,10.1,10.3,10.1,10.2,20,20300.0",
    )
    with pytest.raises(DataError) as caught:
        import_csv(store, [path], "000001.SZ", "1m", format="xtquant")
    assert str(caught.value) == (
        f"{path}: row 2, column time: value 1e+20 (ms since 1970) {TIME_RANGE}"
    )


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ("2019-12-16T06:21:00Z", "2019-12-16 14:22:00",
         "value '2019-12-16 14:22:00' has no UTC offset but row 1 ('2019-12-16T06:21:00Z') has "
         "one"),
        ("2019-12-16 14:21:00", "2019-12-16T06:22:00+00:00",
         "value '2019-12-16T06:22:00+00:00' has a UTC offset but row 1 ('2019-12-16 14:21:00') "
         "has none"),
    ],
)  # fmt: skip
def test_times_with_and_without_an_offset_in_one_file_name_the_row(
    store: Store, tmp_path: Path, first: str, second: str, message: str
) -> None:
    rows = [first + IF2003_ROWS[0][19:], second + IF2003_ROWS[1][19:]]
    path = write_csv(tmp_path / "if.csv", TQ_HEADER, *rows)
    assert refusal(store, path) == (
        f"{path}: row 2, column datetime: {message}: write every time with an offset, or none "
        "(then --tz says the zone)"
    )


def test_times_with_different_offsets_are_the_instants_they_write(
    store: Store, tmp_path: Path
) -> None:
    rows = [
        "2019-12-16T06:21:00Z" + IF2003_ROWS[0][19:],
        "2019-12-16T14:22:00+08:00" + IF2003_ROWS[1][19:],
        "2019-12-16T01:23:00-05:00" + IF2003_ROWS[2][19:],
    ]
    path = write_csv(tmp_path / "if.csv", TQ_HEADER, *rows)
    import_csv(store, [path], "IF2003.IF", "1m", format="tqsdk")
    assert stored(store, "IF2003.IF", "1m") == IF2003_STORED


# --- column mappings ------------------------------------------------------------------------------


def test_volume_mapped_to_a_column_not_in_the_file_names_file_and_mapping(
    store: Store, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "bars.csv", "Date,Open,High,Low,Close,Vol", "2020-01-02,1,2,1,2,9")
    columns = {"datetime": "Date", "open": "Open", "high": "High", "low": "Low", "close": "Close",
               "volume": "Volume"}  # fmt: skip
    assert refusal(store, path, format="generic", columns=columns) == (
        f"{path}: no column 'Volume' (for volume): is --format or --columns right? (columns: "
        "Date, Open, High, Low, Close, Vol)"
    )


def test_a_mapping_without_volume_is_a_config_error(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bars.csv", "Date,Open,High,Low,Close", "2020-01-02,1,2,1,2")
    columns = {"datetime": "Date", "open": "Open", "high": "High", "low": "Low", "close": "Close"}
    assert refusal(store, path, format="generic", columns=columns) == (
        "no column is mapped to volume: add volume=<the file's column> to the column mapping "
        "(--columns)"
    )


# --- Python-API arguments -------------------------------------------------------------------------


def test_a_single_path_may_be_given_without_a_list(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "if.csv", TQ_HEADER, *IF2003_ROWS)
    for given in (path, str(path)):
        report = import_csv(store, given, "IF2003.IF", "1m", format="tqsdk")
        assert report.summary() == f"{path}: 3 of 3 rows kept"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"paths": []}, "paths is empty: give at least one CSV file"),
        ({"paths": 5}, "paths must be a CSV file's path or a list of them, was int 5"),
        ({"paths": [None]}, "paths must be a CSV file's path or a list of them, was list [None]"),
        ({"store": "/data/store"},
         "store must be a Store, e.g. Store.create('~/store'), was str '/data/store'"),
        ({"columns": ["close"]},
         "columns must map store columns to the file's, e.g. {'datetime': 'Date', 'close': "
         "'Close'}, was list ['close']"),
        ({"tz": None},
         "tz must be a time zone, was None; use a zone name such as 'Asia/Shanghai' or 'UTC', or "
         "an offset such as '+08:00'"),
        *(({"decimals": value},
           f"decimals must be a whole number from 0 to 15 (or None: no rounding), was {value!r}")
          for value in ("2", True, -1, 16, 2.0)),
        ({"encoding": "klingon"},
         "unknown encoding 'klingon'; use a codec name such as 'utf-8' or 'gbk'"),
        ({"encoding": "hex"},  # a codec, but not of text
         "unknown encoding 'hex'; use a codec name such as 'utf-8' or 'gbk'"),
        ({"encoding": None},
         "encoding must be a codec name such as 'utf-8' or 'gbk', was None"),
        ({"format": ["tqsdk"]},
         "unknown format ['tqsdk']; formats are hikyuu, tdx, tqsdk, wondertrader-bar, "
         "wondertrader-tick, xtquant, generic"),
    ],
)  # fmt: skip
def test_arguments_of_the_wrong_type_are_config_errors_naming_them(
    store: Store, tmp_path: Path, arguments: dict[str, Any], message: str
) -> None:
    path = write_csv(tmp_path / "if.csv", TQ_HEADER, *IF2003_ROWS)
    given: dict[str, Any] = {"store": store, "paths": [path], "format": "tqsdk", **arguments}
    with pytest.raises(ConfigError) as caught:
        import_csv(symbol="IF2003.IF", period="1m", **given)
    assert str(caught.value) == message
    assert store.symbols() == []


@pytest.mark.parametrize("decimals", [0, 15])
def test_decimals_from_0_to_15_are_accepted(store: Store, tmp_path: Path, decimals: int) -> None:
    path = write_csv(tmp_path / "if.csv", TQ_HEADER, *IF2003_ROWS)
    import_csv(store, [path], "IF2003.IF", "1m", format="tqsdk", decimals=decimals)
    closes = [row[4] for row in stored(store, "IF2003.IF", "1m")]
    assert closes == ([3981.0, 3982.0, 3984.0] if decimals == 0 else [3981.4, 3982.4, 3984.0])
