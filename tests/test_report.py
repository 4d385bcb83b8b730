"""The HTML report, the plotly figures and the notebook summary.

The browser tests open report.html in a real headless Chromium (Debian's /usr/bin/chromium
driven by /usr/bin/chromedriver) with the network unused: every figure must be drawn with data,
with nothing in the console, and the tables must hold the result's numbers. They are skipped,
saying why, where Chromium is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import dataclasses
import re
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]
import pytest

from backtest import BacktestResult
from backtest.report import report_html, summary_html, write_report
from backtest.result import error_headline, format_stat
from backtest.store import Store
from tests.test_golden import run_demo

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
TRACEBACK = """Traceback (most recent call last):
  File "strategy.py", line 12, in strategy
    raise ValueError("均线数据不足: need 30 bars")
ValueError: 均线数据不足: need 30 bars"""


@pytest.fixture(scope="module")
def double_ma() -> BacktestResult:
    """The `make demo` run: IF2003 1-minute bars, 711 fills."""
    return run_demo("double_ma")


@pytest.fixture(scope="module")
def monthly_momentum() -> BacktestResult:
    """Seven A-shares on daily bars, 2005 to 2011."""
    return run_demo("monthly_momentum")


def incomplete(result: BacktestResult) -> BacktestResult:
    return dataclasses.replace(result, complete=False, error=TRACEBACK)


# --- the HTML file -------------------------------------------------------------------------


def test_the_same_result_writes_a_byte_identical_report(
    double_ma: BacktestResult, tmp_path: Path
) -> None:
    first = write_report(double_ma, tmp_path / "a.html").read_bytes()
    second = write_report(double_ma, tmp_path / "b.html").read_bytes()

    assert first == second


def test_a_result_read_back_from_its_run_directory_gives_the_same_report(
    double_ma: BacktestResult, tmp_path: Path
) -> None:
    directory = double_ma.save(tmp_path / "run", qifi=False)

    again = write_report(BacktestResult.load(directory), tmp_path / "again.html")

    assert again.read_bytes() == (directory / "report.html").read_bytes()


def test_the_report_is_self_contained_with_one_copy_of_plotly(double_ma: BacktestResult) -> None:
    text = report_html(double_ma)

    assert '<meta charset="utf-8">' in text
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=", text)
    assert text.count("* plotly.js v") == 1
    assert len(text.encode()) < 5_500_000  # plotly.js is 4.8 MB; the rest is thinned data


def test_the_report_holds_the_statistics_and_every_trade(double_ma: BacktestResult) -> None:
    text = report_html(double_ma)

    for name in ("ror", "final_balance", "max_drawdown", "sharpe_ratio"):
        value = format_stat(name, double_ma.stats[name])
        assert re.search(rf'<tr data-stat="{name}">.*<td class="num">{re.escape(value)}</td>', text)
    assert '<p id="trade-count">711 trades.</p>' in text
    assert text.count("<tr><td>T0") == len(double_ma.trades) == 711
    assert '<p id="order-counts">711 orders: 711 filled.</p>' in text
    assert 'id="incomplete"' not in text


def test_an_incomplete_result_shows_the_banner_and_the_traceback(
    double_ma: BacktestResult,
) -> None:
    text = report_html(incomplete(double_ma))

    assert (
        '<div class="banner" id="incomplete" role="alert">INCOMPLETE: ValueError: '
        "均线数据不足: need 30 bars</div>"
    ) in text
    assert "<pre>Traceback (most recent call last):" in text


def test_a_missing_store_gives_a_note_instead_of_the_price_chart(
    double_ma: BacktestResult, tmp_path: Path
) -> None:
    gone = dataclasses.replace(double_ma, config={**double_ma.config, "data": str(tmp_path)})

    text = report_html(gone)

    assert f"No price chart of IF2003.IF: {tmp_path} is not a data store (no store.json)" in text
    assert 'id="price-0"' not in text
    assert 'id="equity"' in text


def test_a_store_without_the_symbol_gives_a_note(
    double_ma: BacktestResult, empty_store: Store
) -> None:
    other = dataclasses.replace(
        double_ma, config={**double_ma.config, "data": str(empty_store.root)}
    )

    text = report_html(other)

    assert f"data store {empty_store.root} holds no klines or ticks of IF2003.IF" in text


def test_the_stock_report_charts_each_traded_symbol_and_its_stamp_duty(
    monthly_momentum: BacktestResult,
) -> None:
    text = report_html(monthly_momentum)

    assert [f"price-{i}" for i in range(7)] == re.findall(r'<div id="(price-\d+)"', text)
    assert "<th>stamp_duty</th>" in text
    assert text.count("<tr><td>T0") == len(monthly_momentum.trades) == 291
    assert "291 filled, 30 rejected" in text


def test_error_headline_is_the_exception_line_of_a_traceback() -> None:
    assert error_headline(TRACEBACK) == "ValueError: 均线数据不足: need 30 bars"
    assert error_headline("interrupted at simulated time 2020-01-03 10:00:00") == (
        "interrupted at simulated time 2020-01-03 10:00:00"
    )
    assert error_headline(None) == "unknown error"


# --- figures and the notebook view -----------------------------------------------------------


def test_plot_shows_equity_and_drawdown(double_ma: BacktestResult) -> None:
    figure = double_ma.plot()

    assert isinstance(figure, go.Figure)
    assert [trace.name for trace in figure.data] == ["equity 权益", "drawdown 回撤 %"]
    assert len(figure.data[0].y) == double_ma.stats["trading_days"] == 36
    assert min(figure.data[1].y) == pytest.approx(-100 * double_ma.stats["max_drawdown"])


def test_plot_of_a_symbol_shows_its_prices_with_buys_and_sells(double_ma: BacktestResult) -> None:
    figure = double_ma.plot("IF2003.IF")

    close, buys, sells = figure.data
    assert close.name == "close (5m bars)" and 1000 < len(close.y) <= 3000
    assert (len(buys.x), len(sells.x)) == (
        int((double_ma.trades["direction"] == "BUY").sum()),
        int((double_ma.trades["direction"] == "SELL").sum()),
    )
    assert len(buys.x) + len(sells.x) == 711


def test_a_run_with_only_buys_saves_its_report(tmp_path: Path) -> None:
    from datetime import date

    from backtest import Api, Backtest

    async def buy_and_hold(api: Api) -> None:
        api.get_quote("IF2003.IF")
        await api.wait_update()
        while api.now.hour != 10:
            await api.wait_update()
        api.insert_order("IF2003.IF", "BUY", "OPEN", 1)
        while True:
            await api.wait_update()

    result = Backtest(buy_and_hold, date(2020, 1, 2), date(2020, 1, 3), progress=False).run()
    figure = result.plot("IF2003.IF")
    _, buys, sells = figure.data
    assert (len(buys.x), len(sells.x)) == (1, 0)
    path = result.save(tmp_path / "run", qifi=False)
    assert "IF2003.IF" in (path / "report.html").read_text(encoding="utf-8")


def test_repr_html_is_a_compact_summary_without_javascript(double_ma: BacktestResult) -> None:
    text = double_ma._repr_html_()

    assert "<script" not in text and len(text) < 20_000
    assert "711 orders · 711 trades · 36 trading days" in text
    assert format_stat("max_drawdown", double_ma.stats["max_drawdown"]) == "29.07%"
    assert ">29.07%<" in text and ">738,586.95<" in text
    assert re.search(r"<svg [^>]*><line [^>]*/><polyline [^>]*points=\"[0-9., ]+\"/></svg>", text)
    assert "INCOMPLETE" not in text
    assert "INCOMPLETE: ValueError: 均线数据不足" in summary_html(incomplete(double_ma))


# --- in a real browser ---------------------------------------------------------------------

FIGURES_JS = """
return Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => ({
    id: gd.id,
    traces: gd.data.length,
    points: gd._fullData.map(t => t._length || (t.z ? t.z.length : 0)),
}));
"""
"""Each drawn figure: its id, its number of traces and the points of each trace as plotly
counted them (``_length``; rows of ``z`` for a heatmap), typed arrays decoded."""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium, its console log kept; skipped where it is not installed."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.skip(
            f"headless browser tests need Debian's chromium at {CHROMIUM} and {CHROMEDRIVER} "
            f"(apt-get install chromium chromium-driver); missing: {', '.join(missing)}"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--window-size=1280,1600",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


DRAWN_JS = """
return [document.readyState,
        document.querySelectorAll('.plotly-graph-div').length,
        document.querySelectorAll('.js-plotly-plot').length,
        document.querySelectorAll('.js-plotly-plot .main-svg').length];
