"""Session-aware resampling: klines of any period from finer klines, and klines from ticks.

Everything here works on pyarrow tables or record batches in the store's column layout
(:data:`backtest.store.KLINE_COLUMNS`, :data:`backtest.store.TICK_COLUMNS`); ``datetime`` is
int64 ns or a timestamp (a timestamp without a time zone is Beijing time), and bars are
labelled by their **start** (DESIGN.md §3).

Sessions
    A trading day D has the instrument's day sessions on D and, when
    :meth:`TradingCalendar.has_night_session` says D has one, its night sessions on the evening
    of the trading day before D (none after a holiday). A session that crosses midnight
    (``21:00-02:30``) is *one* session: midnight is not a break.

Intraday bars (``duration_s`` < 86400)
    Each session is cut into buckets of ``duration_s`` counted from **that session's start**:
    ``[s, s + P), [s + P, s + 2P), …``, the last one cut short at the session's end. So a bar
    never spans a break (lunch, SHFE's 10:15–10:30, the gap before a night session), bars are
    aligned to session starts, and a session whose length is not a multiple of the period
    ends with a shorter bar. A bar is labelled by its bucket's start and ends at
    :func:`session_bar_ends`. Examples:

    - 5m, CFFEX ``09:30-11:30,13:00-15:00``: 09:30, 09:35 … 11:25, 13:00 … 14:55.
    - 1h, SHFE day ``09:00-10:15,10:30-11:30,13:30-15:00``: 09:00–10:00, 10:00–10:15,
      10:30–11:30, 13:30–14:30, 14:30–15:00.
    - 1h, SHFE gold night ``21:00-02:30``: 21:00, 22:00, 23:00, 00:00, 01:00, 02:00–02:30.
    - A period longer than a session gives one bar per session.

Daily bars (``duration_s`` = 86400)
    One bar per trading day (:meth:`TradingCalendar.trading_day_of`), night session
    included, labelled 00:00 Beijing time of the trading day, like the store's daily bars.
    Longer periods are not supported.

Aggregation
    open = first open, high = max, low = min, close = last close, volume and amount = sums,
    open_oi = first open_oi, close_oi = last close_oi. A NaN in a source column makes that
    column NaN in its bar (nothing is silently skipped). Columns absent from the source are
    absent from the result. A bucket without source rows gives **no** bar (no zero-volume
    filler).

Ticks (:func:`ticks_to_klines`)
    Each tick is a trade print: OHLC from ``last_price``; volume and amount are the increases
    of the cumulative ``volume``/``amount`` from the previous *kept* tick of the same trading
    day, and the first kept tick of a trading day counts its whole cumulative value (the
    exchanges' counters restart at zero each trading day, so the opening-auction volume lands
    in the first bar); open_oi/close_oi are the ``open_interest`` of the bar's first and last
    tick. Ticks outside the sessions are handled so:

    - a tick within ``preopen_s`` (default 300 s) before the **first** session of its trading
      day is the opening-auction print (CFFEX 09:29, SHFE 20:59/08:59, SSE/SZSE 09:25): it
      belongs to the first bar of that session, as exchanges' own bars count it;
    - a tick within ``close_grace_s`` (default 60 s) after any session's end is that
      session's closing print (CFFEX sends one at 15:00:00.4): it belongs to the session's
      last bar;
    - every other tick (e.g. CFFEX's 15:30 post-close settlement ticks, snapshots during
      breaks) is dropped and counted in :attr:`TickResampler.dropped`. Since volume
      increments are taken between kept ticks, a dropped tick's volume is not lost: it counts
      in the next kept tick of the same trading day.

Errors
    Source rows must be sorted by ``datetime`` (klines strictly, ticks may repeat a time);
    cumulative tick volume and amount may not go down within a trading day; a kline outside
    every session raises :class:`DataError` naming it, unless ``drop_outside=True`` drops such
    bars. An intraday kline must fit in one bucket (its period must divide ``duration_s`` and
    it must start on its period's grid from the session start).

:class:`KlineResampler` and :class:`TickResampler` are the streaming forms: feed them record
batches in time order; they return the finished bars and hold the bar in progress across
batch boundaries. :func:`resample_store` resamples stored data into the store (at import
time); :class:`Resampling` builds a kline serial the store lacks from finer stored
data, for the engine (``get_kline_serial(symbol, 300)`` with only 1-minute bars stored).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from .calendar import TradingCalendar
from .errors import ConfigError, DataError
from .instrument import InstrumentTable
from .model import DAY, TICK, period_label
from .session import TradingSessions
from .store import KLINE_COLUMNS, TIMESTAMP_TYPE, Store, int_times
from .times import NS_PER_DAY, NS_PER_SECOND, format_ns, local_date, local_midnight_ns

Int64s = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Source = pa.Table | pa.RecordBatch

_FIRST, _LAST, _MAX, _MIN, _SUM = range(5)
_AGGREGATION: Final = {
    "open": _FIRST, "high": _MAX, "low": _MIN, "close": _LAST,
    "volume": _SUM, "amount": _SUM, "open_oi": _FIRST, "close_oi": _LAST,
}  # fmt: skip
_BAR_REQUIRED: Final = ("open", "high", "low", "close")
_TICK_REQUIRED: Final = ("last_price", "volume")
_GRID_AHEAD_DAYS: Final = 40
"""A session grid is built this many days past what a batch needs, for the next batches."""


# --- sessions as arrays ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Windows:
    """The sessions of consecutive trading days, ascending: ``[start, end)`` in int ns."""

    start: Int64s
    end: Int64s
    day: Int64s
    """Label of the session's trading day (00:00 Beijing time)."""
    first: Bools
    """True for the first session of its trading day."""

    def locate(self, times: Int64s) -> tuple[Int64s, Bools]:
        """Index of the last window starting at or before each time, and whether it is inside."""
        index = np.searchsorted(self.start, times, "right").astype(np.int64) - 1
        if self.start.size == 0:
            return index, np.zeros(times.shape, np.bool_)
        clipped = np.maximum(index, 0)
        inside = (index >= 0) & (times < self.end[clipped])
        return index, inside


