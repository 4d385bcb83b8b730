"""``backtest data ls``, ``info`` and ``verify`` on what is not stored and on damaged stores.

``ls`` matches symbols in every spelling; a damaged serial does not hide the others from
``ls`` and ``info`` (it is reported, and the exit status is 1); ``verify`` says when the symbol
or period asked for is not stored (exit 1), lists every file named outside the layout and still
checks the rest, and prints a problem of a whole file without row, column and value.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from backtest.errors import DataError
from backtest.store import Store

from .conftest import ns, write_bars
from .test_cli_data import run

DAMAGED_DATA_HINT = (
    "run `backtest data verify` to list the damaged files, delete them and re-import their period"
)
REMEDY = (
    "re-import the source with --repair or --skip-bad-rows, or remove the series with "
    "`backtest data rm`"
)
NOT_PARQUET = "Parquet magic bytes not found in footer"


@pytest.fixture(autouse=True)
def no_store_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACKTEST_STORE", raising=False)


@pytest.fixture
def two_symbols(empty_store: Store) -> Store:
    """IF2003.IF: one 1m bar in 2019 and one in 2020; rb2001.SF: one 1m bar in 2020."""
    write_bars(empty_store, "IF2003.IF", 60, [("2019-12-31 09:30", 1, 2, 1, 2, 1)])
    write_bars(empty_store, "IF2003.IF", 60, [("2020-01-02 09:30", 1, 2, 1, 2, 1)])
    write_bars(empty_store, "rb2001.SF", 60, [("2020-01-02 09:00", 1, 2, 1, 2, 1)])
    return empty_store


def serial(store: Store, symbol: str) -> Path:
    return store.root / "klines" / "1m" / symbol


# --- ls ------------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", ["CFFEX.IF2003", "cffex.if2003", "IF2003.CFFEX", "CFFEX.IF*"])
def test_ls_matches_every_spelling_of_a_symbol(pattern: str) -> None:
    status, out, err = run("data", "ls", pattern, "--json")
    assert (status, err) == (0, "")
    symbols = [entry["symbol"] for entry in json.loads(out)]
    assert symbols == (["IF2003.IF", "IF2101.IF"] if pattern.endswith("*") else ["IF2003.IF"])


def test_ls_lists_the_undamaged_serials_and_reports_the_damaged_one(two_symbols: Store) -> None:
    path = serial(two_symbols, "IF2003.IF") / "2020.parquet"
    path.write_bytes(b"not parquet at all")
    status, out, err = run("data", "ls", "--store", two_symbols.root)
    assert status == 1
    assert out.splitlines()[0] == str(two_symbols.root)
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["symbol", "rb2001.SF"]
    assert err == (
        f"backtest: error: IF2003.IF 1m: {path} is damaged ({NOT_PARQUET}); {DAMAGED_DATA_HINT}\n"
    )
    status, out, _ = run("data", "ls", "--store", two_symbols.root, "--json")
    assert (status, [entry["symbol"] for entry in json.loads(out)]) == (1, ["rb2001.SF"])


def test_ls_of_nothing_but_a_damaged_serial_prints_no_table(two_symbols: Store) -> None:
    path = serial(two_symbols, "IF2003.IF") / "latest.parquet"
    path.write_bytes(b"")
    status, out, err = run("data", "ls", "IF*", "--store", two_symbols.root)
    assert (status, out) == (1, "")
    assert err == (
        f"backtest: error: IF2003.IF 1m: {path} is not named as the store's layout names files "
        "(klines are stored as <YYYY>.parquet, one file per Beijing year); rename it after the "
        "period it holds or move it out of the store\n"
    )


def test_info_shows_the_terms_and_reports_a_damaged_serial(two_symbols: Store) -> None:
    write_bars(two_symbols, "IF2003.IF", 300, [("2020-01-02 09:30", 1, 2, 1, 2, 1)])
    path = serial(two_symbols, "IF2003.IF") / "2019.parquet"
    path.write_bytes(b"not parquet at all")
    status, out, err = run("data", "info", "CFFEX.IF2003", "--store", two_symbols.root)
    assert status == 1
    assert out.splitlines()[0] == "IF2003.IF  (instrument terms from built-in defaults)"
    assert [line.split()[0] for line in out.splitlines()[-2:]] == ["period", "5m"]
    assert err == (
        f"backtest: error: IF2003.IF 1m: {path} is damaged ({NOT_PARQUET}); {DAMAGED_DATA_HINT}\n"
    )


# --- verify: what is not stored --------------------------------------------------------------


def test_verify_of_a_period_the_symbol_lacks_says_so_and_exits_1(two_symbols: Store) -> None:
    status, out, err = run(
        "data", "verify", "CFFEX.IF2003", "--period", "5m", "--store", two_symbols.root
    )
    assert (status, out) == (1, "")
    assert err == (
        f"backtest: error: data store {two_symbols.root} has no 5m klines for IF2003.IF (it "
        "has: 1m)\n"
    )


def test_verify_of_a_period_no_symbol_has_says_so_and_exits_1(two_symbols: Store) -> None:
    status, out, err = run("data", "verify", "--period", "tick", "--store", two_symbols.root)
    assert (status, out) == (1, "")
    assert err == f"backtest: error: data store {two_symbols.root} has no ticks of any symbol\n"


# --- verify: every problem, files as a whole without row/column/value -------------------------


def test_verify_lists_every_stray_name_and_still_checks_the_other_files(two_symbols: Store) -> None:
    directory = serial(two_symbols, "IF2003.IF")
    good = directory / "2019.parquet"
    for name in ("latest.parquet", "2019b.parquet"):
        (directory / name).write_bytes(good.read_bytes())
    unreadable = directory / "2020.parquet"
    unreadable.write_bytes(b"not parquet at all")
    status, out, err = run("data", "verify", "--store", two_symbols.root)
    layout = (
        "is not named as the store's layout names files (klines are stored as <YYYY>.parquet, "
        "one file per Beijing year); rename it after the period it holds or move it out of the "
        "store"
    )
    assert status == 1
    assert out.splitlines() == [
        "IF2003.IF 1m: 3 problem(s): layout, unreadable (1 rows, 4 files)",
        f"  {directory / '2019b.parquet'} {layout}",
        f"  {directory / 'latest.parquet'} {layout}",
        f"  {unreadable} is damaged ({NOT_PARQUET}); delete it and import its period again",
        "rb2001.SF 1m: ok (1 rows, 1 file)",
    ]
    assert err == f"3 problem(s) in {two_symbols.root}: {REMEDY}\n"


def test_verify_prints_a_problem_of_a_whole_file_without_row_column_and_value(
    two_symbols: Store,
) -> None:
    path = serial(two_symbols, "rb2001.SF") / "2020.parquet"
    pq.write_table(pa.table({"datetime": pa.array([0], pa.int64()), "open": [1.0]}), path)
    status, out, _ = run("data", "verify", "rb2001.SF", "--store", two_symbols.root)
    assert status == 1
    assert out.splitlines() == [
        "rb2001.SF 1m: 1 problem(s): layout (0 rows, 1 file)",
        f"  {path}: the file is refused by every reader: missing column(s) high, low, close, "
        "volume",
    ]


# --- a write an earlier process left unfinished ------------------------------------------------


def test_ls_names_an_unfinished_write_it_cannot_complete_and_exits_1(two_symbols: Store) -> None:
    target = serial(two_symbols, "rb2001.SF") / "2020.parquet"
    prices: dict[str, list[float]] = {"open": [1], "high": [2], "low": [1], "close": [2]}
    bar = pa.table({"datetime": [ns("2020-01-02 09:01")], **prices, "volume": [1.0]})
    with pytest.raises(DataError), two_symbols.transaction() as transaction:
        transaction.write("rb2001.SF", 60, bar)
        target.unlink()
        target.mkdir()  # a directory in the way of the final rename
        (target / "in the way").write_text("")
    [journal] = (two_symbols.root / ".journal").glob("*.json")
    status, out, err = run("data", "ls", "--store", two_symbols.root)
    assert (status, out) == (1, "")
    assert err.startswith(
        f"backtest: error: data store {two_symbols.root} has an unfinished write from an earlier "
        f"process (journal {journal}) that could not be completed: renaming "
    )
