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
# # Quickstart: a first backtest in a notebook
#
# **What you will learn:** run a backtest on the data shipped with backtest, read its results
# (statistics, trades, the account day by day), plot them, change a parameter and compare the
# two runs. Everything runs offline on the sample data store.
#
# A strategy is an `async` function written with tqsdk's API: it waits for market updates and
# trades. This one holds +1 lot of the CSI 300 index future while the average of the last 10
# one-minute closes is above the average of the last 30, and −1 lot while it is below.

# %%
from datetime import date

import pandas as pd

from backtest import Backtest


async def strategy(api, symbol="CFFEX.IF2003", fast=10, slow=30, volume=1):
    klines = api.get_kline_serial(symbol, 60, data_length=slow + 1)  # 1-minute bars
    quote = api.get_quote(symbol)
    position = api.get_position(symbol)
    while True:
        await api.wait_update()  # one market time per call; BacktestFinished at the end
        last = klines.iloc[-1]
        if not api.is_changing(last, "datetime") or last.datetime != api.now_ns:
            continue  # act only when a new bar has just opened
        closes = klines.close.iloc[:-1]  # the bars already closed
        fast_ma, slow_ma = closes.iloc[-fast:].mean(), closes.iloc[-slow:].mean()
        target = volume if fast_ma > slow_ma else -volume if fast_ma < slow_ma else position.pos
        net = position.pos
        if target > net:
            if position.pos_short:
                api.insert_order(symbol, "BUY", "CLOSE", position.pos_short, quote.ask_price1)
            api.insert_order(symbol, "BUY", "OPEN", target - max(net, 0), quote.ask_price1)
        elif target < net:
            if position.pos_long:
                api.insert_order(symbol, "SELL", "CLOSE", position.pos_long, quote.bid_price1)
            api.insert_order(symbol, "SELL", "OPEN", min(net, 0) - target, quote.bid_price1)


# %% [markdown]
# `await Backtest(...).arun()` runs inside the notebook's event loop (no `nest_asyncio`); the
# progress bar counts simulated trading days, and interrupting the kernel stops the run
# cleanly with what was computed so far. The result displays as a summary.

# %%
result = await Backtest(
    strategy, start=date(2020, 1, 2), end=date(2020, 2, 28), init_balance=1_000_000
).arun()
result

# %% [markdown]
# The key numbers (this cell is checked against `tests/golden/double_ma.json` by the test suite,
# so this page cannot drift from the code):

# %% tags=["check:double_ma"]
{name: result.stats[name] for name in ("final_balance", "trading_days", "trades", "commission")}

# %% [markdown]
# Trades, orders and the account at each settlement are DataFrames; times are Beijing time
# (`trade_datetime`) next to tqsdk's int nanoseconds (`trade_date_time`).

# %%
result.trades.head()

# %%
result.daily[["trading_day", "equity", "margin", "commission"]].tail()

# %% [markdown]
# Equity and drawdown, interactively (zoom, hover); `result.plot("IF2003.IF")` shows the price
# with the fills.

# %%
result.plot()

# %% [markdown]
# Change a parameter and compare the two runs side by side: strategy parameters are plain
# keyword arguments, so `functools.partial` sets them.

# %%
from functools import partial

faster = await Backtest(
    partial(strategy, fast=5),
    start=date(2020, 1, 2),
    end=date(2020, 2, 28),
    init_balance=1_000_000,
    progress=False,
).arun()
names = ["ror", "max_drawdown", "sharpe_ratio", "trades", "win_rate", "commission"]
pd.DataFrame(
    {"10/30": [result.stats[n] for n in names], "5/30": [faster.stats[n] for n in names]},
    index=names,
)

# %% [markdown]
# Save a run directory (`result.json`, Parquet tables, daily QIFI snapshots and a
# self-contained `report.html`) to share or to compare later with `backtest diff`:
#
# ```python
# result.save("runs/double_ma")
# ```