def _day_spans(
    day: date, sessions: TradingSessions, calendar: TradingCalendar
) -> list[tuple[int, int]]:
    """``[start, end)`` int ns of trading day ``day``'s sessions, night first."""
    spans: list[tuple[int, int]] = []
    if sessions.night and calendar.has_night_session(day):
        evening = local_midnight_ns(calendar.previous_trading_day(day))
        spans += [
            (evening + s * NS_PER_SECOND, evening + e * NS_PER_SECOND) for s, e in sessions.night
        ]
    midnight = local_midnight_ns(day)
    spans += [(midnight + s * NS_PER_SECOND, midnight + e * NS_PER_SECOND) for s, e in sessions.day]
    return spans


class _SessionGrid:
    """Session windows of an instrument, built for the time range asked and cached."""

    def __init__(self, sessions: TradingSessions, calendar: TradingCalendar) -> None:
        self.sessions = sessions
        self.calendar = calendar
        self._cached: _Windows | None = None
        self._covers = (0, -1)

    def cover(self, lo_ns: int, hi_ns: int) -> _Windows:
        """Every session of the trading days around ``[lo_ns, hi_ns]``."""
        if self._cached is not None and self._covers[0] <= lo_ns and hi_ns <= self._covers[1]:
            return self._cached
        first = local_date(lo_ns) - timedelta(days=1)
        last = local_date(hi_ns) + timedelta(days=_GRID_AHEAD_DAYS)
        starts: list[int] = []
        ends: list[int] = []
        labels: list[int] = []
        firsts: list[bool] = []
        for day in self.calendar.trading_days(first, last):
            spans = _day_spans(day, self.sessions, self.calendar)
            starts += [s for s, _ in spans]
            ends += [e for _, e in spans]
            labels += [local_midnight_ns(day)] * len(spans)
            firsts += [i == 0 for i in range(len(spans))]
        self._cached = _Windows(
            np.array(starts, np.int64),
            np.array(ends, np.int64),
            np.array(labels, np.int64),
            np.array(firsts, np.bool_),
        )
        # Times from the day after `first` to a week before `last` find all their sessions
        # (a night session belongs to a trading day up to a weekend later).
        self._covers = (
            local_midnight_ns(first + timedelta(days=1)),
            local_midnight_ns(last - timedelta(days=7)),
        )
        return self._cached


def _bucket_labels(
    times: Int64s, index: Int64s, windows: _Windows, duration_s: int
) -> tuple[Int64s, Int64s]:
    """Bucket labels of times inside windows ``index``, and each bucket's nominal end."""
    if duration_s >= DAY:
        labels = windows.day[index]
        return labels, labels + NS_PER_DAY
    period = duration_s * NS_PER_SECOND
    start = windows.start[index]
    labels = start + (times - start) // period * period
    return labels, labels + period


def session_bar_ends(
    labels: npt.ArrayLike,
    duration_s: int,
    sessions: TradingSessions | str,
    calendar: TradingCalendar,
) -> Int64s:
    """When intraday bars labelled ``labels`` (int ns starts) end, by the rules above.

    A bar ends ``duration_s`` after its start, or at the end of its session if that comes
    first (the 10:00 hourly bar of SHFE ends at 10:15). A label outside every session gets the
    full period.
    """
    starts, ends = _periods("session_bar_ends", labels, duration_s)
    if starts.size == 0:
        return ends
    grid = _SessionGrid(_sessions(sessions), calendar)
    windows = grid.cover(int(starts.min()), int(starts.max()))
    if windows.start.size == 0:
        return ends
    index, inside = windows.locate(starts)
    clipped = np.minimum(ends, windows.end[np.maximum(index, 0)])
    result: Int64s = np.where(inside, clipped, ends)
    return result


