"""The A-share cash account: T+1, lots, price limits, fees and settlement (DESIGN.md §7).

The broker (:mod:`backtest.broker`) decides whether and at what price an order fills; this
ledger applies the A-share rules of :mod:`backtest.ashare` to a cash account:

- **Buying** needs whole lots (STAR: at least 200 shares) and cash for price × volume plus the
  estimated fees, frozen while the order is alive. Shares bought today are sellable from the
  next trading day (**T+1**); cash from a sale can be used at once.
- **Selling** is limited to the sellable shares; odd lots go only as the whole remainder.
  Short selling is not supported.
- **Fees** appear on each trade: commission at the broker's rate with a minimum per order
  (charged across the order's fills), stamp duty on sells at the rate of the trade date, and
  the transfer fee. Funds (ETFs, LOFs, closed-end funds) pay neither stamp duty nor the
  transfer fee, only commission. Cost includes the buy fees; profit on a sale is net of its
  fees.
- **Settlement** marks positions to the settlement price, releases T+1 shares and records the
  day's fees.
- **Corporate actions** (from the store's ``dividends.parquet``): on each ex-date, cash
  dividends are credited and bonus shares added before the day's first trade. Without a
  dividend table, unadjusted prices drop on ex-dates and held positions simply lose that
  value. Prefer **unadjusted prices with the table**. Adjusted (前复权) prices work with a
  finer ``price_tick`` override (they are off the 0.01 grid, where limit orders would be
  rejected as off-tick) and no dividend table (it would count each dividend twice); their fees
  and limits are approximate before the last ex-date.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from .ashare import (
    StockFees,
    buy_volume_error,
    commission_due,
    sell_volume_error,
    stamp_duty_rate,
    transfer_fee,
)
from .instrument import Instrument
from .model import Direction, Exchange, Offset, ProductClass
from .money import round_money
from .order import Fill, Holding, Order, Tracked
from .quotes import Quote


class StockPosition(Holding):
    """Shares of one stock or fund held in the stock account.

    ``volume`` shares, of which ``volume_today`` were bought today (not sellable until the next
    trading day) and ``frozen_volume`` are held by alive sell orders; ``can_use_volume`` may be
    sold now. ``cost`` is what the shares cost, buy fees included.
    """

    __slots__ = ("cost", "frozen_volume", "volume", "volume_today")
    _TRACKED: ClassVar[tuple[str, ...]] = ("volume", "volume_today", "frozen_volume", "cost")
    _DERIVED: ClassVar[frozenset[str]] = frozenset(
        {"volume_his", "can_use_volume", "cost_price", "pos", "pos_long", "pos_short",
         "last_price", "market_value", "float_profit"}
    )  # fmt: skip

    def __init__(self, instrument: Instrument, quote: Quote) -> None:
        super().__init__(instrument, quote)
        self.volume = self.volume_today = self.frozen_volume = 0
        self.cost = 0.0

    @property
    def volume_his(self) -> int:
        """Shares held since before today."""
        return self.volume - self.volume_today

    @property
    def can_use_volume(self) -> int:
        """Shares that may be sold now: held before today and not held by a sell order."""
        return self.volume - self.volume_today - self.frozen_volume

    @property
    def pos(self) -> int:
        """Shares held (the net position, as for futures)."""
        return self.volume

    @property
    def pos_long(self) -> int:
        """Shares held (a stock position is long only)."""
        return self.volume

    @property
    def pos_short(self) -> int:
        """Always 0: A-shares cannot be sold short here."""
        return 0

    @property
    def cost_price(self) -> float:
        """Average cost per share, buy fees included (NaN when flat)."""
        return self.cost / self.volume if self.volume else float("nan")

    @property
    def last_price(self) -> float:
        """The quote's last price."""
        return float(self.quote.last_price)

    @property
    def market_value(self) -> float:
        """Shares × last price (the cost when there is no price yet)."""
        last = self.quote.last_price
        if not self.volume:
            return 0.0
        return self.cost if last != last else float(last) * self.volume

    @property
    def float_profit(self) -> float:
        """Market value − cost."""
        return self.market_value - self.cost

    def changed(self, step: int, field: str | None = None) -> bool:
        """True if ``field`` (any field when None) changed during ``step``."""
        if Tracked.changed(self, step, field):
            return True
        priced = field is None or field in ("last_price", "market_value", "float_profit")
        return priced and self.volume > 0 and self.quote.changed(step, "last_price")

    def __repr__(self) -> str:
        return f"StockPosition({self.symbol} {self.volume} shares, {self.volume_today} today)"


