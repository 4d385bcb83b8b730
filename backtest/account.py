"""Futures account and positions, with tqsdk's field names (DESIGN.md §8).

Money is CNY. Conventions (the CTP/tqsdk daily mark-to-market, 逐日盯市):

- A position has a long and a short side, each split into yesterday's (``his``) and today's
  volume. Today's lots are carried at their open price; at settlement every lot is re-marked
  to the settlement price and becomes yesterday's.
- ``position_profit`` is the profit against that carrying price (``position_price``);
  ``float_profit`` is the profit against the open price (``open_price``), for display.
- ``margin`` = margin ratio × position cost (today's lots at open price, yesterday's at the last
  settlement price), so it is re-marked at settlement.
- ``balance`` = ``static_balance`` + ``close_profit`` − ``commission`` + ``position_profit``;
  ``available`` = ``balance`` − ``margin`` − ``frozen_margin``; ``risk_ratio`` = ``margin`` /
  ``balance``.

Price-dependent fields are computed when read, from the symbol's quote ``last_price`` (a quote
without a price yet counts as the carrying price). ``is_changing`` reports them as changing
whenever the last price of a held symbol changed in the step.
"""

from __future__ import annotations

import math
from typing import ClassVar, Final

from .instrument import Instrument
from .order import Holding, Tracked
from .quotes import Quote

_PRICE_DERIVED: Final = frozenset(
    {
        "last_price", "float_profit", "float_profit_long", "float_profit_short",
        "position_profit", "position_profit_long", "position_profit_short",
        "balance", "available", "risk_ratio",
    }
)  # fmt: skip


_SAME_AS: Final = {
    "volume_long_today": "pos_long_today", "volume_long_his": "pos_long_his",
    "volume_long": "pos_long", "volume_short_today": "pos_short_today",
    "volume_short_his": "pos_short_his", "volume_short": "pos_short",
}  # fmt: skip
"""tqsdk's broker-reported volumes and the position fields they equal (for is_changing)."""


