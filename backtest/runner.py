"""Backtest: wires the data store, simulator and strategy; ``run()`` and ``arun()``."""

from __future__ import annotations

import asyncio
import functools
import inspect
import signal
import threading
import traceback
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from .api import Api
from .calendar import TradingCalendar, exchange_calendars_span
from .config import BacktestConfig, load_instruments
from .engine import Simulator
from .errors import (
    ApiUsageError,
    BacktestError,
    BacktestFinished,
    ConfigError,
    DataEndedWarning,
    DataError,
    NoDataWarning,
    StrategyError,
)
from .instrument import InstrumentTable
from .progress import DayProgress, in_notebook
from .result import (
    BacktestResult,
    accounts_used,
    daily_frame,
    orders_frame,
    positions_frame,
    trades_frame,
)
from .stats import compute_stats, round_trips
from .store import Store, default_store_path
from .times import format_ns, to_ns

StrategyFunction = Callable[[Api], Awaitable[Any]]
"""An ``async def strategy(api)``."""


class Backtest:
    """A backtest of one strategy over a time range of stored data.

    Args:
        strategy: ``async def strategy(api)``; it typically loops on ``await
            api.wait_update()`` until that raises :class:`BacktestFinished`.
        start, end: the range; see :class:`BacktestConfig` (dates are trading days).
        init_balance: starting futures account balance, CNY.
        stock_init_balance: starting cash of the stock account (default: ``init_balance``).
        data: Parquet store directory; None uses the sample store shipped with backtest.
        instruments: overrides of instrument terms (fees, margins…), by symbol or product,
            as a dict or a TOML file path.
        stock_fees: A-share fee terms, e.g. ``{"commission_rate": 0.0002,
            "commission_min": 5}``.
        annual_days: trading days per year for annualized statistics.
        risk_free_rate: annual risk-free rate for Sharpe and Sortino.
        progress: show a progress bar by simulated trading day: None (the default) where
            someone watches (a notebook, a terminal), True always, False never.

    Example::

        result = Backtest(strategy, start=date(2020, 1, 2), end=date(2020, 2, 28),
                          init_balance=1_000_000).run()
        result.stats["ror"], result.trades, result.daily

    Each ``run()`` is independent: nothing is shared between backtests in one process.
    """

    def __init__(
        self,
        strategy: StrategyFunction,
        start: date | datetime,
        end: date | datetime,
        init_balance: float = 10_000_000.0,
        data: str | Path | None = None,
        instruments: Mapping[str, Mapping[str, Any]] | str | Path | None = None,
        annual_days: int = 250,
        risk_free_rate: float = 0.0,
        stock_init_balance: float | None = None,
        stock_fees: Mapping[str, float | None] | None = None,
        progress: bool | None = None,
    ) -> None:
        if not callable(strategy):
            raise ConfigError(f"strategy must be an async function taking api, was {strategy!r}")
        _check_takes_api(strategy)
        self.strategy = strategy
        self.progress = progress
        self.config = BacktestConfig(
            start=start,
            end=end,
            init_balance=init_balance,
            stock_init_balance=stock_init_balance,
            data=None if data is None else str(data),
            instruments=load_instruments(instruments),
            stock_fees=dict(stock_fees) if isinstance(stock_fees, Mapping) else stock_fees or {},
            annual_days=annual_days,
            risk_free_rate=risk_free_rate,
        )

    def run(self) -> BacktestResult:
        """Run to the end and return the result (in a script; in Jupyter use ``arun``).

        Ctrl-C returns what was computed, marked incomplete (see :meth:`arun`).

        Raises:
            ApiUsageError: called while an event loop is running (use ``await arun()``).
            StrategyError: the strategy raised; ``error.result`` has the partial result.
        """
        if _event_loop_running():
            raise ApiUsageError(
                "Backtest.run() was called inside a running event loop (a Jupyter cell, or "
                "async code); use `result = await Backtest(...).arun()` there instead"
            )
        result = _run_interruptible(self._arun())
        self._warn_notices()  # from here, so that they point at the line that called run()
        return result

    async def arun(self) -> BacktestResult:
        """Run inside the current event loop (e.g. ``await`` it in a Jupyter cell).

        Ctrl-C — in Jupyter, interrupting the kernel — stops the run cleanly: the last trading
        day reached is settled and the result comes back with ``complete`` False and
        ``error`` saying when it stopped (and a warning). Cancelling the task outside Jupyter
        cancels it as usual.

        Raises:
            StrategyError: the strategy raised; ``error.result`` has the partial result.
            BacktestError: a bad API call or missing data inside the strategy (``.result``
                has the partial result), or a bad configuration before anything ran.
        """
        result = await self._arun()
        self._warn_notices()
        return result

    async def _arun(self) -> BacktestResult:
        # warnings for the caller of run() or arun(): (message, category)
        self._notices: list[tuple[str, type[Warning]]] = []
        simulator = self._simulator()
        bar = DayProgress(self._trading_days(simulator), self.progress)
        simulator.on_settle = bar.advance
        try:
            return await self._drive(simulator)
        finally:
            bar.close()

    def _trading_days(self, simulator: Simulator) -> int:
        return trading_day_count(simulator.calendar, simulator.start_ns, simulator.end_ns)

    async def _drive(self, simulator: Simulator) -> BacktestResult:
        api = Api(simulator)
        coroutine = self.strategy(api)
        if not inspect.isawaitable(coroutine):
            raise ConfigError(
                f"strategy {getattr(self.strategy, '__name__', self.strategy)!r} must be an "
                f"async function (async def strategy(api): ...), it returned {coroutine!r}"
            )
        data_ended = False
        try:
            await coroutine
        except BacktestFinished:
            # the data ended (not the strategy's own `raise BacktestFinished`) before it began
            if simulator.finished and not simulator.daily and simulator.symbols():
                self._notices.append((_no_data(simulator, self.config), NoDataWarning))
            data_ended = simulator.finished  # not the strategy's own raise
        except BacktestError as exc:
            # a bad API call or missing data inside the strategy: keep what was simulated
            await simulator.finish()
            exc.result = self._result(simulator, _describe(exc))
            raise
        except KeyboardInterrupt:
            return await self._interrupted(simulator)  # Ctrl-C
        except asyncio.CancelledError as exc:
            if _INTERRUPT not in exc.args and not in_notebook():
                await simulator.aclose()
                raise
            # Ctrl-C under run(), or Jupyter's "interrupt the kernel" (which cancels the running
            # cell's task): the user asked to stop this backtest; stop cleanly, keep the result
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            return await self._interrupted(simulator)
        except Exception as exc:
            await simulator.finish()
            result = self._result(simulator, _describe(exc))
            raise StrategyError(
                f"the strategy raised {type(exc).__name__}: {exc} (the partial result is in "
                f"this error's .result)",
                result,
            ) from exc
        await simulator.finish()
        if data_ended and simulator.daily:
            ended_early = _ended_early(simulator)
            if ended_early is not None:
                self._notices.append((ended_early, DataEndedWarning))
        return self._result(simulator)

    async def _interrupted(self, simulator: Simulator) -> BacktestResult:
        """Settle what was reached and return the result, marked incomplete."""
        await simulator.finish()
        moment = format_ns(simulator.clock.now_ns)[:19]
        self._notices.append(
            (f"backtest interrupted at simulated time {moment}; the result is incomplete",
             UserWarning)
        )  # fmt: skip
        return self._result(simulator, f"interrupted at simulated time {moment}")

    def _warn_notices(self) -> None:
        """Warn what the run noticed, attributed to the caller of run() or arun()."""
        for message, category in self._notices:
            warnings.warn(message, category, stacklevel=3)

    def _simulator(self) -> Simulator:
        config = self.config
        store = Store(config.data if config.data is not None else default_store_path())
        calendar = run_calendar(store, config.start, config.end)
        start_ns, end_ns = run_span(calendar, config.start, config.end)
        if start_ns > end_ns:
            raise ConfigError(f"no trading day between start {config.start} and end {config.end}")
        instruments = InstrumentTable(store.instruments(), config.instruments, str(store.root))
        return Simulator(
            store, calendar, instruments, start_ns, end_ns, config.init_balance,
            config.stock_init_balance, config.fees(),
        )  # fmt: skip

    def _result(self, simulator: Simulator, error: str | None = None) -> BacktestResult:
        config = self.config
        trades = trades_frame(simulator.broker.trades)
        multiples = {
            symbol: simulator.instruments.get(symbol).volume_multiple
            for symbol in sorted(set(trades["symbol"]))
        }
        futures_used, stocks_used = accounts_used(
            simulator.instruments.get(symbol).is_futures for symbol in multiples
        )
        daily = daily_frame(
            [(row.trading_day, row.values) for row in simulator.daily], futures_used, stocks_used
        )
        stock_cash = config.stock_init_balance
        init_equity = (config.init_balance if futures_used else 0.0) + (
            (config.init_balance if stock_cash is None else stock_cash) if stocks_used else 0.0
        )
        trips = round_trips(trades, multiples)
        positions = positions_frame(simulator.positions)
        stats = compute_stats(
            daily, init_equity, trades, trips, positions, config.annual_days,
            config.risk_free_rate, multiples=multiples,
        )  # fmt: skip
        settings = config.to_dict()
        settings["data"] = str(simulator.store.root)
        settings["data_fingerprint"] = simulator.store.fingerprint()
        settings["strategy"] = _identity(self.strategy)
        return BacktestResult(
            stats=stats,
            trades=trades,
            orders=orders_frame(list(simulator.broker.orders.values())),
            daily=daily,
            config=settings,
            positions=positions,
            round_trips=trips,
            complete=error is None,
            error=error,
        )


