"""``backtest data``: list, inspect, verify, import, download, resample and remove stored data.

Which store: ``--store DIR``, else the ``BACKTEST_STORE`` environment variable. Commands that
only read (``ls``, ``info``, ``verify``) fall back to the sample store shipped with the
package; commands that write (``import``, ``download``, ``resample``, ``rm``) need one of the
two, so that nothing is ever written into the package by accident. ``import`` and
``download`` create the store if the directory does not exist yet (a download refused before it
writes anything removes it again).

Examples::

    backtest data ls
    backtest data info IF2003.IF
    backtest --help
    backtest data import IF2003.csv --store ~/store --symbol IF2003.IF --period 1m --format tqsdk
    backtest data import bars.csv --store ~/store --symbol 600000.SH --period 1d \\
        --format generic --columns datetime=Date,open=Open,high=High,low=Low,close=Close,volume=Vol
    backtest data download --store ~/store --source xtquant --symbols 000001.SZ,rb2405.SF \\
        --period 1m --start 20240101
    backtest data resample --store ~/store IF2003.IF --from 1m --to 5m,15m,1d
    backtest data verify --store ~/store
    backtest data rm --store ~/store IF2003.IF --period 1m
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import json
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from contextlib import suppress
from enum import Enum
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from ..csvimport import PRESETS, import_csv
from ..errors import ConfigError, DataError
from ..instrument import InstrumentTable
from ..model import DAY, TICK, Symbol, normalize_symbol, parse_period, period_label
from ..store import SerialInfo, Store, default_store_path
from ..times import format_ns
from ..validate import Policy
from ..verify import DirectoryCheck, verify_store

STORE_VARIABLE = "BACKTEST_STORE"
SHOWN_FINDINGS = 10
"""Problems listed per serial by ``verify`` (the count covers all of them)."""

Command = Callable[[argparse.Namespace, TextIO, TextIO], int]


def add_parser(commands: Any) -> None:
    """Add ``data`` and its subcommands to the top-level subparsers."""
    parser = commands.add_parser(
        "data",
        help="manage the local data store",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    sub = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)

    ls = _command(sub, "ls", "list the stored series", _ls)
    ls.add_argument(
        "patterns",
        nargs="*",
        metavar="PATTERN",
        help="only symbols matching these shell patterns, e.g. 'IF*'",
    )
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")

    info = _command(sub, "info", "show a symbol's instrument terms and stored series", _info)
    info.add_argument("symbol", help="e.g. IF2003.IF, SHFE.au1912, 600000.SH")
    info.add_argument("--json", action="store_true", help="print JSON instead of text")

    verify = _command(sub, "verify", "scan stored files for problems (exit 1 if any)", _verify)
    verify.add_argument("symbols", nargs="*", metavar="SYMBOL", help="default: every symbol")
    verify.add_argument("--period", help="only this period (tick, 1m, 1d …)")

    rm = _command(sub, "rm", "delete a symbol's stored data (asks first)", _rm)
    rm.add_argument("symbol")
    rm.add_argument("--period", help="only this period (default: every period)")
    rm.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")

    imp = _command(sub, "import", "import CSV files of one symbol and period", _import)
    imp.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        type=Path,
        help="CSV files (.csv, .csv.gz, .csv.xz, .csv.bz2)",
    )
    imp.add_argument("--symbol", required=True, help="e.g. IF2003.IF or CFFEX.IF2003")
    imp.add_argument("--period", required=True, help="tick, 1m, 5m, 1h, 1d …")
    imp.add_argument(
        "--format",
        default="generic",
        choices=[*sorted(PRESETS), "generic"],
        help="the CSV's layout",
    )
    imp.add_argument(
        "--columns",
        type=_mapping,
        default=None,
        help="store=source column pairs, e.g. datetime=Date,close=Close",
    )
    imp.add_argument("--tz", default="Asia/Shanghai", help="the time zone of the file's times")
    imp.add_argument(
        "--time-format",
        help="strftime format of the times, e.g. '%%d/%%m/%%Y %%H:%%M' (default: year first)",
    )
    imp.add_argument(
        "--label", choices=["start", "end"], help="what a bar's time marks (default: the format's)"
    )
    imp.add_argument(
        "--volume-unit", choices=["shares", "lots"], help="stock volumes in shares or lots of 100"
    )
    imp.add_argument("--decimals", type=int, help="round prices to this many decimals (0-15)")
    imp.add_argument(
        "--encoding",
        default="utf-8",
        help="the files' text encoding, e.g. gbk (default: utf-8)",
    )
    imp.add_argument(
        "--delimiter",
        default=",",
        help="the character between fields, e.g. ';', '|' or tab (default: ',')",
    )
    bad = imp.add_mutually_exclusive_group()
    bad.add_argument(
        "--repair",
        action="store_true",
        help="sort, drop duplicates, widen high/low, drop the other bad rows",
    )
    bad.add_argument("--skip-bad-rows", action="store_true", help="drop rows with problems")
    imp.add_argument(
        "--resample",
        type=_periods,
        default=[],
        metavar="PERIODS",
        help="also build these periods, e.g. 5m,15m,1d",
    )

    down = _command(sub, "download", "download history from xtquant (miniQMT)", _download)
    down.add_argument("--source", default="xtquant", choices=["xtquant"])
    down.add_argument(
        "--symbols",
        required=True,
        type=lambda t: t.split(","),
        help="comma-separated, e.g. 000001.SZ,rb2405.SF",
    )
    down.add_argument("--period", required=True, help="tick, 1m, 5m, 15m, 30m, 1h, 1d")
    down.add_argument("--start", required=True, help="YYYYMMDD[HHMMSS], Beijing time")
    down.add_argument("--end", help="YYYYMMDD[HHMMSS] (default: now)")
    down.add_argument(
        "--dividend-type",
        default="none",
        help="xtquant's price adjustment (keep 'none' for backtests)",
    )
    down.add_argument(
        "--full", action="store_true", help="fetch the whole range again instead of continuing"
    )
    down.add_argument(
        "--no-metadata", action="store_true", help="skip instrument details, calendar and dividends"
    )

    res = _command(sub, "resample", "build klines of other periods from stored data", _resample)
    res.add_argument("symbol")
    res.add_argument("--from", dest="source", required=True, help="tick or a kline period")
    res.add_argument(
        "--to",
        dest="targets",
        required=True,
        type=_periods,
        help="comma-separated periods, e.g. 5m,15m,1d",
    )


EXAMPLES: dict[str, str] = {
    "ls": "backtest data ls 'IF*' --store ~/store",
    "info": "backtest data info SHFE.au1912 --json",
    "verify": "backtest data verify --store ~/store IF2003.IF --period 1m",
    "rm": "backtest data rm IF2003.IF --period 1m --store ~/store",
    "import": "backtest data import IF2003.csv --store ~/store --symbol IF2003.IF --period 1m "
    "--format tqsdk",
    "download": "backtest data download --store ~/store --symbols 000001.SZ,rb2405.SF "
    "--period 1m --start 20240101",
    "resample": "backtest data resample IF2003.IF --from 1m --to 5m,15m,1d --store ~/store",
}


def _command(sub: Any, name: str, text: str, run: Command) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=text, description=text, epilog=f"example: {EXAMPLES[name]}"
    )
    parser.add_argument(
        "--store", type=Path, help=f"the store directory (default: ${STORE_VARIABLE})"
    )
    parser.set_defaults(run=run)
    return parser


def _mapping(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise argparse.ArgumentTypeError(f"expected store=source pairs, got {item!r}")
        if key.strip() in pairs:
            raise argparse.ArgumentTypeError(
                f"{key.strip()} is mapped twice ({pairs[key.strip()]!r} and {value.strip()!r}): "
                f"map each store column to one column of the file"
            )
        pairs[key.strip()] = value.strip()
    return pairs


def _periods(text: str) -> list[int]:
    try:
        periods = [parse_period(item) for item in text.split(",") if item.strip()]
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not periods:
        raise argparse.ArgumentTypeError(f"no period in {text!r}: give periods like 5m,15m,1d")
    return periods


# --- stores --------------------------------------------------------------------------------


def reading_store(args: argparse.Namespace) -> Store:
    """``--store``, else ``$BACKTEST_STORE``, else the bundled sample store."""
    chosen = args.store or os.environ.get(STORE_VARIABLE)
    return Store(chosen if chosen else default_store_path())


def writing_store(args: argparse.Namespace) -> Store:
    """The existing store at ``--store`` or ``$BACKTEST_STORE``; never the bundled sample store
    by default."""
    return Store(_writing_root(args))


def _writing_root(args: argparse.Namespace) -> str | Path:
    chosen: str | Path | None = args.store or os.environ.get(STORE_VARIABLE)
    if not chosen:
        raise ConfigError(
            f"say which store to write: --store DIR or {STORE_VARIABLE}=DIR (the sample store "
            f"shipped with backtest is not written to by default)"
        )
    return chosen


# --- ls / info -----------------------------------------------------------------------------


def _ls(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    store = reading_store(args)
    misnamed = 0

    def report(directory: Path, error: DataError) -> None:  # the others are still listed
        nonlocal misnamed
        if _matches(directory.name, args.patterns):
            print(f"backtest: error: {error}", file=err)
            misnamed += 1

    symbols = [s for s in store.symbols(on_misnamed=report) if _matches(s, args.patterns)]
    infos, damaged = _serial_infos(store, symbols, err)
    damaged += misnamed
    status = 1 if damaged else 0
    if args.json:
        json.dump([_info_json(info) for info in infos], out, indent=2)
        out.write("\n")
        return status
    if not infos:
        if not damaged:
            what = f" matching {' '.join(args.patterns)}" if args.patterns else ""
            print(f"{store.root}: no data{what}", file=out)
        return status
    rows = [[info.symbol, *_serial_cells(info)] for info in infos]
    print(f"{store.root}", file=out)
    _table(out, ["symbol", *_SERIAL_HEADER], rows)
    return status


def _serial_infos(
    store: Store, symbols: Sequence[str], err: TextIO
) -> tuple[list[SerialInfo], int]:
    """What is stored of ``symbols``, serial by serial; a damaged serial, or a period directory
    named outside the layout, is reported on ``err`` (the message names the file or directory
    and what to do) and counted, and the others are still listed."""
    infos: list[SerialInfo] = []
    damaged = 0
    misnamed: list[DataError] = []
    for symbol in symbols:
        misnamed.clear()
        durations = store.durations(symbol, on_misnamed=lambda _, error: misnamed.append(error))
        for error in misnamed:
            print(f"backtest: error: {symbol}: {error}", file=err)
            damaged += 1
        for duration in durations:
            try:
                infos.append(store.info(symbol, duration))
            except DataError as exc:
                print(f"backtest: error: {symbol} {period_label(duration)}: {exc}", file=err)
                damaged += 1
    return infos, damaged


_SERIAL_HEADER = ("period", "rows", "first", "last", "files", "size")


def _serial_cells(info: SerialInfo) -> list[str]:
    """One stored serial's cells under :data:`_SERIAL_HEADER`."""
    return [
        period_label(info.duration_s),
        f"{info.rows:,}",
        _when(info.first_ns, info.duration_s),
        _when(info.last_ns, info.duration_s),
        str(info.files),
        _size(info.bytes),
    ]


