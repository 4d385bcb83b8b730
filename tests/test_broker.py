"""The default matching table and every rejection reason (DESIGN.md §7), on hand-made bars.

IF2003.IF: price tick 0.2, multiplier 300, sessions 09:30-11:30 and 13:00-15:00. Bars of
2020-01-02 (Thursday) and one of 2020-01-03:

    09:30  O 4000  H 4010  L 3990  C 4005
    09:31  O 4005  H 4008  L 4001  C 4002
    09:32  O 4002  H 4004  L 3998  C 4000
    01-03 09:30  O 4001  H 4003  L 3999  C 4002

A quote is synthesized from these 1-minute bars: open ± tick at 09:30:00.000000, then high,
low and close ± tick at 09:30:59.999999. An order inserted at a step reaches the broker at the
next step, at the same simulated time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pytest

from backtest import Api, Backtest, BacktestResult, DataError, UnknownInstrumentError
from backtest.store import Store
from tests.conftest import Bar, ns, write_bars

SYMBOL = "IF2003.IF"
BARS = [
    ("2020-01-02 09:30", 4000.0, 4010.0, 3990.0, 4005.0, 10.0),
    ("2020-01-02 09:31", 4005.0, 4008.0, 4001.0, 4002.0, 10.0),
    ("2020-01-02 09:32", 4002.0, 4004.0, 3998.0, 4000.0, 10.0),
    ("2020-01-03 09:30", 4001.0, 4003.0, 3999.0, 4002.0, 10.0),
]
OPEN_0930 = "2020-01-02 09:30:00"
CLOSE_0930 = ns("2020-01-02 09:30:59.999999")


@pytest.fixture
def store(empty_store: Store) -> Store:
    return write_bars(empty_store, SYMBOL, 60, BARS)


Action = Callable[[Api], Any]


def run_script(
    store: Store, actions: dict[str, Action], init_balance: float = 10_000_000.0
) -> BacktestResult:
    """Run a strategy that calls ``actions[t](api)`` at the first step at simulated time t."""
    pending = {ns(when): action for when, action in actions.items()}

    async def strategy(api: Api) -> None:
        api.get_quote(SYMBOL)
        while True:
            await api.wait_update()
            action = pending.pop(api.now_ns, None)
            if action is not None:
                action(api)

    return Backtest(
        strategy, date(2020, 1, 2), date(2020, 1, 3), init_balance=init_balance, data=store.root
    ).run()


def buy(price: float | None, volume: int = 1, advanced: str | None = None) -> Action:
    return lambda api: api.insert_order(SYMBOL, "BUY", "OPEN", volume, price, advanced)


def sell(price: float | None, volume: int = 1, advanced: str | None = None) -> Action:
    return lambda api: api.insert_order(SYMBOL, "SELL", "OPEN", volume, price, advanced)


def only_order(result: BacktestResult) -> dict[str, Any]:
    assert len(result.orders) == 1
    return dict(result.orders.iloc[0])


def fills(result: BacktestResult) -> list[tuple[str, float, int, int]]:
    trades = result.trades
    return list(
        zip(trades.direction, trades.price, trades.volume, trades.trade_date_time, strict=True)
    )


# --- resting limit orders through the high/low/close packets -----------------------------


def test_limit_buy_fills_at_its_price_when_low_reaches_price_minus_tick(store: Store) -> None:
    result = run_script(store, {OPEN_0930: buy(3990.2)})  # low 3990 <= 3990.2 - 0.2

    assert fills(result) == [("BUY", 3990.2, 1, CLOSE_0930)]
    assert only_order(result)["last_msg"] == "filled"


def test_limit_buy_one_tick_lower_rests_and_expires_at_settlement(store: Store) -> None:
    result = run_script(store, {OPEN_0930: buy(3990.0)})  # 3990 > 3990.0 - 0.2 all day

    assert fills(result) == []
    order = only_order(result)
    assert order["status"] == "FINISHED"
    assert order["last_msg"] == "expired: day order (GFD) ended at the settlement of 20200102"
    assert order["volume_left"] == 1


def test_limit_sell_fills_at_its_price_when_high_reaches_price_plus_tick(store: Store) -> None:
    result = run_script(store, {OPEN_0930: sell(4009.8)})  # high 4010 >= 4009.8 + 0.2

    assert fills(result) == [("SELL", 4009.8, 1, CLOSE_0930)]


def test_a_limit_price_with_float_noise_is_held_and_filled_at_the_exact_grid_price(
    store: Store,
) -> None:
    noisy = 4009.6 + 0.2  # 4009.7999999999997: a strategy's own tick arithmetic
    result = run_script(store, {OPEN_0930: sell(noisy)})

    assert fills(result) == [("SELL", 4009.8, 1, CLOSE_0930)]
    assert repr(float(result.trades.price.iloc[0])) == "4009.8"
    assert only_order(result)["limit_price"] == 4009.8


def test_bars_stored_in_single_precision_quote_and_fill_on_the_grid(empty_store: Store) -> None:
    def f32(price: float) -> float:
        return float(np.float32(price))

    single: list[Bar] = [(t, f32(o), f32(h), f32(lo), f32(c), v) for t, o, h, lo, c, v in BARS]
    assert single[0][1:5] == (4000.0, 4010.0, 3990.0, 4005.0)  # whole numbers survive
    single[1] = ("2020-01-02 09:31", float(np.float32(4005.2)), 4008.0, 4001.0, 4002.0, 10.0)
    write_bars(empty_store, SYMBOL, 60, single)

    result = run_script(empty_store, {"2020-01-02 09:31:00": lambda api: api.insert_order(
        SYMBOL, "BUY", "OPEN", 1, api.get_quote(SYMBOL).ask_price1)})  # fmt: skip

    # the open 4005.2 reads back as 4005.2001953125; the ask is the grid's 4005.4
    assert fills(result) == [("BUY", 4005.4, 1, ns("2020-01-02 09:31:00"))]


def test_limit_sell_one_tick_higher_does_not_fill(store: Store) -> None:
    result = run_script(store, {OPEN_0930: sell(4010.0)})

    assert fills(result) == []


def test_resting_buy_fills_on_a_later_bar_open(store: Store) -> None:
    # Inserted at the 09:31 close (quote 4002 ± 0.2): rests; the 09:32 bar opens at 4002 with
    # ask 4002.2, then its low packet (3998 + 0.2) reaches 4001.
    result = run_script(store, {"2020-01-02 09:31:59.999999": buy(4001.0)})

    assert fills(result) == [("BUY", 4001.0, 1, ns("2020-01-02 09:32:59.999999"))]


def test_resting_buy_fills_at_the_open_packet_when_the_bar_opens_below(store: Store) -> None:
    # At the 09:31 close the ask is 4002.2; the 09:32 bar opens at 4002: ask 4002.2 again.
    # A buy at 4002.2 inserted at 09:31:00 rests (ask 4005.2) and fills at the 09:31 close's
    # low packet (4001 + 0.2 <= 4002.2).
    result = run_script(store, {"2020-01-02 09:31:00": buy(4002.2)})

    assert fills(result) == [("BUY", 4002.2, 1, ns("2020-01-02 09:31:59.999999"))]


# --- orders matched on arrival ------------------------------------------------------------


def test_marketable_limit_buy_fills_on_arrival_at_its_own_price(store: Store) -> None:
    result = run_script(store, {OPEN_0930: buy(4001.0)})  # ask 4000.2

    assert fills(result) == [("BUY", 4001.0, 1, ns(OPEN_0930))]


def test_market_buy_fills_at_the_ask_and_market_sell_at_the_bid(store: Store) -> None:
    def both(api: Api) -> None:
        api.insert_order(SYMBOL, "BUY", "OPEN", 1)
        api.insert_order(SYMBOL, "SELL", "OPEN", 2)

    result = run_script(store, {OPEN_0930: both})

    at = ns(OPEN_0930)
    assert fills(result) == [("BUY", 4000.2, 1, at), ("SELL", 3999.8, 2, at)]
    assert list(result.orders.price_type) == ["ANY", "ANY"]
    assert list(result.orders.time_condition) == ["IOC", "IOC"]


@pytest.mark.parametrize(("advanced", "kind"), [("FAK", "FAK"), ("FOK", "FOK")])
def test_fak_and_fok_that_cannot_fill_at_once_are_cancelled(
    store: Store, advanced: str, kind: str
) -> None:
    result = run_script(store, {OPEN_0930: buy(3995.0, advanced=advanced)})

    order = only_order(result)
    assert order["last_msg"] == f"cancelled: {kind} order could not fill at once"
    assert not order["is_error"]
    assert fills(result) == []


def test_fak_that_can_fill_fills_at_once(store: Store) -> None:
    result = run_script(store, {OPEN_0930: buy(4000.2, advanced="FAK")})

    assert fills(result) == [("BUY", 4000.2, 1, ns(OPEN_0930))]


def test_cancelled_resting_order_never_fills(store: Store) -> None:
    orders: list[Any] = []

    def place(api: Api) -> None:
        orders.append(api.insert_order(SYMBOL, "BUY", "OPEN", 1, 3998.2))

    def cancel(api: Api) -> None:
        api.cancel_order(orders[0])

    # 3998.2 rests through the 09:31 bar (low 4001) and would fill at the 09:32 close (low
    # 3998); the cancel sent when the 09:32 bar opens reaches the broker first.
    result = run_script(store, {"2020-01-02 09:31:00": place, "2020-01-02 09:32:00": cancel})

    assert fills(result) == []
    assert only_order(result)["last_msg"] == "cancelled"


# --- rejections ---------------------------------------------------------------------------


def rejection(store: Store, when: str, action: Action, **kwargs: Any) -> str:
    order = only_order(run_script(store, {when: action}, **kwargs))
    assert order["status"] == "FINISHED"
    assert order["is_error"]
    assert order["volume_left"] == order["volume_orign"]
    return str(order["last_msg"])


def test_order_outside_trading_hours_is_rejected(store: Store) -> None:
    # The run starts when trading day 2020-01-02 starts: 18:00 of the trading day before it,
    # 2019-12-31 (New Year's Day is a holiday), outside every session.
    orders: list[Any] = []

    async def strategy(api: Api) -> None:
        api.get_quote(SYMBOL)
        orders.append(api.insert_order(SYMBOL, "BUY", "OPEN", 1, 4000.0))
        while True:
            await api.wait_update()

    result = Backtest(strategy, date(2020, 1, 2), date(2020, 1, 2), data=store.root).run()

    assert result.orders.last_msg[0] == (
        "rejected: IF2003.IF does not trade at 2019-12-31 18:00:00 "
        "(sessions 09:30-11:30,13:00-15:00)"
    )


def test_close_without_position_is_rejected(store: Store) -> None:
    message = rejection(
        store, OPEN_0930, lambda api: api.insert_order(SYMBOL, "SELL", "CLOSE", 1, 4000.0)
    )
    assert message == (
        "rejected: closing 1 lot(s) exceeds the closable 0 lot(s) of the long position in IF2003.IF"
    )


def test_opening_beyond_available_funds_is_rejected(store: Store) -> None:
    # Margin 12% of 4000.2 x 300 = 144,007.20; commission 0.000023 x 1,200,060 = 27.60138.
    message = rejection(store, OPEN_0930, buy(4000.2), init_balance=144_000.0)
    assert message == (
        "rejected: insufficient funds: opening 1 lot(s) of IF2003.IF at 4000.2 needs margin "
        "144,007.20 + commission 27.60, available 144,000.00"
    )


@pytest.mark.parametrize("volume", [0, -1, 1.5, True])
def test_invalid_volume_is_rejected(store: Store, volume: Any) -> None:
    message = rejection(store, OPEN_0930, buy(4000.2, volume=volume))
    assert message == f"rejected: volume must be a whole number of lots above 0, was {volume!r}"


@pytest.mark.parametrize(("volume", "price"), [(1.5, 4000.2), (1, "4000.2"), (1, True)])
def test_an_invalid_order_holds_nothing_and_its_message_shows_what_was_given(
    store: Store, volume: Any, price: Any
) -> None:
    order = only_order(run_script(store, {OPEN_0930: buy(price, volume=volume)}))

    given = f"volume must be a whole number of lots above 0, was {volume!r}" if volume != 1 else (
        f"limit price must be a positive number, was {price!r}"
    )  # fmt: skip
    assert order["last_msg"] == f"rejected: {given}"
    assert (order["volume_orign"], order["volume_left"]) == (0 if volume != 1 else 1,) * 2
    assert math.isnan(order["limit_price"]) == (volume == 1)


def test_a_volume_beyond_what_records_hold_is_rejected(store: Store) -> None:
    message = rejection(store, OPEN_0930, buy(4000.2, volume=10**30))
    assert message == (
        "rejected: volume 1000000000000000000000000000000 is above the 1,000,000,000,000 an "
        "order may hold"
    )


@pytest.mark.parametrize(
    ("volume", "price"),
    [(np.int64(2), np.float32(4001.0)), (np.int32(2), np.int64(4001)), (2, np.float64(4001.0))],
)
def test_numpy_volumes_and_prices_are_plain_numbers(store: Store, volume: Any, price: Any) -> None:
    # what pandas and numpy computations hand a strategy: taken as the int and float they are
    orders: list[Any] = []
    result = run_script(store, {OPEN_0930: lambda api: orders.append(buy(price, volume)(api))})

    assert fills(result) == [("BUY", 4001.0, 2, ns(OPEN_0930))]
    assert (type(orders[0].volume_orign), type(orders[0].limit_price)) == (int, float)


@pytest.mark.parametrize("price", [-1.0, 0.0, float("nan"), float("inf")])
def test_non_positive_or_non_finite_price_is_rejected(store: Store, price: float) -> None:
    message = rejection(store, OPEN_0930, buy(price))
    assert message == f"rejected: limit price must be a positive number, was {price!r}"


@pytest.mark.parametrize("price", [4000.1, 4009.803, 4000.00001])
def test_price_off_the_tick_grid_is_rejected(store: Store, price: float) -> None:
    # however close to the grid: only float noise (4009.6 + 0.2) counts as on it
    message = rejection(store, OPEN_0930, buy(price))
    assert message == (
        f"rejected: limit price {price!r} is not a multiple of the price tick 0.2 of IF2003.IF"
    )


def test_index_cannot_be_traded(empty_store: Store) -> None:
    write_bars(empty_store, "000300.SH", 60, [("2020-01-02 09:30", 4000, 4010, 3990, 4005, 1)])
    orders: list[Any] = []

    async def strategy(api: Api) -> None:
        api.get_quote("000300.SH")
        while True:
            await api.wait_update()
            if not orders and api.now_ns == ns(OPEN_0930):
                orders.append(api.insert_order("000300.SH", "BUY", "OPEN", 1, 4000.2))

    result = Backtest(strategy, date(2020, 1, 2), date(2020, 1, 2), data=empty_store.root).run()

    assert result.orders.last_msg[0] == "rejected: 000300.SH is an index, which cannot be traded"


def test_order_on_an_unknown_instrument_is_rejected_not_raised(store: Store) -> None:
    # zz has no default terms and the store has no instruments.parquet row for zz2405.SF
    message = rejection(
        store, OPEN_0930, lambda api: api.insert_order("SHFE.zz2405", "BUY", "OPEN", 1, 100.0)
    )
    assert message == (
        f"rejected: unknown instrument zz2405.SF: {store.root} has no row for it in "
        f"instruments.parquet and zz has no default terms; add it to the store or pass "
        f"Backtest(instruments={{'zz2405.SF': {{...}}}})"
    )


def test_order_on_a_contract_the_store_has_no_data_of_is_rejected(store: Store) -> None:
    # rb has default terms, but there is no rb2450 contract in the store: unknown all the same
    message = rejection(
        store, OPEN_0930, lambda api: api.insert_order("rb2450.SF", "SELL", "CLOSE", 2, 3000.0)
    )
    assert message == (
        f"rejected: unknown instrument rb2450.SF: data store {store.root} has no market data "
        f"for it; import it with `backtest data import` or point data= at a store that has it"
    )


def test_order_on_a_no_data_contract_is_rejected_even_after_its_position_was_asked_for(
    store: Store,
) -> None:
    # get_position makes the contract's book (its terms are rb's defaults): the order is
    # still refused, not left resting on a quote that never comes
    def position_then_order(api: Api) -> None:
        api.get_position("rb2450.SF")
        api.insert_order("rb2450.SF", "BUY", "OPEN", 1, 3000.0)

    message = rejection(store, OPEN_0930, position_then_order)
    assert message.startswith("rejected: unknown instrument rb2450.SF: data store ")


def test_unknown_instrument_rejection_keeps_the_order_fields_and_a_cancel_finds_it_done(
    store: Store,
) -> None:
    orders: list[Any] = []

    def insert_and_cancel(api: Api) -> None:
        # no offset: an unknown instrument's market is not known, so none is demanded
        order = api.insert_order("zz2405.SF", "BUY", None, 3, 100.0)
        api.cancel_order(order)
        orders.append((order.status, order.volume_left))

    result = run_script(store, {OPEN_0930: insert_and_cancel})

    assert orders == [("ALIVE", 3)]  # like every order, it is handled at the next step
    order = only_order(result)
    assert (order["exchange_id"], order["instrument_id"], order["direction"]) == (
        "SHFE",
        "zz2405",
        "BUY",
    )
    assert (order["offset"], order["volume_orign"], order["volume_left"]) == ("OPEN", 3, 3)
    assert (order["status"], order["is_error"], order["limit_price"]) == ("FINISHED", True, 100.0)
    assert str(order["last_msg"]).startswith("rejected: unknown instrument zz2405.SF: ")
    assert result.trades.empty


def test_quote_of_an_unknown_instrument_raises_unknown_instrument_error(store: Store) -> None:
    async def strategy(api: Api) -> None:
        api.get_quote("zz2405.SF")
        await api.wait_update()

    with pytest.raises(UnknownInstrumentError, match=r"^unknown instrument zz2405\.SF: ") as caught:
        Backtest(strategy, date(2020, 1, 2), date(2020, 1, 2), data=store.root).run()
    assert isinstance(caught.value, DataError)


def test_order_on_an_option_is_rejected(empty_store: Store) -> None:
    # an option has quotes (here its bars) but is not simulated: no ledger would be right
    option = "10002000.SH"
    write_bars(empty_store, option, 60, [("2020-01-02 09:30", 0.1, 0.12, 0.09, 0.11, 5)])
    overrides = {
        option: {
            "product_class": "option",
            "price_tick": 0.0001,
            "volume_multiple": 10_000,
            "sessions": "09:30-11:30,13:00-15:00",
        }
    }

    async def strategy(api: Api) -> None:
        api.get_quote(option)
        await api.wait_update()
        while api.now_ns != ns(OPEN_0930):
            await api.wait_update()
        api.insert_order(option, "BUY", "OPEN", 1, 0.1001)
        await api.wait_update()

    result = Backtest(
        strategy, date(2020, 1, 2), date(2020, 1, 2), data=empty_store.root, instruments=overrides
    ).run()

    assert list(result.orders.last_msg) == [
        "rejected: 10002000.SH is an option; options are not simulated (futures, stocks and "
        "funds are)"
    ]
    assert result.trades.empty


# --- a contract that has not traded today --------------------------------------------------------


def test_orders_do_not_trade_against_a_quote_of_an_earlier_day() -> None:
    # The sample's IF2003 bars end on 2020-03-05 (14:59); 600009.SH trades on. On 03-09 the
    # IF2003 quote is still the 03-05 close: no book to trade against (an expired contract, or
    # one that has not traded yet today). It used to fill at that quote.
    seen: list[tuple[str, str]] = []

    async def strategy(api: Api) -> None:
        api.get_quote("600009.SH")
        quote = api.get_quote(SYMBOL)
        while True:
            await api.wait_update()
            if api.now_ns == ns("2020-03-09 10:00:00"):
                orders = [
                    api.insert_order(SYMBOL, "BUY", "OPEN", 1, limit_price=quote.ask_price1),
                    api.insert_order(SYMBOL, "SELL", "OPEN", 1),  # market
                    api.insert_order(SYMBOL, "BUY", "OPEN", 1, quote.ask_price1, advanced="FAK"),
                ]
                await api.wait_update()
                seen.extend((order.status.value, order.last_msg) for order in orders)
                seen.append((str(quote.datetime), str(quote.ask_price1)))

    result = Backtest(strategy, date(2020, 3, 5), date(2020, 3, 9), progress=False).run()

    stale = (
        "IF2003.IF has not traded yet this trading day (its last quote is from 2020-03-05 14:59:59)"
    )
    assert seen == [
        ("ALIVE", "accepted"),
        ("FINISHED", f"cancelled: no opposing price for a market order: {stale}"),
        ("FINISHED", f"cancelled: FAK order could not fill at once: {stale}"),
        ("2020-03-05 14:59:59.999999", "4192.0"),
    ]
    assert list(result.orders.last_msg) == [
        "expired: day order (GFD) ended at the settlement of 20200309",
        f"cancelled: no opposing price for a market order: {stale}",
        f"cancelled: FAK order could not fill at once: {stale}",
    ]
    assert result.trades.empty
