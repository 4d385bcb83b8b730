"""Reading one Parquet file of a data store, so that damage is named and not obscure.

:func:`open_parquet` opens a file; reading it raises :class:`~backtest.errors.DataError`
``<path> is damaged (<reason>); <what to do>`` when pyarrow cannot (a truncated file, a file
that is not Parquet, a damaged page, an OS error). :func:`check_increasing` checks that stored
times increase, across batch and file boundaries too. :func:`manifest_version` and
:func:`journal_files` read the store's two JSON files (``store.json`` and a commit's journal)
with the same care. The store's layout (which columns a file must have, how files are named)
lives in :mod:`backtest.storelayout`, which, like :mod:`backtest.store` and
:mod:`backtest.storewrite`, uses these.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import DataError

DAMAGED_DATA_HINT: Final = (
    "run `backtest data verify` to list the damaged files, delete them and re-import their period"
)
"""What to do about a damaged market data file (the end of every such message)."""

_READ_ERRORS: Final = (OSError, pa.ArrowException)
"""What pyarrow raises on a file it cannot read (ArrowInvalid, OSError for IO and codecs)."""


class StoredFile:
    """A Parquet file of the store, opened by :func:`open_parquet`.

    Reading it raises :class:`~backtest.errors.DataError` naming the file when pyarrow cannot
    (a truncated file, a file that is not Parquet, a damaged page, an OS error).
    """

    __slots__ = ("_file", "hint", "path")

    def __init__(self, path: Path, hint: str) -> None:
        self.path = path
        self.hint = hint
        try:
            self._file = pq.ParquetFile(path)
        except _READ_ERRORS as exc:
            raise self.damaged(_reason(exc)) from None

    @property
    def names(self) -> list[str]:
        """The file's column names."""
        return self._file.schema_arrow.names

    @property
    def schema(self) -> pa.Schema:
        """The file's Arrow schema."""
        return self._file.schema_arrow

    @property
    def num_rows(self) -> int:
        """Rows in the file (from its footer)."""
        return int(self._file.metadata.num_rows)

    def read(self, columns: Sequence[str] | None = None) -> pa.Table:
        """These columns (all if None), read whole."""
        try:
            return self._file.read(columns=None if columns is None else list(columns))
        except _READ_ERRORS as exc:
            raise self.damaged(_reason(exc)) from None

    def batches(self, rows: int, columns: Sequence[str]) -> Iterator[pa.RecordBatch]:
        """Record batches of up to ``rows`` rows of these columns, in file order."""
        batches = self._file.iter_batches(batch_size=rows, columns=list(columns))
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except _READ_ERRORS as exc:
                raise self.damaged(_reason(exc)) from None
            yield batch

    def damaged(self, reason: str) -> DataError:
        """The error saying this file is damaged and what to do about it."""
        return damaged(self.path, reason, self.hint)


def open_parquet(path: Path, hint: str = DAMAGED_DATA_HINT) -> StoredFile:
    """Open a Parquet file of the store; ``hint`` says what to do if it is damaged.

    Raises:
        DataError: pyarrow cannot open it: ``<path> is damaged (<reason>); <hint>``.
    """
    return StoredFile(path, hint)


def _reason(exc: BaseException) -> str:
    """pyarrow's complaint in a few words, without the path it repeats."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = re.sub(r"^Could not open Parquet input source '.*?': ", "", text)
    return text.split(". ")[0].rstrip(".")


def check_increasing(
    path: Path, times: np.ndarray[Any, Any], first_row: int, after: tuple[Path, int] | None
) -> None:
    """Raise DataError unless ``times``, rows ``first_row + 1 …`` (1-based) of ``path``,
    increase strictly and start after ``after``: the file and datetime of the row before."""
    if after is not None and len(times) and times[0] <= after[1]:
        if after[0] == path:
            raise damaged(path, f"datetime does not increase at row {first_row + 1}")
        raise damaged(path, f"its first datetime is not after the last one of {after[0].name}")
    if len(times) > 1 and not bool((times[1:] > times[:-1]).all()):
        row = first_row + 2 + int(np.argmax(times[1:] <= times[:-1]))
        raise damaged(path, f"datetime does not increase at row {row}")


def damaged(path: Path, reason: str, hint: str = DAMAGED_DATA_HINT) -> DataError:
    return DataError(f"{path} is damaged ({reason}); {hint}")


def is_time_type(kind: pa.DataType) -> bool:
    return bool(pa.types.is_timestamp(kind) or pa.types.is_integer(kind))


def is_number_type(kind: pa.DataType) -> bool:
    return bool(pa.types.is_floating(kind) or pa.types.is_integer(kind))


def manifest_version(manifest: Path, current: int) -> int:
    """The schema version ``store.json`` declares (a whole number from 1 up); ``current`` is
    the version this package writes, for the message."""
    try:
        meta = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: not JSON, not UTF-8
        problem = str(exc)
    else:
        value = meta.get("schema_version") if isinstance(meta, dict) else None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        problem = (
            f"schema_version must be a whole number from 1 up, was {value!r}"
            if isinstance(meta, dict) and "schema_version" in meta
            else 'it is not a JSON object with a "schema_version"'
        )
    raise DataError(
        f"{manifest} is not a valid store manifest: {problem}; write "
        f'{{"schema_version": {current}}} into it if {manifest.parent} is a store'
    )


def journal_files(journal: Path, stage: Path) -> list[str]:
    """The files (relative to the store root) an interrupted commit's journal lists; ``stage``
    is the directory that commit staged them in.

    Raises:
        DataError: the journal cannot be read or does not list paths inside the store.
    """
    try:
        meta = json.loads(journal.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: not JSON, not UTF-8
        raise _bad_journal(journal, stage, str(exc)) from None
    files = meta.get("files") if isinstance(meta, dict) else None
    if not isinstance(files, list) or not all(isinstance(name, str) for name in files):
        raise _bad_journal(journal, stage, 'it is not a JSON object with a "files" list of paths')
    for name in files:
        path = PurePosixPath(name)
        if not path.parts or path.is_absolute() or ".." in path.parts:
            raise _bad_journal(journal, stage, f"it lists {name!r}, not a path inside the store")
    return files


def _bad_journal(journal: Path, stage: Path, reason: str) -> DataError:
    return DataError(
        f"{journal} is damaged ({reason}), so the interrupted write it records cannot be "
        f"completed; delete it and {stage}, then run `backtest data verify` and import again "
        f"what that write was importing"
    )
