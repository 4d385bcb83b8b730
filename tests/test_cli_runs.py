"""``backtest run|check|show|diff|report`` through ``backtest.cli.main``: outputs and exit codes.

The runs use the double moving average example on one or two weeks of the sample data, so each
takes about a second. Exit codes: 0 ok/equal, 1 bad input or different, 2 strategy failure.
"""

from __future__ import annotations

import io
import json
import shutil
import textwrap
from pathlib import Path

import pytest

from backtest import BacktestResult
from backtest.cli import main
from backtest.golden import read_golden
from backtest.store import default_store_path

REPO = Path(__file__).resolve().parent.parent
DOUBLE_MA = REPO / "strategies" / "double_ma.py"
WEEK = ("--start", "2020-01-02", "--end", "2020-01-10")


def run(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main([str(a) for a in argv], stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def week_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One week of the demo, saved once for the read-only tests."""
    directory = tmp_path_factory.mktemp("runs") / "week"
    status, _, err = run("run", DOUBLE_MA, *WEEK, "--out", directory, "--quiet")
    assert status == 0, err
    return directory


@pytest.fixture(scope="module")
def fast5_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same week with ``fast=5``, saved once: a run that differs from :func:`week_run`."""
    directory = tmp_path_factory.mktemp("runs") / "fast5"
    status, _, err = run("run", DOUBLE_MA, *WEEK, "--param", "fast=5", "--out", directory,
                         "--quiet", "--no-report")  # fmt: skip
    assert status == 0, err
    return directory


def test_run_writes_the_run_directory_and_prints_the_stats(tmp_path: Path) -> None:
    status, out, err = run("run", DOUBLE_MA, *WEEK, "--out", tmp_path / "r", "--csv")
    assert (status, err) == (0, "")
    assert out.splitlines()[-1] == f"run directory: {tmp_path / 'r'}"
    assert any(line.startswith("ror ") for line in out.splitlines())
    names = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert names == [
        "daily.csv", "daily.parquet", "orders.csv", "orders.parquet", "positions.csv",
        "positions.parquet", "prices.parquet", "qifi", "report.html", "result.json",
        "round_trips.csv",
        "round_trips.parquet", "trades.csv", "trades.parquet",
    ]  # fmt: skip
    document = json.loads((tmp_path / "r" / "result.json").read_text())
    assert document["complete"] is True
    assert document["config"]["start"] == "2020-01-02"
    assert document["config"]["strategy"]["params"] == {}
    assert document["config"]["strategy"]["path"] == str(DOUBLE_MA)
    assert len(document["config_hash"]) == 64


def test_the_default_directory_is_named_by_the_config_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    status, _, _ = run("run", DOUBLE_MA, *WEEK, "--no-report", "--param", "fast=5")
    assert status == 0
    [directory] = (tmp_path / "runs").iterdir()
    document = json.loads((directory / "result.json").read_text())
    assert directory.name == f"double_ma-{document['config_hash'][:12]}"
    assert document["config"]["strategy"]["params"] == {"fast": 5}
    assert not (directory / "report.html").exists()


def test_run_json_prints_result_json(tmp_path: Path) -> None:
    status, out, _ = run("run", DOUBLE_MA, *WEEK, "--out", tmp_path / "r", "--json")
    assert status == 0
    assert out == (tmp_path / "r" / "result.json").read_text()


def test_a_toml_run_file_with_flags_overriding_it(tmp_path: Path) -> None:
    config = tmp_path / "run.toml"
    config.write_text(
        f'strategy = "{DOUBLE_MA}"\nstart = 2020-01-02\nend = 2020-01-31\n'
        "init_balance = 2_000_000\n[params]\nfast = 5\nslow = 20\n"
    )
    status, _, err = run("run", "--config", config, "--end", "2020-01-10", "--param", "slow=15",
                         "--out", tmp_path / "r", "--quiet")  # fmt: skip
    assert status == 0, err
    saved = BacktestResult.load(tmp_path / "r").config
    assert (saved["end"], saved["init_balance"]) == ("2020-01-10", 2_000_000.0)
    assert saved["strategy"]["params"] == {"fast": 5, "slow": 15}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("run", "nope.py"), "backtest: error: strategy file nope.py does not exist\n"),
        (("run", DOUBLE_MA, "--start", "2020-02-30"),
         "backtest: error: start must be a date (2020-01-02 or 20200102) or a time "
         "(2020-01-02T09:30), was '2020-02-30'\n"),
        (("run", DOUBLE_MA, "--param", "fsat=5"),
         f"backtest: error: {DOUBLE_MA}: the strategy has no parameter 'fsat' (did you mean "
         "'fast'?) (its parameters: symbol, fast, slow, volume)\n"),
        (("run", DOUBLE_MA, "--start", "2020-01-10", "--end", "2020-01-02"),
         "backtest: error: start 2020-01-10 is after end 2020-01-02\n"),
    ],
)  # fmt: skip
def test_bad_input_exits_1_naming_the_problem(argv: tuple[str | Path, ...], message: str) -> None:
    assert run(*argv) == (1, "", message)


