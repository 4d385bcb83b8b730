"""What the reference-model tests (``tests/test_reference_*.py``) share: IF2003.IF prices in
whole ticks, the orders a random strategy sends, and how the engine's fills are compared."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from backtest import Api, BacktestResult

SYMBOL = "IF2003.IF"
TICKS_PER_YUAN = 5  # price tick 0.2


def price_of(ticks: int) -> float:
    """The exact grid price of ``ticks`` ticks (``20001 / 5`` is the float 4000.2)."""
    return ticks / TICKS_PER_YUAN


def ticks_of(price: float) -> int:
    ticks = round(price * TICKS_PER_YUAN)
    assert abs(price * TICKS_PER_YUAN - ticks) < 1e-6, f"{price!r} is off the grid"
    return ticks


@dataclass(frozen=True)
class Insert:
    sent_ns: int
    order_id: str
    direction: str  # "BUY" or "SELL"
    volume: int
    limit: int | None  # ticks; None: a market order
    advanced: str | None  # None, "FAK" or "FOK"


@dataclass(frozen=True)
class Cancel:
    sent_ns: int
    order_id: str


Request = Insert | Cancel


def random_insert(api: Api, rng: random.Random, now: int) -> Insert:
    """Send a random OPEN order of IF2003.IF: a market order (always without a last price),
    else a limit −5…+5 ticks from the last price, half of them with float noise."""
    quote = api.get_quote(SYMBOL)
    direction = rng.choice(["BUY", "SELL"])
    volume = rng.randint(1, 5)
    advanced = rng.choice([None, None, None, None, "FAK", "FOK"])
    price: float | None
    if rng.random() < 0.12 or math.isnan(quote.last_price):
        price = None
    else:
        offset = rng.randint(-5, 5)
        if rng.random() < 0.5:
            price = price_of(ticks_of(quote.last_price) + offset)
        else:  # the strategy's own float arithmetic: on the grid up to float noise
            price = quote.last_price + offset * 0.2
    order = api.insert_order(SYMBOL, direction, "OPEN", volume, price, advanced)
    limit = None if price is None else ticks_of(price)
    return Insert(now, order.order_id, direction, volume, limit, advanced)


Fill = tuple[int, str, str, float, int]
"""(time ns, order id, direction, price, volume)."""


def engine_fills(result: BacktestResult) -> list[Fill]:
    return [
        (
            int(row["trade_date_time"]),
            str(row["order_id"]),
            str(row["direction"]),
            float(row["price"]),
            int(row["volume"]),
        )
        for row in result.trades.to_dict("records")
    ]


def first_difference(
    seed: int, requests: list[Request], engine: list[Any], model: list[Any]
) -> str:
    """The first row where ``engine`` and ``model`` differ, with the order's request."""
    sent = {r.order_id: r for r in requests if isinstance(r, Insert)}
    for index, (got, want) in enumerate(zip(engine, model, strict=False)):
        if got != want:
            return (
                f"seed {seed}, row {index}:\n  engine {got}\n  model  {want}\n"
                f"  engine's order: {sent.get(got[1])}\n  model's order:  {sent.get(want[1])}"
            )
    return f"seed {seed}: engine has {len(engine)} rows, model {len(model)}"