_INTERRUPT: Final = "backtest interrupted by Ctrl-C"
"""The cancel message :func:`_run_interruptible` cancels the backtest's task with."""
_CALENDAR_PAD: Final = timedelta(days=40)
"""How far the exchange_calendars calendar of a store without one reaches past the run."""


def _run_interruptible(coroutine: Coroutine[Any, Any, BacktestResult]) -> BacktestResult:
    """``asyncio.run(coroutine)``, where Ctrl-C stops the backtest cleanly.

    asyncio turns Ctrl-C into a cancellation of the main task, indistinguishable from any
    other; here the first Ctrl-C cancels it with the :data:`_INTERRUPT` message, which
    :meth:`Backtest.arun` answers by settling and returning the partial result. A second Ctrl-C
    raises ``KeyboardInterrupt`` at once.
    """
    with asyncio.Runner() as runner:
        loop = runner.get_loop()
        task = loop.create_task(coroutine)
        presses = 0

        def on_sigint(signum: int, frame: Any) -> None:
            nonlocal presses
            presses += 1
            if presses > 1:
                raise KeyboardInterrupt
            loop.call_soon_threadsafe(task.cancel, _INTERRUPT)

        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGINT, on_sigint)
        try:
            return loop.run_until_complete(task)
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)


def _identity(strategy: Any) -> dict[str, Any]:
    """What names a strategy in the saved config: its qualified name and, for a
    ``functools.partial``, the keyword arguments it binds (``backtest run`` records the file,
    its SHA-256 and the params instead)."""
    params: dict[str, Any] = {}
    while isinstance(strategy, functools.partial):
        params = {**strategy.keywords, **params}
        strategy = strategy.func
    target = getattr(strategy, "__func__", strategy)  # a bound method: its function
    name = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', '?')}"
    return {"name": name, "params": params}


