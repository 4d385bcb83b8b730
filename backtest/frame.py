"""Kline and tick serials as the strategy sees them: tqsdk-shaped, fast to update.

``api.get_kline_serial(...)`` returns a :class:`KlineFrame`, ``api.get_tick_serial(...)`` a
:class:`TickFrame`. Each has exactly ``data_length`` rows, oldest first; the last row is the bar
in progress (or the latest tick). Rows before the first stored bar are padding: ``id`` −1,
``datetime`` 0, every other field NaN. The frame updates in place as time advances.

tqsdk idioms work: ``klines.iloc[-1]``, ``klines.iloc[-1].close``, ``klines.close.iloc[-2]``,
``klines["close"]``, ``klines.iloc[-11:-1]``, ``klines.loc[klines.index[-1], "close"]``,
``klines.tail(3)``, ``klines.copy()``, ``klines.shape``, ``klines.empty``, ``len(klines)``,
``"close" in klines`` and ``api.is_changing(klines.iloc[-1], "datetime")``, with tqsdk's
meaning (row labels ``0 … data_length−1``). Those build pandas objects lazily (cached until the
next change), which costs tens of microseconds. For speed use the numpy fast path,
:meth:`SerialFrame.to_numpy` (``klines.to_numpy("close")``), which returns a read-only view
updated incrementally in O(1) per new bar.

A frame is not a pandas DataFrame: it is a live, read-only view. Other DataFrame methods
(``klines.set_index(...)``, ``pd.DataFrame(klines)``) fail with an error that points at
:meth:`SerialFrame.to_frame`, which returns a DataFrame copy of the rows; assigning a column
(``klines["ma"] = ...``) fails with an :class:`~backtest.errors.ApiUsageError` saying to compute
into a variable or into ``klines.to_frame()`` instead.

Internally one :class:`SerialBuffer` per (symbol, duration) holds rows as tuples and remembers
what changed in the last step; every frame subscribed on it is a view of its last rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from .errors import ApiUsageError, did_you_mean
from .model import TICK, period_label
from .store import KLINE_COLUMNS, TICK_COLUMNS
from .times import BEIJING

RowTuple = tuple[Any, ...]
"""One bar or tick, values in the buffer's column order (``datetime`` first)."""

_NAN: Final = math.nan
FIRST_LIVE_ID: Final = 1_000_000
"""Id of a serial's first row after its first history load: older rows count down from it,
newer ones up. Also the most rows of history a serial can hold (``data_length``'s limit)."""


