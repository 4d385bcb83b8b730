"""BacktestResult: the text summary, JSON with NaN, and the files save() writes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from backtest.result import BacktestResult, daily_frame, orders_frame, trades_frame


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


def test_save_writes_the_four_files(tmp_path: Path) -> None:
    path = result({"ror": 0.0}).save(tmp_path / "run")

    assert sorted(p.name for p in path.iterdir()) == [
        "daily.csv", "orders.csv", "result.json", "trades.csv",
    ]  # fmt: skip
    assert json.loads((path / "result.json").read_text()) == {
        "config": {"start": "2020-01-02"},
        "stats": {"ror": 0.0},
    }
    assert list(pd.read_csv(path / "trades.csv").columns)[:3] == ["trade_id", "order_id", "symbol"]