"""
"""Page state, graph divs, divs plotly has drawn, and their SVG layers."""


def open_report(driver: Any, path: Path, timeout_s: float = 20.0) -> list[dict[str, Any]]:
    """Load the report, wait until plotly drew every figure, and return them (id, traces,
    points per trace). Fails on any SEVERE console message."""
    driver.get(path.as_uri())
    deadline = time.monotonic() + timeout_s
    while True:
        state, divs, drawn, layers = driver.execute_script(DRAWN_JS)
        if state == "complete" and divs == drawn and layers >= drawn > 0:
            break
        if time.monotonic() > deadline:
            logs = driver.get_log("browser")
            pytest.fail(f"plotly drew {drawn} of {divs} figures in {timeout_s} s ({state}): {logs}")
        time.sleep(0.05)  # a real browser: polling is the only way to wait for it
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []
    figures: list[dict[str, Any]] = driver.execute_script(FIGURES_JS)
    assert len(figures) == divs
    return figures


def cell(driver: Any, css: str) -> str:
    from selenium.webdriver.common.by import By

    text: str = driver.find_element(By.CSS_SELECTOR, css).text
    return text


def png_size(path: Path) -> tuple[int, int, int]:
    """Width, height and the number of distinct byte values of the decoded image data."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        if kind == b"IDAT":
            chunks.append(data[offset + 8 : offset + 8 + length])
        offset += 12 + length
    return width, height, len(set(zlib.decompress(b"".join(chunks))))