def _describe(exc: BaseException) -> str:
    """The exception's one-line description (``ValueError: boom``), a blank line, then its
    traceback as Python prints it."""
    headline = traceback.format_exception_only(exc)[0].strip().splitlines()[0]
    return f"{headline}\n\n" + "".join(traceback.format_exception(exc)).rstrip()


def _no_data(simulator: Simulator, config: BacktestConfig) -> str:
    """The warning for a run whose strategy asked for data but met no market event."""
    asked = ", ".join(simulator.symbols())
    return (
        f"the backtest from {config.start} to {config.end} simulated no trading day: "
        f"{simulator.store.root} has no market data in that span for the symbols the strategy "
        f"asked for ({asked}); `backtest data ls` shows what the store holds"
    )


def _ended_early(simulator: Simulator) -> str | None:
    """The warning for a run whose market data ended before the run's last trading day, so
    that its result and statistics cover fewer days than it asked for."""
    first, last = simulator.daily[0].trading_day, simulator.daily[-1].trading_day
    run_last = simulator.calendar.trading_day_of(simulator.end_ns)
    if last >= run_last:
        return None
    return (
        f"the market data in {simulator.store.root} of the symbols the strategy asked for "
        f"({', '.join(simulator.symbols())}) ends on trading day {last}, before the run's last "
        f"trading day {run_last}: the result and its statistics cover the "
        f"{len(simulator.daily)} trading days from {first} to {last}; end the run by {last} or "
        f"add the data (`backtest data ls` shows what the store holds)"
    )


