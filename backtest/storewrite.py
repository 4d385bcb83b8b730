"""The write path of a :class:`~backtest.store.Store`: transactions and merge-on-write.

:meth:`Store.write <backtest.store.Store.write>` and :meth:`Store.transaction
<backtest.store.Store.transaction>` (which document what a user can rely on) delegate here.
:func:`open_transaction` takes the store's write lock (:func:`write_lock`, which the writes of
metadata files take too) and yields a :class:`Transaction`, which stages each new file under
``.staging/<id>/`` and on commit lists them in a journal under ``.journal/``, renames them into
place and deletes the journal; :func:`recover` completes or discards what a writer that died
left behind (:func:`recover_if_idle` when a store is opened).
An OS error on the way (a store that is not writable, a path in the way of a rename) becomes a
:class:`~backtest.errors.DataError` naming the store, the path and what to do. Incoming rows are
checked and cast to the stored form, then merged into each stored file they touch (on equal
``datetime`` the incoming row wins, keeping the stored values of the columns it lacks). The
layout these files follow, and the helpers that know it, are in :mod:`backtest.storelayout`,
shared with :mod:`backtest.store`; this module works on a store's root directory and does not
import :mod:`backtest.store`, which imports it.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from .errors import DataError, disk_full, unwritable
from .model import normalize_symbol
from .storefile import check_increasing, journal_files
from .storelayout import (
    JOURNAL_DIR,
    LOCK_FILE,
    STAGING_DIR,
    TIMESTAMP_TYPE,
    atomic_write,
    check_duration,
    columns_for,
    int_times,
    open_market_file,
    partition_keys,
    path_for,
    required_columns,
)


@contextmanager
def open_transaction(root: Path, lock_timeout_s: float) -> Iterator[Transaction]:
    """What :meth:`Store.transaction <backtest.store.Store.transaction>` does (it documents
    it) for the store at ``root``; ``lock_timeout_s`` is how long to wait for another writer's
    lock."""
    with write_lock(root, lock_timeout_s):
        transaction = Transaction(root)
        try:
            yield transaction
        except BaseException:
            transaction.discard()
            raise
        transaction.commit()


@contextmanager
def write_lock(root: Path, lock_timeout_s: float) -> Iterator[None]:
    """Hold the write lock of the store at ``root`` (waiting up to ``lock_timeout_s`` for
    another process's), having completed or discarded what a writer that died left behind: what
    every write does, a transaction or the replacement of a metadata file.

    Raises:
        DataError: another process kept the lock longer than the timeout; the lock file cannot
            be opened (a store this process cannot write: nothing is changed); or an earlier
            process's journalled write cannot be completed.
    """
    lock = FileLock(root / LOCK_FILE, timeout=lock_timeout_s)
    try:
        lock.acquire()
    except Timeout:
        raise DataError(
            f"data store {root} is being written by another process (it holds "
            f"{root / LOCK_FILE}); wait for it to finish and retry"
        ) from None
    except OSError as exc:
        raise not_writable(root, exc) from None
    try:
        recover(root)
        yield
    finally:
        lock.release()


def recover_if_idle(root: Path) -> None:
    """Complete or discard what a writer that died left behind, unless a writer is at work
    now (what is staged is then its own): what opening a store does, reading or writing.

    Raises:
        DataError: a journalled write cannot be completed (the lock file cannot be opened, a
            rename fails); staged files that were never journalled are left alone then, as
            nothing reads them.
    """
    try:
        with FileLock(root / LOCK_FILE, timeout=0):
            recover(root)
    except Timeout:
        return
    except OSError as exc:  # the lock file cannot be opened: a store this process cannot write
        journals = sorted((root / JOURNAL_DIR).glob("*.json"))
        if journals:  # without the lock, the write may be another user's, under way now
            raise DataError(
                f"data store {root} has an unfinished write (journal {journals[0]}) that this "
                f"process cannot complete, as it cannot take the store's lock: "
                f"{unwritable(exc)}. Another user may be writing the store right now: wait for "
                f"them and retry; otherwise open the store once as a user who can write it, "
                f"which completes the write"
            ) from None


def recover(root: Path) -> None:
    """Complete interrupted commits; discard staged files that were never committed.

    Only called with the write lock held.

    Raises:
        DataError: a journal is damaged, or a file it lists cannot be renamed into place.
    """
    journals = sorted((root / JOURNAL_DIR).glob("*.json"))
    for journal in journals:
        stage = root / STAGING_DIR / journal.stem
        try:
            _apply(root, stage, journal_files(journal, stage))
            journal.unlink()
        except OSError as exc:
            raise unfinished_write(root, journal, unwritable(exc), earlier=True) from None
    shutil.rmtree(root / STAGING_DIR, ignore_errors=True)
    with suppress(OSError):
        (root / JOURNAL_DIR).rmdir()


def _apply(root: Path, stage: Path, names: list[str]) -> None:
    """Rename the staged files ``names`` (relative to ``stage``) into place under ``root``;
    those already moved (by an interrupted commit) are skipped."""
    for name in names:
        source = stage / name
        if source.exists():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)


def not_writable(root: Path, exc: OSError) -> DataError:
    """The error for an OS error met before anything in the store was changed."""
    if disk_full(exc):
        return DataError(
            f"data store {root} cannot be written: {unwritable(exc)}; nothing was changed. Free "
            f"space on its disk, or write to another store"
        )
    return DataError(
        f"data store {root} is not writable: {unwritable(exc)}; nothing was changed. Make {root} "
        f"and everything in it writable by you (the permissions, or what is in the way), or "
        f"write to another store"
    )


def unfinished_write(root: Path, journal: Path, failure: str, *, earlier: bool) -> DataError:
    """The error for a journalled write that could not be completed (``earlier``: one that a
    process before this one left)."""
    whose = "an unfinished write from an earlier process" if earlier else "an unfinished write"
    stage = root / STAGING_DIR / journal.stem
    return DataError(
        f"data store {root} has {whose} (journal {journal}) that could not be completed: "
        f"{failure}. Fix that (the permissions, or what is in the way) and run the command "
        f"again: opening the store completes the write. Or abandon the write: delete {journal} "
        f"and {stage}, then run `backtest data verify` and import again what it was importing"
    )


class Transaction:
    """Writes staged by :meth:`Store.transaction`, applied together on commit."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.id = uuid.uuid4().hex
        self.stage = root / STAGING_DIR / self.id
        self.files: list[str] = []  # paths relative to the store root, in staging order

    def write(self, symbol: str, duration_s: int | str, table: pa.Table) -> int:
        """Stage the merge of ``table`` into the files of this symbol and period
        (``duration_s`` as :meth:`Store.write <backtest.store.Store.write>` takes it).

        Returns how many rows already there (stored, or staged earlier in this transaction)
        the rows of ``table`` replace, by having their datetime."""
        symbol = normalize_symbol(symbol)
        duration_s = check_duration(duration_s)
        table = _normalize_for_write(table, duration_s, symbol)
        if table.num_rows == 0:
            return 0
        replaced = 0
        times = int_times(table.column("datetime"))
        keys = partition_keys(times, duration_s)
        boundaries = np.flatnonzero(np.diff(keys)) + 1
        starts = [0, *boundaries.tolist()]
        ends = [*boundaries.tolist(), len(keys)]
        for lo, hi in zip(starts, ends, strict=True):
            path = path_for(self.root, symbol, duration_s, int(keys[lo]))
            name = path.relative_to(self.root).as_posix()
            staged = self.stage / name
            incoming = table.slice(lo, hi - lo)
            base = staged if staged.exists() else path
            if base.exists():
                incoming, count = _merge(_stored_for_merge(base, duration_s), incoming, duration_s)
                replaced += count
            try:
                staged.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(incoming, staged, compression="zstd")
                os.chmod(staged, 0o644)
            except OSError as exc:
                raise not_writable(self.root, exc) from None
            if name not in self.files:
                self.files.append(name)
        return replaced

    def commit(self) -> None:
        """Apply the staged files: journal, rename each into place, remove the journal."""
        if not self.files:
            self.discard()
            return
        journal_dir = self.root / JOURNAL_DIR
        journal = journal_dir / f"{self.id}.json"
        text = json.dumps({"files": self.files})
        try:
            journal_dir.mkdir(exist_ok=True)
            atomic_write(journal, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
        except OSError as exc:
            self.discard()
            raise not_writable(self.root, exc) from None
        try:
            _apply(self.root, self.stage, self.files)
            journal.unlink()
        except OSError as exc:  # the journal stays: the next opening of the store completes it
            raise unfinished_write(self.root, journal, unwritable(exc), earlier=False) from None
        self.discard()

    def discard(self) -> None:
        """Forget the staged files (nothing in the store changes)."""
        shutil.rmtree(self.stage, ignore_errors=True)
        for directory in (STAGING_DIR, JOURNAL_DIR):  # removed once no other transaction uses them
            with suppress(OSError):
                (self.root / directory).rmdir()


def _normalize_for_write(table: pa.Table, duration_s: int, symbol: str) -> pa.Table:
    """Cast to the stored schema, in canonical column order; check order and uniqueness."""
    missing = [c for c in required_columns(duration_s) if c not in table.column_names]
    if missing:
        raise DataError(f"cannot store {symbol}: missing column(s) {', '.join(missing)}")
    unknown = [c for c in table.column_names if c not in columns_for(duration_s)]
    if unknown:
        raise DataError(
            f"cannot store {symbol}: unknown column(s) {', '.join(unknown)}; stored columns "
            f"are {', '.join(columns_for(duration_s))}"
        )
    times = int_times(table.column("datetime"))
    if len(times) > 1 and not bool(np.all(np.diff(times) > 0)):
        raise DataError(f"cannot store {symbol}: datetime must increase strictly row by row")
    return _stored_form(table, times, duration_s)


def _stored_form(table: pa.Table, times: np.ndarray[Any, Any], duration_s: int) -> pa.Table:
    """``table`` as stored: Beijing timestamps, float64 prices, canonical column order."""
    arrays: list[pa.Array[Any]] = [
        pa.array(times, pa.int64()).view(pa.timestamp("ns")).cast(TIMESTAMP_TYPE)
    ]
    names = ["datetime"]
    for name in columns_for(duration_s)[1:]:
        if name in table.column_names:
            arrays.append(pc.cast(table.column(name), pa.float64()).combine_chunks())
            names.append(name)
    return pa.table(arrays, names=names)


def _stored_for_merge(path: Path, duration_s: int) -> pa.Table:
    """A stored file, read whole and checked (columns, order), in its stored form."""
    parquet = open_market_file(path, duration_s)
    unknown = [name for name in parquet.names if name not in columns_for(duration_s)]
    if unknown:
        raise parquet.damaged(f"unknown column(s) {', '.join(unknown)}")
    table = parquet.read()
    times = int_times(table.column("datetime"))
    check_increasing(path, times, 0, None)
    return _stored_form(table, times, duration_s)


def _merge(stored: pa.Table, incoming: pa.Table, duration_s: int) -> tuple[pa.Table, int]:
    """Stored rows plus incoming rows, sorted, and how many stored rows incoming ones replace.
    On equal datetime the incoming row wins, but keeps the stored values of the columns
    ``incoming`` lacks."""
    present = {*stored.column_names, *incoming.column_names}
    names = [name for name in columns_for(duration_s) if name in present]
    replaced = pc.index_in(incoming.column("datetime"), value_set=stored.column("datetime"))
    count = len(replaced) - replaced.null_count  # stored datetimes are unique
    kept = {
        name: stored.column(name).take(replaced)  # null (NaN) where nothing is replaced
        for name in stored.column_names
        if name not in incoming.column_names
    }
    incoming = _with_columns(incoming, names, kept)
    stored = _with_columns(stored, names, {})
    keep = pc.invert(pc.is_in(stored.column("datetime"), value_set=incoming.column("datetime")))
    merged = pa.concat_tables([stored.filter(keep), incoming])
    return merged.sort_by("datetime"), count


def _with_columns(
    table: pa.Table, names: list[str], extra: Mapping[str, pa.ChunkedArray[Any]]
) -> pa.Table:
    """``table`` with columns ``names``: its own, else from ``extra``, else nulls."""
    arrays = [
        table.column(n)
        if n in table.column_names
        else extra.get(n, pa.chunked_array([pa.nulls(len(table), pa.float64())]))
        for n in names
    ]
    return pa.table(arrays, names=names)
