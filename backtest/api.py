"""The strategy API: tqsdk's names and meanings, async where it waits.

A tqsdk strategy ports by changing its imports and adding ``await`` to ``wait_update()``::

    async def strategy(api):
        klines = api.get_kline_serial("CFFEX.IF2003", 60, data_length=30)
        quote = api.get_quote("IF2003.IF")
        while True:
            await api.wait_update()             # raises BacktestFinished at the end of data
            if api.is_changing(klines.iloc[-1], "datetime"):
                ...
                api.insert_order("IF2003.IF", "BUY", "OPEN", 1, limit_price=quote.ask_price1)

Symbols are accepted in xtquant (``IF2003.IF``) or tqsdk (``CFFEX.IF2003``) form. Objects
returned (quotes, serials, orders, positions, the account) update in place as time advances.
This class only translates arguments and delegates; the semantics live in
:mod:`backtest.engine`, :mod:`backtest.broker` and :mod:`backtest.futures`.
"""

from __future__ import annotations

import inspect
import numbers
import warnings
from collections.abc import Coroutine, Iterable
from datetime import datetime
from typing import Any, Final, overload

from .account import Account, Position
from .engine import Simulator
from .errors import ApiUsageError, did_you_mean
from .frame import FIRST_LIVE_ID, KlineFrame, Row, SerialFrame, TickFrame
from .model import Direction, Offset, normalize_symbol
from .order import Order, Tracked, Trade
from .quotes import Quote
from .stocks import StockAccount, StockPosition

_ADVANCED = (None, "FAK", "FOK")
_TRACKABLE = (Row, Quote, SerialFrame, Tracked)
_DIRECTIONS = {d.value: d for d in Direction}
_OFFSETS = {o.value: o for o in Offset}


