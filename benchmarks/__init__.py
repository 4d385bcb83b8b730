"""Benchmarks of the engine against vnpy and backtesting.py (``make bench``); see run.py."""
