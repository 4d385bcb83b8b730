"""Value types of backtest/model.py: symbol spellings and their normalization, periods.

Every accepted spelling of a symbol (xtquant ``code.MARKET``, tqsdk ``EXCHANGE.code``, vnpy
``code.EXCHANGE``, ``MARKET.code``, any case) parses to the one canonical xtquant form
(DESIGN.md §3); period labels round-trip through seconds.
"""

from __future__ import annotations

import pytest

from backtest.errors import ConfigError
from backtest.model import (
    DAY,
    TICK,
    Exchange,
    Symbol,
    normalize_symbol,
    parse_period,
    period_label,
)

SYMBOL_HELP = (
    "write it as code.MARKET (xtquant, e.g. 'IF2003.IF', 'rb2405.SF', '600000.SH') or "
    "EXCHANGE.code (tqsdk, e.g. 'CFFEX.IF2003'); markets are SH, SZ, BJ, SF, DF, ZF, IF, INE, GF"
)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        # xtquant code.MARKET, already canonical
        ("IF2003.IF", "IF2003.IF"),
        ("rb2405.SF", "rb2405.SF"),
        ("600000.SH", "600000.SH"),
        ("000001.SZ", "000001.SZ"),
        ("830799.BJ", "830799.BJ"),
        ("m2005.DF", "m2005.DF"),
        ("SR405.ZF", "SR405.ZF"),
        ("sc2406.INE", "sc2406.INE"),
        ("lc2407.GF", "lc2407.GF"),
        # tqsdk EXCHANGE.code
        ("CFFEX.IF2003", "IF2003.IF"),
        ("SHFE.rb2405", "rb2405.SF"),
        ("SSE.600000", "600000.SH"),
        ("SZSE.000001", "000001.SZ"),
        ("BSE.830799", "830799.BJ"),
        ("DCE.m2005", "m2005.DF"),
        ("CZCE.SR405", "SR405.ZF"),
        ("INE.sc2406", "sc2406.INE"),
        ("GFEX.lc2407", "lc2407.GF"),
        # vnpy code.EXCHANGE
        ("rb2405.SHFE", "rb2405.SF"),
        ("IF2003.CFFEX", "IF2003.IF"),
        ("600000.SSE", "600000.SH"),
        # MARKET.code
        ("SH.600000", "600000.SH"),
        ("SZ.000001", "000001.SZ"),
        ("SF.rb2405", "rb2405.SF"),
        # case: product letters are lower case on SHFE/DCE/INE/GFEX, upper case elsewhere
        ("SHFE.RB2405", "rb2405.SF"),
        ("RB2405.SF", "rb2405.SF"),
        ("shfe.rb2405", "rb2405.SF"),
        ("czce.sr405", "SR405.ZF"),
        ("sr405.zf", "SR405.ZF"),
        ("if2003.if", "IF2003.IF"),
        ("cffex.if2003", "IF2003.IF"),
        ("DCE.M2005", "m2005.DF"),
        ("INE.SC2406", "sc2406.INE"),
        ("GFEX.LC2407", "lc2407.GF"),
        ("600000.sh", "600000.SH"),
        ("sse.600000", "600000.SH"),
        # surrounding spaces
        ("  IF2003.IF ", "IF2003.IF"),
    ],
)
def test_every_accepted_spelling_parses_to_the_canonical_symbol(text: str, canonical: str) -> None:
    assert str(Symbol.parse(text)) == canonical
    assert normalize_symbol(text) == canonical


@pytest.mark.parametrize(
    ("text", "code", "exchange"),
    [
        ("CFFEX.IF2003", "IF2003", Exchange.CFFEX),
        ("SHFE.RB2405", "rb2405", Exchange.SHFE),
        ("SH.600000", "600000", Exchange.SSE),
        ("czce.sr405", "SR405", Exchange.CZCE),
    ],
)
def test_parse_splits_code_and_exchange(text: str, code: str, exchange: Exchange) -> None:
    assert Symbol.parse(text) == Symbol(code, exchange)


@pytest.mark.parametrize(
    ("text", "tq"),
    [
        ("IF2003.IF", "CFFEX.IF2003"),
        ("rb2405.SF", "SHFE.rb2405"),
        ("600000.SH", "SSE.600000"),
        ("000001.SZ", "SZSE.000001"),
        ("SR405.ZF", "CZCE.SR405"),
        ("m2005.DF", "DCE.m2005"),
        ("sc2406.INE", "INE.sc2406"),
        ("lc2407.GF", "GFEX.lc2407"),
        ("830799.BJ", "BSE.830799"),
    ],
)
def test_tq_is_the_tqsdk_spelling(text: str, tq: str) -> None:
    assert Symbol.parse(text).tq == tq


