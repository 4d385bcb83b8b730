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
subscribes 1-minute klines; a store without them keeps the smallest subscribed kline duration as
the source, or, with none subscribed, subscribes the smallest duration it stores (ticks
included). A new quote source shows its own latest state; without one yet, a quote not handed
out shows none (so the first quote never depends on the order of subscription) and a live quote
stays as it is until the new source has data.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from .account import Account, Position
from .ashare import StockFees, ex_rights_price, limit_ratio, price_limits, unlimited_days
from .broker import Ledger, SimBroker
from .calendar import TradingCalendar
from .clock import SimClock
from .errors import ApiUsageError, BacktestFinished, UnknownInstrumentError
from .feed import CLOSE_QUOTES, NO_QUOTES, QUOTE_SOURCE, SESSION_SOURCE, KlineFeed, Market, TickFeed
from .frame import KlineFrame, SerialBuffer, TickFrame
from .futures import FuturesLedger
from .grid import PriceGrid
from .instrument import Instrument, InstrumentTable
from .merge import Handler, Merger
from .model import DAY, TICK, Direction, Offset, period_label
from .order import Order
from .positions import PositionRow, position_rows
from .quotes import EMPTY_STATE, Quote, QuoteState, close_state, open_state
from .resample import Resampling, find_resampling
from .serial import (
    KlineHistory,
    SessionBounds,
    kline_events,
    kline_history,
    tick_events,
    tick_history,
)
from .stocks import StockAccount, StockLedger, StockPosition
from .store import IMPORT_HINT, Store
from .times import format_ns, local_date, local_midnight_ns

_YIELD_EVERY_MASK: Final = 255
"""The engine yields to the event loop once per 256 steps."""
STALL_LIMIT: Final = 100_000
"""Consecutive delivery steps at one simulated time after which the strategy is stopped."""
_QUOTE_MAX_DURATION: Final = 60
"""A quote needs ticks or klines of at most this many seconds, else 1m is subscribed."""


