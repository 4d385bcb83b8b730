"""Download market data from xtquant (miniQMT) into a :class:`~backtest.store.Store`.

xtquant is the Python SDK of QMT; its ``xtdata`` module talks to a running miniQMT client
(Windows only). Install it with ``pip install backtest[qmt]``, start miniQMT in 极简模式 and log
in, then::

    from backtest.store import Store
    from backtest.xtquant import download

    report = download(Store.create("data/mystore"), ["000001.SZ", "SHFE.rb2405"], "1m", "20240101")
    print(report.summary())
    report.raise_for_failures()

or ``backtest data download --source xtquant ...``. This module never imports xtquant at import
time, only inside :func:`download` (or :func:`load_xtdata`).

What :func:`download` does, per symbol (xtquant's ``code.MARKET`` form; tqsdk's ``EXCHANGE.code``
is accepted and normalized):

1. ``download_history_data2([code], period, start_time, end_time)`` fills miniQMT's local cache,
   then ``get_market_data_ex([], [code], period, start_time, end_time, count=-1,
   dividend_type, fill_data=False)`` reads it back.
2. The rows are converted (below) and merged into the store with one :meth:`Store.write`, so a
   symbol lands completely or not at all.
3. By default the download is **incremental**: it starts at the last stored row of the symbol
   and period (that row is fetched again and overwritten, which also completes a bar that was
   still forming; for intraday bars the window starts one bar earlier, so that an opening
   auction bar is never cut off, and that extra bar is not written), so re-running a command
   continues where it stopped. A failing symbol is
   recorded in the report and the others go on; run the same command again to fill it in.

Then, unless ``metadata=False``: instrument details (``get_instrument_detail``), the SSE trading
calendar (``get_trading_dates("SH")``) and the dividend factors of stocks and funds
(``get_divid_factors``) are merged into ``instruments.parquet``, ``calendar.parquet`` and
``dividends.parquet``.

Conversions (xtquant → store)
-----------------------------
- Time: xtquant's ``time`` column is int milliseconds since the epoch (UTC). The store keeps int
  nanoseconds (ms × 1,000,000). The DataFrame index (time strings in the machine's local zone)
  is ignored.
- Bars: xtquant labels an intraday bar with its **end** (the 1-minute bar 09:30–09:31 is
  ``093100``); the store labels it with its start, so one period is subtracted. A daily bar is
  stored at 00:00 Beijing time of its date. Bars starting from 09:15 to before 09:30 on SSE,
  SZSE, BSE and CFFEX hold the opening call auction: they are folded into the day's first bar
  from 09:30 (open from the auction, high/low widened, volume and amount added), as vnpy_xt
  does; other bars before 09:30 are dropped (:func:`fold_auction`, which the CSV import's
  ``xtquant`` preset shares: it reports those bars instead).
- Volumes: xtquant counts stocks and funds in lots (手) of 100; they are multiplied by 100 and
  rounded to whole shares. Futures volumes are contracts and index volumes are stored as
  delivered (the store keeps index volume "as the source stores it").
- Bars keep ``open, high, low, close, volume, amount`` and, for futures, ``close_oi`` =
  ``openInterest`` (open interest at the bar's end) and ``open_oi`` = the previous bar's
  ``close_oi`` (xtquant has no open interest at the bar's start; the first bar ever stored has
  NaN). ``settelementPrice`` [sic], ``preClose`` and ``suspendFlag`` are not stored for bars.
  Rows without prices (``fill_data=False`` gaps) and suspended days without volume are dropped.
- Ticks: ``lastPrice`` → ``last_price``; ``open``; ``high``/``low`` → ``highest``/``lowest``;
  cumulative ``volume`` (× 100 for stocks and funds) and ``amount`` (CNY); ``lastClose`` →
  ``pre_close``; ``lastSettlementPrice`` → ``pre_settlement``; ``settlementPrice`` →
  ``settlement``; for futures ``openInt`` → ``open_interest`` (for stocks ``openInt`` is the
  trading status and is not stored). The 5-element lists ``askPrice``/``bidPrice``/``askVol``/
  ``bidVol`` become ``ask_price1..5`` etc.; a level whose price is 0 has no order and is stored as
  NaN (price and volume). A price of 0 elsewhere means "not known yet" and becomes NaN; ticks
  without a last price are dropped. Rows with the same timestamp keep the last one.
- Columns that are entirely NaN are not written (they read back as NaN).

Periods: ``tick``, ``1m``, ``5m``, ``15m``, ``30m``, ``1h``, ``1d``. xtquant stores tick, 1m, 5m and
1d and builds the others from them, so 15m/30m/1h download 5m history and read the requested
period. ``dividend_type`` (``none``, ``front``, ``back``, ``front_ratio``, ``back_ratio``) only
affects bars. The engine expects unadjusted prices plus ``dividends.parquet``; adjusted prices
depend on the download date, so with an adjusted type the incremental mode is switched off and
the whole requested range is fetched again (keep adjusted data in a separate store).

Sources
-------
- xtquant's own ``xtdata.py`` (vendored copies in public repositories, e.g.
  ``specialsal/SilverQuant`` and ``yslhzj/study_quant``, path ``xtquant/xtdata.py``): signatures
  of ``download_history_data2(stock_list, period, start_time='', end_time='', callback=None,
  incrementally=None)``, ``get_market_data_ex(field_list=[], stock_list=[], period='1d',
  start_time='', end_time='', count=-1, dividend_type='none', fill_data=True)``,
  ``get_instrument_detail(stock_code, iscomplete=False)`` (the returned keys),
  ``get_trading_dates(market, start_time='', end_time='', count=-1)`` ("list(long) 毫秒数的时间戳
  列表"), ``get_divid_factors`` (``pd.DataFrame(datas).T``); bar frames are built per code from
  typed buffers, tick frames get an index of ``timetag_to_datetime(time, '%Y%m%d')`` for 1d
  and ``'%Y%m%d%H%M%S'`` otherwise.
- The xtdata manual shipped with xtquant (``xtquant/doc/xtdata.md``, e.g. in
  ``yijixiuxin/chanlun-pro``; online at https://dict.thinktrader.net/nativeApi/xtdata.html):
  periods, dividend types, closed ``[start_time, end_time]`` ranges, the progress dict of
  ``download_history_data2``'s callback, the bar fields (``time, open, high, low, close,
  volume, amount, settelementPrice, openInterest, preClose, suspendFlag``), the tick fields and
  the dividend fields: ``interest`` 每股股利（税前，元）, ``stockBonus`` 每股红股（股）,
  ``stockGift`` 每股转增股本（股）, ``allotNum`` 每股配股数（股）, ``allotPrice`` 配股价格（元）,
  ``gugai`` (share-reform flag), ``dr`` (adjustment factor).
- https://dict.thinktrader.net/innerApi/data_structure.html: tick ``volume`` is in 手,
  ``askPrice``/``askVol``/``bidPrice``/``bidVol`` are lists, ``openInt`` is the status for
  stocks and the open interest otherwise.
- ``vnpy/vnpy_xt`` ``xt_datafeed.py``: "迅投研时间戳（K线结束时点）", one minute subtracted, the
  pre-09:30 auction bar of SSE/SZSE/BSE/CFFEX merged into the first bar, ``tp.askPrice[0]``.
- Outputs of ``get_instrument_detail`` printed in public code: ``LongMarginRatio``
  ``1.7976931348623157e+308`` (unset) for stocks, ``ExpireDate`` 99999999, ``MainContract``
  2147483647; option margins written as percentages (12.0).
- Tests of public projects feeding ``get_divid_factors`` frames: index ``'20250917'``, a ``time``
  column in ms (00:00 Beijing of the ex-date).

Uncertainties (not verifiable without miniQMT)
----------------------------------------------
- Bar volumes of stocks are taken to be lots like tick volumes; level volumes of stock ticks
  too. The unit of index volume is not documented; it is stored unconverted.
- Futures night-session timestamps are assumed to be real clock times (xtdatacenter has a
  ``set_future_realtime_mode`` switch; miniQMT's default is not documented).
- 15m/30m/1h bars that straddle a break (futures 10:15–10:30) get ``end - period`` as start,
  which may fall inside the break. 1m and 5m are exact; prefer them and resample.
- Margin ratios above 1 are read as percentages. The daily bar ``time`` is taken as the
  trading day (the date of ``time`` + 1 h, which tolerates a 1986–1991 summer-time midnight).
- ``get_market_data_ex`` is called with ``fill_data=False``; either kind of gap row (NaN prices
  or zero volume at the previous close) is handled.
- ``start_time``/``end_time`` strings are read by miniQMT in the Windows machine's time zone;
  they are written in Beijing time, the zone QMT users run in.
"""

