"""Quotes, and their synthesis from klines when no ticks are subscribed (DESIGN.md §6).

A symbol's quote comes from its ticks when a tick serial is subscribed: the quote *is* the
latest tick, and its kline serials make no quotes. Otherwise quotes are synthesized from klines:

- at a bar's **open** event of the symbol's smallest subscribed duration: ``ask_price1 = open +
  price_tick``, ``bid_price1 = open − price_tick``, volumes 1, ``last_price = open``;
- at the **close** event of the smallest duration, three updates in order: ask/bid = high ±
  tick, then low ± tick, then close ± tick, all carrying ``last_price = close`` and the bar's
  close time. The broker matches resting orders after each; the strategy sees the final one.
  (:func:`close_packets`; the engine skips the first two when no order rests on the symbol,
  which no one can observe.)
- at a close event of a **larger** duration, one update from close ± tick;
- open events of larger durations leave the quote alone: a daily bar opens at 18:00 the day
  before, and its open price is not known then.

Prices ± tick are exact grid prices (:class:`backtest.grid.PriceGrid`): ``3921.0 + 0.2`` is
``3921.2``, as in the data, not ``3921.2000000000003``.

Fields klines cannot know (``highest, lowest, average, amount``, today's ``open`` and
``close``) are NaN, and ``volume`` is 0; ``open_interest`` is the bar's close_oi (open_oi at the
open event). ``upper_limit``/``lower_limit`` are the day's limits from the instrument's rule
(NaN when it has none or yesterday's price is unknown); ``pre_close``/``pre_settlement`` are
yesterday's close and settlement as the engine passes them with the limits at each trading
day's start (:meth:`Quote.set_day`; NaN when unknown). Tick data's own values of these four
fields win. ``is_changing(quote, "upper_limit")`` (or ``"pre_close"``…) reports a new day's
values at that day's first update. When a quote is first requested it shows the latest state
already in the serial's history, so it is usable before the first ``wait_update``.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Final

from .grid import PriceGrid
from .instrument import Instrument
from .model import CommissionUnit
from .store import TICK_COLUMNS
from .times import format_ns

QuoteState = tuple[Any, ...]
"""Market fields of a quote in :data:`QUOTE_FIELDS` order; fields past its end are NaN.

A tick row is a full state; a synthesized state has only the first eight fields.
"""

QUOTE_FIELDS: Final = TICK_COLUMNS
FIELD_INDEX: Final = {name: i for i, name in enumerate(QUOTE_FIELDS)} | {"datetime_ns": 0}
SYNTHESIZED_FIELDS: Final = (
    "datetime", "last_price", "bid_price1", "bid_volume1", "ask_price1", "ask_volume1",
    "volume", "open_interest",
)  # fmt: skip
assert QUOTE_FIELDS[: len(SYNTHESIZED_FIELDS)] == SYNTHESIZED_FIELDS
assert QUOTE_FIELDS[29:33] == ("upper_limit", "lower_limit", "pre_close", "pre_settlement")
_NAN: Final = math.nan
EMPTY_STATE: Final[QuoteState] = (0,)
"""State of a quote before any data: datetime 0, every other field NaN."""


def synthesized_state(ts_ns: int, last: float, bid: float, ask: float, oi: float) -> QuoteState:
    """A kline-synthesized quote state: one lot each side, volume 0, other fields NaN."""
    return (ts_ns, last, bid, 1.0, ask, 1.0, 0.0, oi)


def open_state(ts_ns: int, open_price: float, open_oi: float, grid: PriceGrid) -> QuoteState:
    """Quote at a bar's open event: open ± tick, one lot each side (the feed inlines it)."""
    bid, ask = grid.around(open_price)
    return (ts_ns, open_price, bid, 1.0, ask, 1.0, 0.0, open_oi)


def limited_state(
    ts_ns: int,
    last: float,
    price: float,
    oi: float,
    grid: PriceGrid,
    up: float,
    down: float,
    locked: bool,
) -> QuoteState:
    """A synthesized state inside today's price limits (``up``/``down``, NaN if unknown).

    Bid and ask are ``price ∓ tick`` clipped to the limits. At a limit price with no trading
    away from it (``locked``: a one-price bar at the limit, or an opening print at the limit,
    whose bar is not known yet) nobody takes the other side: a locked limit-up has no ask, a
    locked limit-down no bid. A price outside the limits means the data knows better than the
    rule (a limit widened by the exchange): nothing is clipped, so bid never exceeds ask.
    """
    below, above = grid.around(price)
    if not down <= price <= up:  # also when a limit is NaN
        return (ts_ns, last, below, 1.0, above, 1.0, 0.0, oi)
    ask = above if not above > up else up
    bid = below if not below < down else down
    if locked and price >= up:
        ask = _NAN
    if locked and price <= down:
        bid = _NAN
    return (ts_ns, last, bid, 1.0, ask, 1.0, 0.0, oi)


