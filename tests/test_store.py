"""The Parquet store (backtest/store.py): opening, writing, merging, reading back, and the sample.

Hand-made tables go into the ``empty_store`` fixture to check the layout (klines in one file per
Beijing year, ticks in one file per Beijing date), merging, time zones and the error messages;
the last tests read the sample store shipped in ``data/store``.
"""

from __future__ import annotations

import json
import math
import re
import stat
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from backtest.errors import DataError
from backtest.store import Store

SHANGHAI = ZoneInfo("Asia/Shanghai")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE_NS = 60 * 1_000_000_000
FAR_PAST = -(2**62)
FAR_FUTURE = 2**62
SYMBOL = "rb2001.SF"


def beijing_ns(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, *, ns: int = 0
) -> int:
    """int ns of a Beijing wall-clock time, computed without backtest.times."""
    moment = datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)
    return (moment - EPOCH) // timedelta(seconds=1) * 1_000_000_000 + ns


def bars(times: Sequence[int], first_open: float = 100.0, **extra: list[float]) -> pa.Table:
    """Minute bars at these int ns times, opens counting up from ``first_open``."""
    opens = [first_open + i for i in range(len(times))]
    return pa.table(
        {
            "datetime": pa.array(times, pa.int64()),
            "open": opens,
            "high": [o + 2 for o in opens],
            "low": [o - 2 for o in opens],
            "close": [o + 1 for o in opens],
            "volume": [10.0] * len(times),
            **extra,
        }
    )


def ticks(times: Sequence[int], first_price: float = 4000.0) -> pa.Table:
    return pa.table(
        {
            "datetime": pa.array(times, pa.int64()),
            "last_price": [first_price + i for i in range(len(times))],
            "volume": [float(i + 1) for i in range(len(times))],
        }
    )


def read_all(
    store: Store, symbol: str, duration_s: int, columns: Sequence[str]
) -> dict[str, list[Any]]:
    return scanned(store, symbol, duration_s, FAR_PAST, FAR_FUTURE, columns)


def scanned(
    store: Store, symbol: str, duration_s: int, start: int, end: int, columns: Sequence[str]
) -> dict[str, list[Any]]:
    table = pa.Table.from_batches(list(store.scan(symbol, duration_s, start, end, columns)))
    return table.to_pydict()


def relative_files(store: Store) -> list[str]:
    return sorted(
        str(path.relative_to(store.root))
        for path in store.root.rglob("*.parquet")
        if path.name != "calendar.parquet"
    )


# --- opening and creating --------------------------------------------------------------------


