"""Differential test: futures accounting against an independent reference model.

A seeded random strategy trades one futures contract of the real sample store through the
public API over several trading days: OPEN, CLOSE and CLOSETODAY orders of either direction,
limit orders a few ticks around the last price (some rest, some expire at settlement), market,
FAK and FOK orders, closes of more than is closable, cancels. It holds positions across
settlements. Three scenarios:

- ``IF2003.IF`` 1-minute bars on CFFEX across the 2020 Spring Festival (with margin overrides:
  long 12%, short 14%), where CLOSE and CLOSETODAY both close yesterday's lots first;
- ``au1912.SF`` 1-minute bars on SHFE with the night session crossing midnight, a weekend and
  the May Day holiday; CLOSE closes yesterday's lots only, CLOSETODAY today's only;
- ``IF2101.IF`` ticks, whose post-close ticks carry the exchange's settlement price.

The model (:class:`AccountModel`) is written from DESIGN.md §2 and §7 and the docstrings of
``backtest/futures.py`` and ``backtest/account.py``; it imports nothing of the engine's ledger
and computes in exact fractions, rounding to the cent (half away from zero) only where the
contract says money is kept to the cent. From the engine's fills (``result.trades``: order,
price, volume, time) and the settlement prices, which it reads from the Parquet files itself,
it predicts:

- which orders are rejected (insufficient funds at the order's price, with the position
  profit at the last price and the margin frozen by resting orders; closing more than the
  closable volume, lots held by other alive closing orders not being closable), and how every
  other order ends (filled, FAK/FOK/market cancelled, cancelled, expired at settlement);
- every fill's commission and close profit, and its trading day;
- the positions held at each settlement (``result.positions``);
- every row of ``result.daily``.

Every money amount is compared exactly: an amount of n cents must be the float ``n / 100``.
"""

from __future__ import annotations

import functools
import math
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from backtest import Api, Backtest, BacktestResult
from backtest.account import Position
from backtest.store import Store, default_store_path
from tests.conftest import ns, write_bars

BEIJING = timezone(timedelta(hours=8))
NS = 1_000_000_000
BAR_CLOSE_NS = 60 * NS - 1_000  # a 1-minute bar's close event: 1 µs before its end (§4)