from __future__ import annotations

import contextlib
import importlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa

from .errors import ConfigError, DataError
from .instrument import classify_security
from .model import DAY, TICK, Exchange, ProductClass, Symbol, parse_period, period_label
from .store import KLINE_COLUMNS, TICK_COLUMNS, TIMESTAMP_TYPE, Store, int_times
from .times import (
    BEIJING,
    NS_PER_DAY,
    NS_PER_SECOND,
    UTC_OFFSET_NS,
    date_of_day_number,
    day_number,
    to_ns,
)

PERIODS: Final[dict[int, str]] = {
    TICK: "tick",
    60: "1m",
    300: "5m",
    900: "15m",
    1800: "30m",
    3600: "1h",
    DAY: "1d",
}
"""xtquant period name by store duration in seconds."""
DOWNLOAD_PERIODS: Final[dict[str, str]] = {"15m": "5m", "30m": "5m", "1h": "5m"}
"""Periods xtquant builds from a stored one: download that one, read the requested one."""
DIVIDEND_TYPES: Final = ("none", "front", "back", "front_ratio", "back_ratio")
LOT: Final = 100.0
"""Shares (or fund units) per lot (手)."""
INSTALL_HINT: Final = (
    "install it with `pip install backtest[qmt]` and run on Windows with miniQMT started "
    "(极简模式) and logged in"
)

_NS_PER_MS: Final = 1_000_000
_HOUR_NS: Final = 3600 * NS_PER_SECOND
_AUCTION_START_NS: Final = (9 * 3600 + 15 * 60) * NS_PER_SECOND
_AUCTION_END_NS: Final = (9 * 3600 + 30 * 60) * NS_PER_SECOND
"""09:30: bars starting earlier on the exchanges below hold the opening call auction."""
AUCTION_EXCHANGES: Final = frozenset({Exchange.SSE, Exchange.SZSE, Exchange.BSE, Exchange.CFFEX})
_LATEST_NS: Final = day_number(date(2100, 1, 1)) * NS_PER_DAY
_UNSET_INT: Final = 2_147_483_647
"""xtquant's "no value" for int fields (MainContract, LastVolume)."""
_LEVELS: Final = 5
_TIME_FORMATS: Final = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}


# --- the report --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Progress:
    """One progress event, passed to the ``progress`` callback of :func:`download`.

    Attributes:
        symbol: canonical symbol ("" for the metadata stage).
        done: symbols finished so far (0 … ``total``).
        total: symbols to download.
        stage: ``"start"``, ``"download"`` (miniQMT's own progress, ``message`` has it),
            ``"written"``, ``"up_to_date"``, ``"empty"``, ``"failed"`` or ``"metadata"``.
        rows: rows written for the symbol (stages ``written``).
        message: detail, e.g. the error of a failed symbol.
    """

    symbol: str
    done: int
    total: int
    stage: str
    rows: int = 0
    message: str = ""


@dataclass(slots=True)
class SymbolResult:
    """What happened to one symbol.

    Attributes:
        symbol: canonical symbol.
        status: ``"written"``, ``"up_to_date"`` (nothing after the stored data), ``"empty"``
            (xtquant returned no rows) or ``"failed"`` (see ``error``; nothing was written).
        rows: rows written, including the re-fetched last stored row of an incremental run.
        new_rows: rows after the previously stored last row.
        dropped: rows xtquant returned that were not stored (no price, suspended, auction
            folded into the next bar, duplicate timestamp, outside the requested range).
        first_ns, last_ns: store timestamps (int ns) of the first and last row written.
        start_time, end_time: the window asked from xtquant (its ``time`` label, Beijing).
        error: the exception of a failed symbol, as ``Type: message``.
    """

    symbol: str
    status: str
    rows: int = 0
    new_rows: int = 0
    dropped: int = 0
    first_ns: int | None = None
    last_ns: int | None = None
    start_time: str = ""
    end_time: str = ""
    error: str = ""


