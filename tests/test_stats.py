"""Statistics against hand-computed values and independent (pure Python) computations."""

from __future__ import annotations

import inspect
import itertools
import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import astuple
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from backtest import stats as stats_module
from backtest.stats import (
    ROUND_TRIP_COLUMNS,
    STAT_UNITS,
    Drawdown,
    annual_return,
    average_holding_days,
    average_loss,
    average_win,
    best_day,
    calmar_ratio,
    compute_stats,
    daily_return_mean,
    daily_return_std,
    daily_returns,
    expectancy,
    exposure,
    fee_total,
    longest_losing_streak,
    longest_winning_streak,
    max_drawdown,
    max_drawdown_details,
    profit_factor,
    profit_loss_ratio,
    round_trips,
    sharpe_ratio,
    sortino_ratio,
    total_return,
    turnover,
    winning_rate,
    worst_day,
)
from backtest.times import NS_PER_DAY

GOLDEN = Path(__file__).resolve().parent / "golden"
DAY1 = date(2024, 1, 2)


def trading_days(count: int) -> list[date]:
    """``count`` consecutive calendar days from DAY1 (stats never look at the weekday)."""
    return [DAY1 + timedelta(days=i) for i in range(count)]


def daily(*equity: float) -> pd.DataFrame:
    return pd.DataFrame({"trading_day": trading_days(len(equity)), "equity": list(equity)})


def held(*days: date, volume: int = 1) -> pd.DataFrame:
    """Positions of one long lot of X.IF at the settlement of each of ``days``."""
    return pd.DataFrame(
        [(day, "futures", "X.IF", 0, volume, 0, 0) for day in days],
        columns=["trading_day", "account", "symbol", "pos_long_his", "pos_long_today",
                 "pos_short_his", "pos_short_today"],
    )  # fmt: skip


def fills(*rows: tuple[str, str, float, int, float, int]) -> pd.DataFrame:
    """Futures fills of X.IF: (direction, offset, price, volume, commission, time ns)."""
    return pd.DataFrame(
        [("X.IF", d, o, p, v, c, t) for d, o, p, v, c, t in rows],
        columns=["symbol", "direction", "offset", "price", "volume", "commission",
                 "trade_date_time"],
    )  # fmt: skip


def returns(*values: float) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.asarray(values, dtype=np.float64)


# --- returns -------------------------------------------------------------------------------


def test_daily_returns_start_from_the_initial_balance() -> None:
    # 110 / 100 - 1 = 0.1; 99 / 110 - 1 = -0.1
    assert daily_returns([110.0, 99.0], 100.0).tolist() == pytest.approx([0.1, -0.1])
    assert len(daily_returns([], 100.0)) == 0


def test_daily_returns_after_a_day_without_positive_equity_are_nan() -> None:
    # 50/100 - 1 = -0.5; -20/50 - 1 = -1.4; then a return on -20 (or on 0) is undefined
    values = daily_returns([50.0, -20.0, -30.0], 100.0)
    assert values[:2].tolist() == pytest.approx([-0.5, -1.4])
    assert math.isnan(values[2])
    # 0/100 - 1 = -1; then a return on nothing
    values = daily_returns([0.0, 10.0], 100.0)
    assert values[0] == -1.0 and math.isnan(values[1])


def test_total_and_annual_return() -> None:
    assert total_return(99.0, 100.0) == pytest.approx(-0.01)
    # Two trading days of -1% compounded to a 250-day year.
    assert annual_return(-0.01, 2, 250) == pytest.approx(0.99**125 - 1)
    # 21% over 500 days is 10% a year: 1.21^(250/500) = 1.1
    assert annual_return(0.21, 500, 250) == pytest.approx(0.1)
    assert annual_return(-1.0, 3) == -1.0  # everything lost
    assert annual_return(-1.2, 3) == -1.0  # below zero: no real power of a negative base
    assert math.isnan(annual_return(0.0, 0))


def test_daily_return_mean_and_sample_std() -> None:
    values = returns(0.02, -0.01, 0.03, -0.02)
    # mean = 0.02 / 4 = 0.005; deviations ±0.015, ±0.025: squares sum to
    # 2 x 0.000225 + 2 x 0.000625 = 0.0017, over n - 1 = 3
    assert daily_return_mean(values) == pytest.approx(0.005)
    assert daily_return_std(values) == pytest.approx(math.sqrt(0.0017 / 3))
    assert daily_return_mean(returns(0.01)) == 0.01
    assert math.isnan(daily_return_std(returns(0.01)))  # one day: no sample deviation
    assert math.isnan(daily_return_mean(returns()))