class Api:
    """What a strategy calls. One per backtest; create it through :class:`backtest.Backtest`."""

    def __init__(self, simulator: Simulator) -> None:
        self._sim = simulator
        self._symbols: dict[str, str] = {}
        # (kind of object, field name) pairs is_changing has met, with and without the field
        self._fields: set[tuple[type, str]] = set()
        self._missing: set[tuple[type, str]] = set()
        # the last wait_update() coroutine handed out, and the step it was asked for in
        self._waiting: Coroutine[Any, Any, bool] | None = None
        self._asked_in = -1

    def _symbol(self, text: str) -> str:
        found = self._symbols.get(text)
        if found is None:
            found = self._symbols[text] = normalize_symbol(text)
        return found

    # --- time ----------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        """Current simulated time, timezone-aware in Asia/Shanghai (a fixed UTC+8 ``tzinfo``
        named ``Asia/Shanghai``: see :mod:`backtest.times`)."""
        return self._sim.clock.now

    @property
    def now_ns(self) -> int:
        """Current simulated time as int ns since the epoch."""
        return self._sim.clock.now_ns

    # --- market data ---------------------------------------------------------------------

    def get_quote(self, symbol: str) -> Quote:
        """The live quote of ``symbol`` (subscribes 1-minute klines if nothing finer is)."""
        return self._sim.quote(self._symbol(symbol))

    def get_kline_serial(
        self, symbol: str, duration_seconds: int, data_length: int = 200
    ) -> KlineFrame:
        """The last ``data_length`` bars of ``duration_seconds`` (60 = 1 minute, 86400 = 1 day).

        Returns a :class:`~backtest.frame.KlineFrame` whose history (bars before now) is
        loaded at once, without advancing time; the last row is the bar in progress.
        """
        if not isinstance(symbol, str):
            raise ApiUsageError(
                "get_kline_serial takes one symbol; aligned multi-symbol klines are not supported"
            )
        if (
            isinstance(duration_seconds, bool)
            or not isinstance(duration_seconds, int)
            or not 0 < duration_seconds <= 86_400
        ):
            days = (
                " (klines of several days, which tqsdk builds for multiples of 86400, are not "
                "built here: subscribe daily klines, 86400, and group their rows)"
                if isinstance(duration_seconds, int)
                and duration_seconds > 86_400
                and duration_seconds % 86_400 == 0
                else ""
            )
            raise ApiUsageError(
                f"duration_seconds must be whole seconds from 1 to 86400, was "
                f"{duration_seconds!r}{days}"
            )
        return self._sim.kline_frame(self._symbol(symbol), duration_seconds, _length(data_length))

    def get_tick_serial(self, symbol: str, data_length: int = 200) -> TickFrame:
        """The last ``data_length`` ticks of ``symbol``; its quote then comes from the ticks."""
        return self._sim.tick_frame(self._symbol(symbol), _length(data_length))

    # --- trading -------------------------------------------------------------------------

    def insert_order(
        self,
        symbol: str,
        direction: str,
        offset: str | None = "",
        volume: int = 0,
        limit_price: float | None = None,
        advanced: str | None = None,
        order_id: str | None = None,
    ) -> Order:
        """Send an order; it reaches the broker at the next ``wait_update()``.

        Args:
            symbol: e.g. ``"IF2003.IF"`` or ``"CFFEX.IF2003"``.
            direction: ``"BUY"`` or ``"SELL"``.
            offset: ``"OPEN"``, ``"CLOSE"`` or ``"CLOSETODAY"`` for futures; empty for stocks
                (a buy opens, a sell closes).
            volume: lots, a whole number above 0 (any integer type: ``numpy.int64(2)`` is
                2 lots).
            limit_price: the limit price (any real number type: numpy's too); None sends a
                market order.
            advanced: None, ``"FAK"`` (fill what can fill at once, cancel the rest) or
                ``"FOK"`` (all at once or nothing).
            order_id: your own unique id; one is generated otherwise.

        Returns:
            The order, status ``"ALIVE"``; it changes in place as the broker handles it.
            Rejections are finished orders with a reason in ``last_msg``, not exceptions;
            that includes an order on an unknown instrument (no metadata, or no market data
            in the store), which needs no offset.

        Raises:
            ApiUsageError: ``direction``, ``offset`` or ``advanced`` is not one of the values
                above, or ``order_id`` is already used.
        """
        side = _DIRECTIONS.get(str(direction).upper())
        if side is None:
            raise ApiUsageError(f"direction must be 'BUY' or 'SELL', was {direction!r}")
        kind = _OFFSETS.get(str(offset).upper())
        if kind is None and offset not in ("", None):
            raise ApiUsageError(f"offset must be 'OPEN', 'CLOSE' or 'CLOSETODAY', was {offset!r}")
        if advanced not in _ADVANCED:
            raise ApiUsageError(f"advanced must be None, 'FAK' or 'FOK', was {advanced!r}")
        return self._sim.insert_order(
            self._symbol(symbol), side, kind, _plain_int(volume), _plain_float(limit_price),
            advanced, order_id,
        )  # fmt: skip

    def cancel_order(self, order_or_order_id: Order | str) -> None:
        """Ask to cancel an order; it happens at the next ``wait_update()`` if still alive."""
        order_id = (
            order_or_order_id.order_id if isinstance(order_or_order_id, Order)
            else order_or_order_id
        )  # fmt: skip
        self._sim.broker.request_cancel(order_id)

    @overload
    def get_order(self, order_id: str) -> Order: ...
    @overload
    def get_order(self, order_id: None = None) -> dict[str, Order]: ...
    def get_order(self, order_id: str | None = None) -> Order | dict[str, Order]:
        """One order by id, or every order (a dict by id) when no id is given."""
        orders = self._sim.broker.orders
        if order_id is None:
            return dict(orders)
        try:
            return orders[order_id]
        except KeyError:
            raise ApiUsageError(f"no order {order_id!r} in this backtest") from None

    @overload
    def get_trade(self, trade_id: str) -> Trade: ...
    @overload
    def get_trade(self, trade_id: None = None) -> dict[str, Trade]: ...
    def get_trade(self, trade_id: str | None = None) -> Trade | dict[str, Trade]:
        """One trade by id, or every trade (a dict by id) when no id is given."""
        trades = self._sim.broker.trades_by_id
        if trade_id is None:
            return dict(trades)
        try:
            return trades[trade_id]
        except KeyError:
            raise ApiUsageError(f"no trade {trade_id!r} in this backtest") from None

    @overload
    def get_position(self, symbol: str) -> Position | StockPosition: ...
    @overload
    def get_position(self, symbol: None = None) -> dict[str, Position | StockPosition]: ...
    def get_position(
        self, symbol: str | None = None
    ) -> Position | StockPosition | dict[str, Position | StockPosition]:
        """The position of ``symbol`` (empty until traded), or every position as a dict.

        Futures positions have tqsdk's fields (``pos_long``, ``pos_short_today``…); stock
        positions have ``volume``, ``can_use_volume`` (sellable under T+1) and ``cost``. Both
        have ``pos``, the net position.
        """
        if symbol is None:
            positions: dict[str, Position | StockPosition] = dict(self._sim.account.positions)
            positions.update(self._sim.stock_account.positions)
            return positions
        return self._sim.position(self._symbol(symbol))

    def get_stock_position(self, symbol: str) -> StockPosition:
        """The stock position of ``symbol`` (typed; :meth:`get_position` works too).

        Raises:
            ApiUsageError: ``symbol`` is a futures contract.
        """
        position = self._sim.position(self._symbol(symbol))
        if not isinstance(position, StockPosition):
            raise ApiUsageError(f"{symbol} is a futures contract: use get_position")
        return position

    def get_account(self) -> Account:
        """The futures account."""
        return self._sim.account

    def get_stock_account(self) -> StockAccount:
        """The stock account (cash, frozen_cash, market_value, total_asset)."""
        return self._sim.stock_account

    # --- stepping ------------------------------------------------------------------------

    def wait_update(self, deadline: float | None = None) -> Coroutine[Any, Any, bool]:
        """``await api.wait_update()``: advance one step; True. BacktestFinished at the end.

        A step delivers the strategy's own requests (orders, cancels, new subscriptions)
        without moving time if there are any, else every market event at the next market
        time. ``deadline`` exists for tqsdk compatibility and has no effect: simulated time
        never waits.
        """
        del deadline
        step = self._sim.clock.step
        if step == self._asked_in:  # time has not moved since the last call: was it awaited?
            self._check_awaited()
        self._asked_in = step
        # the coroutine itself, not a wrapper: one frame less per step
        waiting = self._waiting = self._sim.wait_update()
        return waiting

    def _check_awaited(self) -> None:
        """Refuse a strategy that calls ``wait_update()`` without ``await`` (a porting slip:
        in tqsdk it is a plain call). Nothing would ever run the step, so the strategy would
        spin at one simulated time forever."""
        waiting = self._waiting
        if waiting is not None and inspect.getcoroutinestate(waiting) == inspect.CORO_CREATED:
            waiting.close()  # never run: no "was never awaited" warning on top of this error
            raise ApiUsageError(
                f"api.wait_update() was called without await, so no step ran and simulated "
                f"time stays at {self._sim.clock.now:%Y-%m-%d %H:%M:%S}: write "
                f"`await api.wait_update()`"
            )

    def is_changing(self, obj: Any, key: str | Iterable[str] | None = None) -> bool:
        """True if ``obj`` (or its field ``key``, or any of several keys) changed in the last
        step.

        ``obj`` may be a quote, a kline or tick serial, one of its rows (``klines.iloc[-1]``),
        an order, a trade, a position or the account. Newly subscribed or created objects count
        as changed in the step that delivers them.
        """
        if key is None or type(key) is str:
            return self._changing(obj, key)
        keys = tuple(key) if isinstance(key, Iterable) else (key,)
        if not all(type(k) is str for k in keys):
            raise ApiUsageError(
                f"is_changing takes a field name or several (a list of str), was {key!r}"
            )
        # a loop, not any(): a warning from _changing must point at the strategy's line
        for name in keys:  # noqa: SIM110
            if self._changing(obj, name):
                return True
        return False

    def _changing(self, obj: Any, key: str | None) -> bool:
        if not isinstance(obj, _TRACKABLE):
            raise ApiUsageError(
                f"is_changing cannot track a {type(obj).__name__}; pass a quote, a serial, a "
                f"row (serial.iloc[-1]), an order, a trade, a position or the account"
            )
        if key is not None and (type(obj), key) not in self._fields and not self._has(obj, key):
            return False
        return obj.changed(self._sim.clock.step, key)

    def _has(self, obj: Any, key: str) -> bool:
        """True if ``obj`` has the field ``key``. If not, warn (once per kind of object and
        name): as in tqsdk, is_changing is always False for it, so a misspelt field would
        otherwise go unnoticed."""
        pair = (type(obj), key)
        if pair in self._missing:
            return False
        if hasattr(obj, key):
            self._fields.add(pair)
            return True
        self._missing.add(pair)
        if isinstance(obj, SerialFrame):
            names = list(obj.columns)
        elif isinstance(obj, Row):
            names = list(obj.to_dict())
        else:
            names = dir(obj)
        hint = did_you_mean(key, [n for n in names if not n.startswith("_")])
        warnings.warn(
            f"is_changing: a {type(obj).__name__} has no field {key!r}{hint}, so it never changes",
            stacklevel=4,  # _has ← _changing ← is_changing ← the strategy
        )
        return False


def _plain_int(value: Any) -> Any:
    """An integer of any type (``numpy.int64``) as an ``int``; anything else unchanged, for
    the broker to judge (and reject with the value in ``last_msg``)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool | int):
        return int(value)
    return value


def _plain_float(value: Any) -> Any:
    """A real number of any type (``numpy.float32``, ``numpy.int64``) as a ``float``; ``int``,
    ``float``, None and anything else unchanged (the broker judges them)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool | int | float):
        return float(value)
    return value


MAX_DATA_LENGTH: Final = FIRST_LIVE_ID
"""The longest serial a strategy can ask for: 1,000,000 (tqsdk's limit is 8,964)."""


def _length(data_length: int) -> int:
    if (
        isinstance(data_length, bool)
        or not isinstance(data_length, int)
        or not 1 <= data_length <= MAX_DATA_LENGTH
    ):
        raise ApiUsageError(
            f"data_length must be a whole number from 1 to {MAX_DATA_LENGTH:,}, was {data_length!r}"
        )
    return data_length
