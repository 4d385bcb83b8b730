"""Futures accounting by hand: balance, margin, commission, close profit, settlement.

Two scenarios:

- real SHFE gold (au1912, tick 0.05, x1000, 10 CNY per lot, close-today free, margin 8%)
  across a night session that crosses midnight, with the SHFE CLOSE/CLOSETODAY distinction;
- hand-made IF bars with round fee parameters, closing today's lot at the close-today rate and
  yesterday's lot against the settlement price.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from backtest import Api, Backtest, BacktestResult
from backtest.account import Account, Position
from backtest.instrument import InstrumentTable
from backtest.quotes import Quote, synthesized_state
from backtest.store import Store
from tests.conftest import ns, write_bars

AU = "au1912.SF"


def scripted(
    symbol: str, actions: dict[str, Any], start: date, end: date, data: Any, **kwargs: Any
) -> tuple[BacktestResult, list[dict[str, float]]]:
    """Run actions at simulated times; return the result and account snapshots after each."""
    pending = {ns(when): action for when, action in actions.items()}
    snapshots: list[dict[str, float]] = []

    async def strategy(api: Api) -> None:
        api.get_quote(symbol)
        account = api.get_account()
        while True:
            await api.wait_update()
            action = pending.pop(api.now_ns, None)
            if action is not None:
                action(api)
                await api.wait_update()  # the broker handles the orders
                snapshots.append(account.snapshot())

    result = Backtest(strategy, start, end, data=data, **kwargs).run()
    return result, snapshots


def test_gold_night_session_across_midnight_and_settlement(sample_store: Store) -> None:
    def open_two(api: Api) -> None:  # 23:30 bar opens at 288.15: ask 288.20
        api.insert_order(AU, "BUY", "OPEN", 2)

    def close_one_today(api: Api) -> None:  # 00:30 bar opens at 288.35: bid 288.30
        api.insert_order(AU, "SELL", "CLOSE", 1)  # no yesterday's lots: rejected
        api.insert_order(AU, "SELL", "CLOSETODAY", 1)

    def close_yesterdays(api: Api) -> None:  # 09:05 bar opens at 288.95: bid 288.90
        api.insert_order(AU, "SELL", "CLOSE", 1)

    result, snapshots = scripted(
        AU,
        {
            "2019-04-09 23:30:00": open_two,
            "2019-04-10 00:30:00": close_one_today,
            "2019-04-11 09:05:00": close_yesterdays,
        },
        date(2019, 4, 10),
        date(2019, 4, 11),
        sample_store.root,
        init_balance=1_000_000,
    )

    trades = result.trades
    assert list(trades.offset) == ["OPEN", "CLOSETODAY", "CLOSE"]
    assert list(trades.price) == pytest.approx([288.20, 288.30, 288.90])
    assert list(trades.volume) == [2, 1, 1]
    assert list(trades.commission) == [20.0, 0.0, 10.0]
    # Close profit: today's lot against its open price, yesterday's against settlement 288.55.
    assert list(trades.close_profit) == pytest.approx([0.0, 100.0, 350.0])
    # The after-midnight fill belongs to the trading day of the night session.
    assert list(trades.trading_day) == ["20190410", "20190410", "20190411"]
    assert trades.trade_date_time[1] == ns("2019-04-10 00:30:00")

    rejected = result.orders[result.orders.is_error]
    assert list(rejected.last_msg) == [
        "rejected: CLOSE of 1 lot(s) exceeds the closable 0 lot(s) of yesterday's long position "
        "in au1912.SF (use CLOSETODAY for today's lots)"
    ]
    # After the open: margin 8% x 288.20 x 1000 x 2.
    assert snapshots[0]["margin"] == pytest.approx(46_112.0)
    assert snapshots[0]["commission"] == 20.0

    daily = result.daily
    assert list(daily.trading_day) == [date(2019, 4, 10), date(2019, 4, 11)]
    first, second = daily.iloc[0], daily.iloc[1]
    # Settled at the last price, 288.55 (the 14:59 bar's close): the lot left made 350.
    assert first.position_profit == pytest.approx(350.0)
    assert first.close_profit == pytest.approx(100.0)
    assert first.commission == 20.0
    assert first.balance == pytest.approx(1_000_430.0)
    assert first.margin == pytest.approx(23_084.0)  # re-marked: 8% x 288.55 x 1000
    assert first.available == pytest.approx(1_000_430.0 - 23_084.0)
    assert second.pre_balance == pytest.approx(1_000_430.0)
    assert second.close_profit == pytest.approx(350.0)
    assert second.commission == 10.0
    assert second.margin == 0.0
    assert second.balance == pytest.approx(1_000_770.0)
    assert result.stats["final_balance"] == pytest.approx(1_000_770.0)


IF = "IF2003.IF"
ROUND_FEES = {
    "IF": {
        "margin_ratio": 0.1,
        "commission_unit": "turnover",
        "commission_open": 0.0001,
        "commission_close": 0.0001,
        "commission_close_today": 0.001,
    }
}
IF_BARS = [
    ("2020-01-02 09:30", 4000.0, 4010.0, 3990.0, 4005.0, 10.0),
    ("2020-01-02 09:31", 4005.0, 4008.0, 4001.0, 4002.0, 10.0),
    ("2020-01-02 09:32", 4002.0, 4004.0, 3998.0, 4000.0, 10.0),
    ("2020-01-03 09:30", 4001.0, 4003.0, 3999.0, 4002.0, 10.0),
]


@pytest.fixture
def if_store(empty_store: Store) -> Store:
    return write_bars(empty_store, IF, 60, IF_BARS)


def test_cffex_close_today_fee_then_close_yesterday_against_settlement(if_store: Store) -> None:
    result, _ = scripted(
        IF,
        {
            "2020-01-02 09:30:00": lambda api: api.insert_order(IF, "BUY", "OPEN", 2),
            "2020-01-02 09:32:00": lambda api: api.insert_order(IF, "SELL", "CLOSE", 1),
            "2020-01-03 09:30:00": lambda api: api.insert_order(IF, "SELL", "CLOSE", 1),
        },
        date(2020, 1, 2),
        date(2020, 1, 3),
        if_store.root,
        instruments=ROUND_FEES,
    )

    trades = result.trades
    assert list(trades.price) == pytest.approx([4000.2, 4001.8, 4000.8])
    # 0.0001 x 4000.2 x 300 x 2; close-today 0.001 x 4001.8 x 300; 0.0001 x 4000.8 x 300
    assert list(trades.commission) == [240.01, 1200.54, 120.02]
    # Today's lot against its open price; yesterday's against the settlement price 4000.
    assert list(trades.close_profit) == pytest.approx([0.0, 480.0, 240.0])

    first, second = result.daily.iloc[0], result.daily.iloc[1]
    assert first.position_profit == pytest.approx(-60.0)  # (4000 - 4000.2) x 300
    assert first.commission == pytest.approx(1440.55)
    assert first.balance == pytest.approx(10_000_000 + 480 - 1440.55 - 60)
    assert first.margin == pytest.approx(120_000.0)  # 10% x 4000 x 300
    assert second.balance == pytest.approx(10_000_000 + 480 - 1440.55 - 60 + 240 - 120.02)


def test_closetoday_outside_shfe_closes_yesterdays_lots_first(if_store: Store) -> None:
    positions: list[tuple[int, int]] = []

    def add_and_close(api: Api) -> None:
        api.insert_order(IF, "BUY", "OPEN", 1)
        api.insert_order(IF, "SELL", "CLOSETODAY", 1)

    def record(api: Api) -> None:
        position = api.get_position(IF)
        assert isinstance(position, Position)
        positions.append((position.pos_long_his, position.pos_long_today))

    scripted(
        IF,
        {
            "2020-01-02 09:30:00": lambda api: api.insert_order(IF, "BUY", "OPEN", 1),
            "2020-01-03 09:30:00": add_and_close,
            "2020-01-03 09:30:59.999999": record,
        },
        date(2020, 1, 2),
        date(2020, 1, 3),
        if_store.root,
        instruments=ROUND_FEES,
    )

    assert positions == [(0, 1)]


def test_position_is_re_marked_at_settlement(if_store: Store) -> None:
    seen: list[Any] = []

    def inspect(api: Api) -> None:
        position = api.get_position(IF)
        assert isinstance(position, Position)
        seen.append(
            (
                position.pos_long_his,
                position.pos_long_today,
                position.open_price_long,
                position.position_price_long,
                position.margin_long,
            )
        )

    scripted(
        IF,
        {
            "2020-01-02 09:30:00": lambda api: api.insert_order(IF, "BUY", "OPEN", 1),
            "2020-01-03 09:30:00": inspect,
        },
        date(2020, 1, 2),
        date(2020, 1, 3),
        if_store.root,
        instruments=ROUND_FEES,
    )

    assert seen == [(1, 0, pytest.approx(4000.2), pytest.approx(4000.0), pytest.approx(120_000))]


def test_resting_open_order_freezes_margin_until_cancelled(if_store: Store) -> None:
    frozen: list[tuple[float, float]] = []
    orders: list[Any] = []

    async def strategy(api: Api) -> None:
        api.get_quote(IF)
        account = api.get_account()
        while True:
            await api.wait_update()
            if api.now_ns == ns("2020-01-02 09:31:00") and not orders:
                orders.append(api.insert_order(IF, "BUY", "OPEN", 2, 3999.0))
                await api.wait_update()
                frozen.append((account.frozen_margin, account.available))
                api.cancel_order(orders[0])
                await api.wait_update()
                frozen.append((account.frozen_margin, account.available))

    Backtest(
        strategy, date(2020, 1, 2), date(2020, 1, 2), data=if_store.root,
        instruments=ROUND_FEES,
    ).run()  # fmt: skip

    # 10% x 3999 x 300 x 2 held while the order rests, released by the cancel.
    assert frozen == [
        (pytest.approx(239_940.0), pytest.approx(10_000_000 - 239_940.0)),
        (0.0, 10_000_000.0),
    ]


def test_money_rounds_to_the_cent_halves_away_from_zero() -> None:
    from backtest.money import round_money

    # 0.000345 x 4110.0 x 300 is exactly 425.385 in decimal, 425.38499999999993 in binary.
    assert round_money(0.000345 * 4110.0 * 300) == 425.39
    assert round_money(2.675) == 2.68
    assert round_money(-1.005) == -1.01
    assert round_money(27.60138) == 27.6
    assert round_money(0.004) == 0.0
    assert round_money(1e9 + 0.125) == 1e9 + 0.13


def test_account_totals_add_the_positions_sides_by_hand() -> None:
    # IF: 2 long lots opened today at 4000, 1 short lot carried at 4010 (yesterday's settlement),
    # last 4005; au: 1 long lot at 350 with no price yet (worth its carrying cost).
    table = InstrumentTable(
        {}, {"IF": {"margin_ratio_long": 0.1, "margin_ratio_short": 0.12},
             "au": {"margin_ratio_long": 0.08}},
    )  # fmt: skip
    index_future, gold = table.get("IF2003.IF"), table.get(AU)
    quote = Quote(index_future)
    quote.update(synthesized_state(1, 4005.0, 4004.8, 4005.2, 0.0), 0)
    futures = Position(index_future, quote)
    futures.pos_long_today, futures.open_cost_long_today = 2, 2_400_000.0
    futures.pos_short_his, futures.position_cost_short_his = 1, 1_203_000.0
    futures.open_cost_short_his = 1_206_000.0
    unpriced = Position(gold, Quote(gold))
    unpriced.pos_long_today, unpriced.open_cost_long_today = 1, 350_000.0
    account = Account(1_000_000, {"IF2003.IF": futures, AU: unpriced})
    account.close_profit, account.commission, account.frozen_margin = 100.0, 20.5, 10_000.0

    # long: 2 x 4005 x 300 - 2,400,000 = 3,000; short: 1,203,000 - 4005 x 300 = 1,500
    assert futures.position_profit == 4_500.0
    assert futures.position_profit == futures.position_profit_long + futures.position_profit_short
    # 0.1 x 2,400,000 + 0.12 x 1,203,000
    assert futures.margin == 384_360.0 == futures.margin_long + futures.margin_short
    assert futures.float_profit == 3_000.0 + 4_500.0  # the short opened at 4020
    assert (unpriced.position_profit, unpriced.margin) == (0.0, 0.08 * 350_000.0)
    assert account.position_profit == 4_500.0
    assert account.margin == 384_360.0 + 28_000.0
    assert account.balance == 1_000_000 + 100.0 - 20.5 + 4_500.0 == 1_004_579.5
    assert account.available == 1_004_579.5 - 412_360.0 - 10_000.0 == 582_219.5
