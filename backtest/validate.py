"""Data quality checks and repairs for bars and ticks about to enter the store.

Real data is dirty. Each check names the row, the column and the value it objects to:

- ``price``: a price that is NaN, infinite or not positive (bars: open/high/low/close; ticks:
  last_price), or a tick's other price (the book ``bid_price1`` … ``ask_price5``, the limits,
  the settlements, open/highest/lowest/average/pre_close) that is infinite or not positive (an
  empty cell is NaN: not known, or no order on a book level, as the store and the quotes have
  it), or any of them above :data:`MAX_PRICE` (a sentinel such as CTP's 1.8e308 "no value");
- ``ohlc``: high below low, or open/close outside [low, high];
- ``duplicate``: a timestamp seen before;
- ``order``: a timestamp earlier than the one before it;
- ``session``: a bar outside the instrument's trading sessions (a daily bar not on a trading
  day, or not labelled 00:00 of its day: intraday bars given the daily period; the label is
  checked even without a calendar). Ticks are not
  checked: exchanges publish legitimate ticks outside the sessions (the opening-auction print,
  post-close updates carrying the settlement price);
- ``period``: an intraday bar starting less than the period after the bar before it, in the
  same trading session: the two bars would overlap, so the period given is wrong (1-minute
  bars imported as 5-minute ones) or the bars are off their grid. A bar cut short by a
  session break (the SHFE 10:00 hourly bar ending at 10:15, the next one starting at 10:30) is
  not one. Checked with the sessions and the calendar, like ``session``;
- ``grid``: an intraday bar whose start (bars are labelled by their start) is off its period's grid,
  in Beijing time. A period that divides 15 minutes (e.g. 1s, 5s, 15s, 30s, 1m, 3m, 5m, 15m) starts
  on a whole multiple of the period, counted from midnight: 1m bars at 14:21:00, never 14:21:59 or
  14:21:00.000000001; 5m bars at 09:30, 09:35 … (every session of the Chinese exchanges starts on a
  quarter hour, so this is also the grid counted from the session's start that resampling uses).
  Longer periods (30m, 1h …) follow their sessions (A-share hourly bars start at 09:30, 10:30, 13:00
  and 14:00), so they start on a whole minute, and other periods of whole seconds on a whole second.
  Checked without sessions or calendar. Times are never rounded to the grid: a time off it is a
  clock, conversion or labelling error to fix in the source. A bar off the grid between two bars on
  it is the wrong one of any overlap it makes: it is a ``grid`` problem only (skip and repair drop
  it), and the bars around it are checked for ``period`` against each other. Bars off the grid next
  to each other that overlap (1-minute bars given the 5m period) are ``period`` problems only;
- ``volume``: a bar's volume or a tick's cumulative volume that is NaN, infinite or negative,
  or a tick's cumulative volume lower than the tick before it in the same trading day;
- ``book``: a tick whose book levels are out of order (``bid_price2`` not below ``bid_price1``,
  ``ask_price2`` not above ``ask_price1``, and so on to level 5), or whose book is crossed
  (``bid_price1`` above ``ask_price1``) inside a trading session. The simulated broker matches
  against that book: a crossed one would fill a buy below the price a sell gets. Books are
  compared where both levels hold a price (an empty level is no order). A crossed book is only
  checked with the sessions and the calendar, like ``session``: outside the sessions a call
  auction's book may cross. A locked book (bid = ask) is accepted: the closing call auction of
  SSE and SZSE, inside the afternoon session, publishes one.

Callers may add problems of input rows they could not turn into store rows (the CSV import's
``symbol``, ``unit`` and ``auction`` checks: see :mod:`backtest.csvimport`); those rows are
refused, skipped and repaired (dropped) like the rest.

Policies (:class:`Policy`, or its name): **refuse** (the default) raises a :class:`DataError`
listing the first problems and how to proceed; **skip** drops the rows with problems
(duplicates and order problems still refuse); **repair** sorts, drops duplicates (keeping the
last), widens high and low to hold open and close (rows whose four prices are finite positive
numbers), and drops the rest of the bad rows — every change counted in the :class:`Report`.
``period`` problems refuse under every policy: dropping rows cannot tell which of two
overlapping bars is wrong, and when the period is wrong it would keep every fifth 1-minute bar
as a 5-minute bar.
Both skip and repair drop rows until none is left with a problem: dropping a tick can reveal a
fall of cumulative volume at the next.

Row numbers are 1-based positions in the input (for a CSV file: data rows, after the header);
``row_numbers`` gives them when the table is a selection of the input's rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from .calendar import TradingCalendar
from .errors import ConfigError, DataError
from .model import DAY, TICK, period_label
from .session import TradingSessions
from .store import int_times
from .times import NS_PER_DAY, NS_PER_SECOND, UTC_OFFSET_NS, format_ns, format_ns_array, local_date

SHOWN: Final = 5
"""How many problems an error message lists."""


class Policy(StrEnum):
    """What to do with bad rows."""

    REFUSE = "refuse"
    SKIP = "skip"
    REPAIR = "repair"

    @classmethod
    def parse(cls, value: object) -> Policy:
        """``value`` as a policy: a :class:`Policy` or its name, ``"refuse"``, ``"skip"`` or
        ``"repair"``.

        Raises:
            ConfigError: any other value.
        """
        if isinstance(value, str) and value in {policy.value for policy in cls}:
            return cls(value)
        names = ", ".join(repr(policy.value) for policy in cls)
        raise ConfigError(f"policy must be one of {names}, was {value!r}")


@dataclass(frozen=True)
class Problem:
    """One objection to one row."""

    check: str
    row: int
    column: str
    value: Any
    detail: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}, value {self.value!r}: {self.detail}"


@dataclass
class Report:
    """What validation found and, under skip/repair, changed (counts by kind).

    Attributes:
        rows_in: rows of the input, every one (for a CSV file: its data rows, other symbols'
            rows included).
        rows_out: rows kept.
        problems: every problem found, by input row.
        changes: what was done to rows, by kind, e.g. ``{"bad rows dropped": 3}``.
        other_rows: rows of the input that belong to other symbols (a multi-symbol file):
            not checked, not kept.
    """

    rows_in: int = 0
    rows_out: int = 0
    problems: list[Problem] = field(default_factory=list)
    changes: Counter[str] = field(default_factory=Counter)
    other_rows: int = 0

    def summary(self) -> str:
        """One line: rows kept, other symbols' rows and each kind of change, e.g.
        ``150 of 301 rows kept (150 rows of other symbols, 1 bad rows dropped)``."""
        notes = [f"{self.other_rows} rows of other symbols"] if self.other_rows else []
        notes += [f"{count} {kind}" for kind, count in sorted(self.changes.items())]
        done = ", ".join(notes)
        return f"{self.rows_out} of {self.rows_in} rows kept" + (f" ({done})" if done else "")


_PRICES: Final = ("open", "high", "low", "close")
_BOOK_PRICES: Final = tuple(
    f"{side}_price{level}" for level in range(1, 6) for side in ("bid", "ask")
)


_OPTIONAL_TICK_PRICES: Final = (
    *_BOOK_PRICES, "open", "highest", "lowest", "average", "upper_limit", "lower_limit",
    "pre_close", "pre_settlement", "settlement",
)  # fmt: skip
"""Tick prices that may be empty (not known; no order on a book level) but, when present, are
used: the book for matching, the limits for orders, the settlement for marking."""
MAX_PRICE: Final = 1e9
"""Prices above this are refused: sentinels, on which the price grid would overflow."""
_TOO_LARGE: Final = (
    f"a price above {MAX_PRICE:g} is not a price (CTP writes 1.7976931348623157e+308 for "
    f"'no value'): fix the data, or leave the cell empty where the column allows it"
)


def _positive(values: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    return np.isfinite(values) & (values > 0)


def _too_large(values: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    return np.isfinite(values) & (values > MAX_PRICE)


def _float(table: pa.Table, name: str) -> npt.NDArray[np.float64]:
    if name not in table.column_names:
        return np.full(table.num_rows, np.nan)
    return np.asarray(pc.cast(table.column(name), pa.float64()).to_numpy(zero_copy_only=False))


def _add(problems: list[Problem], check: str, rows: npt.NDArray[np.int64], column: str,
         values: npt.NDArray[Any], detail: str) -> None:  # fmt: skip
    problems.extend(
        Problem(check, int(row) + 1, column, value.item(), detail)
        for row, value in zip(rows, values[rows], strict=True)
    )


def find_problems(
    table: pa.Table,
    duration_s: int,
    sessions: TradingSessions | None = None,
    calendar: TradingCalendar | None = None,
) -> list[Problem]:
    """Every problem in ``table`` (store columns, ``datetime`` as int64 ns or timestamp)."""
    problems: list[Problem] = []
    times = int_times(table.column("datetime"))
    for name in ("last_price",) if duration_s == TICK else _PRICES:
        values = _float(table, name)
        bad = np.flatnonzero(~_positive(values))
        _add(problems, "price", bad, name, values, "a price must be a finite positive number")
        _add(problems, "price", np.flatnonzero(_too_large(values)), name, values, _TOO_LARGE)
    if duration_s == TICK:
        for name in (n for n in _OPTIONAL_TICK_PRICES if n in table.column_names):
            values = _float(table, name)
            bad = np.flatnonzero(~np.isnan(values) & ~_positive(values))
            rule = (
                "a book price must be a finite positive number, or empty (no order)"
                if name in _BOOK_PRICES
                else "a price must be a finite positive number, or empty (not known)"
            )
            _add(problems, "price", bad, name, values, rule)
            _add(problems, "price", np.flatnonzero(_too_large(values)), name, values, _TOO_LARGE)
    if "volume" in table.column_names:
        values = _float(table, "volume")
        bad = np.flatnonzero(~(np.isfinite(values) & (values >= 0)))
        what = "a cumulative volume" if duration_s == TICK else "a volume"
        _add(
            problems, "volume", bad, "volume", values, f"{what} must be a finite number, 0 or more"
        )
    if duration_s != TICK:
        o, h, low, c = (_float(table, name) for name in _PRICES)
        bad = np.flatnonzero(h < low)
        _add(problems, "ohlc", bad, "high", h, "high is below low")
        for name, values in (("open", o), ("close", c)):
            bad = np.flatnonzero((values < low) | (values > h))
            _add(problems, "ohlc", bad, name, values, f"{name} is outside [low, high]")
    if len(times) > 1:
        earlier = np.flatnonzero(np.diff(times) < 0) + 1
        shown = np.array(format_ns_array(times[earlier]), dtype=object)
        problems.extend(
            Problem("order", int(r) + 1, "datetime", v, "earlier than the row before it")
            for r, v in zip(earlier, shown, strict=True)
        )
        repeats = np.zeros(0, dtype=np.int64)
        if not bool(np.all(np.diff(times) > 0)):  # else no time repeats
            _, first = np.unique(times, return_index=True)
            repeats = np.setdiff1d(np.arange(len(times)), first)
        problems.extend(
            Problem(
                "duplicate",
                int(r) + 1,
                "datetime",
                format_ns(int(times[r])),
                "a timestamp seen before",
            )
            for r in repeats
        )
    off = _off_grid(times, duration_s) if duration_s != TICK else np.zeros(0, dtype=bool)
    if duration_s != TICK:
        problems.extend(_label_problems(times, duration_s, off))
    if calendar is not None and duration_s != TICK:
        # a bar off the grid between bars on it is the wrong one of an overlap it makes
        alone = off & ~np.concatenate([[False], off[:-1]]) & ~np.concatenate([off[1:], [False]])
        problems.extend(_session_problems(times, duration_s, sessions, calendar, alone))
        overlapping = {p.row for p in problems if p.check == "period"}
        problems = [p for p in problems if p.check != "grid" or p.row not in overlapping]
    if duration_s == TICK and "volume" in table.column_names:
        problems.extend(_volume_problems(times, _float(table, "volume"), calendar))
    if duration_s == TICK:
        problems.extend(_book_problems(table, times, sessions, calendar))
    return sorted(problems, key=lambda p: (p.row, p.check))


_GRID_S: Final = 900  # intraday periods dividing 15 minutes start on multiples of themselves


def _grid_step_s(duration_s: int) -> int:
    # the grid bars of this period start on, in seconds since Beijing midnight (``grid``)
    if _GRID_S % duration_s == 0:
        return duration_s
    return 60 if duration_s % 60 == 0 else 1


def _off_grid(times: npt.NDArray[np.int64], duration_s: int) -> npt.NDArray[np.bool_]:
    """Whether each intraday bar starts off its period's grid (all False for daily bars)."""
    if duration_s >= DAY:
        return np.zeros(len(times), dtype=bool)
    step = _grid_step_s(duration_s) * NS_PER_SECOND
    return np.asarray((times + UTC_OFFSET_NS) % step != 0)


