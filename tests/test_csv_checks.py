"""Checks the user-testing pass found missing from the CSV import and ``data verify``.

Bars off their period's grid (backtest/validate.py ``grid``), symbols without instrument terms,
symbol cells naming no symbol, times of files not written in Beijing time, duplicate
``--columns`` keys, UTF-8 files read as gbk, files separated by semicolons or tabs,
``--volume-unit lots`` for futures, and stored rows replaced by an import. Real rows come from
data/raw/tqsdk/CFFEX.IF2003_1min.csv (quoted in tests/test_csvimport.py).
"""

from __future__ import annotations

import codecs
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from backtest.calendar import TradingCalendar
from backtest.csvimport import import_csv
from backtest.errors import DataError
from backtest.model import DAY
from backtest.session import TradingSessions
from backtest.store import Store
from backtest.validate import Policy, find_problems
from backtest.verify import verify_store

from .conftest import write_bars
from .test_cli_data import run
from .test_csvimport import BUILD, IF2003_ROWS, IF2003_STORED, TQ_HEADER, at, stored
from .test_csvimport import write_csv as write_lines
from .test_import_robustness import refusal

ADVICE = (
    "fix the data, or use --repair (sort, drop duplicates, drop or clip bad rows) or "
    "--skip-bad-rows (drop the bad rows)"
)
BARS_HEADER = "datetime,open,high,low,close,volume"
IF_BAR = "3981.2,3982.0,3980.8,3981.4,35"
"""The prices and volume of IF2003's first bar (2019-12-16 14:21)."""
IF_SESSIONS = TradingSessions.parse("09:30-11:30,13:00-15:00")
CALENDAR = TradingCalendar([date(2024, 1, d) for d in (2, 3, 4, 5, 8, 9)], source="hand-made")


@pytest.fixture
def store(empty_store: Store) -> Store:
    """An empty store with the sample calendar and build_store's instrument rows."""
    empty_store.write_instruments(BUILD.INSTRUMENTS)
    return empty_store


def second_bar_at_14_22_30(tmp_path: Path) -> Path:
    """IF2003's first three bars, the second moved off the 1m grid to 14:22:30."""
    second = IF2003_ROWS[1].replace("14:22:00", "14:22:30")
    return write_lines(tmp_path / "if.csv", TQ_HEADER, IF2003_ROWS[0], second, IF2003_ROWS[2])


def bars_at(*times: str) -> pa.Table:
    """Consistent bars (10/11/9/10, volume 1) starting at these Beijing times (int64 ns)."""
    count = len(times)
    return pa.table(
        {
            "datetime": pa.array([at(t) for t in times], pa.int64()),
            "open": [10.0] * count,
            "high": [11.0] * count,
            "low": [9.0] * count,
            "close": [10.0] * count,
            "volume": [1.0] * count,
        }
    )


# --- bars off their period's grid -----------------------------------------------------------


def test_a_minute_bar_labelled_at_59_seconds_is_refused_naming_row_and_value(
    store: Store, tmp_path: Path
) -> None:
    path = write_lines(
        tmp_path / "if.csv", TQ_HEADER, IF2003_ROWS[0].replace("14:21:00", "14:21:59")
    )
    assert refusal(store, path) == (
        f"{path}: 1 problem(s) (1 grid):\n"
        "  row 1, column datetime, value '2019-12-16 14:21:59.000000': off the 1m grid: 1m bars "
        "start on a whole minute, and this one is between 14:21:00 and 14:22:00; times are not "
        "rounded: correct them in the source\n" + ADVICE
    )


def test_a_bar_nanoseconds_past_the_minute_is_refused_showing_the_nanoseconds(
    store: Store, tmp_path: Path
) -> None:
    path = write_lines(
        tmp_path / "if.csv",
        TQ_HEADER,
        IF2003_ROWS[0],
        IF2003_ROWS[1].replace("14:22:00", "14:22:00.123456789"),
    )
    assert refusal(store, path).splitlines()[1] == (
        "  row 2, column datetime, value '2019-12-16 14:22:00.123456789': off the 1m grid: 1m "
        "bars start on a whole minute, and this one is between 14:22:00 and 14:23:00; times are "
        "not rounded: correct them in the source"
    )


def test_repair_drops_off_grid_bars_and_counts_them_without_rounding(
    store: Store, tmp_path: Path
) -> None:
    path = second_bar_at_14_22_30(tmp_path)
    report = import_csv(store, [path], "IF2003.IF", "1m", format="tqsdk", policy=Policy.REPAIR)
    assert report.summary() == f"{path}: 2 of 3 rows kept (1 rows dropped (grid))"
    assert stored(store, "IF2003.IF", "1m") == [IF2003_STORED[0], IF2003_STORED[2]]


