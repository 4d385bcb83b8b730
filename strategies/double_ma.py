"""Double moving average on 1-minute futures bars (the `make demo` strategy).

Holds +1 lot while the fast average of closes is above the slow one and −1 lot while it is below,
deciding when a bar opens from the bars closed before it. Written the tqsdk way: a tqsdk user
recognizes every line but the ``await``.

Run it: ``python strategies/double_ma.py`` (or ``make demo``): it backtests CFFEX IF2003 from
2020-01-02 to 2020-02-28 on the sample data, prints the statistics and writes the result files.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

from backtest import Api, Backtest, BacktestResult

SYMBOL = "CFFEX.IF2003"
FAST = 10
SLOW = 30
VOLUME = 1

RUN: dict[str, Any] = {
    "start": date(2020, 1, 2),
    "end": date(2020, 2, 28),
    "init_balance": 1_000_000,
}
"""The demo run's settings: ``backtest run strategies/double_ma.py`` uses them too."""


async def strategy(
    api: Api, symbol: str = SYMBOL, fast: int = FAST, slow: int = SLOW, volume: int = VOLUME
) -> None:
    """Target +``volume`` lots when MA(fast) > MA(slow) of closed bars, −``volume`` below."""
    klines = api.get_kline_serial(symbol, 60, data_length=slow + 1)
    quote = api.get_quote(symbol)
    position = api.get_position(symbol)
    while True:
        await api.wait_update()
        last = klines.iloc[-1]
        # Act when a bar has just opened (its time is now): inside the trading session.
        if not api.is_changing(last, "datetime") or last.datetime != api.now_ns:
            continue
        closes = klines.close.iloc[:-1]  # bars already closed
        fast_ma, slow_ma = closes.iloc[-fast:].mean(), closes.iloc[-slow:].mean()
        target = volume if fast_ma > slow_ma else -volume if fast_ma < slow_ma else position.pos
        net = position.pos
        if target > net:  # cover any short, then buy up to the target
            if position.pos_short:
                api.insert_order(symbol, "BUY", "CLOSE", position.pos_short, quote.ask_price1)
            api.insert_order(symbol, "BUY", "OPEN", target - max(net, 0), quote.ask_price1)
        elif target < net:  # sell any long, then short down to the target
            if position.pos_long:
                api.insert_order(symbol, "SELL", "CLOSE", position.pos_long, quote.bid_price1)
            api.insert_order(symbol, "SELL", "OPEN", min(net, 0) - target, quote.bid_price1)


def demo() -> BacktestResult:
    """The demo run: IF2003, 2020-01-02 to 2020-02-28, 1,000,000 CNY."""
    return Backtest(strategy, **RUN).run()


def main() -> int:
    result = demo()
    print(f"double moving average ({FAST}/{SLOW}) on {SYMBOL}, 2020-01-02 to 2020-02-28\n")
    print(result.summary())
    out = result.save(Path("runs") / "double_ma")
    print(f"\nresult files written to {out.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
