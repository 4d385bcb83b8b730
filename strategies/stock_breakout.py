"""Opening-range breakout on 1-minute A-share bars (SSE 600009, January–April 2020).

Each day the first ``range_minutes`` bars set an opening range. After that, the first bar that
closes above the range's high buys ``cash_fraction`` of the account in whole lots. Under T+1
the shares cannot be sold that day: they are sold on the next trading day, when a bar closes
``stop`` below the cost, or at 14:50 at the latest. So the strategy carries every position
overnight — the shape of many intraday A-share strategies.

Run it: ``python strategies/stock_breakout.py``.
"""

from __future__ import annotations

import sys
from datetime import date
from typing import Any

from backtest import Api, Backtest, BacktestResult

SYMBOL = "600009.SH"
LOT = 100

RUN: dict[str, Any] = {
    "start": date(2020, 1, 2),
    "end": date(2020, 4, 10),
    "init_balance": 1_000_000,
}
"""The demo run's settings: ``backtest run strategies/stock_breakout.py`` uses them too."""


async def strategy(
    api: Api,
    symbol: str = SYMBOL,
    range_minutes: int = 30,
    cash_fraction: float = 0.9,
    stop: float = 0.02,
) -> None:
    """Buy the break of the opening range; sell on the next day (T+1) by stop or at 14:50."""
    klines = api.get_kline_serial(symbol, 60, data_length=range_minutes + 1)
    quote = api.get_quote(symbol)
    position = api.get_stock_position(symbol)
    account = api.get_stock_account()
    day_high = float("nan")
    bars_today = 0
    bought_today = False
    while True:
        await api.wait_update()
        last = klines.iloc[-1]
        if not api.is_changing(last, "datetime") or last.datetime != api.now_ns:
            continue  # act when a bar opens: the bar before it has closed
        now = api.now
        if (now.hour, now.minute) == (9, 30):  # a new trading day
            bars_today, day_high, bought_today = 0, float("nan"), False
            continue
        bars_today += 1
        closed = klines.iloc[-2]
        if bars_today <= range_minutes:
            day_high = closed.high if bars_today == 1 else max(day_high, closed.high)
            continue
        sellable = position.can_use_volume
        if sellable and (closed.close < position.cost_price * (1 - stop) or now.hour * 60 +
                         now.minute >= 14 * 60 + 50):  # fmt: skip
            api.insert_order(symbol, "SELL", volume=sellable, limit_price=quote.bid_price1)
        elif not position.volume and not bought_today and closed.close > day_high:
            shares = int(account.cash * cash_fraction / quote.ask_price1 / LOT) * LOT
            if shares:
                api.insert_order(symbol, "BUY", volume=shares, limit_price=quote.ask_price1)
                bought_today = True


def demo() -> BacktestResult:
    """600009.SH, 2020-01-02 to 2020-04-10, 1,000,000 CNY of stock cash."""
    return Backtest(strategy, **RUN).run()


def main() -> int:
    result = demo()
    print(f"opening-range breakout on {SYMBOL}, 2020-01-02 to 2020-04-10\n")
    print(result.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
