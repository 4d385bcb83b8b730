"""The simulated broker: order lifecycle and the default matching (DESIGN.md §7, tq).

Synchronous and clock-injected; the engine calls it. The rules:

- ``insert_order`` and ``cancel_order`` reach the broker at the next ``wait_update()``, in the
  order they were called, without advancing time (as with tqsdk).
- An arriving order is **rejected** — finished with ``is_error`` and a readable ``last_msg`` —
  when its instrument is unknown (no metadata, or no market data in the store; the engine
  decides that and passes the ``refusal``), its instrument cannot be traded (an index, or an
  option: options are not simulated), its volume is not a whole number of lots above 0, its
  limit price is not positive or not on the price tick, the market is outside the instrument's
  trading sessions, a stock has no market data that day (suspended), its limit price is outside
  today's price limits, or the ledger refuses it (insufficient funds; closing more than the
  closable position, SHFE/INE telling today's lots from yesterday's; A-share lots and T+1).
- Otherwise it is **matched against the current quote** at once, and again after every later
  quote update of its symbol inside a trading session, until it fills or is cancelled.
  Quote updates outside the sessions (such as the post-close ticks that carry the settlement
  price) match nothing.
- A buy fills when its price ≥ ``ask_price1``; a sell when its price ≤ ``bid_price1``. A
  limit order fills **at its own limit price**, a market order at the opposing best price. The
  whole remaining volume fills at once.
- FAK and FOK orders that cannot fill at once are cancelled; so is a market order, and a market
  order with no opposing price at all. Day orders (GFD) still alive at the end of a trading
  day expire at its settlement.

Other fill models (partial fills, slippage, next-bar open…) are to be options beside this one,
never silent changes to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final, Protocol

from .calendar import TradingCalendar
from .clock import SimClock
from .errors import ApiUsageError
from .grid import PriceGrid
from .instrument import Instrument
from .model import (
    Direction,
    Offset,
    OrderStatus,
    PriceType,
    Symbol,
    TimeCondition,
    VolumeCondition,
)
from .order import Fill, Order, Trade
from .quotes import Quote
from .times import format_ns


class Ledger(Protocol):
    """What a market's rules do with orders and fills (futures now; stocks beside it)."""

    def accept(
        self, order: Order, instrument: Instrument, quote: Quote, price: float, step: int
    ) -> str | None:
        """Check an arriving order and freeze what it needs; a rejection message or None."""
        ...

    def release(self, order: Order, instrument: Instrument, quote: Quote, step: int) -> None:
        """Unfreeze what a finished order still holds."""
        ...

    def fill(
        self,
        order: Order,
        instrument: Instrument,
        quote: Quote,
        price: float,
        volume: int,
        step: int,
    ) -> Fill:
        """Apply a fill; return its fees and profit."""
        ...


@dataclass(slots=True)
class _Book:
    """What the broker knows of one symbol."""

    instrument: Instrument
    grid: PriceGrid
    quote: Quote
    ledger: Ledger
    resting: list[Order]
    session_start: int = 0  # the last trading session seen: [session_start, session_end)
    session_end: int = 0
    # the instrument's constants, read per order
    exchange_id: str = field(init=False)
    instrument_id: str = field(init=False)
    untradeable: str | None = field(init=False)  # why no order on it can trade, if so
    is_futures: bool = field(init=False)

    def __post_init__(self) -> None:
        instrument = self.instrument
        self.exchange_id = instrument.exchange.value
        self.instrument_id = instrument.symbol.partition(".")[0]
        self.is_futures = instrument.is_futures
        reason = instrument.untradeable
        self.untradeable = None if reason is None else f"rejected: {instrument.symbol} {reason}"

    def in_session(self, ts_ns: int, calendar: TradingCalendar) -> bool:
        """True if the symbol trades at ``ts_ns`` (the session found is remembered)."""
        if self.session_start <= ts_ns < self.session_end:
            return True
        window = self.instrument.sessions.window(ts_ns, calendar)
        if window is None:
            return False
        self.session_start, self.session_end = window
        return True


MAX_VOLUME: Final = 10**12
"""The largest order volume (lots or shares): larger ones are rejected (the records keep
volumes as 64-bit integers)."""


