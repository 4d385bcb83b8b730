"""The result of a backtest: orders, trades, daily account snapshots and statistics.

Everything is plain data (pandas DataFrames and a dict of numbers) built once when the run ends,
so results can be compared, written and read back.
"""

from __future__ import annotations

import hashlib
import json
import math
import operator
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import Enum
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from .order import ORDER_COLUMNS, TRADE_COLUMNS, Order, Trade
from .positions import POSITION_COLUMNS, PositionRow
from .times import BEIJING

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
    """Orders as a DataFrame with :data:`~backtest.order.ORDER_COLUMNS`, in insertion order,
    and ``insert_datetime`` (Beijing time) beside tqsdk's int-ns ``insert_date_time``."""
    frame = _with_datetime(_records(orders, ORDER_COLUMNS), "insert_date_time", "insert_datetime")
    return frame.astype(
        {"volume_orign": "int64", "volume_left": "int64", "insert_date_time": "int64",
         "limit_price": "float64", "trade_price": "float64", "frozen_margin": "float64",
         "is_error": "bool"}
    )  # fmt: skip


def trades_frame(trades: Sequence[Trade]) -> pd.DataFrame:
    """Trades as a DataFrame with :data:`~backtest.order.TRADE_COLUMNS`, in fill order, and
    ``trade_datetime`` (Beijing time) beside tqsdk's int-ns ``trade_date_time``."""
    frame = _with_datetime(_records(trades, TRADE_COLUMNS), "trade_date_time", "trade_datetime")
    return frame.astype(
        {"price": "float64", "volume": "int64", "trade_date_time": "int64",
         "commission": "float64", "close_profit": "float64"}
    )  # fmt: skip


def _with_datetime(frame: pd.DataFrame, source: str, name: str) -> pd.DataFrame:
    """``frame`` with column ``name``: the int-ns ``source`` as Beijing time, right after it."""
    stamps = pd.to_datetime(frame[source].astype("int64"), unit="ns", utc=True)
    frame.insert(list(frame.columns).index(source) + 1, name, stamps.dt.tz_convert(BEIJING))
    return frame


def positions_frame(rows: Sequence[PositionRow]) -> pd.DataFrame:
    """Positions at settlements as a DataFrame with :data:`~backtest.positions.POSITION_COLUMNS`."""
    frame = _records(rows, POSITION_COLUMNS)
    return frame.astype(
        {"pos_long_his": "int64", "pos_long_today": "int64", "pos_short_his": "int64",
         "pos_short_today": "int64", "open_price_long": "float64", "open_price_short": "float64",
         "settlement_price": "float64", "market_value": "float64", "float_profit": "float64",
         "margin": "float64"}
    )  # fmt: skip


def round_trips_frame(rows: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """Round trips as a DataFrame with :data:`ROUND_TRIP_COLUMNS`."""
    from .stats import ROUND_TRIP_COLUMNS

    return pd.DataFrame(list(rows), columns=list(ROUND_TRIP_COLUMNS))


PRICE_COLUMNS: Final = ("symbol", "duration_s", "datetime", "close")
"""Columns of :attr:`BacktestResult.prices`."""


def prices_frame(
    symbol: str = "", duration_s: int = 0, times_ns: Any = (), close: Any = ()
) -> pd.DataFrame:
    """Chart bars of one symbol as a frame with :data:`PRICE_COLUMNS` (empty by default)."""
    times = np.asarray(times_ns, dtype=np.int64)
    return pd.DataFrame({
        "symbol": pd.Series([symbol] * len(times), dtype=object),
        "duration_s": np.full(len(times), duration_s, dtype=np.int64),
        "datetime": times,
        "close": np.asarray(close, dtype=np.float64),
    })  # fmt: skip


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


def accounts_used(is_futures: Iterable[bool]) -> tuple[bool, bool]:
    """(futures, stocks): whether the futures and the stock account were used, from whether
    each traded symbol is a futures contract; without any trade, the futures account alone.
    ``equity`` (:func:`daily_frame`) counts these accounts (rejected or unfilled orders do not
    count)."""
    kinds = set(is_futures)
    return True in kinds or not kinds, False in kinds


def format_stat(name: str, value: Any) -> str:
    """A statistic for people: fractions as percentages, CNY to the cent (units from
    :data:`backtest.stats.STAT_UNITS`)."""
    from .stats import STAT_UNITS

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, str):
        return value or "n/a"
    unit = STAT_UNITS.get(name, "")
    if unit == "fraction":
        return f"{value:.2%}"
    if unit == "CNY":
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4f}"


