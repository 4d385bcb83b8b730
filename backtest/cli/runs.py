"""``backtest run|check|report|show|diff``: run strategy files and work with run directories.

Examples::

    backtest run strategies/double_ma.py
    backtest run strategies/double_ma.py --start 2020-01-02 --end 2020-01-31 --param fast=5
    backtest run --config runs/ma.toml --out runs/ma --csv
    backtest check strategies/double_ma.py --golden tests/golden/double_ma.json
    backtest report runs/double_ma-1a2b3c4d5e6f
    backtest show runs/double_ma-1a2b3c4d5e6f
    backtest diff runs/a runs/b

Exit status: 0 success (``check``/``diff``: equal); 1 bad input or data, also data the strategy
asks for mid-run that the store lacks (``run`` then saves what was computed; ``check``/``diff``:
the results differ); 2 the strategy failed (a syntax error or an exception: the traceback points
into the strategy file, and ``run`` still saves what was computed, marked incomplete); 130
interrupted (what was computed is saved, marked incomplete).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import traceback
import warnings
from pathlib import Path
from typing import Any, Final, TextIO

from ..errors import (
    BacktestError,
    ConfigError,
    DataEndedWarning,
    DataError,
    NoDataWarning,
    StrategyError,
    unwritable,
)
from ..golden import DEFAULT_RTOL, close, compare, read_golden, snapshot, write_golden
from ..result import BacktestResult, config_hash, format_stat
from ..rundir import check_target
from ..runspec import (
    RunSpec,
    StrategyLoadError,
    file_defaults,
    import_strategy_file,
    parse_param,
    read_toml,
    resolve,
    strategy_of,
)
from ..stats import STAT_UNITS
from ..store import default_store_path

BAD_INPUT = 1
STRATEGY_FAILED = 2
INTERRUPTED = 130


def add_parsers(commands: Any) -> None:
    """Add ``run``, ``check``, ``report``, ``show`` and ``diff`` to the top-level subparsers."""
    run = commands.add_parser(
        "run", help="run a strategy file and write its run directory",
        description="Run a strategy file: progress by simulated day, the statistics, and a run "
        "directory (result.json, Parquet tables, qifi/, report.html).",
        epilog="example: backtest run strategies/double_ma.py --param fast=5 --out runs/ma5",
    )  # fmt: skip
    _run_options(run)
    run.add_argument("--out", type=Path, help="run directory (default: runs/<name>-<hash>)")
    run.add_argument("--csv", action="store_true", help="also write the tables as CSV")
    run.add_argument("--no-report", action="store_true", help="skip report.html")
    run.add_argument("--quiet", action="store_true", help="no progress bar, no table")
    run.add_argument("--json", action="store_true", help="print result.json to stdout")
    run.set_defaults(run=_run)

    check = commands.add_parser(
        "check", help="run a strategy file and compare with a golden file (for CI)",
        description="Run a strategy file and compare its statistics and trades with a golden "
        "file: exit 0 when equal, 1 with the differences when not.",
        epilog="example: backtest check strategies/double_ma.py --golden tests/golden/ma.json",
    )  # fmt: skip
    _run_options(check)
    check.add_argument("--golden", type=Path, required=True, help="the golden JSON file")
    check.add_argument("--rtol", type=_tolerance, default=DEFAULT_RTOL,
                       help=f"relative tolerance of floats (default {DEFAULT_RTOL:g})")  # fmt: skip
    check.add_argument("--update", action="store_true", help="rewrite the golden file")
    check.set_defaults(run=_check)

    report = commands.add_parser(
        "report", help="(re)build report.html of a run directory",
        epilog="example: backtest report runs/double_ma-1a2b3c4d5e6f",
    )  # fmt: skip
    report.add_argument("directory", type=Path, metavar="RUN_DIR")
    report.set_defaults(run=_report)

    show = commands.add_parser(
        "show", help="print the summary of a run directory",
        epilog="example: backtest show runs/double_ma-1a2b3c4d5e6f --json",
    )  # fmt: skip
    show.add_argument("directory", type=Path, metavar="RUN_DIR")
    show.add_argument("--json", action="store_true", help="print the statistics as JSON")
    show.set_defaults(run=_show)

    diff = commands.add_parser(
        "diff", help="compare two run directories (exit 1 when they differ)",
        epilog="example: backtest diff runs/a runs/b --rtol 1e-6",
    )  # fmt: skip
    diff.add_argument("first", type=Path, metavar="RUN_A")
    diff.add_argument("second", type=Path, metavar="RUN_B")
    diff.add_argument("--rtol", type=_tolerance, default=DEFAULT_RTOL,
                      help=f"relative tolerance of floats (default {DEFAULT_RTOL:g})")  # fmt: skip
    diff.set_defaults(run=_diff)


def _tolerance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"a tolerance must be a finite number: {text!r}")
    if value < 0:
        raise argparse.ArgumentTypeError(f"a tolerance cannot be negative: {text!r}")
    return value


def _run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("strategy", nargs="?", type=Path, metavar="STRATEGY_FILE",
                        help="a .py file defining `async def strategy(api, ...)`")  # fmt: skip
    parser.add_argument("--config", type=Path, help="a TOML run file (see backtest.runspec)")
    parser.add_argument("--start", help="first trading day, 2020-01-02 or 20200102")
    parser.add_argument("--end", help="last trading day")
    parser.add_argument("--data", type=Path, help="the data store (default: the sample store)")
    parser.add_argument("--init-balance", type=float, help="starting balance, CNY")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a strategy parameter, repeatable; VALUE is TOML")  # fmt: skip


# --- running -------------------------------------------------------------------------------


def _spec(args: argparse.Namespace) -> tuple[RunSpec, Any]:
    """The resolved run and the imported strategy module (file RUN < --config < flags)."""
    toml = read_toml(args.config) if args.config else {}
    path = args.strategy or (Path(toml["strategy"]) if "strategy" in toml else None)
    if path is None:
        raise BacktestError("give a strategy file (or a --config file with `strategy = ...`)")
    module = import_strategy_file(path)
    strategy_of(module, path)  # before the dates: a file without a strategy says so first
    flags: dict[str, Any] = {"strategy": str(path)}
    for name in ("start", "end", "init_balance"):
        value = getattr(args, name)
        if value is not None:
            flags[name] = value
    if args.data is not None:
        flags["data"] = str(args.data)
    if args.param:
        flags["params"] = dict(parse_param(item) for item in args.param)
    layers = [
        (f"{path} RUN", file_defaults(module, path)),
        (f"{args.config}", toml),
        ("command line", flags),
    ]
    return resolve(layers), module


def _execute(
    args: argparse.Namespace, err: TextIO, progress: bool | None, out: Path | None = None
) -> tuple[BacktestResult | None, int]:
    """Run the strategy; the result (None when nothing ran) and the exit status. ``out``, the
    run directory to save into, is checked before the run."""
    try:
        spec, module = _spec(args)
        backtest = spec.backtest(progress, module)  # building a class strategy may raise too
    except StrategyLoadError as exc:
        _print_traceback(exc.__cause__ or exc, err)
        return None, STRATEGY_FAILED
    if out is not None:
        try:
            check_target(out, backtest.config.data or default_store_path())
        except ConfigError as exc:
            raise ConfigError(f"--out: {exc}") from None
    result: BacktestResult | None
    try:
        with warnings.catch_warnings(record=True) as noticed:
            warnings.simplefilter("default", UserWarning)  # the run's own, printed below
            warnings.filterwarnings("ignore", message="backtest interrupted")  # reported below
            result = backtest.run()
        status = 0 if result.complete else INTERRUPTED
        for notice in noticed:
            if issubclass(notice.category, NoDataWarning):  # bad input: nothing to save
                print(f"backtest: error: {notice.message}", file=err)
                return None, BAD_INPUT
            if issubclass(notice.category, DataEndedWarning):  # about the run, not a line
                print(f"backtest: warning: {notice.message}", file=err)
            else:
                print(f"{notice.filename}:{notice.lineno}: warning: {notice.message}", file=err)
    except StrategyError as exc:
        result, status = exc.result, STRATEGY_FAILED
    except BacktestError as exc:
        if exc.result is None:
            raise  # bad input or data before anything ran: exit 1 with the message
        result = exc.result
        if isinstance(exc, DataError):  # data the strategy asked for that the store lacks
            print(f"backtest: error: {exc}", file=err)
            status = BAD_INPUT
        else:
            status = STRATEGY_FAILED
    if result is None:
        return None, status
    if status == STRATEGY_FAILED and result.error:
        print(result.error, file=err)
    config = {**result.config, "strategy": spec.describe()}
    return dataclasses.replace(result, config=config), status


def _print_traceback(exc: BaseException, err: TextIO) -> None:
    print("".join(traceback.format_exception(exc)).rstrip(), file=err)


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    progress = False if args.quiet or args.json else None
    result, status = _execute(args, err, progress, args.out or Path("runs"))
    if result is None:
        return status
    name = Path(result.config["strategy"]["path"]).stem
    directory = args.out or Path("runs") / f"{name}-{config_hash(result.config)[:12]}"
    result.save(directory, csv=args.csv, report=not args.no_report)
    if args.json:
        out.write((directory / "result.json").read_text(encoding="utf-8"))
    elif not args.quiet:
        print(result.summary(), file=out)
        print(f"\nrun directory: {directory}", file=out)
    if not result.complete:
        if status == INTERRUPTED:
            print(f"{result.error}", file=err)
        print(f"incomplete run saved in {directory}", file=err)
    return status


def _check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    result, status = _execute(args, err, False)
    if result is None or status:
        return status
    if args.update:
        write_golden(result, args.golden)
        print(f"golden file written: {args.golden}", file=out)
        return 0
    comparison = compare(snapshot(result), read_golden(args.golden), args.rtol)
    if comparison.equal:
        print(f"equal to {args.golden}", file=out)
        return 0
    print(f"differs from {args.golden}:\n{comparison.report()}", file=out)
    print("(after an intended change: rerun with --update and review the file's diff)", file=out)
    return 1


# --- run directories -----------------------------------------------------------------------


def _report(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..report import write_report

    result = BacktestResult.load(args.directory)
    path = args.directory / "report.html"
    try:
        write_report(result, path)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the report into {args.directory}: {unwritable(exc)}; fix the "
            f"directory's permissions, or copy the run directory somewhere you can write to"
        ) from None
    print(f"report written: {path}", file=out)
    return 0


def _show(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    result = BacktestResult.load(args.directory)
    if args.json:
        print(result.stats_json(), file=out)
        return 0
    config = result.config
    strategy = config.get("strategy", {})
    print(f"run        {args.directory}", file=out)
    if strategy:
        print(f"strategy   {strategy.get('path')}  params {strategy.get('params')}", file=out)
    print(f"period     {config.get('start')} … {config.get('end')}", file=out)
    print(f"data       {config.get('data')}", file=out)
    print(f"trades     {len(result.trades)}   orders {len(result.orders)}", file=out)
    print("", file=out)
    print(result.summary(), file=out)
    return 0


def _diff(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    first, second = BacktestResult.load(args.first), BacktestResult.load(args.second)
    labels = (str(args.first), str(args.second))
    settings = _config_lines(first.config, second.config)
    if settings:
        print("config:", file=out)
        for line in settings:
            print(f"  {line}", file=out)
        print("", file=out)
    # the order of the stats table (compute_stats), then anything else
    names = list(dict.fromkeys([*STAT_UNITS, *first.stats, *second.stats]))
    names = [n for n in names if n in first.stats or n in second.stats]
    cells = [(n, format_stat(n, first.stats.get(n)), format_stat(n, second.stats.get(n)))
             for n in names]  # fmt: skip
    width = max((len(n) for n in names), default=0)
    left = max([len(str(args.first)), *(len(a) for _, a, _ in cells)])
    right = max([len(str(args.second)), *(len(b) for _, _, b in cells)])
    print(f"{'':<{width}}  {args.first!s:>{left}}  {args.second!s:>{right}}", file=out)
    for name, a, b in cells:
        same = close(first.stats.get(name), second.stats.get(name), args.rtol)
        print(f"{name:<{width}}  {a:>{left}}  {b:>{right}}{'' if same else '  *'}", file=out)
    # the first run plays "expected", the second "actual"
    comparison = compare(snapshot(second), snapshot(first), args.rtol, labels)
    trade_lines = comparison.differences
    while trade_lines and not trade_lines[0].startswith("trades:"):
        trade_lines = trade_lines[1:]
    print("", file=out)
    print("\n".join(trade_lines) if trade_lines else "trades: equal", file=out)
    return 0 if comparison.equal else 1


def _config_lines(first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    """``key: a → b`` for each setting that differs between two runs (nested keys dotted)."""
    flat_a, flat_b = _flatten(first), _flatten(second)
    lines = []
    for key in sorted(flat_a.keys() | flat_b.keys()):
        a, b = flat_a.get(key, _ABSENT), flat_b.get(key, _ABSENT)
        if a is _ABSENT or b is _ABSENT or a != b:
            lines.append(f"{key}: {_setting(a)} → {_setting(b)}")
    return lines


_ABSENT: Final = object()


def _setting(value: Any) -> str:
    return "(absent)" if value is _ABSENT else repr(value)


def _flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
