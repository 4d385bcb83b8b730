"""The strategy API: tqsdk idioms, is_changing, run/arun, errors, isolation between runs."""

from __future__ import annotations

import asyncio
import math
import re
import warnings
from datetime import date, datetime
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

import backtest
import backtest.engine
import backtest.serial
from backtest import (
    Api,
    ApiUsageError,
    Backtest,
    BacktestFinished,
    BacktestResult,
    ConfigError,
    DataEndedWarning,
    NoDataWarning,
    StrategyError,
)
from backtest.store import Store
from tests.conftest import ns, write_bars

SYMBOL = "IF2003.IF"
BARS = [(f"2020-01-02 09:{m}", 4000 + m, 4002 + m, 3999 + m, 4001 + m, m) for m in range(30, 35)]


@pytest.fixture
def store(empty_store: Store) -> Store:
    return write_bars(empty_store, SYMBOL, 60, BARS)


def run(store: Store, strategy: Any, **kwargs: Any) -> BacktestResult:
    return Backtest(strategy, date(2020, 1, 2), date(2020, 1, 2), data=store.root, **kwargs).run()


def test_tqsdk_idioms_on_a_kline_serial(store: Store) -> None:
    seen: list[tuple[Any, ...]] = []

    async def strategy(api: Api) -> None:
        klines = api.get_kline_serial("CFFEX.IF2003", 60, data_length=3)  # tqsdk spelling
        while True:
            await api.wait_update()
            if api.now_ns == ns("2020-01-02 09:33:00"):
                last = klines.iloc[-1]
                seen.append(
                    (
                        len(klines),
                        last.datetime == ns("2020-01-02 09:33:00"),
                        last.close,  # opening state: close = open
                        last["open"],
                        klines.close.iloc[-2],
                        list(klines["close"]),
                        klines.iloc[-3:-1].close.tolist(),
                        klines.close.iloc[-3:-1].mean(),
                        klines.symbol,
                        klines.duration,
                    )
                )

    run(store, strategy)

    assert seen == [
        (3, True, 4033.0, 4033.0, 4033.0, [4032.0, 4033.0, 4033.0], [4032.0, 4033.0], 4032.5,
         "IF2003.IF", 60),
    ]  # fmt: skip


def test_is_changing_on_the_last_row_is_true_only_when_a_bar_opens(store: Store) -> None:
    flags: list[tuple[str, bool, bool, bool]] = []

    async def strategy(api: Api) -> None:
        klines = api.get_kline_serial(SYMBOL, 60, 2)
        quote = api.get_quote(SYMBOL)
        while True:
            await api.wait_update()
            flags.append(
                (
                    api.now.strftime("%H:%M:%S"),
                    api.is_changing(klines.iloc[-1], "datetime"),
                    api.is_changing(klines.iloc[-1], "close"),
                    api.is_changing(quote, "last_price"),
                )
            )

    run(store, strategy)

    assert flags[:5] == [
        ("18:00:00", False, False, True),  # delivery: the quote is new; no bar exists yet
        ("09:30:00", True, True, True),  # the 09:30 bar opens
        ("09:30:59", False, True, True),  # it closes at 4031 (opened at 4030)
        ("09:31:00", True, True, False),  # the next opens at 4031: last price unchanged
        ("09:31:59", False, True, True),
    ]


def test_to_numpy_is_a_read_only_view_of_the_same_values(store: Store) -> None:
    seen: list[Any] = []

    async def strategy(api: Api) -> None:
        klines = api.get_kline_serial(SYMBOL, 60, 4)
        while True:
            await api.wait_update()
            closes = klines.to_numpy("close")
            assert closes.flags.writeable is False
            frame = klines.to_frame()
            seen.append(np.array_equal(closes, frame.close.to_numpy(), equal_nan=True))
            seen.append(np.array_equal(klines.to_numpy("datetime"), frame.datetime.to_numpy()))

    run(store, strategy)

    assert seen and all(seen)


