"""Bad input to the store's Python API, and OS errors while writing: clear errors, no data lost.

``duration_s`` takes what ``backtest data --period`` takes, or seconds; ``verify_store`` takes a
symbol or several, a path or a Store; ``write_calendar`` and ``write_instruments`` refuse what
reading would refuse. A write that an OS error stops (a store that is not writable, a path in
the way of the final rename) says which path failed and what to do, and so does the next
opening of a store whose journalled write cannot be completed. Tests may run as root, where
permission bits do not stop writes: there the failures are provoked by a directory standing
where a file must go, which stops root too.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from backtest.errors import ConfigError, DataError
from backtest.instrument import InstrumentTable
from backtest.store import Store
from backtest.verify import verify_store
from tests.test_store import bars, beijing_ns

SYMBOL = "rb2001.SF"
MINUTE_NS = 60 * 1_000_000_000
DEC_31 = beijing_ns(2019, 12, 31, 14, 57)
JAN_2 = beijing_ns(2020, 1, 2, 9)
FILE_2020 = f"klines/1m/{SYMBOL}/2020.parquet"
DURATION_HINT = (
    "duration_s must be whole seconds (0 for ticks, 60 for 1-minute bars, up to 86400, then "
    "whole days) or a period such as 'tick', '1m', '5m', '1h', '1d', was "
)
KLINE = ("datetime", "open", "high", "low", "close", "volume")
IMPORT_HINT = "import it with `backtest data import` or point data= at a store that has it"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """Two 1m bars: one in 2019.parquet, one in 2020.parquet."""
    store = Store.create(tmp_path / "store")
    store.write(SYMBOL, 60, bars([DEC_31, JAN_2]))
    return store


def exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


def files(root: Path) -> dict[str, bytes]:
    """Every file of a store (relative path → bytes), the lock file excepted."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != ".lock"
    }


def closes(store: Store) -> list[Any]:
    return store.tail(SYMBOL, 60, 2**62, 10, ["close"]).column("close").to_pylist()


# --- duration_s: the spellings of the command line, or seconds -------------------------------


def test_every_duration_s_method_takes_the_period_labels_of_the_command_line(store: Store) -> None:
    store.write(SYMBOL, "5m", bars([JAN_2]))
    assert store.durations(SYMBOL) == [60, 300]
    assert store.has(SYMBOL, "1m")
    assert store.has(SYMBOL, np.int64(300))  # type: ignore[arg-type]  # numpy integers too
    assert not store.has(SYMBOL, "tick")
    assert store.info(SYMBOL, "1m") == store.info(SYMBOL, 60)
    assert store.files(SYMBOL, "1m") == store.files(SYMBOL, 60)
    assert store.available_columns(SYMBOL, "5m") == KLINE
    assert [b.num_rows for b in store.scan(SYMBOL, "1m", 0, 2**62, ["close"])] == [1, 1]
    assert store.tail(SYMBOL, "1m", 2**62, 5, ["close"]).num_rows == 2
    assert store.remove(SYMBOL, "5m") == 1
    assert store.durations(SYMBOL) == [60]


Call = Callable[[Store, Any], object]
DURATION_METHODS: dict[str, Call] = {
    "has": lambda s, d: s.has(SYMBOL, d),
    "info": lambda s, d: s.info(SYMBOL, d),
    "files": lambda s, d: s.files(SYMBOL, d),
    "available_columns": lambda s, d: s.available_columns(SYMBOL, d),
    "scan": lambda s, d: list(s.scan(SYMBOL, d, 0, 2**62, ["close"])),
    "tail": lambda s, d: s.tail(SYMBOL, d, 2**62, 5, ["close"]),
    "write": lambda s, d: s.write(SYMBOL, d, bars([JAN_2 + MINUTE_NS])),
    "remove": lambda s, d: s.remove(SYMBOL, d),
}


@pytest.mark.parametrize("method", sorted(DURATION_METHODS))
@pytest.mark.parametrize(
    ("value", "shown"),
    [(60.0, "60.0"), ("1x", "'1x'"), ("60", "'60'"), (-60, "-60"), (True, "True")],
)
def test_a_duration_s_that_is_no_period_is_named_and_changes_nothing(
    store: Store, method: str, value: object, shown: str
) -> None:
    before = files(store.root)
    with pytest.raises(ConfigError, match=exactly(DURATION_HINT + shown)):
        DURATION_METHODS[method](store, value)
    assert files(store.root) == before


