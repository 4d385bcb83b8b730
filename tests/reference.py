"""What the reference-model tests (``tests/test_reference_*.py``) share: IF2003.IF prices in
whole ticks, the requests a random strategy sends, the default matching of DESIGN.md §7 in
integer ticks (:class:`ModelBroker`), and how the engine's fills and orders are compared."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from backtest import Api, BacktestResult
from tests.conftest import ns

SYMBOL = "IF2003.IF"
TICKS_PER_YUAN = 5  # price tick 0.2
DAY_START_NS = ns("2019-12-31 18:00")  # trading day 2020-01-02 starts here (01-01 is a holiday)
EXPIRED = "expired: day order (GFD) ended at the settlement of 20200102"


def price_of(ticks: int) -> float:
    """The exact grid price of ``ticks`` ticks (``20001 / 5`` is the float 4000.2)."""
    return ticks / TICKS_PER_YUAN


def ticks_of(price: float) -> int:
    ticks = round(price * TICKS_PER_YUAN)
    assert abs(price * TICKS_PER_YUAN - ticks) < 1e-6, f"{price!r} is off the grid"
    return ticks


@dataclass(frozen=True)
class Insert:
    sent_ns: int
    order_id: str
    direction: str  # "BUY" or "SELL"
    volume: int
    limit: int | None  # ticks; None: a market order
    advanced: str | None  # None, "FAK" or "FOK"


@dataclass(frozen=True)
class Cancel:
    sent_ns: int
    order_id: str


Request = Insert | Cancel

StepT = TypeVar("StepT")


@dataclass
class Script(Generic[StepT]):
    """What a random strategy sent, and what it saw at each step."""

    requests: list[Request] = field(default_factory=list)
    steps: list[StepT] = field(default_factory=list)


def nan_free(value: float) -> float | None:
    """None for NaN (NaN != NaN would make equal observations differ)."""
    return None if math.isnan(value) else value


def random_insert(api: Api, rng: random.Random, now: int) -> Insert:
    """Send a random OPEN order of IF2003.IF: a market order (always without a last price),
    else a limit −5…+5 ticks from the last price, half of them with float noise."""
    quote = api.get_quote(SYMBOL)
    direction = rng.choice(["BUY", "SELL"])
    volume = rng.randint(1, 5)
    advanced = rng.choice([None, None, None, None, "FAK", "FOK"])
    price: float | None
    if rng.random() < 0.12 or math.isnan(quote.last_price):
        price = None
    else:
        offset = rng.randint(-5, 5)
        if rng.random() < 0.5:
            price = price_of(ticks_of(quote.last_price) + offset)
        else:  # the strategy's own float arithmetic: on the grid up to float noise
            price = quote.last_price + offset * 0.2
    order = api.insert_order(SYMBOL, direction, "OPEN", volume, price, advanced)
    limit = None if price is None else ticks_of(price)
    return Insert(now, order.order_id, direction, volume, limit, advanced)


def send_random_requests(
    api: Api, rng: random.Random, now: int, requests: list[Request], sent_ids: list[str]
) -> None:
    """Send one to three random requests, recorded in ``requests``: a quarter of them (once
    an order exists) cancel an order, the rest are :func:`random_insert` orders."""
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        if sent_ids and rng.random() < 0.25:
            alive = [i for i in sent_ids if api.get_order(i).status == "ALIVE"]
            # mostly an alive order; sometimes any, which may be finished already
            chosen = rng.choice(alive if alive and rng.random() < 0.8 else sent_ids)
            api.cancel_order(chosen)
            requests.append(Cancel(now, chosen))
            continue
        insert = random_insert(api, rng, now)
        requests.append(insert)
        sent_ids.append(insert.order_id)


Fill = tuple[int, str, str, float, int]
"""(time ns, order id, direction, price, volume)."""


def engine_fills(result: BacktestResult) -> list[Fill]:
    return [
        (
            int(row["trade_date_time"]),
            str(row["order_id"]),
            str(row["direction"]),
            float(row["price"]),
            int(row["volume"]),
        )
        for row in result.trades.to_dict("records")
    ]


OrderOutcome = tuple[Any, ...]
"""(order id, insert time ns, status, volume left, last_msg[, is_error])."""


def engine_orders(result: BacktestResult, errors: bool) -> list[OrderOutcome]:
    """The engine's orders as outcomes; ``errors``: with the ``is_error`` flag."""
    return [
        (
            str(row["order_id"]),
            int(row["insert_date_time"]),
            str(row["status"]),
            int(row["volume_left"]),
            str(row["last_msg"]),
            *((bool(row["is_error"]),) if errors else ()),
        )
        for row in result.orders.to_dict("records")
    ]