def _volume_refusal(volume: object) -> str | None:
    """Why an order volume is invalid (None if it is a whole number from 1 to MAX_VOLUME)."""
    if isinstance(volume, bool) or not isinstance(volume, int) or volume <= 0:
        return f"rejected: volume must be a whole number of lots above 0, was {volume!r}"
    if volume > MAX_VOLUME:
        return f"rejected: volume {volume} is above the {MAX_VOLUME:,} an order may hold"
    return None


def _price_refusal(price: object) -> str:
    """The rejection of a limit price that is not a finite positive number."""
    return f"rejected: limit price must be a positive number, was {price!r}"


def fill_price(order: Order, quote: Quote) -> float | None:
    """The price ``order`` fills at against ``quote`` now, or None if it does not fill.

    A buy needs a price ≥ ask_price1, a sell ≤ bid_price1 (NaN never fills). A limit order
    fills at its limit price, a market order at the opposing price.
    """
    if order.direction is Direction.BUY:
        opposite = quote.ask_price1
        if not opposite > 0:
            return None
        if order.price_type is PriceType.ANY:
            return float(opposite)
        return order.limit_price if order.limit_price >= opposite else None
    opposite = quote.bid_price1
    if not opposite > 0:
        return None
    if order.price_type is PriceType.ANY:
        return float(opposite)
    return order.limit_price if order.limit_price <= opposite else None


def _no_quote_today(quote: Quote) -> str:
    """Why a quote is no book today, for order messages."""
    last = quote.datetime_ns
    when = f"its last quote is from {format_ns(last)[:19]}" if last > 0 else "it has no quote"
    return f"has not traded yet this trading day ({when})"


