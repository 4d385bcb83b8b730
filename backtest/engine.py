"""The simulation: subscriptions, stepping, quote sources and daily settlement.

:class:`Simulator` owns one backtest's state — clock, merger, quotes, broker, account — and
exposes what the strategy API needs. It has no global state: two simulators in one process never
see each other.

Stepping (DESIGN.md §5): each :meth:`Simulator.wait_update` is one step. If the strategy made
requests since the last step (orders, cancels, new subscriptions), the step delivers them without
advancing time. Otherwise the merger applies every event at the next market time. Before the
first event of a new trading day, the previous day is settled: day orders expire, positions are
marked to the settlement price and a row is added to the daily account table. When every serial
is exhausted or past the end, the last trading day reached is settled and
:class:`BacktestFinished` is raised.

Quote sources (DESIGN.md §6): a symbol's quote comes from its tick serial if one is subscribed;
otherwise from its smallest kline duration (open events and three close packets), and larger
durations add one close packet. A quote asked for without a serial of 1 minute or less
subscribes 1-minute klines; a store without them falls back to the smallest duration it has.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import date
from typing import Final

import numpy as np

from .account import Account, Position
from .broker import Ledger, SimBroker
from .calendar import TradingCalendar
from .clock import SimClock
from .errors import ApiUsageError, BacktestFinished, DataError
from .frame import KlineFrame, RowTuple, SerialBuffer, TickFrame
from .futures import FuturesLedger
from .instrument import Instrument, InstrumentTable
from .merge import Handler, Merger
from .model import TICK, Direction, Offset, period_label
from .order import Order
from .quotes import Quote, QuoteState, close_packets, close_state, open_state
from .serial import (
    OPEN,
    bar_event_times,
    kline_events,
    kline_history,
    tick_events,
    tick_history,
)
from .store import Store
from .times import format_ns

STALL_LIMIT: Final = 100_000
"""Consecutive delivery steps at one simulated time after which the strategy is stopped."""
_QUOTE_MAX_DURATION: Final = 60
"""A quote needs ticks or klines of at most this many seconds, else 1m is subscribed."""

# Roles of a kline feed in its symbol's quote.
_NO_QUOTES, _QUOTE_SOURCE, _CLOSE_QUOTES = 0, 1, 2


class _Market:
    """Everything the engine keeps for one symbol."""

    __slots__ = ("delivered", "instrument", "klines", "quote", "resting", "symbol", "ticks")

    def __init__(self, instrument: Instrument, quote: Quote, resting: list[Order]) -> None:
        self.delivered = False  # the strategy has asked for the quote
        self.symbol = instrument.symbol
        self.instrument = instrument
        self.quote = quote
        self.resting = resting
        self.klines: dict[int, _KlineFeed] = {}
        self.ticks: _TickFeed | None = None


class _KlineFeed:
    """Applies a kline serial's events to its buffer and, by role, to the quote."""

    __slots__ = ("broker", "buffer", "clock", "quote", "resting", "role", "symbol", "tick")

    def __init__(self, market: _Market, buffer: SerialBuffer, clock: SimClock, broker: SimBroker):
        self.symbol = market.symbol
        self.quote = market.quote
        self.resting = market.resting
        self.buffer = buffer
        self.clock = clock
        self.broker = broker
        self.role = _NO_QUOTES
        self.tick = market.instrument.price_tick

    def handle(self, ts: int, kind: int, row: RowTuple) -> None:
        step = self.clock.step
        if kind == OPEN:
            self.buffer.append(row, step)
            if self.role == _QUOTE_SOURCE:
                self.quote.update(open_state(ts, row[1], row[7], self.tick), step)
                if self.resting:
                    self.broker.match(self.symbol)
            return
        self.buffer.replace_last(row, step)
        role = self.role
        if role == _NO_QUOTES:
            return
        quote = self.quote
        if self.resting and role == _QUOTE_SOURCE:
            # Three packets (high, low, close); each may fill resting orders.
            for state in close_packets(ts, row[2], row[3], row[4], row[8], self.tick):
                quote.update(state, step)
                self.broker.match(self.symbol)
                if not self.resting:  # nothing left to fill: jump to the final packet
                    quote.update(close_state(ts, row[4], row[8], self.tick), step)
                    break
            return
        quote.update(close_state(ts, row[4], row[8], self.tick), step)
        if self.resting:
            self.broker.match(self.symbol)


