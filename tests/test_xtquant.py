"""The xtquant adapter, end to end against the fake ``xtquant`` in ``tests/fake_xtquant``.

The fake serves the sample store converted back into xtquant's shapes (end-labelled bars, lots,
level lists, ms timestamps), so fake → adapter → store must give back the sample store.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

from backtest.errors import ConfigError, DataError
from backtest.instrument import InstrumentTable
from backtest.model import DAY, TICK
from backtest.store import Store, columns_for
from backtest.times import NS_PER_SECOND, UTC_OFFSET_NS
from backtest.xtquant import (
    DownloadReport,
    Progress,
    bars_to_table,
    calendar_days,
    dividend_rows,
    download,
    format_time,
    instrument_row,
    load_xtdata,
    parse_time,
    ticks_to_table,
)
from tests.conftest import ns

FAKE_ROOT = Path(__file__).resolve().parent / "fake_xtquant"
REPO = Path(__file__).resolve().parent.parent
LATEST = 4_102_444_800 * NS_PER_SECOND
TICK_ONLY_IN_SAMPLE = ("upper_limit", "lower_limit", "pre_open_interest")
"""Sample tick columns xtquant's level-1 ticks do not carry."""


def _pop_xtquant() -> dict[str, ModuleType]:
    return {n: sys.modules.pop(n) for n in list(sys.modules) if n.split(".")[0] == "xtquant"}


@pytest.fixture(scope="session")
def fake_package() -> tuple[ModuleType, ModuleType]:
    """The fake ``xtquant`` package and its ``xtdata``, imported once, left out of sys.modules."""
    saved = _pop_xtquant()
    sys.path.insert(0, str(FAKE_ROOT))
    try:
        package = importlib.import_module("xtquant")
        module = importlib.import_module("xtquant.xtdata")
    finally:
        sys.path.remove(str(FAKE_ROOT))
        _pop_xtquant()
        sys.modules.update(saved)
    return package, module


@pytest.fixture
def xt(fake_package: tuple[ModuleType, ModuleType]) -> Any:
    """The fake ``xtquant.xtdata`` with no calls, failures or downloads."""
    module = fake_package[1]
    module.reset()
    return module


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.create(tmp_path / "store")


def rows(store: Store, symbol: str, duration: int) -> pd.DataFrame:
    """Every stored row of a serial with every column of the layout (absent ones NaN)."""
    table = store.tail(symbol, duration, LATEST, 10**9, columns_for(duration)[1:])
    return table.to_pandas()