def test_best_and_worst_day() -> None:
    values = returns(0.02, -0.01, 0.03, -0.02)
    assert best_day(values) == 0.03
    assert worst_day(values) == -0.02
    assert math.isnan(best_day(returns())) and math.isnan(worst_day(returns()))


def test_streaks_count_consecutive_days_and_break_on_flat_or_undefined_days() -> None:
    #              win   win   loss   flat  win   win   win   loss   loss   nan   loss
    values = returns(0.01, 0.02, -0.01, 0.0, 0.01, 0.01, 0.01, -0.02, -0.03, math.nan, -0.01)
    assert longest_winning_streak(values) == 3
    assert longest_losing_streak(values) == 2
    assert longest_winning_streak(returns(-0.01, -0.02)) == 0
    assert longest_losing_streak(returns(-0.01, -0.02)) == 2
    assert longest_losing_streak(returns()) == 0


# --- risk ----------------------------------------------------------------------------------


def test_max_drawdown_is_the_largest_fall_from_a_running_peak() -> None:
    # Peaks 100, 110, 110, 120, 120: falls 0, 0, 10%, 0, 25%.
    assert max_drawdown([110.0, 99.0, 120.0, 90.0], 100.0) == pytest.approx(0.25)
    assert max_drawdown([101.0, 102.0], 100.0) == 0.0
    # below zero: (100 - (-30)) / 100
    assert max_drawdown([50.0, -30.0], 100.0) == pytest.approx(1.3)


def test_max_drawdown_details_recovered() -> None:
    days = trading_days(5)
    # 100 | 110 99 105 121 130: peak 110 on day 1, trough 99 on day 2 (11 CNY, 10%),
    # first back at >= 110 on day 4: 4 - 1 = 3 trading days.
    details = max_drawdown_details([110.0, 99.0, 105.0, 121.0, 130.0], days, 100.0)
    assert astuple(details) == (pytest.approx(0.1), 11.0, 3, days[1], days[1])


def test_max_drawdown_details_never_recovered_runs_to_the_end_from_the_initial_peak() -> None:
    days = trading_days(3)
    # 100 | 90 80 85: the peak is the initial balance (index 0), the trough 80 on day 2 (20%),
    # no recovery: 3 - 0 = 3 trading days; the drawdown starts on day 1.
    details = max_drawdown_details([90.0, 80.0, 85.0], days, 100.0)
    assert astuple(details) == (pytest.approx(0.2), 20.0, 3, days[0], days[1])


def test_max_drawdown_details_start_after_the_last_day_at_the_peak() -> None:
    days = trading_days(5)
    # 100 | 110 100 110 88 120: falls 0, 0, 1/11, 0, 20%, 0; the peak 110 was last on day 3,
    # the trough is day 4 (22 CNY), back above on day 5: 5 - 3 = 2.
    details = max_drawdown_details([110.0, 100.0, 110.0, 88.0, 120.0], days, 100.0)
    assert astuple(details) == (pytest.approx(0.2), 22.0, 2, days[3], days[3])


def test_max_drawdown_amount_belongs_to_the_largest_fraction_not_the_largest_amount() -> None:
    days = trading_days(3)
    # 100 | 50 1000 600: falls 50% (50 CNY) and 40% (400 CNY); the max drawdown is the 50%.
    details = max_drawdown_details([50.0, 1000.0, 600.0], days, 100.0)
    assert details == Drawdown(0.5, 50.0, 2, days[0], days[0])


def test_max_drawdown_details_without_a_drawdown() -> None:
    assert max_drawdown_details([101.0, 102.0], trading_days(2), 100.0) == Drawdown(
        0.0, 0.0, 0, None, None
    )
    assert max_drawdown_details([], [], 100.0) == Drawdown(0.0, 0.0, 0, None, None)


def test_max_drawdown_details_below_zero() -> None:
    days = trading_days(3)
    # 100 | 50 -20 -30: falls 50%, 120%, 130%; amount 100 - (-30) = 130
    details = max_drawdown_details([50.0, -20.0, -30.0], days, 100.0)
    assert astuple(details) == (pytest.approx(1.3), 130.0, 3, days[0], days[2])


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_max_drawdown_of_a_non_finite_balance_is_nan(bad: float) -> None:
    details = max_drawdown_details([110.0, bad, 90.0], trading_days(3), 100.0)
    assert math.isnan(details.fraction) and math.isnan(details.amount)
    assert (details.duration, details.start, details.end) == (0, None, None)


def test_sharpe_ratio_matches_an_independent_computation() -> None:
    values = [0.02, -0.01, 0.03, -0.02, 0.005]
    expected = math.sqrt(250) * statistics.mean(values) / statistics.stdev(values)

    assert sharpe_ratio(returns(*values), 250) == pytest.approx(expected)


