"""Store transactions (backtest/store.py): all files of a write land together or none does.

The crash tests run a write in a child process that dies (``os._exit``, as a kill would leave
it: no ``finally``, no cleanup) at a chosen point: while staging, after the journal is written
but before every file is renamed into place, and during the commit's renames. The store must
then read as it was before the write or as it is after it, never in between, and the next
opening must clean up after the dead writer.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pytest

from backtest.errors import DataError
from backtest.store import Store

REPO = Path(__file__).resolve().parent.parent
SYMBOL = "rb2001.SF"
DAY_NS = 86_400 * 1_000_000_000
# 2019-12-31 00:00 and 2020-01-01 00:00 Beijing time, as int ns since the epoch
DEC_31 = 1_577_721_600 * 1_000_000_000
JAN_1 = DEC_31 + DAY_NS


def daily(times: list[int], close: float) -> pa.Table:
    n = len(times)
    return pa.table(
        {
            "datetime": pa.array(times, pa.int64()),
            "open": [close] * n,
            "high": [close + 1] * n,
            "low": [close - 1] * n,
            "close": [close] * n,
            "volume": [10.0] * n,
        }
    )


def snapshot(root: Path) -> dict[str, str]:
    """Every file of the store (relative path → sha256), the lock file excepted."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != ".lock"
    }


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """Two years of one daily bar each: 2019 closes at 100, 2020 at 100."""
    store = Store.create(tmp_path / "store")
    store.write(SYMBOL, 86_400, daily([DEC_31, JAN_1], 100.0))
    return store


def closes(store: Store) -> list[float]:
    batches = Store(store.root).scan(SYMBOL, 86_400, 0, 2**62, ["close"])
    values: list[float] = []
    for batch in batches:
        for x in batch.column("close").to_pylist():
            assert x is not None
            values.append(float(x))
    return values


def write_in_child(root: Path, die: str) -> subprocess.CompletedProcess[str]:
    """Rewrite both years (closes 200) in a child process that dies at ``die``.

    ``die`` is ``"stage"`` (after the first file is staged), ``"journal"`` (right after the
    journal is written) or ``"rename"`` (after the first of the two files is renamed into place).
    """
    script = textwrap.dedent(
        f"""
        import os, sys
        import pyarrow as pa
        import pyarrow.parquet as pq
        import backtest.store as store_module
        from backtest.store import Store

        die = {die!r}
        staged, renamed = [], []
        real_write, real_replace = pq.write_table, os.replace

        def write_table(table, where, *args, **kwargs):
            real_write(table, where, *args, **kwargs)
            if die == "stage" and ".staging" in str(where):
                os._exit(3)

        def replace(source, target):
            if die == "journal" and str(target).endswith(".json") and ".journal" in str(target):
                real_replace(source, target)
                os._exit(3)
            real_replace(source, target)
            if ".staging" in str(source):
                renamed.append(target)
                if die == "rename":
                    os._exit(3)

        store_module.pq.write_table = write_table
        store_module.os.replace = replace
        n = 2
        table = pa.table({{
            "datetime": pa.array([{DEC_31}, {JAN_1}], pa.int64()),
            "open": [200.0] * n, "high": [201.0] * n, "low": [199.0] * n,
            "close": [200.0] * n, "volume": [10.0] * n,
        }})
        Store({str(root)!r}).write({SYMBOL!r}, 86_400, table)
        sys.exit(0)
        """
    )
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=False
    )


def test_a_transaction_writes_every_file_or_none(store: Store) -> None:
    with pytest.raises(RuntimeError, match="stop"), store.transaction() as transaction:
        transaction.write(SYMBOL, 86_400, daily([DEC_31, JAN_1], 300.0))
        raise RuntimeError("stop")
    assert closes(store) == [100.0, 100.0]
    assert not (store.root / ".staging").exists()
    with store.transaction() as transaction:
        transaction.write(SYMBOL, 86_400, daily([DEC_31], 300.0))
        transaction.write(SYMBOL, 86_400, daily([JAN_1], 301.0))
    assert closes(store) == [300.0, 301.0]
    assert sorted(p.name for p in store.root.iterdir()) == [".lock", "klines", "store.json"]


def test_writes_within_a_transaction_build_on_each_other(store: Store) -> None:
    later = JAN_1 + DAY_NS
    with store.transaction() as transaction:
        transaction.write(SYMBOL, 86_400, daily([later], 150.0))
        transaction.write(SYMBOL, 86_400, daily([JAN_1], 120.0))
    assert closes(store) == [100.0, 120.0, 150.0]