def test_rows_before_the_data_are_padding(store: Store) -> None:
    frames: list[pd.DataFrame] = []
    ids: list[int] = []

    async def strategy(api: Api) -> None:
        klines = api.get_kline_serial(SYMBOL, 60, 3)
        await api.wait_update()
        ids.append(klines.last_id)  # no bar yet
        await api.wait_update()  # the 09:30 bar opened
        ids.append(klines.last_id)
        frames.append(klines.to_frame())

    run(store, strategy)

    frame = frames[0]
    assert ids == [-1, 1_000_000]
    assert list(frame.id) == [-1, -1, 1_000_000]
    assert list(frame.datetime) == [0, 0, ns("2020-01-02 09:30")]
    assert math.isnan(frame.close[0]) and frame.close[2] == 4030.0


def test_now_is_aware_beijing_time(store: Store) -> None:
    moments: list[Any] = []

    async def strategy(api: Api) -> None:
        api.get_quote(SYMBOL)
        await api.wait_update()
        await api.wait_update()
        moments.append(api.now)

    run(store, strategy)

    assert moments[0].isoformat() == "2020-01-02T09:30:00+08:00"
    assert str(moments[0].tzinfo) == "Asia/Shanghai"


def test_beijing_time_is_utc_plus_8_even_in_the_summer_of_1991() -> None:
    # The zone database has summer time in 1986-1991; exchange data (and sessions) do not.
    from backtest.times import format_ns, local_midnight_ns, to_datetime, to_ns

    moment = datetime(1991, 6, 3, 9, 30)
    assert to_ns(moment) == local_midnight_ns(date(1991, 6, 3)) + (9 * 60 + 30) * 60 * 10**9
    assert to_datetime(to_ns(moment)).isoformat() == "1991-06-03T09:30:00+08:00"
    assert format_ns(to_ns(moment)) == "1991-06-03 09:30:00.000000"


def test_orders_trades_and_positions_are_found_by_id_and_symbol(store: Store) -> None:
    found: list[Any] = []

    async def strategy(api: Api) -> None:
        api.get_quote(SYMBOL)
        while True:
            await api.wait_update()
            if api.now_ns == ns("2020-01-02 09:30:00") and not found:
                order = api.insert_order("CFFEX.IF2003", "buy", "open", 1, limit_price=4031.0)
                assert order.status == "ALIVE" and order["volume_left"] == 1
                await api.wait_update()
                trades = api.get_trade()
                assert isinstance(trades, dict)
                found.append(
                    (
                        api.get_order(order.order_id) is order,
                        list(api.get_order()),
                        [t.order_id for t in trades.values()],
                        api.get_position(SYMBOL).pos_long,
                        list(api.get_position()),
                        api.is_changing(order, "status"),
                        api.is_changing(order),
                        order.status,
                    )
                )

    run(store, strategy)

    assert found == [(True, ["O000001"], ["O000001"], 1, ["IF2003.IF"], True, True, "FINISHED")]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda api: api.insert_order(SYMBOL, "LONG", "OPEN", 1),
         "direction must be 'BUY' or 'SELL', was 'LONG'"),
        (lambda api: api.insert_order(SYMBOL, "BUY", "OPENX", 1),
         "offset must be 'OPEN', 'CLOSE' or 'CLOSETODAY', was 'OPENX'"),
        (lambda api: api.insert_order(SYMBOL, "BUY", "OPEN", 1, 4000.0, "IOC"),
         "advanced must be None, 'FAK' or 'FOK', was 'IOC'"),
        (lambda api: api.get_kline_serial(SYMBOL, 0, 10),
         "duration_seconds must be whole seconds from 1 to 86400, was 0"),
        (lambda api: api.get_kline_serial(SYMBOL, 90_000, 10),
         "duration_seconds must be whole seconds from 1 to 86400, was 90000"),
        (lambda api: api.get_kline_serial(SYMBOL, 7 * 86400, 10),
         "duration_seconds must be whole seconds from 1 to 86400, was 604800 (klines of several "
         "days, which tqsdk builds for multiples of 86400, are not built here: subscribe daily "
         "klines, 86400, and group their rows)"),
        (lambda api: api.get_kline_serial(SYMBOL, 60, 0),
         "data_length must be a whole number from 1 to 1,000,000, was 0"),
        (lambda api: api.get_tick_serial(SYMBOL, 10**10),
         "data_length must be a whole number from 1 to 1,000,000, was 10000000000"),
        (lambda api: api.cancel_order("nope"),
         "cannot cancel order 'nope': no such order in this backtest"),
        (lambda api: api.get_order("nope"), "no order 'nope' in this backtest"),
        (lambda api: api.is_changing(42), "is_changing cannot track a int; pass a quote, a "
         "serial, a row (serial.iloc[-1]), an order, a trade, a position or the account"),
    ],
)  # fmt: skip
def test_api_misuse_raises_api_usage_error(store: Store, call: Any, message: str) -> None:
    async def strategy(api: Api) -> None:
        call(api)

    with pytest.raises(ApiUsageError, match=f"^{re.escape(message)}$"):
        run(store, strategy)


