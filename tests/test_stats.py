"""Statistics against hand-computed values and independent (pure Python) computations."""

from __future__ import annotations

import math
import statistics

import pandas as pd
import pytest

from backtest.stats import (
    annual_return,
    calmar_ratio,
    compute_stats,
    daily_returns,
    max_drawdown,
    profit_loss_ratio,
    round_trips,
    sharpe_ratio,
    sortino_ratio,
    total_return,
    winning_rate,
)


def test_daily_returns_start_from_the_initial_balance() -> None:
    assert daily_returns([110.0, 99.0], 100.0).tolist() == pytest.approx([0.1, -0.1])


def test_total_and_annual_return() -> None:
    assert total_return(99.0, 100.0) == pytest.approx(-0.01)
    # Two trading days of -1% compounded to a 250-day year.
    assert annual_return(-0.01, 2, 250) == pytest.approx(0.99**125 - 1)
    assert annual_return(-1.0, 3) == -1.0  # everything lost
    assert annual_return(-1.2, 3) == -1.0  # below zero: no real power of a negative base
    assert math.isnan(annual_return(0.0, 0))


def test_max_drawdown_is_the_largest_fall_from_a_running_peak() -> None:
    # Peaks 100, 110, 110, 120, 120: falls 0, 0, 10%, 0, 25%.
    assert max_drawdown([110.0, 99.0, 120.0, 90.0], 100.0) == pytest.approx(0.25)
    assert max_drawdown([101.0, 102.0], 100.0) == 0.0


def test_sharpe_ratio_matches_an_independent_computation() -> None:
    returns = [0.02, -0.01, 0.03, -0.02, 0.005]
    expected = math.sqrt(250) * statistics.mean(returns) / statistics.stdev(returns)

    assert sharpe_ratio(pd.Series(returns).to_numpy(), 250) == pytest.approx(expected)


def test_sharpe_ratio_subtracts_the_daily_risk_free_rate() -> None:
    returns = [0.02, -0.01, 0.03]
    daily_rf = 1.03 ** (1 / 250) - 1
    excess = [r - daily_rf for r in returns]
    expected = math.sqrt(250) * statistics.mean(excess) / statistics.stdev(excess)

    assert sharpe_ratio(pd.Series(returns).to_numpy(), 250, 0.03) == pytest.approx(expected)


def test_sortino_ratio_uses_the_downside_deviation_over_all_days() -> None:
    # mean 0.005; downside deviation sqrt((0 + 0.01^2 + 0 + 0.02^2) / 4) = sqrt(0.000125)
    returns = pd.Series([0.02, -0.01, 0.03, -0.02]).to_numpy()

    assert sortino_ratio(returns, 250) == pytest.approx(
        math.sqrt(250) * 0.005 / math.sqrt(0.000125)
    )
    assert sortino_ratio(returns, 250) == pytest.approx(7.0710678118654755)


def test_ratios_without_variation_or_downside_are_nan() -> None:
    flat = pd.Series([0.01, 0.01]).to_numpy()
    assert math.isnan(sharpe_ratio(flat))
    assert math.isnan(sortino_ratio(flat))
    assert math.isnan(sharpe_ratio(pd.Series([0.01]).to_numpy()))
    assert math.isnan(calmar_ratio(0.1, 0.0))
    assert calmar_ratio(0.3, 0.15) == pytest.approx(2.0)


def fills(*rows: tuple[str, str, float, int, float, int]) -> pd.DataFrame:
    return pd.DataFrame(
        [("X.IF", d, o, p, v, c, t) for d, o, p, v, c, t in rows],
        columns=["symbol", "direction", "offset", "price", "volume", "commission",
                 "trade_date_time"],
    )  # fmt: skip


def test_round_trips_pair_fills_first_in_first_out_net_of_fees() -> None:
    trades = fills(
        ("BUY", "OPEN", 100.0, 2, 2.0, 1),
        ("BUY", "OPEN", 110.0, 1, 1.0, 2),
        ("SELL", "CLOSE", 120.0, 2, 2.0, 3),  # closes the two lots bought at 100
        ("SELL", "CLOSE", 90.0, 1, 1.0, 4),  # closes the lot bought at 110
        ("SELL", "OPEN", 95.0, 1, 1.0, 5),
        ("BUY", "CLOSETODAY", 93.0, 1, 1.0, 6),  # a short: +2 x 10
    )

    trips = round_trips(trades, {"X.IF": 10.0})

    assert trips.to_dict(orient="records") == [
        {"symbol": "X.IF", "side": "LONG", "volume": 2, "entry_time": 1, "exit_time": 3,
         "entry_price": 100.0, "exit_price": 120.0, "pnl": 400.0 - 4.0, "commission": 4.0},
        {"symbol": "X.IF", "side": "LONG", "volume": 1, "entry_time": 2, "exit_time": 4,
         "entry_price": 110.0, "exit_price": 90.0, "pnl": -200.0 - 2.0, "commission": 2.0},
        {"symbol": "X.IF", "side": "SHORT", "volume": 1, "entry_time": 5, "exit_time": 6,
         "entry_price": 95.0, "exit_price": 93.0, "pnl": 20.0 - 2.0, "commission": 2.0},
    ]  # fmt: skip
    assert winning_rate(trips.pnl) == pytest.approx(2 / 3)
    assert profit_loss_ratio(trips.pnl) == pytest.approx(((396.0 + 18.0) / 2) / 202.0)


def test_a_closing_fill_split_over_two_entries_makes_two_round_trips() -> None:
    trades = fills(
        ("BUY", "OPEN", 100.0, 1, 1.0, 1),
        ("BUY", "OPEN", 102.0, 1, 1.0, 2),
        ("SELL", "CLOSE", 105.0, 2, 4.0, 3),  # fee 2 per lot on exit
    )

    trips = round_trips(trades, {"X.IF": 1.0})

    assert trips[["volume", "entry_price", "pnl"]].values.tolist() == [
        [1, 100.0, 5.0 - 3.0],
        [1, 102.0, 3.0 - 3.0],
    ]


def test_compute_stats_of_an_empty_run() -> None:
    empty = fills()

    stats = compute_stats([], 1_000_000.0, empty, {})

    assert stats["trading_days"] == 0
    assert stats["ror"] == 0.0
    assert stats["final_balance"] == 1_000_000.0
    assert stats["trades"] == 0 and stats["commission"] == 0.0
    for name in ("annual_yield", "sharpe_ratio", "sortino_ratio", "winning_rate"):
        assert math.isnan(stats[name]), name


def test_compute_stats_names_include_tqsdks() -> None:
    stats = compute_stats([101.0, 99.0, 103.0], 100.0, fills(), {})

    assert {
        "ror",
        "annual_yield",
        "max_drawdown",
        "sharpe_ratio",
        "sortino_ratio",
        "winning_rate",
        "profit_loss_ratio",
        "commission",
        "trading_days",
    } <= stats.keys()
    assert stats["ror"] == pytest.approx(0.03)
    assert stats["max_drawdown"] == pytest.approx(1 - 99 / 101)
