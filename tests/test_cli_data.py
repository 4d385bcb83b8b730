"""``backtest data``: ls, info, verify, rm and import, run through ``backtest.cli.main``.

Each test calls the command line in-process with string buffers for stdout/stderr and checks
the exact output and exit status. One test runs the installed ``backtest`` console script in a
subprocess to check the entry point itself.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from backtest.cli import main
from backtest.store import Store, default_store_path

from .conftest import write_bars

REPO = Path(__file__).resolve().parent.parent
RAW = REPO / "data" / "raw"


def run(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main([str(a) for a in argv], stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def no_store_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACKTEST_STORE", raising=False)


def test_ls_lists_the_sample_store_by_default() -> None:
    status, out, err = run("data", "ls", "IF*", "au*")
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        str(default_store_path()),
        "symbol     period    rows  first                    last                     files"
        "      size",
        "IF2003.IF  1m      12,279  2019-12-16 14:21:00      2020-03-05 14:59:00          2"
        "  285.5 KB",
        "IF2101.IF  tick    84,347  2021-01-04 09:29:00.400  2021-01-06 15:44:33.000      3"
        "    1.8 MB",
        "au1912.SF  1m      33,969  2019-04-08 13:36:00      2019-07-09 23:14:00          1"
        "  671.8 KB",
    ]


def test_ls_json_gives_rows_and_exact_times() -> None:
    status, out, _ = run("data", "ls", "600009.SH", "--json")
    assert status == 0
    [entry] = json.loads(out)
    assert {k: entry[k] for k in ("symbol", "period", "rows", "first", "last", "files")} == {
        "symbol": "600009.SH",
        "period": "1m",
        "rows": 15353,
        "first": "2020-01-02 09:30:00.000000",
        "last": "2020-04-10 10:26:00.000000",
        "files": 1,
    }
    assert entry["columns"] == ["datetime", "open", "high", "low", "close", "volume"]


def test_ls_of_an_empty_store_says_so(tmp_path: Path) -> None:
    Store.create(tmp_path / "s")
    assert run("data", "ls", "--store", tmp_path / "s") == (0, f"{tmp_path / 's'}: no data\n", "")


def test_ls_reads_the_store_named_by_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Store.create(tmp_path / "s")
    monkeypatch.setenv("BACKTEST_STORE", str(tmp_path / "s"))
    assert run("data", "ls")[1] == f"{tmp_path / 's'}: no data\n"


def test_info_shows_the_instrument_terms_and_the_series() -> None:
    status, out, _ = run("data", "info", "SHFE.au1912")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "au1912.SF  (instrument terms from the store's instruments.parquet)"
    assert "  price_tick              0.05" in lines
    assert "  volume_multiple         1000.0" in lines
    assert "  sessions                21:00-02:30,09:00-10:15,10:30-11:30,13:30-15:00" in lines
    assert lines[-1] == (
        "1m      33,969  2019-04-08 13:36:00  2019-07-09 23:14:00      1  671.8 KB  "
        "datetime open high low close volume open_oi close_oi"
    )


def test_info_of_a_symbol_without_a_store_row_uses_the_defaults(tmp_path: Path) -> None:
    Store.create(tmp_path / "s")
    status, out, _ = run("data", "info", "rb2405.SF", "--store", tmp_path / "s", "--json")
    assert status == 0
    document = json.loads(out)
    assert document["instrument_source"] == "defaults"
    assert document["instrument"]["price_tick"] == 1.0
    assert document["instrument"]["volume_multiple"] == 10.0
    assert document["series"] == []


def test_info_of_an_unknown_instrument_says_how_to_add_it(tmp_path: Path) -> None:
    Store.create(tmp_path / "s")
    status, out, err = run("data", "info", "zz2405.SF", "--store", tmp_path / "s")
    assert (status, out) == (1, "")
    assert err.startswith("backtest: error: unknown instrument zz2405.SF: ")


def test_verify_passes_on_the_sample_store() -> None:
    status, out, err = run("data", "verify", "IF2003.IF", "IF2101.IF")
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "IF2003.IF 1m: ok (12279 rows, 2 files)",
        "IF2101.IF tick: ok (84347 rows, 3 files)",
    ]


def test_verify_names_file_row_column_and_value_of_each_problem(empty_store: Store) -> None:
    write_bars(
        empty_store,
        "IF2003.IF",
        60,
        [
            ("2020-01-02 09:30", 4000.0, 4001.0, 3999.0, 4000.0, 10),
            ("2020-01-02 09:31", 4000.0, 3990.0, 3999.0, 4000.0, 10),  # high < low
            ("2020-01-02 12:00", 4000.0, 4001.0, 3999.0, 4000.0, 10),  # lunch break
        ],
    )
    status, out, err = run("data", "verify", "--store", empty_store.root)
    path = empty_store.root / "klines" / "1m" / "IF2003.IF" / "2020.parquet"
    assert status == 1
    assert out.splitlines() == [
        "IF2003.IF 1m: 4 problem(s): ohlc, session (3 rows, 1 file)",
        f"  {path}: row 2, column high, value 3990.0: high is below low",
        f"  {path}: row 2, column open, value 4000.0: open is outside [low, high]",
        f"  {path}: row 2, column close, value 4000.0: close is outside [low, high]",
        f"  {path}: row 3, column datetime, value '2020-01-02 12:00:00.000000': outside the "
        "trading sessions 09:30-11:30,13:00-15:00",
    ]
    assert err == (
        f"4 problem(s) in {empty_store.root}: re-import the source with --repair or "
        "--skip-bad-rows, or remove the series with `backtest data rm`\n"
    )


def test_verify_checks_order_across_file_boundaries(empty_store: Store) -> None:
    write_bars(empty_store, "IF2003.IF", 86_400, [("2019-12-31 00:00", 1, 2, 1, 2, 1)])
    write_bars(empty_store, "IF2003.IF", 86_400, [("2020-01-02 00:00", 1, 2, 1, 2, 1)])
    later = empty_store.root / "klines" / "1d" / "IF2003.IF" / "2019.parquet"
    earlier = empty_store.root / "klines" / "1d" / "IF2003.IF" / "2020.parquet"
    swapped = later.read_bytes()
    later.write_bytes(earlier.read_bytes())  # 2019.parquet now holds a 2020 bar and
    earlier.write_bytes(swapped)  # 2020.parquet a 2019 bar
    status, out, _ = run("data", "verify", "--store", empty_store.root)
    assert status == 1
    assert out.splitlines() == [
        "IF2003.IF 1d: 3 problem(s): layout, order (2 rows, 2 files)",
        f"  {later}: row 1, column datetime, value '2020-01-02 00:00:00+08:00': the row "
        "belongs in another file of the layout",
        f"  {earlier}: row 1, column datetime, value '2019-12-31 00:00:00+08:00': the row "
        "belongs in another file of the layout",
        f"  {earlier}: row 1, column datetime, value '2019-12-31 00:00:00.000000': earlier "
        "than the row before it",
    ]


def test_verify_reports_an_unreadable_file(empty_store: Store) -> None:
    write_bars(empty_store, "IF2003.IF", 60, [("2020-01-02 09:30", 1, 2, 1, 2, 1)])
    path = empty_store.root / "klines" / "1m" / "IF2003.IF" / "2020.parquet"
    path.write_bytes(b"not parquet")
    status, out, _ = run("data", "verify", "--store", empty_store.root)
    assert status == 1
    assert out.splitlines()[0] == "IF2003.IF 1m: 1 problem(s): unreadable (0 rows, 1 file)"
    assert out.splitlines()[1].startswith(f"  {path} is damaged (")  # no row 0, column


def test_rm_without_a_store_refuses_to_touch_the_sample() -> None:
    status, _, err = run("data", "rm", "IF2003.IF", "--yes")
    assert status == 1
    assert err == (
        "backtest: error: say which store to write: --store DIR or BACKTEST_STORE=DIR (the "
        "sample store shipped with backtest is not written to by default)\n"
    )


def test_rm_asks_for_confirmation_and_deletes_one_period(
    empty_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_bars(empty_store, "IF2003.IF", 60, [("2020-01-02 09:30", 1, 2, 1, 2, 1)])
    write_bars(empty_store, "IF2003.IF", 300, [("2020-01-02 09:30", 1, 2, 1, 2, 1)])
    monkeypatch.setattr("sys.stdin", _Terminal("n\n"))
    assert run("data", "rm", "IF2003.IF", "--period", "1m", "--store", empty_store.root) == (
        1,
        "nothing deleted\n",
        "",
    )
    assert empty_store.durations("IF2003.IF") == [60, 300]

    monkeypatch.setattr("sys.stdin", _Terminal("y\n"))
    status, out, _ = run("data", "rm", "IF2003.IF", "--period", "1m", "--store", empty_store.root)
    assert (status, out) == (0, f"deleted 1 file(s) of IF2003.IF from {empty_store.root}\n")
    assert empty_store.durations("IF2003.IF") == [300]
    assert not (empty_store.root / "klines" / "1m").exists()


def test_rm_without_a_terminal_needs_yes(empty_store: Store) -> None:
    write_bars(empty_store, "IF2003.IF", 60, [("2020-01-02 09:30", 1, 2, 1, 2, 1)])
    status, _, err = run("data", "rm", "IF2003.IF", "--store", empty_store.root)
    assert status == 1
    assert err == (
        "backtest: error: refusing to delete IF2003.IF 1m (1 rows, 1 files) without "
        "confirmation: run in a terminal or add --yes\n"
    )
    assert run("data", "rm", "IF2003.IF", "--store", empty_store.root, "-y")[0] == 0
    assert empty_store.symbols() == []


def test_rm_of_a_symbol_that_is_not_stored_says_so(empty_store: Store) -> None:
    status, _, err = run("data", "rm", "IF2003.IF", "--store", empty_store.root, "--yes")
    assert status == 1
    assert err == (
        f"backtest: error: data store {empty_store.root} has no data for IF2003.IF; import it "
        "with `backtest data import` or point data= at a store that has it\n"
    )


def test_import_creates_the_store_and_is_idempotent(tmp_path: Path) -> None:
    store = tmp_path / "new"
    source = RAW / "tqsdk" / "CFFEX.IF2003_1min.csv.xz"
    argv = (
        "data",
        "import",
        source,
        "--store",
        store,
        "--symbol",
        "CFFEX.IF2003",
        "--period",
        "1m",
        "--format",
        "tqsdk",
    )
    status, out, err = run(*argv)
    assert (status, err) == (0, "")
    assert out == (f"{source}: 12279 of 12279 rows kept\nIF2003.IF 1m: 12,279 rows into {store}\n")
    before = {p: p.read_bytes() for p in store.rglob("*.parquet")}
    assert run(*argv)[0] == 0
    assert {p: p.read_bytes() for p in store.rglob("*.parquet")} == before
    assert Store(store).info("IF2003.IF", 60).rows == 12279


def test_import_refusal_names_the_problems_and_the_options(tmp_path: Path) -> None:
    csv = tmp_path / "bars.csv"
    csv.write_text(
        "datetime,open,high,low,close,volume\n"
        "2020-01-02 09:30:00,4000,4001,3999,4000,1\n"
        "2020-01-02 09:31:00,4000,3990,3999,4000,1\n"
    )
    status, out, err = run(
        "data",
        "import",
        csv,
        "--store",
        tmp_path / "s",
        "--symbol",
        "IF2003.IF",
        "--period",
        "1m",
        "--format",
        "tqsdk",
    )
    assert (status, out) == (1, "")
    assert err == (
        f"backtest: error: {csv}: 3 problem(s) (3 ohlc):\n"
        "  row 2, column high, value 3990.0: high is below low\n"
        "  row 2, column open, value 4000.0: open is outside [low, high]\n"
        "  row 2, column close, value 4000.0: close is outside [low, high]\n"
        "fix the data, or use --repair (sort, drop duplicates, drop or clip bad rows) or "
        "--skip-bad-rows (drop the bad rows)\n"
    )
    assert not (tmp_path / "s").exists()  # a refused import leaves no new store
    status, out, _ = run(
        "data",
        "import",
        csv,
        "--store",
        tmp_path / "s",
        "--symbol",
        "IF2003.IF",
        "--period",
        "1m",
        "--format",
        "tqsdk",
        "--skip-bad-rows",
    )
    assert status == 0
    assert out.splitlines()[0] == f"{csv}: 1 of 2 rows kept (1 bad rows dropped)"


def test_import_of_a_generic_csv_needs_a_datetime_mapping(tmp_path: Path) -> None:
    status, _, err = run(
        "data",
        "import",
        RAW / "tqsdk" / "CFFEX.IF2003_1min.csv.xz",
        "--store",
        tmp_path / "s",
        "--symbol",
        "IF2003.IF",
        "--period",
        "1m",
    )
    assert status == 1
    assert err.startswith("backtest: error: format 'generic' needs a column mapping")


def test_bad_command_lines_exit_2_with_usage(tmp_path: Path) -> None:
    status, _, _ = run("data", "import", "x.csv", "--symbol", "IF2003.IF")  # no --period
    assert status == 2
    status, _, _ = run(
        "data", "import", "x.csv", "--symbol", "S", "--period", "1m", "--columns", "datetime"
    )
    assert status == 2


def test_the_console_script_runs(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("backtest")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "backtest"]
    done = subprocess.run(
        [*command, "data", "ls", "600009*"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[2].startswith("600009.SH  1m      15,353")
    module = subprocess.run(
        [sys.executable, "-m", "backtest", "--help"], capture_output=True, text=True, check=False
    )
    assert module.returncode == 0
    assert module.stdout.startswith("usage: backtest")


class _Terminal(io.StringIO):
    """stdin that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


