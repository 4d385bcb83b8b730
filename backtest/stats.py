"""Backtest statistics, one documented function each, computed on trading days.

Inputs are the daily account snapshots taken at each trading day's settlement (night sessions
count in the trading day they belong to), the fills, the round trips built from the fills and
the positions held at each settlement. Conventions:

- ``annual_days`` (default 250, as tqsdk) is the number of trading days in a year; it is the
  only annualization constant.
- Equity ``E_0`` is the initial balance, ``E_t`` the equity at the settlement of trading day
  ``t = 1 … n``. Daily returns: ``r_t = E_t / E_{t−1} − 1`` (NaN after a day that ended with
  no or negative equity: a return on nothing is undefined).
- The risk-free rate ``rf`` is annual; its daily equivalent is ``(1 + rf)^(1 / annual_days) − 1``.
- Round trips pair closing fills with opening fills, first in first out per symbol and side
  (on SHFE/INE a CLOSETODAY fill takes that day's lots; :func:`round_trips`); their ``pnl`` is
  net of the fees of both fills.
- Amounts are CNY; fractions are plain (0.1 = 10%). A statistic that is undefined (no days, no
  round trips, a division by zero) is NaN, a date that is undefined is ``""``: the dict holds
  only ``int``, ``float`` and ``str``, so it survives JSON (where NaN is written as null).

:func:`compute_stats` returns these keys, in this order (:data:`STAT_UNITS` gives their units):

``init_balance``
    ``E_0``, the equity before the first day.
``final_balance``
    ``E_n`` (``E_0`` when there are no days).
``trading_days``
    ``n``, the number of daily snapshots.
``total_return``
    ``E_n / E_0 − 1``.
``annual_return``
    CAGR: ``(1 + total_return)^(annual_days / n) − 1``; −1 when ``E_n ≤ 0``.
``max_drawdown``
    ``max_t (1 − E_t / max_{s≤t} E_s)``, the largest fall from a running peak as a fraction of
    that peak (the initial balance is the first peak).
``sharpe_ratio``
    ``√annual_days · mean(r − rf_daily) / std(r − rf_daily)``, sample standard deviation.
``sortino_ratio``
    ``√annual_days · mean(r − rf_daily) / √mean(min(r − rf_daily, 0)²)``, the downside
    deviation taken over all days (textbook Sortino).
``calmar_ratio``
    ``annual_return / max_drawdown``.
``max_drawdown_amount``
    Peak minus trough of the max drawdown, CNY.
``max_drawdown_duration``
    Trading days from the max drawdown's peak to the first day back at that peak, or to the
    last day when it never got back.
``max_drawdown_start``
    The max drawdown's first day below its peak (ISO date).
``max_drawdown_end``
    The max drawdown's trough day (ISO date).
``daily_return_mean``
    ``mean(r)``.
``daily_return_std``
    ``std(r)``, sample standard deviation (ddof = 1).
``best_day``
    ``max(r)``.
``worst_day``
    ``min(r)``.
``longest_winning_streak``
    Most consecutive trading days with ``r > 0``.
``longest_losing_streak``
    Most consecutive trading days with ``r < 0``.
``exposure``
    Trading days with a position held at settlement / ``n``.
``trades``
    Number of fills.
``round_trips``
    Number of round trips.
``win_rate``
    Round trips with ``pnl > 0`` / round trips.
``profit_loss_ratio``
    ``mean(winning pnl) / |mean(losing pnl)|``.
``profit_factor``
    ``sum(winning pnl) / |sum(losing pnl)|``.
``expectancy``
    ``mean(pnl)`` per round trip, CNY.
``average_win``
    ``mean(pnl)`` of the round trips with ``pnl > 0``, CNY.
``average_loss``
    ``mean(pnl)`` of the round trips with ``pnl < 0``, CNY (negative).
``average_holding_days``
    ``mean(exit_time − entry_time)`` of the round trips, in calendar days of 24 hours.
``turnover``
    ``Σ |price · volume · volume_multiple|`` over the fills, CNY.
``fees``
    ``commission + stamp_duty + transfer_fee``, CNY.
``commission``
    Sum of the fills' commissions, CNY.
``stamp_duty``
    Sum of the fills' stamp duty (A shares), CNY.
``transfer_fee``
    Sum of the fills' transfer fees (A shares), CNY.
``ror``, ``annual_yield``, ``winning_rate``
    tqsdk's names for ``total_return``, ``annual_return`` and ``win_rate`` (the same values;
    ``profit_loss_ratio`` is tqsdk's name too).
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from .model import DAY_SPLIT_EXCHANGES
from .money import round_money
from .times import NS_PER_DAY

FloatArray = npt.NDArray[np.float64]

STAT_UNITS: Final[Mapping[str, str]] = {
    "init_balance": "CNY",
    "final_balance": "CNY",
    "trading_days": "count",
    "total_return": "fraction",
    "annual_return": "fraction",
    "max_drawdown": "fraction",
    "sharpe_ratio": "ratio",
    "sortino_ratio": "ratio",
    "calmar_ratio": "ratio",
    "max_drawdown_amount": "CNY",
    "max_drawdown_duration": "trading days",
    "max_drawdown_start": "date",
    "max_drawdown_end": "date",
    "daily_return_mean": "fraction",
    "daily_return_std": "fraction",
    "best_day": "fraction",
    "worst_day": "fraction",
    "longest_winning_streak": "trading days",
    "longest_losing_streak": "trading days",
    "exposure": "fraction",
    "trades": "count",
    "round_trips": "count",
    "win_rate": "fraction",
    "profit_loss_ratio": "ratio",
    "profit_factor": "ratio",
    "expectancy": "CNY",
    "average_win": "CNY",
    "average_loss": "CNY",
    "average_holding_days": "days",
    "turnover": "CNY",
    "fees": "CNY",
    "commission": "CNY",
    "stamp_duty": "CNY",
    "transfer_fee": "CNY",
    "ror": "fraction",
    "annual_yield": "fraction",
    "winning_rate": "fraction",
}
"""Every key :func:`compute_stats` returns, in its order, with its unit: ``"CNY"``,
``"fraction"`` (0.1 = 10%), ``"ratio"``, ``"count"``, ``"trading days"``, ``"days"`` (calendar
days of 24 hours) or ``"date"`` (ISO ``YYYY-MM-DD``, ``""`` when undefined)."""


# --- returns -------------------------------------------------------------------------------


def daily_returns(balances: Sequence[float], init_balance: float) -> FloatArray:
    """``r_t = E_t / E_{t−1} − 1`` per trading day, the first against ``init_balance``.

    A fraction per day (0.01 = 1%). NaN for a day whose previous equity is zero or negative
    (futures without forced liquidation can end a day below zero; a return on it has no
    meaning), so every statistic built on the returns is NaN from then on.
    """
    equity = np.asarray([init_balance, *balances], dtype=np.float64)
    previous = equity[:-1]
    ratio = np.full(len(previous), math.nan)
    np.divide(equity[1:], previous, out=ratio, where=previous > 0.0)
    return ratio - 1.0


def total_return(final_balance: float, init_balance: float) -> float:
    """Return over the whole backtest (tqsdk's ``ror``): ``final / initial − 1``, a fraction."""
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


def daily_return_mean(returns: FloatArray) -> float:
    """Arithmetic mean of the daily returns, a fraction per day; NaN with no days."""
    return float(np.mean(returns)) if len(returns) else math.nan


def daily_return_std(returns: FloatArray) -> float:
    """Sample standard deviation (ddof = 1) of the daily returns; NaN with fewer than two days."""
    return float(np.std(returns, ddof=1)) if len(returns) >= 2 else math.nan


def best_day(returns: FloatArray) -> float:
    """The largest daily return, a fraction; NaN with no days."""
    return float(np.max(returns)) if len(returns) else math.nan


def worst_day(returns: FloatArray) -> float:
    """The smallest daily return, a fraction; NaN with no days."""
    return float(np.min(returns)) if len(returns) else math.nan


def longest_winning_streak(returns: FloatArray) -> int:
    """Most consecutive trading days with a positive return (0 with none).

    A flat day (``r = 0``) or an undefined one (NaN) ends a streak.
    """
    return _longest_run(returns > 0.0)


def longest_losing_streak(returns: FloatArray) -> int:
    """Most consecutive trading days with a negative return (0 with none).

    A flat day (``r = 0``) or an undefined one (NaN) ends a streak.
    """
    return _longest_run(returns < 0.0)


def _longest_run(flags: npt.NDArray[np.bool_]) -> int:
    longest = current = 0
    for flag in flags.tolist():
        current = current + 1 if flag else 0
        longest = max(longest, current)
    return longest


# --- risk ----------------------------------------------------------------------------------


def max_drawdown(balances: Sequence[float], init_balance: float) -> float:
    """Largest fall from a running peak, as a fraction of that peak (0.1 = 10%).

    ``max_t (1 − E_t / max_{s≤t} E_s)`` with ``E_0`` the initial balance, which is the first
    peak. 0 when the equity never fell; above 1 when it fell below zero.
    """
    return float(np.max(_falls(balances, init_balance)[2]))


@dataclass(frozen=True, slots=True)
class Drawdown:
    """The max drawdown of an equity curve (see :func:`max_drawdown_details`).

    Attributes:
        fraction: the fall from the peak to the trough over the peak (:func:`max_drawdown`).
        amount: peak minus trough, CNY (0 when there is no drawdown).
        duration: trading days from the peak to the first day back at the peak, or to the last
            day when the equity never got back (0 when there is no drawdown).
        start: the first trading day below the peak (None when there is no drawdown).
        end: the trough's trading day (None when there is no drawdown).
    """

    fraction: float
    amount: float
    duration: int
    start: date | None
    end: date | None


def max_drawdown_details(
    balances: Sequence[float], trading_days: Sequence[date], init_balance: float
) -> Drawdown:
    """The max drawdown's size, amount, duration and dates.

    The trough is the first day where ``1 − E_t / max_{s≤t} E_s`` reaches its maximum; the
    peak is the last day up to it with the equity at that running peak (possibly the initial
    balance, which has no day of its own: that is why the drawdown is dated by its first day
    below the peak, not by the peak). Example: initial 100, then 110, 99, 105, 121, 130: peak
    110 on day 1, start day 2, trough 99 on day 2 (10%, 11 CNY), back at 110 or above on
    day 4: duration 4 − 1 = 3 trading days.

    Args:
        balances: ``E_1 … E_n``, CNY.
        trading_days: the day of each balance.
        init_balance: ``E_0``, CNY.
    """
    return _drawdown(*_falls(balances, init_balance), trading_days)


def _falls(
    balances: Sequence[float], init_balance: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``E_0 … E_n``, their running peaks and ``1 − E_t / max_{s≤t} E_s``."""
    equity = np.asarray([init_balance, *balances], dtype=np.float64)
    peaks = np.maximum.accumulate(equity)
    with np.errstate(invalid="ignore", divide="ignore"):  # a non-finite balance: NaN falls
        return equity, peaks, 1.0 - equity / peaks


def _drawdown(
    equity: FloatArray, peaks: FloatArray, falls: FloatArray, trading_days: Sequence[date]
) -> Drawdown:
    """:func:`max_drawdown_details` from :func:`_falls` (NaN with a non-finite balance)."""
    if not np.isfinite(equity).all():
        return Drawdown(math.nan, math.nan, 0, None, None)
    trough = int(np.argmax(falls))
    if falls[trough] <= 0.0:
        return Drawdown(0.0, 0.0, 0, None, None)
    peak_value = peaks[trough]
    peak = int(np.flatnonzero(equity[: trough + 1] >= peak_value)[-1])
    back = np.flatnonzero(equity[trough:] >= peak_value)
    recovery = trough + int(back[0]) if len(back) else len(equity) - 1
    return Drawdown(
        float(falls[trough]),
        round_money(float(peak_value - equity[trough])),
        recovery - peak,
        trading_days[peak],  # equity index peak + 1 is day index peak
        trading_days[trough - 1],
    )


_NOISE = 1e-12
"""A deviation this small relative to the mean return is float rounding, not variation."""


def _daily_risk_free(risk_free_rate: float, annual_days: int) -> float:
    return float((1.0 + risk_free_rate) ** (1.0 / annual_days) - 1.0)


def sharpe_ratio(returns: FloatArray, annual_days: int = 250, risk_free_rate: float = 0.0) -> float:
    """Annualized Sharpe ratio: ``√annual_days · mean(r − rf) / std(r − rf)``.

    ``rf`` is the daily equivalent of the annual ``risk_free_rate``; the standard deviation is
    the sample one (ddof = 1). NaN with fewer than two days or no variation (a deviation that
    is only float rounding, below 1e-12 of the mean, counts as none).
    """
    if len(returns) < 2:
        return math.nan
    excess = returns - _daily_risk_free(risk_free_rate, annual_days)
    deviation = float(np.std(excess, ddof=1))
    if not deviation > _NOISE * abs(float(np.mean(excess))):
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


def exposure(positions: pd.DataFrame, trading_days: Sequence[date]) -> float:
    """Share of the trading days that ended with a position held at settlement (0 to 1).

    ``positions`` is ``result.positions`` (one row per position held at a settlement); a day
    counts when any row of it has a non-zero volume. NaN with no days.
    """
    if not trading_days:
        return math.nan
    volumes = positions[["pos_long_his", "pos_long_today", "pos_short_his", "pos_short_today"]]
    held = set(positions.loc[(volumes != 0).any(axis=1), "trading_day"])
    return sum(day in held for day in trading_days) / len(trading_days)


# --- round trips ---------------------------------------------------------------------------

ROUND_TRIP_COLUMNS = (
    "symbol", "side", "volume", "entry_time", "exit_time", "entry_price", "exit_price",
    "pnl", "fees", "holding_ns", "volume_multiple",
)  # fmt: skip
"""Columns of ``result.round_trips`` (see :func:`round_trips`)."""


def round_trips(trades: pd.DataFrame, multiples: Mapping[str, float]) -> pd.DataFrame:
    """Pair closing fills with opening fills, first in first out, per symbol and side.

    Each matched piece (an opening fill's lots closed by one closing fill) is one round trip,
    with the columns of :data:`ROUND_TRIP_COLUMNS`:

    - ``side``: ``"LONG"`` or ``"SHORT"``; ``volume``: the lots (shares) of the piece;
    - ``entry_time``, ``exit_time``: the two fills' times, int ns; ``holding_ns`` the
      difference;
    - ``entry_price``, ``exit_price``: the two fills' prices;
    - ``fees``: both fills' fees (commission, and for stocks stamp duty and transfer fee) pro
      rata to the volume, CNY;
    - ``pnl``: (exit − entry) × volume × multiplier for a long (the opposite for a short) minus
      ``fees``, CNY;
    - ``volume_multiple``: the contract multiplier from ``multiples`` (1 for stocks).

    On SHFE and INE a ``CLOSETODAY`` fill closes lots opened on its own trading day, as the
    exchange does (needs the ``exchange_id`` and ``trading_day`` columns of
    ``result.trades``; without them every close is first in first out). Open lots left at
    the end are not round trips, nor are lots a fill closes beyond those the fills opened:
    shares that came from a corporate action (bonus shares), which no fill opened.
    """
    opened: dict[tuple[str, str], deque[list[Any]]] = defaultdict(deque)
    pieces: list[tuple[Any, ...]] = []
    columns = ["symbol", "direction", "offset", "price", "volume", "trade_date_time"]
    split = {"exchange_id", "trading_day"} <= set(trades.columns)
    days = trades["trading_day"].tolist() if split else [None] * len(trades)
    exchanges = trades["exchange_id"].tolist() if split else [None] * len(trades)
    rows = trades[columns].itertuples(index=False, name=None)
    for (symbol, direction, offset, price, volume, when), fee, day, exchange in zip(
        rows, _fees(trades), days, exchanges, strict=True
    ):
        buying = direction == "BUY"
        if offset == "OPEN":
            side = "LONG" if buying else "SHORT"
            opened[(symbol, side)].append([price, volume, fee / volume, when, day])
            continue
        side = "SHORT" if buying else "LONG"
        lots = opened[(symbol, side)]
        today_only = offset == "CLOSETODAY" and exchange in DAY_SPLIT_EXCHANGES
        multiple = multiples[symbol]
        sign = 1.0 if side == "LONG" else -1.0
        left = volume
        # today's lots are the newest: scan from the oldest of them; else take the oldest
        entries = [entry for entry in lots if entry[4] == day] if today_only else lots
        for entry in entries:
            if left == 0:
                break
            take = min(left, entry[1])
            gross = sign * (price - entry[0]) * take * multiple
            fees = entry[2] * take + fee * take / volume
            pieces.append((symbol, side, take, entry[3], when, entry[0], price, gross - fees,
                           fees, when - entry[3], float(multiple)))  # fmt: skip
            entry[1] -= take
            left -= take
        if today_only:
            opened[(symbol, side)] = deque(entry for entry in lots if entry[1])
        else:
            while lots and not lots[0][1]:
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


def profit_factor(pnl: Sequence[float] | FloatArray) -> float:
    """Gross profit / gross loss: ``Σ winning pnl / |Σ losing pnl|`` over round trips.

    0 when nothing won; NaN without any losing round trip (no loss to divide by).
    """
    values = np.asarray(pnl, dtype=np.float64)
    losses = float(-np.sum(values[values < 0]))
    return float(np.sum(values[values > 0])) / losses if losses > 0 else math.nan


def expectancy(pnl: Sequence[float] | FloatArray) -> float:
    """Average net pnl per round trip, CNY (win rate × average win + loss rate × average loss).

    NaN without round trips.
    """
    values = np.asarray(pnl, dtype=np.float64)
    return float(np.mean(values)) if len(values) else math.nan


def average_win(pnl: Sequence[float] | FloatArray) -> float:
    """Average net pnl of the winning round trips (pnl > 0), CNY; NaN without any."""
    values = np.asarray(pnl, dtype=np.float64)
    wins = values[values > 0]
    return float(np.mean(wins)) if len(wins) else math.nan


def average_loss(pnl: Sequence[float] | FloatArray) -> float:
    """Average net pnl of the losing round trips (pnl < 0), CNY, a negative number; NaN
    without any."""
    values = np.asarray(pnl, dtype=np.float64)
    losses = values[values < 0]
    return float(np.mean(losses)) if len(losses) else math.nan


def average_holding_days(holding_ns: Sequence[int] | npt.NDArray[np.int64]) -> float:
    """Average time from entry to exit of the round trips, in calendar days of 24 hours
    (a trip opened on Friday's night session and closed on Monday counts about 2.6 days).

    NaN without round trips.
    """
    values = np.asarray(holding_ns, dtype=np.float64)
    return float(np.mean(values)) / NS_PER_DAY if len(values) else math.nan


# --- trading costs -------------------------------------------------------------------------


def turnover(trades: pd.DataFrame, multiples: Mapping[str, float]) -> float:
    """Traded value: ``Σ |price × volume × multiplier|`` over the fills, CNY (to the cent).

    Buys and sells both count. NaN when a traded symbol has no multiplier in ``multiples``.
    """
    if not len(trades):
        return 0.0
    factors = trades["symbol"].map(lambda symbol: multiples.get(symbol, math.nan))
    values = trades["price"].astype("float64") * trades["volume"] * factors.astype("float64")
    value = float(values.abs().sum(skipna=False))
    return round_money(value) if math.isfinite(value) else math.nan


def fee_total(trades: pd.DataFrame, kind: str) -> float:
    """Sum of one kind of fee over the fills, CNY (to the cent): ``kind`` is a column of the
    trades, ``"commission"``, ``"stamp_duty"`` or ``"transfer_fee"``; 0 without the column."""
    if not len(trades) or kind not in trades.columns:
        return 0.0
    return round_money(float(trades[kind].sum()))


# --- all of them ---------------------------------------------------------------------------


def compute_stats(
    daily: pd.DataFrame,
    init_balance: float,
    trades: pd.DataFrame,
    trips: pd.DataFrame,
    positions: pd.DataFrame,
    annual_days: int = 250,
    risk_free_rate: float = 0.0,
    *,
    multiples: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Every statistic of a run, keyed and ordered as :data:`STAT_UNITS` (formulas in the
    module docstring), tqsdk's names included (``ror``, ``annual_yield``, ``winning_rate``,
    ``profit_loss_ratio``).

    Values are ``int``, ``float`` (NaN when undefined) or ``str`` (ISO dates, ``""`` when
    undefined).

    Args:
        daily: one row per trading day with ``trading_day`` (``datetime.date``) and ``equity``
            (the traded accounts' value at settlement, CNY).
        init_balance: the equity before the first day, CNY.
        trades: the fills (``result.trades``).
        trips: the round trips (:func:`round_trips`).
        positions: the positions at each settlement (``result.positions``).
        annual_days: trading days per year, e.g. 250.
        risk_free_rate: annual risk-free rate for Sharpe and Sortino, e.g. 0.02.
        multiples: contract multiplier per symbol, for ``turnover``; by default those the
            round trips carry (``volume_multiple``), which miss a symbol that was never closed.
    """
    balances = daily["equity"].tolist()
    days: list[date] = daily["trading_day"].tolist()
    count = len(balances)
    final = balances[-1] if count else init_balance
    returns = daily_returns(balances, init_balance)
    ror = total_return(final, init_balance)
    annual = annual_return(ror, count, annual_days)
    equity, peaks, falls = _falls(balances, init_balance)  # built once for both
    drawdown = float(np.max(falls))  # as max_drawdown() computes it
    details = _drawdown(equity, peaks, falls, days)
    pnl = trips["pnl"].to_numpy(dtype=np.float64)
    if multiples is None:
        multiples = dict(zip(trips["symbol"], trips["volume_multiple"], strict=True))
    fees = {kind: fee_total(trades, kind) for kind in ("commission", "stamp_duty", "transfer_fee")}
    win_rate = winning_rate(pnl)
    stats: dict[str, Any] = {
        "init_balance": float(init_balance),
        "final_balance": float(final),
        "trading_days": count,
        "total_return": ror,
        "annual_return": annual,
        "max_drawdown": drawdown,
        "sharpe_ratio": sharpe_ratio(returns, annual_days, risk_free_rate),
        "sortino_ratio": sortino_ratio(returns, annual_days, risk_free_rate),
        "calmar_ratio": calmar_ratio(annual, drawdown),
        "max_drawdown_amount": details.amount,
        "max_drawdown_duration": details.duration,
        "max_drawdown_start": details.start.isoformat() if details.start else "",
        "max_drawdown_end": details.end.isoformat() if details.end else "",
        "daily_return_mean": daily_return_mean(returns),
        "daily_return_std": daily_return_std(returns),
        "best_day": best_day(returns),
        "worst_day": worst_day(returns),
        "longest_winning_streak": longest_winning_streak(returns),
        "longest_losing_streak": longest_losing_streak(returns),
        "exposure": exposure(positions, days),
        "trades": len(trades),
        "round_trips": len(trips),
        "win_rate": win_rate,
        "profit_loss_ratio": profit_loss_ratio(pnl),
        "profit_factor": profit_factor(pnl),
        "expectancy": expectancy(pnl),
        "average_win": average_win(pnl),
        "average_loss": average_loss(pnl),
        "average_holding_days": average_holding_days(trips["holding_ns"].to_numpy()),
        "turnover": turnover(trades, multiples),
        "fees": round_money(sum(fees.values())),
        **fees,
        "ror": ror,
        "annual_yield": annual,
        "winning_rate": win_rate,
    }
    return stats
