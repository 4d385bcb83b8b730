"""Session-aware resampling: hand-made bars across breaks, real data, streaming, on the fly."""

from __future__ import annotations

import csv
import itertools
import lzma
import random
import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from backtest import Api, Backtest, ConfigError, DataError
from backtest.calendar import TradingCalendar
from backtest.resample import (
    KlineResampler,
    TickResampler,
    find_resampling,
    resample_klines,
    resample_store,
    session_bar_ends,
    stored_bar_ends,
    ticks_to_klines,
)
from backtest.session import TradingSessions
from backtest.store import Store
from backtest.times import NS_PER_SECOND, format_ns, local_midnight_ns
from tests.conftest import ns, write_bars

IF_SESSIONS = "09:30-11:30,13:00-15:00"
AU_SESSIONS = "21:00-02:30,09:00-10:15,10:30-11:30,13:30-15:00"
RAW = Path(__file__).resolve().parent.parent / "data" / "raw"
"""The raw CSV files the sample store is built from (xz-compressed copies of the real data)."""

Row = tuple[str, float, float, float, float, float]
"""(start, open, high, low, close, volume) of a hand-made bar."""


@pytest.fixture(scope="module")
def calendar(sample_store: Store) -> TradingCalendar:
    found = sample_store.calendar()
    assert found is not None
    return found


def bars(rows: Sequence[Row]) -> pa.Table:
    """1-minute bars; open interest goes 100 → 101 → 102 … (open_oi = previous close_oi)."""
    return pa.table(
        {
            "datetime": pa.array([ns(r[0]) for r in rows], pa.int64()),
            "open": [r[1] for r in rows],
            "high": [r[2] for r in rows],
            "low": [r[3] for r in rows],
            "close": [r[4] for r in rows],
            "volume": [r[5] for r in rows],
            "open_oi": [100.0 + i for i in range(len(rows))],
            "close_oi": [101.0 + i for i in range(len(rows))],
        }
    )


def rows_of(table: pa.Table) -> list[tuple[Any, ...]]:
    """(start as text, open, high, low, close, volume, open_oi, close_oi) per bar."""
    columns = [table.column(c).to_pylist() for c in table.column_names]
    out = []
    for values in zip(*columns, strict=True):
        out.append((format_ns(values[0])[:16], *values[1:]))
    return out


def load(store: Store, symbol: str, duration_s: int) -> pa.Table:
    columns = store.available_columns(symbol, duration_s)
    return pa.Table.from_batches(list(store.scan(symbol, duration_s, 0, 2**62, columns)))


# --- hand-made bars across breaks ----------------------------------------------------------


def test_five_minute_bars_stop_at_the_lunch_break(calendar: TradingCalendar) -> None:
    source = bars(
        [
            ("2020-01-02 11:25", 10, 12, 9, 11, 1),
            ("2020-01-02 11:27", 11, 15, 11, 14, 2),
            ("2020-01-02 11:29", 14, 14, 8, 9, 3),
            ("2020-01-02 13:00", 20, 21, 19, 20, 4),
            ("2020-01-02 13:04", 20, 22, 20, 21, 5),
            ("2020-01-02 13:05", 21, 21, 21, 21, 6),
        ]
    )

    result = resample_klines(source, 300, IF_SESSIONS, calendar)

    assert rows_of(result) == [
        ("2020-01-02 11:25", 10, 15, 8, 9, 6, 100, 103),
        ("2020-01-02 13:00", 20, 22, 19, 21, 9, 103, 105),
        ("2020-01-02 13:05", 21, 21, 21, 21, 6, 105, 106),
    ]
    assert result.column_names == [
        "datetime", "open", "high", "low", "close", "volume", "open_oi", "close_oi",
    ]  # fmt: skip
    assert result.schema.field("datetime").type == pa.int64()


def test_hourly_bars_are_aligned_to_each_session_start(calendar: TradingCalendar) -> None:
    minutes = ["09:30", "10:29", "10:30", "11:29", "13:00", "13:59", "14:00", "14:59"]
    source = bars([(f"2020-01-02 {m}", i, i + 1, i - 1, i, 1) for i, m in enumerate(minutes)])

    result = resample_klines(source, 3600, IF_SESSIONS, calendar)

    assert [r[0][11:] for r in rows_of(result)] == ["09:30", "10:30", "13:00", "14:00"]
    assert result.column("volume").to_pylist() == [2, 2, 2, 2]