class SerialBuffer:
    """Rows of one (symbol, duration) serial with the changes of the latest step.

    Row ids are absolute and increase by one per bar (tick); they never change, even when
    older history is prepended (see :data:`FIRST_LIVE_ID`). ``keep`` rows at least are kept;
    older ones are dropped in chunks so memory stays flat as history grows.
    """

    __slots__ = (
        "columns",
        "duration_s",
        "end_id",
        "first_id",
        "history",
        "index",
        "keep",
        "last_id",
        "layout",
        "new_from",
        "padding",
        "rows",
        "stamp",
        "symbol",
        "trim_at",
        "updated_id",
        "updated_prev",
    )

    def __init__(self, symbol: str, duration_s: int, keep: int) -> None:
        self.symbol = symbol
        self.duration_s = duration_s
        self.columns: tuple[str, ...] = TICK_COLUMNS if duration_s == TICK else KLINE_COLUMNS
        self.index: dict[str, int] = {name: i for i, name in enumerate(self.columns)}
        self.padding: RowTuple = (0, *([_NAN] * (len(self.columns) - 1)))
        self.rows: list[RowTuple] = []
        # History is prepended below FIRST_LIVE_ID, so ids never need renumbering
        self.first_id = FIRST_LIVE_ID  # id of rows[0]
        self.end_id = FIRST_LIVE_ID  # id the next row will get
        self.last_id = -1  # id of the newest row (end_id - 1); −1 while there is none
        self.keep = keep
        self.trim_at = 2 * keep + 64
        self.layout = 0  # bumped when rows are prepended: caches must rebuild
        # What changed in step `stamp` (with `layout`, the cache key of views).
        self.stamp = -1
        self.new_from = 0  # rows with ids >= new_from appeared in step `stamp`
        self.updated_id = -1  # the row replaced in step `stamp`, if any
        self.updated_prev: RowTuple | None = None  # ...and its value before
        # Older rows prepended for a longer data_length count as new in their delivery step,
        # kept apart so that the current step's changes stay visible until it ends: delivery
        # step -> (lo, hi), the ids of the rows prepended for it (lo == hi: none, but the
        # serial counts as changed). Holds at most the step being delivered and the next.
        self.history: dict[int, tuple[int, int]] = {}

    def row(self, row_id: int) -> RowTuple:
        """The row with this id, or padding if there is none."""
        offset = row_id - self.first_id
        if 0 <= offset < len(self.rows):
            return self.rows[offset]
        return self.padding

    def append(self, row: RowTuple, step: int) -> None:
        """Add a new newest row during ``step``."""
        if self.stamp != step:
            self.stamp = step
            self.new_from = self.end_id
            self.updated_id = -1
        self.rows.append(row)
        self.last_id = self.end_id
        self.end_id += 1
        if self.end_id >= self.trim_at:
            self._trim()

    def _trim(self) -> None:
        drop = len(self.rows) - self.keep
        if drop > 0:
            del self.rows[:drop]
            self.first_id += drop
        self.trim_at = self.end_id + self.keep + 64

    def replace_last(self, row: RowTuple, step: int) -> None:
        """Replace the newest row (a bar's close event) during ``step``."""
        rows = self.rows
        last = self.end_id - 1
        if self.stamp != step:
            self.stamp = step
            self.new_from = self.end_id
            self.updated_id = last
            self.updated_prev = rows[-1]
        elif last < self.new_from and self.updated_id != last:
            self.updated_id = last
            self.updated_prev = rows[-1]
        rows[-1] = row

    def load_history(self, rows: Sequence[RowTuple], step: int) -> None:
        """Put older rows before the current ones, as changed in ``step``.

        The first load makes every row new (a subscription delivered); a later one (a longer
        ``data_length`` asked for) marks only the prepended rows new, so that
        ``is_changing(klines.iloc[-1], "datetime")`` does not report a bar that did not open.
        Ids never change: the prepended rows take the ids below the oldest row's.
        """
        first_load = not self.rows
        if first_load:
            self.mark_new(step)
        elif step not in self.history:  # the serial (a new view of it) counts as changed
            self.history = {s: span for s, span in self.history.items() if s >= step - 1}
            self.history[step] = (0, 0)
        if not rows:
            return
        oldest = self.first_id
        if oldest - len(rows) < 0:
            raise ApiUsageError(
                f"{self.symbol}: more than {FIRST_LIVE_ID:,} rows of history were asked for"
            )
        self.rows[:0] = rows
        self.first_id -= len(rows)
        self.last_id = self.end_id - 1
        self.layout += 1
        self.keep = max(self.keep, len(self.rows))
        self.trim_at = self.end_id + self.keep + 64
        if first_load:
            self.mark_new(step)
        else:
            lo, hi = self.history[step]
            self.history[step] = (self.first_id, oldest if lo == hi else hi)

    def mark_new(self, step: int) -> None:
        """Report every row as changed in ``step`` (a subscription delivered to the strategy)."""
        self.stamp = step
        self.new_from = self.first_id
        self.updated_id = -1

    def changed(self, step: int, row_id: int | None = None, field: str | None = None) -> bool:
        """True if the serial (a row, a row's field) changed during ``step``."""
        if self.history:
            span = self.history.get(step)
            if span is not None and (row_id is None or span[0] <= row_id < span[1]):
                return True
        if self.stamp != step:
            return False
        if row_id is None:
            return True
        if row_id >= self.new_from:
            return row_id < self.end_id
        if row_id != self.updated_id or self.updated_prev is None:
            return False
        before, after = self.updated_prev, self.row(row_id)
        if field is None:
            return any(_differs(a, b) for a, b in zip(before, after, strict=True))
        index = self.index.get(field)
        return index is not None and _differs(before[index], after[index])


def _differs(a: Any, b: Any) -> bool:
    return bool(a != b) and not (a != a and b != b)


def _variable(buffer: SerialBuffer) -> str:
    """What a strategy usually calls a frame of this buffer, for messages."""
    return "ticks" if buffer.duration_s == TICK else "klines"


def _example_column(buffer: SerialBuffer) -> str:
    """The price column of this buffer, for examples in messages."""
    return "last_price" if buffer.duration_s == TICK else "close"