def test_sharpe_ratio_subtracts_the_daily_risk_free_rate() -> None:
    values = [0.02, -0.01, 0.03]
    daily_rf = 1.03 ** (1 / 250) - 1
    excess = [r - daily_rf for r in values]
    expected = math.sqrt(250) * statistics.mean(excess) / statistics.stdev(excess)

    assert sharpe_ratio(returns(*values), 250, 0.03) == pytest.approx(expected)


def test_sortino_ratio_uses_the_downside_deviation_over_all_days() -> None:
    # mean 0.005; downside deviation sqrt((0 + 0.01^2 + 0 + 0.02^2) / 4) = sqrt(0.000125)
    values = returns(0.02, -0.01, 0.03, -0.02)

    assert sortino_ratio(values, 250) == pytest.approx(math.sqrt(250) * 0.005 / math.sqrt(0.000125))
    assert sortino_ratio(values, 250) == pytest.approx(7.0710678118654755)


def test_sortino_ratio_subtracts_the_daily_risk_free_rate() -> None:
    # annual_days 1: the daily rate is the annual one, 1%. Excess 0.01, -0.02:
    # mean -0.005, downside sqrt((0 + 0.0004) / 2) = sqrt(0.0002)
    assert sortino_ratio(returns(0.02, -0.01), 1, 0.01) == pytest.approx(-0.005 / math.sqrt(0.0002))


def test_ratios_without_variation_or_downside_are_nan() -> None:
    flat = returns(0.01, 0.01)
    assert math.isnan(sharpe_ratio(flat))
    # +0.1% a day compounded: the returns differ only by float rounding (std ~1e-16)
    balances = 100.0 * 1.001 ** np.arange(1, 30)
    compounded = np.diff(np.concatenate(([100.0], balances))) / np.concatenate(
        ([100.0], balances[:-1])
    )
    assert 0 < np.std(compounded, ddof=1) < 1e-15
    assert math.isnan(sharpe_ratio(compounded))
    assert math.isnan(sortino_ratio(flat))
    assert math.isnan(sharpe_ratio(returns(0.01)))
    assert math.isnan(sortino_ratio(returns()))
    assert math.isnan(calmar_ratio(0.1, 0.0))
    assert calmar_ratio(0.3, 0.15) == pytest.approx(2.0)
    assert calmar_ratio(-0.3, 0.15) == pytest.approx(-2.0)


def test_exposure_counts_days_with_a_position_at_settlement() -> None:
    days = trading_days(4)
    # held on days 0 and 2; a zero-volume row on day 1 and a day outside the run do not count
    positions = pd.concat([held(days[0], days[2]), held(days[1], volume=0), held(date(2030, 1, 1))])
    assert exposure(positions, days) == 2 / 4
    assert exposure(held(), days) == 0.0
    assert math.isnan(exposure(held(), []))


# --- round trips ---------------------------------------------------------------------------


def test_round_trips_pair_fills_first_in_first_out_net_of_fees() -> None:
    trades = fills(
        ("BUY", "OPEN", 100.0, 2, 2.0, 1),
        ("BUY", "OPEN", 110.0, 1, 1.0, 2),
        ("SELL", "CLOSE", 120.0, 2, 2.0, 3),  # closes the two lots bought at 100
        ("SELL", "CLOSE", 90.0, 1, 1.0, 4),  # closes the lot bought at 110
        ("SELL", "OPEN", 95.0, 1, 1.0, 5),
        ("BUY", "CLOSETODAY", 93.0, 1, 1.0, 16),  # a short: +2 x 10
    )

    trips = round_trips(trades, {"X.IF": 10.0})

    assert list(trips.columns) == list(ROUND_TRIP_COLUMNS)
    assert trips.to_dict(orient="records") == [
        {"symbol": "X.IF", "side": "LONG", "volume": 2, "entry_time": 1, "exit_time": 3,
         "entry_price": 100.0, "exit_price": 120.0, "pnl": 400.0 - 4.0, "fees": 4.0,
         "holding_ns": 2, "volume_multiple": 10.0},
        {"symbol": "X.IF", "side": "LONG", "volume": 1, "entry_time": 2, "exit_time": 4,
         "entry_price": 110.0, "exit_price": 90.0, "pnl": -200.0 - 2.0, "fees": 2.0,
         "holding_ns": 2, "volume_multiple": 10.0},
        {"symbol": "X.IF", "side": "SHORT", "volume": 1, "entry_time": 5, "exit_time": 16,
         "entry_price": 95.0, "exit_price": 93.0, "pnl": 20.0 - 2.0, "fees": 2.0,
         "holding_ns": 11, "volume_multiple": 10.0},
    ]  # fmt: skip


