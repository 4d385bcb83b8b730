"""Run directories: a backtest result as files, written and read back.

``result.save(dir)`` (and ``backtest run --out dir``) writes::

    result.json        format version, backtest version, completeness (and the error of an
                       incomplete run), the resolved config and its hash, the data store and its
                       fingerprint, and the statistics
    trades.parquet     one row per fill          (.csv too with csv=True / --csv)
    orders.parquet     one row per order
    daily.parquet      the accounts at each trading day's settlement
    positions.parquet  the positions held at each settlement
    round_trips.parquet  closing fills matched to opening fills (FIFO per symbol and side)
    prices.parquet     with the report: the bars it charts for each traded symbol, so that it
                       can be rebuilt without the data store
    qifi/<YYYYMMDD>.json  one QIFI account snapshot per trading day (QUANTAXIS's format)
    report.html        the self-contained HTML report

Nothing in the files depends on the clock or on randomness: the same run gives byte-identical
files. ``BacktestResult.load(dir)`` reads the tables and ``result.json`` back into an equal
result (QIFI and the report are outputs only).
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from contextlib import suppress
from importlib import metadata
from pathlib import Path
from typing import Final

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import ConfigError, DataError, unwritable
from .result import BacktestResult, config_hash, json_safe
from .stats import STAT_UNITS

FORMAT_VERSION: Final = 1
"""Version of the run-directory layout; a newer one is refused by :func:`load_run`."""
TABLES: Final = ("trades", "orders", "daily", "positions", "round_trips")
_PRICE_TYPES: dict[str, pa.DataType] = {
    "symbol": pa.string(), "duration_s": pa.int64(), "datetime": pa.int64(), "close": pa.float64(),
}  # fmt: skip
PRICES_SCHEMA: Final = pa.schema(_PRICE_TYPES)


def package_version() -> str:
    """The installed version of backtest (``0+unknown`` when run from a bare checkout)."""
    try:
        return metadata.version("backtest")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def save_run(
    result: BacktestResult, directory: Path, csv: bool = False, report: bool = True,
    qifi: bool = True,
) -> Path:  # fmt: skip
    """Write ``result`` into ``directory`` (created if needed; files of a previous run there are
    replaced) and return the directory.

    Raises:
        ConfigError: ``directory`` is a file, lies inside the run's data store, or cannot be
            written (the message names the path that failed).
    """
    check_target(directory, result.config.get("data"))
    try:
        return _save(result, directory, csv, report, qifi)
    except OSError as exc:
        raise ConfigError(
            f"cannot save the run into {directory}: {unwritable(exc)}; save it into a directory "
            f"you can write to"
        ) from None


def check_target(directory: Path, store: str | os.PathLike[str] | None) -> None:
    """Refuse to save a run into a file, under a file, or into the data store at ``store`` (its
    root), before anything is written (``backtest run`` checks before running)."""
    if directory.exists() and not directory.is_dir():
        raise ConfigError(
            f"cannot save the run into {directory}: it is a file, not a directory; save it into "
            f"a directory (it is created if missing)"
        )
    above = next((p for p in directory.absolute().parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise ConfigError(
            f"cannot save the run into {directory}: {above} is a file, not a directory; save "
            f"it into a directory (it is created if missing)"
        )
    if store is not None and directory.resolve().is_relative_to(Path(store).resolve()):
        raise ConfigError(
            f"cannot save the run into {directory}: it is inside the data store {store}, whose "
            f"files are market data; save it into a directory outside the store"
        )


def _save(
    result: BacktestResult, directory: Path, csv: bool, report: bool, qifi: bool
) -> Path:  # fmt: skip
    directory.mkdir(parents=True, exist_ok=True)
    if report and not len(result.prices):
        from .plot import chart_prices

        result = dataclasses.replace(result, prices=chart_prices(result))
    # files of an earlier save that this one does not rewrite would describe another run
    earlier_run = (directory / "result.json").is_file()
    document = {
        "format": FORMAT_VERSION,
        "backtest_version": package_version(),
        "complete": result.complete,
        "error": result.error,
        "config": result.config,
        "config_hash": config_hash(result.config),
        "stats": result.stats,
    }
    text = json.dumps(json_safe(document), sort_keys=True, indent=2, ensure_ascii=False)
    _write_text(directory / "result.json", text + "\n")
    prices_path = directory / "prices.parquet"
    if len(result.prices):
        # a fixed schema without pandas metadata: a loaded result saves the same bytes
        table = pa.Table.from_pandas(result.prices, schema=PRICES_SCHEMA, preserve_index=False)
        pq.write_table(table.replace_schema_metadata(None), prices_path, compression="zstd")
    elif prices_path.exists():
        prices_path.unlink()  # an earlier run's bars
    for name in TABLES:
        frame: pd.DataFrame = getattr(result, name)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        pq.write_table(table, directory / f"{name}.parquet", compression="zstd")
        csv_path = directory / f"{name}.csv"
        if csv:
            frame.to_csv(csv_path, index=False, lineterminator="\n")
        elif csv_path.exists():
            csv_path.unlink()  # a stale CSV from an earlier save would contradict the Parquet
    _remove_snapshots(directory / "qifi")  # the days of an earlier run may differ
    if qifi:
        from .qifi import write_qifi

        write_qifi(result, directory / "qifi")
    if report:
        from .report import write_report

        write_report(result, directory / "report.html")
    elif earlier_run and (directory / "report.html").is_file():
        (directory / "report.html").unlink()
    return directory


def _remove_snapshots(folder: Path) -> None:
    """Delete the QIFI snapshots (``YYYYMMDD.json``) in ``folder``, and it if then empty; other
    files are left alone."""
    if not folder.is_dir():
        return
    for path in folder.glob("*.json"):
        if len(path.stem) == 8 and path.stem.isdigit():
            path.unlink()
    with suppress(OSError):
        folder.rmdir()


def load_run(directory: Path) -> BacktestResult:
    """Read a run directory written by :func:`save_run`.

    Raises:
        DataError: no ``result.json``, a newer format, or a missing table.
    """
    path = directory / "result.json"
    if not path.is_file():
        raise DataError(
            f"{directory} is not a run directory (no result.json); write one with "
            f"result.save(dir) or `backtest run --out dir`"
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        version = int(document["format"])
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path} is not a valid result file: {exc}") from None
    if version > FORMAT_VERSION:
        raise DataError(
            f"{directory} was written in run-directory format {version}, newer than the "
            f"{FORMAT_VERSION} this version of backtest reads; upgrade backtest"
        )
    missing = [key for key in ("stats", "config") if not isinstance(document.get(key), dict)]
    if missing:
        raise DataError(f"{path} lacks {' and '.join(missing)}; save the run again")
    tables = {}
    for name in TABLES:
        table_path = directory / f"{name}.parquet"
        if not table_path.is_file():
            raise DataError(f"{directory} lacks {name}.parquet; save the run again")
        try:
            tables[name] = pq.read_table(table_path).to_pandas()
        except (OSError, pa.ArrowException) as exc:
            raise DataError(f"{table_path} cannot be read ({exc}); save the run again") from None
    prices_path = directory / "prices.parquet"  # optional: only saved with the report
    if prices_path.is_file():
        try:
            tables["prices"] = pq.read_table(prices_path).to_pandas()
        except (OSError, pa.ArrowException) as exc:
            warnings.warn(
                f"{prices_path} cannot be read ({exc}); the report's price charts will read "
                f"the data store (save the run again to rewrite it)",
                stacklevel=3,
            )
    saved = document["stats"]  # sorted by name in the file: back to the table's order
    order = [name for name in STAT_UNITS if name in saved] + sorted(saved.keys() - STAT_UNITS)
    stats = {name: (float("nan") if saved[name] is None else saved[name]) for name in order}
    return BacktestResult(
        stats=stats,
        config=document["config"],
        complete=bool(document.get("complete", True)),
        error=document.get("error"),
        **tables,
    )


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
