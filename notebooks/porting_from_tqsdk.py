# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Porting a tqsdk strategy
#
# **What you will learn:** what changes when a tqsdk strategy moves to backtest — the imports,
# `async`/`await`, and how the backtest is started — and that everything else (serials,
# quotes, orders, `is_changing`) keeps its name and meaning. The port runs here on the shipped
# data; its numbers are checked against the repository's golden file.
#
# ## The tqsdk original
#
# A double moving average on 1-minute bars, as tqsdk's documentation writes it (tqsdk needs an
# account and a network, so it is shown, not run):
#
# ```python
# from datetime import date
# from tqsdk import TqApi, TqAuth, TqBacktest, TqSim, BacktestFinished
#
# api = TqApi(TqSim(init_balance=1_000_000), backtest=TqBacktest(date(2020, 1, 2), date(2020, 2, 28)),
#             auth=TqAuth("user", "password"))
# klines = api.get_kline_serial("CFFEX.IF2003", 60, data_length=31)
# quote = api.get_quote("CFFEX.IF2003")
# position = api.get_position("CFFEX.IF2003")
# try:
#     while True:
#         api.wait_update()
#         last = klines.iloc[-1]
#         if api.is_changing(last, "datetime"):
#             closes = klines.close.iloc[:-1]
#             fast, slow = closes.iloc[-10:].mean(), closes.iloc[-30:].mean()
#             ...   # insert_order toward +1 / -1 lot, as below
# except BacktestFinished:
#     api.close()
# ```
#
# ## The port
#
# Three changes: the import, `async def` + `await api.wait_update()`, and `Backtest(...)`
# instead of `TqApi(TqSim(), backtest=TqBacktest(...))`. `BacktestFinished` still ends the
# loop (backtest catches it for you). Symbols may keep tqsdk's spelling (`CFFEX.IF2003`).

# %%
from datetime import date

from backtest import Backtest


async def strategy(api):
    symbol = "CFFEX.IF2003"
    klines = api.get_kline_serial(symbol, 60, data_length=31)
    quote = api.get_quote(symbol)
    position = api.get_position(symbol)
    while True:
        await api.wait_update()  # the only change inside the loop: await
        last = klines.iloc[-1]
        if not api.is_changing(last, "datetime") or last.datetime != api.now_ns:
            continue
        closes = klines.close.iloc[:-1]
        fast, slow = closes.iloc[-10:].mean(), closes.iloc[-30:].mean()
        target = 1 if fast > slow else -1 if fast < slow else position.pos
        net = position.pos
        if target > net:
            if position.pos_short:
                api.insert_order(symbol, "BUY", "CLOSE", position.pos_short, quote.ask_price1)
            api.insert_order(symbol, "BUY", "OPEN", target - max(net, 0), quote.ask_price1)
        elif target < net:
            if position.pos_long:
                api.insert_order(symbol, "SELL", "CLOSE", position.pos_long, quote.bid_price1)
            api.insert_order(symbol, "SELL", "OPEN", min(net, 0) - target, quote.bid_price1)


result = await Backtest(
    strategy, start=date(2020, 1, 2), end=date(2020, 2, 28), init_balance=1_000_000
).arun()
result

# %% [markdown]
# One tqsdk habit needs a second look: `last.datetime != api.now_ns` skips the moment a bar
# *closes*. tqsdk also reports a new bar's `datetime` change when history arrives; backtest
# reports it exactly once per new bar, at its open, inside the trading session.
#
# The same strategy lives in `strategies/double_ma.py` (`make demo`); this port gives the same
# result, checked against `tests/golden/double_ma.json`:

# %% tags=["check:double_ma"]
{name: result.stats[name] for name in ("final_balance", "trading_days", "trades", "commission")}

# %% [markdown]
# ## What else maps one to one
#
# | tqsdk | backtest |
# |---|---|
# | `api.wait_update()` | `await api.wait_update()` |
# | `TqApi(TqSim(init_balance), backtest=TqBacktest(start, end))` | `Backtest(strategy, start, end, init_balance).run()` (`await ….arun()` in a notebook) |
# | `api.get_quote`, `get_kline_serial`, `get_tick_serial` | same names, same frames (`klines.iloc[-1]`, `klines.close`) |
# | `api.insert_order(symbol, direction, offset, volume, limit_price)` | same; stocks need no offset |
# | `api.is_changing(obj, "field")` | same |
# | `api.get_position`, `get_account`, `get_order`, `get_trade` | same (plus `get_stock_account`, `get_stock_position`) |
# | the report printed at the end | `result.stats` with tqsdk's names (`ror`, `annual_yield`, `winning_rate`, …) |
