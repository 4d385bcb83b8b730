"""Instrument metadata: what a symbol is and the terms it trades on.

An :class:`Instrument` is resolved for each symbol from three layers, later ones winning:

1. defaults: :data:`backtest.products.FUTURES` for a futures product, and the exchange's rules
   for securities (board from the code, price tick 0.01, or 0.001 for funds);
2. the row for the symbol in the data store's ``instruments.parquet`` (empty cells are skipped);
3. the backtest's ``instruments=`` overrides, keyed by product (``"rb"``, or ``"SHFE.rb"``) or by
   symbol (``"rb2405.SF"``, ``"SHFE.rb2405"``); symbol keys win over product keys.

Override values use the field names of :class:`Instrument`; ``margin_ratio`` sets both the long
and short ratios. An unknown field is a :class:`ConfigError` that suggests the closest name.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, time
from typing import Any, Final, TypeVar

from .errors import ConfigError, DataError, UnknownInstrumentError, did_you_mean
from .model import CommissionUnit, Exchange, ProductClass, Symbol
from .products import FUTURES, STOCK_SESSIONS
from .session import TradingSessions


@dataclass(frozen=True, slots=True)
class Instrument:
    """Terms a symbol trades on. Money is CNY; prices are per unit of the quote.

    Attributes:
        symbol: canonical symbol, ``"IF2003.IF"``.
        exchange: the exchange.
        product_class: future, stock, fund, index or option; indexes cannot be traded.
        product: futures product code (``"IF"``), empty for securities.
        price_tick: minimum price change, e.g. ``0.2`` for IF. Limit prices must lie on it.
        volume_multiple: contract multiplier (``300`` for IF); 1 for securities.
        sessions: trading sessions; orders outside them are rejected.
        margin_ratio_long, margin_ratio_short: margin as a fraction of
            price × volume_multiple × volume (futures).
        commission_unit: ``"lot"`` (CNY per lot) or ``"turnover"`` (rate on turnover).
        commission_open, commission_close, commission_close_today: commission per lot or rate
            for opening, closing yesterday's and closing today's positions.
        name: display name, may be empty.
        board: for stocks, ``MAIN``, ``CHINEXT``, ``STAR`` or ``BSE``.
        is_st: special-treatment stock (narrower price limits).
        price_limit_ratio: daily price limit as a fraction of the previous close (stocks) or
            settlement (futures), e.g. ``0.1``; 0 means the board's rule for stocks and no
            limit for futures unless the data carries limit prices.
        list_date: listing date ``YYYY-MM-DD`` if known; stocks have no price limits in their
            first trading days (see :func:`backtest.ashare.unlimited_days`).
    """

    symbol: str
    exchange: Exchange
    product_class: ProductClass
    product: str
    price_tick: float
    volume_multiple: float
    sessions: TradingSessions
    margin_ratio_long: float = 0.0
    margin_ratio_short: float = 0.0
    commission_unit: CommissionUnit = CommissionUnit.TURNOVER
    commission_open: float = 0.0
    commission_close: float = 0.0
    commission_close_today: float = 0.0
    name: str = ""
    board: str = ""
    is_st: bool = False
    price_limit_ratio: float = 0.0
    list_date: str = ""

    @property
    def is_futures(self) -> bool:
        """True for futures contracts."""
        return self.product_class is ProductClass.FUTURE

    @property
    def untradeable(self) -> str | None:
        """Why no order on it can trade, or None: indexes have quotes but cannot be traded,
        and options are not simulated."""
        if self.product_class is ProductClass.INDEX:
            return "is an index, which cannot be traded"
        if self.product_class is ProductClass.OPTION:
            return "is an option; options are not simulated (futures, stocks and funds are)"
        return None

    @property
    def tradeable(self) -> bool:
        """False for indexes and options (:attr:`untradeable` says why)."""
        return self.untradeable is None


FIELD_NAMES: Final = frozenset(f.name for f in fields(Instrument)) - {"symbol", "exchange"}
_OVERRIDE_NAMES: Final = FIELD_NAMES | {"margin_ratio"}
_FLOAT_FIELDS: Final = frozenset(
    {
        "price_limit_ratio",
        "price_tick",
        "volume_multiple",
        "margin_ratio_long",
        "margin_ratio_short",
        "commission_open",
        "commission_close",
        "commission_close_today",
    }
)
_POSITIVE_FIELDS: Final = frozenset({"price_tick", "volume_multiple"})


def classify_security(code: str, exchange: Exchange) -> tuple[ProductClass, str]:
    """Product class and board of an exchange-listed security, from its code.

    >>> classify_security("600009", Exchange.SSE)
    (<ProductClass.STOCK: 'STOCK'>, 'MAIN')
    >>> classify_security("000001", Exchange.SSE)[0]
    <ProductClass.INDEX: 'INDEX'>
    """
    if exchange is Exchange.SSE:
        if code.startswith(("688", "689")):
            return ProductClass.STOCK, "STAR"
        if code.startswith(("600", "601", "603", "605")):
            return ProductClass.STOCK, "MAIN"
        if code.startswith("5"):
            return ProductClass.FUND, ""
        if code.startswith("000"):
            return ProductClass.INDEX, ""
    elif exchange is Exchange.SZSE:
        if code.startswith(("300", "301")):
            return ProductClass.STOCK, "CHINEXT"
        if code.startswith(("000", "001", "002", "003")):
            return ProductClass.STOCK, "MAIN"
        if code.startswith(("15", "16", "18")):
            return ProductClass.FUND, ""
        if code.startswith("399"):
            return ProductClass.INDEX, ""
    elif exchange is Exchange.BSE and code.startswith(("4", "8", "92")):
        return ProductClass.STOCK, "BSE"
    raise DataError(
        f"cannot tell what {code}.{exchange.market} is from its code; give its product_class "
        f"in the store's instruments.parquet or in Backtest(instruments=...)"
    )


def _defaults(symbol: Symbol) -> dict[str, Any] | None:
    """Default fields for a symbol, or None when the product is unknown."""
    if symbol.exchange.is_futures:
        spec = FUTURES.get((symbol.exchange, symbol.product))
        if spec is None:
            return None
        return {
            "product_class": ProductClass.FUTURE,
            "product": symbol.product,
            "price_tick": spec.price_tick,
            "volume_multiple": spec.volume_multiple,
            "sessions": spec.sessions,
            "margin_ratio_long": spec.margin_ratio,
            "margin_ratio_short": spec.margin_ratio,
            "commission_unit": spec.commission_unit,
            "commission_open": spec.commission_open,
            "commission_close": spec.commission_close,
            "commission_close_today": spec.commission_close_today,
            "price_limit_ratio": spec.price_limit_ratio,
        }
    try:
        product_class, board = classify_security(symbol.code, symbol.exchange)
    except DataError:
        return None
    return {
        "product_class": product_class,
        "product": "",
        "price_tick": 0.001 if product_class is ProductClass.FUND else 0.01,
        "volume_multiple": 1.0,
        "sessions": STOCK_SESSIONS,
        "board": board,
    }


def _check_override(where: str, values: Mapping[str, Any]) -> None:
    for name in values:
        if name not in _OVERRIDE_NAMES:
            close = difflib.get_close_matches(name, sorted(_OVERRIDE_NAMES), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"{where}: unknown instrument field {name!r}{hint} "
                f"(fields: {', '.join(sorted(_OVERRIDE_NAMES))})"
            )
        typed = "margin_ratio_long" if name == "margin_ratio" else name
        # checked now, before any run, not at the strategy's first order (None: keep the
        # lower layer's value)
        if typed in _TYPED_FIELDS and values[name] is not None:
            _typed(typed, values[name], where, shown=name)


_TYPED_FIELDS: Final = _FLOAT_FIELDS | {
    "sessions", "product_class", "commission_unit", "is_st", "list_date"
}  # fmt: skip


def check_field(name: str, value: Any, where: str) -> float | bool | str:
    """Refuse what an instrument row of the store may not hold, as reading it would: a name
    that is not an :class:`Instrument` field, or a value its field does not take; text fields
    (``name``, ``board``, ``product``) take only text.

    Args:
        where: starts the message (``"instrument row rb2001.SF"``).

    Returns:
        The value as ``instruments.parquet`` holds it, one type per field: a number field's
        as a float, ``is_st`` as a bool, the others as text (sessions, enums and the ISO date
        in the form reading parses).

    Raises:
        ConfigError: the message names ``where``, the field and the value.
    """
    if name not in FIELD_NAMES:
        raise ConfigError(
            f"{where}: {name!r} is not an instrument field"
            f"{did_you_mean(str(name), sorted(FIELD_NAMES))}; instrument rows hold "
            f"{', '.join(sorted(FIELD_NAMES))}"
        )
    if name not in _TYPED_FIELDS:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {name} must be text, was {value!r}")
        return value
    try:
        typed = _typed(name, value, where)
    except ConfigError as exc:
        if name != "sessions":
            raise
        raise ConfigError(f"{where}: sessions: {exc}") from None  # the parser names neither
    return typed if isinstance(typed, float | bool) else str(typed)


def _typed(name: str, value: Any, where: str, shown: str | None = None) -> Any:
    """The value of a number, sessions, enum, flag or date field, checked (``shown``: the
    name the user wrote, e.g. ``margin_ratio`` for ``margin_ratio_long``).

    Raises:
        ConfigError: the value does not fit the field (the message names both).
    """
    if name in _FLOAT_FIELDS:
        label = shown or name
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: {label} must be a number, was {value!r}") from None
        if not math.isfinite(number) or number < 0 or (number == 0 and name in _POSITIVE_FIELDS):
            raise ConfigError(f"{where}: {label} must be a finite positive number, was {value!r}")
        return number
    if name == "sessions":
        return value if isinstance(value, TradingSessions) else TradingSessions.parse(str(value))
    if name == "product_class":
        return _enum(ProductClass, value, name, where)
    if name == "commission_unit":
        return _enum(CommissionUnit, value, name, where)
    if name == "is_st":
        return _flag(value, name, where)
    return _iso_date(value, name, where)  # list_date


def _build(symbol: Symbol, values: Mapping[str, Any], where: str) -> Instrument:
    """Validate and convert merged field values into an Instrument."""
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        if name in _TYPED_FIELDS:
            kwargs[name] = _typed(name, value, where)
        elif name in FIELD_NAMES:
            kwargs[name] = str(value)
        elif name == "exchange" and str(value).upper() in (
            symbol.exchange.value,
            symbol.exchange.market,
        ):
            continue  # redundant with the symbol, and consistent with it
        else:
            raise DataError(
                f"{where}: {name!r}={value!r} is not an instrument field"
                f"{did_you_mean(name, sorted(FIELD_NAMES))}; instrument rows "
                f"hold {', '.join(sorted(FIELD_NAMES))}"
            )
    missing = {"product_class", "price_tick", "volume_multiple", "sessions"} - kwargs.keys()
    if missing:
        raise DataError(
            f"instrument {symbol} lacks {', '.join(sorted(missing))}: add a row for it to the "
            f"store's instruments.parquet or pass Backtest(instruments={{{str(symbol)!r}: "
            f"{{'price_tick': ..., 'volume_multiple': ..., 'sessions': ...}}}})"
        )
    kind = kwargs["product_class"]
    if (kind is ProductClass.FUTURE and not symbol.exchange.is_futures) or (
        kind in (ProductClass.STOCK, ProductClass.FUND) and symbol.exchange.is_futures
    ):
        # The ledger (futures or stock rules) goes by the class, the accounts of the results
        # and QIFI by the exchange: they must agree.
        raise ConfigError(
            f"{where}: product_class {kind.value} does not fit a symbol of "
            f"{symbol.exchange.value}: futures trade on the futures exchanges, stocks and funds "
            f"on SSE, SZSE and BSE; fix its product_class"
        )
    kwargs.setdefault("product", symbol.product)
    return Instrument(symbol=str(symbol), exchange=symbol.exchange, **kwargs)


def _iso_date(value: Any, name: str, where: str) -> str:
    if isinstance(value, datetime):  # pandas' Timestamp too: its day, if it has no time of day
        if value.time() != time() or getattr(value, "nanosecond", 0) != 0:
            raise ConfigError(
                f"{where}: {name} must be a date YYYY-MM-DD, was {value!r}, which has a time of day"
            )
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return ""
    try:
        return date.fromisoformat(text.replace("/", "-")).isoformat()
    except ValueError:
        raise ConfigError(f"{where}: {name} must be a date YYYY-MM-DD, was {value!r}") from None


def _flag(value: Any, name: str, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes"):
        return True
    if text in ("0", "false", "no", ""):
        return False
    raise ConfigError(f"{where}: {name} must be true or false, was {value!r}")


_E = TypeVar("_E", ProductClass, CommissionUnit)


def _enum(kind: type[_E], value: Any, name: str, where: str) -> _E:
    try:
        return kind(str(value).upper() if kind is ProductClass else str(value).lower())
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise ConfigError(f"{where}: {name} must be one of {allowed}, was {value!r}") from None


class InstrumentTable:
    """Resolves :class:`Instrument` for symbols from defaults, store rows and overrides.

    Args:
        stored: field values per canonical symbol, as read from the store (None cells skipped).
        overrides: the backtest's overrides, keyed by symbol or product (see module docs).
        source: the store path, named in error messages.
    """

    def __init__(
        self,
        stored: Mapping[str, Mapping[str, Any]],
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
        source: str = "the data store",
    ) -> None:
        self._stored = stored
        self._source = source
        self._by_symbol: dict[str, dict[str, Any]] = {}
        self._by_product: dict[tuple[Exchange | None, str], dict[str, Any]] = {}
        for key, values in (overrides or {}).items():
            where = f"instruments override {key!r}"
            if not isinstance(values, Mapping):
                raise ConfigError(f"{where} must map field names to values, was {values!r}")
            _check_override(where, values)
            expanded = dict(values)
            if "margin_ratio" in expanded:
                ratio = expanded.pop("margin_ratio")
                expanded.setdefault("margin_ratio_long", ratio)
                expanded.setdefault("margin_ratio_short", ratio)
            self._add_override(key, expanded)
        self._cache: dict[str, Instrument] = {}

    def _add_override(self, key: str, values: dict[str, Any]) -> None:
        if key.isalpha():  # a bare product code, any case: "rb", "RB", "IF"
            self._by_product[(None, key.lower())] = values
            return
        try:
            symbol = Symbol.parse(key)
        except ConfigError:
            raise ConfigError(
                f"instruments override key {key!r} is neither a symbol ('rb2405.SF') nor a "
                f"product ('rb', 'SHFE.rb')"
            ) from None
        if symbol.code.isalpha() and symbol.exchange.is_futures:
            self._by_product[(symbol.exchange, symbol.code)] = values
        else:
            self._by_symbol[str(symbol)] = values

    def get(self, symbol: str) -> Instrument:
        """The instrument of a canonical symbol.

        Raises:
            UnknownInstrumentError: the symbol is unknown (no defaults, no store row, no
                override).
            DataError: what is known of it lacks required terms.
        """
        cached = self._cache.get(symbol)
        if cached is not None:
            return cached
        parsed = Symbol.parse(symbol)
        values = _defaults(parsed)
        stored = self._stored.get(symbol)
        overrides = [
            self._by_product.get((None, parsed.product.lower())),
            self._by_product.get((parsed.exchange, parsed.product)),
            self._by_symbol.get(symbol),
        ]
        if values is None and stored is None and not any(overrides):
            raise UnknownInstrumentError(
                f"unknown instrument {symbol}: {self._source} has no row for it in "
                f"instruments.parquet and {parsed.product or 'its code'} has no default terms; "
                f"add it to the store or pass Backtest(instruments={{{symbol!r}: {{...}}}})"
            )
        merged: dict[str, Any] = dict(values or {})
        for layer in (stored, *overrides):
            if layer:
                merged.update({k: v for k, v in layer.items() if not _is_missing(v)})
        instrument = _build(parsed, merged, f"instrument {symbol}")
        self._cache[symbol] = instrument
        return instrument


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
