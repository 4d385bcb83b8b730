"""A-share rules, each against hand-computed values: lots, odd lots, limits, fees."""

from __future__ import annotations

from datetime import date

import pytest

from backtest.ashare import (
    StockFees,
    buy_volume_error,
    commission_due,
    limit_ratio,
    price_limits,
    sell_volume_error,
    stamp_duty_rate,
    transfer_fee,
)

# --- lots ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("volume", "ok"), [(100, True), (1000, True), (150, False), (99, False)])
def test_main_board_buys_are_whole_lots(volume: int, ok: bool) -> None:
    assert (buy_volume_error(volume, "MAIN") is None) is ok


@pytest.mark.parametrize(("volume", "ok"), [(200, True), (201, True), (199, False), (100, False)])
def test_star_board_buys_are_at_least_200_then_any_number(volume: int, ok: bool) -> None:
    assert (buy_volume_error(volume, "STAR") is None) is ok


def test_lot_errors_say_what_is_allowed() -> None:
    assert buy_volume_error(150, "CHINEXT") == "buys must be whole lots of 100 shares, was 150"
    assert buy_volume_error(150, "STAR") == "STAR-board buys need at least 200 shares, was 150"


@pytest.mark.parametrize(
    ("volume", "holding", "sellable", "ok"),
    [
        (100, 250, 250, True),  # a whole lot
        (250, 250, 250, True),  # everything, odd remainder included
        (50, 250, 250, True),  # the odd remainder alone
        (150, 250, 250, True),  # a lot and the odd remainder
        (30, 250, 250, False),  # part of the odd remainder
        (130, 250, 250, False),
        (200, 300, 100, False),  # more than sellable (T+1)
    ],
)
def test_odd_lots_are_sold_only_as_the_whole_remainder(
    volume: int, holding: int, sellable: int, ok: bool
) -> None:
    assert (sell_volume_error(volume, holding, sellable, "MAIN") is None) is ok


def test_star_board_small_sells_only_when_selling_everything() -> None:
    assert sell_volume_error(150, 150, 150, "STAR") is None
    assert sell_volume_error(150, 350, 350, "STAR") == (
        "STAR-board sells need at least 200 shares unless they sell the whole remaining 350, "
        "was 150"
    )


# --- price limits -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("board", "st", "day", "ratio"),
    [
        ("MAIN", False, date(2020, 1, 2), 0.1),
        ("MAIN", True, date(2020, 1, 2), 0.05),
        ("CHINEXT", False, date(2020, 8, 21), 0.1),
        ("CHINEXT", False, date(2020, 8, 24), 0.2),
        ("CHINEXT", True, date(2020, 8, 21), 0.05),
        ("CHINEXT", True, date(2020, 8, 24), 0.2),
        ("STAR", False, date(2020, 1, 2), 0.2),
        ("BSE", False, date(2022, 1, 4), 0.3),
    ],
)
def test_limit_ratio_by_board_st_and_date(board: str, st: bool, day: date, ratio: float) -> None:
    assert limit_ratio(board, st, day) == ratio


@pytest.mark.parametrize(
    ("pre_close", "ratio", "up", "down"),
    [
        (10.0, 0.1, 11.0, 9.0),
        (10.05, 0.1, 11.06, 9.05),  # 11.055 and 9.045 round half up
        (7.77, 0.1, 8.55, 6.99),  # 8.547 -> 8.55, 6.993 -> 6.99
        (3.33, 0.05, 3.5, 3.16),  # ST: 3.4965 -> 3.50, 3.1635 -> 3.16
        (25.55, 0.2, 30.66, 20.44),
        (12.35, 0.3, 16.06, 8.65),  # 16.055 -> 16.06, 8.645 -> 8.65
    ],
)
def test_price_limits_round_half_up_to_the_tick(
    pre_close: float, ratio: float, up: float, down: float
) -> None:
    assert price_limits(pre_close, ratio) == (up, down)


# --- fees ---------------------------------------------------------------------------------


def test_stamp_duty_switches_on_the_dates_of_the_table() -> None:
    assert stamp_duty_rate(date(2008, 9, 18), selling=False) == 0.001  # both sides until then
    assert stamp_duty_rate(date(2008, 9, 19), selling=False) == 0.0
    assert stamp_duty_rate(date(2008, 9, 19), selling=True) == 0.001
    assert stamp_duty_rate(date(2023, 8, 25), selling=True) == 0.001
    assert stamp_duty_rate(date(2023, 8, 28), selling=True) == 0.0005
    assert stamp_duty_rate(date(2007, 5, 30), selling=False) == 0.003


def test_transfer_fee_follows_the_dated_rule_or_a_given_rate() -> None:
    # 2024: 0.001% of turnover on both exchanges.
    assert transfer_fee(date(2024, 1, 2), True, 100_000.0, 10_000) == 1.0
    assert transfer_fee(date(2024, 1, 2), False, 100_000.0, 10_000) == 1.0
    # 2016: 0.002%.
    assert transfer_fee(date(2016, 1, 4), False, 100_000.0, 10_000) == 2.0
    # 2013: Shanghai 0.03% of par value (0.3 per 1,000 shares); Shenzhen 0.00255% of turnover.
    assert transfer_fee(date(2013, 1, 4), True, 100_000.0, 10_000) == 3.0
    assert transfer_fee(date(2015, 7, 31), False, 100_000.0, 10_000) == 2.55
    # 2010: Shanghai 0.0375% of par value, before the 2012-09-01 cut; no minimum.
    assert transfer_fee(date(2010, 1, 4), True, 100_000.0, 10_000) == 3.75
    assert transfer_fee(date(2012, 8, 31), True, 1_000.0, 100) == 0.04  # 0.0375 rounded
    assert transfer_fee(date(2012, 9, 1), True, 1_000.0, 100) == 0.03
    assert transfer_fee(date(2010, 1, 4), True, 100_000.0, 10_000, rate=0.00003) == 3.0


def test_commission_has_a_minimum_per_order_across_its_fills() -> None:
    fees = StockFees(commission_rate=0.00025, commission_min=5.0)
    # One fill of 10,000: 2.50 is below the minimum.
    assert commission_due(fees, 10_000.0, 0.0) == 5.0
    # Second fill brings the order to 30,000: 7.50 in all, 5.00 already paid.
    assert commission_due(fees, 30_000.0, 5.0) == 2.5
    # A third fill that keeps the order under the minimum costs nothing more.
    assert commission_due(StockFees(), 12_000.0, 5.0) == 0.0
    # Large order: the rate applies.
    assert commission_due(fees, 1_000_000.0, 0.0) == 250.0
