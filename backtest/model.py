"""Value types shared by every module: exchanges, symbols, periods and the order vocabulary.

Symbols have one canonical form, xtquant's ``code.MARKET`` (``IF2003.IF``, ``rb2405.SF``,
``600000.SH``). :meth:`Symbol.parse` also accepts tqsdk's ``EXCHANGE.code`` (``CFFEX.IF2003``,
``SSE.600000``), vnpy's ``code.EXCHANGE`` (``rb2405.SHFE``) and ``MARKET.code`` (``SH.600000``),
and normalizes them once, at the edge; everything downstream uses the canonical string.

Enum values are stable ASCII strings equal to tqsdk's (``"BUY"``, ``"CLOSETODAY"``,
``"FINISHED"``), so ``order.status == "FINISHED"`` in a ported tqsdk strategy keeps working.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from .errors import ConfigError


class Exchange(StrEnum):
    """Chinese exchanges, valued by their tqsdk/vnpy identifiers."""

    SSE = "SSE"
    """Shanghai Stock Exchange (xtquant market ``SH``)."""
    SZSE = "SZSE"
    """Shenzhen Stock Exchange (``SZ``)."""
    BSE = "BSE"
    """Beijing Stock Exchange (``BJ``)."""
    SHFE = "SHFE"
    """Shanghai Futures Exchange (``SF``)."""
    DCE = "DCE"
    """Dalian Commodity Exchange (``DF``)."""
    CZCE = "CZCE"
    """Zhengzhou Commodity Exchange (``ZF``)."""
    CFFEX = "CFFEX"
    """China Financial Futures Exchange (``IF``)."""
    INE = "INE"
    """Shanghai International Energy Exchange (``INE``)."""
    GFEX = "GFEX"
    """Guangzhou Futures Exchange (``GF``)."""

    @property
    def market(self) -> str:
        """xtquant's market suffix, as in ``600000.SH``."""
        return _MARKET_OF[self]

    @property
    def is_futures(self) -> bool:
        """True for the futures exchanges."""
        return self not in (Exchange.SSE, Exchange.SZSE, Exchange.BSE)


_MARKET_OF: Final[dict[Exchange, str]] = {
    Exchange.SSE: "SH",
    Exchange.SZSE: "SZ",
    Exchange.BSE: "BJ",
    Exchange.SHFE: "SF",
    Exchange.DCE: "DF",
    Exchange.CZCE: "ZF",
    Exchange.CFFEX: "IF",
    Exchange.INE: "INE",
    Exchange.GFEX: "GF",
}
# Every spelling of an exchange that may appear on either side of the dot.
_ALIASES: Final[dict[str, Exchange]] = {
    **{market: exchange for exchange, market in _MARKET_OF.items()},
    **{exchange.value: exchange for exchange in Exchange},
}
_EXCHANGE_NAMES: Final = frozenset(exchange.value for exchange in Exchange)
# Product letters are lower case on these exchanges and upper case elsewhere.
_LOWER_CASE_PRODUCTS: Final = frozenset({Exchange.SHFE, Exchange.DCE, Exchange.INE, Exchange.GFEX})
_CODE = re.compile(r"^[A-Za-z0-9]+$")
_PRODUCT = re.compile(r"^[A-Za-z]+")


@dataclass(frozen=True, slots=True)
class Symbol:
    """An instrument identifier: exchange code plus exchange.

    ``str(symbol)`` is the canonical xtquant form (``IF2003.IF``); :attr:`tq` is tqsdk's
    (``CFFEX.IF2003``).
    """

    code: str
    exchange: Exchange

    @classmethod
    def parse(cls, text: str) -> Symbol:
        """Parse any accepted spelling of a symbol.

        >>> str(Symbol.parse("CFFEX.IF2003")), str(Symbol.parse("SHFE.RB2405"))
        ('IF2003.IF', 'rb2405.SF')

        Raises:
            ConfigError: the text is not ``code.MARKET`` or ``EXCHANGE.code`` with a known
                exchange.
        """
        if not isinstance(text, str):
            raise ConfigError(f"a symbol must be a str like 'IF2003.IF', was {text!r}")
        head, dot, tail = text.strip().partition(".")
        # A full exchange name first means tqsdk's EXCHANGE.code ("CFFEX.IF" is product IF, not
        # code CFFEX on market IF); otherwise code.MARKET, then MARKET.code.
        if dot and head.upper() in _EXCHANGE_NAMES and _CODE.match(tail):
            code, exchange = tail, Exchange(head.upper())
        elif dot and tail.upper() in _ALIASES and _CODE.match(head):
            code, exchange = head, _ALIASES[tail.upper()]
        elif dot and head.upper() in _ALIASES and _CODE.match(tail):
            code, exchange = tail, _ALIASES[head.upper()]
        else:
            raise ConfigError(
                f"symbol {text!r} is not understood: write it as code.MARKET "
                f"(xtquant, e.g. 'IF2003.IF', 'rb2405.SF', '600000.SH') or EXCHANGE.code "
                f"(tqsdk, e.g. 'CFFEX.IF2003'); markets are {', '.join(_MARKET_OF.values())}"
            )
        if exchange.is_futures:
            letters = _PRODUCT.match(code)
            product = letters.group(0) if letters else ""
            product = product.lower() if exchange in _LOWER_CASE_PRODUCTS else product.upper()
            code = product + code[len(product) :]
        return cls(code, exchange)

    @property
    def product(self) -> str:
        """Futures product code (``IF``, ``au``); empty for securities."""
        if not self.exchange.is_futures:
            return ""
        letters = _PRODUCT.match(self.code)
        return letters.group(0) if letters else ""

    @property
    def tq(self) -> str:
        """tqsdk's spelling, ``EXCHANGE.code``."""
        return f"{self.exchange.value}.{self.code}"

    def __str__(self) -> str:
        return f"{self.code}.{self.exchange.market}"


