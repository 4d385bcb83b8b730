"""A fake ``xtquant.xtdata`` serving the sample store in the real return shapes.

The shapes follow xtquant's own ``xtdata.py`` and its manual (see ``backtest/xtquant.py``):

- ``get_market_data_ex`` returns ``{code: DataFrame}``. Bars: columns ``time, open, high, low,
  close, volume, amount, settelementPrice, openInterest, preClose, suspendFlag``; ``time`` is
  int ms since the epoch of the bar's **end** (00:00 Beijing of the date for daily bars); the
  index holds time strings, ``'%Y%m%d'`` for 1d and ``'%Y%m%d%H%M%S'`` otherwise (Beijing).
  Ticks: ``time, lastPrice, open, high, low, lastClose, amount, volume, pvolume, stockStatus,
  openInt, lastSettlementPrice, askPrice, bidPrice, askVol, bidVol, settlementPrice,
  transactionNum`` with the four level fields as 5-element lists and the same second-resolution
  index (so ticks of one second share an index value, as in xtquant).
- Volumes of stocks and funds are in lots of 100, so the sample's shares are divided by 100
  (the sample is not always a whole number of lots: those volumes come out fractional, where
  xtquant would send integers). Prices of 0 mean "none": empty levels, a settlement not yet
  known.
- Data is only served after ``download_history_data2`` covered it, as miniQMT serves its local
  cache; 15m/30m/1h need the 5m download, as in xtquant.
- ``get_instrument_detail`` returns the 29 keys of ``iscomplete=False`` (``None`` for unknown
  codes) with xtquant's "unset" values for stocks (margin 1.797e308, ``ExpireDate`` 99999999,
  ``MainContract`` 2147483647); ``get_trading_dates`` a list of int ms of 00:00 Beijing;
  ``get_divid_factors`` ``pd.DataFrame(datas).T``: index ``YYYYMMDD``, float columns ``time,
  interest, stockBonus, stockGift, allotNum, allotPrice, gugai, dr``.

Data: ``data/store`` of this repository: 1m of 600009.SH, IF2003.IF and au1912.SF (5m, 15m, 30m
and 1h are built from it here, end-labelled and counted from each session's open, see
:func:`_aggregate`); ticks of IF2101.IF; daily bars of the A-share symbols; names, ticks,
multipliers and margins from ``instruments.parquet``; the SSE calendar. Not in the sample, so
placeholders: ``amount`` of the tqsdk/WonderTrader 1m bars (NaN), ``settelementPrice`` (0),
futures listing and expiry dates (first and last sample date), limit prices. The dividend
factors in :data:`DIVIDENDS` are illustrative values, not 浦发银行's real history.
``dividend_type`` is accepted but prices are never adjusted.

Test helpers (not in xtquant): :data:`calls` records every call, :func:`fail` makes a function
raise for a code, :func:`reset` forgets calls, failures and downloads.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backtest.instrument import InstrumentTable, classify_security
from backtest.model import DAY, TICK, ProductClass, Symbol
from backtest.store import Store

SAMPLE_STORE = Path(__file__).resolve().parents[3] / "data" / "store"
BAR_FIELDS = [
    "time", "open", "high", "low", "close", "volume", "amount", "settelementPrice",
    "openInterest", "preClose", "suspendFlag",
]  # fmt: skip
TICK_FIELDS = [
    "time", "lastPrice", "open", "high", "low", "lastClose", "amount", "volume", "pvolume",
    "stockStatus", "openInt", "lastSettlementPrice", "askPrice", "bidPrice", "askVol", "bidVol",
    "settlementPrice", "transactionNum",
]  # fmt: skip
DIVIDEND_FIELDS = [
    "time", "interest", "stockBonus", "stockGift", "allotNum", "allotPrice", "gugai", "dr",
]  # fmt: skip
BASE_PERIOD = {"tick": "tick", "1m": "1m", "5m": "5m", "15m": "5m", "30m": "5m", "1h": "5m"}
BASE_PERIOD["1d"] = "1d"
MINUTES = {"5m": 5, "15m": 15, "30m": 30, "1h": 60}
DBL_MAX = 1.7976931348623157e308
INT_UNSET = 2147483647
OFFSET_MS = 8 * 3600 * 1000
LATEST_NS = 4_102_444_800 * 10**9  # 2100-01-01
DIVIDENDS: dict[str, dict[str, dict[str, float]]] = {
    # illustrative: a cash dividend, a bonus + transfer with cash, a rights issue alone
    "600000.SH": {
        "20000706": {"interest": 0.15, "stockBonus": 0.0, "stockGift": 0.0, "allotNum": 0.0},
        "20060525": {"interest": 0.12, "stockBonus": 0.1, "stockGift": 0.2, "allotNum": 0.0},
        "20100611": {
            "interest": 0.0,
            "stockBonus": 0.0,
            "stockGift": 0.0,
            "allotNum": 0.188,
            "allotPrice": 18.03,
        },
    }
}
_DIVIDEND_EXTRA = {"allotPrice": 0.0, "gugai": 0.0, "dr": 1.0}

enable_hello = True
calls: list[tuple[str, dict[str, Any]]] = []
_failures: list[dict[str, Any]] = []
_downloaded: dict[tuple[str, str], list[tuple[float, float]]] = {}
_frames: dict[tuple[str, str], pd.DataFrame] = {}


# --- test helpers ----------------------------------------------------------------------------


def reset() -> None:
    """Forget calls, pending failures and what was downloaded."""
    global enable_hello
    enable_hello = True
    calls.clear()
    _failures.clear()
    _downloaded.clear()


def fail(
    function: str, code: str | None = None, times: int = 1, error: Exception | None = None
) -> None:
    """Make the next ``times`` calls of ``function`` (for ``code``, or any) raise ``error``."""
    error = error or RuntimeError("无法连接xtquant服务，请检查QMT-投研版或QMT-极简版是否开启")
    _failures.append({"function": function, "code": code, "times": times, "error": error})


def _check(function: str, code: str | None = None) -> None:
    for failure in _failures:
        wanted = failure["function"] == function and failure["code"] in (None, code)
        if wanted and failure["times"] > 0:
            failure["times"] -= 1
            raise failure["error"]


def _record(function: str, **arguments: Any) -> None:
    calls.append((function, arguments))


# --- xtdata's functions ----------------------------------------------------------------------


def download_history_data2(
    stock_list: list[str],
    period: str,
    start_time: str = "",
    end_time: str = "",
    callback: Callable[[dict[str, Any]], object] | None = None,
    incrementally: bool | None = None,
) -> None:
    """Mark ``[start_time, end_time]`` of each code and period as downloaded."""
    _record(
        "download_history_data2",
        stock_list=list(stock_list),
        period=period,
        start_time=start_time,
        end_time=end_time,
        incrementally=incrementally,
    )
    for finished, code in enumerate(stock_list, 1):
        _check("download_history_data2", code)
        span = (_ms(start_time, -math.inf), _ms(end_time, math.inf))
        _downloaded.setdefault((code, period), []).append(span)
        try:
            if callback:
                callback(
                    {"finished": finished, "total": len(stock_list), "stockcode": code,
                     "message": ""}
                )  # fmt: skip
        except Exception:  # xtquant ignores errors of the callback
            pass


def download_history_data(
    stock_code: str,
    period: str,
    start_time: str = "",
    end_time: str = "",
    incrementally: bool | None = None,
) -> None:
    """One-code version of :func:`download_history_data2`."""
    download_history_data2([stock_code], period, start_time, end_time, None, incrementally)


def get_market_data_ex(
    field_list: list[str] = [],  # noqa: B006 - xtquant's signature
    stock_list: list[str] = [],  # noqa: B006
    period: str = "1d",
    start_time: str = "",
    end_time: str = "",
    count: int = -1,
    dividend_type: str = "none",
    fill_data: bool = True,
) -> dict[str, pd.DataFrame]:
    """``{code: DataFrame}`` of the downloaded rows with ``start_time <= time <= end_time``."""
    _record(
        "get_market_data_ex",
        field_list=list(field_list),
        stock_list=list(stock_list),
        period=period,
        start_time=start_time,
        end_time=end_time,
        count=count,
        dividend_type=dividend_type,
        fill_data=fill_data,
    )
    result = {}
    for code in stock_list:
        _check("get_market_data_ex", code)
        full = _frame(code, period)
        times = full["time"].to_numpy(dtype=np.float64)
        keep = np.zeros(len(full), dtype=bool)
        for low, high in _downloaded.get((code, BASE_PERIOD.get(period, period)), []):
            keep |= (times >= low) & (times <= high)
        keep &= (times >= _ms(start_time, -math.inf)) & (times <= _ms(end_time, math.inf))
        rows = full[keep]
        if count is not None and count > 0:
            rows = rows.iloc[-count:]
        result[code] = rows[list(field_list)] if field_list else rows
    return result


def get_instrument_detail(stock_code: str, iscomplete: bool = False) -> dict[str, Any] | None:
    """The ``iscomplete=False`` dict of a sample symbol, or None."""
    _record("get_instrument_detail", stock_code=stock_code, iscomplete=iscomplete)
    _check("get_instrument_detail", stock_code)
    store = _store()
    row = store.instruments().get(stock_code)
    if row is None:
        return None
    symbol = Symbol.parse(stock_code)
    futures = symbol.exchange.is_futures
    first, last, last_close = _history(stock_code)
    margin = row.get("margin_ratio_long") if futures else DBL_MAX
    return {
        "ExchangeID": symbol.exchange.market,
        "InstrumentID": symbol.code,
        "InstrumentName": row["name"],
        "ProductID": symbol.product if futures else "",
        "ProductName": row["name"].rstrip("0123456789") if futures else "",
        "ExchangeCode": symbol.code,
        "UniCode": symbol.code,
        "CreateDate": first if futures else "0",
        "OpenDate": first,
        "ExpireDate": int(last) if futures else 99999999,
        "PreClose": last_close,
        "SettlementPrice": last_close,
        "UpStopPrice": round(last_close * 1.1, 2),
        "DownStopPrice": round(last_close * 0.9, 2),
        "FloatVolume": 0.0,
        "TotalVolume": 0.0,
        "LongMarginRatio": margin,
        "ShortMarginRatio": row.get("margin_ratio_short") if futures else DBL_MAX,
        "PriceTick": row["price_tick"],
        "VolumeMultiple": int(row["volume_multiple"]),
        "MainContract": 0 if futures else INT_UNSET,
        "LastVolume": 0 if futures else INT_UNSET,
        "InstrumentStatus": 0,
        "IsTrading": False,
        "IsRecent": False,
        "ProductTradeQuota": None,
        "ContractTradeQuota": None,
        "ProductOpenInterestQuota": None,
        "ContractOpenInterestQuota": None,
    }


def get_trading_dates(
    market: str, start_time: str = "", end_time: str = "", count: int = -1
) -> list[int]:
    """Trading days of the sample calendar as int ms of 00:00 Beijing time."""
    _record("get_trading_dates", market=market, start_time=start_time, end_time=end_time)
    _check("get_trading_dates", market)
    calendar = _store().calendar()
    days = [] if calendar is None else calendar.days()
    stamps = [_day_ms(day.strftime("%Y%m%d")) for day in days]
    low, high = _ms(start_time, -math.inf), _ms(end_time, math.inf)
    stamps = [t for t in stamps if low <= t <= high]
    return stamps[-count:] if count is not None and count > 0 else stamps


def get_divid_factors(stock_code: str, start_time: str = "", end_time: str = "") -> pd.DataFrame:
    """``pd.DataFrame(datas).T`` of :data:`DIVIDENDS`, as xtdata builds it."""
    _record("get_divid_factors", stock_code=stock_code, start_time=start_time, end_time=end_time)
    _check("get_divid_factors", stock_code)
    low, high = _ms(start_time, -math.inf), _ms(end_time, math.inf)
    datas = {}
    for day, values in DIVIDENDS.get(stock_code, {}).items():
        stamp = _day_ms(day)
        if low <= stamp <= high:
            record = {"time": stamp, **_DIVIDEND_EXTRA, **values}
            datas[day] = {name: record[name] for name in DIVIDEND_FIELDS}
    return pd.DataFrame(datas).T


def download_history_contracts() -> None:
    """No-op: the sample's expired contracts are always known here."""
    _record("download_history_contracts")