def _matches(name: str, patterns: Sequence[str]) -> bool:
    """True if a pattern names the symbol ``name`` in any spelling (``CFFEX.IF2003``,
    ``if2003.if``) or matches its canonical or tqsdk spelling as a shell pattern (``IF*``,
    ``CFFEX.IF*``), in any case; a ``name`` that is no symbol (a misnamed directory) is matched
    as it is."""
    if not patterns:
        return True
    try:
        symbol: str | None = normalize_symbol(name)
    except ConfigError:
        symbol = None
    spellings = (
        (name.lower(),) if symbol is None else (symbol.lower(), Symbol.parse(symbol).tq.lower())
    )
    for pattern in patterns:
        with suppress(ConfigError):  # a glob is no symbol
            if symbol is not None and normalize_symbol(pattern) == symbol:
                return True
        if any(fnmatch.fnmatchcase(spelling, pattern.lower()) for spelling in spellings):
            return True
    return False


def _info(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    store = reading_store(args)
    symbol = normalize_symbol(args.symbol)
    stored = store.instruments()
    instrument = InstrumentTable(stored, None, str(store.root)).get(symbol)
    stored_row = stored.get(symbol)
    terms = {
        item.name: _plain(getattr(instrument, item.name)) for item in dataclasses.fields(instrument)
    }
    series, damaged = _serial_infos(store, [symbol], err)
    status = 1 if damaged else 0
    actions = store.dividends().get(symbol, [])
    if args.json:
        document = {
            "symbol": symbol,
            "instrument": terms,
            "instrument_source": "store" if stored_row else "defaults",
            "series": [_info_json(info) for info in series],
            "corporate_actions": [
                {"ex_date": day.isoformat(), "cash": cash, "share_ratio": ratio}
                for day, cash, ratio in actions
            ],
        }
        json.dump(document, out, indent=2, ensure_ascii=False)
        out.write("\n")
        return status
    source = "the store's instruments.parquet" if stored_row else "built-in defaults"
    print(f"{symbol}  (instrument terms from {source})", file=out)
    width = max(len(name) for name in terms)
    for name, value in terms.items():
        print(f"  {name:<{width}}  {value}", file=out)
    print("", file=out)
    if series:
        rows = [[*_serial_cells(i), " ".join(i.columns)] for i in series]
        _table(out, [*_SERIAL_HEADER, "columns"], rows)
    elif not damaged:
        print(f"  no market data stored in {store.root}", file=out)
    if actions:
        print(f"\n{len(actions)} corporate action(s), the last on {actions[-1][0]}", file=out)
    return status


def _plain(value: Any) -> Any:
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, Enum):
        return value.value
    return str(value)