def stored_bar_ends(
    labels: npt.ArrayLike,
    duration_s: int,
    sessions: TradingSessions | str,
    calendar: TradingCalendar,
    following: int | None = None,
) -> Int64s:
    """When stored intraday bars labelled ``labels`` (int ns starts, ascending) end, whoever
    cut them.

    A bar ends when trading within its period ends, and at the latest when the next bar
    starts (``labels[i + 1]``; ``following`` after the last label, None if there is none):

    - a period the sessions fill ends at start + duration;
    - a session that closes inside the period with none resuming before the period ends
      ends it early (SHFE's 14:30 hourly bar ends at 15:00);
    - a bar followed by one that starts inside its period was cut short at a break: it ends
      at that break (SHFE's 10:00 hourly bar followed by a 10:30 bar ends at 10:15, as
      :func:`session_bar_ends` cuts them);
    - a bar spanning a break (clock-aligned bars, as tqsdk's: SHFE's 10:00 hourly bar followed
      by an 11:00 bar holds 10:30–11:00 too) ends with its period, at 11:00.

    So a bar never ends before the last trade it may hold (no future prices are shown early),
    and never after the next bar starts.
    """
    starts, bounds = _periods("stored_bar_ends", labels, duration_s)
    if starts.size == 0:
        return bounds
    nexts = np.empty_like(starts)
    nexts[:-1] = starts[1:]
    nexts[-1] = bounds[-1] if following is None else following
    bounds = np.minimum(bounds, nexts)
    windows = _SessionGrid(_sessions(sessions), calendar).cover(
        int(starts.min()), int(bounds.max())
    )
    if windows.start.size == 0:
        return bounds
    # the last session opening before each bound, and whether it overlaps the bar's period
    index = np.searchsorted(windows.start, bounds, "left").astype(np.int64) - 1
    found = np.maximum(index, 0)
    overlaps = (index >= 0) & (windows.end[found] > starts)
    result: Int64s = np.where(overlaps, np.minimum(windows.end[found], bounds), bounds)
    return result


def _periods(what: str, labels: npt.ArrayLike, duration_s: int) -> tuple[Int64s, Int64s]:
    """Intraday bars' starts and the ends of their full periods (int ns)."""
    _check_duration(duration_s)
    if duration_s >= DAY:
        raise ConfigError(f"{what} is for intraday bars; daily bars end with their day")
    starts = np.asarray(labels, dtype=np.int64)
    return starts, starts + duration_s * NS_PER_SECOND


# --- aggregation -------------------------------------------------------------------------


