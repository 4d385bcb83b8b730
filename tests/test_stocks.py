"""A-share and futures market rules in the engine, against hand-computed expectations.

Real data: SSE 600009 1-minute bars (2020; the Spring Festival closed 2020-01-24 … 2020-01-31)
and CFFEX IF2101 ticks. Hand-made bars where a case needs exact prices (limit locks, the
2023-08-28 stamp-duty switch, suspensions, dividends).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pyarrow as pa
import pytest

from backtest import Api, Backtest, BacktestResult
from backtest.store import Store
from backtest.times import format_ns
from tests.conftest import Bar, ns, write_bars

SH = "600009.SH"


def script(
    actions: dict[str, Callable[[Api], Any]],
    start: date,
    end: date,
    data: Any = None,
    quote: str = SH,
    **kwargs: Any,
) -> BacktestResult:
    """Run ``actions[t](api)`` at the first step at simulated time t (Beijing)."""
    pending = {ns(when): action for when, action in actions.items()}

    async def strategy(api: Api) -> None:
        api.get_quote(quote)
        while True:
            await api.wait_update()
            action = pending.pop(api.now_ns, None)
            if action is not None:
                action(api)

    return Backtest(strategy, start, end, data=data, **kwargs).run()


def messages(result: BacktestResult) -> list[str]:
    return list(result.orders.last_msg)


# --- T+1, lots, short selling -------------------------------------------------------------


def test_t_plus_one_blocks_same_day_sells_and_releases_after_the_holiday() -> None:
    sellable: list[tuple[int, int]] = []

    def check(api: Api) -> None:
        position = api.get_stock_position(SH)
        sellable.append((position.volume, position.can_use_volume))

    def check_then_sell(limit_price: float) -> Callable[[Api], None]:
        def action(api: Api) -> None:
            check(api)
            api.insert_order(SH, "SELL", volume=100, limit_price=limit_price)

        return action

    result = script(
        {
            "2020-01-23 10:00:00": lambda api: api.insert_order(SH, "BUY", volume=200,
                                                                  limit_price=70.04),
            "2020-01-23 14:00:00": check_then_sell(69.01),
            "2020-02-03 10:00:00": check_then_sell(63.30),
        },
        date(2020, 1, 23),
        date(2020, 2, 3),
        init_balance=100_000,
    )  # fmt: skip

    assert sellable == [(200, 0), (200, 200)]
    assert messages(result) == [
        "filled",
        "rejected: selling 100 shares exceeds the 0 sellable shares of 600009.SH; 200 bought "
        "today are sellable from the next trading day",
        "filled",
    ]
    assert list(result.trades.trading_day) == ["20200123", "20200203"]


@pytest.mark.parametrize(
    ("volume", "message"),
    [
        (150, "rejected: buys must be whole lots of 100 shares, was 150 (600009.SH)"),
        (0, "rejected: volume must be a whole number of lots above 0, was 0"),
    ],
)
def test_buys_in_odd_lots_are_rejected(volume: int, message: str) -> None:
    result = script(
        {"2020-01-23 10:00:00": lambda api: api.insert_order(SH, "BUY", volume=volume,
                                                               limit_price=70.04)},
        date(2020, 1, 23), date(2020, 1, 23),
    )  # fmt: skip

    assert messages(result) == [message]


def test_short_selling_and_buying_to_close_are_rejected() -> None:
    def both(api: Api) -> None:
        api.insert_order(SH, "SELL", "OPEN", 100, 70.02)
        api.insert_order(SH, "BUY", "CLOSE", 100, 70.04)

    result = script({"2020-01-23 10:00:00": both}, date(2020, 1, 23), date(2020, 1, 23))

    assert messages(result) == [
        "rejected: short selling 600009.SH is not supported (sell with offset CLOSE)",
        "rejected: 600009.SH is bought with offset OPEN (or none), was CLOSE",
    ]


def test_cash_from_a_sale_buys_again_at_once() -> None:
    # 15,000 - 200 x 71.04 - 5 commission - 0.28 transfer fee = 786.72 left after the buy
    def sell_then_buy(api: Api) -> None:
        api.insert_order(SH, "SELL", volume=200)  # + 14,004 - 5 - 0.28 - 14.00 stamp duty
        api.insert_order(SH, "BUY", volume=200)

    def buy(api: Api) -> None:
        api.insert_order(SH, "BUY", volume=200)

    def run(second: Callable[[Api], None]) -> BacktestResult:
        return script(
            {"2020-01-22 10:00:00": buy, "2020-01-23 10:00:00": second},
            date(2020, 1, 22), date(2020, 1, 23), stock_init_balance=15_000,
        )  # fmt: skip

    both = run(sell_then_buy)
    assert messages(both) == ["filled", "filled", "filled"]
    assert list(both.trades.price) == [71.04, 70.02, 70.04]
    assert messages(run(buy)) == [
        "filled",
        "rejected: insufficient funds: buying 200 shares of 600009.SH at 70.04 needs 14,013.28 "
        "with fees, cash 786.72",  # 14,008 + 5 commission + 0.28 transfer fee
    ]


# --- price limits -------------------------------------------------------------------------


def test_orders_outside_the_price_limits_are_rejected() -> None:
    limits: list[tuple[float, float]] = []

    def place(api: Api) -> None:
        quote = api.get_quote(SH)
        limits.append((quote.upper_limit, quote.lower_limit))
        api.insert_order(SH, "BUY", volume=100, limit_price=78.07)
        api.insert_order(SH, "BUY", volume=100, limit_price=63.85)
        api.insert_order(SH, "BUY", volume=100, limit_price=78.06)  # at the limit: accepted

    result = script({"2020-01-23 10:00:00": place}, date(2020, 1, 23), date(2020, 1, 23))

    # Previous close 70.96: 70.96 x 1.1 = 78.056 -> 78.06; x 0.9 = 63.864 -> 63.86.
    assert limits == [(78.06, 63.86)]
    assert messages(result) == [
        "rejected: limit price 78.07 is above today's upper limit 78.06",
        "rejected: limit price 63.85 is below today's lower limit 63.86",
        "filled",  # a marketable buy fills at its own price, as every limit order
    ]


LIMIT_UP_BARS = [
    ("2023-08-22", 10.0, 10.0, 10.0, 10.0, 1000.0),
    ("2023-08-23", 11.0, 11.0, 11.0, 11.0, 500.0),  # locked at limit-up all day
    ("2023-08-24", 12.1, 12.1, 11.5, 12.0, 800.0),  # opens at limit-up, trades below
]


def test_no_buy_fills_against_a_locked_limit_up(empty_store: Store) -> None:
    symbol = "600123.SH"
    write_bars(empty_store, symbol, 86_400, LIMIT_UP_BARS)

    def buy_at_the_limit(api: Api) -> None:
        quote = api.get_quote(symbol)
        api.insert_order(symbol, "BUY", volume=100, limit_price=quote.upper_limit)

    result = script(
        {"2023-08-23 09:30:00": buy_at_the_limit, "2023-08-24 09:30:00": buy_at_the_limit},
        date(2023, 8, 22), date(2023, 8, 24), data=empty_store.root, quote=symbol,
    )  # fmt: skip

    # 08-23: one-price bar at 11.00, no seller all day; the order expires unfilled.
    # 08-24: it opens at 12.10 (limit-up, no ask at the open print) but trades down to 11.50:
    # the resting buy at 12.10 fills in the day's packets.
    assert messages(result) == [
        "expired: day order (GFD) ended at the settlement of 20230823",
        "filled",
    ]
    assert list(result.orders.limit_price) == [11.0, 12.1]


def test_no_sell_fills_against_a_locked_limit_down(empty_store: Store) -> None:
    symbol = "600123.SH"
    write_bars(
        empty_store, symbol, 86_400,
        [("2023-08-21", 10.0, 10.0, 10.0, 10.0, 1000.0),
         ("2023-08-22", 10.0, 10.0, 10.0, 10.0, 1000.0),
         ("2023-08-23", 9.0, 9.0, 9.0, 9.0, 500.0)],  # locked at limit-down
    )  # fmt: skip

    result = script(
        {
            "2023-08-21 09:30:00": lambda api: api.insert_order(symbol, "BUY", volume=100,
                                                                  limit_price=10.01),
            "2023-08-23 09:30:00": lambda api: api.insert_order(symbol, "SELL", volume=100,
                                                                  limit_price=9.0),
        },
        date(2023, 8, 21), date(2023, 8, 23), data=empty_store.root, quote=symbol,
    )  # fmt: skip

    assert messages(result) == [
        "filled",
        "expired: day order (GFD) ended at the settlement of 20230823",
    ]


def test_no_limits_in_a_listings_first_five_days_under_registration(empty_store: Store) -> None:
    symbol = "688123.SH"  # STAR, listed 2020-01-02: five trading days without limits
    days = ["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07", "2020-01-08", "2020-01-09",
            "2020-01-10"]  # fmt: skip
    bars = [(day, 10.0 + i, 10.5 + i, 9.5 + i, 10.0 + i, 1000.0) for i, day in enumerate(days)]
    write_bars(empty_store, symbol, 86_400, bars)
    limits: list[tuple[float, float]] = []

    def look(api: Api) -> None:
        quote = api.get_quote(symbol)
        limits.append((quote.upper_limit, quote.lower_limit))

    script(
        {f"{day} 09:30:00": look for day in days}, date(2020, 1, 2), date(2020, 1, 10),
        data=empty_store.root, quote=symbol, instruments={symbol: {"list_date": "2020-01-02"}},
    )  # fmt: skip

    assert [math.isnan(up) and math.isnan(down) for up, down in limits[:5]] == [True] * 5
    # then ±20% of the previous close: 14.00 (01-08), 15.00 (01-09)
    assert limits[5:] == [(16.8, 11.2), (18.0, 12.0)]


# --- fees ---------------------------------------------------------------------------------


def test_funds_pay_commission_only(empty_store: Store) -> None:
    symbol = "510300.SH"  # an ETF: no stamp duty on its sells, no transfer fee
    write_bars(
        empty_store, symbol, 60,
        [("2023-08-24 10:00", 4.0, 4.0, 4.0, 4.0, 100.0),
         ("2023-08-25 10:00", 4.2, 4.2, 4.2, 4.2, 100.0)],
    )  # fmt: skip

    result = script(
        {
            "2023-08-24 10:00:00": lambda api: api.insert_order(symbol, "BUY", volume=10_000,
                                                                  limit_price=4.001),
            "2023-08-25 10:00:00": lambda api: api.insert_order(symbol, "SELL", volume=10_000,
                                                                  limit_price=4.199),
        },
        date(2023, 8, 24), date(2023, 8, 25), data=empty_store.root, quote=symbol,
        init_balance=100_000,
    )  # fmt: skip

    trades = result.trades
    assert list(trades.price) == [4.001, 4.199]
    # 0.025% of 40,010 = 10.0025 -> 10.00; of 41,990 = 10.4975 -> 10.50 (half up)
    assert list(trades.commission) == [10.0, 10.5]
    assert list(trades.stamp_duty) == [0.0, 0.0]
    assert list(trades.transfer_fee) == [0.0, 0.0]
    assert list(trades.close_profit) == [0.0, 1959.5]  # 41,990 - 10.50 - (40,010 + 10.00)


def test_fees_with_the_minimum_and_the_stamp_duty_switch(empty_store: Store) -> None:
    symbol = "600123.SH"  # Shanghai: transfer fee 0.001% of turnover since 2022-04-29
    write_bars(
        empty_store, symbol, 60,
        [("2023-08-24 10:00", 10.0, 10.0, 10.0, 10.0, 100.0),
         ("2023-08-25 10:00", 11.0, 11.0, 11.0, 11.0, 100.0),
         ("2023-08-28 10:00", 12.0, 12.0, 12.0, 12.0, 100.0)],
    )  # fmt: skip

    result = script(
        {
            "2023-08-24 10:00:00": lambda api: api.insert_order(symbol, "BUY", volume=300,
                                                                  limit_price=10.01),
            "2023-08-25 10:00:00": lambda api: api.insert_order(symbol, "SELL", volume=100,
                                                                  limit_price=10.99),
            "2023-08-28 10:00:00": lambda api: api.insert_order(symbol, "SELL", volume=200,
                                                                  limit_price=11.99),
        },
        date(2023, 8, 24), date(2023, 8, 28), data=empty_store.root, quote=symbol,
        init_balance=100_000,
    )  # fmt: skip

    trades = result.trades
    assert list(trades.price) == [10.01, 10.99, 11.99]
    # Commission 0.025% with a 5 CNY minimum per order: 0.75, 0.27 and 0.60 -> 5.00 each.
    assert list(trades.commission) == [5.0, 5.0, 5.0]
    # Stamp duty on sells only: 0.1% on 2023-08-25, 0.05% from 2023-08-28.
    assert list(trades.stamp_duty) == [0.0, round(0.001 * 1099, 2), round(0.0005 * 2398, 2)]
    assert list(trades.stamp_duty) == [0.0, 1.1, 1.2]
    # Transfer fee 0.001% of turnover: 0.03, 0.01 and 0.02.
    assert list(trades.transfer_fee) == [0.03, 0.01, 0.02]
    # Profit of a sale: proceeds net of its fees minus the cost (buy fees included).
    cost_per_share = (3003.0 + 5.0 + 0.03) / 300
    assert trades.close_profit[1] == pytest.approx(
        round(1099.0 - 5.0 - 1.1 - 0.01 - 100 * cost_per_share, 2)
    )
    account = result.daily.iloc[-1]
    assert account.stock_total_asset == pytest.approx(
        100_000 - 3003.0 - 5.03 + (1099.0 - 6.11) + (2398.0 - 6.22)
    )


# --- suspension, dividends, both accounts ------------------------------------------------------


def test_orders_on_a_suspended_day_are_rejected(empty_store: Store) -> None:
    symbol = "000002.SZ"
    write_bars(
        empty_store, symbol, 86_400,
        [("2010-01-04", 10.0, 10.2, 9.9, 10.1, 1000.0),
         ("2010-01-05", 10.1, 10.1, 10.1, 10.1, 0.0),  # suspended: no trades
         ("2010-01-06", 10.1, 10.3, 10.0, 10.2, 900.0)],
    )  # fmt: skip
    other = "000001.SZ"
    write_bars(
        empty_store,
        other,
        86_400,
        [(d, 5.0, 5.1, 4.9, 5.0, 100.0) for d in ("2010-01-04", "2010-01-05", "2010-01-06")],
    )

    async def strategy(api: Api) -> None:
        api.get_quote(symbol)
        api.get_quote(other)  # the other stock makes the 01-05 steps
        while True:
            await api.wait_update()
            if api.now.strftime("%m-%d %H:%M") in ("01-05 09:30", "01-06 09:30") and len(
                api.get_order()
            ) < 2 and api.now_ns not in seen:  # fmt: skip
                seen.add(api.now_ns)
                api.insert_order(symbol, "BUY", volume=100, limit_price=10.11)

    seen: set[int] = set()
    result = Backtest(strategy, date(2010, 1, 4), date(2010, 1, 6), data=empty_store.root).run()

    assert messages(result) == [
        "rejected: 000002.SZ has no market data today (suspended)",
        "filled",
    ]


def test_dividends_and_bonus_shares_are_paid_on_the_ex_date(empty_store: Store) -> None:
    symbol = "600123.SH"
    write_bars(
        empty_store, symbol, 86_400,
        [("2019-06-10", 10.0, 10.0, 10.0, 10.0, 1000.0),
         ("2019-06-11", 10.0, 10.0, 10.0, 10.0, 1000.0),
         ("2019-06-12", 7.3, 7.3, 7.3, 7.3, 1000.0)],  # ex-rights: (10 - 0.5) / 1.3 = 7.31
    )  # fmt: skip
    empty_store.write_dividends([(symbol, date(2019, 6, 12), 0.5, 0.3)])
    holdings: list[tuple[int, float, float]] = []

    def look(api: Api) -> None:
        quote = api.get_quote(symbol)
        holdings.append(
            (api.get_stock_position(symbol).volume, api.get_stock_account().cash,
             quote.upper_limit)
        )  # fmt: skip

    script(
        {
            "2019-06-10 09:30:00": lambda api: api.insert_order(symbol, "BUY", volume=1000,
                                                                  limit_price=10.01),
            "2019-06-12 09:30:00": look,
        },
        date(2019, 6, 10), date(2019, 6, 12), data=empty_store.root, quote=symbol,
        init_balance=20_000,
    )  # fmt: skip

    # Bought 1000 at 10.01: 10,010 + 5 commission + 0.20 transfer fee (0.002% of turnover in
    # 2019); on 06-12: +500 cash and +300 shares; the limit comes from the ex-rights previous
    # close (10 - 0.5) / 1.3 = 7.3077, published as 7.31: x 1.1 = 8.041 -> 8.04.
    assert len(holdings) == 1
    volume, cash, upper_limit = holdings[0]
    assert (volume, upper_limit) == (1300, 8.04)
    assert cash == pytest.approx(20_000 - 10_010 - 5.0 - 0.2 + 500)


def test_selling_bonus_shares_keeps_the_run_and_its_round_trips(empty_store: Store) -> None:
    symbol = "600123.SH"
    write_bars(
        empty_store, symbol, 86_400,
        [("2019-06-10", 10.0, 10.0, 10.0, 10.0, 1000.0),
         ("2019-06-11", 10.0, 10.0, 10.0, 10.0, 1000.0),
         ("2019-06-12", 7.3, 7.3, 7.3, 7.3, 1000.0)],
    )  # fmt: skip
    empty_store.write_dividends([(symbol, date(2019, 6, 12), 0.5, 0.3)])

    result = script(
        {
            "2019-06-10 09:30:00": lambda api: api.insert_order(symbol, "BUY", volume=1000,
                                                                  limit_price=10.01),
            "2019-06-12 09:30:00": lambda api: api.insert_order(symbol, "SELL", volume=1300,
                                                                  limit_price=7.29),
        },
        date(2019, 6, 10), date(2019, 6, 12), data=empty_store.root, quote=symbol,
        init_balance=20_000,
    )  # fmt: skip

    assert messages(result) == ["filled", "filled"]
    # the 1000 bought shares make the one round trip; the 300 bonus shares no fill opened
    assert result.round_trips[["volume", "entry_price", "exit_price"]].values.tolist() == [
        [1000, 10.01, 7.29]
    ]


def test_ex_date_limits_come_from_the_ex_rights_price_rounded_to_the_tick(
    empty_store: Store,
) -> None:
    symbol = "600123.SH"
    write_bars(
        empty_store,
        symbol,
        86_400,
        [
            ("2023-08-21", 10.0, 10.0, 10.0, 10.0, 1000.0),
            ("2023-08-22", 9.7, 10.64, 9.6, 10.64, 1000.0),
        ],
    )
    empty_store.write_dividends([(symbol, date(2023, 8, 22), 0.333, 0.0)])

    result = script(
        {"2023-08-22 09:30:00": lambda api: api.insert_order(symbol, "BUY", volume=100,
                                                               limit_price=10.64)},
        date(2023, 8, 21), date(2023, 8, 22), data=empty_store.root, quote=symbol,
    )  # fmt: skip

    # (10.00 - 0.333) / 1 = 9.667, published as 9.67: x 1.1 = 10.637 -> 10.64 (from 9.667
    # unrounded it would be 10.6337 -> 10.63, and this buy would be rejected)
    assert messages(result) == ["filled"]
    assert list(result.trades.price) == [10.64]


def test_one_backtest_holds_futures_and_stocks(sample_store: Store) -> None:
    result = script(
        {
            "2020-01-02 10:00:00": lambda api: (
                api.insert_order("IF2003.IF", "BUY", "OPEN", 1),
                api.insert_order(SH, "BUY", volume=1000),
            ),
        },
        date(2020, 1, 2), date(2020, 1, 3), init_balance=1_000_000, stock_init_balance=500_000,
    )  # fmt: skip

    daily = result.daily
    assert list(result.trades.symbol) == ["IF2003.IF", "600009.SH"]
    assert list(daily.equity) == pytest.approx(list(daily.balance + daily.stock_total_asset))
    assert result.stats["init_balance"] == 1_500_000.0


# --- futures limits and sessions on real ticks ------------------------------------------------


def test_futures_limits_from_the_ticks_and_session_edges() -> None:
    symbol = "IF2101.IF"

    async def strategy(api: Api) -> None:
        api.get_tick_serial(symbol, 2)
        quote = api.get_quote(symbol)
        placed: set[str] = set()
        while True:
            await api.wait_update()
            stamp = api.now.strftime("%H:%M:%S.%f")[:12]
            if stamp in ("10:00:00.400", "14:59:59.900", "15:00:00.400") and stamp not in placed:
                placed.add(stamp)
                if stamp == "10:00:00.400":
                    api.insert_order(symbol, "BUY", "OPEN", 1, quote.upper_limit + 0.2)
                else:
                    api.insert_order(symbol, "SELL", "OPEN", 1, quote.bid_price1)

    result = Backtest(strategy, date(2021, 1, 4), date(2021, 1, 4)).run()

    assert messages(result) == [
        "rejected: limit price 5738 is above today's upper limit 5737.8",
        "filled",  # 14:59:59.900 is inside the session
        "rejected: IF2101.IF does not trade at 2021-01-04 15:00:00 (sessions "
        "09:30-11:30,13:00-15:00)",
    ]


# --- yesterday's prices, whatever the strategy subscribes ------------------------------------


def test_limits_are_known_when_a_stock_is_first_asked_for_during_the_day() -> None:
    from datetime import datetime

    limits: list[tuple[float, float]] = []

    async def strategy(api: Api) -> None:
        quote = api.get_quote(SH)  # one row of 1m history: today's 09:59 bar, no yesterday
        limits.append((quote.upper_limit, quote.lower_limit))
        api.insert_order(SH, "BUY", volume=100, limit_price=99.0)
        while True:
            await api.wait_update()

    start = datetime(2020, 1, 23, 10, 0)
    result = Backtest(strategy, start, date(2020, 1, 23), init_balance=100_000).run()

    assert limits == [(78.06, 63.86)]  # from the 2020-01-22 close, 70.96
    assert messages(result) == ["rejected: limit price 99 is above today's upper limit 78.06"]


@pytest.mark.parametrize(
    ("daily", "limits"),
    [
        # daily bars lag the 1-minute bars: yesterday's close is the newest one, 11.00
        ([("2023-08-21", 10.0, 10.0, 10.0, 10.0, 500.0)], (12.1, 9.9)),
        # a daily bar of yesterday: its close is the official one (10.95), not the bar's 11.00
        ([("2023-08-22", 10.0, 11.0, 10.0, 10.95, 500.0)], (12.05, 9.86)),
    ],
)
def test_limits_come_from_the_newest_close_before_today(
    empty_store: Store, daily: list[Bar], limits: tuple[float, float]
) -> None:
    symbol = "600123.SH"
    write_bars(
        empty_store,
        symbol,
        60,
        [
            ("2023-08-21 09:30", 10.0, 10.0, 10.0, 10.0, 100.0),
            ("2023-08-22 09:30", 10.0, 11.0, 10.0, 11.0, 100.0),
            ("2023-08-23 09:30", 11.0, 11.0, 11.0, 11.0, 100.0),
        ],
    )
    write_bars(empty_store, symbol, 86_400, daily)
    seen: list[tuple[float, float]] = []

    def look(api: Api) -> None:
        quote = api.get_quote(symbol)
        seen.append((quote.upper_limit, quote.lower_limit))

    script({"2023-08-23 09:30:00": look}, date(2023, 8, 23), date(2023, 8, 23),
           data=empty_store.root, quote=symbol)  # fmt: skip

    assert seen == [limits]


DAYS = ("2023-08-21", "2023-08-22", "2023-08-23")


@pytest.mark.parametrize("also_klines", [False, True])
def test_a_daily_only_stock_first_asked_for_during_the_day_trades(
    empty_store: Store, also_klines: bool
) -> None:
    write_bars(empty_store, "600123.SH", 86_400, [(d, 10.0, 10.2, 9.9, 10.1, 1000.0) for d in DAYS])
    write_bars(empty_store, "600124.SH", 86_400, [(d, 5.0, 5.1, 4.9, 5.0, 1000.0) for d in DAYS])
    seen: list[tuple[str, float, float]] = []

    def act(api: Api) -> None:
        if also_klines:
            api.get_kline_serial("600124.SH", 86_400, 5)
        quote = api.get_quote("600124.SH")  # today's bar is in progress: not a suspension
        seen.append((quote.datetime, quote.last_price, quote.upper_limit))
        api.insert_order("600124.SH", "BUY", volume=100, limit_price=5.1)

    result = script(
        {"2023-08-22 09:30:00": act}, date(2023, 8, 21), date(2023, 8, 23),
        data=empty_store.root, quote="600123.SH",
    )  # fmt: skip

    assert seen == [("2023-08-22 09:30:00.000000", 5.0, 5.5)]
    assert messages(result) == ["filled"]


def test_a_tick_only_stock_has_limits_on_the_first_day(empty_store: Store) -> None:
    import pyarrow as pa

    times = ["2023-08-21 09:30:00", "2023-08-21 14:59:00", "2023-08-22 09:30:00",
             "2023-08-22 09:31:00"]  # fmt: skip
    prices = [10.0, 10.0, 10.0, 10.01]
    empty_store.write(
        "600123.SH", 0,
        pa.table({"datetime": [ns(t) for t in times], "last_price": prices,
                  "volume": [1.0, 2.0, 1.0, 2.0], "bid_price1": [p - 0.01 for p in prices],
                  "ask_price1": [p + 0.01 for p in prices], "bid_volume1": [5.0] * 4,
                  "ask_volume1": [5.0] * 4}),
    )  # fmt: skip

    async def strategy(api: Api) -> None:
        api.get_tick_serial("600123.SH", 5)
        while api.now_ns < ns("2023-08-22 09:30:00"):
            await api.wait_update()
        api.insert_order("600123.SH", "BUY", volume=100, limit_price=15.0)
        while True:
            await api.wait_update()

    result = Backtest(strategy, date(2023, 8, 22), date(2023, 8, 22), data=empty_store.root).run()
    assert messages(result) == ["rejected: limit price 15 is above today's upper limit 11"]


@pytest.mark.parametrize("start", [date(2023, 8, 21), date(2023, 8, 22)])
def test_a_backtest_starting_on_an_ex_date_uses_the_ex_rights_close(
    empty_store: Store, start: date
) -> None:
    write_bars(
        empty_store, "600123.SH", 86_400,
        [("2023-08-21", 10.0, 10.0, 10.0, 10.0, 1000.0),
         ("2023-08-22", 5.0, 5.1, 4.9, 5.0, 1000.0)],  # 10-for-10 bonus issue: 10 / 2 = 5
    )  # fmt: skip
    empty_store.write_dividends([("600123.SH", date(2023, 8, 22), 0.0, 1.0)])
    limits: list[float] = []

    def act(api: Api) -> None:
        limits.append(api.get_quote("600123.SH").upper_limit)
        api.insert_order("600123.SH", "BUY", volume=100, limit_price=5.1)

    result = script(
        {"2023-08-22 09:30:00": act}, start, date(2023, 8, 22), data=empty_store.root,
        quote="600123.SH",
    )  # fmt: skip
    assert limits == [5.5]
    assert messages(result) == ["filled"]


@pytest.mark.parametrize("ex_date", [date(2023, 8, 21), date(2023, 8, 19)])  # Mon, Sat
def test_a_dividend_is_paid_on_its_ex_date_or_the_next_trading_day(
    empty_store: Store, ex_date: date
) -> None:
    days = ("2023-08-17", "2023-08-18", "2023-08-21", "2023-08-22")
    write_bars(empty_store, "600123.SH", 86_400, [(d, 10.0, 10.1, 9.9, 10.0, 1000.0) for d in days])
    empty_store.write_dividends([("600123.SH", ex_date, 1.0, 0.0)])
    result = script(
        {"2023-08-17 09:30:00": lambda api: api.insert_order("600123.SH", "BUY", volume=1000,
                                                               limit_price=10.1)},
        date(2023, 8, 17), date(2023, 8, 22), data=empty_store.root, quote="600123.SH",
        init_balance=100_000,
    )  # fmt: skip
    # 100,000 − 10,100 − 5 commission − 0.10 transfer fee (0.001%) + 1,000 dividend
    assert list(result.daily.stock_cash) == [89_894.9, 89_894.9, 90_894.9, 90_894.9]


def test_a_longer_daily_serial_does_not_repeat_its_oldest_bar(empty_store: Store) -> None:
    days = ("2023-08-16", "2023-08-17", "2023-08-18", "2023-08-21", "2023-08-22")
    write_bars(
        empty_store, "600123.SH", 86_400,
        [(d, 10.0 + i, 10.5 + i, 9.5 + i, 10.2 + i, 1000.0) for i, d in enumerate(days)],
    )  # fmt: skip
    closes: list[list[float]] = []

    async def strategy(api: Api) -> None:
        api.get_kline_serial("600123.SH", 86_400, 2)
        await api.wait_update()
        longer = api.get_kline_serial("600123.SH", 86_400, 5)
        await api.wait_update()
        closes.append(longer.to_numpy("close").tolist())
        closes.append(longer.to_numpy("volume").tolist())
        raise BacktestFinished

    from backtest import BacktestFinished

    Backtest(strategy, date(2023, 8, 22), date(2023, 8, 22), data=empty_store.root).run()
    # 08-22 is in progress at the start: opening state (close = open = 14, volume 0)
    assert closes == [[10.2, 11.2, 12.2, 13.2, 14.0], [1000.0, 1000.0, 1000.0, 1000.0, 0.0]]


def test_futures_without_a_settlement_price_have_no_rule_limits() -> None:
    # IF2003 traded at its real limit-down, 3592.0, on 2020-02-03; 1m bars carry no
    # settlement price, the base of futures limits, so the rule's limits are not applied.
    limits: list[tuple[float, float]] = []

    def sell(api: Api) -> None:
        quote = api.get_quote("IF2003.IF")
        limits.append((quote.upper_limit, quote.lower_limit))
        api.insert_order("IF2003.IF", "SELL", "OPEN", 1, 3592.0)

    result = script(
        {"2020-02-03 09:30:00": sell}, date(2020, 2, 3), date(2020, 2, 3), quote="IF2003.IF"
    )
    assert [math.isnan(x) for x in limits[0]] == [True, True]
    assert messages(result) == ["filled"]


def test_stored_bars_close_at_session_breaks(sample_store: Store, tmp_path: Any) -> None:
    from backtest.resample import resample_store

    store = Store.create(tmp_path / "gold")
    calendar = sample_store.calendar()
    assert calendar is not None
    store.write_calendar(calendar.days())
    store.write_instruments({"au1912.SF": sample_store.instruments()["au1912.SF"]})
    start, end = ns("2019-07-01 18:00:00"), ns("2019-07-02 15:00:00")
    for batch in sample_store.scan("au1912.SF", 60, start, end, ["open", "high", "low", "close",
                                                                 "volume"]):  # fmt: skip
        store.write("au1912.SF", 60, pa.Table.from_batches([batch]))
    resample_store(store, "au1912.SF", 60, 3600)  # stored hourly bars, SHFE sessions
    times: list[int] = []

    async def strategy(api: Api) -> None:
        api.get_kline_serial("au1912.SF", 3600, 2)
        while True:
            await api.wait_update()
            times.append(api.now_ns)

    Backtest(strategy, date(2019, 7, 2), date(2019, 7, 2), data=store.root).run()

    assert times == sorted(times)  # time never goes backwards
    shown = [format_ns(t)[11:26] for t in times]
    # the 10:00 bar is cut short by the 10:15 break: it closes before the 10:30 bar opens
    assert shown[shown.index("10:00:00.000000") :][:3] == [
        "10:00:00.000000", "10:14:59.999999", "10:30:00.000000"
    ]  # fmt: skip


def test_stored_bars_spanning_a_break_close_with_their_period(
    sample_store: Store, tmp_path: Any
) -> None:
    # Clock-aligned hourly bars, as tqsdk's: the 10:00 bar holds 10:00-10:15 and 10:30-11:00.
    # Closing it at the 10:15 break would show 10:59's close at 10:14:59.999999.
    store = Store.create(tmp_path / "gold")
    calendar = sample_store.calendar()
    assert calendar is not None
    store.write_calendar(calendar.days())
    store.write_instruments({"au1912.SF": sample_store.instruments()["au1912.SF"]})
    minutes = pa.Table.from_batches(list(sample_store.scan(
        "au1912.SF", 60, ns("2019-07-02 09:00"), ns("2019-07-02 15:00"),
        ["open", "high", "low", "close", "volume"],
    ))).to_pandas()  # fmt: skip
    hour = minutes.datetime // 3_600_000_000_000 * 3_600_000_000_000  # whole hours (UTC+8: too)
    hourly = minutes.groupby(hour).agg(
        open=("open", "first"), high=("high", "max"), low=("low", "min"),
        close=("close", "last"), volume=("volume", "sum"),
    ).reset_index()  # fmt: skip
    store.write("au1912.SF", 3600, pa.Table.from_pandas(hourly, preserve_index=False))
    closes: list[tuple[str, float]] = []

    async def strategy(api: Api) -> None:
        klines = api.get_kline_serial("au1912.SF", 3600, 2)
        while True:
            await api.wait_update()
            if api.is_changing(klines.iloc[-1], "volume") and klines.iloc[-1].volume > 0:
                closes.append((format_ns(api.now_ns)[11:26], klines.iloc[-1].close))

    Backtest(strategy, datetime(2019, 7, 2, 8, 0), datetime(2019, 7, 2, 16, 0),
             data=store.root).run()  # fmt: skip

    last_close = dict(zip(hour, minutes.close, strict=True))  # the last minute of each hour
    assert closes == [
        ("09:59:59.999999", last_close[ns("2019-07-02 09:00")]),
        ("10:59:59.999999", last_close[ns("2019-07-02 10:00")]),  # 10:59's close, at 10:59
        ("11:29:59.999999", last_close[ns("2019-07-02 11:00")]),  # the session closes
        ("13:59:59.999999", last_close[ns("2019-07-02 13:00")]),
        ("14:59:59.999999", last_close[ns("2019-07-02 14:00")]),
    ]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, "rejected: limit price 9.9378 is not a multiple of the price tick 0.01 of 600123.SH"),
        ({"600123.SH": {"price_tick": 0.0001}}, "filled"),  # the recipe for adjusted prices
    ],
)
def test_forward_adjusted_prices_trade_with_a_finer_price_tick(
    empty_store: Store, overrides: dict[str, Any], expected: str
) -> None:
    write_bars(
        empty_store, "600123.SH", 86_400,
        [("2023-08-21", 9.8734, 9.9912, 9.8012, 9.9377, 1000.0),  # front_ratio prices are
         ("2023-08-22", 9.9377, 10.0412, 9.8825, 10.0003, 1000.0)],  # off the 0.01 grid
    )  # fmt: skip

    def buy_at_the_ask(api: Api) -> None:
        quote = api.get_quote("600123.SH")
        api.insert_order("600123.SH", "BUY", volume=100, limit_price=round(9.9377 + 0.0001, 4))
        assert quote.ask_price1 == pytest.approx(9.9378 if overrides else 9.9477)

    result = script(
        {"2023-08-22 09:30:00": buy_at_the_ask}, date(2023, 8, 21), date(2023, 8, 22),
        data=empty_store.root, quote="600123.SH", instruments=overrides,
    )  # fmt: skip
    assert messages(result) == [expected]