def test_run_inside_a_running_loop_says_to_use_arun(store: Store) -> None:
    async def strategy(api: Api) -> None:
        await api.wait_update()

    async def notebook_cell() -> BacktestResult:
        with pytest.raises(
            ApiUsageError, match=r"use `result = await Backtest\(\.\.\.\)\.arun\(\)`"
        ):
            Backtest(strategy, date(2020, 1, 2), date(2020, 1, 2), data=store.root).run()
        return await Backtest(strategy, date(2020, 1, 2), date(2020, 1, 2), data=store.root).arun()

    result = asyncio.run(notebook_cell())

    assert isinstance(result, BacktestResult)


def test_strategy_exception_is_wrapped_with_the_partial_result(store: Store) -> None:
    async def strategy(api: Api) -> None:
        api.get_quote(SYMBOL)
        while True:
            await api.wait_update()
            if api.now_ns == ns("2020-01-02 09:31:00"):
                api.insert_order(SYMBOL, "BUY", "OPEN", 1)
                await api.wait_update()
                raise ZeroDivisionError("boom")

    with pytest.raises(StrategyError, match=r"^the strategy raised ZeroDivisionError: boom") as err:
        run(store, strategy)

    assert isinstance(err.value.__cause__, ZeroDivisionError)
    assert err.value.result is not None
    assert len(err.value.result.trades) == 1
    assert err.value.result.stats["trading_days"] == 1


def test_a_strategy_that_cannot_take_the_api_is_refused_before_running(store: Store) -> None:
    async def no_arguments() -> None:
        pass

    with pytest.raises(ConfigError) as error:
        run(store, no_arguments)
    assert str(error.value) == (
        "strategy 'no_arguments' must take one argument, the api (async def strategy(api): ...), "
        "but its signature is () -> 'None'"
    )


def test_stock_fees_that_are_not_a_mapping_are_refused(store: Store) -> None:
    async def strategy(api: Api) -> None:
        await api.wait_update()

    with pytest.raises(ConfigError) as error:
        run(store, strategy, stock_fees=[("commission_rate", 0.0002)])
    assert str(error.value) == (
        "stock_fees must be a mapping of fee fields (commission_rate, commission_min, "
        "transfer_fee_rate), was [('commission_rate', 0.0002)]"
    )


def test_a_run_without_market_data_in_its_span_warns(store: Store) -> None:
    async def strategy(api: Api) -> None:
        api.get_quote(SYMBOL)
        while True:
            await api.wait_update()

    with pytest.warns(UserWarning) as caught:
        result = Backtest(strategy, date(2020, 3, 2), date(2020, 3, 3), data=store.root).run()

    assert result.stats["trading_days"] == 0
    assert [w.filename for w in caught] == [__file__]  # the line that called run()
    assert [w.category for w in caught] == [NoDataWarning]  # a UserWarning one can filter on
    assert [str(w.message) for w in caught] == [
        f"the backtest from 2020-03-02 to 2020-03-03 simulated no trading day: {store.root} has "
        f"no market data in that span for the symbols the strategy asked for (IF2003.IF); "
        f"`backtest data ls` shows what the store holds"
    ]


