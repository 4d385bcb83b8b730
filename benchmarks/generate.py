"""Seeded synthetic market data for the benchmarks: one symbol's 1-minute bars or ticks.

The prices are a random walk on the IF price tick (0.2), timestamped inside IF's trading
sessions (09:30–11:30, 13:00–15:00) on real SSE trading days, written to a Parquet store with
:class:`backtest.Store`. The same seed and size always give the same data.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from backtest.calendar import TradingCalendar
from backtest.model import TICK
from backtest.store import Store, default_store_path
from backtest.times import NS_PER_SECOND, local_midnight_ns

SYMBOL: Final = "IF9999.IF"
"""The generated symbol (an IF contract code that never existed)."""
PRICE_TICK: Final = 0.2
BARS_PER_DAY: Final = 240
TICKS_PER_DAY: Final = 28_800  # one tick every 0.5 s, like the real IF ticks
FIRST_DAY: Final = date(2006, 1, 4)
_MORNING: Final = (9 * 3600 + 30 * 60, 11 * 3600 + 30 * 60)
_AFTERNOON: Final = (13 * 3600, 15 * 3600)


def trading_days(count: int) -> list[date]:
    """The first ``count`` trading days from 2006 on, from the sample store's calendar."""
    calendar = Store(default_store_path()).calendar()
    assert calendar is not None
    days = calendar.trading_days(FIRST_DAY, calendar.last_day)
    if len(days) < count:
        raise ValueError(f"the calendar has only {len(days)} trading days after {FIRST_DAY}")
    return days[:count]


def _session_offsets(step_s: float, per_day: int) -> npt.NDArray[np.int64]:
    """Offsets (ns after midnight) of ``per_day`` evenly spaced moments in the two sessions."""
    morning = np.arange(_MORNING[0], _MORNING[1], step_s)
    afternoon = np.arange(_AFTERNOON[0], _AFTERNOON[1], step_s)
    offsets = np.concatenate([morning, afternoon])[:per_day]
    return (offsets * NS_PER_SECOND).astype(np.int64)


def walk(rng: np.random.Generator, count: int, start: float) -> npt.NDArray[np.float64]:
    """``count`` prices of a random walk on the price tick from ``start``: −3 … +3 ticks a step."""
    steps = rng.integers(-3, 4, size=count)  # -3..+3 ticks
    ticks = np.round(start / PRICE_TICK) + np.cumsum(steps)
    return np.asarray(ticks * PRICE_TICK, dtype=np.float64).round(1)


def _times(days: list[date], offsets: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    midnights = np.array([local_midnight_ns(d) for d in days], dtype=np.int64)
    return (midnights[:, None] + offsets[None, :]).ravel()


def _table(columns: dict[str, npt.NDArray[Any]]) -> pa.Table:
    return pa.table({name: pa.array(values) for name, values in columns.items()})


def bar_chunks(count: int, seed: int = 7, chunk_days: int = 250) -> Iterator[pa.Table]:
    """``count`` 1-minute bars as tables of up to ``chunk_days`` trading days each."""
    rng = np.random.default_rng(seed)
    days = trading_days(-(-count // BARS_PER_DAY))
    offsets = _session_offsets(60, BARS_PER_DAY)
    last = 4000.0
    produced = 0
    for first in range(0, len(days), chunk_days):
        times = _times(days[first : first + chunk_days], offsets)[: count - produced]
        closes = walk(rng, len(times), last)
        opens = np.concatenate([[last], closes[:-1]])
        wick = rng.integers(0, 3, size=(2, len(times))) * PRICE_TICK
        highs = (np.maximum(opens, closes) + wick[0]).round(1)
        lows = (np.minimum(opens, closes) - wick[1]).round(1)
        volume = rng.integers(1, 500, size=len(times)).astype(np.float64)
        last = float(closes[-1])
        produced += len(times)
        yield _table(
            {
                "datetime": times, "open": opens, "high": highs, "low": lows, "close": closes,
                "volume": volume, "open_oi": np.full(len(times), 50_000.0),
                "close_oi": np.full(len(times), 50_000.0),
            }
        )  # fmt: skip


def tick_chunks(count: int, seed: int = 7, chunk_days: int = 20) -> Iterator[pa.Table]:
    """``count`` level-1 ticks as tables of up to ``chunk_days`` trading days each."""
    rng = np.random.default_rng(seed)
    days = trading_days(-(-count // TICKS_PER_DAY))
    offsets = _session_offsets(0.5, TICKS_PER_DAY)
    last = 4000.0
    produced = 0
    cumulative = 0.0
    for first in range(0, len(days), chunk_days):
        times = _times(days[first : first + chunk_days], offsets)[: count - produced]
        size = len(times)
        prices = walk(rng, size, last)
        # Bid and ask on the price tick, one or two ticks apart, the last price between them
        # (inclusive); halving a 1-tick spread would put them off the tick.
        spread = rng.integers(1, 3, size=size)
        bids = ((np.round(prices / PRICE_TICK) - spread // 2) * PRICE_TICK).round(1)
        asks = (bids + spread * PRICE_TICK).round(1)
        traded = rng.integers(0, 20, size=size).astype(np.float64)
        volumes = cumulative + np.cumsum(traded)
        cumulative = float(volumes[-1])
        last = float(prices[-1])
        produced += size
        yield _table(
            {
                "datetime": times, "last_price": prices, "volume": volumes,
                "bid_price1": bids, "bid_volume1": traded + 1,
                "ask_price1": asks, "ask_volume1": traded + 2,
                "open_interest": np.full(size, 50_000.0),
            }
        )  # fmt: skip


def write_store(root: Path, bars: int = 0, ticks: int = 0, seed: int = 7) -> Store:
    """Create a store at ``root`` with the generated data and the sample calendar."""
    store = Store.create(root)
    sample = Store(default_store_path())
    calendar = sample.calendar()
    assert calendar is not None
    store.write_calendar(calendar.days())
    store.write_instruments(
        {
            SYMBOL: {
                "name": "benchmark IF", "product_class": "FUTURE", "product": "IF",
                "price_tick": PRICE_TICK, "volume_multiple": 300.0,
                "sessions": "09:30-11:30,13:00-15:00", "margin_ratio_long": 0.12,
                "margin_ratio_short": 0.12, "commission_unit": "turnover",
                "commission_open": 0.000023, "commission_close": 0.000023,
                "commission_close_today": 0.000345,
            }
        }
    )  # fmt: skip
    for table in bar_chunks(bars, seed) if bars else ():
        store.write(SYMBOL, 60, table)
    for table in tick_chunks(ticks, seed) if ticks else ():
        store.write(SYMBOL, TICK, table)
    return store


def calendar_span(store: Store, duration_s: int) -> tuple[date, date]:
    """First and last trading day holding data of the generated symbol."""
    calendar: TradingCalendar | None = store.calendar()
    assert calendar is not None
    files = sorted(store.root.glob("klines/1m/*/*.parquet" if duration_s else "ticks/*/*/*"))
    first = pq.read_table(files[0], columns=["datetime"]).column(0)[0].as_py().date()
    last = pq.read_table(files[-1], columns=["datetime"]).column(0)[-1].as_py().date()
    return first, last