def assert_frames_equal(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(actual.columns) == list(expected.columns)
    assert len(actual) == len(expected)
    for name in expected.columns:
        np.testing.assert_array_equal(
            actual[name].to_numpy(), expected[name].to_numpy(), err_msg=name
        )


def expected_rows(sample: Store, symbol: str, duration: int) -> pd.DataFrame:
    """The sample serial as the xtquant round trip must store it.

    xtquant has no open interest at a bar's start: ``open_oi`` is the previous bar's
    ``close_oi``, NaN for the first bar ever stored. Its ticks lack limit prices and the
    previous open interest.
    """
    frame = rows(sample, symbol, duration)
    if "open_oi" in frame and frame["open_oi"].notna().any():
        frame.loc[0, "open_oi"] = np.nan
    for name in TICK_ONLY_IN_SAMPLE:
        if name in frame:
            frame[name] = np.nan
    return frame


def calls(xt: Any, function: str) -> list[dict[str, Any]]:
    return [arguments for name, arguments in xt.calls if name == function]


# --- round trips -------------------------------------------------------------------------------

ROUND_TRIPS = [
    ("600009.SH", "1m", 60),
    ("IF2003.IF", "1m", 60),
    ("au1912.SF", "1m", 60),
    ("IF2101.IF", "tick", TICK),
    ("600000.SH", "1d", DAY),
    ("000002.SZ", "1d", DAY),
    ("000001.SH", "1d", DAY),
]


@pytest.mark.parametrize(("symbol", "period", "duration"), ROUND_TRIPS)
def test_round_trip_reproduces_the_sample(
    xt: Any, store: Store, sample_store: Store, symbol: str, period: str, duration: int
) -> None:
    report = download(store, [symbol], period, "19900101", xtdata=xt)

    expected = expected_rows(sample_store, symbol, duration)
    [result] = report.results
    assert (result.status, result.rows, result.new_rows) == (
        "written",
        len(expected),
        len(expected),
    )
    assert_frames_equal(rows(store, symbol, duration), expected)
    [fetch] = calls(xt, "get_market_data_ex")
    assert fetch["stock_list"] == [symbol]
    assert (fetch["period"], fetch["fill_data"], fetch["count"]) == (period, False, -1)
    assert fetch["dividend_type"] == "none"


def test_stock_volumes_come_back_in_shares(xt: Any, store: Store, sample_store: Store) -> None:
    """The fake serves 600009.SH in lots (shares / 100); the store gets whole shares."""
    download(store, ["600009.SH"], "1m", "20200102", "20200102", xtdata=xt)
    served = xt.get_market_data_ex([], ["600009.SH"], "1m", "20200102", "20200102150000")
    lots = served["600009.SH"]["volume"].to_numpy()
    stored = rows(store, "600009.SH", 60)["volume"].to_numpy()
    assert lots[0] == pytest.approx(1756.58)
    assert stored[0] == 175658.0
    sample = rows(sample_store, "600009.SH", 60)
    day = sample[sample["datetime"] < ns("2020-01-03 00:00")]
    np.testing.assert_array_equal(stored, day["volume"])


def resample(frame: pd.DataFrame, minutes: int) -> pd.DataFrame:
    """N-minute bars from start-labelled 1m bars, grouped by the floor of their start."""
    step = minutes * 60 * NS_PER_SECOND
    key = (frame["datetime"] + UTC_OFFSET_NS) // step * step - UTC_OFFSET_NS
    groups = frame.groupby(key)
    out = pd.DataFrame(
        {
            "open": groups["open"].first(),
            "high": groups["high"].max(),
            "low": groups["low"].min(),
            "close": groups["close"].last(),
            "volume": groups["volume"].sum(),
            "open_oi": groups["open_oi"].first(),
            "close_oi": groups["close_oi"].last(),
        }
    )
    return out.rename_axis("datetime").reset_index()


@pytest.mark.parametrize("symbol", ["600009.SH", "IF2003.IF", "au1912.SF"])
def test_five_minute_bars_are_start_labelled(
    xt: Any, store: Store, sample_store: Store, symbol: str
) -> None:
    """The fake builds end-labelled 5m bars from the 1m sample; stored, they start on the 5m."""
    report = download(store, [symbol], "5m", "20190101", xtdata=xt)

    expected = resample(rows(sample_store, symbol, 60), 5)
    if symbol.endswith(".SH"):
        expected[["open_oi", "close_oi"]] = np.nan
    else:
        expected.loc[0, "open_oi"] = np.nan  # no bar before the first one
    stored = rows(store, symbol, 300)[list(expected.columns)]
    assert report.results[0].rows == len(expected)
    assert_frames_equal(stored, expected)
    assert calls(xt, "download_history_data2")[0]["period"] == "5m"


def test_hour_bars_download_five_minute_history(xt: Any, store: Store, sample_store: Store) -> None:
    """xtquant builds 1h from 5m: the adapter downloads 5m and reads 1h."""
    download(store, ["600009.SH"], "1h", "20200102", "20200103", xtdata=xt)

    assert calls(xt, "download_history_data2")[0]["period"] == "5m"
    assert calls(xt, "get_market_data_ex")[0]["period"] == "1h"
    stored = rows(store, "600009.SH", 3600)
    starts = [
        "2020-01-02 09:30",
        "2020-01-02 10:30",
        "2020-01-02 13:00",
        "2020-01-02 14:00",
        "2020-01-03 09:30",
        "2020-01-03 10:30",
        "2020-01-03 13:00",
        "2020-01-03 14:00",
    ]
    assert stored["datetime"].tolist() == [ns(s) for s in starts]
    minute = rows(sample_store, "600009.SH", 60)
    first_hour = minute[
        (minute["datetime"] >= ns(starts[0])) & (minute["datetime"] < ns(starts[1]))
    ]
    assert len(first_hour) == 60
    assert stored["open"][0] == first_hour["open"].iloc[0]
    assert stored["high"][0] == first_hour["high"].max()
    assert stored["volume"][0] == first_hour["volume"].sum()


# --- incremental, idempotent, resumable -----------------------------------------------------------


def test_incremental_download_continues_after_the_last_stored_bar(
    xt: Any, store: Store, sample_store: Store
) -> None:
    first = download(store, ["600009.SH"], "1m", "20200101", "20200301", xtdata=xt)
    stored = rows(store, "600009.SH", 60)
    last_start = int(stored["datetime"].iloc[-1])
    assert format_time(last_start) == "20200228145900"
    xt.reset()

    second = download(store, ["600009.SH"], "1m", "20200101", xtdata=xt)

    [fetch] = calls(xt, "download_history_data2")
    # from xtquant's label of the bar before the last stored one (not stored again)
    assert fetch["start_time"] == "20200228145900"
    assert calls(xt, "get_market_data_ex")[0]["start_time"] == "20200228145900"
    total = len(rows(sample_store, "600009.SH", 60))
    result = second.results[0]
    assert result.new_rows == total - first.results[0].rows
    assert result.rows == result.new_rows + 1  # the last stored bar, fetched again
    assert result.first_ns == last_start
    assert_frames_equal(rows(store, "600009.SH", 60), expected_rows(sample_store, "600009.SH", 60))


def test_second_run_is_idempotent(xt: Any, store: Store) -> None:
    download(store, ["IF2003.IF"], "1m", "20190101", xtdata=xt)
    download(store, ["IF2101.IF"], "tick", "20190101", xtdata=xt)
    before = {p.relative_to(store.root): p.read_bytes() for p in store.root.rglob("*.parquet")}
    minute_before = rows(store, "IF2003.IF", 60)
    ticks_before = rows(store, "IF2101.IF", TICK)
    xt.reset()

    again = download(store, ["IF2003.IF"], "1m", "20190101", xtdata=xt)
    ticks_again = download(store, ["IF2101.IF"], "tick", "20190101", xtdata=xt)

    assert (again.results[0].status, again.results[0].new_rows) == ("up_to_date", 0)
    assert (ticks_again.results[0].status, ticks_again.results[0].new_rows) == ("up_to_date", 0)
    last_tick = int(ticks_before["datetime"].iloc[-1])
    tick_fetch = calls(xt, "download_history_data2")[-1]
    assert tick_fetch["start_time"] == format_time(last_tick - last_tick % NS_PER_SECOND)
    assert_frames_equal(rows(store, "IF2003.IF", 60), minute_before)
    assert_frames_equal(rows(store, "IF2101.IF", TICK), ticks_before)
    after = {p.relative_to(store.root) for p in store.root.rglob("*.parquet")}
    assert after == set(before)


def test_ticks_continue_across_days(xt: Any, store: Store, sample_store: Store) -> None:
    download(store, ["IF2101.IF"], "tick", "20210104", "20210104", xtdata=xt)
    assert rows(store, "IF2101.IF", TICK)["datetime"].max() < ns("2021-01-05 00:00")
    download(store, ["IF2101.IF"], "tick", "20210104", xtdata=xt)
    assert_frames_equal(rows(store, "IF2101.IF", TICK), expected_rows(sample_store, "IF2101.IF", 0))


def test_up_to_date_when_the_end_is_stored(xt: Any, store: Store) -> None:
    download(store, ["600000.SH"], "1d", "20200101", "20201231", xtdata=xt, metadata=False)
    xt.reset()
    report = download(store, ["600000.SH"], "1d", "20200101", "20201230", xtdata=xt)
    assert report.results[0].status == "up_to_date"
    assert calls(xt, "download_history_data2") == []


def test_not_incremental_fetches_the_whole_range(xt: Any, store: Store) -> None:
    download(store, ["600000.SH"], "1d", "20200101", xtdata=xt, metadata=False)
    xt.reset()
    report = download(
        store, ["600000.SH"], "1d", "20200101", xtdata=xt, incremental=False, metadata=False
    )
    assert calls(xt, "download_history_data2")[0]["start_time"] == "20200101"
    assert report.results[0].new_rows == 0
    assert report.results[0].rows > 1000


def test_adjusted_prices_switch_incremental_off(xt: Any, store: Store) -> None:
    download(store, ["600000.SH"], "1d", "20200101", xtdata=xt, metadata=False)
    xt.reset()
    report = download(
        store, ["600000.SH"], "1d", "20200101", dividend_type="front_ratio", xtdata=xt
    )
    assert calls(xt, "download_history_data2")[0]["start_time"] == "20200101"
    assert calls(xt, "get_market_data_ex")[0]["dividend_type"] == "front_ratio"
    assert any("front_ratio" in w for w in report.warnings)


@pytest.mark.parametrize("function", ["download_history_data2", "get_market_data_ex"])
def test_a_failure_midway_then_a_rerun_completes(
    xt: Any, store: Store, sample_store: Store, function: str
) -> None:
    symbols = ["600009.SH", "IF2003.IF", "au1912.SF"]
    xt.fail(function, "IF2003.IF")

    first = download(store, symbols, "1m", "20190101", xtdata=xt)

    assert [r.status for r in first.results] == ["written", "failed", "written"]
    assert "无法连接xtquant服务" in first.failed[0].error
    assert not store.has("IF2003.IF", 60)
    with pytest.raises(DataError, match=r"IF2003\.IF.*run the same command again"):
        first.raise_for_failures()
    assert "failed" in first.summary()

    second = download(store, symbols, "1m", "20190101", xtdata=xt)

    assert [r.status for r in second.results] == ["up_to_date", "written", "up_to_date"]
    second.raise_for_failures()
    for symbol in symbols:
        assert_frames_equal(rows(store, symbol, 60), expected_rows(sample_store, symbol, 60))


def test_unreachable_miniqmt_is_a_clear_error(xt: Any, store: Store) -> None:
    xt.fail("get_trading_dates")
    with pytest.raises(DataError, match="miniQMT running"):
        download(store, ["600000.SH"], "1d", "20200101", xtdata=xt)
    assert not store.has("600000.SH", DAY)


def test_progress_reports_each_step(xt: Any, store: Store) -> None:
    events: list[Progress] = []
    download(
        store, ["600000.SH", "SZSE.000002"], "1d", "20100101", progress=events.append, xtdata=xt
    )

    stages = [(e.symbol, e.stage, e.done) for e in events if e.stage != "download"]
    assert stages == [
        ("600000.SH", "start", 0),
        ("600000.SH", "written", 1),
        ("000002.SZ", "start", 1),
        ("000002.SZ", "written", 2),
        ("", "metadata", 2),
    ]
    assert {e.total for e in events} == {2}
    forwarded = [e for e in events if e.stage == "download"]
    assert [e.symbol for e in forwarded] == ["600000.SH", "000002.SZ"]
    assert "'finished': 1" in forwarded[0].message


# --- metadata ------------------------------------------------------------------------------------


def test_instruments_calendar_and_dividends_are_stored(
    xt: Any, store: Store, sample_store: Store
) -> None:
    report = download(store, ["SSE.600000", "CFFEX.IF2003"], "1d", "20000101", xtdata=xt)

    assert [r.symbol for r in report.results] == ["600000.SH", "IF2003.IF"]
    assert [r.status for r in report.results] == ["written", "empty"]
    instruments = store.instruments()
    assert {k: v for k, v in instruments["600000.SH"].items() if v is not None} == {
        "name": "浦发银行",
        "price_tick": 0.01,
        "volume_multiple": 1.0,
        "product_class": "STOCK",
        "product": "",
        "board": "MAIN",
        "list_date": "1999-11-10",
    }
    future = instruments["IF2003.IF"]
    assert (future["product_class"], future["product"]) == ("FUTURE", "IF")
    assert (future["price_tick"], future["volume_multiple"]) == (0.2, 300.0)
    assert (future["margin_ratio_long"], future["margin_ratio_short"]) == (0.12, 0.12)
    table = InstrumentTable(store.instruments())
    assert table.get("IF2003.IF").volume_multiple == 300.0
    assert table.get("600000.SH").name == "浦发银行"

    calendar, expected = store.calendar(), sample_store.calendar()
    assert calendar is not None and expected is not None
    assert calendar.days() == expected.days()
    assert report.calendar_days == len(expected.days())

    assert store.dividends() == {
        "600000.SH": [(date(2000, 7, 6), 0.15, 0.0), (date(2006, 5, 25), 0.12, 0.3)]
    }
    assert report.dividends == 2
    assert any("rights issue" in w for w in report.warnings)
    assert [c["stock_code"] for c in calls(xt, "get_divid_factors")] == ["600000.SH"]


def test_metadata_merges_with_what_is_stored(xt: Any, store: Store) -> None:
    store.write_instruments(
        {
            "600000.SH": {"name": "old", "sessions": "09:30-11:30,13:00-15:00", "is_st": False},
            "rb2405.SF": {"name": "螺纹钢2405", "price_tick": 1.0},
        }
    )
    store.write_calendar([date(2030, 1, 2)])
    store.write_dividends([("000001.SZ", date(2020, 5, 28), 0.218, 0.0)])

    download(store, ["600000.SH"], "1d", "20200101", xtdata=xt)

    instruments = store.instruments()
    assert instruments["600000.SH"]["name"] == "浦发银行"
    assert instruments["600000.SH"]["sessions"] == "09:30-11:30,13:00-15:00"
    assert instruments["600000.SH"]["is_st"] is False
    assert instruments["rb2405.SF"]["price_tick"] == 1.0
    calendar = store.calendar()
    assert calendar is not None and date(2030, 1, 2) in calendar.days()
    assert date(2020, 1, 2) in calendar.days()
    dividends = store.dividends()
    assert dividends["000001.SZ"] == [(date(2020, 5, 28), 0.218, 0.0)]
    assert len(dividends["600000.SH"]) == 2


def test_metadata_can_be_skipped(xt: Any, store: Store) -> None:
    download(store, ["600000.SH"], "1d", "20200101", xtdata=xt, metadata=False)
    assert store.instruments() == {}
    assert store.calendar() is None
    assert calls(xt, "get_trading_dates") == []


def test_instrument_problems_are_warnings(
    xt: Any, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xt, "get_instrument_detail", lambda code, iscomplete=False: None)
    report = download(store, ["600004.SH"], "1d", "20100101", xtdata=xt)
    assert report.results[0].status == "written"
    assert any("no instrument details" in w for w in report.warnings)
    assert store.instruments()["600004.SH"]["product_class"] == "STOCK"
    monkeypatch.undo()

    xt.fail("get_instrument_detail", "600005.SH", error=KeyError("boom"))
    xt.fail("get_divid_factors", "600005.SH", error=KeyError("bang"))
    report = download(store, ["600005.SH"], "1d", "20100101", xtdata=xt)
    assert report.results[0].status == "written"
    assert [w.split(" (")[0] for w in report.warnings] == [
        "600005.SH: get_instrument_detail failed",
        "600005.SH: xtquant has no instrument details",
        "600005.SH: get_divid_factors failed",
    ]


# --- importing xtquant ----------------------------------------------------------------------------


def test_the_adapter_does_not_import_xtquant() -> None:
    code = "import sys, backtest.xtquant; assert 'xtquant' not in sys.modules, sys.modules.keys()"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_missing_xtquant_says_how_to_install(monkeypatch: pytest.MonkeyPatch, store: Store) -> None:
    monkeypatch.setitem(sys.modules, "xtquant", None)
    with pytest.raises(DataError, match=r"pip install backtest\[qmt\].*Windows.*miniQMT"):
        load_xtdata()
    with pytest.raises(DataError, match=r"pip install backtest\[qmt\]"):
        download(store, ["600000.SH"], "1d", "20200101")


def test_installed_xtquant_is_imported_lazily(
    monkeypatch: pytest.MonkeyPatch, fake_package: tuple[ModuleType, ModuleType], store: Store
) -> None:
    package, module = fake_package
    module.reset()
    monkeypatch.setitem(sys.modules, "xtquant", package)
    monkeypatch.setitem(sys.modules, "xtquant.xtdata", module)

    report = download(store, ["600000.SH"], "1d", "20200101")

    assert report.results[0].status == "written"
    assert module.enable_hello is False


# --- arguments ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"period": "2m"}, "not available from xtquant"),
        ({"period": "1w"}, "not understood"),
        ({"dividend_type": "forward"}, "dividend_type"),
        ({"start": "yesterday"}, "start 'yesterday' is not a time"),
        ({"start": "20240230"}, "not a time"),
        ({"end": "20190101"}, "before start"),
        ({"symbols": "600000.SH"}, "list of symbols"),
        ({"symbols": []}, "no symbols"),
        ({"symbols": ["600000.XX"]}, "not understood"),
    ],
)
def test_bad_arguments(xt: Any, store: Store, arguments: dict[str, Any], message: str) -> None:
    call = {"symbols": ["600000.SH"], "period": "1d", "start": "20200101", **arguments}
    with pytest.raises(ConfigError, match=message):
        download(store, xtdata=xt, **call)
    assert xt.calls == []