def normalize_symbol(text: str) -> str:
    """Canonical string of any accepted spelling (see :meth:`Symbol.parse`)."""
    return str(Symbol.parse(text))


_PERIOD = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
TICK: Final = 0
"""The duration of a tick serial."""
DAY: Final = 86_400
"""The duration of a daily kline serial, in seconds."""


def parse_period(text: str | int) -> int:
    """Duration in seconds of a period label (``"1m"`` → 60, ``"1d"`` → 86400, ``"tick"`` → 0).

    An ``int`` is taken as seconds already.

    Raises:
        ConfigError: unknown label or non-positive duration.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        seconds = text
    elif isinstance(text, str) and text.strip().lower() == "tick":
        return TICK
    else:
        match = _PERIOD.match(text) if isinstance(text, str) else None
        if match is None:
            raise ConfigError(
                f"period {text!r} is not understood: use 'tick', or a number and a unit "
                f"s/m/h/d such as '1m', '5m', '1h', '1d', or seconds as an int"
            )
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds < 0 or (seconds > DAY and seconds % DAY) or seconds == 0:
        raise ConfigError(
            f"period of {seconds} s is not supported: use a positive number of seconds up to one "
            f"day, or whole days"
        )
    return seconds


def period_label(duration_s: int) -> str:
    """Label of a duration: 0 → ``"tick"``, 60 → ``"1m"``, 86400 → ``"1d"``."""
    if duration_s == TICK:
        return "tick"
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if duration_s % size == 0:
            return f"{duration_s // size}{unit}"
    return f"{duration_s}s"


class Direction(StrEnum):
    """Order side."""

    BUY = "BUY"
    """买"""
    SELL = "SELL"
    """卖"""


class Offset(StrEnum):
    """Open or close (开平)."""

    OPEN = "OPEN"
    """开仓"""
    CLOSE = "CLOSE"
    """平仓: closes yesterday's position on SHFE/INE; yesterday's first, then today's, elsewhere."""
    CLOSE_TODAY = "CLOSETODAY"
    """平今: closes today's position on SHFE/INE; same as CLOSE on other exchanges (as tqsdk)."""


DAY_SPLIT_EXCHANGES: Final = frozenset({Exchange.SHFE, Exchange.INE})
"""Exchanges whose positions are split into today's and yesterday's lots (CLOSE vs CLOSETODAY)."""


class OrderStatus(StrEnum):
    """tqsdk's two order states."""

    ALIVE = "ALIVE"
    """Not yet finished: waiting to reach the broker or resting in the book."""
    FINISHED = "FINISHED"
    """Filled, cancelled, expired or rejected; ``last_msg`` says which."""


class PriceType(StrEnum):
    """Limit or market order."""

    LIMIT = "LIMIT"
    ANY = "ANY"
    """Market order: fills at the opposing best price, or is cancelled if there is none."""


class TimeCondition(StrEnum):
    """How long an order may rest."""

    GFD = "GFD"
    """Good for day: cancelled at the trading day's settlement."""
    IOC = "IOC"
    """Immediate or cancel: FAK, FOK and market orders."""


class VolumeCondition(StrEnum):
    """How much of an IOC order must fill."""

    ANY = "ANY"
    """Any volume (FAK and limit orders)."""
    ALL = "ALL"
    """All or nothing (FOK)."""


class ProductClass(StrEnum):
    """What kind of instrument a symbol is."""

    FUTURE = "FUTURE"
    STOCK = "STOCK"
    FUND = "FUND"
    INDEX = "INDEX"
    OPTION = "OPTION"


class CommissionUnit(StrEnum):
    """How a commission parameter is applied."""

    LOT = "lot"
    """CNY per lot (手)."""
    TURNOVER = "turnover"
    """A rate on price × volume_multiple × volume."""
