# The two commands a fresh clone needs: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: demo test lint typecheck unit bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[dev]'
	touch $(VENV)/.installed $@

$(VENV)/.bench-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[dev,bench]'
	touch $(VENV)/.installed $(VENV)/.dev-installed $@

demo: $(VENV)/.installed
	$(PY) strategies/double_ma.py

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check backtest tests strategies benchmarks data notebooks
	$(VENV)/bin/ruff format --check backtest tests strategies benchmarks data notebooks

typecheck: $(VENV)/.dev-installed
	$(VENV)/bin/mypy

unit: $(VENV)/.dev-installed
	$(VENV)/bin/pytest

test: lint typecheck unit

bench: $(VENV)/.bench-installed
	$(PY) benchmarks/run.py
	$(PY) -m benchmarks.memory

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