def test_securities_of_unknown_volume_unit_are_refused(xt: Any, store: Store) -> None:
    with pytest.raises(DataError, match=r"110059\.SH.*volume unit"):
        download(store, ["600000.SH", "110059.SH"], "1d", "20200101", xtdata=xt)
    assert xt.calls == []


def test_times() -> None:
    assert parse_time("20240102") == ns("2024-01-02 00:00")
    assert parse_time("2024-01-02 09:30") == ns("2024-01-02 09:30")
    assert parse_time("20240102093015") == ns("2024-01-02 09:30:15")
    assert parse_time("20240102", end=True) == ns("2024-01-02 23:59:59")
    assert format_time(ns("2024-01-02 09:31")) == "20240102093100"
    assert format_time(ns("2024-01-02 00:00"), daily=True) == "20240102"


# --- conversions of hand-made frames (shapes the sample does not have) ----------------------------


def ms(text: str) -> int:
    return ns(text) // 1_000_000


def test_opening_auction_bar_is_folded_into_the_first_bar() -> None:
    frame = pd.DataFrame(
        {
            "time": [ms(t) for t in ("2024-01-02 09:30", "2024-01-02 09:31", "2024-01-02 09:32")]
            + [ms("2024-01-03 09:30")],
            "open": [10.0, 10.1, 10.1, 9.9],
            "high": [10.0, 10.2, 10.3, 9.9],
            "low": [10.0, 10.05, 10.1, 9.9],
            "close": [10.0, 10.1, 10.2, 9.9],
            "volume": [50, 10, 20, 40],
            "amount": [50_000.0, 10_100.0, 20_300.0, 39_600.0],
        }
    )
    table = bars_to_table(frame, 60, volume_factor=100.0, merge_auction=True).to_pandas()

    assert [str(t) for t in table["datetime"]] == [
        "2024-01-02 09:30:00+08:00",
        "2024-01-02 09:31:00+08:00",
    ]
    first = table.iloc[0]
    assert (first["open"], first["high"], first["low"], first["close"]) == (10.0, 10.2, 10.0, 10.1)
    assert (first["volume"], first["amount"]) == (6000.0, 60_100.0)
    assert "open_oi" not in table