def _info_json(info: SerialInfo) -> dict[str, Any]:
    return {
        "symbol": info.symbol,
        "period": period_label(info.duration_s),
        "rows": info.rows,
        "first": format_ns(info.first_ns),
        "last": format_ns(info.last_ns),
        "files": info.files,
        "bytes": info.bytes,
        "columns": list(info.columns),
    }


# --- verify / rm ---------------------------------------------------------------------------


def _verify(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    store = reading_store(args)
    durations = [parse_period(args.period)] if args.period else None
    bad = 0  # problems in serials' files
    misnamed = 0  # directories named outside the layout
    checks = 0
    overlapping = False
    # a symbol or period that is not stored raises DataError (exit 1) before anything is read
    for check in verify_store(store, args.symbols or None, durations):
        checks += 1
        print(check.summary(), file=out)
        for finding in check.findings[:SHOWN_FINDINGS]:
            print(f"  {finding}", file=out)
        if len(check.findings) > SHOWN_FINDINGS:
            print(f"  … and {len(check.findings) - SHOWN_FINDINGS} more", file=out)
        if isinstance(check, DirectoryCheck):
            misnamed += len(check.findings)
            continue
        bad += len(check.findings)
        overlapping |= any(finding.problem.check == "period" for finding in check.findings)
    remedies = []
    if bad:
        periods = (
            " (bars that overlap, a period problem, need the source re-imported with the "
            "right --period)"
            if overlapping
            else ""
        )
        remedies.append(
            "re-import the source with --repair or --skip-bad-rows, or remove the series with "
            f"`backtest data rm`{periods}"
        )
    if misnamed:
        remedies.append(
            "rename each directory named outside the layout as its problem says, or move it "
            "out of the store"
        )
    if remedies:
        print(f"{bad + misnamed} problem(s) in {store.root}: {'; '.join(remedies)}", file=err)
        return 1
    if not checks:  # nothing to check is no failure (`verify SYMBOL` of an absent one is)
        print(f"{store.root}: no data to verify", file=out)
    return 0


def _rm(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    store = writing_store(args)
    symbol = normalize_symbol(args.symbol)
    durations = [parse_period(args.period)] if args.period else store.durations(symbol)
    if not durations:
        store.info(symbol, TICK)  # raises: nothing of the symbol is stored
    what = ", ".join(_stored_size(store, symbol, d) for d in durations)
    if not args.yes:
        if not sys.stdin.isatty():
            raise ConfigError(
                f"refusing to delete {symbol} {what} without confirmation: "
                f"run in a terminal or add --yes"
            )
        answer = input(f"delete {symbol} {what} from {store.root}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted", file=out)
            return 1
    removed = store.remove(symbol, durations[0] if args.period else None)  # one transaction
    print(f"deleted {removed} file(s) of {symbol} from {store.root}", file=out)
    return 0


def _stored_size(store: Store, symbol: str, duration_s: int) -> str:
    """``1m (12,279 rows, 2 files)``; a damaged serial (what ``rm`` is often for) says so."""
    try:
        info = store.info(symbol, duration_s)
    except DataError as exc:
        if duration_s not in store.durations(symbol):
            raise  # nothing stored: the message says what is
        return f"{period_label(duration_s)} (damaged: {exc})"
    return f"{period_label(duration_s)} ({info.rows:,} rows, {info.files} files)"


# --- import / download / resample ----------------------------------------------------------


def _import(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    policy = Policy.REPAIR if args.repair else Policy.SKIP if args.skip_bad_rows else Policy.REFUSE
    # a refused import (bad rows, a missing file) leaves no new store behind
    with (
        Store.creating(_writing_root(args)) as store,
        warnings.catch_warnings(record=True) as noticed,
    ):
        warnings.simplefilter("always", UserWarning)  # the import's own, printed below
        report = import_csv(
            store,
            args.files,
            args.symbol,
            args.period,
            format=args.format,
            columns=args.columns,
            policy=policy,
            tz=args.tz,
            label=args.label,
            volume_unit=args.volume_unit,
            decimals=args.decimals,
            encoding=args.encoding,
            time_format=args.time_format,
            delimiter=args.delimiter,
        )
    print(report.summary(), file=out)
    replaced = f" ({report.replaced:,} of them replaced stored rows)" if report.replaced else ""
    print(
        f"{report.symbol} {report.period}: {report.rows:,} rows into {store.root}{replaced}",
        file=out,
    )
    for notice in noticed:
        print(f"backtest: warning: {notice.message}", file=err)
    if args.resample:
        _build_periods(store, report.symbol, parse_period(report.period), args.resample, out)
    return 0


def _download(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..xtquant import Progress, download

    # a download refused before it writes anything (no xtquant, a bad symbol) leaves no store
    with (
        Store.creating(_writing_root(args)) as store,
        tqdm(total=len(args.symbols), unit="symbol", file=err, disable=None) as bar,
    ):

        def progress(event: Progress) -> None:
            bar.set_postfix_str(f"{event.symbol} {event.stage}".strip(), refresh=False)
            bar.update(event.done - bar.n)

        report = download(
            store,
            args.symbols,
            args.period,
            args.start,
            args.end,
            dividend_type=args.dividend_type,
            incremental=not args.full,
            progress=progress,
            metadata=not args.no_metadata,
        )
        bar.close()
        print(report.summary(), file=out)
        report.raise_for_failures()
    return 0


def _resample(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    store = writing_store(args)
    _build_periods(
        store, normalize_symbol(args.symbol), parse_period(args.source), args.targets, out
    )
    return 0


def _build_periods(
    store: Store, symbol: str, source_s: int, targets: Sequence[int], out: TextIO
) -> None:
    from ..resample import resample_store

    for target in targets:
        rows = resample_store(store, symbol, source_s, target)
        print(
            f"{symbol} {period_label(target)}: {rows:,} bars from {period_label(source_s)}",
            file=out,
        )


# --- formatting ----------------------------------------------------------------------------


def _when(ts_ns: int, duration_s: int) -> str:
    text = format_ns(ts_ns)
    if duration_s >= DAY:
        return text[:10]
    return text[:19] if duration_s != TICK else text[:23]


def _size(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _table(out: TextIO, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    numeric = {"rows", "files", "size"}
    for line in [list(headers), *rows]:
        cells = [
            cell.rjust(width) if header in numeric else cell.ljust(width)
            for cell, width, header in zip(line, widths, headers, strict=True)
        ]
        print("  ".join(cells).rstrip(), file=out)