def test_shfe_hourly_bars_split_at_10_15_and_end_short(calendar: TradingCalendar) -> None:
    source = bars(
        [
            ("2019-04-10 09:58", 1, 2, 1, 2, 1),
            ("2019-04-10 09:59", 2, 3, 2, 3, 1),
            ("2019-04-10 10:00", 3, 4, 3, 4, 2),
            ("2019-04-10 10:14", 4, 6, 4, 5, 3),
            ("2019-04-10 10:30", 5, 5, 1, 2, 4),
            ("2019-04-10 11:29", 2, 2, 2, 2, 5),
            ("2019-04-10 13:30", 7, 7, 7, 7, 6),
            ("2019-04-10 14:29", 8, 9, 6, 8, 7),
            ("2019-04-10 14:30", 8, 8, 8, 8, 8),
            ("2019-04-10 14:59", 9, 9, 9, 9, 9),
        ]
    )

    result = resample_klines(source, 3600, AU_SESSIONS, calendar)

    assert rows_of(result) == [
        ("2019-04-10 09:00", 1, 3, 1, 3, 2, 100, 102),
        ("2019-04-10 10:00", 3, 6, 3, 5, 5, 102, 104),
        ("2019-04-10 10:30", 5, 5, 1, 2, 9, 104, 106),
        ("2019-04-10 13:30", 7, 9, 6, 8, 13, 106, 108),
        ("2019-04-10 14:30", 8, 9, 8, 9, 17, 108, 110),
    ]
    ends = session_bar_ends(result.column("datetime").to_numpy(), 3600, AU_SESSIONS, calendar)
    assert [format_ns(int(e))[11:16] for e in ends] == ["10:00", "10:15", "11:30", "14:30", "15:00"]


@pytest.mark.parametrize(
    ("labels", "following", "ends"),
    [
        # session-aligned (as resample_klines cuts them): the 10:00 bar, followed by one at
        # 10:30, was cut short at the 10:15 break; the 14:30 bar ends with the session
        (
            ["09:00", "10:00", "10:30", "13:30", "14:30"],
            None,
            ["10:00", "10:15", "11:30", "14:30", "15:00"],
        ),
        # clock-aligned (as tqsdk's): the 10:00 bar spans the break and holds 10:30-11:00 too;
        # the 11:00 bar ends when the session does (11:30), the 13:00 bar an hour after it
        (
            ["09:00", "10:00", "11:00", "13:00", "14:00"],
            None,
            ["10:00", "11:00", "11:30", "14:00", "15:00"],
        ),
        # the bar after the last one, when known, may end it early
        (["09:00", "10:00"], ns("2019-04-10 10:30"), ["10:00", "10:15"]),
        (["09:00", "10:00"], ns("2019-04-10 11:00"), ["10:00", "11:00"]),
    ],
)
def test_stored_bars_end_when_trading_in_their_period_ends(
    calendar: TradingCalendar, labels: list[str], following: int | None, ends: list[str]
) -> None:
    starts = np.array([ns(f"2019-04-10 {label}") for label in labels], np.int64)

    found = stored_bar_ends(starts, 3600, AU_SESSIONS, calendar, following)

    assert [format_ns(int(e))[11:16] for e in found] == ends


def test_a_night_session_crossing_midnight_is_one_session(calendar: TradingCalendar) -> None:
    # Trading day Wednesday 2019-04-10: night 2019-04-09 21:00 – 04-10 02:30.
    source = bars(
        [
            ("2019-04-09 14:59", 1, 1, 1, 1, 1),  # Tuesday's day session
            ("2019-04-09 21:00", 2, 3, 2, 3, 1),
            ("2019-04-09 23:00", 3, 3, 3, 3, 1),
            ("2019-04-09 23:59", 3, 5, 3, 4, 1),
            ("2019-04-10 00:00", 4, 4, 2, 2, 1),  # midnight: same 2-hour bar
            ("2019-04-10 00:59", 2, 2, 2, 2, 1),
            ("2019-04-10 01:00", 6, 6, 6, 6, 1),
            ("2019-04-10 02:29", 7, 7, 7, 7, 1),
            ("2019-04-10 09:00", 8, 8, 8, 8, 1),
        ]
    )

    two_hours = resample_klines(source, 7200, AU_SESSIONS, calendar)
    fifteen = resample_klines(source, 900, AU_SESSIONS, calendar)

    assert rows_of(two_hours) == [
        ("2019-04-09 13:30", 1, 1, 1, 1, 1, 100, 101),  # 13:30–15:00, cut at the close
        ("2019-04-09 21:00", 2, 3, 2, 3, 1, 101, 102),  # not merged across the gap before it
        ("2019-04-09 23:00", 3, 5, 2, 2, 4, 102, 106),  # 23:00–01:00 spans midnight
        ("2019-04-10 01:00", 6, 7, 6, 7, 2, 106, 108),  # 01:00–02:30, cut at the close
        ("2019-04-10 09:00", 8, 8, 8, 8, 1, 108, 109),
    ]
    assert [r[0][11:] for r in rows_of(fifteen)] == [
        "14:45", "21:00", "23:00", "23:45", "00:00", "00:45", "01:00", "02:15", "09:00",
    ]  # fmt: skip
    ends = session_bar_ends(two_hours.column("datetime").to_numpy(), 7200, AU_SESSIONS, calendar)
    assert [format_ns(int(e))[5:16] for e in ends] == [
        "04-09 15:00", "04-09 23:00", "04-10 01:00", "04-10 02:30", "04-10 10:15",
    ]  # fmt: skip


