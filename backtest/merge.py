"""Min-timestamp merge of serials: the only place simulated time advances (DESIGN.md §5).

The merger holds the next event of every serial in a heap keyed by
``(ts_ns, duration_s, symbol)``. **Tie-break**: events with equal timestamps are applied in
order of serial duration, ticks (0) first, then 1-minute, 5-minute … daily bars; among equal
durations, by symbol in string order. The order does not depend on the order of subscription,
so the same data always replays the same way.

One :meth:`Merger.step` applies every event at the smallest pending timestamp, across all
serials, refilling each serial from its generator (a serial may have several events at that
timestamp, e.g. two ticks in the same millisecond). With a single serial the heap is bypassed.

A serial's generator yields chunks (iterators) of events, one per Parquet batch; the merger
pulls events from the current chunk synchronously and awaits the generator only for the next
chunk.
"""

from __future__ import annotations

import heapq
from collections.abc import AsyncIterator, Callable, Iterator

from .frame import RowTuple
from .serial import Event

Handler = Callable[[int, int, RowTuple], None]
"""Applies one event: ``handler(ts_ns, kind, row)``."""


class _Source:
    __slots__ = ("chunk", "chunks", "duration_s", "event", "handler", "symbol")

    def __init__(
        self,
        symbol: str,
        duration_s: int,
        chunks: AsyncIterator[Iterator[Event]],
        handler: Handler,
    ) -> None:
        self.symbol = symbol
        self.duration_s = duration_s
        self.chunks = chunks
        self.chunk: Iterator[Event] = iter(())
        self.handler = handler
        self.event: Event | None = None  # the next event, not yet applied

    async def next_event(self) -> Event | None:
        """The next event, reading further chunks as needed; None at the end."""
        event = next(self.chunk, None)
        while event is None:
            try:
                self.chunk = await anext(self.chunks)
            except StopAsyncIteration:
                return None
            event = next(self.chunk, None)
        return event


# Heap items: (ts_ns, duration_s, symbol, source). (duration_s, symbol) is unique per serial,
# so comparisons never reach the source.
_Item = tuple[int, int, str, _Source]


class Merger:
    """Merges serial event streams in timestamp order, one market time per :meth:`step`.

    ``next_ts`` is the timestamp the next step will apply (None when every serial is done).
    """

    def __init__(self) -> None:
        self.next_ts: int | None = None
        self._heap: list[_Item] = []
        self._single: _Source | None = None  # the only serial, kept out of the heap
        self._partial = False  # step_nowait() stopped at the end of a chunk
        self._open: list[_Source] = []

    async def add(
        self,
        symbol: str,
        duration_s: int,
        chunks: AsyncIterator[Iterator[Event]],
        handler: Handler,
    ) -> None:
        """Start merging a serial; its first event is read now (without applying it)."""
        source = _Source(symbol, duration_s, chunks, handler)
        self._open.append(source)
        source.event = await source.next_event()
        if source.event is None:
            await self._close(source)
            return
        if self._single is None and not self._heap:
            self._single = source
        else:
            assert not self._partial, "serials are added between steps"
            if self._single is not None:
                self._push(self._single)
                self._single = None
            self._push(source)
        self._update_next_ts()

    def _push(self, source: _Source) -> None:
        assert source.event is not None
        heapq.heappush(self._heap, (source.event[0], source.duration_s, source.symbol, source))

    def _update_next_ts(self) -> None:
        single = self._single
        if single is not None:
            self.next_ts = single.event[0] if single.event is not None else None
        else:
            self.next_ts = self._heap[0][0] if self._heap else None

    def step_nowait(self) -> bool:
        """Apply the next step if that needs no read from a generator.

        Returns False when it could not finish the step (several serials, or the current chunk
        of events ran out); then ``await step()`` finishes it. This keeps the common case — one
        serial, inside a chunk — free of coroutine overhead.
        """
        single = self._single
        if single is None or self._partial:
            return False
        ts, kind, row = single.event  # type: ignore[misc]
        handler = single.handler
        handler(ts, kind, row)
        for event in single.chunk:
            if event[0] != ts:
                single.event = event
                self.next_ts = event[0]
                return True
            handler(ts, event[1], event[2])
        self._partial = True  # the chunk ran out: more events at ts may follow in the next
        return False

    async def step(self) -> int | None:
        """Apply every event at the smallest pending timestamp; return it (None if done)."""
        single = self._single
        if single is not None:
            assert single.event is not None
            ts = single.event[0]
            if self._partial:  # step_nowait applied what its chunk held
                self._partial = False
                event = await single.next_event()
            else:
                event = single.event
            while event is not None and event[0] == ts:
                single.handler(ts, event[1], event[2])
                event = next(single.chunk, None) or await single.next_event()
            single.event = event
            if event is None:
                self._single = self.next_ts = None
                await self._close(single)
            else:
                self.next_ts = event[0]
            return ts
        heap = self._heap
        if not heap:
            return None
        ts = heap[0][0]
        while heap and heap[0][0] == ts:
            source = heapq.heappop(heap)[3]
            event = source.event
            while event is not None and event[0] == ts:
                source.handler(ts, event[1], event[2])
                event = next(source.chunk, None) or await source.next_event()
            source.event = event
            if event is None:
                await self._close(source)
            else:
                self._push(source)
        if len(heap) == 1:
            self._single = heap.pop()[3]
        self._update_next_ts()
        return ts

    async def _close(self, source: _Source) -> None:
        self._open.remove(source)
        aclose = getattr(source.chunks, "aclose", None)
        if aclose is not None:
            await aclose()

    async def aclose(self) -> None:
        """Close every serial still open (their generators' ``finally`` blocks run).

        All are closed even if one fails; the first failure is raised afterwards.
        """
        self._heap.clear()
        self._single = None
        self.next_ts = None
        failure: BaseException | None = None
        while self._open:
            source = self._open.pop()
            aclose = getattr(source.chunks, "aclose", None)
            if aclose is None:
                continue
            try:
                await aclose()
            except Exception as exc:  # close the rest before raising
                failure = failure or exc
        if failure is not None:
            raise failure
