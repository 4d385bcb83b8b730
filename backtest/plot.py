"""Plotly figures of a backtest result, shared by the HTML report and notebooks.

``result.plot()`` shows :func:`equity_figure` and ``result.plot("IF2003.IF")``
:func:`price_figure`; :mod:`backtest.report` puts every figure here in one HTML file.

Every figure is built from the result alone, except the price chart, which reads the bars from
the data store the run used (``result.config["data"]``) — or, for a loaded run directory, from
the bars it was saved with (``result.prices``). Series are thinned to at most
:data:`MAX_POINTS` points so that a figure stays light in a browser whatever the run's length.
Times are shown in Beijing time; colours follow the Chinese convention: red for a gain or a buy,
green for a loss or a sell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import plotly.graph_objects as go  # type: ignore[import-untyped]
import pyarrow as pa
from plotly.subplots import make_subplots  # type: ignore[import-untyped]

from .calendar import TradingCalendar
from .errors import BacktestError, DataError
from .instrument import InstrumentTable
from .model import DAY, TICK, period_label
from .resample import find_resampling
from .runner import run_calendar, run_span, trading_day_count
from .stats import daily_returns
from .store import Store
from .times import UTC_OFFSET_NS

if TYPE_CHECKING:
    from .result import BacktestResult

MAX_POINTS: Final = 3000
"""The most points a series of a figure holds; longer ones are thinned evenly."""
MAX_FILLS: Final = 5000
"""The most fills marked on a price chart; more are thinned evenly (the title says so)."""
_PERIODS: Final = (60, 300, 900, 1800, 3600, DAY)
"""Bar periods a price chart may use, finest first: the finest that fits in MAX_POINTS wins."""

GAIN: Final = "#d62728"
LOSS: Final = "#2ca02c"
LINE: Final = "#1f4e9c"
FONTS: Final = "system-ui, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif"
"""Fonts with Chinese glyphs on macOS, Windows and Linux."""
TEMPLATE: Final = {
    "layout": {
        "font": {"family": FONTS, "size": 12},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "hovermode": "x unified",
        "margin": {"l": 60, "r": 20, "t": 72, "b": 40},
        "title": {
            "x": 0,
            "xref": "paper",
            "y": 1,
            "yref": "container",
            "yanchor": "top",
            "pad": {"t": 12},
        },
        "xaxis": {"gridcolor": "#eee", "linecolor": "#999", "zeroline": False},
        "yaxis": {"gridcolor": "#eee", "linecolor": "#999", "zerolinecolor": "#bbb"},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
    }
}
"""A small explicit template: plotly's default one would be copied into every figure."""


def equity_figure(result: BacktestResult) -> go.Figure:
    """Equity at each trading day's settlement above its drawdown from the running peak.

    The drawdown is measured as :func:`backtest.stats.max_drawdown` measures it, the initial
    balance being the first peak, so its lowest point is ``-stats["max_drawdown"]``.
    """
    days, equity = _equity(result)
    peaks = np.maximum.accumulate(np.concatenate(([_init_balance(result)], equity)))[1:]
    drawdown = equity / peaks - 1.0 if len(equity) else equity
    keep = _thin(len(equity), MAX_POINTS, np.argmin(drawdown) if len(equity) else None)
    figure = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.04
    )
    figure.add_trace(
        go.Scatter(x=days[keep], y=equity[keep], name="equity 权益", mode="lines",
                   line={"color": LINE, "width": 1.5}),
        row=1, col=1,
    )  # fmt: skip
    figure.add_trace(
        go.Scatter(x=days[keep], y=drawdown[keep] * 100.0, name="drawdown 回撤 %", mode="lines",
                   fill="tozeroy", line={"color": LOSS, "width": 1}),
        row=2, col=1,
    )  # fmt: skip
    figure.update_yaxes(title_text="equity (CNY)", tickformat=",.0f", row=1, col=1)
    figure.update_yaxes(title_text="drawdown %", ticksuffix="%", row=2, col=1)
    figure.update_layout(template=TEMPLATE, height=460, title_text="Equity and drawdown 权益与回撤")
    return figure


