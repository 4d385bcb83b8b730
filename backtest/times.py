"""Timestamps: int64 nanoseconds since the Unix epoch (UTC), shown in Beijing time.

Every timestamp inside the engine is an ``int`` of nanoseconds (``ts_ns``). Users see
timezone-aware ``datetime`` objects in ``Asia/Shanghai``; a naive ``datetime`` given by a user
means Beijing time. Beijing time is the fixed UTC+8 offset throughout, which lets the hot paths
do integer arithmetic instead of time zone lookups. China has had no daylight saving time since
1991; the summer time of 1986–1991 in the zone database is not followed (exchange data are on
the fixed offset), so a 09:30 bar of June 1991 shows as 09:30, as its sessions say.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Final

import numpy as np
import numpy.typing as npt

SHANGHAI: Final = timezone(timedelta(hours=8), "Asia/Shanghai")
"""The display and parsing time zone: Asia/Shanghai as the fixed UTC+8 (see the module
docstring)."""

NS_PER_SECOND: Final = 1_000_000_000
NS_PER_DAY: Final = 86_400 * NS_PER_SECOND
UTC_OFFSET_NS: Final = 8 * 3600 * NS_PER_SECOND
"""Beijing time is UTC+8 (no daylight saving time since 1991)."""
BEIJING: Final = timezone(timedelta(hours=8), "+08:00")
""":data:`SHANGHAI` under the name pandas shows (``+08:00``), for tables."""

_EPOCH_DAY: Final = date(1970, 1, 1).toordinal()


def to_ns(value: datetime) -> int:
    """Convert a datetime to int ns; a naive datetime is taken as Beijing time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS_PER_SECOND + delta.microseconds * 1000


def to_datetime(ts_ns: int) -> datetime:
    """Convert int ns to an aware datetime in Asia/Shanghai (microsecond precision)."""
    utc = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ts_ns // 1000)
    return utc.astimezone(SHANGHAI)


def format_ns(ts_ns: int) -> str:
    """Beijing time as ``YYYY-MM-DD HH:MM:SS.ffffff``, the string tqsdk quotes carry."""
    return to_datetime(ts_ns).strftime("%Y-%m-%d %H:%M:%S.%f")


def format_ns_array(times: npt.NDArray[np.int64], *, nanoseconds: bool = False) -> list[str]:
    """:func:`format_ns` of each of ``times`` (int ns), vectorized; with ``nanoseconds``, the
    nanoseconds it leaves out are added where there are any (``… 10:00:00.123456789``)."""
    local = (times + UTC_OFFSET_NS).astype("datetime64[ns]")
    texts = np.datetime_as_string(local, unit="ns").tolist()
    more = (times % 1000 != 0).tolist() if nanoseconds else [False] * len(texts)
    return [
        f"{text[:10]} {text[11:-3]}{text[-3:] if extra else ''}"
        for text, extra in zip(texts, more, strict=True)
    ]


def local_day_number(ts_ns: int) -> int:
    """Days since 1970-01-01 of the Beijing calendar date of ``ts_ns``."""
    return (ts_ns + UTC_OFFSET_NS) // NS_PER_DAY


def local_date(ts_ns: int) -> date:
    """The Beijing calendar date of ``ts_ns``."""
    return date_of_day_number(local_day_number(ts_ns))


def local_seconds(ts_ns: int) -> float:
    """Seconds since Beijing midnight of ``ts_ns`` (0 <= result < 86400)."""
    return ((ts_ns + UTC_OFFSET_NS) % NS_PER_DAY) / NS_PER_SECOND


def day_number(day: date) -> int:
    """Days since 1970-01-01 of a calendar date."""
    return day.toordinal() - _EPOCH_DAY


def date_of_day_number(number: int) -> date:
    """Calendar date of a day number (inverse of :func:`day_number`)."""
    return date.fromordinal(number + _EPOCH_DAY)


def local_midnight_ns(day: date) -> int:
    """int ns of 00:00 Beijing time on ``day``."""
    return day_number(day) * NS_PER_DAY - UTC_OFFSET_NS