class _Grouper:
    """Aggregates rows into bars by label, holding back the last bar (it may go on)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        self._kinds = [_AGGREGATION[name] for name in self.names]
        self._labels: Int64s = np.empty(0, np.int64)
        self._values: list[Floats] = [np.empty(0, np.float64) for _ in self.names]

    def push(self, labels: Int64s, values: list[Floats], final: bool) -> pa.RecordBatch:
        """Bars finished by these rows (with ``final``, every bar including the last)."""
        labels = np.concatenate((self._labels, labels))
        values = [
            np.concatenate((held, new)) for held, new in zip(self._values, values, strict=True)
        ]
        if labels.size == 0:
            return _bars(labels, self.names, values)
        firsts = np.flatnonzero(np.concatenate(([True], labels[1:] != labels[:-1])))
        cut = labels.size if final else int(firsts[-1])
        if not final:
            firsts = firsts[:-1]
        self._labels = labels[cut:]
        self._values = [column[cut:] for column in values]
        lasts = np.concatenate((firsts[1:], [cut])) - 1
        reduced = [
            _reduce(column[:cut], firsts, lasts, kind)
            for column, kind in zip(values, self._kinds, strict=True)
        ]
        return _bars(labels[firsts], self.names, reduced)

    def push_nothing(self, final: bool) -> pa.RecordBatch:
        """:meth:`push` of no rows: the held bar when ``final``, else no bars."""
        return self.push(np.empty(0, np.int64), [np.empty(0)] * len(self.names), final)


def _reduce(column: Floats, firsts: Int64s, lasts: Int64s, kind: int) -> Floats:
    if firsts.size == 0:
        return column[:0]
    if kind == _FIRST:
        return column[firsts]
    if kind == _LAST:
        return column[lasts]
    if kind == _MAX:
        return np.maximum.reduceat(column, firsts)
    if kind == _MIN:
        return np.minimum.reduceat(column, firsts)
    return np.add.reduceat(column, firsts)


def _bars(labels: Int64s, names: Sequence[str], values: Sequence[Floats]) -> pa.RecordBatch:
    arrays: list[pa.Array[Any]] = [pa.array(labels, pa.int64())]
    arrays += [pa.array(v, pa.float64()) for v in values]
    return pa.RecordBatch.from_arrays(arrays, names=["datetime", *names])


# --- conversions and checks --------------------------------------------------------------


def _numpy(column: Any) -> npt.NDArray[Any]:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    result: npt.NDArray[Any] = column.to_numpy(zero_copy_only=False)
    return result


def _times_ns(column: Any) -> Int64s:
    """int64 ns since the epoch of an int64 or timestamp column (naive = Beijing time)."""
    if not (pa.types.is_timestamp(column.type) or pa.types.is_integer(column.type)):
        raise DataError(f"datetime must be a timestamp or int64 ns column, was {column.type}")
    return int_times(column)


def _floats(source: Source, name: str) -> Floats:
    return np.asarray(_numpy(source.column(name)), dtype=np.float64)


def _columns_of(source: Source, required: Sequence[str], what: str) -> None:
    names = source.schema.names
    missing = [c for c in ("datetime", *required) if c not in names]
    if missing:
        raise DataError(f"cannot resample {what}: missing column(s) {', '.join(missing)}")


def _check_order(times: Int64s, previous: int | None, strict: bool, what: str) -> None:
    """Raise if ``times`` (after ``previous``) go back, or repeat when ``strict``."""
    if times.size == 0:
        return
    joined = times if previous is None else np.concatenate(([previous], times))
    steps = np.diff(joined)
    bad = np.flatnonzero(steps <= 0 if strict else steps < 0)
    if bad.size:
        i = int(bad[0])
        rule = "sorted by datetime without duplicates" if strict else "in time order"
        raise DataError(
            f"{what} must be {rule}: {format_ns(int(joined[i]))} is followed by "
            f"{format_ns(int(joined[i + 1]))}"
        )


def _check_duration(duration_s: int) -> None:
    if isinstance(duration_s, bool) or not isinstance(duration_s, int) or duration_s <= 0:
        raise ConfigError(f"duration_s must be a positive int of seconds, was {duration_s!r}")
    if duration_s > DAY:
        raise ConfigError(
            f"resampling builds bars of at most one day (86400 s), not {period_label(duration_s)}"
        )


def _check_source(duration_s: int, source_s: int) -> None:
    _check_duration(duration_s)
    if isinstance(source_s, bool) or not isinstance(source_s, int) or not 0 < source_s < DAY:
        raise ConfigError(f"source_s must be an intraday period in seconds, was {source_s!r}")
    if duration_s < DAY and (source_s >= duration_s or duration_s % source_s):
        raise ConfigError(
            f"{period_label(duration_s)} bars cannot be built from {period_label(source_s)} "
            f"bars: the source period must be shorter and divide it"
        )


def _sessions(sessions: TradingSessions | str) -> TradingSessions:
    return TradingSessions.parse(sessions) if isinstance(sessions, str) else sessions


# --- streaming resamplers ----------------------------------------------------------------


class KlineResampler:
    """Streaming :func:`resample_klines`: finer bars in, finished coarser bars out.

    Feed :meth:`push` record batches (or tables) of consecutive bars in time order; it returns
    the bars that the rows so far finish, ``datetime`` as int64 ns first. A bar is finished
    when a row of a later bar arrives, so the bar in progress is held across batch
    boundaries; :meth:`flush` returns it at the end. The result equals
    :func:`resample_klines` of all the rows at once, however they are split.

    Args:
        duration_s: period of the bars to build, in seconds (at most 86400).
        sessions: the instrument's trading sessions (or their text, ``"09:30-11:30,..."``).
        calendar: trading calendar.
        source_s: period of the source bars; it must divide ``duration_s`` (intraday).
        drop_outside: drop source bars outside every session instead of raising.
        columns: the kline columns to aggregate (default: those of the first batch, in the
            canonical order); open, high, low, close are required.
    """

    def __init__(
        self,
        duration_s: int,
        sessions: TradingSessions | str,
        calendar: TradingCalendar,
        *,
        source_s: int = 60,
        drop_outside: bool = False,
        columns: Sequence[str] | None = None,
    ) -> None:
        _check_source(duration_s, source_s)
        self.duration_s = duration_s
        self.source_s = source_s
        self.drop_outside = drop_outside
        self.sessions = _sessions(sessions)
        self._grid = _SessionGrid(self.sessions, calendar)
        self._grouper: _Grouper | None = None
        if columns is not None:
            self._grouper = _Grouper(_kline_names(columns))
        self._last_ns: int | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The output columns, ``datetime`` first (known after the first batch)."""
        names = self._grouper.names if self._grouper else KLINE_COLUMNS[1:]
        return ("datetime", *names)

    def push(self, batch: Source) -> pa.RecordBatch:
        """Add source bars; return the bars they finish (maybe none)."""
        _columns_of(batch, _BAR_REQUIRED, "klines")
        if self._grouper is None:
            self._grouper = _Grouper(_kline_names(batch.schema.names))
        times = _times_ns(batch.column("datetime"))
        _check_order(times, self._last_ns, True, "klines")
        if times.size == 0:
            return self._grouper.push_nothing(False)
        self._last_ns = int(times[-1])
        windows = self._grid.cover(int(times[0]), int(times[-1]))
        index, inside = windows.locate(times)
        if not inside.all() and not self.drop_outside:
            raise self._outside(int(times[~inside][0]))
        times, index = times[inside], index[inside]
        labels, ends = _bucket_labels(times, index, windows, self.duration_s)
        if self.duration_s < DAY:
            self._check_fit(times, ends)
        values = [_floats(batch, name)[inside] for name in self._grouper.names]
        return self._grouper.push(labels, values, False)

    def flush(self) -> pa.RecordBatch:
        """The bar held back so far (none if nothing is held); call it after the last push."""
        grouper = self._grouper or _Grouper(KLINE_COLUMNS[1:])
        return grouper.push_nothing(True)

    def _check_fit(self, times: Int64s, ends: Int64s) -> None:
        bad = np.flatnonzero(times + self.source_s * NS_PER_SECOND > ends)
        if bad.size:
            at = int(times[bad[0]])
            raise DataError(
                f"the {period_label(self.source_s)} kline at {format_ns(at)} does not fit in one "
                f"{period_label(self.duration_s)} bar (which ends at "
                f"{format_ns(int(ends[bad[0]]))}): source bars must start on the "
                f"{period_label(self.source_s)} grid counted from their session's start"
            )

    def _outside(self, at: int) -> DataError:
        calendar = self._grid.calendar
        return DataError(
            f"the kline at {format_ns(at)} is outside the trading sessions {self.sessions} on "
            f"the trading days of {calendar.source}; fix the data or the instrument's sessions, "
            f"or pass drop_outside=True to drop such bars"
        )


