"""Positions held at each trading day's settlement: what ``result.positions`` shows.

One row per (trading day, account, symbol) with a position at the day's settlement, taken just
before the day rolls (so today's and yesterday's volumes are still apart):

- ``pos_long_his``/``pos_long_today``, ``pos_short_his``/``pos_short_today``: volumes (lots for
  futures; shares for stocks, where "today" are the shares bought today, not yet sellable);
- ``open_price_long``/``open_price_short``: average open price (stocks: cost per share, buy fees
  included); NaN on a side with no volume;
- ``settlement_price``: the price the day was settled at (the settlement price when the data has
  one, else the last price);
- ``market_value``: settlement price × multiplier × (long − short) volume, CNY;
- ``float_profit``: market value against the open cost (stocks: against the cost), CNY;
- ``margin``: futures margin at the settlement price (0 for stocks), CNY.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final

from .account import Account
from .money import round_money
from .stocks import StockAccount

POSITION_COLUMNS: Final = (
    "trading_day", "account", "symbol", "pos_long_his", "pos_long_today", "pos_short_his",
    "pos_short_today", "open_price_long", "open_price_short", "settlement_price",
    "market_value", "float_profit", "margin",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PositionRow:
    """One position at one settlement (fields as :data:`POSITION_COLUMNS`)."""

    trading_day: date
    account: str
    symbol: str
    pos_long_his: int
    pos_long_today: int
    pos_short_his: int
    pos_short_today: int
    open_price_long: float
    open_price_short: float
    settlement_price: float
    market_value: float
    float_profit: float
    margin: float


def position_rows(
    day: date, futures: Account, stocks: StockAccount, prices: Mapping[str, float]
) -> list[PositionRow]:
    """The positions of both accounts at the settlement of ``day`` (before it rolls)."""
    rows = []
    for symbol, position in sorted(futures.positions.items()):
        long, short = position.pos_long, position.pos_short
        if not long and not short:
            continue
        instrument = position.instrument
        price = prices.get(symbol, float("nan"))
        multiple = instrument.volume_multiple
        if price == price:
            long_value, short_value = price * multiple * long, price * multiple * short
        else:  # no price yet: carried at cost
            long_value, short_value = position.position_cost_long, position.position_cost_short
        margin = (
            instrument.margin_ratio_long * long_value + instrument.margin_ratio_short * short_value
        )
        profit = (long_value - position.open_cost_long) + (position.open_cost_short - short_value)
        rows.append(
            PositionRow(
                day, "futures", symbol, position.pos_long_his, position.pos_long_today,
                position.pos_short_his, position.pos_short_today, position.open_price_long,
                position.open_price_short, price, round_money(long_value - short_value),
                round_money(profit), round_money(margin),
            )
        )  # fmt: skip
    for symbol, holding in sorted(stocks.positions.items()):
        if not holding.volume:
            continue
        price = prices.get(symbol, float("nan"))
        value = holding.cost if price != price else price * holding.volume
        rows.append(
            PositionRow(
                day, "stock", symbol, holding.volume_his, holding.volume_today, 0, 0,
                holding.cost_price, float("nan"), price, round_money(value),
                round_money(value - holding.cost), 0.0,
            )
        )  # fmt: skip
    return rows