def _label_problems(
    times: npt.NDArray[np.int64], duration_s: int, off: npt.NDArray[np.bool_]
) -> list[Problem]:
    """Bars labelled off their period's grid: ``grid`` problems of intraday bars (``off``, of
    :func:`_off_grid`), ``session`` problems of daily bars not labelled 00:00 (module
    docstring). Formatted all at once: a file of a million bad bars is refused in seconds."""
    local = times + UTC_OFFSET_NS
    if duration_s >= DAY:
        detail = (
            "a daily bar is labelled 00:00 of its trading day: are these daily bars (the period)?"
        )
        rows = np.flatnonzero(local % NS_PER_DAY)
        return [
            Problem("session", r + 1, "datetime", shown, detail)
            for r, shown in zip(rows.tolist(), format_ns_array(times[rows]), strict=True)
        ]
    step_s = _grid_step_s(duration_s)
    step = step_s * NS_PER_SECOND
    label = period_label(duration_s)
    if step_s == 60:
        rule = f"{label} bars start on a whole minute"
    elif step_s == 1:
        rule = f"{label} bars start on a whole second"
    else:
        rule = f"{label} bars start on whole multiples of {label} in Beijing time"
    rows = np.flatnonzero(off)
    below = times[rows] - local[rows] % step

    def explain(low: str, high: str) -> str:
        return (
            f"off the {label} grid: {rule}, and this one is between {low} and {high}; times "
            "are not rounded: correct them in the source"
        )

    # one detail per grid line (of the day) the bars fall after, not one per bar
    seconds = (below + UTC_OFFSET_NS) // NS_PER_SECOND % 86_400
    lines, line_of = np.unique(seconds, return_inverse=True)
    details = [explain(_day_clock(int(s)), _day_clock(int(s) + step_s)) for s in lines.tolist()]
    shown = format_ns_array(times[rows], nanoseconds=True)
    return [
        Problem("grid", r + 1, "datetime", value, details[line])
        for r, value, line in zip(rows.tolist(), shown, line_of.tolist(), strict=True)
    ]


