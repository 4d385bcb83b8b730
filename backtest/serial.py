"""Serials: async generators of timestamped events for one (symbol, duration) (DESIGN.md §4).

A serial reads its Parquet files in record batches (never the whole history at once) and, per
batch, yields an iterator over that batch's ``(ts_ns, kind, row)`` events, ascending. The
events are built column by column by C iterators as the merger pulls them, so an event costs
no Python call of its own:

- ticks: one ``TICK`` event per tick at its ``datetime``;
- klines: **two events per bar**. ``OPEN`` at the bar's start shows the bar as just opened
  (open = high = low = close = the bar's open, volume and amount 0, close_oi = open_oi);
  ``CLOSE`` at start + duration − 1 µs shows the full bar. Daily bars open when their trading
  day starts (18:00 of the previous trading day) and close 1 µs before the next one starts.

A kline serial the store lacks is built on the fly from finer stored data (a
:class:`~backtest.resample.Resampling`, e.g. 5-minute bars from 1-minute bars or from ticks);
a resampled bar cut short by a session break closes 1 µs before the break
(:func:`~backtest.resample.session_bar_ends`) instead of 1 µs before start + duration.
A stored bar longer than a minute closes 1 µs before trading in its period ends
(:func:`~backtest.resample.stored_bar_ends`): start + duration, or a session's close with no
session resuming inside the period, or the start of the next bar when that comes first (it
was cut short at a break). A bar spanning a break (clock-aligned bars, as tqsdk's) closes
with its period, so it never shows prices from after its close event.

A serial yields only events later than ``after_ns`` (what happened up to then is history,
delivered separately by :func:`kline_history` / :func:`tick_history`) and stops at the first
event later than ``end_ns``. Whoever iterates a serial closes it (``aclose``); the merger does.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from datetime import date
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from .calendar import TradingCalendar
from .errors import DataError
from .frame import RowTuple
from .model import DAY, TICK
from .resample import Resampling, stored_bar_ends
from .session import TradingSessions
from .store import KLINE_COLUMNS, TICK_COLUMNS, Store
from .times import NS_PER_DAY, NS_PER_SECOND, local_date

Event = tuple[int, int, RowTuple]
"""``(ts_ns, kind, row)``."""

OPEN: Final = 0
"""A bar opened: the row shows it in its opening state."""
CLOSE: Final = 1
"""A bar closed: the row is the full bar."""
TICK_EVENT: Final = 2
"""A tick: the row is the tick."""
SESSION_OPEN: Final = 3
"""A daily bar's trading day opened for trading (its first session): the row is the full bar."""
SESSION_CLOSE: Final = 4
"""A daily bar's last session closed (1 µs before its end): the row is the full bar."""

SessionBounds = Callable[[date], tuple[int, int]]
"""Opening and closing times (int ns) of a trading day's sessions."""

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
        day = local_date(label)
        if not calendar.is_trading_day(day):
            raise DataError(
                f"the daily bar of {symbol} labelled {day} is not on a trading day of "
                f"{calendar.source}; daily bars are labelled by their trading day"
            )
        opens[i] = calendar.day_start_ns(day)
        closes[i] = calendar.day_end_ns(day) + 1 - BAR_CLOSE_OFFSET_NS
    return opens, closes


