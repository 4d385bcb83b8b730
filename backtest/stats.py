"""Backtest statistics, one documented function each, computed on trading days.

Inputs are the daily account snapshots taken at each trading day's settlement (night sessions
count in the trading day they belong to) and the fills. Conventions:

- ``annual_days`` (default 250, as tqsdk) is the number of trading days in a year; it is the
  only annualization constant.
- Daily returns: ``r_t = balance_t / balance_{t-1} − 1`` with ``balance_0`` the initial balance.
- The risk-free rate is annual; its daily equivalent is ``(1 + rf)^(1 / annual_days) − 1``.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .money import round_money

FloatArray = npt.NDArray[np.float64]


def daily_returns(balances: Sequence[float], init_balance: float) -> FloatArray:
    """``balance_t / balance_{t−1} − 1`` per trading day, the first against ``init_balance``."""
    equity = np.asarray([init_balance, *balances], dtype=np.float64)
    return equity[1:] / equity[:-1] - 1.0


def total_return(final_balance: float, init_balance: float) -> float:
    """Return over the whole backtest (tqsdk's ``ror``): ``final / initial − 1``."""
    return final_balance / init_balance - 1.0


def annual_return(total: float, trading_days: int, annual_days: int = 250) -> float:
    """Compound annual growth (tqsdk's ``annual_yield``): ``(1 + total)^(annual_days / days) − 1``.

    NaN when there are no trading days; −1 (everything lost) when the final balance is zero or
    negative (futures without forced liquidation can end below zero; a negative base has no
    real fractional power).
    """
    if trading_days <= 0:
        return math.nan
    if 1.0 + total <= 0.0:
        return -1.0
    return float((1.0 + total) ** (annual_days / trading_days) - 1.0)


def max_drawdown(balances: Sequence[float], init_balance: float) -> float:
    """Largest fall from a running peak, as a fraction of that peak (0.1 = 10%).

    The initial balance is the first peak.
    """
    equity = np.asarray([init_balance, *balances], dtype=np.float64)
    peaks = np.maximum.accumulate(equity)
    return float(np.max(1.0 - equity / peaks))


def _daily_risk_free(risk_free_rate: float, annual_days: int) -> float:
    return float((1.0 + risk_free_rate) ** (1.0 / annual_days) - 1.0)


def sharpe_ratio(returns: FloatArray, annual_days: int = 250, risk_free_rate: float = 0.0) -> float:
    """Annualized Sharpe ratio: ``√annual_days · mean(r − rf) / std(r − rf)``.

    The standard deviation is the sample one (ddof = 1). NaN with fewer than two days or no
    variation.
    """
    if len(returns) < 2:
        return math.nan
    excess = returns - _daily_risk_free(risk_free_rate, annual_days)
    deviation = float(np.std(excess, ddof=1))
    if deviation == 0.0:
        return math.nan
    return float(math.sqrt(annual_days) * np.mean(excess) / deviation)


def sortino_ratio(
    returns: FloatArray, annual_days: int = 250, risk_free_rate: float = 0.0
) -> float:
    """Annualized Sortino ratio (textbook): ``√annual_days · mean(r − rf) / DD``.

    ``DD = √(mean(min(r − rf, 0)²))`` over **all** days, not only the losing ones (Sortino and
    Price's downside deviation with the risk-free rate as the target). NaN with no days or no
    downside.
    """
    if len(returns) == 0:
        return math.nan
    excess = returns - _daily_risk_free(risk_free_rate, annual_days)
    downside = float(np.sqrt(np.mean(np.minimum(excess, 0.0) ** 2)))
    if downside == 0.0:
        return math.nan
    return float(math.sqrt(annual_days) * np.mean(excess) / downside)


def calmar_ratio(annual: float, drawdown: float) -> float:
    """Calmar ratio: annual return / max drawdown (NaN when there was no drawdown)."""
    return annual / drawdown if drawdown > 0 else math.nan


ROUND_TRIP_COLUMNS = (
    "symbol", "side", "volume", "entry_time", "exit_time", "entry_price", "exit_price",
    "pnl", "commission",
)  # fmt: skip


def round_trips(trades: pd.DataFrame, multiples: Mapping[str, float]) -> pd.DataFrame:
    """Pair closing fills with opening fills, first in first out, per symbol and side.

    Each matched piece (an opening fill's lots closed by one closing fill) is one round trip:
    ``pnl`` = (exit − entry) × volume × multiplier for a long (the opposite for a short) minus
    both fills' fees (commission, and for stocks stamp duty and transfer fee) pro rata to the
    volume; ``side`` is ``"LONG"`` or ``"SHORT"``; times are int ns. Open lots left at the end
    are not round trips.
    """
    opened: dict[tuple[str, str], deque[list[Any]]] = defaultdict(deque)
    pieces: list[tuple[Any, ...]] = []
    fees = _fees(trades)
    columns = ["symbol", "direction", "offset", "price", "volume", "trade_date_time"]
    rows = trades[columns].itertuples(index=False, name=None)
    for (symbol, direction, offset, price, volume, when), fee in zip(rows, fees, strict=True):
        buying = direction == "BUY"
        if offset == "OPEN":
            side = "LONG" if buying else "SHORT"
            opened[(symbol, side)].append([price, volume, fee / volume, when])
            continue
        side = "SHORT" if buying else "LONG"
        lots = opened[(symbol, side)]
        left = volume
        while left > 0 and lots:
            entry = lots[0]
            take = min(left, entry[1])
            sign = 1.0 if side == "LONG" else -1.0
            gross = sign * (price - entry[0]) * take * multiples[symbol]
            fees = entry[2] * take + fee * take / volume
            pieces.append((symbol, side, take, entry[3], when, entry[0], price, gross - fees, fees))
            entry[1] -= take
            left -= take
            if entry[1] == 0:
                lots.popleft()
    return pd.DataFrame(pieces, columns=list(ROUND_TRIP_COLUMNS))


def _fees(trades: pd.DataFrame) -> list[float]:
    total = trades["commission"].astype("float64")
    for name in ("stamp_duty", "transfer_fee"):
        if name in trades.columns:
            total = total + trades[name].astype("float64")
    return [float(x) for x in total]


def winning_rate(pnl: Sequence[float] | FloatArray) -> float:
    """Share of round trips with a positive net pnl (tqsdk's ``winning_rate``); NaN if none."""
    values = np.asarray(pnl, dtype=np.float64)
    return float(np.mean(values > 0)) if len(values) else math.nan


def profit_loss_ratio(pnl: Sequence[float] | FloatArray) -> float:
    """Average winning pnl / average losing pnl (absolute) over round trips; NaN without both."""
    values = np.asarray(pnl, dtype=np.float64)
    wins, losses = values[values > 0], values[values < 0]
    if not len(wins) or not len(losses):
        return math.nan
    return float(np.mean(wins) / -np.mean(losses))


def compute_stats(
    balances: Sequence[float],
    init_balance: float,
    trades: pd.DataFrame,
    multiples: Mapping[str, float],
    annual_days: int = 250,
    risk_free_rate: float = 0.0,
) -> dict[str, float | int]:
    """Every statistic of a run, tqsdk names included (``ror``, ``annual_yield``,
    ``winning_rate``, ``profit_loss_ratio``)."""
    days = len(balances)
    final = balances[-1] if days else init_balance
    returns = daily_returns(balances, init_balance)
    ror = total_return(final, init_balance)
    annual = annual_return(ror, days, annual_days)
    drawdown = max_drawdown(balances, init_balance)
    trips = round_trips(trades, multiples)
    pnl = trips["pnl"].to_numpy(dtype=np.float64)
    return {
        "init_balance": float(init_balance),
        "final_balance": float(final),
        "trading_days": days,
        "ror": ror,
        "annual_yield": annual,
        "max_drawdown": drawdown,
        "sharpe_ratio": sharpe_ratio(returns, annual_days, risk_free_rate),
        "sortino_ratio": sortino_ratio(returns, annual_days, risk_free_rate),
        "calmar_ratio": calmar_ratio(annual, drawdown),
        "winning_rate": winning_rate(pnl),
        "profit_loss_ratio": profit_loss_ratio(pnl),
        "round_trips": len(trips),
        "trades": len(trades),
        "commission": _total(trades, "commission"),
        "stamp_duty": _total(trades, "stamp_duty"),
        "transfer_fee": _total(trades, "transfer_fee"),
    }


def _total(trades: pd.DataFrame, column: str) -> float:
    if not len(trades) or column not in trades.columns:
        return 0.0
    return round_money(float(trades[column].sum()))
