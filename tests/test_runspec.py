"""Run specs (backtest/runspec.py): TOML files, layering, parameters and strategy files."""

from __future__ import annotations

import textwrap
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from backtest.errors import ConfigError
from backtest.runspec import (
    RunSpec,
    StrategyLoadError,
    bind_strategy,
    file_defaults,
    import_strategy_file,
    parse_param,
    read_toml,
    resolve,
)

REPO = Path(__file__).resolve().parent.parent
DOUBLE_MA = REPO / "strategies" / "double_ma.py"


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_layers_merge_with_the_command_line_winning(tmp_path: Path) -> None:
    toml = read_toml(
        write(
            tmp_path / "run.toml",
            """
            strategy = "ma.py"
            start = 2020-01-02
            end = 2020-01-31
            init_balance = 500_000
            data = "store"
            [params]
            fast = 5
            slow = 20
            [instruments.IF]
            commission_close_today = 0.00023
            """,
        )
    )
    spec = resolve(
        [
            ("file RUN", {"start": date(2019, 1, 2), "end": date(2019, 2, 1), "params": {"x": 1}}),
            ("run.toml", toml),
            ("command line", {"end": "20200115", "params": {"slow": 25}}),
        ]
    )
    assert spec == RunSpec(
        strategy=tmp_path / "ma.py",
        start=date(2020, 1, 2),
        end=date(2020, 1, 15),
        init_balance=500_000,
        data=str(tmp_path / "store"),
        params={"x": 1, "fast": 5, "slow": 25},
        instruments={"IF": {"commission_close_today": 0.00023}},
    )


def test_an_unknown_key_names_the_closest_valid_one() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve([("run.toml", {"strategy": "x.py", "statr": "2020-01-02"})])
    assert str(caught.value) == "run.toml: unknown key 'statr' (did you mean 'start'?)"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"start": "2020-01-02", "end": "2020-01-03"}, "no strategy file given"),
        ({"strategy": "x.py", "end": "2020-01-03"},
         "no start given: pass --start (or a --config file with `start = ...`)"),
        ({"strategy": "x.py", "start": "2020-13-02", "end": "2020-01-03"},
         "start must be a date (2020-01-02 or 20200102) or a time (2020-01-02T09:30), "
         "was '2020-13-02'"),
        ({"strategy": "x.py", "start": "2020-01-02", "end": "2020-01-03", "fill_model": "vwap"},
         "unknown fill_model 'vwap'; the fill models are: default"),
    ],
)  # fmt: skip
def test_incomplete_or_invalid_specs_say_what_is_wrong(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve([("cli", table)])
    assert str(caught.value) == message


def test_dates_times_and_symbols() -> None:
    spec = resolve(
        [("cli", {"strategy": "x.py", "start": "20200102", "end": "2020-01-02T10:30",
                  "symbols": ["IF2003.IF"]})]
    )  # fmt: skip
    assert (spec.start, spec.end) == (date(2020, 1, 2), datetime(2020, 1, 2, 10, 30))
    assert spec.params == {"symbols": ["IF2003.IF"]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fast=5", ("fast", 5)),
        ("ratio=0.5", ("ratio", 0.5)),
        ("on=true", ("on", True)),
        ('symbol="SHFE.au1912"', ("symbol", "SHFE.au1912")),
        ("symbol=SHFE.au1912", ("symbol", "SHFE.au1912")),  # not TOML: kept as text
        ("codes=[1, 2]", ("codes", [1, 2])),
    ],
)
def test_params_are_read_as_toml_values(text: str, expected: tuple[str, Any]) -> None:
    assert parse_param(text) == expected


def test_a_param_without_a_name_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^--param takes name=value, was '=5'$"):
        parse_param("=5")


def test_the_strategy_file_gives_its_defaults_and_takes_its_parameters() -> None:
    module = import_strategy_file(DOUBLE_MA)
    assert file_defaults(module, DOUBLE_MA) == {
        "start": date(2020, 1, 2), "end": date(2020, 2, 28), "init_balance": 1_000_000
    }  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        bind_strategy(module, DOUBLE_MA, {"fsat": 5})
    assert str(caught.value) == (
        f"{DOUBLE_MA}: the strategy has no parameter 'fsat' (did you mean 'fast'?) (its "
        "parameters: symbol, fast, slow, volume)"
    )


def test_a_class_strategy_is_built_with_its_parameters(tmp_path: Path) -> None:
    path = write(
        tmp_path / "cls.py",
        """
        class strategy:
            def __init__(self, lots=1):
                self.lots = lots

            async def run(self, api):
                api.get_quote("IF2003.IF")
                while True:
                    await api.wait_update()
        """,
    )
    bound = bind_strategy(import_strategy_file(path), path, {"lots": 2})
    assert bound.__self__.lots == 2  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match=r"has no parameter 'lot' \(did you mean 'lots'\?\)"):
        bind_strategy(import_strategy_file(path), path, {"lot": 2})


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = 1\n", "defines no `strategy`: write `async def strategy(api, ...)`"),
        ("def strategy(api):\n    pass\n", "`strategy` must be an async function or a class"),
        ("class strategy:\n    def run(self, api):\n        pass\n",
         "class strategy needs an `async def run(self, api)` method"),
    ],
)  # fmt: skip
def test_files_without_a_usable_strategy_say_what_to_write(
    tmp_path: Path, source: str, message: str
) -> None:
    path = write(tmp_path / "bad.py", source)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        bind_strategy(import_strategy_file(path), path, {})


def test_a_file_that_fails_to_import_keeps_the_original_error(tmp_path: Path) -> None:
    path = write(tmp_path / "broken.py", "async def strategy(api)\n    pass\n")
    with pytest.raises(StrategyLoadError) as caught:
        import_strategy_file(path)
    assert str(caught.value).startswith(f"{path} failed to import: SyntaxError: ")
    assert isinstance(caught.value.__cause__, SyntaxError)
    assert caught.value.__cause__.filename == str(path)
    with pytest.raises(ConfigError, match=r"strategy file .*nope\.py does not exist"):
        import_strategy_file(tmp_path / "nope.py")


def test_missing_and_invalid_toml_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"run file .*none\.toml does not exist"):
        read_toml(tmp_path / "none.toml")
    bad = write(tmp_path / "bad.toml", "start = \n")
    with pytest.raises(ConfigError, match=r"run file .*bad\.toml is not valid TOML: "):
        read_toml(bad)