def test_every_data_command_has_help_with_an_example() -> None:
    for command in ("ls", "info", "verify", "rm", "import", "download", "resample"):
        status, out, _ = run("data", command, "--help")
        assert status == 0
        assert f"example: backtest data {command} " in out


def test_verify_reports_infinite_prices_and_negative_volumes(empty_store: Store) -> None:
    # what an import now refuses, written into the store directly (as an older import could)
    write_bars(
        empty_store,
        "IF2003.IF",
        60,
        [
            ("2020-01-02 09:30", 4000.0, float("inf"), 3999.0, 4000.0, 10),
            ("2020-01-02 09:31", 4000.0, 4001.0, 3999.0, 4000.0, -500),
        ],
    )
    status, out, _ = run("data", "verify", "--store", empty_store.root)
    path = empty_store.root / "klines" / "1m" / "IF2003.IF" / "2020.parquet"
    assert status == 1
    assert out.splitlines() == [
        "IF2003.IF 1m: 2 problem(s): price, volume (2 rows, 1 file)",
        f"  {path}: row 1, column high, value inf: a price must be a finite positive number",
        f"  {path}: row 2, column volume, value -500.0: a volume must be a finite number, 0 or "
        "more",
    ]


def test_import_reads_other_encodings_with_the_encoding_option(tmp_path: Path) -> None:
    csv = tmp_path / "gbk.csv"
    csv.write_bytes("日期,开,高,低,收,量\n2020-01-02,12.0,12.3,11.9,12.1,1000\n".encode("gbk"))
    argv = (
        "data",
        "import",
        csv,
        "--store",
        tmp_path / "s",
        "--symbol",
        "600000.SH",
        "--period",
        "1d",
        "--columns",
        "datetime=日期,open=开,high=高,low=低,close=收,volume=量",
    )
    assert run(*argv) == (
        1,
        "",
        f"backtest: error: {csv}: the header is not utf-8 text (byte 0xc8 at offset 0): re-save "
        "it as UTF-8 or pass --encoding gbk\n",
    )
    assert run(*argv, "--encoding", "gbk") == (
        0,
        f"{csv}: 1 of 1 rows kept\n600000.SH 1d: 1 rows into {tmp_path / 's'}\n",
        "",
    )


