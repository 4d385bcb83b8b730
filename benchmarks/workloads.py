"""The benchmark workloads: one double moving-average strategy, written for three engines.

Run by :mod:`benchmarks.run`, once per (engine, mode, variant) in a fresh process::

    python -m benchmarks.workloads --engine ours --mode bars --variant lean \\
        --store benchmarks/.cache/bars-1000000-seed7-<hash> --count 1000000 --out result.json

The child writes one JSON object (:class:`Measurement`) to ``--out``; peak RSS is the child's own
high-water mark (``VmHWM``), so it is per engine and includes the interpreter and every import.

**The signal** (identical on every engine): after each closed bar (bar mode) or each tick (tick
mode) with at least ``SLOW`` prices seen, ``fast`` = mean of the last ``FAST`` (10) prices and
``slow`` = mean of the last ``SLOW`` (30); the target position is +1 lot when fast > slow, −1 when
fast < slow, unchanged on a tie (|fast − slow| < ``TIE``). Generated prices lie on the 0.2 price
tick, so a real difference is a multiple of 0.2/30 ≈ 0.0067 and ``TIE`` = 0.0017 separates exact
ties from rounding noise: every engine and variant sees exactly the same signal sequence whatever
its summation order. A *signal* is a change of the target (the first one, from 0, included).

**Orders**: when the target changes, close the opposite lot (if any) and open one lot toward
the target. Ours: limit orders at the quote's ask (buys) or bid (sells); vnpy: limit orders at
the bar close (bars) or at the tick's ask/bid (ticks); backtesting.py: one market order for the
difference (filled at the next bar's open). A peer whose order did not fill by the next bar/tick
cancels it and re-sends it at the new price until the position equals the target.

**Variants**:

- ``idiomatic``: each engine's usual data path. Ours: ``klines.to_numpy("close")`` (the last row
  is the bar in progress, so the window is ``[:-1]``) and ``ticks.to_numpy("last_price")``; vnpy:
  ``ArrayManager(30)`` updated per bar, or a 30-price numpy array shifted per tick the same way;
  backtesting.py: two ``self.I(...)`` indicators precomputed over the whole series. The SMA is
  the same numpy function everywhere: ``values[-n:].mean()`` for the last value, and the mean of
  each sliding window (:func:`rolling_sma`) for backtesting.py's precomputed indicators.
- ``lean``: the strategy keeps pure-Python moving sums (:class:`LeanSignal`) and reads one price
  per bar or tick. Ours detects a new bar/tick by ``klines.last_id`` / ``ticks.last_id`` (one
  attribute read per step) and reads the closed bar's close with
  ``klines.to_numpy("close").item(-2)``, which measured cheaper than ``klines.iloc[-2].close``
  (that builds a ``Row`` per call) and returns a Python float (``[-2]`` would return a
  ``numpy.float64``, whose arithmetic is slower); the tick's price it reads as
  ``quote.last_price`` (with ticks subscribed the tick is the quote: one property read, like
  vnpy's ``tick.last_price``; ``ticks.to_numpy("last_price").item(-1)`` measured about 1.4 µs
  more per tick, a numpy view per step).
- ``empty`` (opt-in): no strategy, the data is only consumed (ours: a loop on ``wait_update()``;
  vnpy: an empty ``on_bar``/``on_tick``; backtesting.py: an empty ``next``): each engine's floor.

**Phases** (seconds, ``time.perf_counter``):

- ``load``: ours, from constructing ``Backtest`` to the first bar/tick delivered to the strategy
  (opening the store, reading the calendar and instruments, subscribing, reading the first
  Parquet batch); the rest of the data streams in batches during ``run``. Peers: reading the
  same Parquet files with pyarrow and building their inputs (``BarData``/``TickData`` lists,
  a pandas DataFrame), plus engine setup.
- ``run``: the event loop, first bar/tick to last. Throughput = N / run.
- ``post``: building results. Ours: from the end of data to ``Backtest.run()`` returning
  (settlement of the last day, trades/orders/daily frames, statistics); vnpy:
  ``calculate_result()`` and ``calculate_statistics()``; backtesting.py: ``Backtest.run()`` from
  its call of ``compute_stats`` on (wrapped to note the time, nothing per bar).

Peers get naive ``datetime`` objects in Beijing time (vnpy's ``BacktestingEngine`` only takes
their ``.date()``) and backtesting.py a naive ``DatetimeIndex``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import resource
import sys
import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

import backtest
from backtest import Api, Backtest, BacktestFinished, Store
from backtest.frame import SerialFrame
from benchmarks.generate import PRICE_TICK, SYMBOL, calendar_span, walk

FAST: Final = 10
SLOW: Final = 30
TIE: Final = PRICE_TICK / SLOW / 4
"""Half-width of a tie: |fast − slow| below it keeps the target (see the module docstring)."""
INIT_BALANCE: Final = 100_000_000.0
COMMISSION_RATE: Final = 0.000023
"""Commission on turnover, as the generated instrument's open/close rate."""
MULTIPLIER: Final = 300.0
VNPY_SYMBOL: Final = "IF9999.CFFEX"
BEIJING_OFFSET_NS: Final = 8 * 3600 * 1_000_000_000