def test_a_duration_s_of_none_is_named(store: Store) -> None:
    with pytest.raises(ConfigError, match=exactly(DURATION_HINT + "None")):
        store.has(SYMBOL, None)  # type: ignore[arg-type]


# --- write_calendar ------------------------------------------------------------------------


CALENDAR_HINT = (
    "pass e.g. date(2020, 1, 2) (date.fromisoformat('2020-01-02') converts text, .date() a "
    "datetime)"
)


@pytest.mark.parametrize(
    ("days", "shown"),
    [
        (["2020-01-02"], "'2020-01-02' at position 0"),
        ("2020-01-02", "'2020-01-02' at position 0"),
        (
            [date(2020, 1, 2), datetime(2020, 1, 3, 9)],
            "datetime.datetime(2020, 1, 3, 9, 0) at position 1",
        ),
        ([date(2020, 1, 2), None], "None at position 1"),
    ],
    ids=["text", "one text", "a datetime", "None"],
)
def test_write_calendar_refuses_what_is_not_a_date_and_keeps_the_calendar(
    store: Store, days: Any, shown: str
) -> None:
    store.write_calendar([date(2020, 1, 2)])
    before = files(store.root)
    message = (
        f"write_calendar: trading days must be datetime.date values, was {shown}; {CALENDAR_HINT}"
    )
    with pytest.raises(ConfigError, match=exactly(message)):
        store.write_calendar(days)
    assert files(store.root) == before


@pytest.mark.parametrize("days", [None, date(2020, 1, 2), 20200102], ids=["None", "a date", "int"])
def test_write_calendar_refuses_what_is_not_an_iterable_of_days(store: Store, days: Any) -> None:
    message = (
        f"write_calendar: trading days must be an iterable of datetime.date values, was "
        f"{days!r}; pass e.g. [date(2020, 1, 2)]"
    )
    with pytest.raises(ConfigError, match=exactly(message)):
        store.write_calendar(days)
    assert store.calendar() is None


def test_write_calendar_refuses_an_empty_calendar(store: Store) -> None:
    message = (
        "write_calendar: no trading days were given, and an empty calendar would refuse all "
        "data; pass every trading day the store's data covers, or write no calendar to use "
        "exchange_calendars' trading days"
    )
    with pytest.raises(ConfigError, match=exactly(message)):
        store.write_calendar(iter([]))
    assert store.calendar() is None


# --- write_instruments ---------------------------------------------------------------------


FIELDS = (
    "board, commission_close, commission_close_today, commission_open, commission_unit, is_st, "
    "list_date, margin_ratio_long, margin_ratio_short, name, price_limit_ratio, price_tick, "
    "product, product_class, sessions, volume_multiple"
)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"price_tick": -1}, "price_tick must be a finite positive number, was -1"),
        ({"volume_multiple": 0.0}, "volume_multiple must be a finite positive number, was 0.0"),
        ({"price_tick": math.inf}, "price_tick must be a finite positive number, was inf"),
        ({"commission_open": "cheap"}, "commission_open must be a number, was 'cheap'"),
        (
            {"product_class": "BOND"},
            "product_class must be one of FUTURE, STOCK, FUND, INDEX, OPTION, was 'BOND'",
        ),
        ({"commission_unit": "share"}, "commission_unit must be one of lot, turnover, was 'share'"),
        ({"is_st": "maybe"}, "is_st must be true or false, was 'maybe'"),
        ({"list_date": "20201301"}, "list_date must be a date YYYY-MM-DD, was '20201301'"),
        (
            {"sessions": "0930-1130"},
            "sessions: trading session '0930-1130' in '0930-1130' is not HH:MM-HH:MM (e.g. "
            "'09:30-11:30')",
        ),
        (
            {"price_tik": 1.0},
            f"'price_tik' is not an instrument field (did you mean 'price_tick'?); instrument "
            f"rows hold {FIELDS}",
        ),
        (
            {"exchange": "DCE"},
            "exchange 'DCE' contradicts the symbol's exchange SHFE; leave exchange out (the "
            "symbol gives it)",
        ),
        ({"name": 5}, "name must be text, was 5"),
        ({"board": None, "product": b"rb"}, "product must be text, was b'rb'"),
        (
            {"list_date": datetime(1999, 11, 10, 9, 30)},
            "list_date must be a date YYYY-MM-DD, was datetime.datetime(1999, 11, 10, 9, 30), "
            "which has a time of day",
        ),
        (
            {"price_tik": None},
            f"'price_tik' is not an instrument field (did you mean 'price_tick'?); instrument "
            f"rows hold {FIELDS}",
        ),
    ],
    ids=lambda value: str(value)[:30] if isinstance(value, dict) else "",
)
def test_write_instruments_refuses_a_value_reading_would_refuse_naming_symbol_and_field(
    store: Store, row: dict[str, Any], message: str
) -> None:
    store.write_instruments({SYMBOL: {"price_tick": 1.0}})
    before = files(store.root)
    with pytest.raises(ConfigError, match=exactly(f"instrument row {SYMBOL}: {message}")):
        store.write_instruments({"600000.SH": {"price_tick": 0.01}, "SHFE.rb2001": row})
    assert files(store.root) == before


