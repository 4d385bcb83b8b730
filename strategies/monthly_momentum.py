"""Monthly momentum rotation on daily A-share bars (the shipped daily stocks, 2005–2011).

On the first trading day of each month, at the open, the strategy ranks the stocks by their
return over the last ``lookback`` closed daily bars and holds the best ``hold`` of them in equal
value: it sells what it no longer wants first (cash from sales is usable at once) and then buys
whole lots. It shows the A-share rules at work: lots of 100 shares, T+1, price limits, suspended
days (a stock that does not trade that day is skipped), commission with a minimum, stamp duty
and transfer fee on every trade.

The sample daily data is unadjusted and the sample store has no dividend table, so ex-rights
gaps show up as losses of the holders, exactly as they would on an account without dividends.

A daily bar's open event comes at 18:00 of the previous trading day and shows the coming day's
open (tqsdk's semantics): the ranking therefore only uses bars that have closed.

Run it: ``python strategies/monthly_momentum.py``.
"""

from __future__ import annotations

import math
import sys
from datetime import date
from typing import Any

from backtest import Api, Backtest, BacktestResult

STOCKS = ("600000.SH", "600004.SH", "600005.SH", "000001.SZ", "000002.SZ", "000004.SZ",
          "000005.SZ")  # fmt: skip
LOT = 100

RUN: dict[str, Any] = {
    "start": date(2005, 1, 4),
    "end": date(2011, 12, 6),
    "init_balance": 1_000_000,
}
"""The demo run's settings: ``backtest run strategies/monthly_momentum.py`` uses them too."""


async def strategy(
    api: Api, stocks: tuple[str, ...] = STOCKS, lookback: int = 60, hold: int = 3
) -> None:
    """Hold the ``hold`` stocks with the best ``lookback``-day return, rebalanced monthly."""
    klines = {s: api.get_kline_serial(s, 86_400, data_length=lookback + 2) for s in stocks}
    quotes = {s: api.get_quote(s) for s in stocks}
    positions = {s: api.get_stock_position(s) for s in stocks}
    account = api.get_stock_account()
    month = (0, 0)
    while True:
        await api.wait_update()
        now = api.now
        if (now.hour, now.minute) != (9, 30) or (now.year, now.month) == month:
            continue  # act at the first session open of a month
        month = (now.year, now.month)
        trading = [s for s in stocks if quotes[s].datetime_ns == api.now_ns]  # not suspended

        def momentum(symbol: str) -> float:
            closes = klines[symbol].to_numpy("close")[:-1]  # closed bars only
            return float(closes[-1] / closes[0] - 1.0)

        ranked = sorted((s for s in trading if not math.isnan(momentum(s))), key=momentum)
        chosen = ranked[::-1][:hold]
        budget = account.total_asset * 0.98 / max(len(chosen), 1)
        targets = {s: int(budget / quotes[s].ask_price1 / LOT) * LOT for s in chosen}
        for symbol in trading:  # sells first: their cash is usable at once
            position, quote = positions[symbol], quotes[symbol]
            excess = min(position.volume - targets.get(symbol, 0), position.can_use_volume)
            if excess > 0:
                api.insert_order(symbol, "SELL", volume=excess, limit_price=quote.bid_price1)
        await api.wait_update()
        for symbol, target in targets.items():
            missing = target - positions[symbol].volume
            if missing >= LOT:
                price = quotes[symbol].ask_price1
                api.insert_order(symbol, "BUY", volume=missing // LOT * LOT, limit_price=price)


def demo() -> BacktestResult:
    """2005-01-04 to 2011-12-06, 1,000,000 CNY of stock cash."""
    return Backtest(strategy, **RUN).run()


def main() -> int:
    result = demo()
    print(f"monthly momentum over {len(STOCKS)} A-shares, 2005-01-04 to 2011-12-06\n")
    print(result.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