class _TickFeed:
    """Applies tick events to the tick buffer and the quote (ticks are the quote)."""

    __slots__ = ("broker", "buffer", "clock", "quote", "resting", "symbol")

    def __init__(self, market: _Market, buffer: SerialBuffer, clock: SimClock, broker: SimBroker):
        self.symbol = market.symbol
        self.quote = market.quote
        self.resting = market.resting
        self.buffer = buffer
        self.clock = clock
        self.broker = broker

    def handle(self, ts: int, kind: int, row: RowTuple) -> None:
        step = self.clock.step
        self.buffer.append(row, step)
        self.quote.update(row, step)
        if self.resting:
            self.broker.match(self.symbol)


@dataclass(slots=True)
class _Start:
    """A serial subscribed since the last step, to be started at the next one."""

    symbol: str
    duration_s: int
    after_ns: int
    handler: Handler


@dataclass(slots=True)
class DailyRow:
    """The account at one trading day's settlement."""

    trading_day: date
    values: dict[str, float] = field(default_factory=dict)


class Simulator:
    """One backtest's simulated market, broker and account.

    Args:
        store: the data store.
        calendar: trading calendar.
        instruments: instrument metadata.
        start_ns, end_ns: first and last simulated instants (inclusive).
        init_balance: starting futures account balance, CNY.
    """

    def __init__(
        self,
        store: Store,
        calendar: TradingCalendar,
        instruments: InstrumentTable,
        start_ns: int,
        end_ns: int,
        init_balance: float,
    ) -> None:
        self.store = store
        self.calendar = calendar
        self.instruments = instruments
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.clock = SimClock(start_ns)
        self.merger = Merger()
        self.account = Account(init_balance, {})
        self.futures = FuturesLedger(self.account)
        self.trading_day = calendar.trading_day_of(start_ns)
        self._day_end_ns = calendar.day_end_ns(self.trading_day)
        self._day_label = f"{self.trading_day:%Y%m%d}"
        self.broker = SimBroker(self.clock, calendar, lambda: self._day_label)
        self.daily: list[DailyRow] = []
        self.finished = False
        self._markets: dict[str, _Market] = {}
        # Requests since the last step: serials to start (None: history only), and orders.
        self._starts: list[_Start | None] = []
        self._orders = self.broker.pending
        self._delivered_at = -1  # time of the last delivery step, and how many ran there
        self._stalled = 0

    # --- markets and subscriptions ---------------------------------------------------------

    def market(self, symbol: str) -> _Market:
        """The state of a canonical symbol, created on first use."""
        found = self._markets.get(symbol)
        if found is None:
            instrument = self.instruments.get(symbol)
            quote = Quote(instrument)
            resting = self.broker.open_book(instrument, quote, self._ledger(instrument))
            found = self._markets[symbol] = _Market(instrument, quote, resting)
        return found

    def _ledger(self, instrument: Instrument) -> Ledger:
        if instrument.is_futures or not instrument.tradeable:
            return self.futures
        return _UnsupportedLedger(instrument)

    def _check_open(self) -> None:
        if self.finished:
            raise ApiUsageError(
                "the backtest has finished; read results from the value Backtest.run() returns"
            )

    def kline_frame(self, symbol: str, duration_s: int, data_length: int) -> KlineFrame:
        """Subscribe (or reuse) a kline serial and return a view of its last rows."""
        self._check_open()
        market = self.market(symbol)
        feed = market.klines.get(duration_s)
        if feed is None:
            feed = self._subscribe_klines(market, duration_s, data_length)
        else:
            self._extend_history(feed.buffer, data_length)
        return KlineFrame(feed.buffer, data_length)

    def tick_frame(self, symbol: str, data_length: int) -> TickFrame:
        """Subscribe (or reuse) the tick serial and return a view of its last rows."""
        self._check_open()
        market = self.market(symbol)
        feed = market.ticks
        if feed is None:
            if not self.store.has(symbol, TICK):
                self.store.available_columns(symbol, TICK)  # raises the "no ticks" DataError
            buffer = SerialBuffer(symbol, TICK, data_length)
            history = tick_history(self.store, symbol, self.clock.now_ns, data_length)
            buffer.load_history(history, self.clock.step + 1)
            feed = market.ticks = _TickFeed(market, buffer, self.clock, self.broker)
            self._starts.append(_Start(symbol, TICK, self.clock.now_ns, feed.handle))
            self._assign_quote_roles(market)
            if history:
                market.quote.update(history[-1], self.clock.step + 1)
        else:
            self._extend_history(feed.buffer, data_length)
        return TickFrame(feed.buffer, data_length)

    def quote(self, symbol: str) -> Quote:
        """The symbol's quote, subscribing a quote source if it has none.

        The first request delivers the quote at the next step, where it counts as changed.
        """
        self._check_open()
        market = self.market(symbol)
        self._ensure_quote_source(market)
        if not market.delivered:
            market.delivered = True
            market.quote.mark_new(self.clock.step + 1)
            self._starts.append(None)
        return market.quote

    def _subscribe_klines(self, market: _Market, duration_s: int, data_length: int) -> _KlineFeed:
        symbol = market.symbol
        now = self.clock.now_ns
        if not self.store.has(symbol, duration_s):
            self.store.available_columns(symbol, duration_s)  # raises a DataError naming it
        history = kline_history(self.store, symbol, duration_s, now, data_length, self.calendar)
        buffer = SerialBuffer(symbol, duration_s, data_length)
        buffer.load_history(history, self.clock.step + 1)
        feed = market.klines[duration_s] = _KlineFeed(market, buffer, self.clock, self.broker)
        self._starts.append(_Start(symbol, duration_s, now, feed.handle))
        self._assign_quote_roles(market)
        if feed.role == _QUOTE_SOURCE and history:
            market.quote.update(
                self._history_quote(market, duration_s, history), self.clock.step + 1
            )
        return feed

    def _history_quote(
        self, market: _Market, duration_s: int, history: list[RowTuple]
    ) -> QuoteState:
        """The quote the last history bar implies: its close, or its open if still in progress."""
        bar = history[-1]
        tick = market.instrument.price_tick
        opens, closes = bar_event_times(
            duration_s, np.array([bar[0]], dtype=np.int64), self.calendar, market.symbol
        )
        close_ts = int(closes[0])
        if close_ts > self.clock.now_ns:
            return open_state(int(opens[0]), bar[1], bar[7], tick)
        return close_state(close_ts, bar[4], bar[8], tick)

    def _extend_history(self, buffer: SerialBuffer, data_length: int) -> None:
        """Load older rows when a longer view of an existing serial is requested."""
        if data_length <= buffer.keep or not buffer.rows:
            buffer.keep = max(buffer.keep, data_length)
            return
        missing = data_length - len(buffer.rows)
        if missing > 0:
            first_time = int(buffer.rows[0][0])
            if buffer.duration_s == TICK:
                older = tick_history(self.store, buffer.symbol, first_time - 1, missing)
            else:
                older = kline_history(
                    self.store, buffer.symbol, buffer.duration_s, first_time - 1, missing,
                    self.calendar,
                )  # fmt: skip
            buffer.load_history(older, self.clock.step + 1)
            self._starts.append(None)
        buffer.keep = max(buffer.keep, data_length)

    def _ensure_quote_source(self, market: _Market) -> None:
        if market.ticks is not None or any(d <= _QUOTE_MAX_DURATION for d in market.klines):
            return
        stored = self.store.durations(market.symbol)
        if 60 in stored:
            self._subscribe_klines(market, 60, 1)
            return
        if market.klines:
            return  # the smallest subscribed duration is already the source
        if not stored:
            self.store.available_columns(market.symbol, 60)  # raises the "no data" DataError
        duration = stored[0]
        warnings.warn(
            f"{self.store.root} has no 1m klines for {market.symbol}; its quote comes from its "
            f"{period_label(duration) if duration else 'ticks'}",
            stacklevel=4,
        )
        if duration == TICK:
            self.tick_frame(market.symbol, 1)
        else:
            self._subscribe_klines(market, duration, 1)

    def _assign_quote_roles(self, market: _Market) -> None:
        for duration, feed in market.klines.items():
            if market.ticks is not None:
                feed.role = _NO_QUOTES
            elif duration == min(market.klines):
                feed.role = _QUOTE_SOURCE
            else:
                feed.role = _CLOSE_QUOTES

    # --- orders ------------------------------------------------------------------------------

    def insert_order(
        self,
        symbol: str,
        direction: Direction,
        offset: Offset,
        volume: int,
        limit_price: float | None,
        advanced: str | None,
        order_id: str | None,
    ) -> Order:
        """Queue an order for the next step (subscribing the symbol's quote if needed)."""
        self._check_open()
        market = self.market(symbol)
        self._ensure_quote_source(market)
        return self.broker.new_order(
            symbol, direction, offset, volume, limit_price, advanced, order_id
        )

    def position(self, symbol: str) -> Position:
        """The futures position of a symbol (empty until traded)."""
        market = self.market(symbol)
        return self.futures.position(market.instrument, market.quote)

    # --- stepping ------------------------------------------------------------------------

    async def wait_update(self) -> bool:
        """One step: deliver pending requests, or advance to the next market time."""
        clock = self.clock
        clock.step += 1
        if self._starts or self._orders:
            await self._deliver_requests()
            return True
        ts = self.merger.next_ts
        if ts is None:
            await self.finish()
            raise BacktestFinished
        if ts > self._day_end_ns:
            self._roll_days(ts)
        clock.now_ns = ts
        if not self.merger.step_nowait():
            await self.merger.step()
        return True

    async def _deliver_requests(self) -> None:
        now = self.clock.now_ns
        if now == self._delivered_at:
            self._stalled += 1
            if self._stalled >= STALL_LIMIT:
                raise ApiUsageError(
                    f"the strategy made a request (an order, a cancel or a subscription) at every "
                    f"step for {STALL_LIMIT:,} steps while simulated time stayed at "
                    f"{format_ns(now)}: each request is delivered by the next wait_update() "
                    f"without moving time, so a strategy that reacts to the same condition again "
                    f"never lets time advance; act once per condition (remember what you did)"
                )
        else:
            self._delivered_at, self._stalled = now, 0
        starts, self._starts = self._starts, []
        for start in starts:
            if start is not None:
                await self._start_serial(start)
        self.broker.process_pending()

    async def _start_serial(self, start: _Start) -> None:
        if start.duration_s == TICK:
            events = tick_events(self.store, start.symbol, start.after_ns, self.end_ns)
        else:
            events = kline_events(
                self.store, start.symbol, start.duration_s, start.after_ns, self.end_ns,
                self.calendar,
            )  # fmt: skip
        await self.merger.add(start.symbol, start.duration_s, events, start.handler)

    def _roll_days(self, ts: int) -> None:
        """Settle every trading day that ends before ``ts``."""
        while ts > self._day_end_ns:
            self._settle_day()
            self.trading_day = self.calendar.next_trading_day(self.trading_day)
            self._day_end_ns = self.calendar.day_end_ns(self.trading_day)
            self._day_label = f"{self.trading_day:%Y%m%d}"

    def _settle_day(self) -> None:
        step = self.clock.step
        self.broker.expire_day()
        prices = {}
        for symbol, market in self._markets.items():
            quote = market.quote
            settlement = quote.settlement
            prices[symbol] = settlement if settlement == settlement else quote.last_price
        row = self.futures.settle(prices, step)
        self.daily.append(DailyRow(self.trading_day, row))

    async def finish(self) -> None:
        """End the simulation: settle the last trading day reached and close every serial."""
        if self.finished:
            return
        self.finished = True
        try:
            if self.broker.pending:
                self.broker.process_pending()
            if self.clock.now_ns > self.start_ns:  # the market moved at least once
                self._settle_day()
        finally:
            await self.merger.aclose()

    async def aclose(self) -> None:
        """Close every serial without settling (used when the strategy failed)."""
        await self.merger.aclose()


class _UnsupportedLedger:
    """Placeholder ledger for securities until the A-share rules land."""

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument

    def accept(
        self, order: Order, instrument: Instrument, quote: Quote, price: float, step: int
    ) -> str | None:
        return f"rejected: trading {instrument.product_class.value.lower()}s is not supported yet"

    def release(self, order: Order, instrument: Instrument, quote: Quote, step: int) -> None:
        return None

    def fill(
        self,
        order: Order,
        instrument: Instrument,
        quote: Quote,
        price: float,
        volume: int,
        step: int,
    ) -> tuple[float, float]:
        raise DataError(f"cannot fill {order.order_id}: {instrument.symbol} is not tradeable")
