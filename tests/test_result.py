"""BacktestResult: the text summary, JSON with NaN, and the files save() writes."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from backtest.errors import ConfigError, DataError
from backtest.result import BacktestResult, daily_frame, orders_frame, trades_frame
from backtest.rundir import package_version

REPO = Path(__file__).resolve().parent.parent


def load_demo(name: str) -> BacktestResult:
    spec = importlib.util.spec_from_file_location(name, REPO / "strategies" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    demo: BacktestResult = module.demo()
    return demo


def result(stats: dict[str, float | int]) -> BacktestResult:
    return BacktestResult(
        stats=stats, trades=trades_frame([]), orders=orders_frame([]), daily=daily_frame([]),
        config={"start": "2020-01-02"},
    )  # fmt: skip


def test_summary_shows_rates_as_percentages_and_money_to_the_cent() -> None:
    text = result(
        {"final_balance": 1234567.891, "ror": 0.12345, "sharpe_ratio": 1.23456,
         "trades": 1200, "sortino_ratio": math.nan}
    ).summary()  # fmt: skip

    assert text.splitlines() == [
        "final_balance  1,234,567.89",
        "ror            12.35%",
        "sharpe_ratio   1.2346",
        "trades         1,200",
        "sortino_ratio  n/a",
    ]


def test_nan_statistics_become_null_in_json() -> None:
    assert json.loads(result({"ror": 0.5, "sharpe_ratio": math.nan}).stats_json()) == {
        "ror": 0.5,
        "sharpe_ratio": None,
    }


def test_save_writes_the_run_directory(tmp_path: Path) -> None:
    path = result({"ror": 0.0}).save(tmp_path / "run", qifi=False, report=False)

    assert sorted(p.name for p in path.iterdir()) == [
        "daily.parquet", "orders.parquet", "positions.parquet", "result.json",
        "round_trips.parquet", "trades.parquet",
    ]  # fmt: skip
    document = json.loads((path / "result.json").read_text())
    assert document == {
        "backtest_version": package_version(),
        "complete": True,
        "config": {"start": "2020-01-02"},
        "config_hash": hashlib.sha256(b'{"start": "2020-01-02"}').hexdigest(),
        "error": None,
        "format": 1,
        "stats": {"ror": 0.0},
    }
    assert pq.read_schema(path / "trades.parquet").names[:3] == ["trade_id", "order_id", "symbol"]


def test_csv_copies_are_written_on_request_and_removed_when_not(tmp_path: Path) -> None:
    path = result({"ror": 0.0}).save(tmp_path / "run", csv=True, qifi=False, report=False)
    assert sorted(p.name for p in path.glob("*.csv")) == [
        "daily.csv", "orders.csv", "positions.csv", "round_trips.csv", "trades.csv",
    ]  # fmt: skip
    assert list(pd.read_csv(path / "trades.csv").columns)[:3] == ["trade_id", "order_id", "symbol"]
    result({"ror": 0.0}).save(tmp_path / "run", qifi=False, report=False)
    assert not list(path.glob("*.csv"))


def test_a_saved_run_loads_back_equal(tmp_path: Path) -> None:
    original = load_demo("stock_breakout")
    loaded = BacktestResult.load(original.save(tmp_path / "run", qifi=False, report=False))

    assert loaded.config == json.loads(json.dumps(original.config))
    assert list(loaded.stats) == list(original.stats)  # the table's order, as printed
    assert loaded.summary().splitlines()[0].startswith("init_balance ")
    for name, value in original.stats.items():
        assert loaded.stats[name] == pytest.approx(value, nan_ok=True) if isinstance(
            value, float) else loaded.stats[name] == value, name  # fmt: skip
    for table in ("trades", "orders", "daily", "positions", "round_trips"):
        pd.testing.assert_frame_equal(getattr(loaded, table), getattr(original, table),
                                      check_dtype=True, obj=table)  # fmt: skip
    assert (loaded.complete, loaded.error) == (True, None)


def test_saving_where_a_run_cannot_go_says_where_and_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "taken" / "report.html").mkdir(parents=True)  # a directory where a file goes
    store = tmp_path / "store"
    store.mkdir()
    in_store = BacktestResult(
        stats={}, trades=trades_frame([]), orders=orders_frame([]), daily=daily_frame([]),
        config={"data": str(store)},
    )  # fmt: skip
    cases = [
        (result({}), tmp_path / "file", "it is a file, not a directory; save it into a "
         "directory (it is created if missing)"),
        (result({}), tmp_path / "file" / "run", f"{tmp_path / 'file'} is a file, not a "
         "directory; save it into a directory (it is created if missing)"),
        (result({}), tmp_path / "taken", f"cannot write {tmp_path / 'taken' / 'report.html'} "
         "(Is a directory); save it into a directory you can write to"),
        (in_store, store / "runs" / "r", f"it is inside the data store {store}, whose files are "
         "market data; save it into a directory outside the store"),
    ]  # fmt: skip
    for run, directory, reason in cases:
        with pytest.raises(ConfigError) as caught:
            run.save(directory, qifi=False)
        assert str(caught.value) == f"cannot save the run into {directory}: {reason}"
    assert not (store / "runs").exists()


def test_loading_what_is_not_a_run_directory_says_so(tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        BacktestResult.load(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path} is not a run directory (no result.json); write one with result.save(dir) "
        "or `backtest run --out dir`"
    )
    (tmp_path / "result.json").write_text('{"format": 2}')
    with pytest.raises(DataError, match="format 2, newer than the 1 this version"):
        BacktestResult.load(tmp_path)


def test_the_config_hash_ignores_locations_but_not_content() -> None:
    from backtest.result import config_hash

    base: dict[str, Any]
    base = {"start": "2020-01-02", "data": "/a/store", "data_fingerprint": "f1",
            "strategy": {"path": "/a/ma.py", "sha256": "s1", "params": {"fast": 5}}}  # fmt: skip
    moved = {**base, "data": "/b/store", "strategy": {**base["strategy"], "path": "ma.py"}}
    assert config_hash(moved) == config_hash(base)
    for change in ({"data_fingerprint": "f2"},
                   {"strategy": {**base["strategy"], "params": {"fast": 6}}},
                   {"strategy": {**base["strategy"], "sha256": "s2"}}):  # fmt: skip
        assert config_hash({**base, **change}) != config_hash(base)


def test_a_run_through_the_api_records_its_strategy_and_bound_params() -> None:
    from datetime import date
    from functools import partial

    from backtest import Api, Backtest

    async def idle(api: Api, lots: int = 1) -> None:
        api.get_quote("IF2003.IF")
        while True:
            await api.wait_update()

    result = Backtest(partial(idle, lots=3), date(2020, 1, 2), date(2020, 1, 2)).run()
    assert result.config["strategy"] == {
        "name": f"{__name__}.test_a_run_through_the_api_records_its_strategy_and_bound_params"
        ".<locals>.idle",
        "params": {"lots": 3},
    }


def test_a_saved_run_charts_its_prices_without_the_data_store(tmp_path: Path) -> None:
    from backtest.plot import price_bars

    original = load_demo("double_ma")
    fresh = price_bars(original, "IF2003.IF")  # read from the store
    path = original.save(tmp_path / "run", qifi=False)  # with the report: and its bars

    loaded = BacktestResult.load(path)
    loaded.config["data"] = str(tmp_path / "no-store")  # the store moved away
    saved = price_bars(loaded, "IF2003.IF")

    assert (saved.duration_s, len(saved.times_ns)) == (fresh.duration_s, len(fresh.times_ns))
    assert saved.times_ns.tolist() == fresh.times_ns.tolist()
    assert saved.close.tolist() == fresh.close.tolist()
    assert set(loaded.prices["symbol"]) == {"IF2003.IF"}
    with pytest.raises(DataError, match=r"no-store does not exist"):
        price_bars(loaded, "600009.SH")  # not saved: the store is asked, and is gone


def test_a_run_directory_without_saved_prices_still_loads(tmp_path: Path) -> None:
    path = load_demo("double_ma").save(tmp_path / "run", qifi=False, report=False)
    assert not (path / "prices.parquet").exists()  # saved with the report only

    loaded = BacktestResult.load(path)

    assert loaded.prices.empty
    assert list(loaded.prices.columns) == ["symbol", "duration_s", "datetime", "close"]


def test_saved_prices_are_the_same_bytes_when_a_loaded_run_is_saved_again(tmp_path: Path) -> None:
    first = load_demo("double_ma").save(tmp_path / "a", qifi=False)
    again = BacktestResult.load(first).save(tmp_path / "b", qifi=False)

    for name in ("prices.parquet", "trades.parquet", "report.html"):
        assert (first / name).read_bytes() == (again / name).read_bytes(), name


def test_an_unreadable_prices_file_is_a_warning_not_a_lost_run(tmp_path: Path) -> None:
    path = load_demo("double_ma").save(tmp_path / "run", qifi=False)
    (path / "prices.parquet").write_bytes(b"garbage")

    with pytest.warns(UserWarning, match=r"prices.parquet cannot be read .* read the data store"):
        loaded = BacktestResult.load(path)

    assert loaded.prices.empty and len(loaded.trades) == 711


def test_a_damaged_data_store_does_not_lose_the_save(tmp_path: Path) -> None:
    import shutil

    store = tmp_path / "store"
    shutil.copytree(REPO / "data" / "store", store)
    original = load_demo("double_ma")
    original.config["data"] = str(store)
    for part in (store / "klines" / "1m").rglob("*.parquet"):
        part.write_bytes(b"garbage")

    path = original.save(tmp_path / "run", qifi=False)

    assert not (path / "prices.parquet").exists()  # nothing could be read: nothing kept
    assert "IF2003.IF" in (path / "report.html").read_text(encoding="utf-8")