class Position(Holding):
    """Position in one futures contract (tqsdk's Position).

    Volumes: ``pos_long_his``, ``pos_long_today``, ``pos_short_his``, ``pos_short_today``;
    ``pos_long``/``pos_short`` are their sums and ``pos`` is long − short.
    ``volume_long_frozen_his`` (…``_today``, and the short ones) are held by alive closing
    orders; ``volume_long_frozen``/``volume_short_frozen`` are their sums. Costs are CNY (price ×
    multiplier × volume); prices are per unit of the quote.

    tqsdk's broker-reported volumes are here too, with the values tqsdk's simulator gives them:
    ``volume_long_today`` = ``pos_long_today``, ``volume_long_his`` = ``pos_long_his``,
    ``volume_long`` = ``pos_long`` (and the short ones). ``api.is_changing`` answers for each as
    for the field it equals.
    """

    __slots__ = (
        "open_cost_long_his",
        "open_cost_long_today", "open_cost_short_his", "open_cost_short_today", "pos_long_his",
        "pos_long_today", "pos_short_his", "pos_short_today", "position_cost_long_his",
        "position_cost_short_his", "volume_long_frozen_his",
        "volume_long_frozen_today", "volume_short_frozen_his", "volume_short_frozen_today",
    )  # fmt: skip
    _TRACKED: ClassVar[tuple[str, ...]] = (
        "pos_long_his", "pos_long_today", "pos_short_his", "pos_short_today",
        "volume_long_frozen_his", "volume_long_frozen_today", "volume_short_frozen_his",
        "volume_short_frozen_today", "open_cost_long_his", "open_cost_long_today",
        "open_cost_short_his", "open_cost_short_today", "position_cost_long_his",
        "position_cost_short_his",
    )  # fmt: skip
    _DERIVED: ClassVar[frozenset[str]] = frozenset(
        {
            "pos_long", "pos_short", "pos", "open_cost_long", "open_cost_short",
            "position_cost_long", "position_cost_short", "open_price_long", "open_price_short",
            "position_price_long", "position_price_short", "margin_long", "margin_short",
            "margin", "volume_long_frozen", "volume_short_frozen", *_PRICE_DERIVED,
        }
    )  # fmt: skip

    def __init__(self, instrument: Instrument, quote: Quote) -> None:
        super().__init__(instrument, quote)
        self.pos_long_his = self.pos_long_today = self.pos_short_his = self.pos_short_today = 0
        self.volume_long_frozen_his = self.volume_long_frozen_today = 0
        self.volume_short_frozen_his = self.volume_short_frozen_today = 0
        self.open_cost_long_his = self.open_cost_long_today = 0.0
        self.open_cost_short_his = self.open_cost_short_today = 0.0
        self.position_cost_long_his = self.position_cost_short_his = 0.0

    # --- volumes -----------------------------------------------------------------------------

    @property
    def pos_long(self) -> int:
        """Long volume, yesterday's plus today's."""
        return self.pos_long_his + self.pos_long_today

    @property
    def pos_short(self) -> int:
        """Short volume, yesterday's plus today's."""
        return self.pos_short_his + self.pos_short_today

    @property
    def pos(self) -> int:
        """Net position: long − short."""
        return self.pos_long - self.pos_short

    # tqsdk's broker-reported volumes (期货公司查询的手数): in a simulation, the positions
    @property
    def volume_long_today(self) -> int:
        """Today's long volume: ``pos_long_today`` (tqsdk's broker-reported name)."""
        return self.pos_long_today

    @property
    def volume_long_his(self) -> int:
        """Yesterday's long volume: ``pos_long_his`` (tqsdk's broker-reported name)."""
        return self.pos_long_his

    @property
    def volume_long(self) -> int:
        """Long volume: ``pos_long`` (tqsdk's broker-reported name)."""
        return self.pos_long_his + self.pos_long_today

    @property
    def volume_short_today(self) -> int:
        """Today's short volume: ``pos_short_today`` (tqsdk's broker-reported name)."""
        return self.pos_short_today

    @property
    def volume_short_his(self) -> int:
        """Yesterday's short volume: ``pos_short_his`` (tqsdk's broker-reported name)."""
        return self.pos_short_his

    @property
    def volume_short(self) -> int:
        """Short volume: ``pos_short`` (tqsdk's broker-reported name)."""
        return self.pos_short_his + self.pos_short_today

    @property
    def volume_long_frozen(self) -> int:
        """Long lots held by alive closing orders: ``volume_long_frozen_today`` +
        ``volume_long_frozen_his``."""
        return self.volume_long_frozen_today + self.volume_long_frozen_his

    @property
    def volume_short_frozen(self) -> int:
        """Short lots held by alive closing orders: ``volume_short_frozen_today`` +
        ``volume_short_frozen_his``."""
        return self.volume_short_frozen_today + self.volume_short_frozen_his

    # --- costs and prices --------------------------------------------------------------------

    @property
    def open_cost_long(self) -> float:
        """Open price × multiplier × volume of the long lots."""
        return self.open_cost_long_his + self.open_cost_long_today

    @property
    def open_cost_short(self) -> float:
        """Open price × multiplier × volume of the short lots."""
        return self.open_cost_short_his + self.open_cost_short_today

    @property
    def position_cost_long(self) -> float:
        """Carrying cost of the long lots (yesterday's at settlement, today's at open price)."""
        return self.position_cost_long_his + self.open_cost_long_today

    @property
    def position_cost_short(self) -> float:
        """Carrying cost of the short lots."""
        return self.position_cost_short_his + self.open_cost_short_today

    @property
    def open_price_long(self) -> float:
        """Average open price of the long lots (NaN when flat)."""
        return _per_unit(self.open_cost_long, self.pos_long, self.instrument.volume_multiple)

    @property
    def open_price_short(self) -> float:
        """Average open price of the short lots (NaN when flat)."""
        return _per_unit(self.open_cost_short, self.pos_short, self.instrument.volume_multiple)

    @property
    def position_price_long(self) -> float:
        """Average carrying price of the long lots (NaN when flat)."""
        return _per_unit(self.position_cost_long, self.pos_long, self.instrument.volume_multiple)

    @property
    def position_price_short(self) -> float:
        """Average carrying price of the short lots (NaN when flat)."""
        return _per_unit(self.position_cost_short, self.pos_short, self.instrument.volume_multiple)

    # --- profit and margin -------------------------------------------------------------------

    @property
    def last_price(self) -> float:
        """The quote's last price."""
        return float(self.quote.last_price)

    def _value(self, volume: int, fallback_cost: float) -> float:
        """Market value of ``volume`` lots at the last price (the cost when there is none)."""
        last = self.quote.last_price
        if volume == 0:
            return 0.0
        if last != last:
            return fallback_cost
        return float(last) * self.instrument.volume_multiple * volume

    @property
    def float_profit_long(self) -> float:
        """Long profit against the open price."""
        return self._value(self.pos_long, self.open_cost_long) - self.open_cost_long

    @property
    def float_profit_short(self) -> float:
        """Short profit against the open price."""
        return self.open_cost_short - self._value(self.pos_short, self.open_cost_short)

    @property
    def float_profit(self) -> float:
        """Long plus short float profit."""
        return self.float_profit_long + self.float_profit_short

    @property
    def position_profit_long(self) -> float:
        """Long profit against the carrying price."""
        return self._value(self.pos_long, self.position_cost_long) - self.position_cost_long

    @property
    def position_profit_short(self) -> float:
        """Short profit against the carrying price."""
        return self.position_cost_short - self._value(self.pos_short, self.position_cost_short)

    @property
    def position_profit(self) -> float:
        """Long plus short position profit."""
        return self.profit_and_margin()[0]

    @property
    def margin_long(self) -> float:
        """Margin of the long lots: long ratio × carrying cost."""
        return self.instrument.margin_ratio_long * self.position_cost_long

    @property
    def margin_short(self) -> float:
        """Margin of the short lots: short ratio × carrying cost."""
        return self.instrument.margin_ratio_short * self.position_cost_short

    @property
    def margin(self) -> float:
        """Long plus short margin."""
        return self.profit_and_margin()[1]

    def profit_and_margin(self) -> tuple[float, float]:
        """``(position_profit, margin)`` in one call: the account sums them for every order.

        The same arithmetic as the ``position_profit_long``/``_short`` and ``margin_long``/
        ``_short`` properties, inlined (they cost a dozen calls per position otherwise).
        """
        cost_long = self.position_cost_long_his + self.open_cost_long_today
        cost_short = self.position_cost_short_his + self.open_cost_short_today
        volume_long = self.pos_long_his + self.pos_long_today
        volume_short = self.pos_short_his + self.pos_short_today
        instrument = self.instrument
        last = self.quote.last_price
        if last == last:
            unit = float(last) * instrument.volume_multiple
            value_long = unit * volume_long if volume_long else 0.0
            value_short = unit * volume_short if volume_short else 0.0
        else:  # no price yet: each side is worth its carrying cost
            value_long = cost_long if volume_long else 0.0
            value_short = cost_short if volume_short else 0.0
        profit = (value_long - cost_long) + (cost_short - value_short)
        margin = instrument.margin_ratio_long * cost_long + (
            instrument.margin_ratio_short * cost_short
        )
        return profit, margin

    def changed(self, step: int, field: str | None = None) -> bool:
        """True if ``field`` (any field when None) changed during ``step``."""
        if field is not None:
            field = _SAME_AS.get(field, field)
        if Tracked.changed(self, step, field):
            return True
        moved = (field is None or field in _PRICE_DERIVED) and (self.pos_long or self.pos_short)
        return bool(moved) and self.quote.changed(step, "last_price")

    def __repr__(self) -> str:
        return (
            f"Position({self.symbol} long {self.pos_long_his}+{self.pos_long_today} "
            f"short {self.pos_short_his}+{self.pos_short_today})"
        )