def _day_clock(seconds: int) -> str:
    """``HH:MM:SS`` of a number of seconds after midnight (a day later wraps)."""
    seconds %= 86_400
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _session_problems(
    times: npt.NDArray[np.int64],
    duration_s: int,
    sessions: TradingSessions | None,
    calendar: TradingCalendar,
    alone_off_grid: npt.NDArray[np.bool_],
) -> list[Problem]:
    """``session`` problems, and for intraday bars ``period`` problems (module docstring).
    ``alone_off_grid``: bars off the grid between bars on it, left out of the period check."""
    problems = []
    covered = calendar.covers(times).tolist()
    outside = (
        f"outside the trading calendar ({calendar.source}: {calendar.first_day} … "
        f"{calendar.last_day}): extend the store's calendar to cover it"
    )
    if duration_s >= DAY:
        for row, ts in enumerate(times.tolist()):
            day = local_date(ts)
            if not covered[row]:
                if not calendar.unknown_outside:
                    problems.append(Problem("session", row + 1, "datetime", str(day), outside))
            elif (ts + UTC_OFFSET_NS) % NS_PER_DAY:
                continue  # an intraday time: the period is wrong (_label_problems says so)
            elif not calendar.is_trading_day(day):
                problems.append(Problem("session", row + 1, "datetime", str(day),
                                        "not a trading day"))  # fmt: skip
        return problems
    if sessions is None:
        return problems
    period_ns = duration_s * NS_PER_SECOND
    window = (0, 0)
    before: tuple[int, int] | None = None  # the row before: (start, end of its session)
    for row, ts in enumerate(times.tolist()):
        if not covered[row]:
            if not calendar.unknown_outside:
                problems.append(Problem("session", row + 1, "datetime", format_ns(ts), outside))
            before = None
            continue
        if not window[0] <= ts < window[1]:
            found = sessions.window(ts, calendar)
            if found is None:
                problems.append(Problem("session", row + 1, "datetime", format_ns(ts),
                                        f"outside the trading sessions {sessions}"))  # fmt: skip
                before = None
                continue
            window = found
        if alone_off_grid[row]:
            continue  # a ``grid`` problem; the bars around it are compared with each other
        if before is not None and 0 < ts - before[0] < period_ns and ts < before[1]:
            detail = (
                f"starts {_seconds(ts - before[0])} after the bar before it in the same "
                f"session, less than the period ({_seconds(period_ns)}): the bars would overlap"
            )
            problems.append(Problem("period", row + 1, "datetime", format_ns(ts), detail))
        before = (ts, window[1])
    return problems