def test_a_period_longer_than_a_session_gives_one_bar_per_session(
    calendar: TradingCalendar,
) -> None:
    minutes = ["09:00", "10:14", "10:30", "11:29", "13:30", "14:59"]
    source = bars([(f"2019-04-10 {m}", 1, 1, 1, 1, 1) for m in minutes])

    result = resample_klines(source, 4 * 3600, AU_SESSIONS, calendar)

    assert [r[0][11:] for r in rows_of(result)] == ["09:00", "10:30", "13:30"]
    assert result.column("volume").to_pylist() == [2, 2, 2]


def test_a_daily_bar_is_the_night_session_plus_the_next_day(calendar: TradingCalendar) -> None:
    source = bars(
        [
            ("2019-04-11 14:59", 1, 1, 1, 1, 1),  # Thursday
            ("2019-04-12 21:00", 5, 6, 4, 5, 2),  # Friday night: belongs to Monday
            ("2019-04-13 01:00", 5, 9, 5, 8, 3),  # Saturday 01:00: still Monday's night session
            ("2019-04-15 09:00", 8, 8, 3, 4, 4),
            ("2019-04-15 14:59", 4, 5, 4, 5, 5),
            ("2019-04-17 09:00", 6, 6, 6, 6, 6),  # no data on Tuesday 04-16: no bar
        ]
    )

    result = resample_klines(source, 86_400, AU_SESSIONS, calendar)

    assert rows_of(result) == [
        ("2019-04-11 00:00", 1, 1, 1, 1, 1, 100, 101),
        ("2019-04-15 00:00", 5, 9, 3, 5, 14, 101, 105),
        ("2019-04-17 00:00", 6, 6, 6, 6, 6, 105, 106),
    ]


def test_no_night_session_before_a_holiday(calendar: TradingCalendar) -> None:
    # 2019-04-30 is the last trading day before the May Day holiday (trading resumes 05-06).
    source = bars([("2019-04-30 14:59", 1, 1, 1, 1, 1), ("2019-04-30 21:00", 2, 2, 2, 2, 1)])

    with pytest.raises(DataError) as error:
        resample_klines(source, 86_400, AU_SESSIONS, calendar)
    kept = resample_klines(source, 86_400, AU_SESSIONS, calendar, drop_outside=True)

    assert str(error.value) == (
        "the kline at 2019-04-30 21:00:00.000000 is outside the trading sessions "
        "21:00-02:30,09:00-10:15,10:30-11:30,13:30-15:00 on the trading days of "
        f"{calendar.source}; fix the data or the instrument's sessions, or pass "
        "drop_outside=True to drop such bars"
    )
    assert rows_of(kept) == [("2019-04-30 00:00", 1, 1, 1, 1, 1, 100, 101)]


def test_a_timestamp_input_gives_a_timestamp_output(calendar: TradingCalendar) -> None:
    source = bars([("2020-01-02 09:30", 1, 2, 0.5, 1.5, 3)])
    naive = source.set_column(
        0, "datetime", pa.array([datetime(2020, 1, 2, 9, 30)], pa.timestamp("ms"))
    )

    result = resample_klines(naive, 300, IF_SESSIONS, calendar)

    assert result.schema.field("datetime").type == pa.timestamp("ns", tz="+08:00")
    assert result.column("datetime").cast(pa.int64()).to_pylist() == [ns("2020-01-02 09:30")]


# --- errors --------------------------------------------------------------------------------


def test_unsorted_or_duplicate_bars_are_refused(calendar: TradingCalendar) -> None:
    unsorted = bars([("2020-01-02 09:31", 1, 1, 1, 1, 1), ("2020-01-02 09:30", 1, 1, 1, 1, 1)])
    repeated = bars([("2020-01-02 09:31", 1, 1, 1, 1, 1), ("2020-01-02 09:31", 1, 1, 1, 1, 1)])

    with pytest.raises(DataError) as error:
        resample_klines(unsorted, 300, IF_SESSIONS, calendar)
    assert str(error.value) == (
        "klines must be sorted by datetime without duplicates: 2020-01-02 09:31:00.000000 is "
        "followed by 2020-01-02 09:30:00.000000"
    )
    with pytest.raises(DataError, match=r"duplicates: 2020-01-02 09:31:00\.000000 is followed"):
        resample_klines(repeated, 300, IF_SESSIONS, calendar)


