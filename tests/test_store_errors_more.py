"""More bad input to the store, and damaged layouts: clear errors, the rest still listed.

``write_dividends`` refuses what a backtest could not apply (text dates, NaN, negative or
infinite amounts, futures, one ex-date twice); metadata writes take the store's write lock;
``Store.create`` names what stops it; a directory named outside the layout is reported by
``data ls``/``verify`` while the rest is still listed and checked; ``verify`` does not tell you
to run ``verify``, and says when there is nothing to check; a download refused before it writes
leaves no store behind. Tests may run as root, where permission bits do not stop writes: a
read-only directory is then made with ``chattr +i`` where the file system allows it.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from backtest.errors import ApiUsageError, ConfigError, DataError
from backtest.store import Store
from backtest.verify import DirectoryCheck, verify_store
from tests.conftest import write_bars
from tests.test_cli_data import run
from tests.test_store import bars, beijing_ns

SYMBOL = "rb2001.SF"
JAN_2 = beijing_ns(2020, 1, 2, 9)
MINUTE_NS = 60 * 1_000_000_000
FAKE_XTQUANT = Path(__file__).resolve().parent / "fake_xtquant"
REMEDY = (
    "re-import the source with --repair or --skip-bad-rows, or remove the series with "
    "`backtest data rm`"
)
RENAME = (
    "rename each directory named outside the layout as its problem says, or move it out of the "
    "store"
)
PERIOD_7X = (
    "is not named as the store's layout names kline directories (by period, such as '1m', "
    "'5m', '1h' or '1d'); rename it after its period or move it out of the store"
)
SERIAL_CFFEX = (
    "is not named as the store's layout names serial directories (by the canonical symbol, "
    "such as 'IF2003.IF' or 'rb2405.SF'); rename it to 'IF2003.IF' or move it out of the store"
)


def exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


def files(root: Path) -> dict[str, bytes]:
    """Every file of a store (relative path → bytes), the lock file excepted."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != ".lock"
    }


@pytest.fixture(autouse=True)
def no_store_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACKTEST_STORE", raising=False)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """One 1m bar of rb2001.SF, and one corporate action of 600000.SH."""
    store = Store.create(tmp_path / "store")
    store.write(SYMBOL, 60, bars([JAN_2]))
    store.write_dividends([("600000.SH", date(2020, 6, 9), 0.5, 0.0)])
    return store


@pytest.fixture
def two_symbols(empty_store: Store) -> Store:
    """IF2003.IF and rb2001.SF: one 1m bar each, in 2020."""
    write_bars(empty_store, "IF2003.IF", 60, [("2020-01-02 09:30", 1, 2, 1, 2, 1)])
    write_bars(empty_store, "rb2001.SF", 60, [("2020-01-02 09:00", 1, 2, 1, 2, 1)])
    return empty_store


def misname(store: Store, directory: str) -> Path:
    """Copy IF2003.IF's 1m serial into ``klines/<directory>``, a name outside the layout."""
    copy = store.root / "klines" / directory
    shutil.copytree(store.root / "klines" / "1m" / "IF2003.IF", copy)
    return copy


# --- write_dividends -------------------------------------------------------------------------