def _seconds(ns: int) -> str:
    """A duration for messages: ``60 s``, ``0.5 s``."""
    return f"{ns / NS_PER_SECOND:g} s"


def _volume_problems(
    times: npt.NDArray[np.int64], volume: npt.NDArray[np.float64], calendar: TradingCalendar | None
) -> list[Problem]:
    if len(volume) < 2:
        return []
    # without a calendar (and where a fallback calendar does not reach), a Beijing 18:00
    # boundary separates days
    days = (times + UTC_OFFSET_NS + 6 * 3600 * 10**9) // NS_PER_DAY
    if calendar is not None:
        covered = calendar.covers(times) if calendar.unknown_outside else slice(None)
        days[covered] = calendar.trading_day_numbers(times[covered])
    same_day = days[1:] == days[:-1]
    bad = np.flatnonzero(same_day & (np.diff(volume) < 0)) + 1
    return [
        Problem(
            "volume",
            int(r) + 1,
            "volume",
            float(volume[r]),
            f"cumulative volume fell from {volume[r - 1]:g}",
        )
        for r in bad
    ]


def _book_problems(
    table: pa.Table,
    times: npt.NDArray[np.int64],
    sessions: TradingSessions | None,
    calendar: TradingCalendar | None,
) -> list[Problem]:
    """``book`` problems of ticks (module docstring)."""
    problems: list[Problem] = []
    present = set(table.column_names)
    for side, word in (("bid", "below"), ("ask", "above")):
        for level in range(1, 5):
            near, far = f"{side}_price{level}", f"{side}_price{level + 1}"
            if near not in present or far not in present:
                continue
            inner, outer = _float(table, near), _float(table, far)
            # NaN compares False: an empty level is never out of order
            bad = np.flatnonzero(outer >= inner if side == "bid" else outer <= inner)
            problems.extend(
                Problem("book", int(r) + 1, far, outer[r].item(),
                        f"not {word} {near} ({inner[r]:g}): {side} levels out of order")
                for r in bad
            )  # fmt: skip
    if sessions is None or calendar is None or not {"bid_price1", "ask_price1"} <= present:
        return problems
    bid, ask = _float(table, "bid_price1"), _float(table, "ask_price1")
    for r in np.flatnonzero(bid > ask).tolist():
        if sessions.window(int(times[r]), calendar) is not None:
            problems.append(Problem("book", r + 1, "bid_price1", bid[r].item(),
                                    f"above ask_price1 ({ask[r]:g}) inside a trading session: "
                                    f"a crossed book (are bid and ask swapped?)"))  # fmt: skip
    return problems


