"""End-to-end golden runs of the example strategies on the real sample data.

``tests/golden/<name>.json`` holds the statistics and every trade of a run
(:mod:`backtest.golden`, the same comparison ``backtest check`` makes). A change in the engine
that moves any number fails here with the differences; when the change is intended, rewrite the
files with ``pytest tests/test_golden.py --update-golden`` and review the diff.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import ModuleType

import pytest

from backtest import BacktestResult
from backtest.golden import compare, read_golden, snapshot, write_golden

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
RTOL = 1e-9


def load_strategy(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / "strategies" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_demo(name: str) -> BacktestResult:
    result: BacktestResult = load_strategy(name).demo()
    return result


CASES: dict[str, Callable[[], BacktestResult]] = {
    name: partial(run_demo, name)
    for name in ("double_ma", "tick_momentum", "monthly_momentum", "stock_breakout")
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_strategy_matches_its_golden_file(name: str, update_golden: bool) -> None:
    result = CASES[name]()
    path = GOLDEN / f"{name}.json"
    if update_golden:
        write_golden(result, path)

    comparison = compare(snapshot(result), read_golden(path))

    assert comparison.equal, f"{name}:\n{comparison.report()}"


def test_the_same_run_twice_writes_byte_identical_files(tmp_path: Path) -> None:
    demo = load_strategy("double_ma").demo
    first, second = demo().save(tmp_path / "a", csv=True), demo().save(tmp_path / "b", csv=True)

    names = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(second).as_posix() for p in second.rglob("*")
                           if p.is_file())  # fmt: skip
    assert {"result.json", "trades.parquet", "trades.csv", "report.html",
            "qifi/20200102.json"} <= set(names)  # fmt: skip
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_demo_golden_numbers_by_hand_check() -> None:
    """Spot checks of the golden demo that do not rely on the engine: fees of the first trades."""
    expected = json.loads((GOLDEN / "double_ma.json").read_text(encoding="utf-8"))
    first = expected["trades"][0]
    # Buy 1 IF at 4158.4: commission 0.000023 x 4158.4 x 300 = 28.69 (rounded to the cent).
    assert (first["direction"], first["offset"], first["price"]) == ("BUY", "OPEN", 4158.4)
    assert first["commission"] == round(0.000023 * 4158.4 * 300, 2) == 28.69
    closing = expected["trades"][1]
    # Closing today's lot at 4191.0 pays the close-today rate 0.000345 and earns 32.6 x 300.
    assert closing["commission"] == round(0.000345 * 4191.0 * 300, 2)
    assert closing["close_profit"] == pytest.approx((4191.0 - 4158.4) * 300)
