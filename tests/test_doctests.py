"""The examples in the package's docstrings run and print what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import backtest

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(backtest.__path__, prefix="backtest.")
    if not info.name.endswith(".__main__")  # importing it runs the command line
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    failed, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failed == 0, f"{name}: {failed} docstring example(s) failed (details above)"


def test_the_examples_are_found() -> None:
    counts = {
        name: len(doctest.DocTestFinder().find(importlib.import_module(name)))
        for name in ("backtest.grid", "backtest.ashare")
    }
    assert all(count > 0 for count in counts.values()), counts