def _check_takes_api(strategy: Callable[..., Any]) -> None:
    """Refuse a strategy that cannot be called with one argument (the api)."""
    try:
        signature = inspect.signature(strategy)
    except (TypeError, ValueError):  # no signature to read (a builtin): let the call tell
        return
    try:
        signature.bind(None)
    except TypeError:
        name = getattr(strategy, "__name__", strategy)
        raise ConfigError(
            f"strategy {name!r} must take one argument, the api (async def strategy(api): ...), "
            f"but its signature is {signature}"
        ) from None


def _event_loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def run_calendar(store: Store, start: date | datetime, end: date | datetime) -> TradingCalendar:
    """The calendar of a run: the store's, else exchange_calendars' from 40 days before the
    run's first day to 40 days after its last one, as far as it knows the holidays.

    Raises:
        DataError: the store has no calendar and the run ends after the last day the
            installed exchange_calendars knows (its trading days are unknown: a run cut
            short there would drop data without a word).
    """
    stored = store.calendar()
    if stored is not None:
        return stored
    last = exchange_calendars_span()[1]
    if _as_date(end) > last:
        raise DataError(
            f"the run ends {end}, after {last}, the last day the installed exchange_calendars "
            f"knows the holidays of, and the data store {store.root} has no trading calendar "
            f"of its own: end the run by {last}, store a calendar with the data "
            f"(Store.write_calendar), or upgrade exchange_calendars"
        )
    return TradingCalendar.from_exchange_calendars(
        _as_date(start) - _CALENDAR_PAD, _as_date(end) + _CALENDAR_PAD
    )


def run_span(
    calendar: TradingCalendar, start: date | datetime, end: date | datetime
) -> tuple[int, int]:
    """int ns of a run's start and end: a datetime as it is, a date from the opening of its
    first trading day on or after ``start`` to the end of the last one on or before ``end``."""
    start_ns = (
        to_ns(start) if isinstance(start, datetime)
        else calendar.day_start_ns(calendar.first_trading_day_on_or_after(start))
    )  # fmt: skip
    end_ns = (
        to_ns(end) if isinstance(end, datetime)
        else calendar.day_end_ns(calendar.last_trading_day_on_or_before(end))
    )  # fmt: skip
    return start_ns, end_ns


def trading_day_count(calendar: TradingCalendar, start_ns: int, end_ns: int) -> int:
    """The trading days from the one of ``start_ns`` to the one of ``end_ns``, both counted."""
    first, last = calendar.trading_day_of(start_ns), calendar.trading_day_of(end_ns)
    return len(calendar.trading_days(first, last))


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value
