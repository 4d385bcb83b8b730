"""Damaged store files (backtest/store.py): every reader names the file and says what to do.

Each test damages one file of a small store the way a disk, a killed copy or a hand edit would
(truncated, not Parquet, rows reversed, a column dropped or turned to text, a stray name) and
checks the exact ``DataError`` from the readers a backtest and ``backtest data`` use: ``scan``,
``tail``, ``info``, ``catalog``, ``available_columns``, the metadata readers, and a write
merging into the damaged file, which must leave the store as it was.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from backtest.errors import DataError
from backtest.store import Store, int_times
from tests.test_store import bars, beijing_ns

SYMBOL = "rb2001.SF"
MINUTE_NS = 60 * 1_000_000_000
DEC_31 = beijing_ns(2019, 12, 31, 14, 57)
JAN_2 = beijing_ns(2020, 1, 2, 9)
TIMES = [DEC_31, DEC_31 + MINUTE_NS, DEC_31 + 2 * MINUTE_NS, JAN_2, JAN_2 + MINUTE_NS]
FILE_2019 = f"klines/1m/{SYMBOL}/2019.parquet"
FILE_2020 = f"klines/1m/{SYMBOL}/2020.parquet"
DAMAGED_DATA_HINT = (
    "run `backtest data verify` to list the damaged files, delete them and re-import their period"
)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """Five 1m bars in two yearly files (three in 2019, two in 2020), with open interest."""
    store = Store.create(tmp_path / "store")
    store.write(SYMBOL, 60, bars(TIMES, open_oi=[1.0, 2.0, 3.0, 4.0, 5.0]))
    return store


def snapshot(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != ".lock"
    }


def rewrite(path: Path, change: Callable[[pa.Table], pa.Table]) -> None:
    pq.write_table(change(pq.read_table(path)), path)


def as_text(table: pa.Table, name: str) -> pa.Table:
    """``table`` with column ``name`` turned into strings."""
    text = pa.array([str(value) for value in table.column(name).to_pylist()])
    return table.set_column(table.column_names.index(name), name, text)


def damaged(path: Path, reason: str) -> str:
    """The pattern of the error for a damaged market data file."""
    return f"^{re.escape(f'{path} is damaged ({reason}); {DAMAGED_DATA_HINT}')}$"


Reader = Callable[[], object]


def every_reader(store: Store) -> dict[str, Reader]:
    """Each way a backtest or `backtest data` reads the serial, to be called."""
    return {
        "scan": lambda: list(store.scan(SYMBOL, 60, 0, 2**62, ["close"])),
        "scan by row": lambda: list(store.scan(SYMBOL, 60, 0, 2**62, ["close"], 1)),
        "tail": lambda: store.tail(SYMBOL, 60, 2**62, 10, ["close"]),
        "info": lambda: store.info(SYMBOL, 60),
        "catalog": store.catalog,
    }


# --- unreadable files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda b: b[: len(b) // 2], "Parquet magic bytes not found in footer"),
        (lambda b: b"this is not parquet\n" * 10, "Parquet magic bytes not found in footer"),
        (
            lambda b: b"hi",
            "Parquet file size is 2 bytes, smaller than the minimum file footer (8 bytes)",
        ),
    ],
    ids=["truncated", "not parquet", "two bytes"],
)
def test_an_unreadable_file_is_named_by_every_reader(
    store: Store, damage: Callable[[bytes], bytes], reason: str
) -> None:
    path = store.root / FILE_2020
    path.write_bytes(damage(path.read_bytes()))
    readers: list[Reader] = [*every_reader(store).values()]
    readers.append(lambda: store.available_columns(SYMBOL, 60))
    for read in readers:
        with pytest.raises(DataError, match=damaged(path, reason)):
            read()


def test_a_damaged_page_is_named_when_it_is_read(store: Store) -> None:
    path = store.root / FILE_2019
    pq.write_table(bars(list(range(1000, 101_000))), path, compression="zstd")
    data = bytearray(path.read_bytes())
    data[2000 : len(data) // 2] = bytes(len(data) // 2 - 2000)  # zeros over the first pages
    path.write_bytes(bytes(data))
    reason = "ZSTD decompression failed: Data corruption detected"
    with pytest.raises(DataError, match=damaged(path, reason)):
        list(store.scan(SYMBOL, 60, 0, 2**62, ["close"]))
    with pytest.raises(DataError, match=damaged(path, reason)):
        store.tail(SYMBOL, 60, DEC_31, 1, ["close"])


# --- readable files that break the invariants ------------------------------------------------


def test_rows_in_reverse_order_are_refused_by_every_reader(store: Store) -> None:
    path = store.root / FILE_2019
    rewrite(path, lambda t: t.take([2, 1, 0]))
    for read in every_reader(store).values():
        with pytest.raises(DataError, match=damaged(path, "datetime does not increase at row 2")):
            read()


def test_rows_out_of_order_across_batches_are_refused(store: Store) -> None:
    path = store.root / FILE_2019
    rewrite(path, lambda t: t.take([0, 2, 1]))
    with pytest.raises(DataError, match=damaged(path, "datetime does not increase at row 3")):
        list(store.scan(SYMBOL, 60, 0, 2**62, [], 2))  # rows 1-2, then row 3 alone


def test_a_file_overlapping_the_next_one_is_refused(store: Store) -> None:
    late = bars([JAN_2 + MINUTE_NS]).set_column(
        0, "datetime", pa.array([JAN_2 + MINUTE_NS]).cast(pa.timestamp("ns", tz="+08:00"))
    )  # a row later than the first of 2020.parquet, appended to 2019.parquet
    rewrite(store.root / FILE_2019, lambda t: pa.concat_tables([t.select(late.column_names), late]))
    reason = "its first datetime is not after the last one of 2019.parquet"
    for name in ("scan", "scan by row", "tail"):
        with pytest.raises(DataError, match=damaged(store.root / FILE_2020, reason)):
            every_reader(store)[name]()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda t: t.drop_columns(["close"]), "missing column(s) close"),
        (lambda t: t.drop_columns(["open", "volume"]), "missing column(s) open, volume"),
        (lambda t: t.drop_columns(["datetime"]), "missing column(s) datetime"),
        (lambda t: as_text(t, "datetime"), "datetime holds string values"),
        (lambda t: as_text(t, "close"), "close holds string values"),
    ],
    ids=["no close", "no open and volume", "no datetime", "text datetime", "text close"],
)
def test_a_file_with_a_missing_or_mistyped_column_is_refused_by_every_reader(
    store: Store, change: Callable[[pa.Table], pa.Table], reason: str
) -> None:
    path = store.root / FILE_2020
    rewrite(path, change)
    readers: list[Reader] = [*every_reader(store).values()]
    readers.append(lambda: store.available_columns(SYMBOL, 60))
    for read in readers:
        with pytest.raises(DataError, match=damaged(path, reason)):
            read()


def test_a_tick_file_without_last_price_is_refused(store: Store) -> None:
    ticks = pa.table(
        {"datetime": pa.array([JAN_2], pa.int64()), "last_price": [1.0], "volume": [1.0]}
    )
    store.write(SYMBOL, 0, ticks)
    path = store.root / f"ticks/{SYMBOL}/2020/20200102.parquet"
    rewrite(path, lambda t: t.drop_columns(["last_price"]))
    with pytest.raises(DataError, match=damaged(path, "missing column(s) last_price")):
        list(store.scan(SYMBOL, 0, 0, 2**62, ["volume"]))


def test_extra_columns_are_ignored_by_readers(store: Store) -> None:
    path = store.root / FILE_2020
    rewrite(path, lambda t: t.append_column("note", pa.array(["x", "y"])))
    assert store.tail(SYMBOL, 60, 2**62, 1, ["close"]).to_pydict() == {
        "datetime": [TIMES[-1]],
        "close": [105.0],
    }


# --- names outside the layout ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["latest.parquet", "2019b.parquet", "notes.parquet", "19.parquet"])
def test_a_kline_file_named_outside_the_layout_is_named_and_removable(
    store: Store, name: str
) -> None:
    stray = store.root / f"klines/1m/{SYMBOL}" / name
    (store.root / FILE_2020).rename(stray)
    message = (
        f"{stray} is not named as the store's layout names files (klines are stored as "
        "<YYYY>.parquet, one file per Beijing year); rename it after the period it holds or "
        "move it out of the store"
    )
    readers: list[Reader] = [*every_reader(store).values(), lambda: store.has(SYMBOL, 60)]
    for read in readers:
        with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
            read()
    assert store.durations(SYMBOL) == [60]
    assert store.remove(SYMBOL, 60) == 2  # `backtest data rm` still clears the serial
    assert store.symbols() == []


@pytest.mark.parametrize(
    "where", ["2019/20200102.parquet", "2020/2020012.parquet", "2020/20200231.parquet"]
)
def test_a_tick_file_named_outside_the_layout_is_named(store: Store, where: str) -> None:
    ticks = pa.table(
        {"datetime": pa.array([JAN_2], pa.int64()), "last_price": [1.0], "volume": [1.0]}
    )
    store.write(SYMBOL, 0, ticks)
    stray = store.root / f"ticks/{SYMBOL}" / where
    stray.parent.mkdir(exist_ok=True)
    (store.root / f"ticks/{SYMBOL}/2020/20200102.parquet").rename(stray)
    message = (
        f"{stray} is not named as the store's layout names files (ticks are stored as "
        "<YYYY>/<YYYYMMDD>.parquet, one file per Beijing date); rename it after the period it "
        "holds or move it out of the store"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        store.tail(SYMBOL, 0, 2**62, 1, ["last_price"])


@pytest.mark.parametrize(
    ("name", "rename"),
    [("1min", "after its period"), ("60s", "to '1m'"), ("tick", "after its period")],
)
def test_a_kline_directory_not_named_by_period_is_named(
    store: Store, name: str, rename: str
) -> None:
    (store.root / "klines/1m").rename(store.root / "klines" / name)
    message = (
        f"{store.root / 'klines' / name} is not named as the store's layout names kline "
        "directories (by period, such as '1m', '5m', '1h' or '1d'); rename it "
        f"{rename} or move it out of the store"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        store.durations(SYMBOL)
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        store.catalog()


# --- writing into a damaged file -------------------------------------------------------------


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda p: p.write_bytes(p.read_bytes()[:100]), "Parquet magic bytes not found in footer"),
        (lambda p: rewrite(p, lambda t: t.take([2, 1, 0])), "datetime does not increase at row 2"),
        (lambda p: rewrite(p, lambda t: t.drop_columns(["close"])), "missing column(s) close"),
        (
            lambda p: rewrite(p, lambda t: t.append_column("junk", pa.array(["x"] * 3))),
            "unknown column(s) junk",
        ),
    ],
    ids=["truncated", "reversed", "no close", "unknown column"],
)
def test_a_write_merging_into_a_damaged_file_is_refused_and_changes_nothing(
    store: Store, damage: Callable[[Path], None], reason: str
) -> None:
    path = store.root / FILE_2019
    damage(path)
    before = snapshot(store.root)
    with pytest.raises(DataError, match=damaged(path, reason)):
        store.write(SYMBOL, 60, bars([TIMES[0], JAN_2 + 2 * MINUTE_NS]))
    assert snapshot(store.root) == before
    assert not (store.root / ".staging").exists()


def test_deleting_a_damaged_file_and_importing_its_period_again_repairs_the_store(
    store: Store,
) -> None:
    path = store.root / FILE_2019
    path.write_bytes(b"junk" * 10)
    with pytest.raises(DataError, match=damaged(path, "Parquet magic bytes not found in footer")):
        store.write(SYMBOL, 60, bars(TIMES[:3]))
    path.unlink()  # what the message says to do
    store.write(SYMBOL, 60, bars(TIMES[:3]))
    assert store.info(SYMBOL, 60).rows == 5
    assert store.tail(SYMBOL, 60, 2**62, 5, ["open"])["open"].to_pylist() == [
        100.0, 101.0, 102.0, 103.0, 104.0,
    ]  # fmt: skip


# --- metadata files --------------------------------------------------------------------------

INSTRUMENTS_HINT = (
    "write it again (`backtest data download`, or Store.write_instruments) or delete it to use "
    "the built-in instrument terms"
)
CALENDAR_HINT = (
    "write it again (`backtest data download`, or Store.write_calendar) or delete it to use "
    "exchange_calendars' trading days"
)
DIVIDENDS_HINT = (
    "write it again (`backtest data download`, or Store.write_dividends) or delete it if the "
    "store's symbols have no corporate actions"
)


METADATA: dict[str, tuple[Callable[[Store], object], str]] = {
    "instruments.parquet": (Store.instruments, INSTRUMENTS_HINT),
    "calendar.parquet": (Store.calendar, CALENDAR_HINT),
    "dividends.parquet": (Store.dividends, DIVIDENDS_HINT),
}
"""Each metadata file: the reader that reads it, and the end of its damage messages."""


@pytest.mark.parametrize("name", list(METADATA))
def test_an_unreadable_metadata_file_is_named_with_how_to_replace_it(
    store: Store, name: str
) -> None:
    read, hint = METADATA[name]
    (store.root / name).write_bytes(b"this is not parquet\n" * 10)
    message = f"{store.root / name} is damaged (Parquet magic bytes not found in footer); {hint}"
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        read(store)


@pytest.mark.parametrize(
    ("name", "table", "missing"),
    [
        ("calendar.parquet", {"day": [1, 2]}, "trading_day; it has day"),
        ("instruments.parquet", {"sym": ["IF2003.IF"]}, "symbol; it has sym"),
        (
            "dividends.parquet",
            {"symbol": ["600000.SH"]},
            "ex_date, cash, share_ratio; it has symbol",
        ),
    ],
)
def test_a_metadata_file_without_its_columns_is_named(
    store: Store, name: str, table: dict[str, list[Any]], missing: str
) -> None:
    read, hint = METADATA[name]
    pq.write_table(pa.table(table), store.root / name)
    message = f"{store.root / name} is damaged (missing column(s) {missing}); {hint}"
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        read(store)


@pytest.mark.parametrize(
    ("symbols", "problem"),
    [
        (["IF2003.IF", None], "row 2: a symbol must be a str like 'IF2003.IF', was None"),
        (["garbage"], (
            "row 1: symbol 'garbage' is not understood: write it as code.MARKET (xtquant, e.g. "
            "'IF2003.IF', 'rb2405.SF', '600000.SH') or EXCHANGE.code (tqsdk, e.g. 'CFFEX.IF2003'); "
            "markets are SH, SZ, BJ, SF, DF, ZF, IF, INE, GF"
        )),
    ],
)  # fmt: skip
def test_an_instrument_row_with_a_bad_symbol_is_named(
    store: Store, symbols: list[str | None], problem: str
) -> None:
    path = store.root / "instruments.parquet"
    pq.write_table(
        pa.table({"symbol": pa.array(symbols, pa.string()), "price_tick": [0.2] * len(symbols)}),
        path,
    )
    message = f"{path}: {problem}; {INSTRUMENTS_HINT}"
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        store.instruments()


def test_two_instrument_rows_of_one_symbol_are_refused(store: Store) -> None:
    path = store.root / "instruments.parquet"
    pq.write_table(
        pa.table({"symbol": ["IF2003.IF", "CFFEX.IF2003"], "price_tick": [0.2, 5.0]}), path
    )
    message = f"{path}: row 2 names IF2003.IF again; keep one row per symbol ({INSTRUMENTS_HINT})"
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        store.instruments()


def test_instrument_rows_are_keyed_by_the_canonical_symbol(store: Store) -> None:
    pq.write_table(
        pa.table({"symbol": ["CFFEX.IF2003"], "price_tick": [0.2]}),
        store.root / "instruments.parquet",
    )
    assert store.instruments() == {"IF2003.IF": {"price_tick": 0.2}}


@pytest.mark.parametrize(("cash", "shown"), [(-1.0, "-1.0"), (float("nan"), "nan")])
def test_an_invalid_corporate_action_is_named_by_row(store: Store, cash: float, shown: str) -> None:
    path = store.root / "dividends.parquet"
    table: dict[str, Any] = {  # written by another tool: write_dividends refuses such a row
        "symbol": ["600000.SH", "600000.SH"],
        "ex_date": pa.array([date(2005, 1, 4), date(2005, 2, 1)], pa.date32()),
        "cash": [0.1, cash],
        "share_ratio": [0.0, 0.0],
    }
    pq.write_table(pa.table(table), path)
    row = (
        f"{{'symbol': '600000.SH', 'ex_date': datetime.date(2005, 2, 1), 'cash': {shown}, "
        "'share_ratio': 0.0}"
    )
    message = (
        f"{path}: row 2 is not a valid corporate action ({row}): ex_date must be a date, cash "
        f"and share_ratio numbers from 0 up; {DIVIDENDS_HINT}"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        store.dividends()


def test_a_datetime_column_of_text_is_refused_by_int_times() -> None:
    message = "datetime must be a timestamp or int64 ns column, was string"
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        int_times(pa.array(["2020-01-02 09:00"]))


# --- backtest data verify lists what the readers refuse -------------------------------------


def test_verify_lists_text_columns_and_stray_names_instead_of_raising(store: Store) -> None:
    from backtest.verify import verify_store

    rewrite(store.root / FILE_2019, lambda table: as_text(table, "close"))
    rewrite(store.root / FILE_2020, lambda table: as_text(table, "datetime"))

    (check,) = verify_store(store)

    refused = "the file is refused by every reader"
    assert [(f.path.name, f.problem.check, f.problem.detail) for f in check.findings] == [
        ("2019.parquet", "layout", f"{refused}: close holds string values"),
        ("2020.parquet", "layout", f"{refused}: datetime holds string values"),
    ]
    rewrite(store.root / FILE_2019, lambda table: table.drop_columns(["close"]))
    (check,) = verify_store(store)
    assert check.findings[0].problem.detail == f"{refused}: missing column(s) close"
    (store.root / FILE_2019).rename(store.root / f"klines/1m/{SYMBOL}/latest.parquet")
    (check,) = verify_store(store)
    # the stray file is named by its own path, and the others are still checked
    assert [(f.path, f.problem.check) for f in check.findings] == [
        (store.root / f"klines/1m/{SYMBOL}/latest.parquet", "layout"),
        (store.root / FILE_2020, "layout"),
    ]
    assert check.findings[0].problem.detail.startswith(
        f"{store.root / 'klines/1m' / SYMBOL / 'latest.parquet'} is not named as the store's "
        f"layout names files"
    )


@pytest.mark.parametrize("damage", ["not parquet", "a stray name"])
def test_data_rm_deletes_a_damaged_serial(store: Store, damage: str) -> None:
    import io

    from backtest.cli import main

    if damage == "not parquet":
        (store.root / FILE_2019).write_bytes(b"not parquet")
    else:
        (store.root / FILE_2019).rename(store.root / f"klines/1m/{SYMBOL}/latest.parquet")
    out, err = io.StringIO(), io.StringIO()

    status = main(["data", "rm", SYMBOL, "--store", str(store.root), "--yes"], out, err)

    assert (status, out.getvalue(), err.getvalue()) == (
        0, f"deleted 2 file(s) of {SYMBOL} from {store.root}\n", ""
    )  # fmt: skip
    assert store.durations(SYMBOL) == []


def test_a_serial_directory_under_a_tqsdk_spelling_says_to_rename_it(store: Store) -> None:
    old = store.root / "klines/1m/SHFE.rb2001"
    (store.root / f"klines/1m/{SYMBOL}").rename(old)

    with pytest.raises(DataError) as error:
        store.symbols()
    assert str(error.value) == (
        f"{old} is not named as the store's layout names serial directories (by the canonical "
        f"symbol, such as 'IF2003.IF' or 'rb2405.SF'); rename it to 'rb2001.SF' or move it out "
        f"of the store"
    )