@dataclass(slots=True)
class DownloadReport:
    """The outcome of :func:`download`.

    Attributes:
        period: the period label (``"1m"``, ``"tick"`` …).
        dividend_type: the xtquant adjustment used for bars.
        results: one :class:`SymbolResult` per symbol, in the order given.
        instruments: instrument rows updated.
        calendar_days: trading days received from xtquant.
        dividends: corporate-action rows stored for the downloaded symbols.
        warnings: things worth telling the user (skipped rights issues, unknown codes …).
    """

    period: str
    dividend_type: str
    results: list[SymbolResult] = field(default_factory=list)
    instruments: int = 0
    calendar_days: int = 0
    dividends: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[SymbolResult]:
        """Results of the symbols that failed."""
        return [r for r in self.results if r.status == "failed"]

    @property
    def rows(self) -> int:
        """Rows written over all symbols."""
        return sum(r.rows for r in self.results)

    def summary(self) -> str:
        """Human-readable lines: one per symbol, then metadata and warnings."""
        lines = []
        for r in self.results:
            detail = r.error if r.status == "failed" else f"{r.rows} rows ({r.new_rows} new)"
            lines.append(f"{r.symbol:12} {self.period:5} {r.status:10} {detail}")
        lines.append(
            f"instruments: {self.instruments}, calendar days: {self.calendar_days}, "
            f"dividend rows: {self.dividends}"
        )
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def raise_for_failures(self) -> None:
        """Raise :class:`DataError` naming the failed symbols, if any.

        Nothing of a failed symbol was written; run the same download again to resume.
        """
        failed = self.failed
        if failed:
            names = "; ".join(f"{r.symbol}: {r.error}" for r in failed)
            raise DataError(
                f"xtquant download of {len(failed)} symbol(s) failed ({names}); the others "
                f"were stored; run the same command again to continue"
            )


# --- the entry point ---------------------------------------------------------------------


def load_xtdata() -> Any:
    """Import and return ``xtquant.xtdata``.

    Raises:
        DataError: xtquant is not installed or cannot load (it needs Windows).
    """
    try:
        return importlib.import_module("xtquant.xtdata")
    except (ImportError, OSError) as exc:
        raise DataError(f"xtquant cannot be imported ({exc}); {INSTALL_HINT}") from None


def download(
    store: Store,
    symbols: Sequence[str],
    period: str,
    start: str,
    end: str | None = None,
    dividend_type: str = "none",
    incremental: bool = True,
    progress: Callable[[Progress], None] | None = None,
    xtdata: Any = None,
    *,
    metadata: bool = True,
) -> DownloadReport:
    """Download ``symbols`` from xtquant into ``store`` (see the module docs for conversions).

    Args:
        store: the store to write (``Store.create(path)`` makes one; ``with
            Store.creating(path) as store:`` removes it again if the download fails before
            writing anything).
        symbols: ``"000001.SZ"``, ``"rb2405.SF"``; tqsdk's ``"SHFE.rb2405"`` is accepted.
        period: ``"tick"``, ``"1m"``, ``"5m"``, ``"15m"``, ``"30m"``, ``"1h"`` or ``"1d"``.
        start: first time wanted, Beijing time, ``YYYYMMDD[HHMM[SS]]`` (``-``, ``:``, spaces
            and ``T`` are ignored, so ``2024-01-02 09:30`` works). Bars are selected by start.
        end: last time wanted (a date means the whole day); None for up to now.
        dividend_type: xtquant's price adjustment of bars; keep ``"none"`` for backtests.
        incremental: continue after the last stored row (the default); False fetches the
            whole range again. Ignored (off) when ``dividend_type`` is not ``"none"``.
        progress: called with a :class:`Progress` for each step (for a progress bar).
        xtdata: the ``xtquant.xtdata`` module, or a stand-in; None imports it.
        metadata: also store instrument details, the trading calendar and dividend factors.

    Returns:
        A :class:`DownloadReport`; failed symbols are listed there, not raised (call
        :meth:`DownloadReport.raise_for_failures`).

    Raises:
        ConfigError: unknown period, dividend type, symbol or time.
        DataError: xtquant is missing, miniQMT cannot be reached, or a symbol is of a kind
            whose volume unit is unknown (bonds, options).
    """
    job = _Job.build(store, symbols, period, start, end, dividend_type, incremental, progress)
    xt = load_xtdata() if xtdata is None else xtdata
    _quiet(xt)
    report = DownloadReport(period=job.period, dividend_type=job.dividend_type)
    if not job.incremental and incremental:
        report.warnings.append(
            f"dividend_type={job.dividend_type!r}: adjusted prices change with each new "
            f"dividend, so the whole range was fetched again (no incremental download)"
        )
    if metadata:
        days = _fetch_calendar(xt)
        report.calendar_days = len(days)
        _update_calendar(store, days)
    details: dict[str, dict[str, Any]] = {}
    actions: dict[str, list[tuple[str, date, float, float]]] = {}
    try:
        for index, symbol in enumerate(job.symbols):
            job.emit(symbol, index, "start")
            result = _download_symbol(job, xt, symbol, index)
            report.results.append(result)
            job.emit(symbol, index + 1, result.status, result.rows, result.error)
            if metadata and result.status != "failed":
                _collect_metadata(xt, symbol, details, actions, report.warnings)
    finally:
        if metadata:
            job.emit("", len(report.results), "metadata")
            report.instruments = _update_instruments(store, details)
            report.dividends = _update_dividends(store, actions)
    return report