def test_import_reads_day_first_times_with_the_time_format_option(tmp_path: Path) -> None:
    csv = tmp_path / "dmy.csv"
    csv.write_text("when,o,h,l,c,v\n02/01/2020 09:30,12.0,12.3,11.9,12.1,1000\n")
    argv = (
        "data", "import", csv, "--store", tmp_path / "s", "--symbol", "600000.SH", "--period",
        "1m", "--columns", "datetime=when,open=o,high=h,low=l,close=c,volume=v",
    )  # fmt: skip
    status, out, err = run(*argv)
    assert (status, out) == (1, "")
    assert "value '02/01/2020 09:30' does not start with a four-digit year" in err
    assert run(*argv, "--time-format", "%d/%m/%Y %H:%M") == (
        0,
        f"{csv}: 1 of 1 rows kept\n600000.SH 1m: 1 rows into {tmp_path / 's'}\n",
        "",
    )
    stored = Store(tmp_path / "s").tail("600000.SH", 60, 2**62, 1, [])
    assert stored.column(0).to_pylist() == [1577928600000000000]  # 2020-01-02 09:30 Beijing


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (("--decimals", "16"), "decimals must be a whole number from 0 to 15 (or None: no "
                               "rounding), was 16"),
        (("--encoding", "klingon"), "unknown encoding 'klingon'; use a codec name such as "
                                    "'utf-8' or 'gbk'"),
    ],
)  # fmt: skip
def test_import_option_values_out_of_range_are_named(
    tmp_path: Path, option: tuple[str, str], message: str
) -> None:
    csv = tmp_path / "bars.csv"
    csv.write_text("datetime,open,high,low,close,volume\n2020-01-02 09:30:00,1,2,1,2,1\n")
    status, out, err = run(
        "data", "import", csv, "--store", tmp_path / "s", "--symbol", "IF2003.IF",
        "--period", "1m", "--format", "tqsdk", *option,
    )  # fmt: skip
    assert (status, out, err) == (1, "", f"backtest: error: {message}\n")


