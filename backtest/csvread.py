"""Reading a CSV file for the import: its bytes, its header, the columns it is asked for.

A file may be plain or compressed (``.gz``, ``.xz``, ``.bz2``: by its suffix), in any text
encoding Python knows (``gbk`` from Chinese Windows tools), with its fields separated by any
one character (``,`` by default; ``;`` and tabs are common). Whatever goes wrong is a
:class:`~backtest.errors.DataError` naming the file and, where there is one, the row (1 = the
first data row): a missing or unreadable file, damaged compression, bytes that are not text of
the encoding (or a UTF-8 file, by its byte order mark, read as another encoding), a row with
more or fewer fields than the header, a cell that is not a number, a column named twice, a
column missing (with the separator the header seems to use, when it is not the one given).
:mod:`backtest.csvimport` maps and checks what is read.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import lzma
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .errors import DataError

_NUMBER: Final = r"^\s*([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[-+]?(nan|NaN|inf|Inf)|)\s*$"
_DECOMPRESS: Final[dict[str, Callable[[bytes], bytes]]] = {
    ".gz": gzip.decompress,
    ".xz": lzma.decompress,
    ".bz2": bz2.decompress,
}
_DECOMPRESS_ERRORS: Final = (OSError, EOFError, ValueError, lzma.LZMAError, zlib.error)


def file_bytes(path: Path, encoding: str) -> bytes:
    """The file's text as UTF-8 bytes: decompressed as its suffix says, decoded from
    ``encoding``.

    Raises:
        DataError: the file is missing or unreadable, its compression is damaged, or its text
            is not in ``encoding`` (a file starting with UTF-8's byte order mark is UTF-8 text:
            refused under any other encoding, whose decoding would garble it).
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    decompress = _DECOMPRESS.get(path.suffix.lower())
    if decompress is not None:
        try:
            data = decompress(data)
        except _DECOMPRESS_ERRORS as exc:
            raise DataError(
                f"damaged or truncated compressed file {path} ({exc}); copy or download it again"
            ) from None
    if codecs.lookup(encoding).name == "utf-8":
        _check_text(path, data, encoding)  # in chunks: no copy of the whole file as text
        return data
    if data.startswith(codecs.BOM_UTF8) and codecs.lookup(encoding).name != "utf-8-sig":
        raise DataError(
            f"{path}: the file starts with UTF-8's byte order mark (bytes ef bb bf), so it looks "
            f"like UTF-8 text, not {encoding}: leave out --encoding (UTF-8 is the default)"
        )
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataError(_not_text(path, data, encoding, exc)) from None
    return text.encode("utf-8")


_CHUNK: Final = 1 << 24
"""Bytes decoded at a time when only checking that a file is text (16 MiB)."""


def _check_text(path: Path, data: bytes, encoding: str) -> None:
    """Raise DataError if ``data`` is not ``encoding`` text, decoding a chunk at a time."""
    decoder = codecs.getincrementaldecoder(encoding)()
    view = memoryview(data)
    try:
        for start in range(0, len(data), _CHUNK):
            decoder.decode(view[start : start + _CHUNK], final=start + _CHUNK >= len(data))
    except UnicodeDecodeError:
        try:  # again, whole, for the exact offset (only when the file is refused)
            data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise DataError(_not_text(path, data, encoding, exc)) from None


def _not_text(path: Path, data: bytes, encoding: str, exc: UnicodeDecodeError) -> str:
    """The message for a file whose bytes are not ``encoding`` text, naming the row."""
    before = data[: exc.start]
    complete = before[: max(before.rfind(b"\n"), before.rfind(b"\r")) + 1]
    line = sum(1 for text in complete.splitlines() if text.strip())  # 0: the header
    where = "the header" if line == 0 else f"row {line}"
    byte = f"byte 0x{data[exc.start]:02x} at offset {exc.start}"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # a UTF-16 byte order mark
        hint = "re-save it as UTF-8 or pass --encoding utf-16"
    elif codecs.lookup(encoding).name == "utf-8":
        hint = "re-save it as UTF-8 or pass --encoding gbk"
    elif _is_utf8(data):
        hint = "it reads as UTF-8 text: leave out --encoding (UTF-8 is the default)"
    else:
        hint = "re-save it as UTF-8, or pass the --encoding it was written in"
    return f"{path}: {where} is not {encoding} text ({byte}): {hint}"


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _header(path: Path, data: bytes, delimiter: str) -> list[str]:
    """The column names of the CSV's first line.

    Read with Python's csv module, not pyarrow's streaming reader: that reader's background
    thread could abort the process at exit after a parse error (SIGABRT).
    """
    text = data[: data.find(b"\n")] if b"\n" in data else data
    text = text.split(b"\r", 1)[0]
    line = text.decode("utf-8").removeprefix("\ufeff")
    names = next(csv.reader([line], delimiter=delimiter), [])
    if not "".join(names).strip():
        raise DataError(f"{path}: the file is empty: no header row of column names")
    return names