# --- one job -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Job:
    """Validated arguments of one :func:`download` call."""

    store: Store
    symbols: tuple[str, ...]
    duration: int
    period: str
    download_period: str
    start_ns: int
    end_ns: int | None
    dividend_type: str
    incremental: bool
    progress: Callable[[Progress], None] | None

    @classmethod
    def build(
        cls,
        store: Store,
        symbols: Sequence[str],
        period: str,
        start: str,
        end: str | None,
        dividend_type: str,
        incremental: bool,
        progress: Callable[[Progress], None] | None,
    ) -> _Job:
        duration = parse_period(period)
        if duration not in PERIODS:
            raise ConfigError(
                f"period {period!r} is not available from xtquant: use one of "
                f"{', '.join(PERIODS.values())}"
            )
        if dividend_type not in DIVIDEND_TYPES:
            raise ConfigError(
                f"dividend_type {dividend_type!r} is not understood: use one of "
                f"{', '.join(DIVIDEND_TYPES)}"
            )
        if isinstance(symbols, str):
            raise ConfigError(f"symbols must be a list of symbols, was the string {symbols!r}")
        canonical = tuple(dict.fromkeys(str(Symbol.parse(s)) for s in symbols))
        if not canonical:
            raise ConfigError("no symbols to download")
        for symbol in canonical:
            volume_factor(symbol)  # fail before downloading anything
        start_ns = parse_time(start, "start")
        end_ns = None if end is None or not end.strip() else parse_time(end, "end", end=True)
        if end_ns is not None and end_ns < start_ns:
            raise ConfigError(f"end {end!r} is before start {start!r}")
        xt_period = PERIODS[duration]
        return cls(
            store=store,
            symbols=canonical,
            duration=duration,
            period=period_label(duration),
            download_period=DOWNLOAD_PERIODS.get(xt_period, xt_period),
            start_ns=start_ns,
            end_ns=end_ns,
            dividend_type=dividend_type,
            incremental=incremental and dividend_type == "none",
            progress=progress,
        )

    @property
    def xt_period(self) -> str:
        return PERIODS[self.duration]

    def emit(self, symbol: str, done: int, stage: str, rows: int = 0, message: str = "") -> None:
        if self.progress is not None:
            self.progress(Progress(symbol, done, len(self.symbols), stage, rows, message))


def _download_symbol(job: _Job, xt: Any, symbol: str, index: int) -> SymbolResult:
    """Fetch, convert and write one symbol; exceptions become a ``failed`` result."""
    stored_last = _last_stored(job.store, symbol, job.duration)
    first = job.start_ns
    if job.duration >= DAY:  # daily bars are stored at 00:00 of their date
        first -= (first + UTC_OFFSET_NS) % NS_PER_DAY
    if job.incremental and stored_last is not None:
        first = max(first, _resume_start(stored_last, job.duration))
    result = SymbolResult(symbol, "up_to_date")
    if job.end_ns is not None and first > job.end_ns:
        return result
    result.start_time, result.end_time = _window(first, job.end_ns, job.duration)
    try:
        frame = _fetch(job, xt, symbol, result.start_time, result.end_time, index)
        table = _convert(job, symbol, frame)
        table = _within(table, first, job.end_ns)
        result.dropped = len(frame) - table.num_rows
        if table.num_rows:
            job.store.write(symbol, job.duration, table)
    except Exception as exc:  # one symbol's failure must not stop the others
        result.status = "failed"
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    if table.num_rows == 0:
        result.status = "up_to_date" if stored_last is not None else "empty"
        return result
    times = int_times(table.column("datetime"))
    result.status = "written"
    result.rows = len(times)
    result.new_rows = len(times) if stored_last is None else int(np.sum(times > stored_last))
    result.first_ns, result.last_ns = int(times[0]), int(times[-1])
    if result.new_rows == 0:
        result.status = "up_to_date"
    return result


def _fetch(job: _Job, xt: Any, symbol: str, start: str, end: str, index: int) -> pd.DataFrame:
    """Download into miniQMT's cache, then read the frame of one symbol."""

    def forward(data: Any) -> None:
        job.emit(symbol, index, "download", message=str(data))

    xt.download_history_data2(
        [symbol], job.download_period, start_time=start, end_time=end, callback=forward
    )
    data = xt.get_market_data_ex(
        [],
        [symbol],
        period=job.xt_period,
        start_time=start,
        end_time=end,
        count=-1,
        dividend_type=job.dividend_type,
        fill_data=False,
    )
    frame = data.get(symbol) if isinstance(data, Mapping) else None
    if frame is None:
        return pd.DataFrame()
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"xtquant returned {type(frame).__name__} for {symbol}, not a DataFrame")
    return frame


def _convert(job: _Job, symbol: str, frame: pd.DataFrame) -> pa.Table:
    parsed = Symbol.parse(symbol)
    futures = parsed.exchange.is_futures
    if job.duration == TICK:
        return ticks_to_table(frame, volume_factor=volume_factor(symbol), open_interest=futures)
    previous_oi = math.nan
    if futures and len(frame):
        first_ns = int(_bar_starts(_ms_column(frame), job.duration).min())
        previous_oi = _stored_value_before(job.store, symbol, job.duration, first_ns, "close_oi")
    return bars_to_table(
        frame,
        job.duration,
        volume_factor=volume_factor(symbol),
        open_interest=futures,
        merge_auction=parsed.exchange in AUCTION_EXCHANGES,
        previous_close_oi=previous_oi,
    )


def _within(table: pa.Table, first_ns: int, end_ns: int | None) -> pa.Table:
    """Rows with ``first_ns <= datetime <= end_ns`` (end None: no upper bound)."""
    times = int_times(table.column("datetime"))
    keep = times >= first_ns
    if end_ns is not None:
        keep &= times <= end_ns
    return table if bool(keep.all()) else table.filter(pa.array(keep))


# --- times ---------------------------------------------------------------------------------


def parse_time(text: str, what: str = "time", end: bool = False) -> int:
    """int ns of a Beijing wall-clock time written ``YYYYMMDD[HHMM[SS]]``.

    ``-``, ``/``, ``:``, ``T`` and spaces are ignored. With ``end=True`` a bare date means the
    end of that day (23:59:59).

    Raises:
        ConfigError: the text is not such a time.
    """
    digits = "".join(ch for ch in str(text) if ch.isdigit())
    stripped = "".join(ch for ch in str(text) if ch not in "-/: T")
    fmt = _TIME_FORMATS.get(len(digits))
    try:
        if fmt is None or stripped != digits:
            raise ValueError
        wall = datetime.strptime(digits, fmt)
    except ValueError:
        raise ConfigError(
            f"{what} {text!r} is not a time: write YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS "
            f"(Beijing time), e.g. '20240102' or '20240102093000'"
        ) from None
    if end and len(digits) == 8:
        wall += timedelta(days=1, seconds=-1)
    return to_ns(wall.replace(tzinfo=BEIJING))  # fixed UTC+8, as the store