def test_the_download_folds_two_auction_bars_as_the_csv_import_does() -> None:
    # the bars of tests/test_import_robustness.py's folding test (ends 09:26 and 09:30: starts
    # 09:25 and 09:29), and a bar before the auction (start 09:10), which a download drops
    ends = ("09:11", "09:26", "09:30", "09:31", "09:32")
    frame = pd.DataFrame(
        {
            "time": [ms(f"2024-01-02 {end}") for end in ends],
            "open": [9.0, 10.0, 10.02, 10.1, 10.1],
            "high": [11.0, 10.0, 10.02, 10.2, 10.3],
            "low": [9.0, 10.0, 10.02, 10.05, 10.1],
            "close": [9.0, 10.0, 10.02, 10.1, 10.2],
            "volume": [5, 30, 20, 10, 20],
            "amount": [4500.0, 30_000.0, 20_040.0, 10_100.0, 20_300.0],
        }
    )
    table = bars_to_table(frame, 60, volume_factor=100.0, merge_auction=True).to_pandas()

    rows = table[["open", "high", "low", "close", "volume", "amount"]].values.tolist()
    assert [str(t)[11:16] for t in table["datetime"]] == ["09:30", "09:31"]
    assert rows == [
        [10.0, 10.2, 10.0, 10.1, 6000.0, 60_140.0],
        [10.1, 10.3, 10.1, 10.2, 2000.0, 20_300.0],
    ]


