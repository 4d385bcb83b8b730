"""QIFI export: a backtest result as QUANTAXIS account snapshots, one per trading day.

QIFI is QUANTAXIS's account document (derived from shinnytech's DIFF, so its orders, trades and
positions use tqsdk's field names). :func:`write_qifi` writes ``<YYYYMMDD>.json`` for every
trading day of ``result.daily``: the account at that day's settlement, its positions, and the
orders and fills of that day. QUANTAXIS's ``QA_QIFIMANAGER`` reads them from the
``quantaxis.history`` collection, one document per ``(account_cookie, trading_day)``::

    history = pymongo.MongoClient().quantaxis.history
    for path in sorted(Path("runs/double_ma/qifi").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        key = {"account_cookie": doc["account_cookie"], "trading_day": doc["trading_day"]}
        history.replace_one(key, doc, upsert=True)
    QA_QIFIMANAGER(doc["account_cookie"]).get_historyassets()  # accounts.balance by day

The field names and their order follow, verbatim:

- yutiansut/QIFI ``README.md`` (the protocol's annotated example document) and ``qifi.proto``;
- QUANTAXIS/qifi-rs ``src/account.rs`` (the serde structs QUANTAXIS's Rust tools read: every
  field is required except ``databaseip``, ``event`` and ``ping_gap``, and numbers must be
  numbers, so nothing here is ``null`` or NaN);
- yutiansut/QUANTAXIS ``QUANTAXIS/QIFI/QifiAccount.py`` (``QIFI_Account.message`` and
  ``account_msg``, the Python writer: the top-level key order, plus ``model``, ``sourceid`` and
  ``frozen``; its ``model="BACKTEST"`` documents are what ``QifiManager.py`` reads back).

Decisions:

- **Dates.** ``trading_day`` is ``"YYYY-MM-DD"``, as ``QIFI_Account`` writes it in every mode
  (the README's live example shows ``"20190909"``; ``QA_QIFIMANAGER`` parses either, but queries
  compare strings). Times are tqsdk's int ns since the epoch (``insert_date_time``,
  ``trade_date_time``). ``updatetime`` is ``""``, as ``QIFI_Account`` leaves it in backtests.
- **Which day an order or fill belongs to.** Trading day D ends at 18:00 Beijing time on D
  (DESIGN.md §2: the next day starts then), so an order or fill belongs to the first day of
  ``result.daily`` whose 18:00 is after its time (``insert_date_time`` for orders,
  ``trade_date_time`` for fills). A night session therefore belongs to the next trading day,
  Friday night to Monday, the evening before a holiday to the day after it; this agrees with
  each fill's ``trading_day``. No order outlives its day (day orders expire at settlement), so
  each order appears once, in its final state.
- **Two accounts, one document.** QIFI has one ``accounts`` block per document, and
  ``QIFI_Account`` is deliberately cross-market (stock and futures positions side by side). The
  block describes the accounts the strategy traded, by the rule of ``result.daily.equity``: the
  futures account when it traded futures or nothing, the stock account when it traded stocks,
  and their sum (field by field) when it traded both. So ``accounts.balance`` always equals
  ``equity``, the series the statistics are computed on and ``QA_QIFIMANAGER`` plots. Every
  position of either account is listed; ``result.daily`` keeps each account's own columns.
- **Identity.** ``account_cookie`` (also every ``user_id``) defaults to ``"backtest_"`` plus the
  first 12 hex digits of the run's config hash (``result.json``'s ``config_hash``), so two runs
  loaded into one database do not overwrite each other and the same run replaces itself.
- **Keys.** Positions are keyed ``"<exchange_id>_<instrument_id>"`` (``"CFFEX_IF2003"``), as in
  the README (dots in keys are trouble in MongoDB, where QIFI documents live). Orders and fills are
  keyed by ``order_id`` and ``trade_id``. ``exchange_id`` is the exchange's DIFF/tqsdk id
  (``SHFE``, ``DCE``, ``CZCE``, ``CFFEX``, ``INE``, ``GFEX``, ``SSE``, ``SZSE``, ``BSE``);
  ``instrument_id`` is the exchange's code (``rb2405``, ``600000``).
- **No value.** Where the backtest has NaN (the open price of an empty side, a market order's
  limit price, the risk ratio of a non-positive balance) QIFI gets its neutral 0. Fields the
  backtest does not know get QIFI's neutral value: 0, ``""`` or ``{}``.

Top level (``d`` is the day's row of ``result.daily``; keys in ``QIFI_Account.message``'s
order):

- ``account_cookie``: see Identity; ``model``: ``"BACKTEST"``; ``broker_name`` and
  ``sourceid``: ``"backtest"``; ``portfolio``: ``"default"`` (the README's);
- ``ping_gap`` 5 and ``status`` 200 (``QIFI_Account``'s constants);
- ``money`` (QIFI: 当前可用现金): ``accounts.available``;
- ``trading_day``: ``d.trading_day`` as ``"YYYY-MM-DD"``;
- ``password``, ``databaseip``, ``capital_password``, ``bank_password``, ``bankid``,
  ``investor_name``, ``pub_host``, ``trade_host``, ``taskid``, ``updatetime``, ``wsuri``,
  ``bankname``: ``""``;
- ``event``, ``transfers``, ``banks``, ``frozen``, ``settlement``: ``{}`` (no order is alive at
  settlement, so nothing is frozen; deposits and withdrawals are in ``accounts``);
- ``accounts``, ``positions``, ``orders``, ``trades``: below.

``accounts`` (futures: the columns of ``result.daily``; stocks: mapped as shown):

=====================  ==============================  ========================================
QIFI                   futures account                 stock account
=====================  ==============================  ========================================
``user_id``            account_cookie                  account_cookie
``currency``           ``"CNY"``                       ``"CNY"``
``pre_balance``        ``pre_balance``                 ``stock_pre_total_asset``
``deposit``            ``deposit``                     0
``withdraw``           ``withdraw``                    0
``WithdrawQuota``      0                               0
``close_profit``       ``close_profit``                the day's sells' ``close_profit`` (net
                                                       of their fees, against the shares' cost)
``commission``         ``commission``                  ``stock_commission`` +
                                                       ``stock_stamp_duty`` +
                                                       ``stock_transfer_fee`` (QIFI has one
                                                       fee field)
``premium``            0                               0
``static_balance``     ``static_balance``              ``stock_pre_total_asset``
``position_profit``    ``position_profit``             the day's change: ``balance − static −
                                                       close_profit + commission``
``float_profit``       ``float_profit``                the day's stock positions'
                                                       ``float_profit`` (value − cost)
``balance``            ``balance``                     ``stock_total_asset``
``margin``             ``margin``                      0
``frozen_margin``      ``frozen_margin``               ``stock_frozen_cash`` (as
                                                       ``QIFI_Account`` freezes a buy's cash)
``frozen_commission``  0                               0
``frozen_premium``     0                               0
``available``          ``available``                   ``stock_cash``
``risk_ratio``         ``risk_ratio``                  0 (no margin)
=====================  ==============================  ========================================

When both accounts traded, the money fields are the sums of the two columns (rounded to the
cent) and ``risk_ratio`` is ``margin / balance`` of the sums.

``positions`` (one per row ``p`` of ``result.positions`` for the day; ``long`` is
``p.pos_long_his + p.pos_long_today``; a position "on one side" holds long or short lots only):

====================================  =========================================================
``user_id``                           account_cookie
``exchange_id``, ``instrument_id``    parsed from ``p.symbol``
``volume_long_today``                 ``p.pos_long_today`` (and ``pos_long_today``)
``volume_long_his``                   ``p.pos_long_his`` (and ``pos_long_his``)
``volume_long``                       ``long``
``volume_long_yd``                    the long volume at the previous trading day's
                                      settlement (0 on the first day; for stocks, before any
                                      split that day)
``volume_long_frozen*``               0 (no order is alive at settlement)
``open_price_long``                   ``p.open_price_long`` (stocks: cost per share, buy fees
                                      included)
``open_cost_long``                    ``p.market_value − p.float_profit`` when long on one
                                      side, else 0
``float_profit_long``                 ``p.float_profit`` when long on one side, else 0 (the
                                      split of a two-sided position is not recorded)
``margin_long``                       ``p.margin`` when long on one side, else 0
``position_price_long``               stocks: the open field (not marked to market); futures:
                                      0 (yesterday's settlement of each lot is not recorded
                                      per position; the account's total is in ``accounts``)
``position_cost_long``                likewise
``position_profit_long``              likewise
``last_price``                        ``p.settlement_price`` (the price the day settled at)
``float_profit``, ``margin``          ``p.float_profit``, ``p.margin``
``position_profit``                   stocks: ``p.float_profit``; futures: 0 (as above)
====================================  =========================================================

The ``short`` fields mirror the ``long`` ones (``open_cost_short`` is
``p.float_profit − p.market_value``).

``orders`` (row ``o`` of ``result.orders``) and ``trades`` (row ``t`` of ``result.trades``):
every QIFI field has the tqsdk column of the same name (``exchange_id``, ``instrument_id``,
``direction``, ``offset``, ``volume_orign``, ``price_type``, ``limit_price`` (0 for a market
order), ``time_condition``, ``volume_condition``, ``insert_date_time``, ``status``,
``volume_left``, ``last_msg``; ``trade_id``, ``order_id``, ``exchange_trade_id``, ``volume``,
``price``, ``trade_date_time``) except: ``user_id`` is the account_cookie; ``seqno`` numbers
the day's orders and fills together in time order from 1 (as ``QIFI_Account`` does; at equal
times orders come first, then each table's own order); ``exchange_order_id`` is ``""`` for an
order the exchange never accepted; a fill's ``commission`` is ``t.commission + t.stamp_duty +
t.transfer_fee``, so the day's fills add up to ``accounts.commission``.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, cast

import numpy as np
import pandas as pd

from .calendar import DAY_START_HOUR
from .model import Exchange, Symbol
from .money import round_money
from .result import BacktestResult, accounts_used, config_hash
from .times import NS_PER_SECOND, local_midnight_ns

ACCOUNT_FIELDS: Final = (
    "user_id", "currency", "pre_balance", "deposit", "withdraw", "WithdrawQuota", "close_profit",
    "commission", "premium", "static_balance", "position_profit", "float_profit", "balance",
    "margin", "frozen_margin", "frozen_commission", "frozen_premium", "available", "risk_ratio",
)  # fmt: skip
"""QIFI's ``accounts`` fields, in the protocol's order."""
POSITION_FIELDS: Final = (
    "user_id", "exchange_id", "instrument_id", "volume_long_today", "volume_long_his",
    "volume_long", "volume_long_frozen_today", "volume_long_frozen_his", "volume_long_frozen",
    "volume_short_today", "volume_short_his", "volume_short", "volume_short_frozen_today",
    "volume_short_frozen_his", "volume_short_frozen", "volume_long_yd", "volume_short_yd",
    "pos_long_his", "pos_long_today", "pos_short_his", "pos_short_today", "open_price_long",
    "open_price_short", "open_cost_long", "open_cost_short", "position_price_long",
    "position_price_short", "position_cost_long", "position_cost_short", "last_price",
    "float_profit_long", "float_profit_short", "float_profit", "position_profit_long",
    "position_profit_short", "position_profit", "margin_long", "margin_short", "margin",
)  # fmt: skip
"""QIFI's position fields, in the protocol's order."""
ORDER_FIELDS: Final = (
    "seqno", "user_id", "order_id", "exchange_id", "instrument_id", "direction", "offset",
    "volume_orign", "price_type", "limit_price", "time_condition", "volume_condition",
    "insert_date_time", "exchange_order_id", "status", "volume_left", "last_msg",
)  # fmt: skip
"""QIFI's order fields, in the protocol's order."""
TRADE_FIELDS: Final = (
    "seqno", "user_id", "trade_id", "exchange_id", "instrument_id", "order_id",
    "exchange_trade_id", "direction", "offset", "volume", "price", "trade_date_time",
    "commission",
)  # fmt: skip
"""QIFI's trade fields, in the protocol's order."""

# The money fields of ``accounts`` that add up across the two accounts.
_SUMMED: Final = (
    "pre_balance", "deposit", "withdraw", "WithdrawQuota", "close_profit", "commission",
    "premium", "static_balance", "position_profit", "float_profit", "balance", "margin",
    "frozen_margin", "frozen_commission", "frozen_premium", "available",
)  # fmt: skip
_DAY_END_NS: Final = DAY_START_HOUR * 3600 * NS_PER_SECOND
Row = dict[str, Any]
"""A row of a result table, as a dict."""


def qifi_snapshots(
    result: BacktestResult, account_cookie: str | None = None
) -> list[dict[str, Any]]:
    """One QIFI document per trading day of ``result.daily``, in order (see the module).

    Args:
        result: a backtest result (fresh, or read back with ``BacktestResult.load``).
        account_cookie: the QIFI account id, e.g. ``"double_ma_IF"``; by default
            ``"backtest_"`` and the first 12 hex digits of the run's config hash.

    Returns:
        Plain JSON-ready dicts (str keys, str/int/float values, no NaN), keys in QIFI's order.
    """
    cookie = account_cookie if account_cookie is not None else _default_cookie(result)
    days = [_as_date(value) for value in result.daily["trading_day"]]
    if not days:
        return []
    orders = _by_day(result.orders, "insert_date_time", days)
    trades = _by_day(result.trades, "trade_date_time", days)
    positions: dict[date, list[Row]] = defaultdict(list)
    for row in _records(result.positions):
        positions[_as_date(row["trading_day"])].append(row)
    # By exchange: the same split as the runner's by product class, since an instrument's class
    # must fit its exchange (futures on futures exchanges) and only those classes trade.
    futures_used, stocks_used = accounts_used(
        Exchange(str(e)).is_futures for e in set(result.trades["exchange_id"])
    )

    documents = []
    previous: dict[tuple[str, str], tuple[int, int]] = {}  # volumes at the last settlement
    for index, (day, row) in enumerate(zip(days, _records(result.daily), strict=True)):
        held = positions.get(day, [])
        accounts = _accounts(row, held, trades[index], futures_used, stocks_used, cookie)
        entries = dict(sorted((_position(p, previous, cookie) for p in held), key=_first))
        previous = {(p["account"], p["symbol"]): _volumes(p) for p in held}
        order_docs, trade_docs = _orders_and_trades(orders[index], trades[index], cookie)
        documents.append(_document(cookie, day, accounts, entries, order_docs, trade_docs))
    return documents


def write_qifi(
    result: BacktestResult, directory: Path, account_cookie: str | None = None
) -> list[Path]:
    """Write :func:`qifi_snapshots` as ``directory/<YYYYMMDD>.json`` and return the paths.

    The directory is created if needed; other files in it are left alone (``result.save``
    empties its ``qifi/`` first). Each file is UTF-8 JSON (indented, keys in QIFI's order, a
    final newline); the same result always gives byte-identical files.
    """
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for document in qifi_snapshots(result, account_cookie):
        path = directory / f"{document['trading_day'].replace('-', '')}.json"
        text = json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False)
        path.write_text(text + "\n", encoding="utf-8")
        paths.append(path)
    return paths


# --- the document ----------------------------------------------------------------------------


def _document(
    cookie: str,
    day: date,
    accounts: dict[str, Any],
    positions: dict[str, Any],
    orders: dict[str, Any],
    trades: dict[str, Any],
) -> dict[str, Any]:
    # the key order of QIFI_Account.message
    return {
        "account_cookie": cookie,
        "password": "",
        "databaseip": "",
        "model": "BACKTEST",
        "ping_gap": 5,
        "portfolio": "default",
        "broker_name": "backtest",
        "capital_password": "",
        "bank_password": "",
        "bankid": "",
        "investor_name": "",
        "money": accounts["available"],
        "pub_host": "",
        "trade_host": "",
        "taskid": "",
        "sourceid": "backtest",
        "updatetime": "",
        "wsuri": "",
        "bankname": "",
        "trading_day": day.isoformat(),
        "status": 200,
        "accounts": accounts,
        "trades": trades,
        "positions": positions,
        "orders": orders,
        "event": {},
        "transfers": {},
        "banks": {},
        "frozen": {},
        "settlement": {},
    }


def _accounts(
    row: Row,
    positions: Sequence[Row],
    trades: Sequence[Row],
    futures_used: bool,
    stocks_used: bool,
    cookie: str,
) -> dict[str, Any]:
    parts = []
    if futures_used:
        parts.append({name: _number(row[name]) for name in (
            "pre_balance", "deposit", "withdraw", "close_profit", "commission", "static_balance",
            "position_profit", "float_profit", "balance", "margin", "frozen_margin", "available",
            "risk_ratio",
        )})  # fmt: skip
    if stocks_used:
        close_profit = sum(
            _number(t["close_profit"]) for t in trades if not Exchange(t["exchange_id"]).is_futures
        )
        float_profit = round_money(
            sum(_number(p["float_profit"]) for p in positions if p["account"] == "stock")
        )
        static = _number(row["stock_pre_total_asset"])
        fees = round_money(_number(row["stock_commission"]) + _number(row["stock_stamp_duty"])
                           + _number(row["stock_transfer_fee"]))  # fmt: skip
        balance = _number(row["stock_total_asset"])
        parts.append({
            "pre_balance": static,
            "close_profit": round_money(close_profit),
            "commission": fees,
            "static_balance": static,
            # the day's change of the holdings' value, so that static + close − commission +
            # position_profit = balance, as for futures
            "position_profit": round_money(balance - static - close_profit + fees),
            "float_profit": float_profit,
            "balance": balance,
            "frozen_margin": _number(row["stock_frozen_cash"]),
            "available": _number(row["stock_cash"]),
            "risk_ratio": 0.0,
        })  # fmt: skip
    if len(parts) == 1:
        values = parts[0]
    else:
        values = {name: round_money(sum(part.get(name, 0.0) for part in parts))
                  for name in _SUMMED}  # fmt: skip
        balance = values["balance"]
        values["risk_ratio"] = values["margin"] / balance if balance > 0 else 0.0
    accounts: dict[str, Any] = {"user_id": cookie, "currency": "CNY"}
    for name in ACCOUNT_FIELDS[2:]:
        accounts[name] = float(values.get(name, 0.0))
    return accounts


def _position(
    row: Row, previous: Mapping[tuple[str, str], tuple[int, int]], cookie: str
) -> tuple[str, dict[str, Any]]:
    symbol = Symbol.parse(str(row["symbol"]))
    is_stock = row["account"] == "stock"
    long_his, long_today = int(row["pos_long_his"]), int(row["pos_long_today"])
    short_his, short_today = int(row["pos_short_his"]), int(row["pos_short_today"])
    long, short = long_his + long_today, short_his + short_today
    value, profit = _number(row["market_value"]), _number(row["float_profit"])
    margin = _number(row["margin"])
    only_long, only_short = bool(long and not short), bool(short and not long)
    open_price_long, open_price_short = (
        _number(row["open_price_long"]),
        _number(row["open_price_short"]),
    )
    open_cost_long = round_money(value - profit) if only_long else 0.0
    open_cost_short = round_money(profit - value) if only_short else 0.0
    profit_long = profit if only_long else 0.0
    profit_short = profit if only_short else 0.0
    yd_long, yd_short = previous.get((str(row["account"]), str(row["symbol"])), (0, 0))

    # Stocks are not marked to market daily: they are carried at cost. Futures carry yesterday's
    # lots at yesterday's settlement, which result.positions does not keep per position: 0.
    def carried(amount: float) -> float:
        return amount if is_stock else 0.0

    entry = {
        "user_id": cookie,
        "exchange_id": symbol.exchange.value,
        "instrument_id": symbol.code,
        "volume_long_today": long_today,
        "volume_long_his": long_his,
        "volume_long": long,
        "volume_long_frozen_today": 0,
        "volume_long_frozen_his": 0,
        "volume_long_frozen": 0,
        "volume_short_today": short_today,
        "volume_short_his": short_his,
        "volume_short": short,
        "volume_short_frozen_today": 0,
        "volume_short_frozen_his": 0,
        "volume_short_frozen": 0,
        "volume_long_yd": yd_long,
        "volume_short_yd": yd_short,
        "pos_long_his": long_his,
        "pos_long_today": long_today,
        "pos_short_his": short_his,
        "pos_short_today": short_today,
        "open_price_long": open_price_long,
        "open_price_short": open_price_short,
        "open_cost_long": open_cost_long,
        "open_cost_short": open_cost_short,
        "position_price_long": carried(open_price_long),
        "position_price_short": carried(open_price_short),
        "position_cost_long": carried(open_cost_long),
        "position_cost_short": carried(open_cost_short),
        "last_price": _number(row["settlement_price"]),
        "float_profit_long": profit_long,
        "float_profit_short": profit_short,
        "float_profit": profit,
        "position_profit_long": carried(profit_long),
        "position_profit_short": carried(profit_short),
        "position_profit": carried(profit),
        "margin_long": margin if only_long else 0.0,
        "margin_short": margin if only_short else 0.0,
        "margin": margin,
    }
    return f"{symbol.exchange.value}_{symbol.code}", entry


def _orders_and_trades(
    order_rows: Sequence[Row], trade_rows: Sequence[Row], cookie: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    # one sequence for the day's orders and fills, in time order; orders first at equal times
    events = sorted(
        [(int(o["insert_date_time"]), 0, i) for i, o in enumerate(order_rows)]
        + [(int(t["trade_date_time"]), 1, i) for i, t in enumerate(trade_rows)]
    )
    order_docs: dict[str, Any] = {}
    trade_docs: dict[str, Any] = {}
    for seqno, (_, kind, i) in enumerate(events, start=1):
        if kind == 0:
            o = order_rows[i]
            order_docs[str(o["order_id"])] = {
                "seqno": seqno,
                "user_id": cookie,
                "order_id": str(o["order_id"]),
                "exchange_id": str(o["exchange_id"]),
                "instrument_id": str(o["instrument_id"]),
                "direction": str(o["direction"]),
                "offset": str(o["offset"]),
                "volume_orign": int(o["volume_orign"]),
                "price_type": str(o["price_type"]),
                "limit_price": _number(o["limit_price"]),
                "time_condition": str(o["time_condition"]),
                "volume_condition": str(o["volume_condition"]),
                "insert_date_time": int(o["insert_date_time"]),
                "exchange_order_id": str(o.get("exchange_order_id", "") or ""),
                "status": str(o["status"]),
                "volume_left": int(o["volume_left"]),
                "last_msg": str(o["last_msg"]),
            }
        else:
            t = trade_rows[i]
            trade_docs[str(t["trade_id"])] = {
                "seqno": seqno,
                "user_id": cookie,
                "trade_id": str(t["trade_id"]),
                "exchange_id": str(t["exchange_id"]),
                "instrument_id": str(t["instrument_id"]),
                "order_id": str(t["order_id"]),
                "exchange_trade_id": str(t["exchange_trade_id"]),
                "direction": str(t["direction"]),
                "offset": str(t["offset"]),
                "volume": int(t["volume"]),
                "price": _number(t["price"]),
                "trade_date_time": int(t["trade_date_time"]),
                "commission": round_money(_number(t["commission"]) + _number(t["stamp_duty"])
                                          + _number(t["transfer_fee"])),
            }  # fmt: skip
    return order_docs, trade_docs


# --- helpers ---------------------------------------------------------------------------------


def _by_day(frame: pd.DataFrame, column: str, days: Sequence[date]) -> list[list[Row]]:
    """The rows of ``frame`` for each of ``days``, in table order, by the time in ``column``
    (int ns): the first day whose end (18:00 Beijing time on it) is after that time; later
    times go to the last day."""
    ends = np.array([local_midnight_ns(day) + _DAY_END_NS for day in days], dtype=np.int64)
    times = frame[column].to_numpy(dtype=np.int64)
    indexes = np.minimum(np.searchsorted(ends, times, side="right"), len(days) - 1)
    grouped: list[list[Row]] = [[] for _ in days]
    for index, row in zip(indexes.tolist(), _records(frame), strict=True):
        grouped[index].append(row)
    return grouped


def _records(frame: pd.DataFrame) -> list[Row]:
    return cast(list[Row], frame.to_dict("records"))


def _volumes(row: Row) -> tuple[int, int]:
    """(long, short) volume of a position row."""
    return (
        int(row["pos_long_his"]) + int(row["pos_long_today"]),
        int(row["pos_short_his"]) + int(row["pos_short_today"]),
    )


def _default_cookie(result: BacktestResult) -> str:
    return f"backtest_{config_hash(result.config)[:12]}"


def _number(value: Any) -> float:
    """A finite float; NaN and infinities (no value) become QIFI's neutral 0."""
    number = float(value)
    return number if math.isfinite(number) else 0.0


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):  # includes pd.Timestamp
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(value).date()


def _first(item: tuple[str, Any]) -> str:
    return item[0]