@dataclass(slots=True)
class _Start:
    """A serial subscribed since the last step, to be started at the next one."""

    symbol: str
    duration_s: int
    after_ns: int
    handler: Handler
    sessions: SessionBounds | None = None
    resampling: Resampling | None = None


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
        stock_init_balance: starting cash of the stock account, CNY.
        stock_fees: the broker's A-share fee terms.
    """

    def __init__(
        self,
        store: Store,
        calendar: TradingCalendar,
        instruments: InstrumentTable,
        start_ns: int,
        end_ns: int,
        init_balance: float,
        stock_init_balance: float | None = None,
        stock_fees: StockFees | None = None,
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
        self.trading_day: date = calendar.trading_day_of(start_ns)
        stock_cash = init_balance if stock_init_balance is None else stock_init_balance
        self.stock_account = StockAccount(stock_cash, {})
        self.stocks = StockLedger(
            self.stock_account, stock_fees or StockFees(), lambda: self.trading_day
        )
        self._day_end_ns = calendar.day_end_ns(self.trading_day)
        self.dividends = store.dividends()
        self.broker = SimBroker(self.clock, calendar)
        self._start_broker_day()
        self.daily: list[DailyRow] = []
        self.positions: list[PositionRow] = []  # held positions at each settlement
        self.on_settle: Callable[[date], None] | None = None  # called after each settlement
        self.finished = False
        self._markets: dict[str, Market] = {}
        # Requests since the last step: serials to start (None: history only), and orders.
        self._starts: list[_Start | None] = []
        self._orders = self.broker.pending
        self._delivered_at = -1  # time of the last delivery step, and how many ran there
        self._stalled = 0

    # --- markets and subscriptions ---------------------------------------------------------

    def symbols(self) -> list[str]:
        """The symbols the strategy has used (asked for data of, or traded), sorted."""
        return sorted(self._markets)

    def market(self, symbol: str) -> Market:
        """The state of a canonical symbol, created on first use."""
        found = self._markets.get(symbol)
        if found is None:
            instrument = self.instruments.get(symbol)
            quote = Quote(instrument)
            grid = PriceGrid(instrument.price_tick)
            resting = self.broker.open_book(instrument, grid, quote, self._ledger(instrument))
            found = self._markets[symbol] = Market(instrument, grid, quote, resting)
            self._load_previous_prices(found)
            self._set_limits(found)
        return found

    def _load_previous_prices(self, market: Market) -> None:
        """Yesterday's close (stocks) or settlement (futures) from the store, whatever serials
        the strategy subscribes, adjusted for ex-dates since then (DESIGN.md §7)."""
        symbol, day = market.symbol, self.trading_day
        stored = self.store.durations(symbol)
        if market.instrument.is_futures:
            # Futures limits are set off the settlement price, which bars do not carry: the
            # settlement is known only from ticks (their settlement and pre_settlement fields).
            if TICK in stored:
                market.pre_settlement = self._previous_settlement(symbol)
            return
        # The newest close before today in any stored serial: a daily store that lags the
        # intraday data must not win with an older close. On the same day the daily close
        # (the official one) wins, then ticks and shorter bars.
        latest: tuple[date, float] | None = None
        for duration in sorted(stored, key=lambda d: (d != DAY, d)):
            found = self._last_close_before(symbol, duration, day)
            if found is not None and (latest is None or found[0] > latest[0]):
                latest = found
        if latest is not None:
            market.pre_close = latest[1]
            self._apply_corporate_actions(market, latest[0], day, pay=False)

    def _last_close_before(
        self, symbol: str, duration: int, day: date
    ) -> tuple[date, float] | None:
        """The trading day and price of the last close of one stored serial before ``day``."""
        if duration == TICK:
            before = self.calendar.day_start_ns(day) - 1
            table = self.store.tail(symbol, TICK, before, 1, ["last_price"])
        else:
            # intraday bars start before today's start; daily bars are labelled before today
            before = (
                local_midnight_ns(day) - 1 if duration >= DAY
                else self.calendar.day_start_ns(day) - 1
            )  # fmt: skip
            table = self.store.tail(symbol, duration, before, 1, ["close"])
        if not table.num_rows:
            return None
        last_ns, price = int(table.column(0)[0].as_py()), table.column(1)[0].as_py()
        if price is None or price != price:
            return None
        return self.calendar.trading_day_of(last_ns), float(price)

    def _previous_settlement(self, symbol: str) -> float:
        """The last settlement price before today in the ticks (NaN if none is known)."""
        day_start = self.calendar.day_start_ns(self.trading_day)
        columns = self.store.available_columns(symbol, TICK)
        if "pre_settlement" in columns:
            # today's first ticks carry yesterday's settlement
            for batch in self.store.scan(symbol, TICK, day_start, self._day_end_ns,
                                         ["pre_settlement"], 256):  # fmt: skip
                values = [v for v in batch.column(1).to_pylist() if v == v and v]
                if values:
                    return float(values[0])
                break
        if "settlement" in columns:
            table = self.store.tail(symbol, TICK, day_start - 1, 200, ["settlement"])
            values = [v for v in table.column(1).to_pylist() if v == v and v]
            if values:
                return float(values[-1])
        return float("nan")

    # --- price limits ------------------------------------------------------------------------

    def _set_limits(self, market: Market) -> None:
        """Today's price limits of a symbol, from its rule and yesterday's close/settlement."""
        instrument = market.instrument
        quote = market.quote
        day = self.trading_day
        up = down = float("nan")
        if instrument.is_futures:
            ratio, base = instrument.price_limit_ratio, market.pre_settlement
        elif instrument.tradeable and not self._newly_listed(instrument, day):
            ratio = instrument.price_limit_ratio or limit_ratio(
                instrument.board, instrument.is_st, day
            )
            base = market.pre_close
        else:
            ratio, base = 0.0, float("nan")
        if ratio > 0 and base == base and base > 0:
            up, down = price_limits(base, ratio, instrument.price_tick)
        quote.set_day(up, down, market.pre_close, market.pre_settlement)
        market.set_limited(up == up)

    def _apply_corporate_actions(
        self, market: Market, after: date, upto: date, pay: bool = True
    ) -> None:
        """Corporate actions with ex-dates in ``(after, upto]``: pay the stock account (with
        ``pay``) and adjust yesterday's close ex-rights. An ex-date that is not a trading day
        takes effect on the next trading day."""
        actions = self.dividends.get(market.symbol)
        if not actions:
            return
        for day, cash, ratio in actions:
            if after < day <= upto:
                if pay:
                    self.stocks.apply_corporate_action(market.symbol, cash, ratio, self.clock.step)
                if market.pre_close == market.pre_close:
                    market.pre_close = ex_rights_price(
                        market.pre_close, cash, ratio, market.instrument.price_tick
                    )

    def _newly_listed(self, instrument: Instrument, day: date) -> bool:
        if not instrument.list_date:
            return False
        listed = date.fromisoformat(instrument.list_date)
        if day < listed:
            return False
        days = len(self.calendar.trading_days(listed, day))
        return days <= unlimited_days(instrument.board, listed)

    def _ledger(self, instrument: Instrument) -> Ledger:
        return self.futures if instrument.is_futures else self.stocks

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
            feed = market.ticks = TickFeed(market, buffer, self.clock, self.broker)
            self._starts.append(_Start(symbol, TICK, self.clock.now_ns, feed.handle))
            self._assign_quote_roles(market)
            self._show_new_source(market, history[-1] if history else None)  # ticks are the quote
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

    def _subscribe_klines(self, market: Market, duration_s: int, data_length: int) -> KlineFeed:
        symbol = market.symbol
        now = self.clock.now_ns
        resampling = self._resampling(symbol, duration_s)  # None: stored; else built on the fly
        history = kline_history(
            self.store, symbol, duration_s, now, data_length, self.calendar, resampling,
            market.instrument.sessions,
        )  # fmt: skip
        buffer = SerialBuffer(symbol, duration_s, data_length)
        buffer.load_history(history.rows, self.clock.step + 1)
        feed = market.klines[duration_s] = KlineFeed(market, buffer, self.clock, self.broker)
        self._assign_quote_roles(market)
        sessions = None
        if feed.role == SESSION_SOURCE:
            instrument_sessions, calendar = market.instrument.sessions, self.calendar
            sessions = lambda day: instrument_sessions.bounds(day, calendar)  # noqa: E731
        self._starts.append(_Start(symbol, duration_s, now, feed.handle, sessions, resampling))
        market.set_limited(market.quote.limit_up == market.quote.limit_up)
        if feed.role in (QUOTE_SOURCE, SESSION_SOURCE):
            state = None
            if history.rows:
                state = self._history_quote(market, history, sessions)
            self._show_new_source(market, state)
        return feed

    def _show_new_source(self, market: Market, state: QuoteState | None) -> None:
        """Show a new quote source's latest state (None: it has none yet).

        Without one, a quote not yet handed out shows nothing, so the first quote does not
        depend on the order of subscription (a coarser serial's history is not the finer
        source's); a live quote stays as it is until the new source has data.
        """
        if state is not None:
            market.quote.update(state, self.clock.step + 1)
        elif not market.delivered:
            market.quote.update(EMPTY_STATE, self.clock.step + 1)

    def _history_quote(
        self, market: Market, history: KlineHistory, sessions: SessionBounds | None
    ) -> QuoteState | None:
        """The quote the last history bar implies: its close, or its open if still in progress.

        For a daily quote source, the last session event at or before now decides.
        """
        grid = market.grid
        now = self.clock.now_ns
        if sessions is not None:
            for position, bar in enumerate(reversed(history.rows)):
                day = local_date(bar[0])
                # The last bar may be in progress, shown in its opening state (volume 0): the
                # stored bar tells whether the day traded at all.
                volume = bar[5] if position else self._stored_volume(market.symbol, bar[0])
                if not volume > 0:
                    continue  # suspended: no quote that day
                opens, closes = sessions(day)
                if closes - 1000 <= now:
                    return close_state(closes - 1000, bar[4], bar[8], grid)
                if opens <= now:
                    return open_state(opens, bar[1], bar[7], grid)
            return None
        bar = history.rows[-1]
        if history.last_close_ns > now:
            return open_state(history.last_open_ns, bar[1], bar[7], grid)
        return close_state(history.last_close_ns, bar[4], bar[8], grid)

    def _stored_volume(self, symbol: str, label_ns: int) -> float:
        """Volume of the stored daily bar labelled ``label_ns`` (0 if there is none).

        A daily bar built on the fly exists only for days with finer data: it traded (1).
        """
        if not self.store.has(symbol, DAY):
            return 1.0
        table = self.store.tail(symbol, DAY, label_ns, 1, ["volume"])
        if table.num_rows and int(table.column(0)[0].as_py()) == label_ns:
            volume = table.column(1)[0].as_py()
            return float(volume) if volume is not None else 0.0
        return 0.0

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
                    self.store, buffer.symbol, buffer.duration_s, first_time - 1, missing + 1,
                    self.calendar, self._resampling(buffer.symbol, buffer.duration_s),
                    self.market(buffer.symbol).instrument.sessions,
                ).rows  # fmt: skip
                # A daily bar opens (18:00 the evening before) before its midnight label: the
                # held oldest bar itself can come back, in its opening state.
                older = [row for row in older if row[0] < first_time][-missing:]
            buffer.load_history(older, self.clock.step + 1)
            self._starts.append(None)
        buffer.keep = max(buffer.keep, data_length)

    def _resampling(self, symbol: str, duration_s: int) -> Resampling | None:
        """None when the store holds these klines, else how to build them from finer data.

        Raises:
            DataError: the store has neither the klines nor finer data to build them from.
        """
        sessions = self.market(symbol).instrument.sessions
        return find_resampling(self.store, symbol, duration_s, sessions, self.calendar)

    def _ensure_quote_source(self, market: Market) -> None:
        if not market.sourced:
            self._subscribe_quote_source(market)
            market.sourced = True

    def _subscribe_quote_source(self, market: Market) -> None:
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
        if market.instrument.is_futures and duration > _QUOTE_MAX_DURATION:
            # Daily-only data is normal for A-shares; for futures it is worth a word.
            warnings.warn(
                f"{self.store.root} has no 1m klines for {market.symbol}; its quote comes from "
                f"its {period_label(duration)}",
                stacklevel=5,
            )
        if duration == TICK:
            self.tick_frame(market.symbol, 1)
        else:
            self._subscribe_klines(market, duration, 1)

    def _assign_quote_roles(self, market: Market) -> None:
        finest = min(market.klines) if market.klines else 0
        for duration, feed in market.klines.items():
            if market.ticks is not None:
                feed.role = NO_QUOTES
            elif duration == finest:
                feed.role = SESSION_SOURCE if duration >= DAY else QUOTE_SOURCE
            else:
                feed.role = CLOSE_QUOTES

    # --- orders ------------------------------------------------------------------------------

    def insert_order(
        self,
        symbol: str,
        direction: Direction,
        offset: Offset | None,
        volume: int,
        limit_price: float | None,
        advanced: str | None,
        order_id: str | None,
    ) -> Order:
        """Queue an order for the next step (subscribing the symbol's quote if needed).

        Stocks need no offset (a buy opens, a sell closes); futures do. An order on an unknown
        instrument (:meth:`_unknown`) is queued too, and rejected when it arrives.
        """
        self._check_open()
        found = self._markets.get(symbol)
        unknown = self._unknown(symbol) if found is None or not found.sourced else None
        market = self.market(symbol) if unknown is None else None
        if offset is None:
            if market is not None and market.instrument.is_futures:
                raise ApiUsageError(
                    f"{symbol} is a futures contract: give an offset, 'OPEN', 'CLOSE' or "
                    f"'CLOSETODAY'"
                )
            offset = Offset.OPEN if direction is Direction.BUY else Offset.CLOSE
        if market is not None:
            self._ensure_quote_source(market)
        return self.broker.new_order(
            symbol, direction, offset, volume, limit_price, advanced, order_id, unknown
        )

    def _unknown(self, symbol: str) -> str | None:
        """Why an order on ``symbol`` is rejected as an unknown instrument, or None if it is
        known: no instrument metadata, or no market data of it in the store (DESIGN.md §7)."""
        try:
            self.instruments.get(symbol)
        except UnknownInstrumentError as error:
            return f"rejected: {error}"
        if not self.store.durations(symbol):
            return (
                f"rejected: unknown instrument {symbol}: data store {self.store.root} has no "
                f"market data for it; {IMPORT_HINT}"
            )
        return None

    def position(self, symbol: str) -> Position | StockPosition:
        """The position of a symbol (empty until traded): futures or stock."""
        market = self.market(symbol)
        if market.instrument.is_futures:
            return self.futures.position(market.instrument, market.quote)
        return self.stocks.position(market.instrument, market.quote)

    # --- stepping ------------------------------------------------------------------------

    async def wait_update(self) -> bool:
        """One step: deliver pending requests, or advance to the next market time."""
        clock = self.clock
        clock.step += 1
        if not clock.step & _YIELD_EVERY_MASK:
            # Let the event loop run now and then: a notebook's interrupt (which cancels the
            # cell's task), progress widgets and other tasks get their turn.
            await asyncio.sleep(0)
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
                self.calendar, sessions=start.sessions, resampling=start.resampling,
                trading_sessions=self.market(start.symbol).instrument.sessions,
            )  # fmt: skip
        await self.merger.add(start.symbol, start.duration_s, events, start.handler)

    def _roll_days(self, ts: int) -> None:
        """Settle every trading day that ends before ``ts``; set the new day's price limits."""
        while ts > self._day_end_ns:
            self._settle_day()
            previous = self.trading_day
            self.trading_day = self.calendar.next_trading_day(previous)
            self._day_end_ns = self.calendar.day_end_ns(self.trading_day)
            self._start_broker_day()
            for market in self._markets.values():
                self._apply_corporate_actions(market, previous, self.trading_day)
                self._set_limits(market)

    def _start_broker_day(self) -> None:
        self.broker.trading_day = f"{self.trading_day:%Y%m%d}"
        self.broker.day_start_ns = self.calendar.day_start_ns(self.trading_day)

    def _settle_day(self) -> None:
        """Expire day orders, mark both accounts to the day's prices, record the day."""
        step = self.clock.step
        self.broker.expire_day()
        prices = {}
        for symbol, market in self._markets.items():
            quote = market.quote
            settlement, last = quote.settlement, quote.last_price
            price = settlement if settlement == settlement else last
            prices[symbol] = price
            if last == last:
                market.pre_close = last
            # futures limits need the real settlement (see _load_previous_prices)
            if settlement == settlement:
                market.pre_settlement = settlement
        self.positions.extend(position_rows(self.trading_day, self.account, self.stock_account,
                                            prices))  # fmt: skip
        row = self.futures.settle(prices, step) | self.stocks.settle(prices, step)
        self.daily.append(DailyRow(self.trading_day, row))
        if self.on_settle is not None:
            self.on_settle(self.trading_day)

    async def finish(self) -> None:
        """End the simulation: settle the last trading day reached and close every serial."""
        if self.finished:
            return
        self.finished = True
        try:
            # orders are sent by wait_update(); those placed after the last one never were
            self.broker.drop_pending(
                "cancelled: not sent: the strategy ended before the next wait_update()"
            )
            if self.clock.now_ns > self.start_ns:  # the market moved at least once
                self._settle_day()
        finally:
            await self.merger.aclose()

    async def aclose(self) -> None:
        """Close every serial without settling (used when the strategy failed)."""
        await self.merger.aclose()