def test_write_instruments_refuses_a_row_that_is_not_a_mapping(store: Store) -> None:
    with pytest.raises(
        ConfigError,
        match=exactly(f"instrument row {SYMBOL} must map field names to values, was 1.0"),
    ):
        store.write_instruments({SYMBOL: 1.0})  # type: ignore[dict-item]
    assert not (store.root / "instruments.parquet").exists()


def test_write_instruments_keeps_rows_reading_accepts(store: Store) -> None:
    store.write_instruments(
        {
            SYMBOL: {"exchange": "SHFE", "price_tick": 1.0, "margin_ratio_long": math.nan},
            "600000.SH": {"is_st": False, "list_date": date(1999, 11, 10), "name": None},
        }
    )
    table = InstrumentTable(store.instruments())
    assert (table.get(SYMBOL).price_tick, table.get(SYMBOL).margin_ratio_long) == (1.0, 0.1)
    assert (table.get("600000.SH").is_st, table.get("600000.SH").list_date) == (False, "1999-11-10")


@pytest.mark.parametrize(
    "day",
    [datetime(1999, 11, 10), pd.Timestamp("1999-11-10"), np.datetime64("1999-11-10")],
    ids=["datetime", "Timestamp", "datetime64"],
)
def test_write_instruments_stores_a_midnight_datetime_as_its_day(store: Store, day: Any) -> None:
    store.write_instruments({"600000.SH": {"list_date": day}})
    assert store.instruments() == {"600000.SH": {"list_date": "1999-11-10"}}
    assert InstrumentTable(store.instruments(), None).get("600000.SH").list_date == "1999-11-10"


def test_write_instruments_stores_each_field_in_one_type(store: Store) -> None:
    store.write_instruments(
        {
            SYMBOL: {"price_tick": 1, "is_st": np.bool_(False), "product_class": "future"},
            "600000.SH": {"price_tick": "0.01", "is_st": np.bool_(True), "name": "浦发银行"},
            "600004.SH": {"price_tick": np.float32(0.01), "is_st": "yes", "sessions": None},
        }
    )
    stored = store.instruments()
    assert [stored[s]["price_tick"] for s in sorted(stored)] == [0.01, 0.009999999776482582, 1.0]
    assert [stored[s]["is_st"] for s in sorted(stored)] == [True, True, False]
    table = InstrumentTable(stored, None)
    assert (table.get(SYMBOL).price_tick, table.get("600000.SH").is_st) == (1.0, True)
    assert table.get("600000.SH").name == "浦发银行"


@pytest.mark.parametrize("missing", [None, math.nan, np.float32("nan"), pd.NA, pd.NaT], ids=str)
def test_write_instruments_takes_any_missing_value_as_not_set(store: Store, missing: Any) -> None:
    store.write_instruments(
        {SYMBOL: {"price_tick": missing, "name": missing, "list_date": missing, "is_st": missing}}
    )
    assert set(store.instruments()[SYMBOL].values()) == {None}
    assert InstrumentTable(store.instruments(), None).get(SYMBOL).price_tick == 1.0


# --- verify_store --------------------------------------------------------------------------


def summaries(checks: Any) -> list[str]:
    return [check.summary() for check in checks]


def test_verify_store_takes_one_symbol_a_path_and_period_labels(store: Store) -> None:
    assert summaries(verify_store(store, "SHFE.rb2001")) == [f"{SYMBOL} 1m: ok (2 rows, 2 files)"]
    assert summaries(verify_store(store.root, [SYMBOL], ["1m"])) == [
        f"{SYMBOL} 1m: ok (2 rows, 2 files)"
    ]
    assert summaries(verify_store(str(store.root), durations="1m")) == [
        f"{SYMBOL} 1m: ok (2 rows, 2 files)"
    ]


