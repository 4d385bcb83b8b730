"""Differential test: tick-mode quotes and default matching against a reference model.

Seeded random ticks of IF2003.IF (price tick 0.2, sessions 09:30–11:30 and 13:00–15:00) on
trading day 2020-01-02 are written to a scratch store: last, bid and ask on the price grid
(bid < ask, a side sometimes missing as NaN), mostly inside the sessions but also an opening
auction print before 09:30, ticks at the exact session bounds, during the lunch break, after the
close (one carrying the settlement price), 1 ns or 1 µs apart, on the previous trading day
(history) and after the backtest's end. The store keeps ticks strictly increasing in time
(``Store.write`` refuses a repeated datetime), so no two ticks share a timestamp.

A strategy subscribes the tick serial (so the ticks are the quote) and at random steps sends
random orders (buy/sell OPEN, limit prices −5…+5 ticks from the last price, market orders,
FAK/FOK) and random cancels, at every kind of step, in session or not. A small reference model
written here from DESIGN.md §2 and §5–7 and the broker's docstring alone — it imports nothing
of the engine — predicts:

- the steps the strategy sees: the subscription delivery at the start of the trading day, one
  step per tick inside the backtest, plus one delivery step at the same time after every step
  that sent requests;
- the quote at each step (the latest tick, or the last history tick) and whether the tick
  serial changed;
- every fill (time, order, direction, price, volume): new orders are matched on arrival against
  the current quote, resting orders after every later tick inside a trading session (ticks
  outside the sessions match nothing); a buy fills when its limit ≥ ask1, a sell when its
  limit ≤ bid1, a limit order at its limit, a market order at the opposing price, a missing
  (NaN) side never fills, the whole volume at once;
- every order's final status, volume left, message and error flag: filled, cancelled, FAK/FOK
  or market order cancelled, rejected outside the trading sessions, expired at settlement.

The model works in integer ticks; a price of n ticks is ``n / 5``, the exact grid float.
"""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pytest

from backtest import Api, Backtest
from backtest.store import Store
from tests.conftest import ns
from tests.reference import (
    DAY_START_NS,
    SYMBOL,
    TICKS_PER_YUAN,
    Insert,
    ModelBroker,
    ModelOrder,
    Request,
    Script,
    engine_fills,
    engine_orders,
    first_difference,
    nan_free,
    price_of,
    send_random_requests,
)

SESSIONS_TEXT = "09:30-11:30,13:00-15:00"
DAY_END_NS = ns("2020-01-02 18:00") - 1  # ... and ends 1 ns before the next one starts
SESSIONS = (
    (ns("2020-01-02 09:30"), ns("2020-01-02 11:30")),
    (ns("2020-01-02 13:00"), ns("2020-01-02 15:00")),
)
MS = 1_000_000
NO_OPPOSITE = "cancelled: no opposing price for a market order"


def in_session(ts_ns: int) -> bool:
    """Sessions are half-open: 09:30 is inside, 11:30 is not (session.py)."""
    return any(start <= ts_ns < end for start, end in SESSIONS)


def beijing_seconds(ts_ns: int) -> str:
    """``YYYY-MM-DD HH:MM:SS`` Beijing time, by integer arithmetic."""
    seconds = (ts_ns + 8 * 3600 * 10**9) // 10**9
    days, rest = divmod(seconds, 86_400)
    day = date.fromordinal(date(1970, 1, 1).toordinal() + days)
    return f"{day} {rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"


def rejected_outside(ts_ns: int) -> str:
    return (
        f"rejected: {SYMBOL} does not trade at {beijing_seconds(ts_ns)} (sessions {SESSIONS_TEXT})"
    )


# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    """One tick in integer ticks; None is a missing (NaN) side."""

    time_ns: int
    last: int
    bid: int | None
    ask: int | None
    volume: int  # cumulative
    settlement: int | None = None