class SimBroker:
    """Orders, trades and matching for one backtest.

    Args:
        clock: the simulated clock (time and step).
        calendar: for the trading sessions check.

    The engine keeps :attr:`trading_day` (``"YYYYMMDD"``) and :attr:`day_start_ns` (when it
    began) current.
    """

    def __init__(self, clock: SimClock, calendar: TradingCalendar) -> None:
        self.clock = clock
        self.calendar = calendar
        self.trading_day = ""
        self.day_start_ns = 0
        self.orders: dict[str, Order] = {}
        self.trades: list[Trade] = []
        self.trades_by_id: dict[str, Trade] = {}
        self._books: dict[str, _Book] = {}
        self._refused: dict[str, str] = {}  # order id -> rejection decided before arrival
        self.pending: list[Order | str] = []
        """Inserts and cancel requests (order ids) waiting for the next step."""
        self._order_seq = 0
        self._trade_seq = 0

    # --- books ---------------------------------------------------------------------------

    def open_book(
        self, instrument: Instrument, grid: PriceGrid, quote: Quote, ledger: Ledger
    ) -> list[Order]:
        """Register a symbol; returns its list of resting orders (shared, read-only)."""
        book = self._books.get(instrument.symbol)
        if book is None:
            book = self._books[instrument.symbol] = _Book(instrument, grid, quote, ledger, [])
        return book.resting

    # --- requests from the strategy ------------------------------------------------------

    def new_order(
        self,
        symbol: str,
        direction: Direction,
        offset: Offset,
        volume: int,
        limit_price: float | None,
        advanced: str | None,
        order_id: str | None,
        refusal: str | None = None,
    ) -> Order:
        """Create an order (``advanced``: None, ``"FAK"`` or ``"FOK"``); it reaches the broker
        at the next step. ``limit_price`` None makes a market order. ``refusal``: a rejection
        decided already (an unknown instrument, which may have no book), given when it arrives.

        An invalid volume or a limit price that is not a number is such a refusal too; the
        order then holds volume 0 (and a NaN limit price), so that its record stays storable,
        and ``last_msg`` shows the value given."""
        volume_error = _volume_refusal(volume)
        if volume_error is not None:
            volume, refusal = 0, refusal or volume_error
        if limit_price is not None and (
            isinstance(limit_price, bool) or not isinstance(limit_price, int | float)
        ):
            refusal, limit_price = refusal or _price_refusal(limit_price), math.nan
        if order_id is None:
            self._order_seq += 1
            order_id = f"O{self._order_seq:06d}"
        elif order_id in self.orders:
            raise ApiUsageError(f"order_id {order_id!r} is already used in this backtest")
        market = limit_price is None
        book = self._books.get(symbol)
        if book is not None:
            exchange_id, instrument_id = book.exchange_id, book.instrument_id
        else:  # an unknown instrument
            instrument_id = symbol.partition(".")[0]
            exchange_id = Symbol.parse(symbol).exchange.value
        order = Order(
            order_id=order_id,
            symbol=symbol,
            exchange_id=exchange_id,
            instrument_id=instrument_id,
            direction=direction,
            offset=offset,
            volume_orign=volume,
            limit_price=math.nan if limit_price is None else limit_price,
            price_type=PriceType.ANY if market else PriceType.LIMIT,
            volume_condition=VolumeCondition.ALL if advanced == "FOK" else VolumeCondition.ANY,
            time_condition=(
                TimeCondition.IOC if market or advanced is not None else TimeCondition.GFD
            ),
            insert_date_time=self.clock.now_ns,
        )
        order.created(self.clock.step + 1)
        self.orders[order_id] = order
        if refusal is not None:
            self._refused[order_id] = refusal
        self.pending.append(order)
        return order

    def request_cancel(self, order_id: str) -> None:
        """Ask to cancel an order; handled at the next step."""
        if order_id not in self.orders:
            raise ApiUsageError(f"cannot cancel order {order_id!r}: no such order in this backtest")
        self.pending.append(order_id)

    def process_pending(self) -> None:
        """Deliver queued inserts and cancels, in the order they were made."""
        pending = self.pending[:]
        self.pending.clear()  # in place: the engine holds this list
        for item in pending:
            if isinstance(item, Order):
                self._arrive(item)
            else:
                order = self.orders[item]
                if order.status is OrderStatus.ALIVE:
                    self._cancel(order, "cancelled")

    def drop_pending(self, message: str) -> None:
        """Finish queued inserts unsent (with ``message``) and forget queued cancels."""
        pending = self.pending[:]
        self.pending.clear()
        for item in pending:
            if isinstance(item, Order):
                self._refused.pop(item.order_id, None)
                item.touch(self.clock.step)
                self._finish(item, message)

    # --- matching ------------------------------------------------------------------------

    def _arrive(self, order: Order) -> None:
        step = self.clock.step
        order.touch(step)
        if self._refused:
            refusal = self._refused.pop(order.order_id, None)
            if refusal is not None:
                self._finish(order, refusal, error=True)
                return
        book = self._books[order.symbol]
        reason = self._check(order, book)
        if reason is not None:
            self._finish(order, reason, error=True)
            return
        quote = book.quote
        # A quote from an earlier trading day is no book to trade against: the contract has
        # not traded yet today (an illiquid one), or its data ended (an expired one).
        stale = quote.datetime_ns < self.day_start_ns
        why = f": {order.symbol} {_no_quote_today(quote)}" if stale else ""
        if order.price_type is PriceType.ANY:
            opposite = quote.ask_price1 if order.direction is Direction.BUY else quote.bid_price1
            if stale or not opposite > 0:
                self._finish(order, f"cancelled: no opposing price for a market order{why}")
                return
            funds_price = float(opposite)
        else:
            funds_price = order.limit_price
        reason = book.ledger.accept(order, book.instrument, quote, funds_price, step)
        if reason is not None:
            self._finish(order, reason, error=True)
            return
        order.exchange_order_id = order.order_id
        price = None if stale else fill_price(order, quote)
        if price is not None:
            self._fill(order, book, price)
        elif order.time_condition is TimeCondition.IOC:
            if order.price_type is PriceType.ANY:
                kind = "market"
            else:
                kind = "FOK" if order.volume_condition is VolumeCondition.ALL else "FAK"
            self._release_and_finish(
                order, book, f"cancelled: {kind} order could not fill at once{why}"
            )
        else:
            order.last_msg = "accepted"
            book.resting.append(order)

    def _check(self, order: Order, book: _Book) -> str | None:
        """Reasons an order is rejected before the ledger looks at it."""
        instrument = book.instrument
        if book.untradeable is not None:
            return book.untradeable
        if order.price_type is PriceType.LIMIT:
            price = order.limit_price
            if not math.isfinite(price) or price <= 0:
                return _price_refusal(price)
            snapped = book.grid.on_grid(price)
            if snapped is None:
                return (
                    f"rejected: limit price {price:.15g} is not a multiple of the price tick "
                    f"{instrument.price_tick:.15g} of {order.symbol}"
                )
            # on the grid up to float noise: hold the exact grid price (3921.2, not
            # 3921.2000000000003), which is what it fills at and what the records show
            order.limit_price = snapped
        now = self.clock.now_ns
        if not book.in_session(now, self.calendar):
            return (
                f"rejected: {order.symbol} does not trade at {format_ns(now)[:19]} "
                f"(sessions {instrument.sessions})"
            )
        quote = book.quote
        if not book.is_futures and quote.datetime_ns < self.day_start_ns:
            return f"rejected: {order.symbol} has no market data today (suspended)"
        if order.price_type is PriceType.LIMIT:
            price, up, down = order.limit_price, quote.upper_limit, quote.lower_limit
            if price > up + 1e-9:
                return f"rejected: limit price {price:.15g} is above today's upper limit {up:.15g}"
            if price < down - 1e-9:
                return (
                    f"rejected: limit price {price:.15g} is below today's lower limit {down:.15g}"
                )
        return None

    def match(self, symbol: str) -> None:
        """Match the resting orders of ``symbol`` against its quote (after a quote update)."""
        book = self._books[symbol]
        if not book.resting:
            return
        if not book.in_session(book.quote.datetime_ns, self.calendar):
            return
        quote = book.quote
        filled = []
        for order in book.resting:
            price = fill_price(order, quote)
            if price is not None:
                order.touch(self.clock.step)
                self._fill(order, book, price)
                filled.append(order)
        for order in filled:
            book.resting.remove(order)

    def _fill(self, order: Order, book: _Book, price: float) -> None:
        step = self.clock.step
        volume = order.volume_left
        cost = book.ledger.fill(order, book.instrument, book.quote, price, volume, step)
        self._trade_seq += 1
        trade_id = f"T{self._trade_seq:06d}"
        trade = Trade(
            trade_id=trade_id,
            order_id=order.order_id,
            symbol=order.symbol,
            exchange_id=order.exchange_id,
            instrument_id=order.instrument_id,
            direction=order.direction,
            offset=order.offset,
            price=price,
            volume=volume,
            trade_date_time=self.clock.now_ns,
            trading_day=self.trading_day,
            commission=cost.commission,
            stamp_duty=cost.stamp_duty,
            transfer_fee=cost.transfer_fee,
            close_profit=cost.close_profit,
            exchange_trade_id=trade_id,
        )
        trade.created(step)
        self.trades.append(trade)
        self.trades_by_id[trade_id] = trade
        filled_before = order.volume_filled
        average = order.trade_price if filled_before else 0.0
        order.trade_price = (average * filled_before + price * volume) / (filled_before + volume)
        order.volume_left -= volume
        if order.volume_left == 0:
            self._release_and_finish(order, book, "filled")

    # --- cancelling and expiry -----------------------------------------------------------

    def _cancel(self, order: Order, message: str) -> None:
        book = self._books[order.symbol]
        order.touch(self.clock.step)
        if order in book.resting:
            book.resting.remove(order)
        self._release_and_finish(order, book, message)

    def expire_day(self) -> None:
        """Cancel every alive day order at the settlement of the current trading day."""
        message = f"expired: day order (GFD) ended at the settlement of {self.trading_day}"
        for book in self._books.values():
            for order in list(book.resting):
                self._cancel(order, message)

    def _release_and_finish(self, order: Order, book: _Book, message: str) -> None:
        book.ledger.release(order, book.instrument, book.quote, self.clock.step)
        self._finish(order, message)

    def _finish(self, order: Order, message: str, error: bool = False) -> None:
        order.status = OrderStatus.FINISHED
        order.last_msg = message
        order.is_error = error
