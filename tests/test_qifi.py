"""QIFI export: one QUANTAXIS account document per trading day, field by field.

A hand-built three-day gold result pins a whole document (night-session and Friday-night orders,
a rejected market order, NaN as 0); the demo runs and small scripted runs on the sample store
check every day against ``result.daily``, ``result.positions``, the orders and the fills.
"""

from __future__ import annotations

import importlib.util
import json
import math
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from backtest import Api, Backtest, BacktestResult
from backtest.model import (
    Direction,
    Offset,
    OrderStatus,
    PriceType,
    Symbol,
    TimeCondition,
    VolumeCondition,
)
from backtest.order import Order, Trade
from backtest.positions import PositionRow
from backtest.qifi import (
    ACCOUNT_FIELDS,
    ORDER_FIELDS,
    POSITION_FIELDS,
    TRADE_FIELDS,
    qifi_snapshots,
    write_qifi,
)
from backtest.result import (
    FUTURES_COLUMNS,
    config_hash,
    daily_frame,
    orders_frame,
    positions_frame,
    trades_frame,
)
from backtest.store import Store
from tests.conftest import ns

REPO = Path(__file__).resolve().parent.parent
AU = "au2006.SF"
TOP_LEVEL = [
    "account_cookie", "password", "databaseip", "model", "ping_gap", "portfolio", "broker_name",
    "capital_password", "bank_password", "bankid", "investor_name", "money", "pub_host",
    "trade_host", "taskid", "sourceid", "updatetime", "wsuri", "bankname", "trading_day",
    "status", "accounts", "trades", "positions", "orders", "event", "transfers", "banks",
    "frozen", "settlement",
]  # fmt: skip
"""QUANTAXIS's QIFI_Account.message keys, in its order."""


# --- a hand-built result ---------------------------------------------------------------------


def order(
    order_id: str, when: str, direction: str, offset: str, volume: int, price: float,
    left: int = 0, msg: str = "filled",
) -> Order:  # fmt: skip
    market = math.isnan(price)
    o = Order(
        order_id, AU, "SHFE", "au2006", Direction(direction), Offset(offset), volume, price,
        PriceType.ANY if market else PriceType.LIMIT, VolumeCondition.ANY,
        TimeCondition.IOC if market else TimeCondition.GFD, ns(when),
    )  # fmt: skip
    o.volume_left, o.status, o.last_msg = left, OrderStatus.FINISHED, msg
    o.is_error = msg != "filled"
    return o


def trade(
    trade_id: str, order_id: str, when: str, day: str, direction: str, offset: str,
    price: float, commission: float, close_profit: float, volume: int = 1,
) -> Trade:  # fmt: skip
    return Trade(
        trade_id, order_id, AU, "SHFE", "au2006", Direction(direction), Offset(offset), price,
        volume, ns(when), day, commission, close_profit=close_profit, exchange_trade_id=trade_id,
    )  # fmt: skip


def futures_day(**values: float) -> dict[str, float]:
    stock = dict.fromkeys(
        ("stock_pre_total_asset", "stock_cash", "stock_total_asset"), 1_000_000.0
    ) | dict.fromkeys(
        ("stock_frozen_cash", "stock_market_value", "stock_commission", "stock_stamp_duty",
         "stock_transfer_fee"), 0.0,
    )  # fmt: skip
    return {"deposit": 0.0, "withdraw": 0.0, "frozen_margin": 0.0, **values, **stock}