def test_lots_closed_beyond_the_opened_ones_are_not_round_trips() -> None:
    # bonus shares: 1 lot bought, 3 sold (2 came from a corporate action, no fill opened them)
    trades = fills(("BUY", "OPEN", 100.0, 1, 1.0, 1), ("SELL", "CLOSE", 105.0, 3, 3.0, 2))

    trips = round_trips(trades, {"X.IF": 1.0})

    assert trips[["volume", "entry_price", "exit_price", "pnl"]].values.tolist() == [
        [1, 100.0, 105.0, 5.0 - 1.0 - 1.0]  # the exit fee pro rata: 1 of 3 lots
    ]


def test_a_closing_fill_split_over_two_entries_makes_two_round_trips() -> None:
    trades = fills(
        ("BUY", "OPEN", 100.0, 1, 1.0, 1),
        ("BUY", "OPEN", 102.0, 1, 1.0, 2),
        ("SELL", "CLOSE", 105.0, 2, 4.0, 3),  # fee 2 per lot on exit
    )

    trips = round_trips(trades, {"X.IF": 1.0})

    assert trips[["volume", "entry_price", "pnl", "holding_ns"]].values.tolist() == [
        [1, 100.0, 5.0 - 3.0, 2],
        [1, 102.0, 3.0 - 3.0, 1],
    ]


def test_round_trips_of_stocks_count_stamp_duty_and_transfer_fee() -> None:
    trades = pd.DataFrame(
        [("600000.SH", "BUY", "OPEN", 10.0, 1000, 5.0, 0.0, 0.1, 1),
         ("600000.SH", "SELL", "CLOSE", 10.5, 1000, 5.0, 5.25, 0.1, 2)],
        columns=["symbol", "direction", "offset", "price", "volume", "commission",
                 "stamp_duty", "transfer_fee", "trade_date_time"],
    )  # fmt: skip

    trips = round_trips(trades, {"600000.SH": 1.0})

    # 0.5 x 1000 = 500 gross; fees 5 + 0.1 + 5 + 5.25 + 0.1 = 15.45
    assert trips["fees"].tolist() == pytest.approx([15.45])
    assert trips["pnl"].tolist() == pytest.approx([500.0 - 15.45])


@pytest.mark.parametrize(
    ("exchange", "entries"), [("SHFE", [101.0, 100.0]), ("CFFEX", [100.0, 101.0])]
)
def test_closetoday_on_shfe_closes_todays_lots_elsewhere_the_oldest(
    exchange: str, entries: list[float]
) -> None:
    trades = fills(
        ("BUY", "OPEN", 100.0, 1, 1.0, 1),  # yesterday's lot
        ("BUY", "OPEN", 101.0, 1, 1.0, 5),  # today's lot
        ("SELL", "CLOSETODAY", 103.0, 1, 1.0, 6),
        ("SELL", "CLOSE", 104.0, 1, 1.0, 7),
    )
    trades["exchange_id"] = exchange
    trades["trading_day"] = ["20200102", "20200103", "20200103", "20200103"]

    trips = round_trips(trades, {"X.IF": 1.0})

    assert trips["entry_price"].tolist() == entries
    assert trips["exit_price"].tolist() == [103.0, 104.0]
    if exchange == "SHFE":
        assert trips["holding_ns"].tolist() == [1, 6]
        assert trips["pnl"].tolist() == [2.0 - 2.0, 4.0 - 2.0]


def test_round_trips_leave_open_lots_out() -> None:
    trades = fills(("BUY", "OPEN", 100.0, 2, 2.0, 1), ("SELL", "CLOSE", 101.0, 1, 1.0, 2))

    trips = round_trips(trades, {"X.IF": 1.0})

    assert trips["volume"].tolist() == [1]
    assert round_trips(fills(), {}).empty


def test_pnl_statistics_by_hand() -> None:
    pnl = [396.0, -202.0, 18.0]
    assert winning_rate(pnl) == pytest.approx(2 / 3)
    # average win (396 + 18) / 2 = 207; average loss -202
    assert average_win(pnl) == 207.0
    assert average_loss(pnl) == -202.0
    assert profit_loss_ratio(pnl) == pytest.approx(207.0 / 202.0)
    # gross profit 414 / gross loss 202
    assert profit_factor(pnl) == pytest.approx(414.0 / 202.0)
    # (396 - 202 + 18) / 3 = 212 / 3
    assert expectancy(pnl) == pytest.approx(212.0 / 3)


