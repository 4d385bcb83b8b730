"""Quote synthesis from klines, and ticks as the quote (DESIGN.md §6)."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pytest

from backtest import Api, Backtest
from backtest.grid import PriceGrid
from backtest.quotes import close_packets, close_state, limited_state, open_state
from backtest.store import Store
from tests.conftest import ns, write_bars
from tests.test_merge import write_ticks

SYMBOL = "IF2003.IF"  # price tick 0.2


def test_open_state_is_open_plus_minus_one_tick() -> None:
    grid = PriceGrid(0.2)
    assert open_state(5, 4000.0, 100.0, grid) == (5, 4000.0, 3999.8, 1.0, 4000.2, 1.0, 0.0, 100.0)
    # exact grid prices, not float sums: 3921.0 + 0.2 == 3921.2000000000003
    assert open_state(5, 3921.0, 1.0, grid)[2:5] == (3920.8, 1.0, 3921.2)


@pytest.mark.parametrize(
    ("price", "locked", "bid", "ask"),
    [
        (10.0, False, 9.99, 10.01),  # inside the limits: price ∓ tick
        (11.0, False, 10.99, 11.0),  # at limit-up, trading away from it: ask clipped
        (11.0, True, 10.99, math.nan),  # locked at limit-up: no ask
        (9.0, True, math.nan, 9.01),  # locked at limit-down: no bid
        (11.5, False, 11.49, 11.51),  # beyond the rule's limit: the data wins, nothing clipped
        (8.5, True, 8.49, 8.51),
    ],
)
def test_limited_state_clips_to_the_limits_and_never_crosses(
    price: float, locked: bool, bid: float, ask: float
) -> None:
    state = limited_state(7, price, price, 100.0, PriceGrid(0.01), 11.0, 9.0, locked)
    assert state[:2] == (7, price) and state[5:] == (1.0, 0.0, 100.0)
    assert state[2] == bid or (math.isnan(bid) and math.isnan(state[2]))
    assert state[4] == ask or (math.isnan(ask) and math.isnan(state[4]))


def test_close_packets_are_high_low_close_each_carrying_the_close() -> None:
    grid = PriceGrid(0.2)
    high, low, close = close_packets(9, 4010.0, 3990.0, 4005.0, 101.0, grid)

    assert high == (9, 4005.0, 4009.8, 1.0, 4010.2, 1.0, 0.0, 101.0)
    assert low == (9, 4005.0, 3989.8, 1.0, 3990.2, 1.0, 0.0, 101.0)
    assert (
        close
        == close_state(9, 4005.0, 101.0, grid)
        == (9, 4005.0, 4004.8, 1.0, 4005.2, 1.0, 0.0, 101.0)
    )


def quote_steps(store: Store, subscribe: Any, fields: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """Run to the end; record (now, *quote fields) after each update."""
    seen: list[tuple[Any, ...]] = []

    async def strategy(api: Api) -> None:
        subscribe(api)
        quote = api.get_quote(SYMBOL)
        seen.append(("before", *(getattr(quote, f) for f in fields)))
        while True:
            await api.wait_update()
            seen.append((api.now.strftime("%H:%M:%S.%f"), *(getattr(quote, f) for f in fields)))

    Backtest(strategy, date(2020, 1, 2), date(2020, 1, 2), data=store.root).run()
    return seen


BARS = [
    ("2020-01-02 09:29", 3990.0, 3995.0, 3985.0, 3992.0, 5.0),  # history before the bars
    ("2020-01-02 09:30", 4000.0, 4010.0, 3990.0, 4005.0, 10.0),
    ("2020-01-02 09:31", 4005.0, 4008.0, 4001.0, 4002.0, 10.0),
]


def test_quote_sequence_from_one_minute_bars(empty_store: Store) -> None:
    write_bars(empty_store, SYMBOL, 60, BARS)

    seen = quote_steps(
        empty_store,
        lambda api: None,
        ("datetime", "last_price", "bid_price1", "ask_price1", "bid_volume1", "volume"),
    )

    # get_quote subscribed 1m bars; nothing happened before the start (18:00 the day before).
    assert seen[0][:2] == ("before", "") and all(math.isnan(v) for v in seen[0][2:])
    assert seen[1][:2] == ("18:00:00.000000", "") and all(math.isnan(v) for v in seen[1][2:])
    assert seen[2:] == [
        ("09:29:00.000000", "2020-01-02 09:29:00.000000", 3990.0, 3989.8, 3990.2, 1.0, 0.0),
        ("09:29:59.999999", "2020-01-02 09:29:59.999999", 3992.0, 3991.8, 3992.2, 1.0, 0.0),
        ("09:30:00.000000", "2020-01-02 09:30:00.000000", 4000.0, 3999.8, 4000.2, 1.0, 0.0),
        ("09:30:59.999999", "2020-01-02 09:30:59.999999", 4005.0, 4004.8, 4005.2, 1.0, 0.0),
        ("09:31:00.000000", "2020-01-02 09:31:00.000000", 4005.0, 4004.8, 4005.2, 1.0, 0.0),
        ("09:31:59.999999", "2020-01-02 09:31:59.999999", 4002.0, 4001.8, 4002.2, 1.0, 0.0),
    ]


def test_quote_shows_the_bar_in_progress_before_the_first_update(empty_store: Store) -> None:
    write_bars(empty_store, SYMBOL, 60, BARS)
    seen: list[tuple[Any, ...]] = []

    async def strategy(api: Api) -> None:
        quote = api.get_quote(SYMBOL)
        seen.append((quote.datetime, quote.last_price, quote.ask_price1, quote.ask_volume1))
        await api.wait_update()  # delivers the subscription: time does not move
        seen.append((api.now.strftime("%H:%M:%S"), quote.last_price))
        await api.wait_update()
        seen.append((api.now.strftime("%H:%M:%S.%f"), quote.last_price))

    start = datetime(2020, 1, 2, 9, 30, 30)  # in the middle of the 09:30 bar
    Backtest(strategy, start, date(2020, 1, 2), data=empty_store.root).run()

    assert seen == [
        ("2020-01-02 09:30:00.000000", 4000.0, 4000.2, 1.0),  # the bar opened at 4000
        ("09:30:30", 4000.0),
        ("09:30:59.999999", 4005.0),
    ]


def test_quote_from_history_when_subscribed_mid_session(empty_store: Store) -> None:
    write_bars(empty_store, SYMBOL, 60, BARS)
    write_bars(empty_store, "IH2003.IF", 60, BARS)
    seen: list[tuple[Any, ...]] = []

    async def strategy(api: Api) -> None:
        api.get_kline_serial("IH2003.IF", 60, 1)
        while True:
            await api.wait_update()
            if api.now_ns == ns("2020-01-02 09:31:00") and not seen:
                quote = api.get_quote(SYMBOL)  # subscribed now: history up to 09:31:00
                seen.append((quote.datetime, quote.last_price, quote.ask_price1))

    Backtest(strategy, date(2020, 1, 2), date(2020, 1, 2), data=empty_store.root).run()

    # The 09:31 bar opened at this very moment: its opening state is the quote.
    assert seen == [("2020-01-02 09:31:00.000000", 4005.0, 4005.2)]


def test_a_larger_duration_close_emits_one_quote_from_its_close(empty_store: Store) -> None:
    write_bars(empty_store, SYMBOL, 60, BARS[1:])
    # A 5-minute bar whose close differs from the last 1-minute close, to tell them apart.
    write_bars(empty_store, SYMBOL, 120, [("2020-01-02 09:30", 4000.0, 4010.0, 3990.0, 4100.0, 20)])

    seen = quote_steps(
        empty_store, lambda api: api.get_kline_serial(SYMBOL, 120, 1), ("last_price", "ask_price1")
    )

    by_time = {when: rest for when, *rest in seen}
    # 1m close first (4002), then the 2m close (4100) at the same time: the last one shows.
    assert by_time["09:31:59.999999"] == [4100.0, pytest.approx(4100.2)]
    # The 2m bar's open (09:30:00) does not touch the quote beyond the 1m open.
    assert by_time["09:30:00.000000"] == [4000.0, pytest.approx(4000.2)]


def test_ticks_are_the_quote_and_klines_then_make_none(empty_store: Store) -> None:
    write_bars(empty_store, SYMBOL, 60, BARS[1:])
    write_ticks(empty_store, SYMBOL, [("2020-01-02 09:30:10", 4003.0)])

    seen = quote_steps(
        empty_store,
        lambda api: (api.get_kline_serial(SYMBOL, 60, 2), api.get_tick_serial(SYMBOL, 2)),
        ("last_price", "bid_price1", "ask_volume1"),
    )

    by_time = {when: rest for when, *rest in seen}
    assert by_time["09:30:10.000000"] == [4003.0, pytest.approx(4002.8), 4.0]
    # Bar events after the tick leave the tick's quote unchanged.
    assert by_time["09:30:59.999999"] == [4003.0, pytest.approx(4002.8), 4.0]
    assert by_time["09:31:59.999999"] == [4003.0, pytest.approx(4002.8), 4.0]


def test_quote_asked_without_fine_klines_subscribes_one_minute(empty_store: Store) -> None:
    write_bars(empty_store, SYMBOL, 60, BARS[1:])
    write_bars(empty_store, SYMBOL, 300, [("2020-01-02 09:30", 4000.0, 4010.0, 3990.0, 4002, 20)])
    steps: list[str] = []

    async def strategy(api: Api) -> None:
        api.get_kline_serial(SYMBOL, 300, 1)
        api.get_quote(SYMBOL)
        while True:
            await api.wait_update()
            steps.append(api.now.strftime("%H:%M:%S.%f"))

    Backtest(strategy, date(2020, 1, 2), date(2020, 1, 2), data=empty_store.root).run()

    # The 1-minute closes are steps of their own: the 1m serial was subscribed.
    assert "09:30:59.999999" in steps and "09:31:59.999999" in steps


def test_quote_falls_back_to_the_finest_stored_duration_with_a_warning(
    empty_store: Store,
) -> None:
    write_bars(empty_store, SYMBOL, 300, [("2020-01-02 09:30", 4000.0, 4010.0, 3990.0, 4002, 20)])

    async def strategy(api: Api) -> None:
        api.get_quote(SYMBOL)
        while True:
            await api.wait_update()

    with pytest.warns(
        UserWarning, match=r"has no 1m klines for IF2003\.IF; its quote comes from "
    ) as caught:
        Backtest(strategy, date(2020, 1, 2), date(2020, 1, 2), data=empty_store.root).run()
    # the warning points at the strategy's line that asked for the quote
    assert [w.filename for w in caught] == [__file__]


def test_a_bar_without_prices_makes_a_quote_without_prices(empty_store: Store) -> None:
    nan = math.nan
    write_bars(empty_store, SYMBOL, 60, [
        ("2020-01-02 09:30", 4000.0, 4010.0, 3990.0, 4005.0, 10.0),
        ("2020-01-02 09:31", nan, nan, nan, nan, 0.0),  # e.g. exported with empty prices
        ("2020-01-02 09:32", 4002.0, 4004.0, 3998.0, 4000.0, 10.0),
    ])  # fmt: skip
    seen: list[tuple[float, float]] = []

    async def strategy(api: Api) -> None:
        quote = api.get_quote(SYMBOL)
        while True:
            await api.wait_update()
            if api.now_ns == ns("2020-01-02 09:31:00"):
                seen.append((quote.bid_price1, quote.ask_price1))

    Backtest(strategy, date(2020, 1, 2), date(2020, 1, 2), data=empty_store.root).run()
    assert len(seen) == 1 and all(math.isnan(price) for price in seen[0])


def test_ticks_subscribed_mid_run_before_any_tick_leave_the_live_quote(empty_store: Store) -> None:
    bars = [(f"2020-01-02 09:{m}", 4000.0, 4002.0, 3998.0, 4000.0, 10.0) for m in range(30, 40)]
    write_bars(empty_store, SYMBOL, 60, bars)
    write_ticks(empty_store, SYMBOL, [("2020-01-03 09:30:00.5", 4100.0)])
    seen: list[tuple[float, float]] = []

    async def strategy(api: Api) -> None:
        quote = api.get_quote(SYMBOL)
        while api.now_ns < ns("2020-01-02 09:32"):
            await api.wait_update()
        api.insert_order(SYMBOL, "BUY", "OPEN", 1)  # a market order, at the live ask
        api.get_tick_serial(SYMBOL)  # no tick before tomorrow
        seen.append((quote.last_price, quote.ask_price1))
        while True:
            await api.wait_update()

    result = Backtest(strategy, date(2020, 1, 2), date(2020, 1, 3), data=empty_store.root).run()
    assert seen == [(4000.0, 4000.2)]
    assert result.trades.price.tolist() == [4000.2]
