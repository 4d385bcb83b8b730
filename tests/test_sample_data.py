"""The shipped sample store is what data/build_store.py builds from data/raw."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pyarrow.parquet as pq

from backtest.store import Store, default_store_path

REPO = Path(__file__).resolve().parent.parent


def test_rebuilding_the_sample_store_reproduces_the_committed_files(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("build_store", REPO / "data" / "build_store.py")
    assert spec is not None and spec.loader is not None
    build_store = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_store)

    build_store.build(REPO / "data" / "raw", tmp_path / "store")

    committed = default_store_path()
    rebuilt = tmp_path / "store"

    def files(root: Path) -> list[str]:
        # the writers' lock file (.lock) is not data
        names = (p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        return sorted(name for name in names if not name.startswith("."))

    names = files(committed)
    assert names == files(rebuilt)
    for name in names:
        if name.endswith(".parquet"):
            assert pq.read_table(rebuilt / name).equals(pq.read_table(committed / name)), name
        else:
            assert (rebuilt / name).read_bytes() == (committed / name).read_bytes(), name
    assert Store(rebuilt).symbols() == Store(committed).symbols()
