"""Orders and trades, with tqsdk's field names (which QIFI also uses).

Both are plain records the broker fills in; ``order["status"]`` works like ``order.status``.
A rejected or cancelled order is a finished order whose ``last_msg`` says why — never an
exception. :class:`Tracked` lets ``api.is_changing`` answer per field.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from .instrument import Instrument
    from .quotes import Quote

from .model import Direction, Offset, OrderStatus, PriceType, TimeCondition, VolumeCondition


class Tracked:
    """Remembers field values at the first change within a step, for ``is_changing``.

    Subclasses list their stored observable fields in ``_TRACKED`` and the fields computed from
    them in ``_DERIVED``; a derived field counts as changed when any stored one did. Call
    :meth:`touch` before mutating. The snapshot is one C-level ``attrgetter`` call.
    """

    __slots__ = ("_prev", "_stamp")
    _TRACKED: ClassVar[tuple[str, ...]] = ()
    _DERIVED: ClassVar[frozenset[str]] = frozenset()
    _INDEX: ClassVar[dict[str, int]] = {}
    _SNAPSHOT: ClassVar[Callable[[Any], tuple[Any, ...]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names = cls._TRACKED
        cls._INDEX = {name: i for i, name in enumerate(names)}
        getter = operator.attrgetter(*names) if names else (lambda obj: ())
        cls._SNAPSHOT = getter if len(names) != 1 else (lambda obj: (getter(obj),))

    def _init_tracking(self) -> None:
        self._stamp = -1
        self._prev: tuple[Any, ...] | None = None

    def created(self, step: int) -> None:
        """Report every field as changed in ``step`` (a new object)."""
        self._stamp = step
        self._prev = None

    def touch(self, step: int) -> None:
        """Call before changing fields during ``step``."""
        if self._stamp != step:
            self._prev = type(self)._SNAPSHOT(self)
            self._stamp = step

    def changed(self, step: int, field: str | None = None) -> bool:
        """True if ``field`` (any field when None) changed during ``step``."""
        if self._stamp != step:
            return False
        prev = self._prev
        if prev is None:
            return True
        index = self._INDEX.get(field) if field is not None else None
        if index is not None:
            return _differs(prev[index], getattr(self, self._TRACKED[index]))
        if field is None or field in self._DERIVED:
            current = type(self)._SNAPSHOT(self)
            return any(_differs(a, b) for a, b in zip(prev, current, strict=True))
        return False

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None


class Holding(Tracked):
    """Base of positions: the instrument, its quote and tqsdk's identity fields."""

    __slots__ = ("exchange_id", "instrument", "instrument_id", "quote", "symbol")

    def __init__(self, instrument: Instrument, quote: Quote) -> None:
        self.instrument = instrument
        self.quote = quote
        self.symbol = instrument.symbol
        self.instrument_id = instrument.symbol.split(".")[0]
        self.exchange_id = instrument.exchange.value
        self._init_tracking()


def _differs(a: Any, b: Any) -> bool:
    return bool(a != b) and not (a != a and b != b)