def test_the_order_is_checked_across_batches(calendar: TradingCalendar) -> None:
    resampler = KlineResampler(300, IF_SESSIONS, calendar)
    resampler.push(bars([("2020-01-02 09:35", 1, 1, 1, 1, 1)]))

    with pytest.raises(DataError, match=r"09:35:00\.000000 is followed by 2020-01-02 09:34"):
        resampler.push(bars([("2020-01-02 09:34", 1, 1, 1, 1, 1)]))


def test_a_source_bar_must_fit_in_one_bucket(calendar: TradingCalendar) -> None:
    shifted = bars([("2020-01-02 09:34:30", 1, 1, 1, 1, 1)])

    with pytest.raises(DataError) as error:
        resample_klines(shifted, 300, IF_SESSIONS, calendar)

    assert str(error.value) == (
        "the 1m kline at 2020-01-02 09:34:30.000000 does not fit in one 5m bar (which ends at "
        "2020-01-02 09:35:00.000000): source bars must start on the 1m grid counted from "
        "their session's start"
    )


def test_invalid_periods_are_refused(calendar: TradingCalendar) -> None:
    source = bars([("2020-01-02 09:30", 1, 1, 1, 1, 1)])

    with pytest.raises(ConfigError, match=r"^90s bars cannot be built from 1m bars: the source"):
        resample_klines(source, 90, IF_SESSIONS, calendar)
    with pytest.raises(ConfigError, match=r"at most one day \(86400 s\), not 2d"):
        resample_klines(source, 2 * 86_400, IF_SESSIONS, calendar)
    with pytest.raises(DataError, match=r"^cannot resample klines: missing column\(s\) high"):
        resample_klines(source.drop_columns(["high"]), 300, IF_SESSIONS, calendar)


# --- ticks ---------------------------------------------------------------------------------


def ticks(rows: Sequence[tuple[str, float, float, float]]) -> pa.Table:
    """(time, last_price, cumulative volume, open_interest) ticks; amount = 10 × volume."""
    return pa.table(
        {
            "datetime": pa.array([ns(r[0]) for r in rows], pa.int64()),
            "last_price": [r[1] for r in rows],
            "volume": [r[2] for r in rows],
            "amount": [10 * r[2] for r in rows],
            "open_interest": [r[3] for r in rows],
        }
    )


def test_ticks_auction_and_closing_prints_and_dropped_ticks(calendar: TradingCalendar) -> None:
    source = ticks(
        [
            ("2021-01-04 09:29:00.4", 100, 240, 50),  # opening auction: first bar
            ("2021-01-04 09:30:00.4", 101, 311, 51),
            ("2021-01-04 09:30:59.9", 99, 320, 52),
            ("2021-01-04 11:29:59.9", 102, 400, 53),
            ("2021-01-04 11:30:00.4", 103, 402, 54),  # closing print of the morning
            ("2021-01-04 12:00:00", 104, 410, 55),  # lunch: dropped, volume moves on
            ("2021-01-04 13:00:00.4", 105, 415, 56),
            ("2021-01-04 14:59:59.9", 106, 500, 57),
            ("2021-01-04 15:00:00.4", 107, 503, 58),  # closing print
            ("2021-01-04 15:30:48.9", 107, 503, 58),  # post-close settlement tick: dropped
            ("2021-01-05 09:29:00.4", 110, 30, 60),  # new trading day: counts all 30
            ("2021-01-05 09:30:00.4", 111, 35, 61),
        ]
    )
    resampler = TickResampler(60, IF_SESSIONS, calendar)

    result = pa.Table.from_batches([resampler.push(source), resampler.flush()])

    assert rows_of(result) == [
        ("2021-01-04 09:30", 100, 101, 99, 99, 320, 3200, 50, 52),
        ("2021-01-04 11:29", 102, 103, 102, 103, 82, 820, 53, 54),
        ("2021-01-04 13:00", 105, 105, 105, 105, 13, 130, 56, 56),
        ("2021-01-04 14:59", 106, 107, 106, 107, 88, 880, 57, 58),
        ("2021-01-05 09:30", 110, 111, 110, 111, 35, 350, 60, 61),
    ]
    assert resampler.dropped == 2
    assert result.column_names == [
        "datetime", "open", "high", "low", "close", "volume", "amount", "open_oi", "close_oi",
    ]  # fmt: skip