def returns_histogram(result: BacktestResult) -> go.Figure:
    """Histogram of daily returns in percent (the returns the Sharpe ratio is computed on)."""
    _, equity = _equity(result)
    returns = daily_returns(equity.tolist(), _init_balance(result)) * 100.0
    figure = go.Figure(
        go.Histogram(x=returns, nbinsx=50, name="days", marker={"color": LINE},
                     hovertemplate="%{x}%: %{y} days<extra></extra>")
    )  # fmt: skip
    figure.update_layout(
        template=TEMPLATE, height=320, bargap=0.05, hovermode="closest",
        title_text="Daily returns 日收益率分布", xaxis_title="daily return %",
        yaxis_title="trading days",
    )  # fmt: skip
    return figure


def monthly_returns(result: BacktestResult) -> pd.DataFrame:
    """Returns by calendar month of the trading day: one row per year, columns 1 to 12.

    A month's return is its last settlement's equity over the previous month's (over the
    initial balance for the first month), minus one; months without trading days are NaN.
    """
    days, equity = _equity(result)
    frame = pd.DataFrame({"month": [day[:7] for day in days], "equity": equity})
    closes = frame.groupby("month", sort=True)["equity"].last()
    previous = np.concatenate(([_init_balance(result)], closes.to_numpy()[:-1]))
    returns = closes.to_numpy() / previous - 1.0
    table = pd.DataFrame(
        {"year": [int(m[:4]) for m in closes.index], "month": [int(m[5:]) for m in closes.index],
         "value": returns}
    )  # fmt: skip
    grid = table.pivot(index="year", columns="month", values="value")
    return grid.reindex(columns=range(1, 13))


def monthly_returns_figure(result: BacktestResult) -> go.Figure:
    """Heatmap of :func:`monthly_returns` in percent, years down, months across."""
    grid = monthly_returns(result) * 100.0
    values = grid.to_numpy(dtype=np.float64)
    z = [[None if math.isnan(v) else round(float(v), 4) for v in row] for row in values]
    text = [["" if v is None else f"{v:.1f}%" for v in row] for row in z]
    limit = max((abs(v) for row in z for v in row if v is not None), default=1.0) or 1.0
    figure = go.Figure(
        go.Heatmap(
            z=z, x=[f"{m:02d}" for m in range(1, 13)], y=[str(y) for y in grid.index],
            text=text, texttemplate="%{text}", zmin=-limit, zmax=limit, zmid=0.0,
            colorscale=[[0.0, LOSS], [0.5, "#ffffff"], [1.0, GAIN]], xgap=2, ygap=2,
            hovertemplate="%{y}-%{x}: %{text}<extra></extra>", colorbar={"ticksuffix": "%"},
        )
    )  # fmt: skip
    figure.update_layout(
        template=TEMPLATE, height=max(200, 60 + 28 * len(z)), hovermode="closest",
        title_text="Monthly returns 月度收益率", xaxis={"type": "category", "title": "month"},
        yaxis={"type": "category", "autorange": "reversed"},
    )  # fmt: skip
    return figure


@dataclass(frozen=True, slots=True)
class PriceBars:
    """Bars of one symbol over a run, as charted: ``times_ns`` (bar starts) and ``close``."""

    symbol: str
    duration_s: int
    times_ns: npt.NDArray[np.int64]
    close: npt.NDArray[np.float64]