def test_a_writer_killed_while_staging_leaves_the_store_as_it_was(store: Store) -> None:
    before = snapshot(store.root)
    child = write_in_child(store.root, "stage")
    assert child.returncode == 3, child.stderr
    assert (store.root / ".staging").is_dir()  # what the dead writer left behind

    assert closes(store) == [100.0, 100.0]  # opening the store discards the staged files
    assert not (store.root / ".staging").exists()
    assert snapshot(store.root) == before


@pytest.mark.parametrize("die", ["journal", "rename"])
def test_a_writer_killed_while_committing_is_completed_on_next_open(store: Store, die: str) -> None:
    child = write_in_child(store.root, die)
    assert child.returncode == 3, child.stderr
    assert (store.root / ".journal").is_dir()

    assert closes(store) == [200.0, 200.0]  # opening the store finishes the renames
    assert not (store.root / ".journal").exists()
    assert not (store.root / ".staging").exists()


def test_a_completed_crash_recovery_gives_the_same_files_as_an_uninterrupted_write(
    tmp_path: Path,
) -> None:
    stores = []
    for name, die in (("crashed", "rename"), ("clean", None)):
        store = Store.create(tmp_path / name)
        store.write(SYMBOL, 86_400, daily([DEC_31, JAN_1], 100.0))
        if die:
            assert write_in_child(store.root, die).returncode == 3
        else:
            store.write(SYMBOL, 86_400, daily([DEC_31, JAN_1], 200.0))
        stores.append(Store(store.root))
    assert snapshot(stores[0].root) == snapshot(stores[1].root)


def test_a_write_waits_for_the_lock_and_says_who_holds_it(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("backtest.store.LOCK_TIMEOUT_S", 0.2)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, filelock; lock = filelock.FileLock(sys.argv[1]); lock.acquire(); "
            "print('locked', flush=True); sys.stdin.read()",
            str(store.root / ".lock"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        with pytest.raises(DataError) as caught:
            store.write(SYMBOL, 86_400, daily([JAN_1], 999.0))
        assert str(caught.value) == (
            f"data store {store.root} is being written by another process (it holds "
            f"{store.root / '.lock'}); wait for it to finish and retry"
        )
    finally:
        holder.communicate("")
    assert closes(store) == [100.0, 100.0]
    store.write(SYMBOL, 86_400, daily([JAN_1], 999.0))  # the holder is gone: the lock is free
    assert closes(store) == [100.0, 999.0]


def test_opening_does_not_touch_the_staged_files_of_a_live_writer(store: Store) -> None:
    with store.transaction() as transaction:
        transaction.write(SYMBOL, 86_400, daily([JAN_1], 500.0))
        staged = sorted(p.name for p in (store.root / ".staging").rglob("*.parquet"))
        assert staged == ["2020.parquet"]
        assert closes(store) == [100.0, 100.0]  # another reader opens the store meanwhile
        assert sorted(p.name for p in (store.root / ".staging").rglob("*.parquet")) == staged
    assert closes(store) == [100.0, 500.0]


NOT_A_LIST = 'it is not a JSON object with a "files" list of paths'


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{garbage", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ('{"other": 1}', NOT_A_LIST),
        ('{"files": [1]}', NOT_A_LIST),
        ('["escaped.txt"]', NOT_A_LIST),
        ('{"files": ["../../escaped.txt"]}', "it lists '../../escaped.txt', not a path inside the "
         "store"),
        ('{"files": ["/etc/passwd"]}', "it lists '/etc/passwd', not a path inside the store"),
    ],
)  # fmt: skip
def test_a_damaged_journal_is_refused_naming_it_and_what_to_do(
    store: Store, text: str, reason: str
) -> None:
    (store.root / ".journal").mkdir()
    journal = store.root / ".journal" / "abc.json"
    journal.write_text(text, encoding="utf-8")
    (store.root / ".staging" / "abc").mkdir(parents=True)
    (store.root / ".staging" / "abc" / "escaped.txt").write_text("x", encoding="utf-8")
    before = snapshot(store.root)
    message = (
        f"{journal} is damaged ({reason}), so the interrupted write it records cannot be "
        f"completed; delete it and {store.root / '.staging' / 'abc'}, then run `backtest data "
        "verify` and import again what that write was importing"
    )
    with pytest.raises(DataError) as opening:
        Store(store.root)
    assert str(opening.value) == message
    with pytest.raises(DataError) as writing:
        store.write(SYMBOL, 86_400, daily([JAN_1], 999.0))
    assert str(writing.value) == message
    assert snapshot(store.root) == before  # nothing renamed, nothing deleted
    assert not (store.root.parent.parent / "escaped.txt").exists()

    journal.unlink()
    shutil.rmtree(store.root / ".staging")
    assert closes(store) == [100.0, 100.0]  # what the message says to do works