class AuctionXt:
    """xtdata stand-in serving 000001.SZ 1m bars of one morning with its 09:30 auction bar."""

    def __init__(self) -> None:
        ends = ["09:30", "09:31", "09:32", "09:33"]
        self.frame = pd.DataFrame(
            {
                "time": [ms(f"2024-01-02 {end}") for end in ends],
                "open": [10.0, 10.1, 10.1, 10.2],
                "high": [10.0, 10.2, 10.3, 10.2],
                "low": [10.0, 10.05, 10.1, 10.1],
                "close": [10.0, 10.1, 10.2, 10.1],
                "volume": [50, 10, 20, 5],
            }
        )
        self.windows: list[tuple[str, str]] = []

    def download_history_data2(self, codes: Any, period: str, **window: Any) -> None:
        self.windows.append((window["start_time"], window["end_time"]))

    def get_market_data_ex(self, fields: Any, codes: list[str], **query: Any) -> Any:
        low = parse_time(query["start_time"]) // 1_000_000
        high = parse_time(query["end_time"]) // 1_000_000 if query["end_time"] else 2**62
        keep = (self.frame["time"] >= low) & (self.frame["time"] <= high)
        return {codes[0]: self.frame[keep]}


def test_resuming_at_the_open_keeps_the_auction(store: Store) -> None:
    xt = AuctionXt()
    download(store, ["000001.SZ"], "1m", "20240102", "202401020930", xtdata=xt, metadata=False)
    assert rows(store, "000001.SZ", 60)["volume"].tolist() == [6000.0]

    report = download(store, ["000001.SZ"], "1m", "20240102", xtdata=xt, metadata=False)

    assert xt.windows[1][0] == "20240102093000"  # the auction bar's label is in the window
    stored = rows(store, "000001.SZ", 60)
    assert stored["volume"].tolist() == [6000.0, 2000.0, 500.0]
    assert stored["datetime"].tolist() == [ns(f"2024-01-02 09:3{i}") for i in range(3)]
    assert (report.results[0].rows, report.results[0].new_rows) == (3, 2)