class StockAccount(Tracked):
    """The cash account for A-shares and funds (QMT's names: cash, frozen_cash, market_value,
    total_asset).

    ``cash`` is free to use, ``frozen_cash`` is held by alive buy orders, ``market_value`` is
    the value of the positions at their last prices and ``total_asset`` the sum. The fees of
    the current trading day accumulate in ``commission``, ``stamp_duty`` and ``transfer_fee``.
    """

    __slots__ = (
        "cash", "commission", "frozen_cash", "positions", "pre_total_asset", "stamp_duty",
        "transfer_fee",
    )  # fmt: skip
    _TRACKED: ClassVar[tuple[str, ...]] = (
        "cash", "frozen_cash", "commission", "stamp_duty", "transfer_fee", "pre_total_asset",
    )  # fmt: skip
    _DERIVED: ClassVar[frozenset[str]] = frozenset({"market_value", "total_asset", "float_profit"})

    def __init__(self, init_cash: float, positions: dict[str, StockPosition]) -> None:
        self.cash = float(init_cash)
        self.frozen_cash = 0.0
        self.pre_total_asset = float(init_cash)
        self.commission = self.stamp_duty = self.transfer_fee = 0.0
        self.positions = positions
        self._init_tracking()

    @property
    def market_value(self) -> float:
        """Value of every position at its last price."""
        return sum(p.market_value for p in self.positions.values())

    @property
    def total_asset(self) -> float:
        """cash + frozen_cash + market_value."""
        return self.cash + self.frozen_cash + self.market_value

    @property
    def float_profit(self) -> float:
        """Market value − cost of every position."""
        return sum(p.float_profit for p in self.positions.values())

    def changed(self, step: int, field: str | None = None) -> bool:
        """True if ``field`` (any field when None) changed during ``step``."""
        if Tracked.changed(self, step, field):
            return True
        if field is not None and field not in self._DERIVED:
            return False
        return any(p.changed(step) for p in self.positions.values())

    def __repr__(self) -> str:
        return f"StockAccount(total_asset={self.total_asset:.2f}, cash={self.cash:.2f})"