def _kline_names(names: Sequence[str]) -> tuple[str, ...]:
    present = set(names)
    missing = [c for c in _BAR_REQUIRED if c not in present]
    if missing:
        raise DataError(f"cannot resample klines: missing column(s) {', '.join(missing)}")
    return tuple(c for c in KLINE_COLUMNS[1:] if c in present)


class TickResampler:
    """Streaming :func:`ticks_to_klines`: ticks in, finished bars out.

    Feed :meth:`push` record batches of ticks in time order; it returns the bars the ticks so
    far finish, ``datetime`` as int64 ns first, and holds the bar in progress (and each
    trading day's last cumulative volume and amount) across batches; :meth:`flush` returns
    the last bar. The result equals :func:`ticks_to_klines` of all the ticks at once.

    Args:
        duration_s: period of the bars, in seconds (at most 86400).
        sessions: the instrument's trading sessions (or their text).
        calendar: trading calendar.
        preopen_s: ticks this close before a trading day's first session are its opening
            auction and count in its first bar.
        close_grace_s: ticks this close after a session's end are its closing print and count
            in its last bar.
        columns: the tick columns to use (default: those of the first batch);
            ``last_price`` and ``volume`` are required, ``amount`` and ``open_interest``
            optional.

    Attributes:
        dropped: ticks dropped so far because they fell outside the sessions and windows.
    """

    def __init__(
        self,
        duration_s: int,
        sessions: TradingSessions | str,
        calendar: TradingCalendar,
        *,
        preopen_s: float = 300.0,
        close_grace_s: float = 60.0,
        columns: Sequence[str] | None = None,
    ) -> None:
        _check_duration(duration_s)
        if not 0 <= preopen_s < 3600 or not 0 <= close_grace_s < 3600:
            raise ConfigError("preopen_s and close_grace_s must be from 0 to 3600 seconds")
        self.duration_s = duration_s
        self.sessions = _sessions(sessions)
        self._grid = _SessionGrid(self.sessions, calendar)
        self._preopen_ns = round(preopen_s * NS_PER_SECOND)
        self._grace_ns = round(close_grace_s * NS_PER_SECOND)
        self._inputs: tuple[str, ...] | None = None
        self._grouper: _Grouper | None = None
        if columns is not None:
            self._start(columns)
        self._last_ns: int | None = None
        self._day = -1  # trading day label of the last kept tick, and its cumulative values
        self._cumulative: dict[str, float] = {}
        self.dropped = 0

    @property
    def columns(self) -> tuple[str, ...]:
        """The output columns, ``datetime`` first (known after the first batch)."""
        names = self._grouper.names if self._grouper else ("open", "high", "low", "close")
        return ("datetime", *names)

    def _start(self, names: Sequence[str]) -> None:
        missing = [c for c in _TICK_REQUIRED if c not in names]
        if missing:
            raise DataError(f"cannot resample ticks: missing column(s) {', '.join(missing)}")
        self._inputs = tuple(c for c in ("amount", "open_interest") if c in names)
        outputs = ["open", "high", "low", "close", "volume"]
        outputs += ["amount"] if "amount" in self._inputs else []
        outputs += ["open_oi", "close_oi"] if "open_interest" in self._inputs else []
        self._grouper = _Grouper(outputs)

    def push(self, batch: Source) -> pa.RecordBatch:
        """Add ticks; return the bars they finish (maybe none)."""
        _columns_of(batch, _TICK_REQUIRED, "ticks")
        if self._grouper is None or self._inputs is None:
            self._start(batch.schema.names)
        assert self._grouper is not None and self._inputs is not None
        times = _times_ns(batch.column("datetime"))
        _check_order(times, self._last_ns, False, "ticks")
        if times.size == 0:
            return self._grouper.push_nothing(False)
        self._last_ns = int(times[-1])
        windows = self._grid.cover(int(times[0]), int(times[-1]))
        index, effective, kept = self._assign(times, windows)
        self.dropped += int(kept.size - np.count_nonzero(kept))
        index, effective = index[kept], effective[kept]
        labels, _ = _bucket_labels(effective, index, windows, self.duration_s)
        days = windows.day[index]
        price = _floats(batch, "last_price")[kept]
        values = [price, price, price, price, self._increments(batch, "volume", kept, days)]
        if "amount" in self._inputs:
            values.append(self._increments(batch, "amount", kept, days))
        if "open_interest" in self._inputs:
            interest = _floats(batch, "open_interest")[kept]
            values += [interest, interest]
        if days.size:
            self._day = int(days[-1])
        return self._grouper.push(labels, values, False)

    def flush(self) -> pa.RecordBatch:
        """The bar held back so far (none if nothing is held); call it after the last push."""
        grouper = self._grouper or _Grouper(("open", "high", "low", "close", "volume"))
        return grouper.push_nothing(True)

    def _assign(self, times: Int64s, windows: _Windows) -> tuple[Int64s, Int64s, Bools]:
        """Window of each tick, the time it counts at, and whether it is kept."""
        index, inside = windows.locate(times)
        effective = times.copy()
        if windows.start.size == 0:
            return index, effective, inside
        clipped = np.maximum(index, 0)
        closing = ~inside & (index >= 0) & (times < windows.end[clipped] + self._grace_ns)
        effective[closing] = windows.end[clipped[closing]] - 1
        following = np.minimum(index + 1, windows.start.size - 1)
        opening = (
            ~inside
            & ~closing
            & (index + 1 < windows.start.size)
            & windows.first[following]
            & (times >= windows.start[following] - self._preopen_ns)
        )
        effective[opening] = windows.start[following[opening]]
        index = np.where(opening, following, index)
        return index, effective, inside | closing | opening

    def _increments(self, batch: Source, name: str, kept: Bools, days: Int64s) -> Floats:
        """Increase of a cumulative column since the previous kept tick of the trading day."""
        cumulative = _floats(batch, name)[kept]
        if cumulative.size == 0:
            return cumulative
        previous = np.zeros_like(cumulative)
        same_day = days[1:] == days[:-1]
        previous[1:] = np.where(same_day, cumulative[:-1], 0.0)
        if int(days[0]) == self._day:
            previous[0] = self._cumulative.get(name, 0.0)
        self._cumulative[name] = float(cumulative[-1])
        increments: Floats = cumulative - previous
        bad = np.flatnonzero(increments < 0)
        if bad.size:
            i = int(bad[0])
            raise DataError(
                f"cumulative {name} of ticks goes down within a trading day at "
                f"{format_ns(self._kept_time(batch, kept, i))}: {previous[i]:g} → "
                f"{cumulative[i]:g}"
            )
        return increments

    @staticmethod
    def _kept_time(batch: Source, kept: Bools, i: int) -> int:
        return int(_times_ns(batch.column("datetime"))[kept][i])