def test_gap_rows_and_suspended_days_are_dropped() -> None:
    frame = pd.DataFrame(
        {
            "time": [ms("2024-01-02 00:00"), ms("2024-01-03 00:00"), ms("2024-01-04 00:00")],
            "open": [10.0, np.nan, 10.0],
            "high": [10.5, np.nan, 10.0],
            "low": [9.5, np.nan, 10.0],
            "close": [10.0, np.nan, 10.0],
            "volume": [100, 0, 0],
            "suspendFlag": [0, 0, 1],
        }
    )
    table = bars_to_table(frame, DAY, volume_factor=100.0)
    assert table.num_rows == 1
    assert table.column_names == ["datetime", "open", "high", "low", "close", "volume"]


def test_stock_ticks_convert_lots_and_empty_levels() -> None:
    frame = pd.DataFrame(
        {
            "time": [ms("2024-01-02 09:25:00"), ms("2024-01-02 09:30:03"), ms("2024-01-02 09:15")],
            "lastPrice": [10.0, 10.01, 0.0],
            "open": [10.0, 10.0, 0.0],
            "high": [10.0, 10.02, 0.0],
            "low": [10.0, 9.99, 0.0],
            "lastClose": [9.9, 9.9, 9.9],
            "amount": [1_000_000.0, 2_000_000.0, 0.0],
            "volume": [1000, 1999, 0],
            "openInt": [12, 13, 11],
            "lastSettlementPrice": [0.0, 0.0, 0.0],
            "askPrice": [[10.01, 10.02, 0.0, 0.0, 0.0], [10.02] * 5, [0.0] * 5],
            "bidPrice": [[10.0, 0.0, 0.0, 0.0, 0.0], [10.01] * 5, [0.0] * 5],
            "askVol": [[5, 6, 0, 0, 0], [1] * 5, [0] * 5],
            "bidVol": [[7, 0, 0, 0, 0], [2] * 5, [0] * 5],
            "settlementPrice": [0.0, 0.0, 0.0],
        }
    )
    table = ticks_to_table(frame, volume_factor=100.0).to_pandas()

    assert len(table) == 2  # the 09:15 snapshot has no last price
    first = table.iloc[0]
    assert (first["volume"], first["amount"]) == (100_000.0, 1_000_000.0)
    assert (first["ask_price1"], first["ask_volume1"]) == (10.01, 500.0)
    assert (first["ask_price2"], first["ask_volume2"]) == (10.02, 600.0)
    assert np.isnan(first["ask_price3"]) and np.isnan(first["ask_volume3"])
    assert np.isnan(first["bid_price2"]) and np.isnan(first["bid_volume2"])
    assert table["bid_volume5"].iloc[1] == 200.0
    assert "open_interest" not in table  # for stocks openInt is the trading status
    assert "settlement" not in table and "pre_settlement" not in table
    assert first["pre_close"] == 9.9