def kline_event_times(
    duration_s: int,
    starts: npt.NDArray[np.int64],
    calendar: TradingCalendar,
    symbol: str,
    resampling: Resampling | None = None,
    trading_sessions: TradingSessions | None = None,
    following: int | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """:func:`bar_event_times`, with the closes of intraday bars a session can end early:
    resampled ones (cut at breaks: :meth:`Resampling.bar_ends`), and stored bars longer than a
    minute when the symbol's ``trading_sessions`` are given (:func:`stored_bar_ends`, which
    needs the start of the bar after the last one, ``following``; see
    :func:`closes_need_following`)."""
    if resampling is not None and duration_s < DAY:
        return starts, resampling.bar_ends(starts) - BAR_CLOSE_OFFSET_NS
    if trading_sessions is not None and 60 < duration_s < DAY:
        ends = stored_bar_ends(starts, duration_s, trading_sessions, calendar, following)
        return starts, ends - BAR_CLOSE_OFFSET_NS
    return bar_event_times(duration_s, starts, calendar, symbol)


def closes_need_following(
    duration_s: int, resampling: Resampling | None, trading_sessions: TradingSessions | None
) -> bool:
    """True if :func:`kline_event_times` needs the start of the next stored bar."""
    return resampling is None and trading_sessions is not None and 60 < duration_s < DAY


def next_bar_start(store: Store, symbol: str, duration_s: int, label_ns: int) -> int | None:
    """The start of the stored bar after the one labelled ``label_ns``, if it starts within
    that bar's period (a later one cannot end it early); None otherwise."""
    period_end = label_ns + duration_s * NS_PER_SECOND
    for batch in store.scan(symbol, duration_s, label_ns + 1, period_end, []):
        if batch.num_rows:
            return int(batch.column(0)[0].as_py())
    return None


def _with_following(
    batches: Iterable[pa.RecordBatch],
) -> Iterator[tuple[pa.RecordBatch, int | None]]:
    """Each non-empty batch with the first ``datetime`` of the one after it (None last)."""
    previous: pa.RecordBatch | None = None
    for batch in batches:
        if batch.num_rows == 0:
            continue
        if previous is not None:
            yield previous, int(batch.column(0)[0].as_py())
        previous = batch
    if previous is not None:
        yield previous, None


def _column_lists(
    batch: pa.RecordBatch | pa.Table, present: Sequence[str], canonical: Sequence[str]
) -> list[list[Any]]:
    """Python lists per column in ``canonical`` order; columns the data lacks are NaN."""
    size = batch.num_rows
    lists: list[list[Any]] = []
    for name in canonical:
        if name in present:
            lists.append(batch.column(present.index(name)).to_numpy(zero_copy_only=False).tolist())
        else:
            lists.append([_NAN] * size)
    return lists


def _rows(
    batch: pa.RecordBatch | pa.Table, present: Sequence[str], canonical: Sequence[str]
) -> Iterable[RowTuple]:
    """Tuples in ``canonical`` column order; columns the data lacks are NaN."""
    return zip(*_column_lists(batch, present, canonical), strict=False)


def _opening_rows(columns: list[list[Any]]) -> Iterable[RowTuple]:
    """:func:`opening_row` of every bar, built column by column (no Python call per bar)."""
    dt, opens, _, _, _, _, amount, open_oi, _ = columns
    zero_amount = [0.0 if a == a else _NAN for a in amount]
    volume = itertools.repeat(0.0, len(dt))
    return zip(dt, opens, opens, opens, opens, volume, zero_amount, open_oi, open_oi, strict=False)


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
    sessions: SessionBounds | None = None,
    resampling: Resampling | None = None,
    trading_sessions: TradingSessions | None = None,
) -> AsyncIterator[Iterator[Event]]:
    """Events of the bars of one symbol and duration with times in ``(after_ns, end_ns]``.

    Yields one iterator of events per Parquet batch read. With ``sessions`` (daily bars that
    make a symbol's quote), each bar also has ``SESSION_OPEN`` and ``SESSION_CLOSE`` events at
    its trading day's first session open and 1 µs before its last session close, so that its
    quotes fall inside trading hours. With ``resampling``, the bars are built from finer
    stored data. ``trading_sessions`` lets stored bars close when trading in their period
    ends (:func:`kline_event_times`).
    """
    lookback = _day_lookback(duration_s)
    # a period past the end too: the bar after the last one may end it early
    scan_end = end_ns + lookback
    scan_start = after_ns - lookback + 1
    if resampling is None:
        present = store.available_columns(symbol, duration_s)
        scan = store.scan(symbol, duration_s, scan_start, scan_end, present, batch_rows)
    else:
        present = resampling.columns(store)
        scan = resampling.scan(store, scan_start, scan_end, batch_rows)
    for batch, following in _with_following(scan):
        await asyncio.sleep(0)  # a turn for the event loop (progress, interrupts) per batch
        starts = batch.column(0).to_numpy()
        opens, closes = kline_event_times(
            duration_s, starts, calendar, symbol, resampling, trading_sessions, following
        )
        columns = _column_lists(batch, present, KLINE_COLUMNS)
        open_times, close_times = opens.tolist(), closes.tolist()
        if sessions is not None and duration_s >= DAY:
            kept = _with_session_events(
                columns, open_times, close_times, sessions, after_ns, end_ns
            )
            if kept:
                yield iter(kept)
            if close_times[-1] > end_ns:
                return
            continue
        # Built lazily by C iterators: open, close, open, close...
        events = itertools.chain.from_iterable(
            zip(
                zip(open_times, itertools.repeat(OPEN), _opening_rows(columns), strict=False),
                zip(close_times, itertools.repeat(CLOSE), zip(*columns, strict=True), strict=False),
                strict=True,
            )
        )
        if open_times[0] > after_ns and close_times[-1] <= end_ns:
            yield events
            continue
        kept = [event for event in events if after_ns < event[0] <= end_ns]
        if kept:
            yield iter(kept)
        if close_times[-1] > end_ns:
            return