def test_a_syntax_error_exits_2_with_a_traceback_into_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("async def strategy(api)\n    pass\n")
    status, out, err = run("run", path, *WEEK, "--out", tmp_path / "r")
    assert (status, out) == (2, "")
    assert f'File "{path}", line 1' in err
    assert err.rstrip().endswith("SyntaxError: expected ':'")
    assert not (tmp_path / "r").exists()


def test_data_missing_mid_run_exits_1_with_the_message_and_saves_the_partial_run(
    tmp_path: Path,
) -> None:
    path = tmp_path / "asks.py"
    path.write_text(
        textwrap.dedent(
            """\
            async def strategy(api):
                api.get_quote("IF2003.IF")
                while True:
                    await api.wait_update()
                    if api.now.day == 3:
                        api.get_quote("IF2006.IF")  # not in the store
            """
        )
    )
    status, _, err = run("run", path, *WEEK, "--out", tmp_path / "r", "--quiet")
    assert status == 1
    store = default_store_path()
    assert err.splitlines() == [
        f"backtest: error: data store {store} has no data for IF2006.IF; import it with "
        f"`backtest data import` or point data= at a store that has it",
        f"incomplete run saved in {tmp_path / 'r'}",
    ]
    assert not BacktestResult.load(tmp_path / "r").complete


def test_a_strategy_that_raises_exits_2_and_saves_the_partial_run(tmp_path: Path) -> None:
    path = tmp_path / "fails.py"
    path.write_text(
        textwrap.dedent(
            """\
            async def strategy(api):
                api.get_quote("IF2003.IF")
                while True:
                    await api.wait_update()
                    if api.now.day == 3:
                        raise ValueError("bad signal")
            """
        )
    )
    status, _, err = run("run", path, *WEEK, "--out", tmp_path / "r", "--quiet")
    assert status == 2
    assert f'File "{path}", line 6, in strategy' in err
    assert "ValueError: bad signal" in err
    assert err.rstrip().endswith(f"incomplete run saved in {tmp_path / 'r'}")
    saved = BacktestResult.load(tmp_path / "r")
    assert not saved.complete
    assert saved.error is not None and saved.error.endswith("ValueError: bad signal")
    assert saved.stats["trading_days"] == 2  # 01-02, and 01-03 settled when it failed
    status, out, _ = run("show", tmp_path / "r")
    assert status == 0 and "no: ValueError: bad signal" in out


def test_show_prints_the_summary(week_run: Path) -> None:
    status, out, _ = run("show", week_run)
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == f"run        {week_run}"
    assert lines[2] == "period     2020-01-02 … 2020-01-10"
    stats = json.loads(run("show", week_run, "--json")[1])
    assert stats == json.loads(BacktestResult.load(week_run).stats_json())


def test_report_rebuilds_report_html(week_run: Path) -> None:
    (week_run / "report.html").unlink()
    status, out, _ = run("report", week_run)
    assert (status, out) == (0, f"report written: {week_run / 'report.html'}\n")
    assert (week_run / "report.html").stat().st_size > 0