def test_flat_level_columns_and_duplicate_times() -> None:
    frame = pd.DataFrame(
        {
            "time": [ms("2024-01-02 09:30:00"), ms("2024-01-02 09:30:00")],
            "lastPrice": [3500.0, 3500.2],
            "volume": [10, 12],
            "openInt": [1000, 1001],
            **{f"askPrice{i}": [3500.2, 3500.4] for i in range(1, 6)},
            **{f"askVol{i}": [3, 4] for i in range(1, 6)},
        }
    )
    table = ticks_to_table(frame, open_interest=True).to_pandas()
    assert len(table) == 1
    assert (table["last_price"][0], table["open_interest"][0]) == (3500.2, 1001.0)
    assert (table["ask_price5"][0], table["ask_volume5"][0]) == (3500.4, 4.0)
    assert "bid_price1" not in table


def test_instrument_row_from_real_outputs() -> None:
    # printed by get_instrument_detail('000001.SZ') in a public xtquant example
    ping_an = {
        "ExchangeID": "SZ", "InstrumentID": "000001", "InstrumentName": "平安银行",
        "ProductID": "", "ProductName": "", "ExchangeCode": "000001", "UniCode": "000001",
        "CreateDate": "0", "OpenDate": "19910403", "ExpireDate": 99999999,
        "PreClose": 10.450000000000001, "SettlementPrice": 10.450000000000001,
        "UpStopPrice": 11.5, "DownStopPrice": 9.41, "FloatVolume": 19405546950.0,
        "TotalVolume": 19405918198.0, "LongMarginRatio": 1.7976931348623157e308,
        "ShortMarginRatio": 1.7976931348623157e308, "PriceTick": 0.01, "VolumeMultiple": 1,
        "MainContract": 2147483647, "LastVolume": 2147483647, "InstrumentStatus": 0,
        "IsTrading": False, "IsRecent": False, "ProductTradeQuota": -1582372688,
        "ContractTradeQuota": -476598553, "ProductOpenInterestQuota": -1662614912,
        "ContractOpenInterestQuota": -1582504276,
    }  # fmt: skip
    assert instrument_row("000001.SZ", ping_an) == {
        "name": "平安银行",
        "price_tick": 0.01,
        "volume_multiple": 1.0,
        "product_class": "STOCK",
        "product": "",
        "board": "MAIN",
        "list_date": "1991-04-03",
    }
    percent = {"LongMarginRatio": 12.0, "ShortMarginRatio": 0.07, "CreateDate": "20230515"}
    row = instrument_row("rb2405.SF", percent)
    assert (row["margin_ratio_long"], row["margin_ratio_short"]) == (0.12, 0.07)
    assert (row["product"], row["list_date"]) == ("rb", "2023-05-15")
    assert instrument_row("510300.SH", {"LongMarginRatio": None})["product_class"] == "FUND"


