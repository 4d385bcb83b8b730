"""Feeds: what each serial event does to its buffer and its symbol's quote (DESIGN.md §6).

A :class:`Market` is the engine's state of one symbol: instrument, quote, resting orders and
its feeds. A feed applies one serial's events:

- :class:`TickFeed`: the tick is appended and becomes the quote.
- :class:`KlineFeed`, by role: the **quote source** (finest kline serial when no ticks) makes
  the open ± tick quote at open events and the high/low/close packets at close events; larger
  durations (**close quotes**) add one close ± tick packet at their close events; with ticks
  subscribed klines make **no quotes**. A daily serial that is the quote source (a symbol with
  no intraday data) makes its quotes at the **session** events instead — the day's first
  session open and last session close — so they fall inside trading hours; a daily bar without
  volume is a suspended day and makes none.
- Within today's price limits (:attr:`Quote.limit_up`/``limit_down``, set each trading day)
  quotes are clipped to the limits and a locked limit has no opposing side
  (:func:`backtest.quotes.limited_state`).

After each quote update with orders resting on the symbol, the broker matches them.
"""

from __future__ import annotations

from typing import Final

from .broker import SimBroker
from .clock import SimClock
from .frame import RowTuple, SerialBuffer
from .grid import PriceGrid
from .instrument import Instrument
from .order import Order
from .quotes import Quote, close_packets, close_state, limited_state, open_state
from .serial import CLOSE, OPEN, SESSION_OPEN

NO_QUOTES: Final = 0
"""Klines of a symbol whose quote comes from ticks."""
QUOTE_SOURCE: Final = 1
"""The finest kline serial of a symbol without ticks."""
CLOSE_QUOTES: Final = 2
"""A larger kline duration: one close packet per bar."""
SESSION_SOURCE: Final = 3
"""A daily serial that is the quote source: quotes at session open and close."""


class Market:
    """Everything the engine keeps for one symbol."""

    __slots__ = (
        "delivered", "grid", "instrument", "klines", "pre_close", "pre_settlement", "quote",
        "resting", "sourced", "symbol", "ticks",
    )  # fmt: skip

    def __init__(
        self, instrument: Instrument, grid: PriceGrid, quote: Quote, resting: list[Order]
    ) -> None:
        self.delivered = False  # the strategy has asked for the quote
        self.sourced = False  # a serial makes the quote (kept once true: serials stay)
        self.symbol = instrument.symbol
        self.instrument = instrument
        self.grid = grid
        self.quote = quote
        self.resting = resting
        self.klines: dict[int, KlineFeed] = {}
        self.ticks: TickFeed | None = None
        # The previous trading day's close and settlement price (NaN: unknown).
        self.pre_close = float("nan")
        self.pre_settlement = float("nan")

    def set_limited(self, limited: bool) -> None:
        """Tell the kline feeds whether today's quotes must respect price limits."""
        for feed in self.klines.values():
            feed.limited = limited


class _Feed:
    """What every feed holds: its buffer, its symbol's quote and resting orders."""

    __slots__ = ("broker", "buffer", "clock", "quote", "resting", "symbol")

    def __init__(self, market: Market, buffer: SerialBuffer, clock: SimClock, broker: SimBroker):
        self.symbol = market.symbol
        self.quote = market.quote
        self.resting = market.resting
        self.buffer = buffer
        self.clock = clock
        self.broker = broker


class KlineFeed(_Feed):
    """Applies a kline serial's events to its buffer and, by role, to the quote."""

    __slots__ = ("grid", "known", "limited", "role")

    def __init__(self, market: Market, buffer: SerialBuffer, clock: SimClock, broker: SimBroker):
        super().__init__(market, buffer, clock, broker)
        self.role = NO_QUOTES
        self.limited = False
        self.grid = market.grid
        self.known = market.grid.known  # the grid's memo of around(), read inline

    def handle(self, ts: int, kind: int, row: RowTuple) -> None:
        step = self.clock.step
        if kind == OPEN:
            self.buffer.append(row, step)
            if self.role == QUOTE_SOURCE:
                if self.limited or self.resting:
                    self._open_quote(ts, row, step)
                else:  # the common case, open_state inlined: this runs for every bar
                    price = row[1]
                    pair = self.known.get(price) or self.grid.around(price)
                    self.quote.update((ts, price, pair[0], 1.0, pair[1], 1.0, 0.0, row[7]), step)
            return
        if kind == CLOSE:
            self.buffer.replace_last(row, step)
            role = self.role
            if role in (QUOTE_SOURCE, CLOSE_QUOTES):
                if self.limited or self.resting:
                    self._close_quote(ts, row, step, role == QUOTE_SOURCE)
                else:  # close_state inlined
                    price = row[4]
                    pair = self.known.get(price) or self.grid.around(price)
                    self.quote.update((ts, price, pair[0], 1.0, pair[1], 1.0, 0.0, row[8]), step)
            return
        if self.role == SESSION_SOURCE and row[5] > 0:  # no volume: suspended, no quotes
            if kind == SESSION_OPEN:
                self._open_quote(ts, row, step)
            else:
                self._close_quote(ts, row, step, True)

    def _open_quote(self, ts: int, row: RowTuple, step: int) -> None:
        quote = self.quote
        if self.limited:
            price = row[1]
            # The bar is not known yet: an opening print at a limit counts as locked.
            state = limited_state(
                ts, price, price, row[7], self.grid, quote.limit_up, quote.limit_down, True
            )
        else:
            state = open_state(ts, row[1], row[7], self.grid)
        quote.update(state, step)
        if self.resting:
            self.broker.match(self.symbol)

    def _close_quote(self, ts: int, row: RowTuple, step: int, packets: bool) -> None:
        quote = self.quote
        grid = self.grid
        if self.limited:
            up, down = quote.limit_up, quote.limit_down
            locked = row[2] == row[3]  # a one-price bar
            close, oi = row[4], row[8]
            prices = (row[2], row[3], close) if packets and self.resting else (close,)
            for price in prices:
                quote.update(limited_state(ts, close, price, oi, grid, up, down, locked), step)
                if self.resting:
                    self.broker.match(self.symbol)
            return
        if packets and self.resting:
            # Three packets (high, low, close); each may fill resting orders.
            for state in close_packets(ts, row[2], row[3], row[4], row[8], grid):
                quote.update(state, step)
                self.broker.match(self.symbol)
                if not self.resting:  # nothing left to fill: jump to the final packet
                    quote.update(close_state(ts, row[4], row[8], grid), step)
                    break
            return
        quote.update(close_state(ts, row[4], row[8], grid), step)
        if self.resting:
            self.broker.match(self.symbol)


class TickFeed(_Feed):
    """Applies tick events to the tick buffer and the quote (ticks are the quote)."""

    __slots__ = ()

    def handle(self, ts: int, kind: int, row: RowTuple) -> None:
        step = self.clock.step
        self.buffer.append(row, step)
        self.quote.update(row, step)
        if self.resting:
            self.broker.match(self.symbol)