def gold_result() -> BacktestResult:
    """Three days of SHFE gold (x1000, 8% margin): buy 2 Thursday; sell 1 in Thursday's night
    session, filled after midnight (Friday's trading day), and a rejected market order Friday;
    sell 1 on Friday night (Monday's trading day)."""
    d1, d2, d3 = date(2020, 1, 2), date(2020, 1, 3), date(2020, 1, 6)
    orders = [
        order("O1", "2020-01-02 10:00", "BUY", "OPEN", 2, 345.0),
        order("O2", "2020-01-02 21:30", "SELL", "CLOSE", 1, 347.0),
        order("O3", "2020-01-03 14:00", "SELL", "OPEN", 1, math.nan, 1, "rejected: no margin"),
        order("O4", "2020-01-03 21:05", "SELL", "CLOSE", 1, 343.0),
    ]
    trades = [
        trade("T1", "O1", "2020-01-02 10:00", "20200102", "BUY", "OPEN", 345.0, 20.0, 0.0, 2),
        trade("T2", "O2", "2020-01-03 00:15", "20200103", "SELL", "CLOSE", 347.0, 10.0, 1000.0),
        trade("T3", "O4", "2020-01-03 21:05", "20200106", "SELL", "CLOSE", 343.0, 10.0, -1000.0),
    ]
    nan = math.nan
    positions = [
        PositionRow(d1, "futures", AU, 0, 2, 0, 0, 345.0, nan, 346.0, 692_000.0, 2000.0, 55_360.0),
        PositionRow(d2, "futures", AU, 1, 0, 0, 0, 345.0, nan, 344.0, 344_000.0, -1000.0, 27_520.0),
    ]  # fmt: skip
    daily = daily_frame([
        (d1, futures_day(pre_balance=1e6, static_balance=1e6, close_profit=0.0, commission=20.0,
                         position_profit=2000.0, float_profit=2000.0, balance=1_001_980.0,
                         margin=55_360.0, available=946_620.0, risk_ratio=55_360 / 1_001_980)),
        (d2, futures_day(pre_balance=1_001_980.0, static_balance=1_001_980.0, close_profit=1000.0,
                         commission=10.0, position_profit=-2000.0, float_profit=-1000.0,
                         balance=1_000_970.0, margin=27_520.0, available=973_450.0,
                         risk_ratio=27_520 / 1_000_970)),
        (d3, futures_day(pre_balance=1_000_970.0, static_balance=1_000_970.0, close_profit=-1000.0,
                         commission=10.0, position_profit=0.0, float_profit=0.0,
                         balance=999_960.0, margin=0.0, available=999_960.0, risk_ratio=0.0)),
    ])  # fmt: skip
    return BacktestResult(
        stats={}, trades=trades_frame(trades), orders=orders_frame(orders), daily=daily,
        config={"start": "2020-01-02", "end": "2020-01-06"}, positions=positions_frame(positions),
    )  # fmt: skip


GOLD_FRIDAY: dict[str, Any] = {
    "account_cookie": "gold", "password": "", "databaseip": "", "model": "BACKTEST",
    "ping_gap": 5, "portfolio": "default", "broker_name": "backtest", "capital_password": "",
    "bank_password": "", "bankid": "", "investor_name": "", "money": 973_450.0, "pub_host": "",
    "trade_host": "", "taskid": "", "sourceid": "backtest", "updatetime": "", "wsuri": "",
    "bankname": "", "trading_day": "2020-01-03", "status": 200,
    "accounts": {
        "user_id": "gold", "currency": "CNY", "pre_balance": 1_001_980.0, "deposit": 0.0,
        "withdraw": 0.0, "WithdrawQuota": 0.0, "close_profit": 1000.0, "commission": 10.0,
        "premium": 0.0, "static_balance": 1_001_980.0, "position_profit": -2000.0,
        "float_profit": -1000.0, "balance": 1_000_970.0, "margin": 27_520.0,
        "frozen_margin": 0.0, "frozen_commission": 0.0, "frozen_premium": 0.0,
        "available": 973_450.0, "risk_ratio": 27_520 / 1_000_970,
    },
    "trades": {
        "T2": {
            "seqno": 2, "user_id": "gold", "trade_id": "T2", "exchange_id": "SHFE",
            "instrument_id": "au2006", "order_id": "O2", "exchange_trade_id": "T2",
            "direction": "SELL", "offset": "CLOSE", "volume": 1, "price": 347.0,
            "trade_date_time": ns("2020-01-03 00:15"), "commission": 10.0,
        },
    },
    "positions": {
        "SHFE_au2006": {
            "user_id": "gold", "exchange_id": "SHFE", "instrument_id": "au2006",
            "volume_long_today": 0, "volume_long_his": 1, "volume_long": 1,
            "volume_long_frozen_today": 0, "volume_long_frozen_his": 0, "volume_long_frozen": 0,
            "volume_short_today": 0, "volume_short_his": 0, "volume_short": 0,
            "volume_short_frozen_today": 0, "volume_short_frozen_his": 0,
            "volume_short_frozen": 0, "volume_long_yd": 2, "volume_short_yd": 0,
            "pos_long_his": 1, "pos_long_today": 0, "pos_short_his": 0, "pos_short_today": 0,
            "open_price_long": 345.0, "open_price_short": 0.0, "open_cost_long": 345_000.0,
            "open_cost_short": 0.0, "position_price_long": 0.0, "position_price_short": 0.0,
            "position_cost_long": 0.0, "position_cost_short": 0.0, "last_price": 344.0,
            "float_profit_long": -1000.0, "float_profit_short": 0.0, "float_profit": -1000.0,
            "position_profit_long": 0.0, "position_profit_short": 0.0, "position_profit": 0.0,
            "margin_long": 27_520.0, "margin_short": 0.0, "margin": 27_520.0,
        },
    },
    "orders": {
        "O2": {
            "seqno": 1, "user_id": "gold", "order_id": "O2", "exchange_id": "SHFE",
            "instrument_id": "au2006", "direction": "SELL", "offset": "CLOSE",
            "volume_orign": 1, "price_type": "LIMIT", "limit_price": 347.0,
            "time_condition": "GFD", "volume_condition": "ANY",
            "insert_date_time": ns("2020-01-02 21:30"), "exchange_order_id": "",
            "status": "FINISHED", "volume_left": 0, "last_msg": "filled",
        },
        "O3": {
            "seqno": 3, "user_id": "gold", "order_id": "O3", "exchange_id": "SHFE",
            "instrument_id": "au2006", "direction": "SELL", "offset": "OPEN",
            "volume_orign": 1, "price_type": "ANY", "limit_price": 0.0,
            "time_condition": "IOC", "volume_condition": "ANY",
            "insert_date_time": ns("2020-01-03 14:00"), "exchange_order_id": "",
            "status": "FINISHED", "volume_left": 1, "last_msg": "rejected: no margin",
        },
    },
    "event": {}, "transfers": {}, "banks": {}, "frozen": {}, "settlement": {},
}  # fmt: skip
"""Friday's document of ``gold_result()``: Thursday night's order and its after-midnight fill
are Friday's; the market order's NaN limit price is 0; yesterday's 2 lots are ``volume_long_yd``."""


