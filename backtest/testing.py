"""Helpers for your own test suite: pin a strategy's results with a golden file.

In a pytest test::

    from backtest.testing import assert_matches_golden

    def test_my_strategy_has_not_drifted():
        result = Backtest(strategy, start, end, data="store").run()
        assert_matches_golden(result, "tests/golden/my_strategy.json")

The first run writes the file and fails, asking you to review and commit it (so a golden file
missing in CI cannot pass silently). From then on the test fails with a readable list of what
changed — which statistics, which trades — when the results move. After an intended
change, rerun with ``BACKTEST_UPDATE_GOLDEN=1`` and review the file's diff. ``backtest check``
does the same from the command line.
"""

from __future__ import annotations

import os
from pathlib import Path

from .golden import DEFAULT_RTOL, compare, read_golden, snapshot, write_golden
from .result import BacktestResult, error_headline

UPDATE_VARIABLE = "BACKTEST_UPDATE_GOLDEN"


def assert_matches_golden(
    result: BacktestResult,
    path: str | os.PathLike[str],
    rtol: float = DEFAULT_RTOL,
    update: bool | None = None,
) -> None:
    """Fail (``AssertionError``) unless ``result`` matches the golden file at ``path``.

    Args:
        result: the run to check.
        path: the golden file; written (and the assertion fails) when it does not exist yet.
        rtol: relative tolerance for floats (absolute 1e-9 as well).
        update: rewrite the file instead of comparing; None reads ``BACKTEST_UPDATE_GOLDEN``.
    """
    golden = Path(path)
    if not result.complete:  # never pin, nor pass, a run that did not finish
        raise AssertionError(f"the run is incomplete: {error_headline(result.error)}")
    if update is None:
        update = os.environ.get(UPDATE_VARIABLE, "") not in ("", "0")
    if update:
        write_golden(result, golden)
        return
    if not golden.exists():
        write_golden(result, golden)
        raise AssertionError(
            f"golden file {golden} did not exist: written now; review and commit it"
        )
    comparison = compare(snapshot(result), read_golden(golden), rtol)
    if not comparison.equal:
        raise AssertionError(
            f"results differ from {golden} (set {UPDATE_VARIABLE}=1 to accept them):\n"
            f"{comparison.report()}"
        )
