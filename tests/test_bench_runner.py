"""The benchmark runner's schedule and paired ratios (benchmarks/run.py), on made-up runs."""

from __future__ import annotations

import doctest

import benchmarks.run
from benchmarks.run import Summary, describe_pairs, paired_ratios, schedule
from benchmarks.workloads import Measurement

KEYS = [
    ("ours", "idiomatic"),
    ("ours", "lean"),
    ("vnpy", "idiomatic"),
    ("vnpy", "lean"),
    ("backtesting", "idiomatic"),
]


def test_schedule_runs_each_variants_engines_back_to_back_rotating_the_first() -> None:
    assert schedule(KEYS, 0) == [
        ("ours", "idiomatic"),
        ("vnpy", "idiomatic"),
        ("backtesting", "idiomatic"),
        ("ours", "lean"),
        ("vnpy", "lean"),
    ]
    assert schedule(KEYS, 1) == [
        ("vnpy", "idiomatic"),
        ("backtesting", "idiomatic"),
        ("ours", "idiomatic"),
        ("vnpy", "lean"),
        ("ours", "lean"),
    ]
    assert schedule(KEYS, 2)[:3] == [
        ("backtesting", "idiomatic"),
        ("ours", "idiomatic"),
        ("vnpy", "idiomatic"),
    ]
    assert schedule(KEYS, 3)[3:] == [("vnpy", "lean"), ("ours", "lean")]  # 2 engines: odd, even
    assert schedule(KEYS, 6) == schedule(KEYS, 0)


def summary(engine: str, runs: dict[int, float]) -> Summary:
    """Runs of 1,000 bars taking ``runs[repeat]`` seconds."""
    made = Summary(engine, "bars", "lean")
    for repeat, seconds in runs.items():
        made.by_repeat[repeat] = Measurement(engine, "bars", "lean", 1_000, run_s=seconds)
    return made


def test_paired_ratios_compare_runs_of_the_same_repeat_only() -> None:
    # repeat 1 of vnpy failed: ours' run 1 has no pair; repeat 3 ran only for vnpy
    ours = summary("ours", {0: 4.0, 1: 1.0, 2: 5.0})
    vnpy = summary("vnpy", {0: 2.0, 2: 4.0, 3: 1.0})

    assert paired_ratios(ours, vnpy) == [0.5, 0.8]
    assert paired_ratios(vnpy, ours) == [2.0, 1.25]
    # best vs best would say 1,000/1.0 ÷ 1,000/1.0 = 1.0×: two runs from different moments
    assert ours.best.throughput / vnpy.best.throughput == 1.0


def test_describe_pairs() -> None:
    assert describe_pairs([0.5, 0.8, 0.6]) == "median 0.60× of 3 pairs (0.50–0.80×)"
    assert describe_pairs([0.654]) == "0.65× (1 pair)"


def test_the_docstring_example_runs() -> None:
    failed, attempted = doctest.testmod(benchmarks.run)
    assert (failed, attempted) == (0, 1)