def test_pnl_statistics_when_everything_lost() -> None:
    pnl = [-10.0, -30.0]
    assert winning_rate(pnl) == 0.0
    assert profit_factor(pnl) == 0.0
    assert expectancy(pnl) == -20.0
    assert average_loss(pnl) == -20.0
    assert math.isnan(average_win(pnl))
    assert math.isnan(profit_loss_ratio(pnl))


def test_pnl_statistics_when_nothing_lost_or_nothing_traded() -> None:
    assert math.isnan(profit_factor([10.0, 0.0]))  # no loss to divide by
    assert math.isnan(average_loss([10.0, 0.0]))
    assert winning_rate([10.0, 0.0]) == 0.5  # a zero pnl is not a win
    for statistic in (winning_rate, profit_loss_ratio, profit_factor, expectancy, average_win,
                      average_loss):  # fmt: skip
        assert math.isnan(statistic([])), statistic.__name__


def test_average_holding_days_in_calendar_days() -> None:
    # 12 h and 36 h: on average 24 h, one day
    assert average_holding_days([NS_PER_DAY // 2, 3 * NS_PER_DAY // 2]) == 1.0
    assert average_holding_days([NS_PER_DAY // 4]) == 0.25
    assert math.isnan(average_holding_days([]))


# --- trading costs -------------------------------------------------------------------------


def test_turnover_sums_the_absolute_traded_value() -> None:
    trades = pd.DataFrame(
        [("X.IF", 100.0, 2), ("X.IF", 110.0, 1), ("CL.NYM", -37.63, 1)],
        columns=["symbol", "price", "volume"],
    )
    # 100 x 2 x 10 + 110 x 1 x 10 + |-37.63 x 1 x 1000| = 2000 + 1100 + 37630
    assert turnover(trades, {"X.IF": 10.0, "CL.NYM": 1000.0}) == 40730.0
    assert math.isnan(turnover(trades, {"X.IF": 10.0}))  # a multiplier is missing
    assert turnover(trades.iloc[:0], {}) == 0.0


def test_fee_total_sums_one_kind_to_the_cent() -> None:
    trades = pd.DataFrame({"commission": [0.1, 0.2], "stamp_duty": [1.005, 0.0]})
    assert fee_total(trades, "commission") == 0.3  # not 0.30000000000000004
    assert fee_total(trades, "stamp_duty") == 1.01  # half a cent rounds away from zero
    assert fee_total(trades, "transfer_fee") == 0.0  # no such column: none charged


# --- compute_stats -------------------------------------------------------------------------


def test_compute_stats_by_hand() -> None:
    days = trading_days(4)
    # The equity and the fills are independent inputs here (stats do not reconcile them).
    # Equity 1000 | 1100 990 1089 1197.9: returns 0.1, -0.1, 0.1, 0.1.
    equity = daily(1100.0, 990.0, 1089.0, 1197.9)
    hour = 3600 * 10**9
    trades = fills(
        ("BUY", "OPEN", 100.0, 2, 1.0, 0),
        ("SELL", "CLOSE", 110.0, 1, 1.0, 6 * hour),
        ("SELL", "CLOSE", 95.0, 1, 1.0, 42 * hour),
    )
    trades["stamp_duty"] = 0.0
    trips = round_trips(trades, {"X.IF": 10.0})

    stats = compute_stats(equity, 1000.0, trades, trips, held(days[0], days[2]), 8, 0.0)

    assert list(stats) == list(STAT_UNITS)
    expected: dict[str, Any] = {
        "init_balance": 1000.0,
        "final_balance": 1197.9,
        "trading_days": 4,
        "total_return": 0.1979,  # 1197.9 / 1000 - 1
        "annual_return": 0.43496441,  # 1.1979^(8 / 4) - 1
        "max_drawdown": 0.1,  # 1 - 990 / 1100
        # mean 0.05; deviations 0.05, -0.15, 0.05, 0.05: sum of squares 0.03 / 3 = 0.01
        "sharpe_ratio": math.sqrt(8) * 0.05 / 0.1,
        # downside sqrt((0 + 0.01 + 0 + 0) / 4) = 0.05
        "sortino_ratio": math.sqrt(8) * 0.05 / 0.05,
        "calmar_ratio": 4.3496441,  # 0.43496441 / 0.1
        "max_drawdown_amount": 110.0,  # 1100 - 990
        "max_drawdown_duration": 3,  # peak day 1, back above 1100 on day 4
        "max_drawdown_start": "2024-01-03",
        "max_drawdown_end": "2024-01-03",
        "daily_return_mean": 0.05,
        "daily_return_std": 0.1,
        "best_day": 0.1,
        "worst_day": -0.1,
        "longest_winning_streak": 2,
        "longest_losing_streak": 1,
        "exposure": 0.5,  # positions held at 2 of 4 settlements
        "trades": 3,
        "round_trips": 2,
        # trips: (110 - 100) x 10 - 0.5 - 1 = 98.5 and (95 - 100) x 10 - 0.5 - 1 = -51.5
        "win_rate": 0.5,
        "profit_loss_ratio": 98.5 / 51.5,
        "profit_factor": 98.5 / 51.5,
        "expectancy": 23.5,  # (98.5 - 51.5) / 2
        "average_win": 98.5,
        "average_loss": -51.5,
        "average_holding_days": 1.0,  # (6 h + 42 h) / 2 = 24 h
        "turnover": 4050.0,  # (100 x 2 + 110 + 95) x 10
        "fees": 3.0,
        "commission": 3.0,
        "stamp_duty": 0.0,
        "transfer_fee": 0.0,  # no such column
        "ror": 0.1979,
        "annual_yield": 0.43496441,
        "winning_rate": 0.5,
    }
    for name, value in expected.items():
        if isinstance(value, str):
            assert stats[name] == value, name
        else:
            assert stats[name] == pytest.approx(value, rel=1e-12), name


def test_compute_stats_values_are_plain_ints_floats_and_strings() -> None:
    trades = fills(("BUY", "OPEN", 100.0, 1, 1.0, 0), ("SELL", "CLOSE", 90.0, 1, 1.0, 10))
    trips = round_trips(trades, {"X.IF": 1.0})

    stats = compute_stats(daily(99.0, 101.0), 100.0, trades, trips, held(DAY1))

    kinds = {"date": str, "count": int, "trading days": int}
    for name, value in stats.items():
        assert type(value) is kinds.get(STAT_UNITS[name], float), name
    assert json.loads(json.dumps(stats)) == pytest.approx(stats, nan_ok=True)


def test_compute_stats_of_an_empty_run() -> None:
    empty = fills()
    trips = round_trips(empty, {})

    stats = compute_stats(daily(), 1_000_000.0, empty, trips, held())

    assert stats["trading_days"] == 0
    assert stats["ror"] == stats["total_return"] == 0.0
    assert stats["final_balance"] == 1_000_000.0
    assert stats["trades"] == stats["round_trips"] == 0
    assert stats["commission"] == stats["fees"] == stats["turnover"] == 0.0
    assert (stats["max_drawdown"], stats["max_drawdown_amount"]) == (0.0, 0.0)
    assert (stats["max_drawdown_start"], stats["max_drawdown_end"]) == ("", "")
    assert stats["longest_winning_streak"] == stats["longest_losing_streak"] == 0
    undefined = {name for name, value in stats.items() if isinstance(value, float) and
                 math.isnan(value)}  # fmt: skip
    assert undefined == {
        "annual_return", "annual_yield", "sharpe_ratio", "sortino_ratio", "calmar_ratio",
        "daily_return_mean", "daily_return_std", "best_day", "worst_day", "exposure",
        "win_rate", "winning_rate", "profit_loss_ratio", "profit_factor", "expectancy",
        "average_win", "average_loss", "average_holding_days",
    }  # fmt: skip


def test_compute_stats_of_one_day() -> None:
    stats = compute_stats(daily(110.0), 100.0, fills(), round_trips(fills(), {}), held())

    assert (
        stats["daily_return_mean"] == stats["best_day"] == stats["worst_day"] == pytest.approx(0.1)
    )
    assert stats["annual_return"] == pytest.approx(1.1**250 - 1)
    assert stats["longest_winning_streak"] == 1
    assert stats["max_drawdown"] == 0.0 and stats["max_drawdown_duration"] == 0
    assert stats["max_drawdown_start"] == ""
    for name in ("daily_return_std", "sharpe_ratio", "sortino_ratio", "calmar_ratio"):
        assert math.isnan(stats[name]), name
    assert stats["exposure"] == 0.0


def test_compute_stats_of_an_all_losing_run() -> None:
    trades = fills(
        ("BUY", "OPEN", 100.0, 1, 0.0, 0),
        ("SELL", "CLOSE", 98.0, 1, 0.0, 1),
        ("SELL", "OPEN", 98.0, 1, 0.0, 2),
        ("BUY", "CLOSE", 99.0, 1, 0.0, 3),
    )
    trips = round_trips(trades, {"X.IF": 1.0})  # pnl -2 and -1

    stats = compute_stats(daily(98.0, 97.0), 100.0, trades, trips, held())

    assert stats["win_rate"] == stats["profit_factor"] == 0.0
    assert stats["expectancy"] == stats["average_loss"] == -1.5
    assert math.isnan(stats["average_win"]) and math.isnan(stats["profit_loss_ratio"])
    assert stats["longest_losing_streak"] == 2 and stats["longest_winning_streak"] == 0
    assert stats["max_drawdown_duration"] == 2  # from the initial balance to the end
    assert stats["max_drawdown_amount"] == 3.0
    assert (stats["max_drawdown_start"], stats["max_drawdown_end"]) == ("2024-01-02", "2024-01-03")
    assert stats["sortino_ratio"] < 0 and stats["sharpe_ratio"] < 0


def test_compute_stats_below_zero_equity() -> None:
    stats = compute_stats(daily(50.0, -20.0, -30.0), 100.0, fills(), round_trips(fills(), {}),
                          held())  # fmt: skip

    assert stats["total_return"] == pytest.approx(-1.3)
    assert stats["annual_return"] == -1.0
    assert stats["max_drawdown"] == pytest.approx(1.3)
    assert stats["max_drawdown_amount"] == 130.0
    assert stats["calmar_ratio"] == pytest.approx(-1.0 / 1.3)
    # the return on -20 is undefined, so is everything built on the returns
    for name in ("daily_return_mean", "daily_return_std", "sharpe_ratio", "sortino_ratio",
                 "best_day", "worst_day"):  # fmt: skip
        assert math.isnan(stats[name]), name
    assert stats["longest_losing_streak"] == 2


def test_compute_stats_uses_the_given_multiples_for_turnover() -> None:
    # a position never closed has no round trip to carry its multiplier
    trades = fills(("BUY", "OPEN", 100.0, 1, 0.0, 0))
    trips = round_trips(trades, {"X.IF": 300.0})
    args = (daily(100.0), 100.0, trades, trips, held(DAY1))

    assert math.isnan(compute_stats(*args)["turnover"])
    assert compute_stats(*args, multiples={"X.IF": 300.0})["turnover"] == 30_000.0


def test_compute_stats_passes_the_risk_free_rate_and_annual_days() -> None:
    equity = daily(101.0, 100.0, 102.0)
    none = round_trips(fills(), {})
    values = daily_returns([101.0, 100.0, 102.0], 100.0)

    stats = compute_stats(equity, 100.0, fills(), none, held(), 12, 0.05)

    assert stats["sharpe_ratio"] == sharpe_ratio(values, 12, 0.05)
    assert stats["sortino_ratio"] == sortino_ratio(values, 12, 0.05)
    assert stats["annual_return"] == pytest.approx(1.02**4 - 1)  # 3 days, 12 a year


def test_every_statistic_is_documented() -> None:
    doc = stats_module.__doc__ or ""
    for name in STAT_UNITS:
        assert f"``{name}``" in doc, name
    for name, function in inspect.getmembers(stats_module, inspect.isfunction):
        if function.__module__ == stats_module.__name__ and not name.startswith("_"):
            assert function.__doc__, name


# --- against a real run, recomputed independently -------------------------------------------


def _plain_drawdown(
    equity: Sequence[float], days: Sequence[date], init: float
) -> tuple[float, float, int, date, date]:
    """Max drawdown by a plain loop: fraction, amount, duration, first day below the peak,
    trough day."""
    curve = [init, *equity]
    fraction = amount = 0.0
    peak_at = start = trough = 0
    for i, value in enumerate(curve):
        if value >= curve[peak_at]:
            peak_at = i
        elif 1 - value / curve[peak_at] > fraction:
            fraction, amount = 1 - value / curve[peak_at], curve[peak_at] - value
            start, trough = peak_at, i
    back = next((i for i in range(trough, len(curve)) if curve[i] >= curve[start]),
                len(curve) - 1)  # fmt: skip
    return fraction, amount, back - start, days[start], days[trough - 1]


def _longest(values: Sequence[float], sign: int) -> int:
    signs = [(r > 0) - (r < 0) for r in values]
    return max((len(list(run)) for key, run in itertools.groupby(signs) if key == sign), default=0)


def test_statistics_of_a_real_run_match_an_independent_computation() -> None:
    from tests.test_golden import run_demo

    result = run_demo("stock_breakout")  # A shares: all fee kinds, flat days, idle days
    stats = result.stats
    init = float(result.config["init_balance"])
    equity = result.daily["equity"].tolist()
    days = result.daily["trading_day"].tolist()
    values = [b / a - 1 for a, b in itertools.pairwise([init, *equity])]
    trades = result.trades.to_dict(orient="records")
    fraction, amount, duration, start, end = _plain_drawdown(equity, days, init)
    held_days = {row["trading_day"] for row in result.positions.to_dict(orient="records")}
    sells = [t for t in trades if t["direction"] == "SELL"]
    buys = [t for t in trades if t["direction"] == "BUY"]
    # this strategy sells each holding whole, so each sell is one round trip and its
    # close_profit (proceeds net of fees minus the cost, buy fees included) is that trip's pnl
    assert [s["volume"] for s in sells] == [b["volume"] for b in buys][: len(sells)]

    assert stats["total_return"] == pytest.approx(equity[-1] / init - 1, rel=1e-12)
    assert stats["annual_return"] == pytest.approx(
        (equity[-1] / init) ** (250 / len(equity)) - 1, rel=1e-12
    )
    assert stats["daily_return_mean"] == pytest.approx(statistics.mean(values), rel=1e-9)
    assert stats["daily_return_std"] == pytest.approx(statistics.stdev(values), rel=1e-9)
    assert stats["sharpe_ratio"] == pytest.approx(
        math.sqrt(250) * statistics.mean(values) / statistics.stdev(values), rel=1e-9
    )
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in values) / len(values))
    assert stats["sortino_ratio"] == pytest.approx(
        math.sqrt(250) * statistics.mean(values) / downside, rel=1e-9
    )
    assert (stats["best_day"], stats["worst_day"]) == pytest.approx((max(values), min(values)))
    assert stats["longest_winning_streak"] == _longest(values, 1)
    assert stats["longest_losing_streak"] == _longest(values, -1)
    assert stats["max_drawdown"] == pytest.approx(fraction, rel=1e-12)
    assert stats["max_drawdown_amount"] == pytest.approx(amount, abs=0.005)
    assert stats["max_drawdown_duration"] == duration
    assert (stats["max_drawdown_start"], stats["max_drawdown_end"]) == (
        start.isoformat(),
        end.isoformat(),
    )
    assert stats["calmar_ratio"] == pytest.approx(stats["annual_return"] / fraction, rel=1e-12)
    assert stats["exposure"] == sum(day in held_days for day in days) / len(days)
    assert 0 < stats["exposure"] < 1
    assert stats["trades"] == len(trades)
    assert stats["round_trips"] == len(sells)
    pnl = [s["close_profit"] for s in sells]
    wins, losses = [p for p in pnl if p > 0], [p for p in pnl if p < 0]
    assert stats["win_rate"] == stats["winning_rate"] == len(wins) / len(pnl)
    assert stats["expectancy"] == pytest.approx(statistics.mean(pnl), abs=1e-6)
    assert stats["average_win"] == pytest.approx(statistics.mean(wins), abs=1e-6)
    assert stats["average_loss"] == pytest.approx(statistics.mean(losses), abs=1e-6)
    assert stats["profit_factor"] == pytest.approx(sum(wins) / -sum(losses), rel=1e-9)
    holding = [s["trade_date_time"] - b["trade_date_time"] for s, b in zip(sells, buys,
               strict=False)]  # fmt: skip
    assert stats["average_holding_days"] == pytest.approx(
        statistics.mean(holding) / 86_400e9, rel=1e-12
    )
    assert stats["turnover"] == pytest.approx(sum(t["price"] * t["volume"] for t in trades),
                                              abs=0.005)  # fmt: skip
    for kind in ("commission", "stamp_duty", "transfer_fee"):
        assert stats[kind] == pytest.approx(sum(t[kind] for t in trades), abs=0.005), kind
        assert stats[kind] > 0, kind
    assert stats["fees"] == pytest.approx(
        sum(t["commission"] + t["stamp_duty"] + t["transfer_fee"] for t in trades), abs=0.005
    )


def test_golden_futures_turnover_and_fees_match_their_fills() -> None:
    """The golden double_ma run (CSI 300 futures, multiplier 300), from its file alone."""
    golden = json.loads((GOLDEN / "double_ma.json").read_text(encoding="utf-8"))
    trades, stats = golden["trades"], golden["stats"]

    assert stats["turnover"] == pytest.approx(
        sum(t["price"] * t["volume"] * 300 for t in trades), abs=0.005
    )
    assert (
        stats["fees"]
        == stats["commission"]
        == pytest.approx(sum(t["commission"] for t in trades), abs=0.005)
    )
    assert stats["trades"] == len(trades)
    assert stats["total_return"] == stats["ror"]
    assert stats["annual_return"] == stats["annual_yield"]
    assert stats["win_rate"] == stats["winning_rate"]
