# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Data: what is stored, importing a CSV, resampling, checking quality
#
# **What you will learn:** browse a data store, import a CSV file into a store of your own,
# get 5-minute bars when only 1-minute bars are stored, and see how bad rows are caught before
# they reach a backtest. It uses the CSV files shipped in `data/raw` and writes only to a
# temporary directory.

# %%
import tempfile
from pathlib import Path

from backtest import Store
from backtest.csvimport import import_csv
from backtest.errors import DataError
from backtest.store import default_store_path
from backtest.validate import Policy
from backtest.verify import verify_store

sample = Store(default_store_path())
sample.catalog()

# %% [markdown]
# One row per stored series: futures minutes (IF2003, au1912), IF2101 ticks, 600009 minutes
# and daily A-shares. The same table is `backtest data ls` in a terminal.

# %% tags=["check:catalog"]
catalog = sample.catalog()
{
    row.symbol + " " + row.period: int(row.rows)
    for row in catalog.itertuples()
    if row.symbol in ("IF2003.IF", "IF2101.IF", "600009.SH")
}

# %% [markdown]
# ## Import a CSV
#
# `import_csv` (or `backtest data import`) knows the formats you have: `tqsdk`, `xtquant`,
# `wondertrader-tick`, `wondertrader-bar`, `hikyuu`, `tdx`, and `generic` with a column
# mapping. Here tqsdk's 1-minute IF2003 file goes into a new store.

# %%
raw = Path(default_store_path()).parent / "raw"
scratch = Path(tempfile.mkdtemp())  # removed at the end
mine = Store.create(scratch / "store")
mine.write_calendar(sample.calendar().days())
report = import_csv(
    mine, [raw / "tqsdk" / "CFFEX.IF2003_1min.csv.xz"], "CFFEX.IF2003", "1m", format="tqsdk"
)
print(report.summary())
mine.catalog()

# %% [markdown]
# ## Bars of any period
#
# Only 1-minute bars are stored, yet a backtest can ask for 5-minute bars: they are built on
# the fly, session by session (no bar spans the lunch break).

# %%
from datetime import date, datetime

from backtest import Backtest, BacktestFinished
from backtest.times import format_ns, to_ns

seen = {}


async def look(api):
    bars = api.get_kline_serial("IF2003.IF", 300, data_length=40)
    while api.now_ns < to_ns(datetime(2020, 1, 2, 14, 0)):  # naive times are Beijing time
        await api.wait_update()
    seen["bars"] = bars.to_frame()
    raise BacktestFinished


await Backtest(look, date(2020, 1, 2), date(2020, 1, 2), data=mine.root, progress=False).arun()
five = seen["bars"]
five["start"] = [format_ns(ns)[11:16] for ns in five["datetime"]]  # Beijing time
five[["start", "open", "high", "low", "close", "volume"]].iloc[-15:-10]  # 11:20 … 13:10

# %% [markdown]
# The 11:25 bar is the morning's last; the next one starts at 13:00: nothing spans the lunch
# break. The last row, 14:00, is the bar in progress: it has just opened.

# %% [markdown]
# ## Bad data is refused, with the file, row, column and value
#
# Real data is dirty. Here a row has its high below its low; the import refuses the file and
# says how to go on: `--repair` (`Policy.REPAIR`) or `--skip-bad-rows` (`Policy.SKIP`). A refused
# import leaves the store untouched.

# %%
bad = scratch / "bad.csv"
bad.write_text(
    "datetime,open,high,low,close,volume\n"
    "2020-03-06 09:30:00,4000,4001,3999,4000,10\n"
    "2020-03-06 09:31:00,4000,3990,3999,4000,10\n"
)
try:
    import_csv(mine, [bad], "IF2003.IF", "1m", format="tqsdk")
except DataError as error:
    print(error)

# %%
print(import_csv(mine, [bad], "IF2003.IF", "1m", format="tqsdk", policy=Policy.SKIP).summary())

# %% [markdown]
# `verify_store` (or `backtest data verify`) re-checks everything already stored.

# %%
for check in verify_store(mine):
    print(check.summary())

# %%
import shutil

shutil.rmtree(scratch)  # the scratch store and file