def random_tick_times(rng: random.Random) -> list[int]:
    """Session ticks on a millisecond grid and the special times around them."""
    times: set[int] = set()
    for start, end in SESSIONS:
        for _ in range(rng.randint(100, 200)):
            times.add(start + rng.randrange((end - start) // MS) * MS)
        if rng.random() < 0.5:
            times.add(start)  # the first instant of a session is inside it
        if rng.random() < 0.5:
            times.add(end - 1)  # the last nanosecond too
    for t in sorted(times):  # near neighbours: distinct times, distinct steps
        if rng.random() < 0.03:
            times.add(t + 1)
        if rng.random() < 0.03:
            times.add(t + 1000)
    specials = [
        "2020-01-02 09:25:00",  # opening auction print
        "2020-01-02 09:29:59.500",
        "2020-01-02 11:30:00",  # the morning session's end is outside it
        "2020-01-02 11:30:00.400",
        "2020-01-02 12:00:00",
        "2020-01-02 12:59:59.999",
        "2020-01-02 15:00:00",
        "2020-01-02 15:00:00.400",
        "2020-01-02 17:59:59.999",
    ]
    for text in specials:
        if rng.random() < 0.6:
            times.add(ns(text))
    return sorted(times)


def random_ticks(rng: random.Random) -> tuple[list[Tick], list[Tick], list[Tick]]:
    """(history ticks before the start, ticks inside the backtest, ticks after its end)."""
    level = 4000 * TICKS_PER_YUAN
    volume = 0

    def tick(time_ns: int, settlement: bool = False) -> Tick:
        nonlocal level, volume
        level += rng.randint(-2, 2)
        volume += rng.randint(0, 7)
        low = level - rng.randint(0, 2)
        high = low + rng.randint(1, 3)
        side = rng.random()
        bid = None if side < 0.06 or 0.12 <= side < 0.14 else low
        ask = None if 0.06 <= side < 0.14 else high
        return Tick(time_ns, level, bid, ask, volume, level if settlement else None)

    history = []
    if rng.random() < 0.5:
        history = [tick(ns("2019-12-31 14:59:58")), tick(ns("2019-12-31 14:59:59.500"))]
    volume = 0  # the cumulative volume restarts each trading day
    times = random_tick_times(rng)
    settles = ns("2020-01-02 15:15:00") if rng.random() < 0.5 else None
    if settles is not None:  # the post-close tick that carries the settlement price
        times = sorted([*times, settles])
    inside = [tick(t, t == settles) for t in times]
    volume = 0
    after = [tick(ns("2020-01-02 18:00:00")), tick(ns("2020-01-02 21:00:00"))]  # day 01-03's
    assert inside[0].time_ns > DAY_START_NS and inside[-1].time_ns <= DAY_END_NS
    return history, inside, after


def write_ticks(store: Store, ticks: list[Tick]) -> None:
    """Write ticks with level-1 prices and volumes (NaN where a side is missing)."""

    def price(value: int | None) -> float:
        return math.nan if value is None else price_of(value)

    def size(value: int | None) -> float:
        return math.nan if value is None else 3.0

    table = pa.table(
        {
            "datetime": [t.time_ns for t in ticks],
            "last_price": [price_of(t.last) for t in ticks],
            "volume": [float(t.volume) for t in ticks],
            "bid_price1": [price(t.bid) for t in ticks],
            "bid_volume1": [size(t.bid) for t in ticks],
            "ask_price1": [price(t.ask) for t in ticks],
            "ask_volume1": [size(t.ask) for t in ticks],
            "settlement": [price(t.settlement) for t in ticks],
        }
    )
    store.write(SYMBOL, 0, table)


# --- what the strategy sent and saw ----------------------------------------------------------


Seen = tuple[int, float | None, float | None, float | None, bool]
"""What a step showed: (quote datetime ns, bid1, ask1, last; None for NaN), tick serial changed."""


@dataclass(frozen=True)
class Step:
    """One ``wait_update()`` as the strategy saw it, and how many requests it then sent."""

    now_ns: int
    seen: Seen
    sent: int


def random_strategy(rng: random.Random, script: Script[Step]) -> Callable[[Api], Awaitable[None]]:
    """Acts at random steps (market or delivery, in session or not) with random requests."""

    async def strategy(api: Api) -> None:
        ticks = api.get_tick_serial(SYMBOL, 2)
        quote = api.get_quote(SYMBOL)
        sent_ids: list[str] = []
        while True:
            await api.wait_update()
            now = api.now_ns
            seen: Seen = (
                quote.datetime_ns,
                nan_free(quote.bid_price1),
                nan_free(quote.ask_price1),
                nan_free(quote.last_price),
                api.is_changing(ticks),
            )
            before = len(script.requests)
            delivery = bool(script.steps) and script.steps[-1].now_ns == now
            # act more often outside the sessions, where every order is rejected
            chance = 0.15 if delivery else 0.4 if in_session(now) else 0.8
            if rng.random() < chance:
                send_random_requests(api, rng, now, script.requests, sent_ids)
            script.steps.append(Step(now, seen, len(script.requests) - before))

    return strategy


# --- the reference model ---------------------------------------------------------------------


class ReferenceModel(ModelBroker):
    """DESIGN.md §5–7 for one symbol quoted from ticks, in integer ticks."""

    def __init__(self, history: list[Tick]) -> None:
        super().__init__(DAY_START_NS)
        self.quote: Tick | None = history[-1] if history else None

    def sides(self) -> tuple[int | None, int | None]:
        if self.quote is None:
            return None, None
        return self.quote.bid, self.quote.ask

    def run(self, ticks: list[Tick], requests: list[Request]) -> None:
        """The requests sent at the start, then every tick followed by the requests sent at
        its time (delivered before time moves on), then the day's settlement."""
        pending = list(requests)
        self.deliver(pending)
        for tick in ticks:
            self.now = tick.time_ns
            self.quote = tick
            if in_session(tick.time_ns):  # quotes outside the sessions match nothing
                self.match_resting()
            self.deliver(pending)
        assert not pending, f"requests sent at no step time: {pending[:3]}"
        self.expire()

    def arrive(self, insert: Insert) -> None:
        order = self.orders[insert.order_id] = ModelOrder(insert, insert.volume)
        if not in_session(self.now):
            self.finish(order, rejected_outside(self.now), error=True)
            return
        ticks = self.fill_price(order)
        if ticks is not None:
            self.fill(order, ticks)
        elif insert.limit is None:
            self.finish(order, NO_OPPOSITE)
        elif insert.advanced is not None:
            self.finish(order, f"cancelled: {insert.advanced} order could not fill at once")
        else:
            order.last_msg = "accepted"
            self.resting.append(order)


# --- comparison ------------------------------------------------------------------------------


def seen_at(tick: Tick | None, changed: bool) -> Seen:
    if tick is None:
        return (0, None, None, None, changed)
    bid = None if tick.bid is None else price_of(tick.bid)
    ask = None if tick.ask is None else price_of(tick.ask)
    return (tick.time_ns, bid, ask, price_of(tick.last), changed)


def expected_steps(
    script: Script[Step], history: list[Tick], ticks: list[Tick]
) -> list[tuple[int, Seen]]:
    """The subscription step, one step per tick, and a delivery step (same time, same quote,
    serial unchanged) after each step that sent requests."""
    market: list[tuple[int, Tick | None]] = [(DAY_START_NS, history[-1] if history else None)]
    market += [(t.time_ns, t) for t in ticks]
    steps: list[tuple[int, Seen]] = []
    index = 0
    for time_ns, tick in market:
        steps.append((time_ns, seen_at(tick, True)))
        # Requests from the strategy at step k come in at step k + 1, without moving time.
        while index < len(script.steps) and script.steps[index].sent:
            steps.append((time_ns, seen_at(tick, False)))
            index += 1
        index += 1
    return steps


def check_steps(seed: int, script: Script[Step], history: list[Tick], ticks: list[Tick]) -> None:
    got = [(step.now_ns, step.seen) for step in script.steps]
    want = expected_steps(script, history, ticks)
    for index, (mine, theirs) in enumerate(zip(got, want, strict=False)):
        assert mine == theirs, f"seed {seed}, step {index}:\n  engine {mine}\n  model  {theirs}"
    assert len(got) == len(want), f"seed {seed}: engine {len(got)} steps, model {len(want)}"


SEEDS = list(range(30))


@pytest.mark.parametrize("seed", SEEDS)
def test_engine_matches_the_reference_model_on_ticks(empty_store: Store, seed: int) -> None:
    rng = random.Random(seed)
    history, ticks, after = random_ticks(rng)
    write_ticks(empty_store, history + ticks + after)
    script: Script[Step] = Script()
    result = Backtest(
        random_strategy(rng, script),
        date(2020, 1, 2),
        date(2020, 1, 2),
        init_balance=1e12,  # OPEN orders are never refused for funds
        data=empty_store.root,
    ).run()

    model = ReferenceModel(history)
    model.run(ticks, script.requests)

    outcomes = model.outcomes(errors=True)
    assert len(outcomes) > 100 and len(model.fills) > 40  # the seed exercises something
    assert sum(o[5] for o in outcomes) >= 3  # ... including rejections outside the sessions
    check_steps(seed, script, history, ticks)
    got_fills, want_fills = engine_fills(result), model.fills
    assert got_fills == want_fills, first_difference(seed, script.requests, got_fills, want_fills)
    got_orders, want_orders = engine_orders(result, errors=True), outcomes
    assert got_orders == want_orders, first_difference(
        seed, script.requests, got_orders, want_orders
    )