def test_a_run_whose_data_ends_before_its_last_day_warns(store: Store) -> None:
    async def strategy(api: Api) -> None:
        api.get_quote(SYMBOL)
        while True:
            await api.wait_update()

    # the store holds bars of 2020-01-02 only; the run asks for 2019-12-31 to 2020-01-06, and
    # the days before the data are settled as days (the market's time moves through them)
    with pytest.warns(DataEndedWarning) as caught:
        result = Backtest(strategy, date(2019, 12, 31), date(2020, 1, 6), data=store.root).run()

    assert list(result.daily["trading_day"]) == [date(2019, 12, 31), date(2020, 1, 2)]
    assert [w.filename for w in caught] == [__file__]  # the line that called run()
    assert [str(w.message) for w in caught] == [
        f"the market data in {store.root} of the symbols the strategy asked for (IF2003.IF) "
        f"ends on trading day 2020-01-02, before the run's last trading day 2020-01-06: the "
        f"result and its statistics cover the 2 trading days from 2019-12-31 to 2020-01-02; "
        f"end the run by 2020-01-02 or add the data (`backtest data ls` shows what the store "
        f"holds)"
    ]


def test_a_run_ending_with_its_data_or_stopped_by_the_strategy_does_not_warn(
    store: Store,
) -> None:
    async def strategy(api: Api) -> None:
        api.get_quote(SYMBOL)
        while True:
            await api.wait_update()

    async def stops_itself(api: Api) -> None:
        api.get_quote(SYMBOL)
        while api.now < datetime.fromisoformat("2020-01-02 09:32:00+08:00"):
            await api.wait_update()
        raise BacktestFinished  # its own choice, as tqsdk strategies do

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ended = Backtest(strategy, date(2019, 12, 31), date(2020, 1, 2), data=store.root).run()
        stopped = Backtest(stops_itself, date(2019, 12, 31), date(2020, 1, 6), data=store.root)
        assert stopped.run().stats["trading_days"] == 2
    assert ended.stats["trading_days"] == 2


def test_is_changing_with_a_key_that_is_not_a_field_name_says_so(store: Store) -> None:
    errors: list[str] = []

    async def strategy(api: Api) -> None:
        quote = api.get_quote(SYMBOL)
        await api.wait_update()
        assert api.is_changing(quote, iter(["volume", "last_price"]))  # any iterable of names
        for key in (5, ["last_price", 5]):
            with pytest.raises(ApiUsageError) as error:
                api.is_changing(quote, key)  # type: ignore[arg-type]  # what is refused
            errors.append(str(error.value))

    run(store, strategy)

    assert errors == [
        "is_changing takes a field name or several (a list of str), was 5",
        "is_changing takes a field name or several (a list of str), was ['last_price', 5]",
    ]


def test_is_changing_warns_once_of_a_field_the_object_lacks(store: Store) -> None:
    seen: list[bool] = []

    async def strategy(api: Api) -> None:
        klines = api.get_kline_serial(SYMBOL, 60, 2)
        quote = api.get_quote(SYMBOL)
        for _ in range(4):
            await api.wait_update()
            seen.append(api.is_changing(quote, "last_prce"))  # misspelt: never changing
            seen.append(api.is_changing(klines.iloc[-1], "datetme"))
            seen.append(api.is_changing(klines, "volum"))
            api.is_changing(quote, ["open_interest", "ask_price7"])  # books have 5 levels
            api.is_changing(klines, "close")  # a real field, unchanged or not: no warning
            api.is_changing(quote, "bid_volume1")

    with pytest.warns(UserWarning) as caught:
        run(store, strategy)

    assert seen == [False] * 12
    assert [str(w.message) for w in caught] == [
        "is_changing: a Quote has no field 'last_prce' (did you mean 'last_price'?), so it "
        "never changes",
        "is_changing: a Row has no field 'datetme' (did you mean 'datetime'?), so it never changes",
        "is_changing: a KlineFrame has no field 'volum' (did you mean 'volume'?), so it never "
        "changes",
        "is_changing: a Quote has no field 'ask_price7' (did you mean 'ask_price5'?), so it "
        "never changes",
    ]
    assert {w.filename for w in caught} == {__file__}  # the strategy's lines


def test_a_warning_of_arun_points_at_the_line_that_awaited_it(store: Store) -> None:
    import asyncio

    async def strategy(api: Api) -> None:
        api.get_quote(SYMBOL)
        while True:
            await api.wait_update()

    async def notebook_cell() -> None:
        await Backtest(strategy, date(2020, 3, 2), date(2020, 3, 3), data=store.root).arun()

    with pytest.warns(UserWarning, match="simulated no trading day") as caught:
        asyncio.run(notebook_cell())

    assert [(w.filename, w.lineno) for w in caught] == [
        (__file__, notebook_cell.__code__.co_firstlineno + 1)
    ]