class _Column:
    """An incrementally maintained numpy copy of one column's last ``length`` values.

    ``array[end - length : end]`` holds the values of ids ``last_id - length + 1 … last_id``;
    views are cut from ``readonly``, a read-only alias of ``array``.
    """

    __slots__ = ("array", "end", "index", "last_id", "layout", "readonly", "version", "view")

    def __init__(self, array: npt.NDArray[Any], index: int) -> None:
        self.array = array
        self.readonly = array.view()
        self.readonly.flags.writeable = False
        self.index = index
        self.end = 0
        self.last_id = 0
        self.layout = -1
        self.version = -1
        self.view: npt.NDArray[Any] = self.readonly[:0]


class Row:
    """One bar or tick of a serial, as ``frame.iloc[i]`` returns it (a snapshot of its values).

    Fields read as attributes or items (``row.close``, ``row["close"]``); ``row.id`` is the bar
    id (−1 for padding). ``row.name`` is the row's label in the frame when it was taken
    (``0 … data_length−1``, so ``klines.iloc[-1].name`` is ``data_length − 1``), as the ``name`` of
    the pandas Series tqsdk returns. ``api.is_changing(row, "datetime")`` asks whether this bar
    changed. A row is not a pandas Series: ``row.to_dict()`` gives its fields, and
    ``klines.to_frame().iloc[-1]`` is a Series.
    """

    __slots__ = ("_buffer", "_values", "id", "name")

    def __init__(self, buffer: SerialBuffer, row_id: int, label: int = -1) -> None:
        self._buffer = buffer
        self.name = label
        offset = row_id - buffer.first_id
        if offset >= 0:
            self._values = buffer.rows[offset]
            self.id = row_id
        else:
            self._values = buffer.padding
            self.id = -1

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # not a field; e.g. copy's probe before _buffer is set
            raise AttributeError(name)
        index = self._buffer.index.get(name)
        if index is None:
            raise AttributeError(self._no_field(name))
        return self._values[index]

    def _no_field(self, name: str) -> str:
        fields = ["id", *self._buffer.columns]
        column = _example_column(self._buffer)
        if hasattr(pd.Series, name):
            hint = (
                f": a row is a snapshot of one {self._kind}'s fields, not a pandas Series; read "
                f"row.{column} or row[{column!r}], use row.to_dict(), or take a Series "
                f"from a copy: {_variable(self._buffer)}.to_frame().iloc[-1].{name}"
            )
        else:
            hint = did_you_mean(name, fields) or f"; its fields are {', '.join(fields)}"
        return f"a {self._kind} row has no field {name!r}{hint}"

    def __setitem__(self, name: str, value: Any) -> None:
        raise ApiUsageError(
            f"a {self._kind} row is a read-only snapshot; to change values, work on a copy: "
            f"frame = {_variable(self._buffer)}.to_frame()"
        )

    def __getitem__(self, name: str) -> Any:
        if name == "id":
            return self.id
        index = self._buffer.index.get(name)
        if index is None:
            raise KeyError(name)
        return self._values[index]

    @property
    def _kind(self) -> str:
        return "tick" if self._buffer.duration_s == TICK else "kline"

    def __copy__(self) -> Row:
        return self  # a snapshot never changes: a copy is the same row

    def __deepcopy__(self, memo: dict[int, Any]) -> Row:
        return self

    def changed(self, step: int, field: str | None = None) -> bool:
        """True if this bar (its ``field``) changed during ``step``; padding never changes."""
        return self.id >= 0 and self._buffer.changed(step, self.id, field)

    def to_dict(self) -> dict[str, Any]:
        """Field values by name, ``id`` first."""
        return {"id": self.id, **dict(zip(self._buffer.columns, self._values, strict=True))}

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"Row({fields})"