@pytest.mark.parametrize("text", ["CFFEX.IF2003", "SHFE.rb2405", "SSE.600000", "CZCE.SR405"])
def test_tq_spelling_round_trips(text: str) -> None:
    assert Symbol.parse(Symbol.parse(text).tq).tq == text


@pytest.mark.parametrize(
    ("text", "product"),
    [
        ("IF2003.IF", "IF"),
        ("au1912.SF", "au"),
        ("SHFE.RB2405", "rb"),
        ("T2403.IF", "T"),
        ("SR405.ZF", "SR"),
        ("600000.SH", ""),
        ("000001.SZ", ""),
    ],
)
def test_product_is_the_futures_letters_and_empty_for_securities(text: str, product: str) -> None:
    assert Symbol.parse(text).product == product


@pytest.mark.parametrize(
    ("exchange", "market", "is_futures"),
    [
        (Exchange.SSE, "SH", False),
        (Exchange.SZSE, "SZ", False),
        (Exchange.BSE, "BJ", False),
        (Exchange.SHFE, "SF", True),
        (Exchange.DCE, "DF", True),
        (Exchange.CZCE, "ZF", True),
        (Exchange.CFFEX, "IF", True),
        (Exchange.INE, "INE", True),
        (Exchange.GFEX, "GF", True),
    ],
)
def test_exchange_market_suffix_and_kind(exchange: Exchange, market: str, is_futures: bool) -> None:
    assert (exchange.market, exchange.is_futures) == (market, is_futures)


@pytest.mark.parametrize(
    "text",
    ["IF2003", "IF2003.XX", "XX.IF2003", ".IF", "IF2003.", "IF 2003.IF", "IF2003.IF.IF", ""],
)
def test_parse_rejects_unknown_spellings_naming_the_accepted_forms(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Symbol.parse(text)
    assert str(caught.value) == f"symbol {text!r} is not understood: {SYMBOL_HELP}"


def test_parse_rejects_a_non_string() -> None:
    with pytest.raises(
        ConfigError, match=r"^a symbol must be a str like 'IF2003\.IF', was 600000$"
    ):
        Symbol.parse(600000)  # type: ignore[arg-type]


# --- periods ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "seconds"),
    [
        ("tick", 0),
        ("TICK", 0),
        (" tick ", 0),
        ("1s", 1),
        ("30s", 30),
        ("1m", 60),
        ("5m", 300),
        ("15m", 900),
        ("1h", 3600),
        ("4h", 14_400),
        ("1d", 86_400),
        ("5d", 432_000),
        (" 1m ", 60),
        ("1 m", 60),
        (60, 60),
        (86_400, 86_400),
        (172_800, 172_800),
    ],
)
def test_parse_period_gives_seconds(label: str | int, seconds: int) -> None:
    assert parse_period(label) == seconds


@pytest.mark.parametrize(
    ("seconds", "label"),
    [
        (TICK, "tick"),
        (1, "1s"),
        (30, "30s"),
        (90, "90s"),
        (60, "1m"),
        (300, "5m"),
        (5400, "90m"),
        (3600, "1h"),
        (7200, "2h"),
        (DAY, "1d"),
        (7 * DAY, "7d"),
    ],
)
def test_period_label_uses_the_largest_whole_unit(seconds: int, label: str) -> None:
    assert period_label(seconds) == label


@pytest.mark.parametrize("seconds", [0, 1, 15, 60, 90, 300, 900, 3600, 5400, 86_400, 7 * 86_400])
def test_period_label_round_trips_through_parse_period(seconds: int) -> None:
    assert parse_period(period_label(seconds)) == seconds


@pytest.mark.parametrize(
    "label", ["1min", "m", "1M", "1D", "1w", "-1m", "1.5m", "", "day", 1.5, None, True]
)
def test_parse_period_rejects_unknown_labels(label: object) -> None:
    message = (
        f"period {label!r} is not understood: use 'tick', or a number and a unit s/m/h/d such as "
        "'1m', '5m', '1h', '1d', or seconds as an int"
    )
    with pytest.raises(ConfigError) as caught:
        parse_period(label)  # type: ignore[arg-type]
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("label", "seconds"),
    [("0m", 0), (0, 0), (-60, -60), ("25h", 90_000), (86_401, 86_401), ("1500m", 90_000)],
)
def test_parse_period_rejects_zero_negative_and_partial_multi_day_durations(
    label: str | int, seconds: int
) -> None:
    message = (
        f"period of {seconds} s is not supported: use a positive number of seconds up to one day, "
        "or whole days"
    )
    with pytest.raises(ConfigError) as caught:
        parse_period(label)
    assert str(caught.value) == message