def test_minute_bars_imported_as_five_minute_bars_are_refused_even_with_repair(
    tmp_path: Path,
) -> None:
    source = RAW / "tqsdk" / "CFFEX.IF2003_1min.csv.xz"
    store = tmp_path / "new"  # no calendar: the import checks with exchange_calendars' XSHG
    for extra in ((), ("--repair",), ("--skip-bad-rows",)):
        status, out, err = run(
            "data", "import", source, "--store", store, "--symbol", "IF2003.IF",
            "--period", "5m", "--format", "tqsdk", *extra,
        )  # fmt: skip
        assert (status, out) == (1, "")
        # 12,279 bars on 51 days and the afternoon of 2019-12-16: each session's first bar
        # follows a break, every other bar starts a minute after the one before it
        assert err.splitlines()[:2] == [
            f"backtest: error: {source}: 12176 problem(s) (12176 period):",
            "  row 2, column datetime, value '2019-12-16 14:22:00.000000': starts 60 s after "
            "the bar before it in the same session, less than the period (300 s): the bars "
            "would overlap",
        ]
        assert err.splitlines()[-1] == (
            "check the period the bars were given (300 s; the import's --period): bars of one "
            "period cannot start closer together inside a session; if only these rows are off, "
            "remove them from the input (--repair and --skip-bad-rows cannot tell which of two "
            "overlapping bars is wrong)"
        )
        assert not store.exists()  # a refused import leaves no new store