# --- scenarios -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    """An instrument's trading terms as the model knows them (from data/README.md, or the
    overrides the scenario passes to the backtest)."""

    tick: Fraction
    multiple: int
    margin_long: Fraction
    margin_short: Fraction
    per_lot: bool  # commission: CNY per lot, else a rate on turnover
    open_rate: Fraction
    close_rate: Fraction
    close_today_rate: Fraction
    day_split: bool  # SHFE/INE: CLOSE closes yesterday's lots only, CLOSETODAY today's only


@dataclass(frozen=True)
class Scenario:
    name: str
    symbol: str
    days: tuple[date, ...]  # the trading days of the run, from the first to the last
    init_balance: int
    terms: Terms
    sessions: tuple[tuple[int, int], ...]  # [start, end) seconds after Beijing midnight
    ticks: bool  # quotes from ticks (else from 1-minute bars)
    act: float  # chance the strategy acts at a step
    instruments: dict[str, dict[str, float]] | None = field(default=None, hash=False)


def hms(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60


IF_SESSIONS = ((hms("09:30"), hms("11:30")), (hms("13:00"), hms("15:00")))
CFFEX_IF = Terms(
    tick=Fraction("0.2"),
    multiple=300,
    margin_long=Fraction("0.12"),
    margin_short=Fraction("0.12"),
    per_lot=False,
    open_rate=Fraction("0.000023"),
    close_rate=Fraction("0.000023"),
    close_today_rate=Fraction("0.000345"),
    day_split=False,
)
SCENARIOS = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            name="IF2003-bars",
            symbol="IF2003.IF",
            # 2020-01-24 … 2020-02-02 is the Spring Festival (and its extension)
            days=(
                date(2020, 1, 21),
                date(2020, 1, 22),
                date(2020, 1, 23),
                date(2020, 2, 3),
                date(2020, 2, 4),
            ),
            init_balance=1_000_000,
            terms=replace(CFFEX_IF, margin_short=Fraction("0.14")),
            sessions=IF_SESSIONS,
            ticks=False,
            act=0.08,
            instruments={"IF2003.IF": {"margin_ratio_long": 0.12, "margin_ratio_short": 0.14}},
        ),
        Scenario(
            name="au1912-bars",
            symbol="au1912.SF",
            # Friday night 04-26 runs past midnight into Saturday and belongs to Monday 04-29;
            # no night session before the May Day holiday (05-01 … 05-03).
            days=(
                date(2019, 4, 26),
                date(2019, 4, 29),
                date(2019, 4, 30),
                date(2019, 5, 6),
                date(2019, 5, 7),
            ),
            init_balance=150_000,
            terms=Terms(
                tick=Fraction("0.05"),
                multiple=1000,
                margin_long=Fraction("0.08"),
                margin_short=Fraction("0.08"),
                per_lot=True,
                open_rate=Fraction(10),
                close_rate=Fraction(10),
                close_today_rate=Fraction(0),
                day_split=True,
            ),
            sessions=(
                (hms("21:00"), 86_400),
                (0, hms("02:30")),
                (hms("09:00"), hms("10:15")),
                (hms("10:30"), hms("11:30")),
                (hms("13:30"), hms("15:00")),
            ),
            ticks=False,
            act=0.035,
        ),
        Scenario(
            name="IF2101-ticks",
            symbol="IF2101.IF",
            days=(date(2021, 1, 4), date(2021, 1, 5), date(2021, 1, 6)),
            init_balance=1_200_000,
            terms=CFFEX_IF,
            sessions=IF_SESSIONS,
            ticks=True,
            act=0.0025,
        ),
    )
}


def beijing_ns(day: date, hour: int) -> int:
    """int ns of ``hour``:00 Beijing time on ``day``."""
    moment = datetime(day.year, day.month, day.day, hour, tzinfo=BEIJING)
    return int(moment.timestamp()) * NS


def day_end_ns(day: date) -> int:
    """The last ns of trading day ``day``: the next one starts at 18:00 on ``day`` (§2)."""
    return beijing_ns(day, 18) - 1


def trading_day_of(days: tuple[date, ...], ts_ns: int) -> date:
    """The trading day of ``ts_ns``: the first day whose 18:00 is still ahead (§2)."""
    return next(day for day in days if ts_ns <= day_end_ns(day))


def in_session(sessions: tuple[tuple[int, int], ...], ts_ns: int) -> bool:
    seconds = (ts_ns // NS + 8 * 3600) % 86_400
    return any(start <= seconds < end for start, end in sessions)


# --- settlement prices, read from the Parquet files ------------------------------------------


@functools.cache
def settlement_prices(scenario: Scenario, root: Path) -> dict[date, float]:
    """Each trading day's settlement price, as DESIGN.md §7 and ``_settle_day`` define it: the
    latest quote of the day carries the settlement price if the data has one (the post-close
    ticks of IF2101), else its last price. Read here straight from the store's Parquet files:
    for bars, the close of the last bar whose close event falls in the day; for ticks, the last
    tick of the day."""
    if scenario.ticks:
        paths = sorted((root / "ticks" / scenario.symbol).glob("*/*.parquet"))
        table = pa.concat_tables(
            pq.read_table(path, columns=["datetime", "last_price", "settlement"]) for path in paths
        )
        last_price, settlement = column(table, "last_price"), column(table, "settlement")
        # the settlement price where the tick has one, else the last price
        prices = np.where(np.isnan(settlement), last_price, settlement)
        times = column(table, "datetime")
    else:
        paths = sorted((root / "klines" / "1m" / scenario.symbol).glob("*.parquet"))
        table = pa.concat_tables(
            pq.read_table(path, columns=["datetime", "close"]) for path in paths
        )
        prices = column(table, "close")
        times = column(table, "datetime") + BAR_CLOSE_NS  # when the bar's close is known
    assert bool(np.all(np.diff(times) > 0))
    found = {}
    for index, day in enumerate(scenario.days):
        last = int(np.searchsorted(times, day_end_ns(day), side="right")) - 1
        if index:  # the day has data of its own
            assert times[last] > day_end_ns(scenario.days[index - 1]), f"no data on {day}"
        found[day] = float(prices[last])
    return found


def column(table: pa.Table, name: str) -> npt.NDArray[Any]:
    """A column as a NumPy array (nulls as NaN); timestamps as int ns since the epoch."""
    values = table.column(name)
    if name == "datetime":
        return np.asarray(values.cast(pa.int64()).to_numpy(), dtype=np.int64)
    return np.asarray(values.to_numpy(), dtype=np.float64)


# --- money -----------------------------------------------------------------------------------


def cents(amount: Fraction) -> int:
    """CNY to whole cents, halves away from zero (futures.py: "half up", as brokers do)."""
    rounded = math.floor(abs(amount) * 100 + Fraction(1, 2))
    return rounded if amount >= 0 else -rounded


def money(amount_cents: int) -> float:
    """The float a money amount of ``amount_cents`` cents must be reported as."""
    return amount_cents / 100


# --- what the strategy sent ------------------------------------------------------------------


@dataclass(frozen=True)
class Insert:
    seq: int  # position among the strategy's requests
    sent_ns: int
    order_id: str
    direction: str
    offset: str
    volume: int
    limit: float | None  # None: a market order
    advanced: str | None
    last: float  # the quote when it was sent (and when it arrived: no time passes between)
    bid: float
    ask: float


@dataclass(frozen=True)
class Cancel:
    seq: int
    sent_ns: int
    order_id: str


Request = Insert | Cancel


def random_strategy(
    scenario: Scenario, rng: random.Random, requests: list[Request]
) -> Callable[[Api], Awaitable[None]]:
    """Trades at random steps inside the trading sessions, recording what it sends."""
    symbol, terms = scenario.symbol, scenario.terms

    def grid_price(quote_last: float, ticks_away: int) -> float:
        return float(exact_price(quote_last, terms.tick) + ticks_away * terms.tick)

    async def strategy(api: Api) -> None:
        if scenario.ticks:
            api.get_tick_serial(symbol, 1)
        quote = api.get_quote(symbol)
        position = api.get_position(symbol)
        assert isinstance(position, Position)
        sent: list[str] = []
        while True:
            await api.wait_update()
            now = api.now_ns
            if not in_session(scenario.sessions, now) or rng.random() >= scenario.act:
                continue
            for _ in range(rng.choice([1, 1, 1, 2, 3])):
                roll = rng.random()
                alive = [oid for oid in sent if api.get_order(oid).status == "ALIVE"]
                if sent and roll < 0.12:
                    # mostly an alive order; sometimes any, which may be finished already
                    chosen = rng.choice(alive if alive and rng.random() < 0.9 else sent)
                    api.cancel_order(chosen)
                    requests.append(Cancel(len(requests), now, chosen))
                    continue
                limit: float | None = None
                if rng.random() >= 0.15:
                    limit = grid_price(quote.last_price, rng.randint(-3, 3))
                advanced = rng.choice([None, None, None, None, None, None, "FAK", "FOK"])
                if roll < 0.55:
                    direction, offset = rng.choice(["BUY", "SELL"]), "OPEN"
                    volume = rng.randint(1, 3)
                else:
                    long, short = position.pos_long, position.pos_short
                    if long and (not short or rng.random() < 0.5):
                        closing_long = rng.random() < 0.85
                    elif short:
                        closing_long = rng.random() < 0.15
                    else:
                        closing_long = rng.random() < 0.5
                    direction = "SELL" if closing_long else "BUY"
                    his, today = (
                        (position.pos_long_his, position.pos_long_today)
                        if closing_long
                        else (position.pos_short_his, position.pos_short_today)
                    )
                    offset = rng.choice(["CLOSE", "CLOSETODAY"])
                    if terms.day_split and (his or today) and not (his and today):
                        offset = (
                            ("CLOSE" if his else "CLOSETODAY")
                            if rng.random() < 0.8
                            else ("CLOSETODAY" if his else "CLOSE")
                        )
                    held = his + today
                    if terms.day_split:
                        held = his if offset == "CLOSE" else today
                    volume = rng.randint(1, min(held, 4) + 1)
                order = api.insert_order(symbol, direction, offset, volume, limit, advanced)
                sent.append(order.order_id)
                requests.append(
                    Insert(
                        len(requests),
                        now,
                        order.order_id,
                        direction,
                        offset,
                        volume,
                        limit,
                        advanced,
                        quote.last_price,
                        quote.bid_price1,
                        quote.ask_price1,
                    )
                )

    return strategy


def exact_price(price: float, tick: Fraction) -> Fraction:
    """The exact decimal price of a float on the tick grid."""
    ticks = round(Fraction(price) / tick)
    assert abs(Fraction(price) - ticks * tick) < Fraction(1, 10**6), f"{price!r} is off the grid"
    return ticks * tick


# --- the reference model ---------------------------------------------------------------------


@dataclass(frozen=True)
class EngineTrade:
    seq: int
    trade_id: str
    order_id: str
    price: float
    volume: int
    time_ns: int


@dataclass
class Side:
    """One side (long or short) of the position."""

    his: int = 0
    today: int = 0
    his_cost: Fraction = Fraction(0)  # yesterday's lots at the last settlement price, CNY
    his_open_cost: Fraction = Fraction(0)  # yesterday's lots at their open prices
    today_cost: Fraction = Fraction(0)  # today's lots at their open prices (their carrying cost)
    frozen_his: int = 0  # held by alive closing orders
    frozen_today: int = 0

    @property
    def volume(self) -> int:
        return self.his + self.today

    @property
    def carrying_cost(self) -> Fraction:
        return self.his_cost + self.today_cost

    @property
    def open_cost(self) -> Fraction:
        return self.his_open_cost + self.today_cost


@dataclass
class ModelOrder:
    insert: Insert
    trade: EngineTrade | None
    resting: bool = False
    frozen_margin: Fraction = Fraction(0)
    frozen_his: int = 0
    frozen_today: int = 0
    outcome: str = ""  # see :func:`engine_outcome`


DAILY_FIELDS = (
    "pre_balance",
    "static_balance",
    "balance",
    "available",
    "float_profit",
    "position_profit",
    "close_profit",
    "commission",
    "margin",
    "frozen_margin",
    "risk_ratio",
    "deposit",
    "withdraw",
    "equity",
)
POSITION_FIELDS = (
    "trading_day",
    "symbol",
    "pos_long_his",
    "pos_long_today",
    "pos_short_his",
    "pos_short_today",
    "settlement_price",
    "market_value",
    "float_profit",
    "margin",
)


class AccountModel:
    """The futures account of DESIGN.md §7 for one contract, in exact fractions.

    Readings of the contract (futures.py and account.py docstrings) where it leaves a choice:

    - Money is rounded to the cent, half away from zero, where futures.py says it is kept to
      the cent: each fill's commission and each fill's close profit (one amount per fill, a
      close fill that takes yesterday's and today's lots included), and at settlement the
      position profit, the float profit and the margin, so the balance and available too.
      Amounts in between (the available funds an order is checked against, margins,
      carrying costs) are exact.
    - An OPEN order needs available ≥ margin + commission at its price (the opposing best
      price for a market order), available counting the position profit at the last price
      and the margin frozen by alive opening orders.
    - Which lots a closing order takes is decided when it arrives, from the lots not held by
      other alive closing orders (CFFEX: yesterday's first, then today's), and they are
      held until it fills, is cancelled or expires.
    - Lots of one day and side are interchangeable: closing some of today's lots realizes
      profit against the average open price of today's lots, closing yesterday's against
      the settlement price; yesterday's lots keep their average open price (for the float
      profit) across settlements.
    """

    def __init__(
        self,
        scenario: Scenario,
        settlements: dict[date, float],
        trades: list[EngineTrade],
    ) -> None:
        self.scenario = scenario
        self.terms = scenario.terms
        self.settlements = settlements
        self.trades_by_order: dict[str, EngineTrade] = {}
        for trade in trades:
            assert trade.order_id not in self.trades_by_order, f"two fills of {trade.order_id}"
            self.trades_by_order[trade.order_id] = trade
        self.pre_balance = scenario.init_balance * 100  # cents
        self.close_profit = 0  # cents, today's
        self.commission = 0  # cents, today's
        self.frozen_margin = Fraction(0)
        self.long, self.short = Side(), Side()
        self.orders: dict[str, ModelOrder] = {}
        self.fills: dict[str, tuple[int, int, str]] = {}  # trade id → (commission, profit, day)
        self.daily: list[dict[str, float]] = []
        self.positions: list[dict[str, Any]] = []
        self.coverage: dict[str, int] = dict.fromkeys(
            (
                "fills",
                "funds",
                "closable",
                "his_closed",
                "mixed",
                "expired",
                "held_overnight",
                "resting_fills",
                "leg_rounding",
            ),
            0,
        )

    # --- amounts -------------------------------------------------------------------------

    def value(self, price: Fraction, volume: int) -> Fraction:
        return price * self.terms.multiple * volume

    def commission_of(self, kind: str, price: Fraction, volume: int) -> Fraction:
        """Unrounded commission of ``volume`` lots: OPEN, CLOSE (yesterday's lots) or
        CLOSETODAY (today's lots)."""
        terms = self.terms
        rate = {
            "OPEN": terms.open_rate,
            "CLOSE": terms.close_rate,
            "CLOSETODAY": terms.close_today_rate,
        }[kind]
        return rate * volume if terms.per_lot else rate * self.value(price, volume)

    def position_profit(self, price: Fraction) -> Fraction:
        """Profit against the carrying prices at ``price``."""
        long, short = self.long, self.short
        return (self.value(price, long.volume) - long.carrying_cost) + (
            short.carrying_cost - self.value(price, short.volume)
        )

    def margin(self) -> Fraction:
        """Margin ratio × carrying cost, per side."""
        terms = self.terms
        return (
            terms.margin_long * self.long.carrying_cost
            + terms.margin_short * self.short.carrying_cost
        )

    def available(self, last: Fraction) -> Fraction:
        balance = Fraction(
            self.pre_balance + self.close_profit - self.commission, 100
        ) + self.position_profit(last)
        return balance - self.margin() - self.frozen_margin

    # --- events --------------------------------------------------------------------------

    def run(self, requests: list[Request]) -> None:
        """Replay arrivals, later fills and settlements in the engine's order of events.

        At one instant the market step comes first (fills of resting orders), then the
        deliveries of what the strategy sent at that instant, in the order it sent them
        (§5); an order filled when it arrives fills at its insert time. A day is settled
        after its last event (§2, §7)."""
        inserts = {r.order_id: r for r in requests if isinstance(r, Insert)}
        events: list[tuple[tuple[int, int, int], Request | EngineTrade | date]] = []
        for request in requests:
            events.append(((request.sent_ns, 1, request.seq), request))
        for trade in self.trades_by_order.values():
            assert trade.order_id in inserts, f"fill of an order never sent: {trade}"
            if trade.time_ns != inserts[trade.order_id].sent_ns:
                events.append(((trade.time_ns, 0, trade.seq), trade))
        for day in self.scenario.days:
            events.append(((day_end_ns(day), 2, 0), day))
        for _, event in sorted(events, key=lambda item: item[0]):
            if isinstance(event, Insert):
                self.arrive(event)
            elif isinstance(event, Cancel):
                self.cancel(event.order_id)
            elif isinstance(event, EngineTrade):
                order = self.orders.get(event.order_id)
                assert order is not None and order.resting, (
                    f"{event.trade_id} fills {event.order_id}, which the model does not "
                    f"hold resting at {event.time_ns}: {order}"
                )
                self.coverage["resting_fills"] += 1
                order.resting = False
                self.fill(order, event)
            else:
                self.settle(event)

    def arrive(self, insert: Insert) -> None:
        trade = self.trades_by_order.get(insert.order_id)
        order = self.orders[insert.order_id] = ModelOrder(insert, trade)
        terms = self.terms
        buying = insert.direction == "BUY"
        opposite = insert.ask if buying else insert.bid
        if insert.limit is None and not opposite > 0:
            order.outcome = "no opposing price"
        elif insert.offset == "OPEN":
            price = exact_price(insert.limit if insert.limit is not None else opposite, terms.tick)
            ratio = terms.margin_long if buying else terms.margin_short
            needed = ratio * self.value(price, insert.volume)
            fee = cents(self.commission_of("OPEN", price, insert.volume))
            if needed + Fraction(fee, 100) > self.available(exact_price(insert.last, terms.tick)):
                order.outcome = "funds"
                self.coverage["funds"] += 1
            else:
                order.frozen_margin = needed
                self.frozen_margin += needed
        else:
            side = self.long if insert.direction == "SELL" else self.short
            free_his, free_today = side.his - side.frozen_his, side.today - side.frozen_today
            volume = insert.volume
            if terms.day_split and insert.offset == "CLOSETODAY":
                closable, take_his = free_today, 0
            elif terms.day_split:
                closable, take_his = free_his, volume
            else:  # yesterday's lots first, then today's
                closable, take_his = free_his + free_today, min(volume, free_his)
            if volume > closable:
                order.outcome = f"closable {closable}"
                self.coverage["closable"] += 1
            else:
                order.frozen_his, order.frozen_today = take_his, volume - take_his
                side.frozen_his += order.frozen_his
                side.frozen_today += order.frozen_today
        if order.outcome:  # finished at arrival
            assert trade is None, f"the model finished {insert} at arrival, yet {trade}"
            return
        if trade is not None and trade.time_ns == insert.sent_ns:
            self.fill(order, trade)
        elif insert.limit is None or insert.advanced is not None:
            self.release(order)
            order.outcome = "could not fill at once"
        else:
            order.resting = True

    def release(self, order: ModelOrder) -> None:
        self.frozen_margin -= order.frozen_margin
        order.frozen_margin = Fraction(0)
        side = self.long if order.insert.direction == "SELL" else self.short
        side.frozen_his -= order.frozen_his
        side.frozen_today -= order.frozen_today
        order.frozen_his = order.frozen_today = 0

    def cancel(self, order_id: str) -> None:
        order = self.orders[order_id]
        if order.resting:
            order.resting = False
            self.release(order)
            order.outcome = "cancelled"

    def fill(self, order: ModelOrder, trade: EngineTrade) -> None:
        insert = order.insert
        assert trade.volume == insert.volume, f"{trade} fills part of {insert}"
        if insert.limit is not None:
            assert trade.price == insert.limit, f"{trade} is not at the limit of {insert}"
        self.coverage["fills"] += 1
        price = exact_price(trade.price, self.terms.tick)
        volume = trade.volume
        if insert.offset == "OPEN":
            side = self.long if insert.direction == "BUY" else self.short
            fee = self.commission_of("OPEN", price, volume)
            profit = Fraction(0)
            side.today += volume
            side.today_cost += self.value(price, volume)
        else:
            closing_long = insert.direction == "SELL"
            side = self.long if closing_long else self.short
            from_his, from_today = order.frozen_his, order.frozen_today
            sign = 1 if closing_long else -1
            his_fee = self.commission_of("CLOSE", price, from_his)
            today_fee = self.commission_of("CLOSETODAY", price, from_today)
            fee = his_fee + today_fee
            if cents(fee) != cents(his_fee) + cents(today_fee):
                self.coverage["leg_rounding"] += 1  # rounding each part would be a cent off
            profit = Fraction(0)
            if from_his:
                self.coverage["his_closed"] += 1
                carry = side.his_cost * from_his / side.his
                opened = side.his_open_cost * from_his / side.his
                profit += sign * (self.value(price, from_his) - carry)
                side.his -= from_his
                side.his_cost -= carry
                side.his_open_cost -= opened
            if from_today:
                carry = side.today_cost * from_today / side.today
                profit += sign * (self.value(price, from_today) - carry)
                side.today -= from_today
                side.today_cost -= carry
            if from_his and from_today:
                self.coverage["mixed"] += 1
        self.release(order)
        order.outcome = "filled"
        fee_cents, profit_cents = cents(fee), cents(profit)
        self.commission += fee_cents
        self.close_profit += profit_cents
        day = trading_day_of(self.scenario.days, trade.time_ns)
        self.fills[trade.trade_id] = (fee_cents, profit_cents, f"{day:%Y%m%d}")

    def settle(self, day: date) -> None:
        for order in self.orders.values():
            if order.resting:
                order.resting = False
                self.release(order)
                order.outcome = f"expired {day:%Y%m%d}"
                self.coverage["expired"] += 1
        assert self.frozen_margin == 0
        terms = self.terms
        price = exact_price(self.settlements[day], terms.tick)
        long, short = self.long, self.short
        long_value, short_value = self.value(price, long.volume), self.value(price, short.volume)
        position_profit = cents(self.position_profit(price))
        float_profit = cents((long_value - long.open_cost) + (short.open_cost - short_value))
        if long.volume or short.volume:
            self.coverage["held_overnight"] += 1
            self.positions.append(
                {
                    "trading_day": day,
                    "symbol": self.scenario.symbol,
                    "pos_long_his": long.his,
                    "pos_long_today": long.today,
                    "pos_short_his": short.his,
                    "pos_short_today": short.today,
                    "settlement_price": self.settlements[day],
                    "market_value": money(cents(long_value - short_value)),
                    "float_profit": money(float_profit),
                    "margin": money(
                        cents(terms.margin_long * long_value + terms.margin_short * short_value)
                    ),
                    "open_price_long": self.open_price(long),
                    "open_price_short": self.open_price(short),
                }
            )
        for side, value in ((long, long_value), (short, short_value)):
            side.his, side.today = side.volume, 0
            side.his_cost = value  # re-marked to the settlement price
            side.his_open_cost, side.today_cost = side.open_cost, Fraction(0)
        margin = cents(self.margin())
        balance = self.pre_balance + self.close_profit - self.commission + position_profit
        assert balance > 0, "the scenarios keep the balance positive (risk_ratio is NaN else)"
        self.daily.append(
            {
                "pre_balance": money(self.pre_balance),
                "static_balance": money(self.pre_balance),
                "balance": money(balance),
                "available": money(balance - margin),
                "float_profit": money(float_profit),
                "position_profit": money(position_profit),
                "close_profit": money(self.close_profit),
                "commission": money(self.commission),
                "margin": money(margin),
                "frozen_margin": 0.0,
                "risk_ratio": money(margin) / money(balance),
                "deposit": 0.0,
                "withdraw": 0.0,
                "equity": money(balance),
            }
        )
        self.pre_balance = balance
        self.close_profit = self.commission = 0

    def open_price(self, side: Side) -> Fraction | None:
        """Average open price of a side (None when flat)."""
        return side.open_cost / (side.volume * self.terms.multiple) if side.volume else None


# --- the engine's side -----------------------------------------------------------------------


def engine_trades(result: BacktestResult) -> list[EngineTrade]:
    return [
        EngineTrade(
            seq,
            str(row["trade_id"]),
            str(row["order_id"]),
            float(row["price"]),
            int(row["volume"]),
            int(row["trade_date_time"]),
        )
        for seq, row in enumerate(result.trades.to_dict("records"))
    ]


def engine_outcome(message: str) -> str:
    """An order's ``last_msg`` as the model's outcome names it."""
    closable = re.search(r"exceeds the closable (\d+) lot", message)
    expired = re.fullmatch(
        r"expired: day order \(GFD\) ended at the settlement of (\d{8})", message
    )
    if message.startswith("rejected: insufficient funds"):
        return "funds"
    if message.startswith("rejected: ") and closable is not None:
        return f"closable {closable.group(1)}"
    if expired is not None:
        return f"expired {expired.group(1)}"
    if message.startswith("cancelled: ") and message.endswith(" order could not fill at once"):
        return "could not fill at once"
    if message == "cancelled: no opposing price for a market order":
        return "no opposing price"
    return message  # "filled", "cancelled", or anything unexpected


REJECTIONS = ("funds", "closable ")


def first_difference(label: str, got: list[Any], want: list[Any]) -> str:
    for index, (a, b) in enumerate(zip(got, want, strict=False)):
        if a != b:
            return f"{label} row {index}:\n  engine {a}\n  model  {b}"
    return f"{label}: engine has {len(got)} rows, model {len(want)}"


def run_seed(scenario: Scenario, seed: int) -> tuple[BacktestResult, AccountModel]:
    rng = random.Random(seed)
    requests: list[Request] = []
    root = default_store_path()
    result = Backtest(
        random_strategy(scenario, rng, requests),
        scenario.days[0],
        scenario.days[-1],
        init_balance=scenario.init_balance,
        data=root,
        instruments=scenario.instruments,
        progress=False,
    ).run()
    assert result.complete, result.error
    model = AccountModel(scenario, settlement_prices(scenario, Path(root)), engine_trades(result))
    model.run(requests)
    return result, model


def check_accounts(result: BacktestResult, model: AccountModel) -> None:
    # Orders: rejections and every other ending, as the model predicts them.
    got_orders = [
        (str(row["order_id"]), engine_outcome(str(row["last_msg"])), bool(row["is_error"]))
        for row in result.orders.to_dict("records")
    ]
    want_orders = [
        (oid, order.outcome, order.outcome.startswith(REJECTIONS))
        for oid, order in model.orders.items()
    ]
    assert got_orders == want_orders, first_difference("orders", got_orders, want_orders)

    # Fills: commission, close profit, trading day.
    got_fills = [
        (
            str(row["trade_id"]),
            float(row["commission"]),
            float(row["close_profit"]),
            str(row["trading_day"]),
        )
        for row in result.trades.to_dict("records")
    ]
    want_fills = [
        (trade_id, money(fee), money(profit), day)
        for trade_id, (fee, profit, day) in sorted(model.fills.items())
    ]
    assert got_fills == want_fills, first_difference("trades", got_fills, want_fills)

    # Positions at each settlement.
    got_positions = [
        {name: row[name] for name in POSITION_FIELDS} for row in result.positions.to_dict("records")
    ]
    want_positions = [{name: row[name] for name in POSITION_FIELDS} for row in model.positions]
    assert got_positions == want_positions, first_difference(
        "positions", got_positions, want_positions
    )
    for got, want in zip(result.positions.to_dict("records"), model.positions, strict=True):
        for name in ("open_price_long", "open_price_short"):
            expected = want[name]
            if expected is None:
                assert math.isnan(got[name]), (name, got)
            else:
                assert got[name] == pytest.approx(float(expected), rel=1e-12, abs=0), (name, got)

    # The daily account rows.
    got_days = [
        {name: float(row[name]) for name in DAILY_FIELDS} for row in result.daily.to_dict("records")
    ]
    assert list(result.daily.trading_day) == list(model.scenario.days)
    assert got_days == model.daily, first_difference("daily", got_days, model.daily)


SEEDS = range(6)
LEG_ROUNDING_SEEDS = {("IF2003-bars", 2), ("IF2003-bars", 4), ("IF2101-ticks", 0)}
"""Runs with a close fill that takes yesterday's and today's lots at once, where rounding each
part's commission to the cent would be a cent off (see
:func:`test_a_close_fill_over_both_days_rounds_its_commission_once`)."""


def check_coverage(model: AccountModel) -> None:
    """The seed exercises what the model is about."""
    coverage = model.coverage
    assert coverage["fills"] >= 50, coverage
    assert coverage["resting_fills"] >= 10, coverage
    assert coverage["his_closed"] >= 2, coverage
    assert coverage["funds"] >= 10, coverage
    assert coverage["closable"] >= 10, coverage
    assert coverage["held_overnight"] >= 2, coverage


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", SCENARIOS)
def test_accounts_match_the_reference_model(name: str, seed: int) -> None:
    result, model = run_seed(SCENARIOS[name], seed)
    check_coverage(model)
    if (name, seed) in LEG_ROUNDING_SEEDS:
        assert model.coverage["leg_rounding"] >= 1
    check_accounts(result, model)


def test_settlement_prices_come_from_the_data() -> None:
    """What :func:`settlement_prices` reads: bars settle at the day's last close; IF2101's
    post-close ticks carry the exchange's settlement price, which differs from the last price
    (5260.0, 5359.8, 5408.4)."""
    root = Path(default_store_path())
    assert settlement_prices(SCENARIOS["IF2101-ticks"], root) == {
        date(2021, 1, 4): 5278.6,
        date(2021, 1, 5): 5357.0,
        date(2021, 1, 6): 5397.8,
    }
    assert settlement_prices(SCENARIOS["IF2003-bars"], root) == {
        date(2020, 1, 21): 4127.0,
        date(2020, 1, 22): 4142.6,
        date(2020, 1, 23): 3992.4,
        date(2020, 2, 3): 3592.0,
        date(2020, 2, 4): 3764.2,
    }
    assert settlement_prices(SCENARIOS["au1912-bars"], root) == {
        date(2019, 4, 26): 284.4,
        date(2019, 4, 29): 284.35,
        date(2019, 4, 30): 284.8,
        date(2019, 5, 6): 286.25,
        date(2019, 5, 7): 285.7,
    }


def test_model_rounds_money_half_away_from_zero() -> None:
    assert [cents(Fraction(x)) for x in ("454.60512", "2.675", "-1.005", "0.004", "-0.005")] == [
        45461,
        268,
        -101,
        0,
        -1,
    ]


def test_a_close_fill_over_both_days_rounds_its_commission_once(empty_store: Store) -> None:
    """CFFEX: a long lot held from yesterday and one opened today are closed by one SELL CLOSE
    of 2 at 4117.8. Its commission is 0.23‱ of 4117.8 × 300 for yesterday's lot (28.41282)
    plus 3.45‱ of it for today's (426.1923): 454.60512, which is 454.61 kept to the cent
    (rounding each part would give 28.41 + 426.19 = 454.60)."""
    symbol = "IF2003.IF"
    write_bars(
        empty_store,
        symbol,
        60,
        [
            ("2020-01-02 09:30", 4118.0, 4118.0, 4118.0, 4118.0, 10.0),
            ("2020-01-03 09:30", 4118.0, 4118.0, 4118.0, 4118.0, 10.0),
        ],
    )
    terms = {
        "margin_ratio": 0.12,
        "commission_unit": "turnover",
        "commission_open": 0.000023,
        "commission_close": 0.000023,
        "commission_close_today": 0.000345,
    }
    day_two = ns("2020-01-03 09:30")

    async def strategy(api: Api) -> None:
        api.get_quote(symbol)
        while True:
            await api.wait_update()
            if api.now_ns == ns("2020-01-02 09:30"):  # the bar opens: ask 4118.2, bid 4117.8
                api.insert_order(symbol, "BUY", "OPEN", 1, 4118.2)
                await api.wait_update()
            elif api.now_ns == day_two:
                api.insert_order(symbol, "BUY", "OPEN", 1, 4118.2)
                api.insert_order(symbol, "SELL", "CLOSE", 2, 4117.8)
                await api.wait_update()

    result = Backtest(
        strategy,
        date(2020, 1, 2),
        date(2020, 1, 3),
        data=empty_store.root,
        instruments={symbol: terms},
        progress=False,
    ).run()

    trades = result.trades
    assert list(trades.offset) == ["OPEN", "OPEN", "CLOSE"]
    assert list(trades.price) == [4118.2, 4118.2, 4117.8]
    # the close profit of the same fill is rounded once: (4117.8 - 4118.0) x 300 for
    # yesterday's lot (against settlement 4118.0) + (4117.8 - 4118.2) x 300 for today's
    assert trades.close_profit[2] == -180.0
    assert trades.commission[2] == 454.61