@dataclass(eq=False, slots=True)
class Order(Tracked):
    """One order (委托单) and its state.

    Attributes:
        order_id: unique within the backtest (``"O000001"``), or the id the strategy gave.
        symbol: canonical symbol; ``exchange_id`` and ``instrument_id`` are its tqsdk parts.
        direction: ``"BUY"`` or ``"SELL"``; ``offset``: ``"OPEN"``, ``"CLOSE"``,
            ``"CLOSETODAY"``.
        volume_orign: volume ordered (tqsdk's spelling); ``volume_left``: not yet filled.
        limit_price: the limit price; NaN for a market order (``price_type`` ``"ANY"``).
        time_condition: ``"GFD"`` (rests until the day's settlement) or ``"IOC"`` (FAK, FOK and
            market orders); ``volume_condition``: ``"ALL"`` for FOK, else ``"ANY"``.
        insert_date_time: when the strategy inserted it, int ns.
        status: ``"ALIVE"`` until filled, cancelled, expired or rejected, then ``"FINISHED"``.
        last_msg: what happened last, e.g. ``"filled"`` or the reason of a rejection.
        is_error: True for a rejection.
        trade_price: average fill price (NaN until a fill).
        frozen_margin: margin held for the unfilled volume of an opening futures order.
    """

    order_id: str
    symbol: str
    exchange_id: str
    instrument_id: str
    direction: Direction
    offset: Offset
    volume_orign: int
    limit_price: float
    price_type: PriceType
    volume_condition: VolumeCondition
    time_condition: TimeCondition
    insert_date_time: int
    volume_left: int = 0
    status: OrderStatus = OrderStatus.ALIVE
    last_msg: str = ""
    is_error: bool = False
    trade_price: float = math.nan
    frozen_margin: float = 0.0
    exchange_order_id: str = ""
    # Volumes of yesterday's and today's position held by an alive closing order; cash held by
    # an alive stock buy; commission its fills paid so far (stock minimum is per order).
    frozen_his: int = field(default=0, init=False, repr=False)
    frozen_today: int = field(default=0, init=False, repr=False)
    frozen_cash: float = field(default=0.0, init=False, repr=False)
    fees_paid: float = field(default=0.0, init=False, repr=False)

    _TRACKED: ClassVar[tuple[str, ...]] = (
        "volume_left", "status", "last_msg", "is_error", "trade_price", "frozen_margin",
        "exchange_order_id",
    )  # fmt: skip
    _DERIVED: ClassVar[frozenset[str]] = frozenset({"is_dead", "is_online", "volume_filled"})

    def __post_init__(self) -> None:
        self.volume_left = self.volume_orign
        self._init_tracking()

    @property
    def is_dead(self) -> bool:
        """True once the order can no longer trade (tqsdk)."""
        return self.status is OrderStatus.FINISHED

    @property
    def is_online(self) -> bool:
        """True while the order rests in the book (tqsdk)."""
        return self.status is OrderStatus.ALIVE and self.exchange_order_id != ""

    @property
    def volume_filled(self) -> int:
        """Volume filled so far."""
        return self.volume_orign - self.volume_left


@dataclass(eq=False, slots=True)
class Trade(Tracked):
    """One fill (成交).

    Attributes:
        trade_id: unique within the backtest (``"T000001"``); ``order_id``: its order.
        price, volume: fill price and volume.
        commission: commission charged on this fill, CNY (rounded to the cent).
        trade_date_time: when it filled, int ns.
        trading_day: the trading day it belongs to, ``"YYYYMMDD"``.
        stamp_duty, transfer_fee: A-share fees of this fill, CNY (0 for futures).
        close_profit: profit realized by closing: for futures against yesterday's settlement
            price for yesterday's lots and the open price for today's (逐日盯市); for stocks
            the sale's proceeds net of its fees minus the shares' cost; 0 for opens.
    """

    trade_id: str
    order_id: str
    symbol: str
    exchange_id: str
    instrument_id: str
    direction: Direction
    offset: Offset
    price: float
    volume: int
    trade_date_time: int
    trading_day: str
    commission: float = 0.0
    stamp_duty: float = 0.0
    transfer_fee: float = 0.0
    close_profit: float = 0.0
    exchange_trade_id: str = ""

    def __post_init__(self) -> None:
        self._init_tracking()


@dataclass(slots=True)
class Fill:
    """What one fill costs and earns, as a ledger reports it to the broker (CNY)."""

    commission: float = 0.0
    stamp_duty: float = 0.0
    transfer_fee: float = 0.0
    close_profit: float = 0.0


ORDER_COLUMNS = (
    "order_id", "symbol", "exchange_id", "instrument_id", "direction", "offset", "volume_orign",
    "volume_left", "limit_price", "price_type", "volume_condition", "time_condition",
    "insert_date_time", "status", "last_msg", "is_error", "trade_price", "frozen_margin",
    "exchange_order_id",
)  # fmt: skip
"""Columns of ``result.orders``."""
TRADE_COLUMNS = tuple(f.name for f in fields(Trade) if not f.name.startswith("_"))
"""Columns of ``result.trades``."""