def test_dividend_rows_and_calendar_values() -> None:
    frame = pd.DataFrame(
        {"interest": [0.2, 0.0], "stockBonus": [0.0, 0.0], "stockGift": [0.5, 0.0]},
        index=["20230612", "20240101"],
    )
    assert dividend_rows("000001.SZ", frame) == ([("000001.SZ", date(2023, 6, 12), 0.2, 0.5)], 0)
    assert dividend_rows("000001.SZ", pd.DataFrame({}).T) == ([], 0)
    assert calendar_days([ms("2024-01-02 00:00"), "20240103"]) == [
        date(2024, 1, 2),
        date(2024, 1, 3),
    ]


# --- the fake itself ------------------------------------------------------------------------------


def test_the_fake_returns_xtquant_shapes(xt: Any) -> None:
    xt.download_history_data2(["600000.SH"], "1d", "20200102", "20200103")
    xt.download_history_data2(["600009.SH"], "1m", "20200102", "20200102150000")
    xt.download_history_data2(["IF2101.IF"], "tick", "20210104", "20210105")

    daily = xt.get_market_data_ex([], ["600000.SH"], "1d", "20200102", "20200103")["600000.SH"]
    minute = xt.get_market_data_ex([], ["600009.SH"], "1m", "20200102", "")["600009.SH"]
    ticks = xt.get_market_data_ex([], ["IF2101.IF"], "tick", "20210104", "")["IF2101.IF"]

    assert list(daily.index) == ["20200102", "20200103"]
    assert daily["time"].dtype == np.int64
    assert list(daily.columns) == xt.BAR_FIELDS
    assert minute.index[0] == "20200102093100"  # labelled by the bar's end
    assert minute["time"].iloc[0] == ms("2020-01-02 09:31")
    assert len(minute) == 239  # the sample misses one minute of that day
    assert ticks.index[1] == ticks.index[2] == "20210104093000"  # seconds only
    assert list(ticks.columns) == xt.TICK_FIELDS
    assert len(ticks["askPrice"].iloc[0]) == 5
    assert ticks["askPrice"].iloc[0][1:] == [0.0] * 4
    assert xt.get_market_data_ex([], ["600000.SH"], "1m", "", "")["600000.SH"].empty
    assert set(xt.get_instrument_detail("600000.SH")) >= {"InstrumentName", "PriceTick"}
    assert xt.get_instrument_detail("999999.SH") is None
    dates = xt.get_trading_dates("SH", "20200101", "20200110")
    assert all(isinstance(d, int) for d in dates)
    assert dates[0] == ms("2020-01-02 00:00")
    factors = xt.get_divid_factors("600000.SH")
    assert list(factors.columns) == xt.DIVIDEND_FIELDS
    assert factors.index[0] == "20000706"


def test_the_fake_serves_only_downloaded_data(xt: Any) -> None:
    assert xt.get_market_data_ex([], ["600000.SH"], "1d", "", "")["600000.SH"].empty
    xt.download_history_data2(["600009.SH"], "1m", "20200102", "20200102")
    assert xt.get_market_data_ex([], ["600009.SH"], "5m", "", "")["600009.SH"].empty


def test_report_summary_lists_every_symbol() -> None:
    report = DownloadReport("1m", "none")
    assert "instruments: 0" in report.summary()
    assert report.rows == 0 and report.failed == []