def test_report_into_a_place_it_cannot_write_says_so(week_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "week"
    shutil.copytree(week_run, copy)
    (copy / "report.html").unlink()
    (copy / "report.html").mkdir()  # what stands where the report goes
    status, out, err = run("report", copy)
    assert (status, out) == (1, "")
    assert err == (
        f"backtest: error: cannot write the report into {copy}: cannot write "
        f"{copy / 'report.html'} (Is a directory); fix the directory's permissions, or copy the "
        "run directory somewhere you can write to\n"
    )


def test_check_is_0_when_equal_1_with_the_differences(week_run: Path, tmp_path: Path) -> None:
    golden = tmp_path / "g.json"
    assert run("check", DOUBLE_MA, *WEEK, "--golden", golden, "--update")[0] == 0
    assert run("check", DOUBLE_MA, *WEEK, "--golden", golden) == (0, f"equal to {golden}\n", "")

    document = read_golden(golden)
    document["stats"]["ror"] = 0.5
    document["trades"][0]["price"] += 0.2
    golden.write_text(json.dumps(document))
    status, out, _ = run("check", DOUBLE_MA, *WEEK, "--golden", golden)
    assert status == 1
    lines = out.splitlines()
    assert lines[0] == f"differs from {golden}:"
    assert lines[1] == f"stats: 1 of {len(document['stats'])} differ (rtol 1e-09):"
    assert lines[2].startswith("  ror  expected 0.5  actual ")
    count = len(document["trades"])
    assert lines[3] == f"trades: expected {count}, actual {count}; 1 differ"
    assert lines[-1] == "(after an intended change: rerun with --update and review the file's diff)"


def test_check_without_a_golden_file_says_how_to_make_one(tmp_path: Path) -> None:
    status, _, err = run("check", DOUBLE_MA, *WEEK, "--golden", tmp_path / "none.json")
    assert status == 1
    assert "does not exist; create it with `backtest check … --update`" in err


def test_diff_marks_what_differs(week_run: Path, fast5_run: Path) -> None:
    assert run("diff", week_run, week_run)[0] == 0
    status, out, _ = run("diff", week_run, fast5_run)
    assert status == 1
    lines = out.splitlines()
    assert [str(week_run), str(fast5_run)] in [line.split() for line in lines]
    ror = next(line for line in lines if line.startswith("ror "))
    assert ror.endswith("  *")
    trading_days = next(line for line in lines if line.startswith("trading_days "))
    assert not trading_days.endswith("*")
    assert any(line.startswith(f"trades: {week_run} ") for line in lines)


def test_diff_shows_the_settings_that_differ_and_names_the_sides(
    week_run: Path, fast5_run: Path
) -> None:
    status, out, _ = run("diff", week_run, fast5_run)

    assert status == 1
    lines = out.splitlines()
    assert lines[:3] == ["config:", "  strategy.params.fast: (absent) → 5", ""]
    assert lines[3].split() == [str(week_run), str(fast5_run)]
    assert lines[4].startswith("init_balance ")  # the stats table's order, not alphabetical
    first = next(i for i, line in enumerate(lines) if line.startswith("  trade "))
    assert lines[first].endswith(" differ")  # which fields
    assert lines[first + 1].startswith(f"    {week_run}  ")
    assert lines[first + 2].startswith(f"    {fast5_run}  ")


def test_a_reader_that_leaves_early_ends_the_command_quietly(week_run: Path) -> None:
    class LeftPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    err = io.StringIO()
    with pytest.raises(BrokenPipeError):  # entry_point() turns it into a quiet exit 0
        main(["show", str(week_run)], stdout=LeftPipe(), stderr=err)
    assert err.getvalue() == ""


def test_every_command_has_help_with_an_example() -> None:
    for command in ("run", "check", "report", "show", "diff"):
        status, out, _ = run(command, "--help")
        assert status == 0
        assert "example: backtest " + command in out


SLOW = """\
import time
from datetime import date

RUN = {"start": date(2020, 1, 2), "end": date(2020, 2, 28)}


async def strategy(api):  # about 10 s: slow enough to be interrupted
    api.get_quote("IF2003.IF")
    while True:
        await api.wait_update()
        time.sleep(0.0005)
"""


def test_ctrl_c_exits_130_and_saves_the_partial_run(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "slow.py"
    path.write_text(SLOW)
    command = [sys.executable, "-m", "backtest", "run", str(path), "--out", str(tmp_path / "r"),
               "--quiet", "--no-report"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4.0)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)

    assert process.returncode == 130, err
    lines = err.strip().splitlines()
    assert lines[-2].startswith("interrupted at simulated time 2020-")
    assert lines[-1] == f"incomplete run saved in {tmp_path / 'r'}"
    saved = BacktestResult.load(tmp_path / "r")
    assert not saved.complete and 0 < saved.stats["trading_days"] < 36


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("params = 5", "params must be a table of strategy parameters ([params] in TOML), was 5"),
        ('stock_fees = "x"', "stock_fees must be a table ([stock_fees] in TOML), was 'x'"),
        ("instruments = 5", "instruments must be tables of fields per symbol or product "
         "([instruments.IF]) or the path of such a TOML file, was 5"),
        ("init_balance = \"a lot\"", "init_balance must be a number, was 'a lot'"),
        ("symbols = [1, 2]", "symbols must be a string or a list of strings, was [1, 2]"),
    ],
)  # fmt: skip
def test_run_file_values_of_the_wrong_kind_are_named(
    tmp_path: Path, toml: str, message: str
) -> None:
    config = tmp_path / "run.toml"
    config.write_text(f'strategy = "{DOUBLE_MA}"\n{toml}\n')
    status, _, err = run("run", "--config", config)
    assert (status, err) == (1, f"backtest: error: {config}: {message}\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--param", "fast=1O"),
         f"{DOUBLE_MA}: parameter fast takes an integer (its default is 10), was '1O'"),
        (("--param", "symbol=5"),
         f"{DOUBLE_MA}: parameter symbol takes a string (its default is 'CFFEX.IF2003'), was 5"),
    ],
)  # fmt: skip
def test_a_param_of_the_wrong_kind_is_refused_before_running(
    argv: tuple[str, ...], message: str
) -> None:
    assert run("run", DOUBLE_MA, *WEEK, *argv) == (1, "", f"backtest: error: {message}\n")


