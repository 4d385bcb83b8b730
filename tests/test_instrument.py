"""Instrument metadata (backtest/instrument.py): security boards and the resolution of terms.

An instrument is resolved from defaults, then the store's row, then product overrides, then
symbol overrides; bad values and unknown fields are refused with messages that say what to do.
The last tests read the instruments shipped in the sample store.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from backtest.errors import ConfigError, DataError
from backtest.instrument import InstrumentTable, classify_security
from backtest.model import CommissionUnit, Exchange, ProductClass
from backtest.session import TradingSessions
from backtest.store import Store

OVERRIDE_FIELDS = (
    "board, commission_close, commission_close_today, commission_open, commission_unit, is_st, "
    "list_date, margin_ratio, margin_ratio_long, margin_ratio_short, name, price_limit_ratio, "
    "price_tick, product, product_class, sessions, volume_multiple"
)
REBAR_SESSIONS = "21:00-23:00,09:00-10:15,10:30-11:30,13:30-15:00"
GOLD_SESSIONS = "21:00-02:30,09:00-10:15,10:30-11:30,13:30-15:00"
STOCK_SESSIONS = "09:30-11:30,13:00-15:00"


# --- classify_security -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "exchange", "product_class", "board"),
    [
        ("600009", Exchange.SSE, ProductClass.STOCK, "MAIN"),
        ("601318", Exchange.SSE, ProductClass.STOCK, "MAIN"),
        ("603288", Exchange.SSE, ProductClass.STOCK, "MAIN"),
        ("605499", Exchange.SSE, ProductClass.STOCK, "MAIN"),
        ("688981", Exchange.SSE, ProductClass.STOCK, "STAR"),
        ("689009", Exchange.SSE, ProductClass.STOCK, "STAR"),
        ("000001", Exchange.SSE, ProductClass.INDEX, ""),
        ("000300", Exchange.SSE, ProductClass.INDEX, ""),
        ("510300", Exchange.SSE, ProductClass.FUND, ""),
        ("300750", Exchange.SZSE, ProductClass.STOCK, "CHINEXT"),
        ("301269", Exchange.SZSE, ProductClass.STOCK, "CHINEXT"),
        ("000001", Exchange.SZSE, ProductClass.STOCK, "MAIN"),
        ("001979", Exchange.SZSE, ProductClass.STOCK, "MAIN"),
        ("002594", Exchange.SZSE, ProductClass.STOCK, "MAIN"),
        ("003816", Exchange.SZSE, ProductClass.STOCK, "MAIN"),
        ("159915", Exchange.SZSE, ProductClass.FUND, ""),
        ("161725", Exchange.SZSE, ProductClass.FUND, ""),
        ("399001", Exchange.SZSE, ProductClass.INDEX, ""),
        ("830799", Exchange.BSE, ProductClass.STOCK, "BSE"),
        ("430047", Exchange.BSE, ProductClass.STOCK, "BSE"),
        ("920019", Exchange.BSE, ProductClass.STOCK, "BSE"),
    ],
)
def test_classify_security_by_board(
    code: str, exchange: Exchange, product_class: ProductClass, board: str
) -> None:
    assert classify_security(code, exchange) == (product_class, board)


@pytest.mark.parametrize(
    ("code", "exchange", "shown"),
    [
        ("900901", Exchange.SSE, "900901.SH"),  # B share
        ("200002", Exchange.SZSE, "200002.SZ"),  # B share
        ("600000", Exchange.BSE, "600000.BJ"),
        ("IF2003", Exchange.CFFEX, "IF2003.IF"),
    ],
)
def test_classify_security_refuses_codes_it_cannot_place(
    code: str, exchange: Exchange, shown: str
) -> None:
    message = (
        f"cannot tell what {shown} is from its code; give its product_class in the store's "
        "instruments.parquet or in Backtest(instruments=...)"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        classify_security(code, exchange)


# --- defaults --------------------------------------------------------------------------------


def test_futures_defaults_come_from_the_product_table() -> None:
    rebar = InstrumentTable({}).get("rb2405.SF")
    assert (
        rebar.symbol,
        rebar.exchange,
        rebar.product_class,
        rebar.product,
        rebar.price_tick,
        rebar.volume_multiple,
        str(rebar.sessions),
        rebar.margin_ratio_long,
        rebar.margin_ratio_short,
        rebar.commission_unit,
        rebar.commission_open,
        rebar.commission_close,
        rebar.commission_close_today,
        rebar.name,
        rebar.board,
        rebar.is_st,
    ) == (
        "rb2405.SF",
        Exchange.SHFE,
        ProductClass.FUTURE,
        "rb",
        1.0,
        10.0,
        REBAR_SESSIONS,
        0.1,
        0.1,
        CommissionUnit.TURNOVER,
        0.0001,
        0.0001,
        0.0001,
        "",
        "",
        False,
    )
    assert rebar.is_futures is True
    assert rebar.tradeable is True


@pytest.mark.parametrize(
    ("symbol", "product_class", "board", "price_tick", "tradeable"),
    [
        ("600000.SH", ProductClass.STOCK, "MAIN", 0.01, True),
        ("688981.SH", ProductClass.STOCK, "STAR", 0.01, True),
        ("300750.SZ", ProductClass.STOCK, "CHINEXT", 0.01, True),
        ("830799.BJ", ProductClass.STOCK, "BSE", 0.01, True),
        ("510300.SH", ProductClass.FUND, "", 0.001, True),
        ("159915.SZ", ProductClass.FUND, "", 0.001, True),
        ("000001.SH", ProductClass.INDEX, "", 0.01, False),
        ("399001.SZ", ProductClass.INDEX, "", 0.01, False),
    ],
)
def test_security_defaults_follow_the_board(
    symbol: str, product_class: ProductClass, board: str, price_tick: float, tradeable: bool
) -> None:
    instrument = InstrumentTable({}).get(symbol)
    assert (
        instrument.product_class,
        instrument.board,
        instrument.price_tick,
        instrument.volume_multiple,
        str(instrument.sessions),
        instrument.product,
        instrument.is_futures,
        instrument.tradeable,
    ) == (product_class, board, price_tick, 1.0, STOCK_SESSIONS, "", False, tradeable)


# --- resolution order ------------------------------------------------------------------------


def test_resolution_order_is_defaults_store_product_then_symbol() -> None:
    stored = {
        "rb2405.SF": {
            "price_tick": 2.0,
            "volume_multiple": 20.0,
            "commission_open": 0.0002,
            "name": "螺纹钢2405",
        }
    }
    overrides = {
        "rb": {"price_tick": 5.0, "volume_multiple": 30.0, "commission_close": 0.0003},
        "rb2405.SF": {"price_tick": 10.0},
    }
    rebar = InstrumentTable(stored, overrides).get("rb2405.SF")
    assert rebar.price_tick == 10.0  # symbol override
    assert rebar.volume_multiple == 30.0  # product override beats the store
    assert rebar.commission_close == 0.0003  # product override beats the default
    assert rebar.commission_open == 0.0002  # store beats the default
    assert rebar.name == "螺纹钢2405"  # store
    assert rebar.commission_close_today == 0.0001  # default
    assert str(rebar.sessions) == REBAR_SESSIONS  # default


def test_store_row_beats_the_default() -> None:
    stored = {"au1912.SF": {"price_tick": 0.05}}
    assert InstrumentTable(stored).get("au1912.SF").price_tick == 0.05
    assert InstrumentTable({}).get("au1912.SF").price_tick == 0.02


def test_exchange_qualified_product_override_beats_bare_product() -> None:
    overrides = {"SHFE.rb": {"price_tick": 3.0}, "rb": {"price_tick": 4.0}}
    assert InstrumentTable({}, overrides).get("rb2405.SF").price_tick == 3.0


def test_symbol_override_in_tqsdk_spelling_applies_to_the_canonical_symbol() -> None:
    overrides = {"SHFE.rb2405": {"price_tick": 7.0}}
    table = InstrumentTable({}, overrides)
    assert table.get("rb2405.SF").price_tick == 7.0
    assert table.get("rb2410.SF").price_tick == 1.0


def test_product_override_applies_to_every_contract_of_the_product_only() -> None:
    table = InstrumentTable({}, {"rb": {"price_tick": 4.0}})
    assert table.get("rb2405.SF").price_tick == 4.0
    assert table.get("rb2410.SF").price_tick == 4.0
    assert table.get("hc2405.SF").price_tick == 1.0


def test_product_override_for_another_exchange_does_not_apply() -> None:
    table = InstrumentTable({}, {"DCE.rb": {"price_tick": 4.0}})
    assert table.get("rb2405.SF").price_tick == 1.0


def test_empty_store_cells_are_skipped() -> None:
    stored = {"rb2405.SF": {"price_tick": None, "volume_multiple": float("nan"), "name": "rebar"}}
    rebar = InstrumentTable(stored).get("rb2405.SF")
    assert (rebar.price_tick, rebar.volume_multiple, rebar.name) == (1.0, 10.0, "rebar")


def test_margin_ratio_sets_long_and_short() -> None:
    rebar = InstrumentTable({}, {"rb": {"margin_ratio": 0.15}}).get("rb2405.SF")
    assert (rebar.margin_ratio_long, rebar.margin_ratio_short) == (0.15, 0.15)


def test_margin_ratio_does_not_override_an_explicit_side() -> None:
    overrides = {"rb": {"margin_ratio": 0.15, "margin_ratio_short": 0.2}}
    rebar = InstrumentTable({}, overrides).get("rb2405.SF")
    assert (rebar.margin_ratio_long, rebar.margin_ratio_short) == (0.15, 0.2)


def test_override_values_are_converted() -> None:
    overrides = {
        "600000.SH": {
            "price_tick": "0.02",
            "product_class": "fund",
            "commission_unit": "LOT",
            "sessions": "09:30-11:30",
            "is_st": 1,
        }
    }
    instrument = InstrumentTable({}, overrides).get("600000.SH")
    assert (
        instrument.price_tick,
        instrument.product_class,
        instrument.commission_unit,
        instrument.sessions,
        instrument.is_st,
    ) == (
        0.02,
        ProductClass.FUND,
        CommissionUnit.LOT,
        TradingSessions(day=((34_200, 41_400),), night=()),
        True,
    )


def test_override_alone_defines_an_instrument_without_defaults() -> None:
    overrides = {
        "900901.SH": {
            "product_class": "STOCK",
            "price_tick": 0.001,
            "volume_multiple": 1,
            "sessions": STOCK_SESSIONS,
        }
    }
    instrument = InstrumentTable({}, overrides).get("900901.SH")
    assert (instrument.symbol, instrument.product_class, instrument.price_tick) == (
        "900901.SH",
        ProductClass.STOCK,
        0.001,
    )


def test_get_returns_the_same_instrument_twice() -> None:
    table = InstrumentTable({})
    assert table.get("rb2405.SF") is table.get("rb2405.SF")


def test_product_override_cffex_if_applies_to_if_contracts() -> None:
    table = InstrumentTable({}, {"CFFEX.IF": {"price_tick": 1.0}})
    assert table.get("IF2003.IF").price_tick == 1.0


def test_product_override_czce_sf_applies_to_ferrosilicon_contracts() -> None:
    table = InstrumentTable({}, {"CZCE.SF": {"price_tick": 7.0}})
    assert table.get("SF405.ZF").price_tick == 7.0


# --- errors ----------------------------------------------------------------------------------


def test_unknown_override_field_suggests_the_closest_name() -> None:
    message = (
        "instruments override 'rb': unknown instrument field 'price_tik'; did you mean "
        f"'price_tick'? (fields: {OVERRIDE_FIELDS})"
    )
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        InstrumentTable({}, {"rb": {"price_tik": 1.0}})


def test_unknown_override_field_without_a_close_name_lists_the_fields() -> None:
    message = (
        f"instruments override 'rb2405.SF': unknown instrument field 'xyzzy' "
        f"(fields: {OVERRIDE_FIELDS})"
    )
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        InstrumentTable({}, {"rb2405.SF": {"xyzzy": 1.0}})


def test_override_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(
        ConfigError, match=r"^instruments override 'rb' must map field names to values, was 0\.1$"
    ):
        InstrumentTable({}, {"rb": 0.1})  # type: ignore[dict-item]


def test_override_key_that_is_neither_symbol_nor_product_is_refused() -> None:
    message = (
        "instruments override key 'rb-2405' is neither a symbol ('rb2405.SF') nor a product "
        "('rb', 'SHFE.rb')"
    )
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        InstrumentTable({}, {"rb-2405": {"price_tick": 1.0}})


RB = "instruments override 'rb2405.SF': "


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"price_tick": -1},
            RB + "price_tick must be a finite positive number, was -1",
        ),
        (
            {"price_tick": 0},
            RB + "price_tick must be a finite positive number, was 0",
        ),
        (
            {"volume_multiple": float("inf")},
            RB + "volume_multiple must be a finite positive number, was inf",
        ),
        (
            {"margin_ratio": -0.1},
            RB + "margin_ratio must be a finite positive number, was -0.1",
        ),
        (
            {"volume_multiple": "ten"},
            RB + "volume_multiple must be a number, was 'ten'",
        ),
        (
            {"product_class": "bond"},
            RB + "product_class must be one of FUTURE, STOCK, FUND, INDEX, OPTION, was 'bond'",
        ),
        (
            {"commission_unit": "share"},
            RB + "commission_unit must be one of lot, turnover, was 'share'",
        ),
        (
            {"sessions": "09:00"},
            "trading session '09:00' in '09:00' is not HH:MM-HH:MM (e.g. '09:30-11:30')",
        ),
    ],
)
def test_bad_override_values_are_refused_naming_instrument_field_and_value(
    values: dict[str, Any], message: str
) -> None:
    # checked when the table is built, before a run: not at the strategy's first order
    with pytest.raises(ConfigError) as caught:
        InstrumentTable({}, {"rb2405.SF": values})
    assert str(caught.value) == message


def test_none_override_value_keeps_the_lower_layer() -> None:
    stored = {"rb2405.SF": {"commission_open": 0.0002}}
    table = InstrumentTable(stored, {"rb2405.SF": {"commission_open": None}})
    assert table.get("rb2405.SF").commission_open == 0.0002


def test_zero_margin_and_commission_are_allowed() -> None:
    overrides = {"rb": {"margin_ratio": 0, "commission_open": 0}}
    rebar = InstrumentTable({}, overrides).get("rb2405.SF")
    assert (rebar.margin_ratio_long, rebar.margin_ratio_short, rebar.commission_open) == (
        0.0,
        0.0,
        0.0,
    )


@pytest.mark.parametrize(
    ("symbol", "what"),
    [("900901.SH", "its code"), ("zz2405.SF", "zz"), ("ZZ405.ZF", "ZZ")],
)
def test_unknown_symbol_names_it_and_how_to_supply_it(symbol: str, what: str) -> None:
    message = (
        f"unknown instrument {symbol}: /data/store has no row for it in instruments.parquet and "
        f"{what} has no default terms; add it to the store or pass "
        f"Backtest(instruments={{{symbol!r}: {{...}}}})"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        InstrumentTable({}, source="/data/store").get(symbol)


def test_store_row_without_the_required_terms_names_what_is_missing() -> None:
    message = (
        "instrument 900901.SH lacks product_class, sessions, volume_multiple: add a row for it "
        "to the store's instruments.parquet or pass Backtest(instruments={'900901.SH': "
        "{'price_tick': ..., 'volume_multiple': ..., 'sessions': ...}})"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        InstrumentTable({"900901.SH": {"price_tick": 0.001}}).get("900901.SH")


def test_store_row_with_an_unknown_column_is_a_data_error_naming_it() -> None:
    table = InstrumentTable({"rb2405.SF": {"multiplier": 10}})
    with pytest.raises(
        DataError,
        match=r"^instrument rb2405\.SF: 'multiplier'=10 is not an instrument field \(did you "
        r"mean 'volume_multiple'\?\); instrument rows hold ",
    ):
        table.get("rb2405.SF")


def test_store_row_may_repeat_the_symbols_exchange() -> None:
    assert InstrumentTable({"rb2405.SF": {"exchange": "SHFE"}}).get("rb2405.SF").price_tick == 1


def test_store_row_with_a_contradicting_exchange_is_a_data_error() -> None:
    with pytest.raises(DataError, match=r"'exchange'='DCE' is not an instrument field"):
        InstrumentTable({"rb2405.SF": {"exchange": "DCE"}}).get("rb2405.SF")


# --- the sample store ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped(sample_store: Store) -> InstrumentTable:
    return InstrumentTable(sample_store.instruments(), source=str(sample_store.root))


def test_shipped_if2003_is_an_index_future_with_tick_0_2_and_multiplier_300(
    shipped: InstrumentTable,
) -> None:
    contract = shipped.get("IF2003.IF")
    assert (
        contract.product_class,
        contract.product,
        contract.price_tick,
        contract.volume_multiple,
        str(contract.sessions),
        contract.sessions.has_night,
        contract.margin_ratio_long,
        contract.commission_unit,
        contract.commission_close_today,
        contract.name,
    ) == (
        ProductClass.FUTURE,
        "IF",
        0.2,
        300.0,
        STOCK_SESSIONS,
        False,
        0.12,
        CommissionUnit.TURNOVER,
        0.000345,
        "沪深300股指期货2003",
    )


def test_shipped_au1912_trades_at_night_with_the_2019_tick_of_0_05(
    shipped: InstrumentTable,
) -> None:
    contract = shipped.get("au1912.SF")
    assert (
        contract.product,
        contract.price_tick,
        contract.volume_multiple,
        str(contract.sessions),
        contract.sessions.has_night,
        contract.commission_unit,
        contract.commission_open,
    ) == ("au", 0.05, 1000.0, GOLD_SESSIONS, True, CommissionUnit.LOT, 10.0)


def test_shipped_600009_is_a_main_board_stock(shipped: InstrumentTable) -> None:
    stock = shipped.get("600009.SH")
    assert (
        stock.product_class,
        stock.board,
        stock.price_tick,
        stock.volume_multiple,
        stock.commission_open,
        stock.name,
        stock.tradeable,
    ) == (ProductClass.STOCK, "MAIN", 0.01, 1.0, 0.00025, "上海机场", True)


def test_shipped_000001_sh_is_an_index_that_cannot_be_traded(shipped: InstrumentTable) -> None:
    index = shipped.get("000001.SH")
    assert (index.product_class, index.name, index.tradeable) == (
        ProductClass.INDEX,
        "上证指数",
        False,
    )


@pytest.mark.parametrize(
    ("symbol", "product_class", "exchange"),
    [
        ("600000.SH", "future", "SSE"),
        ("rb2405.SF", "stock", "SHFE"),
        ("IF2003.IF", "FUND", "CFFEX"),
    ],
)
def test_product_class_must_fit_the_exchange(
    symbol: str, product_class: str, exchange: str
) -> None:
    # the ledger goes by the class, the results' accounts and QIFI by the exchange
    table = InstrumentTable({}, {symbol: {"product_class": product_class}})
    message = (
        f"instrument {symbol}: product_class {product_class.upper()} does not fit a symbol of "
        f"{exchange}: futures trade on the futures exchanges, stocks and funds on SSE, SZSE and "
        f"BSE; fix its product_class"
    )
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        table.get(symbol)


def test_options_and_indexes_are_not_tradeable_on_any_exchange() -> None:
    overrides = {
        "10002000.SH": {
            "product_class": "option",
            "price_tick": 0.0001,
            "volume_multiple": 10000,
            "sessions": STOCK_SESSIONS,
        },
        "IO2003.IF": {
            "product_class": "option",
            "price_tick": 0.2,
            "volume_multiple": 100,
            "sessions": "09:30-11:30,13:00-15:00",
        },
    }
    table = InstrumentTable({}, overrides)
    option, index_option = table.get("10002000.SH"), table.get("IO2003.IF")
    assert (option.product_class, option.tradeable, option.is_futures) == (
        ProductClass.OPTION,
        False,
        False,
    )
    assert (index_option.tradeable, index_option.is_futures) == (False, False)