def as_written(problem: Problem, text: str, bar: bool) -> Problem:
    """``problem`` of a row's time showing ``text``, the time as the input writes it, as its
    value, and the Beijing time it was read as (the problem's value; a ``bar``'s start) in its
    detail."""
    read_as = "a bar starting " if bar else ""
    detail = f"{problem.detail} (read as {read_as}{problem.value} Beijing time)"
    return replace(problem, value=text, detail=detail)


def apply_policy(
    table: pa.Table,
    duration_s: int,
    policy: Policy | str,
    where: str,
    sessions: TradingSessions | None = None,
    calendar: TradingCalendar | None = None,
    row_numbers: npt.NDArray[np.int64] | None = None,
    rejected: Sequence[Problem] = (),
    written: Sequence[str] | None = None,
) -> tuple[pa.Table, Report]:
    """Check ``table`` and return it (possibly cleaned) with a report, or raise.

    Args:
        policy: a :class:`Policy` or its name (``"refuse"``, ``"skip"``, ``"repair"``).
        where: names the input in messages, e.g. the file path.
        row_numbers: the input row number of each row of ``table``, for messages and the
            report (default 1, 2, …), e.g. the file rows of one symbol of a multi-symbol CSV.
        rejected: problems of input rows the caller already took out of ``table`` because it
            could not use them (their ``row`` is the input row number), e.g. a CSV row whose
            symbol cell is empty. They are refused like the problems of ``table``; skip and
            repair count their rows as dropped.
        written: each row's time as the input writes it, when that is not the Beijing time
            of the row's start (a file in another zone, bars labelled by their end): messages
            show it as the value and add the Beijing time it was read as.

    Raises:
        ConfigError: ``policy`` is not a policy.
        DataError: under ``refuse`` when there is any problem; under ``skip`` when rows are
            duplicated or out of order; under every policy when bars overlap (``period``).
            The message lists the first problems and the options.
    """
    policy = Policy.parse(policy)
    found = find_problems(table, duration_s, sessions, calendar)  # rows of ``table``
    problems = found
    if written is not None:
        problems = [
            as_written(p, written[p.row - 1], duration_s != TICK) if p.column == "datetime" else p
            for p in problems
        ]
    if row_numbers is not None:
        problems = [replace(p, row=int(row_numbers[p.row - 1])) for p in problems]
    problems = sorted([*problems, *rejected], key=lambda p: (p.row, p.check))
    first_rejection: dict[int, str] = {}  # each rejected row, under its first check by name
    for problem in sorted(rejected, key=lambda p: (p.row, p.check)):
        first_rejection.setdefault(problem.row, problem.check)
    report = Report(rows_in=table.num_rows + len(first_rejection), problems=problems)
    overlapping = [p for p in problems if p.check == "period"]
    if overlapping:
        raise DataError(
            f"{where}: {_listed(overlapping)}\n"
            f"check the period the bars were given ({_seconds(duration_s * NS_PER_SECOND)}; "
            f"the import's --period): bars of one period cannot start closer together inside "
            f"a session; if only these rows are off, remove them from the input (--repair and "
            f"--skip-bad-rows cannot tell which of two overlapping bars is wrong)"
        )
    structural = [p for p in problems if p.check in ("order", "duplicate")]
    if problems and (policy == Policy.REFUSE or (policy == Policy.SKIP and structural)):
        shown = structural if policy == Policy.SKIP else problems
        advice = (
            "use --repair to sort, drop duplicates and drop or clip bad rows"
            if policy == Policy.SKIP
            else "fix the data, or use --repair (sort, drop duplicates, drop or clip bad "
            "rows) or --skip-bad-rows (drop the bad rows)"
        )
        raise DataError(f"{where}: {_listed(shown)}\n{advice}")
    if not problems:
        report.rows_out = table.num_rows
        return table, report
    if policy == Policy.SKIP:
        report.changes["bad rows dropped"] += len(first_rejection)
        cleaned = _drop_bad_rows(
            table, duration_s, report, sessions, calendar, "bad rows dropped", found
        )
    else:
        for check in first_rejection.values():
            report.changes[f"rows dropped ({check})"] += 1
        cleaned = _repair(table, duration_s, report, sessions, calendar)
    report.rows_out = cleaned.num_rows
    return cleaned, report


