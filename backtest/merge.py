"""Min-timestamp merge of serials: the only place simulated time advances (DESIGN.md §5).

The merger holds the next event of every serial in a heap keyed by
``(ts_ns, duration_s, symbol)``. **Tie-break**: events with equal timestamps are applied in
order of serial duration, ticks (0) first, then 1-minute, 5-minute … daily bars; among equal
durations, by symbol in string order. The order does not depend on the order of subscription,
so the same data always replays the same way.

One :meth:`Merger.step` applies every event at the smallest pending timestamp, across all
serials, refilling each serial from its generator (a serial may have several events at that
timestamp, e.g. two ticks in the same millisecond). With a single serial the heap is bypassed.
"""

from __future__ import annotations

import heapq
from collections.abc import AsyncIterator, Callable

from .frame import RowTuple
from .serial import Event

Handler = Callable[[int, int, RowTuple], None]
"""Applies one event: ``handler(ts_ns, kind, row)``."""


class _Source:
    __slots__ = ("duration_s", "events", "handler", "next", "symbol")

    def __init__(
        self, symbol: str, duration_s: int, events: AsyncIterator[Event], handler: Handler
    ) -> None:
        self.symbol = symbol
        self.duration_s = duration_s
        self.events = events
        self.next = events.__anext__
        self.handler = handler


# Heap items: (ts_ns, duration_s, symbol, kind, row, source). (duration_s, symbol) is unique per
# serial, so comparisons never reach the row or the source.
_Item = tuple[int, int, str, int, RowTuple, _Source]


class Merger:
    """Merges serial event streams in timestamp order, one market time per :meth:`step`."""

    def __init__(self) -> None:
        self._heap: list[_Item] = []
        self._open: list[_Source] = []

    @property
    def next_ts(self) -> int | None:
        """Timestamp of the next step, or None when every serial is exhausted."""
        heap = self._heap
        return heap[0][0] if heap else None

    async def add(
        self, symbol: str, duration_s: int, events: AsyncIterator[Event], handler: Handler
    ) -> None:
        """Start merging a serial; its first event is read now (without applying it)."""
        source = _Source(symbol, duration_s, events, handler)
        self._open.append(source)
        await self._refill(source)

    async def _refill(self, source: _Source) -> None:
        try:
            ts, kind, row = await source.next()
        except StopAsyncIteration:
            await self._close(source)
            return
        heapq.heappush(self._heap, (ts, source.duration_s, source.symbol, kind, row, source))

    async def step(self) -> int | None:
        """Apply every event at the smallest pending timestamp; return it (None if done)."""
        heap = self._heap
        if not heap:
            return None
        ts = heap[0][0]
        if len(heap) == 1:
            # Fast path: one serial, no heap operations.
            _, _, _, kind, row, source = heap[0]
            handler, fetch = source.handler, source.next
            while True:
                handler(ts, kind, row)
                try:
                    next_ts, kind, row = await fetch()
                except StopAsyncIteration:
                    heap.clear()
                    await self._close(source)
                    return ts
                if next_ts != ts:
                    heap[0] = (next_ts, source.duration_s, source.symbol, kind, row, source)
                    return ts
        while heap and heap[0][0] == ts:
            _, _, _, kind, row, source = heapq.heappop(heap)
            source.handler(ts, kind, row)
            await self._refill(source)
        return ts

    async def _close(self, source: _Source) -> None:
        self._open.remove(source)
        aclose = getattr(source.events, "aclose", None)
        if aclose is not None:
            await aclose()

    async def aclose(self) -> None:
        """Close every serial still open (their generators' ``finally`` blocks run).

        All are closed even if one fails; the first failure is raised afterwards.
        """
        self._heap.clear()
        failure: BaseException | None = None
        while self._open:
            source = self._open.pop()
            aclose = getattr(source.events, "aclose", None)
            if aclose is None:
                continue
            try:
                await aclose()
            except Exception as exc:  # close the rest before raising
                failure = failure or exc
        if failure is not None:
            raise failure
