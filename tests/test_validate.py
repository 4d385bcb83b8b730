"""Row checks and the refuse/skip/repair policies (backtest/validate.py).

Every check gets a tiny hand-made table and its exact message under ``refuse``; ``skip`` must
drop exactly the bad rows and ``repair`` must sort, keep the last of duplicates, widen high/low
and drop what is still bad, each change counted. Times are Beijing wall-clock times; the
calendar is hand-made: 2024-01-02 (Tue) … 01-05 (Fri), then 01-08 (Mon) and 01-09.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from typing import TypedDict, Unpack

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pytest

from backtest.calendar import TradingCalendar
from backtest.errors import ConfigError, DataError
from backtest.session import TradingSessions
from backtest.validate import Policy, Problem, Report, apply_policy, find_problems

BEIJING = timezone(timedelta(hours=8))
MINUTE = 60
DAY = 86_400
TICK = 0
NAN = math.nan
CALENDAR = TradingCalendar(
    [date(2024, 1, d) for d in (2, 3, 4, 5, 8, 9)], source="hand-made calendar"
)
IF_SESSIONS = TradingSessions.parse("09:30-11:30,13:00-15:00")
ADVICE = (
    "fix the data, or use --repair (sort, drop duplicates, drop or clip bad rows) or "
    "--skip-bad-rows (drop the bad rows)"
)
SKIP_ADVICE = "use --repair to sort, drop duplicates and drop or clip bad rows"

Bar = tuple[str, float, float, float, float]
"""(Beijing time "YYYY-MM-DD HH:MM", open, high, low, close)."""


def at(text: str) -> int:
    """int ns of a Beijing wall-clock time, computed without backtest.times."""
    moment = datetime.fromisoformat(text).replace(tzinfo=BEIJING)
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000


def shown(ts_ns: int | None) -> str:
    """``at`` backwards: "YYYY-MM-DD HH:MM" (Beijing)."""
    assert ts_ns is not None  # a value of to_pylist(): the datetime column has no nulls
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ts_ns // 1000)
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def bars(*rows: Bar) -> pa.Table:
    """Bars with volume 1 (store columns, datetime as int64 ns)."""
    return pa.table(
        {
            "datetime": pa.array([at(r[0]) for r in rows], pa.int64()),
            "open": pa.array([r[1] for r in rows], pa.float64()),
            "high": pa.array([r[2] for r in rows], pa.float64()),
            "low": pa.array([r[3] for r in rows], pa.float64()),
            "close": pa.array([r[4] for r in rows], pa.float64()),
            "volume": pa.array([1.0] * len(rows), pa.float64()),
        }
    )


def good(when: str, price: float = 10.0) -> Bar:
    """A consistent bar around ``price``."""
    return (when, price, price + 1, price - 1, price)


def ticks(*rows: tuple[str, float, float]) -> pa.Table:
    """Ticks: (Beijing time, last_price, cumulative volume)."""
    return pa.table(
        {
            "datetime": pa.array([at(r[0]) for r in rows], pa.int64()),
            "last_price": pa.array([r[1] for r in rows], pa.float64()),
            "volume": pa.array([r[2] for r in rows], pa.float64()),
        }
    )


class Checks(TypedDict, total=False):
    """The optional arguments of ``apply_policy``."""

    sessions: TradingSessions | None
    calendar: TradingCalendar | None
    row_numbers: npt.NDArray[np.int64] | None
    rejected: list[Problem]


def refused(table: pa.Table, duration_s: int = MINUTE, **checks: Unpack[Checks]) -> str:
    """The message of the DataError that ``refuse`` raises."""
    with pytest.raises(DataError) as caught:
        apply_policy(table, duration_s, Policy.REFUSE, "bars.csv", **checks)
    return str(caught.value)


def cleaned(
    table: pa.Table, policy: Policy, duration_s: int = MINUTE, **checks: Unpack[Checks]
) -> tuple[list[str], Report]:
    """The times kept under ``policy`` and the report."""
    result, report = apply_policy(table, duration_s, policy, "bars.csv", **checks)
    assert report.rows_out == result.num_rows
    return [shown(t) for t in result.column("datetime").to_pylist()], report


# --- one check at a time, under refuse --------------------------------------------------------


def test_nan_price_is_refused_naming_row_column_and_value() -> None:
    table = bars(good("2024-01-02 09:30"), ("2024-01-02 09:31", 10.0, 11.0, 9.0, NAN))
    assert refused(table) == (
        "bars.csv: 1 problem(s) (1 price):\n"
        "  row 2, column close, value nan: a price must be a finite positive number\n" + ADVICE
    )


def test_zero_and_negative_prices_are_refused() -> None:
    table = bars(
        ("2024-01-02 09:30", 0.0, 11.0, 9.0, 10.0),
        ("2024-01-02 09:31", 10.0, 11.0, -1.0, 10.0),
    )
    # the zero open is also below low; the negative low is a price problem only
    assert refused(table) == (
        "bars.csv: 3 problem(s) (1 ohlc, 2 price):\n"
        "  row 1, column open, value 0.0: open is outside [low, high]\n"
        "  row 1, column open, value 0.0: a price must be a finite positive number\n"
        "  row 2, column low, value -1.0: a price must be a finite positive number\n" + ADVICE
    )


def test_high_below_low_is_refused() -> None:
    table = bars(("2024-01-02 09:30", 10.0, 9.0, 11.0, 10.0))
    # no open or close can lie in an empty [low, high]
    assert refused(table) == (
        "bars.csv: 3 problem(s) (3 ohlc):\n"
        "  row 1, column high, value 9.0: high is below low\n"
        "  row 1, column open, value 10.0: open is outside [low, high]\n"
        "  row 1, column close, value 10.0: close is outside [low, high]\n" + ADVICE
    )


def test_open_above_high_and_close_below_low_are_refused() -> None:
    table = bars(
        ("2024-01-02 09:30", 11.5, 11.0, 9.0, 10.0),
        ("2024-01-02 09:31", 10.0, 11.0, 9.0, 8.5),
        ("2024-01-02 09:32", 11.0, 11.0, 9.0, 9.0),  # on the bounds: fine
        ("2024-01-02 09:33", 10.0, 10.0, 10.0, 10.0),  # flat (high == low): fine
    )
    assert refused(table) == (
        "bars.csv: 2 problem(s) (2 ohlc):\n"
        "  row 1, column open, value 11.5: open is outside [low, high]\n"
        "  row 2, column close, value 8.5: close is outside [low, high]\n" + ADVICE
    )


def test_duplicate_timestamp_is_refused_at_its_second_occurrence() -> None:
    table = bars(good("2024-01-02 09:30"), good("2024-01-02 09:31"), good("2024-01-02 09:31"))
    assert refused(table) == (
        "bars.csv: 1 problem(s) (1 duplicate):\n"
        "  row 3, column datetime, value '2024-01-02 09:31:00.000000': a timestamp seen before\n"
        + ADVICE
    )


def test_out_of_order_timestamp_is_refused() -> None:
    table = bars(good("2024-01-02 09:30"), good("2024-01-02 09:32"), good("2024-01-02 09:31"))
    assert refused(table) == (
        "bars.csv: 1 problem(s) (1 order):\n"
        "  row 3, column datetime, value '2024-01-02 09:31:00.000000': earlier than the row "
        "before it\n" + ADVICE
    )


def test_out_of_order_repeat_is_both_an_order_and_a_duplicate_problem() -> None:
    table = bars(good("2024-01-02 09:30"), good("2024-01-02 09:31"), good("2024-01-02 09:30"))
    assert [(p.check, p.row) for p in find_problems(table, MINUTE)] == [
        ("duplicate", 3),
        ("order", 3),
    ]


def test_minute_bar_in_the_lunch_break_is_outside_the_sessions() -> None:
    table = bars(
        good("2024-01-02 11:29"),  # last bar of the morning
        good("2024-01-02 11:30"),  # sessions are [start, end): 11:30 is the break
        good("2024-01-02 12:15"),
        good("2024-01-02 13:00"),  # first bar of the afternoon
    )
    message = refused(table, sessions=IF_SESSIONS, calendar=CALENDAR)
    assert message == (
        "bars.csv: 2 problem(s) (2 session):\n"
        "  row 2, column datetime, value '2024-01-02 11:30:00.000000': outside the trading "
        "sessions 09:30-11:30,13:00-15:00\n"
        "  row 3, column datetime, value '2024-01-02 12:15:00.000000': outside the trading "
        "sessions 09:30-11:30,13:00-15:00\n" + ADVICE
    )


def test_minute_bar_on_a_weekend_is_outside_the_sessions() -> None:
    table = bars(good("2024-01-05 14:59"), good("2024-01-06 10:00"))
    problems = find_problems(table, MINUTE, IF_SESSIONS, CALENDAR)
    assert [(p.check, p.row, p.value) for p in problems] == [
        ("session", 2, "2024-01-06 10:00:00.000000")
    ]


def test_sessions_are_not_checked_without_a_calendar() -> None:
    assert find_problems(bars(good("2024-01-02 12:15")), MINUTE, IF_SESSIONS, None) == []


def test_daily_bar_on_a_non_trading_day_is_refused() -> None:
    table = bars(good("2024-01-05 00:00"), good("2024-01-06 00:00"), good("2024-01-08 00:00"))
    assert refused(table, DAY, calendar=CALENDAR) == (
        "bars.csv: 1 problem(s) (1 session):\n"
        "  row 2, column datetime, value '2024-01-06': not a trading day\n" + ADVICE
    )


def test_intraday_bars_given_the_daily_period_are_refused() -> None:
    table = bars(good("2024-01-05 00:00"), good("2024-01-08 09:31"))
    assert refused(table, DAY, calendar=CALENDAR) == (
        "bars.csv: 1 problem(s) (1 session):\n"
        "  row 2, column datetime, value '2024-01-08 09:31:00.000000': a daily bar is labelled "
        "00:00 of its trading day: are these daily bars (the period)?\n" + ADVICE
    )


def test_ticks_are_not_checked_against_the_sessions() -> None:
    # the 09:29 auction print and a post-close settlement update are legitimate ticks
    table = ticks(("2024-01-02 09:29", 10.0, 5.0), ("2024-01-02 15:30", 10.0, 5.0))
    assert find_problems(table, TICK, IF_SESSIONS, CALENDAR) == []


def test_tick_price_must_be_positive() -> None:
    table = ticks(("2024-01-02 09:30", 10.0, 5.0), ("2024-01-02 09:31", NAN, 6.0))
    assert refused(table, TICK) == (
        "bars.csv: 1 problem(s) (1 price):\n"
        "  row 2, column last_price, value nan: a price must be a finite positive number\n" + ADVICE
    )


@pytest.mark.parametrize("calendar", [CALENDAR, None], ids=["calendar", "18:00 boundary"])
def test_tick_volume_falling_within_a_trading_day_is_refused(
    calendar: TradingCalendar | None,
) -> None:
    table = ticks(
        ("2024-01-02 09:30", 10.0, 10.0),
        ("2024-01-02 09:31", 10.0, 12.0),
        ("2024-01-02 09:32", 10.0, 8.0),
    )
    assert refused(table, TICK, calendar=calendar) == (
        "bars.csv: 1 problem(s) (1 volume):\n"
        "  row 3, column volume, value 8.0: cumulative volume fell from 12\n" + ADVICE
    )


@pytest.mark.parametrize("calendar", [CALENDAR, None], ids=["calendar", "18:00 boundary"])
def test_tick_volume_restarting_on_the_next_trading_day_is_fine(
    calendar: TradingCalendar | None,
) -> None:
    table = ticks(
        ("2024-01-02 14:59", 10.0, 900.0),
        ("2024-01-02 15:30", 10.0, 900.0),  # post-close update, same day
        ("2024-01-02 21:00", 10.0, 3.0),  # night session: trading day 01-03
        ("2024-01-03 09:30", 10.0, 40.0),
        ("2024-01-05 21:00", 10.0, 2.0),  # Friday night belongs to Monday 01-08
    )
    assert find_problems(table, TICK, None, calendar) == []


@pytest.mark.parametrize("calendar", [CALENDAR, None], ids=["calendar", "18:00 boundary"])
def test_tick_volume_falling_after_midnight_is_the_same_trading_day(
    calendar: TradingCalendar | None,
) -> None:
    table = ticks(("2024-01-05 23:59", 10.0, 50.0), ("2024-01-06 00:30", 10.0, 40.0))
    problems = find_problems(table, TICK, None, calendar)
    assert [(p.check, p.row, p.value) for p in problems] == [("volume", 2, 40.0)]


def test_more_than_five_problems_are_cut_with_a_count_of_the_rest() -> None:
    table = bars(*((f"2024-01-02 09:{30 + i}", 10.0, 11.0, 9.0, NAN) for i in range(7)))
    lines = "".join(
        f"  row {row}, column close, value nan: a price must be a finite positive number\n"
        for row in range(1, 6)
    )
    assert refused(table) == (
        f"bars.csv: 7 problem(s) (7 price):\n{lines}  … and 2 more\n" + ADVICE
    )


def test_exactly_five_problems_are_all_listed() -> None:
    table = bars(*((f"2024-01-02 09:{30 + i}", 10.0, 11.0, 9.0, NAN) for i in range(5)))
    assert "more" not in refused(table)
    assert refused(table).count("\n  row ") == 5


def test_row_numbers_name_the_input_rows() -> None:
    table = bars(good("2024-01-02 09:30"), ("2024-01-02 09:31", 10.0, 11.0, 9.0, NAN))
    message = refused(table, row_numbers=np.array([4, 9], np.int64))
    assert "\n  row 9, column close, value nan: " in message
    _, report = cleaned(table, Policy.SKIP, row_numbers=np.array([4, 9], np.int64))
    assert [p.row for p in report.problems] == [9]


def test_problem_reads_as_row_column_value_and_detail() -> None:
    problem = Problem("ohlc", 3, "high", 9.5, "high is below low")
    assert str(problem) == "row 3, column high, value 9.5: high is below low"


def test_timestamp_typed_datetime_is_checked_like_int_ns() -> None:
    table = bars(good("2024-01-02 09:31"), good("2024-01-02 09:30"))
    typed = table.set_column(
        0, "datetime", table.column("datetime").cast(pa.timestamp("ns", tz="+08:00"))
    )
    assert find_problems(typed, MINUTE) == find_problems(table, MINUTE)
    assert [p.check for p in find_problems(typed, MINUTE)] == ["order"]


def test_bars_outside_a_stored_calendar_are_refused_saying_so() -> None:
    # CALENDAR covers 2024-01-02 … 01-09: later days are not known to be non-trading days
    table = bars(good("2024-01-09 09:30"), good("2024-01-10 09:30"))
    assert refused(table, sessions=IF_SESSIONS, calendar=CALENDAR) == (
        "bars.csv: 1 problem(s) (1 session):\n"
        "  row 2, column datetime, value '2024-01-10 09:30:00.000000': outside the trading "
        "calendar (hand-made calendar: 2024-01-02 … 2024-01-09): extend the store's calendar "
        "to cover it\n" + ADVICE
    )
    daily = bars(good("2024-01-09 00:00"), good("2024-01-10 00:00"))
    assert [str(p) for p in find_problems(daily, DAY, None, CALENDAR)] == [
        "row 2, column datetime, value '2024-01-10': outside the trading calendar (hand-made "
        "calendar: 2024-01-02 … 2024-01-09): extend the store's calendar to cover it"
    ]


def test_bars_past_a_fallback_calendar_are_not_checked_but_the_others_are() -> None:
    known = TradingCalendar(CALENDAR.days(), source="fallback", unknown_outside=True)
    table = bars(
        good("2024-01-06 09:30"),  # a Saturday inside the known days
        good("2024-01-10 09:30"),  # past them: unknown, not checked
        good("2024-01-13 03:00"),
    )
    assert [(p.row, p.detail) for p in find_problems(table, MINUTE, IF_SESSIONS, known)] == [
        (1, "outside the trading sessions 09:30-11:30,13:00-15:00")
    ]
    daily = bars(good("2024-01-06 00:00"), good("2024-01-13 00:00"))
    assert [(p.row, p.detail) for p in find_problems(daily, DAY, None, known)] == [
        (1, "not a trading day")
    ]
    # tick volumes past the known days fall back to the 18:00 boundary
    ticks_past = ticks(("2024-01-10 09:30", 10.0, 9.0), ("2024-01-10 09:31", 10.0, 8.0))
    assert [(p.row, p.check) for p in find_problems(ticks_past, TICK, None, known)] == [
        (2, "volume")
    ]


# --- clean input, empty input, one row -----------------------------------------------------------


@pytest.mark.parametrize("policy", list(Policy))
def test_clean_table_passes_unchanged_under_every_policy(policy: Policy) -> None:
    table = bars(good("2024-01-02 09:30"), good("2024-01-02 09:31"))
    result, report = apply_policy(table, MINUTE, policy, "bars.csv", IF_SESSIONS, CALENDAR)
    assert result is table
    assert (report.rows_in, report.rows_out, report.problems, report.changes) == (2, 2, [], {})
    assert report.summary() == "2 of 2 rows kept"


@pytest.mark.parametrize("policy", list(Policy))
@pytest.mark.parametrize("duration_s", [TICK, MINUTE, DAY])
def test_empty_table_passes_under_every_policy(policy: Policy, duration_s: int) -> None:
    table = ticks() if duration_s == TICK else bars()
    result, report = apply_policy(table, duration_s, policy, "bars.csv", IF_SESSIONS, CALENDAR)
    assert result.num_rows == 0
    assert report.summary() == "0 of 0 rows kept"


@pytest.mark.parametrize("policy", list(Policy))
def test_single_good_row_is_kept(policy: Policy) -> None:
    times, report = cleaned(bars(good("2024-01-02 09:30")), policy, calendar=CALENDAR)
    assert (times, report.summary()) == (["2024-01-02 09:30"], "1 of 1 rows kept")


def test_single_bad_row_is_dropped_by_skip_and_repair() -> None:
    table = bars(("2024-01-02 09:30", NAN, NAN, NAN, NAN))
    assert cleaned(table, Policy.SKIP)[1].summary() == "0 of 1 rows kept (1 bad rows dropped)"
    assert cleaned(table, Policy.REPAIR)[1].summary() == (
        "0 of 1 rows kept (1 rows dropped (price))"
    )


# --- skip --------------------------------------------------------------------------------------


def test_skip_drops_exactly_the_bad_rows() -> None:
    table = bars(
        good("2024-01-02 09:30"),
        ("2024-01-02 09:31", 10.0, 11.0, 9.0, NAN),  # price
        ("2024-01-02 09:32", 10.0, 9.0, 11.0, 10.0),  # ohlc (three problems, one row)
        good("2024-01-02 11:30"),  # session
        good("2024-01-02 13:00"),
    )
    times, report = cleaned(table, Policy.SKIP, sessions=IF_SESSIONS, calendar=CALENDAR)
    assert times == ["2024-01-02 09:30", "2024-01-02 13:00"]
    assert (report.rows_in, report.rows_out) == (5, 2)
    assert [(p.row, p.check) for p in report.problems] == [
        (2, "price"),
        (3, "ohlc"),
        (3, "ohlc"),
        (3, "ohlc"),
        (4, "session"),
    ]
    assert report.changes == Counter({"bad rows dropped": 3})
    assert report.summary() == "2 of 5 rows kept (3 bad rows dropped)"


def test_skip_refuses_duplicates_listing_only_them() -> None:
    table = bars(
        good("2024-01-02 09:30"),
        ("2024-01-02 09:31", 10.0, 11.0, 9.0, NAN),
        good("2024-01-02 09:31"),
    )
    with pytest.raises(DataError) as caught:
        apply_policy(table, MINUTE, Policy.SKIP, "bars.csv")
    assert str(caught.value) == (
        "bars.csv: 1 problem(s) (1 duplicate):\n"
        "  row 3, column datetime, value '2024-01-02 09:31:00.000000': a timestamp seen before\n"
        + SKIP_ADVICE
    )


def test_skip_refuses_out_of_order_rows() -> None:
    table = bars(good("2024-01-02 09:31"), good("2024-01-02 09:30"))
    with pytest.raises(DataError) as caught:
        apply_policy(table, MINUTE, Policy.SKIP, "bars.csv")
    assert str(caught.value).endswith("earlier than the row before it\n" + SKIP_ADVICE)


def test_skip_keeps_dropping_until_cumulative_volume_no_longer_falls() -> None:
    # dropping the 5 leaves 10 → 6, a fall the first pass could not see
    table = ticks(
        ("2024-01-02 09:30", 10.0, 10.0),
        ("2024-01-02 09:31", 10.0, 5.0),
        ("2024-01-02 09:32", 10.0, 6.0),
        ("2024-01-02 09:33", 10.0, 11.0),
    )
    times, report = cleaned(table, Policy.SKIP, TICK, calendar=CALENDAR)
    assert times == ["2024-01-02 09:30", "2024-01-02 09:33"]
    assert report.summary() == "2 of 4 rows kept (2 bad rows dropped)"
    assert [(p.row, p.value) for p in report.problems] == [(2, 5.0)]


# --- repair ------------------------------------------------------------------------------------


def test_repair_sorts_keeps_the_last_duplicate_widens_and_drops_bad_rows() -> None:
    table = bars(
        ("2024-01-02 09:32", 10.0, 11.0, 9.0, 10.0),
        ("2024-01-02 09:30", 10.0, 11.0, 9.0, 10.0),
        ("2024-01-02 09:31", 10.0, 11.0, 9.0, 10.5),  # replaced by the later 09:31
        ("2024-01-02 09:33", 12.0, 11.0, 9.0, 8.0),  # open above high, close below low
        ("2024-01-02 09:31", 10.0, 11.0, 9.0, 10.7),
        ("2024-01-02 09:34", NAN, 11.0, 9.0, 10.0),
    )
    result, report = apply_policy(table, MINUTE, Policy.REPAIR, "bars.csv")
    assert [shown(t) for t in result.column("datetime").to_pylist()] == [
        "2024-01-02 09:30",
        "2024-01-02 09:31",
        "2024-01-02 09:32",
        "2024-01-02 09:33",
    ]
    assert result.column("close").to_pylist() == [10.0, 10.7, 10.0, 8.0]
    assert result.column("high").to_pylist() == [11.0, 11.0, 11.0, 12.0]
    assert result.column("low").to_pylist() == [9.0, 9.0, 9.0, 8.0]
    # stable sort order [1, 2, 4, 0, 3, 5]: five rows moved
    assert report.changes == Counter(
        {
            "rows sorted": 5,
            "duplicates dropped": 1,
            "OHLC clipped": 1,
            "rows dropped (price)": 1,
        }
    )
    assert report.summary() == (
        "4 of 6 rows kept (1 OHLC clipped, 1 duplicates dropped, 1 rows dropped (price), "
        "5 rows sorted)"
    )
    assert find_problems(result, MINUTE) == []


def test_repair_swaps_high_and_low_when_high_is_below_low() -> None:
    result, report = apply_policy(
        bars(("2024-01-02 09:30", 10.0, 9.0, 11.0, 10.0)), MINUTE, Policy.REPAIR, "bars.csv"
    )
    assert (result.column("high").to_pylist(), result.column("low").to_pylist()) == ([11.0], [9.0])
    assert report.summary() == "1 of 1 rows kept (1 OHLC clipped)"


def test_repair_drops_an_all_nan_row_without_warnings() -> None:
    # pytest turns warnings into errors: numpy's "All-NaN slice" would fail this test
    table = bars(good("2024-01-02 09:30"), ("2024-01-02 09:31", NAN, NAN, NAN, NAN))
    times, report = cleaned(table, Policy.REPAIR)
    assert times == ["2024-01-02 09:30"]
    assert report.changes == Counter({"rows dropped (price)": 1})


def test_repair_does_not_invent_a_missing_high_from_the_other_prices() -> None:
    table = bars(good("2024-01-02 09:30"), ("2024-01-02 09:31", 10.0, NAN, 9.0, 10.5))
    times, report = cleaned(table, Policy.REPAIR)
    assert times == ["2024-01-02 09:30"]
    assert report.changes == Counter({"rows dropped (price)": 1})


def test_repair_does_not_widen_rows_it_then_drops() -> None:
    table = bars(good("2024-01-02 09:30"), ("2024-01-02 09:31", 10.0, 11.0, 9.0, -10.0))
    times, report = cleaned(table, Policy.REPAIR)
    assert times == ["2024-01-02 09:30"]
    # the row is counted under its first check by name: ohlc (close below low) before price
    assert report.changes == Counter({"rows dropped (ohlc)": 1})


def test_repair_drops_lunch_break_bars_and_counts_them_as_session() -> None:
    table = bars(good("2024-01-02 11:29"), good("2024-01-02 12:00"), good("2024-01-02 13:00"))
    times, report = cleaned(table, Policy.REPAIR, sessions=IF_SESSIONS, calendar=CALENDAR)
    assert times == ["2024-01-02 11:29", "2024-01-02 13:00"]
    assert report.summary() == "2 of 3 rows kept (1 rows dropped (session))"


def test_repair_drops_daily_bars_of_non_trading_days() -> None:
    table = bars(good("2024-01-06 00:00"), good("2024-01-05 00:00"))
    times, report = cleaned(table, Policy.REPAIR, DAY, calendar=CALENDAR)
    assert times == ["2024-01-05 00:00"]
    assert report.changes == Counter({"rows sorted": 2, "rows dropped (session)": 1})


def test_repair_leaves_no_falling_cumulative_volume() -> None:
    table = ticks(
        ("2024-01-02 09:31", 10.0, 5.0),
        ("2024-01-02 09:30", 10.0, 10.0),
        ("2024-01-02 09:32", 10.0, 6.0),
        ("2024-01-02 09:33", 10.0, 11.0),
    )
    result, report = apply_policy(table, TICK, Policy.REPAIR, "ticks.csv", None, CALENDAR)
    assert result.column("volume").to_pylist() == [10.0, 11.0]
    assert report.changes == Counter({"rows sorted": 2, "rows dropped (volume)": 2})
    assert find_problems(result, TICK, None, CALENDAR) == []


# --- non-finite and negative values (every check under every policy) ------------------------------

INF = math.inf
VOLUME_RULE = "a volume must be a finite number, 0 or more"
TICK_VOLUME_RULE = "a cumulative volume must be a finite number, 0 or more"
BOOK_RULE = "a book price must be a finite positive number, or empty (no order)"


def with_volumes(table: pa.Table, *volumes: float) -> pa.Table:
    """``table`` with its volume column replaced."""
    index = table.column_names.index("volume")
    return table.set_column(index, "volume", pa.array(volumes, pa.float64()))


def test_infinite_prices_are_refused_like_nan() -> None:
    # 1e400 in a CSV reads as inf
    table = bars(
        good("2024-01-02 09:30"),
        ("2024-01-02 09:31", 10.0, INF, 9.0, 10.0),
        ("2024-01-02 09:32", 10.0, 11.0, -INF, 10.0),
    )
    assert refused(table) == (
        "bars.csv: 2 problem(s) (2 price):\n"
        "  row 2, column high, value inf: a price must be a finite positive number\n"
        "  row 3, column low, value -inf: a price must be a finite positive number\n" + ADVICE
    )


def test_bar_volume_must_be_a_finite_number_not_below_zero() -> None:
    table = with_volumes(
        bars(*(good(f"2024-01-02 09:{30 + i}") for i in range(5))), 0.0, -500.0, NAN, INF, 7.0
    )
    assert refused(table) == (
        "bars.csv: 3 problem(s) (3 volume):\n"
        f"  row 2, column volume, value -500.0: {VOLUME_RULE}\n"
        f"  row 3, column volume, value nan: {VOLUME_RULE}\n"
        f"  row 4, column volume, value inf: {VOLUME_RULE}\n" + ADVICE
    )


def test_tick_last_price_and_cumulative_volume_must_be_finite() -> None:
    table = ticks(
        ("2024-01-02 09:30", 10.0, 5.0),
        ("2024-01-02 09:31", INF, 6.0),
        ("2024-01-02 09:32", 10.0, NAN),
        ("2024-01-02 09:33", 10.0, -1.0),
    )
    # the fall from 6 to -1 hides behind the NaN until that row is dropped (next test)
    assert refused(table, TICK) == (
        "bars.csv: 3 problem(s) (1 price, 2 volume):\n"
        "  row 2, column last_price, value inf: a price must be a finite positive number\n"
        f"  row 3, column volume, value nan: {TICK_VOLUME_RULE}\n"
        f"  row 4, column volume, value -1.0: {TICK_VOLUME_RULE}\n" + ADVICE
    )


def book(*rows: tuple[str, float, float, float]) -> pa.Table:
    """Ticks with a book: (Beijing time, bid_price1, ask_price1, ask_price2); last 10, volume 5."""
    table = ticks(*((r[0], 10.0, 5.0) for r in rows))
    for name, index in (("bid_price1", 1), ("ask_price1", 2), ("ask_price2", 3)):
        table = table.append_column(name, pa.array([r[index] for r in rows], pa.float64()))
    return table


def test_book_prices_must_be_finite_and_positive_but_may_be_empty() -> None:
    table = book(
        ("2024-01-02 09:30", 9.8, 10.2, NAN),  # an empty second level: no order, fine
        ("2024-01-02 09:31", -3.0, 10.2, 10.4),
        ("2024-01-02 09:32", 9.8, 0.0, INF),
        ("2024-01-02 09:33", NAN, NAN, NAN),  # an empty book (limit up or down): fine
    )
    assert refused(table, TICK) == (
        "bars.csv: 3 problem(s) (3 price):\n"
        f"  row 2, column bid_price1, value -3.0: {BOOK_RULE}\n"
        f"  row 3, column ask_price1, value 0.0: {BOOK_RULE}\n"
        f"  row 3, column ask_price2, value inf: {BOOK_RULE}\n" + ADVICE
    )


def test_dropping_a_nan_volume_tick_reveals_the_fall_behind_it() -> None:
    # dropping the NaN tick reveals 8 → 6 falling
    table = ticks(
        ("2024-01-02 09:30", 10.0, 8.0),
        ("2024-01-02 09:31", 10.0, NAN),
        ("2024-01-02 09:32", 10.0, 6.0),
    )
    times, report = cleaned(table, Policy.SKIP, TICK, calendar=CALENDAR)
    assert (times, report.summary()) == (
        ["2024-01-02 09:30"],
        "1 of 3 rows kept (2 bad rows dropped)",
    )


@pytest.mark.parametrize(
    ("policy", "summary"),
    [
        (Policy.SKIP, "2 of 5 rows kept (3 bad rows dropped)"),
        (Policy.REPAIR, "2 of 5 rows kept (1 rows dropped (price), 2 rows dropped (volume))"),
    ],
)
def test_skip_and_repair_drop_non_finite_rows_like_other_bad_rows(
    policy: Policy, summary: str
) -> None:
    table = with_volumes(
        bars(
            good("2024-01-02 09:30"),
            ("2024-01-02 09:31", 10.0, INF, 9.0, 10.0),
            good("2024-01-02 09:32"),
            good("2024-01-02 09:33"),
            good("2024-01-02 09:34"),
        ),
        1.0, 1.0, -5.0, NAN, 1.0,
    )  # fmt: skip
    times, report = cleaned(table, policy)
    assert times == ["2024-01-02 09:30", "2024-01-02 09:34"]
    assert report.summary() == summary


def test_repair_does_not_widen_high_to_an_infinite_open() -> None:
    table = bars(good("2024-01-02 09:30"), ("2024-01-02 09:31", INF, 11.0, 9.0, 10.0))
    times, report = cleaned(table, Policy.REPAIR)
    assert times == ["2024-01-02 09:30"]
    # counted under its first check by name: ohlc (open above high) before price
    assert report.changes == Counter({"rows dropped (ohlc)": 1})


def test_repair_drops_ticks_with_a_bad_book_price() -> None:
    table = book(("2024-01-02 09:30", 9.8, 10.2, NAN), ("2024-01-02 09:31", 9.8, -10.2, NAN))
    times, report = cleaned(table, Policy.REPAIR, TICK)
    assert (times, report.summary()) == (
        ["2024-01-02 09:30"],
        "1 of 2 rows kept (1 rows dropped (price))",
    )


def levels(*rows: tuple[str, float, float, float, float]) -> pa.Table:
    """Ticks with two levels a side: (Beijing time, bid_price1, bid_price2, ask_price1,
    ask_price2); last 10, volume 5."""
    table = ticks(*((r[0], 10.0, 5.0) for r in rows))
    for index, name in enumerate(("bid_price1", "bid_price2", "ask_price1", "ask_price2"), 1):
        table = table.append_column(name, pa.array([r[index] for r in rows], pa.float64()))
    return table


def test_book_levels_must_fall_on_the_bid_and_rise_on_the_ask() -> None:
    table = levels(
        ("2024-01-02 09:30", 9.8, 9.6, 10.2, 10.4),  # ordered
        ("2024-01-02 09:31", 9.8, 9.8, 10.2, 10.4),  # two bid levels at one price
        ("2024-01-02 09:32", 9.8, 9.6, 10.2, 10.0),  # ask_price2 below ask_price1
        ("2024-01-02 09:33", NAN, 9.6, 10.2, NAN),  # empty levels are no orders: not compared
    )
    # without sessions or a calendar too: levels are out of order at any time
    assert refused(table, TICK) == (
        "bars.csv: 2 problem(s) (2 book):\n"
        "  row 2, column bid_price2, value 9.8: not below bid_price1 (9.8): bid levels out of "
        "order\n"
        "  row 3, column ask_price2, value 10.0: not above ask_price1 (10.2): ask levels out of "
        "order\n" + ADVICE
    )


def test_a_crossed_book_inside_a_session_is_refused() -> None:
    table = book(
        ("2024-01-02 09:29", 10.4, 10.2, NAN),  # the call auction, before 09:30: may cross
        ("2024-01-02 09:30", 10.4, 10.2, NAN),  # continuous trading: crossed
        ("2024-01-02 14:58", 10.2, 10.2, NAN),  # locked: a closing call auction publishes it
        ("2024-01-02 15:30", 10.4, 10.2, NAN),  # after the close
        ("2024-01-06 10:00", 10.4, 10.2, NAN),  # a Saturday: no session
    )
    assert refused(table, TICK, sessions=IF_SESSIONS, calendar=CALENDAR) == (
        "bars.csv: 1 problem(s) (1 book):\n"
        "  row 2, column bid_price1, value 10.4: above ask_price1 (10.2) inside a trading "
        "session: a crossed book (are bid and ask swapped?)\n" + ADVICE
    )
    # sessions unknown (an instrument the store does not describe): not checked
    assert find_problems(table, TICK, None, CALENDAR) == []
    assert find_problems(table, TICK, IF_SESSIONS, None) == []


@pytest.mark.parametrize(
    ("policy", "summary"),
    [
        (Policy.SKIP, "1 of 3 rows kept (2 bad rows dropped)"),
        (Policy.REPAIR, "1 of 3 rows kept (2 rows dropped (book))"),
    ],
)
def test_skip_and_repair_drop_ticks_with_a_bad_book(policy: Policy, summary: str) -> None:
    table = levels(
        ("2024-01-02 09:30", 10.4, 9.6, 10.2, 10.6),  # crossed
        ("2024-01-02 09:31", 9.8, 9.6, 10.2, 10.4),
        ("2024-01-02 09:32", 9.8, 9.9, 10.2, 10.4),  # bid levels out of order
    )
    times, report = cleaned(table, policy, TICK, sessions=IF_SESSIONS, calendar=CALENDAR)
    assert (times, report.summary()) == (["2024-01-02 09:31"], summary)


TOO_LARGE = (
    "a price above 1e+09 is not a price (CTP writes 1.7976931348623157e+308 for 'no value'): "
    "fix the data, or leave the cell empty where the column allows it"
)
DBL_MAX = 1.7976931348623157e308


def test_sentinel_prices_are_refused() -> None:
    # CTP's "no value" is DBL_MAX: on it the price grid of a run would overflow
    table = bars(good("2024-01-02 09:30"), ("2024-01-02 09:31", 10.0, DBL_MAX, 9.0, 10.0))
    assert refused(table) == (
        "bars.csv: 1 problem(s) (1 price):\n"
        f"  row 2, column high, value 1.7976931348623157e+308: {TOO_LARGE}\n" + ADVICE
    )


def test_tick_prices_the_engine_uses_must_be_real_or_empty() -> None:
    table = ticks(*((f"2024-01-02 09:3{i}", 10.0, 5.0) for i in range(4)))
    extra = {
        "settlement": [NAN, 0.0, 10.0, NAN],  # 0 would mark every position to zero
        "upper_limit": [11.0, 11.0, DBL_MAX, 11.0],
        "highest": [10.0, 10.0, 10.0, -INF],
    }
    for name, values in extra.items():
        table = table.append_column(name, pa.array(values, pa.float64()))
    assert refused(table, TICK) == (
        "bars.csv: 3 problem(s) (3 price):\n"
        "  row 2, column settlement, value 0.0: a price must be a finite positive number, or "
        "empty (not known)\n"
        f"  row 3, column upper_limit, value 1.7976931348623157e+308: {TOO_LARGE}\n"
        "  row 4, column highest, value -inf: a price must be a finite positive number, or "
        "empty (not known)\n" + ADVICE
    )


# --- policies given by name -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["refuse", "skip", "repair"])
def test_a_policy_name_is_the_policy(name: str) -> None:
    assert Policy.parse(name) is Policy(name)
    assert Policy.parse(Policy(name)) is Policy(name)


@pytest.mark.parametrize("value", ["fix", "REFUSE", "", None, 1, True])
def test_an_unknown_policy_is_a_config_error_listing_the_policies(value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        Policy.parse(value)
    assert str(caught.value) == f"policy must be one of 'refuse', 'skip', 'repair', was {value!r}"


def test_apply_policy_takes_a_policy_name() -> None:
    table = bars(good("2024-01-02 09:30"), ("2024-01-02 09:31", 10.0, 11.0, 9.0, NAN))
    with pytest.raises(DataError) as caught:
        apply_policy(table, MINUTE, "refuse", "bars.csv")
    assert str(caught.value) == refused(table)
    _, report = apply_policy(table, MINUTE, "skip", "bars.csv")
    assert report.summary() == "1 of 2 rows kept (1 bad rows dropped)"
    with pytest.raises(ConfigError, match=r"^policy must be one of .*, was 'fix'$"):
        apply_policy(table, MINUTE, "fix", "bars.csv")


# --- problems of rows the caller left out ---------------------------------------------------------

REJECTED = [
    Problem("unit", 2, "volume_unit", "boxes", "the volume unit must be lots (手) or shares (股)"),
    Problem("symbol", 5, "symbol", "", "no symbol: cannot tell whether the row is X's"),
]


def test_rejected_rows_are_refused_in_row_order_with_the_table_problems() -> None:
    table = bars(good("2024-01-02 09:30"), ("2024-01-02 09:31", 10.0, 11.0, 9.0, NAN))
    message = refused(table, row_numbers=np.array([1, 4], np.int64), rejected=REJECTED)
    assert message == (
        "bars.csv: 3 problem(s) (1 price, 1 symbol, 1 unit):\n"
        "  row 2, column volume_unit, value 'boxes': the volume unit must be lots (手) or "
        "shares (股)\n"
        "  row 4, column close, value nan: a price must be a finite positive number\n"
        "  row 5, column symbol, value '': no symbol: cannot tell whether the row is X's\n" + ADVICE
    )


@pytest.mark.parametrize(
    ("policy", "summary"),
    [
        (Policy.SKIP, "1 of 4 rows kept (3 bad rows dropped)"),
        (
            Policy.REPAIR,
            "1 of 4 rows kept (1 rows dropped (price), 1 rows dropped (symbol), "
            "1 rows dropped (unit))",
        ),
    ],
)
def test_rejected_rows_count_as_input_rows_dropped(policy: Policy, summary: str) -> None:
    table = bars(good("2024-01-02 09:30"), ("2024-01-02 09:31", 10.0, 11.0, 9.0, NAN))
    times, report = cleaned(
        table, policy, row_numbers=np.array([1, 4], np.int64), rejected=REJECTED
    )
    assert times == ["2024-01-02 09:30"]
    assert (report.rows_in, report.summary()) == (4, summary)
    assert [(p.row, p.check) for p in report.problems] == [(2, "unit"), (4, "price"), (5, "symbol")]


def test_report_counts_other_symbols_rows_before_the_changes() -> None:
    report = Report(rows_in=301, rows_out=150, changes=Counter({"bad rows dropped": 1}))
    report.other_rows = 150
    assert (
        report.summary() == "150 of 301 rows kept (150 rows of other symbols, 1 bad rows dropped)"
    )


# --- the period: bars closer together than their period -------------------------------------

SHFE_DAY = TradingSessions.parse("09:00-10:15,10:30-11:30,13:30-15:00")
PERIOD_ADVICE = (
    "check the period the bars were given (300 s; the import's --period): bars of one period "
    "cannot start closer together inside a session; if only these rows are off, remove them "
    "from the input (--repair and --skip-bad-rows cannot tell which of two overlapping bars is "
    "wrong)"
)


@pytest.mark.parametrize("policy", list(Policy))
def test_minute_bars_given_a_five_minute_period_are_refused_under_every_policy(
    policy: Policy,
) -> None:
    table = bars(*(good(f"2024-01-02 09:{m}") for m in (30, 31, 32, 35)))
    with pytest.raises(DataError) as caught:
        apply_policy(table, 300, policy, "bars.csv", sessions=IF_SESSIONS, calendar=CALENDAR)
    assert str(caught.value) == (
        "bars.csv: 3 problem(s) (3 period):\n"
        "  row 2, column datetime, value '2024-01-02 09:31:00.000000': starts 60 s after the "
        "bar before it in the same session, less than the period (300 s): the bars would "
        "overlap\n"
        "  row 3, column datetime, value '2024-01-02 09:32:00.000000': starts 60 s after the "
        "bar before it in the same session, less than the period (300 s): the bars would "
        "overlap\n"
        "  row 4, column datetime, value '2024-01-02 09:35:00.000000': starts 180 s after the "
        "bar before it in the same session, less than the period (300 s): the bars would "
        "overlap\n" + PERIOD_ADVICE
    )


def test_bars_one_period_apart_or_more_pass() -> None:
    table = bars(*(good(f"2024-01-02 {t}") for t in ("09:30", "09:35", "09:45", "11:25")))
    assert find_problems(table, 300, IF_SESSIONS, CALENDAR) == []


def test_a_bar_cut_short_by_a_session_break_is_not_an_overlap() -> None:
    # hourly bars aligned to each session start, as our resampler cuts them: the 10:00 bar
    # ends at the 10:15 break and the next starts at 10:30, half an hour later
    session_aligned = bars(*(good(f"2024-01-02 {t}") for t in ("09:00", "10:00", "10:30",
                                                                   "13:30", "14:30")))  # fmt: skip
    assert find_problems(session_aligned, 3600, SHFE_DAY, CALENDAR) == []
    # two-hour bars: 09:00 (cut at 10:15), 10:30 (cut at 11:30), 13:30
    two_hours = bars(*(good(f"2024-01-02 {t}") for t in ("09:00", "10:30", "13:30")))
    assert find_problems(two_hours, 7200, SHFE_DAY, CALENDAR) == []


def test_an_overlap_is_found_in_the_session_after_a_break_and_on_the_next_day() -> None:
    table = bars(
        *(good(f"2024-01-02 {t}") for t in ("10:00", "10:30", "10:45", "14:30")),
        good("2024-01-03 09:00"),
        good("2024-01-03 09:30"),
    )
    problems = find_problems(table, 3600, SHFE_DAY, CALENDAR)
    assert [(p.check, p.row, p.value) for p in problems] == [
        ("period", 3, "2024-01-02 10:45:00.000000"),
        ("period", 6, "2024-01-03 09:30:00.000000"),
    ]
    assert problems[0].detail == (
        "starts 900 s after the bar before it in the same session, less than the period "
        "(3600 s): the bars would overlap"
    )


def test_a_bar_outside_the_sessions_is_a_session_problem_not_an_overlap() -> None:
    # hourly bars (on whole minutes: their grid); 11:31 is 31 minutes after 11:00
    table = bars(good("2024-01-02 11:00"), good("2024-01-02 11:31"), good("2024-01-02 13:00"))
    problems = find_problems(table, 3600, IF_SESSIONS, CALENDAR)
    assert [(p.check, p.row) for p in problems] == [("session", 2)]


def test_periods_are_not_checked_without_sessions_or_a_calendar() -> None:
    table = bars(good("2024-01-02 09:30"), good("2024-01-02 09:31"))
    assert find_problems(table, 3600, None, CALENDAR) == []
    assert find_problems(table, 3600, IF_SESSIONS, None) == []