def price_bars(result: BacktestResult, symbol: str, max_points: int = MAX_POINTS) -> PriceBars:
    """The bars of ``symbol`` over the run, of the finest period that fits in ``max_points``.

    The period is the finest of 1m, 5m, 15m, 30m, 1h and 1d (or a stored period between them)
    whose bar count over the run's trading days stays under ``max_points``; bars the store lacks
    are built from finer stored klines or ticks (:mod:`backtest.resample`). A run longer than
    ``max_points`` days gets daily bars, thinned.

    Raises:
        DataError: the result names no store, the store is missing, or it holds no data of
            ``symbol`` (the message says which).
    """
    saved = result.prices[result.prices["symbol"] == symbol]
    if len(saved):  # a loaded run directory: the bars it was saved with
        keep = _thin(len(saved), max_points)
        return PriceBars(
            symbol,
            int(saved["duration_s"].iloc[0]),
            saved["datetime"].to_numpy(np.int64)[keep],
            saved["close"].to_numpy(np.float64)[keep],
        )
    location = result.config.get("data")
    if not location:
        raise DataError("the result's config names no data store (config['data'])")
    store = Store(location)
    stored = store.durations(symbol)
    if not stored:
        raise DataError(f"data store {store.root} holds no klines or ticks of {symbol}")
    calendar = run_calendar(store, *_run_dates(result))
    start_ns, end_ns = _run_span(result, calendar, symbol)
    instruments = InstrumentTable(
        store.instruments(), result.config.get("instruments") or None, str(store.root)
    )
    sessions = instruments.get(symbol).sessions
    days = trading_day_count(calendar, start_ns, end_ns)
    intraday = [d for d in stored if TICK < d < DAY]
    buildable = sorted(
        d for d in {*_PERIODS, *stored} - {TICK}
        if d in stored or TICK in stored or any(d % s == 0 or d == DAY for s in intraday)
    )  # fmt: skip
    ranges = sessions.day + sessions.night
    duration = next(
        (d for d in buildable if days * _bars_per_day(ranges, d) <= max_points), buildable[-1]
    )
    if duration in stored:
        batches = store.scan(symbol, duration, start_ns, end_ns, ["close"])
    else:
        resampling = find_resampling(store, symbol, duration, sessions, calendar)
        assert resampling is not None  # the store lacks this period
        batches = resampling.scan(store, start_ns, end_ns)
    times: list[npt.NDArray[np.int64]] = []
    closes: list[npt.NDArray[np.float64]] = []
    for batch in batches:
        times.append(batch.column("datetime").to_numpy().astype(np.int64))
        closes.append(batch.column("close").to_numpy(zero_copy_only=False).astype(np.float64))
    if not times:
        raise DataError(
            f"data store {store.root} holds no {period_label(duration)} bars of {symbol} "
            f"between {_beijing(start_ns)} and {_beijing(end_ns)}"
        )
    all_times, all_closes = np.concatenate(times), np.concatenate(closes)
    keep = _thin(len(all_times), max_points)
    return PriceBars(symbol, duration, all_times[keep], all_closes[keep])


def chart_prices(result: BacktestResult) -> pd.DataFrame:
    """The bars :func:`price_figure` charts for each traded symbol, as one frame
    (:data:`backtest.result.PRICE_COLUMNS`); a symbol without price data is left out."""
    from .result import prices_frame

    frames = [prices_frame()]
    for symbol in traded_symbols(result):
        try:
            bars = price_bars(result, symbol)
        except (BacktestError, OSError, pa.ArrowException):
            continue  # the report says why in place of the chart
        frames.append(prices_frame(symbol, bars.duration_s, bars.times_ns, bars.close))
    return pd.concat(frames, ignore_index=True)


def price_figure(result: BacktestResult, symbol: str) -> go.Figure:
    """The close of ``symbol``'s bars over the run (see :func:`price_bars`) with its fills:
    red triangles up for buys, green triangles down for sells, at the fill price.

    Bars are placed side by side (a category axis), so nights, weekends and holidays leave no
    gaps; a fill is drawn on the bar it happened in, its exact time in its hover text.

    Raises:
        DataError: no price data of ``symbol`` (see :func:`price_bars`).
    """
    bars = price_bars(result, symbol)
    label = period_label(bars.duration_s)
    labels = beijing_text(bars.times_ns, "D" if bars.duration_s >= DAY else "m")
    figure = go.Figure(
        go.Scatter(x=labels, y=bars.close, mode="lines", name=f"close ({label} bars)",
                   line={"color": LINE, "width": 1}, hovertemplate="%{x}: %{y}<extra></extra>")
    )  # fmt: skip
    trades = result.trades[result.trades["symbol"] == symbol]
    shown = ""
    if len(trades) > MAX_FILLS:
        shown = f", {MAX_FILLS:,} of {len(trades):,} fills shown"
        trades = trades.iloc[_thin(len(trades), MAX_FILLS)]
    for direction, name, color, marker in (
        ("BUY", "buy 买", GAIN, "triangle-up"),
        ("SELL", "sell 卖", LOSS, "triangle-down"),
    ):
        fills = trades[trades["direction"] == direction]
        times = fills["trade_date_time"].to_numpy(dtype=np.int64)
        bar = np.clip(np.searchsorted(bars.times_ns, times, "right") - 1, 0, len(labels) - 1)
        text = [
            f"{direction} {offset} {volume:,} @ {price:g}<br>{when}"
            for offset, volume, price, when in zip(
                fills["offset"], fills["volume"], fills["price"], beijing_text(times, "s"),
                strict=True,
            )
        ]  # fmt: skip
        figure.add_trace(
            go.Scatter(x=labels[bar], y=fills["price"].to_numpy(dtype=np.float64),
                       mode="markers", name=f"{name} ({len(fills):,})", text=text,
                       hovertemplate="%{text}<extra></extra>",
                       marker={"color": color, "symbol": marker, "size": 8,
                               "line": {"width": 0.5, "color": "#333"}})
        )  # fmt: skip
    figure.update_layout(
        template=TEMPLATE, height=380, hovermode="closest", yaxis_title="price",
        title_text=f"{symbol}: price and fills 价格与成交 ({label} bars{shown})",
        xaxis={"type": "category", "nticks": 10, "tickangle": 0, "showgrid": False},
    )  # fmt: skip
    return figure


