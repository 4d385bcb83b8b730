"""Scan a data store for problems: what ``backtest data verify`` runs.

Every stored file is read back and checked as an import would check it
(:func:`backtest.validate.find_problems`: prices, OHLC, duplicates, order, sessions, periods,
tick volume and books), across file boundaries too (each file is checked together with the last
row of the file before it), and against the layout: a file must be readable, have a
``datetime`` column, be named as the layout names files and hold only rows of its own
partition (its year, or its date for ticks). A file that fails one of these is a finding, and
the other files are still checked, so one pass lists every problem. A directory named outside
the layout (``klines/7x``, ``klines/1m/CFFEX.IF2003``) is a finding too, of its own
(:class:`DirectoryCheck`): nothing under it is read, and the rest of the store is checked.
Memory stays bounded by the largest file (a year of bars, a day of ticks).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from .calendar import TradingCalendar
from .errors import BacktestError, ConfigError, DataError
from .instrument import InstrumentTable
from .model import TICK, normalize_symbol, parse_period, period_label
from .session import TradingSessions
from .store import (
    Store,
    check_duration,
    market_file_problem,
    partition_key,
    read_key,
    serial_files,
)
from .storefile import open_parquet
from .times import date_of_day_number, format_ns, local_midnight_ns
from .validate import Problem, find_problems

DAMAGED_FILE_HINT = "delete it and import its period again"
"""What to do about a file verify finds damaged (the store's readers say to run verify)."""


@dataclass(frozen=True)
class Finding:
    """One problem in one stored file (``row`` is 1-based within the file; 0 for a problem of
    the file as a whole, such as a file that cannot be read or is named outside the layout)."""

    path: Path
    problem: Problem

    def __str__(self) -> str:
        if self.problem.row:
            return f"{self.path}: {self.problem}"
        detail = self.problem.detail
        # the messages of the store's errors start with the path already
        return detail if detail.startswith(f"{self.path} ") else f"{self.path}: {detail}"


@dataclass
class SerialCheck:
    """The result of checking one (symbol, duration) serial."""

    symbol: str
    duration_s: int
    rows: int = 0
    files: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True if nothing was found."""
        return not self.findings

    def summary(self) -> str:
        """``IF2003.IF 1m: ok (12279 rows, 1 file)`` or the count of problems."""
        what = f"{self.symbol} {period_label(self.duration_s)}"
        size = f"{self.rows} rows, {self.files} file{'s' if self.files != 1 else ''}"
        if self.ok:
            return f"{what}: ok ({size})"
        kinds = sorted({finding.problem.check for finding in self.findings})
        return f"{what}: {len(self.findings)} problem(s): {', '.join(kinds)} ({size})"


@dataclass
class DirectoryCheck:
    """A directory of the store named outside its layout: a period directory that is not a
    period label (``klines/7x``), a serial directory not named by a canonical symbol
    (``klines/1m/CFFEX.IF2003``). Nothing under it is read, by a backtest or by verify: its one
    finding says what to rename."""

    name: str
    """The directory, relative to the store (``klines/7x``)."""
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        """True if nothing was found (never, for a directory verify reports)."""
        return not self.findings

    def summary(self) -> str:
        """``klines/7x: 1 problem(s): layout (not read)``."""
        return f"{self.name}: {len(self.findings)} problem(s): layout (not read)"


def verify_store(
    store: Store | str | os.PathLike[str],
    symbols: str | Iterable[str] | None = None,
    durations: int | str | Iterable[int | str] | None = None,
) -> Iterator[SerialCheck | DirectoryCheck]:
    """Check every stored serial, or those of ``symbols`` and ``durations``, one at a time.

    First comes a :class:`DirectoryCheck` for each directory named outside the layout that
    the listing meets: every one without ``symbols`` (those of other periods than
    ``durations`` excepted), else the period directories holding a symbol asked for. Then a
    :class:`SerialCheck` for each serial; a store with no market data gives none.

    Args:
        store: the store, or its directory.
        symbols: a symbol or several, in any spelling (``"IF2003.IF"``, ``["CFFEX.IF2003"]``);
            None: every stored symbol.
        durations: a period or several, as seconds (0 for ticks, 60) or labels (``"1m"``,
            ``"tick"``); None: every stored period.

    Raises:
        DataError: a symbol asked for has nothing stored of the periods asked for, or no symbol
            has them (checked when called, before any file is read: asking to check what is not
            there is a mistake, not a pass), and no directory named outside the layout may hold
            them (that is reported instead).
        ConfigError: a symbol or period is not understood, or ``symbols`` or ``durations`` is
            empty.
    """
    if not isinstance(store, Store):
        store = Store(store)
    names = None if symbols is None else [normalize_symbol(s) for s in _as_list(symbols)]
    wanted = (
        None if durations is None else {check_duration(d, "durations") for d in _as_list(durations)}
    )
    for argument, given in (("symbols", names), ("durations", wanted)):
        if given is not None and not given:
            raise ConfigError(f"{argument} is empty; pass None to check every stored one")
    serials: list[tuple[str, int]] = []
    misnamed: dict[Path, DataError] = {}  # the directories to report
    met: list[Path] = []  # those met listing one symbol's periods

    def note(directory: Path, error: DataError) -> None:
        met.append(directory)
        if _chosen_directory(store.root, directory, wanted):
            misnamed.setdefault(directory, error)

    if names is None:
        for symbol in store.symbols(on_misnamed=note):
            stored = store.durations(symbol, on_misnamed=note)
            serials += [(symbol, d) for d in stored if _chosen(d, wanted)]
        if wanted and not serials and not misnamed:
            what = " or ".join(_what(d) for d in sorted(wanted))
            raise DataError(f"data store {store.root} has no {what} of any symbol")
    else:
        for symbol in dict.fromkeys(names):
            met.clear()
            chosen = [d for d in store.durations(symbol, on_misnamed=note) if _chosen(d, wanted)]
            if not chosen and not met:  # raises: says what is stored
                store.info(symbol, TICK if wanted is None else min(wanted))
            serials += [(symbol, d) for d in chosen]
    directories = [
        DirectoryCheck(
            path.relative_to(store.root).as_posix(),
            [Finding(path, Problem("layout", 0, "", "", str(error)))],
        )
        for path, error in sorted(misnamed.items())
    ]
    return _checks(store, directories, serials)


def _chosen_directory(root: Path, directory: Path, wanted: set[int] | None) -> bool:
    """Whether a directory named outside the layout may hold a period of ``wanted``."""
    if wanted is None:
        return True
    parts = directory.relative_to(root).parts
    if parts[0] == "ticks":  # ticks/<symbol>
        return TICK in wanted
    if len(parts) == 3:  # klines/<period>/<symbol>
        with suppress(ConfigError):
            return parse_period(parts[1]) in wanted
    return True  # klines/<period>, or a symbol under it: the period is not known


def _checks(
    store: Store, directories: list[DirectoryCheck], serials: list[tuple[str, int]]
) -> Iterator[SerialCheck | DirectoryCheck]:
    yield from directories
    table = InstrumentTable(store.instruments(), None, str(store.root))
    calendar = store.calendar()
    for symbol, duration in serials:
        try:
            sessions: TradingSessions | None = table.get(symbol).sessions
        except BacktestError:
            sessions = None  # unknown instrument: the session check is skipped
        yield verify_serial(store, symbol, duration, sessions, calendar)


def _as_list(values: object) -> list[Any]:
    """One symbol or period (not the characters of a str), or several, as a list."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        return [values]
    return list(values)


def _chosen(duration_s: int, wanted: set[int] | None) -> bool:
    return wanted is None or duration_s in wanted


def _what(duration_s: int) -> str:
    return "ticks" if duration_s == TICK else f"{period_label(duration_s)} klines"


def verify_serial(
    store: Store,
    symbol: str,
    duration_s: int | str,
    sessions: TradingSessions | None,
    calendar: TradingCalendar | None,
) -> SerialCheck:
    """Check the files of one serial (see the module docstring)."""
    symbol, duration_s = normalize_symbol(symbol), check_duration(duration_s)
    check = SerialCheck(symbol, duration_s)
    previous: pa.Table | None = None
    keyed: list[tuple[int, Path]] = []
    for path in serial_files(store.root, symbol, duration_s):
        try:
            keyed.append((read_key(path, duration_s), path))
        except DataError as exc:  # named outside the layout (the message names it): not read
            check.files += 1
            check.findings.append(Finding(path, Problem("layout", 0, "", "", str(exc))))
    paths = [path for _, path in sorted(keyed)]
    if calendar is None and paths:  # the span the files' names cover: no file is read
        calendar = TradingCalendar.fallback(*_span(paths, duration_s))
    for path in paths:
        check.files += 1
        try:
            table = open_parquet(path, DAMAGED_FILE_HINT).read()
        except DataError as exc:
            check.findings.append(Finding(path, Problem("unreadable", 0, "", "", str(exc))))
            previous = None
            continue
        wrong = _wrong_columns(table, duration_s)
        if wrong is not None:
            check.findings.append(Finding(path, wrong))
            previous = None
            continue
        check.rows += table.num_rows
        check.findings.extend(_partition_findings(path, table, duration_s))
        joined = table if previous is None else _concat(previous, table)
        shift = 0 if previous is None else 1
        for problem in find_problems(joined, duration_s, sessions, calendar):
            if problem.row > shift:  # row 1 of a joined table is the previous file's
                check.findings.append(Finding(path, replace(problem, row=problem.row - shift)))
        previous = table.slice(table.num_rows - 1) if table.num_rows else previous
    return check


def _span(paths: list[Path], duration_s: int) -> tuple[int, int]:
    """First and last instant (int ns) the files of a serial may hold, from their names."""
    keys = [read_key(path, duration_s) for path in paths]
    if duration_s == TICK:  # one file per Beijing date (day numbers)
        first, last = date_of_day_number(min(keys)), date_of_day_number(max(keys))
    else:  # one file per Beijing year
        first, last = date(min(keys), 1, 1), date(max(keys), 12, 31)
    return local_midnight_ns(first), local_midnight_ns(last)


def _wrong_columns(table: pa.Table, duration_s: int) -> Problem | None:
    """A file whose columns the store's readers refuse (:func:`market_file_problem`)."""
    problem = market_file_problem(table.schema, duration_s)
    if problem is None:
        return None
    return Problem("layout", 0, "", "", f"the file is refused by every reader: {problem}")


def _partition_findings(path: Path, table: pa.Table, duration_s: int) -> list[Finding]:
    times = table.column("datetime")
    expected = read_key(path, duration_s)
    keys = partition_key(times, duration_s)
    wrong = [row for row, key in enumerate(keys.tolist()) if key != expected]
    return [
        Finding(
            path,
            Problem(
                "layout",
                row + 1,
                "datetime",
                _shown(times, row),
                "the row belongs in another file of the layout",
            ),
        )
        for row in wrong
    ]


def _shown(times: pa.ChunkedArray, row: int) -> str:  # type: ignore[type-arg]
    value = times[row].as_py()
    return str(value) if not isinstance(value, int) else format_ns(value)


def _concat(previous: pa.Table, table: pa.Table) -> pa.Table:
    names = [name for name in table.column_names if name in previous.column_names]
    return pa.concat_tables([previous.select(names), table.select(names)])