def config_hash(config: Mapping[str, Any]) -> str:
    """SHA-256 of a run's config as canonical JSON (sorted keys): what identifies a run.

    Locations are left out — the data store's (``data``; its content fingerprint
    ``data_fingerprint`` stays) and the strategy file's (``strategy.path``; its SHA-256 and
    params stay) — so the same run in another checkout has the same hash.
    """
    portable = {key: value for key, value in config.items() if key != "data"}
    strategy = portable.get("strategy")
    if isinstance(strategy, Mapping):
        portable["strategy"] = {k: v for k, v in strategy.items() if k != "path"}
    text = json.dumps(json_safe(portable), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def error_headline(error: str | None) -> str:
    """What went wrong, in one line: the first line of a result's ``error`` (``ValueError:
    boom``, or ``interrupted at simulated time …``); for an error that is a bare Python
    traceback, the exception line after its last stack frame."""
    lines = (error or "").strip().splitlines()
    if not lines:
        return "unknown error"
    if lines[0].startswith("Traceback"):
        last_frame = max(i for i, line in enumerate(lines) if line[:1].isspace() or i == 0)
        if last_frame + 1 < len(lines):
            return lines[last_frame + 1]
    return lines[0]


def json_safe(value: Any) -> Any:
    """``value`` as JSON can hold it: NaN and infinities become null, dates and times ISO
    strings, numpy scalars Python numbers; containers are converted recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and not isinstance(value, str | bytes):
        return json_safe(item())
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
        positions: the positions held at each settlement (:mod:`backtest.positions`).
        round_trips: closing fills matched to opening fills, FIFO per symbol and side
            (:func:`backtest.stats.round_trips`).
        prices: the bars charted for each traded symbol (:func:`backtest.plot.price_bars`),
            kept by :meth:`save` so that a run directory charts its prices without the data
            store; empty for a result fresh from a run (the chart then reads the store).
        complete: False when the run ended early (the strategy raised, or was interrupted);
            ``error`` then says how.
        error: how an incomplete run ended, else None: the exception's line (``ValueError:
            boom``), a blank line and its traceback; or ``interrupted at simulated time …``.
    """

    stats: dict[str, Any]
    trades: pd.DataFrame
    orders: pd.DataFrame
    daily: pd.DataFrame
    config: dict[str, Any] = field(default_factory=dict)
    positions: pd.DataFrame = field(default_factory=lambda: positions_frame([]))
    round_trips: pd.DataFrame = field(default_factory=lambda: round_trips_frame([]))
    prices: pd.DataFrame = field(default_factory=prices_frame)
    complete: bool = True
    error: str | None = None

    def stats_json(self) -> str:
        """The statistics as deterministic JSON (sorted keys, NaN as null)."""
        return json.dumps(json_safe(self.stats), sort_keys=True, indent=2)

    def save(
        self,
        directory: str | os.PathLike[str],
        *,
        csv: bool = False,
        report: bool = True,
        qifi: bool = True,
    ) -> Path:
        """Write the run directory (see :mod:`backtest.rundir`) and return its path.

        ``result.json``, the tables as Parquet (and CSV with ``csv=True``), ``qifi/`` and
        ``report.html``. The same result always gives byte-identical files.
        """
        from .rundir import save_run

        return save_run(self, Path(directory), csv=csv, report=report, qifi=qifi)

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> BacktestResult:
        """Read a run directory written by :meth:`save` (or ``backtest run``).

        Raises:
            DataError: the directory is not a run directory, or was written by a newer version.
        """
        from .rundir import load_run

        return load_run(Path(directory))

    def summary(self) -> str:
        """The statistics as an aligned text table (percentages for rates, CNY to the cent)."""
        width = max((len(name) for name in self.stats), default=0)
        lines = [f"{name:<{width}}  {format_stat(name, value)}" for name, value in
                 self.stats.items()]  # fmt: skip
        if not self.complete:
            lines.append(f"{'complete':<{width}}  no: {error_headline(self.error)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        stats = self.stats
        state = "" if self.complete else " (incomplete)"
        return (
            f"<BacktestResult{state} {stats.get('trading_days', 0)} trading days, "
            f"{len(self.trades)} trades, ror {stats.get('ror', math.nan):.4%}, "
            f"max drawdown {stats.get('max_drawdown', math.nan):.4%}>"
        )

    def plot(self, symbol: str | None = None) -> Any:
        """A plotly figure: equity and drawdown, or with ``symbol`` (``"IF2003.IF"``) that
        symbol's price with the fills marked. Jupyter displays it; ``.show()`` elsewhere.

        Raises:
            DataError: with ``symbol``, the run's data store is gone or lacks the symbol.
        """
        from .plot import equity_figure, price_figure

        return equity_figure(self) if symbol is None else price_figure(self, symbol)

    def _repr_html_(self) -> str:
        """Jupyter's view: headline statistics, an equity sparkline, order and trade counts."""
        from .report import summary_html

        return summary_html(self)