# --- the sample store in xtquant's shapes ------------------------------------------------------


def _store() -> Store:
    return Store(SAMPLE_STORE)


def _frame(code: str, period: str) -> pd.DataFrame:
    """The whole sample history of a code and period in xtquant's shape (cached)."""
    key = (code, period)
    if key not in _frames:
        _frames[key] = _build(code, period)
    return _frames[key]


def _build(code: str, period: str) -> pd.DataFrame:
    store = _store()
    empty = pd.DataFrame({name: [] for name in (TICK_FIELDS if period == "tick" else BAR_FIELDS)})
    if period == "tick":
        return _ticks(code) if store.has(code, TICK) else empty
    if period == "1d":
        return _bars(code, DAY) if store.has(code, DAY) else empty
    if period == "1m":
        return _bars(code, 60) if store.has(code, 60) else empty
    if period in MINUTES and store.has(code, 60):
        return _aggregate(code, _bars(code, 60), MINUTES[period])
    return empty


def _read(code: str, duration: int) -> pd.DataFrame:
    store = _store()
    columns = store.available_columns(code, duration)[1:]
    return store.tail(code, duration, LATEST_NS, 10**12, columns).to_pandas()


def _lot(code: str) -> float:
    symbol = Symbol.parse(code)
    if symbol.exchange.is_futures:
        return 1.0
    kind, _ = classify_security(symbol.code, symbol.exchange)
    return 100.0 if kind in (ProductClass.STOCK, ProductClass.FUND) else 1.0