def test_five_minute_bars_start_on_multiples_of_five_minutes_in_beijing_time() -> None:
    problems = find_problems(bars_at("2024-01-02 09:30", "2024-01-02 09:36"), 300)
    assert [(p.check, p.row, p.value, p.detail) for p in problems] == [
        (
            "grid",
            2,
            "2024-01-02 09:36:00.000000",
            "off the 5m grid: 5m bars start on whole multiples of 5m in Beijing time, and this "
            "one is between 09:35:00 and 09:40:00; times are not rounded: correct them in the "
            "source",
        )
    ]


def test_hourly_bars_follow_the_sessions_on_whole_minutes() -> None:
    # A-share hours from the session starts (09:30, 10:30, 13:00, 14:00) are on the grid
    hours = bars_at(*(f"2024-01-02 {t}" for t in ("09:30", "10:30", "13:00", "14:00")))
    assert find_problems(hours, 3600, IF_SESSIONS, CALENDAR) == []
    problems = find_problems(bars_at("2024-01-02 10:30:30"), 3600)
    assert [(p.check, p.detail) for p in problems] == [
        (
            "grid",
            "off the 1h grid: 1h bars start on a whole minute, and this one is between 10:30:00 "
            "and 10:31:00; times are not rounded: correct them in the source",
        )
    ]


def test_overlapping_bars_off_the_grid_together_are_period_problems_only() -> None:
    # 1-minute bars given the 5m period: off the 5m grid, and overlapping when the sessions
    # say so; the period is then the mistake to report (and refused under every policy)
    table = bars_at("2024-01-02 09:30", "2024-01-02 09:31", "2024-01-02 09:32")
    problems = find_problems(table, 300)
    assert [(p.check, p.row) for p in problems] == [("grid", 2), ("grid", 3)]
    problems = find_problems(table, 300, IF_SESSIONS, CALENDAR)
    assert [(p.check, p.row) for p in problems] == [("period", 2), ("period", 3)]


def test_a_lone_bar_off_the_grid_is_the_wrong_one_of_its_overlap(
    store: Store, tmp_path: Path
) -> None:
    # 14:22:30 overlaps the 14:23 bar after it: it is the one off the grid, so it is a grid
    # problem (repair drops it), not an overlap refused under every policy
    path = second_bar_at_14_22_30(tmp_path)
    assert refusal(store, path).splitlines()[:2] == [
        f"{path}: 1 problem(s) (1 grid):",
        "  row 2, column datetime, value '2019-12-16 14:22:30.000000': off the 1m grid: 1m bars "
        "start on a whole minute, and this one is between 14:22:00 and 14:23:00; times are not "
        "rounded: correct them in the source",
    ]


def test_daily_bars_not_at_midnight_are_refused_without_a_calendar() -> None:
    problems = find_problems(bars_at("2024-01-02 00:00", "2024-01-03 15:00"), DAY)
    assert [(p.check, p.row, p.value) for p in problems] == [
        ("session", 2, "2024-01-03 15:00:00.000000")
    ]


def test_verify_reports_off_grid_bars_of_an_existing_store(empty_store: Store) -> None:
    write_bars(
        empty_store,
        "IF2003.IF",
        60,
        [
            ("2019-12-16 14:21:00", 3981.2, 3982.0, 3980.8, 3981.4, 35),
            ("2019-12-16 14:22:59", 3981.4, 3982.6, 3981.4, 3982.4, 12),
        ],
    )
    [check] = verify_store(empty_store)
    path = empty_store.root / "klines" / "1m" / "IF2003.IF" / "2019.parquet"
    assert [str(finding) for finding in check.findings] == [
        f"{path}: row 2, column datetime, value '2019-12-16 14:22:59.000000': off the 1m grid: "
        "1m bars start on a whole minute, and this one is between 14:22:00 and 14:23:00; times "
        "are not rounded: correct them in the source"
    ]
    status, out, _ = run("data", "verify", "--store", empty_store.root)
    assert (status, out.splitlines()[0]) == (1, "IF2003.IF 1m: 1 problem(s): grid (2 rows, 1 file)")


# --- symbols without instrument terms -------------------------------------------------------