JUNE_9 = date(2020, 6, 9)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (
            ("600000.SH", "2020-06-09", 0.5, 0.0),
            "ex_date must be a datetime.date, was '2020-06-09'; pass e.g. date(2020, 6, 9) "
            "(date.fromisoformat('2020-06-09') converts text, .date() a datetime)",
        ),
        (
            ("600000.SH", datetime(2020, 6, 9, 9, 30), 0.5, 0.0),
            "ex_date must be a datetime.date, was datetime.datetime(2020, 6, 9, 9, 30); pass "
            "e.g. date(2020, 6, 9) (date.fromisoformat('2020-06-09') converts text, .date() a "
            "datetime)",
        ),
        (
            ("600000.SH", JUNE_9, float("nan"), 0.0),
            "cash must be a finite number from 0 up (CNY per share, 0 for none), was nan",
        ),
        (
            ("600000.SH", JUNE_9, -0.5, 0.0),
            "cash must be a finite number from 0 up (CNY per share, 0 for none), was -0.5",
        ),
        (
            ("600000.SH", JUNE_9, float("inf"), 0.0),
            "cash must be a finite number from 0 up (CNY per share, 0 for none), was inf",
        ),
        (
            ("600000.SH", JUNE_9, "0.5", 0.0),
            "cash must be a finite number from 0 up (CNY per share, 0 for none), was '0.5'",
        ),
        (
            ("600000.SH", JUNE_9, None, 0.0),
            "cash must be a finite number from 0 up (CNY per share, 0 for none), was None",
        ),
        (
            ("600000.SH", JUNE_9, 0.5, -0.1),
            "share_ratio must be a finite number from 0 up (shares per share held, 0 for none), "
            "was -0.1",
        ),
        (
            ("600000.SH", JUNE_9, 0.5, True),
            "share_ratio must be a finite number from 0 up (shares per share held, 0 for none), "
            "was True",
        ),
        (
            ("600000", JUNE_9, 0.5, 0.0),
            "symbol '600000' is not understood: write it as code.MARKET (xtquant, e.g. "
            "'IF2003.IF', 'rb2405.SF', '600000.SH') or EXCHANGE.code (tqsdk, e.g. "
            "'CFFEX.IF2003'); markets are SH, SZ, BJ, SF, DF, ZF, IF, INE, GF",
        ),
        (
            ("CFFEX.IF2003", JUNE_9, 0.5, 0.0),
            "IF2003.IF is a futures contract, and corporate actions are for stocks and funds "
            "(.SH, .SZ, .BJ)",
        ),
    ],
)
def test_write_dividends_refuses_a_row_naming_its_position_field_and_value(
    store: Store, row: tuple[Any, ...], problem: str
) -> None:
    before = files(store.root)
    good = ("000002.SZ", JUNE_9, 0.1, 0.0)
    with pytest.raises(ConfigError, match=exactly(f"{where(1, row)}: {problem}")):
        store.write_dividends([good, row])
    assert files(store.root) == before
    assert store.dividends() == {"600000.SH": [(JUNE_9, 0.5, 0.0)]}


def where(position: int, row: object) -> str:
    return f"write_dividends: the row at position {position} ({row!r})"


def no_row(row: object) -> str:
    return exactly(
        f"{where(0, row)} must be a (symbol, ex_date, cash, share_ratio) tuple, such as "
        "('600000.SH', date(2020, 6, 9), 0.76, 0.0)"
    )


@pytest.mark.parametrize("row", [("600000.SH", JUNE_9, 0.5), "600000.SH"])
def test_write_dividends_refuses_what_is_no_four_value_row(store: Store, row: object) -> None:
    with pytest.raises(ConfigError, match=no_row(row)):
        store.write_dividends([row])  # type: ignore[list-item]
    # one row instead of a list of rows: its first value is no row
    with pytest.raises(ConfigError, match=no_row("600000.SH")):
        store.write_dividends(row)  # type: ignore[arg-type]


def test_write_dividends_refuses_one_ex_date_twice_in_two_spellings(store: Store) -> None:
    first, second = ("SSE.600000", JUNE_9, 0.5, 0.0), ("600000.SH", JUNE_9, 0.0, 0.3)
    message = (
        f"write_dividends: the rows at positions 0 and 2 are both corporate actions of "
        f"600000.SH on 2020-06-09 ({first!r} and {second!r}); give one row per symbol and "
        f"ex-date, with the cash and the shares of both"
    )
    with pytest.raises(ConfigError, match=exactly(message)):
        store.write_dividends([first, ("600000.SH", date(2021, 6, 9), 0.4, 0.0), second])
    # what it takes: numpy numbers, any spelling, stored canonically, in date order
    store.write_dividends(
        [("sh.600000", date(2021, 6, 9), np.float64(0.4), np.int64(0)), first]  # type: ignore[list-item]
    )
    assert store.dividends() == {"600000.SH": [(JUNE_9, 0.5, 0.0), (date(2021, 6, 9), 0.4, 0.0)]}