def read_columns(
    path: Path,
    data: bytes,
    wanted: Sequence[str],
    strings: Sequence[str],
    required: Mapping[str, str],
    delimiter: str = ",",
) -> pa.Table:
    """The ``wanted`` columns of a CSV whose fields ``delimiter`` separates; numbers as float64,
    ``strings`` as text.

    ``required``: source column → the store column it feeds.

    Raises:
        DataError: the file is not a readable CSV, lacks a ``required`` column (naming the
            separator its header seems to use, when that is not ``delimiter``), names a wanted
            column twice, or holds text where a number should be.
    """
    names = _header(path, data, delimiter)
    for source, target in required.items():
        if source not in names:
            mapped = "" if source == target else f" (for {target})"
            seen = _other_delimiter(names, delimiter)
            if seen is not None:
                raise DataError(
                    f"{path}: no column {source!r}{mapped}: the header "
                    f"{delimiter.join(names)!r} looks separated by {_DELIMITER_NAMES[seen]}, "
                    f"not {_DELIMITER_NAMES.get(delimiter, repr(delimiter))}: pass --delimiter "
                    f"{_DELIMITER_OPTIONS.get(seen, repr(seen))}"
                )
            hint = "--format" if source == target else "--format or --columns"
            raise DataError(
                f"{path}: no column {source!r}{mapped}: is {hint} right? "
                f"(columns: {', '.join(names)})"
            )
    present = [name for name in wanted if name in names]
    for name in present:
        if names.count(name) > 1:
            raise DataError(
                f"{path}: the header names column {name!r} {names.count(name)} times: rename "
                f"all but one, or map the store column to another with --columns"
            )
    types = {name: (pa.string() if name in strings else pa.float64()) for name in present}
    options = pacsv.ConvertOptions(column_types=types, include_columns=present,
                                   strings_can_be_null=True)  # fmt: skip
    parse = pacsv.ParseOptions(delimiter=delimiter)
    try:
        return pacsv.read_csv(io.BytesIO(data), parse_options=parse, convert_options=options)
    except pa.ArrowInvalid as exc:
        raise _unreadable(path, data, present, strings, delimiter, exc) from None


_DELIMITER_NAMES: Final = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "bars ('|')"}
_DELIMITER_OPTIONS: Final = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}


def _other_delimiter(names: Sequence[str], delimiter: str) -> str | None:
    """The separator the header seems to use instead of ``delimiter``: the common one (``,``,
    ``;``, tab, ``|``) found most often in it, if splitting on it gives more columns."""
    line = delimiter.join(names)
    counts = {d: line.count(d) for d in _DELIMITER_NAMES if d != delimiter}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] + 1 > len(names) else None


def _unreadable(
    path: Path,
    data: bytes,
    present: Sequence[str],
    strings: Sequence[str],
    delimiter: str,
    exc: pa.ArrowInvalid,
) -> DataError:
    """The error for a CSV pyarrow refused: its first row with more or fewer fields than the
    header, else its first cell that is not a number, else pyarrow's message."""
    ragged: list[pacsv.InvalidRow] = []

    def stop(row: pacsv.InvalidRow) -> Literal["skip", "error"]:
        ragged.append(row)
        return "error"

    try:  # again, as text, in one thread (row numbers are then known)
        as_text = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=stop),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(present, pa.string()), include_columns=list(present)
            ),
        )
    except pa.ArrowInvalid as again:
        if not ragged:
            return DataError(f"{path}: cannot read: {again}")
        row = ragged[0]
        where = "a row" if row.number is None else f"row {row.number - 1}"  # number 1: header
        return DataError(
            f"{path}: {where} has {row.actual_columns} fields where the header has "
            f"{row.expected_columns}: {row.text!r}; is the file cut short, or a field missing or "
            f"extra (quote values holding commas)?"
        )
    for name in present:
        if name in strings:
            continue
        column = as_text.column(name)
        flags = pc.match_substring_regex(column, _NUMBER).to_pylist()
        bad = [row for row, ok in enumerate(flags) if ok is False]
        if bad:
            value = column[bad[0]].as_py()
            return DataError(
                f"{path}: row {bad[0] + 1}, column {name}: value {value!r} is not a number"
            )
    return DataError(f"{path}: cannot read: {exc}")