def test_a_param_without_a_default_must_be_given(tmp_path: Path) -> None:
    path = tmp_path / "needs.py"
    path.write_text("async def strategy(api, fast, slow=30):\n    await api.wait_update()\n")

    assert run("run", path, *WEEK) == (
        1, "", f"backtest: error: {path}: the strategy's parameter(s) fast have no default; give "
        "them (--param fast=…, or [params] in the run file)\n",
    )  # fmt: skip


def test_out_pointing_at_a_file_is_refused_before_running(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    status, _, err = run("run", DOUBLE_MA, *WEEK, "--out", tmp_path / "f")
    assert (status, err) == (
        1, f"backtest: error: --out: cannot save the run into {tmp_path / 'f'}: it is a file, "
        "not a directory; save it into a directory (it is created if missing)\n",
    )  # fmt: skip
    status, _, err = run("run", DOUBLE_MA, *WEEK, "--out", tmp_path / "f" / "run")
    assert (status, err) == (
        1, f"backtest: error: --out: cannot save the run into {tmp_path / 'f' / 'run'}: "
        f"{tmp_path / 'f'} is a file, not a directory; save it into a directory (it is created "
        "if missing)\n",
    )  # fmt: skip


def test_out_inside_the_data_store_is_refused_before_running(tmp_path: Path) -> None:
    store = tmp_path / "store"
    shutil.copytree(REPO / "data" / "store", store)
    out = store / "runs" / "ma"
    status, stdout, err = run("run", DOUBLE_MA, *WEEK, "--data", store, "--out", out, "--quiet")
    assert (status, stdout) == (1, "")
    assert err == (
        f"backtest: error: --out: cannot save the run into {out}: it is inside the data store "
        f"{store}, whose files are market data; save it into a directory outside the store\n"
    )
    assert not (store / "runs").exists()


def test_a_negative_tolerance_is_a_usage_error(tmp_path: Path) -> None:
    status, _, err = run("check", DOUBLE_MA, "--golden", tmp_path / "g.json", "--rtol", "-1")
    assert status == 2 and "a tolerance cannot be negative: '-1'" in err
    for text in ("nan", "inf"):
        status, _, err = run("check", DOUBLE_MA, "--golden", tmp_path / "g.json", "--rtol", text)
        assert (status, err.splitlines()[-1]) == (
            2, f"backtest check: error: argument --rtol: a tolerance must be a finite number: "
            f"'{text}'",
        )  # fmt: skip


def test_a_file_without_a_strategy_says_so_before_anything_else(tmp_path: Path) -> None:
    path = tmp_path / "empty.py"
    path.write_text("x = 1\n")
    status, _, err = run("run", path)
    assert status == 1
    assert err.startswith(f"backtest: error: {path} defines no `strategy`")


def test_a_strategy_class_that_fails_to_build_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "cls.py"
    path.write_text(
        "class strategy:\n"
        "    def __init__(self):\n"
        "        raise RuntimeError('no config')\n"
        "    async def run(self, api):\n"
        "        pass\n"
    )
    status, _, err = run("run", path, *WEEK)
    assert status == 2
    assert f'File "{path}", line 3, in __init__' in err
    assert "RuntimeError: no config" in err


def test_a_strategy_imports_the_modules_beside_it(tmp_path: Path) -> None:
    (tmp_path / "helper_lots.py").write_text("LOTS = 2\n")
    path = tmp_path / "uses_helper.py"
    path.write_text(
        "from helper_lots import LOTS\n"
        "async def strategy(api):\n"
        "    api.get_quote('IF2003.IF')\n"
        "    await api.wait_update()\n"
        "    api.insert_order('IF2003.IF', 'BUY', 'OPEN', LOTS)\n"
        "    while True:\n"
        "        await api.wait_update()\n"
    )
    status, _, err = run("run", path, *WEEK, "--out", tmp_path / "r", "--quiet", "--no-report")
    assert status == 0, err
    assert BacktestResult.load(tmp_path / "r").orders.volume_orign.tolist() == [2]


def test_a_date_param_is_saved(tmp_path: Path) -> None:
    path = tmp_path / "dated.py"
    path.write_text(
        "async def strategy(api, until=None):\n"
        "    api.get_quote('IF2003.IF')\n"
        "    while True:\n"
        "        await api.wait_update()\n"
    )
    status, _, err = run("run", path, *WEEK, "--param", "until=2020-01-06", "--out",
                         tmp_path / "r", "--quiet", "--no-report")  # fmt: skip
    assert status == 0, err
    saved = BacktestResult.load(tmp_path / "r").config["strategy"]["params"]
    assert saved == {"until": "2020-01-06"}


def test_instruments_of_a_run_file_are_relative_to_it(tmp_path: Path) -> None:
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "fees.toml").write_text("[IF]\ncommission_close_today = 0.000023\n")
    config = folder / "run.toml"
    config.write_text(f'strategy = "{DOUBLE_MA}"\ninstruments = "fees.toml"\n')
    status, _, err = run("run", "--config", config, *WEEK, "--out", tmp_path / "r", "--quiet",
                         "--no-report")  # fmt: skip
    assert status == 0, err
    trades = BacktestResult.load(tmp_path / "r").trades
    closing = trades[trades.offset != "OPEN"].iloc[0]
    assert closing.commission == round(0.000023 * closing.price * 300, 2)