def format_time(ts_ns: int, daily: bool = False) -> str:
    """xtquant's time argument for int ns: ``YYYYMMDDHHMMSS``, or ``YYYYMMDD`` when daily."""
    local = ts_ns + UTC_OFFSET_NS
    day = date_of_day_number(local // NS_PER_DAY)
    if daily:
        return day.strftime("%Y%m%d")
    seconds = (local % NS_PER_DAY) // NS_PER_SECOND
    return f"{day:%Y%m%d}{seconds // 3600:02d}{seconds // 60 % 60:02d}{seconds % 60:02d}"


def _window(first_ns: int, end_ns: int | None, duration: int) -> tuple[str, str]:
    """xtquant's ``start_time``/``end_time`` for rows starting in ``[first_ns, end_ns]``.

    xtquant selects on its own label, the end of an intraday bar. The window starts at the
    label ``first_ns``, one bar early: that bar is the opening auction when ``first_ns`` is
    09:30 (it must be folded into the 09:30 bar), otherwise it is dropped after conversion.
    The end shifts by a period so that the bar starting at ``end_ns`` is included.
    """
    shift = duration * NS_PER_SECOND if 0 < duration < DAY else 0
    daily = duration >= DAY
    start = format_time(first_ns, daily)
    end = "" if end_ns is None else format_time(end_ns + shift, daily)
    return start, end


def _resume_start(last_ns: int, duration: int) -> int:
    """Where an incremental download starts: the last stored row itself (fetched again)."""
    if duration == TICK:
        return last_ns - last_ns % NS_PER_SECOND  # xtquant's times have whole seconds
    return last_ns


def _bar_starts(end_ms: np.ndarray[Any, Any], duration: int) -> np.ndarray[Any, Any]:
    """Store timestamps (bar starts, int ns) of xtquant bar labels (int ms)."""
    end_ns = end_ms.astype(np.int64) * _NS_PER_MS
    if duration >= DAY:
        days = (end_ns + UTC_OFFSET_NS + _HOUR_NS) // NS_PER_DAY
        return days * NS_PER_DAY - UTC_OFFSET_NS
    return end_ns - duration * NS_PER_SECOND


# --- conversions ---------------------------------------------------------------------------


def volume_factor(symbol: str) -> float:
    """Multiplier from xtquant volumes to store volumes: 100 for stocks and funds, else 1.

    Raises:
        DataError: a security whose kind (and so volume unit) cannot be told from its code.
    """
    parsed = Symbol.parse(symbol)
    if parsed.exchange.is_futures:
        return 1.0
    try:
        product_class, _ = classify_security(parsed.code, parsed.exchange)
    except DataError:
        raise DataError(
            f"xtquant download: cannot tell whether {symbol} is a stock, a fund or an index, "
            f"so its volume unit is unknown; supported are A-share stocks, funds (ETF, LOF), "
            f"indexes and futures"
        ) from None
    return LOT if product_class in (ProductClass.STOCK, ProductClass.FUND) else 1.0


def bars_to_table(
    frame: pd.DataFrame,
    duration_s: int,
    *,
    volume_factor: float = 1.0,
    open_interest: bool = False,
    merge_auction: bool = False,
    previous_close_oi: float = math.nan,
) -> pa.Table:
    """Store klines of one ``get_market_data_ex`` bar frame (see the module docs).

    Args:
        frame: the frame of one code: columns ``time`` (int ms, the bar's end; 00:00 of the
            day for daily bars), ``open, high, low, close, volume``, optional ``amount,
            openInterest, suspendFlag``.
        duration_s: the bar period in seconds (86400 for daily).
        volume_factor: 100 for stocks and funds (lots → shares), else 1.
        open_interest: store ``close_oi``/``open_oi`` from ``openInterest`` (futures).
        merge_auction: fold bars starting before 09:30 into the next bar of the same day.
        previous_close_oi: ``close_oi`` of the bar before the frame's first (its ``open_oi``).

    Returns:
        A table with ``datetime`` (timestamp[ns, +08:00], bar start) and the kline columns
        that hold any value, sorted, one row per start.
    """
    if duration_s == TICK:
        raise ConfigError("bars_to_table converts bars; use ticks_to_table for ticks")
    if len(frame) == 0:
        return _table({"datetime": np.empty(0, np.int64)}, KLINE_COLUMNS)
    columns: dict[str, np.ndarray[Any, Any]] = {
        "datetime": _bar_starts(_ms_column(frame), duration_s)
    }
    for name in ("open", "high", "low", "close"):
        columns[name] = _float_column(frame, name)
    columns["volume"] = _scale(_float_column(frame, "volume"), volume_factor)
    columns["amount"] = _float_column(frame, "amount")
    if open_interest:
        columns["close_oi"] = _float_column(frame, "openInterest")
    prices = np.column_stack([columns[n] for n in ("open", "high", "low", "close")])
    keep = np.all(np.isfinite(prices) & (prices > 0), axis=1)
    suspended = (_float_column(frame, "suspendFlag") == 1) & ~(columns["volume"] > 0)
    columns = _sorted_unique(_select(columns, keep & ~suspended))
    if merge_auction and duration_s < DAY:
        columns = fold_auction(columns)
    if open_interest:
        close_oi = columns["close_oi"]
        columns["open_oi"] = np.concatenate([[previous_close_oi], close_oi[:-1]])
    return _table(columns, KLINE_COLUMNS)


def ticks_to_table(
    frame: pd.DataFrame, *, volume_factor: float = 1.0, open_interest: bool = False
) -> pa.Table:
    """Store ticks of one ``get_market_data_ex`` tick frame (see the module docs).

    Args:
        frame: the frame of one code: ``time`` (int ms), ``lastPrice, open, high, low,
            lastClose, amount, volume, openInt, lastSettlementPrice, settlementPrice`` and the
            level lists ``askPrice, bidPrice, askVol, bidVol`` (or flat ``askPrice1`` …).
        volume_factor: 100 for stocks and funds (lots → shares), else 1.
        open_interest: store ``openInt`` as ``open_interest`` (futures; for stocks it is the
            trading status).

    Returns:
        A table with ``datetime`` (timestamp[ns, +08:00]) and the tick columns that hold any
        value, sorted, one row per timestamp (the last of equal ones).
    """
    if len(frame) == 0:
        return _table({"datetime": np.empty(0, np.int64)}, TICK_COLUMNS)
    columns: dict[str, np.ndarray[Any, Any]] = {
        "datetime": _ms_column(frame).astype(np.int64) * _NS_PER_MS,
        "last_price": _price_column(frame, "lastPrice"),
        "volume": _scale(_float_column(frame, "volume"), volume_factor),
        "amount": _float_column(frame, "amount"),
        "open": _price_column(frame, "open"),
        "highest": _price_column(frame, "high"),
        "lowest": _price_column(frame, "low"),
        "pre_close": _price_column(frame, "lastClose"),
        "pre_settlement": _price_column(frame, "lastSettlementPrice"),
        "settlement": _price_column(frame, "settlementPrice"),
    }
    if open_interest:
        columns["open_interest"] = _float_column(frame, "openInt")
    for side in ("ask", "bid"):
        prices = _levels(frame, f"{side}Price")
        volumes = _scale(_levels(frame, f"{side}Vol"), volume_factor)
        empty = ~(prices > 0)
        prices[empty] = np.nan
        volumes[empty] = np.nan
        for level in range(_LEVELS):
            columns[f"{side}_price{level + 1}"] = prices[:, level]
            columns[f"{side}_volume{level + 1}"] = volumes[:, level]
    keep = np.isfinite(columns["last_price"])
    return _table(_sorted_unique(_select(columns, keep)), TICK_COLUMNS)


def _ms_column(frame: pd.DataFrame) -> np.ndarray[Any, Any]:
    if "time" not in frame.columns:
        raise DataError(f"xtquant frame has no 'time' column (columns: {list(frame.columns)})")
    times = np.array(frame["time"], dtype=np.float64)
    if not bool(np.all(np.isfinite(times))):
        raise DataError("xtquant frame has rows without a 'time'")
    return times.astype(np.int64)


def _float_column(frame: pd.DataFrame, name: str) -> np.ndarray[Any, Any]:
    """A float64 copy of a column; all NaN when xtquant did not send it."""
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return np.array(pd.to_numeric(frame[name], errors="coerce"), dtype=np.float64)


def _price_column(frame: pd.DataFrame, name: str) -> np.ndarray[Any, Any]:
    """A price column where 0 (xtquant's "not known") is NaN."""
    values = _float_column(frame, name)
    values[~(values > 0)] = np.nan
    return values


def _scale(values: np.ndarray[Any, Any], factor: float) -> np.ndarray[Any, Any]:
    """Volumes × factor, rounded to whole units when converting lots (no binary noise)."""
    return values if factor == 1.0 else np.round(values * factor)


def _levels(frame: pd.DataFrame, name: str) -> np.ndarray[Any, Any]:
    """(rows, 5) float array of a level field: a column of lists, or flat ``name1..5``."""
    rows = len(frame)
    out = np.full((rows, _LEVELS), np.nan)
    if name in frame.columns:
        values = frame[name].tolist()
        try:
            dense = np.array(values, dtype=np.float64)
        except (TypeError, ValueError):  # ragged lists
            dense = None
        if dense is not None and dense.ndim == 2:
            width = min(_LEVELS, dense.shape[1])
            out[:, :width] = dense[:, :width]
            return out
        for row, value in enumerate(values):
            seq = np.ravel(np.asarray(value if value is not None else [], dtype=np.float64))
            out[row, : min(_LEVELS, seq.size)] = seq[:_LEVELS]
        return out
    for level in range(_LEVELS):
        out[:, level] = _float_column(frame, f"{name}{level + 1}")
    return out


def _select(
    columns: dict[str, np.ndarray[Any, Any]], keep: np.ndarray[Any, Any]
) -> dict[str, np.ndarray[Any, Any]]:
    return {name: values[keep] for name, values in columns.items()}


def _sorted_unique(columns: dict[str, np.ndarray[Any, Any]]) -> dict[str, np.ndarray[Any, Any]]:
    """Sorted by ``datetime``; of rows with equal ``datetime`` the last one is kept."""
    times = columns["datetime"]
    order = np.argsort(times, kind="stable")
    ordered = times[order]
    last = np.append(ordered[1:] != ordered[:-1], True) if len(ordered) else np.empty(0, bool)
    return {name: values[order][last] for name, values in columns.items()}


def auction_bars(times: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Which bars (int ns starts) start before 09:30 Beijing time: the opening-auction bars."""
    return (times.astype(np.int64) + UTC_OFFSET_NS) % NS_PER_DAY < _AUCTION_END_NS


@dataclass(frozen=True)
class AuctionFold:
    """How the bars before 09:30 of bars sorted by start fold (:func:`plan_auction_fold`).

    Attributes:
        early: which bars start before 09:30 (none of them is kept).
        sources: the bars that fold, from 09:15 (when the opening auction starts) to before
            09:30 with a bar from 09:30 later that day, ascending.
        targets: for each source, the bar it folds into: the first from 09:30 of its day.
    """

    early: np.ndarray[Any, Any]
    sources: np.ndarray[Any, Any]
    targets: np.ndarray[Any, Any]

    @property
    def unfolded(self) -> np.ndarray[Any, Any]:
        """The bars before 09:30 that do not fold (before 09:15, or no later bar that day)."""
        folded = np.zeros(len(self.early), np.bool_)
        folded[self.sources] = True
        return np.flatnonzero(self.early & ~folded)


def plan_auction_fold(times: np.ndarray[Any, Any]) -> AuctionFold:
    """Which opening-auction bars of these sorted bar starts (int ns) fold, and into what."""
    times = times.astype(np.int64)
    local = times + UTC_OFFSET_NS
    clock = local % NS_PER_DAY
    early = clock < _AUCTION_END_NS
    count = len(times)
    # the first bar from each bar on that starts at 09:30 or later (count: none)
    after = np.minimum.accumulate(np.where(early, count, np.arange(count))[::-1])[::-1]
    same_day = (after < count) & (
        local[np.minimum(after, count - 1)] // NS_PER_DAY == local // NS_PER_DAY
    )
    sources = np.flatnonzero(early & (clock >= _AUCTION_START_NS) & same_day)
    return AuctionFold(early, sources, after[sources])


def fold_bars(
    columns: Mapping[str, np.ndarray[Any, Any]],
    sources: np.ndarray[Any, Any],
    targets: np.ndarray[Any, Any],
) -> dict[str, np.ndarray[Any, Any]]:
    """``columns`` with the bars at ``sources`` (ascending) folded into those at ``targets``:
    the earliest source's open, the highest high, the lowest low, volumes and amounts added
    (NaN only where every part is NaN)."""
    merged = {name: values.copy() for name, values in columns.items()}
    if not len(sources):
        return merged
    _, first = np.unique(targets, return_index=True)
    merged["open"][targets[first]] = columns["open"][sources[first]]
    np.fmax.at(merged["high"], targets, columns["high"][sources])
    np.fmin.at(merged["low"], targets, columns["low"][sources])
    for name in ("volume", "amount"):
        if name in columns:
            values = columns[name]
            known = ~np.isnan(values)
            total = np.where(known, values, 0.0)
            np.add.at(total, targets, total[sources])
            np.logical_or.at(known, targets, known[sources])
            merged[name] = np.where(known, total, np.nan)
    return merged


def fold_auction(columns: dict[str, np.ndarray[Any, Any]]) -> dict[str, np.ndarray[Any, Any]]:
    """Fold the opening-auction bars into the first bar from 09:30 of their day, then drop
    every bar before 09:30 (:func:`plan_auction_fold`: one rule for downloads and CSV imports;
    a CSV import reports the bars that do not fold, a download drops them).

    ``columns`` are sorted by ``datetime`` (int ns).
    """
    plan = plan_auction_fold(columns["datetime"])
    if not bool(plan.early.any()):
        return columns
    return _select(fold_bars(columns, plan.sources, plan.targets), ~plan.early)


def _table(columns: Mapping[str, np.ndarray[Any, Any]], order: Sequence[str]) -> pa.Table:
    """A store-ready table in canonical column order; all-NaN optional columns are left out."""
    required = {"datetime", "open", "high", "low", "close", "volume", "last_price"}
    arrays: list[pa.Array[Any]] = []
    names: list[str] = []
    for name in order:
        values = columns.get(name)
        if values is None:
            continue
        if name == "datetime":
            stamps = pa.array(values.astype(np.int64), pa.int64()).view(pa.timestamp("ns"))
            arrays.append(stamps.cast(TIMESTAMP_TYPE))
        elif name in required or not bool(np.all(np.isnan(values))):
            arrays.append(pa.array(values, pa.float64()))
        else:
            continue
        names.append(name)
    return pa.table(arrays, names=names)


# --- what the store holds ------------------------------------------------------------------


def _last_stored(store: Store, symbol: str, duration: int) -> int | None:
    """int ns of the last stored row of a serial, or None."""
    if not store.has(symbol, duration):
        return None
    tail = store.tail(symbol, duration, _LATEST_NS, 1, [])
    return int(tail.column(0)[0].as_py()) if tail.num_rows else None


def _stored_value_before(store: Store, symbol: str, duration: int, ts_ns: int, name: str) -> float:
    """``name`` of the last stored row before ``ts_ns`` (NaN if none or not stored)."""
    if not store.has(symbol, duration) or name not in store.available_columns(symbol, duration):
        return math.nan
    tail = store.tail(symbol, duration, ts_ns - 1, 1, [name])
    if tail.num_rows == 0:
        return math.nan
    value = tail.column(1)[0].as_py()
    return math.nan if value is None else float(value)


# --- metadata ------------------------------------------------------------------------------


def _quiet(xt: Any) -> None:
    """Silence xtquant's connection banner (``xtdata.enable_hello``)."""
    with contextlib.suppress(AttributeError):  # a stand-in may not allow it
        xt.enable_hello = False


def _fetch_calendar(xt: Any) -> list[date]:
    """SSE trading days from ``get_trading_dates("SH")`` (ms timestamps of 00:00 Beijing).

    Raises:
        DataError: miniQMT cannot be reached (this is the first call of a download).
    """
    try:
        values = xt.get_trading_dates("SH", "", "", -1)
    except Exception as exc:
        raise DataError(
            f"cannot read the trading calendar from xtquant ({type(exc).__name__}: {exc}); "
            f"is miniQMT running and logged in? {INSTALL_HINT}"
        ) from exc
    return calendar_days(values or [])


def calendar_days(values: Iterable[Any]) -> list[date]:
    """Dates of ``get_trading_dates`` values: ms timestamps, or ``YYYYMMDD`` strings."""
    days = set()
    for value in values:
        if isinstance(value, str) and len(value) == 8 and value.isdigit():
            days.add(datetime.strptime(value, "%Y%m%d").date())
        else:
            local = int(value) * _NS_PER_MS + UTC_OFFSET_NS + _HOUR_NS
            days.add(date_of_day_number(local // NS_PER_DAY))
    return sorted(days)


def _update_calendar(store: Store, days: list[date]) -> None:
    """Replace the stored calendar inside the received range; keep stored days outside it."""
    if not days:
        return
    with store.transaction():  # the write lock: no other writer between reading and writing
        stored = store.calendar()
        kept = [] if stored is None else [d for d in stored.days() if d < days[0] or d > days[-1]]
        store.write_calendar([*kept, *days])


def _collect_metadata(
    xt: Any,
    symbol: str,
    details: dict[str, dict[str, Any]],
    actions: dict[str, list[tuple[str, date, float, float]]],
    warnings: list[str],
) -> None:
    """Fetch the instrument details and dividend factors of one symbol (warnings on failure)."""
    try:
        detail = xt.get_instrument_detail(symbol)
    except Exception as exc:  # metadata problems are reported, not fatal
        warnings.append(f"{symbol}: get_instrument_detail failed ({exc})")
        detail = None
    if isinstance(detail, Mapping):
        details[symbol] = instrument_row(symbol, detail)
    else:
        warnings.append(
            f"{symbol}: xtquant has no instrument details (expired contracts need "
            f"xtdata.download_history_contracts())"
        )
        details[symbol] = instrument_row(symbol, {})
    if volume_factor(symbol) != LOT:
        return  # dividends: stocks and funds only
    try:
        frame = xt.get_divid_factors(symbol, "", "")
    except Exception as exc:
        warnings.append(f"{symbol}: get_divid_factors failed ({exc})")
        return
    rows, rights = dividend_rows(symbol, frame)
    actions[symbol] = rows
    if rights:
        warnings.append(
            f"{symbol}: {rights} rights issue(s) (配股, allotNum) are not modelled and were "
            f"not stored"
        )


def instrument_row(symbol: str, detail: Mapping[str, Any]) -> dict[str, Any]:
    """Store instrument fields from a ``get_instrument_detail`` dict.

    ``InstrumentName`` → ``name``; ``PriceTick`` → ``price_tick``; ``VolumeMultiple`` →
    ``volume_multiple``; for futures ``LongMarginRatio``/``ShortMarginRatio`` →
    ``margin_ratio_long``/``margin_ratio_short`` (fractions; values above 1 are percentages);
    ``OpenDate`` (else ``CreateDate``) → ``list_date``. xtquant's "unset" values (0, None,
    1.797e308, 2147483647, 99999999) are skipped. ``product_class``, ``product`` and ``board``
    come from the code.
    """
    parsed = Symbol.parse(symbol)
    row: dict[str, Any] = {}
    name = detail.get("InstrumentName")
    if isinstance(name, str) and name.strip():
        row["name"] = name.strip()
    for key, target in (("PriceTick", "price_tick"), ("VolumeMultiple", "volume_multiple")):
        value = _usable_number(detail.get(key))
        if value is not None:
            row[target] = value
    if parsed.exchange.is_futures:
        row.update(product_class=ProductClass.FUTURE.value, product=parsed.product, board="")
        for key, target in (
            ("LongMarginRatio", "margin_ratio_long"),
            ("ShortMarginRatio", "margin_ratio_short"),
        ):
            ratio = _usable_number(detail.get(key))
            if ratio is not None:
                row[target] = ratio / 100 if ratio > 1 else ratio
    else:
        product_class, board = classify_security(parsed.code, parsed.exchange)
        row.update(product_class=product_class.value, product="", board=board)
    listed = _usable_date(detail.get("OpenDate")) or _usable_date(detail.get("CreateDate"))
    if listed:
        row["list_date"] = listed
    return row


def _usable_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    if not math.isfinite(number) or number <= 0 or number > 1e300 or value == _UNSET_INT:
        return None
    return number


def _usable_date(value: Any) -> str:
    """``YYYY-MM-DD`` of an 8-digit date (int or str); "" for 0, 99999999 and the like."""
    text = str(value).strip() if value is not None else ""
    if len(text) != 8 or not text.isdigit() or text in ("99999999", "00000000"):
        return ""
    try:
        return datetime.strptime(text, "%Y%m%d").date().isoformat()
    except ValueError:
        return ""


def dividend_rows(symbol: str, frame: Any) -> tuple[list[tuple[str, date, float, float]], int]:
    """Store dividend rows of a ``get_divid_factors`` frame, and the count of rights issues.

    Each row is (symbol, ex_date, cash, share_ratio): ``cash`` = ``interest`` (CNY per share,
    before tax), ``share_ratio`` = ``stockBonus`` + ``stockGift`` (bonus and transferred shares
    per share held). The ex-date is the date of ``time`` (ms), else the index (``YYYYMMDD``).
    Rights issues (``allotNum``/``allotPrice``) are not modelled: they are counted, and a row
    with nothing else is skipped. ``gugai`` (share reform) and ``dr`` are not needed.
    """
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        return [], 0
    cash = np.nan_to_num(_float_column(frame, "interest"))
    ratio = np.nan_to_num(_float_column(frame, "stockBonus")) + np.nan_to_num(
        _float_column(frame, "stockGift")
    )
    rights = np.nan_to_num(_float_column(frame, "allotNum")) > 0
    times = _float_column(frame, "time")
    rows = []
    for i, label in enumerate(frame.index):
        if cash[i] <= 0 and ratio[i] <= 0:
            continue
        if math.isfinite(times[i]):
            day = calendar_days([int(times[i])])[0]
        else:
            day = datetime.strptime(str(label)[:8], "%Y%m%d").date()
        # 8 decimals remove binary noise (0.1 + 0.2); the source values have at most 4-6
        rows.append((symbol, day, round(float(cash[i]), 8), round(float(ratio[i]), 8)))
    return rows, int(np.sum(rights))


def _update_instruments(store: Store, details: Mapping[str, Mapping[str, Any]]) -> int:
    """Merge rows into ``instruments.parquet``: new fields win, other stored fields stay."""
    if not details:
        return 0
    with store.transaction():  # the write lock: no other writer between reading and writing
        rows = {
            symbol: {k: v for k, v in row.items() if not _missing(v)}
            for symbol, row in store.instruments().items()
        }
        for symbol, row in details.items():
            rows[symbol] = {**rows.get(symbol, {}), **row}
        store.write_instruments(rows)
    return len(details)


def _update_dividends(
    store: Store, actions: Mapping[str, list[tuple[str, date, float, float]]]
) -> int:
    """Replace the dividend rows of the fetched symbols; keep the other symbols' rows."""
    if not actions:
        return 0
    fresh = [row for rows in actions.values() for row in rows]
    with store.transaction():  # the write lock: no other writer between reading and writing
        kept = [
            (symbol, day, cash, ratio)
            for symbol, rows in store.dividends().items()
            if symbol not in actions
            for day, cash, ratio in rows
        ]
        store.write_dividends([*kept, *fresh])
    return len(fresh)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
