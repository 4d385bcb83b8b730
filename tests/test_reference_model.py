"""Differential test: bar-mode quotes and default matching against a reference model.

Seeded random 1-minute bars of IF2003.IF (price tick 0.2) on 2020-01-02 are written to a scratch
store, and a strategy sends random orders (buy/sell OPEN, limit prices −5…+5 ticks from the last
price, market orders, FAK/FOK) and random cancels at random steps, recording what it sent. A
small reference model written here from DESIGN.md §5–7 alone — it imports nothing of the engine —
replays the bars and the requests and predicts:

- the steps the strategy sees: one per bar event (bar open at its start, bar close at start +
  60 s − 1 µs), plus one delivery step at the same time after every step that sent requests;
- the quote the strategy sees at each step (open ∓ tick at a bar's open, close ∓ tick at its
  close);
- every fill (time, order, direction, price, volume), the close event being matched after each of
  its three packets high ∓ tick, low ∓ tick, close ∓ tick;
- every order's final status, volume left and message (filled, cancelled, FAK/FOK cancelled,
  expired at settlement).

The model works in integer ticks; a price of n ticks is ``n / 5``, the exact grid float.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

import pytest

from backtest import Api, Backtest
from backtest.store import Store
from tests.conftest import Bar, ns, write_bars
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
    price_of,
    send_random_requests,
)

FIRST_BAR_NS = ns("2020-01-02 09:30")
MINUTE_NS = 60_000_000_000
CLOSE_AFTER_NS = MINUTE_NS - 1_000  # a bar closes 1 µs before its end


# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TickBar:
    """A 1-minute bar in ticks; ``start_ns`` is the bar's start."""

    start_ns: int
    open: int
    high: int
    low: int
    close: int


def random_bars(rng: random.Random) -> list[TickBar]:
    """09:30…11:29 (some minutes missing in some seeds) from a random walk near 4000."""
    drop = rng.choice([0.0, 0.0, 0.15])
    bars = []
    level = 4000 * TICKS_PER_YUAN
    for minute in range(120):
        if rng.random() < drop:
            continue
        open_ = level + rng.randint(-3, 3)
        close = open_ + rng.randint(-6, 6)
        high = max(open_, close) + rng.choice([0, 0, 1, 2, 3, 5])
        low = min(open_, close) - rng.choice([0, 0, 1, 2, 3, 5])
        bars.append(TickBar(FIRST_BAR_NS + minute * MINUTE_NS, open_, high, low, close))
        level = close
    return bars


def store_bars(bars: list[TickBar]) -> list[Bar]:
    rows: list[Bar] = []
    for bar in bars:
        minutes = (bar.start_ns - FIRST_BAR_NS) // MINUTE_NS + 9 * 60 + 30
        start = f"2020-01-02 {minutes // 60:02d}:{minutes % 60:02d}"
        assert ns(start) == bar.start_ns
        high, low = price_of(bar.high), price_of(bar.low)
        rows.append((start, price_of(bar.open), high, low, price_of(bar.close), 10.0))
    return rows


# --- what the strategy sent and saw ----------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One ``wait_update()`` as the strategy saw it, and how many requests it then sent."""

    now_ns: int
    bid: float
    ask: float
    last: float
    sent: int


def random_strategy(rng: random.Random, script: Script[Step]) -> Callable[[Api], Awaitable[None]]:
    """Acts at random steps (market or delivery) with random orders and cancels."""

    async def strategy(api: Api) -> None:
        quote = api.get_quote(SYMBOL)
        sent_ids: list[str] = []
        while True:
            await api.wait_update()
            now = api.now_ns
            before = len(script.requests)
            delivery = bool(script.steps) and script.steps[-1].now_ns == now
            if now >= FIRST_BAR_NS and rng.random() < (0.15 if delivery else 0.4):
                send_random_requests(api, rng, now, script.requests, sent_ids)
            script.steps.append(
                Step(
                    now,
                    quote.bid_price1,
                    quote.ask_price1,
                    quote.last_price,
                    len(script.requests) - before,
                )
            )

    return strategy


# --- the reference model ---------------------------------------------------------------------

Packet = tuple[int, int, int]
"""A quote update in ticks: (bid, ask, last)."""