def _listed(problems: Sequence[Problem]) -> str:
    """``N problem(s) (counts by check):`` and the first :data:`SHOWN` problems, a line each."""
    lines = "\n  ".join(str(p) for p in problems[:SHOWN])
    more = f"\n  … and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(Counter(p.check for p in problems).items()))
    return f"{len(problems)} problem(s) ({kinds}):\n  {lines}{more}"


def _drop_bad_rows(
    table: pa.Table,
    duration_s: int,
    report: Report,
    sessions: TradingSessions | None,
    calendar: TradingCalendar | None,
    label: str | None = None,
    problems: list[Problem] | None = None,
) -> pa.Table:
    """Drop rows with problems until none is left, counting them under ``label`` (default: by
    the row's first check). ``problems``: those of ``table`` when already found."""
    if problems is None:
        problems = find_problems(table, duration_s, sessions, calendar)
    while problems:
        first_problem: dict[int, str] = {}
        for problem in problems:
            first_problem.setdefault(problem.row - 1, problem.check)
        for kind in first_problem.values():
            report.changes[label or f"rows dropped ({kind})"] += 1
        table = table.take(np.setdiff1d(np.arange(table.num_rows), sorted(first_problem)))
        problems = find_problems(table, duration_s, sessions, calendar)
    return table


