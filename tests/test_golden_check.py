"""Golden-file comparison (backtest/golden.py) and the pytest helper (backtest/testing.py)."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import pytest

from backtest.errors import DataError
from backtest.golden import close, compare, read_golden, snapshot, write_golden
from backtest.result import BacktestResult, daily_frame, orders_frame, trades_frame
from backtest.testing import assert_matches_golden

TRADE: dict[str, Any] = {
    "trade_id": "T1", "order_id": "O1", "symbol": "IF2003.IF", "direction": "BUY",
    "offset": "OPEN", "price": 4158.4, "volume": 1, "commission": 28.69,
    "trade_date_time": 1577928660000000000,
}  # fmt: skip


def document(ror: float = 0.1, trades: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"stats": {"ror": ror, "trades": 1, "sharpe_ratio": None},
            "trades": [dict(TRADE)] if trades is None else trades}  # fmt: skip


def test_close_compares_floats_with_a_relative_tolerance() -> None:
    assert close(1.0 + 1e-12, 1.0)
    assert not close(1.0 + 1e-6, 1.0)
    assert close(1.0 + 1e-6, 1.0, rtol=1e-5)
    assert close(None, math.nan) and close(math.nan, None)
    assert not close(True, 1) and close(5, 5.0) and not close("a", "b")


def test_equal_documents_compare_equal() -> None:
    comparison = compare(document(), document())
    assert comparison.equal and comparison.report() == "equal"


def test_the_report_names_the_statistics_that_moved() -> None:
    comparison = compare(document(ror=0.11), document(ror=0.1))
    assert comparison.differences == [
        "stats: 1 of 3 differ (rtol 1e-09):",
        "  ror  expected 0.1  actual 0.11  (+10.000%)",
    ]


def test_the_report_shows_the_first_trades_that_differ() -> None:
    moved = dict(TRADE, price=4158.6)
    extra = dict(TRADE, trade_id="T2", direction="SELL", offset="CLOSE")
    comparison = compare(document(trades=[moved, extra]), document())
    assert comparison.differences == [
        "trades: expected 1, actual 2; 2 differ",
        "  trade 1: price differ",
        "    expected  2020-01-02 09:31:00.000 IF2003.IF BUY OPEN 1 @ 4158.4 commission 28.69",
        "    actual    2020-01-02 09:31:00.000 IF2003.IF BUY OPEN 1 @ 4158.6 commission 28.69",
        "  trade 2:",
        "    expected  (none)",
        "    actual    2020-01-02 09:31:00.000 IF2003.IF SELL CLOSE 1 @ 4158.4 commission 28.69",
    ]


def result_with(ror: float) -> BacktestResult:
    return BacktestResult(
        stats={"ror": ror, "sharpe_ratio": math.nan, "trades": 0},
        trades=trades_frame([]), orders=orders_frame([]), daily=daily_frame([]),
    )  # fmt: skip


def test_snapshots_write_and_read_back(tmp_path: Path) -> None:
    path = write_golden(result_with(0.25), tmp_path / "deep" / "g.json")
    assert json.loads(path.read_text()) == {
        "stats": {"ror": 0.25, "sharpe_ratio": None, "trades": 0}, "trades": []
    }  # fmt: skip
    assert read_golden(path) == snapshot(result_with(0.25))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist; create it with `backtest check … --update`"),
        ("{", "is not JSON"),
        ("[]", "lacks 'stats' and 'trades'"),
    ],
)
def test_bad_golden_files_are_data_errors(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "g.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DataError, match=message):
        read_golden(path)


def test_assert_matches_golden_writes_then_fails_once_then_compares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BACKTEST_UPDATE_GOLDEN", raising=False)
    path = tmp_path / "g.json"
    with pytest.raises(AssertionError, match="did not exist: written now; review and commit"):
        assert_matches_golden(result_with(0.25), path)
    assert_matches_golden(result_with(0.25), path)  # equal now
    with pytest.raises(AssertionError) as caught:
        assert_matches_golden(result_with(0.5), path)
    assert str(caught.value) == (
        f"results differ from {path} (set BACKTEST_UPDATE_GOLDEN=1 to accept them):\n"
        "stats: 1 of 3 differ (rtol 1e-09):\n"
        "  ror  expected 0.25  actual 0.5  (+100.000%)"
    )
    monkeypatch.setenv("BACKTEST_UPDATE_GOLDEN", "1")
    assert_matches_golden(result_with(0.5), path)  # accepted and rewritten
    monkeypatch.delenv("BACKTEST_UPDATE_GOLDEN")
    assert_matches_golden(result_with(0.5), path)


def test_an_incomplete_run_never_matches(tmp_path: Path) -> None:
    path = write_golden(result_with(0.25), tmp_path / "g.json")
    broken = dataclasses.replace(result_with(0.25), complete=False, error="ValueError: x")
    with pytest.raises(AssertionError, match=r"^the run is incomplete: ValueError: x$"):
        assert_matches_golden(broken, path, update=False)


def test_integers_compare_exactly_whatever_the_tolerance() -> None:
    a_second_later = dict(TRADE, trade_date_time=TRADE["trade_date_time"] + 1_000_000_000)
    comparison = compare(document(trades=[a_second_later]), document(), rtol=1e-6)
    assert comparison.differences[0] == "trades: expected 1, actual 1; 1 differ"
    assert not close(10**18 + 1, 10**18, rtol=1e-3)
    assert close(10**18 + 1.0, 10**18, rtol=1e-3)  # a float is a float


def test_a_trade_field_on_one_side_only_is_a_difference() -> None:
    extra = dict(TRADE, note="x")
    assert not compare(document(trades=[extra]), document()).equal
    assert not compare(document(), document(trades=[extra])).equal
