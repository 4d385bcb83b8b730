"""The notebooks in notebooks/ run top to bottom in a real Jupyter kernel, and show the numbers
the golden files hold.

Each notebook (jupytext percent format) is executed with nbclient in a fresh ``python3``
kernel, from the repository root. A cell tagged ``check:<name>`` must display a dict of numbers
that equal those of ``tests/golden/<name>.json`` (``check:catalog``: the sample store's row
counts), so the documentation cannot drift from the code. One more test interrupts a kernel in
the middle of a backtest and checks that the run stops cleanly with a partial result.
"""

from __future__ import annotations

import ast
import json
import sys
import time
from pathlib import Path
from typing import Any

import jupytext  # type: ignore[import-untyped]  # no stubs, no py.typed
import nbclient
import pytest
from jupyter_client.manager import start_new_kernel

from backtest.store import Store, default_store_path

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.py"))
GOLDEN = REPO / "tests" / "golden"


@pytest.fixture(autouse=True)
def this_venvs_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``python3`` kernel of this interpreter, not one a user-level kernelspec names."""
    monkeypatch.setenv("JUPYTER_PATH", str(Path(sys.prefix) / "share" / "jupyter"))


def execute(path: Path) -> Any:
    notebook = jupytext.read(path)
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}
    )
    client.execute()
    return notebook


def expected_numbers(name: str) -> dict[str, Any]:
    if name == "catalog":
        catalog = Store(default_store_path()).catalog()
        wanted = catalog[catalog.symbol.isin(["IF2003.IF", "IF2101.IF", "600009.SH"])]
        numbers: dict[str, Any] = {}
        for row in wanted.itertuples():
            rows = row.rows
            assert isinstance(rows, int)  # the int64 column, as itertuples boxes it
            numbers[f"{row.symbol} {row.period}"] = rows
        return numbers
    document: dict[str, Any] = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    stats: dict[str, Any] = document["stats"]
    return stats


def test_there_are_the_three_notebooks() -> None:
    assert [p.name for p in NOTEBOOKS] == ["data.py", "porting_from_tqsdk.py", "quickstart.py"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_notebook_runs_and_shows_the_golden_numbers(path: Path) -> None:
    notebook = execute(path)

    assert notebook.cells[0].cell_type == "markdown"
    assert "What you will learn" in notebook.cells[0].source
    checks = [c for c in notebook.cells if any(t.startswith("check:") for t in c.metadata.get(
        "tags", []))]  # fmt: skip
    assert checks, f"{path.name} has no check cell"
    for cell in checks:
        [tag] = [t for t in cell.metadata["tags"] if t.startswith("check:")]
        [output] = [o for o in cell.outputs if o.output_type == "execute_result"]
        shown = ast.literal_eval(output.data["text/plain"])
        expected = expected_numbers(tag.removeprefix("check:"))
        assert shown == {name: expected[name] for name in shown}, f"{path.name} {tag}"
    if path.stem == "quickstart":
        kinds = [set(o.get("data", {})) for c in notebook.cells if c.cell_type == "code"
                 for o in c.outputs]  # fmt: skip
        # the progress bar is a widget, the result a rich summary, the plot interactive
        assert any("application/vnd.jupyter.widget-view+json" in k for k in kinds)
        assert any("text/html" in k for k in kinds)
        assert any("application/vnd.plotly.v1+json" in k for k in kinds)


def test_interrupting_the_kernel_stops_the_backtest_with_a_partial_result() -> None:
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(REPO))
    try:
        setup = (
            "import time\n"
            "from datetime import date\n"
            "from backtest import Backtest\n"
            "async def slow(api):  # about 12 s over two months of 1-minute bars\n"
            "    api.get_quote('IF2003.IF')\n"
            "    while True:\n"
            "        await api.wait_update()\n"
            "        time.sleep(0.0005)\n"
        )
        assert client.execute_interactive(setup, timeout=60)["content"]["status"] == "ok"
        started = client.execute(
            "result = await Backtest(slow, date(2020, 1, 2), date(2020, 2, 28),"
            " progress=False).arun()"
        )
        time.sleep(3.0)
        manager.interrupt_kernel()
        reply = client.get_shell_msg(timeout=60)
        assert reply["parent_header"]["msg_id"] == started
        assert reply["content"]["status"] == "ok"  # the cell ended normally, keeping the result
        outputs: list[str] = []
        check = client.execute_interactive(
            "print(result.complete, result.error.startswith('interrupted at simulated time'),"
            " 0 < result.stats['trading_days'] < 36)",
            timeout=60,
            output_hook=lambda message: outputs.append(message["content"].get("text", "")),
        )
        assert check["content"]["status"] == "ok", outputs
        assert "".join(outputs).strip() == "False True True"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