ENGINES: Final = ("ours", "vnpy", "backtesting")
MODES: Final = ("bars", "ticks")
VARIANTS: Final = ("idiomatic", "lean")
"""The variants run by default."""
ALL_VARIANTS: Final = (*VARIANTS, "empty")
"""``empty`` (opt-in) consumes the data without a strategy: each engine's floor."""

FloatArray = npt.NDArray[np.float64]


# --- the shared signal ----------------------------------------------------------------------


def decide(fast: float, slow: float, target: int) -> int:
    """The target position (+1, −1) for these averages; ``target`` unchanged on a tie."""
    difference = fast - slow
    if difference > TIE:
        return 1
    if difference < -TIE:
        return -1
    return target


def sma(values: FloatArray, n: int) -> float:
    """The idiomatic SMA: numpy mean of the last ``n`` values."""
    return float(values[-n:].mean())


def rolling_sma(values: Sequence[float] | FloatArray, n: int) -> FloatArray:
    """:func:`sma` at every position (NaN before ``n`` values): the mean of each window."""
    array = np.asarray(values, dtype=np.float64)
    out = np.full(len(array), math.nan)
    if len(array) >= n:
        out[n - 1 :] = np.lib.stride_tricks.sliding_window_view(array, n).mean(axis=-1)
    return out


class LeanSignal:
    """The lean variant's signal: pure-Python moving sums of the last FAST and SLOW prices.

    ``push(price)`` costs a few float operations; it returns True when the target changed.
    """

    __slots__ = ("count", "fast_sum", "prices", "signals", "slow_sum", "target")

    def __init__(self) -> None:
        self.prices = [0.0] * SLOW  # ring buffer: price number k is at k % SLOW
        self.count = 0
        self.fast_sum = 0.0
        self.slow_sum = 0.0
        self.target = 0
        self.signals = 0

    def push(self, price: float) -> bool:
        """Add the next price; True if the target changed."""
        prices, count = self.prices, self.count
        self.fast_sum += price - (prices[(count - FAST) % SLOW] if count >= FAST else 0.0)
        self.slow_sum += price - prices[count % SLOW]  # 0.0 until SLOW prices were seen
        prices[count % SLOW] = price
        self.count = count = count + 1
        if count < SLOW:
            return False
        want = decide(self.fast_sum / FAST, self.slow_sum / SLOW, self.target)
        if want == self.target:
            return False
        self.target = want
        self.signals += 1
        return True


def signal_cost_us(variant: str, count: int = 20_000, repeat: int = 5) -> float:
    """µs per bar/tick of the signal code every engine runs for ``variant``, with no engine.

    ``idiomatic``: ``decide(sma(w, FAST), sma(w, SLOW), target)`` on a ``SLOW``-price window
    (what every idiomatic strategy computes per bar or tick); ``lean``: ``LeanSignal.push``;
    ``empty``: 0. Best of ``repeat`` timings of ``count`` calls each, loop overhead included
    (every engine pays a loop too).

    A zero-cost engine running the same strategy would take this long per bar/tick, so no
    engine can beat a peer by more than ``peer µs / signal_cost_us`` on this workload: the
    benchmark's *ceiling* ratio, measured in the same run as the engines.
    """
    if variant not in ("idiomatic", "lean"):
        return 0.0
    prices = walk(np.random.default_rng(7), count + SLOW, 3000.0).tolist()
    idiomatic = variant == "idiomatic"
    windows = [np.array(prices[i : i + SLOW]) for i in range(count)] if idiomatic else []
    best = math.inf
    for _ in range(repeat):
        if idiomatic:
            started = time.perf_counter()
            target = 0
            for window in windows:
                target = decide(sma(window, FAST), sma(window, SLOW), target)
        else:
            push = LeanSignal().push
            started = time.perf_counter()
            for price in prices[:count]:
                push(price)
        best = min(best, time.perf_counter() - started)
    return best / count * 1e6