def unknown_warning(root: Path, period: str, skipped: str) -> str:
    """The warning of an import of ZZ2401.IF (no instrument terms) into the store at ``root``."""
    return (
        f"ZZ2401.IF {period} was imported{skipped} but a backtest needs its terms: unknown "
        f"instrument ZZ2401.IF: {root} has no row for it in instruments.parquet and ZZ has no "
        "default terms; add it to the store or pass Backtest(instruments={'ZZ2401.IF': {...}}); "
        "once the store has them (with its sessions), `backtest data verify ZZ2401.IF` checks "
        "the stored rows against them"
    )


@pytest.mark.parametrize(
    ("period", "header", "row", "skipped"),
    [
        ("1m", BARS_HEADER, "2024-01-02 03:00:00,1,2,1,2,5",
         " without the trading-session checks (bars outside the sessions, overlapping bars),"),
        ("tick", "datetime,last_price,volume", "2024-01-02 03:00:00,1,5",
         " without the crossed-book check, which needs its trading sessions,"),
        ("1d", BARS_HEADER, "2024-01-02,1,2,1,2,5", ""),
    ],
)  # fmt: skip
def test_a_symbol_without_instrument_terms_is_imported_with_a_warning(
    store: Store, tmp_path: Path, period: str, header: str, row: str, skipped: str
) -> None:
    # ZZ has no default terms and no store row: nothing says when it trades
    path = write_lines(tmp_path / "zz.csv", header, row)
    with pytest.warns(UserWarning) as caught:
        report = import_csv(store, [path], "ZZ2401.IF", period, format="tqsdk")
    assert report.summary() == f"{path}: 1 of 1 rows kept"
    assert [str(w.message) for w in caught] == [unknown_warning(store.root, period, skipped)]


def test_the_import_command_prints_the_warning_and_succeeds(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "zz.csv", BARS_HEADER, "2024-01-02 03:00:00,1,2,1,2,5")
    store = tmp_path / "s"
    status, out, err = run(
        "data", "import", path, "--store", store, "--symbol", "ZZ2401.IF", "--period", "1m",
        "--format", "tqsdk",
    )  # fmt: skip
    assert (status, out) == (0, f"{path}: 1 of 1 rows kept\nZZ2401.IF 1m: 1 rows into {store}\n")
    skipped = " without the trading-session checks (bars outside the sessions, overlapping bars),"
    assert err == f"backtest: warning: {unknown_warning(store, '1m', skipped)}\n"


# --- symbol cells that name no symbol -------------------------------------------------------


def test_a_symbol_cell_naming_no_symbol_is_refused_and_other_spellings_are_other_symbols(
    store: Store, tmp_path: Path
) -> None:
    others = ["SHFE.au1912", "au1912", "600000.XSHG", "SH.600000", "KQ.m@SHFE.au",
              "CFFEX.IF.HOT", "m2005-C-2800", "10002134", "600000",
              # vendors' continuous contracts and other markets' codes
              "IFL8", "IF00", "rbL9", "RB.SHF", "SHFE.rb.HOT+", "SHFE.rb.HOT-",
              "KQD.m@CFFEX.IF", "HSI", "00700.HK", "@@garbage"]  # fmt: skip
    garbage = ["N/A", "#REF!", "12.5", "--", "?"]
    rows = [IF2003_ROWS[0]]
    for minute, cell in enumerate([*others, *garbage], start=22):
        rows.append(IF2003_ROWS[0].replace("CFFEX.IF2003", cell).replace(":21:", f":{minute}:"))
    path = write_lines(tmp_path / "mixed.csv", TQ_HEADER, *rows)
    lines = [  # the CSV reader reads N/A as an empty cell
        f"  row {row}, column symbol, value {cell!r}: {'not a' if cell else 'no'} symbol: cannot "
        "tell whether the row is IF2003.IF's"
        for row, cell in enumerate(["", *garbage[1:]], start=2 + len(others))
    ]
    assert refusal(store, path) == (
        f"{path}: 5 problem(s) (5 symbol):\n" + "\n".join(lines) + "\n" + ADVICE
    )
    report = import_csv(store, [path], "IF2003.IF", "1m", format="tqsdk", policy=Policy.SKIP)
    assert (
        report.summary()
        == f"{path}: 1 of 25 rows kept (19 rows of other symbols, 5 bad rows dropped)"
    )


# --- times as the file writes them -----------------------------------------------------------


def test_a_file_in_utc_is_named_by_its_own_text_then_the_beijing_time(
    store: Store, tmp_path: Path
) -> None:
    path = write_lines(tmp_path / "if.csv", BARS_HEADER, f"2019-12-16 04:00:00,{IF_BAR}")
    assert refusal(store, path, tz="UTC") == (
        f"{path}: 1 problem(s) (1 session):\n"
        "  row 1, column datetime, value '2019-12-16 04:00:00': outside the trading sessions "
        "09:30-11:30,13:00-15:00 (read as a bar starting 2019-12-16 12:00:00.000000 Beijing "
        "time)\n" + ADVICE
    )


