"""Tick momentum on CFFEX IF2101 level-1 ticks: passive entries, aggressive exits, flat at 14:55.

Each tick compares the average last price of the latest ``fast`` ticks with that of the latest
``slow`` ticks ("lead", in price ticks). When the lead reaches ``threshold`` the strategy joins
the best bid (the best ask for shorts) with a limit order that rests in the book; an entry not
filled within ``patience`` ticks is cancelled. A position is closed at the opposing best price
when the lead turns against it by ``exit_threshold``, and every position is closed after 14:55.

It shows what ticks add over bars: the quote is the real book (bid/ask and their sizes), and a
resting buy fills only when a later tick's ask comes down to it.

Run it: ``python strategies/tick_momentum.py`` (2021-01-04 to 2021-01-06 on the sample data).
"""

from __future__ import annotations

import sys
from datetime import date
from typing import Any

from backtest import Api, Backtest, BacktestResult
from backtest.order import Order

SYMBOL = "CFFEX.IF2101"

RUN: dict[str, Any] = {
    "start": date(2021, 1, 4),
    "end": date(2021, 1, 6),
    "init_balance": 1_000_000,
}
"""The demo run's settings: ``backtest run strategies/tick_momentum.py`` uses them too."""


async def strategy(
    api: Api,
    symbol: str = SYMBOL,
    fast: int = 120,
    slow: int = 1200,
    threshold: float = 25.0,
    exit_threshold: float = 10.0,
    patience: int = 60,
) -> None:
    """Momentum entries joining the book, exits crossing it; flat from 14:55."""
    ticks = api.get_tick_serial(symbol, data_length=slow)
    quote = api.get_quote(symbol)
    position = api.get_position(symbol)
    tick_size = quote.price_tick
    entry: Order | None = None
    waited = 0
    while True:
        await api.wait_update()
        if not api.is_changing(ticks):
            continue  # a step that only delivered our own orders
        now = api.now
        in_session = (now.hour, now.minute) >= (9, 30) and (now.hour, now.minute) < (15, 0)
        if not in_session:
            continue
        prices = ticks.to_numpy("last_price")
        lead = (prices[-fast:].mean() - prices.mean()) / tick_size
        closing_time = (now.hour, now.minute) >= (14, 55)
        if entry is not None and entry.status == "ALIVE":
            waited += 1
            if waited >= patience or closing_time:
                api.cancel_order(entry)
                entry = None
            continue
        if position.pos > 0 and (lead < -exit_threshold or closing_time):
            api.insert_order(symbol, "SELL", "CLOSE", position.pos, quote.bid_price1)
        elif position.pos < 0 and (lead > exit_threshold or closing_time):
            api.insert_order(symbol, "BUY", "CLOSE", -position.pos, quote.ask_price1)
        elif position.pos == 0 and not closing_time and prices[0] == prices[0]:  # full window
            if lead >= threshold:
                entry, waited = api.insert_order(symbol, "BUY", "OPEN", 1, quote.bid_price1), 0
            elif lead <= -threshold:
                entry, waited = api.insert_order(symbol, "SELL", "OPEN", 1, quote.ask_price1), 0


def demo() -> BacktestResult:
    """IF2101 ticks, 2021-01-04 to 2021-01-06, 1,000,000 CNY."""
    return Backtest(strategy, **RUN).run()


def main() -> int:
    result = demo()
    print(f"tick momentum on {SYMBOL}, 2021-01-04 to 2021-01-06\n")
    print(result.summary())
    messages = result.orders.last_msg.str.split(":").str[0].value_counts()
    print("\norders:", ", ".join(f"{count} {what}" for what, count in messages.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