# --- whole tables ------------------------------------------------------------------------


def resample_klines(
    bars: Source,
    duration_s: int,
    sessions: TradingSessions | str,
    calendar: TradingCalendar,
    *,
    source_s: int = 60,
    drop_outside: bool = False,
) -> pa.Table:
    """Bars of ``duration_s`` built from finer bars, by the session rules of this module.

    Args:
        bars: source bars (``datetime`` and open, high, low, close; volume, amount, open_oi,
            close_oi when present), sorted by ``datetime`` without duplicates. Other columns
            are ignored.
        duration_s: period of the result in seconds: intraday (180, 300, 3600, …) or 86400.
        sessions: the instrument's trading sessions (:class:`TradingSessions` or its text).
        calendar: trading calendar (trading days, night sessions, holidays).
        source_s: period of the source bars (default 1 minute); it must divide an intraday
            ``duration_s``.
        drop_outside: drop source bars outside every session instead of raising.

    Returns:
        A table with ``datetime`` (the bar's start; the input's type: int64 ns, or
        ``timestamp[ns, +08:00]`` for a timestamp input) and the aggregated columns the
        source has, in the store's order.

    Raises:
        DataError: unsorted or duplicate times, a bar outside every session (without
            ``drop_outside``), a bar that does not fit in one bucket, missing columns.
        ConfigError: an invalid ``duration_s``/``source_s``.
    """
    resampler = KlineResampler(
        duration_s, sessions, calendar, source_s=source_s, drop_outside=drop_outside
    )
    parts = [resampler.push(bars), resampler.flush()]
    return _table(parts, bars.schema.field("datetime").type)