def test_bars_labelled_by_their_end_are_named_by_the_file_s_time(
    store: Store, tmp_path: Path
) -> None:
    path = write_lines(
        tmp_path / "if.csv",
        BARS_HEADER,
        f"2019-12-16 14:22:00,{IF_BAR}",
        f"2019-12-16 14:22:00,{IF_BAR}",
    )
    assert refusal(store, path, label="end").splitlines()[1] == (
        "  row 2, column datetime, value '2019-12-16 14:22:00': a timestamp seen before (read as "
        "a bar starting 2019-12-16 14:21:00.000000 Beijing time)"
    )


def test_an_auction_bar_of_a_file_labelled_by_end_is_named_by_the_file_s_time(
    store: Store, tmp_path: Path
) -> None:
    # xtquant bars with text times (--time-format): the 09:30 end is the 09:29 auction bar
    path = write_lines(
        tmp_path / "000001.csv",
        ",time,open,high,low,close,volume,amount",
        "0,2024-01-02 09:31:00,10.1,10.2,10.05,10.1,10,10100.0",
        "1,2024-01-03 09:30:00,10.0,10.0,10.0,10.0,30,30000.0",
    )
    with pytest.raises(DataError) as caught:
        import_csv(store, [path], "000001.SZ", "1m", format="xtquant",
                   time_format="%Y-%m-%d %H:%M:%S")  # fmt: skip
    assert str(caught.value).splitlines()[1] == (
        "  row 2, column datetime, value '2024-01-03 09:30:00': an opening-auction bar without a "
        "later bar that day to fold into (read as a bar starting 2024-01-03 09:29:00.000000 "
        "Beijing time)"
    )


# --- options ---------------------------------------------------------------------------------


def test_a_store_column_mapped_twice_is_refused(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "if.csv", "a,b,open,high,low,close,volume")
    status, out, err = run(
        "data", "import", path, "--store", tmp_path / "s", "--symbol", "IF2003.IF",
        "--period", "1m", "--columns", "datetime=a,datetime=b",
    )  # fmt: skip
    assert (status, out) == (2, "")
    assert err.splitlines()[-1] == (
        "backtest data import: error: argument --columns: datetime is mapped twice ('a' and "
        "'b'): map each store column to one column of the file"
    )


