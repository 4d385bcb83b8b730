"""A-share trading rules, one small documented function each (DESIGN.md §7).

These are the rules a Chinese trader expects a fill to respect. Each is a pure function of its
inputs, parameterized where brokers differ (commission rate and minimum, transfer fee), with
dated tables where the law changed (stamp duty, transfer fee, ChiNext price limits).

- :func:`buy_volume_error` / :func:`sell_volume_error`: lots of 100 shares for buys (STAR
  board: at least 200, then any number); odd lots can only be sold as the whole remainder.
- :func:`price_limits`: limit-up and limit-down from the previous close, rounded to the tick;
  :func:`ex_rights_price`: the previous close on an ex-date.
- :func:`stamp_duty_rate`, :func:`transfer_fee`, :func:`commission_due`: the fees of a fill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from .money import round_money

LOT: Final = 100
"""Shares per board lot (手)."""
STAR_MIN_BUY: Final = 200
"""Minimum buy on the STAR board (科创板), after which any number of shares may be added."""

# --- volumes -------------------------------------------------------------------------------


def buy_volume_error(volume: int, board: str) -> str | None:
    """Why ``volume`` shares cannot be bought on ``board`` (None if they can).

    Main board, ChiNext, Beijing and funds: multiples of 100. STAR board: at least 200, then
    steps of 1.

    >>> buy_volume_error(150, "MAIN")
    'buys must be whole lots of 100 shares, was 150'
    >>> buy_volume_error(201, "STAR") is None
    True
    """
    if board == "STAR":
        if volume < STAR_MIN_BUY:
            return f"STAR-board buys need at least {STAR_MIN_BUY} shares, was {volume}"
        return None
    if volume % LOT:
        return f"buys must be whole lots of {LOT} shares, was {volume}"
    return None


def sell_volume_error(volume: int, holding: int, sellable: int, board: str) -> str | None:
    """Why ``volume`` shares cannot be sold from a holding (None if they can).

    ``holding`` is the whole position, ``sellable`` the part that may be sold today. A sale is
    whole lots, or includes the entire odd remainder (``holding % 100``) at once; on the STAR
    board a sale is at least 200 shares unless it sells everything that is left.
    """
    if volume > sellable:
        return f"selling {volume} shares exceeds the {sellable} sellable"
    if board == "STAR":
        if volume < STAR_MIN_BUY and volume != holding:
            return (
                f"STAR-board sells need at least {STAR_MIN_BUY} shares unless they sell the whole "
                f"remaining {holding}, was {volume}"
            )
        return None
    odd = holding % LOT
    if volume % LOT and volume % LOT != odd:
        return (
            f"sells must be whole lots of {LOT} shares or include the whole odd remainder of "
            f"{odd}, was {volume}"
        )
    return None


# --- price limits --------------------------------------------------------------------------

CHINEXT_20_PERCENT_FROM: Final = date(2020, 8, 24)
"""ChiNext limits widened from ±10% to ±20% on this day (registration-system reform)."""


def limit_ratio(board: str, is_st: bool, day: date) -> float:
    """The daily price-limit ratio of a stock: ±10% main board, ±20% ChiNext (from 2020-08-24;
    ±10% before) and STAR, ±30% Beijing, ±5% for ST stocks on the main board.

    >>> limit_ratio("CHINEXT", False, date(2020, 8, 21)), limit_ratio("CHINEXT", False, date(2020, 8, 24))
    (0.1, 0.2)
    """  # noqa: E501
    if board == "STAR":
        return 0.2
    if board == "CHINEXT":
        return 0.2 if day >= CHINEXT_20_PERCENT_FROM else (0.05 if is_st else 0.1)
    if board == "BSE":
        return 0.3
    return 0.05 if is_st else 0.1


REGISTRATION_FROM: Final = {
    "STAR": date(2019, 7, 22),
    "CHINEXT": date(2020, 8, 24),
    "MAIN": date(2023, 4, 10),
    "BSE": date(2021, 11, 15),
}
"""Since when listings of each board follow the registration system (five days unlimited)."""


def unlimited_days(board: str, list_date: date) -> int:
    """Trading days, counting the listing day, in which a new stock has no price limit.

    Listings under the registration system (STAR from 2019-07-22, ChiNext from 2020-08-24,
    Beijing from 2021-11-15, main board from 2023-04-10) trade without limits for five days;
    earlier listings only on their first day (the main board then capped day one at +44%/−36%,
    which is not modelled).
    """
    start = REGISTRATION_FROM.get(board)
    return 5 if start is not None and list_date >= start else 1


def price_limits(pre_close: float, ratio: float, tick: float = 0.01) -> tuple[float, float]:
    """Limit-up and limit-down: the previous close × (1 ± ratio), rounded half up to the tick.

    >>> price_limits(10.05, 0.1)
    (11.06, 9.05)
    """
    base = Decimal(repr(pre_close))
    step = Decimal(repr(tick))
    factor = Decimal(repr(ratio))
    return _to_tick(base * (1 + factor), step), _to_tick(base * (1 - factor), step)


def ex_rights_price(pre_close: float, cash: float, ratio: float, tick: float = 0.01) -> float:
    """The ex-rights (除权除息) reference price that stands for the previous close on an
    ex-date: (previous close − cash per share) / (1 + bonus shares per share), rounded half up
    to the tick, as the exchanges publish it. Today's price limits are taken from it.

    >>> ex_rights_price(10.0, 0.333, 0.0)  # 9.667
    9.67
    >>> ex_rights_price(10.0, 0.5, 0.3)  # 7.3077
    7.31
    """
    value = (Decimal(repr(pre_close)) - Decimal(repr(cash))) / (1 + Decimal(repr(ratio)))
    return _to_tick(value, Decimal(repr(tick)))


def _to_tick(value: Decimal, step: Decimal) -> float:
    return float((value / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step)


# --- fees ----------------------------------------------------------------------------------

STAMP_DUTY: Final = (
    (date(1991, 10, 10), 0.003, True),
    (date(1997, 5, 12), 0.005, True),
    (date(1998, 6, 12), 0.004, True),
    (date(2001, 11, 16), 0.002, True),
    (date(2005, 1, 24), 0.001, True),
    (date(2007, 5, 30), 0.003, True),
    (date(2008, 4, 24), 0.001, True),
    (date(2008, 9, 19), 0.001, False),
    (date(2023, 8, 28), 0.0005, False),
)
"""Stamp duty on A-share trades: (from date, rate, also charged on buys). Before 1991-10-10 the
first row applies. Since 2008-09-19 only sells pay."""


def stamp_duty_rate(day: date, selling: bool) -> float:
    """Stamp-duty rate on the turnover of a trade on ``day``.

    >>> stamp_duty_rate(date(2023, 8, 25), True), stamp_duty_rate(date(2023, 8, 28), True)
    (0.001, 0.0005)
    >>> stamp_duty_rate(date(2020, 1, 2), False)
    0.0
    """
    rate, both_sides = STAMP_DUTY[0][1], STAMP_DUTY[0][2]
    for start, table_rate, table_both in STAMP_DUTY:
        if day >= start:
            rate, both_sides = table_rate, table_both
    return rate if selling or both_sides else 0.0


TRANSFER_FEE_ON_TURNOVER_FROM: Final = date(2015, 8, 1)
TRANSFER_FEE_HALVED_FROM: Final = date(2022, 4, 29)
SSE_TRANSFER_FEE_CUT_FROM: Final = date(2012, 9, 1)


def transfer_fee(
    day: date, shanghai: bool, turnover: float, shares: int, rate: float | None = None
) -> float:
    """Transfer fee (过户费) of one fill, CNY, rounded to the cent: what the clearing house
    (CSDC) charges each side.

    With ``rate`` given, ``rate × turnover`` (a broker's own figure). Otherwise the dated rule:
    0.001% of turnover from 2022-04-29 and 0.002% from 2015-08-01, on both exchanges; before
    that, on Shanghai, 0.03% of the par value traded (0.3 CNY per 1,000 shares) from
    2012-09-01 and 0.0375% before, and on Shenzhen 0.00255% of turnover. (Sources: the
    SSE/SZSE/CSDC Q&A of 2015-07-03 on the August 2015 cut, and the 2012 notice of the 20%
    cut.) Many brokers charged retail clients more, e.g. 1 CNY per 1,000 Shanghai shares with a
    1 CNY minimum: give ``transfer_fee_rate`` to model a broker's terms.
    """
    if rate is not None:
        return round_money(rate * turnover)
    if day >= TRANSFER_FEE_HALVED_FROM:
        return round_money(0.00001 * turnover)
    if day >= TRANSFER_FEE_ON_TURNOVER_FROM:
        return round_money(0.00002 * turnover)
    if not shanghai:
        return round_money(0.0000255 * turnover)
    per_share = 0.0003 if day >= SSE_TRANSFER_FEE_CUT_FROM else 0.000375  # par value: 1 CNY
    return round_money(per_share * shares)


@dataclass(frozen=True)
class StockFees:
    """A broker's A-share fee terms.

    Attributes:
        commission_rate: commission on turnover, e.g. ``0.00025`` (0.025%).
        commission_min: minimum commission per order, CNY (charged once per order across its
            fills), e.g. ``5.0``.
        transfer_fee_rate: transfer fee on turnover; None follows the dated exchange rule of
            :func:`transfer_fee`. Funds pay none either way (nor stamp duty).
    """

    commission_rate: float = 0.00025
    commission_min: float = 5.0
    transfer_fee_rate: float | None = None


def commission_due(fees: StockFees, order_turnover: float, already_charged: float) -> float:
    """Commission to charge on a fill: the order's total so far, at least the minimum, minus what
    its earlier fills paid. ``order_turnover`` includes this fill.

    >>> commission_due(StockFees(), 10_000.0, 0.0)  # 2.50 < the 5.00 minimum
    5.0
    >>> commission_due(StockFees(), 40_000.0, 5.0)  # 10.00 over the order, 5.00 paid
    5.0
    """
    total = max(round_money(fees.commission_rate * order_turnover), fees.commission_min)
    return round_money(max(total - already_charged, 0.0))
