"""The floor of any CPython engine with tqsdk's stepping: a toy engine that does only that.

Per bar the toy makes the two steps tqsdk's semantics give a strategy (the bar's open, then its
close; one step per tick), each one an awaited ``wait_update()`` that moves time, appends or
replaces the serial's newest row and sets a quote tuple. It has **no** broker, sessions,
trading days, price limits, change tracking, Parquet reading or history: nothing a real
backtest needs beyond stepping. Its time per bar is therefore a lower bound for an engine
written in Python with these semantics, and ``peer µs / toy µs`` bounds the ratio such an engine
could reach against a peer.

:func:`toy_us` runs the ``empty`` strategy (a loop on ``wait_update()``) or the ``lean`` one
(``LeanSignal`` on each closed bar or tick) over generated prices; :mod:`benchmarks.run` prints
the bound beside each mode's results.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import numpy as np

from backtest.serial import CLOSE, OPEN
from benchmarks.generate import PRICE_TICK, walk
from benchmarks.workloads import LeanSignal

Row = tuple[int, float, float, float, float, float]
Event = tuple[int, int, Row]


class _EndOfDataError(Exception):
    """The toy's data ended."""


class ToyEngine:
    """Steps through prepared events: one awaited step per event, nothing else."""

    def __init__(self, events: list[Event]) -> None:
        self._events: Iterator[Event] = iter(events)
        self.rows: list[Row] = []
        self.last_id = -1
        self.now_ns = 0
        self.quote: tuple[int, float, float, float, float, float] | None = None

    async def wait_update(self) -> bool:
        """One step: the next event becomes the newest row (open) or replaces it (close)."""
        event = next(self._events, None)
        if event is None:
            raise _EndOfDataError
        ts, kind, row = event
        self.now_ns = ts
        if kind == OPEN:
            self.rows.append(row)
            self.last_id += 1
            if len(self.rows) > 64:
                del self.rows[:-2]
        else:
            self.rows[-1] = row
        price = row[4]
        self.quote = (ts, price, price - PRICE_TICK, 1.0, price + PRICE_TICK, 1.0)
        return True


def toy_events(count: int, steps_per_item: int, seed: int = 7) -> list[Event]:
    """``count`` bars (``steps_per_item`` 2: open and close events) or ticks (1) of a walk."""
    events: list[Event] = []
    for i, price in enumerate(walk(np.random.default_rng(seed), count, 3000.0).tolist()):
        if steps_per_item == 2:
            events.append((2 * i, OPEN, (i, price, price, price, price, 0.0)))
        bar = (i, price, price + PRICE_TICK, price - PRICE_TICK, price, 10.0)
        events.append((2 * i + 1, CLOSE if steps_per_item == 2 else OPEN, bar))
    return events


async def _empty(engine: ToyEngine) -> None:
    wait_update = engine.wait_update
    while True:
        await wait_update()


async def _lean(engine: ToyEngine, signal: LeanSignal, bars: bool) -> None:
    wait_update, push, seen = engine.wait_update, signal.push, -1
    back = -2 if bars else -1  # bars: the bar before the new one has closed
    while True:
        await wait_update()
        if engine.last_id != seen:
            seen = engine.last_id
            if seen >= -1 - back:
                push(engine.rows[back][4])


def toy_us(mode: str, variant: str, count: int = 300_000, repeat: int = 3) -> float:
    """µs per bar (``mode`` "bars") or tick of the toy engine running ``variant``, best of
    ``repeat``; 0 for a variant the toy does not model."""
    if variant not in ("empty", "lean"):
        return 0.0
    bars = mode == "bars"
    events = toy_events(count, 2 if bars else 1)
    best = float("inf")
    for _ in range(repeat):
        engine = ToyEngine(events)
        strategy = _empty(engine) if variant == "empty" else _lean(engine, LeanSignal(), bars)
        started = time.perf_counter()
        with contextlib.suppress(_EndOfDataError):
            asyncio.run(strategy)
        best = min(best, time.perf_counter() - started)
    return best / count * 1e6