def test_an_import_into_a_store_without_a_calendar_checks_the_sessions(tmp_path: Path) -> None:
    csv = tmp_path / "bars.csv"
    csv.write_text(
        "datetime,open,high,low,close,volume\n"
        "2026-03-02 11:29:00,4000,4001,3999,4000,1\n"
        "2026-03-02 12:00:00,4000,4001,3999,4000,1\n"  # the lunch break
    )
    status, out, err = run(
        "data", "import", csv, "--store", tmp_path / "s", "--symbol", "IF2603.IF",
        "--period", "1m", "--format", "tqsdk",
    )  # fmt: skip
    assert (status, out) == (1, "")
    assert err.splitlines()[:2] == [
        f"backtest: error: {csv}: 1 problem(s) (1 session):",
        "  row 2, column datetime, value '2026-03-02 12:00:00.000000': outside the trading "
        "sessions 09:30-11:30,13:00-15:00",
    ]


def test_a_row_past_the_known_days_does_not_switch_off_the_checks_of_the_others(
    tmp_path: Path,
) -> None:
    # exchange_calendars knows the holidays to 2026: the 2027 row is not checked, the lunch
    # break bar still is (one row past the known days used to switch the calendar off for
    # the whole file, and the import went through)
    csv = tmp_path / "bars.csv"
    csv.write_text(
        "datetime,open,high,low,close,volume\n"
        "2026-03-02 11:29:00,4000,4001,3999,4000,1\n"
        "2026-03-02 12:00:00,4000,4001,3999,4000,1\n"  # the lunch break
        "2027-03-01 09:30:00,4000,4001,3999,4000,1\n"
    )
    status, out, err = run(
        "data", "import", csv, "--store", tmp_path / "s", "--symbol", "IF2603.IF",
        "--period", "1m", "--format", "tqsdk",
    )  # fmt: skip
    assert (status, out) == (1, "")
    assert err.splitlines()[:3] == [
        f"backtest: error: {csv}: 1 problem(s) (1 session):",
        "  row 2, column datetime, value '2026-03-02 12:00:00.000000': outside the trading "
        "sessions 09:30-11:30,13:00-15:00",
        "fix the data, or use --repair (sort, drop duplicates, drop or clip bad rows) or "
        "--skip-bad-rows (drop the bad rows)",
    ]


