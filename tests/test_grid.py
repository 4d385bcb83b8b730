"""Exact prices on the tick grid (backtest/grid.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backtest.grid import CACHE_LIMIT, PriceGrid


@pytest.mark.parametrize(
    ("tick", "price", "below", "above"),
    [
        (0.2, 3921.0, 3920.8, 3921.2),  # IF: 3921.0 + 0.2 == 3921.2000000000003 in floats
        (0.2, 3921.2, 3921.0, 3921.4),
        (0.02, 338.48, 338.46, 338.5),  # au
        (0.05, 338.45, 338.4, 338.5),
        (0.01, 10.07, 10.06, 10.08),  # A-shares: 10.07 - 0.01 == 10.060000000000002
        (0.001, 2.345, 2.344, 2.346),  # funds
        (1.0, 3500.0, 3499.0, 3501.0),
        (5.0, 70000.0, 69995.0, 70005.0),
        (2.5, 100.0, 97.5, 102.5),
    ],
)
def test_around_gives_the_floats_the_decimal_prices_parse_to(
    tick: float, price: float, below: float, above: float
) -> None:
    got = PriceGrid(tick).around(price)

    assert got == (below, above)
    assert (repr(got[0]), repr(got[1])) == (repr(below), repr(above))


def test_a_price_off_the_grid_is_moved_by_a_plain_tick() -> None:
    grid = PriceGrid(0.01)  # forward-adjusted prices are off the grid

    assert grid.around(10.0034) == (10.0034 - 0.01, 10.0034 + 0.01)
    assert grid.ticks(10.0034) is None
    assert grid.snap(10.0034) == 10.0034


@pytest.mark.parametrize(
    ("tick", "price"), [(0.01, 1800.0015), (0.01, 5000.005), (1e-4, 123.45678), (0.2, 4009.803)]
)
def test_a_price_near_but_off_the_grid_is_off_it(tick: float, price: float) -> None:
    grid = PriceGrid(tick)

    assert grid.ticks(price) is None
    assert grid.snap(price) == price
    assert grid.around(price) == (price - tick, price + tick)


@pytest.mark.parametrize(
    ("tick", "price", "below", "above"),
    [
        (0.2, 3921.2, 3921.0, 3921.4),  # float32: 3921.199951171875
        (0.02, 600.04, 600.02, 600.06),  # float32 rounding is 0.0015 tick here
        (0.01, 2500.01, 2500.0, 2500.02),
        (0.001, 4.321, 4.32, 4.322),
        (0.0001, 4.9999, 4.9998, 5.0),
    ],
)
def test_data_in_single_precision_still_quotes_exact_grid_prices(
    tick: float, price: float, below: float, above: float
) -> None:
    grid = PriceGrid(tick)
    stored = float(np.float32(price))

    assert grid.around(stored) == (below, above)


@pytest.mark.parametrize("price", [math.nan, math.inf, -math.inf])
def test_a_price_that_is_not_finite_is_off_the_grid(price: float) -> None:
    grid = PriceGrid(0.2)

    assert grid.ticks(price) is None
    below, above = grid.around(price)
    assert (below == price - 0.2 or math.isnan(below)) and (
        above == price + 0.2 or math.isnan(above)
    )


def test_snap_removes_float_noise_only() -> None:
    grid = PriceGrid(0.2)

    assert grid.snap(3921.0 + 0.2) == 3921.2
    assert grid.snap(3921.2) == 3921.2
    assert grid.snap(3921.1) == 3921.1  # half a tick away: off the grid, kept
    assert grid.ticks(3921.0 + 0.2) == 19606
    assert grid.price(19606) == 3921.2


def test_on_grid_gives_the_exact_grid_price_or_none_and_remembers_it() -> None:
    grid = PriceGrid(0.2)

    assert grid.on_grid(3921.0 + 0.2) == 3921.2  # float noise removed
    assert grid.on_grid(3921.0 + 0.2) == 3921.2  # the remembered answer is the same
    assert grid.on_grid(3921) == 3921.0
    assert grid.on_grid(3921.1) is None  # half a tick away: off the grid
    assert grid.on_grid(3921.1) is None  # off-grid prices are not remembered as on it
    assert grid.on_grid(math.nan) is None


def test_the_on_grid_memo_is_bounded_and_stays_right_after_it_starts_over() -> None:
    grid = PriceGrid(0.01)
    for n in range(CACHE_LIMIT + 5):
        grid.on_grid(n / 100)

    assert len(grid._snapped) == 5
    assert grid.on_grid(10.07) == 10.07
    assert grid.on_grid(0.1 + 0.2) == 0.3


def test_the_cache_is_bounded_and_answers_stay_right_after_it_starts_over() -> None:
    grid = PriceGrid(0.01)
    for n in range(CACHE_LIMIT + 5):
        grid.around(n / 100)

    assert len(grid.known) == 5
    assert grid.around(10.07) == (10.06, 10.08)


@pytest.mark.parametrize("tick", [0.0, -0.2, math.nan, math.inf])
def test_a_bad_tick_is_refused(tick: float) -> None:
    with pytest.raises(ValueError, match="price tick must be a positive number"):
        PriceGrid(tick)


def test_two_grids_share_nothing() -> None:
    first, second = PriceGrid(0.2), PriceGrid(0.2)
    first.around(3921.0)

    assert second.known == {}
