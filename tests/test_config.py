"""BacktestConfig validation, instrument overrides from TOML, stock fee terms."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from backtest import Backtest, BacktestConfig, ConfigError
from backtest.ashare import StockFees
from backtest.config import load_instruments


def test_instrument_overrides_load_from_a_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "fees.toml"
    path.write_text(
        '[IF]\ncommission_close_today = 0.00023\n\n["au1912.SF"]\nmargin_ratio = 0.1\n',
        encoding="utf-8",
    )

    assert load_instruments(path) == {
        "IF": {"commission_close_today": 0.00023},
        "au1912.SF": {"margin_ratio": 0.1},
    }


def test_toml_overrides_reach_the_instruments(tmp_path: Path) -> None:
    path = tmp_path / "fees.toml"
    path.write_text('["IF2003.IF"]\ncommission_open = 0.0001\n', encoding="utf-8")
    seen: list[float] = []

    async def strategy(api: Any) -> None:
        seen.append(api.get_quote("IF2003.IF").instrument.commission_open)

    Backtest(strategy, date(2020, 1, 2), date(2020, 1, 2), instruments=path).run()

    assert seen == [0.0001]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("IF = 3\n", "{path}: 'IF' must be a table of instrument fields, was 3"),
        ("[IF\n", "instruments file {path} is not valid TOML: "),
    ],
)
def test_bad_toml_overrides_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "fees.toml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigError, match="^" + re.escape(message.format(path=path))):
        load_instruments(path)


def test_missing_toml_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^instruments file .*nope\.toml does not exist$"):
        load_instruments(tmp_path / "nope.toml")


def test_stock_fees_fill_in_defaults_and_reject_unknown_fields() -> None:
    config = BacktestConfig(date(2020, 1, 2), date(2020, 1, 3), stock_fees={"commission_min": 0})

    assert config.fees() == StockFees(commission_rate=0.00025, commission_min=0.0)
    with pytest.raises(ConfigError, match=r"^stock_fees: unknown field\(s\) min_fee; fields are "):
        BacktestConfig(date(2020, 1, 2), date(2020, 1, 3), stock_fees={"min_fee": 5})
    bad_values: list[Any] = [-1, math.nan, math.inf, "0.1", True]  # what a TOML file may hold
    for bad in bad_values:
        with pytest.raises(ConfigError) as error:
            BacktestConfig(date(2020, 1, 2), date(2020, 1, 3), stock_fees={"commission_rate": bad})
        assert str(error.value) == (
            f"stock_fees: commission_rate must be a finite number >= 0, was {bad!r}"
        )


def test_an_instruments_file_that_is_a_directory_or_not_utf8_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_instruments(tmp_path)
    assert str(error.value) == f"instruments file {tmp_path} is a directory; give the TOML file"
    gbk = tmp_path / "gbk.toml"
    gbk.write_bytes('[IF]\nname = "沪深300"\n'.encode("gbk"))
    with pytest.raises(ConfigError) as error:
        load_instruments(gbk)
    assert str(error.value) == (
        f"instruments file {gbk} is not UTF-8 (byte 13); re-save it as UTF-8, as TOML requires"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": date(2020, 2, 1), "end": date(2020, 1, 1)},
         "start 2020-02-01 is after end 2020-01-01"),
        ({"start": "2020-01-01", "end": date(2020, 1, 2)},
         "start must be a datetime.date or datetime.datetime, was '2020-01-01'"),
        ({"start": date(2020, 1, 1), "end": date(2020, 1, 2), "init_balance": 0},
         "init_balance must be a positive number of CNY, was 0"),
        ({"start": date(2020, 1, 1), "end": date(2020, 1, 2), "stock_init_balance": -5},
         "stock_init_balance must be a positive number of CNY, was -5"),
        ({"start": date(2020, 1, 1), "end": date(2020, 1, 2), "annual_days": 0},
         "annual_days must be a positive whole number, was 0"),
        ({"start": datetime(2020, 1, 2, 15), "end": datetime(2020, 1, 2, 9)},
         "start 2020-01-02 15:00:00 is after end 2020-01-02 09:00:00"),
    ],
)  # fmt: skip
def test_invalid_settings_are_config_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        BacktestConfig(**kwargs)


def test_start_and_end_compare_as_instants_across_time_zones() -> None:
    from datetime import UTC

    end = datetime(2020, 1, 2, 2, 0, tzinfo=UTC)  # 10:00 Beijing time
    assert BacktestConfig(start=datetime(2020, 1, 2, 9, 0), end=end).end == end
    with pytest.raises(ConfigError, match=r"^start 2020-01-02 10:30:00 is after end "):
        BacktestConfig(start=datetime(2020, 1, 2, 10, 30), end=end)


def test_to_dict_writes_dates_of_instrument_overrides_as_iso_strings(tmp_path: Path) -> None:
    path = tmp_path / "instruments.toml"
    path.write_text('["600009.SH"]\nlist_date = 2001-01-01\n', encoding="utf-8")
    config = BacktestConfig(
        start=date(2020, 1, 2), end=date(2020, 1, 3), instruments=load_instruments(path)
    )
    assert config.to_dict()["instruments"] == {"600009.SH": {"list_date": "2001-01-01"}}
