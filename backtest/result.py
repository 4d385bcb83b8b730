"""The result of a backtest: orders, trades, daily account snapshots and statistics.

Everything is plain data (pandas DataFrames and a dict of numbers) built once when the run ends,
so results can be compared, written and read back.
"""

from __future__ import annotations

import json
import math
import operator
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

import pandas as pd

from .order import ORDER_COLUMNS, TRADE_COLUMNS, Order, Trade

FUTURES_COLUMNS = (
    "pre_balance", "static_balance", "balance", "available", "float_profit",
    "position_profit", "close_profit", "commission", "margin", "frozen_margin", "risk_ratio",
    "deposit", "withdraw",
)  # fmt: skip
STOCK_COLUMNS = (
    "stock_pre_total_asset", "stock_cash", "stock_frozen_cash", "stock_market_value",
    "stock_total_asset", "stock_commission", "stock_stamp_duty", "stock_transfer_fee",
)  # fmt: skip
DAILY_COLUMNS = ("trading_day", "equity", *FUTURES_COLUMNS, *STOCK_COLUMNS)
"""Columns of ``result.daily``: both accounts at each trading day's settlement.

``equity`` is the futures ``balance`` plus the stock ``stock_total_asset``, counting only the
accounts the strategy traded (the futures account when it traded nothing)."""


def orders_frame(orders: Sequence[Order]) -> pd.DataFrame:
    """Orders as a DataFrame with :data:`~backtest.order.ORDER_COLUMNS`, in insertion order."""
    frame = _records(orders, ORDER_COLUMNS)
    return frame.astype(
        {"volume_orign": "int64", "volume_left": "int64", "insert_date_time": "int64",
         "limit_price": "float64", "trade_price": "float64", "frozen_margin": "float64",
         "is_error": "bool"}
    )  # fmt: skip


def trades_frame(trades: Sequence[Trade]) -> pd.DataFrame:
    """Trades as a DataFrame with :data:`~backtest.order.TRADE_COLUMNS`, in fill order."""
    frame = _records(trades, TRADE_COLUMNS)
    return frame.astype(
        {"price": "float64", "volume": "int64", "trade_date_time": "int64",
         "commission": "float64", "close_profit": "float64"}
    )  # fmt: skip


def daily_frame(
    days: Sequence[tuple[date, Mapping[str, float]]], futures: bool = True, stocks: bool = False
) -> pd.DataFrame:
    """Daily account rows as a DataFrame with :data:`DAILY_COLUMNS`; ``futures`` and
    ``stocks`` say which accounts ``equity`` counts."""
    rows = []
    for day, values in days:
        equity = (values["balance"] if futures else 0.0) + (
            values["stock_total_asset"] if stocks else 0.0
        )
        rows.append([day, equity, *(values[name] for name in DAILY_COLUMNS[2:])])
    frame = pd.DataFrame(rows, columns=list(DAILY_COLUMNS))
    return frame.astype(dict.fromkeys(DAILY_COLUMNS[1:], "float64"))


_PERCENT_STATS = frozenset({"ror", "annual_yield", "max_drawdown", "winning_rate"})
_MONEY_STATS = frozenset(
    {"init_balance", "final_balance", "commission", "stamp_duty", "transfer_fee"}
)


def _format_stat(name: str, value: float | int) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if name in _PERCENT_STATS:
        return f"{value:.2%}"
    if name in _MONEY_STATS:
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4f}"


def _json_safe(value: Any) -> Any:
    """NaN and infinities become null (JSON has none); containers are converted recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _records(items: Sequence[object], columns: Sequence[str]) -> pd.DataFrame:
    """A DataFrame of the attributes ``columns`` of ``items``; enums become plain strings."""
    getter = operator.attrgetter(*columns)
    frame = pd.DataFrame([getter(item) for item in items], columns=list(columns))
    for name in columns:
        if len(frame) and isinstance(frame[name].iloc[0], Enum):
            frame[name] = [member.value for member in frame[name]]
    return frame


@dataclass(frozen=True)
class BacktestResult:
    """What a backtest produced.

    Attributes:
        stats: statistics by name (see :func:`backtest.stats.compute_stats` for each formula):
            ``ror``, ``annual_yield``, ``max_drawdown``, ``sharpe_ratio``, ``sortino_ratio``,
            ``calmar_ratio``, ``winning_rate``, ``profit_loss_ratio``, ``commission``,
            ``trading_days``, …
        trades: one row per fill; ``trade_date_time`` is int ns.
        orders: one row per order, with ``status``, ``last_msg``, ``volume_orign``,
            ``volume_left``, ``limit_price``…
        daily: one row per trading day: the account at settlement.
        config: the settings of the run (start, end, balance, data store…).
    """

    stats: dict[str, float | int]
    trades: pd.DataFrame
    orders: pd.DataFrame
    daily: pd.DataFrame
    config: dict[str, Any] = field(default_factory=dict)

    def stats_json(self) -> str:
        """The statistics as deterministic JSON (sorted keys, NaN as null)."""
        return json.dumps(_json_safe(self.stats), sort_keys=True, indent=2)

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write the result to ``directory`` (created if needed) and return its path.

        Files: ``result.json`` (config and stats), ``trades.csv``, ``orders.csv``,
        ``daily.csv``. The same result always gives byte-identical files.
        """
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        summary = {"config": self.config, "stats": self.stats}
        text = json.dumps(_json_safe(summary), sort_keys=True, indent=2, ensure_ascii=False)
        (path / "result.json").write_text(text + "\n", encoding="utf-8")
        for name in ("trades", "orders", "daily"):
            frame: pd.DataFrame = getattr(self, name)
            frame.to_csv(path / f"{name}.csv", index=False, lineterminator="\n")
        return path

    def summary(self) -> str:
        """The statistics as an aligned text table (percentages for rates, CNY to the cent)."""
        width = max((len(name) for name in self.stats), default=0)
        lines = [f"{name:<{width}}  {_format_stat(name, value)}" for name, value in
                 self.stats.items()]  # fmt: skip
        return "\n".join(lines)

    def __repr__(self) -> str:
        stats = self.stats
        return (
            f"<BacktestResult {stats.get('trading_days', 0)} trading days, "
            f"{len(self.trades)} trades, ror {stats.get('ror', math.nan):.4%}, "
            f"max drawdown {stats.get('max_drawdown', math.nan):.4%}>"
        )