def test_tick_errors(calendar: TradingCalendar) -> None:
    falling = ticks([("2021-01-04 09:30:00", 1, 10, 1), ("2021-01-04 09:30:01", 1, 9, 1)])
    unsorted = ticks([("2021-01-04 09:30:01", 1, 1, 1), ("2021-01-04 09:30:00", 1, 2, 1)])
    same_time = ticks([("2021-01-04 09:30:00", 1, 1, 1), ("2021-01-04 09:30:00", 2, 2, 1)])

    with pytest.raises(DataError) as error:
        ticks_to_klines(falling, 60, IF_SESSIONS, calendar)
    assert str(error.value) == (
        "cumulative volume of ticks goes down within a trading day at "
        "2021-01-04 09:30:01.000000: 10 → 9"
    )
    with pytest.raises(DataError) as error:
        ticks_to_klines(unsorted, 60, IF_SESSIONS, calendar)
    assert str(error.value) == (
        "ticks must be in time order: 2021-01-04 09:30:01.000000 is followed by "
        "2021-01-04 09:30:00.000000"
    )
    assert ticks_to_klines(same_time, 60, IF_SESSIONS, calendar).column("volume").to_pylist() == [2]


def raw_minute_bars(path: Path) -> dict[str, tuple[float, ...]]:
    """1-minute bars from a wondertrader tick CSV, computed here without backtest.

    Rules (those of ticks_to_klines): a tick before 09:30 is the auction print and goes to
    09:30; a tick within a minute after 11:30 or 15:00 goes to 11:29 or 14:59; later ones are
    dropped. Volume and turnover are differences of the cumulative totals between kept ticks.
    """
    out: dict[str, list[float]] = {}
    previous_volume = previous_turnover = 0.0
    with lzma.open(path, "rt", newline="") as file:
        for row in csv.DictReader(file):
            clock = row["datetime"][11:]
            minute = clock[:5]
            if clock < "09:30":
                minute = "09:30"
            elif "11:30" <= clock < "11:31":
                minute = "11:29"
            elif "15:00" <= clock < "15:01":
                minute = "14:59"
            elif clock >= "15:01":
                continue
            price = float(row["price"])
            volume, turnover = float(row["total_volume"]), float(row["total_turnover"])
            interest = float(row["open_interest"])
            key = f"{row['datetime'][:10]} {minute}"
            bar = out.get(key)
            traded, paid = volume - previous_volume, turnover - previous_turnover
            if bar is None:
                out[key] = [price, price, price, price, traded, paid, interest, interest]
            else:
                bar[1], bar[2], bar[3] = max(bar[1], price), min(bar[2], price), price
                bar[4] += traded
                bar[5] += paid
                bar[7] = interest
            previous_volume, previous_turnover = volume, turnover
    return {key: tuple(values) for key, values in out.items()}


def test_if2101_minute_bars_from_ticks_match_the_raw_csv(
    sample_store: Store, calendar: TradingCalendar
) -> None:
    result = ticks_to_klines(load(sample_store, "IF2101.IF", 0), 60, IF_SESSIONS, calendar)
    built = {row[0]: row[1:] for row in rows_of(result)}

    for day in ("20210104", "20210105", "20210106"):
        raw = raw_minute_bars(RAW / "wondertrader" / f"CFFEX.IF.HOT_tick_{day}.csv.xz")
        assert len(raw) == 240
        for minute in ("09:30", "09:31", "11:29", "13:00", "14:59"):
            key = f"{day[:4]}-{day[4:6]}-{day[6:]} {minute}"
            assert built[key][:5] == raw[key][:5], key
            assert built[key][5] == pytest.approx(raw[key][5], rel=1e-12), key
            assert built[key][6:] == raw[key][6:], key
        volumes = [
            v[4] for k, v in built.items() if k.startswith(f"{day[:4]}-{day[4:6]}-{day[6:]}")
        ]
        assert sum(volumes) == sum(v[4] for v in raw.values())
    assert result.num_rows == 720
    # By hand from the CSV: 09:29:00.4 auction at 5230.0 (240 lots) opens the 09:30 bar,
    # and 15:00:00.4 (3 lots at 5260.0) closes the 14:59 bar at 84,288 lots for the day.
    assert built["2021-01-04 09:30"][0] == 5230.0
    assert built["2021-01-04 14:59"][3] == 5260.0
    assert sum(v[4] for k, v in built.items() if k.startswith("2021-01-04")) == 84_288


# --- real 1-minute bars --------------------------------------------------------------------