def test_the_runner_leaves_the_interpreter_hooks_alone(store: Store) -> None:
    import sys

    async def fails(api: Api) -> None:
        api.get_quote(SYMBOL)
        await api.wait_update()
        raise ZeroDivisionError("boom")

    async def ends(api: Api) -> None:
        api.get_quote(SYMBOL)
        while True:
            await api.wait_update()

    hooks = (sys.excepthook, sys.unraisablehook, sys.displayhook)
    with pytest.raises(StrategyError):  # not SystemExit
        run(store, fails)
    run(store, ends)  # BacktestFinished is caught: the data ended normally

    assert (sys.excepthook, sys.unraisablehook, sys.displayhook) == hooks


@pytest.mark.parametrize("ending", ["raise", "return"])
def test_orders_placed_after_the_last_wait_update_are_never_sent(store: Store, ending: str) -> None:
    async def strategy(api: Api) -> None:
        api.get_quote(SYMBOL)
        while api.now_ns < ns("2020-01-02 09:31:00"):
            await api.wait_update()
        api.insert_order(SYMBOL, "BUY", "OPEN", 1)
        if ending == "raise":
            raise ZeroDivisionError("boom")

    if ending == "raise":
        with pytest.raises(StrategyError) as err:
            run(store, strategy)
        assert err.value.result is not None
        result = err.value.result
    else:
        result = run(store, strategy)

    assert list(result.orders.last_msg) == [
        "cancelled: not sent: the strategy ended before the next wait_update()"
    ]
    assert list(result.orders.status) == ["FINISHED"]
    assert result.trades.empty


def test_an_api_error_inside_the_strategy_keeps_the_partial_result(store: Store) -> None:
    async def strategy(api: Api) -> None:
        api.get_quote(SYMBOL)
        while api.now_ns < ns("2020-01-02 09:31:00"):
            await api.wait_update()
        api.insert_order(SYMBOL, "BUY", "OPEN", 1)
        await api.wait_update()
        api.insert_order(SYMBOL, "LONG", "OPEN", 1)

    with pytest.raises(ApiUsageError, match="direction must be") as err:
        run(store, strategy)
    assert err.value.result is not None
    assert len(err.value.result.trades) == 1


def test_a_strategy_that_is_not_async_is_a_config_error(store: Store) -> None:
    def strategy(api: Api) -> None:
        pass

    with pytest.raises(ConfigError, match=r"must be an async function"):
        run(store, strategy)


