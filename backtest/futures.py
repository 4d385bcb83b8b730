"""Futures market rules and accounting: margin, commission, closing, settlement (DESIGN.md §7).

The broker (:mod:`backtest.broker`) decides *whether and at what price* an order fills; this
ledger decides what an order may do and what a fill does to the account:

- **Opening** needs ``available`` ≥ margin + commission at the order price (the opposing best
  price for a market order); the margin is frozen while the order is alive.
- **Closing** on SHFE and INE distinguishes the days: ``CLOSE`` closes yesterday's lots only,
  ``CLOSETODAY`` today's only. Elsewhere both offsets close yesterday's lots first, then
  today's. Volume already held by other alive closing orders is not closable.
- **Commission** per fill: per lot or a rate on turnover, with the open, close and close-today
  parameters of the instrument.
- **Money is kept to the cent** (half up) as brokers do: commission and close profit of each
  fill (one that closes yesterday's and today's lots at once adds both parts, then rounds),
  and the position profit, margin and balance at settlement.
- **Margin** = ratio × price × multiplier × volume, re-marked at settlement.
- **Close profit** is realized against the carrying price: yesterday's settlement price for
  yesterday's lots, the open price for today's.
- **Settlement** marks every position to the settlement price (the data's settlement price when
  the quote has one, else the last price), turns today's lots into yesterday's, and rolls the
  balance into ``pre_balance``.
"""

from __future__ import annotations

from .account import Account, Position
from .instrument import Instrument
from .model import DAY_SPLIT_EXCHANGES, CommissionUnit, Direction, Offset
from .money import round_money
from .order import Fill, Order
from .quotes import Quote


def commission(instrument: Instrument, kind: Offset, price: float, volume: int) -> float:
    """Commission of a fill, CNY, rounded to the cent.

    ``kind`` is OPEN, CLOSE (yesterday's lots) or CLOSE_TODAY (today's lots).
    """
    return round_money(_commission(instrument, kind, price, volume))


def _commission(instrument: Instrument, kind: Offset, price: float, volume: int) -> float:
    """:func:`commission` before rounding (a fill closing both days' lots adds two)."""
    if kind is Offset.OPEN:
        rate = instrument.commission_open
    elif kind is Offset.CLOSE:
        rate = instrument.commission_close
    else:
        rate = instrument.commission_close_today
    if instrument.commission_unit is CommissionUnit.LOT:
        return rate * volume
    return rate * price * instrument.volume_multiple * volume


def margin(instrument: Instrument, direction: Direction, price: float, volume: int) -> float:
    """Margin of ``volume`` lots at ``price``: ratio × price × multiplier × volume."""
    ratio = (
        instrument.margin_ratio_long if direction is Direction.BUY
        else instrument.margin_ratio_short
    )  # fmt: skip
    return ratio * price * instrument.volume_multiple * volume