class StockLedger:
    """Applies the A-share rules to one stock account.

    Args:
        account: the stock account.
        fees: the broker's fee terms.
        trading_day: callable giving the current trading day (fees are dated).
    """

    def __init__(self, account: StockAccount, fees: StockFees, trading_day: Any) -> None:
        self.account = account
        self.fees = fees
        self.trading_day = trading_day

    def position(self, instrument: Instrument, quote: Quote) -> StockPosition:
        """The position of a symbol, created empty on first use."""
        positions = self.account.positions
        found = positions.get(instrument.symbol)
        if found is None:
            found = positions[instrument.symbol] = StockPosition(instrument, quote)
        return found

    def _fees(self, instrument: Instrument, direction: Direction, price: float, volume: int,
              order_turnover: float, charged: float) -> Fill:  # fmt: skip
        commission = commission_due(self.fees, order_turnover, charged)
        if instrument.product_class is ProductClass.FUND:  # exempt from both
            return Fill(commission=commission)
        day: date = self.trading_day()
        turnover = price * volume
        selling = direction is Direction.SELL
        return Fill(
            commission=commission,
            stamp_duty=round_money(stamp_duty_rate(day, selling) * turnover),
            transfer_fee=transfer_fee(
                day,
                instrument.exchange is Exchange.SSE,
                turnover,
                volume,
                self.fees.transfer_fee_rate,
            ),
        )

    def accept(
        self, order: Order, instrument: Instrument, quote: Quote, price: float, step: int
    ) -> str | None:
        """Check an arriving order and freeze what it needs; a rejection message or None."""
        volume = order.volume_left
        symbol = order.symbol
        if order.direction is Direction.BUY:
            if order.offset is not Offset.OPEN:
                return (
                    f"rejected: {symbol} is bought with offset OPEN (or none), was {order.offset}"
                )
            problem = buy_volume_error(volume, instrument.board)
            if problem:
                return f"rejected: {problem} ({symbol})"
            fill = self._fees(instrument, Direction.BUY, price, volume, price * volume, 0.0)
            needed = round_money(
                price * volume + fill.commission + fill.stamp_duty + fill.transfer_fee
            )
            cash = self.account.cash
            if needed > cash:
                return (
                    f"rejected: insufficient funds: buying {volume} shares of {symbol} at "
                    f"{price:.15g} needs {needed:,.2f} with fees, cash {cash:,.2f}"
                )
            self.account.touch(step)
            self.account.cash = round_money(cash - needed)
            self.account.frozen_cash = round_money(self.account.frozen_cash + needed)
            order.frozen_cash = needed
            return None
        if order.offset is Offset.OPEN:
            return f"rejected: short selling {symbol} is not supported (sell with offset CLOSE)"
        position = self.position(instrument, quote)
        problem = sell_volume_error(
            volume, position.volume, position.can_use_volume, instrument.board
        )
        if problem:
            today = position.volume_today
            note = f"; {today} bought today are sellable from the next trading day" if today else ""
            return f"rejected: {problem} shares of {symbol}{note}"
        position.touch(step)
        position.frozen_volume += volume
        order.frozen_his = volume
        return None

    def release(self, order: Order, instrument: Instrument, quote: Quote, step: int) -> None:
        """Unfreeze what a finished order still holds."""
        if order.frozen_cash:
            account = self.account
            account.touch(step)
            account.cash = round_money(account.cash + order.frozen_cash)
            account.frozen_cash = round_money(account.frozen_cash - order.frozen_cash)
            order.frozen_cash = 0.0
        if order.frozen_his:
            position = self.position(instrument, quote)
            position.touch(step)
            position.frozen_volume -= order.frozen_his
            order.frozen_his = 0

    def fill(
        self,
        order: Order,
        instrument: Instrument,
        quote: Quote,
        price: float,
        volume: int,
        step: int,
    ) -> Fill:
        """Apply a fill of ``volume`` shares at ``price``; return its fees and profit."""
        account = self.account
        position = self.position(instrument, quote)
        account.touch(step)
        position.touch(step)
        filled_before = order.volume_filled
        order_turnover = order.trade_price * filled_before if filled_before else 0.0
        order_turnover += price * volume
        fill = self._fees(
            instrument, order.direction, price, volume, order_turnover, order.fees_paid
        )
        order.fees_paid = round_money(order.fees_paid + fill.commission)
        turnover = price * volume
        fees = fill.commission + fill.stamp_duty + fill.transfer_fee
        if order.direction is Direction.BUY:
            held = round_money(order.frozen_cash * volume / order.volume_left)
            order.frozen_cash = round_money(order.frozen_cash - held)
            account.frozen_cash = round_money(account.frozen_cash - held)
            account.cash = round_money(account.cash + held - turnover - fees)
            position.volume += volume
            position.volume_today += volume
            position.cost = round_money(position.cost + turnover + fees)
        else:
            proceeds = round_money(turnover - fees)
            cost = position.cost * volume / position.volume
            fill.close_profit = round_money(proceeds - cost)
            account.cash = round_money(account.cash + proceeds)
            position.volume -= volume
            position.frozen_volume -= volume
            order.frozen_his -= volume
            position.cost = round_money(position.cost - cost) if position.volume else 0.0
        account.commission = round_money(account.commission + fill.commission)
        account.stamp_duty = round_money(account.stamp_duty + fill.stamp_duty)
        account.transfer_fee = round_money(account.transfer_fee + fill.transfer_fee)
        return fill

    def apply_corporate_action(
        self, symbol: str, cash_per_share: float, share_ratio: float, step: int
    ) -> None:
        """Pay a cash dividend and bonus shares on an ex-date (before the day's first trade).

        The cash (before tax: dividend tax is not modelled) is credited on the ex-date rather
        than the payment date; bonus and transferred shares, rounded down to whole shares, are
        held from the ex-date. The position's total cost is unchanged.
        """
        position = self.account.positions.get(symbol)
        if position is None or not position.volume:
            return
        self.account.touch(step)
        position.touch(step)
        self.account.cash = round_money(self.account.cash + cash_per_share * position.volume)
        position.volume += int(position.volume * share_ratio + 1e-9)

    def settle(self, prices: dict[str, float], step: int) -> dict[str, float]:
        """Mark to the settlement prices, release T+1 shares; return the day's row."""
        account = self.account
        account.touch(step)
        market_value = 0.0
        for symbol, position in account.positions.items():
            if position.volume_today:
                position.touch(step)
                position.volume_today = 0
            if position.volume:
                price = prices.get(symbol, float("nan"))
                value = position.cost if price != price else price * position.volume
                market_value += value
        market_value = round_money(market_value)
        total = round_money(account.cash + account.frozen_cash + market_value)
        row = {
            "stock_pre_total_asset": account.pre_total_asset,
            "stock_cash": account.cash,
            "stock_frozen_cash": account.frozen_cash,
            "stock_market_value": market_value,
            "stock_total_asset": total,
            "stock_commission": account.commission,
            "stock_stamp_duty": account.stamp_duty,
            "stock_transfer_fee": account.transfer_fee,
        }
        account.pre_total_asset = total
        account.commission = account.stamp_duty = account.transfer_fee = 0.0
        return row