def test_if2003_daily_and_five_minute_bars_agree_with_the_minutes(
    sample_store: Store, calendar: TradingCalendar
) -> None:
    minutes = load(sample_store, "IF2003.IF", 60)
    by_day: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows_of(minutes):
        by_day.setdefault(row[0][:10], []).append(row)

    daily = resample_klines(minutes, 86_400, IF_SESSIONS, calendar)
    five = resample_klines(minutes, 300, IF_SESSIONS, calendar)

    assert [r[0][:10] for r in rows_of(daily)] == sorted(by_day)
    for bar in rows_of(daily):
        day = by_day[bar[0][:10]]
        assert bar[0][11:] == "00:00"
        assert bar[1] == day[0][1]  # open of the first minute
        assert bar[2] == max(r[2] for r in day)
        assert bar[3] == min(r[3] for r in day)
        assert bar[4] == day[-1][4]  # close of the last minute
        assert bar[5] == sum(r[5] for r in day)
        assert (bar[6], bar[7]) == (day[0][6], day[-1][7])
    assert five.num_rows == 48 * (len(by_day) - 1) + 8  # 2019-12-16 starts at 14:21
    labels = five.column("datetime").to_numpy()
    clock = (labels // NS_PER_SECOND + 8 * 3600) % 86_400
    assert set(np.unique(clock % 300)) == {0}
    assert not np.any((clock >= 11 * 3600 + 1800) & (clock < 13 * 3600))
    assert float(np.sum(five.column("volume"))) == float(np.sum(minutes.column("volume")))
    first = next(r for r in rows_of(five) if r[0] == "2020-01-02 09:30")
    day = by_day["2020-01-02"][:5]  # by hand from its five minutes
    assert first[:6] == (
        "2020-01-02 09:30",
        day[0][1],
        max(r[2] for r in day),
        min(r[3] for r in day),
        day[-1][4],
        sum(r[5] for r in day),
    )


def test_au1912_daily_bars_include_the_night_before(
    sample_store: Store, calendar: TradingCalendar
) -> None:
    minutes = load(sample_store, "au1912.SF", 60)
    by_day: dict[date, list[tuple[Any, ...]]] = {}
    for row in rows_of(minutes):
        when = datetime.fromisoformat(row[0])
        if when.hour >= 18:  # evening: the next trading day
            day = calendar.next_trading_day(when.date())
        elif when.hour < 3:  # after midnight: the trading day after the evening's
            day = calendar.next_trading_day(when.date() - timedelta(days=1))
        else:
            day = when.date()
        by_day.setdefault(day, []).append(row)

    daily = resample_klines(minutes, 86_400, AU_SESSIONS, calendar)

    expected = [
        (
            f"{day} 00:00",
            rows[0][1],
            max(r[2] for r in rows),
            min(r[3] for r in rows),
            rows[-1][4],
            sum(r[5] for r in rows),
            rows[0][6],
            rows[-1][7],
        )
        for day, rows in sorted(by_day.items())
    ]
    assert rows_of(daily) == expected
    monday = by_day[date(2019, 4, 15)]
    assert (monday[0][0], monday[-1][0]) == ("2019-04-12 21:00", "2019-04-15 14:59")
    assert len(monday) == 555  # 330 night + 225 day minutes
    assert len(by_day[date(2019, 5, 6)]) == 225  # after the May Day holiday: no night session


# --- streaming -----------------------------------------------------------------------------


def split(table: pa.Table, rng: random.Random) -> list[pa.Table]:
    cuts = sorted(rng.sample(range(1, table.num_rows), 40))
    edges = [0, *cuts, table.num_rows]
    return [table.slice(a, b - a) for a, b in itertools.pairwise(edges)]


@pytest.mark.parametrize("duration_s", [300, 3600, 86_400])
def test_streaming_equals_batch_for_klines(
    sample_store: Store, calendar: TradingCalendar, duration_s: int
) -> None:
    minutes = load(sample_store, "au1912.SF", 60)
    resampler = KlineResampler(duration_s, AU_SESSIONS, calendar)

    parts = [resampler.push(piece) for piece in split(minutes, random.Random(duration_s))]
    streamed = pa.Table.from_batches([*parts, resampler.flush()])

    assert streamed.equals(resample_klines(minutes, duration_s, AU_SESSIONS, calendar))


@pytest.mark.parametrize("duration_s", [60, 900, 86_400])
def test_streaming_equals_batch_for_ticks(
    sample_store: Store, calendar: TradingCalendar, duration_s: int
) -> None:
    ticks_table = load(sample_store, "IF2101.IF", 0)
    resampler = TickResampler(duration_s, IF_SESSIONS, calendar)

    parts = [resampler.push(piece) for piece in split(ticks_table, random.Random(duration_s))]
    streamed = pa.Table.from_batches([*parts, resampler.flush()])

    assert streamed.equals(ticks_to_klines(ticks_table, duration_s, IF_SESSIONS, calendar))


def test_a_year_of_minutes_resamples_fast(calendar: TradingCalendar) -> None:
    sessions = TradingSessions.parse(AU_SESSIONS)
    starts: list[int] = []
    for day in calendar.trading_days(date(2019, 1, 2), date(2019, 12, 31)):
        ranges = [(local_midnight_ns(day), s, e) for s, e in sessions.day]
        if calendar.has_night_session(day):
            evening = local_midnight_ns(calendar.previous_trading_day(day))
            ranges = [(evening, s, e) for s, e in sessions.night] + ranges
        for midnight, s, e in ranges:
            starts += range(
                midnight + s * NS_PER_SECOND, midnight + e * NS_PER_SECOND, 60 * NS_PER_SECOND
            )
    prices = np.linspace(300.0, 400.0, len(starts))
    source = pa.table(
        {"datetime": pa.array(starts, pa.int64()), "open": pa.array(prices),
         "high": pa.array(prices + 1), "low": pa.array(prices - 1), "close": pa.array(prices),
         "volume": pa.array(np.ones(len(starts)))}
    )  # fmt: skip

    began = time.perf_counter()
    five = resample_klines(source, 300, sessions, calendar)
    daily = resample_klines(source, 86_400, sessions, calendar)
    elapsed = time.perf_counter() - began

    assert source.num_rows > 120_000
    assert daily.num_rows == len(calendar.trading_days(date(2019, 1, 2), date(2019, 12, 31)))
    assert five.num_rows == source.num_rows // 5
    assert elapsed < 1.0


# --- on the fly ----------------------------------------------------------------------------


def run_serial(
    store: Store, symbol: str, duration_s: int, length: int, start: date, end: date
) -> tuple[list[tuple[int, tuple[float, ...]]], list[list[tuple[Any, ...]]]]:
    """Step times with the last row at each step, and the frame's rows at the first and last."""
    steps: list[tuple[int, tuple[float, ...]]] = []
    frames: list[list[tuple[Any, ...]]] = []
    names = ["datetime", "open", "high", "low", "close", "volume", "open_oi", "close_oi"]

    def rows(frame: Any) -> list[tuple[Any, ...]]:
        columns = [frame.to_numpy(c).tolist() for c in names]
        return [r for r in zip(*columns, strict=True) if r[0] > 0]

    async def strategy(api: Api) -> None:
        klines = api.get_kline_serial(symbol, duration_s, length)
        frames.append(rows(klines))
        try:
            while True:
                await api.wait_update()
                steps.append((api.now_ns, rows(klines)[-1]))
        finally:
            frames.append(rows(klines))

    Backtest(strategy, start, end, data=store.root).run()
    return steps, frames


def expected_rows(table: pa.Table) -> list[tuple[Any, ...]]:
    names = ["datetime", "open", "high", "low", "close", "volume", "open_oi", "close_oi"]
    return list(zip(*(table.column(n).to_pylist() for n in names), strict=True))


def test_a_five_minute_serial_is_built_from_stored_minutes(
    sample_store: Store, calendar: TradingCalendar
) -> None:
    assert not sample_store.has("IF2003.IF", 300)
    expected = expected_rows(
        resample_klines(load(sample_store, "IF2003.IF", 60), 300, IF_SESSIONS, calendar)
    )
    start = calendar.day_start_ns(date(2020, 1, 2))
    end = calendar.day_end_ns(date(2020, 1, 3))

    steps, frames = run_serial(
        sample_store, "IF2003.IF", 300, 20, date(2020, 1, 2), date(2020, 1, 3)
    )

    before = [bar for bar in expected if bar[0] <= start]
    inside = [bar for bar in expected if start < bar[0] <= end]
    assert frames[0] == before[-20:]
    assert frames[-1] == (before + inside)[-20:]
    events = []
    for bar in inside:
        opening = (bar[0], bar[1], bar[1], bar[1], bar[1], 0.0, bar[6], bar[6])
        events += [(bar[0], opening), (bar[0] + 300 * NS_PER_SECOND - 1000, bar)]
    assert steps[0][0] == start  # the history delivery
    assert steps[1:] == events
    assert len(inside) == 96


def test_hourly_shfe_bars_on_the_fly_close_at_the_break(
    sample_store: Store, calendar: TradingCalendar
) -> None:
    steps, frames = run_serial(
        sample_store, "au1912.SF", 3600, 3, date(2019, 4, 10), date(2019, 4, 10)
    )

    clock = [format_ns(ts)[11:26] for ts, _ in steps[1:]]
    assert clock[-10:] == [
        "09:00:00.000000", "09:59:59.999999",
        "10:00:00.000000", "10:14:59.999999",
        "10:30:00.000000", "11:29:59.999999",
        "13:30:00.000000", "14:29:59.999999",
        "14:30:00.000000", "14:59:59.999999",
    ]  # fmt: skip
    assert clock[:2] == ["21:00:00.000000", "21:59:59.999999"]
    expected = expected_rows(
        resample_klines(load(sample_store, "au1912.SF", 60), 3600, AU_SESSIONS, calendar)
    )
    last = [bar for bar in expected if bar[0] <= calendar.day_end_ns(date(2019, 4, 10))]
    assert frames[-1] == last[-3:]


def test_daily_bars_on_the_fly(sample_store: Store, calendar: TradingCalendar) -> None:
    expected = expected_rows(
        resample_klines(load(sample_store, "au1912.SF", 60), 86_400, AU_SESSIONS, calendar)
    )

    steps, frames = run_serial(
        sample_store, "au1912.SF", 86_400, 30, date(2019, 6, 3), date(2019, 6, 4)
    )

    monday, tuesday = local_midnight_ns(date(2019, 6, 3)), local_midnight_ns(date(2019, 6, 4))
    history = [bar for bar in expected if bar[0] <= monday][-30:]
    opening = history[-1][:2] + (history[-1][1],) * 3 + (0.0, history[-1][6], history[-1][6])
    assert frames[0] == [*history[:-1], opening]  # Monday's bar in progress (night first)
    assert frames[-1] == [bar for bar in expected if bar[0] <= tuesday][-30:]
    assert steps[-1] == (
        calendar.day_end_ns(date(2019, 6, 4)) + 1 - 1000,
        expected_rows_at(expected, tuesday),
    )


def expected_rows_at(expected: list[tuple[Any, ...]], label: int) -> tuple[Any, ...]:
    return next(bar for bar in expected if bar[0] == label)


def test_a_longer_view_loads_older_resampled_bars(
    sample_store: Store, calendar: TradingCalendar
) -> None:
    expected = expected_rows(
        resample_klines(load(sample_store, "IF2003.IF", 60), 900, IF_SESSIONS, calendar)
    )
    seen: list[list[float]] = []

    async def strategy(api: Api) -> None:
        api.get_kline_serial("IF2003.IF", 900, 3)
        await api.wait_update()
        longer = api.get_kline_serial("IF2003.IF", 900, 40)
        await api.wait_update()
        seen.append(longer.to_numpy("datetime").tolist())

    Backtest(strategy, date(2020, 1, 2), date(2020, 1, 2), data=sample_store.root).run()

    start = calendar.day_start_ns(date(2020, 1, 2))
    assert seen[0] == [bar[0] for bar in expected if bar[0] <= start][-40:]


def test_minute_bars_on_the_fly_from_ticks(sample_store: Store, calendar: TradingCalendar) -> None:
    expected = expected_rows(
        ticks_to_klines(load(sample_store, "IF2101.IF", 0), 60, IF_SESSIONS, calendar)
    )

    steps, frames = run_serial(sample_store, "IF2101.IF", 60, 5, date(2021, 1, 5), date(2021, 1, 5))

    assert frames[0] == [bar for bar in expected if bar[0] < ns("2021-01-05 00:00")][-5:]
    assert frames[-1] == [bar for bar in expected if bar[0] < ns("2021-01-06 00:00")][-5:]
    closes = [row for _, row in steps[2::2]]
    assert closes == [b for b in expected if ns("2021-01-05") <= b[0] < ns("2021-01-06")]
    assert len(closes) == 240


def test_stored_bars_are_preferred_and_missing_sources_named(
    sample_store: Store, empty_store: Store, calendar: TradingCalendar
) -> None:
    sessions = TradingSessions.parse(IF_SESSIONS)
    write_bars(empty_store, "IF2003.IF", 60, [("2020-01-02 09:30", 1, 1, 1, 1, 1)])

    assert find_resampling(sample_store, "IF2003.IF", 60, sessions, calendar) is None
    found = find_resampling(sample_store, "IF2101.IF", 300, sessions, calendar)
    assert found is not None and found.source_s == 0
    with pytest.raises(DataError) as error:
        find_resampling(empty_store, "IF2003.IF", 90, sessions, calendar)
    assert str(error.value) == (
        f"data store {empty_store.root} has no 90s klines for IF2003.IF and nothing to build "
        f"them from (it has: 1m); they are built from ticks or from klines whose period "
        f"divides 90s"
    )


def test_resampling_into_the_store_is_idempotent_and_then_preferred(
    sample_store: Store, empty_store: Store, calendar: TradingCalendar
) -> None:
    minutes = load(sample_store, "IF2003.IF", 60)
    empty_store.write("IF2003.IF", 60, minutes)
    expected = resample_klines(minutes, 300, IF_SESSIONS, calendar)
    sessions = TradingSessions.parse(IF_SESSIONS)
    on_the_fly = run_serial(empty_store, "IF2003.IF", 300, 20, date(2020, 1, 2), date(2020, 1, 2))

    written = resample_store(empty_store, "IF2003.IF", 60, 300)
    again = resample_store(empty_store, "IF2003.IF", 60, 300)

    assert written == again == expected.num_rows
    assert load(empty_store, "IF2003.IF", 300).equals(expected)
    assert find_resampling(empty_store, "IF2003.IF", 300, sessions, calendar) is None
    stored = run_serial(empty_store, "IF2003.IF", 300, 20, date(2020, 1, 2), date(2020, 1, 2))
    assert stored == on_the_fly
