"""Trading days and their boundaries, from an exchange calendar with real holidays.

The rules (DESIGN.md §2):

- A **trading day** D starts at 18:00 Beijing time on the trading day before D and ends 1 ns
  before the next trading day starts. A futures night session (21:00–02:30) therefore belongs to
  the *next* trading day, Friday night belongs to Monday, and the day after a holiday starts at
  18:00 of the last trading day before the holiday.
- There is **no night session before a holiday**: the night session of trading day D exists only
  when the previous trading day is the previous weekday (Friday for a Monday).
- Holidays come from the Shanghai Stock Exchange calendar; Chinese futures exchanges close on the
  same days. The calendar is stored with the data (``calendar.parquet``) so that results do not
  drift when the ``exchange_calendars`` package updates its tables; a store without one falls
  back to ``exchange_calendars``' ``XSHG``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Final

import numpy as np
import numpy.typing as npt

from .errors import DataError
from .times import NS_PER_DAY, UTC_OFFSET_NS, date_of_day_number, day_number, format_ns, local_date

DAY_START_HOUR: Final = 18
"""A trading day starts at 18:00 Beijing time of the previous trading day."""
_DAY_START_OFFSET_NS: Final = DAY_START_HOUR * 3600 * 1_000_000_000
XSHG_FIRST_DAY: Final = date(1990, 12, 19)
"""The Shanghai Stock Exchange's first trading day, where its calendar begins."""