@pytest.mark.parametrize(
    ("symbols", "durations", "message"),
    [
        (SYMBOL, "5m", "data store {root} has no 5m klines for rb2001.SF (it has: 1m)"),
        ([SYMBOL], [0], "data store {root} has no ticks for rb2001.SF (it has: 1m)"),
        (["au1912.SF"], None, "data store {root} has no data for au1912.SF; " + IMPORT_HINT),
        (None, ["5m", "tick"], "data store {root} has no ticks or 5m klines of any symbol"),
    ],
)
def test_verify_store_refuses_to_check_what_is_not_stored_when_called(
    store: Store, symbols: Any, durations: Any, message: str
) -> None:
    with pytest.raises(DataError, match=exactly(message.format(root=store.root))):
        verify_store(store, symbols, durations)


@pytest.mark.parametrize(
    ("symbols", "durations", "message"),
    [
        ([], None, "symbols is empty; pass None to check every stored one"),
        (None, [], "durations is empty; pass None to check every stored one"),
        (SYMBOL, 60.0, DURATION_HINT.replace("duration_s", "durations") + "60.0"),
    ],
)
def test_verify_store_names_an_argument_it_cannot_use(
    store: Store, symbols: Any, durations: Any, message: str
) -> None:
    with pytest.raises(ConfigError, match=exactly(message)):
        verify_store(store, symbols, durations)


# --- OS errors while writing -----------------------------------------------------------------


def unfinished(root: Path, failure: str, *, earlier: bool) -> str:
    """The pattern of the error for a journalled write that could not be completed."""
    [journal] = (root / ".journal").glob("*.json")
    stage = root / ".staging" / journal.stem
    whose = "an unfinished write from an earlier process" if earlier else "an unfinished write"
    return exactly(
        f"data store {root} has {whose} (journal {journal}) that could not be completed: "
        f"{failure}. Fix that (the permissions, or what is in the way) and run the command "
        f"again: opening the store completes the write. Or abandon the write: delete {journal} "
        f"and {stage}, then run `backtest data verify` and import again what it was importing"
    )


def not_writable(root: Path, failure: str) -> str:
    return (
        f"^{re.escape(f'data store {root} is not writable: ')}{failure}"
        f"{re.escape(f'; nothing was changed. Make {root} and everything in it writable by you ')}"
        f"{re.escape('(the permissions, or what is in the way), or write to another store')}$"
    )


def block(path: Path) -> None:
    """Put a non-empty directory where a file must go: a rename onto it fails, even as root."""
    path.unlink(missing_ok=True)
    path.mkdir()
    (path / "in the way").write_text("")


def fail_a_commit(store: Store) -> tuple[str, str]:
    """Rewrite both bars (opens 200) in a transaction whose rename into 2020.parquet fails
    because a directory is in the way; the error, and what failed."""
    target = store.root / FILE_2020
    with pytest.raises(DataError) as error, store.transaction() as transaction:
        transaction.write(SYMBOL, 60, bars([DEC_31, JAN_2], first_open=200.0))
        block(target)
    [journal] = (store.root / ".journal").glob("*.json")
    staged = store.root / ".staging" / journal.stem / FILE_2020
    return str(error.value), f"renaming {staged} to {target} failed (Is a directory)"


def test_a_failed_final_rename_names_the_paths_and_the_journal(store: Store) -> None:
    error, failure = fail_a_commit(store)
    assert re.match(unfinished(store.root, failure, earlier=False), error)


def test_an_unfinished_write_that_cannot_be_completed_is_named_on_opening(store: Store) -> None:
    _, failure = fail_a_commit(store)
    target = store.root / FILE_2020
    pattern = unfinished(store.root, failure, earlier=True)
    with pytest.raises(DataError, match=pattern):
        Store(store.root)  # a reader too: it would otherwise read half of the write
    with pytest.raises(DataError, match=pattern):
        store.write(SYMBOL, 60, bars([JAN_2 + MINUTE_NS]))
    # what the message says: remove what is in the way, open again, and the write is complete
    (target / "in the way").unlink()
    target.rmdir()
    assert closes(Store(store.root)) == [201.0, 202.0]
    assert not (store.root / ".journal").exists()