class FuturesLedger:
    """Applies the futures rules to one account and its positions."""

    def __init__(self, account: Account) -> None:
        self.account = account

    def position(self, instrument: Instrument, quote: Quote) -> Position:
        """The position of a symbol, created empty on first use."""
        positions = self.account.positions
        found = positions.get(instrument.symbol)
        if found is None:
            found = positions[instrument.symbol] = Position(instrument, quote)
        return found

    def accept(
        self, order: Order, instrument: Instrument, quote: Quote, price: float, step: int
    ) -> str | None:
        """Check an arriving order and freeze what it needs; return a rejection or None.

        ``price`` is the price funds are checked at (the limit price, or the opposing best
        price for a market order).
        """
        volume = order.volume_left
        if order.offset is Offset.OPEN:
            needed = margin(instrument, order.direction, price, volume)
            fee = commission(instrument, Offset.OPEN, price, volume)
            available = self.account.available
            if needed + fee > available:
                return (
                    f"rejected: insufficient funds: opening {volume} lot(s) of {order.symbol} at "
                    f"{price:.15g} needs margin {needed:,.2f} + commission {fee:,.2f}, "
                    f"available {available:,.2f}"
                )
            self.account.touch(step)
            order.frozen_margin = needed
            self.account.frozen_margin += needed
            return None
        position = self.position(instrument, quote)
        closing_long = order.direction is Direction.SELL
        his, today, frozen_his, frozen_today = (
            (position.pos_long_his, position.pos_long_today,
             position.volume_long_frozen_his, position.volume_long_frozen_today)
            if closing_long else
            (position.pos_short_his, position.pos_short_today,
             position.volume_short_frozen_his, position.volume_short_frozen_today)
        )  # fmt: skip
        free_his, free_today = his - frozen_his, today - frozen_today
        side = "long" if closing_long else "short"
        if instrument.exchange in DAY_SPLIT_EXCHANGES:
            if order.offset is Offset.CLOSE_TODAY:
                take_his, take_today = 0, volume
                if volume > free_today:
                    return (
                        f"rejected: CLOSETODAY of {volume} lot(s) exceeds the closable "
                        f"{free_today} lot(s) of today's {side} position in {order.symbol}"
                    )
            else:
                take_his, take_today = volume, 0
                if volume > free_his:
                    hint = " (use CLOSETODAY for today's lots)" if free_today else ""
                    return (
                        f"rejected: CLOSE of {volume} lot(s) exceeds the closable {free_his} "
                        f"lot(s) of yesterday's {side} position in {order.symbol}{hint}"
                    )
        else:
            if volume > free_his + free_today:
                return (
                    f"rejected: closing {volume} lot(s) exceeds the closable "
                    f"{free_his + free_today} lot(s) of the {side} position in {order.symbol}"
                )
            take_his = min(volume, free_his)
            take_today = volume - take_his
        position.touch(step)
        order.frozen_his, order.frozen_today = take_his, take_today
        if closing_long:
            position.volume_long_frozen_his += take_his
            position.volume_long_frozen_today += take_today
        else:
            position.volume_short_frozen_his += take_his
            position.volume_short_frozen_today += take_today
        return None

    def release(self, order: Order, instrument: Instrument, quote: Quote, step: int) -> None:
        """Unfreeze what an order still holds (it was cancelled, expired or filled)."""
        if order.frozen_margin:
            self.account.touch(step)
            self.account.frozen_margin -= order.frozen_margin
            if abs(self.account.frozen_margin) < 1e-6:
                self.account.frozen_margin = 0.0
            order.frozen_margin = 0.0
        if order.frozen_his or order.frozen_today:
            position = self.position(instrument, quote)
            position.touch(step)
            if order.direction is Direction.SELL:
                position.volume_long_frozen_his -= order.frozen_his
                position.volume_long_frozen_today -= order.frozen_today
            else:
                position.volume_short_frozen_his -= order.frozen_his
                position.volume_short_frozen_today -= order.frozen_today
            order.frozen_his = order.frozen_today = 0

    def fill(
        self,
        order: Order,
        instrument: Instrument,
        quote: Quote,
        price: float,
        volume: int,
        step: int,
    ) -> Fill:
        """Apply a fill of ``volume`` lots at ``price``; return its commission and profit."""
        account = self.account
        position = self.position(instrument, quote)
        account.touch(step)
        position.touch(step)
        multiple = instrument.volume_multiple
        value = price * multiple * volume
        if order.offset is Offset.OPEN:
            fee = commission(instrument, Offset.OPEN, price, volume)
            released = order.frozen_margin * volume / order.volume_left
            order.frozen_margin -= released
            account.frozen_margin -= released
            if abs(account.frozen_margin) < 1e-6:
                account.frozen_margin = 0.0
            if order.direction is Direction.BUY:
                position.pos_long_today += volume
                position.open_cost_long_today += value
            else:
                position.pos_short_today += volume
                position.open_cost_short_today += value
            account.commission = round_money(account.commission + fee)
            return Fill(commission=fee)
        from_his = min(volume, order.frozen_his)
        from_today = volume - from_his
        order.frozen_his -= from_his
        order.frozen_today -= from_today
        if order.direction is Direction.SELL:
            position.volume_long_frozen_his -= from_his
            position.volume_long_frozen_today -= from_today
        else:
            position.volume_short_frozen_his -= from_his
            position.volume_short_frozen_today -= from_today
        fee = 0.0
        profit = 0.0
        if from_his:
            fee += _commission(instrument, Offset.CLOSE, price, from_his)
            profit += _close_his(position, order.direction, price * multiple, from_his)
        if from_today:
            fee += _commission(instrument, Offset.CLOSE_TODAY, price, from_today)
            profit += _close_today(position, order.direction, price * multiple, from_today)
        # one fill: its commission and close profit are each rounded once
        fee = round_money(fee)
        profit = round_money(profit)
        account.commission = round_money(account.commission + fee)
        account.close_profit = round_money(account.close_profit + profit)
        return Fill(commission=fee, close_profit=profit)

    def settle(self, prices: dict[str, float], step: int) -> dict[str, float]:
        """Mark to the settlement prices (symbol → price) and roll the day; return its row."""
        account = self.account
        account.touch(step)
        position_profit = 0.0
        float_profit = 0.0
        for symbol, position in account.positions.items():
            volume_long, volume_short = position.pos_long, position.pos_short
            if not volume_long and not volume_short:
                continue
            position.touch(step)
            multiple = position.instrument.volume_multiple
            price = prices.get(symbol, float("nan"))
            long_value = price * multiple * volume_long if price == price else (
                position.position_cost_long)  # fmt: skip
            short_value = price * multiple * volume_short if price == price else (
                position.position_cost_short)  # fmt: skip
            position_profit += (long_value - position.position_cost_long) + (
                position.position_cost_short - short_value)  # fmt: skip
            float_profit += (long_value - position.open_cost_long) + (
                position.open_cost_short - short_value)  # fmt: skip
            position.pos_long_his, position.pos_long_today = volume_long, 0
            position.pos_short_his, position.pos_short_today = volume_short, 0
            position.open_cost_long_his = position.open_cost_long
            position.open_cost_short_his = position.open_cost_short
            position.open_cost_long_today = position.open_cost_short_today = 0.0
            position.position_cost_long_his = long_value
            position.position_cost_short_his = short_value
        position_profit, float_profit = round_money(position_profit), round_money(float_profit)
        balance = round_money(
            account.static_balance + account.close_profit - account.commission + position_profit
        )
        margin_now = round_money(account.margin)
        row = {
            "pre_balance": account.pre_balance,
            "static_balance": account.static_balance,
            "balance": balance,
            "available": round_money(balance - margin_now - account.frozen_margin),
            "float_profit": float_profit,
            "position_profit": position_profit,
            "close_profit": account.close_profit,
            "commission": account.commission,
            "margin": margin_now,
            "frozen_margin": account.frozen_margin,
            "risk_ratio": margin_now / balance if balance > 0 else float("nan"),
            "deposit": account.deposit,
            "withdraw": account.withdraw,
        }
        account.pre_balance = balance
        account.deposit = account.withdraw = 0.0
        account.close_profit = 0.0
        account.commission = 0.0
        return row