def _per_unit(cost: float, volume: int, multiple: float) -> float:
    return cost / (volume * multiple) if volume else math.nan


class Account(Tracked):
    """The futures account (tqsdk's Account); see the module docstring for the identities."""

    __slots__ = (
        "close_profit", "commission", "deposit", "frozen_margin",
        "positions", "pre_balance", "withdraw",
    )  # fmt: skip
    _TRACKED: ClassVar[tuple[str, ...]] = (
        "pre_balance", "deposit", "withdraw", "close_profit", "commission", "frozen_margin",
    )  # fmt: skip
    _DERIVED: ClassVar[frozenset[str]] = frozenset(
        {"static_balance", "margin", "position_profit", "float_profit", *_PRICE_DERIVED}
    )
    currency: ClassVar[str] = "CNY"
    frozen_commission: ClassVar[float] = 0.0
    frozen_premium: ClassVar[float] = 0.0
    premium: ClassVar[float] = 0.0
    market_value: ClassVar[float] = 0.0

    def __init__(self, init_balance: float, positions: dict[str, Position]) -> None:
        self.pre_balance = float(init_balance)
        self.deposit = 0.0
        self.withdraw = 0.0
        self.close_profit = 0.0
        self.commission = 0.0
        self.frozen_margin = 0.0
        self.positions = positions
        self._init_tracking()

    @property
    def static_balance(self) -> float:
        """Balance at the start of the trading day: pre_balance + deposit − withdraw."""
        return self.pre_balance + self.deposit - self.withdraw

    def _totals(self) -> tuple[float, float]:
        """``(position_profit, margin)`` of every position, added in order (no ``sum()``: its
        float compensation since Python 3.12 would make results depend on the version)."""
        profit = margin = 0.0
        for position in self.positions.values():
            one_profit, one_margin = position.profit_and_margin()
            profit += one_profit
            margin += one_margin
        return profit, margin

    @property
    def position_profit(self) -> float:
        """Sum of the positions' profit against their carrying prices."""
        return self._totals()[0]

    @property
    def float_profit(self) -> float:
        """Sum of the positions' profit against their open prices."""
        total = 0.0
        for position in self.positions.values():
            total += position.float_profit
        return total

    @property
    def margin(self) -> float:
        """Margin of every position."""
        return self._totals()[1]

    @property
    def balance(self) -> float:
        """Equity: static_balance + close_profit − commission + position_profit."""
        return self._balance(self._totals()[0])

    def _balance(self, position_profit: float) -> float:
        return self.static_balance + self.close_profit - self.commission + position_profit

    @property
    def available(self) -> float:
        """Funds free for new orders: balance − margin − frozen_margin."""
        profit, margin = self._totals()  # one pass for both
        return self._balance(profit) - margin - self.frozen_margin

    @property
    def risk_ratio(self) -> float:
        """margin / balance (NaN when the balance is not positive)."""
        balance = self.balance
        return self.margin / balance if balance > 0 else math.nan

    def changed(self, step: int, field: str | None = None) -> bool:
        """True if ``field`` (any field when None) changed during ``step``.

        Fields computed from the positions change when a position or a held price did.
        """
        if Tracked.changed(self, step, field):
            return True
        if field is not None and field not in self._DERIVED:
            return False
        return any(p.changed(step) for p in self.positions.values())

    def snapshot(self) -> dict[str, float]:
        """The account fields as a dict (a daily row of ``result.daily``)."""
        return {
            "pre_balance": self.pre_balance,
            "static_balance": self.static_balance,
            "balance": self.balance,
            "available": self.available,
            "float_profit": self.float_profit,
            "position_profit": self.position_profit,
            "close_profit": self.close_profit,
            "commission": self.commission,
            "margin": self.margin,
            "frozen_margin": self.frozen_margin,
            "risk_ratio": self.risk_ratio,
            "deposit": self.deposit,
            "withdraw": self.withdraw,
        }

    def __repr__(self) -> str:
        return f"Account(balance={self.balance:.2f}, available={self.available:.2f})"
