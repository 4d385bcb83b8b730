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

Fields klines cannot know (``highest, lowest, average, amount``, limits, previous close and
settlement) are NaN, and ``volume`` is 0; ``open_interest`` is the bar's close_oi (open_oi at
the open event). When a quote is first requested it shows the latest state already in the
serial's history, so it is usable before the first ``wait_update``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

from .instrument import Instrument
from .store import TICK_COLUMNS
from .times import format_ns

QuoteState = tuple[Any, ...]
"""Market fields of a quote, in :data:`QUOTE_FIELDS` order (a tick row is one)."""

QUOTE_FIELDS: Final = TICK_COLUMNS
FIELD_INDEX: Final = {name: i for i, name in enumerate(QUOTE_FIELDS)} | {"datetime_ns": 0}
_NAN: Final = math.nan
# Positions of the fields kline synthesis sets; everything else is NaN in a synthesized state.
_LAST, _VOLUME, _OI = FIELD_INDEX["last_price"], FIELD_INDEX["volume"], FIELD_INDEX["open_interest"]
_BID, _BIDV = FIELD_INDEX["bid_price1"], FIELD_INDEX["bid_volume1"]
_ASK, _ASKV = FIELD_INDEX["ask_price1"], FIELD_INDEX["ask_volume1"]
_BLANK: Final = (_NAN,) * len(QUOTE_FIELDS)
EMPTY_STATE: Final[QuoteState] = (0, *_BLANK[1:])
"""State of a quote before any data: datetime 0, every price NaN."""
# synthesized_state() writes these positions literally.
assert (_LAST, _VOLUME, _OI, _BID, _BIDV, _ASK, _ASKV) == (1, 6, 8, 9, 10, 11, 12)


_TAIL: Final = _BLANK[13:]


def synthesized_state(ts_ns: int, last: float, bid: float, ask: float, oi: float) -> QuoteState:
    """A kline-synthesized quote state: one lot each side, volume 0, unknown fields NaN."""
    return (ts_ns, last, _NAN, _NAN, _NAN, _NAN, 0.0, _NAN, oi, bid, 1.0, ask, 1.0, *_TAIL)


def open_state(ts_ns: int, open_price: float, open_oi: float, tick: float) -> QuoteState:
    """Quote at a bar's open event: open ± tick."""
    return synthesized_state(ts_ns, open_price, open_price - tick, open_price + tick, open_oi)


def close_packets(
    ts_ns: int, high: float, low: float, close: float, close_oi: float, tick: float
) -> tuple[QuoteState, QuoteState, QuoteState]:
    """The three quote updates at a bar's close event: high ± tick, low ± tick, close ± tick.

    Each carries ``last_price = close``; the broker matches resting orders after each.
    """
    return (
        synthesized_state(ts_ns, close, high - tick, high + tick, close_oi),
        synthesized_state(ts_ns, close, low - tick, low + tick, close_oi),
        synthesized_state(ts_ns, close, close - tick, close + tick, close_oi),
    )


def close_state(ts_ns: int, close: float, close_oi: float, tick: float) -> QuoteState:
    """The last of :func:`close_packets`, alone: close ± tick."""
    return synthesized_state(ts_ns, close, close - tick, close + tick, close_oi)


def _market_field(index: int) -> property:
    def get(self: Quote) -> Any:
        return self._state[index]

    get.__name__ = QUOTE_FIELDS[index]
    return property(get, doc=f"``{QUOTE_FIELDS[index]}`` of the latest tick or synthesized quote")


class Quote:
    """The live quote of one symbol, updated in place as simulated time advances (tqsdk's Quote).

    Market fields (``last_price``, ``bid_price1``…``ask_volume5``, ``volume``, ``amount``,
    ``open_interest``, ``highest``, ``lowest``, ``average``, ``open``, ``upper_limit``,
    ``lower_limit``, ``pre_close``, ``pre_settlement``, ``pre_open_interest``, ``settlement``)
    are NaN when unknown. ``datetime`` is tqsdk's string (``"2020-01-02 09:31:00.000000"``,
    Beijing time); ``datetime_ns`` is the same moment as int ns. Instrument fields
    (``price_tick``, ``volume_multiple``, ``instrument_id``, ``exchange_id``, ``ins_class``,
    ``trading_time``) are constant. ``quote["last_price"]`` works like ``quote.last_price``.
    """

    if TYPE_CHECKING:  # market fields, defined below as properties over the state tuple
        last_price: float
        average: float
        highest: float
        lowest: float
        open: float
        volume: float
        amount: float
        open_interest: float
        bid_price1: float
        bid_volume1: float
        ask_price1: float
        ask_volume1: float
        bid_price2: float
        bid_volume2: float
        ask_price2: float
        ask_volume2: float
        bid_price3: float
        bid_volume3: float
        ask_price3: float
        ask_volume3: float
        bid_price4: float
        bid_volume4: float
        ask_price4: float
        ask_volume4: float
        bid_price5: float
        bid_volume5: float
        ask_price5: float
        ask_volume5: float
        upper_limit: float
        lower_limit: float
        pre_close: float
        pre_settlement: float
        pre_open_interest: float
        settlement: float

    __slots__ = (
        "_prev",
        "_stamp",
        "_state",
        "exchange_id",
        "ins_class",
        "instrument",
        "instrument_id",
        "price_tick",
        "symbol",
        "trading_time",
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
        self._state: QuoteState = EMPTY_STATE
        self._prev: QuoteState | None = None
        self._stamp = -1

    def update(self, state: QuoteState, step: int) -> None:
        """Replace the market state (engine use); remembers the state before this step."""
        if self._stamp != step:
            self._prev = self._state
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
            return any(_differs(a, b) for a, b in zip(prev, self._state, strict=True))
        index = FIELD_INDEX.get(field)
        # Instrument fields are constant: they change only when the quote is new.
        return index is not None and _differs(prev[index], self._state[index])

    def mark_new(self, step: int) -> None:
        """Report every field as changed in ``step`` (a quote handed to the strategy)."""
        self._stamp = step
        self._prev = None

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


for _index, _name in enumerate(QUOTE_FIELDS):
    if _name != "datetime":
        setattr(Quote, _name, _market_field(_index))


def _differs(a: Any, b: Any) -> bool:
    # NaN → NaN is no change.
    return bool(a != b) and not (a != a and b != b)
