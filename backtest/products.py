"""Default contract specifications per exchange and futures product, in one place.

These defaults fill whatever the data store's ``instruments.parquet`` and a backtest's
``instruments=`` overrides leave out. Price ticks, multipliers and sessions are the exchanges'
published contract terms (current terms; where a term changed, the note says when). Margin
ratios and commissions are typical broker figures: **brokers' fees differ, so override them**
with your own (``Backtest(..., instruments={"rb": {...}})`` or the store).

Commission figures are CNY per lot when ``commission_unit`` is ``"lot"`` and a rate on turnover
(price × multiplier × volume) when it is ``"turnover"``; ``commission_close_today`` applies to
closing a position opened the same trading day. ``price_limit_ratio`` is the daily limit on the
previous settlement price where it has long been stable (CFFEX stock-index futures, ±10%);
other products take their limits from the data (tick upper/lower limits) or an override.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .model import CommissionUnit, Exchange

# Day sessions per exchange group; night sessions are per product below.
_CFFEX_INDEX: Final = "09:30-11:30,13:00-15:00"
_CFFEX_BOND: Final = "09:30-11:30,13:00-15:15"
_COMMODITY_DAY: Final = "09:00-10:15,10:30-11:30,13:30-15:00"
_NIGHT_2300: Final = "21:00-23:00," + _COMMODITY_DAY
_NIGHT_0100: Final = "21:00-01:00," + _COMMODITY_DAY
_NIGHT_0230: Final = "21:00-02:30," + _COMMODITY_DAY
STOCK_SESSIONS: Final = "09:30-11:30,13:00-15:00"
"""A-share and fund order-entry sessions (continuous trading and the closing call auction)."""

LOT: Final = CommissionUnit.LOT
TURNOVER: Final = CommissionUnit.TURNOVER


@dataclass(frozen=True, slots=True)
class ProductSpec:
    """Default terms of a futures product."""

    price_tick: float
    volume_multiple: float
    sessions: str
    margin_ratio: float
    commission_unit: CommissionUnit
    commission_open: float
    commission_close: float
    commission_close_today: float
    note: str = ""
    price_limit_ratio: float = 0.0


def _spec(
    tick: float,
    multiple: float,
    sessions: str,
    margin: float,
    unit: CommissionUnit,
    open_: float,
    close_today: float | None = None,
    note: str = "",
    limit: float = 0.0,
) -> ProductSpec:
    today = open_ if close_today is None else close_today
    return ProductSpec(tick, multiple, sessions, margin, unit, open_, open_, today, note, limit)


# fmt: off
FUTURES: Final[dict[tuple[Exchange, str], ProductSpec]] = {
    # CFFEX: stock index futures (close-today fee 10x) and treasury futures.
    (Exchange.CFFEX, "IF"): _spec(0.2, 300, _CFFEX_INDEX, 0.12, TURNOVER, 0.000023, 0.00023,
                                  "sessions 09:15-11:30,13:00-15:15 before 2016-01-01", 0.1),
    (Exchange.CFFEX, "IH"): _spec(0.2, 300, _CFFEX_INDEX, 0.12, TURNOVER, 0.000023, 0.00023,
                                  limit=0.1),
    (Exchange.CFFEX, "IC"): _spec(0.2, 200, _CFFEX_INDEX, 0.14, TURNOVER, 0.000023, 0.00023,
                                  limit=0.1),
    (Exchange.CFFEX, "IM"): _spec(0.2, 200, _CFFEX_INDEX, 0.14, TURNOVER, 0.000023, 0.00023,
                                  limit=0.1),
    (Exchange.CFFEX, "TS"): _spec(0.002, 20000, _CFFEX_BOND, 0.005, LOT, 3.0, 0.0),
    (Exchange.CFFEX, "TF"): _spec(0.005, 10000, _CFFEX_BOND, 0.012, LOT, 3.0, 0.0),
    (Exchange.CFFEX, "T"): _spec(0.005, 10000, _CFFEX_BOND, 0.02, LOT, 3.0, 0.0),
    (Exchange.CFFEX, "TL"): _spec(0.01, 10000, _CFFEX_BOND, 0.035, LOT, 3.0, 0.0),
    # SHFE
    (Exchange.SHFE, "au"): _spec(0.02, 1000, _NIGHT_0230, 0.08, LOT, 10.0, 0.0,
                                 "price tick 0.05 before 2019-12-10"),
    (Exchange.SHFE, "ag"): _spec(1, 15, _NIGHT_0230, 0.09, TURNOVER, 0.00005),
    (Exchange.SHFE, "cu"): _spec(10, 5, _NIGHT_0100, 0.09, TURNOVER, 0.00005, 0.0001),
    (Exchange.SHFE, "al"): _spec(5, 5, _NIGHT_0100, 0.09, LOT, 3.0, 0.0),
    (Exchange.SHFE, "zn"): _spec(5, 5, _NIGHT_0100, 0.09, LOT, 3.0, 0.0),
    (Exchange.SHFE, "pb"): _spec(5, 5, _NIGHT_0100, 0.09, TURNOVER, 0.00004),
    (Exchange.SHFE, "ni"): _spec(10, 1, _NIGHT_0100, 0.12, LOT, 3.0),
    (Exchange.SHFE, "sn"): _spec(10, 1, _NIGHT_0100, 0.12, LOT, 3.0),
    (Exchange.SHFE, "ss"): _spec(5, 5, _NIGHT_0100, 0.09, LOT, 2.0),
    (Exchange.SHFE, "rb"): _spec(1, 10, _NIGHT_2300, 0.1, TURNOVER, 0.0001),
    (Exchange.SHFE, "hc"): _spec(1, 10, _NIGHT_2300, 0.1, TURNOVER, 0.0001),
    (Exchange.SHFE, "ru"): _spec(5, 10, _NIGHT_2300, 0.1, LOT, 3.0),
    (Exchange.SHFE, "fu"): _spec(1, 10, _NIGHT_2300, 0.1, TURNOVER, 0.00005),
    (Exchange.SHFE, "bu"): _spec(1, 10, _NIGHT_2300, 0.1, TURNOVER, 0.00005),
    (Exchange.SHFE, "sp"): _spec(2, 10, _NIGHT_2300, 0.1, TURNOVER, 0.00005),
    (Exchange.SHFE, "wr"): _spec(1, 10, _COMMODITY_DAY, 0.1, TURNOVER, 0.00004),
    # INE
    (Exchange.INE, "sc"): _spec(0.1, 1000, _NIGHT_0230, 0.1, LOT, 20.0, 0.0),
    (Exchange.INE, "lu"): _spec(1, 10, _NIGHT_2300, 0.1, TURNOVER, 0.00005),
    (Exchange.INE, "nr"): _spec(5, 10, _NIGHT_2300, 0.1, TURNOVER, 0.00002),
    (Exchange.INE, "bc"): _spec(10, 5, _NIGHT_0100, 0.1, TURNOVER, 0.00001),
    # DCE
    (Exchange.DCE, "m"): _spec(1, 10, _NIGHT_2300, 0.08, LOT, 1.5),
    (Exchange.DCE, "y"): _spec(2, 10, _NIGHT_2300, 0.08, LOT, 2.5),
    (Exchange.DCE, "p"): _spec(2, 10, _NIGHT_2300, 0.1, LOT, 2.5),
    (Exchange.DCE, "a"): _spec(1, 10, _NIGHT_2300, 0.08, LOT, 2.0),
    (Exchange.DCE, "b"): _spec(1, 10, _NIGHT_2300, 0.08, LOT, 1.0),
    (Exchange.DCE, "c"): _spec(1, 10, _NIGHT_2300, 0.08, LOT, 1.2),
    (Exchange.DCE, "cs"): _spec(1, 10, _NIGHT_2300, 0.08, LOT, 1.5),
    (Exchange.DCE, "i"): _spec(0.5, 100, _NIGHT_2300, 0.13, TURNOVER, 0.0001),
    (Exchange.DCE, "j"): _spec(0.5, 100, _NIGHT_2300, 0.2, TURNOVER, 0.0001),
    (Exchange.DCE, "jm"): _spec(0.5, 60, _NIGHT_2300, 0.2, TURNOVER, 0.0001),
    (Exchange.DCE, "l"): _spec(1, 5, _NIGHT_2300, 0.08, LOT, 1.0),
    (Exchange.DCE, "v"): _spec(1, 5, _NIGHT_2300, 0.08, LOT, 1.0),
    (Exchange.DCE, "pp"): _spec(1, 5, _NIGHT_2300, 0.08, LOT, 1.0),
    (Exchange.DCE, "eg"): _spec(1, 10, _NIGHT_2300, 0.08, LOT, 3.0),
    (Exchange.DCE, "eb"): _spec(1, 5, _NIGHT_2300, 0.08, LOT, 3.0),
    (Exchange.DCE, "pg"): _spec(1, 20, _NIGHT_2300, 0.08, LOT, 6.0),
    (Exchange.DCE, "lh"): _spec(5, 16, _COMMODITY_DAY, 0.12, TURNOVER, 0.0001),
    # CZCE
    (Exchange.CZCE, "SR"): _spec(1, 10, _NIGHT_2300, 0.07, LOT, 3.0),
    (Exchange.CZCE, "CF"): _spec(5, 5, _NIGHT_2300, 0.07, LOT, 4.3),
    (Exchange.CZCE, "TA"): _spec(2, 5, _NIGHT_2300, 0.07, LOT, 3.0),
    (Exchange.CZCE, "MA"): _spec(1, 10, _NIGHT_2300, 0.08, TURNOVER, 0.0001),
    (Exchange.CZCE, "RM"): _spec(1, 10, _NIGHT_2300, 0.08, LOT, 1.5),
    (Exchange.CZCE, "OI"): _spec(1, 10, _NIGHT_2300, 0.08, LOT, 2.0),
    (Exchange.CZCE, "FG"): _spec(1, 20, _NIGHT_2300, 0.08, LOT, 6.0),
    (Exchange.CZCE, "SA"): _spec(1, 20, _NIGHT_2300, 0.08, LOT, 3.5),
    (Exchange.CZCE, "PF"): _spec(2, 5, _NIGHT_2300, 0.08, LOT, 3.0),
    (Exchange.CZCE, "AP"): _spec(1, 10, _COMMODITY_DAY, 0.1, LOT, 5.0),
    (Exchange.CZCE, "UR"): _spec(1, 20, _COMMODITY_DAY, 0.08, TURNOVER, 0.0001),
    (Exchange.CZCE, "SF"): _spec(2, 5, _COMMODITY_DAY, 0.12, LOT, 3.0),
    (Exchange.CZCE, "SM"): _spec(2, 5, _COMMODITY_DAY, 0.12, LOT, 3.0),
    # GFEX
    (Exchange.GFEX, "si"): _spec(5, 5, _COMMODITY_DAY, 0.09, TURNOVER, 0.0001),
    (Exchange.GFEX, "lc"): _spec(20, 1, _COMMODITY_DAY, 0.09, TURNOVER, 0.00008),
}
# fmt: on
"""Futures product defaults keyed by (exchange, product code)."""