def test_double_ma_report_draws_every_figure_in_chromium(
    double_ma: BacktestResult, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    directory = double_ma.save(tmp_path / "run", qifi=False)

    figures = open_report(browser, directory / "report.html")

    assert [f["id"] for f in figures] == ["equity", "daily-returns", "monthly-returns", "price-0"]
    for figure in figures:
        assert figure["traces"] > 0 and all(points > 0 for points in figure["points"]), figure
    assert figures[3]["points"][1] + figures[3]["points"][2] == 711  # buys + sells
    for name in ("ror", "final_balance", "max_drawdown"):
        assert cell(browser, f'tr[data-stat="{name}"] td') == format_stat(
            name, double_ma.stats[name]
        )
    assert cell(browser, 'tr[data-stat="final_balance"] td') == "738,586.95"
    rows = browser.find_elements(By.CSS_SELECTOR, "#trades tbody tr")
    assert len(rows) == len(double_ma.trades) == 711
    assert rows[0].find_elements(By.TAG_NAME, "td")[2].text == "2020-01-02 09:30:00"
    assert browser.find_elements(By.ID, "incomplete") == []
    screenshot = tmp_path / "report.png"
    assert browser.save_screenshot(str(screenshot))
    width, height, shades = png_size(screenshot)
    assert width >= 1000 and height >= 1000 and shades > 50
    assert screenshot.stat().st_size > 30_000


def test_stock_report_draws_a_price_chart_per_symbol_in_chromium(
    monthly_momentum: BacktestResult, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    path = write_report(monthly_momentum, tmp_path / "report.html")

    figures = open_report(browser, path)

    assert len(figures) == 3 + 7
    for figure in figures:
        assert all(points > 0 for points in figure["points"]), figure
    assert cell(browser, 'tr[data-stat="stamp_duty"] td') == "129,221.00"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#trades tbody tr")) == 291
    assert len(browser.find_elements(By.CSS_SELECTOR, "#unfilled-orders tbody tr")) == 30
    browser.save_screenshot(str(tmp_path / "report.png"))


def test_incomplete_report_shows_a_visible_banner_in_chromium(
    double_ma: BacktestResult, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    path = write_report(incomplete(double_ma), tmp_path / "report.html")

    open_report(browser, path)

    banner = browser.find_element(By.ID, "incomplete")
    assert banner.is_displayed()
    assert banner.text == "INCOMPLETE: ValueError: 均线数据不足: need 30 bars"
    assert banner.location["y"] < 300