def close_packets(
    ts_ns: int, high: float, low: float, close: float, close_oi: float, grid: PriceGrid
) -> tuple[QuoteState, QuoteState, QuoteState]:
    """The three quote updates at a bar's close event: high ± tick, low ± tick, close ± tick.

    Each carries ``last_price = close``; the broker matches resting orders after each.
    """
    return (
        synthesized_state(ts_ns, close, *grid.around(high), close_oi),
        synthesized_state(ts_ns, close, *grid.around(low), close_oi),
        synthesized_state(ts_ns, close, *grid.around(close), close_oi),
    )


def close_state(ts_ns: int, close: float, close_oi: float, grid: PriceGrid) -> QuoteState:
    """The last of :func:`close_packets`, alone: close ± tick (the feed inlines it)."""
    bid, ask = grid.around(close)
    return (ts_ns, close, bid, 1.0, ask, 1.0, 0.0, close_oi)


class Quote:
    """The live quote of one symbol, updated in place as simulated time advances (tqsdk's Quote).

    Market fields (``last_price``, ``bid_price1``…``ask_volume5``, ``volume``, ``amount``,
    ``open_interest``, ``highest``, ``lowest``, ``average``, ``open``, ``close``,
    ``upper_limit``, ``lower_limit``, ``pre_close``, ``pre_settlement``, ``pre_open_interest``,
    ``settlement``) are NaN when unknown. ``datetime`` is tqsdk's string
    (``"2020-01-02 09:31:00.000000"``, Beijing time); ``datetime_ns`` is the same moment as int
    ns. ``quote["last_price"]`` works like ``quote.last_price``.

    Instrument fields are constant, taken from the instrument's metadata (``quote.instrument``,
    a :class:`~backtest.instrument.Instrument`), with tqsdk's names:

    - ``instrument_id`` (``"IF2003"``), ``exchange_id`` (``"CFFEX"``), ``ins_class``
      (``"FUTURE"``, ``"STOCK"``, ``"FUND"``, ``"INDEX"``), ``trading_time`` (the sessions,
      ``"09:30-11:30,13:00-15:00"``; tqsdk's is an object);
    - ``price_tick`` (``0.2``), ``volume_multiple`` (``300.0``);
    - ``price_decs``: decimals of the price tick (1 for a tick of 0.2, 2 for 0.01);
    - ``instrument_name``: the display name (``"沪深300股指期货2003"``; ``""`` if unknown);
    - ``product_id``: the futures product (``"IF"``, ``"au"``); ``""`` for securities;
    - ``commission``: CNY per lot, for an instrument charged per lot (the opening rate:
      ``10.0`` for au1912); NaN when commission is a rate on turnover (IF, stocks: the
      rates are ``quote.instrument.commission_open``… and the fee depends on the price);
    - ``margin``: NaN. tqsdk's margin per lot is a broker's number; here margin is a ratio:
      ``quote.instrument.margin_ratio_long`` (``…_short``) × price × ``volume_multiple`` a lot;
    - ``underlying_symbol``: ``""`` (futures and stocks have none; options are not simulated);
    - ``expire_datetime``: NaN (the metadata holds no expiry date), as tqsdk's when unknown.

    tqsdk's order-volume limits (``max_limit_order_volume``…) are not modelled, and not fields.
    """

    __slots__ = (
        "_day",
        "_prev",
        "_prev_day",
        "_seen_day",
        "_stamp",
        "_state",
        "commission",
        "exchange_id",
        "expire_datetime",
        "ins_class",
        "instrument",
        "instrument_id",
        "instrument_name",
        "margin",
        "price_decs",
        "price_tick",
        "product_id",
        "symbol",
        "trading_time",
        "underlying_symbol",
        "volume_multiple",
    )

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.symbol = instrument.symbol
        self.instrument_id = instrument.symbol.split(".")[0]
        self.exchange_id = instrument.exchange.value
        self.ins_class = instrument.product_class.value
        self.price_tick = instrument.price_tick
        self.volume_multiple = instrument.volume_multiple
        self.trading_time = str(instrument.sessions)
        self.price_decs = _decimals(instrument.price_tick)
        self.instrument_name = instrument.name
        self.product_id = instrument.product
        per_lot = instrument.is_futures and instrument.commission_unit is CommissionUnit.LOT
        self.commission = instrument.commission_open if per_lot else _NAN
        self.margin = _NAN
        self.underlying_symbol = ""
        self.expire_datetime = _NAN
        # The day's fields (upper and lower limit from the instrument's rule, yesterday's close
        # and settlement; NaN: unknown); the engine sets them at each trading day's start.
        # Values carried by the data (ticks) take precedence.
        self._day: tuple[float, float, float, float] = (_NAN, _NAN, _NAN, _NAN)
        self._state: QuoteState = EMPTY_STATE
        self._prev: QuoteState | None = None
        self._stamp = -1
        # The day's fields in the step of the last update, and in the update step before: a
        # new day's values count as changed in the step of the day's first update.
        self._seen_day = self._day
        self._prev_day = self._day

    def update(self, state: QuoteState, step: int) -> None:
        """Replace the market state (engine use); remembers the state before this step."""
        if self._stamp != step:
            self._prev = self._state
            # the day's fields change only between steps (at a trading day's start)
            self._prev_day = self._seen_day
            self._seen_day = self._day
            self._stamp = step
        self._state = state

    def changed(self, step: int, field: str | None) -> bool:
        """True if ``field`` (any field when None) changed value during ``step``."""
        if self._stamp != step:
            return False
        prev = self._prev
        if prev is None:
            return True
        if field is None:
            return any(
                _differs(_at(prev, i), _at(self._state, i)) for i in range(len(QUOTE_FIELDS))
            ) or any(self._day_changed(prev, which) for which in range(4))
        which = _DAY_FIELDS.get(field)
        if which is not None:
            return self._day_changed(prev, which)
        index = FIELD_INDEX.get(field)
        # Instrument fields are constant: they change only when the quote is new.
        return index is not None and _differs(_at(prev, index), _at(self._state, index))

    def _day_changed(self, prev: QuoteState, which: int) -> bool:
        """Did the effective value of a day's field change (upper limit 0, lower limit 1,
        pre_close 2, pre_settlement 3): the data's, else the engine's."""
        index = 29 + which
        before, after = _at(prev, index), _at(self._state, index)
        if before != before:
            before = self._prev_day[which]
        if after != after:
            after = self._seen_day[which]
        return _differs(before, after)

    def mark_new(self, step: int) -> None:
        """Report every field as changed in ``step`` (a quote handed to the strategy)."""
        self._stamp = step
        self._prev = None
        self._seen_day = self._day

    @property
    def limit_up(self) -> float:
        """Today's upper limit from the instrument's rule (NaN: none known)."""
        return self._day[0]

    @property
    def limit_down(self) -> float:
        """Today's lower limit from the instrument's rule (NaN: none known)."""
        return self._day[1]

    def set_day(
        self, up: float, down: float, pre_close: float = _NAN, pre_settlement: float = _NAN
    ) -> None:
        """Set the day's fields (engine use, between steps, at each trading day's start):
        today's limits from the instrument's rule, and yesterday's close and settlement price;
        NaN for what is not known."""
        self._day = (up, down, pre_close, pre_settlement)

    @property
    def datetime(self) -> str:
        """Beijing time of the latest update as ``YYYY-MM-DD HH:MM:SS.ffffff`` (tqsdk's form)."""
        ts = self._state[0]
        return format_ns(ts) if ts else ""

    @property
    def state(self) -> QuoteState:
        """All market fields as a tuple in :data:`QUOTE_FIELDS` order (no copy)."""
        return self._state

    @property
    def datetime_ns(self) -> int:
        """Time of the latest update, int ns (0 before any data)."""
        return int(self._state[0])

    # --- market fields (NaN when unknown) ---------------------------------------------------

    @property
    def last_price(self) -> float:
        """Last traded price (NaN before any data)."""
        return _at(self._state, 1)

    @property
    def bid_price1(self) -> float:
        """Best bid price."""
        return _at(self._state, 2)

    @property
    def bid_volume1(self) -> float:
        """Volume at the best bid."""
        return _at(self._state, 3)

    @property
    def ask_price1(self) -> float:
        """Best ask price."""
        return _at(self._state, 4)

    @property
    def ask_volume1(self) -> float:
        """Volume at the best ask."""
        return _at(self._state, 5)

    @property
    def volume(self) -> float:
        """Volume traded so far today (ticks; 0 for synthesized quotes)."""
        return _at(self._state, 6)

    @property
    def open_interest(self) -> float:
        """Open interest."""
        return _at(self._state, 7)

    @property
    def amount(self) -> float:
        """Turnover so far today, CNY (ticks)."""
        return _at(self._state, 8)

    @property
    def average(self) -> float:
        """Average price today (ticks)."""
        return _at(self._state, 9)

    @property
    def highest(self) -> float:
        """Highest price today (ticks)."""
        return _at(self._state, 10)

    @property
    def lowest(self) -> float:
        """Lowest price today (ticks)."""
        return _at(self._state, 11)

    @property
    def open(self) -> float:
        """Today's opening price (ticks)."""
        return _at(self._state, 12)

    @property
    def bid_price2(self) -> float:
        """Bid price at level 2."""
        return _at(self._state, 13)

    @property
    def bid_volume2(self) -> float:
        """Bid volume at level 2."""
        return _at(self._state, 14)

    @property
    def ask_price2(self) -> float:
        """Ask price at level 2."""
        return _at(self._state, 15)

    @property
    def ask_volume2(self) -> float:
        """Ask volume at level 2."""
        return _at(self._state, 16)

    @property
    def bid_price3(self) -> float:
        """Bid price at level 3."""
        return _at(self._state, 17)

    @property
    def bid_volume3(self) -> float:
        """Bid volume at level 3."""
        return _at(self._state, 18)

    @property
    def ask_price3(self) -> float:
        """Ask price at level 3."""
        return _at(self._state, 19)

    @property
    def ask_volume3(self) -> float:
        """Ask volume at level 3."""
        return _at(self._state, 20)

    @property
    def bid_price4(self) -> float:
        """Bid price at level 4."""
        return _at(self._state, 21)

    @property
    def bid_volume4(self) -> float:
        """Bid volume at level 4."""
        return _at(self._state, 22)

    @property
    def ask_price4(self) -> float:
        """Ask price at level 4."""
        return _at(self._state, 23)

    @property
    def ask_volume4(self) -> float:
        """Ask volume at level 4."""
        return _at(self._state, 24)

    @property
    def bid_price5(self) -> float:
        """Bid price at level 5."""
        return _at(self._state, 25)

    @property
    def bid_volume5(self) -> float:
        """Bid volume at level 5."""
        return _at(self._state, 26)

    @property
    def ask_price5(self) -> float:
        """Ask price at level 5."""
        return _at(self._state, 27)

    @property
    def ask_volume5(self) -> float:
        """Ask volume at level 5."""
        return _at(self._state, 28)

    @property
    def upper_limit(self) -> float:
        """Upper price limit: the data's, else the day's limit from the instrument's rule."""
        value = _at(self._state, 29)
        return value if value == value else self.limit_up

    @property
    def lower_limit(self) -> float:
        """Lower price limit: the data's, else the day's limit from the instrument's rule."""
        value = _at(self._state, 30)
        return value if value == value else self.limit_down

    @property
    def close(self) -> float:
        """Today's close: NaN, as tqsdk's until the exchange publishes it (a backtest's quote is
        the market during the day; yesterday's close is ``pre_close``)."""
        return _NAN

    @property
    def pre_close(self) -> float:
        """Yesterday's close: the data's (ticks), else the one the engine gave with the day's
        limits (NaN when unknown). On an ex-dividend day it is the ex-rights reference price the
        day's limits are computed from, as exchanges publish it."""
        value = _at(self._state, 31)
        return value if value == value else self._day[2]

    @property
    def pre_settlement(self) -> float:
        """Yesterday's settlement price: the data's (ticks), else the one the engine gave with the
        day's limits (NaN when unknown)."""
        value = _at(self._state, 32)
        return value if value == value else self._day[3]

    @property
    def pre_open_interest(self) -> float:
        """Previous open interest."""
        return _at(self._state, 33)

    @property
    def settlement(self) -> float:
        """Settlement price, once the exchange publishes it (ticks)."""
        return _at(self._state, 34)

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def __repr__(self) -> str:
        return (
            f"Quote({self.symbol} {self.datetime} last={self.last_price} "
            f"bid={self.bid_price1}x{self.bid_volume1} ask={self.ask_price1}x{self.ask_volume1})"
        )


_DAY_FIELDS: Final = {"upper_limit": 0, "lower_limit": 1, "pre_close": 2, "pre_settlement": 3}
"""Fields set once a day by the engine (unless the data has them), by their place in the
quote's day tuple; their state index is 29 + that place."""


def _decimals(tick: float) -> int:
    """Decimal places of a price tick: 1 for 0.2, 2 for 0.01, 0 for 5.0."""
    exponent = Decimal(repr(tick)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _at(state: QuoteState, index: int) -> float:
    return float(state[index]) if index < len(state) else _NAN


def _differs(a: Any, b: Any) -> bool:
    # NaN → NaN is no change.
    return bool(a != b) and not (a != a and b != b)
