"""Serials: async generators of timestamped events for one (symbol, duration) (DESIGN.md §4).

A serial reads its Parquet files in record batches (never the whole history at once), converts
a batch to Python tuples in one go, and yields ``(ts_ns, kind, row)`` events:

- ticks: one ``TICK`` event per tick at its ``datetime``;
- klines: **two events per bar**. ``OPEN`` at the bar's start shows the bar as just opened
  (open = high = low = close = the bar's open, volume and amount 0, close_oi = open_oi);
  ``CLOSE`` at start + duration − 1 µs shows the full bar. Daily bars open when their trading
  day starts (18:00 of the previous trading day) and close 1 µs before the next one starts.

A serial yields only events later than ``after_ns`` (what happened up to then is history,
delivered separately by :func:`kline_history` / :func:`tick_history`) and stops at the first
event later than ``end_ns``. Whoever iterates a serial closes it (``aclose``); the merger does.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from .calendar import TradingCalendar
from .errors import DataError
from .frame import RowTuple
from .model import DAY, TICK
from .store import KLINE_COLUMNS, TICK_COLUMNS, Store
from .times import NS_PER_DAY, NS_PER_SECOND, UTC_OFFSET_NS, date_of_day_number

Event = tuple[int, int, RowTuple]
"""``(ts_ns, kind, row)``."""

OPEN: Final = 0
"""A bar opened: the row shows it in its opening state."""
CLOSE: Final = 1
"""A bar closed: the row is the full bar."""
TICK_EVENT: Final = 2
"""A tick: the row is the tick."""

BAR_CLOSE_OFFSET_NS: Final = 1000
"""A bar's close event comes 1 µs before the end of its period."""
_NAN: Final = math.nan
_HIGH, _LOW, _CLOSE, _VOLUME, _AMOUNT, _OPEN_OI = 2, 3, 4, 5, 6, 7
assert KLINE_COLUMNS[_HIGH : _OPEN_OI + 1] == (
    "high",
    "low",
    "close",
    "volume",
    "amount",
    "open_oi",
)


def opening_row(bar: RowTuple) -> RowTuple:
    """A bar as it looks at its open event: all prices at the open, nothing traded yet."""
    dt, open_, _, _, _, _, amount, open_oi, _ = bar
    return (
        dt,
        open_,
        open_,
        open_,
        open_,
        0.0,
        0.0 if amount == amount else _NAN,
        open_oi,
        open_oi,
    )


def bar_event_times(
    duration_s: int, starts: npt.NDArray[np.int64], calendar: TradingCalendar, symbol: str
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Open and close event times of bars labelled ``starts`` (int ns)."""
    if duration_s < DAY:
        return starts, starts + (duration_s * NS_PER_SECOND - BAR_CLOSE_OFFSET_NS)
    opens = np.empty_like(starts)
    closes = np.empty_like(starts)
    for i, label in enumerate(starts.tolist()):
        day = date_of_day_number((label + UTC_OFFSET_NS) // NS_PER_DAY)
        if not calendar.is_trading_day(day):
            raise DataError(
                f"the daily bar of {symbol} labelled {day} is not on a trading day of "
                f"{calendar.source}; daily bars are labelled by their trading day"
            )
        opens[i] = calendar.day_start_ns(day)
        closes[i] = calendar.day_end_ns(day) + 1 - BAR_CLOSE_OFFSET_NS
    return opens, closes


def _rows(
    batch: pa.RecordBatch | pa.Table, present: Sequence[str], canonical: Sequence[str]
) -> Iterable[RowTuple]:
    """Tuples in ``canonical`` column order; columns the data lacks are NaN."""
    size = batch.num_rows
    lists: list[Iterable[Any]] = []
    for name in canonical:
        if name in present:
            lists.append(batch.column(present.index(name)).to_numpy(zero_copy_only=False).tolist())
        else:
            lists.append(itertools.repeat(_NAN, size))
    return zip(*lists, strict=False)


def _day_lookback(duration_s: int) -> int:
    # A daily bar's events start up to a weekend plus a holiday before its label.
    return 20 * NS_PER_DAY if duration_s >= DAY else duration_s * NS_PER_SECOND


async def kline_events(
    store: Store,
    symbol: str,
    duration_s: int,
    after_ns: int,
    end_ns: int,
    calendar: TradingCalendar,
    batch_rows: int = 65_536,
) -> AsyncIterator[Event]:
    """Events of the bars of one symbol and duration with times in ``(after_ns, end_ns]``."""
    present = store.available_columns(symbol, duration_s)
    lookback = _day_lookback(duration_s)
    scan_end = end_ns + (lookback if duration_s >= DAY else 0)
    for batch in store.scan(symbol, duration_s, after_ns - lookback + 1, scan_end, present,
                            batch_rows):  # fmt: skip
        starts = batch.column(0).to_numpy()
        opens, closes = bar_event_times(duration_s, starts, calendar, symbol)
        for row, t_open, t_close in zip(
            _rows(batch, present, KLINE_COLUMNS), opens.tolist(), closes.tolist(), strict=True
        ):
            if t_open > after_ns:
                if t_open > end_ns:
                    return
                yield (t_open, OPEN, opening_row(row))
            if t_close > after_ns:
                if t_close > end_ns:
                    return
                yield (t_close, CLOSE, row)


async def tick_events(
    store: Store, symbol: str, after_ns: int, end_ns: int, batch_rows: int = 65_536
) -> AsyncIterator[Event]:
    """Events of the ticks of one symbol with times in ``(after_ns, end_ns]``."""
    present = store.available_columns(symbol, TICK)
    for batch in store.scan(symbol, TICK, after_ns + 1, end_ns, present, batch_rows):
        for row in _rows(batch, present, TICK_COLUMNS):
            yield (row[0], TICK_EVENT, row)


def kline_history(
    store: Store,
    symbol: str,
    duration_s: int,
    now_ns: int,
    count: int,
    calendar: TradingCalendar,
) -> list[RowTuple]:
    """The last ``count`` bars whose open event is at or before ``now_ns``.

    A bar that has opened but not closed by ``now_ns`` comes in its opening state (it is the
    bar in progress; its close event is still ahead in :func:`kline_events`).
    """
    present = store.available_columns(symbol, duration_s)
    lookahead = _day_lookback(duration_s) if duration_s >= DAY else 0
    table = store.tail(symbol, duration_s, now_ns + lookahead, count + 30, present)
    if table.num_rows == 0:
        return []
    opens, closes = bar_event_times(duration_s, table.column(0).to_numpy(), calendar, symbol)
    keep = int(np.searchsorted(opens, now_ns, "right"))
    rows = list(_rows(table.slice(0, keep), present, KLINE_COLUMNS))[-count:]
    if rows and int(closes[keep - 1]) > now_ns:
        rows[-1] = opening_row(rows[-1])
    return rows


def tick_history(store: Store, symbol: str, now_ns: int, count: int) -> list[RowTuple]:
    """The last ``count`` ticks at or before ``now_ns``."""
    present = store.available_columns(symbol, TICK)
    table = store.tail(symbol, TICK, now_ns, count, present)
    return list(_rows(table, present, TICK_COLUMNS))
