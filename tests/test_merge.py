"""The merger: one market time per step, the documented tie-break, chunks, closing serials."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any

import pyarrow as pa

from backtest import Api, Backtest
from backtest.frame import RowTuple
from backtest.merge import Merger
from backtest.model import TICK
from backtest.serial import Event
from backtest.store import Store
from tests.conftest import ns, write_bars


class FakeSerial:
    """An async generator of event chunks that records whether it was closed."""

    def __init__(self, chunks: list[list[int]]) -> None:
        self.chunks = chunks
        self.closed = False

    async def events(self) -> AsyncIterator[Iterator[Event]]:
        try:
            for chunk in self.chunks:
                yield iter([(ts, 0, (ts,)) for ts in chunk])
        finally:
            self.closed = True


async def merge(
    serials: dict[tuple[str, int], FakeSerial],
) -> list[tuple[int, list[tuple[str, int, int]]]]:
    """Step a merger to the end; return (step ts, [(symbol, duration, event ts)...]) per step."""
    merger = Merger()
    applied: list[tuple[str, int, int]] = []

    def handler_for(symbol: str, duration: int) -> Any:
        def handle(ts: int, kind: int, row: RowTuple) -> None:
            assert row[0] == ts
            applied.append((symbol, duration, ts))

        return handle

    for (symbol, duration), serial in serials.items():
        await merger.add(symbol, duration, serial.events(), handler_for(symbol, duration))
    steps = []
    while merger.next_ts is not None:
        before = len(applied)
        if not merger.step_nowait():
            await merger.step()
        steps.append((applied[before][2], applied[before:]))
    return steps


def test_each_step_applies_exactly_one_timestamp_across_serials() -> None:
    steps = asyncio.run(
        merge({("A", 60): FakeSerial([[1, 3, 5]]), ("B", 60): FakeSerial([[2, 3, 4]])})
    )

    assert [ts for ts, _ in steps] == [1, 2, 3, 4, 5]
    assert steps[2][1] == [("A", 60, 3), ("B", 60, 3)]


def test_equal_timestamps_apply_ticks_first_then_by_duration_then_symbol() -> None:
    # Subscribed in the opposite order of the tie-break.
    serials = {
        ("B", 300): FakeSerial([[7]]),
        ("A", 300): FakeSerial([[7]]),
        ("Z", 60): FakeSerial([[7]]),
        ("Y", TICK): FakeSerial([[7]]),
    }

    steps = asyncio.run(merge(serials))

    assert steps == [(7, [("Y", 0, 7), ("Z", 60, 7), ("A", 300, 7), ("B", 300, 7)])]


def test_a_step_continues_across_a_chunk_boundary() -> None:
    # Two events at ts 2, split over two chunks of one serial: still one step.
    steps = asyncio.run(merge({("A", TICK): FakeSerial([[1, 2], [2, 3], [], [4]])}))

    assert [(ts, len(events)) for ts, events in steps] == [(1, 1), (2, 2), (3, 1), (4, 1)]


def test_exhausted_serials_are_closed() -> None:
    serials = {("A", 60): FakeSerial([[1]]), ("B", 60): FakeSerial([[1, 2]])}

    asyncio.run(merge(serials))

    assert serials[("A", 60)].closed and serials[("B", 60)].closed


def test_aclose_closes_serials_that_are_still_open() -> None:
    serial = FakeSerial([[1, 2, 3]])

    async def scenario() -> None:
        merger = Merger()
        await merger.add("A", 60, serial.events(), lambda ts, kind, row: None)
        await merger.step()
        await merger.aclose()

    asyncio.run(scenario())

    assert serial.closed


# --- the sequence a strategy observes ----------------------------------------------------


def write_ticks(store: Store, symbol: str, ticks: list[tuple[str, float]]) -> None:
    times = [ns(t) for t, _ in ticks]
    prices = [p for _, p in ticks]
    table = pa.table(
        {
            "datetime": times,
            "last_price": prices,
            "volume": [float(i + 1) for i in range(len(ticks))],
            "bid_price1": [p - 0.2 for p in prices],
            "bid_volume1": [3.0] * len(ticks),
            "ask_price1": [p + 0.2 for p in prices],
            "ask_volume1": [4.0] * len(ticks),
        }
    )
    store.write(symbol, TICK, table)


def test_strategy_observes_one_market_time_per_wait_update(empty_store: Store) -> None:
    a, b = "IF2003.IF", "IH2003.IF"
    write_bars(
        empty_store, a, 60,
        [("2020-01-02 09:30", 4000, 4001, 3999, 4000, 1),
         ("2020-01-02 09:31", 4000, 4002, 3998, 4001, 1)],
    )  # fmt: skip
    write_bars(empty_store, a, 300, [("2020-01-02 09:30", 4000, 4002, 3998, 4001, 2)])
    write_ticks(
        empty_store,
        b,
        [("2020-01-02 09:30:00.500", 3000.0), ("2020-01-02 09:31:00", 3000.2),
         ("2020-01-02 09:31:30", 3000.4)],
    )  # fmt: skip
    observed: list[tuple[str, list[str]]] = []

    async def strategy(api: Api) -> None:
        serials = {
            "A1m": api.get_kline_serial(a, 60, 2),
            "A5m": api.get_kline_serial(a, 300, 2),
            "Bticks": api.get_tick_serial(b, 2),
        }
        while True:
            await api.wait_update()
            changed = [name for name, serial in serials.items() if api.is_changing(serial)]
            observed.append((api.now.strftime("%m-%d %H:%M:%S.%f"), changed))

    result = Backtest(strategy, date(2020, 1, 2), date(2020, 1, 2), data=empty_store.root).run()

    assert observed == [
        ("12-31 18:00:00.000000", ["A1m", "A5m", "Bticks"]),  # subscriptions, time unmoved
        ("01-02 09:30:00.000000", ["A1m", "A5m"]),  # both bars open
        ("01-02 09:30:00.500000", ["Bticks"]),
        ("01-02 09:30:59.999999", ["A1m"]),  # the 1m bar closes
        ("01-02 09:31:00.000000", ["A1m", "Bticks"]),  # a tick and a bar open at once
        ("01-02 09:31:30.000000", ["Bticks"]),
        ("01-02 09:31:59.999999", ["A1m"]),
        ("01-02 09:34:59.999999", ["A5m"]),  # the 5m bar closes
    ]
    assert result.stats["trading_days"] == 1


def test_history_arrives_without_moving_time(empty_store: Store) -> None:
    write_bars(
        empty_store, "IF2003.IF", 60,
        [(f"2020-01-02 09:{m}", 4000 + m, 4002 + m, 3999 + m, 4001 + m, 1) for m in range(30, 36)],
    )  # fmt: skip
    seen: list[Any] = []

    async def strategy(api: Api) -> None:
        first = api.get_kline_serial("IF2003.IF", 60, 2)
        while True:
            await api.wait_update()
            if api.now_ns == ns("2020-01-02 09:33:00"):
                before = api.now_ns
                later = api.get_kline_serial("IF2003.IF", 60, 5)  # longer: more history
                await api.wait_update()
                seen.append(
                    (
                        api.now_ns == before,
                        api.is_changing(later),
                        later.to_numpy("close").tolist(),
                        first.to_numpy("close").tolist(),
                        later.to_numpy("id").tolist(),
                    )
                )

    Backtest(strategy, date(2020, 1, 2), date(2020, 1, 2), data=empty_store.root).run()

    # Only four bars exist up to 09:33, so the five-row view starts with padding; the 09:33 bar
    # is in progress, in its opening state (close = open = 4033, not yet 4034).
    [(same_time, changing, closes, short, ids)] = seen
    assert (same_time, changing) == (True, True)
    assert math.isnan(closes[0])
    assert closes[1:] == [4031.0, 4032.0, 4033.0, 4033.0]
    assert short == [4033.0, 4033.0]
    assert ids == [-1, 1_000_000, 1_000_001, 1_000_002, 1_000_003]