def test_saving_again_removes_what_the_new_save_does_not_write(week_run: Path) -> None:
    result = BacktestResult.load(week_run)
    assert (week_run / "qifi").is_dir()
    result.save(week_run, report=False, qifi=False)
    assert not (week_run / "report.html").exists()
    assert not (week_run / "qifi").exists()
    result.save(week_run)  # restore it for the other tests
    assert (week_run / "report.html").exists()


def test_loading_a_damaged_run_directory_names_the_problem(tmp_path: Path) -> None:
    directory = tmp_path / "r"
    assert run("run", DOUBLE_MA, *WEEK, "--out", directory, "--quiet", "--no-report")[0] == 0
    (directory / "trades.parquet").write_bytes(b"not parquet")
    status, _, err = run("show", directory)
    assert status == 1
    assert err.startswith(f"backtest: error: {directory / 'trades.parquet'} cannot be read (")
    (directory / "result.json").write_text('{"format": 1}')
    status, _, err = run("show", directory)
    path = directory / "result.json"
    assert err == f"backtest: error: {path} lacks stats and config; save the run again\n"


def test_a_run_that_meets_no_data_exits_1_and_saves_nothing(tmp_path: Path) -> None:
    # the sample store holds IF2003 bars up to 2020-03-05: a run in June meets no market data
    status, out, err = run(
        "run", DOUBLE_MA, "--start", "2020-06-01", "--end", "2020-06-05",
        "--out", tmp_path / "r", "--quiet",
    )  # fmt: skip
    store = REPO / "data" / "store"
    assert (status, out) == (1, "")
    assert err == (
        "backtest: error: the backtest from 2020-06-01 to 2020-06-05 simulated no trading day: "
        f"{store} has no market data in that span for the symbols the strategy asked for "
        "(IF2003.IF); `backtest data ls` shows what the store holds\n"
    )
    assert not (tmp_path / "r").exists()