def test_a_utf8_file_read_as_gbk_is_told_it_looks_utf8(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "if.csv"
    path.write_bytes(codecs.BOM_UTF8 + f"{TQ_HEADER}\n{IF2003_ROWS[0]}\n".encode())
    assert refusal(store, path, encoding="gbk") == (
        f"{path}: the file starts with UTF-8's byte order mark (bytes ef bb bf), so it looks like "
        "UTF-8 text, not gbk: leave out --encoding (UTF-8 is the default)"
    )
    # without the mark, when the text is not gbk
    header = "datetime,name,open,high,low,close,volume"
    text = f"{header}\n2019-12-16 14:21:00,浦发银行,{IF_BAR}\n".encode()
    path.write_bytes(text)
    assert refusal(store, path, encoding="gbk") == (
        f"{path}: row 1 is not gbk text (byte 0xa1 at offset 71): it reads as UTF-8 text: leave "
        "out --encoding (UTF-8 is the default)"
    )


@pytest.mark.parametrize(
    ("separator", "name", "option"),
    [(";", "semicolons", "';'"), ("\t", "tabs", "tab"), ("|", "bars ('|')", "'|'")],
)
def test_a_file_separated_otherwise_is_told_the_delimiter_to_pass(
    store: Store, tmp_path: Path, separator: str, name: str, option: str
) -> None:
    header = BARS_HEADER.replace(",", separator)
    path = write_lines(
        tmp_path / "if.csv", header, f"2019-12-16 14:21:00,{IF_BAR}".replace(",", separator)
    )
    assert refusal(store, path) == (
        f"{path}: no column 'datetime': the header {header!r} looks separated by {name}, not "
        f"commas: pass --delimiter {option}"
    )
    delimiter = "tab" if separator == "\t" else separator
    import_csv(store, [path], "IF2003.IF", "1m", format="tqsdk", delimiter=delimiter)
    assert stored(store, "IF2003.IF", "1m") == [IF2003_STORED[0]]


def test_the_import_command_takes_a_delimiter(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "if.csv", "datetime;open;high;low;close;volume",
                       "2019-12-16 14:21:00;3981.2;3982.0;3980.8;3981.4;35")  # fmt: skip
    status, out, err = run(
        "data", "import", path, "--store", tmp_path / "s", "--symbol", "IF2003.IF",
        "--period", "1m", "--format", "tqsdk", "--delimiter", ";",
    )  # fmt: skip
    assert (status, out, err) == (
        0, f"{path}: 1 of 1 rows kept\nIF2003.IF 1m: 1 rows into {tmp_path / 's'}\n", ""
    )  # fmt: skip


@pytest.mark.parametrize("delimiter", ["", ";;", '"', "\n", 5])
def test_a_delimiter_that_is_not_one_character_is_refused(
    store: Store, tmp_path: Path, delimiter: object
) -> None:
    path = write_lines(tmp_path / "if.csv", TQ_HEADER, IF2003_ROWS[0])
    assert refusal(store, path, delimiter=delimiter) == (
        "delimiter must be the one character between fields, such as ',', ';', '|' or 'tab', "
        f"was {delimiter!r}"
    )


@pytest.mark.parametrize(
    ("symbol", "what"),
    [
        ("IF2401.IF", "is not a stock or fund but a future"),
        ("000001.SH", "is not a stock or fund but an index"),
    ],
)
def test_volume_in_lots_for_a_future_or_index_warns_that_it_was_not_applied(
    store: Store, tmp_path: Path, symbol: str, what: str
) -> None:
    path = write_lines(tmp_path / "bars.csv", BARS_HEADER, "2024-01-02 09:30:00,10,11,9,10.5,12")
    with pytest.warns(UserWarning) as caught:
        import_csv(store, [path], symbol, "1m", format="tqsdk", volume_unit="lots")
    assert [str(w.message) for w in caught] == [
        f"volume_unit 'lots' was not applied: it converts stock and fund volumes from lots of "
        f"100 to shares, and {symbol} {what}, so its volumes were stored as the files have them "
        "(a futures lot, 手, is one contract); leave out --volume-unit"
    ]
    assert stored(store, symbol, "1m", ["volume"]) == [("2024-01-02 09:30:00.000", 12.0)]


# --- stored rows replaced ---------------------------------------------------------------------


def test_an_import_counts_the_stored_rows_it_replaces(tmp_path: Path) -> None:
    first = write_lines(tmp_path / "a.csv", TQ_HEADER, *IF2003_ROWS[:2])
    second = write_lines(tmp_path / "b.csv", TQ_HEADER, *IF2003_ROWS[1:])
    store = tmp_path / "s"
    argv: list[str | Path] = ["--store", store, "--symbol", "IF2003.IF", "--period", "1m"]
    argv += ["--format", "tqsdk"]
    assert run("data", "import", first, *argv)[:2] == (
        0, f"{first}: 2 of 2 rows kept\nIF2003.IF 1m: 2 rows into {store}\n"
    )  # fmt: skip
    assert run("data", "import", second, *argv) == (
        0,
        f"{second}: 2 of 2 rows kept\nIF2003.IF 1m: 2 rows into {store} (1 of them replaced "
        "stored rows)\n",
        "",
    )
    report = import_csv(Store(store), [first], "IF2003.IF", "1m", format="tqsdk")
    assert report.replaced == 2


def test_the_replaced_count_adds_up_the_stored_rows_of_every_year_file(
    store: Store, tmp_path: Path
) -> None:
    # 1m bars are stored one file per Beijing year: 2019.parquet and 2020.parquet
    def row(time: str) -> str:
        return f"{time},CFFEX.IF2003,3981.2,3982.0,3980.8,3981.4,35,28792,28796,23961"

    old = ["2019-12-31 14:21:00", "2019-12-31 14:22:00", "2020-01-02 09:31:00",
           "2020-01-02 09:32:00"]  # fmt: skip
    new = ["2019-12-31 14:22:00", "2019-12-31 14:23:00", "2020-01-02 09:31:00",
           "2020-01-02 09:32:00", "2020-01-02 09:33:00"]  # fmt: skip
    first = write_lines(tmp_path / "a.csv", TQ_HEADER, *map(row, old))
    second = write_lines(tmp_path / "b.csv", TQ_HEADER, *map(row, new))
    assert import_csv(store, [first], "IF2003.IF", "1m", format="tqsdk").replaced == 0
    assert import_csv(store, [second], "IF2003.IF", "1m", format="tqsdk").replaced == 3
    assert import_csv(store, [second], "IF2003.IF", "1m", format="tqsdk").replaced == 5
    assert len(stored(store, "IF2003.IF", "1m", ["volume"])) == 6
