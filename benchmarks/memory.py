"""Memory benchmark: reading a tick serial of 10 million and 100 million ticks.

``make bench`` runs it after the throughput benchmark; alone::

    python -m benchmarks.memory [--counts 10000000,100000000] [--engine-count 10000000]

For each count, a store of that many generated ticks (:func:`benchmarks.generate.tick_chunks`,
one symbol, 28,800 ticks per trading day, cached in ``benchmarks/.cache/``) is read back in a
fresh interpreter through :func:`backtest.serial.tick_events`, the serial the engine merges:
every event is produced and consumed. The child samples its resident set size every million
ticks and reports its peak (``VmHWM``). Flat memory means the peak does not grow with the
count: the report gives the 100M/10M ratio of the peaks.

``--engine-count`` also runs the whole engine (a ``Backtest`` whose strategy subscribes the
tick serial with 200 rows of history and waits for updates to the end) over that many ticks,
to show the engine on top of the serial stays flat too. Peers: vnpy's ``BacktestingEngine``
holds every tick in memory (2.3 GB for 1 million ticks in the throughput benchmark, so about
23 GB for 10 million: more than this machine has); see ``benchmarks/run.py`` for the 1-million
comparison in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parent.parent
DEFAULT_COUNTS: Final = (10_000_000, 100_000_000)
SAMPLE_EVERY: Final = 1_000_000


def measure_serial(store_dir: Path) -> dict[str, Any]:
    """Iterate the whole tick serial; RSS samples (MiB) every million ticks and the peak."""
    from backtest.serial import tick_events
    from backtest.store import Store
    from benchmarks.generate import SYMBOL
    from benchmarks.workloads import current_rss_mb, peak_rss_mb

    store = Store(store_dir)
    samples: list[float] = [round(current_rss_mb(), 1)]
    count = 0
    last_ts = 0
    started = time.perf_counter()

    async def consume() -> None:
        nonlocal count, last_ts
        serial = tick_events(store, SYMBOL, -(2**62), 2**62)
        next_sample = SAMPLE_EVERY
        async for events in serial:
            for ts, _kind, _row in events:
                last_ts = ts
                count += 1
            if count >= next_sample:
                samples.append(round(current_rss_mb(), 1))
                next_sample += SAMPLE_EVERY

    asyncio.run(consume())
    return {
        "what": "serial",
        "events": count,
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_samples_mb": samples,
        "last_ts": last_ts,
    }


def measure_engine(store_dir: Path) -> dict[str, Any]:
    """A whole backtest over every tick: the strategy only waits for updates."""
    from backtest import Backtest
    from backtest.api import Api
    from backtest.model import TICK
    from backtest.store import Store
    from benchmarks.generate import SYMBOL, calendar_span
    from benchmarks.workloads import current_rss_mb, peak_rss_mb

    store = Store(store_dir)
    start, end = calendar_span(store, TICK)
    samples: list[float] = []
    updates = 0

    async def strategy(api: Api) -> None:
        nonlocal updates
        api.get_tick_serial(SYMBOL, data_length=200)
        while True:
            await api.wait_update()  # raises BacktestFinished at the end of the data
            updates += 1
            if updates % SAMPLE_EVERY == 0:
                samples.append(round(current_rss_mb(), 1))

    started = time.perf_counter()
    Backtest(strategy, start=start, end=end, data=store_dir, init_balance=1_000_000).run()
    return {
        "what": "engine",
        "events": updates,
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_samples_mb": samples,
    }


def run_child(what: str, store_dir: Path) -> dict[str, Any]:
    """One measurement in a fresh interpreter (its peak RSS is its own)."""
    from benchmarks.run import CHILD_ENV

    env = os.environ | CHILD_ENV
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", "--child", what, str(store_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"memory child {what} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report(results: Sequence[dict[str, Any]]) -> list[str]:
    """Lines of the report: one per measurement, then the flatness ratio."""
    lines = [f"{'what':8} {'events':>13} {'seconds':>8} {'peak RSS':>10}  RSS every 1M ticks (MiB)"]
    for r in results:
        samples = r["rss_samples_mb"]
        shown = " ".join(f"{s:.0f}" for s in samples[:6])
        if len(samples) > 8:
            shown += f" … {' '.join(f'{s:.0f}' for s in samples[-2:])}"
        lines.append(
            f"{r['what']:8} {r['events']:>13,} {r['seconds']:>8.1f} "
            f"{r['peak_rss_mb']:>7.0f} MB  {shown}"
        )
    serials = sorted((r for r in results if r["what"] == "serial"), key=lambda r: r["events"])
    if len(serials) >= 2:
        small, large = serials[0], serials[-1]
        lines.append(
            f"peak RSS {large['events']:,} / {small['events']:,} ticks: "
            f"{large['peak_rss_mb'] / small['peak_rss_mb']:.2f}x for "
            f"{large['events'] / small['events']:.0f}x the ticks"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Generate (or reuse) the stores, measure each in a child, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--counts", default=",".join(str(c) for c in DEFAULT_COUNTS))
    parser.add_argument("--engine-count", type=int, default=DEFAULT_COUNTS[0])
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--child", nargs=2, metavar=("WHAT", "STORE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        what, store = args.child
        measure = measure_serial if what == "serial" else measure_engine
        print(json.dumps(measure(Path(store))))
        return 0

    from benchmarks.run import ensure_store

    results = []
    for count in (int(c) for c in args.counts.split(",")):
        results.append(run_child("serial", ensure_store("ticks", count)))
        print(report(results)[-1], flush=True)
    if args.engine_count:
        results.append(run_child("engine", ensure_store("ticks", args.engine_count)))
    lines = report(results)
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