def ticks_to_klines(
    ticks: Source,
    duration_s: int,
    sessions: TradingSessions | str,
    calendar: TradingCalendar,
    *,
    preopen_s: float = 300.0,
    close_grace_s: float = 60.0,
) -> pa.Table:
    """Bars of ``duration_s`` (60 for 1-minute bars, up to 86400) built from ticks.

    See the module docstring for the rules: OHLC from ``last_price``; volume and amount from
    the increases of the cumulative columns within each trading day (the first tick of a
    trading day counts its whole cumulative value); open_oi/close_oi from the first and last
    tick's ``open_interest``; opening-auction ticks (up to ``preopen_s`` before a trading
    day's first session) count in the first bar, closing prints (up to ``close_grace_s``
    after a session's end) in the session's last bar, other ticks outside the sessions are
    dropped.

    Args:
        ticks: ticks in time order (``datetime``, ``last_price``, cumulative ``volume``;
            optional cumulative ``amount`` and ``open_interest``). Other columns are ignored.
        duration_s, sessions, calendar: as :func:`resample_klines`.
        preopen_s, close_grace_s: the windows above, in seconds.

    Returns:
        A table with ``datetime`` (the input's type, as :func:`resample_klines`), open, high,
        low, close, volume, then amount (if the ticks have it) and open_oi, close_oi (if they
        have open_interest).

    Raises:
        DataError: ticks out of time order, cumulative volume or amount going down within a
            trading day, missing columns.
    """
    resampler = TickResampler(
        duration_s, sessions, calendar, preopen_s=preopen_s, close_grace_s=close_grace_s
    )
    parts = [resampler.push(ticks), resampler.flush()]
    return _table(parts, ticks.schema.field("datetime").type)


def _table(parts: list[pa.RecordBatch], time_type: pa.DataType) -> pa.Table:
    table = pa.Table.from_batches(parts)
    if pa.types.is_timestamp(time_type):
        times = table.column(0).combine_chunks()
        table = table.set_column(0, "datetime", times.view(pa.timestamp("ns")).cast(TIMESTAMP_TYPE))
    return table


def resample_store(
    store: Store,
    symbol: str,
    source_s: int,
    duration_s: int,
    *,
    sessions: TradingSessions | str | None = None,
    calendar: TradingCalendar | None = None,
    drop_outside: bool = False,
) -> int:
    """Build ``duration_s`` klines of ``symbol`` from its stored ``source_s`` data and store them.

    The import-time form of resampling (``backtest data resample``): the source (klines, or
    ticks with ``source_s`` = 0) is read in record batches and resampled by
    :class:`KlineResampler`/:class:`TickResampler`; the bars are merged into the store (a bar
    already stored with the same start is replaced, so running it again changes nothing).

    Args:
        store: the data store, read and written.
        symbol: canonical symbol.
        source_s: stored period to read (0 = ticks).
        duration_s: period to build.
        sessions: the instrument's sessions (default: from the store's instrument table and
            the product defaults).
        calendar: trading calendar (default: the store's, else the exchange calendar).
        drop_outside: drop source klines outside every session instead of raising.

    Returns:
        The number of bars written.

    Stored bars and bars built on the fly behave the same in a backtest: the engine closes
    both at their session-clipped end (SHFE's 10:00 hourly bar closes at 10:15).
    """
    if sessions is None:
        sessions = InstrumentTable(store.instruments(), None, str(store.root)).get(symbol).sessions
    calendar = calendar or store.calendar()
    if calendar is None:
        info = store.info(symbol, source_s)
        calendar = TradingCalendar.around(info.first_ns, info.last_ns, pad_days=40)
    resampler: KlineResampler | TickResampler
    if source_s == TICK:
        resampler = TickResampler(duration_s, sessions, calendar)
    else:
        resampler = KlineResampler(
            duration_s, sessions, calendar, source_s=source_s, drop_outside=drop_outside
        )
    columns = store.available_columns(symbol, source_s)
    parts = [resampler.push(batch) for batch in store.scan(symbol, source_s, 0, 2**62, columns)]
    table = pa.Table.from_batches([*parts, resampler.flush()])
    store.write(symbol, duration_s, table)
    return table.num_rows


