"""What a strategy ported from tqsdk meets: DataFrame idioms on serials (and clear errors for the
rest), tqsdk's position and quote fields (backtest/frame.py, account.py, quotes.py)."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pandas as pd
import pytest

from backtest import Api, ApiUsageError, Backtest
from backtest.account import Position
from backtest.frame import FIRST_LIVE_ID, KlineFrame, SerialBuffer, TickFrame
from backtest.instrument import InstrumentTable
from backtest.model import TICK
from backtest.quotes import QUOTE_FIELDS, Quote, synthesized_state
from backtest.store import KLINE_COLUMNS, TICK_COLUMNS, Store
from tests.conftest import ns, write_bars

MINUTE = 60_000_000_000
BARS = [(f"2020-01-02 09:{m}", 4000 + m, 4002 + m, 3999 + m, 4001 + m, m) for m in range(30, 33)]
"""IF2003.IF 1-minute bars 09:30–09:32: open 4030, 4031, 4032; close one point above."""


def klines(closes: list[float], data_length: int) -> KlineFrame:
    """A 1-minute frame over bars with these closes (open = close − 1, other fields fixed)."""
    buffer = SerialBuffer("IF2003.IF", 60, keep=data_length)
    rows = [
        (i * MINUTE, c - 1, c + 1, c - 2, c, 10.0, math.nan, 5.0, 6.0) for i, c in enumerate(closes)
    ]
    assert all(len(row) == len(KLINE_COLUMNS) for row in rows)
    buffer.load_history(rows, step=1)
    return KlineFrame(buffer, data_length)


def ticks(prices: list[float], data_length: int) -> TickFrame:
    buffer = SerialBuffer("IF2101.IF", TICK, keep=data_length)
    rest = [math.nan] * (len(TICK_COLUMNS) - 2)
    buffer.load_history([(i * 500_000_000, p, *rest) for i, p in enumerate(prices)], step=1)
    return TickFrame(buffer, data_length)


# --- serials: DataFrame idioms -----------------------------------------------------------


def test_shape_empty_and_index_are_those_of_the_dataframe_tqsdk_gives() -> None:
    frame = klines([4000.0, 4001.0], data_length=3)  # one row of padding

    assert frame.shape == (3, 10) == frame.to_frame().shape
    assert frame.empty is False  # padding rows count, as in tqsdk
    assert list(frame.index) == [0, 1, 2]
    assert frame.index.equals(frame.to_frame().index)
    assert "close" in frame and "id" in frame and "ma" not in frame


def test_tail_head_and_copy_are_dataframe_copies_with_tqsdks_labels() -> None:
    frame = klines([4000.0, 4001.0, 4002.0, 4003.0], data_length=3)

    tail = frame.tail(2)
    assert isinstance(tail, pd.DataFrame)
    assert list(tail.index) == [1, 2]
    assert tail.close.tolist() == [4002.0, 4003.0]
    assert tail.id.tolist() == [FIRST_LIVE_ID - 2, FIRST_LIVE_ID - 1]
    assert frame.head(1).close.tolist() == [4001.0]

    copied = frame.copy()
    copied["ma"] = copied.close.rolling(2).mean()  # a copy takes new columns
    assert copied.ma.tolist()[1:] == [4001.5, 4002.5]
    assert "ma" not in frame and frame.close.tolist() == [4001.0, 4002.0, 4003.0]

    frame._buffer.append((4 * MINUTE, 4003.0, 4005.0, 4002.0, 4004.0, 1.0, math.nan, 5.0, 6.0), 2)
    assert frame.close.tolist() == [4002.0, 4003.0, 4004.0]  # the frame is live...
    assert tail.close.tolist() == [4002.0, 4003.0]  # ...its copies are not


def test_loc_reads_by_label_and_a_rows_name_is_its_label() -> None:
    frame = klines([4000.0, 4001.0, 4002.0], data_length=3)

    assert frame.loc[frame.index[-1], "close"] == 4002.0
    assert frame.loc[0:1, "close"].tolist() == [4000.0, 4001.0]
    assert frame.iloc[-1].name == 2 == frame.to_frame().iloc[-1].name
    assert frame.iloc[0].name == 0
    assert frame.iloc[-2].name == 1


def test_dataframe_methods_a_frame_lacks_point_at_to_frame() -> None:
    frame = klines([4000.0], data_length=2)

    with pytest.raises(AttributeError) as raised:
        frame.set_index  # noqa: B018
    assert str(raised.value) == (
        "KlineFrame has no attribute 'set_index': klines is a live, read-only view of the "
        "serial, not a pandas DataFrame; use klines.to_frame().set_index(...) (to_frame() "
        "returns a pandas DataFrame copy of the rows), or for speed klines.to_numpy(column)"
    )
    with pytest.raises(AttributeError, match=r"; use klines\.to_frame\(\)\.values \(to_frame"):
        frame.values  # noqa: B018 - a property: no "(...)"
    with pytest.raises(ApiUsageError) as refused:
        pd.DataFrame(frame)
    assert str(refused.value) == (
        "a KlineFrame cannot be iterated or passed to pd.DataFrame(): klines is a live, "
        "read-only view of the serial, not a pandas DataFrame; use klines.to_frame() (a "
        "DataFrame copy of its rows), or klines.columns for the column names"
    )
    with pytest.raises(ApiUsageError, match=r"^a KlineFrame cannot be iterated"):
        list(frame)
    assert hasattr(frame, "set_index") is False  # still an AttributeError: getattr defaults work


def test_a_misspelt_column_or_field_suggests_the_right_one() -> None:
    frame = klines([4000.0], data_length=2)
    columns = "id, datetime, open, high, low, close, volume, amount, open_oi, close_oi"

    with pytest.raises(AttributeError) as raised:
        frame.clos  # noqa: B018
    assert str(raised.value) == (
        f"KlineFrame has no attribute 'clos' (did you mean 'close'?); its columns are {columns}"
    )
    for read in (lambda: frame["clos"], lambda: frame.to_numpy("clos")):
        with pytest.raises(KeyError) as missing:
            read()
        assert missing.value.args == (
            "kline serial of IF2003.IF has no column 'clos' (did you mean 'close'?)",
        )
    with pytest.raises(AttributeError, match=r"^a kline row has no field 'clos' \(did you mean"):
        frame.iloc[-1].clos  # noqa: B018
    with pytest.raises(AttributeError) as series:
        frame.iloc[-1].tolist()
    assert str(series.value) == (
        "a kline row has no field 'tolist': a row is a snapshot of one kline's fields, not a "
        "pandas Series; read row.close or row['close'], use row.to_dict(), or take a Series "
        "from a copy: klines.to_frame().iloc[-1].tolist"
    )
    with pytest.raises(AttributeError) as unknown:
        frame.iloc[-1].zzz  # noqa: B018
    assert str(unknown.value) == f"a kline row has no field 'zzz'; its fields are {columns}"


def test_writing_into_a_frame_says_it_is_read_only_and_what_to_do_instead() -> None:
    frame = klines([4000.0, 4001.0], data_length=2)
    advice = (
        "is not possible: klines is read-only and live (the backtest updates it in place as "
        "time advances). Compute into a variable (ma = klines.close.rolling(5).mean()) or into "
        "a copy (frame = klines.to_frame(); "
    )

    with pytest.raises(ApiUsageError) as raised:
        frame["ma"] = frame.close.rolling(2).mean()
    assert str(raised.value) == f"klines['ma'] = ... {advice}frame['ma'] = ...)"
    with pytest.raises(ApiUsageError) as deleted:
        del frame["close"]
    assert str(deleted.value) == f"del klines['close'] {advice}del frame['close'])"
    with pytest.raises(ApiUsageError) as by_position:
        frame.iloc[-1, 2] = 0.0
    assert str(by_position.value) == f"klines.iloc[...] = ... {advice}frame['ma'] = ...)"
    with pytest.raises(ApiUsageError, match=r"^klines\.loc\[\.\.\.\] = \.\.\. is not possible"):
        frame.loc[1, "close"] = 0.0
    with pytest.raises(ApiUsageError) as row:
        frame.iloc[-1]["close"] = 0.0
    assert str(row.value) == (
        "a kline row is a read-only snapshot; to change values, work on a copy: "
        "frame = klines.to_frame()"
    )
    assert frame.close.tolist() == [4000.0, 4001.0]


def test_tick_frame_messages_name_ticks_and_their_price_column() -> None:
    frame = ticks([4500.0, 4500.2], data_length=2)

    assert frame.shape == (2, len(TICK_COLUMNS) + 1)
    assert frame.tail(1).last_price.tolist() == [4500.2]
    with pytest.raises(ApiUsageError) as raised:
        frame["mid"] = 0.0
    assert str(raised.value) == (
        "ticks['mid'] = ... is not possible: ticks is read-only and live (the backtest updates "
        "it in place as time advances). Compute into a variable "
        "(ma = ticks.last_price.rolling(5).mean()) or into a copy "
        "(frame = ticks.to_frame(); frame['mid'] = ...)"
    )
    with pytest.raises(AttributeError, match=r"^TickFrame has no attribute 'rolling': ticks is"):
        frame.rolling  # noqa: B018


def test_dataframe_idioms_inside_a_running_strategy(empty_store: Store) -> None:
    write_bars(empty_store, "IF2003.IF", 60, BARS)
    seen: list[tuple[Any, ...]] = []

    async def strategy(api: Api) -> None:
        serial = api.get_kline_serial("IF2003.IF", 60, data_length=3)
        while True:
            await api.wait_update()
            if api.now_ns == ns("2020-01-02 09:32:00"):  # the third bar opened
                last = serial.iloc[-1]
                seen.append(
                    (
                        serial.shape,
                        serial.empty,
                        serial.tail(3).close.tolist(),
                        serial.loc[serial.index[-1], "close"],
                        last.name,
                        last.close,
                        serial.copy().iloc[-1].close,
                    )
                )

    Backtest(strategy, date(2020, 1, 2), date(2020, 1, 2), data=empty_store.root).run()

    # the 09:30 and 09:31 bars closed at 4031 and 4032; the 09:32 bar opened at 4032
    assert seen == [((3, 10), False, [4031.0, 4032.0, 4032.0], 4032.0, 2, 4032.0, 4032.0)]


# --- positions: tqsdk's volume_* fields ---------------------------------------------------


def test_volume_fields_equal_the_pos_fields_and_frozen_sums_as_in_tqsdk() -> None:
    instrument = InstrumentTable({}).get("IF2003.IF")
    position = Position(instrument, Quote(instrument))
    position.touch(1)
    position.pos_long_his, position.pos_long_today = 3, 2
    position.pos_short_his, position.pos_short_today = 1, 4
    position.volume_long_frozen_his, position.volume_long_frozen_today = 3, 1
    position.volume_short_frozen_his, position.volume_short_frozen_today = 0, 2

    assert (position.volume_long_his, position.volume_long_today, position.volume_long) == (3, 2, 5)
    assert (position.volume_short_his, position.volume_short_today, position.volume_short) == (
        1, 4, 5,
    )  # fmt: skip
    assert (position.volume_long_frozen, position.volume_short_frozen) == (4, 2)
    assert position["volume_long"] == position.pos_long == 5


def test_is_changing_on_a_volume_field_answers_as_for_the_field_it_equals() -> None:
    instrument = InstrumentTable({}).get("IF2003.IF")
    position = Position(instrument, Quote(instrument))
    fields = (
        "volume_long_today", "volume_long_his", "volume_long", "volume_long_frozen",
        "volume_short_today", "volume_short", "volume_short_frozen",
    )  # fmt: skip

    position.touch(1)
    position.pos_long_today = 2  # a fill
    assert [position.changed(1, f) for f in fields] == [True, False, True, True, False, True, True]
    assert position.changed(1, "pos_long_today") and not position.changed(1, "pos_long_his")

    position.touch(2)
    position.volume_long_frozen_today = 1  # a closing order rests
    assert [position.changed(2, f) for f in fields] == [
        False, False, True, True, False, True, True,
    ]  # fmt: skip  # the sums answer as pos_long does: a derived field follows any change
    assert position.changed(2, "pos_long") and not position.changed(2, "pos_long_today")
    assert not any(position.changed(3, f) for f in fields)


def test_volume_fields_in_a_running_strategy(empty_store: Store) -> None:
    write_bars(empty_store, "IF2003.IF", 60, BARS)
    seen: list[tuple[Any, ...]] = []
    fields = ("volume_long_today", "volume_long_his", "volume_long", "volume_long_frozen")

    async def strategy(api: Api) -> None:
        position = api.get_position("IF2003.IF")
        assert isinstance(position, Position)
        api.get_quote("IF2003.IF")
        await api.wait_update()  # delivery
        await api.wait_update()  # 09:30: the first bar opens at 4030
        api.insert_order("IF2003.IF", "BUY", "OPEN", 2, limit_price=4031.0)
        await api.wait_update()  # filled
        seen.append(tuple(getattr(position, f) for f in fields))
        seen.append(tuple(api.is_changing(position, f) for f in fields))
        api.insert_order("IF2003.IF", "SELL", "CLOSE", 1, limit_price=4100.0)
        await api.wait_update()  # rests, holding one lot
        seen.append(tuple(getattr(position, f) for f in fields))
        seen.append((api.is_changing(position, "volume_long_today"), position.volume_short_frozen))

    Backtest(strategy, date(2020, 1, 2), date(2020, 1, 2), data=empty_store.root).run()

    assert seen == [(2, 0, 2, 0), (True, False, True, True), (2, 0, 2, 1), (False, 0)]


# --- quotes: tqsdk's instrument fields, yesterday's prices --------------------------------

INSTRUMENTS = InstrumentTable(
    {
        "IF2003.IF": {"name": "沪深300股指期货2003"},
        "au1912.SF": {"name": "黄金1912", "commission_unit": "lot", "commission_open": 10.0},
    }
)


def _same(a: Any, b: Any) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and a != a and b != b)


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("IF2003.IF", ("沪深300股指期货2003", "IF", 1, math.nan)),
        ("au1912.SF", ("黄金1912", "au", 2, 10.0)),  # commission per lot: tqsdk's meaning
        ("600000.SH", ("", "", 2, math.nan)),  # securities: fees are rates, no product
        ("510300.SH", ("", "", 3, math.nan)),  # a fund: tick 0.001
    ],
)
def test_quote_has_tqsdks_instrument_fields(symbol: str, expected: tuple[Any, ...]) -> None:
    quote = Quote(INSTRUMENTS.get(symbol))

    values = (quote.instrument_name, quote.product_id, quote.price_decs, quote.commission)
    assert all(_same(a, b) for a, b in zip(values, expected, strict=True)), values
    # not known to the backtest: tqsdk's "unknown" values
    assert math.isnan(quote.margin) and math.isnan(quote.expire_datetime)
    assert quote.underlying_symbol == ""
    assert math.isnan(quote.close)
    assert quote["instrument_name"] == quote.instrument_name


def test_instrument_fields_change_only_when_the_quote_is_new() -> None:
    quote = Quote(INSTRUMENTS.get("IF2003.IF"))
    quote.mark_new(1)  # handed to the strategy
    assert quote.changed(1, "instrument_name") and quote.changed(1, "close")

    quote.update(synthesized_state(ns("2020-01-02 09:30"), 4000.0, 3999.8, 4000.2, 1.0), 2)
    assert not quote.changed(2, "instrument_name") and not quote.changed(2, "close")
    assert quote.changed(2, "last_price")


def test_pre_close_and_pre_settlement_come_with_the_days_limits_unless_the_data_has_them() -> None:
    quote = Quote(INSTRUMENTS.get("600000.SH"))
    assert math.isnan(quote.pre_close) and math.isnan(quote.pre_settlement)
    quote.update(synthesized_state(ns("2020-01-02 09:30"), 10.0, 9.99, 10.01, 0.0), 1)

    quote.set_day(11.11, 9.09, 10.1, math.nan)  # the engine, at 2020-01-03's start
    quote.update(synthesized_state(ns("2020-01-03 09:30"), 10.5, 10.49, 10.51, 0.0), 2)
    assert (quote.pre_close, quote.upper_limit, quote.lower_limit) == (10.1, 11.11, 9.09)
    assert math.isnan(quote.pre_settlement)
    assert quote.changed(2, "pre_close") and quote.changed(2, "upper_limit")
    assert not quote.changed(2, "pre_settlement")

    quote.update(synthesized_state(ns("2020-01-03 09:31"), 10.6, 10.59, 10.61, 0.0), 3)
    assert quote.pre_close == 10.1 and not quote.changed(3, "pre_close")

    tick = [math.nan] * len(QUOTE_FIELDS)
    tick[:2] = [ns("2020-01-03 09:32"), 10.6]
    tick[QUOTE_FIELDS.index("pre_close")] = 10.12  # the data's own value wins
    tick[QUOTE_FIELDS.index("pre_settlement")] = 10.08
    quote.update(tuple(tick), 4)
    assert (quote.pre_close, quote.pre_settlement) == (10.12, 10.08)
    assert quote.changed(4, "pre_close") and quote.changed(4, "pre_settlement")
    assert quote.limit_up == 11.11  # the rule's limits are untouched


def test_a_stock_quote_shows_the_close_its_limits_come_from(empty_store: Store) -> None:
    bars = [
        ("2020-01-02 09:30", 10.0, 10.2, 9.9, 10.1, 100.0),
        ("2020-01-03 09:30", 10.5, 10.6, 10.4, 10.5, 100.0),
    ]
    write_bars(empty_store, "600000.SH", 60, bars)
    seen: list[tuple[Any, ...]] = []

    async def strategy(api: Api) -> None:
        quote = api.get_quote("600000.SH")
        while True:
            await api.wait_update()
            if api.is_changing(quote, "pre_close"):
                seen.append((api.now.strftime("%m-%d %H:%M"), quote.pre_close, quote.upper_limit))

    Backtest(strategy, date(2020, 1, 2), date(2020, 1, 3), data=empty_store.root).run()

    # delivered on 2020-01-02 (nothing known before it); 2020-01-03's first update: 10.1 × 1.1
    assert len(seen) == 2 and seen[0][0] == "12-31 18:00" and math.isnan(seen[0][1])
    assert seen[1] == ("01-03 09:30", 10.1, 11.11)