def _repair(
    table: pa.Table,
    duration_s: int,
    report: Report,
    sessions: TradingSessions | None,
    calendar: TradingCalendar | None,
) -> pa.Table:
    """Sort, keep the last of duplicates, widen high/low, drop the rows still bad."""
    times = int_times(table.column("datetime"))
    order = np.argsort(times, kind="stable")
    if (order != np.arange(len(order))).any():
        report.changes["rows sorted"] = int((order != np.arange(len(order))).sum())
    table, times = table.take(order), times[order]
    last = np.concatenate([times[1:] != times[:-1], [True]]) if len(times) else np.array([], bool)
    if not last.all():
        report.changes["duplicates dropped"] = int((~last).sum())
        table = table.filter(pa.array(last))
    if duration_s != TICK:
        o, h, low, c = (_float(table, name) for name in _PRICES)
        stacked = np.vstack([o, h, low, c])
        # only rows with four finite positive prices: a missing or infinite price is not
        # invented from the others
        valid = _positive(stacked).all(axis=0)
        high = np.where(valid, stacked.max(axis=0), h)
        lowest = np.where(valid, stacked.min(axis=0), low)
        clipped = int((valid & ((high != h) | (lowest != low))).sum())
        if clipped:
            report.changes["OHLC clipped"] = clipped
            table = table.set_column(table.column_names.index("high"), "high", pa.array(high))
            table = table.set_column(table.column_names.index("low"), "low", pa.array(lowest))
    return _drop_bad_rows(table, duration_s, report, sessions, calendar)