def test_every_serial_is_closed_whatever_ends_the_run(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[str] = []
    original = backtest.serial.kline_events  # what backtest.engine imported

    async def watched(*args: Any, **kwargs: Any) -> Any:
        try:
            async for chunk in original(*args, **kwargs):
                yield chunk
        finally:
            closed.append("closed")

    monkeypatch.setattr(backtest.engine, "kline_events", watched)

    async def stops_early(api: Api) -> None:
        api.get_kline_serial(SYMBOL, 60, 2)
        await api.wait_update()
        await api.wait_update()

    async def fails(api: Api) -> None:
        api.get_kline_serial(SYMBOL, 60, 2)
        await api.wait_update()
        await api.wait_update()
        raise KeyError("x")

    run(store, stops_early)
    with pytest.raises(StrategyError):
        run(store, fails)

    assert closed == ["closed", "closed"]


def test_wait_update_after_the_end_keeps_raising_and_orders_are_refused(store: Store) -> None:
    outcomes: list[str] = []

    async def strategy(api: Api) -> None:
        api.get_quote(SYMBOL)
        try:
            while True:
                await api.wait_update()
        except BacktestFinished:
            outcomes.append("finished")
        with pytest.raises(BacktestFinished):
            await api.wait_update()
        with pytest.raises(ApiUsageError, match="the backtest has finished"):
            api.insert_order(SYMBOL, "BUY", "OPEN", 1)
        outcomes.append(f"balance {api.get_account().balance:.0f}")

    result = run(store, strategy)

    assert outcomes == ["finished", "balance 10000000"]
    assert result.stats["trading_days"] == 1


def test_a_backtest_that_subscribes_nothing_ends_at_once_with_an_empty_result(
    store: Store,
) -> None:
    steps = 0

    async def strategy(api: Api) -> None:
        nonlocal steps
        while True:
            await api.wait_update()
            steps += 1

    result = run(store, strategy)

    assert steps == 0
    assert result.stats["trading_days"] == 0
    assert result.trades.empty and result.orders.empty and result.daily.empty
    assert result.stats["ror"] == 0.0


def test_two_backtests_in_one_event_loop_do_not_see_each_other(store: Store) -> None:
    def make(volume: int) -> Any:
        async def strategy(api: Api) -> None:
            api.get_quote(SYMBOL)
            while True:
                await api.wait_update()
                if api.now_ns == ns("2020-01-02 09:31:00") and not api.get_order():
                    api.insert_order(SYMBOL, "BUY", "OPEN", volume)

        return strategy

    def backtest_of(volume: int) -> Backtest:
        return Backtest(make(volume), date(2020, 1, 2), date(2020, 1, 2), data=store.root)

    alone = [backtest_of(1).run(), backtest_of(3).run()]

    async def together() -> list[BacktestResult]:
        return list(await asyncio.gather(backtest_of(1).arun(), backtest_of(3).arun()))

    both = asyncio.run(together())

    for single, concurrent in zip(alone, both, strict=True):
        pd.testing.assert_frame_equal(single.trades, concurrent.trades)
        assert single.stats == concurrent.stats
    assert list(both[1].trades.volume) == [3]


def test_a_strategy_that_never_lets_time_advance_is_stopped(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backtest.engine, "STALL_LIMIT", 50)

    async def strategy(api: Api) -> None:
        api.get_quote(SYMBOL)
        while True:
            await api.wait_update()
            if api.now_ns == ns("2020-01-02 09:31:00"):  # true again after each delivery
                api.insert_order(SYMBOL, "BUY", "OPEN", 1, 4000.0)

    with pytest.raises(
        ApiUsageError,
        match=r"^the strategy made a request .* for 50 steps while "
        r"simulated time stayed at 2020-01-02 09:31:00\.000000: ",
    ):
        run(store, strategy)


def test_wait_update_called_without_await_is_refused(store: Store) -> None:
    # The commonest porting slip: tqsdk's wait_update() is a plain call. Without await no
    # step runs; the second call finds the first never started and says so (no endless spin,
    # no "coroutine was never awaited" warning).
    calls: list[str] = []

    async def strategy(api: Api) -> None:
        api.get_kline_serial(SYMBOL, 60)
        await api.wait_update()
        await api.wait_update()
        while True:
            calls.append(api.now.strftime("%H:%M:%S"))
            api.wait_update()  # type: ignore[unused-coroutine]

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning would fail the test
        with pytest.raises(ApiUsageError) as caught:
            run(store, strategy)
    assert str(caught.value) == (
        "api.wait_update() was called without await, so no step ran and simulated time stays "
        "at 2020-01-02 09:30:00: write `await api.wait_update()`"
    )
    assert calls == ["09:30:00", "09:30:00"]


def test_wait_update_awaited_through_a_task_is_not_refused(store: Store) -> None:
    steps: list[str] = []

    async def strategy(api: Api) -> None:
        api.get_kline_serial(SYMBOL, 60)
        for _ in range(3):
            await asyncio.ensure_future(api.wait_update())
            steps.append(api.now.strftime("%m-%d %H:%M:%S"))
        raise BacktestFinished

    run(store, strategy)
    # the subscription is delivered at the run's start (18:00 of the trading day before, 12-31:
    # 01-01 is a holiday), then time moves one market time per step: the first bar's open and
    # close
    assert steps == ["12-31 18:00:00", "01-02 09:30:00", "01-02 09:30:59"]


def test_public_names_are_exported() -> None:
    public = {
        name for name in dir(backtest)
        if not name.startswith("_") and not isinstance(getattr(backtest, name), ModuleType)
    }  # fmt: skip
    assert sorted(backtest.__all__) == backtest.__all__
    assert set(backtest.__all__) == public


def test_a_row_copies_and_pickles_as_the_same_snapshot(store: Store) -> None:
    import copy
    import pickle

    copied: list[Any] = []

    async def strategy(api: Api) -> None:
        klines = api.get_kline_serial(SYMBOL, 60, data_length=2)
        while api.now_ns < ns("2020-01-02 09:31:00"):
            await api.wait_update()
        row = klines.iloc[-2]  # the 09:30 bar, closed
        copied.extend([copy.copy(row) is row, copy.deepcopy(row) is row])
        clone = pickle.loads(pickle.dumps(row))
        copied.append((clone.id, clone.datetime, clone.close))

    run(store, strategy)
    assert copied == [True, True, (1_000_000, ns("2020-01-02 09:30:00"), 4031.0)]


def test_asking_for_more_history_neither_renumbers_rows_nor_fakes_a_new_bar(
    store: Store,
) -> None:
    signals: list[tuple[int, int]] = []
    ids: list[list[int]] = []

    async def strategy(api: Api) -> None:
        klines = api.get_kline_serial(SYMBOL, 60, 2)
        while True:
            await api.wait_update()
            if api.is_changing(klines.iloc[-1], "datetime"):
                signals.append((api.now_ns, klines.last_id))
            if api.now_ns == ns("2020-01-02 09:32:00"):
                longer = api.get_kline_serial(SYMBOL, 60, 4)  # older rows are prepended
                await api.wait_update()  # delivers them; time does not move
                ids.append(longer.to_numpy("id").tolist())
                ids.append(klines.to_numpy("id").tolist())
                assert api.is_changing(longer) and not api.is_changing(klines.iloc[-1], "datetime")

    run(store, strategy)
    assert signals == [
        (ns("2020-01-02 09:30:00"), 1_000_000),
        (ns("2020-01-02 09:31:00"), 1_000_001),
        (ns("2020-01-02 09:32:00"), 1_000_002),
        (ns("2020-01-02 09:33:00"), 1_000_003),
        (ns("2020-01-02 09:34:00"), 1_000_004),
    ]
    assert ids == [[-1, 1_000_000, 1_000_001, 1_000_002], [1_000_001, 1_000_002]]


def test_asking_for_more_history_keeps_the_current_steps_changes_visible(store: Store) -> None:
    seen: list[Any] = []

    async def strategy(api: Api) -> None:
        klines = api.get_kline_serial(SYMBOL, 60, 2)
        while api.now_ns != ns("2020-01-02 09:32:00"):
            await api.wait_update()
        # a bar opened in this step; a longer view asked for now must not hide that
        before = api.is_changing(klines.iloc[-1], "datetime")
        closes = klines.to_numpy("close").tolist()
        longer = api.get_kline_serial(SYMBOL, 60, 4)
        seen.append((before, api.is_changing(klines.iloc[-1], "datetime")))
        seen.append((api.is_changing(klines, "close"), api.is_changing(longer.iloc[-1])))
        seen.append((closes, longer.to_numpy("close")[2:].tolist()))
        await api.wait_update()  # the delivery step: only the older rows are new
        seen.append([api.is_changing(longer.iloc[i], "datetime") for i in range(4)])
        seen.append((api.is_changing(longer), api.is_changing(klines, "close")))

    run(store, strategy)
    assert seen == [
        (True, True),
        (True, True),
        ([4032.0, 4032.0], [4032.0, 4032.0]),
        [False, False, False, False],  # the rows were held already: nothing older exists
        (True, False),
    ]


def test_prepended_history_takes_the_ids_below_the_oldest_row(store: Store) -> None:
    from datetime import datetime

    seen: list[Any] = []

    async def strategy(api: Api) -> None:
        klines = api.get_kline_serial(SYMBOL, 60, 2)
        await api.wait_update()
        seen.append(klines.to_numpy("id").tolist())
        longer = api.get_kline_serial(SYMBOL, 60, 4)
        await api.wait_update()
        seen.append(longer.to_numpy("id").tolist())
        seen.append(longer.to_numpy("close")[1:].tolist())
        seen.append(
            [api.is_changing(longer.iloc[i], "datetime") for i in range(4)]
            + [api.is_changing(klines.iloc[-1], "datetime")]
        )

    start = datetime(2020, 1, 2, 9, 32, 30)
    Backtest(strategy, start, date(2020, 1, 2), data=store.root).run()
    # At 09:32:30 the history is 09:31 and the 09:32 bar in progress (opening state: close =
    # open = 4032). Only the 09:30 bar is older: it is prepended, the first row is padding.
    assert seen == [
        [999_998, 999_999],
        [-1, 999_997, 999_998, 999_999],
        [4031.0, 4032.0, 4032.0],
        [False, True, False, False, False],
    ]


def test_results_and_serials_show_beijing_times_beside_the_int_ns(store: Store) -> None:
    shown: list[str] = []

    async def strategy(api: Api) -> None:
        klines = api.get_kline_serial(SYMBOL, 60, 3)
        while api.now_ns < ns("2020-01-02 09:31:00"):
            await api.wait_update()
        shown.append(klines._repr_html_())
        api.insert_order(SYMBOL, "BUY", "OPEN", 1)
        await api.wait_update()

    result = run(store, strategy)

    trades = result.trades
    assert list(trades.columns[list(trades.columns).index("trade_date_time") :][:2]) == [
        "trade_date_time", "trade_datetime"
    ]  # fmt: skip
    assert str(trades.trade_datetime[0]) == "2020-01-02 09:31:00+08:00"
    assert trades.trade_datetime[0].value == trades.trade_date_time[0]
    assert str(result.orders.insert_datetime[0]) == "2020-01-02 09:31:00+08:00"
    html = shown[0]
    assert html.startswith("<p><b>IF2003.IF</b> 1m klines, 3 rows</p>")
    assert "<th>time</th>" in html and "2020-01-02 09:31:00+08:00" in html
    assert "NaT" in html  # the padding row has no time


def test_ctrl_c_stops_the_run_and_keeps_what_was_computed(store: Store) -> None:
    async def strategy(api: Api) -> None:
        api.get_quote(SYMBOL)
        while True:
            await api.wait_update()
            if api.now_ns == ns("2020-01-02 09:32:00"):
                api.insert_order(SYMBOL, "BUY", "OPEN", 1)
                await api.wait_update()
                raise KeyboardInterrupt  # what Ctrl-C raises wherever the code is

    with pytest.warns(UserWarning, match=r"^backtest interrupted at simulated time "
                      r"2020-01-02 09:32:00; the result is incomplete$") as caught:  # fmt: skip
        result = run(store, strategy)

    assert [w.filename for w in caught] == [__file__]  # the line that called run()

    assert not result.complete
    assert result.error == "interrupted at simulated time 2020-01-02 09:32:00"
    assert len(result.trades) == 1 and result.stats["trading_days"] == 1


def test_a_cancelled_backtest_outside_a_notebook_stays_cancelled(store: Store) -> None:
    async def strategy(api: Api) -> None:
        api.get_quote(SYMBOL)
        while True:
            await api.wait_update()
            await asyncio.sleep(3600)  # someone cancels the task meanwhile

    async def cancel_soon() -> None:
        task = asyncio.ensure_future(
            Backtest(strategy, date(2020, 1, 2), date(2020, 1, 2), data=store.root).arun()
        )
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_soon())


def test_ctrl_c_in_a_script_returns_the_partial_result(tmp_path: Any) -> None:
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "script.py"
    script.write_text(
        "import time, warnings\n"
        "from datetime import date\n"
        "from backtest import Backtest\n"
        "async def slow(api):\n"
        "    api.get_quote('IF2003.IF')\n"
        "    print('started', flush=True)\n"
        "    while True:\n"
        "        await api.wait_update()\n"
        "        time.sleep(0.0005)\n"
        "warnings.simplefilter('ignore')\n"
        "result = Backtest(slow, date(2020, 1, 2), date(2020, 2, 28), progress=False).run()\n"
        "print(result.complete, result.error.startswith('interrupted at simulated time'))\n"
    )
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert process.stdout is not None and process.stdout.readline() == "started\n"
    time.sleep(2.0)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert (process.returncode, out) == (0, "False True\n"), err
