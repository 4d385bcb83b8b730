"""Times of a CSV file for the import: parsed, put in their zone, checked to fit the store.

Times are ms since the epoch (xtquant), ISO text, dates, or text of a strftime format. Text
without a UTC offset is wall-clock time of the file's zone (Beijing names are the fixed +08:00
the store uses); a file writes every time with an offset or none. The store holds the years
1824 to 2115. Whatever goes wrong is a :class:`~backtest.errors.DataError` naming the file, the
row and the value as the file writes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from .errors import ConfigError, DataError
from .store import FAR_NS
from .times import UTC_OFFSET_NS

_TIME_RANGE: Final = "the years 1824 to 2115 the store holds"


def zone(tz: str) -> str:
    """The zone handed to pandas for ``tz``: Beijing names are a fixed +08:00 (as the store).

    Raises:
        ConfigError: ``tz`` is not a string, or pandas knows no such zone.
    """
    hint = "use a zone name such as 'Asia/Shanghai' or 'UTC', or an offset such as '+08:00'"
    if not isinstance(tz, str):
        raise ConfigError(f"tz must be a time zone, was {tz!r}; {hint}")
    zone = "+08:00" if tz in ("Asia/Shanghai", "Asia/Beijing", "CST") else tz
    try:
        pd.Timestamp(0).tz_localize(zone)
    except (LookupError, ValueError):
        raise ConfigError(f"unknown time zone {tz!r}; {hint}") from None
    return zone


class FileTimes(NamedTuple):
    """A file's times: ``ns`` since the epoch; ``text`` as the file writes them (None for ms
    since the epoch); ``moved``: whether some time's wall clock is not Beijing's (another
    zone, or an offset other than +08:00), so that Beijing time would not find it in the file."""

    ns: npt.NDArray[np.int64]
    text: list[str] | None
    moved: bool


def parse_times(
    table: pa.Table,
    columns: Sequence[str],
    time_format: str,
    tz: str,
    path: Path,
    rows: npt.NDArray[np.int64],
) -> FileTimes:
    """The times in ``columns`` of ``table`` (a date and a time column, or one).
    ``time_format``: ``"ms"`` (ms since the epoch), ``"iso"``, ``"date"`` or a strftime
    format; ``tz`` is the zone of times written without a UTC offset; ``rows`` are the file's
    row numbers.

    Raises:
        DataError: an empty time, a value that is not a time, a mix of times with and without
            a UTC offset, or a time outside the years the store holds; the row is named.
    """
    found = [table.column(name).to_pandas() for name in columns]
    text = found[0] if len(found) == 1 else found[0].astype(str) + " " + found[1]
    where = f"column {', '.join(columns)}"
    if text.isna().any():
        row = int(np.flatnonzero(text.isna().to_numpy())[0])
        raise DataError(f"{path}: row {rows[row]}, {where}: empty time")
    if time_format == "ms":
        ms = text.to_numpy(dtype=np.float64)
        if not np.isfinite(ms).all():
            row = int(np.flatnonzero(~np.isfinite(ms))[0])
            value = float(ms[row])
            raise DataError(f"{path}: row {rows[row]}, {where}: value {value!r} is not a time")
        outside = np.flatnonzero(np.abs(ms) >= FAR_NS / 1e6)
        if outside.size:
            value = float(ms[outside[0]])
            raise DataError(
                f"{path}: row {rows[outside[0]]}, {where}: value {value!r} (ms since 1970) is "
                f"outside {_TIME_RANGE}"
            )
        return FileTimes(ms.astype(np.int64) * 1_000_000, None, False)
    parsed = _parse_times(text, time_format, path, rows, where)
    if time_format in ("iso", "date"):
        _check_year_first(text, path, rows, where)
    wall = parsed if parsed.dt.tz is None else parsed.dt.tz_localize(None)
    if parsed.dt.tz is None:  # wall-clock times of ``tz``; times with an offset keep it
        parsed = parsed.dt.tz_localize(zone(tz), ambiguous="NaT", nonexistent="NaT")
        if parsed.isna().any():  # skipped or repeated by a daylight-saving change
            row = int(np.flatnonzero(parsed.isna().to_numpy())[0])
            raise DataError(
                f"{path}: row {rows[row]}, {where}: value {text.iloc[row]!r} does not exist or "
                f"is ambiguous in {tz} (daylight saving time)"
            )
    utc = parsed.dt.tz_convert("UTC")
    early, late = (pd.Timestamp(sign * FAR_NS, unit="ns", tz="UTC") for sign in (-1, 1))
    outside = np.flatnonzero(((utc <= early) | (utc >= late)).to_numpy())
    if outside.size:
        row = int(outside[0])
        raise DataError(
            f"{path}: row {rows[row]}, {where}: value {text.iloc[row]!r} is outside {_TIME_RANGE}"
        )
    # pandas may parse at µs resolution: ask for ns before taking the integers.
    ns = np.asarray(utc.dt.as_unit("ns").astype("int64"), dtype=np.int64)
    wall_ns = np.asarray(wall.dt.as_unit("ns").astype("int64"), dtype=np.int64)
    moved = bool((wall_ns != ns + UTC_OFFSET_NS).any())
    return FileTimes(ns, [str(value) for value in text.tolist()], moved)


def _check_year_first(
    text: pd.Series[Any], path: Path, rows: npt.NDArray[np.int64], where: str
) -> None:
    """Refuse times that do not start with a four-digit year: in ``06/01/2020`` nothing tells
    the day from the month, and pandas would read some rows one way and some the other."""
    year_first = text.astype(str).str.match(r"\s*\d{4}").to_numpy(dtype=bool)
    if not year_first.all():
        row = int(np.flatnonzero(~year_first)[0])
        raise DataError(
            f"{path}: row {rows[row]}, {where}: value {text.iloc[row]!r} does not start with "
            f"a four-digit year, so its day and month cannot be told apart; give the file's "
            f"time format (--time-format, e.g. '%d/%m/%Y %H:%M:%S' or '%m/%d/%Y')"
        )


def _parse_times(
    text: pd.Series[Any], time_format: str, path: Path, rows: npt.NDArray[np.int64], where: str
) -> pd.Series[Any]:
    """``text`` parsed by pandas (naive, or aware when every time has a UTC offset)."""
    form = {"iso": "mixed", "date": None}.get(time_format, time_format)
    try:
        parsed = pd.to_datetime(text, format=form)
    except (ValueError, TypeError) as exc:
        try:
            bad = np.flatnonzero(pd.to_datetime(text, format=form, errors="coerce").isna())
        except (ValueError, TypeError):  # the mix of offsets again
            bad = np.array([], np.int64)
        if bad.size:
            row = int(bad[0])
            raise DataError(
                f"{path}: row {rows[row]}, {where}: value {text.iloc[row]!r} is not a time"
            ) from None
        if "Mixed timezones" not in str(exc):
            raise DataError(f"{path}: {where}: cannot parse times: {exc}") from None
        _check_offsets(text, path, rows, where)  # every time has an offset, if it returns
        parsed = pd.to_datetime(text, format=form, utc=True)
    if parsed.isna().any():
        row = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise DataError(f"{path}: row {rows[row]}, {where}: empty time")
    return parsed


def _check_offsets(
    text: pd.Series[Any], path: Path, rows: npt.NDArray[np.int64], where: str
) -> None:
    """Raise DataError at the first time written with a UTC offset when the first time has
    none, or without one when the first has one."""
    first = _has_offset(str(text.iloc[0]))
    for row, value in enumerate(text.tolist()):
        offset = _has_offset(str(value))
        if offset is None:
            raise DataError(f"{path}: row {rows[row]}, {where}: value {value!r} is not a time")
        if offset != first:
            has, other = ("has no", "has one") if first else ("has a", "has none")
            raise DataError(
                f"{path}: row {rows[row]}, {where}: value {value!r} {has} UTC offset but row "
                f"{rows[0]} ({text.iloc[0]!r}) {other}: write every time with an offset, or "
                f"none (then --tz says the zone)"
            )


def _has_offset(value: str) -> bool | None:
    """Whether the time ``value`` is written with a UTC offset; None: it is not a time."""
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        pass
    try:
        return pd.Timestamp(value).tzinfo is not None
    except (ValueError, TypeError):
        return None