def _whole(values: pd.Series) -> pd.Series:
    """int64 when every value is a whole number (xtquant's volume type), else float64."""
    if values.notna().all() and (values == values.round()).all():
        return values.astype(np.int64)
    return values.astype(np.float64)


def _bars(code: str, duration: int) -> pd.DataFrame:
    """Sample bars (start-labelled, shares) → xtquant bars (end-labelled, lots)."""
    data = _read(code, duration)
    start_ms = data["datetime"].to_numpy(dtype=np.int64) // 10**6
    time = start_ms if duration >= DAY else start_ms + duration * 1000
    nan = pd.Series(np.nan, index=data.index)
    futures = Symbol.parse(code).exchange.is_futures
    frame = pd.DataFrame(
        {
            "time": time.astype(np.int64),
            "open": data["open"],
            "high": data["high"],
            "low": data["low"],
            "close": data["close"],
            "volume": _whole(data["volume"] / _lot(code)),
            "amount": data.get("amount", nan),
            "settelementPrice": 0.0,
            "openInterest": _whole(data["close_oi"]) if futures else 0,
            "preClose": data["close"].shift(1),
            "suspendFlag": 0,
        }
    )
    frame.index = _index(frame["time"], duration >= DAY)
    return frame


def _aggregate(code: str, minutes_1: pd.DataFrame, minutes: int) -> pd.DataFrame:
    """N-minute bars from end-labelled 1m bars, counted from the open of each session.

    The bar ending at ``end`` holds the 1m bars ending in ``(end - N, end]``; the last bar of
    a session ends at the session's close (so 1h bars of A-shares end at 10:30, 11:30, 14:00
    and 15:00, as in QMT).
    """
    step = minutes * 60_000
    store = _store()
    sessions = InstrumentTable(store.instruments()).get(code).sessions
    calendar = store.calendar()
    ends = []
    for end in minutes_1["time"].to_numpy(dtype=np.int64):
        window = None if calendar is None else sessions.window((end - 60_000) * 10**6, calendar)
        if window is None:  # outside the sessions: clock buckets
            ends.append((end + OFFSET_MS + step - 1) // step * step - OFFSET_MS)
            continue
        opens, closes = window[0] // 10**6, window[1] // 10**6
        ends.append(min(opens + (end - opens + step - 1) // step * step, closes))
    key = pd.Series(ends, index=minutes_1.index)
    groups = minutes_1.groupby(key, sort=True)
    frame = pd.DataFrame(
        {
            "open": groups["open"].first(),
            "high": groups["high"].max(),
            "low": groups["low"].min(),
            "close": groups["close"].last(),
            "volume": _whole(groups["volume"].sum()),
            "amount": groups["amount"].sum(min_count=1),
            "settelementPrice": 0.0,
            "openInterest": groups["openInterest"].last(),
            "suspendFlag": 0,
        }
    )
    frame.insert(0, "time", frame.index.to_numpy(dtype=np.int64))
    frame.insert(len(BAR_FIELDS) - 2, "preClose", frame["close"].shift(1))
    frame.index = _index(frame["time"], False)
    return frame[BAR_FIELDS]


def _ticks(code: str) -> pd.DataFrame:
    """Sample ticks → xtquant ticks (level lists, 0 for unknown prices)."""
    data = _read(code, TICK).fillna(0.0)
    lot = _lot(code)
    futures = Symbol.parse(code).exchange.is_futures
    volume = (data["volume"] / lot).astype(np.int64)

    def level_list(name: str, scale: float = 1.0, kind: type = float) -> list[list[Any]]:
        values = data[name] / scale if name in data else pd.Series(0.0, index=data.index)
        return [[kind(v), kind(0), kind(0), kind(0), kind(0)] for v in values]

    frame = pd.DataFrame(
        {
            "time": data["datetime"].to_numpy(dtype=np.int64) // 10**6,
            "lastPrice": data["last_price"],
            "open": data["open"],
            "high": data["highest"],
            "low": data["lowest"],
            "lastClose": data["pre_close"],
            "amount": data["amount"],
            "volume": volume,
            "pvolume": volume,
            "stockStatus": 0,
            "openInt": data["open_interest"].astype(np.int64) if futures else 13,
            "lastSettlementPrice": data["pre_settlement"],
            "askPrice": level_list("ask_price1"),
            "bidPrice": level_list("bid_price1"),
            "askVol": level_list("ask_volume1", lot, int),
            "bidVol": level_list("bid_volume1", lot, int),
            "settlementPrice": data["settlement"],
            "transactionNum": 0.0,
        }
    )
    frame.index = _index(frame["time"], False)
    return frame


def _history(code: str) -> tuple[str, str, float]:
    """First and last sample date (``YYYYMMDD``) and the last close or price of a code."""
    store = _store()
    duration = store.durations(code)[0]
    data = _read(code, duration)
    stamps = _index(data["datetime"] // 10**6, True)
    price = data["last_price" if duration == TICK else "close"].iloc[-1]
    return str(stamps[0]), str(stamps[-1]), float(price)


def _index(times_ms: pd.Series, daily: bool) -> list[str]:
    """xtquant's index strings of int ms (Beijing wall clock)."""
    wall = pd.to_datetime(np.asarray(times_ms, dtype=np.int64) + OFFSET_MS, unit="ms")
    return list(wall.strftime("%Y%m%d" if daily else "%Y%m%d%H%M%S"))


def _day_ms(day: str) -> int:
    return int(_ms(day, 0))


def _ms(text: str, default: float) -> float:
    """int ms of xtquant's time argument ('', YYYYMMDD, YYYYMMDDhhmmss[.mmm]), Beijing time."""
    text = str(text).strip()
    if not text:
        return default
    whole, _, milli = text.partition(".")
    fmt = "%Y%m%d" if len(whole) == 8 else "%Y%m%d%H%M%S"
    wall = datetime.strptime(whole, fmt) - datetime(1970, 1, 1)
    return wall // timedelta(milliseconds=1) - OFFSET_MS + (int(milli) if milli else 0)