def test_an_unfinished_write_whose_lock_cannot_be_opened_is_named(store: Store) -> None:
    fail_a_commit(store)
    block(store.root / ".lock")
    journal = next((store.root / ".journal").glob("*.json"))
    with pytest.raises(DataError) as caught:
        Store(store.root)
    # without the lock the write may be another user's, under way: no advice to delete it
    assert str(caught.value) == (
        f"data store {store.root} has an unfinished write (journal {journal}) that this process "
        f"cannot complete, as it cannot take the store's lock: cannot write "
        f"{store.root / '.lock'} (Is a directory). Another user may be writing the store right "
        f"now: wait for them and retry; otherwise open the store once as a user who can write "
        f"it, which completes the write"
    )


def test_a_write_to_a_store_whose_lock_file_cannot_be_opened_says_it_is_not_writable(
    store: Store,
) -> None:
    block(store.root / ".lock")
    before = files(store.root)
    lock = re.escape(f"cannot write {store.root / '.lock'} (Is a directory)")
    with pytest.raises(DataError, match=not_writable(store.root, lock)):
        store.write(SYMBOL, 60, bars([JAN_2 + MINUTE_NS]))
    with pytest.raises(DataError, match=not_writable(store.root, lock)):
        store.remove(SYMBOL)
    assert files(store.root) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes whatever the permission bits say")
def test_a_write_to_a_read_only_store_says_it_is_not_writable(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "store")
    (store.root / ".lock").unlink(missing_ok=True)
    store.root.chmod(0o555)
    try:
        lock = re.escape(f"cannot write {store.root / '.lock'} (Permission denied)")
        with pytest.raises(DataError, match=not_writable(store.root, lock)):
            store.write(SYMBOL, 60, bars([JAN_2]))
    finally:
        store.root.chmod(0o755)


def test_a_staging_directory_that_cannot_be_made_says_the_store_is_not_writable(
    store: Store,
) -> None:
    (store.root / ".staging").write_text("")  # a file where the staging directory must go
    stage = re.escape(str(store.root / ".staging")) + "/[0-9a-f]{32}/"
    staged = rf"cannot write {stage}klines/1m/rb2001\.SF \(Not a directory\)"
    with pytest.raises(DataError, match=not_writable(store.root, staged)):
        store.write(SYMBOL, 60, bars([JAN_2 + MINUTE_NS]))
    trash = rf"cannot write {stage}removed/klines/1m \(Not a directory\)"
    with pytest.raises(DataError, match=not_writable(store.root, trash)):
        store.remove(SYMBOL)
    assert closes(store) == [101.0, 102.0]


def test_a_metadata_file_that_cannot_be_replaced_says_the_store_is_not_writable(
    store: Store,
) -> None:
    block(store.root / "calendar.parquet")
    temporary = re.escape(str(store.root / ".calendar.parquet.")) + r"\w+\.tmp"
    target = re.escape(str(store.root / "calendar.parquet"))
    failure = f"renaming {temporary} to {target} failed \\(Is a directory\\)"
    with pytest.raises(DataError, match=not_writable(store.root, failure)):
        store.write_calendar([date(2020, 1, 2)])
    assert [p.name for p in store.root.iterdir() if p.name.endswith(".tmp")] == []


def test_a_remove_that_fails_part_way_puts_back_what_it_moved(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # moving the second period's directory out is refused; simulated, since the tests may run
    # as root, whom no permission bit refuses a rename
    store.write(SYMBOL, "5m", bars([JAN_2]))
    before = files(store.root)
    real_replace = os.replace
    five_minutes = store.root / "klines" / "5m" / SYMBOL

    def replace(source: Any, target: Any) -> None:
        if Path(source) == five_minutes:
            raise PermissionError(13, "Permission denied", str(source), None, str(target))
        real_replace(source, target)

    monkeypatch.setattr("backtest.store.os.replace", replace)
    stage = re.escape(str(store.root / ".staging")) + "/[0-9a-f]{32}/"
    failure = (
        f"renaming {re.escape(str(five_minutes))} to {stage}removed/klines/5m/"
        f"{re.escape(SYMBOL)} failed " + r"\(Permission denied\)"
    )
    with pytest.raises(DataError, match=not_writable(store.root, failure)):
        store.remove(SYMBOL)
    assert files(store.root) == before
    assert store.durations(SYMBOL) == [60, 300]