def test_a_day_is_the_whole_qifi_document_in_quantaxis_key_order() -> None:
    documents = qifi_snapshots(gold_result(), account_cookie="gold")

    assert documents[1] == GOLD_FRIDAY
    assert list(documents[1]) == TOP_LEVEL
    assert list(documents[1]["accounts"]) == list(ACCOUNT_FIELDS)
    assert list(documents[1]["positions"]["SHFE_au2006"]) == list(POSITION_FIELDS)
    assert list(documents[1]["orders"]["O2"]) == list(ORDER_FIELDS)
    assert list(documents[1]["trades"]["T2"]) == list(TRADE_FIELDS)


def test_friday_night_orders_belong_to_monday_and_orders_precede_fills_at_equal_times() -> None:
    thursday, _, monday = qifi_snapshots(gold_result(), account_cookie="gold")

    assert [d["trading_day"] for d in (thursday, monday)] == ["2020-01-02", "2020-01-06"]
    assert {k: v["seqno"] for k, v in thursday["orders"].items()} == {"O1": 1}
    assert {k: v["seqno"] for k, v in thursday["trades"].items()} == {"T1": 2}
    assert {k: v["seqno"] for k, v in monday["orders"].items()} == {"O4": 1}
    assert {k: v["seqno"] for k, v in monday["trades"].items()} == {"T3": 2}
    assert monday["positions"] == {}
    assert thursday["positions"]["SHFE_au2006"]["volume_long_yd"] == 0
    assert thursday["positions"]["SHFE_au2006"]["open_cost_long"] == 690_000.0


def test_nan_is_written_as_qifis_neutral_zero() -> None:
    result = gold_result()
    result.daily.loc[2, ["balance", "risk_ratio"]] = [-5.0, math.nan]

    accounts = qifi_snapshots(result)[2]["accounts"]

    assert (accounts["balance"], accounts["risk_ratio"]) == (-5.0, 0.0)


def test_the_default_account_cookie_is_the_config_hash_and_names_every_user_id() -> None:
    result = gold_result()
    cookie = "backtest_" + config_hash(result.config)[:12]

    documents = qifi_snapshots(result)

    assert {d["account_cookie"] for d in documents} == {cookie}
    user_ids = {d["accounts"]["user_id"] for d in documents} | {
        entry["user_id"] for d in documents for part in ("positions", "orders", "trades")
        for entry in d[part].values()
    }  # fmt: skip
    assert user_ids == {cookie}


