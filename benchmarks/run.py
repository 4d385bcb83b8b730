"""Benchmark: our engine against vnpy's BacktestingEngine and backtesting.py, in one run.

``make bench`` runs ``python benchmarks/run.py``::

    python benchmarks/run.py [--bars N] [--ticks N] [--repeat K]
                             [--only ours,vnpy,backtesting] [--json FILE]

What is measured: one symbol of N seeded random-walk one-minute bars (and, separately, N ticks),
generated once by :mod:`benchmarks.generate` into ``benchmarks/.cache/`` and reused, run through
a double moving-average crossover (fast 10, slow 30, target +1/−1 lot; see
:mod:`benchmarks.workloads` for the exact rule, the two variants and the phases timed) on

- ours: ``backtest.Backtest(...).run()`` reading the Parquet store;
- vnpy: ``vnpy_ctastrategy.backtesting.BacktestingEngine`` (bar and tick mode), fed the same
  rows read back with pyarrow as ``BarData``/``TickData``;
- backtesting.py: ``backtesting.Backtest(...).run()`` on the same bars as a DataFrame (it has
  no tick mode).

Every (engine, mode, variant) runs in its own subprocess, so its peak RSS (``VmHWM``; not
``ru_maxrss``, which Linux carries over from the forked parent) is its own; ``--repeat K`` runs
each K times and keeps the best throughput, also reporting the median. Within a repeat, each
variant's engines run back to back, the first engine rotating from repeat to repeat
(:func:`schedule`), and the ratio of each such pair is reported beside the best-vs-best ratio
(:func:`paired_ratios`): the machine's speed drifts within minutes, so two engines' best runs may
come from different moments, while a pair's runs are seconds apart. Children
get ``OPENBLAS_NUM_THREADS=1`` (and the OMP/MKL equivalents): numpy's BLAS threads would
otherwise spin on a small machine. ``TQDM_DISABLE=1`` silences backtesting.py's progress bar.
Throughput is N / run phase; load and result-building time are reported beside it. vnpy and
backtesting.py are the optional ``bench`` extra (``pip install -e '.[bench]'``); without them
only our engine runs.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from backtest import Store
from benchmarks.floor import toy_us
from benchmarks.generate import SYMBOL, calendar_span, write_store
from benchmarks.workloads import (
    ALL_VARIANTS,
    ENGINES,
    FAST,
    SLOW,
    VARIANTS,
    Measurement,
    engine_digest,
    signal_cost_us,
)

ROOT: Final = Path(__file__).resolve().parent.parent
CACHE: Final = Path(__file__).resolve().parent / ".cache"
SEED: Final = 7
DEFAULT_COUNT: Final = 1_000_000
CHILD_ENV: Final = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TQDM_DISABLE": "1",
}
PEER_MODULES: Final = {
    "vnpy": ("vnpy", "vnpy_ctastrategy", "talib"),
    "backtesting": ("backtesting",),
}
UNIT: Final = {"bars": "bar", "ticks": "tick"}

DESCRIPTIONS: Final = {
    ("bars", "ours", "idiomatic"): (
        "get_kline_serial(60, data_length=31); on is_changing(klines.iloc[-1], 'datetime'): "
        "closes = klines.to_numpy('close')[:-1], SMA = numpy mean of the last 10/30; limit "
        "orders at quote ask/bid"
    ),
    ("bars", "ours", "lean"): (
        "get_kline_serial(60, data_length=2); new bar when klines.last_id changes: "
        "klines.to_numpy('close').item(-2) → pure-Python moving sums; limit orders at ask/bid"
    ),
    ("bars", "vnpy", "idiomatic"): (
        "CtaTemplate.on_bar: ArrayManager(30).update_bar, numpy mean of the last 10/30 of "
        "am.close; buy/sell/short/cover limit at bar.close_price"
    ),
    ("bars", "vnpy", "lean"): (
        "CtaTemplate.on_bar: bar.close_price → pure-Python moving sums; limit at bar.close_price"
    ),
    ("bars", "backtesting", "idiomatic"): (
        "Strategy.init: self.I(rolling numpy mean, Close, 10/30); next(): fast[-1] vs slow[-1]; "
        "market orders (fill at the next open)"
    ),
    ("bars", "backtesting", "lean"): (
        "Strategy.next: self.data.Close[-1] → pure-Python moving sums; market orders"
    ),
    ("ticks", "ours", "idiomatic"): (
        "get_tick_serial(data_length=30); on is_changing(ticks.iloc[-1], 'datetime'): "
        "ticks.to_numpy('last_price'), numpy mean of the last 10/30; limit at ask/bid"
    ),
    ("ticks", "ours", "lean"): (
        "get_tick_serial(data_length=2); new tick when ticks.last_id changes: "
        "quote.last_price (the tick) → pure-Python moving sums; limit at ask/bid"
    ),
    ("ticks", "vnpy", "idiomatic"): (
        "BacktestingMode.TICK, on_tick: 30-price numpy array shifted per tick (ArrayManager's "
        "way), numpy mean of the last 10/30; limit at tick ask/bid, re-sent until filled"
    ),
    ("ticks", "vnpy", "lean"): (
        "BacktestingMode.TICK, on_tick: tick.last_price → pure-Python moving sums; limit at "
        "tick ask/bid, re-sent until filled"
    ),
    ("bars", "ours", "empty"): "get_kline_serial(60, data_length=2); loop on wait_update()",
    ("bars", "vnpy", "empty"): "CtaTemplate.on_bar does nothing",
    ("bars", "backtesting", "empty"): "Strategy.next does nothing",
    ("ticks", "ours", "empty"): "get_tick_serial(data_length=2); loop on wait_update()",
    ("ticks", "vnpy", "empty"): "CtaTemplate.on_tick does nothing",
}


FILLS_NOTE: Final = {
    "bars": (
        "fills: every engine fills each order on the next step/bar, so fills = 2 × signals − 1 "
        "(a reversal closes one lot and opens one). Ours buys at the synthesized ask (open + "
        "one tick; the open is the previous close) and sells at the bid, vnpy fills its "
        "close-price limit at the next open (= that close), backtesting.py's market order at "
        "the next open: ours' gross P&L is 0.2 × fills points below vnpy's."
    ),
    "ticks": (
        "fills: ours fills at once (the order reaches the broker at the same tick, at its own "
        "ask/bid), so fills = 2 × signals − 1; vnpy's limit at the tick's ask/bid fills on a "
        "later tick only when the market reaches it, and an order overtaken by the next signal "
        "is cancelled unfilled, so vnpy has slightly fewer fills and other prices."
    ),
}


@dataclass
class Summary:
    """All runs of one (engine, mode, variant)."""

    engine: str
    mode: str
    variant: str
    by_repeat: dict[int, Measurement] = field(default_factory=dict)
    """Each run by the repeat (0-based) it was made in; a failed run is missing."""

    @property
    def runs(self) -> list[Measurement]:
        """The runs in the order they were made."""
        return list(self.by_repeat.values())

    @property
    def best(self) -> Measurement:
        """The run with the highest throughput."""
        return max(self.runs, key=lambda run: run.throughput)

    @property
    def median_throughput(self) -> float:
        return statistics.median(run.throughput for run in self.runs)

    @property
    def peak_rss_mb(self) -> float:
        """The highest peak RSS of all runs (they differ by a few MB at most)."""
        return max(run.peak_rss_mb for run in self.runs)

    def to_json(self) -> dict[str, Any]:
        best = self.best
        return {
            "engine": self.engine, "mode": self.mode, "variant": self.variant,
            "count": best.count, "best_throughput": best.throughput,
            "median_throughput": self.median_throughput,
            "min_run_s": best.run_s, "median_run_s": statistics.median(r.run_s for r in self.runs),
            "load_s": best.load_s, "post_s": best.post_s, "peak_rss_mb": self.peak_rss_mb,
            "signals": best.signals, "fills": best.fills,
            "runs": [
                asdict(run) | {"throughput": run.throughput, "repeat": repeat}
                for repeat, run in self.by_repeat.items()
            ],
        }  # fmt: skip


def schedule(keys: Sequence[tuple[str, str]], repeat: int) -> list[tuple[str, str]]:
    """The order of repeat ``repeat``'s runs of ``keys`` ((engine, variant) pairs).

    Each variant's engines run back to back, so a paired ratio compares runs seconds apart;
    their order rotates by one each repeat, so no engine always runs first (right after
    another variant's runs, or after data generation).

    >>> schedule([("ours", "lean"), ("vnpy", "lean"), ("ours", "empty")], 1)
    [('vnpy', 'lean'), ('ours', 'lean'), ('ours', 'empty')]
    """
    order: list[tuple[str, str]] = []
    for variant in dict.fromkeys(variant for _, variant in keys):
        engines = [engine for engine, v in keys if v == variant]
        shift = repeat % len(engines)
        order += [(engine, variant) for engine in engines[shift:] + engines[:shift]]
    return order


def paired_ratios(mine: Summary, theirs: Summary) -> list[float]:
    """Throughput ratios mine ÷ theirs of the runs made in the same repeat (back to back).

    A repeat in which either run failed has no pair.
    """
    return [
        run.throughput / theirs.by_repeat[repeat].throughput
        for repeat, run in mine.by_repeat.items()
        if repeat in theirs.by_repeat
    ]


def describe_pairs(ratios: Sequence[float]) -> str:
    """``"median 0.64× of 3 pairs (0.61–0.70×)"``; one pair has no range."""
    if len(ratios) == 1:
        return f"{ratios[0]:.2f}× (1 pair)"
    return (
        f"median {statistics.median(ratios):.2f}× of {len(ratios)} pairs "
        f"({min(ratios):.2f}–{max(ratios):.2f}×)"
    )


# --- data -----------------------------------------------------------------------------------


def generator_digest() -> str:
    """A short hash of generate.py: cached data is regenerated when the generator changes."""
    source = (Path(__file__).resolve().parent / "generate.py").read_bytes()
    return hashlib.sha256(source).hexdigest()[:10]


def ensure_store(mode: str, count: int) -> Path:
    """The cached store of ``count`` bars or ticks, generated (atomically) if missing."""
    root = CACHE / f"{mode}-{count}-seed{SEED}-{generator_digest()}"
    if (root / ".complete").exists():
        return root
    CACHE.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    print(f"generating {count:,} {mode} into {root} ...", flush=True)
    building = Path(tempfile.mkdtemp(prefix=f".{root.name}.", dir=CACHE))
    try:
        if mode == "bars":
            write_store(building, bars=count, seed=SEED)
        else:
            write_store(building, ticks=count, seed=SEED)
        (building / ".complete").write_text("ok\n", encoding="utf-8")
        if root.exists():
            shutil.rmtree(root)
        building.rename(root)
    finally:
        if building.exists():
            shutil.rmtree(building)
    print(f"generated in {time.perf_counter() - started:.1f} s", flush=True)
    return root


# --- children -------------------------------------------------------------------------------


class ChildError(RuntimeError):
    """A benchmark subprocess exited with an error."""


def run_child(
    engine: str,
    mode: str,
    variant: str,
    store: Path,
    count: int,
    timeout_s: float,
    profile: Path | None,
) -> Measurement:
    """Run one workload in a fresh interpreter and read back its measurement."""
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        out = Path(scratch) / "result.json"
        command = [
            sys.executable, "-m", "benchmarks.workloads", "--engine", engine, "--mode", mode,
            "--variant", variant, "--store", str(store), "--count", str(count),
            "--out", str(out),
        ]  # fmt: skip
        if profile is not None:
            command += ["--profile", str(profile)]
        env = os.environ | CHILD_ENV
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s,
            check=False,
        )  # fmt: skip
        if done.returncode != 0 or not out.exists():
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
            raise ChildError(f"{engine} {mode} {variant} exited with {done.returncode}:\n{tail}")
        return Measurement(**json.loads(out.read_text(encoding="utf-8")))


def print_profile(path: Path, lines: int = 12) -> None:
    """The top functions of a child's profile by own time."""
    import pstats

    print(f"    profile {path.name} (top {lines} by own time):")
    stats = pstats.Stats(str(path))
    stats.sort_stats("tottime")
    rows = []
    for (filename, line, name), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((own, cumulative, calls, f"{Path(filename).name}:{line}({name})"))
    for own, cumulative, calls, where in sorted(rows, reverse=True)[:lines]:
        print(f"      {own:7.2f}s own {cumulative:7.2f}s cum {calls:>9} calls  {where}")


# --- output ---------------------------------------------------------------------------------


def _fmt_int(value: float) -> str:
    return f"{value:,.0f}"


def print_table(
    mode: str, summaries: list[Summary], costs: dict[str, float], toys: dict[str, float]
) -> list[str]:
    """Print one mode's table; return its target lines."""
    unit = UNIT[mode]
    header = (
        "engine", "variant", f"{unit}s/s", f"µs/{unit}", f"median {unit}s/s", "load s", "run s",
        "post s", "total s", "peak RSS MB", "signals", "fills", "ours÷peer speed",
        "paired (median)", "ours÷peer RSS",
    )  # fmt: skip
    ours = {s.variant: s for s in summaries if s.engine == "ours"}
    rows: list[tuple[str, ...]] = []
    for variant in ALL_VARIANTS:
        for summary in summaries:
            if summary.variant != variant:
                continue
            best = summary.best
            mine = ours.get(variant)
            speed = paired = rss = "—"
            if summary.engine != "ours" and mine is not None:
                speed = f"{mine.best.throughput / best.throughput:.2f}×"
                pairs = paired_ratios(mine, summary)
                paired = f"{statistics.median(pairs):.2f}×" if pairs else "—"
                rss = f"{mine.peak_rss_mb / summary.peak_rss_mb:.2f}×"
            rows.append((
                summary.engine, variant, _fmt_int(best.throughput),
                f"{best.run_s / best.count * 1e6:.2f}", _fmt_int(summary.median_throughput),
                f"{best.load_s:.2f}", f"{best.run_s:.2f}", f"{best.post_s:.2f}",
                f"{best.load_s + best.run_s + best.post_s:.2f}", f"{summary.peak_rss_mb:.0f}",
                str(best.signals), str(best.fills), speed, paired, rss,
            ))  # fmt: skip
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    left = {0, 1}
    for row in (header, *rows):
        cells = [
            cell.ljust(widths[i]) if i in left else cell.rjust(widths[i])
            for i, cell in enumerate(row)
        ]
        print("  " + "  ".join(cells))
    return _targets(mode, summaries, costs, toys)


def _targets(
    mode: str, summaries: list[Summary], costs: dict[str, float], toys: dict[str, float]
) -> list[str]:
    """The issue's targets: ≥ 2× vnpy's throughput, peak RSS below vnpy's.

    Two bounds per variant, measured in this run: ``costs`` (µs per bar/tick of the
    variant's signal code alone, :func:`signal_cost_us`) give the ratio a zero-cost engine
    would reach against vnpy; ``toys`` (µs of :mod:`benchmarks.floor`'s toy engine, which only
    steps) the ratio an engine written in Python with tqsdk's stepping could reach at best.
    """
    unit = UNIT[mode]
    found = {(s.engine, s.variant): s for s in summaries}
    lines = []
    for variant in ALL_VARIANTS:
        mine, theirs = found.get(("ours", variant)), found.get(("vnpy", variant))
        if mine is None or theirs is None:
            continue
        best_ratio = mine.best.throughput / theirs.best.throughput
        pairs = paired_ratios(mine, theirs)
        # the verdict goes by the pairs (runs seconds apart), not by two independent bests
        speed = statistics.median(pairs) if pairs else best_ratio
        measured = f"best vs best {best_ratio:.2f}×"
        if pairs:
            measured = f"{describe_pairs(pairs)}, {measured}"
        total_mine = mine.best.load_s + mine.best.run_s + mine.best.post_s
        total_theirs = theirs.best.load_s + theirs.best.run_s + theirs.best.post_s
        if variant == "empty":
            lines.append(
                f"{mode} empty (floor, no strategy): throughput ours/vnpy {measured}; peak RSS "
                f"{mine.peak_rss_mb:.0f} vs {theirs.peak_rss_mb:.0f} MB"
            )
        else:
            lines.append(
                f"{mode} {variant}: throughput ours/vnpy {measured} (target ≥ 2×: "
                f"{'met' if speed >= 2 else 'NOT met'}); end-to-end time vnpy/ours "
                f"{total_theirs / total_mine:.2f}×; peak RSS {mine.peak_rss_mb:.0f} vs "
                f"{theirs.peak_rss_mb:.0f} MB (target below vnpy: "
                f"{'met' if mine.peak_rss_mb < theirs.peak_rss_mb else 'NOT met'})"
            )
        peer_us = 1e6 / theirs.best.throughput
        toy = toys.get(variant, 0.0)
        if toy > 0:
            lines.append(
                f"  bound: a toy engine that only steps (no broker, sessions, days, limits or "
                f"change tracking; benchmarks/floor.py) takes {toy:.2f} µs/{unit} on this "
                f"variant: at most {peer_us / toy:.2f}× vnpy for any Python engine like ours"
            )
        cost = costs.get(variant, 0.0)
        if cost > 0:
            lines.append(
                f"  ceiling: the strategy's own signal code takes {cost:.2f} µs/{unit} with no "
                f"engine at all, so even a zero-cost engine would reach only "
                f"{peer_us / cost:.2f}× vnpy's {peer_us:.2f} µs/{unit} here"
            )
    return lines


def print_memory(summaries: list[Summary]) -> None:
    """RSS by phase of each engine's best run: where its peak comes from."""
    print("  memory (MB): peak after imports → RSS at run start → at run end → peak (VmHWM)")
    for summary in summaries:
        best = summary.best
        print(
            f"    {summary.engine:<11} {summary.variant:<9} {best.base_rss_mb:6.0f} → "
            f"{best.rss_loaded_mb:6.0f} → {best.rss_ran_mb:6.0f} → {summary.peak_rss_mb:6.0f}"
        )


def engine_versions(summaries: list[Summary]) -> dict[str, list[str]]:
    """Our runs by the engine source hash they ran (more than one: the engine changed)."""
    versions: dict[str, list[str]] = {}
    for summary in summaries:
        for number, run in enumerate(summary.runs, 1):
            if run.engine_digest:
                versions.setdefault(run.engine_digest, []).append(f"{run.variant}#{number}")
    return versions


def check_consistency(summaries: list[Summary]) -> list[str]:
    """Problems: differing signal counts, or a final position not at its target."""
    problems = []
    trading = [s for s in summaries if s.variant != "empty"]  # empty makes no signals
    counts = {run.signals for s in trading for run in s.runs}
    if len(counts) > 1:
        detail = ", ".join(f"{s.engine}/{s.variant}={s.best.signals}" for s in trading)
        problems.append(f"signal counts differ: {detail}")
    for summary in summaries:
        for run in summary.runs:
            if run.final_pos != run.final_target:
                problems.append(
                    f"{run.engine}/{run.variant}: final position {run.final_pos} is not the "
                    f"target {run.final_target}"
                )
    return problems


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in ("backtest", "numpy", "pyarrow", "pandas", "vnpy", "vnpy_ctastrategy",
                    "TA-Lib", "backtesting"):  # fmt: skip
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return {
        "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
        "platform": platform.platform(), "versions": versions, "git_head": git_head(),
        "engine_digest": engine_digest(),
    }  # fmt: skip


def git_head() -> str:
    """The repository's HEAD commit (read-only), or "" outside a checkout."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
            timeout=10, check=False,
        )  # fmt: skip
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def load_average() -> str:
    """The 1/5/15-minute load averages (other work on the machine skews timings)."""
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


def available(engine: str) -> bool:
    """True if the engine's packages are importable."""
    return all(importlib.util.find_spec(name) is not None for name in PEER_MODULES.get(engine, ()))


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Throughput and peak RSS of our engine vs vnpy and backtesting.py."
    )
    parser.add_argument("--bars", type=int, default=DEFAULT_COUNT, help="bars (0: skip bars)")
    parser.add_argument("--ticks", type=int, default=DEFAULT_COUNT, help="ticks (0: skip ticks)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per engine (default 3); best is kept"
    )
    parser.add_argument(
        "--only", default=",".join(ENGINES), help="comma-separated engines (ours,vnpy,backtesting)"
    )
    parser.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help="comma-separated: idiomatic,lean (default) and empty (no strategy: the floor)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per child run")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile each child and print its top functions"
    )
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    args.variants = [name.strip() for name in args.variants.split(",") if name.strip()]
    unknown = sorted(set(args.only) - set(ENGINES)) + sorted(set(args.variants) - set(ALL_VARIANTS))
    if unknown:
        parser.error(f"unknown engine or variant: {', '.join(unknown)}")
    if args.repeat < 1 or args.bars < 0 or args.ticks < 0:
        parser.error("--repeat must be ≥ 1 and --bars/--ticks ≥ 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    engines = []
    for engine in args.only:
        if available(engine):
            engines.append(engine)
        else:
            missing = [m for m in PEER_MODULES[engine] if importlib.util.find_spec(m) is None]
            print(
                f"skipping {engine}: {', '.join(missing)} not installed; install the bench "
                f"extra with `pip install -e '.[bench]'` (or `make bench`)"
            )
    info = machine()
    print(
        f"machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}; "
        + ", ".join(f"{name} {version}" for name, version in info["versions"].items())
    )
    print(
        f"ours: git HEAD {info['git_head'] or '?'}, backtest/*.py sha256 {info['engine_digest']}; "
        f"load average {load_average()} (1/5/15 min)"
    )
    print(
        f"each run is a fresh subprocess with {' '.join(f'{k}={v}' for k, v in CHILD_ENV.items())}"
        f"; repeat {args.repeat}× (best throughput kept, median shown; each variant's engines "
        f"back to back, their order rotating per repeat; ratios also per back-to-back pair)"
    )
    print(
        f"signal: fast SMA {FAST} vs slow SMA {SLOW} of closes (ticks: last prices); target +1 "
        f"lot when fast > slow, −1 when below, kept on a tie (|Δ| < tick/120); a 'signal' is a "
        f"target change"
    )
    print(
        "phases: load = ours: Backtest() → first bar/tick delivered to the strategy (store, "
        "calendar, subscription, first Parquet batch; later batches stream during run); peers: "
        "pyarrow read of the same files + building BarData/TickData/DataFrame + engine setup. "
        "run = event loop, first to last bar/tick (throughput = N / run). post = building results "
        "(ours: settlement + result frames + stats; vnpy: calculate_result + "
        "calculate_statistics; backtesting.py: its stats after the loop)."
    )
    results: dict[str, Any] = {
        "machine": info,
        "settings": vars(args) | {"json": None},
        "modes": {},
    }
    failures = 0
    costs = {variant: signal_cost_us(variant) for variant in args.variants}  # same in both modes
    for mode, count in (("bars", args.bars), ("ticks", args.ticks)):
        if count == 0:
            continue
        store = ensure_store(mode, count)
        first, last = calendar_span(Store(store), 60 if mode == "bars" else 0)
        what = "one-minute bars" if mode == "bars" else "ticks (every 0.5 s)"
        print(f"\n=== {mode}: {count:,} {what} of {SYMBOL}, {first} … {last}, seed {SEED} ===")
        summaries: dict[tuple[str, str], Summary] = {}
        for engine in engines:
            if engine == "backtesting" and mode == "ticks":
                print("  backtesting.py: skipped, it has no tick mode (bars only)")
                continue
            for variant in args.variants:
                print(f"  {engine:<11} {variant:<9} {DESCRIPTIONS[mode, engine, variant]}")
                summaries[engine, variant] = Summary(engine, mode, variant)
        for repeat in range(args.repeat):
            for engine, variant in schedule(list(summaries), repeat):
                summary = summaries[engine, variant]
                profile = None
                if args.profile:
                    profile = CACHE / f"{engine}-{mode}-{variant}-{repeat}.prof"
                try:
                    run = run_child(engine, mode, variant, store, count, args.timeout, profile)
                except (ChildError, subprocess.TimeoutExpired) as exc:
                    failures += 1
                    print(f"  FAILED: {exc}", file=sys.stderr)
                    continue
                summary.by_repeat[repeat] = run
                print(
                    f"  run {repeat + 1}/{args.repeat} {engine:<11} {variant:<9} "
                    f"{run.throughput:>12,.0f} {mode}/s  run {run.run_s:6.2f} s  "
                    f"load {run.load_s:5.2f} s  peak RSS {run.peak_rss_mb:6.0f} MB",
                    flush=True,
                )
                if profile is not None:
                    print_profile(profile)
        done = [s for s in summaries.values() if s.runs]
        if not done:
            continue
        print(f"  load average after the {mode} runs: {load_average()}")
        print(f"\n  {mode}: N = {count:,}; best of {args.repeat}; ratios compare the same variant")
        toys = {variant: toy_us(mode, variant) for variant in args.variants}
        targets = print_table(mode, done, costs, toys)
        print()
        print_memory(done)
        versions = engine_versions(done)
        if len(versions) > 1:
            print(f"  WARNING: our runs used different engine sources: {versions}")
        problems = check_consistency(done)
        signals = sorted({run.signals for s in done if s.variant != "empty" for run in s.runs})
        print()
        if problems:
            for problem in problems:
                print(f"  CHECK FAILED: {problem}")
        elif signals:
            print(
                f"  check: every engine and variant made the same {signals[0]} signal changes "
                f"and ended at its target position"
            )
        if signals:
            print(f"  {FILLS_NOTE[mode]}")
            points = ", ".join(
                f"{x.engine}/{x.variant} {x.best.gross_points:,.1f}"
                for x in done
                if x.variant != "empty"
            )
            print(f"  gross P&L, points per lot (fills + the open lot at the end): {points}")
        for line in targets:
            print(f"  {line}")
        results["modes"][mode] = {
            "count": count, "store": str(store), "first_day": str(first), "last_day": str(last),
            "engines": [s.to_json() for s in done], "targets": targets, "problems": problems,
            "signal_cost_us": costs, "toy_engine_us": toys,
            "engine_versions": versions,
        }  # fmt: skip
    if engine_digest() != info["engine_digest"]:
        print("\nWARNING: backtest/*.py changed during the benchmark; runs may mix engine versions")
        results["engine_changed_during_run"] = True
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