def traded_symbols(result: BacktestResult) -> list[str]:
    """The symbols with at least one fill, sorted."""
    return sorted({str(s) for s in result.trades["symbol"]})


# --- helpers -------------------------------------------------------------------------------


def _equity(result: BacktestResult) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.float64]]:
    """Trading days as ``YYYY-MM-DD`` and the equity at each settlement."""
    daily = result.daily
    days = pd.to_datetime(daily["trading_day"]).dt.strftime("%Y-%m-%d").to_numpy(dtype=str)
    return days, daily["equity"].to_numpy(dtype=np.float64)


def _init_balance(result: BacktestResult) -> float:
    value = result.stats.get("init_balance")
    if isinstance(value, int | float) and math.isfinite(value) and value > 0:
        return float(value)
    equity = result.daily["equity"]
    return float(equity.iloc[0]) if len(equity) else 1.0


def _thin(count: int, limit: int, also: Any = None) -> npt.NDArray[np.int64]:
    """Indices of at most ``limit`` evenly spaced items of ``count`` (first and last kept),
    plus the index ``also`` (the extreme that must stay visible)."""
    if count <= limit:
        return np.arange(count, dtype=np.int64)
    keep = np.unique(np.linspace(0, count - 1, limit).round().astype(np.int64))
    if also is not None:
        keep = np.union1d(keep, [int(also)]).astype(np.int64)
    return keep


def _bars_per_day(sessions: tuple[tuple[int, int], ...], duration_s: int) -> int:
    if duration_s >= DAY:
        return 1
    return sum(math.ceil((end - start) / duration_s) for start, end in sessions) or 1


def _config_bound(result: BacktestResult, key: str) -> date | datetime | None:
    """``config["start"]``/``["end"]``: a date (a whole trading day), a datetime, or None."""
    value = result.config.get(key)
    if isinstance(value, str) and value:
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    return value if isinstance(value, date) else None


def _run_dates(result: BacktestResult) -> tuple[date, date]:
    """First and last day of the run, from its config (else from its daily rows)."""
    start, end = _config_bound(result, "start"), _config_bound(result, "end")
    if start is None or end is None:
        days = pd.to_datetime(result.daily["trading_day"])
        if not len(days):
            raise DataError("the result has neither start and end in its config nor daily rows")
        start, end = days.iloc[0].date(), days.iloc[-1].date()
    first = start.date() if isinstance(start, datetime) else start
    last = end.date() if isinstance(end, datetime) else end
    return first, last


def _run_span(result: BacktestResult, calendar: TradingCalendar, symbol: str) -> tuple[int, int]:
    """int ns from the opening of the run's first trading day to the end of its last one (or
    the configured instants), widened to cover every fill of ``symbol``."""
    first, last = _run_dates(result)
    start, end = _config_bound(result, "start"), _config_bound(result, "end")
    start_ns, end_ns = run_span(
        calendar,
        start if isinstance(start, datetime) else first,
        end if isinstance(end, datetime) else last,
    )
    fills = result.trades.loc[result.trades["symbol"] == symbol, "trade_date_time"]
    if len(fills):
        start_ns, end_ns = min(start_ns, int(fills.min())), max(end_ns, int(fills.max()))
    return start_ns, end_ns


def beijing_text(
    times_ns: npt.NDArray[np.int64], unit: Literal["D", "m", "s", "ms"]
) -> npt.NDArray[np.str_]:
    """int ns times as Beijing wall-clock text to the ``unit``: ``2020-01-02 09:30:00``."""
    local = (np.asarray(times_ns, dtype=np.int64) + UTC_OFFSET_NS).astype("datetime64[ns]")
    if local.size == 0:  # np.char.replace refuses empty arrays
        return np.array([], dtype=np.str_)
    return np.char.replace(np.datetime_as_string(local, unit=unit), "T", " ")


def _beijing(ts_ns: int) -> str:
    return str(beijing_text(np.array([ts_ns], dtype=np.int64), "m")[0])