def test_write_qifi_writes_one_utf8_file_per_day_that_loads_back(tmp_path: Path) -> None:
    result = gold_result()

    paths = write_qifi(result, tmp_path / "qifi")

    assert [p.name for p in paths] == ["20200102.json", "20200103.json", "20200106.json"]
    assert sorted(p.name for p in (tmp_path / "qifi").iterdir()) == [p.name for p in paths]
    assert [json.loads(p.read_text(encoding="utf-8")) for p in paths] == qifi_snapshots(result)
    text = paths[1].read_bytes().decode("utf-8")
    assert text.endswith("}\n") and "NaN" not in text and "null" not in text


def test_the_same_result_writes_byte_identical_files(tmp_path: Path) -> None:
    first = write_qifi(gold_result(), tmp_path / "a")
    second = write_qifi(gold_result(), tmp_path / "b")

    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_a_run_without_a_trading_day_writes_nothing(tmp_path: Path) -> None:
    empty = BacktestResult(
        stats={}, trades=trades_frame([]), orders=orders_frame([]), daily=daily_frame([])
    )

    assert qifi_snapshots(empty) == []
    assert write_qifi(empty, tmp_path / "qifi") == []


# --- real runs on the sample store -----------------------------------------------------------


def load_demo(name: str) -> BacktestResult:
    spec = importlib.util.spec_from_file_location(name, REPO / "strategies" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result: BacktestResult = module.demo()
    return result


@pytest.fixture(scope="module")
def double_ma() -> BacktestResult:
    return load_demo("double_ma")


@pytest.fixture(scope="module")
def monthly_momentum() -> BacktestResult:
    return load_demo("monthly_momentum")


def script(
    actions: dict[str, Callable[[Api], Any]], start: date, end: date, *symbols: str
) -> BacktestResult:
    """Run ``actions[t](api)`` at simulated time t (Beijing) on the sample store."""
    pending = {ns(when): action for when, action in actions.items()}

    async def strategy(api: Api) -> None:
        for symbol in symbols:
            api.get_quote(symbol)
        while True:
            await api.wait_update()
            action = pending.pop(api.now_ns, None)
            if action is not None:
                action(api)

    return Backtest(strategy, start, end, init_balance=1_000_000).run()


def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def days_of(documents: list[dict[str, Any]], part: str) -> dict[str, str]:
    """id → trading day ("YYYYMMDD") of every order or trade in the documents."""
    seen: dict[str, str] = {}
    for document in documents:
        for key in document[part]:
            assert key not in seen, f"{key} is in two documents"
            seen[key] = document["trading_day"].replace("-", "")
    return seen


def expected_position(row: dict[str, Any], yd: tuple[int, int]) -> dict[str, Any]:
    long, short = (
        row["pos_long_his"] + row["pos_long_today"],
        row["pos_short_his"] + row["pos_short_today"],
    )
    return {
        "volume_long_today": row["pos_long_today"], "volume_long_his": row["pos_long_his"],
        "volume_long": long, "volume_short_today": row["pos_short_today"],
        "volume_short_his": row["pos_short_his"], "volume_short": short,
        "pos_long_today": row["pos_long_today"], "pos_long_his": row["pos_long_his"],
        "pos_short_today": row["pos_short_today"], "pos_short_his": row["pos_short_his"],
        "volume_long_yd": yd[0], "volume_short_yd": yd[1],
        "open_price_long": 0.0 if math.isnan(row["open_price_long"]) else row["open_price_long"],
        "open_price_short": 0.0 if math.isnan(row["open_price_short"]) else row["open_price_short"],
        "last_price": row["settlement_price"], "float_profit": row["float_profit"],
        "margin": row["margin"],
    }  # fmt: skip


def key(symbol: str) -> str:
    """QIFI's position key of a symbol: ``"CFFEX_IF2003"``."""
    parsed = Symbol.parse(symbol)
    return f"{parsed.exchange.value}_{parsed.code}"


def check_positions(result: BacktestResult, documents: list[dict[str, Any]]) -> int:
    """Every position row is in its day's document with its volumes and values, and nothing
    else is; returns how many rows were checked."""
    by_day = {d["trading_day"]: d["positions"] for d in documents}
    previous: dict[str, tuple[int, int]] = {}
    checked = 0
    for day in result.daily.trading_day:
        held = rows(result.positions[result.positions.trading_day == day])
        entries = by_day[day.isoformat()]
        assert sorted(entries) == sorted(key(r["symbol"]) for r in held), day
        for row in held:
            expected = expected_position(row, previous.get(row["symbol"], (0, 0)))
            entry = entries[key(row["symbol"])]
            assert {k: entry[k] for k in expected} == expected, (day, row["symbol"])
            checked += 1
        previous = {
            r["symbol"]: (
                r["pos_long_his"] + r["pos_long_today"],
                r["pos_short_his"] + r["pos_short_today"],
            )
            for r in held
        }
    return checked


def test_double_ma_has_a_document_per_trading_day_equal_to_its_daily_row(
    double_ma: BacktestResult,
) -> None:
    documents = qifi_snapshots(double_ma)

    assert len(documents) == len(double_ma.daily) == 36
    for document, row in zip(documents, rows(double_ma.daily), strict=True):
        assert document["trading_day"] == row["trading_day"].isoformat()
        accounts = document["accounts"]
        assert {name: accounts[name] for name in FUTURES_COLUMNS} == {
            name: row[name] for name in FUTURES_COLUMNS
        }
        assert accounts["balance"] == row["equity"]
        assert document["money"] == row["available"]


def test_double_ma_positions_match_result_positions(double_ma: BacktestResult) -> None:
    documents = qifi_snapshots(double_ma)

    assert check_positions(double_ma, documents) == len(double_ma.positions) == 36
    assert all(list(d["positions"]) == ["CFFEX_IF2003"] for d in documents)


def test_double_ma_orders_and_fills_are_in_their_trading_day_exactly_once(
    double_ma: BacktestResult,
) -> None:
    documents = qifi_snapshots(double_ma)
    calendar = Store(double_ma.config["data"]).calendar()
    assert calendar is not None

    order_days = days_of(documents, "orders")
    trade_days = days_of(documents, "trades")

    assert order_days == {
        o["order_id"]: f"{calendar.trading_day_of(o['insert_date_time']):%Y%m%d}"
        for o in rows(double_ma.orders)
    }
    assert trade_days == dict(zip(double_ma.trades.trade_id, double_ma.trades.trading_day,
                                  strict=True))  # fmt: skip
    for document in documents:
        fees = sum(t["commission"] for t in document["trades"].values())
        assert fees == pytest.approx(document["accounts"]["commission"], abs=1e-6)
        seqnos = [e["seqno"] for part in ("orders", "trades") for e in document[part].values()]
        assert sorted(seqnos) == list(range(1, len(seqnos) + 1))


def test_a_night_session_after_midnight_belongs_to_the_next_trading_day() -> None:
    gold = "au1912.SF"
    result = script(
        {
            "2019-04-09 23:30:00": lambda api: api.insert_order(gold, "BUY", "OPEN", 2),
            "2019-04-10 00:30:00": lambda api: (
                api.insert_order(gold, "SELL", "CLOSE", 1),  # no yesterday's lots: rejected
                api.insert_order(gold, "SELL", "CLOSETODAY", 1),
            ),
            "2019-04-11 09:05:00": lambda api: api.insert_order(gold, "SELL", "CLOSE", 1),
        },
        date(2019, 4, 9), date(2019, 4, 11), gold,
    )  # fmt: skip

    tuesday, wednesday, thursday = qifi_snapshots(result)

    assert (tuesday["orders"], tuesday["trades"], tuesday["positions"]) == ({}, {}, {})

    assert [o["insert_date_time"] for o in wednesday["orders"].values()] == [
        ns("2019-04-09 23:30"), ns("2019-04-10 00:30"), ns("2019-04-10 00:30"),
    ]  # fmt: skip
    assert [(o["offset"], o["volume_left"]) for o in wednesday["orders"].values()] == [
        ("OPEN", 0), ("CLOSE", 1), ("CLOSETODAY", 0),
    ]  # fmt: skip
    assert [t["offset"] for t in wednesday["trades"].values()] == ["OPEN", "CLOSETODAY"]
    assert [t["offset"] for t in thursday["trades"].values()] == ["CLOSE"]
    assert [o["offset"] for o in thursday["orders"].values()] == ["CLOSE"]
    position = wednesday["positions"]["SHFE_au1912"]
    assert (position["volume_long_today"], position["volume_long_yd"]) == (1, 0)
    assert thursday["positions"] == {}
    balances = [d["accounts"]["balance"] for d in (tuesday, wednesday, thursday)]
    assert balances == list(result.daily.balance)


def test_a_stock_run_maps_the_stock_account_into_accounts(
    monthly_momentum: BacktestResult,
) -> None:
    result = monthly_momentum
    documents = qifi_snapshots(result)
    sells = result.trades.groupby("trading_day").close_profit.sum()
    held = result.positions.groupby("trading_day").float_profit.sum()

    assert len(documents) == len(result.daily) == 1683
    for document, row in zip(documents, rows(result.daily), strict=True):
        accounts = document["accounts"]
        float_profit = round(held.get(row["trading_day"], 0.0), 2)
        expected = {
            "pre_balance": row["stock_pre_total_asset"],
            "static_balance": row["stock_pre_total_asset"],
            "balance": row["stock_total_asset"],
            "available": row["stock_cash"],
            "frozen_margin": row["stock_frozen_cash"],
            "margin": 0.0, "risk_ratio": 0.0,
            "float_profit": float_profit,
        }  # fmt: skip
        assert {k: accounts[k] for k in expected} == expected, row["trading_day"]
        # the balance identity holds as for futures: position_profit is the day's change
        identity = (accounts["static_balance"] + accounts["close_profit"]
                    - accounts["commission"] + accounts["position_profit"])  # fmt: skip
        assert identity == pytest.approx(accounts["balance"], abs=0.011)
        assert accounts["balance"] == row["equity"]
        fees = row["stock_commission"] + row["stock_stamp_duty"] + row["stock_transfer_fee"]
        assert accounts["commission"] == pytest.approx(fees, abs=1e-9)
        day = f"{row['trading_day']:%Y%m%d}"
        assert accounts["close_profit"] == pytest.approx(sells.get(day, 0.0), abs=1e-6)
    assert check_positions(result, documents) == len(result.positions)


def test_stock_positions_are_carried_at_cost_and_keyed_by_exchange(
    monthly_momentum: BacktestResult,
) -> None:
    first = qifi_snapshots(monthly_momentum)[0]

    assert sorted(first["positions"]) == ["SSE_600004", "SZSE_000002", "SZSE_000004"]
    vanke = first["positions"]["SZSE_000002"]
    assert vanke["open_cost_long"] == vanke["position_cost_long"] == 330_221.71
    assert vanke["position_price_long"] == vanke["open_price_long"]
    assert vanke["position_profit"] == vanke["float_profit"] == -1373.71
    assert vanke["float_profit"] == pytest.approx(vanke["last_price"] * 62_400 - 330_221.71)


def test_a_run_with_both_accounts_sums_them_into_equity() -> None:
    future, stock = "IF2003.IF", "600009.SH"
    result = script(
        {
            "2020-01-02 10:00:00": lambda api: (
                api.insert_order(future, "BUY", "OPEN", 1),
                api.insert_order(stock, "BUY", volume=1000),
            ),
        },
        date(2020, 1, 2), date(2020, 1, 3), future, stock,
    )  # fmt: skip
    assert len(result.trades) == 2

    documents = qifi_snapshots(result)

    assert [sorted(d["positions"]) for d in documents] == [["CFFEX_IF2003", "SSE_600009"]] * 2
    for document, row in zip(documents, rows(result.daily), strict=True):
        accounts = document["accounts"]
        assert (
            accounts["balance"]
            == row["equity"]
            == round(row["balance"] + row["stock_total_asset"], 2)
        )
        assert accounts["available"] == round(row["available"] + row["stock_cash"], 2)
        assert accounts["pre_balance"] == round(
            row["pre_balance"] + row["stock_pre_total_asset"], 2
        )
        fees = (
            row["commission"]
            + row["stock_commission"]
            + row["stock_stamp_duty"]
            + row["stock_transfer_fee"]
        )
        assert accounts["commission"] == round(fees, 2)
        assert accounts["margin"] == row["margin"]
        assert accounts["risk_ratio"] == row["margin"] / accounts["balance"]


def test_a_saved_run_directory_holds_the_same_qifi_as_the_loaded_result(
    double_ma: BacktestResult, tmp_path: Path
) -> None:
    run = double_ma.save(tmp_path / "run", report=False)
    again = write_qifi(BacktestResult.load(run), tmp_path / "again")

    written = sorted((run / "qifi").iterdir())
    assert [p.name for p in written] == [p.name for p in again]
    assert [p.read_bytes() for p in written] == [p.read_bytes() for p in again]
