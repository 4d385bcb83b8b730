"""The HTML report of a backtest: one self-contained file, and the notebook summary.

:func:`write_report` writes ``report.html`` of a run directory (:mod:`backtest.rundir`). The
file opens in any browser without a network: plotly.js is inlined once and every figure of
:mod:`backtest.plot` is drawn from data in the page. It shows, top to bottom:

- an ``INCOMPLETE: <error>`` banner when the run ended early (the whole error at the end);
- the statistics (:func:`backtest.stats.compute_stats`);
- equity and drawdown, the histogram of daily returns, monthly returns;
- for each traded symbol, its price with the fills marked (a note instead when the data store
  of the run is gone or lacks the symbol);
- the orders: how many, how they ended, and those that were rejected or left unfilled;
- the trades (the first :data:`MAX_TABLE_ROWS`; all of them are in ``trades.parquet``);
- the configuration of the run.

The same result always gives the same bytes: figures have fixed ids and nothing depends on the
clock. :func:`summary_html` is the small summary Jupyter shows for a result
(``BacktestResult._repr_html_``): headline statistics and an SVG sparkline, no JavaScript.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pyarrow as pa

from .errors import BacktestError
from .result import error_headline, format_stat, json_safe

if TYPE_CHECKING:
    from .result import BacktestResult

MAX_TABLE_ROWS: Final = 2000
"""The most rows the trades table shows; the page says when more were left out."""
MAX_ORDER_ROWS: Final = 200
"""The most rejected or unfilled orders listed."""

STAT_NAMES: Final = {
    "init_balance": "初始资金", "final_balance": "最终权益", "trading_days": "交易日数",
    "total_return": "总收益率", "ror": "收益率", "annual_return": "年化收益率",
    "annual_yield": "年化收益率", "max_drawdown": "最大回撤",
    "max_drawdown_amount": "最大回撤金额", "max_drawdown_duration": "最大回撤天数",
    "max_drawdown_start": "回撤开始", "max_drawdown_end": "回撤结束",
    "sharpe_ratio": "夏普比率", "sortino_ratio": "索提诺比率", "calmar_ratio": "卡玛比率",
    "daily_return_mean": "日均收益率", "daily_return_std": "日收益率标准差",
    "best_day": "最佳单日", "worst_day": "最差单日",
    "longest_winning_streak": "最长连盈天数", "longest_losing_streak": "最长连亏天数",
    "exposure": "持仓时间占比", "trades": "成交笔数", "round_trips": "回合数",
    "win_rate": "胜率", "winning_rate": "胜率", "profit_loss_ratio": "盈亏比",
    "profit_factor": "盈利因子", "expectancy": "每回合期望", "average_win": "平均盈利",
    "average_loss": "平均亏损", "average_holding_days": "平均持仓天数", "turnover": "成交额",
    "fees": "总费用", "commission": "手续费", "stamp_duty": "印花税", "transfer_fee": "过户费",
}  # fmt: skip
"""Chinese names shown beside the statistics' keys; the report lists statistics in this order
(others after them, by name), so a result read back from its run directory shows the same."""
HEADLINE_STATS: Final = (
    ("total_return", "ror"), ("annual_return", "annual_yield"), ("max_drawdown",),
    ("sharpe_ratio",), ("sortino_ratio",), ("win_rate", "winning_rate"), ("final_balance",),
    ("trading_days",), ("fees", "commission"),
)  # fmt: skip
"""The statistics :func:`summary_html` shows: the first present name of each group."""

_PLOTLY_CONFIG: Final = {"displaylogo": False, "responsive": True, "scrollZoom": False}
_STYLE: Final = """
body { font-family: system-ui, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif;
       margin: 0 auto; max-width: 1200px; padding: 0 16px 32px; color: #222; }
h1 { font-size: 1.5em; margin: 20px 0 4px; }
h2 { font-size: 1.2em; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.sub { color: #666; margin: 0 0 12px; }
.banner { background: #b00020; color: white; font-weight: bold; padding: 10px 14px;
          border-radius: 4px; margin: 12px 0; white-space: pre-wrap; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 8px 12px; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; }
td.num { text-align: right; }
thead th { background: #f4f4f4; position: sticky; top: 0; }
.zh { color: #888; margin-left: 6px; font-weight: normal; }
.scroll { max-height: 480px; overflow: auto; border: 1px solid #eee; }
.plot { margin: 8px 0; }
pre { background: #f7f7f7; padding: 10px; overflow: auto; font-size: 12px; }
"""


def write_report(result: BacktestResult, path: Path) -> Path:
    """Write :func:`report_html` of ``result`` to ``path`` (UTF-8) and return ``path``."""
    path.write_text(report_html(result), encoding="utf-8", newline="\n")
    return path


def report_html(result: BacktestResult) -> str:
    """The self-contained HTML report of ``result`` (see the module docstring)."""
    from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

    from . import plot

    symbols = plot.traded_symbols(result)
    figures = [
        ("equity", plot.equity_figure(result)),
        ("daily-returns", plot.returns_histogram(result)),
        ("monthly-returns", plot.monthly_returns_figure(result)),
    ]
    prices: list[str] = []
    for index, symbol in enumerate(symbols):
        try:
            figure = plot.price_figure(result, symbol)
        except (BacktestError, OSError, pa.ArrowException) as exc:
            prices.append(
                f'<p class="note" data-symbol="{_e(symbol)}">No price chart of {_e(symbol)}: '
                f"{_e(str(exc))}</p>"
            )
            continue
        prices.append(_figure_div(figure, f"price-{index}"))
    if not symbols:
        prices.append('<p class="note">No fills: no price chart.</p>')
    title = f"Backtest report 回测报告: {', '.join(symbols) or 'no trades'}, {_span(result)}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_STYLE}</style>",
        "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>",
        f"<script>{get_plotlyjs()}</script>",
        "</head>",
        "<body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="sub">{_e(_headline(result))}</p>',
        _banner(result),
        '<h2 id="statistics">Statistics <span class="zh">统计</span></h2>',
        _stats_table(result.stats),
        '<h2 id="performance">Equity and returns <span class="zh">权益与收益</span></h2>',
        *(_figure_div(figure, div_id) for div_id, figure in figures),
        '<h2 id="prices">Prices and fills <span class="zh">价格与成交</span></h2>',
        *prices,
        '<h2 id="orders">Orders <span class="zh">委托</span></h2>',
        _orders_section(result),
        '<h2 id="trades-heading">Trades <span class="zh">成交</span></h2>',
        _trades_section(result),
        '<h2 id="configuration">Configuration <span class="zh">配置</span></h2>',
        _config_table(result.config),
        _error_details(result),
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(part for part in parts if part is not None)


def summary_html(result: BacktestResult) -> str:
    """A compact HTML summary for notebooks: the incomplete banner, headline statistics, an SVG
    sparkline of the equity and the counts of orders and trades. No JavaScript."""
    names = [next((n for n in group if n in result.stats), None) for group in HEADLINE_STATS]
    rows = "".join(
        f'<tr><th style="text-align:left;padding:1px 8px">{_e(name)}'
        f'<span style="color:#888;font-weight:normal"> {STAT_NAMES.get(name, "")}</span></th>'
        f'<td style="text-align:right;padding:1px 8px">{_e(format_stat(name, result.stats[name]))}'
        f"</td></tr>"
        for name in names
        if name is not None
    )
    banner = (
        ""
        if result.complete
        else '<div style="background:#b00020;color:white;font-weight:bold;padding:4px 8px;'
        f'margin-bottom:6px">INCOMPLETE: {_e(error_headline(result.error))}</div>'
    )
    counts = (
        f"{len(result.orders):,} orders · {len(result.trades):,} trades · "
        f"{len(result.daily):,} trading days · {_span(result)}"
    )
    return (
        '<div class="backtest-result" style="font-family:system-ui,sans-serif;font-size:13px">'
        f"{banner}<div><b>BacktestResult</b> {_e(counts)}</div>"
        '<div style="display:flex;gap:16px;align-items:center">'
        '<table style="border-collapse:collapse;font-size:13px">'
        f"{rows}</table>{sparkline_svg(result)}</div>"
        "</div>"
    )


def sparkline_svg(result: BacktestResult, width: int = 240, height: int = 64) -> str:
    """The equity curve as a small inline SVG (red above the initial balance at the end,
    green below; the dashed line is the initial balance)."""
    equity = result.daily["equity"].to_numpy(dtype=np.float64)
    init = result.stats.get("init_balance")
    start = float(init) if isinstance(init, int | float) and math.isfinite(init) else None
    values = np.concatenate(([start], equity)) if start is not None else equity
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return ""
    if len(values) > width:
        values = values[np.unique(np.linspace(0, len(values) - 1, width).round().astype(int))]
    low, high = float(values.min()), float(values.max())
    scale = (height - 4) / (high - low) if high > low else 0.0

    def y_of(value: float) -> float:
        return height - 2 - (value - low) * scale if scale else height / 2

    xs = np.linspace(0, width, len(values))
    points = " ".join(f"{x:.1f},{y_of(float(v)):.1f}" for x, v in zip(xs, values, strict=True))
    color = "#d62728" if values[-1] >= values[0] else "#2ca02c"
    base = y_of(float(values[0]))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="equity curve">'
        f'<line x1="0" y1="{base:.1f}" x2="{width}" y2="{base:.1f}" stroke="#bbb" '
        'stroke-dasharray="3,3" stroke-width="1"/>'
        f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{points}"/></svg>'
    )


# --- sections ------------------------------------------------------------------------------


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _span(result: BacktestResult) -> str:
    start, end = result.config.get("start"), result.config.get("end")
    if start and end:
        return f"{start} to {end}"
    days = result.daily["trading_day"]
    return f"{days.iloc[0]} to {days.iloc[-1]}" if len(days) else "no trading days"


def _headline(result: BacktestResult) -> str:
    stats = result.stats
    groups = (("init_balance",), ("final_balance",), ("total_return", "ror"), ("max_drawdown",),
              ("trading_days",))  # fmt: skip
    names = [next((n for n in group if n in stats), None) for group in groups]
    pieces = [f"{name} {format_stat(name, stats[name])}" for name in names if name is not None]
    return " · ".join([*pieces, f"{len(result.orders):,} orders", f"{len(result.trades):,} trades"])


def _banner(result: BacktestResult) -> str | None:
    if result.complete:
        return None
    return (
        f'<div class="banner" id="incomplete" role="alert">INCOMPLETE: '
        f"{_e(error_headline(result.error))}</div>"
    )


def _error_details(result: BacktestResult) -> str | None:
    if result.complete or not result.error:
        return None
    return f'<h2 id="error">Error <span class="zh">错误</span></h2><pre>{_e(result.error)}</pre>'


def _stats_table(stats: dict[str, Any]) -> str:
    order = {name: i for i, name in enumerate(STAT_NAMES)}
    names = sorted(stats, key=lambda name: (order.get(name, len(order)), name))
    rows = "\n".join(
        f'<tr data-stat="{_e(name)}"><th>{_e(name)}<span class="zh">'
        f'{STAT_NAMES.get(name, "")}</span></th><td class="num">'
        f"{_e(format_stat(name, stats[name]))}</td></tr>"
        for name in names
    )
    return f'<table id="stats">\n{rows}\n</table>'


def _table(
    table_id: str, headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int]
) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "\n".join(
        "<tr>"
        + "".join(
            f'<td class="num">{_e(cell)}</td>' if i in numeric else f"<td>{_e(cell)}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="scroll"><table id="{table_id}"><thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{body}\n</tbody></table></div>"
    )


def _orders_section(result: BacktestResult) -> str:
    orders = result.orders
    if not len(orders):
        return '<p id="order-counts">0 orders.</p>'
    left, total = orders["volume_left"], orders["volume_orign"]
    rejected = orders["is_error"].astype(bool)
    counts = {
        "filled": int(((left == 0) & ~rejected).sum()),
        "partly filled": int(((left > 0) & (left < total) & ~rejected).sum()),
        "unfilled": int(((left == total) & ~rejected).sum()),
        "rejected": int(rejected.sum()),
    }
    summary = ", ".join(f"{count:,} {what}" for what, count in counts.items() if count)
    text = f'<p id="order-counts">{len(orders):,} orders: {_e(summary)}.</p>'
    unfilled = orders[(left > 0) | rejected]
    if not len(unfilled):
        return text
    from .plot import beijing_text

    shown = unfilled.iloc[:MAX_ORDER_ROWS]
    times = beijing_text(shown["insert_date_time"].to_numpy(dtype=np.int64), "s")
    rows = [
        [str(row.order_id), str(t), str(row.symbol), str(row.direction), str(row.offset),
         f"{row.volume_orign:,}", f"{row.volume_left:,}", f"{row.limit_price:g}",
         str(row.status), str(row.last_msg)]
        for row, t in zip(shown.itertuples(index=False), times, strict=True)
    ]  # fmt: skip
    more = (
        f"<p>The first {MAX_ORDER_ROWS:,} of {len(unfilled):,} are listed.</p>"
        if len(unfilled) > MAX_ORDER_ROWS
        else ""
    )
    headers = ("order", "inserted (Beijing)", "symbol", "direction", "offset", "volume",
               "left", "limit price", "status", "message")  # fmt: skip
    return (
        f"{text}\n<p>Rejected or not fully filled 未全部成交:</p>\n"
        f"{_table('unfilled-orders', headers, rows, {5, 6, 7})}{more}"
    )


def _trades_section(result: BacktestResult) -> str:
    from .plot import beijing_text

    trades = result.trades
    if not len(trades):
        return '<p id="trade-count">0 trades.</p>'
    shown = trades.iloc[:MAX_TABLE_ROWS]
    ns = shown["trade_date_time"].to_numpy(dtype=np.int64)
    times = beijing_text(ns, "ms" if (ns % 1_000_000_000).any() else "s")
    fees = [
        name for name in ("stamp_duty", "transfer_fee") if name in trades and trades[name].any()
    ]
    headers = ["trade", "order", "time (Beijing)", "trading day", "symbol", "direction",
               "offset", "price", "volume", "commission", *fees, "close profit"]  # fmt: skip
    rows = [
        [str(row["trade_id"]), str(row["order_id"]), str(t), str(row["trading_day"]),
         str(row["symbol"]), str(row["direction"]), str(row["offset"]), f"{row['price']:g}",
         f"{row['volume']:,}", f"{row['commission']:,.2f}",
         *(f"{row[name]:,.2f}" for name in fees), f"{row['close_profit']:,.2f}"]
        for row, t in zip(shown.to_dict(orient="records"), times, strict=True)
    ]  # fmt: skip
    count = (
        f"{len(trades):,} trades"
        if len(trades) <= MAX_TABLE_ROWS
        else f"{len(trades):,} trades; the first {MAX_TABLE_ROWS:,} are listed (all of them "
        f"are in trades.parquet)"
    )
    numeric = set(range(7, len(headers)))
    return f'<p id="trade-count">{_e(count)}.</p>\n' + _table("trades", headers, rows, numeric)


def _config_table(config: dict[str, Any]) -> str:
    rows = [
        [str(key), json.dumps(json_safe(value), ensure_ascii=False, sort_keys=True, default=str)]
        for key, value in sorted(config.items())
    ]
    return _table("config", ("setting", "value"), rows, set()).replace(' class="scroll"', "", 1)


def _figure_div(figure: Any, div_id: str) -> str:
    """A div drawn by ``Plotly.newPlot`` from the figure's JSON (fixed id: same bytes each
    time; ``</`` escaped so that no text in the data can close the script)."""
    import plotly.io as pio  # type: ignore[import-untyped]

    spec = pio.to_json(figure, validate=False, pretty=False, engine="json").replace("</", "<\\/")
    config = json.dumps(_PLOTLY_CONFIG, sort_keys=True)
    return (
        f'<div class="plot"><div id="{div_id}" class="plotly-graph-div"></div>\n'
        f"<script>(function () {{ var figure = {spec};\n"
        f'Plotly.newPlot("{div_id}", figure.data, figure.layout, {config}); }})();</script></div>'
    )