class _ILoc:
    """``frame.iloc``: an int gives a :class:`Row`; anything else indexes the DataFrame."""

    __slots__ = ("_frame",)

    def __init__(self, frame: SerialFrame) -> None:
        self._frame = frame

    def __getitem__(self, key: Any) -> Any:
        if type(key) is int or isinstance(key, np.integer):
            return self._frame.row(int(key))
        return self._frame.to_frame().iloc[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        raise ApiUsageError(self._frame._read_only("{name}.iloc[...] = ..."))


class _Loc:
    """``frame.loc``: pandas label access on the rows (labels ``0 … data_length−1``), read-only."""

    __slots__ = ("_frame",)

    def __init__(self, frame: SerialFrame) -> None:
        self._frame = frame

    def __getitem__(self, key: Any) -> Any:
        return self._frame.to_frame().loc[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        raise ApiUsageError(self._frame._read_only("{name}.loc[...] = ..."))


class SerialFrame:
    """The last ``data_length`` rows of a serial (base of :class:`KlineFrame`, :class:`TickFrame`).

    Columns are attributes and items returning pandas Series (``frame.close``,
    ``frame["close"]``); ``frame.to_numpy("close")`` is the fast path. The frame is read-only
    and live: it is not a pandas DataFrame, but :meth:`to_frame` makes one.
    """

    __slots__ = ("_buffer", "_columns", "_iloc", "_length", "_loc", "_pandas", "_pandas_version")

    def __init__(self, buffer: SerialBuffer, data_length: int) -> None:
        self._buffer = buffer
        self._length = data_length
        self._iloc = _ILoc(self)
        self._loc = _Loc(self)
        self._columns: dict[str, _Column] = {}
        self._pandas: dict[str, Any] = {}
        self._pandas_version = (-1, -1)

    @property
    def symbol(self) -> str:
        """Canonical symbol of the serial."""
        return self._buffer.symbol

    @property
    def duration(self) -> int:
        """Duration in seconds (0 for ticks)."""
        return self._buffer.duration_s

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names: ``id`` and the stored fields."""
        return ("id", *self._buffer.columns)

    @property
    def iloc(self) -> _ILoc:
        """tqsdk/pandas-style positional access; ``iloc[-1]`` is the newest row."""
        return self._iloc

    @property
    def loc(self) -> _Loc:
        """tqsdk/pandas-style label access (labels ``0 … data_length−1``, as :attr:`index`):
        ``klines.loc[klines.index[-1], "close"]``. Read-only; it indexes :meth:`to_frame`."""
        return self._loc

    @property
    def index(self) -> pd.RangeIndex:
        """Row labels ``0 … data_length−1`` (tqsdk's; the index of :meth:`to_frame`)."""
        return pd.RangeIndex(self._length)

    @property
    def shape(self) -> tuple[int, int]:
        """``(data_length, number of columns)``: the shape of :meth:`to_frame`."""
        return self._length, len(self._buffer.columns) + 1

    @property
    def empty(self) -> bool:
        """False: a serial always has ``data_length`` rows, padding before its first bar (as in
        tqsdk). To ask whether a bar exists yet, test ``klines.last_id >= 0``."""
        return self._length == 0

    @property
    def last_id(self) -> int:
        """Id of the newest row (−1 if the serial is empty); it grows by one per new bar."""
        return self._buffer.last_id

    def __len__(self) -> int:
        return self._length

    def __contains__(self, column: object) -> bool:
        """``"close" in klines``: is it a column (as for a DataFrame)."""
        return column in self.columns

    def tail(self, n: int = 5) -> pd.DataFrame:
        """The last ``n`` rows as a new pandas DataFrame (``to_frame().tail(n)``: labels kept)."""
        return self.to_frame().tail(n)

    def head(self, n: int = 5) -> pd.DataFrame:
        """The first ``n`` rows as a new pandas DataFrame (``to_frame().head(n)``)."""
        return self.to_frame().head(n)

    def copy(self, deep: bool = True) -> pd.DataFrame:
        """A pandas DataFrame copy of the rows, as tqsdk's ``klines.copy()``: :meth:`to_frame`.

        The copy no longer updates; add columns to it freely. ``deep`` is accepted for pandas'
        signature; the copy is always deep.
        """
        return self.to_frame()

    def changed(self, step: int, field: str | None = None) -> bool:
        """True if any row (any row's ``field``) changed during ``step``."""
        buffer = self._buffer
        if field is None:
            return buffer.changed(step)
        span = buffer.history.get(step) if buffer.history else None
        if span is not None and span[0] < span[1] and span[1] > buffer.end_id - self._length:
            return True  # older rows prepended into this view: all their fields are new
        if buffer.stamp != step:
            return False
        if buffer.new_from < buffer.end_id:  # new rows: every field is new
            return True
        return buffer.changed(step, buffer.updated_id, field)

    def row(self, position: int) -> Row:
        """The row at ``position`` (negative counts from the newest)."""
        length = self._length
        if -length <= position < length:
            buffer = self._buffer
            label = position % length
            return Row(buffer, buffer.end_id - length + label, label)
        raise IndexError(f"row {position} is outside a serial of {length} rows")

    def to_numpy(self, column: str) -> npt.NDArray[Any]:
        """The column's last ``data_length`` values as a read-only numpy array, oldest first.

        ``datetime`` is int64 ns (0 in padding); other columns are float64 (NaN in padding).
        The array is a view that later updates overwrite: copy it to keep it.
        """
        buffer = self._buffer
        cached = self._columns.get(column)
        if cached is not None:
            if cached.version == buffer.stamp and cached.layout == buffer.layout:
                return cached.view
            # Incremental paths; the previous newest row must exist (not padding).
            if cached.layout == buffer.layout and cached.last_id >= buffer.first_id:
                fresh = buffer.end_id - 1 - cached.last_id
                end = cached.end
                if fresh == 1 and end < len(cached.array):  # one new row: the common case
                    rows, field, array = buffer.rows, cached.index, cached.array
                    array[end - 1] = rows[-2][field]  # the previous newest may have changed
                    array[end] = rows[-1][field]
                    cached.end = end + 1
                    cached.last_id += 1
                    cached.version = buffer.stamp
                    cached.view = view = cached.readonly[end + 1 - self._length : end + 1]
                    return view
                if fresh == 0:  # the newest row was replaced
                    cached.array[end - 1] = buffer.rows[-1][cached.index]
                    cached.version = buffer.stamp
                    return cached.view
        index = buffer.index.get(column)
        if index is None:
            if column == "id":
                ids = np.arange(buffer.last_id - self._length + 1, buffer.last_id + 1)
                ids[ids < buffer.first_id] = -1
                return ids
            raise KeyError(self._no_column(column))
        if cached is None:
            dtype = np.int64 if column == "datetime" else np.float64
            cached = _Column(np.empty(self._length + max(self._length, 64), dtype), index)
            self._columns[column] = cached
        self._refresh(cached, index)
        return cached.view

    def _refresh(self, column: _Column, index: int) -> None:
        buffer = self._buffer
        length = self._length
        array = column.array
        newest = buffer.last_id
        fresh = newest - column.last_id
        if column.layout != buffer.layout or not 0 <= fresh < length:
            write_from, end = newest - length + 1, length  # rebuild the whole window
        else:
            write_from, end = column.last_id, column.end + fresh
            if end > len(array):  # no room: move the window to the front
                array[: length - fresh] = array[column.end - length + fresh : column.end]
                end = length
        rows, first = buffer.rows, buffer.first_id
        position = end - (newest - write_from) - 1
        pad = buffer.padding[index]
        for row_id in range(write_from, newest + 1):
            offset = row_id - first
            array[position] = rows[offset][index] if offset >= 0 else pad
            position += 1
        column.end = end
        column.last_id = newest
        column.layout = buffer.layout
        column.version = buffer.stamp
        column.view = column.readonly[end - length : end]

    def to_frame(self) -> pd.DataFrame:
        """The rows as a new pandas DataFrame (index 0 … data_length−1, ``id`` first).

        The DataFrame is a copy: it does not update as time advances, and any pandas method
        works on it (``klines.to_frame().set_index("datetime")``, ``frame["ma"] = ...``).
        """
        data = {name: self.to_numpy(name).copy() for name in self.columns}
        return pd.DataFrame(data)

    def _cached_pandas(self, key: str) -> Any:
        version = (self._buffer.stamp, self._buffer.layout)
        if self._pandas_version != version:
            self._pandas.clear()
            self._pandas_version = version
        value = self._pandas.get(key)
        if value is None:
            if key == "":
                value = self.to_frame()
            else:
                value = pd.Series(self.to_numpy(key).copy(), name=key)
            self._pandas[key] = value
        return value

    def __getattr__(self, name: str) -> pd.Series:
        if name.startswith("_"):  # not a column; e.g. copy's probe before _buffer is set
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        if name != "id" and name not in self._buffer.index:
            raise AttributeError(self._no_attribute(name))
        return self._cached_pandas(name)  # type: ignore[no-any-return]

    def __getitem__(self, key: str | list[str]) -> Any:
        if isinstance(key, str):
            if key != "id" and key not in self._buffer.index:
                raise KeyError(self._no_column(key))
            return self._cached_pandas(key)
        return self._cached_pandas("")[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        raise ApiUsageError(self._read_only(f"{{name}}[{key!r}] = ...", f"frame[{key!r}] = ..."))

    def __delitem__(self, key: Any) -> None:
        raise ApiUsageError(self._read_only(f"del {{name}}[{key!r}]", f"del frame[{key!r}]"))

    def __iter__(self) -> Iterator[str]:
        # Iterating a DataFrame yields its column names, but pd.DataFrame(frame) would iterate
        # too and silently build a table of names: refuse both, pointing at to_frame().
        name = _variable(self._buffer)
        raise ApiUsageError(
            f"a {type(self).__name__} cannot be iterated or passed to pd.DataFrame(): {name} is "
            f"a live, read-only view of the serial, not a pandas DataFrame; use "
            f"{name}.to_frame() (a DataFrame copy of its rows), or {name}.columns for the "
            f"column names"
        )

    def _read_only(self, statement: str, instead: str = "frame['ma'] = ...") -> str:
        """The message for an attempt to write into the frame (``{name}`` in ``statement`` is
        replaced by what the strategy likely calls the frame)."""
        name, column = _variable(self._buffer), _example_column(self._buffer)
        return (
            f"{statement.replace('{name}', name)} is not possible: {name} is read-only and "
            f"live (the backtest updates it in place as time advances). Compute into a variable "
            f"(ma = {name}.{column}.rolling(5).mean()) or into a copy "
            f"(frame = {name}.to_frame(); {instead})"
        )

    def _no_attribute(self, name: str) -> str:
        kind, variable = type(self).__name__, _variable(self._buffer)
        if hasattr(pd.DataFrame, name):
            call = "(...)" if callable(getattr(pd.DataFrame, name)) else ""
            return (
                f"{kind} has no attribute {name!r}: {variable} is a live, read-only view of the "
                f"serial, not a pandas DataFrame; use {variable}.to_frame().{name}{call} "
                f"(to_frame() returns a pandas DataFrame copy of the rows), or for speed "
                f"{variable}.to_numpy(column)"
            )
        public = [n for n in dir(type(self)) if not n.startswith("_")]
        hint = did_you_mean(name, [*self.columns, *public])
        return f"{kind} has no attribute {name!r}{hint}; its columns are {', '.join(self.columns)}"

    def _no_column(self, key: str) -> str:
        hint = did_you_mean(key, self.columns)
        return f"{self._kind()} serial of {self.symbol} has no column {key!r}{hint}"

    def _kind(self) -> str:
        return "tick" if self._buffer.duration_s == TICK else "kline"

    def __repr__(self) -> str:
        heading = f"<{type(self).__name__} {self.symbol} {self._what()}, {self._length} rows>"
        return f"{heading}\n{self.to_frame()}"

    def _repr_html_(self) -> str:
        frame = self.to_frame()
        padding = frame["id"] < 0
        stamps = pd.to_datetime(frame["datetime"], unit="ns", utc=True).dt.tz_convert(BEIJING)
        frame.insert(2, "time", stamps.where(~padding))  # Beijing time, for reading
        title = f"<p><b>{self.symbol}</b> {self._what()}, {self._length} rows</p>"
        return title + frame.to_html(max_rows=20)

    def _what(self) -> str:
        return "ticks" if self.duration == TICK else f"{period_label(self.duration)} klines"


class KlineFrame(SerialFrame):
    """Bars of one symbol and duration; columns ``id, datetime`` (bar start, int ns), ``open,
    high, low, close, volume, amount, open_oi, close_oi``.

    At a bar's open event a new last row appears with open = high = low = close = the bar's open
    and volume 0; at its close event (start + duration − 1 µs) that row shows the full bar.
    """

    __slots__ = ()


class TickFrame(SerialFrame):
    """Ticks of one symbol; columns ``id, datetime`` (int ns), ``last_price``, cumulative
    ``volume`` and ``amount``, ``open_interest``, bid/ask levels 1–5 and the rest of
    :data:`backtest.store.TICK_COLUMNS` (NaN where the data has none)."""

    __slots__ = ()
