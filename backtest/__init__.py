"""Asyncio backtesting for Chinese futures and A-shares, on merged time series.

A strategy is an async function that waits for market updates and trades through tqsdk's API::

    from datetime import date
    from backtest import Backtest

    async def strategy(api):
        klines = api.get_kline_serial("IF2003.IF", 60, data_length=30)
        while True:
            await api.wait_update()                  # BacktestFinished ends the loop
            if api.is_changing(klines.iloc[-1], "datetime"):
                if klines.close.iloc[-2] > klines.close.iloc[-30:-1].mean():
                    ...  # api.insert_order("IF2003.IF", "BUY", "OPEN", 1, limit_price=...)

    result = Backtest(strategy, start=date(2020, 1, 2), end=date(2020, 2, 28)).run()
    print(result.stats)

Time advances one market time per ``wait_update()``; quotes come from ticks or are synthesized
from klines; a simulated broker matches orders against the opposing side of the quote. See
DESIGN.md for the exact semantics and README.md for a tour.
"""

from .api import Api
from .config import BacktestConfig
from .errors import (
    ApiUsageError,
    BacktestError,
    BacktestFinished,
    ConfigError,
    DataEndedWarning,
    DataError,
    NoDataWarning,
    StrategyError,
    UnknownInstrumentError,
)
from .result import BacktestResult
from .runner import Backtest
from .store import Store

__version__ = "0.1.0"

__all__ = [
    "Api",
    "ApiUsageError",
    "Backtest",
    "BacktestConfig",
    "BacktestError",
    "BacktestFinished",
    "BacktestResult",
    "ConfigError",
    "DataEndedWarning",
    "DataError",
    "NoDataWarning",
    "Store",
    "StrategyError",
    "UnknownInstrumentError",
]