def test_verify_of_a_store_without_a_calendar_checks_this_year_and_overlaps(
    tmp_path: Path,
) -> None:
    store = Store.create(tmp_path / "bare")  # no calendar: verify uses exchange_calendars'
    write_bars(
        store,
        "IF2612.IF",
        3600,
        [
            ("2026-12-01 09:30", 4000.0, 4001.0, 3999.0, 4000.0, 10),
            ("2026-12-01 09:31", 4000.0, 4001.0, 3999.0, 4000.0, 10),  # a minute later
            ("2026-12-01 12:00", 4000.0, 4001.0, 3999.0, 4000.0, 10),  # lunch break
        ],
    )
    status, out, err = run("data", "verify", "--store", store.root)
    path = store.root / "klines" / "1h" / "IF2612.IF" / "2026.parquet"
    assert status == 1
    assert out.splitlines() == [
        "IF2612.IF 1h: 2 problem(s): period, session (3 rows, 1 file)",
        f"  {path}: row 2, column datetime, value '2026-12-01 09:31:00.000000': starts 60 s "
        "after the bar before it in the same session, less than the period (3600 s): the bars "
        "would overlap",
        f"  {path}: row 3, column datetime, value '2026-12-01 12:00:00.000000': outside the "
        "trading sessions 09:30-11:30,13:00-15:00",
    ]
    assert err == (
        f"2 problem(s) in {store.root}: re-import the source with --repair or --skip-bad-rows, "
        "or remove the series with `backtest data rm` (bars that overlap, a period problem, "
        "need the source re-imported with the right --period)\n"
    )


def test_resample_to_no_period_is_a_usage_error(tmp_path: Path) -> None:
    for text in ("", ","):
        status, out, err = run("data", "resample", "IF2003.IF", "--from", "1m", "--to", text)
        assert (status, out, err.splitlines()[-1]) == (
            2, "", f"backtest data resample: error: argument --to: no period in '{text}': give "
            "periods like 5m,15m,1d",
        )  # fmt: skip