# --- what a run reports ---------------------------------------------------------------------


@dataclass
class Measurement:
    """One run of one engine on one workload (serialized as the child's JSON)."""

    engine: str
    mode: str
    variant: str
    count: int
    load_s: float = 0.0
    run_s: float = 0.0
    post_s: float = 0.0
    base_rss_mb: float = 0.0
    """Peak RSS after the imports, before any data."""
    rss_loaded_mb: float = 0.0
    """RSS when the run phase starts."""
    rss_ran_mb: float = 0.0
    """RSS when the run phase ends."""
    peak_rss_mb: float = 0.0
    """Peak RSS of the whole child (``VmHWM``, see :func:`peak_rss_mb`)."""
    engine_digest: str = ""
    """Ours: hash of ``backtest/*.py`` when the run started (the engine may change between runs)."""
    signals: int = 0
    fills: int = 0
    final_pos: int = 0
    final_target: int = 0
    gross_points: float = 0.0
    """Σ fills of (sell − buy) price × lots, plus the open position at the last price."""
    net_pnl: float = math.nan
    """The engine's own net P&L after commission (units differ: see the run's notes)."""
    notes: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        """Bars (ticks) per second of the ``run`` phase."""
        return self.count / self.run_s if self.run_s > 0 else 0.0


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MiB: ``VmHWM`` of /proc/self/status.

    Not ``ru_maxrss``: Linux carries it over ``exec`` from the forked copy of the parent, so a
    child of a 300 MB harness would never report less than 300 MB. ``VmHWM`` belongs to the
    address space, which ``exec`` replaces. ``ru_maxrss`` is the fallback without /proc.
    """
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """Resident set size of this process now, MiB (0 where /proc is missing)."""
    try:
        resident_pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return resident_pages * resource.getpagesize() / 2**20


def engine_digest() -> str:
    """A short hash of our engine's sources (``backtest/*.py``)."""
    digest = hashlib.sha256()
    for path in sorted(Path(backtest.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


def gross_points(fills: Sequence[tuple[int, float, float]], last_price: float) -> float:
    """Gross P&L in price points per unit: fills are (side +1 buy / −1 sell, price, lots)."""
    cash = sum(-side * price * lots for side, price, lots in fills)
    position = sum(side * lots for side, _, lots in fills)
    return cash + position * last_price


# --- our engine -----------------------------------------------------------------------------


@dataclass
class _Marks:
    """What our strategies record while running (one instance per run)."""

    first_data: float = 0.0
    finished: float = 0.0
    rss_loaded_mb: float = 0.0
    rss_ran_mb: float = 0.0
    signals: int = 0
    target: int = 0
    last_price: float = math.nan
    position: Any = None

    def loaded(self) -> None:
        """The first bar/tick reached the strategy: the run phase starts."""
        self.first_data = time.perf_counter()
        self.rss_loaded_mb = current_rss_mb()

    def ran(self) -> None:
        """The data ended: the run phase ends."""
        self.finished = time.perf_counter()
        self.rss_ran_mb = current_rss_mb()


def _trade_toward(api: Api, position: Any, quote: Any, want: int) -> None:
    """Orders bringing a −1/0/+1 position to ``want``: close the opposite lot, open one."""
    if want > 0:
        price = quote.ask_price1
        if position.pos_short:
            api.insert_order(SYMBOL, "BUY", "CLOSE", position.pos_short, limit_price=price)
        api.insert_order(SYMBOL, "BUY", "OPEN", 1, limit_price=price)
    else:
        price = quote.bid_price1
        if position.pos_long:
            api.insert_order(SYMBOL, "SELL", "CLOSE", position.pos_long, limit_price=price)
        api.insert_order(SYMBOL, "SELL", "OPEN", 1, limit_price=price)


def _ours_bars_idiomatic(marks: _Marks) -> Callable[[Api], Awaitable[None]]:
    async def strategy(api: Api) -> None:
        klines = api.get_kline_serial(SYMBOL, 60, data_length=SLOW + 1)
        quote = api.get_quote(SYMBOL)
        position = marks.position = api.get_position(SYMBOL)
        while klines.last_id < 0:
            await api.wait_update()
        marks.loaded()
        target = 0
        try:
            while True:
                await api.wait_update()
                if api.is_changing(klines.iloc[-1], "datetime") and klines.last_id >= SLOW:
                    closes = klines.to_numpy("close")[:-1]  # the last SLOW closed bars
                    want = decide(sma(closes, FAST), sma(closes, SLOW), target)
                    if want != target:
                        target = want
                        marks.signals += 1
                        _trade_toward(api, position, quote, want)
        except BacktestFinished:
            marks.ran()
            closes = klines.to_numpy("close")  # the last bar has closed too
            want = decide(sma(closes, FAST), sma(closes, SLOW), target)
            marks.signals += want != target
            marks.target, marks.last_price = target, float(closes[-1])
            raise

    return strategy


def _ours_bars_lean(marks: _Marks) -> Callable[[Api], Awaitable[None]]:
    async def strategy(api: Api) -> None:
        klines = api.get_kline_serial(SYMBOL, 60, data_length=2)
        quote = api.get_quote(SYMBOL)
        position = marks.position = api.get_position(SYMBOL)
        wait_update, to_numpy = api.wait_update, klines.to_numpy
        signal = LeanSignal()
        while klines.last_id < 0:
            await wait_update()
        marks.loaded()
        seen = klines.last_id
        try:
            while True:
                await wait_update()
                if klines.last_id != seen:  # a bar opened: the one before it has closed
                    seen = klines.last_id
                    if signal.push(to_numpy("close").item(-2)):
                        _trade_toward(api, position, quote, signal.target)
        except BacktestFinished:
            marks.ran()
            last = to_numpy("close").item(-1)
            signal.push(last)  # the last bar has closed too
            marks.signals, marks.target, marks.last_price = signal.signals, signal.target, last
            raise

    return strategy


def _ours_ticks_idiomatic(marks: _Marks) -> Callable[[Api], Awaitable[None]]:
    async def strategy(api: Api) -> None:
        ticks = api.get_tick_serial(SYMBOL, data_length=SLOW)
        quote = api.get_quote(SYMBOL)
        position = marks.position = api.get_position(SYMBOL)
        while ticks.last_id < 0:
            await api.wait_update()
        marks.loaded()
        target = 0
        if ticks.last_id >= SLOW - 1:  # a first tick arrived already (its step is over)
            prices = ticks.to_numpy("last_price")
            target = decide(sma(prices, FAST), sma(prices, SLOW), target)
            marks.signals += target != 0
        try:
            while True:
                await api.wait_update()
                if api.is_changing(ticks.iloc[-1], "datetime") and ticks.last_id >= SLOW - 1:
                    prices = ticks.to_numpy("last_price")
                    want = decide(sma(prices, FAST), sma(prices, SLOW), target)
                    if want != target:
                        target = want
                        marks.signals += 1
                        _trade_toward(api, position, quote, want)
        except BacktestFinished:
            marks.ran()
            marks.target, marks.last_price = target, float(ticks.to_numpy("last_price")[-1])
            raise

    return strategy


def _ours_ticks_lean(marks: _Marks) -> Callable[[Api], Awaitable[None]]:
    async def strategy(api: Api) -> None:
        # data_length=1 would do, but at 5bb4638 to_numpy() raised IndexError on such a serial
        # once its buffer trimmed old rows; 2 works with and without that fix.
        ticks = api.get_tick_serial(SYMBOL, data_length=2)
        quote = api.get_quote(SYMBOL)
        position = marks.position = api.get_position(SYMBOL)
        wait_update, to_numpy = api.wait_update, ticks.to_numpy
        signal = LeanSignal()
        while ticks.last_id < 0:
            await wait_update()
        marks.loaded()
        seen = ticks.last_id
        signal.push(quote.last_price)
        try:
            while True:
                await wait_update()
                if ticks.last_id != seen:  # a new tick (not an order-delivery step)
                    seen = ticks.last_id
                    if signal.push(quote.last_price):  # the tick is the quote
                        _trade_toward(api, position, quote, signal.target)
        except BacktestFinished:
            marks.ran()
            marks.signals, marks.target = signal.signals, signal.target
            marks.last_price = to_numpy("last_price").item(-1)
            raise

    return strategy


def _ours_empty(mode: str) -> Callable[[_Marks], Callable[[Api], Awaitable[None]]]:
    def make(marks: _Marks) -> Callable[[Api], Awaitable[None]]:
        async def strategy(api: Api) -> None:
            serial: SerialFrame
            if mode == "bars":
                serial, column = api.get_kline_serial(SYMBOL, 60, data_length=2), "close"
            else:
                serial, column = api.get_tick_serial(SYMBOL, data_length=2), "last_price"
            marks.position = api.get_position(SYMBOL)
            wait_update = api.wait_update
            while serial.last_id < 0:
                await wait_update()
            marks.loaded()
            try:
                while True:
                    await wait_update()
            except BacktestFinished:
                marks.ran()
                marks.last_price = serial.to_numpy(column).item(-1)
                raise

        return strategy

    return make


_OURS = {
    ("bars", "empty"): _ours_empty("bars"),
    ("ticks", "empty"): _ours_empty("ticks"),
    ("bars", "idiomatic"): _ours_bars_idiomatic,
    ("bars", "lean"): _ours_bars_lean,
    ("ticks", "idiomatic"): _ours_ticks_idiomatic,
    ("ticks", "lean"): _ours_ticks_lean,
}


def run_ours(mode: str, variant: str, store_dir: Path, count: int) -> Measurement:
    """Our engine through its public API: ``Backtest(strategy, ...).run()``."""
    result = Measurement("ours", mode, variant, count, base_rss_mb=peak_rss_mb())
    result.engine_digest = engine_digest()
    marks = _Marks()
    strategy = _OURS[mode, variant](marks)
    started = time.perf_counter()
    store = Store(store_dir)
    first, last = calendar_span(store, 60 if mode == "bars" else 0)
    backtest = Backtest(
        strategy, start=first, end=last, init_balance=INIT_BALANCE, data=store_dir
    ).run()
    ended = time.perf_counter()
    result.load_s = marks.first_data - started
    result.run_s = marks.finished - marks.first_data
    result.post_s = ended - marks.finished
    result.rss_loaded_mb, result.rss_ran_mb = marks.rss_loaded_mb, marks.rss_ran_mb
    result.peak_rss_mb = peak_rss_mb()
    trades = backtest.trades
    sides = np.where(trades["direction"].to_numpy() == "BUY", 1, -1).tolist()
    fills = list(zip(sides, trades["price"].tolist(), trades["volume"].tolist(), strict=True))
    result.fills = len(fills)
    result.signals = marks.signals
    result.final_target = marks.target
    result.final_pos = int(marks.position.pos)
    result.gross_points = gross_points(fills, marks.last_price)
    result.net_pnl = float(backtest.daily["balance"].iloc[-1]) - INIT_BALANCE
    result.notes.append("net_pnl: CNY, 300 × points, commission 0.23‱ (close-today 3.45‱)")
    return result


# --- shared input for the peers -------------------------------------------------------------


def read_store_table(store_dir: Path, mode: str) -> pa.Table:
    """Every row of the generated symbol, read back from the store's Parquet files."""
    pattern = f"klines/1m/{SYMBOL}/*.parquet" if mode == "bars" else f"ticks/{SYMBOL}/*/*.parquet"
    files = sorted(store_dir.glob(pattern))
    return pa.concat_tables([pq.read_table(path) for path in files])


def _columns(table: pa.Table, *names: str) -> list[list[Any]]:
    """Columns as Python lists (of floats)."""
    return [table.column(name).to_pylist() for name in names]


def _local_datetimes(table: pa.Table) -> list[Any]:
    """The ``datetime`` column as naive Python datetimes in Beijing time.

    Built through numpy (0.1 s per million); ``to_pylist()`` of the stored timezone-aware
    column takes about 8 s per million, which would bill our conversion to the peer.
    """
    local = _local_ns(table).view("datetime64[ns]").astype("datetime64[us]")
    return local.astype(object).tolist()  # type: ignore[no-any-return]


def _local_ns(table: pa.Table) -> npt.NDArray[np.int64]:
    """The ``datetime`` column as int64 ns of Beijing wall-clock time."""
    utc_ns = table.column("datetime").cast(pa.int64()).to_numpy()
    return np.asarray(utc_ns, dtype=np.int64) + BEIJING_OFFSET_NS


# --- vnpy -----------------------------------------------------------------------------------


def run_vnpy(mode: str, variant: str, store_dir: Path, count: int) -> Measurement:
    """vnpy_ctastrategy's ``BacktestingEngine``, data fed as ``engine.history_data``.

    (``load_data()`` would read vnpy's own database; we build the same objects it returns.)
    """
    from vnpy.trader.constant import Direction, Exchange, Interval
    from vnpy.trader.object import BarData, TickData
    from vnpy.trader.utility import ArrayManager
    from vnpy_ctastrategy import CtaTemplate
    from vnpy_ctastrategy.backtesting import (
        BacktestingEngine,
        BacktestingMode,
    )

    result = Measurement("vnpy", mode, variant, count, base_rss_mb=peak_rss_mb())

    class _Target(CtaTemplate):  # type: ignore[misc]
        """Shared order handling: chase ``self.target`` with limit orders at the given prices.

        While the position differs from the target, unfilled orders are cancelled and sent
        again at the current price on every bar/tick (bars: they always fill on the next bar).
        """

        def on_init(self) -> None:
            self.target = 0
            self.signals = 0
            self.lean = LeanSignal()
            self.prices: FloatArray = np.zeros(SLOW)
            self.am = ArrayManager(SLOW)
            self.seen = 0
            self.working = False  # orders may be alive

        def idiomatic(self, closes: FloatArray) -> None:
            want = decide(sma(closes, FAST), sma(closes, SLOW), self.target)
            if want != self.target:
                self.target = want
                self.signals += 1

        def chase(self, buy_price: float, sell_price: float) -> None:
            pos = self.pos
            if pos == self.target:
                if self.working:  # filled, or the target came back: drop what is left
                    self.cancel_all()
                    self.working = False
                return
            self.cancel_all()
            self.working = True
            if self.target > pos:
                if pos < 0:
                    self.cover(buy_price, -pos)
                self.buy(buy_price, 1)
            else:
                if pos > 0:
                    self.sell(sell_price, pos)
                self.short(sell_price, 1)

    class BarsIdiomatic(_Target):
        def on_bar(self, bar: BarData) -> None:
            am = self.am
            am.update_bar(bar)
            if not am.inited:
                return
            self.idiomatic(am.close)
            self.chase(bar.close_price, bar.close_price)

    class BarsLean(_Target):
        def on_bar(self, bar: BarData) -> None:
            self.lean.push(bar.close_price)
            self.target = self.lean.target
            self.chase(bar.close_price, bar.close_price)

    class TicksIdiomatic(_Target):
        def on_tick(self, tick: TickData) -> None:
            prices = self.prices  # shifted like ArrayManager's arrays
            prices[:-1] = prices[1:]
            prices[-1] = tick.last_price
            self.seen += 1
            if self.seen < SLOW:
                return
            self.idiomatic(prices)
            self.chase(tick.ask_price_1, tick.bid_price_1)

    class TicksLean(_Target):
        def on_tick(self, tick: TickData) -> None:
            self.lean.push(tick.last_price)
            self.target = self.lean.target
            self.chase(tick.ask_price_1, tick.bid_price_1)

    class BarsEmpty(_Target):
        def on_bar(self, bar: BarData) -> None:
            pass

    class TicksEmpty(_Target):
        def on_tick(self, tick: TickData) -> None:
            pass

    strategies: dict[tuple[str, str], type[_Target]] = {
        ("bars", "empty"): BarsEmpty,
        ("ticks", "empty"): TicksEmpty,
        ("bars", "idiomatic"): BarsIdiomatic,
        ("bars", "lean"): BarsLean,
        ("ticks", "idiomatic"): TicksIdiomatic,
        ("ticks", "lean"): TicksLean,
    }

    started = time.perf_counter()
    table = read_store_table(store_dir, mode)
    times = _local_datetimes(table)
    exchange = Exchange.CFFEX
    history: list[Any]
    if mode == "bars":
        columns = _columns(table, "open", "high", "low", "close", "volume", "close_oi")
        history = [
            BarData(
                gateway_name="DB", symbol="IF9999", exchange=exchange, datetime=dt,
                interval=Interval.MINUTE, volume=v, open_interest=oi, open_price=o,
                high_price=h, low_price=lo, close_price=c,
            )
            for dt, o, h, lo, c, v, oi in zip(times, *columns, strict=True)
        ]  # fmt: skip
    else:
        columns = _columns(
            table, "last_price", "volume", "open_interest", "bid_price1", "bid_volume1",
            "ask_price1", "ask_volume1",
        )  # fmt: skip
        history = [
            TickData(
                gateway_name="DB", symbol="IF9999", exchange=exchange, datetime=dt,
                last_price=p, volume=v, open_interest=oi, bid_price_1=bp, bid_volume_1=bv,
                ask_price_1=ap, ask_volume_1=av,
            )
            for dt, p, v, oi, bp, bv, ap, av in zip(times, *columns, strict=True)
        ]  # fmt: skip
    del columns
    last_price = float(history[-1].close_price if mode == "bars" else history[-1].last_price)
    del table, times
    engine = BacktestingEngine()
    engine.output = lambda message: None  # its progress lines go to stdout otherwise
    start = history[0].datetime
    engine.set_parameters(
        vt_symbol=VNPY_SYMBOL,
        interval=Interval.MINUTE if mode == "bars" else Interval.TICK,
        start=start,
        end=history[-1].datetime + timedelta(days=1),
        rate=COMMISSION_RATE, slippage=0.0, size=MULTIPLIER, pricetick=PRICE_TICK,
        capital=int(INIT_BALANCE),
        mode=BacktestingMode.BAR if mode == "bars" else BacktestingMode.TICK,
    )  # fmt: skip
    engine.add_strategy(strategies[mode, variant], {})
    engine.history_data = history
    del history
    loaded = time.perf_counter()
    result.rss_loaded_mb = current_rss_mb()
    engine.run_backtesting()
    ran = time.perf_counter()
    result.rss_ran_mb = current_rss_mb()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        daily = engine.calculate_result()
        engine.calculate_statistics(daily, output=False)
    done = time.perf_counter()
    result.load_s, result.run_s, result.post_s = loaded - started, ran - loaded, done - ran
    result.peak_rss_mb = peak_rss_mb()
    strategy = engine.strategy
    trades = engine.get_all_trades()
    fills = [
        (1 if trade.direction == Direction.LONG else -1, float(trade.price), float(trade.volume))
        for trade in trades
    ]  # fmt: skip
    result.fills = len(fills)
    result.signals = strategy.lean.signals if variant == "lean" else strategy.signals
    result.final_target = strategy.target
    result.final_pos = int(strategy.pos)
    result.gross_points = gross_points(fills, last_price)
    result.net_pnl = float(daily["net_pnl"].sum())
    result.notes.append("net_pnl: CNY, 300 × points, commission 0.23‱ on every fill")
    return result


# --- backtesting.py -------------------------------------------------------------------------


def run_backtesting(mode: str, variant: str, store_dir: Path, count: int) -> Measurement:
    """kernc's backtesting.py: ``Backtest(data, Strategy).run()`` on 1-minute bars.

    Its ``next()`` is first called once every indicator has a value (and never for the first
    bar), so both strategies first replay the bars before that call through the signal without
    trading: the signal count then matches the other engines (the first order may be one bar
    later). Market orders fill at the next bar's open; each fill side (entry, exit) counts as
    a fill, as vnpy and ours count a closing and an opening trade separately.
    """
    if mode != "bars":
        raise ValueError("backtesting.py has no tick mode")
    import pandas as pd
    from backtesting import Backtest as KBacktest
    from backtesting import Strategy
    from backtesting import backtesting as kernc

    result = Measurement("backtesting", mode, variant, count, base_rss_mb=peak_rss_mb())
    finished: list[float] = []  # when the loop ended: Backtest.run() calls compute_stats then
    compute_stats = kernc.compute_stats

    def timed_compute_stats(*args: Any, **kwargs: Any) -> Any:
        finished.append(time.perf_counter())
        result.rss_ran_mb = current_rss_mb()
        return compute_stats(*args, **kwargs)

    class _Target(Strategy):  # type: ignore[misc]
        def trade_to(self, want: int) -> None:
            difference = want - self.position.size
            if difference > 0:
                self.buy(size=difference)
            elif difference < 0:
                self.sell(size=-difference)

    class Idiomatic(_Target):
        def init(self) -> None:
            self.fast = self.I(rolling_sma, self.data.Close, FAST)
            self.slow = self.I(rolling_sma, self.data.Close, SLOW)
            self.target = 0
            self.signals = 0
            self.started = False

        def evaluate(self, fast: float, slow: float) -> bool:
            want = decide(fast, slow, self.target)
            if want == self.target:
                return False
            self.target = want
            self.signals += 1
            return True

        def next(self) -> None:
            if self.started:
                if self.evaluate(float(self.fast[-1]), float(self.slow[-1])):
                    self.trade_to(self.target)
            else:  # replay the bars next() was not called for, then trade to the target
                self.started = True
                fast, slow = np.asarray(self.fast).tolist(), np.asarray(self.slow).tolist()
                for k in range(SLOW - 1, len(fast)):
                    self.evaluate(fast[k], slow[k])
                if self.target:
                    self.trade_to(self.target)

    class Lean(_Target):
        def init(self) -> None:
            self.lean = LeanSignal()
            self.started = False

        def next(self) -> None:
            lean = self.lean
            if self.started:
                if lean.push(float(self.data.Close[-1])):
                    self.trade_to(lean.target)
            else:  # replay the bars next() was not called for, then trade to the target
                self.started = True
                for price in np.asarray(self.data.Close).tolist():
                    lean.push(price)
                if lean.target:
                    self.trade_to(lean.target)

    class Empty(_Target):
        def init(self) -> None:
            self.target = self.signals = 0

        def next(self) -> None:
            pass

    classes = {"idiomatic": Idiomatic, "lean": Lean, "empty": Empty}
    started = time.perf_counter()
    table = read_store_table(store_dir, mode)
    index = pd.to_datetime(_local_ns(table))
    frame = pd.DataFrame(
        {
            "Open": table.column("open").to_numpy(),
            "High": table.column("high").to_numpy(),
            "Low": table.column("low").to_numpy(),
            "Close": table.column("close").to_numpy(),
            "Volume": table.column("volume").to_numpy(),
        },
        index=index,
    )
    last_price = float(frame["Close"].iloc[-1])
    del table
    backtest = KBacktest(
        frame,
        classes[variant],
        cash=INIT_BALANCE,
        commission=COMMISSION_RATE,
        finalize_trades=False,
    )
    del frame
    loaded = time.perf_counter()
    result.rss_loaded_mb = current_rss_mb()
    kernc.compute_stats = timed_compute_stats  # marks the end of the loop, costs nothing per bar
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = backtest.run()
    done = time.perf_counter()
    ran = finished[-1] if finished else done
    result.load_s, result.run_s, result.post_s = loaded - started, ran - loaded, done - ran
    result.peak_rss_mb = peak_rss_mb()
    strategy = stats["_strategy"]
    closed = stats["_trades"]
    fills: list[tuple[int, float, float]] = []
    for size, entry, exit_ in zip(
        closed["Size"].tolist(),
        closed["EntryPrice"].tolist(),
        closed["ExitPrice"].tolist(),
        strict=True,
    ):
        side = 1 if size > 0 else -1
        fills += [(side, entry, abs(size)), (-side, exit_, abs(size))]
    for trade in strategy.trades:  # still open at the end
        fills.append((1 if trade.size > 0 else -1, trade.entry_price, abs(trade.size)))
    result.fills = len(fills)
    result.signals = strategy.lean.signals if variant == "lean" else strategy.signals
    result.final_target = strategy.lean.target if variant == "lean" else strategy.target
    result.final_pos = int(strategy.position.size)
    result.gross_points = gross_points(fills, last_price)
    result.net_pnl = float(stats["Equity Final [$]"]) - INIT_BALANCE
    result.notes.append("net_pnl: points (1 unit, no multiplier), commission 0.23‱")
    return result


RUNNERS: Final[dict[str, Callable[[str, str, Path, int], Measurement]]] = {
    "ours": run_ours,
    "vnpy": run_vnpy,
    "backtesting": run_backtesting,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Child entry point: run one workload and write its :class:`Measurement` as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--engine", choices=ENGINES, required=True)
    parser.add_argument("--mode", choices=MODES, required=True)
    parser.add_argument("--variant", choices=ALL_VARIANTS, required=True)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the whole run here")
    args = parser.parse_args(argv)
    runner = RUNNERS[args.engine]
    if args.profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        measurement = profiler.runcall(runner, args.mode, args.variant, args.store, args.count)
        profiler.dump_stats(args.profile)
    else:
        measurement = runner(args.mode, args.variant, args.store, args.count)
    args.out.write_text(json.dumps(asdict(measurement)) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