@dataclass
class ModelOrder:
    insert: Insert
    volume_left: int
    status: str = "ALIVE"
    last_msg: str = ""
    is_error: bool = False


class ModelBroker:
    """DESIGN.md §7's default matching for one symbol, in integer ticks; written from the
    design alone, importing nothing of the engine. A model sets :attr:`now`, tells the quote
    through :meth:`sides` and decides how orders arrive (:meth:`arrive`)."""

    def __init__(self, now: int = 0) -> None:
        self.now = now
        self.orders: dict[str, ModelOrder] = {}
        self.resting: list[ModelOrder] = []  # in arrival order
        self.fills: list[Fill] = []

    def sides(self) -> tuple[int | None, int | None]:
        """The quote's (bid, ask) in ticks; None: that side is missing."""
        raise NotImplementedError

    def arrive(self, insert: Insert) -> None:
        raise NotImplementedError

    def deliver(self, pending: list[Request]) -> None:
        """The requests sent at :attr:`now`, in the order they were sent."""
        while pending and pending[0].sent_ns == self.now:
            request = pending.pop(0)
            if isinstance(request, Insert):
                self.arrive(request)
            else:
                self.cancel(request.order_id)

    def expire(self) -> None:
        """The day's settlement: every resting order expires."""
        for order in self.resting:
            self.finish(order, EXPIRED)
        self.resting.clear()

    def fill_price(self, order: ModelOrder) -> int | None:
        """Ticks the order fills at against the current quote, or None."""
        bid, ask = self.sides()
        limit = order.insert.limit
        if order.insert.direction == "BUY":
            if ask is None:
                return None
            if limit is None:
                return ask
            return limit if limit >= ask else None
        if bid is None:
            return None
        if limit is None:
            return bid
        return limit if limit <= bid else None

    def fill(self, order: ModelOrder, ticks: int) -> None:
        insert = order.insert
        self.fills.append(
            (self.now, insert.order_id, insert.direction, price_of(ticks), order.volume_left)
        )
        order.volume_left = 0
        self.finish(order, "filled")

    def finish(self, order: ModelOrder, message: str, error: bool = False) -> None:
        order.status = "FINISHED"
        order.last_msg = message
        order.is_error = error

    def match_resting(self) -> None:
        for order in list(self.resting):
            ticks = self.fill_price(order)
            if ticks is not None:
                self.resting.remove(order)
                self.fill(order, ticks)

    def cancel(self, order_id: str) -> None:
        order = self.orders[order_id]
        if order in self.resting:  # a finished order ignores the cancel
            self.resting.remove(order)
            self.finish(order, "cancelled")

    def outcomes(self, errors: bool) -> list[OrderOutcome]:
        """Every order's outcome, as :func:`engine_orders` gives the engine's."""
        return [
            (
                oid, order.insert.sent_ns, order.status, order.volume_left, order.last_msg,
                *((order.is_error,) if errors else ()),
            )
            for oid, order in self.orders.items()
        ]  # fmt: skip


def first_difference(
    seed: int, requests: list[Request], engine: list[Any], model: list[Any]
) -> str:
    """The first row where ``engine`` and ``model`` differ, with the order's request."""
    sent = {r.order_id: r for r in requests if isinstance(r, Insert)}
    for index, (got, want) in enumerate(zip(engine, model, strict=False)):
        if got != want:
            return (
                f"seed {seed}, row {index}:\n  engine {got}\n  model  {want}\n"
                f"  engine's order: {sent.get(got[1])}\n  model's order:  {sent.get(want[1])}"
            )
    return f"seed {seed}: engine has {len(engine)} rows, model {len(model)}"
