"""Trading sessions (backtest/session.py): parsing session strings, and whether a moment is inside.

Ranges are half-open ``[start, end)``; a range starting at 18:00 or later is a night session of
the next trading day and exists only when no holiday follows (DESIGN.md §2). ``contains`` is
checked against the real calendar of the sample store.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backtest.calendar import TradingCalendar
from backtest.errors import ConfigError
from backtest.session import TradingSessions
from backtest.store import Store

SHANGHAI = ZoneInfo("Asia/Shanghai")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
IF_SESSIONS = "09:30-11:30,13:00-15:00"
GOLD_SESSIONS = "21:00-02:30,09:00-10:15,10:30-11:30,13:30-15:00"


def beijing_ns(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, *, ns: int = 0
) -> int:
    """int ns of a Beijing wall-clock time, computed without backtest.times."""
    moment = datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)
    return (moment - EPOCH) // timedelta(seconds=1) * 1_000_000_000 + ns


@pytest.fixture(scope="module")
def calendar(sample_store: Store) -> TradingCalendar:
    result = sample_store.calendar()
    assert result is not None
    return result


# --- parse -----------------------------------------------------------------------------------


def test_parse_day_sessions_in_seconds_after_midnight() -> None:
    sessions = TradingSessions.parse(IF_SESSIONS)
    assert sessions.day == ((34_200, 41_400), (46_800, 54_000))
    assert sessions.night == ()
    assert sessions.has_night is False


def test_parse_night_session_crossing_midnight_ends_after_86400() -> None:
    sessions = TradingSessions.parse(GOLD_SESSIONS)
    assert sessions.night == ((75_600, 95_400),)
    assert sessions.day == ((32_400, 36_900), (37_800, 41_400), (48_600, 54_000))
    assert sessions.has_night is True


def test_parse_night_session_ending_at_midnight() -> None:
    assert TradingSessions.parse("21:00-00:00").night == ((75_600, 86_400),)


def test_parse_night_session_ending_before_midnight() -> None:
    sessions = TradingSessions.parse("21:00-23:00,09:00-10:15")
    assert sessions.night == ((75_600, 82_800),)
    assert sessions.day == ((32_400, 36_900),)


def test_parse_accepts_single_digit_hours_spaces_and_a_trailing_comma() -> None:
    assert TradingSessions.parse(" 9:30 - 11:30 , 13:00-15:00, ") == TradingSessions.parse(
        IF_SESSIONS
    )


def test_parse_sorts_ranges_given_out_of_order() -> None:
    sessions = TradingSessions.parse("13:00-15:00,09:30-11:30")
    assert sessions.day == ((34_200, 41_400), (46_800, 54_000))


def test_parse_accepts_ranges_that_touch() -> None:
    assert TradingSessions.parse("09:00-10:15,10:15-11:30").day == (
        (32_400, 36_900),
        (36_900, 41_400),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOLD_SESSIONS, GOLD_SESSIONS),
        (IF_SESSIONS, IF_SESSIONS),
        ("13:00-15:00, 9:30-11:30", IF_SESSIONS),
        ("21:00-00:00", "21:00-00:00"),
    ],
)
def test_str_writes_night_first_in_canonical_form(text: str, expected: str) -> None:
    assert str(TradingSessions.parse(text)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("09:30", "trading session '09:30' in '09:30' is not HH:MM-HH:MM (e.g. '09:30-11:30')"),
        (
            "09:30-11:30,13-15",
            "trading session '13-15' in '09:30-11:30,13-15' is not HH:MM-HH:MM "
            "(e.g. '09:30-11:30')",
        ),
        (
            "9h30-11h30",
            "trading session '9h30-11h30' in '9h30-11h30' is not HH:MM-HH:MM (e.g. '09:30-11:30')",
        ),
        ("24:00-01:00", "trading session '24:00-01:00' in '24:00-01:00' is not a valid time"),
        ("09:60-10:00", "trading session '09:60-10:00' in '09:60-10:00' is not a valid time"),
        ("08:00-21:00", "trading session '08:00-21:00' in '08:00-21:00' is longer than 12 h"),
        ("", "trading sessions '' list no session"),
        (" , ", "trading sessions ' , ' list no session"),
        ("09:30-11:30,11:00-13:00", "trading sessions '09:30-11:30,11:00-13:00' overlap"),
        ("09:30-11:30,09:30-11:30", "trading sessions '09:30-11:30,09:30-11:30' overlap"),
        # the night session reaches 02:30 of the next morning, past the start of 01:00-03:00
        ("21:00-02:30,01:00-03:00", "trading sessions '21:00-02:30,01:00-03:00' overlap"),
        ("21:00-23:00,22:00-23:30", "trading sessions '21:00-23:00,22:00-23:30' overlap"),
    ],
)
def test_parse_rejects_malformed_empty_and_overlapping_sessions(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        TradingSessions.parse(text)
    assert str(caught.value) == message


def test_parse_rejects_a_zero_length_range_as_empty() -> None:
    with pytest.raises(
        ConfigError, match=r"^trading session '09:00-09:00' in '09:00-09:00' is empty"
    ):
        TradingSessions.parse("09:00-09:00")


# --- contains: CFFEX index futures (day sessions only) ---------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (beijing_ns(2020, 1, 2, 9, 29, 59, ns=999_000_000), False),
        (beijing_ns(2020, 1, 2, 9, 30), True),
        (beijing_ns(2020, 1, 2, 11, 29, 59, ns=999_999_999), True),
        (beijing_ns(2020, 1, 2, 11, 30), False),
        (beijing_ns(2020, 1, 2, 12, 0), False),
        (beijing_ns(2020, 1, 2, 12, 59, 59), False),
        (beijing_ns(2020, 1, 2, 13, 0), True),
        (beijing_ns(2020, 1, 2, 14, 59, 59), True),
        (beijing_ns(2020, 1, 2, 14, 59, 59, ns=999_999_999), True),
        (beijing_ns(2020, 1, 2, 15, 0), False),
        (beijing_ns(2020, 1, 2, 15, 0, 1), False),
        (beijing_ns(2020, 1, 2, 21, 0), False),
        (beijing_ns(2020, 1, 4, 10, 0), False),  # Saturday
        (beijing_ns(2020, 1, 28, 10, 0), False),  # Spring Festival, a Tuesday
    ],
)
def test_index_futures_sessions_are_half_open(
    calendar: TradingCalendar, moment: int, expected: bool
) -> None:
    assert TradingSessions.parse(IF_SESSIONS).contains(moment, calendar) is expected


# --- contains: SHFE gold (night session to 02:30) --------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # a normal Wednesday night, belonging to Thursday 2019-12-12
        (beijing_ns(2019, 12, 11, 20, 59, 59), False),
        (beijing_ns(2019, 12, 11, 21, 0), True),
        (beijing_ns(2019, 12, 11, 23, 59, 59), True),
        (beijing_ns(2019, 12, 12, 0, 0), True),
        (beijing_ns(2019, 12, 12, 2, 29, 59), True),
        (beijing_ns(2019, 12, 12, 2, 30), False),
        (beijing_ns(2019, 12, 12, 8, 59, 59), False),
        (beijing_ns(2019, 12, 12, 9, 0), True),
        # the 10:15-10:30 break
        (beijing_ns(2019, 12, 12, 10, 14, 59), True),
        (beijing_ns(2019, 12, 12, 10, 15), False),
        (beijing_ns(2019, 12, 12, 10, 29, 59), False),
        (beijing_ns(2019, 12, 12, 10, 30), True),
        (beijing_ns(2019, 12, 12, 11, 30), False),
        (beijing_ns(2019, 12, 12, 13, 29, 59), False),
        (beijing_ns(2019, 12, 12, 13, 30), True),
        (beijing_ns(2019, 12, 12, 15, 0), False),
    ],
)
def test_gold_sessions_on_a_normal_weekday(
    calendar: TradingCalendar, moment: int, expected: bool
) -> None:
    assert TradingSessions.parse(GOLD_SESSIONS).contains(moment, calendar) is expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (beijing_ns(2019, 12, 13, 21, 0), True),  # Friday night, belongs to Monday
        (beijing_ns(2019, 12, 13, 23, 0), True),
        (beijing_ns(2019, 12, 14, 1, 0), True),  # Saturday morning, still Friday's night
        (beijing_ns(2019, 12, 14, 2, 29, 59), True),
        (beijing_ns(2019, 12, 14, 2, 30), False),
        (beijing_ns(2019, 12, 14, 10, 0), False),  # Saturday daytime
        (beijing_ns(2019, 12, 14, 21, 0), False),  # Saturday night
        (beijing_ns(2019, 12, 15, 1, 0), False),  # Sunday morning
        (beijing_ns(2019, 12, 15, 21, 0), False),  # Sunday night
        (beijing_ns(2019, 12, 16, 9, 0), True),  # Monday
    ],
)
def test_night_session_on_friday_belongs_to_monday(
    calendar: TradingCalendar, moment: int, expected: bool
) -> None:
    assert TradingSessions.parse(GOLD_SESSIONS).contains(moment, calendar) is expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (beijing_ns(2020, 1, 23, 14, 59), True),  # last trading day before the Spring Festival
        (beijing_ns(2020, 1, 23, 21, 0), False),  # no night session before a holiday
        (beijing_ns(2020, 1, 24, 1, 0), False),
        (beijing_ns(2020, 1, 28, 10, 0), False),  # holiday daytime
        (beijing_ns(2020, 2, 2, 21, 0), False),  # Sunday before the first day back
        (beijing_ns(2020, 2, 3, 9, 0), True),
        (beijing_ns(2020, 2, 3, 21, 0), True),  # Monday night, Tuesday follows
        (beijing_ns(2019, 9, 30, 14, 0), True),
        (beijing_ns(2019, 9, 30, 21, 0), False),  # before National Day
        (beijing_ns(2019, 10, 1, 1, 0), False),
        (beijing_ns(2019, 10, 2, 10, 0), False),
        (beijing_ns(2019, 12, 31, 21, 0), False),  # before New Year's Day
        (beijing_ns(2019, 9, 12, 21, 0), False),  # Thursday before Mid-Autumn (Friday)
    ],
)
def test_no_night_session_on_the_evening_before_a_holiday(
    calendar: TradingCalendar, moment: int, expected: bool
) -> None:
    assert TradingSessions.parse(GOLD_SESSIONS).contains(moment, calendar) is expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (beijing_ns(2019, 12, 11, 22, 59, 59), True),
        (beijing_ns(2019, 12, 11, 23, 0), False),
        (beijing_ns(2019, 12, 12, 0, 30), False),
    ],
)
def test_night_session_ending_at_23_closes_at_23(
    calendar: TradingCalendar, moment: int, expected: bool
) -> None:
    sessions = TradingSessions.parse("21:00-23:00,09:00-10:15,10:30-11:30,13:30-15:00")
    assert sessions.contains(moment, calendar) is expected


def test_night_session_ending_at_midnight_excludes_midnight(calendar: TradingCalendar) -> None:
    sessions = TradingSessions.parse("21:00-00:00")
    assert sessions.contains(beijing_ns(2019, 12, 11, 23, 59, 59), calendar) is True
    assert sessions.contains(beijing_ns(2019, 12, 12, 0, 0), calendar) is False