def _close_his(position: Position, direction: Direction, unit_value: float, volume: int) -> float:
    """Close ``volume`` of yesterday's lots; ``direction`` is the closing order's."""
    if direction is Direction.SELL:  # closes a long
        held = position.pos_long_his
        carry = position.position_cost_long_his * volume / held
        opened = position.open_cost_long_his * volume / held
        position.pos_long_his -= volume
        remaining = position.pos_long_his
        position.position_cost_long_his = (
            position.position_cost_long_his - carry if remaining else 0.0
        )
        position.open_cost_long_his = position.open_cost_long_his - opened if remaining else 0.0
        return unit_value * volume - carry
    held = position.pos_short_his
    carry = position.position_cost_short_his * volume / held
    opened = position.open_cost_short_his * volume / held
    position.pos_short_his -= volume
    remaining = position.pos_short_his
    position.position_cost_short_his = (
        position.position_cost_short_his - carry if remaining else 0.0
    )
    position.open_cost_short_his = position.open_cost_short_his - opened if remaining else 0.0
    return carry - unit_value * volume


def _close_today(position: Position, direction: Direction, unit_value: float, volume: int) -> float:
    """Close ``volume`` of today's lots; their carrying price is the open price."""
    if direction is Direction.SELL:
        held = position.pos_long_today
        carry = position.open_cost_long_today * volume / held
        position.pos_long_today -= volume
        position.open_cost_long_today = (
            position.open_cost_long_today - carry if position.pos_long_today else 0.0
        )
        return unit_value * volume - carry
    held = position.pos_short_today
    carry = position.open_cost_short_today * volume / held
    position.pos_short_today -= volume
    position.open_cost_short_today = (
        position.open_cost_short_today - carry if position.pos_short_today else 0.0
    )
    return carry - unit_value * volume