# --- building a serial the store lacks -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Resampling:
    """How the engine builds a kline serial the store lacks from finer stored data.

    Made by :func:`find_resampling`. :meth:`scan` and :meth:`tail` mirror
    :meth:`Store.scan` and :meth:`Store.tail` for the missing serial: they read the source in
    record batches (whole trading days, so no bar is cut) and resample them on the fly.
    """

    symbol: str
    duration_s: int
    source_s: int
    """Stored duration read: a kline period that divides ``duration_s``, or 0 for ticks."""
    sessions: TradingSessions
    calendar: TradingCalendar

    def source_columns(self, store: Store) -> tuple[str, ...]:
        """The stored columns read."""
        present = store.available_columns(self.symbol, self.source_s)
        if self.source_s != TICK:
            return present
        return tuple(c for c in ("datetime", "last_price", "volume", "amount", "open_interest")
                     if c in present)  # fmt: skip

    def resampler(self, store: Store) -> KlineResampler | TickResampler:
        """A new streaming resampler for the source."""
        return self._resampler(self.source_columns(store))

    def _resampler(self, columns: tuple[str, ...]) -> KlineResampler | TickResampler:
        """A new streaming resampler for the source's ``columns`` (:meth:`source_columns`)."""
        if self.source_s == TICK:
            return TickResampler(self.duration_s, self.sessions, self.calendar, columns=columns)
        return KlineResampler(
            self.duration_s, self.sessions, self.calendar, source_s=self.source_s,
            columns=columns[1:],
        )  # fmt: skip

    def columns(self, store: Store) -> tuple[str, ...]:
        """Columns of the resampled bars, ``datetime`` first."""
        return self.resampler(store).columns

    def scan(
        self, store: Store, start_ns: int, end_ns: int, batch_rows: int = 65_536
    ) -> Iterator[pa.RecordBatch]:
        """Record batches of the bars labelled in ``[start_ns, end_ns]``, ascending."""
        columns = self.source_columns(store)
        resampler = self._resampler(columns)
        lookahead = NS_PER_DAY if self.duration_s >= DAY else self.duration_s * NS_PER_SECOND
        source = store.scan(
            self.symbol, self.source_s, self._day_start(start_ns), end_ns + lookahead,
            columns, batch_rows,
        )  # fmt: skip
        for batch in source:
            yield from _labelled_between(resampler.push(batch), start_ns, end_ns)
        yield from _labelled_between(resampler.flush(), start_ns, end_ns)

    def tail(self, store: Store, upto_ns: int, count: int) -> pa.Table:
        """The last ``count`` bars labelled at or before ``upto_ns``, ascending."""
        columns = self.columns(store)
        schema = pa.schema([pa.field(c, pa.int64() if c == "datetime" else pa.float64())
                            for c in columns])  # fmt: skip
        calendar = self.calendar
        if count <= 0 or upto_ns < calendar.day_start_ns(calendar.first_day):
            return schema.empty_table()
        last = calendar.trading_day_of(min(upto_ns, calendar.day_end_ns(calendar.last_day)))
        days = calendar.trading_days(calendar.first_day, last)
        back = math.ceil(count / self._bars_per_day()) + 1
        while True:
            start_ns = calendar.day_start_ns(days[max(0, len(days) - back)])
            table = pa.Table.from_batches(list(self.scan(store, start_ns, upto_ns)), schema)
            if (
                table.num_rows >= count
                or back >= len(days)
                or not self._has_before(store, start_ns)
            ):
                return table.slice(max(0, table.num_rows - count))
            back *= 2

    def bar_ends(self, labels: Int64s) -> Int64s:
        """When intraday bars end (:func:`session_bar_ends`)."""
        return session_bar_ends(labels, self.duration_s, self.sessions, self.calendar)

    def _bars_per_day(self) -> int:
        if self.duration_s >= DAY:
            return 1
        ranges = (*self.sessions.day, *self.sessions.night)
        return sum(math.ceil((end - start) / self.duration_s) for start, end in ranges) or 1

    def _day_start(self, ts_ns: int) -> int:
        """Start of the trading day holding ``ts_ns`` (``ts_ns`` outside the calendar)."""
        calendar = self.calendar
        if (
            not calendar.day_start_ns(calendar.first_day)
            <= ts_ns
            <= calendar.day_end_ns(calendar.last_day)
        ):
            return ts_ns
        return calendar.day_start_ns(calendar.trading_day_of(ts_ns))

    def _has_before(self, store: Store, ts_ns: int) -> bool:
        return store.tail(self.symbol, self.source_s, ts_ns - 1, 1, ()).num_rows > 0


def _labelled_between(bars: pa.RecordBatch, start_ns: int, end_ns: int) -> Iterator[pa.RecordBatch]:
    labels = _numpy(bars.column(0))
    lo = int(np.searchsorted(labels, start_ns, "left"))
    hi = int(np.searchsorted(labels, end_ns, "right"))
    if hi > lo:
        yield bars.slice(lo, hi - lo)


def find_resampling(
    store: Store,
    symbol: str,
    duration_s: int,
    sessions: TradingSessions,
    calendar: TradingCalendar,
) -> Resampling | None:
    """How to build ``duration_s`` klines of ``symbol``; None when the store holds them.

    Stored bars are always preferred. Otherwise the source is the longest stored kline period
    that divides ``duration_s`` (any intraday period for daily bars), else the ticks.

    Raises:
        DataError: the store has neither the klines nor anything to build them from.
    """
    if duration_s == TICK or store.has(symbol, duration_s):
        return None
    stored = store.durations(symbol)
    finer = [d for d in stored if TICK < d < DAY and (duration_s == DAY or duration_s % d == 0)]
    if finer:
        return Resampling(symbol, duration_s, max(finer), sessions, calendar)
    if TICK in stored and duration_s <= DAY:
        return Resampling(symbol, duration_s, TICK, sessions, calendar)
    if not stored:
        store.available_columns(symbol, duration_s)  # raises the "no data" DataError
    have = ", ".join(period_label(d) for d in stored)
    raise DataError(
        f"data store {store.root} has no {period_label(duration_s)} klines for {symbol} and "
        f"nothing to build them from (it has: {have}); they are built from ticks or from "
        f"klines whose period divides {period_label(duration_s)}"
    )