class ReferenceModel(ModelBroker):
    """DESIGN.md §6–7 for one symbol quoted from 1-minute bars, in integer ticks."""

    def __init__(self) -> None:
        super().__init__()
        self.bid: int | None = None
        self.ask: int | None = None

    def sides(self) -> tuple[int | None, int | None]:
        return self.bid, self.ask

    @staticmethod
    def events(bars: list[TickBar]) -> list[tuple[int, list[Packet]]]:
        """Every event time and its quote packets: open ∓ tick; high, low, close ∓ tick."""
        events = []
        for bar in bars:
            events.append((bar.start_ns, [(bar.open - 1, bar.open + 1, bar.open)]))
            packets = [(p - 1, p + 1, bar.close) for p in (bar.high, bar.low, bar.close)]
            events.append((bar.start_ns + CLOSE_AFTER_NS, packets))
        return events

    def run(self, bars: list[TickBar], requests: list[Request]) -> None:
        """Every event, then the requests sent at its time (delivered before time moves on),
        then the day's settlement."""
        pending = list(requests)
        for time_ns, packets in self.events(bars):
            self.now = time_ns
            for bid, ask, _last in packets:
                self.bid, self.ask = bid, ask
                self.match_resting()
            self.deliver(pending)
        assert not pending, f"requests sent at no event time: {pending[:3]}"
        self.expire()

    def arrive(self, insert: Insert) -> None:
        order = self.orders[insert.order_id] = ModelOrder(insert, insert.volume)
        ticks = self.fill_price(order)
        if ticks is not None:
            self.fill(order, ticks)
        elif insert.limit is None:
            self.finish(order, "cancelled: market order could not fill at once")
        elif insert.advanced is not None:
            self.finish(order, f"cancelled: {insert.advanced} order could not fill at once")
        else:
            self.resting.append(order)


# --- comparison ------------------------------------------------------------------------------


def expected_quotes(bars: list[TickBar]) -> dict[int, tuple[float, float, float]]:
    """What the strategy sees at each event time: the event's last packet."""
    quotes = {}
    for time_ns, packets in ReferenceModel.events(bars):
        bid, ask, last = packets[-1]
        quotes[time_ns] = (price_of(bid), price_of(ask), price_of(last))
    return quotes


def check_steps(script: Script[Step], bars: list[TickBar]) -> None:
    """One step per event time, a delivery step (same time) after each step that sent requests,
    and the final quote of the latest event at every step."""
    quotes = expected_quotes(bars)
    event_times = list(quotes)
    market_times = []
    previous_ns, previous_sent = DAY_START_NS, 1  # get_quote before the first wait_update
    for index, step in enumerate(script.steps):
        delivery = previous_sent > 0
        if delivery:
            assert step.now_ns == previous_ns, f"step {index} should deliver at {previous_ns}"
        else:
            assert step.now_ns > previous_ns, f"step {index} should advance time"
            market_times.append(step.now_ns)
        if step.now_ns >= FIRST_BAR_NS:
            latest = max(t for t in event_times if t <= step.now_ns)
            assert (step.bid, step.ask, step.last) == quotes[latest], f"step {index}: {step}"
        previous_ns, previous_sent = step.now_ns, step.sent
    assert market_times == event_times


SEEDS = list(range(20))


@pytest.mark.parametrize("seed", SEEDS)
def test_engine_matches_the_reference_model(empty_store: Store, seed: int) -> None:
    rng = random.Random(seed)
    bars = random_bars(rng)
    write_bars(empty_store, SYMBOL, 60, store_bars(bars))
    script: Script[Step] = Script()
    result = Backtest(
        random_strategy(rng, script),
        date(2020, 1, 2),
        date(2020, 1, 2),
        init_balance=1e12,  # OPEN orders are never refused for funds
        data=empty_store.root,
    ).run()

    model = ReferenceModel()
    model.run(bars, script.requests)

    inserts = [r for r in script.requests if isinstance(r, Insert)]
    assert len(inserts) > 50 and len(model.fills) > 20  # the seed exercises something
    check_steps(script, bars)
    got_fills, want_fills = engine_fills(result), model.fills
    assert got_fills == want_fills, first_difference(seed, script.requests, got_fills, want_fills)
    got_orders, want_orders = engine_orders(result, errors=False), model.outcomes(errors=False)
    assert got_orders == want_orders, first_difference(
        seed, script.requests, got_orders, want_orders
    )
