"""Shared fixtures: the sample store shipped in data/store, and a scratch store builder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from backtest.store import Store, default_store_path

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def sample_store() -> Store:
    """The real sample store (IF2003/IF2101/au1912 futures, 600009 and daily A-shares)."""
    return Store(default_store_path())


@pytest.fixture
def empty_store(tmp_path: Path, sample_store: Store) -> Store:
    """A new store with the sample store's calendar and no data."""
    store = Store.create(tmp_path / "store")
    calendar = sample_store.calendar()
    assert calendar is not None
    store.write_calendar(calendar.days())
    return store


Bar = tuple[str, float, float, float, float, float]
"""(start "YYYY-MM-DD HH:MM[:SS]" Beijing time, open, high, low, close, volume)."""


def ns(text: str) -> int:
    """int ns of a Beijing wall-clock time written ``YYYY-MM-DD HH:MM[:SS[.ffffff]]``."""
    from datetime import datetime

    from backtest.times import to_ns

    return to_ns(datetime.fromisoformat(text))


def write_bars(store: Store, symbol: str, duration_s: int, bars: Sequence[Bar]) -> Store:
    """Write hand-made bars (open interest 100 → 101 per bar) into ``store``."""
    import pyarrow as pa

    table = pa.table(
        {
            "datetime": [ns(b[0]) for b in bars],
            "open": [b[1] for b in bars],
            "high": [b[2] for b in bars],
            "low": [b[3] for b in bars],
            "close": [b[4] for b in bars],
            "volume": [b[5] for b in bars],
            "open_oi": [100.0 + i for i in range(len(bars))],
            "close_oi": [101.0 + i for i in range(len(bars))],
        }
    )
    store.write(symbol, duration_s, table)
    return store


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/*.json from the current results (review the diff!)",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run was asked to rewrite golden files."""
    return bool(request.config.getoption("--update-golden"))