def test_reading_refuses_an_infinite_amount_another_tool_wrote(store: Store) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = store.root / "dividends.parquet"
    table: dict[str, Any] = {
        "symbol": ["600000.SH"],
        "ex_date": pa.array([JUNE_9], pa.date32()),
        "cash": [float("inf")],
        "share_ratio": [0.0],
    }
    pq.write_table(pa.table(table), path)
    row = "{'symbol': '600000.SH', 'ex_date': datetime.date(2020, 6, 9), 'cash': inf, "
    message = (
        f"{path}: row 1 is not a valid corporate action ({row}'share_ratio': 0.0}}): ex_date "
        "must be a date, cash and share_ratio numbers from 0 up; write it again (`backtest "
        "data download`, or Store.write_dividends) or delete it if the store's symbols have no "
        "corporate actions"
    )
    with pytest.raises(DataError, match=exactly(message)):
        store.dividends()


# --- metadata writes take the write lock -----------------------------------------------------


@contextmanager
def lock_held_by_another_process(root: Path) -> Iterator[None]:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, filelock; lock = filelock.FileLock(sys.argv[1]); lock.acquire(); "
            "print('locked', flush=True); sys.stdin.read()",
            str(root / ".lock"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        yield
    finally:
        holder.communicate("")


METADATA_WRITES = {
    "calendar": lambda store: store.write_calendar([date(2020, 1, 2)]),
    "instruments": lambda store: store.write_instruments({SYMBOL: {"price_tick": 1.0}}),
    "dividends": lambda store: store.write_dividends([("600000.SH", JUNE_9, 0.7, 0.0)]),
}


@pytest.mark.parametrize("kind", METADATA_WRITES)
def test_a_metadata_write_waits_for_another_process_s_write_lock(
    store: Store, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setattr("backtest.store.LOCK_TIMEOUT_S", 0.2)
    before = files(store.root)
    message = (
        f"data store {store.root} is being written by another process (it holds "
        f"{store.root / '.lock'}); wait for it to finish and retry"
    )
    with lock_held_by_another_process(store.root), pytest.raises(DataError, match=exactly(message)):
        METADATA_WRITES[kind](store)
    assert files(store.root) == before
    METADATA_WRITES[kind](store)  # the holder is gone
    assert f"{kind}.parquet" in files(store.root)


@pytest.mark.parametrize("kind", METADATA_WRITES)
def test_a_metadata_write_to_a_store_whose_lock_cannot_be_opened_is_not_writable(
    store: Store, kind: str
) -> None:
    lock = store.root / ".lock"
    lock.unlink(missing_ok=True)
    lock.mkdir()  # a directory where the lock file must go: refused even to root
    before = files(store.root)
    message = (
        f"data store {store.root} is not writable: cannot write {lock} (Is a directory); nothing "
        f"was changed. Make {store.root} and everything in it writable by you (the permissions, "
        f"or what is in the way), or write to another store"
    )
    with pytest.raises(DataError, match=exactly(message)):
        METADATA_WRITES[kind](store)
    assert files(store.root) == before


def test_inside_a_transaction_metadata_writes_go_ahead_and_a_second_writer_is_refused(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("backtest.store.LOCK_TIMEOUT_S", 0.2)  # no long wait if it deadlocked
    nested = (
        f"a transaction of data store {store.root} is open in this thread already, and a store "
        f"has one writer at a time: inside `with store.transaction() as transaction:` stage "
        f"rows with transaction.write(...) (not store.write or store.remove), or write after "
        f"the block"
    )
    with store.transaction() as transaction:
        transaction.write(SYMBOL, 60, bars([JAN_2 + MINUTE_NS], first_open=200.0))
        store.write_calendar([date(2020, 1, 2)])  # this thread holds the lock: written at once
        assert store.calendar() is not None
        with pytest.raises(ApiUsageError, match=exactly(nested)):
            store.write(SYMBOL, 60, bars([JAN_2 + 2 * MINUTE_NS]))
        with pytest.raises(ApiUsageError, match=exactly(nested)):
            store.remove(SYMBOL)
    opens = store.tail(SYMBOL, 60, 2**62, 10, ["open"]).column("open").to_pylist()
    assert opens == [100.0, 200.0]
    calendar = store.calendar()
    assert calendar is not None and calendar.days() == [date(2020, 1, 2)]


# --- Store.create --------------------------------------------------------------------------


def test_create_where_store_json_is_a_directory_says_what_is_in_the_way(tmp_path: Path) -> None:
    root = tmp_path / "store"
    (root / "store.json").mkdir(parents=True)
    message = (
        f"cannot create a data store at {root}: {root / 'store.json'} is a directory, where the "
        f"store's manifest (a file) must go; move it out of the way or pass another directory"
    )
    with pytest.raises(DataError, match=exactly(message)):
        Store.create(root)
    opening = (
        f"{root} is not a data store: {root / 'store.json'} is a directory, not the store's "
        f"manifest (a file); move it out of the way, or pass data= the directory that holds the "
        f"store's store.json"
    )
    with pytest.raises(DataError, match=exactly(opening)):
        Store(root)
    assert [p.name for p in root.iterdir()] == ["store.json"]


def test_create_at_a_broken_symbolic_link_names_it(tmp_path: Path) -> None:
    link = tmp_path / "store"
    link.symlink_to(tmp_path / "gone")
    message = (
        f"cannot create a data store at {link}: it is a symbolic link to {tmp_path / 'gone'}, "
        f"which does not exist; pass a directory that is new or holds store.json"
    )
    with pytest.raises(DataError, match=exactly(message)):
        Store.create(link)


@contextmanager
def read_only(directory: Path) -> Iterator[str]:
    """Make ``directory`` read-only; yield the OS's words for a write refused there. Root
    ignores permission bits: then ``chattr +i``, and the test is skipped where it fails."""
    directory.chmod(0o555)
    try:
        if os.geteuid() != 0:
            yield "Permission denied"
            return
        chattr = shutil.which("chattr")
        done = chattr and subprocess.run([chattr, "+i", str(directory)], capture_output=True)
        if not done or done.returncode != 0:
            pytest.skip("root writes whatever the permission bits say, and chattr +i failed")
        try:
            yield "Operation not permitted"
        finally:
            subprocess.run([str(chattr), "-i", str(directory)], check=True)
    finally:
        directory.chmod(0o755)


def test_create_in_a_read_only_directory_names_it_and_leaves_it_as_it_was(tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    with read_only(root) as refused:
        message = (
            f"cannot create a data store at {root}: cannot write {root / 'store.json'} "
            f"({refused}); make {root} writable by you or pass another directory"
        )
        with pytest.raises(DataError, match=exactly(message)):
            Store.create(root)
    assert list(root.iterdir()) == []


def test_create_that_cannot_write_its_manifest_removes_the_directories_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a full disk, simulated
    def full(path: Path, write: Any) -> None:
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr("backtest.store.atomic_write", full)
    root = tmp_path / "new" / "store"
    message = (
        f"cannot create a data store at {root}: cannot write {root / 'store.json'} (No space "
        f"left on device); free space on its disk or pass another directory"
    )
    with pytest.raises(DataError, match=exactly(message)):
        Store.create(root)
    assert list(tmp_path.iterdir()) == []


def test_a_write_to_a_full_disk_says_to_free_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.create(tmp_path / "store")

    def full(table: Any, path: Any, **options: Any) -> None:
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr("backtest.storewrite.pq.write_table", full)
    with pytest.raises(DataError) as caught:
        store.write("IF2003.IF", 60, bars([beijing_ns(2020, 1, 2, 9, 30)]))
    staged = str(caught.value).split("cannot write ", 1)[1].split(" (", 1)[0]
    assert str(caught.value) == (
        f"data store {store.root} cannot be written: cannot write {staged} (No space left on "
        f"device); nothing was changed. Free space on its disk, or write to another store"
    )
    assert store.symbols() == []


# --- Store.creating: nothing written, no store left ------------------------------------------


def test_creating_removes_a_new_store_the_block_failed_to_write_and_keeps_the_others(
    tmp_path: Path,
) -> None:
    root = tmp_path / "new" / "store"
    with pytest.raises(ConfigError), Store.creating(root) as store:
        assert (root / "store.json").is_file()
        store.write_calendar(["2020-01-02"])  # type: ignore[list-item]  # refused: no date
    assert list(tmp_path.iterdir()) == []

    existing = tmp_path / "existing"  # a directory that was there, without a store
    existing.mkdir()
    with pytest.raises(ConfigError), Store.creating(existing):
        raise ConfigError("refused")
    assert list(existing.iterdir()) == []

    with pytest.raises(ConfigError), Store.creating(root) as store:
        store.write_calendar([date(2020, 1, 2)])
        raise ConfigError("refused after writing")
    assert sorted(p.name for p in root.iterdir()) == [".lock", "calendar.parquet", "store.json"]
    with pytest.raises(ConfigError), Store.creating(root):  # not new: kept
        raise ConfigError("refused")
    assert Store(root).calendar() is not None


def test_creating_keeps_a_new_store_another_process_is_writing(tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    with (
        lock_held_by_another_process(root),
        pytest.raises(ConfigError),
        Store.creating(root),
    ):
        raise ConfigError("refused while another process holds the write lock")
    assert sorted(p.name for p in root.iterdir()) == [".lock", "store.json"]


@pytest.fixture
def fake_xtquant(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The fake ``xtquant`` of tests/fake_xtquant, importable for this test only."""
    for name in [n for n in sys.modules if n.split(".")[0] == "xtquant"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(FAKE_XTQUANT))
    module: ModuleType = importlib.import_module("xtquant.xtdata")
    module.reset()
    yield module
    for name in [n for n in sys.modules if n.split(".")[0] == "xtquant"]:
        del sys.modules[name]


DOWNLOAD = ("data", "download", "--period", "1d", "--start", "20200101", "--store")


def test_a_download_without_xtquant_leaves_no_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "xtquant", None)  # as on Linux
    root = tmp_path / "new" / "store"
    status, out, err = run(*DOWNLOAD, root, "--symbols", "600000.SH")
    assert (status, out) == (1, "")
    assert err.startswith("backtest: error: xtquant cannot be imported (")
    assert err.endswith(
        "install it with `pip install backtest[qmt]` and run on Windows with miniQMT started "
        "(极简模式) and logged in\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_refused_import_leaves_no_new_store_and_a_kept_one_as_it_was(tmp_path: Path) -> None:
    source = tmp_path / "bars.csv"
    source.write_text("datetime,open,high,low,close,volume\n2020-01-02 09:30:59,1,2,1,2,5\n")
    root = tmp_path / "new" / "store"
    argv = ("data", "import", source, "--symbol", "IF2003.IF", "--period", "1m", "--format",
            "tqsdk", "--store", root)  # fmt: skip
    status, out, err = run(*argv)
    assert (status, out) == (1, "")
    assert err.startswith(f"backtest: error: {source}: 1 problem(s) (1 grid):")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bars.csv"]  # no new/store
    Store.create(root)
    assert run(*argv)[0] == 1
    assert sorted(p.name for p in root.iterdir()) == ["store.json"]  # kept as it was


def test_a_download_of_a_bad_symbol_leaves_no_store(tmp_path: Path, fake_xtquant: Any) -> None:
    root = tmp_path / "store"
    status, out, err = run(*DOWNLOAD, root, "--symbols", "600000.XX")
    assert (status, out, fake_xtquant.calls) == (1, "", [])
    assert err.startswith("backtest: error: symbol '600000.XX' is not understood: ")
    assert list(tmp_path.iterdir()) == []


def test_a_download_that_cannot_reach_miniqmt_leaves_no_store_and_an_existing_one_as_it_was(
    tmp_path: Path, fake_xtquant: Any, store: Store
) -> None:
    fake_xtquant.fail("get_trading_dates", times=2)
    new = tmp_path / "new"
    status, _, err = run(*DOWNLOAD, new, "--symbols", "600000.SH")
    assert status == 1
    assert err.startswith("backtest: error: cannot read the trading calendar from xtquant (")
    assert not new.exists()
    before = files(store.root)
    assert run(*DOWNLOAD, store.root, "--symbols", "600000.SH")[0] == 1
    assert files(store.root) == before


def test_a_download_whose_every_symbol_failed_leaves_no_store(
    tmp_path: Path, fake_xtquant: Any
) -> None:
    fake_xtquant.fail("get_market_data_ex", "600000.SH")
    root = tmp_path / "store"
    status, out, err = run(*DOWNLOAD, root, "--symbols", "600000.SH", "--no-metadata")
    assert status == 1
    assert out.splitlines()[0].split()[:3] == ["600000.SH", "1d", "failed"]
    assert err.startswith("backtest: error: xtquant download of 1 symbol(s) failed (600000.SH: ")
    assert not root.exists()


# --- ls / info / verify: a directory named outside the layout --------------------------------


def test_ls_lists_the_rest_when_a_period_directory_is_misnamed(two_symbols: Store) -> None:
    misname(two_symbols, "7x/IF2003.IF")
    (two_symbols.root / "klines" / "1m" / "README").write_text("a stray file is not read\n")
    status, out, err = run("data", "ls", "--store", two_symbols.root)
    assert status == 1
    assert [line.split()[:2] for line in out.splitlines()[1:]] == [
        ["symbol", "period"],
        ["IF2003.IF", "1m"],
        ["rb2001.SF", "1m"],
    ]
    assert err == f"backtest: error: IF2003.IF: {two_symbols.root / 'klines' / '7x'} {PERIOD_7X}\n"


def test_ls_lists_the_rest_when_a_serial_directory_is_misnamed(two_symbols: Store) -> None:
    copy = misname(two_symbols, "1m/CFFEX.IF2003")
    status, out, err = run("data", "ls", "--store", two_symbols.root, "--json")
    assert status == 1
    assert [entry["symbol"] for entry in json_list(out)] == ["IF2003.IF", "rb2001.SF"]
    assert err == f"backtest: error: {copy} {SERIAL_CFFEX}\n"
    # a pattern that matches neither its name nor its symbol leaves it out
    assert run("data", "ls", "rb*", "--store", two_symbols.root, "--json")[::2] == (0, "")
    assert run("data", "ls", "IF*", "--store", two_symbols.root)[::2] == (
        1,
        f"backtest: error: {copy} {SERIAL_CFFEX}\n",
    )


def json_list(text: str) -> list[dict[str, Any]]:
    import json

    value = json.loads(text)
    assert isinstance(value, list)
    return value


def test_info_lists_the_symbol_s_other_series_when_a_period_directory_is_misnamed(
    two_symbols: Store,
) -> None:
    misname(two_symbols, "7x/IF2003.IF")
    status, out, err = run("data", "info", "IF2003.IF", "--store", two_symbols.root)
    assert status == 1
    assert [line.split()[0] for line in out.splitlines()[-2:]] == ["period", "1m"]
    assert err == f"backtest: error: IF2003.IF: {two_symbols.root / 'klines' / '7x'} {PERIOD_7X}\n"


def test_symbols_and_durations_report_misnamed_directories_to_on_misnamed(
    two_symbols: Store,
) -> None:
    period, serial = misname(two_symbols, "7x/IF2003.IF"), misname(two_symbols, "1m/CFFEX.IF2003")
    met: list[tuple[Path, str]] = []
    assert two_symbols.symbols(on_misnamed=lambda p, e: met.append((p, str(e)))) == [
        "IF2003.IF",
        "rb2001.SF",
    ]
    assert two_symbols.durations("IF2003.IF", lambda p, e: met.append((p, str(e)))) == [60]
    assert met == [
        (serial, f"{serial} {SERIAL_CFFEX}"),
        (period.parent, f"{period.parent} {PERIOD_7X}"),
    ]


def test_verify_reports_misnamed_directories_and_checks_the_rest(two_symbols: Store) -> None:
    period = misname(two_symbols, "7x/IF2003.IF").parent
    serial = misname(two_symbols, "1m/CFFEX.IF2003")
    status, out, err = run("data", "verify", "--store", two_symbols.root)
    assert status == 1
    assert out.splitlines() == [
        "klines/1m/CFFEX.IF2003: 1 problem(s): layout (not read)",
        f"  {serial} {SERIAL_CFFEX}",
        "klines/7x: 1 problem(s): layout (not read)",
        f"  {period} {PERIOD_7X}",
        "IF2003.IF 1m: ok (1 rows, 1 file)",
        "rb2001.SF 1m: ok (1 rows, 1 file)",
    ]
    assert err == f"2 problem(s) in {two_symbols.root}: {RENAME}\n"
    (two_symbols.root / "klines" / "1m" / "rb2001.SF" / "2020.parquet").write_bytes(b"damaged")
    status, _, err = run("data", "verify", "--store", two_symbols.root)
    assert (status, err) == (1, f"3 problem(s) in {two_symbols.root}: {REMEDY}; {RENAME}\n")


def test_verify_of_a_period_or_a_symbol_reports_the_misnamed_directories_that_may_hold_it(
    two_symbols: Store,
) -> None:
    period = misname(two_symbols, "7x/IF2003.IF").parent
    misname(two_symbols, "1m/CFFEX.IF2003")
    checks = list(verify_store(two_symbols, durations="5m"))  # 7x may hold 5m bars
    assert [check.summary() for check in checks] == ["klines/7x: 1 problem(s): layout (not read)"]
    assert isinstance(checks[0], DirectoryCheck) and checks[0].findings[0].path == period
    status, out, _ = run("data", "verify", "CFFEX.IF2003", "--store", two_symbols.root)
    assert status == 1
    assert out.splitlines() == [
        "klines/7x: 1 problem(s): layout (not read)",
        f"  {period} {PERIOD_7X}",
        "IF2003.IF 1m: ok (1 rows, 1 file)",
    ]
    status, out, _ = run("data", "verify", "rb2001.SF", "--store", two_symbols.root)
    assert (status, out) == (0, "rb2001.SF 1m: ok (1 rows, 1 file)\n")


# --- verify: its own advice, and an empty store ----------------------------------------------


def test_verify_does_not_tell_you_to_run_verify_about_a_damaged_file(two_symbols: Store) -> None:
    path = two_symbols.root / "klines" / "1m" / "rb2001.SF" / "2020.parquet"
    path.write_bytes(b"not parquet at all")
    status, out, _ = run("data", "verify", "rb2001.SF", "--store", two_symbols.root)
    assert status == 1
    assert out.splitlines() == [
        "rb2001.SF 1m: 1 problem(s): unreadable (0 rows, 1 file)",
        f"  {path} is damaged (Parquet magic bytes not found in footer); delete it and import "
        "its period again",
    ]


def test_verify_of_a_store_without_market_data_says_so_and_exits_0(empty_store: Store) -> None:
    assert run("data", "verify", "--store", empty_store.root) == (
        0,
        f"{empty_store.root}: no data to verify\n",
        "",
    )
