"""Trading days and their boundaries (backtest/calendar.py, DESIGN.md §2).

Uses the real calendar of the sample store: a trading day D runs from 18:00 Beijing time of the
previous trading day to 1 ns before the next one starts, so Friday night belongs to Monday and
the day after a holiday (2019 National Day, the 2020 Spring Festival with its COVID extension)
starts at 18:00 of the last trading day before it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import exchange_calendars
import numpy as np
import pytest
from exchange_calendars.exchange_calendar_xshg import XSHGExchangeCalendar

from backtest import Api, Backtest
from backtest.calendar import TradingCalendar, exchange_calendars_span
from backtest.errors import DataError
from backtest.store import Store
from tests.conftest import ns, write_bars

SHANGHAI = ZoneInfo("Asia/Shanghai")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


def test_sample_calendar_spans_1990_to_2026(calendar: TradingCalendar) -> None:
    assert (calendar.first_day, calendar.last_day, len(calendar.days())) == (
        date(1990, 12, 19),
        date(2026, 12, 31),
        8797,
    )


def test_spring_festival_2020_is_closed_until_february_3(calendar: TradingCalendar) -> None:
    assert calendar.trading_days(date(2020, 1, 22), date(2020, 2, 4)) == [
        date(2020, 1, 22),
        date(2020, 1, 23),
        date(2020, 2, 3),
        date(2020, 2, 4),
    ]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2020, 1, 23), True),
        (date(2020, 1, 24), False),  # Spring Festival eve
        (date(2020, 1, 31), False),  # COVID extension, a Friday
        (date(2020, 2, 3), True),
        (date(2019, 10, 1), False),  # National Day
        (date(2019, 12, 14), False),  # Saturday
        (date(2019, 12, 16), True),  # Monday
    ],
)
def test_is_trading_day_knows_weekends_and_holidays(
    calendar: TradingCalendar, day: date, expected: bool
) -> None:
    assert calendar.is_trading_day(day) is expected


@pytest.mark.parametrize(
    ("method", "day", "expected"),
    [
        ("next_trading_day", date(2020, 1, 23), date(2020, 2, 3)),
        ("next_trading_day", date(2020, 1, 25), date(2020, 2, 3)),
        ("next_trading_day", date(2019, 12, 13), date(2019, 12, 16)),
        ("previous_trading_day", date(2020, 2, 3), date(2020, 1, 23)),
        ("previous_trading_day", date(2019, 10, 8), date(2019, 9, 30)),
        ("previous_trading_day", date(2019, 12, 16), date(2019, 12, 13)),
        ("first_trading_day_on_or_after", date(2019, 10, 1), date(2019, 10, 8)),
        ("first_trading_day_on_or_after", date(2019, 10, 8), date(2019, 10, 8)),
        ("last_trading_day_on_or_before", date(2019, 10, 7), date(2019, 9, 30)),
        ("last_trading_day_on_or_before", date(2019, 9, 30), date(2019, 9, 30)),
    ],
)
def test_neighbouring_trading_days_skip_weekends_and_holidays(
    calendar: TradingCalendar, method: str, day: date, expected: date
) -> None:
    assert getattr(calendar, method)(day) == expected


def test_day_after_spring_festival_starts_at_18_on_last_day_before_it(
    calendar: TradingCalendar,
) -> None:
    # 2020-01-23 18:00 Beijing = 2020-01-23 10:00 UTC
    assert calendar.day_start_ns(date(2020, 2, 3)) == 1_579_773_600_000_000_000
    assert calendar.day_start_ns(date(2020, 2, 3)) == beijing_ns(2020, 1, 23, 18)


def test_last_day_before_spring_festival_ends_1ns_before_18_on_itself(
    calendar: TradingCalendar,
) -> None:
    assert calendar.day_start_ns(date(2020, 1, 23)) == beijing_ns(2020, 1, 22, 18)
    assert calendar.day_end_ns(date(2020, 1, 23)) == beijing_ns(2020, 1, 23, 18) - 1


def test_day_after_national_day_starts_at_18_on_september_30(calendar: TradingCalendar) -> None:
    assert calendar.day_start_ns(date(2019, 10, 8)) == beijing_ns(2019, 9, 30, 18)
    assert calendar.day_end_ns(date(2019, 9, 30)) == beijing_ns(2019, 9, 30, 18) - 1


def test_monday_starts_at_18_on_friday(calendar: TradingCalendar) -> None:
    assert calendar.day_start_ns(date(2019, 12, 16)) == beijing_ns(2019, 12, 13, 18)
    assert calendar.day_end_ns(date(2019, 12, 13)) == beijing_ns(2019, 12, 13, 18) - 1
    assert calendar.day_end_ns(date(2019, 12, 16)) == beijing_ns(2019, 12, 16, 18) - 1


def test_first_day_starts_at_18_on_the_previous_calendar_day(calendar: TradingCalendar) -> None:
    assert calendar.day_start_ns(date(1990, 12, 19)) == beijing_ns(1990, 12, 18, 18)


def test_last_day_ends_1ns_before_18_on_itself(calendar: TradingCalendar) -> None:
    assert calendar.day_end_ns(date(2026, 12, 31)) == beijing_ns(2026, 12, 31, 18) - 1


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # a normal Wednesday: night session belongs to Thursday
        (beijing_ns(2019, 12, 11, 17, 59, 59, ns=999_999_999), date(2019, 12, 11)),
        (beijing_ns(2019, 12, 11, 18), date(2019, 12, 12)),
        (beijing_ns(2019, 12, 11, 21), date(2019, 12, 12)),
        (beijing_ns(2019, 12, 12, 2, 29), date(2019, 12, 12)),
        (beijing_ns(2019, 12, 12, 14, 59), date(2019, 12, 12)),
        # Friday night and the weekend belong to Monday
        (beijing_ns(2019, 12, 13, 17, 59, 59, ns=999_999_999), date(2019, 12, 13)),
        (beijing_ns(2019, 12, 13, 21), date(2019, 12, 16)),
        (beijing_ns(2019, 12, 14, 1), date(2019, 12, 16)),
        (beijing_ns(2019, 12, 15, 12), date(2019, 12, 16)),
        # the Spring Festival belongs to 2020-02-03
        (beijing_ns(2020, 1, 23, 15), date(2020, 1, 23)),
        (beijing_ns(2020, 1, 23, 18), date(2020, 2, 3)),
        (beijing_ns(2020, 1, 28, 10), date(2020, 2, 3)),
        (beijing_ns(2020, 2, 3, 9, 30), date(2020, 2, 3)),
        # National Day belongs to 2019-10-08
        (beijing_ns(2019, 9, 30, 21), date(2019, 10, 8)),
        (beijing_ns(2019, 10, 8, 9), date(2019, 10, 8)),
    ],
)
def test_trading_day_of_assigns_evenings_to_the_next_trading_day(
    calendar: TradingCalendar, moment: int, expected: date
) -> None:
    assert calendar.trading_day_of(moment) == expected


def test_trading_day_numbers_agree_with_trading_day_of(calendar: TradingCalendar) -> None:
    import numpy as np

    moments = [beijing_ns(2020, 1, 23, h) for h in range(24)] + [
        beijing_ns(2019, 12, 13, 21), beijing_ns(2019, 12, 14, 1), beijing_ns(2020, 2, 3, 9, 30)
    ]  # fmt: skip
    numbers = calendar.trading_day_numbers(np.array(moments, dtype=np.int64))
    assert [date.fromordinal(int(n) + date(1970, 1, 1).toordinal()) for n in numbers] == [
        calendar.trading_day_of(m) for m in moments
    ]
    with pytest.raises(DataError, match=r"^time 2027-01-04 00:00:00\.000000 is outside"):
        calendar.trading_day_numbers(np.array([beijing_ns(2027, 1, 4)], dtype=np.int64))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2019, 12, 12), True),  # Thursday after Wednesday
        (date(2019, 12, 16), True),  # Monday after Friday
        (date(2020, 2, 3), False),  # after the Spring Festival
        (date(2019, 10, 8), False),  # after National Day
        (date(2020, 1, 2), False),  # after New Year's Day (gap of two days, a Thursday)
        (date(2019, 4, 8), False),  # Monday after Qingming on Friday 2019-04-05
        (date(2019, 9, 16), False),  # Monday after Mid-Autumn on Friday 2019-09-13
        (date(1990, 12, 19), False),  # the first known day has no day before it
    ],
)
def test_has_night_session_only_without_a_holiday_before(
    calendar: TradingCalendar, day: date, expected: bool
) -> None:
    assert calendar.has_night_session(day) is expected


def test_has_night_session_is_false_for_a_tuesday_after_a_monday_holiday() -> None:
    # A hand-made calendar: Friday, (Monday holiday), Tuesday; gap 4 days.
    calendar = TradingCalendar([date(2024, 1, 5), date(2024, 1, 9)], source="hand-made")
    assert calendar.has_night_session(date(2024, 1, 9)) is False


def test_has_night_session_is_false_for_a_friday_after_a_midweek_holiday() -> None:
    # Tuesday, (Wednesday and Thursday off), Friday: a gap of 3 days that is not a weekend.
    calendar = TradingCalendar([date(2024, 1, 2), date(2024, 1, 5)], source="hand-made")
    assert calendar.has_night_session(date(2024, 1, 5)) is False


def test_trading_days_is_inclusive_at_both_ends(calendar: TradingCalendar) -> None:
    assert calendar.trading_days(date(2019, 9, 27), date(2019, 10, 8)) == [
        date(2019, 9, 27),
        date(2019, 9, 30),
        date(2019, 10, 8),
    ]


def test_calendar_ignores_order_and_duplicates() -> None:
    calendar = TradingCalendar([date(2024, 1, 3), date(2024, 1, 2), date(2024, 1, 3)])
    assert calendar.days() == [date(2024, 1, 2), date(2024, 1, 3)]


def test_empty_calendar_is_refused() -> None:
    with pytest.raises(
        DataError,
        match=r"^empty\.parquet: the trading calendar is empty; it needs at least one day$",
    ):
        TradingCalendar([], source="empty.parquet")


def test_day_start_of_a_holiday_names_the_calendar_range(calendar: TradingCalendar) -> None:
    message = f"2020-01-24 is not a trading day in {calendar.source} (1990-12-19 … 2026-12-31)"
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        calendar.day_start_ns(date(2020, 1, 24))


def test_has_night_session_of_a_weekend_day_is_refused(calendar: TradingCalendar) -> None:
    message = f"2019-12-14 is not a trading day in {calendar.source} (1990-12-19 … 2026-12-31)"
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        calendar.has_night_session(date(2019, 12, 14))


def test_next_trading_day_after_the_last_known_day_is_refused(calendar: TradingCalendar) -> None:
    message = (
        f"no trading day next to 2026-12-31 in {calendar.source}, which covers "
        "1990-12-19 … 2026-12-31; extend the calendar of the data store"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        calendar.next_trading_day(date(2026, 12, 31))


def test_previous_trading_day_before_the_first_known_day_is_refused(
    calendar: TradingCalendar,
) -> None:
    message = (
        f"no trading day next to 1990-12-19 in {calendar.source}, which covers "
        "1990-12-19 … 2026-12-31; extend the calendar of the data store"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        calendar.previous_trading_day(date(1990, 12, 19))


def test_trading_day_of_before_the_first_start_is_refused(calendar: TradingCalendar) -> None:
    moment = beijing_ns(1990, 12, 18, 17, 59, 59)
    message = (
        f"time 1990-12-18 17:59:59.000000 is outside the trading calendar of {calendar.source}, "
        "which covers 1990-12-19 … 2026-12-31; extend the calendar of the data store"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        calendar.trading_day_of(moment)


def test_trading_day_of_at_the_first_start_is_the_first_day(calendar: TradingCalendar) -> None:
    assert calendar.trading_day_of(beijing_ns(1990, 12, 18, 18)) == date(1990, 12, 19)


def test_trading_day_of_after_the_last_end_is_refused(calendar: TradingCalendar) -> None:
    last_end = beijing_ns(2026, 12, 31, 18) - 1
    assert calendar.trading_day_of(last_end) == date(2026, 12, 31)
    message = (
        f"time 2026-12-31 18:00:00.000000 is outside the trading calendar of {calendar.source}, "
        "which covers 1990-12-19 … 2026-12-31; extend the calendar of the data store"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        calendar.trading_day_of(last_end + 1)


# exchange_calendars 4.13 on pandas 3 emits this deprecation warning from its own code.
@pytest.mark.filterwarnings("ignore:Series.values returning an ndarray")
def test_from_exchange_calendars_matches_the_stored_holidays(calendar: TradingCalendar) -> None:
    fetched = TradingCalendar.from_exchange_calendars(date(2019, 9, 2), date(2020, 2, 28))
    assert fetched.source == "exchange_calendars XSHG"
    assert fetched.days() == calendar.trading_days(date(2019, 9, 2), date(2020, 2, 28))
    assert fetched.trading_days(date(2020, 1, 23), date(2020, 2, 3)) == [
        date(2020, 1, 23),
        date(2020, 2, 3),
    ]


# --- the exchange_calendars fallback: a store without a calendar ------------------------------


@pytest.mark.filterwarnings("ignore:Series.values returning an ndarray")
def test_the_fallback_is_clipped_to_the_days_exchange_calendars_knows() -> None:
    first, last = exchange_calendars_span()
    assert first == date(1990, 12, 19)
    assert last == XSHGExchangeCalendar.bound_max().date()  # 2026-12-31 in 4.13
    clipped = TradingCalendar.from_exchange_calendars(date(1990, 1, 1), last + timedelta(400))
    assert (clipped.first_day, clipped.last_day) == (
        date(1990, 12, 19),
        clipped.last_trading_day_on_or_before(last),
    )
    one_day = TradingCalendar.from_exchange_calendars(date(2020, 1, 2), date(2020, 1, 2))
    assert one_day.days() == [date(2020, 1, 2)]  # exchange_calendars itself refuses one day
    message = (
        f"{last + timedelta(1)} … {last + timedelta(9)} lies outside 1990-12-19 … {last}, the "
        f"days the installed exchange_calendars {exchange_calendars.__version__} knows the "
        "XSHG holidays of; store a trading calendar that covers it with the data "
        "(Store.write_calendar), or upgrade exchange_calendars"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        TradingCalendar.from_exchange_calendars(last + timedelta(1), last + timedelta(9))


@pytest.mark.filterwarnings("ignore:Series.values returning an ndarray")
def test_the_fallback_for_data_is_clipped_to_the_known_days() -> None:
    last = exchange_calendars_span()[1]
    inside = TradingCalendar.fallback(ns("2020-01-02 09:30"), ns("2020-01-03 15:00"))
    assert inside is not None and inside.unknown_outside
    assert (inside.first_day, inside.last_day) == (date(2019, 11, 25), date(2020, 2, 12))
    # data reaching past the known days: the calendar stops where the knowledge does (the
    # checks skip the rest), it does not vanish for the whole file
    reaching = TradingCalendar.fallback(ns(f"{last} 09:30"), ns(f"{last + timedelta(9)} 09:30"))
    assert reaching is not None and reaching.last_day <= last
    end = reaching.day_end_ns(reaching.last_day)
    assert reaching.covers(np.array([end, end + 1])).tolist() == [True, False]
    beyond = ns(f"{last + timedelta(1)} 09:30")
    assert TradingCalendar.fallback(beyond, ns("2030-01-02 09:30")) is None
    assert TradingCalendar.fallback(ns("1990-01-02 09:30"), ns("1990-06-01 09:30")) is None
    before = TradingCalendar.fallback(ns("1990-01-02 09:30"), ns("1991-01-04 09:30"))
    assert before is not None and before.first_day == date(1990, 12, 19)


def _calendarless_store(tmp_path: Path, day: date) -> Store:
    """A new store (no calendar) with two IF2612 minute bars on ``day``."""
    store = Store.create(tmp_path / "bare")
    rows = [(f"{day} 09:3{i}", 4000.0, 4001.0, 3999.0, 4000.0, 1) for i in range(2)]
    return write_bars(store, "IF2612.IF", 60, rows)


async def _watch(api: Api) -> None:
    api.get_kline_serial("IF2612.IF", 60)
    while True:
        await api.wait_update()


@pytest.mark.filterwarnings("ignore:Series.values returning an ndarray")
def test_a_run_near_the_last_known_day_needs_no_calendar_past_it(tmp_path: Path) -> None:
    # 2026-12-01 + the 40 days' padding reaches 2027, which exchange_calendars 4.13 does not
    # know: the padding is clipped (it raised ValueError from inside exchange_calendars before)
    store = _calendarless_store(tmp_path, date(2026, 12, 1))
    result = Backtest(_watch, start=date(2026, 12, 1), end=date(2026, 12, 1), data=store.root).run()
    assert list(result.daily.trading_day) == [date(2026, 12, 1)]


def test_a_run_past_the_last_known_day_without_a_calendar_is_refused(tmp_path: Path) -> None:
    last = exchange_calendars_span()[1]
    store = _calendarless_store(tmp_path, date(2026, 12, 1))
    end = last + timedelta(days=5)
    message = (
        f"the run ends {end}, after {last}, the last day the installed exchange_calendars "
        f"knows the holidays of, and the data store {store.root} has no trading calendar of "
        f"its own: end the run by {last}, store a calendar with the data "
        "(Store.write_calendar), or upgrade exchange_calendars"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        Backtest(_watch, start=date(2026, 12, 1), end=end, data=store.root).run()