def test_warnings_of_a_run_are_printed_with_their_place(tmp_path: Path) -> None:
    strategy = tmp_path / "typo.py"
    strategy.write_text(
        "async def strategy(api):\n"
        "    quote = api.get_quote('IF2003.IF')\n"
        "    while True:\n"
        "        await api.wait_update()\n"
        "        api.is_changing(quote, 'last_prce')\n"
    )
    status, _, err = run("run", strategy, *WEEK, "--out", tmp_path / "r", "--quiet")
    assert status == 0
    assert err.splitlines() == [
        f"{strategy}:5: warning: is_changing: a Quote has no field 'last_prce' (did you mean "
        "'last_price'?), so it never changes"
    ]


def test_a_run_past_the_end_of_its_data_warns_and_saves(tmp_path: Path) -> None:
    # the sample store holds IF2003 bars up to 2020-03-05; the run asks until 2020-03-20
    status, _, err = run(
        "run", DOUBLE_MA, "--start", "2020-03-02", "--end", "2020-03-20",
        "--out", tmp_path / "r", "--quiet",
    )  # fmt: skip
    store = REPO / "data" / "store"
    assert status == 0
    assert err == (
        f"backtest: warning: the market data in {store} of the symbols the strategy asked for "
        "(IF2003.IF) ends on trading day 2020-03-05, before the run's last trading day "
        "2020-03-20: the result and its statistics cover the 4 trading days from 2020-03-02 to "
        "2020-03-05; end the run by 2020-03-05 or add the data (`backtest data ls` shows what "
        "the store holds)\n"
    )
    assert (tmp_path / "r" / "result.json").exists()


def test_bad_instrument_terms_of_a_run_file_are_refused_before_running(tmp_path: Path) -> None:
    # they used to pass until the strategy's first quote, then fail as the strategy (exit 2)
    config = tmp_path / "run.toml"
    config.write_text(f'strategy = "{DOUBLE_MA}"\n[instruments.IF]\nprice_tick = -1\n')
    status, out, err = run("run", "--config", config, "--out", tmp_path / "r", "--quiet")
    assert (status, out) == (1, "")
    assert err == (
        "backtest: error: instruments override 'IF': price_tick must be a finite positive "
        "number, was -1\n"
    )
    assert not (tmp_path / "r").exists()