def _with_session_events(
    columns: list[list[Any]],
    open_times: list[int],
    close_times: list[int],
    sessions: SessionBounds,
    after_ns: int,
    end_ns: int,
) -> list[Event]:
    """Daily bars' four events each, inside ``(after_ns, end_ns]``, ascending."""
    events: list[Event] = []
    for bar, opening, t_open, t_close in zip(
        zip(*columns, strict=True), _opening_rows(columns), open_times, close_times, strict=True
    ):
        label = bar[0]
        day = local_date(label)
        session_open, session_close = sessions(day)
        for event in (
            (t_open, OPEN, opening),
            (session_open, SESSION_OPEN, bar),
            (session_close - BAR_CLOSE_OFFSET_NS, SESSION_CLOSE, bar),
            (t_close, CLOSE, bar),
        ):
            if after_ns < event[0] <= end_ns:
                events.append(event)
    return events


async def tick_events(
    store: Store, symbol: str, after_ns: int, end_ns: int, batch_rows: int = 65_536
) -> AsyncIterator[Iterator[Event]]:
    """Events of the ticks of one symbol with times in ``(after_ns, end_ns]``.

    Yields one iterator of events per Parquet batch read.
    """
    present = store.available_columns(symbol, TICK)
    for batch in store.scan(symbol, TICK, after_ns + 1, end_ns, present, batch_rows):
        await asyncio.sleep(0)  # a turn for the event loop (progress, interrupts) per batch
        columns = _column_lists(batch, present, TICK_COLUMNS)
        rows = zip(*columns, strict=True)
        yield zip(columns[0], itertools.repeat(TICK_EVENT), rows, strict=False)


class KlineHistory(NamedTuple):
    """Bars of history (:func:`kline_history`), and the times of the last one's open and close
    events as :func:`kline_events` would give them (0 when there are no rows)."""

    rows: list[RowTuple]
    last_open_ns: int = 0
    last_close_ns: int = 0


def kline_history(
    store: Store,
    symbol: str,
    duration_s: int,
    now_ns: int,
    count: int,
    calendar: TradingCalendar,
    resampling: Resampling | None = None,
    trading_sessions: TradingSessions | None = None,
) -> KlineHistory:
    """The last ``count`` bars whose open event is at or before ``now_ns``.

    A bar that has opened but not closed by ``now_ns`` comes in its opening state (it is the
    bar in progress; its close event is still ahead in :func:`kline_events`). With
    ``resampling``, the bars are built from finer stored data.
    """
    lookahead = _day_lookback(duration_s) if duration_s >= DAY else 0
    if resampling is None:
        present = store.available_columns(symbol, duration_s)
        table = store.tail(symbol, duration_s, now_ns + lookahead, count + 30, present)
    else:
        table = resampling.tail(store, now_ns + lookahead, count + 30)
        present = tuple(table.column_names)
    if table.num_rows == 0:
        return KlineHistory([])
    starts = table.column(0).to_numpy()
    following = (
        next_bar_start(store, symbol, duration_s, int(starts[-1]))
        if closes_need_following(duration_s, resampling, trading_sessions) else None
    )  # fmt: skip
    opens, closes = kline_event_times(
        duration_s, starts, calendar, symbol, resampling, trading_sessions, following
    )
    keep = int(np.searchsorted(opens, now_ns, "right"))
    rows = list(_rows(table.slice(0, keep), present, KLINE_COLUMNS))[-count:]
    if not rows:
        return KlineHistory(rows)
    last_open, last_close = int(opens[keep - 1]), int(closes[keep - 1])
    if last_close > now_ns:
        rows[-1] = opening_row(rows[-1])
    return KlineHistory(rows, last_open, last_close)


def tick_history(store: Store, symbol: str, now_ns: int, count: int) -> list[RowTuple]:
    """The last ``count`` ticks at or before ``now_ns``."""
    present = store.available_columns(symbol, TICK)
    table = store.tail(symbol, TICK, now_ns, count, present)
    return list(_rows(table, present, TICK_COLUMNS))