def test_opening_a_missing_directory_says_it_does_not_exist(tmp_path: Path) -> None:
    message = (
        f"data store {tmp_path / 'nowhere'} does not exist; create one with `backtest data "
        "import` or pass data= the directory that holds store.json"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        Store(tmp_path / "nowhere")


def test_opening_a_directory_without_manifest_says_it_is_not_a_store(tmp_path: Path) -> None:
    message = (
        f"{tmp_path} is not a data store (no store.json); create one with `backtest data "
        "import` or pass data= the directory that holds store.json"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        Store(tmp_path)


def test_opening_a_store_with_a_newer_schema_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / "store.json").write_text(json.dumps({"schema_version": 2}), encoding="utf-8")
    message = (
        f"data store {tmp_path} has schema version 2, newer than the 1 this version of "
        "backtest reads; upgrade backtest"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        Store(tmp_path)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{}", 'it is not a JSON object with a "schema_version"'),
        ("[1]", 'it is not a JSON object with a "schema_version"'),
        ("not json", "Expecting value: line 1 column 1 (char 0)"),
        ('{"schema_version": -7}', "schema_version must be a whole number from 1 up, was -7"),
        ('{"schema_version": 0}', "schema_version must be a whole number from 1 up, was 0"),
        ('{"schema_version": "1"}', "schema_version must be a whole number from 1 up, was '1'"),
        ('{"schema_version": true}', "schema_version must be a whole number from 1 up, was True"),
        ('{"schema_version": null}', "schema_version must be a whole number from 1 up, was None"),
    ],
)
def test_opening_a_store_with_a_broken_manifest_is_refused(
    tmp_path: Path, text: str, reason: str
) -> None:
    (tmp_path / "store.json").write_text(text, encoding="utf-8")
    message = (
        f"{tmp_path / 'store.json'} is not a valid store manifest: {reason}; write "
        f'{{"schema_version": 1}} into it if {tmp_path} is a store'
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        Store(tmp_path)


def test_opening_a_file_as_a_store_says_it_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "bars.csv").write_text("datetime,open\n", encoding="utf-8")
    message = (
        f"data store {tmp_path / 'bars.csv'} is a file, not a directory; create one with "
        "`backtest data import` or pass data= the directory that holds store.json"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        Store(tmp_path / "bars.csv")


def test_creating_a_store_where_a_file_is_says_so(tmp_path: Path) -> None:
    (tmp_path / "bars.csv").write_text("datetime,open\n", encoding="utf-8")
    message = (
        f"cannot create a data store at {tmp_path / 'bars.csv'}: it is a file; pass a "
        "directory that is new or holds store.json"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        Store.create(tmp_path / "bars.csv")
    inside = tmp_path / "bars.csv" / "store"
    message = (
        f"cannot create a data store at {inside}: it cannot be made (Not a directory); pass a "
        "directory that is new or holds store.json"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        Store.create(inside)
    assert (tmp_path / "bars.csv").read_text(encoding="utf-8") == "datetime,open\n"


def test_create_makes_an_empty_store_with_a_version_1_manifest(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "a" / "b")
    assert json.loads((tmp_path / "a" / "b" / "store.json").read_text()) == {"schema_version": 1}
    assert (store.symbols(), store.instruments(), store.calendar()) == ([], {}, None)
    assert repr(store) == f"Store({str(tmp_path / 'a' / 'b')!r})"


def test_create_opens_an_existing_store_without_touching_it(empty_store: Store) -> None:
    empty_store.write(SYMBOL, 60, bars([beijing_ns(2020, 1, 2, 9)]))
    again = Store.create(empty_store.root)
    assert again.symbols() == [SYMBOL]


# --- writing: layout -------------------------------------------------------------------------


def test_klines_are_split_by_beijing_year(empty_store: Store) -> None:
    late = beijing_ns(2019, 12, 31, 23)  # 15:00 UTC, still 2019 in UTC too
    after_midnight = beijing_ns(2020, 1, 1, 0, 30)  # 2019-12-31 16:30 UTC
    empty_store.write(SYMBOL, 60, bars([late, after_midnight]))
    assert relative_files(empty_store) == [
        "klines/1m/rb2001.SF/2019.parquet",
        "klines/1m/rb2001.SF/2020.parquet",
    ]
    assert read_all(empty_store, SYMBOL, 60, ["open"]) == {
        "datetime": [late, after_midnight],
        "open": [100.0, 101.0],
    }


def test_ticks_are_split_by_beijing_date(empty_store: Store) -> None:
    times = [
        beijing_ns(2020, 1, 2, 23, 59, 59),
        beijing_ns(2020, 1, 3, 0, 0, ns=500_000_000),
        beijing_ns(2020, 1, 3, 7, 0),  # 2020-01-02 23:00 UTC
    ]
    empty_store.write(SYMBOL, 0, ticks(times))
    assert relative_files(empty_store) == [
        "ticks/rb2001.SF/2020/20200102.parquet",
        "ticks/rb2001.SF/2020/20200103.parquet",
    ]
    assert read_all(empty_store, SYMBOL, 0, ["last_price", "volume"]) == {
        "datetime": times,
        "last_price": [4000.0, 4001.0, 4002.0],
        "volume": [1.0, 2.0, 3.0],
    }


def test_kline_periods_get_their_own_directories(empty_store: Store) -> None:
    empty_store.write(SYMBOL, 300, bars([beijing_ns(2020, 1, 2, 9)]))
    empty_store.write(SYMBOL, 86_400, bars([beijing_ns(2020, 1, 2)]))
    assert relative_files(empty_store) == [
        "klines/1d/rb2001.SF/2020.parquet",
        "klines/5m/rb2001.SF/2020.parquet",
    ]


def test_tqsdk_symbols_are_stored_and_read_under_the_canonical_symbol(empty_store: Store) -> None:
    empty_store.write("SHFE.RB2001", 60, bars([beijing_ns(2020, 1, 2, 9)]))
    empty_store.write_instruments({"SHFE.rb2001": {"price_tick": 1.0}})
    empty_store.write_dividends([("SSE.600009", date(2020, 6, 1), 0.5, 0.0)])

    assert "klines/1m/rb2001.SF/2020.parquet" in relative_files(empty_store)
    assert not (empty_store.root / "klines/1m/SHFE.RB2001").exists()
    assert list(empty_store.instruments()) == [SYMBOL]
    assert list(empty_store.dividends()) == ["600009.SH"]
    for spelling in (SYMBOL, "SHFE.rb2001", " shfe.RB2001 "):
        assert empty_store.durations(spelling) == [60]
        assert empty_store.has(spelling, 60)
        assert empty_store.tail(spelling, 60, beijing_ns(2020, 1, 3), 5, ["close"]).num_rows == 1
        assert empty_store.info(spelling, 60).symbol == SYMBOL


def test_two_spellings_of_one_instrument_are_refused(empty_store: Store) -> None:
    with pytest.raises(DataError) as error:
        empty_store.write_instruments({SYMBOL: {"price_tick": 1.0}, "SHFE.rb2001": {}})
    assert str(error.value) == (
        "instrument rows name rb2001.SF twice (one of them as 'SHFE.rb2001'); keep one"
    )


def test_written_files_are_readable_by_everyone(empty_store: Store) -> None:
    empty_store.write(SYMBOL, 60, bars([beijing_ns(2020, 1, 2, 9)]))
    empty_store.write(SYMBOL, 0, ticks([beijing_ns(2020, 1, 2, 9)]))
    empty_store.write_instruments({SYMBOL: {"price_tick": 1.0}})
    paths = [
        empty_store.root / "store.json",
        empty_store.root / "calendar.parquet",
        empty_store.root / "instruments.parquet",
        empty_store.root / "klines/1m/rb2001.SF/2020.parquet",
        empty_store.root / "ticks/rb2001.SF/2020/20200102.parquet",
    ]
    assert [stat.S_IMODE(path.stat().st_mode) for path in paths] == [0o644] * 5


def test_write_leaves_no_temporary_files(empty_store: Store) -> None:
    empty_store.write(SYMBOL, 60, bars([beijing_ns(2020, 1, 2, 9)]))
    empty_store.write(SYMBOL, 60, bars([beijing_ns(2020, 1, 2, 9, 1)]))
    assert [p.name for p in empty_store.root.rglob("*.tmp")] == []


# --- writing: merging ------------------------------------------------------------------------


def test_incoming_rows_replace_stored_rows_with_the_same_datetime(empty_store: Store) -> None:
    t0, t1, t2, t3 = (beijing_ns(2020, 1, 2, 9) + i * MINUTE_NS for i in range(4))
    empty_store.write(SYMBOL, 60, bars([t0, t1, t2], first_open=100.0))
    empty_store.write(SYMBOL, 60, bars([t1, t3], first_open=500.0))
    assert read_all(empty_store, SYMBOL, 60, ["open"]) == {
        "datetime": [t0, t1, t2, t3],
        "open": [100.0, 500.0, 102.0, 501.0],
    }


def test_rewriting_the_same_rows_gives_identical_files(empty_store: Store) -> None:
    table = bars([beijing_ns(2019, 12, 31, 23), beijing_ns(2020, 1, 2, 9)])
    empty_store.write(SYMBOL, 60, table)
    paths = [empty_store.root / name for name in relative_files(empty_store)]
    before = [path.read_bytes() for path in paths]
    empty_store.write(SYMBOL, 60, table)
    assert [path.read_bytes() for path in paths] == before


def test_merge_touches_only_the_files_of_the_incoming_rows(empty_store: Store) -> None:
    empty_store.write(SYMBOL, 60, bars([beijing_ns(2019, 12, 31, 14)]))
    old = empty_store.root / "klines/1m/rb2001.SF/2019.parquet"
    mtime = old.stat().st_mtime_ns
    empty_store.write(SYMBOL, 60, bars([beijing_ns(2020, 1, 2, 9)]))
    assert old.stat().st_mtime_ns == mtime


def test_replaced_rows_keep_the_stored_values_of_columns_the_new_rows_lack(
    empty_store: Store,
) -> None:
    t0, t1, t2 = (beijing_ns(2020, 1, 2, 9) + i * MINUTE_NS for i in range(3))
    empty_store.write(SYMBOL, 60, bars([t0, t1], open_oi=[10.0, 11.0], close_oi=[11.0, 12.0]))
    empty_store.write(SYMBOL, 60, bars([t1, t2], first_open=500.0))  # no open interest
    columns = ["open", "amount", "open_oi", "close_oi"]
    stored = read_all(empty_store, SYMBOL, 60, columns)
    assert {name: stored[name] for name in ("datetime", "open", "open_oi")} == {
        "datetime": [t0, t1, t2],
        "open": [100.0, 500.0, 501.0],
        "open_oi": [10.0, 11.0, None],  # t1 keeps its open interest; t2 is new: null (NaN)
    }
    assert stored["close_oi"] == [11.0, 12.0, None]
    assert empty_store.available_columns(SYMBOL, 60) == (
        "datetime", "open", "high", "low", "close", "volume", "open_oi", "close_oi",
    )  # fmt: skip


def test_a_column_the_new_rows_have_replaces_the_stored_values_nan_included(
    empty_store: Store,
) -> None:
    t0, t1 = beijing_ns(2020, 1, 2, 9), beijing_ns(2020, 1, 2, 9, 1)
    empty_store.write(SYMBOL, 60, bars([t0, t1], open_oi=[10.0, 11.0]))
    empty_store.write(SYMBOL, 60, bars([t0, t1], open_oi=[20.0, math.nan]))
    values = read_all(empty_store, SYMBOL, 60, ["open_oi"])["open_oi"]
    assert values[0] == 20.0
    assert math.isnan(values[1])


def test_new_columns_are_merged_in_canonical_order(empty_store: Store) -> None:
    import pyarrow.parquet as pq

    time = beijing_ns(2020, 1, 2, 9)
    empty_store.write(SYMBOL, 60, bars([time], close_oi=[7.0]))
    empty_store.write(SYMBOL, 60, bars([time], amount=[5.0]))
    schema = pq.read_schema(empty_store.root / "klines/1m/rb2001.SF/2020.parquet")
    assert schema.names == [
        "datetime", "open", "high", "low", "close", "volume", "amount", "close_oi",
    ]  # fmt: skip
    assert read_all(empty_store, SYMBOL, 60, ["amount", "close_oi"]) == {
        "datetime": [time],
        "amount": [5.0],
        "close_oi": [7.0],
    }


def test_column_missing_from_later_rows_reads_as_nan(empty_store: Store) -> None:
    t0, t1 = beijing_ns(2020, 1, 2, 9), beijing_ns(2020, 1, 2, 9, 1)
    empty_store.write(SYMBOL, 60, bars([t0], amount=[1000.0]))
    empty_store.write(SYMBOL, 60, bars([t1]))
    batch = pa.Table.from_batches(list(empty_store.scan(SYMBOL, 60, t0, t1, ["amount"])))
    amounts = batch.column("amount").to_numpy(zero_copy_only=False)
    assert amounts[0] == 1000.0
    assert math.isnan(amounts[1])


# --- writing: time zones ---------------------------------------------------------------------


def test_naive_timestamps_are_beijing_time(empty_store: Store) -> None:
    naive = pa.array([datetime(2020, 1, 2, 9, 0), datetime(2020, 1, 2, 9, 1)], pa.timestamp("us"))
    table = bars([0, 0]).set_column(0, "datetime", naive)
    empty_store.write(SYMBOL, 60, table)
    assert read_all(empty_store, SYMBOL, 60, [])["datetime"] == [
        beijing_ns(2020, 1, 2, 9, 0),
        beijing_ns(2020, 1, 2, 9, 1),
    ]


def test_aware_timestamps_keep_their_instant(empty_store: Store) -> None:
    utc = pa.array(
        [datetime(2019, 12, 31, 16, 30, tzinfo=UTC)], pa.timestamp("s", tz="UTC")
    )  # 2020-01-01 00:30 Beijing
    empty_store.write(SYMBOL, 60, bars([0]).set_column(0, "datetime", utc))
    assert "klines/1m/rb2001.SF/2020.parquet" in relative_files(empty_store)
    assert not (empty_store.root / "klines/1m/SHFE.RB2001").exists()
    assert read_all(empty_store, SYMBOL, 60, [])["datetime"] == [beijing_ns(2020, 1, 1, 0, 30)]


def test_datetime_is_stored_as_beijing_timestamps(empty_store: Store) -> None:
    import pyarrow.parquet as pq

    empty_store.write(SYMBOL, 60, bars([beijing_ns(2020, 1, 2, 9)], amount=[5.0]))
    schema = pq.read_schema(empty_store.root / "klines/1m/rb2001.SF/2020.parquet")
    assert schema.field("datetime").type == pa.timestamp("ns", tz="+08:00")
    assert schema.names == ["datetime", "open", "high", "low", "close", "volume", "amount"]
    assert {schema.field(n).type for n in schema.names[1:]} == {pa.float64()}


# --- writing: errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "dropped", "missing"),
    [
        (60, ["close"], "close"),
        (60, ["open", "volume"], "open, volume"),
        (60, ["datetime"], "datetime"),
        (0, ["last_price"], "last_price"),
    ],
)
def test_write_without_a_required_column_is_refused(
    empty_store: Store, duration: int, dropped: list[str], missing: str
) -> None:
    time = beijing_ns(2020, 1, 2, 9)
    table = (bars if duration else ticks)([time]).drop_columns(dropped)
    message = f"cannot store rb2001.SF: missing column(s) {missing}"
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        empty_store.write(SYMBOL, duration, table)


def test_write_with_an_unknown_column_is_refused(empty_store: Store) -> None:
    table = bars([beijing_ns(2020, 1, 2, 9)], turnover=[1.0], last_price=[2.0])
    message = (
        "cannot store rb2001.SF: unknown column(s) turnover, last_price; stored columns are "
        "datetime, open, high, low, close, volume, amount, open_oi, close_oi"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        empty_store.write(SYMBOL, 60, table)


@pytest.mark.parametrize("offsets", [[0, 2, 1], [0, 1, 1]])
def test_write_with_non_increasing_datetime_is_refused(
    empty_store: Store, offsets: list[int]
) -> None:
    times = [beijing_ns(2020, 1, 2, 9) + o * MINUTE_NS for o in offsets]
    message = "cannot store rb2001.SF: datetime must increase strictly row by row"
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        empty_store.write(SYMBOL, 60, bars(times))
    assert empty_store.symbols() == []


def test_writing_an_empty_table_stores_nothing(empty_store: Store) -> None:
    empty_store.write(SYMBOL, 60, bars([]))
    assert empty_store.has(SYMBOL, 60) is False


# --- reading ---------------------------------------------------------------------------------


@pytest.fixture
def five_bars(empty_store: Store) -> tuple[Store, list[int]]:
    """Five bars spread over two yearly files, 2019-12-31 14:57 … 2020-01-02 09:01."""
    times = [
        beijing_ns(2019, 12, 31, 14, 57),
        beijing_ns(2019, 12, 31, 14, 58),
        beijing_ns(2019, 12, 31, 14, 59),
        beijing_ns(2020, 1, 2, 9, 0),
        beijing_ns(2020, 1, 2, 9, 1),
    ]
    empty_store.write(SYMBOL, 60, bars(times))
    return empty_store, times


def test_scan_bounds_are_inclusive_at_both_ends(five_bars: tuple[Store, list[int]]) -> None:
    store, times = five_bars
    assert scanned(store, SYMBOL, 60, times[1], times[3], ["open"]) == {
        "datetime": times[1:4],
        "open": [101.0, 102.0, 103.0],
    }


def test_scan_excludes_rows_one_ns_outside_the_bounds(five_bars: tuple[Store, list[int]]) -> None:
    store, times = five_bars
    assert scanned(store, SYMBOL, 60, times[1] + 1, times[3] - 1, [])["datetime"] == [times[2]]


def test_scan_of_an_empty_range_yields_nothing(five_bars: tuple[Store, list[int]]) -> None:
    store, _ = five_bars
    gap = beijing_ns(2020, 1, 1, 12)
    assert list(store.scan(SYMBOL, 60, gap, gap + MINUTE_NS, ["open"])) == []


def test_scan_reads_in_batches_of_the_requested_size(five_bars: tuple[Store, list[int]]) -> None:
    store, times = five_bars
    batches = list(store.scan(SYMBOL, 60, FAR_PAST, FAR_FUTURE, ["open"], batch_rows=2))
    assert [b.num_rows for b in batches] == [2, 1, 2]
    assert [t for b in batches for t in b.column(0).to_pylist()] == times


def test_scan_returns_int64_datetime_first_whatever_the_column_order(
    five_bars: tuple[Store, list[int]],
) -> None:
    store, times = five_bars
    batches = list(store.scan(SYMBOL, 60, times[0], times[4], ["close", "datetime", "open"]))
    assert {b.schema for b in batches} == {
        pa.schema((("datetime", pa.int64()), ("close", pa.float64()), ("open", pa.float64())))
    }


def test_tail_returns_the_last_rows_up_to_a_time_across_files(
    five_bars: tuple[Store, list[int]],
) -> None:
    store, times = five_bars
    table = store.tail(SYMBOL, 60, times[3], 3, ["close", "datetime"])
    assert table.schema == pa.schema((("datetime", pa.int64()), ("close", pa.float64())))
    assert table.to_pydict() == {"datetime": times[1:4], "close": [102.0, 103.0, 104.0]}


def test_tail_includes_the_row_at_upto(five_bars: tuple[Store, list[int]]) -> None:
    store, times = five_bars
    assert store.tail(SYMBOL, 60, times[2], 1, [])["datetime"].to_pylist() == [times[2]]
    assert store.tail(SYMBOL, 60, times[2] - 1, 1, [])["datetime"].to_pylist() == [times[1]]


def test_tail_returns_fewer_rows_when_history_is_short(five_bars: tuple[Store, list[int]]) -> None:
    store, times = five_bars
    assert store.tail(SYMBOL, 60, times[1], 10, [])["datetime"].to_pylist() == times[:2]


def test_tail_before_the_first_row_is_empty_with_the_requested_columns(
    five_bars: tuple[Store, list[int]],
) -> None:
    store, times = five_bars
    table = store.tail(SYMBOL, 60, times[0] - 1, 5, ["open"])
    assert table.num_rows == 0
    assert table.schema == pa.schema((("datetime", pa.int64()), ("open", pa.float64())))


def test_tail_of_zero_rows_is_empty_with_the_requested_columns(
    five_bars: tuple[Store, list[int]],
) -> None:
    store, times = five_bars
    table = store.tail(SYMBOL, 60, times[4], 0, ["open"])
    assert table.num_rows == 0
    assert table.schema == pa.schema((("datetime", pa.int64()), ("open", pa.float64())))


def test_reading_a_missing_serial_names_what_the_store_has(
    five_bars: tuple[Store, list[int]],
) -> None:
    store, _ = five_bars
    message = f"data store {store.root} has no 5m klines for rb2001.SF (it has: 1m)"
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        list(store.scan(SYMBOL, 300, FAR_PAST, FAR_FUTURE, []))
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        store.tail(SYMBOL, 300, FAR_FUTURE, 1, [])


def test_reading_an_unknown_symbol_says_how_to_import_it(empty_store: Store) -> None:
    message = (
        f"data store {empty_store.root} has no data for hc2001.SF; import it with "
        "`backtest data import` or point data= at a store that has it"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        empty_store.available_columns("hc2001.SF", 60)


def test_scan_fills_a_column_absent_from_older_files(empty_store: Store) -> None:
    old, new = beijing_ns(2019, 12, 31, 14), beijing_ns(2020, 1, 2, 9)
    empty_store.write(SYMBOL, 60, bars([old]))
    empty_store.write(SYMBOL, 60, bars([new], amount=[1000.0]))
    assert "amount" in empty_store.available_columns(SYMBOL, 60)
    batches = list(empty_store.scan(SYMBOL, 60, old, new, ["amount"]))
    assert [b.schema.names for b in batches] == [["datetime", "amount"]] * len(batches)


def test_tail_fills_a_column_absent_from_older_files(empty_store: Store) -> None:
    old, new = beijing_ns(2019, 12, 31, 14), beijing_ns(2020, 1, 2, 9)
    empty_store.write(SYMBOL, 60, bars([old]))
    empty_store.write(SYMBOL, 60, bars([new], amount=[1000.0]))
    table = empty_store.tail(SYMBOL, 60, new, 2, ["amount"])
    assert table["datetime"].to_pylist() == [old, new]
    assert table["amount"].to_numpy(zero_copy_only=False).tolist()[1] == 1000.0


# --- what is stored --------------------------------------------------------------------------


def test_symbols_durations_and_has_describe_what_is_stored(empty_store: Store) -> None:
    time = beijing_ns(2020, 1, 2, 9)
    empty_store.write(SYMBOL, 300, bars([time]))
    empty_store.write(SYMBOL, 60, bars([time]))
    empty_store.write(SYMBOL, 0, ticks([time]))
    empty_store.write("hc2001.SF", 86_400, bars([beijing_ns(2020, 1, 2)]))
    assert empty_store.symbols() == ["hc2001.SF", SYMBOL]
    assert empty_store.durations(SYMBOL) == [0, 60, 300]
    assert empty_store.durations("hc2001.SF") == [86_400]
    assert empty_store.durations("au2001.SF") == []
    assert (empty_store.has(SYMBOL, 0), empty_store.has(SYMBOL, 60)) == (True, True)
    assert (empty_store.has(SYMBOL, 900), empty_store.has("hc2001.SF", 0)) == (False, False)


def test_available_columns_are_in_canonical_order(empty_store: Store) -> None:
    table = bars([beijing_ns(2020, 1, 2, 9)], close_oi=[7.0], amount=[5.0])
    empty_store.write(SYMBOL, 60, table)
    assert empty_store.available_columns(SYMBOL, 60) == (
        "datetime", "open", "high", "low", "close", "volume", "amount", "close_oi",
    )  # fmt: skip


def test_instruments_round_trip_sorted_by_symbol(empty_store: Store) -> None:
    rows = {
        "rb2001.SF": {"price_tick": 1.0, "name": "螺纹钢2001", "is_st": False},
        "600000.SH": {"price_tick": 0.01, "name": "浦发银行", "is_st": True},
    }
    empty_store.write_instruments(rows)
    assert list(empty_store.instruments()) == ["600000.SH", "rb2001.SF"]
    assert empty_store.instruments() == rows


def test_calendar_round_trips(empty_store: Store, sample_store: Store) -> None:
    empty_store.write_calendar([date(2024, 1, 3), date(2024, 1, 2), date(2024, 1, 3)])
    calendar = empty_store.calendar()
    assert calendar is not None
    assert calendar.days() == [date(2024, 1, 2), date(2024, 1, 3)]
    assert calendar.source == str(empty_store.root / "calendar.parquet")


# --- the sample store ------------------------------------------------------------------------


def test_sample_store_lists_12_instruments(sample_store: Store) -> None:
    assert sorted(sample_store.instruments()) == [
        "000001.SH", "000001.SZ", "000002.SZ", "000004.SZ", "000005.SZ", "600000.SH",
        "600004.SH", "600005.SH", "600009.SH", "IF2003.IF", "IF2101.IF", "au1912.SF",
    ]  # fmt: skip


def test_sample_store_calendar_has_8797_days_from_1990_12_19(sample_store: Store) -> None:
    calendar = sample_store.calendar()
    assert calendar is not None
    days = calendar.days()
    assert (len(days), days[0], days[-1]) == (8797, date(1990, 12, 19), date(2026, 12, 31))


def test_sample_store_symbols_and_durations(sample_store: Store) -> None:
    assert {s: sample_store.durations(s) for s in sample_store.symbols()} == {
        "000001.SH": [86_400],
        "000001.SZ": [86_400],
        "000002.SZ": [86_400],
        "000004.SZ": [86_400],
        "000005.SZ": [86_400],
        "600000.SH": [86_400],
        "600004.SH": [86_400],
        "600005.SH": [86_400],
        "600009.SH": [60],
        "IF2003.IF": [60],
        "IF2101.IF": [0],
        "au1912.SF": [60],
    }


@pytest.mark.parametrize(
    ("symbol", "duration", "rows", "first", "last"),
    [
        ("IF2003.IF", 60, 12_279, (2019, 12, 16, 14, 21), (2020, 3, 5, 14, 59)),
        ("au1912.SF", 60, 33_969, (2019, 4, 8, 13, 36), (2019, 7, 9, 23, 14)),
        ("600009.SH", 60, 15_353, (2020, 1, 2, 9, 30), (2020, 4, 10, 10, 26)),
        ("IF2101.IF", 0, 84_347, (2021, 1, 4, 9, 29), (2021, 1, 6, 15, 44, 33)),
        ("600000.SH", 86_400, 6_119, (1999, 11, 10), (2025, 8, 5)),
    ],
)
def test_sample_store_data_reads_back_completely(
    sample_store: Store,
    symbol: str,
    duration: int,
    rows: int,
    first: tuple[int, ...],
    last: tuple[int, ...],
) -> None:
    batches = list(sample_store.scan(symbol, duration, FAR_PAST, FAR_FUTURE, []))
    times: list[int] = []
    for batch in batches:
        for t in batch.column(0).to_pylist():
            assert t is not None
            times.append(t)
    assert len(times) == rows
    assert times == sorted(set(times))
    # the first IF2101 tick is at 09:29:00.400
    first_ns = beijing_ns(*first) + (400_000_000 if symbol == "IF2101.IF" else 0)
    assert (times[0], times[-1]) == (first_ns, beijing_ns(*last))
    tail = sample_store.tail(symbol, duration, FAR_FUTURE, 1, [])
    assert tail["datetime"].to_pylist() == [times[-1]]


IF_1M_COLUMNS = ("datetime", "open", "high", "low", "close", "volume", "open_oi", "close_oi")
DAILY_COLUMNS = ("datetime", "open", "high", "low", "close", "volume", "amount")
TICK_COLUMNS = (
    "datetime", "last_price", "bid_price1", "bid_volume1", "ask_price1", "ask_volume1", "volume",
    "open_interest", "amount", "highest", "lowest", "open", "upper_limit", "lower_limit",
    "pre_close", "pre_settlement", "pre_open_interest", "settlement",
)  # fmt: skip


@pytest.mark.parametrize(
    ("symbol", "duration", "columns"),
    [
        ("IF2003.IF", 60, IF_1M_COLUMNS),
        ("600000.SH", 86_400, DAILY_COLUMNS),
        ("IF2101.IF", 0, TICK_COLUMNS),
    ],
)
def test_sample_store_available_columns(
    sample_store: Store, symbol: str, duration: int, columns: tuple[str, ...]
) -> None:
    assert sample_store.available_columns(symbol, duration) == columns


def test_sample_daily_bars_are_labelled_at_beijing_midnight(sample_store: Store) -> None:
    start = beijing_ns(2020, 1, 2)
    table = pa.Table.from_batches(
        list(sample_store.scan("600000.SH", 86_400, start, start + 86_400 * 10**9 - 1, ["close"]))
    )
    assert table["datetime"].to_pylist() == [start]


def test_reads_accept_the_widest_int64_bounds(five_bars: tuple[Store, list[int]]) -> None:
    store, times = five_bars
    widest = 2**63 - 1
    scanned = [t for b in store.scan(SYMBOL, 60, -widest, widest, ["open"])
               for t in b.column(0).to_pylist()]  # fmt: skip
    assert scanned == times
    assert store.tail(SYMBOL, 60, widest, 2, ["open"]).column(0).to_pylist() == times[-2:]


def test_catalog_lists_every_stored_series(sample_store: Store) -> None:
    frame = sample_store.catalog()
    assert list(frame.columns) == ["symbol", "period", "rows", "first", "last", "files", "bytes"]
    assert len(frame) == 12
    row = frame[frame.symbol == "IF2003.IF"].iloc[0]
    assert (row.period, row.rows, row.files) == ("1m", 12279, 2)
    assert (str(row["first"]), str(row["last"])) == (
        "2019-12-16 14:21:00+08:00", "2020-03-05 14:59:00+08:00"
    )  # fmt: skip
    # fixed UTC+8 even in 1991's summer (Asia/Shanghai would say +09:00)
    index = frame[frame.symbol == "000001.SH"].iloc[0]
    assert str(index["first"]) == "1990-12-19 00:00:00+08:00"
