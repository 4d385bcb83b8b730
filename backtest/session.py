"""Trading sessions of an instrument, and whether a moment falls inside one.

Sessions are written as comma-separated Beijing-time ranges, night first, the way exchanges
publish them: ``"21:00-02:30,09:00-10:15,10:30-11:30,13:30-15:00"`` (SHFE gold). A range whose
end is earlier than its start crosses midnight. A range starting at 18:00 or later is a night
session: it opens on the evening of a trading day and belongs to the next trading day, and it
only exists when that next trading day follows without a holiday (see
:meth:`TradingCalendar.has_night_session`).

Ranges are half-open, ``[start, end)``: with a 15:00 close, an order at 14:59:59.999 is inside
and one at 15:00:00 is outside.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date

from .calendar import TradingCalendar
from .errors import ConfigError
from .times import (
    NS_PER_DAY,
    NS_PER_SECOND,
    UTC_OFFSET_NS,
    date_of_day_number,
    day_number,
    local_day_number,
    local_seconds,
)

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_NIGHT_FROM = 18 * 3600
_DAY = 86_400


@dataclass(frozen=True, slots=True)
class TradingSessions:
    """Parsed trading sessions: (start, end) pairs in seconds after the opening day's midnight.

    ``end`` exceeds 86400 for a night session that crosses midnight (02:30 → 95400).
    """

    day: tuple[tuple[int, int], ...]
    night: tuple[tuple[int, int], ...]

    @classmethod
    def parse(cls, text: str) -> TradingSessions:
        """Parse ``"21:00-02:30,09:00-11:30,..."``.

        Raises:
            ConfigError: a range is malformed, empty or overlaps another.
        """
        day: list[tuple[int, int]] = []
        night: list[tuple[int, int]] = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            match = _RANGE.match(part)
            if match is None:
                raise ConfigError(
                    f"trading session {part!r} in {text!r} is not HH:MM-HH:MM (e.g. '09:30-11:30')"
                )
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
                raise ConfigError(f"trading session {part!r} in {text!r} is not a valid time")
            start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
            if end == start:
                raise ConfigError(f"trading session {part!r} in {text!r} is empty")
            if end < start:
                end += _DAY
            if end - start > 12 * 3600:
                raise ConfigError(f"trading session {part!r} in {text!r} is longer than 12 h")
            (night if start >= _NIGHT_FROM else day).append((start, end))
        if not day and not night:
            raise ConfigError(f"trading sessions {text!r} list no session")
        ordered = sorted(night) + sorted(day)
        spans = [
            (s - _DAY if s >= _NIGHT_FROM else s, e - _DAY if s >= _NIGHT_FROM else e)
            for s, e in ordered
        ]
        for (_, end1), (start2, _) in itertools.pairwise(spans):
            if start2 < end1:
                raise ConfigError(f"trading sessions {text!r} overlap")
        return cls(tuple(sorted(day)), tuple(sorted(night)))

    def __str__(self) -> str:
        def clock(seconds: int) -> str:
            seconds %= _DAY
            return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"

        return ",".join(f"{clock(s)}-{clock(e)}" for s, e in (*self.night, *self.day))

    @property
    def has_night(self) -> bool:
        """True if the instrument trades at night."""
        return bool(self.night)

    def contains(self, ts_ns: int, calendar: TradingCalendar) -> bool:
        """True if ``ts_ns`` falls inside a session that exists on that day.

        Day sessions exist on trading days; a night session on the evening of trading day X
        exists when the next trading day follows X without a holiday.
        """
        return self.window(ts_ns, calendar) is not None

    def bounds(self, day: date, calendar: TradingCalendar) -> tuple[int, int]:
        """When trading day ``day`` opens and closes (int ns): the night session's start on the
        evening before if it has one that day, else its first day session; the end of its last
        day session (of its night session if it trades only at night)."""
        number = day_number(day)
        if self.night and calendar.has_night_session(day):
            evening = day_number(calendar.previous_trading_day(day))
            opens = _span(evening, *self.night[0])[0]
        else:
            opens = _span(number, *(self.day or self.night)[0])[0]
        closes = (
            _span(number, *self.day[-1])[1] if self.day else _span(number - 1, *self.night[-1])[1]
        )
        return opens, closes

    def window(self, ts_ns: int, calendar: TradingCalendar) -> tuple[int, int] | None:
        """``[start, end)`` in int ns of the session containing ``ts_ns``, or None."""
        number = local_day_number(ts_ns)
        seconds = local_seconds(ts_ns)
        for start, end in self.day:
            if start <= seconds < end and calendar.is_trading_day(date_of_day_number(number)):
                return _span(number, start, end)
        for start, end in self.night:
            if start <= seconds < min(end, _DAY) and _night_opens_on(number, calendar):
                return _span(number, start, end)
            if seconds + _DAY < end and _night_opens_on(number - 1, calendar):
                return _span(number - 1, start, end)
        return None


def _span(day_number: int, start_s: int, end_s: int) -> tuple[int, int]:
    """int ns bounds of a session opening ``start_s`` after midnight of ``day_number``."""
    midnight = day_number * NS_PER_DAY - UTC_OFFSET_NS
    return midnight + start_s * NS_PER_SECOND, midnight + end_s * NS_PER_SECOND


def _night_opens_on(evening_day_number: int, calendar: TradingCalendar) -> bool:
    """True if a night session opens on the evening of this calendar day."""
    evening = date_of_day_number(evening_day_number)
    if not calendar.is_trading_day(evening):
        return False
    return calendar.has_night_session(calendar.next_trading_day(evening))
