"""Golden files: a run's statistics and trades, kept to catch results that drift.

A golden file is JSON: ``{"stats": {...}, "trades": [{...}, ...]}`` (sorted keys; NaN as null),
what :func:`snapshot` takes from a result. :func:`compare` lists every difference in words —
which statistics moved and by how much, how many trades each side has and the first trades that
differ — with integers compared exactly and floats equal when ``|a − b| ≤ rtol × |b| + atol``.
``backtest check`` and :func:`backtest.testing.assert_matches_golden` are built on it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from .errors import DataError
from .result import BacktestResult, json_safe
from .times import format_ns

DEFAULT_RTOL: Final = 1e-9
ATOL: Final = 1e-9
SHOWN_TRADES: Final = 3
"""How many differing trades a comparison shows."""
_LEFT_OUT: Final = ("exchange_trade_id", "trade_datetime")
"""Trade fields left out of snapshots: an identifier that does not describe the fill, and the
Beijing-time copy of ``trade_date_time``."""


def snapshot(result: BacktestResult) -> dict[str, Any]:
    """The golden content of a result: its statistics and every trade (JSON values)."""
    trades = result.trades.drop(columns=[c for c in _LEFT_OUT if c in result.trades.columns])
    document = {"stats": dict(result.stats), "trades": trades.to_dict(orient="records")}
    safe: dict[str, Any] = json.loads(json.dumps(json_safe(document)))
    return safe


def write_golden(result: BacktestResult, path: Path) -> Path:
    """Write the golden file of ``result`` (directories created as needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(snapshot(result), indent=1, sort_keys=True, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def read_golden(path: Path) -> dict[str, Any]:
    """A golden file's content.

    Raises:
        DataError: missing, not JSON, or without ``stats`` and ``trades``.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(
            f"golden file {path} does not exist; create it with `backtest check … --update`"
        ) from None
    except ValueError as exc:
        raise DataError(f"golden file {path} is not JSON: {exc}") from None
    if not isinstance(document, dict) or not {"stats", "trades"} <= document.keys():
        raise DataError(f"golden file {path} lacks 'stats' and 'trades'")
    return document


@dataclass(frozen=True)
class Comparison:
    """The differences between a result and a golden file (empty: equal)."""

    differences: list[str]

    @property
    def equal(self) -> bool:
        """True when nothing differs."""
        return not self.differences

    def report(self) -> str:
        """The differences as text, one line each."""
        return "\n".join(self.differences) if self.differences else "equal"


def close(actual: Any, expected: Any, rtol: float = DEFAULT_RTOL) -> bool:
    """Equal values: integers exactly (counts, volumes, int-ns times), floats within ``rtol``
    (relative) or :data:`ATOL`; null equals NaN."""
    if _missing(actual) and _missing(expected):
        return True
    if isinstance(expected, bool) or isinstance(actual, bool):  # true is not 1
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, int) and isinstance(actual, int):
        return actual == expected  # counts, volumes and int-ns times are exact
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return math.isclose(actual, expected, rel_tol=rtol, abs_tol=ATOL)
    return bool(actual == expected)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def compare(
    actual: Mapping[str, Any],
    expected: Mapping[str, Any],
    rtol: float = DEFAULT_RTOL,
    labels: tuple[str, str] = ("expected", "actual"),
) -> Comparison:
    """Every difference between two snapshots (``actual`` from this run).

    ``labels`` name the two sides in the text (``backtest diff`` uses the run directories).
    """
    lines = _stat_lines(actual["stats"], expected["stats"], rtol, labels)
    lines += _trade_lines(actual["trades"], expected["trades"], rtol, labels)
    return Comparison(lines)


def _stat_lines(
    actual: Mapping[str, Any],
    expected: Mapping[str, Any],
    rtol: float,
    labels: tuple[str, str],
) -> list[str]:
    names = sorted(set(actual) | set(expected))
    moved = [n for n in names if not close(actual.get(n), expected.get(n), rtol)]
    if not moved:
        return []
    width = max(len(n) for n in moved)
    lines = [f"stats: {len(moved)} of {len(names)} differ (rtol {rtol:g}):"]
    for name in moved:
        was, now = expected.get(name, "(absent)"), actual.get(name, "(absent)")
        change = ""
        if isinstance(was, int | float) and isinstance(now, int | float) and was:
            change = f"  ({(now - was) / abs(was):+.3%})"
        lines.append(
            f"  {name:<{width}}  {labels[0]} {_shown(was)}  {labels[1]} {_shown(now)}{change}"
        )
    return lines


def _trade_lines(
    actual: Sequence[Mapping[str, Any]],
    expected: Sequence[Mapping[str, Any]],
    rtol: float,
    labels: tuple[str, str],
) -> list[str]:
    differing: list[tuple[int, list[str]]] = []
    for i in range(max(len(actual), len(expected))):
        if i >= len(actual) or i >= len(expected):
            differing.append((i, []))
            continue
        fields = sorted(
            k
            for k in set(actual[i]) | set(expected[i])
            if not close(actual[i].get(k, "(absent)"), expected[i].get(k, "(absent)"), rtol)
        )
        if fields:
            differing.append((i, fields))
    if not differing:
        return []
    lines = [
        f"trades: {labels[0]} {len(expected)}, {labels[1]} {len(actual)}; {len(differing)} differ"
    ]
    width = max(len(label) for label in labels)
    for index, fields in differing[:SHOWN_TRADES]:
        lines.append(f"  trade {index + 1}:" + (f" {', '.join(fields)} differ" if fields else ""))
        for label, side in zip(labels, (expected, actual), strict=True):
            shown = _trade(side[index]) if index < len(side) else "(none)"
            lines.append(f"    {label:<{width}}  {shown}")
    if len(differing) > SHOWN_TRADES:
        lines.append(f"  … and {len(differing) - SHOWN_TRADES} more")
    return lines


def _trade(trade: Mapping[str, Any]) -> str:
    when = trade.get("trade_date_time")
    moment = format_ns(int(when))[:23] if isinstance(when, int) else str(when)
    return (
        f"{moment} {trade.get('symbol')} {trade.get('direction')} {trade.get('offset')} "
        f"{trade.get('volume')} @ {trade.get('price')} commission {trade.get('commission')}"
    )


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)