class TradingCalendar:
    """A sorted set of trading days with the boundary arithmetic of DESIGN.md §2.

    Args:
        days: the trading days (any order; duplicates are ignored). At least one.
        source: where the days came from, named in error messages (a file path).
        unknown_outside: True when the days before the first and after the last are unknown
            rather than outside the calendar's reach: the ``exchange_calendars`` fallback,
            which records holidays only up to a year it names. Data checks skip data there
            (:mod:`backtest.validate`); against a stored calendar such data is a problem.
    """

    def __init__(
        self, days: Iterable[date], source: str = "calendar", *, unknown_outside: bool = False
    ) -> None:
        numbers = np.unique(np.fromiter((day_number(d) for d in days), dtype=np.int64))
        if numbers.size == 0:
            raise DataError(f"{source}: the trading calendar is empty; it needs at least one day")
        self.source = source
        self.unknown_outside = unknown_outside
        self._days: npt.NDArray[np.int64] = numbers
        # Start of each trading day: 18:00 Beijing time of the previous trading day (for the
        # first day, of the previous calendar day).
        previous = np.concatenate(([numbers[0] - 1], numbers[:-1]))
        self._starts: npt.NDArray[np.int64] = (
            previous * NS_PER_DAY - UTC_OFFSET_NS + _DAY_START_OFFSET_NS
        )
        self._number_set = frozenset(int(n) for n in numbers)

    @classmethod
    def from_exchange_calendars(cls, start: date, end: date) -> TradingCalendar:
        """The Shanghai Stock Exchange calendar (``XSHG``) of the ``exchange_calendars`` package,
        from ``start`` to ``end`` clipped to :func:`exchange_calendars_span` (the package
        records holidays only up to a year it names: days after it are unknown, not weekdays).

        Raises:
            DataError: no day of ``start`` … ``end`` lies within the span.
        """
        import exchange_calendars

        first, last = exchange_calendars_span()
        if max(start, first) > min(end, last):
            raise DataError(
                f"{start} … {end} lies outside {first} … {last}, the days the installed "
                f"exchange_calendars {exchange_calendars.__version__} knows the XSHG holidays "
                f"of; store a trading calendar that covers it with the data "
                f"(Store.write_calendar), or upgrade exchange_calendars"
            )
        with warnings.catch_warnings():
            # exchange_calendars 4.x trips pandas deprecation warnings that are its own affair.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            low, high = max(start, first), min(end, last)
            # from the day before: exchange_calendars refuses a span of one day
            calendar = exchange_calendars.get_calendar(
                "XSHG", start=low - timedelta(days=1), end=high
            )
            days = [session.date() for session in calendar.sessions]
        return cls(
            [day for day in days if day >= low],
            source="exchange_calendars XSHG",
            unknown_outside=True,
        )

    @classmethod
    def around(cls, first_ns: int, last_ns: int, pad_days: int) -> TradingCalendar:
        """:meth:`from_exchange_calendars` from ``pad_days`` before the date of ``first_ns``
        to ``pad_days`` after that of ``last_ns`` (both clipped to
        :func:`exchange_calendars_span`): the calendar of stored data when the store has
        none."""
        return cls.from_exchange_calendars(
            local_date(first_ns) - timedelta(days=pad_days),
            local_date(last_ns) + timedelta(days=pad_days),
        )

    @classmethod
    def fallback(cls, first_ns: int, last_ns: int) -> TradingCalendar | None:
        """The calendar to check data from ``first_ns`` to ``last_ns`` against when its store
        has none: :meth:`around` with 40 days' padding, as a run uses, clipped to
        :func:`exchange_calendars_span`. Data past the span's end is left to the checks'
        ``unknown_outside`` rule (unchecked: checking unknown days would refuse good data).
        None when no day of the data lies in the span."""
        first, last = exchange_calendars_span()
        if local_date(first_ns) > last or local_date(last_ns) < first:
            return None
        return cls.around(first_ns, last_ns, pad_days=40)

    # --- queries ---------------------------------------------------------------------------

    @property
    def first_day(self) -> date:
        """The first trading day the calendar knows."""
        return date_of_day_number(int(self._days[0]))

    @property
    def last_day(self) -> date:
        """The last trading day the calendar knows."""
        return date_of_day_number(int(self._days[-1]))

    def days(self) -> list[date]:
        """Every trading day, ascending."""
        return [date_of_day_number(int(n)) for n in self._days]

    def is_trading_day(self, day: date) -> bool:
        """True if the exchanges trade on ``day``."""
        return day_number(day) in self._number_set

    def trading_days(self, start: date, end: date) -> list[date]:
        """Trading days in ``[start, end]``, ascending."""
        lo = int(np.searchsorted(self._days, day_number(start), "left"))
        hi = int(np.searchsorted(self._days, day_number(end), "right"))
        return [date_of_day_number(int(n)) for n in self._days[lo:hi]]

    def next_trading_day(self, day: date) -> date:
        """The first trading day strictly after ``day``."""
        index = int(np.searchsorted(self._days, day_number(day), "right"))
        return self._day_at(index, day)

    def previous_trading_day(self, day: date) -> date:
        """The last trading day strictly before ``day``."""
        index = int(np.searchsorted(self._days, day_number(day), "left")) - 1
        return self._day_at(index, day)

    def first_trading_day_on_or_after(self, day: date) -> date:
        """``day`` if it is a trading day, else the next one."""
        index = int(np.searchsorted(self._days, day_number(day), "left"))
        return self._day_at(index, day)

    def last_trading_day_on_or_before(self, day: date) -> date:
        """``day`` if it is a trading day, else the previous one."""
        index = int(np.searchsorted(self._days, day_number(day), "right")) - 1
        return self._day_at(index, day)

    def trading_day_of(self, ts_ns: int) -> date:
        """The trading day a timestamp belongs to (night sessions belong to the next day)."""
        index = int(np.searchsorted(self._starts, ts_ns, "right")) - 1
        if index < 0 or (index == len(self._days) - 1 and ts_ns > self.day_end_ns(self.last_day)):
            self._out_of_range(ts_ns)
        return date_of_day_number(int(self._days[index]))

    def covers(self, times_ns: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Which timestamps fall within the calendar: from the start of its first trading day
        to the end of its last."""
        first = int(self._starts[0])
        return (times_ns >= first) & (times_ns <= self.day_end_ns(self.last_day))

    def trading_day_numbers(self, times_ns: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """:meth:`trading_day_of` of many timestamps at once, as days since 1970-01-01.

        Raises:
            DataError: a timestamp lies outside the calendar.
        """
        index = np.searchsorted(self._starts, times_ns, "right") - 1
        last_end = self.day_end_ns(self.last_day)
        outside = (index < 0) | (times_ns > last_end)
        if outside.any():
            self._out_of_range(int(times_ns[np.flatnonzero(outside)[0]]))
        return self._days[index]

    def day_start_ns(self, day: date) -> int:
        """First ns of trading day ``day``: 18:00 of the previous trading day."""
        return int(self._starts[self._index(day)])

    def day_end_ns(self, day: date) -> int:
        """Last ns of trading day ``day``: 1 ns before the next trading day starts."""
        index = self._index(day)
        if index + 1 < len(self._days):
            return int(self._starts[index + 1]) - 1
        # The last known day ends at 18:00 on itself.
        return int(self._days[index]) * NS_PER_DAY - UTC_OFFSET_NS + _DAY_START_OFFSET_NS - 1

    def has_night_session(self, day: date) -> bool:
        """True when trading day ``day`` may have a night session the evening before.

        That is when the previous trading day is the previous weekday: Thursday for Friday,
        Friday for Monday. After a holiday there is no night session.
        """
        index = self._index(day)
        if index == 0:
            return False
        gap = int(self._days[index] - self._days[index - 1])
        weekday = day.weekday()
        return gap == 1 or (gap == 3 and weekday == 0)

    # --- helpers -----------------------------------------------------------------------------

    def _index(self, day: date) -> int:
        number = day_number(day)
        index = int(np.searchsorted(self._days, number, "left"))
        if index >= len(self._days) or int(self._days[index]) != number:
            raise DataError(
                f"{day} is not a trading day in {self.source} ({self.first_day} … {self.last_day})"
            )
        return index

    def _day_at(self, index: int, around: date) -> date:
        if not 0 <= index < len(self._days):
            raise DataError(
                f"no trading day next to {around} in {self.source}, which covers "
                f"{self.first_day} … {self.last_day}; extend the calendar of the data store"
            )
        return date_of_day_number(int(self._days[index]))

    def _out_of_range(self, ts_ns: int) -> None:
        raise DataError(
            f"time {format_ns(ts_ns)} is outside the trading calendar of {self.source}, which "
            f"covers {self.first_day} … {self.last_day}; extend the calendar of the data store"
        )


def exchange_calendars_span() -> tuple[date, date]:
    """The first and last day the installed ``exchange_calendars`` knows XSHG's trading days
    of: from the exchange's first day (:data:`XSHG_FIRST_DAY`) to the end of the last year
    whose holidays it records (2026 in exchange_calendars 4.13)."""
    from exchange_calendars.exchange_calendar_xshg import XSHGExchangeCalendar

    bound = XSHGExchangeCalendar.bound_max()
    return XSHG_FIRST_DAY, date.max if bound is None else bound.date()
